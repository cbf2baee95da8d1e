//! End-to-end tests of the `zmtp` tool's CURVE flags (`--curve-server`,
//! `--curve-publickey`, `--curve-secretkey`, `--curve-serverkey`,
//! `--zap-allow-key`): two tool processes over CURVE, a listed key
//! accepted and an unknown one refused, bad keys as usage errors, and the
//! tool process against pyzmq (libzmq 4.3.5) over CURVE in both roles.
//! Loopback only, ports chosen by the system, every wait bounded.
#![cfg(feature = "curve")]
#![allow(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/tool.rs"]
mod tool;

use serde_json::{Value, json};
use tool::*;

fn z85(k: &[u8; 32]) -> String {
    String::from_utf8(zmtp_core::z85::encode_key(k).to_vec()).unwrap()
}

/// A tool CURVE server (ROUTER, echo) with its monitor: accepting
/// `allowed`'s key only, or, without it, every client (no ZAP handler).
fn curve_server(
    server: &zmtp_std::CurveKeypair,
    allowed: Option<&zmtp_std::CurveKeypair>,
) -> (Zmtp, String) {
    let secret = z85(&server.secret);
    let allowed = allowed.map(|k| z85(&k.public));
    let mut args = vec![
        "router",
        "--bind",
        "tcp://127.0.0.1:0",
        "--echo",
        "--curve-server",
        "--curve-secretkey",
        &secret,
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ];
    if let Some(key) = &allowed {
        args.extend(["--zap-allow-key", key.as_str()]);
    }
    let mut s = zmtp(&args);
    let ep = s.bound();
    (s, ep)
}

fn curve_client(ep: &str, server: &[u8; 32], me: &zmtp_std::CurveKeypair, timeout: &str) -> Exit {
    run(&[
        "dealer",
        "--connect",
        ep,
        "--curve-serverkey",
        &z85(server),
        "--curve-publickey",
        &z85(&me.public),
        "--curve-secretkey",
        &z85(&me.secret),
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
fn two_tools_over_curve() {
    let server = zmtp_std::curve_keypair();
    let client = zmtp_std::curve_keypair();
    let stranger = zmtp_std::curve_keypair();
    let (mut srv, ep) = curve_server(&server, Some(&client));
    let ok = curve_client(&ep, &server.public, &client, "10000");
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
    srv.event("HANDSHAKE_SUCCEEDED");

    // An unknown key: 400 on both sides, no message, the run times out.
    let denied = curve_client(&ep, &server.public, &stranger, "4000");
    assert_eq!(denied.code, Some(1), "{denied:?}");
    assert_eq!(data(&denied.lines), [] as [Value; 0], "{denied:?}");
    let auth = denied
        .lines
        .iter()
        .find(|v| v["event"] == "HANDSHAKE_FAILED_AUTH")
        .unwrap_or_else(|| panic!("{denied:?}"));
    assert_eq!(auth["value"], 400);
    let e = srv.event("HANDSHAKE_FAILED_AUTH");
    assert_eq!(e["value"], 400);
}

#[test]
fn bad_keys_are_usage_errors() {
    let kp = zmtp_std::curve_keypair();
    let good = z85(&kp.public);
    let short = &good[..39];
    for args in [
        &[
            "dealer",
            "--curve-serverkey",
            short,
            "--curve-publickey",
            &good,
            "--curve-secretkey",
            &good,
        ][..],
        &[
            "router",
            "--curve-server",
            "--curve-secretkey",
            "not a key at all, forty characters long!",
        ],
        &["router", "--curve-server"],
        &["dealer", "--curve-serverkey", &good],
        &["router", "--zap-allow-key", short],
        &[
            "router",
            "--curve-server",
            "--curve-secretkey",
            &good,
            "--plain-server",
        ],
    ] {
        let exit = run(args);
        assert_eq!(exit.code, Some(2), "{args:?}: {exit:?}");
    }
}

// ---------------------------------------------------------------------
// The tool process against pyzmq (libzmq 4.3.5 with CURVE)
// ---------------------------------------------------------------------

#[path = "common/pyzmq.rs"]
mod pyzmq;

/// One pyzmq process for every scenario (its start-up is slow): reads one
/// JSON command per stdin line and answers each with one JSON line.
///
/// - `{"op":"client","ep":..,"server":..,"public":..,"secret":..}` (keys in
///   hex): a CURVE DEALER connects, sends "hello" and waits for the echo;
///   answers `{"reply":[..] or null,"events":[[id,value],..]}` once it has
///   the reply or a HANDSHAKE_FAILED_* event (10 s at most).
/// - `{"op":"server","secret":..,"allow":[..]}`: a CURVE ROUTER echo server
///   on loopback with a ZAP handler (REP) accepting the listed client keys
///   (400 otherwise); answers `{"endpoint":..}`.
/// - `{"op":"curve_public","secret":Z85}`: `{"public":Z85}` from
///   `zmq.curve_public`.
/// - `{"op":"server_report","until":[id,value]}`: once the server saw that
///   event (10 s at most), answers with its events and every ZAP request
///   (`{"events":[..],"zap":[[hex,..],..]}`), and forgets them.
const PY_DRIVER: &str = r#"
import json, struct, sys, threading, time, zmq
ctx = zmq.Context()
lock = threading.Lock()
server_events, zap_requests, allowed = [], [], []
def out(**kw):
    print(json.dumps(kw), flush=True)
def watch(sock, name, sink):
    sock.monitor(name, zmq.EVENT_ALL)
    mon = ctx.socket(zmq.PAIR)
    mon.connect(name)
    def run():
        while True:
            head, _ = mon.recv_multipart()
            ev, value = struct.unpack("=HI", head[:6])
            with lock:
                sink.append([ev, value])
    threading.Thread(target=run, daemon=True).start()
zap = ctx.socket(zmq.REP)
zap.bind("inproc://zeromq.zap.01")
def serve_zap():
    while True:
        req = zap.recv_multipart()
        with lock:
            zap_requests.append([p.hex() for p in req])
            ok = len(req) == 7 and req[5] == b"CURVE" and req[6] in allowed
        code = b"200" if ok else b"400"
        zap.send_multipart([b"1.0", req[1], code, b"text", b"user" if ok else b"", b""])
threading.Thread(target=serve_zap, daemon=True).start()
FAILED = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
          zmq.EVENT_HANDSHAKE_FAILED_AUTH)
n = 0
for line in sys.stdin:
    cmd = json.loads(line)
    n += 1
    if cmd["op"] == "client":
        s = ctx.socket(zmq.DEALER)
        s.linger = 0
        s.reconnect_ivl = 20000
        s.curve_serverkey = bytes.fromhex(cmd["server"])
        s.curve_publickey = bytes.fromhex(cmd["public"])
        s.curve_secretkey = bytes.fromhex(cmd["secret"])
        events = []
        watch(s, "inproc://client%d" % n, events)
        s.connect(cmd["ep"])
        s.send(b"hello")
        reply, deadline = None, time.monotonic() + 10
        while time.monotonic() < deadline:
            if s.poll(20):
                reply = [p.decode() for p in s.recv_multipart()]
                break
            with lock:
                if any(e[0] in FAILED for e in events):
                    break
        time.sleep(0.2)
        with lock:
            out(reply=reply, events=list(events))
        s.close()
    elif cmd["op"] == "server":
        with lock:
            allowed[:] = [bytes.fromhex(k) for k in cmd["allow"]]
        srv = ctx.socket(zmq.ROUTER)
        srv.linger = 0
        srv.curve_server = True
        srv.curve_secretkey = bytes.fromhex(cmd["secret"])
        watch(srv, "inproc://server%d" % n, server_events)
        srv.bind("tcp://127.0.0.1:0")
        def echo(srv=srv):
            while True:
                srv.send_multipart(srv.recv_multipart())
        threading.Thread(target=echo, daemon=True).start()
        out(endpoint=srv.getsockopt_string(zmq.LAST_ENDPOINT))
    elif cmd["op"] == "curve_public":
        out(public=zmq.curve_public(cmd["secret"].encode()).decode())
    elif cmd["op"] == "server_report":
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with lock:
                if cmd["until"] in server_events:
                    break
            time.sleep(0.02)
        with lock:
            out(events=list(server_events), zap=list(zap_requests))
            server_events.clear()
            zap_requests.clear()
"#;

/// The running pyzmq driver.
struct Py {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Py {
    fn start() -> Option<Self> {
        let python = match pyzmq::python() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("SKIPPED: pyzmq {} not available: {e}", pyzmq::PYZMQ);
                return None;
            }
        };
        let (mut child, lines, _) = pyzmq::spawn_lines(&python, PY_DRIVER, &[], |line| line);
        let stdin = child.stdin.take().unwrap();
        Some(Self {
            child,
            stdin,
            lines,
        })
    }

    /// Sends one command and returns its answer.
    fn ask(&mut self, cmd: &Value) -> Value {
        use std::io::Write as _;
        writeln!(self.stdin, "{cmd}").unwrap();
        let line = self
            .lines
            .recv_timeout(WAIT)
            .unwrap_or_else(|e| panic!("pyzmq did not answer {cmd} within {WAIT:?}: {e}"));
        parse(&line)
    }

    /// A pyzmq CURVE client of `ep`: its reply (or null) and events.
    fn client(&mut self, ep: &str, server: &[u8; 32], me: &zmtp_std::CurveKeypair) -> Value {
        self.ask(&json!({
            "op": "client", "ep": ep, "server": hex(server),
            "public": hex(&me.public), "secret": hex(&me.secret),
        }))
    }
}

impl Drop for Py {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const HANDSHAKE_SUCCEEDED: u64 = 4096;
const HANDSHAKE_FAILED_AUTH: u64 = 16384;

/// Whether a pyzmq event list holds `(id, value)`.
fn has_event(events: &Value, id: u64, value: u64) -> bool {
    events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e[0] == id && e[1] == value)
}

/// The tool as CURVE server: with `--zap-allow-key` a pyzmq client with the
/// listed key gets its echo and a stranger is refused with 400 on both
/// sides; without a handler (Stonehouse) any client that knows the
/// server's key is served.
#[test]
fn tool_curve_server_with_pyzmq_clients() {
    let Some(mut py) = Py::start() else {
        return;
    };
    let server = zmtp_std::curve_keypair();
    let client = zmtp_std::curve_keypair();
    let stranger = zmtp_std::curve_keypair();

    let (mut srv, ep) = curve_server(&server, Some(&client));
    let ok = py.client(&ep, &server.public, &client);
    assert_eq!(ok["reply"], json!(["hello"]), "{ok}");
    assert!(has_event(&ok["events"], HANDSHAKE_SUCCEEDED, 0), "{ok}");
    srv.event("HANDSHAKE_SUCCEEDED");
    let echoed = srv.until(|v| v.get("recv").is_some());
    assert_eq!(frames(&echoed)[1], b"hello");

    let denied = py.client(&ep, &server.public, &stranger);
    assert_eq!(denied["reply"], Value::Null, "{denied}");
    assert!(
        has_event(&denied["events"], HANDSHAKE_FAILED_AUTH, 400),
        "{denied}"
    );
    assert_eq!(srv.event("HANDSHAKE_FAILED_AUTH")["value"], 400);
    drop(srv);

    // Stonehouse: no handler in the tool, the stranger is served too.
    let (mut srv, ep) = curve_server(&server, None);
    let served = py.client(&ep, &server.public, &stranger);
    assert_eq!(served["reply"], json!(["hello"]), "{served}");
    srv.event("HANDSHAKE_SUCCEEDED");
    // A client that has the wrong server key never gets through.
    let wrong = py.client(&ep, &stranger.public, &client);
    assert_eq!(wrong["reply"], Value::Null, "{wrong}");
    assert!(
        !has_event(&wrong["events"], HANDSHAKE_SUCCEEDED, 0),
        "{wrong}"
    );
}

/// The tool as CURVE client of a pyzmq CURVE server whose pyzmq ZAP handler
/// accepts one key: accepted (exit 0, the echo printed) and refused (400 on
/// both sides, no data line, exit 1 at --timeout).
#[test]
fn tool_curve_client_with_pyzmq_server() {
    let Some(mut py) = Py::start() else {
        return;
    };
    let server = zmtp_std::curve_keypair();
    let client = zmtp_std::curve_keypair();
    let stranger = zmtp_std::curve_keypair();
    let ep = py.ask(&json!({
        "op": "server", "secret": hex(&server.secret), "allow": [hex(&client.public)],
    }))["endpoint"]
        .as_str()
        .unwrap()
        .to_owned();

    let ok = curve_client(&ep, &server.public, &client, "10000");
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert_eq!(
        data(&ok.lines),
        [json!({"sent": 1}), json!({"recv": ["hello"]})],
        "{ok:?}"
    );
    assert_monitor_ends(&ok);
    assert!(
        events(&ok.lines).contains(&"HANDSHAKE_SUCCEEDED".to_owned()),
        "{ok:?}"
    );
    let report = py.ask(&json!({"op": "server_report", "until": [HANDSHAKE_SUCCEEDED, 0]}));
    assert!(
        has_event(&report["events"], HANDSHAKE_SUCCEEDED, 0),
        "{report}"
    );
    let zap = &report["zap"][0];
    assert_eq!(zap[5], hex(b"CURVE"), "{report}");
    assert_eq!(zap[6], hex(&client.public), "{report}");

    let denied = curve_client(&ep, &server.public, &stranger, "4000");
    assert_eq!(denied.code, Some(1), "{denied:?}");
    assert_eq!(data(&denied.lines), [] as [Value; 0], "{denied:?}");
    assert_monitor_ends(&denied);
    assert_eq!(event(&denied.lines, "HANDSHAKE_FAILED_AUTH")["value"], 400);
    assert!(
        !events(&denied.lines).contains(&"HANDSHAKE_SUCCEEDED".to_owned()),
        "{denied:?}"
    );
    let report = py.ask(&json!({"op": "server_report", "until": [HANDSHAKE_FAILED_AUTH, 400]}));
    assert!(
        has_event(&report["events"], HANDSHAKE_FAILED_AUTH, 400),
        "{report}"
    );
    assert_eq!(report["zap"][0][6], hex(&stranger.public), "{report}");
}

/// `zmtp keygen`: one JSON line with a fresh key pair whose keys decode,
/// whose public key is the secret's (ours and libzmq's `zmq_curve_public`),
/// different on every run, and which works as a server's pair against a
/// pyzmq client.
#[test]
fn keygen_prints_a_fresh_keypair() {
    let keygen = || {
        let exit = run(&["keygen"]);
        assert_eq!(exit.code, Some(0), "{exit:?}");
        assert_eq!(exit.lines.len(), 1, "{exit:?}");
        let line = &exit.lines[0];
        assert_eq!(line.as_object().unwrap().len(), 2, "{line}");
        let public = line["public"].as_str().unwrap().to_owned();
        let secret = line["secret"].as_str().unwrap().to_owned();
        assert_eq!((public.len(), secret.len()), (40, 40), "{line}");
        let p = zmtp_core::z85::decode_key(public.as_bytes()).unwrap();
        let s = zmtp_core::z85::decode_key(secret.as_bytes()).unwrap();
        assert_eq!(zmtp_std::curve_public(&s).unwrap(), p, "{line}");
        assert_eq!(zmtp_std::curve_public(secret.as_bytes()).unwrap(), p);
        (public, secret, p, s)
    };
    let a = keygen();
    let b = keygen();
    assert_ne!(a.0, b.0);
    assert_ne!(a.1, b.1);
    // Arguments are usage errors; --help describes it.
    assert_eq!(run(&["keygen", "extra"]).code, Some(2));
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_zmtp"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("zmtp keygen"));

    let Some(mut py) = Py::start() else {
        return;
    };
    for (public, secret, _, _) in [&a, &b] {
        let theirs = py.ask(&json!({"op": "curve_public", "secret": secret}));
        assert_eq!(theirs["public"], **public);
    }
    // The printed pair as a tool server's, a pyzmq client trusting the
    // printed public key.
    let mut srv = zmtp(&[
        "router",
        "--bind",
        "tcp://127.0.0.1:0",
        "--echo",
        "--curve-server",
        "--curve-secretkey",
        &a.1,
        "--monitor",
        "--timeout",
        CHILD_TIMEOUT,
    ]);
    let ep = srv.bound();
    let client = zmtp_std::CurveKeypair {
        public: b.2,
        secret: b.3,
    };
    let ok = py.client(&ep, &a.2, &client);
    assert_eq!(ok["reply"], json!(["hello"]), "{ok}");
    srv.event("HANDSHAKE_SUCCEEDED");
}
