//! CURVE (RFC 25/26) and ZAP: a `zmtp_core` `Connection` against a live
//! libzmq 4.3.5, both roles, with monitor events compared and libzmq's
//! handshake commands decoded by our parsers.
//!
//! The `zmq` crate's libzmq has no CURVE, so the libzmq side is pyzmq
//! 27.3.0 (which bundles a CURVE-capable libzmq 4.3.5), installed by the
//! test into a virtual environment under the target directory and driven
//! by a small script: it prints one JSON object per line (its endpoint,
//! monitor events, ZAP requests, messages) and ends when its stdin closes.
//! Without Python or a package registry the test says so and skips.
//!
//! Our side is a `Connection` driven over a `TcpStream` on 127.0.0.1
//! (port 0). Every wait has a deadline; nothing sleeps except the driver's
//! short read timeouts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../support/driver.rs"]
mod driver;
#[path = "../support/pyvenv.rs"]
mod pyvenv;
#[path = "../../core/tests/rng_util/mod.rs"]
mod rng_util;

use core::time::Duration;
use std::io::{BufRead, BufReader, ErrorKind};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Instant as StdInstant;

use driver::Driver;
use rng_util::TestRng;
use zmtp_core::conn::{
    Config, ConnEvent, Connection, CurveKeypair, CurveState, MechanismConfig, ZapReply, ZapRequest,
};
use zmtp_core::wire::curve::{HelloRepr, InitiateRepr, SealedRepr, WelcomeRepr};
use zmtp_core::{Instant, ProtocolError, SocketType, z85};

const DEADLINE: Duration = Duration::from_secs(8);

const EVENT_DISCONNECTED: u32 = 0x0200;
const EVENT_HANDSHAKE_FAILED_NO_DETAIL: u32 = 0x0800;
const EVENT_HANDSHAKE_SUCCEEDED: u32 = 0x1000;
const EVENT_HANDSHAKE_FAILED_PROTOCOL: u32 = 0x2000;
const EVENT_HANDSHAKE_FAILED_AUTH: u32 = 0x4000;

/// The libzmq side. `server SECRET ALLOWED_PUBLIC` binds a CURVE ROUTER
/// with a ZAP handler that accepts only ALLOWED_PUBLIC (user id "alice")
/// and answers 400 otherwise, and echoes every message prefixed with
/// "echo". `client ENDPOINT SERVER_PUBLIC PUBLIC SECRET` connects a CURVE
/// DEALER, sends [hello, "", world] and prints the reply.
const SCRIPT: &str = r#"
import json, struct, sys, threading, zmq, zmq.utils.z85 as z85
lock = threading.Lock()
def out(**kw):
    with lock:
        print(json.dumps(kw), flush=True)
out(libzmq=zmq.zmq_version())
ctx = zmq.Context()
stop = threading.Event()
def watch_stdin():
    sys.stdin.read()
    stop.set()
threading.Thread(target=watch_stdin, daemon=True).start()
def monitor(sock):
    sock.monitor("inproc://mon", zmq.EVENT_ALL)
    m = ctx.socket(zmq.PAIR)
    m.connect("inproc://mon")
    def run():
        while not stop.is_set():
            if m.poll(20):
                head, _ = m.recv_multipart()
                ev, value = struct.unpack("=HI", head[:6])
                out(event=ev, value=value)
    threading.Thread(target=run, daemon=True).start()
mode = sys.argv[1]
if mode == "server":
    secret, allowed = sys.argv[2].encode(), sys.argv[3].encode()
    zap = ctx.socket(zmq.REP)
    zap.bind("inproc://zeromq.zap.01")
    def serve_zap():
        while not stop.is_set():
            if zap.poll(20):
                req = zap.recv_multipart()
                # version, request id, domain, address, identity,
                # mechanism, credentials
                key = z85.encode(req[6]).decode() if len(req) > 6 else ""
                out(zap=req[5].decode(), key=key)
                ok = key.encode() == allowed
                zap.send_multipart([b"1.0", req[1], b"200" if ok else b"400", b"", b"alice" if ok else b"", b""])
    threading.Thread(target=serve_zap, daemon=True).start()
    s = ctx.socket(zmq.ROUTER)
    s.curve_server = True
    s.curve_secretkey = secret
    s.linger = 0
    monitor(s)
    s.bind("tcp://127.0.0.1:0")
    out(endpoint=s.getsockopt_string(zmq.LAST_ENDPOINT))
    while not stop.is_set():
        if s.poll(20):
            frames = s.recv_multipart(copy=False)
            user = frames[1].get("User-Id")
            parts = [f.bytes for f in frames]
            out(recv=[p.hex() for p in parts[1:]], user=user)
            s.send_multipart([parts[0], b"echo"] + parts[1:])
else:
    ep, server_public, public, secret = sys.argv[2:6]
    s = ctx.socket(zmq.DEALER)
    s.curve_serverkey = server_public.encode()
    s.curve_publickey = public.encode()
    s.curve_secretkey = secret.encode()
    s.linger = 0
    monitor(s)
    s.connect(ep)
    s.send_multipart([b"hello", b"", b"world"])
    while not stop.is_set():
        if s.poll(20):
            out(recv=[p.hex() for p in s.recv_multipart()])
stop.wait(20)
"#;

/// A Python interpreter with pyzmq (CURVE-capable).
fn pyzmq_python() -> Result<std::path::PathBuf, String> {
    pyvenv::pyzmq(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")))
}

/// A running script: its output lines, and its stdin (closing it ends it).
struct Py {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Py {
    fn start(python: &std::path::Path, args: &[&str]) -> Self {
        let mut child = Command::new(python)
            .arg("-c")
            .arg(SCRIPT)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut py = Self {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        };
        let version = py.expect(|l| l.starts_with("{\"libzmq\""));
        assert_eq!(version, r#"{"libzmq": "4.3.5"}"#);
        py
    }

    /// The next line matching `want` (earlier ones are kept in `seen`).
    #[track_caller]
    fn expect(&mut self, want: impl Fn(&str) -> bool) -> String {
        if let Some(l) = self.seen.iter().find(|l| want(l)) {
            return l.clone();
        }
        let end = StdInstant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(StdInstant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if want(&l) {
                        return l;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    panic!("libzmq side: no expected line; saw {:?}", self.seen)
                }
            }
        }
    }

    /// Every line printed so far.
    fn seen_now(&mut self) -> Vec<String> {
        let fresh: Vec<String> = self.lines.try_iter().collect();
        self.seen.extend(fresh);
        self.seen.clone()
    }

    /// Every monitor event `(id, value)` seen so far.
    fn events(&self) -> Vec<(u32, u32)> {
        self.seen
            .iter()
            .filter_map(|l| {
                Some((
                    field(l, "event")?.parse().ok()?,
                    field(l, "value")?.parse().ok()?,
                ))
            })
            .collect()
    }

    fn expect_event(&mut self, id: u32) -> u32 {
        let line = self.expect(|l| field(l, "event").is_some_and(|e| e == id.to_string()));
        field(&line, "value").unwrap().parse().unwrap()
    }
}

impl Drop for Py {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let end = StdInstant::now() + DEADLINE;
        while StdInstant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scalar field of a one-line JSON object as `json.dumps` writes it.
fn field(line: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\": ");
    let rest = &line[line.find(&key)? + key.len()..];
    if let Some(s) = rest.strip_prefix('"') {
        Some(s[..s.find('"')?].to_owned())
    } else {
        Some(rest[..rest.find([',', '}'])?].to_owned())
    }
}

/// The hex strings of a `"recv": [...]` line, decoded.
fn recv_parts(line: &str) -> Vec<Vec<u8>> {
    let start = line.find("\"recv\": [").unwrap() + 9;
    let list = &line[start..start + line[start..].find(']').unwrap()];
    list.split(',')
        .map(|s| s.trim().trim_matches('"'))
        .map(|h| {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

fn text(key: &[u8; 32]) -> String {
    String::from_utf8(z85::encode_key(key).to_vec()).unwrap()
}

// ---------------------------------------------------------------------------
// zmtp_core side: a Connection over a TcpStream
// ---------------------------------------------------------------------------

/// A CURVE (or any) connection with `cfg` over `stream`, its randomness
/// from the test source seeded with `seed`.
fn curve_driver(cfg: Config, stream: TcpStream, seed: u64) -> Driver {
    let (rx, tx) = driver::buffers();
    let state: &'static mut CurveState = Box::leak(Box::new(CurveState::new()));
    let conn = Connection::new_with_rng(
        Instant::from_millis(0),
        &cfg,
        rx,
        tx,
        state,
        &mut TestRng(seed),
    )
    .unwrap();
    let mut d = Driver::with_conn(cfg, stream, conn, DEADLINE);
    // The metadata unit is the application's business; drop it so that
    // messages can come in.
    d.drop_metadata = true;
    d
}

/// The frames of a byte stream after its 64-byte greeting, as far as they
/// are complete: `(flags, body)`.
fn frames(stream: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut s = &stream[64..];
    let mut v = Vec::new();
    while s.len() >= 2 {
        let flags = s[0];
        let (size, hdr) = if flags & 0x02 != 0 {
            if s.len() < 9 {
                break;
            }
            (u64::from_be_bytes(s[1..9].try_into().unwrap()) as usize, 9)
        } else {
            (usize::from(s[1]), 2)
        };
        if s.len() < hdr + size {
            break;
        }
        v.push((flags, s[hdr..hdr + size].to_vec()));
        s = &s[hdr + size..];
    }
    v
}

fn python_or_skip() -> Option<std::path::PathBuf> {
    match pyzmq_python() {
        Ok(p) => Some(p),
        Err(why) => {
            println!("skipped: libzmq 4.3.5 (pyzmq) is not available: {why}");
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

#[test]
fn curve_both_roles_against_libzmq() {
    let Some(python) = python_or_skip() else {
        return;
    };
    let mut rng = TestRng(0xC0FFEE);
    let server = CurveKeypair::generate(&mut rng);
    let client = CurveKeypair::generate(&mut rng);
    let stranger = CurveKeypair::generate(&mut rng);

    our_client_libzmq_server(&python, &server, &client);
    our_client_refused_by_libzmq_zap(&python, &server, &stranger);
    our_client_wrong_server_key(&python, &server, &client, &stranger);
    libzmq_client_our_server(&python, &server, &client);
    libzmq_client_wrong_server_key(&python, &server, &client, &stranger);
    libzmq_client_refused_by_our_zap(&python, &server, &stranger);
}

/// Our DEALER client, pyzmq's ROUTER server with a ZAP handler that knows
/// our key: messages both ways, byte-exact; libzmq's WELCOME and READY
/// decode with our parsers.
fn our_client_libzmq_server(
    python: &std::path::Path,
    server: &CurveKeypair,
    client: &CurveKeypair,
) {
    let mut py = Py::start(
        python,
        &["server", &text(&server.secret), &text(&client.public)],
    );
    let ep = field(&py.expect(|l| l.contains("endpoint")), "endpoint").unwrap();
    let stream = TcpStream::connect(ep.strip_prefix("tcp://").unwrap()).unwrap();
    let mut cfg = Config::new(SocketType::Dealer);
    cfg.mechanism = MechanismConfig::curve_client(client.public, client.secret, server.public);
    // Sealed PINGs: libzmq must answer them with sealed PONGs (counted
    // below). The timeout only catches a connection that stops answering
    // altogether: the driver pauses while it waits for the Python side.
    cfg.heartbeat.interval = zmtp_core::Duration::from_millis(100);
    cfg.heartbeat.timeout = Some(zmtp_core::Duration::from_secs(3));
    let mut d = curve_driver(cfg, stream, 1);
    let mut no_zap = |_: &ZapRequest<'_>| -> Option<ZapReply<'static>> { panic!("client ZAP") };
    d.run_or(
        &mut no_zap,
        |d| d.conn.is_ready(),
        || format!("the libzmq side: {:?}", py.seen_now()),
    );
    assert_eq!(d.events, [ConnEvent::HandshakeSucceeded]);
    assert_eq!(py.expect_event(EVENT_HANDSHAKE_SUCCEEDED), 0);
    let zap = py.expect(|l| l.contains("\"zap\""));
    assert_eq!(field(&zap, "zap").as_deref(), Some("CURVE"));
    assert_eq!(field(&zap, "key"), Some(text(&client.public)));

    let big = vec![0xA5u8; 3000];
    d.conn.send(&[b"hello", b"", &big]).unwrap();
    d.run(&mut no_zap, |d| !d.conn.has_pending_output());
    let line = py.expect(|l| l.contains("\"recv\""));
    assert_eq!(
        recv_parts(&line),
        vec![b"hello".to_vec(), Vec::new(), big.clone()]
    );
    assert_eq!(field(&line, "user").as_deref(), Some("alice"));
    let reply = d.recv(&mut no_zap);
    assert_eq!(
        reply,
        vec![b"echo".to_vec(), b"hello".to_vec(), Vec::new(), big]
    );

    let until = d.start.elapsed() + Duration::from_millis(700);
    d.run(&mut no_zap, |d| d.start.elapsed() > until);
    assert_eq!(d.events, [ConnEvent::HandshakeSucceeded], "heartbeats");
    assert!(d.conn.is_ready());

    // libzmq's handshake commands, read by our wire parsers.
    assert_eq!(&d.received[12..17], b"CURVE");
    let got = frames(&d.received);
    let welcome = WelcomeRepr::parse(&got[0].1).unwrap();
    assert_eq!(welcome.sealed.len(), 144);
    let ready = SealedRepr::parse_ready(&got[1].1).unwrap();
    assert_eq!(ready.nonce, 1, "libzmq's READY is its short nonce 1");
    let nonces: Vec<u64> = got[2..]
        .iter()
        .map(|(flags, body)| {
            // LONG aside, no flags: neither COMMAND nor MORE.
            assert_eq!(
                flags & 0x05,
                0,
                "libzmq sends MESSAGE in a frame without flags"
            );
            SealedRepr::parse_message(body).unwrap().nonce
        })
        .collect();
    assert_eq!(nonces, (2..2 + nonces.len() as u64).collect::<Vec<_>>());
    // The echo, then at least a PONG for each of our PINGs.
    assert!(nonces.len() >= 4, "{nonces:?}");
    // Ours: HELLO 1, INITIATE 2, MESSAGEs from 3.
    let ours = frames(&d.sent);
    assert!(ours[2..].iter().all(|(flags, _)| flags & 0x05 == 0));
    assert_eq!(HelloRepr::parse(&ours[0].1).unwrap().nonce, 1);
    assert_eq!(InitiateRepr::parse(&ours[1].1).unwrap().nonce, 2);
    assert_eq!(SealedRepr::parse_message(&ours[2].1).unwrap().nonce, 3);
}

/// pyzmq's ZAP handler does not know our key: 400 on both sides.
fn our_client_refused_by_libzmq_zap(
    python: &std::path::Path,
    server: &CurveKeypair,
    stranger: &CurveKeypair,
) {
    let known = CurveKeypair::generate(&mut TestRng(5));
    let mut py = Py::start(
        python,
        &["server", &text(&server.secret), &text(&known.public)],
    );
    let ep = field(&py.expect(|l| l.contains("endpoint")), "endpoint").unwrap();
    let stream = TcpStream::connect(ep.strip_prefix("tcp://").unwrap()).unwrap();
    let mut cfg = Config::new(SocketType::Dealer);
    cfg.mechanism = MechanismConfig::curve_client(stranger.public, stranger.secret, server.public);
    let mut d = curve_driver(cfg, stream, 2);
    let mut no_zap = |_: &ZapRequest<'_>| -> Option<ZapReply<'static>> { panic!("client ZAP") };
    d.run(&mut no_zap, |d| d.conn.is_closed());
    assert_eq!(d.events[0], ConnEvent::HandshakeFailedAuth { status: 400 });
    assert_eq!(py.expect_event(EVENT_HANDSHAKE_FAILED_AUTH), 400);
}

/// We trust the wrong server key: libzmq's server reports
/// ZMTP_CRYPTOGRAPHIC, as our server does in the mirror case.
fn our_client_wrong_server_key(
    python: &std::path::Path,
    server: &CurveKeypair,
    client: &CurveKeypair,
    stranger: &CurveKeypair,
) {
    let mut py = Py::start(
        python,
        &["server", &text(&server.secret), &text(&client.public)],
    );
    let ep = field(&py.expect(|l| l.contains("endpoint")), "endpoint").unwrap();
    let stream = TcpStream::connect(ep.strip_prefix("tcp://").unwrap()).unwrap();
    let mut cfg = Config::new(SocketType::Dealer);
    cfg.mechanism = MechanismConfig::curve_client(client.public, client.secret, stranger.public);
    let mut d = curve_driver(cfg, stream, 3);
    let mut no_zap = |_: &ZapRequest<'_>| -> Option<ZapReply<'static>> { panic!("client ZAP") };
    d.run(&mut no_zap, |d| d.conn.is_closed());
    assert!(!d.conn.is_ready());
    assert_eq!(
        py.expect_event(EVENT_HANDSHAKE_FAILED_PROTOCOL),
        ProtocolError::ZmtpCryptographic.code()
    );
    // libzmq closes without an ERROR: our client saw the peer go away
    // during the handshake.
    assert_eq!(
        d.events.first(),
        Some(&ConnEvent::HandshakeFailedNoDetail { errno: 32 })
    );
}

/// pyzmq's DEALER client against our ROUTER server with a ZAP closure that
/// knows its key.
fn libzmq_client_our_server(
    python: &std::path::Path,
    server: &CurveKeypair,
    client: &CurveKeypair,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp://{}", listener.local_addr().unwrap());
    let mut py = Py::start(
        python,
        &[
            "client",
            &ep,
            &text(&server.public),
            &text(&client.public),
            &text(&client.secret),
        ],
    );
    let stream = accept_within(&listener).expect("pyzmq connects");
    let mut cfg = Config::new(SocketType::Router);
    cfg.mechanism = MechanismConfig::curve_server(server.secret);
    let mut d = curve_driver(cfg, stream, 4);
    let expected = client.public;
    let mut zap = move |req: &ZapRequest<'_>| -> Option<ZapReply<'static>> {
        assert_eq!(req.credentials(), [&expected[..]]);
        Some(ZapReply {
            status_code: b"200",
            status_text: b"OK",
            user_id: b"bob",
            metadata: b"",
        })
    };
    let msg = d.recv(&mut zap);
    assert_eq!(msg, vec![b"hello".to_vec(), Vec::new(), b"world".to_vec()]);
    assert_eq!(d.events, [ConnEvent::HandshakeSucceeded]);
    assert_eq!(d.zap_seen.len(), 1);
    assert_eq!(d.zap_seen[0][6], b"CURVE");
    assert_eq!(py.expect_event(EVENT_HANDSHAKE_SUCCEEDED), 0);
    d.conn.send(&[b"back", b"at you"]).unwrap();
    d.run(&mut zap, |d| !d.conn.has_pending_output());
    let line = py.expect(|l| l.contains("\"recv\""));
    assert_eq!(
        recv_parts(&line),
        vec![b"back".to_vec(), b"at you".to_vec()]
    );

    // libzmq's HELLO and INITIATE, read by our parsers.
    let got = frames(&d.received);
    let hello = HelloRepr::parse(&got[0].1).unwrap();
    assert_eq!((hello.major, hello.minor, hello.nonce), (1, 0, 1));
    assert!(hello.padding.iter().all(|&b| b == 0));
    let initiate = InitiateRepr::parse(&got[1].1).unwrap();
    assert_eq!(initiate.nonce, 2);
    // The cookie comes back as our WELCOME carried it (inside its box,
    // so compare with what the client echoes: 96 bytes).
    assert_eq!(initiate.cookie.len(), 96);
    assert_eq!(SealedRepr::parse_message(&got[2].1).unwrap().nonce, 3);
    let ours = frames(&d.sent);
    assert_eq!(ours[0].1.len(), 168, "WELCOME");
    assert_eq!(SealedRepr::parse_ready(&ours[1].1).unwrap().nonce, 1);
}

/// pyzmq's client trusts the wrong server key: our server reports
/// ZMTP_CRYPTOGRAPHIC, which is what libzmq's server reports (see
/// [`our_client_wrong_server_key`]).
fn libzmq_client_wrong_server_key(
    python: &std::path::Path,
    server: &CurveKeypair,
    client: &CurveKeypair,
    stranger: &CurveKeypair,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp://{}", listener.local_addr().unwrap());
    let mut py = Py::start(
        python,
        &[
            "client",
            &ep,
            &text(&stranger.public),
            &text(&client.public),
            &text(&client.secret),
        ],
    );
    let stream = accept_within(&listener).expect("pyzmq connects");
    let mut cfg = Config::new(SocketType::Router);
    cfg.mechanism = MechanismConfig::curve_server(server.secret);
    let mut d = curve_driver(cfg, stream, 6);
    let mut zap = |_: &ZapRequest<'_>| -> Option<ZapReply<'static>> { panic!("no ZAP") };
    d.run(&mut zap, |d| d.conn.is_closed());
    assert_eq!(
        d.events[0],
        ConnEvent::HandshakeFailedProtocol(ProtocolError::ZmtpCryptographic)
    );
    drop(d);
    // libzmq's client, like ours in the mirror case, sees the server close
    // during the handshake: NO_DETAIL then DISCONNECTED, no protocol or
    // authentication event.
    py.expect_event(EVENT_DISCONNECTED);
    let kinds: Vec<u32> = py.events().iter().map(|&(e, _)| e).collect();
    assert!(
        kinds.contains(&EVENT_HANDSHAKE_FAILED_NO_DETAIL),
        "{kinds:?}"
    );
    assert!(kinds.iter().all(|e| e & 0x6000 == 0), "{kinds:?}");
}

/// Our ZAP handler refuses pyzmq's client with 400: both sides report
/// HANDSHAKE_FAILED_AUTH 400, as in [`our_client_refused_by_libzmq_zap`].
fn libzmq_client_refused_by_our_zap(
    python: &std::path::Path,
    server: &CurveKeypair,
    stranger: &CurveKeypair,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp://{}", listener.local_addr().unwrap());
    let mut py = Py::start(
        python,
        &[
            "client",
            &ep,
            &text(&server.public),
            &text(&stranger.public),
            &text(&stranger.secret),
        ],
    );
    let stream = accept_within(&listener).expect("pyzmq connects");
    let mut cfg = Config::new(SocketType::Router);
    cfg.mechanism = MechanismConfig::curve_server(server.secret);
    let mut d = curve_driver(cfg, stream, 7);
    let mut zap = |_: &ZapRequest<'_>| -> Option<ZapReply<'static>> {
        Some(ZapReply {
            status_code: b"400",
            status_text: b"unknown key",
            user_id: b"",
            metadata: b"",
        })
    };
    d.run(&mut zap, |d| d.conn.is_closed());
    assert_eq!(d.events[0], ConnEvent::HandshakeFailedAuth { status: 400 });
    assert_eq!(py.expect_event(EVENT_HANDSHAKE_FAILED_AUTH), 400);
}

fn accept_within(listener: &TcpListener) -> Option<TcpStream> {
    listener.set_nonblocking(true).unwrap();
    let end = StdInstant::now() + DEADLINE;
    while StdInstant::now() < end {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                return Some(s);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
    None
}
