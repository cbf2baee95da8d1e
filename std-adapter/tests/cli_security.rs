//! End-to-end tests of the `zmtp` tool's security flags (`--plain-server`,
//! `--plain-username`, `--plain-password`, `--zap-domain`, `--zap-allow`):
//! two tool processes, and the tool against libzmq 4.3.4 (the `zmq` crate)
//! in both roles. Loopback only, ports chosen by the system, every wait
//! bounded.
#![allow(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/tool.rs"]
mod tool;

use core::time::Duration;
use std::time::Instant;

use serde_json::json;
use tool::*;

/// A tool PLAIN server (REP, echo) accepting admin:secret.
fn plain_server() -> (Zmtp, String) {
    let mut server = zmtp(&[
        "rep",
        "--bind",
        "tcp://127.0.0.1:0",
        "--echo",
        "--plain-server",
        "--zap-allow",
        "admin:secret",
        "--zap-allow",
        "guest:guest",
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = server.bound();
    (server, ep)
}

fn plain_client(ep: &str, user: &str, pass: &str, timeout: &str) -> Exit {
    run(&[
        "req",
        "--connect",
        ep,
        "--plain-username",
        user,
        "--plain-password",
        pass,
        "--send",
        "hello",
        "--recv",
        "1",
        "--monitor",
        "--timeout",
        timeout,
    ])
}

#[test]
fn two_tools_authenticate() {
    let (mut server, ep) = plain_server();
    let ok = plain_client(&ep, "admin", "secret", "10000");
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert_eq!(
        data(&ok.lines),
        [json!({"sent": 1}), json!({"recv": ["hello"]})],
        "{ok:?}"
    );
    assert!(
        events(&ok.lines).contains(&"HANDSHAKE_SUCCEEDED".to_owned()),
        "{ok:?}"
    );
    server.event("HANDSHAKE_SUCCEEDED");
    // The second listed user too.
    let guest = plain_client(&ep, "guest", "guest", "10000");
    assert_eq!(guest.code, Some(0), "{guest:?}");
    server.event("HANDSHAKE_SUCCEEDED");
}

#[test]
fn wrong_password_rejected() {
    let (mut server, ep) = plain_server();
    for (user, pass) in [("admin", "wrong"), ("nobody", "secret")] {
        let denied = plain_client(&ep, user, pass, "4000");
        // No retry after a 400, no message: the run times out.
        assert_eq!(denied.code, Some(1), "{denied:?}");
        assert!(denied.stderr.contains("timed out"), "{denied:?}");
        assert!(data(&denied.lines).is_empty(), "{denied:?}");
        let names = events(&denied.lines);
        assert_eq!(
            names,
            [
                "CONNECT_DELAYED",
                "CONNECTED",
                "HANDSHAKE_FAILED_AUTH",
                "DISCONNECTED",
                "MONITOR_STOPPED"
            ],
            "{denied:?}"
        );
        let auth = denied
            .lines
            .iter()
            .find(|v| v["event"] == "HANDSHAKE_FAILED_AUTH")
            .unwrap();
        assert_eq!(auth["id"], 0x4000);
        assert_eq!(auth["value"], 400);
        let e = server.event("HANDSHAKE_FAILED_AUTH");
        assert_eq!(e["value"], 400);
    }
}

#[test]
fn usage_errors() {
    for args in [
        &[
            "rep",
            "--bind",
            "tcp://127.0.0.1:0",
            "--plain-server",
            "--plain-username",
            "u",
        ][..],
        &[
            "rep",
            "--bind",
            "tcp://127.0.0.1:0",
            "--zap-allow",
            "no-colon",
        ],
        &[
            "req",
            "--connect",
            "tcp://127.0.0.1:1",
            "--plain-password",
            "",
        ],
    ] {
        let exit = run(args);
        assert_eq!(exit.code, Some(2), "{args:?}: {exit:?}");
    }
}

#[test]
fn plain_server_without_handler_fails_clients() {
    let mut server = zmtp(&[
        "pull",
        "--bind",
        "tcp://127.0.0.1:0",
        "--plain-server",
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = server.bound();
    let ctx = zmq::Context::new();
    let c = ctx.socket(zmq::PUSH).unwrap();
    c.set_linger(0).unwrap();
    c.set_plain_username(Some("admin")).unwrap();
    c.set_plain_password(Some("secret")).unwrap();
    c.connect(&ep).unwrap();
    let e = server.event("HANDSHAKE_FAILED_NO_DETAIL");
    assert_eq!(e["value"], 14, "EFAULT");
}

/// A NULL socket with a ZAP domain asks the built-in handler, which only
/// knows PLAIN credentials: every NULL peer gets 400.
#[test]
fn null_with_domain_is_refused() {
    let mut server = zmtp(&[
        "pull",
        "--bind",
        "tcp://127.0.0.1:0",
        "--zap-domain",
        "global",
        "--zap-allow",
        "admin:secret",
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = server.bound();
    let ctx = zmq::Context::new();
    let c = ctx.socket(zmq::PUSH).unwrap();
    c.set_linger(0).unwrap();
    c.connect(&ep).unwrap();
    let e = server.event("HANDSHAKE_FAILED_AUTH");
    assert_eq!(e["value"], 400);
}

#[test]
fn libzmq_client_to_tool_server() {
    let (mut server, ep) = plain_server();
    let ctx = zmq::Context::new();
    let c = ctx.socket(zmq::REQ).unwrap();
    c.set_linger(0).unwrap();
    c.set_rcvtimeo(ZMQ_TIMEOUT).unwrap();
    c.set_sndtimeo(ZMQ_TIMEOUT).unwrap();
    c.set_plain_username(Some("admin")).unwrap();
    c.set_plain_password(Some("secret")).unwrap();
    c.connect(&ep).unwrap();
    c.send("ping", 0).unwrap();
    assert_eq!(c.recv_bytes(0).unwrap(), b"ping");
    server.event("HANDSHAKE_SUCCEEDED");
    // A wrong password: libzmq's client hears the 400.
    let bad = ctx.socket(zmq::REQ).unwrap();
    bad.set_linger(0).unwrap();
    bad.set_plain_username(Some("admin")).unwrap();
    bad.set_plain_password(Some("guess")).unwrap();
    bad.monitor(
        "inproc://bad",
        zmq::SocketEvent::HANDSHAKE_FAILED_AUTH.to_raw().into(),
    )
    .unwrap();
    let mon = ctx.socket(zmq::PAIR).unwrap();
    mon.set_rcvtimeo(ZMQ_TIMEOUT).unwrap();
    mon.connect("inproc://bad").unwrap();
    bad.connect(&ep).unwrap();
    let ev = mon.recv_bytes(0).unwrap();
    assert_eq!(u16::from_le_bytes([ev[0], ev[1]]), 0x4000);
    assert_eq!(u32::from_le_bytes([ev[2], ev[3], ev[4], ev[5]]), 400);
    assert_eq!(server.event("HANDSHAKE_FAILED_AUTH")["value"], 400);
}

#[test]
fn tool_client_to_libzmq_server() {
    let ctx = zmq::Context::new();
    // libzmq's ZAP handler accepts admin:secret, 400 otherwise.
    let zap = ctx.socket(zmq::REP).unwrap();
    zap.set_linger(0).unwrap();
    zap.set_rcvtimeo(100).unwrap();
    zap.bind("inproc://zeromq.zap.01").unwrap();
    let stop = std::sync::Arc::new(core::sync::atomic::AtomicBool::new(false));
    let stop2 = std::sync::Arc::clone(&stop);
    let handler = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(60);
        while !stop2.load(core::sync::atomic::Ordering::SeqCst) && Instant::now() < end {
            let Ok(req) = zap.recv_multipart(0) else {
                continue;
            };
            let ok = req.len() == 8 && req[6] == b"admin" && req[7] == b"secret";
            let code: &[u8] = if ok { b"200" } else { b"400" };
            zap.send_multipart([&b"1.0"[..], &req[1], code, b"", b"admin", b""], 0)
                .unwrap();
        }
    });
    let s = ctx.socket(zmq::REP).unwrap();
    s.set_linger(0).unwrap();
    s.set_rcvtimeo(ZMQ_TIMEOUT).unwrap();
    s.set_sndtimeo(ZMQ_TIMEOUT).unwrap();
    s.set_plain_server(true).unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let ep = s.get_last_endpoint().unwrap().unwrap();
    let echo = std::thread::spawn(move || {
        let m = s.recv_bytes(0).unwrap();
        s.send(m, 0).unwrap();
        s
    });
    let ok = plain_client(&ep, "admin", "secret", "10000");
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert_eq!(data(&ok.lines)[1], json!({"recv": ["hello"]}));
    // The server stays up for the next client.
    let _s = echo.join().unwrap();
    let denied = plain_client(&ep, "admin", "wrong", "4000");
    assert_eq!(denied.code, Some(1), "{denied:?}");
    let auth = denied
        .lines
        .iter()
        .find(|v| v["event"] == "HANDSHAKE_FAILED_AUTH")
        .unwrap_or_else(|| panic!("{denied:?}"));
    assert_eq!(auth["value"], 400);
    stop.store(true, core::sync::atomic::Ordering::SeqCst);
    handler.join().unwrap();
}
