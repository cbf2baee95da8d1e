//! Our sockets talking to our sockets: handshake, bounce, close, and the
//! monitor event sequences and values of libzmq's `test_monitor`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::*;
use zmtp_std::{Context, EndpointSide, Error, SocketType, event_id};

const ALL: i32 = 0xFFFF;

/// libzmq `test_monitor_basic` over `transport`, checking values and
/// endpoint strings too.
fn monitor_basic(bind_endpoint: &str, tcp: bool) {
    let ctx = Context::new().unwrap();
    let server = ctx.socket(SocketType::Dealer).unwrap();
    let client = ctx.socket(SocketType::Dealer).unwrap();
    let smon = ctx.monitor_socket("inproc://monitor-server").unwrap();
    server
        .monitor(Some("inproc://monitor-server"), ALL)
        .unwrap();
    client
        .monitor(Some("inproc://monitor-client"), ALL)
        .unwrap();
    // A consumer may also connect after the monitor started.
    let cmon = ctx.monitor_socket("inproc://monitor-client").unwrap();

    server.bind(bind_endpoint).unwrap();
    let ep = server.last_endpoint().unwrap();
    if tcp {
        assert!(ep.starts_with("tcp://127.0.0.1:") || ep.starts_with("tcp://[::1]:"));
        assert!(!ep.ends_with(":0") && !ep.ends_with(":*"));
    } else {
        assert_eq!(ep, bind_endpoint);
    }
    let listening = expect(&smon, "LISTENING");
    assert!(listening.value() > 2, "a real fd");
    assert_eq!(listening.endpoint(), ep);
    assert_eq!(listening.side, EndpointSide::Bind);
    assert_eq!(listening.remote, "");

    client.connect(&ep).unwrap();
    let connected = if tcp {
        let delayed = expect(&cmon, "CONNECT_DELAYED");
        assert_eq!(delayed.value(), 115); // EINPROGRESS
        assert_eq!(delayed.endpoint(), ep);
        assert_eq!(delayed.local, "");
        expect(&cmon, "CONNECTED")
    } else {
        // IPC connects synchronously: no CONNECT_DELAYED.
        expect(&cmon, "CONNECTED")
    };
    assert!(connected.value() > 2);
    assert_eq!(connected.remote, ep);
    assert_eq!(connected.endpoint(), ep);
    assert_ne!(connected.local, connected.remote);
    let hs = expect(&cmon, "HANDSHAKE_SUCCEEDED");
    assert_eq!(hs.value(), 0);
    assert_eq!(hs.remote, ep);
    assert_eq!(hs.local, connected.local);

    let accepted = expect(&smon, "ACCEPTED");
    assert!(accepted.value() > 2);
    assert_eq!(accepted.local, ep);
    assert_eq!(accepted.remote, connected.local);
    let shs = expect(&smon, "HANDSHAKE_SUCCEEDED");
    assert_eq!(
        (shs.local.as_str(), shs.remote.as_str()),
        (ep.as_str(), connected.local.as_str())
    );

    // Bounce.
    send(&client, &[b"Hello", b"multi"]);
    assert_eq!(recv(&server), [b"Hello".to_vec(), b"multi".to_vec()]);
    send(&server, &[b"World"]);
    assert_eq!(recv(&client), [b"World".to_vec()]);

    // Close the client: its monitor ends with MONITOR_STOPPED, nothing else.
    client.set_linger(0).unwrap();
    client.close().unwrap();
    let stopped = expect(&cmon, "MONITOR_STOPPED");
    assert_eq!(stopped.value(), 0);
    assert_eq!((stopped.local.as_str(), stopped.remote.as_str()), ("", ""));
    expect_quiet(&cmon);

    // The server sees the client go, then closes: CLOSED(listener fd) and
    // MONITOR_STOPPED last.
    let disc = expect(&smon, "DISCONNECTED");
    assert_eq!(disc.value(), accepted.value());
    assert_eq!(disc.local, ep);
    server.close().unwrap();
    let closed = expect(&smon, "CLOSED");
    assert_eq!(closed.value(), listening.value());
    assert_eq!(closed.endpoint(), ep);
    expect(&smon, "MONITOR_STOPPED");
    expect_quiet(&smon);
    assert_eq!(smon.dropped(), 0);
}

#[test]
fn dealer_dealer_tcp_monitor_sequence() {
    monitor_basic("tcp://127.0.0.1:*", true);
}

#[test]
fn dealer_dealer_tcp_port_zero_and_ipv6() {
    monitor_basic("tcp://[::1]:0", true);
}

#[test]
fn dealer_dealer_ipc_monitor_sequence() {
    monitor_basic(&ipc_path("basic"), false);
}

#[test]
fn dealer_dealer_ipc_abstract() {
    let name = format!("ipc://@zmtp-std-test-{}", std::process::id());
    monitor_basic(&name, false);
}

#[test]
fn raw_v1_frames_match_libzmq_layout() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Pull).unwrap();
    s.monitor(Some("inproc://raw"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://raw").unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let ep = s.last_endpoint().unwrap();
    let frames = mon.recv_raw(Some(WAIT)).unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].len(), 6);
    assert_eq!(u16::from_le_bytes([frames[0][0], frames[0][1]]), 0x0008);
    assert!(u32::from_le_bytes(frames[0][2..6].try_into().unwrap()) > 2);
    assert_eq!(frames[1], ep.as_bytes());
}

#[test]
fn monitor_v2_frames() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Pull).unwrap();
    s.monitor_versioned(Some("inproc://v2"), event_id::ALL_V2, 2)
        .unwrap();
    let mon = ctx.monitor_socket("inproc://v2").unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let ep = s.last_endpoint().unwrap();
    let frames = mon.recv_raw(Some(WAIT)).unwrap();
    assert_eq!(frames.len(), 5);
    assert_eq!(frames[0], 8u64.to_le_bytes());
    assert_eq!(frames[1], 1u64.to_le_bytes());
    assert_eq!(frames[3], ep.as_bytes());
    assert!(frames[4].is_empty());
    s.monitor(None, 0).unwrap();
    let frames = mon.recv_raw(Some(WAIT)).unwrap();
    assert_eq!(frames[0], 0x400u64.to_le_bytes());
}

#[test]
fn monitor_errors_restart_and_stop() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Dealer).unwrap();
    let other = ctx.socket(SocketType::Dealer).unwrap();
    // libzmq: monitors must use inproc.
    assert!(matches!(
        s.monitor(Some("tcp://127.0.0.1:*"), ALL),
        Err(Error::ProtocolNotSupported)
    ));
    assert!(matches!(
        s.monitor(Some("inproc"), ALL),
        Err(Error::Invalid)
    ));
    // Version 1 refuses a mask above 16 bits (-1 included).
    assert!(matches!(
        s.monitor(Some("inproc://m1"), -1),
        Err(Error::Invalid)
    ));
    assert_eq!(Error::ProtocolNotSupported.errno(), 93);

    s.monitor(Some("inproc://m1"), ALL).unwrap();
    let m1 = ctx.monitor_socket("inproc://m1").unwrap();
    // Another socket cannot take a live name.
    assert!(matches!(
        other.monitor(Some("inproc://m1"), ALL),
        Err(Error::AddrInUse)
    ));
    // Restarting on another endpoint stops the first: its consumer gets
    // MONITOR_STOPPED and nothing after.
    s.monitor(Some("inproc://m2"), ALL).unwrap();
    let m2 = ctx.monitor_socket("inproc://m2").unwrap();
    expect(&m1, "MONITOR_STOPPED");
    s.bind("tcp://127.0.0.1:*").unwrap();
    expect(&m2, "LISTENING");
    expect_quiet(&m1);
    // The first name is free again.
    other.monitor(Some("inproc://m1"), ALL).unwrap();
    // Stop: MONITOR_STOPPED, then nothing.
    s.monitor(None, 0).unwrap();
    expect(&m2, "MONITOR_STOPPED");
    s.unbind(&s.last_endpoint().unwrap()).unwrap();
    expect_quiet(&m2);
    // Stopping without a monitor is fine.
    s.monitor(None, 0).unwrap();
    // A mask without MONITOR_STOPPED gives no stop event.
    s.monitor(Some("inproc://m3"), 0x0008).unwrap();
    let m3 = ctx.monitor_socket("inproc://m3").unwrap();
    s.monitor(None, 0).unwrap();
    expect_quiet(&m3);
}

#[test]
fn bind_failed_addr_in_use() {
    let ctx = Context::new().unwrap();
    let a = ctx.socket(SocketType::Rep).unwrap();
    let b = ctx.socket(SocketType::Rep).unwrap();
    a.bind("tcp://127.0.0.1:*").unwrap();
    let ep = a.last_endpoint().unwrap();
    b.monitor(Some("inproc://bf"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://bf").unwrap();
    let err = b.bind(&ep).unwrap_err();
    assert!(matches!(err, Error::AddrInUse), "{err:?}");
    assert_eq!(err.errno(), 98);
    // libzmq closes the listener socket it made (no endpoint yet) first.
    let closed = expect(&mon, "CLOSED");
    assert!(closed.value() > 2);
    assert_eq!(closed.endpoint(), "");
    let failed = expect(&mon, "BIND_FAILED");
    assert_eq!(failed.value(), 98);
    assert_eq!(failed.endpoint(), ep.strip_prefix("tcp://").unwrap());
    // last_endpoint is unchanged by a failed bind.
    assert_eq!(b.last_endpoint().unwrap(), "");
}

#[test]
fn endpoint_errors() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Dealer).unwrap();
    assert!(matches!(s.bind("tcp://127.0.0.1"), Err(Error::Invalid)));
    assert!(matches!(s.bind("nope"), Err(Error::Invalid)));
    assert!(matches!(
        s.bind("foo://x"),
        Err(Error::ProtocolNotSupported)
    ));
    assert!(matches!(
        s.connect("foo://x"),
        Err(Error::ProtocolNotSupported)
    ));
    assert!(matches!(
        s.connect("tcp://127.0.0.1:*"),
        Err(Error::Invalid)
    ));
    assert!(matches!(s.connect("tcp://"), Err(Error::Invalid)));
    assert!(matches!(
        s.unbind("tcp://127.0.0.1:5555"),
        Err(Error::NotFound)
    ));
    assert!(matches!(s.set_linger(-2), Err(Error::Invalid)));
    assert!(matches!(s.set_sndhwm(-1), Err(Error::Invalid)));
    assert!(matches!(s.set_subscribe(b"x"), Err(Error::Invalid)));
    assert!(matches!(s.set_routing_id(b""), Err(Error::Invalid)));
    assert!(matches!(
        s.set_heartbeat_ttl(6_553_600),
        Err(Error::Invalid)
    ));
    assert!(matches!(s.recv_nonblocking(), Err(Error::WouldBlock)));
    // Nothing to talk to yet: a DEALER cannot send.
    assert!(matches!(
        s.send_nonblocking(&[b"x"]),
        Err(Error::WouldBlock)
    ));
    s.connect("tcp://localhost:1").unwrap();
    assert_eq!(s.last_endpoint().unwrap(), "tcp://localhost:1");
    s.disconnect("tcp://localhost:1").unwrap();
    let sub = ctx.socket(SocketType::Sub).unwrap();
    assert!(matches!(sub.send(&[b"x"]), Err(Error::NotSupported)));
    let req = ctx.socket(SocketType::Req).unwrap();
    assert!(matches!(req.recv_nonblocking(), Err(Error::Fsm)));
}

/// `recv_into` fills a reused `Message` with every frame of the next
/// message, replacing what it held; the non-blocking and timed forms give
/// `WouldBlock` with the message left empty; `send_frame` sends one frame.
#[test]
fn recv_into_reuses_one_message() {
    use std::time::{Duration, Instant};
    use zmtp_std::Message;

    let ctx = Context::new().unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let push = ctx.socket(SocketType::Push).unwrap();
    push.connect(&pull.last_endpoint().unwrap()).unwrap();
    pull.set_rcvtimeo(10_000).unwrap();

    push.send(&[b"first", b"", b"third frame"]).unwrap();
    push.send_frame(b"one").unwrap();
    push.send(&[&[7u8; 70_000][..], b"tail"]).unwrap();

    let mut msg = Message::new();
    pull.recv_into(&mut msg).unwrap();
    assert_eq!(msg.len(), 3);
    let frames: Vec<&[u8]> = msg.frames().collect();
    assert_eq!(frames, [&b"first"[..], b"", b"third frame"]);
    assert_eq!(msg.frame(3), None);

    pull.recv_into(&mut msg).unwrap();
    assert_eq!(msg.to_vecs(), [b"one".to_vec()]);

    pull.recv_into_timeout(&mut msg, Duration::from_secs(10))
        .unwrap();
    assert_eq!(msg.len(), 2);
    assert_eq!(msg.frame(0), Some(&[7u8; 70_000][..]));
    assert_eq!(msg.frame(1), Some(&b"tail"[..]));

    assert!(matches!(
        pull.recv_into_nonblocking(&mut msg),
        Err(Error::WouldBlock)
    ));
    assert!(msg.is_empty());
    let start = Instant::now();
    assert!(matches!(
        pull.recv_into_timeout(&mut msg, Duration::from_millis(50)),
        Err(Error::WouldBlock)
    ));
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(msg.is_empty());

    // `recv` and `recv_into` read the same queue, in order.
    push.send_frame(b"a").unwrap();
    push.send_frame(b"b").unwrap();
    assert_eq!(pull.recv().unwrap(), [b"a".to_vec()]);
    pull.recv_into(&mut msg).unwrap();
    assert_eq!(msg.to_vecs(), [b"b".to_vec()]);
}
