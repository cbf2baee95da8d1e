//! The `zmq_socket_monitor` man-page flow, run on `zmtp-core` alone.
//!
//! Two DEALER sockets with monitors exchange a message over an in-memory
//! transport (this program plays the adapter's part: it moves bytes and
//! records the transport events CONNECTED, ACCEPTED, LISTENING and CLOSED,
//! the way `zmtp-std` does over TCP). Both monitors are drained and checked
//! against libzmq's sequences:
//!
//! - client: `[CONNECT_DELAYED] CONNECTED HANDSHAKE_SUCCEEDED MONITOR_STOPPED`
//! - server: `LISTENING ACCEPTED HANDSHAKE_SUCCEEDED [DISCONNECTED] CLOSED MONITOR_STOPPED`
//!
//! Exits non-zero if a sequence differs.

use std::process::ExitCode;

use zmtp_core::conn::Config;
use zmtp_core::monitor::{
    EndpointPair, Event, EventMask, EventVersion, MonitorError, MonitorEvent, errno,
};
use zmtp_core::socket::{PeerBuffers, PeerHandle, Socket};
use zmtp_core::{Instant, SocketType};
use zmtp_examples::matches_flow;

type DemoSocket<'a> = Socket<'a, 2, 32, 64>;

const SERVER_EP: &str = "mem://server";
const CLIENT_EP: &str = "mem://client";

/// Moves bytes from `from` to `to`; returns whether anything moved.
fn transfer(
    now: Instant,
    from: &mut DemoSocket<'_>,
    pf: PeerHandle,
    to: &mut DemoSocket<'_>,
    pt: PeerHandle,
) -> bool {
    let mut buf = [0u8; 512];
    let n = from.poll_transmit(now, pf, &mut buf);
    if n > 0 {
        let used = to.handle_input(now, pt, &buf[..n]);
        // The demo's queues are large enough that input is never held back.
        assert_eq!(used, n, "receive queue full");
    }
    n > 0
}

/// Moves bytes both ways until nothing moves.
fn pump(
    now: Instant,
    a: &mut DemoSocket<'_>,
    pa: PeerHandle,
    b: &mut DemoSocket<'_>,
    pb: PeerHandle,
) {
    for _ in 0..10_000 {
        let ab = transfer(now, a, pa, b, pb);
        let ba = transfer(now, b, pb, a, pa);
        if !ab && !ba {
            return;
        }
    }
}

fn recv_message(s: &mut DemoSocket<'_>) -> Option<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        match s.recv(&mut buf) {
            Ok(info) => {
                frames.push(buf[..info.len].to_vec());
                if !info.more {
                    return Some(frames);
                }
            }
            Err(nb::Error::WouldBlock) => return None,
            Err(nb::Error::Other(e)) => {
                eprintln!("recv failed: {e}");
                return None;
            }
        }
    }
}

fn text(msg: &Option<Vec<Vec<u8>>>) -> Option<Vec<String>> {
    msg.as_ref().map(|m| {
        m.iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    })
}

fn drain(name: &str, s: &mut DemoSocket<'_>) -> Vec<MonitorEvent<64>> {
    let mut events = Vec::new();
    while let Some(e) = s.monitor_mut().pop() {
        println!(
            "{name:>6}: {:<28} value={:<5} endpoint={:?}",
            e.event.name(),
            e.event.value(),
            e.endpoints.v1_endpoint()
        );
        events.push(e);
    }
    events
}

fn main() -> ExitCode {
    let mut ok = true;
    let now = Instant::from_millis(0);

    let mut server_aux = [0u8; 0];
    let mut client_aux = [0u8; 0];
    let mut server = DemoSocket::new(Config::new(SocketType::Dealer), &mut server_aux);
    let mut client = DemoSocket::new(Config::new(SocketType::Dealer), &mut client_aux);

    // 1. Monitoring must go to an inproc endpoint.
    match server
        .monitor_mut()
        .start("tcp://127.0.0.1:5560", EventMask::ALL, EventVersion::V1)
    {
        Err(MonitorError::ProtocolNotSupported) => {
            println!("monitor on tcp:// refused: EPROTONOSUPPORT, as libzmq");
        }
        other => {
            println!("monitor on tcp:// gave {other:?}, expected EPROTONOSUPPORT");
            ok = false;
        }
    }
    for (s, ep) in [
        (&mut server, "inproc://monitor-server"),
        (&mut client, "inproc://monitor-client"),
    ] {
        if let Err(e) = s.monitor_mut().start(ep, EventMask::ALL, EventVersion::V1) {
            println!("monitor start failed: {e}");
            return ExitCode::FAILURE;
        }
    }

    // 2. "bind" and "connect": the adapter's transport events.
    let (listener_fd, server_fd, client_fd) = (3, 4, 5);
    server.monitor_mut().record(
        Event::Listening { fd: listener_fd },
        EndpointPair::bind(SERVER_EP),
    );
    client.monitor_mut().record(
        Event::ConnectDelayed {
            errno: errno::EINPROGRESS,
        },
        EndpointPair::connect(SERVER_EP),
    );
    let (mut s_rx, mut s_tx, mut c_rx, mut c_tx) =
        ([0u8; 1024], [0u8; 1024], [0u8; 1024], [0u8; 1024]);
    let client_pair = EndpointPair::connect_pair(CLIENT_EP, SERVER_EP);
    client
        .monitor_mut()
        .record(Event::Connected { fd: client_fd }, client_pair.clone());
    let pc = match client.attach(
        now,
        PeerBuffers {
            rx: &mut c_rx,
            tx: &mut c_tx,
            subs: &mut [],
        },
        client_fd,
        client_pair,
    ) {
        Ok(p) => p,
        Err(e) => {
            println!("attach failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server_pair = EndpointPair::bind_pair(SERVER_EP, CLIENT_EP);
    server
        .monitor_mut()
        .record(Event::Accepted { fd: server_fd }, server_pair.clone());
    let ps = match server.attach(
        now,
        PeerBuffers {
            rx: &mut s_rx,
            tx: &mut s_tx,
            subs: &mut [],
        },
        server_fd,
        server_pair,
    ) {
        Ok(p) => p,
        Err(e) => {
            println!("attach failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    pump(now, &mut client, pc, &mut server, ps);

    // 3. A message bounces both ways.
    if client.send(&[b"Hello"]).is_err() {
        println!("client send failed");
        ok = false;
    }
    pump(now, &mut client, pc, &mut server, ps);
    let got = recv_message(&mut server);
    println!("server received {:?}", text(&got));
    ok &= got.as_deref() == Some(&[b"Hello".to_vec()][..]);
    if server.send(&[b"World"]).is_err() {
        println!("server send failed");
        ok = false;
    }
    pump(now, &mut client, pc, &mut server, ps);
    let got = recv_message(&mut client);
    println!("client received {:?}", text(&got));
    ok &= got.as_deref() == Some(&[b"World".to_vec()][..]);

    // 4. Close the client (no event for a local close), the server sees the
    //    peer leave, then close the server's listener and stop both monitors.
    client.close_peer(pc);
    let _ = client.detach(pc);
    client.monitor_mut().stop();
    server.handle_transport_closed(now, ps);
    let _ = server.detach(ps);
    server.monitor_mut().record(
        Event::Closed { fd: listener_fd },
        EndpointPair::bind(SERVER_EP),
    );
    server.monitor_mut().stop();

    // 5. Drain and check.
    let client_events = drain("client", &mut client);
    let server_events = drain("server", &mut server);
    if let Some(e) = server_events.first() {
        let raw = e.raw(EventVersion::V1);
        let frames: Vec<&[u8]> = raw.frames().collect();
        println!("first server event as libzmq's v1 monitor message: {frames:02x?}");
    }
    let names = |v: &[MonitorEvent<64>]| v.iter().map(|e| e.event.name()).collect::<Vec<_>>();
    let client_flow = [
        "CONNECT_DELAYED?",
        "CONNECTED",
        "HANDSHAKE_SUCCEEDED",
        "MONITOR_STOPPED",
    ];
    let server_flow = [
        "LISTENING",
        "ACCEPTED",
        "HANDSHAKE_SUCCEEDED",
        "DISCONNECTED?",
        "CLOSED",
        "MONITOR_STOPPED",
    ];
    let client_ok = matches_flow(&names(&client_events), &client_flow);
    let server_ok = matches_flow(&names(&server_events), &server_flow);
    println!(
        "client flow {}",
        if client_ok {
            "matches libzmq"
        } else {
            "DIFFERS from libzmq"
        }
    );
    println!(
        "server flow {}",
        if server_ok {
            "matches libzmq"
        } else {
            "DIFFERS from libzmq"
        }
    );
    if ok && client_ok && server_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
