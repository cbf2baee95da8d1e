//! Scenario A in QEMU: the `fw-server` firmware (REP echo on 5555, PUB on
//! 5556, remote monitor XPUB on 5557, behind QEMU user-network port
//! forwards on 127.0.0.1) against libzmq 4.3.4 peers on the host.
//!
//! Checked: REQ/REP round trips (multipart included), a PUB stream with
//! every message in order, the monitor events the firmware publishes
//! (decoded with `zmtp_core::monitor::decode_v2`: LISTENING, ACCEPTED,
//! HANDSHAKE_SUCCEEDED, then DISCONNECTED when the host peer leaves, with
//! libzmq's values and endpoints), the firmware's defmt log, and its exit
//! status 0.
//!
//! Needs `ZMTP_FW_SERVER_ELF` (set by `cargo xtask test`), else skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod qemu_support;

use core::time::Duration;
use std::time::Instant;

use qemu_support::{EXIT_TIMEOUT, MonitorSub, Qemu, SERVER_ELF_VAR, STEP_TIMEOUT, firmware};
use zmtp_core::monitor::Event;

/// Stream messages requested from the firmware.
const STREAM: usize = 300;

fn recv_timeout(socket: &zmq::Socket) -> Vec<Vec<u8>> {
    socket
        .recv_multipart(0)
        .unwrap_or_else(|e| panic!("no message within the receive timeout: {e}"))
}

fn request(req: &zmq::Socket, parts: &[&[u8]]) -> Vec<Vec<u8>> {
    req.send_multipart(parts, 0).unwrap();
    recv_timeout(req)
}

/// The sequence of one bound socket on the firmware (`port` is its guest
/// port): LISTENING, then ACCEPTED, HANDSHAKE_SUCCEEDED and DISCONNECTED
/// of one connection, with consistent handles and endpoints.
fn check_bound_socket(mon: &MonitorSub, port: u16, listener_fd: u64) {
    let suffix = format!(":{port}");
    let events = mon.events_for(&suffix);
    let names: Vec<&str> = events.iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        [
            "LISTENING",
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "DISCONNECTED"
        ],
        "port {port}: {events:#?}"
    );
    assert_eq!(
        events[0].event,
        Event::Listening {
            fd: listener_fd as u32
        }
    );
    assert_eq!(events[0].local, format!("tcp://0.0.0.0:{port}"));
    assert_eq!(events[0].remote, "");
    let Event::Accepted { fd } = events[1].event else {
        panic!("unexpected event")
    };
    assert_ne!(u64::from(fd), listener_fd);
    let local = format!("tcp://10.0.2.15:{port}");
    for e in &events[1..] {
        assert_eq!(e.local, local, "{e:?}");
        // QEMU's user network connects from the gateway's address.
        assert!(e.remote.starts_with("tcp://10.0.2.2:"), "{e:?}");
        assert_eq!(e.remote, events[1].remote, "{e:?}");
    }
    assert_eq!(events[2].event, Event::HandshakeSucceeded);
    assert_eq!(events[3].event, Event::Disconnected { fd });
}

#[test]
fn fw_server_rep_pub_and_remote_monitor_against_libzmq() {
    let Some(elf) = firmware(SERVER_ELF_VAR) else {
        return;
    };
    let mut qemu = Qemu::start(&elf, &[5555, 5556, 5557], &[]);
    let (rep_port, pub_port, mon_port) = (qemu.ports[0], qemu.ports[1], qemu.ports[2]);
    let ctx = zmq::Context::new();

    // The remote monitor first: the events of the boot wait for it.
    let mut mon = MonitorSub::connect(&ctx, mon_port);
    mon.wait_for("LISTENING of REP and PUB", STEP_TIMEOUT, |evs| {
        evs.iter().filter(|e| e.name() == "LISTENING").count() >= 2
    });

    // REQ/REP.
    let req = ctx.socket(zmq::REQ).unwrap();
    req.set_linger(0).unwrap();
    req.set_rcvtimeo(STEP_TIMEOUT.as_millis() as i32).unwrap();
    req.connect(&format!("tcp://127.0.0.1:{rep_port}")).unwrap();
    for i in 0..5 {
        let n = i.to_string();
        let reply = request(&req, &[b"hello", n.as_bytes()]);
        assert_eq!(reply, [b"hello".to_vec(), n.into_bytes()]);
    }
    let big = vec![0x5A; 600];
    assert_eq!(
        request(&req, &[b"", &big, b"end"]),
        [vec![], big, b"end".to_vec()]
    );

    // PUB/SUB: make sure the subscription reached the firmware, then
    // ask for the stream.
    let sub = ctx.socket(zmq::SUB).unwrap();
    sub.set_linger(0).unwrap();
    sub.set_subscribe(b"").unwrap();
    sub.set_rcvtimeo(200).unwrap();
    sub.connect(&format!("tcp://127.0.0.1:{pub_port}")).unwrap();
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < STEP_TIMEOUT,
            "SUB never got a sync message"
        );
        assert_eq!(request(&req, &[b"sync"]), [b"sync".to_vec()]);
        if let Ok(m) = sub.recv_multipart(0) {
            assert_eq!(m, [b"sync".to_vec()]);
            break;
        }
    }
    let ask = format!("stream {STREAM}");
    assert_eq!(
        request(&req, &[ask.as_bytes()]),
        [format!("streaming {STREAM}").into_bytes()]
    );
    sub.set_rcvtimeo(STEP_TIMEOUT.as_millis() as i32).unwrap();
    let mut got = 0;
    while got < STREAM {
        let m = recv_timeout(&sub);
        if m == [b"sync".to_vec()] {
            continue;
        }
        assert_eq!(m, [b"stream".to_vec(), got.to_string().into_bytes()]);
        got += 1;
    }

    // The host peers leave: the firmware reports DISCONNECTED for both.
    drop(sub);
    drop(req);
    mon.wait_for("DISCONNECTED of REP and PUB", STEP_TIMEOUT, |evs| {
        evs.iter().filter(|e| e.name() == "DISCONNECTED").count() >= 2
    });
    // Nothing else should follow; give stragglers a moment to show.
    let quiet = Instant::now();
    while quiet.elapsed() < Duration::from_millis(300) {
        mon.poll();
    }
    check_bound_socket(&mon, 5555, 3);
    check_bound_socket(&mon, 5556, 10);
    assert_eq!(mon.events.len(), 8, "{:#?}", mon.events);
    drop(mon);

    let code = qemu.wait_exit(EXIT_TIMEOUT);
    assert_eq!(code, Some(0), "firmware exit status");
    qemu.assert_log_in_order(&[
        "rep: LISTENING value=3 local=tcp://0.0.0.0:5555",
        "rep: ACCEPTED",
        "rep: HANDSHAKE_SUCCEEDED",
        &format!("fw-server: streamed {STREAM} messages"),
        "rep: DISCONNECTED",
        "fw-server: done",
        "fw-server: exit 0",
    ]);
    qemu.assert_log_in_order(&[
        "pub: LISTENING",
        "pub: ACCEPTED",
        "pub: HANDSHAKE_SUCCEEDED",
    ]);
    qemu.assert_log_in_order(&["pub: DISCONNECTED"]);
    qemu.assert_log_in_order(&[
        "mon: LISTENING",
        "mon: ACCEPTED",
        "mon: HANDSHAKE_SUCCEEDED",
    ]);
    assert!(
        !qemu
            .log()
            .iter()
            .any(|l| l.contains("ERROR") || l.contains("WARN")),
        "warnings or errors in the firmware log"
    );
}

#[test]
fn fw_server_refuses_oversized_requests_and_quits_on_request() {
    let Some(elf) = firmware(SERVER_ELF_VAR) else {
        return;
    };
    let mut qemu = Qemu::start(&elf, &[5555, 5556, 5557], &[]);
    qemu.wait_log("rep: LISTENING", STEP_TIMEOUT);
    let ctx = zmq::Context::new();
    let req = ctx.socket(zmq::REQ).unwrap();
    req.set_linger(0).unwrap();
    req.set_rcvtimeo(STEP_TIMEOUT.as_millis() as i32).unwrap();
    req.connect(&format!("tcp://127.0.0.1:{}", qemu.ports[0]))
        .unwrap();

    // Larger than the firmware's 1 KiB message buffer, smaller than the
    // socket's receive queue: the firmware reads it, drops it, and says so.
    let big = vec![0xA5; 1500];
    assert_eq!(
        request(&req, &[&big]),
        [b"error: request too large".to_vec()]
    );
    // Still serving.
    assert_eq!(request(&req, &[b"ping"]), [b"ping".to_vec()]);
    assert_eq!(request(&req, &[b"quit"]), [b"bye".to_vec()]);
    drop(req);

    let code = qemu.wait_exit(EXIT_TIMEOUT);
    assert_eq!(code, Some(0), "firmware exit status");
    qemu.assert_log_in_order(&[
        "rep: HANDSHAKE_SUCCEEDED",
        "request too large",
        "fw-server: quit requested",
        "fw-server: done (0 messages streamed)",
        "fw-server: exit 0",
    ]);
}
