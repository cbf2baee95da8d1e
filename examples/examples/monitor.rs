//! The `zmq_socket_monitor` man-page example, with this stack over TCP.
//!
//! 1. Monitoring a socket to a `tcp://` endpoint fails with
//!    EPROTONOSUPPORT.
//! 2. Two DEALER sockets get inproc monitors for every event.
//! 3. The server binds `tcp://127.0.0.1:0` (a free port the system picks),
//!    the client connects to the resolved endpoint.
//! 4. A message bounces both ways; both sockets close.
//! 5. Both monitors are drained, their events printed (name, value,
//!    endpoint) and checked against libzmq's flow:
//!    - client: `[CONNECT_DELAYED] CONNECTED HANDSHAKE_SUCCEEDED ... MONITOR_STOPPED`
//!    - server: `LISTENING ACCEPTED HANDSHAKE_SUCCEEDED ... CLOSED MONITOR_STOPPED`
//!
//! Exits non-zero if anything differs.

use core::time::Duration;
use std::process::ExitCode;

use zmtp_examples::matches_flow;
use zmtp_std::{Context, Error, MonitorSocket, Socket, SocketType};

/// How long to wait for any single event or message.
const WAIT: Duration = Duration::from_secs(10);

fn drain(name: &str, monitor: &MonitorSocket) -> Vec<&'static str> {
    let mut names = Vec::new();
    loop {
        match monitor.recv_event(Some(WAIT)) {
            Ok(m) => {
                println!(
                    "{name:>6}: {:<28} value={:<6} endpoint={:?}",
                    m.name(),
                    m.value(),
                    m.endpoint()
                );
                names.push(m.name());
                if m.name() == "MONITOR_STOPPED" {
                    return names;
                }
            }
            Err(e) => {
                println!("{name:>6}: no MONITOR_STOPPED within {WAIT:?}: {e}");
                return names;
            }
        }
    }
}

fn run() -> Result<bool, Error> {
    let ctx = Context::new()?;
    let client = ctx.socket(SocketType::Dealer)?;
    let server = ctx.socket(SocketType::Dealer)?;

    // 1. A monitor must use an inproc endpoint.
    let refused = match client.monitor(Some("tcp://127.0.0.1:5560"), 0xFFFF) {
        Err(Error::ProtocolNotSupported) => {
            println!("monitor on tcp:// refused: EPROTONOSUPPORT, as libzmq");
            true
        }
        other => {
            println!("monitor on tcp:// gave {other:?}, expected EPROTONOSUPPORT");
            false
        }
    };

    // 2. Monitors for every event.
    client.monitor(Some("inproc://monitor-client"), 0xFFFF)?;
    server.monitor(Some("inproc://monitor-server"), 0xFFFF)?;
    let client_mon = ctx.monitor_socket("inproc://monitor-client")?;
    let server_mon = ctx.monitor_socket("inproc://monitor-server")?;

    // 3. Bind to a free port, connect to what was bound.
    server.bind("tcp://127.0.0.1:0")?;
    let endpoint = server.last_endpoint()?;
    println!("server bound {endpoint}");
    client.connect(&endpoint)?;

    // 4. Bounce a message.
    for s in [&client, &server] {
        s.set_rcvtimeo(10_000)?;
        s.set_linger(0)?;
    }
    client.send(&[b"Hello"])?;
    let got = server.recv()?;
    server.send(&[b"World"])?;
    let back = client.recv()?;
    let bounced = got == [b"Hello".to_vec()] && back == [b"World".to_vec()];
    println!("bounce {}", if bounced { "ok" } else { "FAILED" });

    let close = |s: Socket| s.close();
    close(client)?;
    let client_events = drain("client", &client_mon);
    close(server)?;
    let server_events = drain("server", &server_mon);

    let client_ok = matches_flow(
        &client_events,
        &[
            "CONNECT_DELAYED?",
            "CONNECTED",
            "HANDSHAKE_SUCCEEDED",
            "...",
            "MONITOR_STOPPED",
        ],
    );
    let server_ok = matches_flow(
        &server_events,
        &[
            "LISTENING",
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "...",
            "CLOSED",
            "MONITOR_STOPPED",
        ],
    );
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
    Ok(refused && bounced && client_ok && server_ok)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
