//! Scenario B in QEMU: the `fw-client` firmware connects out (REQ) to a
//! libzmq 4.3.4 REP on the host, through QEMU's user network (the guest
//! dials 10.0.2.2:<port>, which is 127.0.0.1:<port> on the host).
//!
//! The host binds only after the firmware's remote monitor showed failed
//! attempts, so the sequence is CONNECT_DELAYED, CLOSED, CONNECT_RETRIED
//! (repeated), then CONNECTED and HANDSHAKE_SUCCEEDED, the round trips,
//! and DISCONNECTED when the host closes its socket. Also checked: the
//! values and endpoints libzmq would report, the firmware's defmt log and
//! its exit status 0.
//!
//! The port is chosen free on the host at run time and handed to the
//! firmware on the semihosting command line (`port=<n>`).
//!
//! Needs `ZMTP_FW_CLIENT_ELF` (set by `cargo xtask test`), else skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod qemu_support;

use qemu_support::{
    CLIENT_ELF_VAR, EXIT_TIMEOUT, MonitorSub, Qemu, STEP_TIMEOUT, firmware, free_ports,
};
use zmtp_core::monitor::{Event, errno};

/// Round trips the firmware makes (its `ROUNDS`).
const ROUNDS: usize = 5;
/// Failed attempts to see before the host binds.
const RETRIES_FIRST: usize = 2;

#[test]
fn fw_client_connects_out_with_retries_against_libzmq() {
    let Some(elf) = firmware(CLIENT_ELF_VAR) else {
        return;
    };
    let host_port = free_ports(1)[0];
    let mut qemu = Qemu::start(&elf, &[5557], &[format!("port={host_port}")]);
    let ctx = zmq::Context::new();
    let mut mon = MonitorSub::connect(&ctx, qemu.ports[0]);

    // Nobody listens on the host port yet: attempts fail and are retried.
    mon.wait_for("failed connect attempts", STEP_TIMEOUT, |evs| {
        evs.iter().filter(|e| e.name() == "CONNECT_RETRIED").count() >= RETRIES_FIRST
    });

    // Now the host binds (on the port the firmware was given).
    let rep = ctx.socket(zmq::REP).unwrap();
    rep.set_linger(0).unwrap();
    rep.set_rcvtimeo(STEP_TIMEOUT.as_millis() as i32).unwrap();
    rep.bind(&format!("tcp://127.0.0.1:{host_port}")).unwrap();
    for i in 0..ROUNDS {
        let request = rep
            .recv_multipart(0)
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(request, [b"hello".to_vec(), i.to_string().into_bytes()]);
        rep.send_multipart(&request, 0).unwrap();
    }
    mon.wait_for("CONNECTED and HANDSHAKE_SUCCEEDED", STEP_TIMEOUT, |evs| {
        evs.iter().any(|e| e.name() == "HANDSHAKE_SUCCEEDED")
    });
    qemu.wait_log("fw-client: 5 round trips done", STEP_TIMEOUT);

    // The host leaves.
    drop(rep);
    mon.wait_for("DISCONNECTED", STEP_TIMEOUT, |evs| {
        evs.iter().any(|e| e.name() == "DISCONNECTED")
    });

    let remote = format!("tcp://10.0.2.2:{host_port}");
    let names: Vec<&str> = mon.events.iter().map(|e| e.name()).collect();
    let connected = names.iter().position(|n| *n == "CONNECTED").unwrap();
    // Before CONNECTED: rounds of failed attempts, each CONNECT_DELAYED,
    // CLOSED, CONNECT_RETRIED, then the attempt that succeeds.
    let before = &mon.events[..connected];
    assert!(before.len() > 3 * RETRIES_FIRST, "{names:?}");
    let (attempts, last) = before.split_at(before.len() - 1);
    assert_eq!(
        last[0].event,
        Event::ConnectDelayed {
            errno: errno::EINPROGRESS
        }
    );
    for round in attempts.chunks(3) {
        let round_names: Vec<&str> = round.iter().map(|e| e.name()).collect();
        assert_eq!(
            round_names,
            ["CONNECT_DELAYED", "CLOSED", "CONNECT_RETRIED"],
            "{names:?}"
        );
        assert_eq!(
            round[0].event,
            Event::ConnectDelayed {
                errno: errno::EINPROGRESS
            }
        );
        // libzmq's jittered interval: reconnect_ivl (100 ms) plus up to
        // as much again.
        let Event::ConnectRetried { interval_ms } = round[2].event else {
            panic!("unexpected event")
        };
        assert!((100..200).contains(&interval_ms), "{interval_ms}");
    }
    for e in before {
        assert_eq!(e.local, "", "{e:?}");
        assert_eq!(e.remote, remote, "{e:?}");
    }
    // CONNECTED, HANDSHAKE_SUCCEEDED, DISCONNECTED of one connection.
    let after = &mon.events[connected..];
    let after_names: Vec<&str> = after.iter().map(|e| e.name()).collect();
    assert_eq!(
        after_names[..3],
        ["CONNECTED", "HANDSHAKE_SUCCEEDED", "DISCONNECTED"],
        "{names:?}"
    );
    let Event::Connected { fd } = after[0].event else {
        panic!("unexpected event")
    };
    assert_eq!(after[2].event, Event::Disconnected { fd });
    for e in &after[..3] {
        assert!(e.local.starts_with("tcp://10.0.2.15:"), "{e:?}");
        assert_eq!(e.local, after[0].local, "{e:?}");
        assert_eq!(e.remote, remote, "{e:?}");
    }
    drop(mon);

    let code = qemu.wait_exit(EXIT_TIMEOUT);
    assert_eq!(code, Some(0), "firmware exit status");
    qemu.assert_log_in_order(&[
        &format!("fw-client: REQ connecting to 10.0.2.2:{host_port}"),
        "req: CONNECT_DELAYED value=115",
        "req: CLOSED",
        "req: CONNECT_RETRIED",
        "req: CONNECTED",
        "req: HANDSHAKE_SUCCEEDED",
        "fw-client: 5 round trips done",
        "req: DISCONNECTED",
        "fw-client: host left",
        "fw-client: exit 0",
    ]);
    assert!(
        !qemu.log().iter().any(|l| l.contains("ERROR")),
        "errors in the firmware log"
    );
}
