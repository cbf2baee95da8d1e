//! PLAIN and ZAP in zmtp-std against libzmq 4.3.4 (the `zmq` crate): the
//! socket options, ZAP handlers served on `inproc://zeromq.zap.01` (REP and
//! ROUTER, ours and libzmq's; the request frames compared with libzmq's
//! over TCP and IPC), interop in both roles with every ZAP status, many
//! connections authenticating at once, a handler that goes away with
//! requests outstanding, and monitor parity: each scenario runs once with
//! a libzmq socket and once with ours on the side under test, the other
//! side being the same libzmq socket in both runs, and the events of both
//! sides must match (descriptors and ports replaced).
//!
//! Parity scenarios: ZAP 300/400/500 (both sides), a wrong password, NULL
//! vs PLAIN, malformed HELLOs from a raw peer, malformed ZAP replies (frame
//! count, delimiter, version, request id, status, metadata), no handler,
//! NULL sockets with a ZAP domain, and reconnection after a failure.
//!
//! Where libzmq itself is racy the comparison allows both of its outcomes,
//! each case says why: a 300 answered before libzmq's PLAIN server finished
//! with the HELLO, libzmq's PLAIN server without a handler that sometimes
//! stops reading instead of closing, and the NULL/PLAIN greeting race.
//! Differences of the core are documented where they are masked: our NULL
//! client failing before its READY is out when a ZAP ERROR comes with the
//! server's greeting.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;
#[path = "common/peer.rs"]
mod peer;
#[path = "common/pyzmq.rs"]
mod pyzmq;
#[path = "common/zap_replies.rs"]
mod zap_replies;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::QUIET;
use peer::{Ctx, Ev, Impl, Monitor, Peer};
use zmtp_std::{Mechanism, SocketType};

const ALL: i32 = 0xFFFF;
const ZAP: &str = "inproc://zeromq.zap.01";
const EFAULT: u32 = 14;
/// libzmq's protocol error codes (zmq.h).
const MECHANISM_MISMATCH: u32 = 0x1100_0002;
const MALFORMED_HELLO: u32 = 0x1000_0013;
const ZAP_UNSPECIFIED: u32 = 0x2000_0000;

// ---------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------

/// Security options on either implementation.
trait Sec {
    fn plain_server(&self);
    fn plain_client(&self, user: &str, pass: &str);
    fn zap_domain(&self, d: &str);
    fn handshake_ivl(&self, ms: i32);
}

impl Sec for Peer {
    fn plain_server(&self) {
        match self {
            Self::Ours(s) => s.set_plain_server(true).unwrap(),
            Self::Libzmq(s) => s.set_plain_server(true).unwrap(),
        }
    }

    fn plain_client(&self, user: &str, pass: &str) {
        match self {
            Self::Ours(s) => {
                s.set_plain_username(user.as_bytes()).unwrap();
                s.set_plain_password(pass.as_bytes()).unwrap();
            }
            Self::Libzmq(s) => {
                s.set_plain_username(Some(user)).unwrap();
                s.set_plain_password(Some(pass)).unwrap();
            }
        }
    }

    fn zap_domain(&self, d: &str) {
        match self {
            Self::Ours(s) => s.set_zap_domain(d.as_bytes()).unwrap(),
            Self::Libzmq(s) => s.set_zap_domain(d).unwrap(),
        }
    }

    fn handshake_ivl(&self, ms: i32) {
        match self {
            Self::Ours(s) => s.set_handshake_ivl(ms).unwrap(),
            Self::Libzmq(s) => s.set_handshake_ivl(ms).unwrap(),
        }
    }
}

/// What a ZAP handler answers to a request (the request and the reply
/// without the REP/ROUTER envelope); `None`: no answer.
type Policy = Arc<dyn Fn(&[Vec<u8>]) -> Option<Vec<Vec<u8>>> + Send + Sync>;

fn frames(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// Always answers `code` (user id "user").
fn status(code: &'static str) -> Policy {
    Arc::new(move |_| Some(frames(&["1.0", "1", code, "text", "user", ""])))
}

/// Accepts `admin`/`password` (user id "admin-id"), 400 otherwise.
fn credentials() -> Policy {
    Arc::new(|req| {
        let ok = req.len() == 8 && req[6] == b"admin" && req[7] == b"password";
        let reply = if ok {
            ["1.0", "1", "200", "OK", "admin-id", ""]
        } else {
            ["1.0", "1", "400", "denied", "", ""]
        };
        Some(frames(&reply))
    })
}

/// Answers with these frames, whatever the request.
fn raw(reply: &[&[u8]]) -> Policy {
    let reply: Vec<Vec<u8>> = reply.iter().map(|f| f.to_vec()).collect();
    Arc::new(move |_| Some(reply.clone()))
}

/// A ZAP handler thread (REP or ROUTER, ours or libzmq's) bound before the
/// constructor returns; stopped and joined on drop.
struct Handler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Every request seen, as the socket returned it.
    seen: Arc<Mutex<Vec<Vec<Vec<u8>>>>>,
}

impl Handler {
    fn start(ctx: &Ctx, imp: Impl, kind: SocketType, policy: Policy) -> Self {
        Self::start_with(ctx, imp, kind, false, policy)
    }

    /// `raw`: a ROUTER handler's policy also writes the delimiter (its
    /// reply follows the routing id directly).
    fn start_with(ctx: &Ctx, imp: Impl, kind: SocketType, raw: bool, policy: Policy) -> Self {
        let sock = Peer::new(ctx, imp, kind);
        sock.bind(ZAP);
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop2, seen2) = (Arc::clone(&stop), Arc::clone(&seen));
        let thread = std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(120);
            while !stop2.load(Ordering::SeqCst) && Instant::now() < end {
                let Some(msg) = sock.recv_within(Duration::from_millis(50)) else {
                    continue;
                };
                seen2.lock().unwrap().push(msg.clone());
                let (envelope, body) = if kind == SocketType::Router {
                    msg.split_at(if raw { 1 } else { 2 })
                } else {
                    msg.split_at(0)
                };
                if let Some(reply) = policy(body) {
                    let mut out = envelope.to_vec();
                    out.extend(reply);
                    sock.send(&out);
                }
            }
            sock.close();
        });
        Self {
            stop,
            thread: Some(thread),
            seen,
        }
    }

    fn seen(&self) -> Vec<Vec<Vec<u8>>> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits for the first request.
    fn first(&self) -> Vec<Vec<u8>> {
        let end = Instant::now() + common::WAIT;
        loop {
            if let Some(r) = self.seen().first() {
                return r.clone();
            }
            assert!(Instant::now() < end, "no ZAP request");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Events up to and including the first `name` (the events so far in the
/// failure message).
#[track_caller]
fn until(mon: &Monitor, name: &str) -> Vec<Ev> {
    let mut v = Vec::new();
    loop {
        let Some(e) = mon.within(peer::EVENT_WAIT) else {
            panic!("no {name} within {:?}; so far {v:?}", peer::EVENT_WAIT);
        };
        let done = e.name() == name;
        v.push(e);
        if done {
            return v;
        }
    }
}

/// Events up to and including the first `name` with `value`.
#[track_caller]
fn until_value(mon: &Monitor, name: &str, value: u32) -> Vec<Ev> {
    let mut v = Vec::new();
    loop {
        let e = mon.next();
        let done = e.name() == name && e.value == value;
        v.push(e);
        if done {
            return v;
        }
    }
}

#[track_caller]
fn assert_no_handshake(mon: &Monitor) {
    let end = Instant::now() + QUIET;
    while let Some(e) = mon.within(end.saturating_duration_since(Instant::now())) {
        assert!(
            !e.name().starts_with("HANDSHAKE"),
            "unexpected {e:?} ({})",
            e.name()
        );
        if Instant::now() >= end {
            break;
        }
    }
}

/// As [`assert_no_handshake`], but `HANDSHAKE_FAILED_NO_DETAIL` `EPIPE`
/// (the peer closed) is allowed.
#[track_caller]
fn assert_no_handshake_but_eof(mon: &Monitor) {
    let end = Instant::now() + QUIET;
    while let Some(e) = mon.within(end.saturating_duration_since(Instant::now())) {
        let eof = e.name() == "HANDSHAKE_FAILED_NO_DETAIL" && e.value == 32;
        assert!(
            eof || !e.name().starts_with("HANDSHAKE"),
            "unexpected {e:?} ({})",
            e.name()
        );
        if Instant::now() >= end {
            break;
        }
    }
}

/// An event with its run-specific parts replaced: descriptors by "fd",
/// the port by "PORT".
fn norm(events: &[Ev], port: &str) -> Vec<(&'static str, String, String)> {
    let fd_events = [
        "CONNECTED",
        "LISTENING",
        "ACCEPTED",
        "CLOSED",
        "DISCONNECTED",
    ];
    events
        .iter()
        .map(|e| {
            let value = if fd_events.contains(&e.name()) {
                "fd".to_owned()
            } else {
                e.value.to_string()
            };
            (e.name(), value, e.endpoint.replace(port, "PORT"))
        })
        .collect()
}

fn port_of(ep: &str) -> String {
    format!(":{}", ep.rsplit(':').next().unwrap())
}

// ---------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------

#[test]
fn options_as_libzmq() {
    let ctx = Ctx::new();
    let ours = ctx.ours.socket(SocketType::Dealer).unwrap();
    let z = ctx.zmq.socket(zmq::DEALER).unwrap();
    let same = |step: &str| {
        let mech = match z.get_mechanism().unwrap() {
            zmq::Mechanism::ZMQ_NULL => Mechanism::Null,
            zmq::Mechanism::ZMQ_PLAIN => Mechanism::Plain,
            other => panic!("{other:?}"),
        };
        assert_eq!(ours.mechanism(), mech, "{step}");
        assert_eq!(ours.plain_server(), z.is_plain_server().unwrap(), "{step}");
        assert_eq!(
            ours.plain_username(),
            z.get_plain_username().unwrap().unwrap().into_bytes(),
            "{step}"
        );
        assert_eq!(
            ours.plain_password(),
            z.get_plain_password().unwrap().unwrap().into_bytes(),
            "{step}"
        );
        assert_eq!(
            ours.zap_domain(),
            z.get_zap_domain().unwrap().unwrap().into_bytes(),
            "{step}"
        );
    };
    same("defaults");
    ours.set_plain_server(true).unwrap();
    z.set_plain_server(true).unwrap();
    same("server");
    ours.set_plain_username(b"admin").unwrap();
    z.set_plain_username(Some("admin")).unwrap();
    same("username makes a client");
    ours.set_plain_password(b"secret").unwrap();
    z.set_plain_password(Some("secret")).unwrap();
    same("password");
    ours.set_plain_username(b"").unwrap();
    z.set_plain_username(None).unwrap();
    same("empty username: NULL, credentials kept");
    ours.set_plain_password(b"again").unwrap();
    z.set_plain_password(Some("again")).unwrap();
    same("password alone: client again");
    ours.set_plain_server(false).unwrap();
    z.set_plain_server(false).unwrap();
    same("server off");
    ours.set_zap_domain(b"global").unwrap();
    z.set_zap_domain("global").unwrap();
    same("domain");
    let long = "x".repeat(256);
    assert_eq!(
        ours.set_zap_domain(long.as_bytes()).unwrap_err().errno(),
        22
    );
    assert_eq!(z.set_zap_domain(&long).unwrap_err().to_raw(), 22);
    assert_eq!(
        ours.set_plain_username(long.as_bytes())
            .unwrap_err()
            .errno(),
        22
    );
    assert_eq!(z.set_plain_username(Some(&long)).unwrap_err().to_raw(), 22);
    same("after refused values");
}

#[test]
fn zap_endpoint_binds() {
    let ctx = Ctx::new();
    let rep = ctx.ours.socket(SocketType::Rep).unwrap();
    rep.bind(ZAP).unwrap();
    assert_eq!(rep.last_endpoint().unwrap(), ZAP);
    // One handler per context, as libzmq's inproc names.
    let router = ctx.ours.socket(SocketType::Router).unwrap();
    assert_eq!(router.bind(ZAP).unwrap_err().name(), Some("EADDRINUSE"));
    // Other types and other inproc names are refused.
    let dealer = ctx.ours.socket(SocketType::Dealer).unwrap();
    assert_eq!(dealer.bind(ZAP).unwrap_err().name(), Some("ENOCOMPATPROTO"));
    assert_eq!(
        router.bind("inproc://other").unwrap_err().name(),
        Some("EPROTONOSUPPORT")
    );
    // Unbinding frees it; a second unbind finds nothing.
    rep.unbind(ZAP).unwrap();
    assert_eq!(rep.unbind(ZAP).unwrap_err().name(), Some("ENOENT"));
    router.bind(ZAP).unwrap();
    // Closing frees it too.
    router.close().unwrap();
    rep.bind(ZAP).unwrap();
    // Another context has its own.
    let other = zmtp_std::Context::new().unwrap();
    other.socket(SocketType::Rep).unwrap().bind(ZAP).unwrap();
}

// ---------------------------------------------------------------------
// Requests as libzmq sends them
// ---------------------------------------------------------------------

/// The first request a `kind` handler of `imp` gets from a libzmq PLAIN
/// client (or a NULL client when `plain` is false) talking to a server of
/// `imp` bound to `bind`, with routing id "IDENT" and domain "global".
fn first_request(imp: Impl, kind: SocketType, plain: bool, bind: &str) -> Vec<Vec<u8>> {
    let ctx = Ctx::new();
    let handler = Handler::start(&ctx, imp, kind, status("200"));
    let server = Peer::new(&ctx, imp, SocketType::Router);
    server.set_routing_id(b"IDENT");
    server.zap_domain("global");
    if plain {
        server.plain_server();
    }
    let ep = server.bind(bind);
    let client = Peer::new(&ctx, Impl::Libzmq, SocketType::Dealer);
    if plain {
        client.plain_client("admin", "password");
    }
    client.connect(&ep);
    let req = handler.first();
    client.send(&[b"hi".to_vec()]);
    assert_eq!(server.recv()[1], b"hi");
    req
}

#[test]
fn requests_as_libzmq() {
    for plain in [true, false] {
        let want = if plain {
            frames(&[
                "1.0",
                "1",
                "global",
                "127.0.0.1",
                "IDENT",
                "PLAIN",
                "admin",
                "password",
            ])
        } else {
            frames(&["1.0", "1", "global", "127.0.0.1", "IDENT", "NULL"])
        };
        for imp in Impl::BOTH {
            let tcp = "tcp://127.0.0.1:*";
            assert_eq!(
                first_request(imp, SocketType::Rep, plain, tcp),
                want,
                "{imp:?} REP"
            );
            let r = first_request(imp, SocketType::Router, plain, tcp);
            assert_eq!(r[0].len(), 5, "{imp:?}: generated routing id {r:?}");
            assert_eq!(r[0][0], 0, "{imp:?}");
            assert_eq!(r[1], b"", "{imp:?}");
            assert_eq!(r[2..], want[..], "{imp:?} ROUTER");
            // Over IPC: "localhost", and the peer's credentials where
            // libzmq is built with SO_PEERCRED (its own build on Linux; not
            // the zmq crate's, see `ipc_address_as_libzmq_435`).
            let ipc = first_request(imp, SocketType::Rep, plain, &peer::ipc_endpoint("zap"));
            let mut want_ipc = want.clone();
            want_ipc[3] = match imp {
                Impl::Libzmq => b"localhost".to_vec(),
                Impl::Ours => ipc_address().into_bytes(),
            };
            assert_eq!(ipc, want_ipc, "{imp:?} IPC");
        }
    }
    // A NULL socket without a domain asks nobody.
    let ctx = Ctx::new();
    let handler = Handler::start(&ctx, Impl::Ours, SocketType::Rep, status("400"));
    let server = Peer::new(&ctx, Impl::Ours, SocketType::Pull);
    let ep = server.bind("tcp://127.0.0.1:*");
    let client = Peer::new(&ctx, Impl::Libzmq, SocketType::Push);
    client.connect(&ep);
    client.send(&[b"x".to_vec()]);
    assert_eq!(server.recv(), [b"x".to_vec()]);
    assert!(handler.seen().is_empty());
}

// ---------------------------------------------------------------------
// Interop: every status, both roles
// ---------------------------------------------------------------------

/// A PLAIN client of `client` and a PLAIN server of `server` with a
/// `kind` handler of the server's implementation answering `code`.
fn status_exchange(client: Impl, server: Impl, kind: SocketType, code: u32) {
    let what = format!("{client:?} client, {server:?} server, {kind:?} handler, {code}");
    let ctx = Ctx::new();
    let code_str: &'static str = match code {
        200 => "200",
        300 => "300",
        400 => "400",
        _ => "500",
    };
    let _h = Handler::start(&ctx, server, kind, status(code_str));
    let s = Peer::new(&ctx, server, SocketType::Dealer);
    s.plain_server();
    let smon = s.monitor(&ctx, "server", ALL);
    let ep = s.bind("tcp://127.0.0.1:*");
    let c = Peer::new(&ctx, client, SocketType::Dealer);
    c.plain_client("admin", "password");
    let cmon = c.monitor(&ctx, "client", ALL);
    c.connect(&ep);
    match code {
        200 => {
            smon.until("HANDSHAKE_SUCCEEDED");
            cmon.until("HANDSHAKE_SUCCEEDED");
            c.send(&[b"ping".to_vec()]);
            assert_eq!(s.recv(), [b"ping".to_vec()], "{what}");
            s.send(&[b"pong".to_vec()]);
            assert_eq!(c.recv(), [b"pong".to_vec()], "{what}");
        }
        300 => {
            until_value(&smon, "HANDSHAKE_FAILED_AUTH", 300);
            // No ERROR for 300: the client hears nothing. A libzmq server
            // closes at once when the reply was there before it finished
            // with the HELLO (a race in libzmq): then the client sees the
            // end of the stream.
            if server == Impl::Libzmq {
                assert_no_handshake_but_eof(&cmon);
            } else {
                assert_no_handshake(&cmon);
            }
        }
        _ => {
            until_value(&smon, "HANDSHAKE_FAILED_AUTH", code);
            until_value(&cmon, "HANDSHAKE_FAILED_AUTH", code);
        }
    }
    c.close();
    s.close();
}

#[test]
fn plain_statuses_both_directions() {
    let combos = [
        (Impl::Ours, Impl::Libzmq, SocketType::Rep),
        (Impl::Libzmq, Impl::Ours, SocketType::Rep),
        (Impl::Libzmq, Impl::Ours, SocketType::Router),
        (Impl::Ours, Impl::Ours, SocketType::Rep),
        (Impl::Ours, Impl::Ours, SocketType::Router),
    ];
    std::thread::scope(|sc| {
        for (client, server, kind) in combos {
            sc.spawn(move || {
                for code in [200, 300, 400, 500] {
                    status_exchange(client, server, kind, code);
                }
            });
        }
    });
}

#[test]
fn credentials_checked_by_our_handler() {
    for kind in [SocketType::Rep, SocketType::Router] {
        let ctx = Ctx::new();
        let _h = Handler::start(&ctx, Impl::Ours, kind, credentials());
        let s = Peer::new(&ctx, Impl::Ours, SocketType::Router);
        s.plain_server();
        let smon = s.monitor(&ctx, "server", ALL);
        let ep = s.bind("tcp://127.0.0.1:*");
        let good = Peer::new(&ctx, Impl::Libzmq, SocketType::Dealer);
        good.plain_client("admin", "password");
        good.set_routing_id(b"good");
        let bad = Peer::new(&ctx, Impl::Libzmq, SocketType::Dealer);
        bad.plain_client("admin", "wrong");
        let bmon = bad.monitor(&ctx, "bad", ALL);
        good.connect(&ep);
        bad.connect(&ep);
        until_value(&bmon, "HANDSHAKE_FAILED_AUTH", 400);
        good.send(&[b"hello".to_vec()]);
        assert_eq!(s.recv(), [b"good".to_vec(), b"hello".to_vec()]);
        // The server saw one of each.
        let (mut ok, mut denied) = (false, false);
        while !(ok && denied) {
            let e = smon.next();
            ok |= e.name() == "HANDSHAKE_SUCCEEDED";
            denied |= e.name() == "HANDSHAKE_FAILED_AUTH" && e.value == 400;
        }
    }
}

/// Many connections authenticate at once: a ROUTER handler takes every
/// request before answering any, in reverse order; each gets its own.
#[test]
fn concurrent_requests_each_get_their_reply() {
    const N: usize = 8;
    let ctx = Ctx::new();
    let handler = ctx.ours.socket(SocketType::Router).unwrap();
    handler.bind(ZAP).unwrap();
    let s = ctx.ours.socket(SocketType::Router).unwrap();
    s.set_plain_server(true).unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let ep = s.last_endpoint().unwrap();
    let clients: Vec<(zmq::Socket, zmq::Socket)> = (0..N)
        .map(|i| {
            let c = ctx.zmq.socket(zmq::DEALER).unwrap();
            c.set_linger(0).unwrap();
            c.set_plain_username(Some(&format!("user{i}"))).unwrap();
            c.set_plain_password(Some(if i % 2 == 0 { "good" } else { "bad" }))
                .unwrap();
            c.set_identity(format!("c{i}").as_bytes()).unwrap();
            c.set_reconnect_ivl(-1).unwrap();
            let name = format!("inproc://c{i}");
            c.monitor(&name, ALL).unwrap();
            let m = ctx.zmq.socket(zmq::PAIR).unwrap();
            m.connect(&name).unwrap();
            m.set_rcvtimeo(10_000).unwrap();
            c.connect(&ep).unwrap();
            (c, m)
        })
        .collect();
    let mut requests = Vec::new();
    while requests.len() < N {
        requests.push(common::recv(&handler));
    }
    for req in requests.iter().rev() {
        let ok = req[9] == b"good";
        let code: &[u8] = if ok { b"200" } else { b"400" };
        let user = req[8].clone();
        handler
            .send(&[&req[0], b"", b"1.0", b"1", code, b"", &user, b""])
            .unwrap();
    }
    for (i, (c, m)) in clients.iter().enumerate() {
        let want = if i % 2 == 0 {
            (zmq::SocketEvent::HANDSHAKE_SUCCEEDED.to_raw(), 0)
        } else {
            (zmq::SocketEvent::HANDSHAKE_FAILED_AUTH.to_raw(), 400)
        };
        loop {
            let ev = Ev::from_frames(&m.recv_multipart(0).unwrap());
            if ev.name().starts_with("HANDSHAKE") {
                assert_eq!((ev.id, ev.value), want, "client {i}");
                break;
            }
        }
        if i % 2 == 0 {
            c.send("hi", 0).unwrap();
        }
    }
    let mut got: Vec<Vec<u8>> = (0..N / 2).map(|_| common::recv(&s)[0].clone()).collect();
    got.sort();
    let want: Vec<Vec<u8>> = (0..N)
        .step_by(2)
        .map(|i| format!("c{i}").into_bytes())
        .collect();
    assert_eq!(got, want);
}

/// A REP handler that closes with a request in hand, or unbinds with
/// requests queued, does not wedge the connections: they fail as without
/// a handler (EFAULT), and a new handler serves the next ones.
#[test]
fn handler_gone_with_requests_outstanding() {
    let ctx = Ctx::new();
    let s = Peer::new(&ctx, Impl::Ours, SocketType::Dealer);
    s.plain_server();
    let smon = s.monitor(&ctx, "server", ALL);
    let ep = s.bind("tcp://127.0.0.1:*");
    let client = || {
        let c = Peer::new(&ctx, Impl::Libzmq, SocketType::Dealer);
        c.plain_client("admin", "password");
        c.set_reconnect(-1, 0);
        c.connect(&ep);
        c
    };
    // Received, not answered, then closed.
    let h = ctx.ours.socket(SocketType::Rep).unwrap();
    h.bind(ZAP).unwrap();
    let _c1 = client();
    let req = common::recv(&h);
    assert_eq!(req[5], b"PLAIN");
    h.close().unwrap();
    until_value(&smon, "HANDSHAKE_FAILED_NO_DETAIL", EFAULT);
    // Unbound while the next client's request is queued or on its way
    // (either way it ends as without a handler; the queued case is also
    // covered by the crate's own tests).
    let h = ctx.ours.socket(SocketType::Router).unwrap();
    h.bind(ZAP).unwrap();
    let _c2 = client();
    smon.until("ACCEPTED");
    h.unbind(ZAP).unwrap();
    until_value(&smon, "HANDSHAKE_FAILED_NO_DETAIL", EFAULT);
    // Nothing bound now: EFAULT at once.
    let _c3 = client();
    until_value(&smon, "HANDSHAKE_FAILED_NO_DETAIL", EFAULT);
    // A new handler serves the next client.
    let _h = Handler::start(&ctx, Impl::Ours, SocketType::Rep, credentials());
    let c4 = client();
    smon.until("HANDSHAKE_SUCCEEDED");
    c4.send(&[b"x".to_vec()]);
    assert_eq!(s.recv(), [b"x".to_vec()]);
}

// ---------------------------------------------------------------------
// Monitor parity
// ---------------------------------------------------------------------

/// Both sides' events of one run.
struct Sides {
    server: Vec<Ev>,
    client: Vec<Ev>,
    port: String,
}

type Setup = fn(&Peer);

fn nothing(_: &Peer) {}
fn plain_server(p: &Peer) {
    p.plain_server();
}
fn admin_password(p: &Peer) {
    p.plain_client("admin", "password");
}
fn admin_wrong(p: &Peer) {
    p.plain_client("admin", "wrong");
}

/// One scenario: a server of `server` (set up by `srv`, with a REP handler
/// of its implementation following `policy`, if any) and a client of
/// `client` (set up by `cli`, no reconnect, handshake limit 1 s). Events
/// until the server's `server_until` and the client's `client_until`.
fn scenario(
    server: Impl,
    client: Impl,
    srv: Setup,
    cli: Setup,
    policy: Option<Policy>,
    server_until: &str,
    client_until: &str,
) -> Sides {
    let handler = policy.map(|p| (SocketType::Rep, false, p));
    scenario_with(
        server,
        client,
        srv,
        cli,
        handler,
        server_until,
        client_until,
    )
}

/// [`scenario`] with the handler's type and envelope (see
/// [`Handler::start_with`]).
#[allow(clippy::too_many_arguments)]
fn scenario_with(
    server: Impl,
    client: Impl,
    srv: Setup,
    cli: Setup,
    handler: Option<(SocketType, bool, Policy)>,
    server_until: &str,
    client_until: &str,
) -> Sides {
    let ctx = Ctx::new();
    let _h = handler.map(|(kind, raw, p)| Handler::start_with(&ctx, server, kind, raw, p));
    let s = Peer::new(&ctx, server, SocketType::Dealer);
    srv(&s);
    let smon = s.monitor(&ctx, "server", ALL);
    let ep = s.bind("tcp://127.0.0.1:*");
    let c = Peer::new(&ctx, client, SocketType::Dealer);
    cli(&c);
    c.set_reconnect(-1, 0);
    // Long enough for a handshake with its ZAP round trip when many
    // scenarios run at once on a loaded machine.
    c.handshake_ivl(3000);
    let cmon = c.monitor(&ctx, "client", ALL);
    c.connect(&ep);
    let server_events = until(&smon, server_until);
    let client_events = until(&cmon, client_until);
    Sides {
        server: server_events,
        client: client_events,
        port: port_of(&ep),
    }
}

/// Runs `run` with ours and libzmq on the side under test and compares
/// both sides' events.
#[track_caller]
fn parity(what: &str, run: impl Fn(Impl) -> Sides + Sync) -> Sides {
    let run = &run;
    let (z, o) = std::thread::scope(|sc| {
        let spawn = |imp: Impl| {
            std::thread::Builder::new()
                .name(format!("{what}, {imp:?}"))
                .spawn_scoped(sc, move || run(imp))
                .unwrap()
        };
        let z = spawn(Impl::Libzmq);
        let o = spawn(Impl::Ours);
        (z.join().unwrap(), o.join().unwrap())
    });
    assert_eq!(
        norm(&o.server, &o.port),
        norm(&z.server, &z.port),
        "{what}: server events\nours   {:?}\nlibzmq {:?}",
        o.server,
        z.server
    );
    assert_eq!(
        norm(&o.client, &o.port),
        norm(&z.client, &z.port),
        "{what}: client events\nours   {:?}\nlibzmq {:?}",
        o.client,
        z.client
    );
    o
}

/// After a ZAP 300 the client either times out its handshake (EAGAIN) or,
/// when libzmq's server saw the reply before it finished with the HELLO (a
/// race in libzmq's server, which each run draws on its own; ours always
/// waits), sees the connection end (EPIPE): the client's
/// HANDSHAKE_FAILED_NO_DETAIL value is checked to be one of the two and then
/// left out of the comparison.
fn accept_either_end_after_300(sides: &mut Sides) {
    for e in &mut sides.client {
        if e.name() == "HANDSHAKE_FAILED_NO_DETAIL" {
            assert!([11, 32].contains(&e.value), "{e:?}");
            e.value = 0;
        }
    }
}

fn names(events: &[Ev]) -> Vec<&'static str> {
    events.iter().map(Ev::name).collect()
}

fn last(events: &[Ev]) -> (&'static str, u32) {
    let e = events.last().unwrap();
    (e.name(), e.value)
}

#[test]
fn parity_server_statuses() {
    std::thread::scope(|sc| {
        for (policy_code, want) in [("400", 400), ("500", 500), ("300", 300)] {
            sc.spawn(move || {
                let o = parity(&format!("server, ZAP {policy_code}"), |imp| {
                    let mut sides = scenario(
                        imp,
                        Impl::Libzmq,
                        plain_server,
                        admin_password,
                        Some(status(policy_code)),
                        "DISCONNECTED",
                        "DISCONNECTED",
                    );
                    if policy_code == "300" {
                        accept_either_end_after_300(&mut sides);
                    }
                    sides
                });
                assert!(
                    o.server
                        .iter()
                        .any(|e| e.name() == "HANDSHAKE_FAILED_AUTH" && e.value == want),
                    "{:?}",
                    o.server
                );
            });
        }
    });
}

#[test]
fn parity_client_statuses() {
    std::thread::scope(|sc| {
        for (policy_code, want) in [("400", 400), ("500", 500)] {
            sc.spawn(move || {
                let o = parity(&format!("client, ZAP {policy_code}"), |imp| {
                    scenario(
                        Impl::Libzmq,
                        imp,
                        plain_server,
                        admin_password,
                        Some(status(policy_code)),
                        "DISCONNECTED",
                        "DISCONNECTED",
                    )
                });
                assert!(
                    o.client
                        .iter()
                        .any(|e| e.name() == "HANDSHAKE_FAILED_AUTH" && e.value == want),
                    "{:?}",
                    o.client
                );
            });
        }
        // 300: the client hears nothing and gives up at its handshake limit
        // (libzmq reports the errno left over from its last read, EAGAIN,
        // and so do we), or sees libzmq's server close.
        sc.spawn(|| {
            let o = parity("client, ZAP 300", |imp| {
                let mut sides = scenario(
                    Impl::Libzmq,
                    imp,
                    plain_server,
                    admin_password,
                    Some(status("300")),
                    "DISCONNECTED",
                    "DISCONNECTED",
                );
                accept_either_end_after_300(&mut sides);
                sides
            });
            assert!(!names(&o.client).contains(&"HANDSHAKE_FAILED_AUTH"));
        });
    });
}

#[test]
fn parity_wrong_password() {
    for side in ["server", "client"] {
        let o = parity(&format!("wrong password, {side} side"), |imp| {
            let (server, client) = if side == "server" {
                (imp, Impl::Libzmq)
            } else {
                (Impl::Libzmq, imp)
            };
            scenario(
                server,
                client,
                plain_server,
                admin_wrong,
                Some(credentials()),
                "DISCONNECTED",
                "DISCONNECTED",
            )
        });
        assert!(
            o.client
                .iter()
                .any(|e| e.name() == "HANDSHAKE_FAILED_AUTH" && e.value == 400)
        );
    }
}

/// A NULL client against a PLAIN server.
fn null_vs_plain(server: Impl, client: Impl) -> Sides {
    scenario(
        server,
        client,
        plain_server,
        nothing,
        Some(credentials()),
        "DISCONNECTED",
        "DISCONNECTED",
    )
}

/// Whether `events` end the way libzmq ends a NULL/PLAIN mismatch: with
/// `MECHANISM_MISMATCH`, or with `NO_DETAIL` `EPIPE` when the peer closed
/// before its whole greeting was out. Which of the two happens is a race in
/// libzmq itself: a peer that receives the signature and the major version
/// in one read answers with the rest of its greeting at once, and the
/// failing side then closes before its own greeting is out (seen with two
/// libzmq sockets through a TCP relay, and with ours).
fn mismatch_end(events: &[Ev]) -> bool {
    let n = events.len();
    n >= 2
        && events[n - 1].name() == "DISCONNECTED"
        && matches!(
            (events[n - 2].name(), events[n - 2].value),
            ("HANDSHAKE_FAILED_PROTOCOL", MECHANISM_MISMATCH) | ("HANDSHAKE_FAILED_NO_DETAIL", 32)
        )
}

/// One scenario between a server and a client of the given
/// implementations.
type Run = fn(Impl, Impl) -> Sides;

/// A PLAIN client against a NULL server.
fn plain_vs_null(server: Impl, client: Impl) -> Sides {
    scenario(
        server,
        client,
        nothing,
        admin_password,
        None,
        "DISCONNECTED",
        "DISCONNECTED",
    )
}

/// A NULL client and a PLAIN server, and a PLAIN client and a NULL
/// server, each side ours in turn, the other libzmq: the same events as
/// libzmq up to that race.
#[test]
fn parity_mechanism_mismatch_libzmq_peers() {
    let cases: [(&str, Run); 2] = [
        ("NULL client", null_vs_plain),
        ("PLAIN client", plain_vs_null),
    ];
    for (case, run) in cases {
        for (server, client) in [
            (Impl::Libzmq, Impl::Ours),
            (Impl::Ours, Impl::Libzmq),
            (Impl::Libzmq, Impl::Libzmq),
        ] {
            for _ in 0..3 {
                check_mismatch(case, server, client, &run(server, client));
            }
        }
    }
}

/// Both sides ended a mismatch as libzmq does (see [`mismatch_end`]).
#[track_caller]
fn check_mismatch(case: &str, server: Impl, client: Impl, o: &Sides) {
    let what = format!(
        "{case}, {server:?} server, {client:?} client: {o:?}",
        o = (&o.server, &o.client)
    );
    assert!(mismatch_end(&o.server), "{what}");
    assert!(mismatch_end(&o.client), "{what}");
    let shape = |e: &[Ev]| {
        let mut n = names(e);
        n.remove(n.len() - 2);
        n
    };
    assert_eq!(
        shape(&o.server),
        ["LISTENING", "ACCEPTED", "DISCONNECTED"],
        "{what}"
    );
    assert_eq!(
        shape(&o.client),
        ["CONNECT_DELAYED", "CONNECTED", "DISCONNECTED"],
        "{what}"
    );
}

#[test]
fn parity_mechanism_mismatch_server_side() {
    // A raw NULL peer that sends its whole greeting at once.
    let o = parity("raw NULL client vs PLAIN server", |imp| {
        raw_peer(imp, b"NULL", &[])
    });
    assert_eq!(
        last(&o.server[..o.server.len() - 1]),
        ("HANDSHAKE_FAILED_PROTOCOL", MECHANISM_MISMATCH),
        "{:?}",
        o.server
    );
}

/// A PLAIN server without a ZAP handler: `HANDSHAKE_FAILED_NO_DETAIL`
/// `EFAULT`. libzmq then usually closes the connection, but not always:
/// its engine reads the failed HELLO's `errno`, and when that happens to
/// be `EAGAIN` (nothing sets it on that path) it stops reading instead, and
/// the connection lasts until the client's handshake timer. The server's
/// events are compared up to the `EFAULT`; ours always closes, so the
/// client sees `EPIPE` where libzmq's stuck case gives it `EAGAIN`.
#[test]
fn parity_no_handler() {
    let o = parity("PLAIN server without a ZAP handler", |imp| {
        let mut sides = scenario(
            imp,
            Impl::Libzmq,
            plain_server,
            admin_password,
            None,
            "HANDSHAKE_FAILED_NO_DETAIL",
            "DISCONNECTED",
        );
        for e in &mut sides.client {
            if e.name() == "HANDSHAKE_FAILED_NO_DETAIL" {
                assert!([11, 32].contains(&e.value), "{e:?}");
                e.value = 0;
            }
        }
        sides
    });
    assert_eq!(
        last(&o.server),
        ("HANDSHAKE_FAILED_NO_DETAIL", EFAULT),
        "{:?}",
        o.server
    );
}

#[test]
fn parity_malformed_zap_replies() {
    let cases = zap_replies::MALFORMED.map(|m| (m.what, raw(m.frames), m.code));
    std::thread::scope(|sc| {
        for (what, policy, code) in cases {
            sc.spawn(move || {
                let o = parity(what, |imp| {
                    scenario(
                        imp,
                        Impl::Libzmq,
                        plain_server,
                        admin_password,
                        Some(Arc::clone(&policy)),
                        "DISCONNECTED",
                        "DISCONNECTED",
                    )
                });
                assert_eq!(
                    last(&o.server[..o.server.len() - 1]),
                    ("HANDSHAKE_FAILED_PROTOCOL", code),
                    "{what}: {:?}",
                    o.server
                );
            });
        }
    });
}

/// ZAP metadata frames at the edges of libzmq's `parse_metadata`: a list
/// that ends where a name, a value length or a value would continue is
/// accepted (that piece dropped), as are names outside the RFC grammar;
/// bytes left inside a property are ZAP_INVALID_METADATA.
#[test]
fn parity_zap_reply_metadata() {
    let accepted: [&'static [u8]; 5] = [
        b"\x05X-abc",
        b"\x05X-abc\0\0\0\x05",
        b"\x05X-abc\0\0\0\x01v\x05X-def",
        b"\x00\0\0\0\x01v",
        b"\x03a b\0\0\0\x01v",
    ];
    let refused: [&'static [u8]; 4] = [
        b"\x05X-abc\0\0\0\x05ab",
        b"\x09X-abc",
        b"\x00\x00",
        b"\x05X-abc\0\0\0\x01v\x01",
    ];
    let cases = accepted
        .iter()
        .map(|m| (*m, true))
        .chain(refused.iter().map(|m| (*m, false)));
    std::thread::scope(|sc| {
        for (meta, ok) in cases {
            sc.spawn(move || {
                let what = format!("ZAP metadata {meta:?}");
                let until = if ok {
                    "HANDSHAKE_SUCCEEDED"
                } else {
                    "DISCONNECTED"
                };
                let o = parity(&what, |imp| {
                    scenario(
                        imp,
                        Impl::Libzmq,
                        plain_server,
                        admin_password,
                        Some(raw(&[b"1.0", b"1", b"200", b"OK", b"user", meta])),
                        until,
                        until,
                    )
                });
                if !ok {
                    assert_eq!(
                        last(&o.server[..o.server.len() - 1]),
                        (
                            "HANDSHAKE_FAILED_PROTOCOL",
                            zap_replies::ZAP_INVALID_METADATA
                        ),
                        "{what}: {:?}",
                        o.server
                    );
                }
            });
        }
    });
}

/// A raw TCP peer sends a whole greeting with `mechanism` at once, then
/// `command` as a command frame (if not empty); returns the server's events
/// up to DISCONNECTED.
fn raw_peer(imp: Impl, mechanism: &[u8], command: &[u8]) -> Sides {
    let ctx = Ctx::new();
    let _h = Handler::start(&ctx, imp, SocketType::Rep, credentials());
    let s = Peer::new(&ctx, imp, SocketType::Dealer);
    s.plain_server();
    let smon = s.monitor(&ctx, "server", ALL);
    let ep = s.bind("tcp://127.0.0.1:*");
    let addr = ep.trim_start_matches("tcp://").to_owned();
    let mut t = TcpStream::connect(addr).unwrap();
    t.set_read_timeout(Some(common::WAIT)).unwrap();
    let mut greeting = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 3, 0];
    let mut mech = mechanism.to_vec();
    mech.resize(20, 0);
    greeting.extend(mech);
    greeting.resize(64, 0);
    if !command.is_empty() {
        greeting.extend([0x04, u8::try_from(command.len()).unwrap()]);
        greeting.extend_from_slice(command);
    }
    t.write_all(&greeting).unwrap();
    let events = smon.until("DISCONNECTED");
    // Whatever the server sent before closing; the end of the stream.
    let mut buf = Vec::new();
    let _ = t.read_to_end(&mut buf);
    Sides {
        server: events,
        client: Vec::new(),
        port: port_of(&ep),
    }
}

#[test]
fn parity_malformed_hello() {
    let cases: [(&str, &[u8]); 3] = [
        ("password missing", b"\x05HELLO\x05admin"),
        ("username too long", b"\x05HELLO\x40admin\x08password"),
        ("trailing bytes", b"\x05HELLO\x05admin\x08passwordXX"),
    ];
    for (what, hello) in cases {
        let o = parity(what, |imp| raw_peer(imp, b"PLAIN", hello));
        assert_eq!(
            last(&o.server[..o.server.len() - 1]),
            ("HANDSHAKE_FAILED_PROTOCOL", MALFORMED_HELLO),
            "{what}: {:?}",
            o.server
        );
    }
}

/// The client after an authentication failure, with RECONNECT_IVL 100 and
/// HANDSHAKE_IVL 300: its events for 1.5 s, cut into connection attempts.
/// libzmq does not reconnect after a 400 or 500 ERROR; after a 300 (no
/// answer) the handshake times out and it reconnects. The first attempt's
/// events must match, every attempt must look like the first, and the
/// number of attempts must be about the same (no tight retry loop).
#[test]
fn parity_reconnect_after_auth_failure() {
    let run = |imp: Impl, code: &'static str| {
        let ctx = Ctx::new();
        let _h = Handler::start(&ctx, Impl::Libzmq, SocketType::Rep, status(code));
        let s = Peer::new(&ctx, Impl::Libzmq, SocketType::Dealer);
        s.plain_server();
        let ep = s.bind("tcp://127.0.0.1:*");
        let c = Peer::new(&ctx, imp, SocketType::Dealer);
        c.plain_client("admin", "password");
        c.set_reconnect(100, 0);
        // Long enough for a PLAIN handshake with its ZAP round trip on a
        // loaded machine; a 300 attempt that times out ends here.
        c.handshake_ivl(1000);
        let cmon = c.monitor(&ctx, "client", ALL);
        c.connect(&ep);
        let end = Instant::now() + Duration::from_millis(3500);
        let mut events = Vec::new();
        while let Some(e) = cmon.within(end.saturating_duration_since(Instant::now())) {
            events.push(e);
            assert!(events.len() < 200, "a tight reconnect loop: {events:?}");
        }
        let mut n = norm(&events, &port_of(&ep));
        for e in &mut n {
            // Random jitter; and NO_DETAIL's errno, which depends on
            // whether an attempt timed out (EAGAIN) or saw the server close
            // (EPIPE).
            if e.0 == "CONNECT_RETRIED" || e.0 == "HANDSHAKE_FAILED_NO_DETAIL" {
                e.1 = "-".to_owned();
            }
        }
        // One attempt per CONNECT_DELAYED.
        let mut attempts: Vec<Vec<_>> = Vec::new();
        for e in n {
            if e.0 == "CONNECT_DELAYED" || attempts.is_empty() {
                attempts.push(Vec::new());
            }
            attempts.last_mut().unwrap().push(e);
        }
        (attempts, events)
    };
    std::thread::scope(|sc| {
        for code in ["400", "500", "300"] {
            sc.spawn(move || {
                let (z, o) = std::thread::scope(|sc| {
                    let z = sc.spawn(|| run(Impl::Libzmq, code));
                    let o = sc.spawn(|| run(Impl::Ours, code));
                    (z.join().unwrap(), o.join().unwrap())
                });
                let ((za, zev), (oa, oev)) = (z, o);
                let what = format!("ZAP {code}\nours   {oev:?}\nlibzmq {zev:?}");
                assert_eq!(oa[0], za[0], "first attempt, {what}");
                for a in [&oa, &za] {
                    // The last attempt may be cut short by the window.
                    for later in a.iter().take(a.len().saturating_sub(1)).skip(1) {
                        assert_eq!(later, &a[0], "{what}");
                    }
                }
                if code == "300" {
                    // How many attempts fit the window depends on how each
                    // ended (a timeout, or libzmq's server closing at once,
                    // a race each run draws on its own): not compared.
                    assert!(za.len() >= 2, "libzmq retries after 300, {what}");
                    assert!(oa.len() >= 2, "ours retries after 300, {what}");
                } else {
                    assert_eq!(za.len(), 1, "no retry after {code}, {what}");
                    assert_eq!(oa.len(), 1, "no retry after {code}, {what}");
                }
            });
        }
    });
}

/// A ROUTER handler whose reply has a non-empty delimiter:
/// `ZAP_UNSPECIFIED` (REP handlers cannot produce it).
#[test]
fn parity_zap_reply_bad_delimiter() {
    let o = parity("ROUTER handler, bad delimiter", |imp| {
        scenario_with(
            imp,
            Impl::Libzmq,
            plain_server,
            admin_password,
            Some((
                SocketType::Router,
                true,
                raw(&[b"x", b"1.0", b"1", b"200", b"OK", b"user", b""]),
            )),
            "DISCONNECTED",
            "DISCONNECTED",
        )
    });
    assert_eq!(
        last(&o.server[..o.server.len() - 1]),
        ("HANDSHAKE_FAILED_PROTOCOL", ZAP_UNSPECIFIED),
        "{:?}",
        o.server
    );
    // A ROUTER handler writing the reply properly is accepted.
    let o = parity("ROUTER handler, raw reply", |imp| {
        scenario_with(
            imp,
            Impl::Libzmq,
            plain_server,
            admin_password,
            Some((
                SocketType::Router,
                true,
                raw(&[b"", b"1.0", b"1", b"200", b"OK", b"user", b""]),
            )),
            "HANDSHAKE_SUCCEEDED",
            "HANDSHAKE_SUCCEEDED",
        )
    });
    assert_eq!(last(&o.client), ("HANDSHAKE_SUCCEEDED", 0));
}

fn domain(p: &Peer) {
    p.zap_domain("global");
}

/// NULL sockets with a ZAP domain ask the handler too: 200 lets the peer
/// in, 400 and 500 send it an ERROR, both sides as libzmq, with either
/// side ours.
#[test]
fn parity_null_with_domain() {
    std::thread::scope(|sc| {
        for code in ["200", "400", "500"] {
            for side in ["server", "client"] {
                sc.spawn(move || {
                    let until = if code == "200" {
                        "HANDSHAKE_SUCCEEDED"
                    } else {
                        "DISCONNECTED"
                    };
                    let o = parity(&format!("NULL with a domain, {code}, {side} side"), |imp| {
                        let (server, client) = if side == "server" {
                            (imp, Impl::Libzmq)
                        } else {
                            (Impl::Libzmq, imp)
                        };
                        let mut sides =
                            scenario(server, client, domain, nothing, Some(status(code)), until, until);
                        if side == "client" {
                            // When the server's greeting and its ERROR
                            // reach our NULL client in one read, the core
                            // fails before its READY is out; libzmq's NULL
                            // server, still waiting for that READY, then
                            // reports the end of the stream as NO_DETAIL
                            // EPIPE. Not compared.
                            sides.server.retain(|e| {
                                !(e.name() == "HANDSHAKE_FAILED_NO_DETAIL" && e.value == 32)
                            });
                        }
                        sides
                    });
                    if code != "200" {
                        let want: u32 = code.parse().unwrap();
                        for events in [&o.server, &o.client] {
                            assert!(
                                events
                                    .iter()
                                    .any(|e| e.name() == "HANDSHAKE_FAILED_AUTH" && e.value == want),
                                "{code} {side}: {events:?}"
                            );
                        }
                    }
                });
            }
        }
    });
}

/// libzmq's address of an IPC peer in this process, with SO_PEERCRED.
fn ipc_address() -> String {
    use std::os::unix::fs::MetadataExt;
    let me = std::fs::metadata("/proc/self").unwrap();
    format!("localhost:{}:{}:{}", me.uid(), me.gid(), std::process::id())
}

/// A pyzmq PLAIN server (PULL, on `argv[1]`) with an accepting ZAP handler
/// that prints the first request's address frame once a message came.
const PY_IPC_SERVER: &str = r#"
import sys, zmq
ctx = zmq.Context()
zap = ctx.socket(zmq.REP)
zap.bind("inproc://zeromq.zap.01")
zap.RCVTIMEO = 10000
s = ctx.socket(zmq.PULL)
s.plain_server = True
s.RCVTIMEO = 10000
s.bind(sys.argv[1])
print("bound", flush=True)
req = zap.recv_multipart()
zap.send_multipart([b"1.0", req[1], b"200", b"OK", b"", b""])
s.recv()
print(req[3].decode(), flush=True)
for x in (s, zap):
    x.close(0)
ctx.term()
"#;

/// Over IPC libzmq 4.3.5 as pyzmq bundles it (built with SO_PEERCRED)
/// names our client `localhost:uid:gid:pid`, and so do we.
#[test]
fn ipc_address_as_libzmq_435() {
    use std::io::BufRead;
    let python = match pyzmq::python() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("skipped: pyzmq comparison: {e}");
            return;
        }
    };
    let ep = peer::ipc_endpoint("py-zap");
    let mut child = std::process::Command::new(python)
        .args(["-c", PY_IPC_SERVER, &ep])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "bound");
    let ctx = zmtp_std::Context::new().unwrap();
    let c = ctx.socket(SocketType::Push).unwrap();
    c.set_plain_username(b"admin").unwrap();
    c.set_plain_password(b"secret").unwrap();
    c.connect(&ep).unwrap();
    common::send(&c, &[b"x"]);
    let address = lines.next().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(address, ipc_address());
}
