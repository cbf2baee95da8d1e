//! Scenario C in QEMU: the `fw-secure` firmware (REP as a PLAIN server on
//! 5555 with the firmware as its ZAP handler, remote monitor XPUB on 5557)
//! against libzmq 4.3.4 PLAIN clients on the host.
//!
//! Checked: a client with a wrong password is refused (libzmq's own monitor
//! reports HANDSHAKE_FAILED_AUTH 400, and the firmware's remote monitor
//! the same on its side); a client with the right credentials gets its
//! requests echoed; the firmware's ZAP decisions in its log; exit status 0.
//!
//! Needs `ZMTP_FW_SECURE_ELF` (set by `cargo xtask test`), else skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod qemu_support;

use core::time::Duration;
use std::time::Instant;

use qemu_support::{EXIT_TIMEOUT, MonitorSub, Qemu, SECURE_ELF_VAR, STEP_TIMEOUT, firmware};
use zmtp_core::monitor::Event;

/// A PLAIN REQ client of libzmq with its own monitor (v1 events).
struct Client {
    req: zmq::Socket,
    monitor: zmq::Socket,
}

impl Client {
    fn connect(ctx: &zmq::Context, port: u16, password: &str, name: &str) -> Self {
        let req = ctx.socket(zmq::REQ).unwrap();
        req.set_linger(0).unwrap();
        req.set_rcvtimeo(STEP_TIMEOUT.as_millis() as i32).unwrap();
        req.set_plain_username(Some("admin")).unwrap();
        req.set_plain_password(Some(password)).unwrap();
        let ep = format!("inproc://monitor-{name}");
        req.monitor(&ep, zmq::SocketEvent::ALL as i32).unwrap();
        let monitor = ctx.socket(zmq::PAIR).unwrap();
        monitor.set_rcvtimeo(100).unwrap();
        monitor.connect(&ep).unwrap();
        req.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
        Self { req, monitor }
    }

    /// The client's monitor events up to and including one named `last`.
    fn events_until(&self, last: &str) -> Vec<(String, u32)> {
        let started = Instant::now();
        let mut out = Vec::new();
        while started.elapsed() < STEP_TIMEOUT {
            let Ok(frames) = self.monitor.recv_multipart(0) else {
                continue;
            };
            assert_eq!(frames.len(), 2, "a v1 monitor message has two frames");
            let id = u16::from_ne_bytes([frames[0][0], frames[0][1]]);
            let value =
                u32::from_ne_bytes([frames[0][2], frames[0][3], frames[0][4], frames[0][5]]);
            let name = Event::from_id_value(u64::from(id), &[u64::from(value)])
                .name()
                .to_owned();
            let done = name == last;
            out.push((name, value));
            if done {
                return out;
            }
        }
        panic!("no {last} from the libzmq client within {STEP_TIMEOUT:?}: {out:?}");
    }
}

#[test]
fn fw_secure_plain_server_with_a_zap_handler_against_libzmq() {
    let Some(elf) = firmware(SECURE_ELF_VAR) else {
        return;
    };
    let mut qemu = Qemu::start(&elf, &[5555, 5557], &[]);
    let (rep_port, mon_port) = (qemu.ports[0], qemu.ports[1]);
    let ctx = zmq::Context::new();
    let mut mon = MonitorSub::connect(&ctx, mon_port);
    mon.wait_for("LISTENING of REP", STEP_TIMEOUT, |evs| {
        evs.iter().any(|e| e.name() == "LISTENING")
    });

    // A wrong password: the firmware's handler answers 400; libzmq's client
    // reads the ERROR and reports it, and does not come back.
    let wrong = Client::connect(&ctx, rep_port, "guess", "wrong");
    let events = wrong.events_until("HANDSHAKE_FAILED_AUTH");
    assert_eq!(
        events.last(),
        Some(&("HANDSHAKE_FAILED_AUTH".to_owned(), 400)),
        "{events:?}"
    );
    mon.wait_for("the refusal on the board", STEP_TIMEOUT, |evs| {
        evs.iter().any(|e| e.name() == "DISCONNECTED")
    });
    drop(wrong);

    // The right credentials: requests are served.
    let right = Client::connect(&ctx, rep_port, "secret", "right");
    let events = right.events_until("HANDSHAKE_SUCCEEDED");
    assert!(
        !events
            .iter()
            .any(|(n, _)| n.starts_with("HANDSHAKE_FAILED")),
        "{events:?}"
    );
    for i in 0..3 {
        let n = i.to_string();
        right
            .req
            .send_multipart([&b"hello"[..], n.as_bytes()], 0)
            .unwrap();
        assert_eq!(
            right.req.recv_multipart(0).unwrap(),
            [b"hello".to_vec(), n.into_bytes()]
        );
    }
    drop(right);

    mon.wait_for("DISCONNECTED of the accepted client", STEP_TIMEOUT, |evs| {
        evs.iter().filter(|e| e.name() == "DISCONNECTED").count() >= 2
    });
    let quiet = Instant::now();
    while quiet.elapsed() < Duration::from_millis(300) {
        mon.poll();
    }
    let board = mon.events_for(":5555");
    let names: Vec<&str> = board.iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        [
            "LISTENING",
            "ACCEPTED",
            "HANDSHAKE_FAILED_AUTH",
            "DISCONNECTED",
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "DISCONNECTED"
        ],
        "{board:#?}"
    );
    assert_eq!(board[2].event, Event::HandshakeFailedAuth { status: 400 });
    // libzmq closes the subscriber's connection for good when its context
    // ends; then the board sees it leave and ends the run.
    drop(mon);
    drop(ctx);
    qemu.wait_log("mon: DISCONNECTED", STEP_TIMEOUT);

    let code = qemu.wait_exit(EXIT_TIMEOUT);
    assert_eq!(code, Some(0), "firmware exit status");
    qemu.assert_log_in_order(&[
        "rep: LISTENING value=3 local=tcp://0.0.0.0:5555",
        "zap: PLAIN from 10.0.2.2 user admin: 400",
        "rep: HANDSHAKE_FAILED_AUTH value=400",
        "zap: PLAIN from 10.0.2.2 user admin: 200",
        "rep: HANDSHAKE_SUCCEEDED",
        "fw-secure: done (1 refused, 1 accepted)",
        "fw-secure: exit 0 (monitor events published 7, dropped 0, drained true",
    ]);
    assert!(
        !qemu
            .log()
            .iter()
            .any(|l| l.contains("ERROR") || l.contains("WARN")),
        "warnings or errors in the firmware log"
    );
}
