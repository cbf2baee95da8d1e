//! Close, linger, unbind, timers and IPC files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use zmtp_std::{Context, SocketType};

const ALL: i32 = 0xFFFF;

#[test]
fn close_lingers_until_queued_messages_are_sent() {
    let ctx = Context::new().unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let push = ctx.socket(SocketType::Push).unwrap();
    push.connect(&pull.last_endpoint().unwrap()).unwrap();
    let body = vec![7u8; 100_000];
    for _ in 0..50 {
        send(&push, &[&body]);
    }
    // Default linger (-1): everything queued still goes out after close.
    push.close().unwrap();
    for _ in 0..50 {
        assert_eq!(recv(&pull)[..], [body.as_slice()]);
    }
}

#[test]
fn context_drop_waits_for_lingering_sockets() {
    let ctx = Context::new().unwrap();
    let zctx = zmq::Context::new();
    let zpull = zctx.socket(zmq::PULL).unwrap();
    zpull.set_rcvtimeo(10_000).unwrap();
    zpull.bind("tcp://127.0.0.1:*").unwrap();
    let ep = zpull.get_last_endpoint().unwrap().unwrap();
    let push = ctx.socket(SocketType::Push).unwrap();
    push.connect(&ep).unwrap();
    for i in 0..100u32 {
        send(&push, &[&i.to_le_bytes()]);
    }
    drop(push);
    drop(ctx);
    for i in 0..100u32 {
        assert_eq!(zpull.recv_bytes(0).unwrap(), i.to_le_bytes());
    }
}

#[test]
fn unbind_closes_listener_and_its_connections() {
    let ctx = Context::new().unwrap();
    let server = ctx.socket(SocketType::Dealer).unwrap();
    server.monitor(Some("inproc://unbind-s"), ALL).unwrap();
    let smon = ctx.monitor_socket("inproc://unbind-s").unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    let ep = server.last_endpoint().unwrap();
    let listening = expect(&smon, "LISTENING");
    let client = ctx.socket(SocketType::Dealer).unwrap();
    client.set_reconnect_ivl(50).unwrap();
    client.monitor(Some("inproc://unbind-c"), ALL).unwrap();
    let cmon = ctx.monitor_socket("inproc://unbind-c").unwrap();
    client.connect(&ep).unwrap();
    expect_after_optional(&cmon, "CONNECT_DELAYED", "CONNECTED");
    expect(&cmon, "HANDSHAKE_SUCCEEDED");
    expect(&smon, "ACCEPTED");
    expect(&smon, "HANDSHAKE_SUCCEEDED");

    // Unbind with the wildcard-free form of the endpoint.
    server.unbind(&ep).unwrap();
    let closed = expect(&smon, "CLOSED");
    assert_eq!(closed.value(), listening.value());
    assert_eq!(closed.endpoint(), ep);
    // The accepted connection goes silently on the server side...
    expect_quiet(&smon);
    // ...and the client sees it drop and retries.
    expect(&cmon, "DISCONNECTED");
    let retried = expect(&cmon, "CONNECT_RETRIED");
    assert!((50..100).contains(&retried.value()));
    assert!(matches!(server.unbind(&ep), Err(zmtp_std::Error::NotFound)));
}

#[test]
fn unbind_matches_numeric_form_of_wildcard_host() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Pull).unwrap();
    s.bind("tcp://*:*").unwrap();
    let ep = s.last_endpoint().unwrap();
    assert!(ep.starts_with("tcp://0.0.0.0:"), "{ep}");
    let port = ep.rsplit(':').next().unwrap();
    s.unbind(&format!("tcp://*:{port}")).unwrap();
}

#[test]
fn ipc_socket_file_lifecycle() {
    let ctx = Context::new().unwrap();
    let ep = ipc_path("file");
    let path = ep.strip_prefix("ipc://").unwrap().to_owned();
    // A stale socket file (from a socket that is gone) is replaced.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(std::path::Path::new(&path).exists());
    let s = ctx.socket(SocketType::Rep).unwrap();
    s.monitor(Some("inproc://ipc-file"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://ipc-file").unwrap();
    s.bind(&ep).unwrap();
    assert_eq!(expect(&mon, "LISTENING").endpoint(), ep);
    s.close().unwrap();
    assert_eq!(expect(&mon, "CLOSED").endpoint(), ep);
    expect(&mon, "MONITOR_STOPPED");
    // libzmq removes the file when the listener closes.
    assert!(!std::path::Path::new(&path).exists());
}

#[test]
fn heartbeat_timeout_disconnects_silent_peer() {
    let ctx = Context::new().unwrap();
    let server = ctx.socket(SocketType::Router).unwrap();
    server.set_heartbeat_ivl(50).unwrap();
    server.monitor(Some("inproc://hb"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://hb").unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    expect(&mon, "LISTENING");
    let addr = server.last_endpoint().unwrap();
    let mut raw = std::net::TcpStream::connect(addr.strip_prefix("tcp://").unwrap()).unwrap();
    raw.write_all(&null_handshake("DEALER")).unwrap();
    let accepted = expect(&mon, "ACCEPTED");
    expect(&mon, "HANDSHAKE_SUCCEEDED");
    // The raw peer never answers PINGs.
    let started = Instant::now();
    let disc = expect(&mon, "DISCONNECTED");
    assert_eq!(disc.value(), accepted.value());
    assert!(started.elapsed() < Duration::from_secs(5));
    // The server did send PINGs before giving up.
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let _ = raw.read_to_end(&mut got);
    assert!(got.windows(5).any(|w| w == b"\x04PING"), "{got:?}");
}

#[test]
fn handshake_timeout_on_silent_peer() {
    let ctx = Context::new().unwrap();
    let server = ctx.socket(SocketType::Dealer).unwrap();
    server.set_handshake_ivl(100).unwrap();
    server.monitor(Some("inproc://hs"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://hs").unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    expect(&mon, "LISTENING");
    let addr = server.last_endpoint().unwrap();
    let _raw = std::net::TcpStream::connect(addr.strip_prefix("tcp://").unwrap()).unwrap();
    let accepted = expect(&mon, "ACCEPTED");
    expect(&mon, "HANDSHAKE_FAILED_NO_DETAIL");
    let disc = expect(&mon, "DISCONNECTED");
    assert_eq!(disc.value(), accepted.value());
}

#[test]
fn incompatible_peer_is_not_retried() {
    let ctx = Context::new().unwrap();
    let server = ctx.socket(SocketType::Pub).unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    let client = ctx.socket(SocketType::Dealer).unwrap();
    client.set_reconnect_ivl(20).unwrap();
    client.monitor(Some("inproc://incompat"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://incompat").unwrap();
    client.connect(&server.last_endpoint().unwrap()).unwrap();
    expect_after_optional(&mon, "CONNECT_DELAYED", "CONNECTED");
    // libzmq: DISCONNECTED only, and the connecting side stops.
    expect(&mon, "DISCONNECTED");
    expect_quiet(&mon);
}

#[test]
fn recv_timeout_and_rcvtimeo() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Pull).unwrap();
    let t = Instant::now();
    assert!(matches!(
        s.recv_timeout(Duration::from_millis(50)),
        Err(zmtp_std::Error::WouldBlock)
    ));
    assert!(t.elapsed() >= Duration::from_millis(50));
    s.set_rcvtimeo(30).unwrap();
    assert!(matches!(s.recv(), Err(zmtp_std::Error::WouldBlock)));
}

#[test]
fn pair_and_xpub_xsub() {
    let ctx = Context::new().unwrap();
    let a = ctx.socket(SocketType::Pair).unwrap();
    let b = ctx.socket(SocketType::Pair).unwrap();
    a.bind(&ipc_path("pair")).unwrap();
    b.connect(&a.last_endpoint().unwrap()).unwrap();
    send(&b, &[b"ping"]);
    assert_eq!(recv(&a), [b"ping".to_vec()]);
    send(&a, &[b"pong"]);
    assert_eq!(recv(&b), [b"pong".to_vec()]);

    let xpub = ctx.socket(SocketType::XPub).unwrap();
    xpub.bind("tcp://127.0.0.1:*").unwrap();
    let xsub = ctx.socket(SocketType::XSub).unwrap();
    xsub.connect(&xpub.last_endpoint().unwrap()).unwrap();
    // XSUB subscribes by sending 0x01 + topic; XPUB receives it.
    let deadline = Instant::now() + WAIT;
    loop {
        if xsub.send_nonblocking(&[b"\x01news"]).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(recv(&xpub), [b"\x01news".to_vec()]);
    xpub.send(&[b"news: hello"]).unwrap();
    xpub.send(&[b"other"]).unwrap();
    assert_eq!(recv(&xsub), [b"news: hello".to_vec()]);
}

#[test]
fn closing_a_bound_socket_still_delivers_its_last_reply() {
    // A REP that binds, answers one request and closes at once: the reply
    // must still reach the libzmq REQ (accepted connections linger too).
    let zctx = zmq::Context::new();
    for round in 0..20 {
        let ctx = Context::new().unwrap();
        let rep = ctx.socket(SocketType::Rep).unwrap();
        rep.bind("tcp://127.0.0.1:*").unwrap();
        let endpoint = rep.last_endpoint().unwrap();
        let req = zctx.socket(zmq::REQ).unwrap();
        req.set_linger(0).unwrap();
        req.set_rcvtimeo(10_000).unwrap();
        req.connect(&endpoint).unwrap();
        req.send("ping", 0).unwrap();
        rep.set_rcvtimeo(10_000).unwrap();
        assert_eq!(rep.recv().unwrap(), [b"ping".to_vec()]);
        rep.send(&[b"pong"]).unwrap();
        rep.close().unwrap();
        drop(ctx);
        assert_eq!(req.recv_bytes(0).unwrap(), b"pong", "round {round}");
    }
}
