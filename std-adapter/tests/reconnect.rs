//! Connect-side transport events and reconnect intervals (libzmq
//! `test_reconnect_options`, and the sequences of reference §4.6).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::*;
use zmtp_std::{Context, SocketType};

const ALL: i32 = 0xFFFF;

/// A loopback port nobody listens on (bound, then released).
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn tcp_refused_backoff_100_200_400_400() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Dealer).unwrap();
    s.set_reconnect_ivl(100).unwrap();
    s.set_reconnect_ivl_max(400).unwrap();
    s.monitor(Some("inproc://refused"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://refused").unwrap();
    let ep = format!("tcp://127.0.0.1:{}", dead_port());
    s.connect(&ep).unwrap();
    for want in [100, 200, 400, 400] {
        let delayed = expect(&mon, "CONNECT_DELAYED");
        assert_eq!(delayed.value(), 115);
        assert_eq!(delayed.endpoint(), ep);
        let closed = expect(&mon, "CLOSED");
        assert!(closed.value() > 2);
        assert_eq!(closed.endpoint(), ep);
        let retried = expect(&mon, "CONNECT_RETRIED");
        assert_eq!(retried.value(), want);
        assert_eq!(retried.endpoint(), ep);
        assert_eq!(retried.local, "");
    }
    s.set_linger(0).unwrap();
    s.close().unwrap();
    // Possibly one more attempt in flight (CONNECT_DELAYED, CLOSED), then
    // the stop event.
    let mut last = next(&mon);
    while last.name() != "MONITOR_STOPPED" {
        last = next(&mon);
    }
}

#[test]
fn default_reconnect_interval_has_jitter_range() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Push).unwrap();
    s.monitor(Some("inproc://jitter"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://jitter").unwrap();
    s.connect(&format!("tcp://127.0.0.1:{}", dead_port()))
        .unwrap();
    expect(&mon, "CONNECT_DELAYED");
    expect(&mon, "CLOSED");
    let retried = expect(&mon, "CONNECT_RETRIED");
    assert!((100..200).contains(&retried.value()), "{retried:?}");
}

#[test]
fn ipc_missing_path_fails_synchronously() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Dealer).unwrap();
    s.set_reconnect_ivl(50).unwrap();
    s.set_reconnect_ivl_max(100).unwrap();
    s.monitor(Some("inproc://ipc-missing"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://ipc-missing").unwrap();
    let ep = ipc_path("missing");
    s.connect(&ep).unwrap();
    for want in [50, 100] {
        // No CONNECT_DELAYED: the connect fails at once.
        let closed = expect(&mon, "CLOSED");
        assert_eq!(closed.endpoint(), ep);
        assert_eq!(expect(&mon, "CONNECT_RETRIED").value(), want);
    }
    // A disconnect while waiting for the timer is silent.
    s.disconnect(&ep).unwrap();
    s.monitor(None, 0).unwrap();
    expect(&mon, "MONITOR_STOPPED");
}

#[test]
fn no_reconnect_with_negative_interval() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Dealer).unwrap();
    s.set_reconnect_ivl(-1).unwrap();
    s.monitor(Some("inproc://noretry"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://noretry").unwrap();
    s.connect(&format!("tcp://127.0.0.1:{}", dead_port()))
        .unwrap();
    expect(&mon, "CONNECT_DELAYED");
    expect(&mon, "CLOSED");
    expect_quiet(&mon);
}

/// After an established connection drops: DISCONNECTED, CONNECT_RETRIED at
/// once from the base interval, then attempts; the endpoint of the new
/// connecter is numeric (libzmq #4056); rebinding the port reconnects.
#[test]
fn reconnect_after_disconnect_and_recover() {
    let ctx = Context::new().unwrap();
    let server = ctx.socket(SocketType::Pub).unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    let bound = server.last_endpoint().unwrap();
    let port = bound.rsplit(':').next().unwrap().to_owned();
    let client = ctx.socket(SocketType::Sub).unwrap();
    client.set_subscribe(b"").unwrap();
    client.set_reconnect_ivl(100).unwrap();
    client.set_reconnect_ivl_max(400).unwrap();
    client.monitor(Some("inproc://sub"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://sub").unwrap();
    let user_ep = format!("tcp://localhost:{port}");
    client.connect(&user_ep).unwrap();
    let connected = expect_after_optional(&mon, "CONNECT_DELAYED", "CONNECTED");
    assert_eq!(connected.endpoint(), user_ep);
    expect(&mon, "HANDSHAKE_SUCCEEDED");

    // The subscription reached the publisher once a message gets through.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        server.send(&[b"tick"]).unwrap();
        if client
            .recv_timeout(std::time::Duration::from_millis(20))
            .is_ok()
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no message");
    }

    server.set_linger(0).unwrap();
    server.close().unwrap();
    let disc = expect(&mon, "DISCONNECTED");
    assert_eq!(disc.value(), connected.value());
    assert_eq!(disc.endpoint(), user_ep);
    let numeric = format!("tcp://127.0.0.1:{port}");
    let retried = expect(&mon, "CONNECT_RETRIED");
    assert_eq!(retried.value(), 100);
    assert_eq!(retried.endpoint(), numeric);
    expect(&mon, "CONNECT_DELAYED");
    expect(&mon, "CLOSED");
    assert_eq!(expect(&mon, "CONNECT_RETRIED").value(), 200);

    // Bring the publisher back on the same port.
    let server = ctx.socket(SocketType::Pub).unwrap();
    server.bind(&numeric).unwrap();
    let mut ev = next(&mon);
    while ev.name() != "CONNECTED" {
        assert!(
            ["CONNECT_DELAYED", "CLOSED", "CONNECT_RETRIED"].contains(&ev.name()),
            "{ev:?}"
        );
        ev = next(&mon);
    }
    assert_eq!(ev.endpoint(), numeric);
    expect(&mon, "HANDSHAKE_SUCCEEDED");
    // The subscription is replayed to the new publisher.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        server.send(&[b"again"]).unwrap();
        if let Ok(m) = client.recv_timeout(std::time::Duration::from_millis(20)) {
            assert_eq!(m, [b"again".to_vec()]);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no message");
    }
}

#[test]
fn unread_monitor_never_stalls_the_socket() {
    let ctx = Context::new().unwrap();
    let push = ctx.socket(SocketType::Push).unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    // Monitors whose consumers never connect.
    push.monitor(Some("inproc://nobody-push"), ALL).unwrap();
    pull.monitor(Some("inproc://nobody-pull"), ALL).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    push.connect(&pull.last_endpoint().unwrap()).unwrap();
    let n = 10_000;
    let sender = std::thread::spawn(move || {
        for i in 0..n {
            let body = format!("{i}");
            send(&push, &[body.as_bytes()]);
        }
        push
    });
    for i in 0..n {
        let m = recv(&pull);
        assert_eq!(m, [format!("{i}").into_bytes()]);
    }
    drop(sender.join().unwrap());
}
