//! Scenario C in QEMU: the `fw-secure` firmware (REP as a PLAIN server on
//! 5555 and as a CURVE server on 5556, the firmware as their ZAP handler,
//! remote monitor XPUB on 5557) against libzmq clients on the host: PLAIN
//! from libzmq 4.3.4 (the `zmq` crate), CURVE from libzmq 4.3.5 (pyzmq,
//! whose libzmq has CURVE; the `zmq` crate's has not).
//!
//! Checked, for each mechanism: a client with wrong credentials (a wrong
//! password, an unknown CURVE key) is refused (libzmq's own monitor reports
//! HANDSHAKE_FAILED_AUTH 400, and the firmware's remote monitor the same on
//! its side); a client with the right ones gets its requests echoed; the
//! firmware's ZAP decisions in its log; exit status 0. The firmware's CURVE
//! randomness comes from a seed this test draws from the host's random
//! source and passes on the semihosting command line.
//!
//! Needs `ZMTP_FW_SECURE_ELF` (set by `cargo xtask test`), else skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../support/pyvenv.rs"]
mod pyvenv;
mod qemu_support;

use core::time::Duration;
use std::io::Read;
use std::process::Command;
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

/// The CURVE part, as a pyzmq script: a REQ with an unknown key (its
/// monitor events until HANDSHAKE_FAILED_AUTH), then one with the key the
/// firmware accepts (events until HANDSHAKE_SUCCEEDED, then a request).
/// One JSON object per line.
const PY_CURVE: &str = r#"
import json, struct, sys, zmq
port, server_public, client_public, client_secret = sys.argv[1:5]
ctx = zmq.Context()
def client(public, secret, name):
    s = ctx.socket(zmq.REQ)
    s.linger = 0
    s.rcvtimeo = 15000
    s.curve_serverkey = server_public.encode()
    s.curve_publickey = public
    s.curve_secretkey = secret
    s.monitor("inproc://" + name, zmq.EVENT_ALL)
    m = ctx.socket(zmq.PAIR)
    m.rcvtimeo = 15000
    m.connect("inproc://" + name)
    s.connect("tcp://127.0.0.1:" + port)
    return s, m
def until(m, last):
    out = []
    while True:
        head, _ = m.recv_multipart()
        event, value = struct.unpack("=HI", head[:6])
        out.append([event, value])
        if event == last:
            return out
public, secret = zmq.curve_keypair()
s, m = client(public, secret, "unknown")
print(json.dumps({"unknown": until(m, zmq.EVENT_HANDSHAKE_FAILED_AUTH)}), flush=True)
s.close(); m.close()
s, m = client(client_public.encode(), client_secret.encode(), "known")
print(json.dumps({"known": until(m, zmq.EVENT_HANDSHAKE_SUCCEEDED)}), flush=True)
s.send_multipart([b"hello", b"curve"])
print(json.dumps({"reply": [p.decode() for p in s.recv_multipart()]}), flush=True)
s.close(); m.close(); ctx.term()
"#;

/// The zmq_curve(7) key pairs the firmware uses.
const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const CLIENT_PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

/// 32 bytes from the host's random source, as 64 hexadecimal digits.
fn seed() -> String {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("the host's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs [`PY_CURVE`] against the firmware's CURVE port and checks libzmq's
/// side.
fn curve_clients(port: u16) {
    let python = pyvenv::pyzmq(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")))
        .unwrap_or_else(|why| panic!("pyzmq (libzmq with CURVE) is needed here: {why}"));
    let out = Command::new(python)
        .args([
            "-c",
            PY_CURVE,
            &port.to_string(),
            SERVER_PUBLIC,
            CLIENT_PUBLIC,
            CLIENT_SECRET,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the pyzmq script failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    // libzmq's client refused with 400 (0x4000 = HANDSHAKE_FAILED_AUTH),
    // accepted (0x1000 = HANDSHAKE_SUCCEEDED) and served.
    assert!(lines[0].ends_with("[16384, 400]]}"), "{}", lines[0]);
    assert!(
        !lines[1].contains("16384") && !lines[1].contains("8192"),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with("[4096, 0]]}"), "{}", lines[1]);
    assert_eq!(lines[2], r#"{"reply": ["hello", "curve"]}"#);
}

/// The board's sequence for one REP socket: a refused client, then an
/// accepted one that leaves.
fn check_board_socket(mon: &MonitorSub, port: u16, listener: u32) {
    let board = mon.events_for(&format!(":{port}"));
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
        "port {port}: {board:#?}"
    );
    assert_eq!(board[0].event, Event::Listening { fd: listener });
    assert_eq!(board[2].event, Event::HandshakeFailedAuth { status: 400 });
}

#[test]
fn fw_secure_plain_and_curve_servers_with_a_zap_handler_against_libzmq() {
    let Some(elf) = firmware(SECURE_ELF_VAR) else {
        return;
    };
    let mut qemu = Qemu::start(&elf, &[5555, 5556, 5557], &[format!("seed={}", seed())]);
    let (rep_port, curve_port, mon_port) = (qemu.ports[0], qemu.ports[1], qemu.ports[2]);
    let ctx = zmq::Context::new();
    let mut mon = MonitorSub::connect(&ctx, mon_port);
    mon.wait_for("LISTENING of both REP sockets", STEP_TIMEOUT, |evs| {
        evs.iter().filter(|e| e.name() == "LISTENING").count() >= 2
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

    // CURVE, with libzmq 4.3.5 through pyzmq.
    curve_clients(curve_port);
    mon.wait_for("DISCONNECTED of the CURVE clients", STEP_TIMEOUT, |evs| {
        evs.iter().filter(|e| e.name() == "DISCONNECTED").count() >= 4
    });
    let quiet = Instant::now();
    while quiet.elapsed() < Duration::from_millis(300) {
        mon.poll();
    }
    check_board_socket(&mon, 5555, 3);
    check_board_socket(&mon, 5556, 10);

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
        "zap: CURVE from 10.0.2.2 user unknown key: 400",
        "curve: HANDSHAKE_FAILED_AUTH value=400",
        "zap: CURVE from 10.0.2.2 user curve-client: 200",
        "curve: HANDSHAKE_SUCCEEDED",
        "fw-secure: done (PLAIN 1 refused, 1 accepted; CURVE 1 refused, 1 accepted)",
        "fw-secure: exit 0 (monitor events published 14, dropped 0, drained true)",
    ]);
    assert!(
        !qemu
            .log()
            .iter()
            .any(|l| l.contains("ERROR") || l.contains("WARN")),
        "warnings or errors in the firmware log"
    );
}
