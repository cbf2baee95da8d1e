//! Monitor parity with libzmq: each scenario runs once with a libzmq 4.3.4
//! socket monitored by libzmq and once with ours monitored by ours (the
//! peer on the other side is libzmq, or a raw ZMTP peer, in both runs). The
//! v1 events must have the same ids, the same values where libzmq's are
//! deterministic (errno, intervals, protocol codes; file descriptors only
//! as "the same descriptor as that earlier event") and the same endpoint
//! strings once the ports and paths of the run are replaced by names.
//!
//! Scenarios, over `tcp://` and `ipc://` where both apply: (a) connect,
//! handshake, exchange, close; (b) bind, accept, the peer leaves, close;
//! (c) connect with nothing listening, RECONNECT_IVL 100 / RECONNECT_IVL_MAX
//! 400; (d) bind to an address in use, and other binds that fail once the
//! socket exists; (e) incompatible socket types, on either side; (f) the
//! monitor stopped and restarted; and heartbeats against a raw peer that
//! goes silent after the handshake (our PINGs unanswered as connecter and
//! as binder, the TTL of the peer's PING expiring).
//!
//! The ignored tests show differences in the core found this way. One test
//! goes beyond parity: messages are delivered after a write to a departed
//! peer fails, where libzmq 4.3.4 may lose some.
//!
//! libzmq 4.3.4 computes `CONNECT_RETRIED` with the arithmetic of before
//! 4.3.5 (always with random jitter); we follow 4.3.5. The reconnect
//! scenario therefore compares event ids with 4.3.4 and the values with
//! libzmq 4.3.5 too, through pyzmq 27.3.0 (which bundles 4.3.5) in a
//! virtual environment cached under the target directory. Without python3
//! or the package registry that comparison prints "skipped: ..." and the
//! rest still runs.
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

use common::{QUIET, WAIT, ready};
use peer::{Ctx, Ev, Impl, Monitor, Peer, ipc_endpoint};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use zmtp_std::{SocketType, event_id};

const ALL: i32 = 0xFFFF;
// Linux errno values.
const EINPROGRESS: u32 = 115;
const EADDRINUSE: i32 = 98;
const EADDRNOTAVAIL: i32 = 99;
const ENOENT: i32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Ipc,
}

const TRANSPORTS: [Transport; 2] = [Transport::Tcp, Transport::Ipc];

/// A fresh bind endpoint for `t` (port 0, or a unique socket path).
fn bind_endpoint(t: Transport, tag: &str) -> String {
    match t {
        Transport::Tcp => "tcp://127.0.0.1:*".to_owned(),
        Transport::Ipc => ipc_endpoint(tag),
    }
}

/// A loopback port nobody listens on (bound, then released).
fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What a run's endpoint strings contain that differs between runs: the
/// port (`:PORT`) or the socket path (`PATH`) of `ep`.
fn placeholder(ep: &str, name: &str) -> (String, String) {
    if let Some(path) = ep.strip_prefix("ipc://") {
        (path.to_owned(), name.to_owned())
    } else {
        let port = ep.rsplit(':').next().unwrap();
        (format!(":{port}"), format!(":{name}"))
    }
}

/// How descriptor values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fds {
    /// Every descriptor of the scenario stays open while the next one is
    /// made, so equal values mean the same descriptor: a descriptor becomes
    /// the index of its first appearance.
    Identity,
    /// Descriptors come and go (reconnect attempts) and the system may
    /// reuse numbers: only "a real descriptor" is compared.
    Any,
}

/// One event with its run-specific parts replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Norm {
    name: &'static str,
    value: String,
    endpoint: String,
}

/// Whether an event's value is a file descriptor.
fn is_fd_event(id: u16) -> bool {
    [
        event_id::CONNECTED,
        event_id::LISTENING,
        event_id::ACCEPTED,
        event_id::CLOSED,
        event_id::DISCONNECTED,
    ]
    .contains(&u64::from(id))
}

#[track_caller]
fn normalise(events: &[Ev], subs: &[(String, String)], fds: Fds) -> Vec<Norm> {
    let mut seen: Vec<u32> = Vec::new();
    events
        .iter()
        .map(|e| {
            let value = if is_fd_event(e.id) {
                assert!(e.value > 2, "not a descriptor: {e:?}");
                match fds {
                    Fds::Any => "fd".to_owned(),
                    Fds::Identity => {
                        let i = seen.iter().position(|&f| f == e.value).unwrap_or_else(|| {
                            seen.push(e.value);
                            seen.len() - 1
                        });
                        format!("fd{i}")
                    }
                }
            } else {
                e.value.to_string()
            };
            let mut endpoint = e.endpoint.clone();
            for (from, to) in subs {
                endpoint = endpoint.replace(from.as_str(), to);
            }
            Norm {
                name: e.name(),
                value,
                endpoint,
            }
        })
        .collect()
}

/// The events of one run and the substitutions that make them comparable.
struct Run {
    events: Vec<Ev>,
    subs: Vec<(String, String)>,
}

/// Runs `scenario` with libzmq and with ours (side by side: they share
/// nothing) and asserts the same normalised events.
#[track_caller]
fn parity(what: &str, fds: Fds, scenario: impl Fn(Impl) -> Run + Sync) -> Vec<Norm> {
    let (z, o) = std::thread::scope(|sc| {
        let z = sc.spawn(|| scenario(Impl::Libzmq));
        let o = sc.spawn(|| scenario(Impl::Ours));
        (z.join(), o.join())
    });
    let (Ok(z), Ok(o)) = (z, o) else {
        panic!("{what}: a run failed (its message is above)");
    };
    let zn = normalise(&z.events, &z.subs, fds);
    let on = normalise(&o.events, &o.subs, fds);
    assert_eq!(
        on, zn,
        "{what}: ours differ from libzmq\nours   {:?}\nlibzmq {:?}",
        o.events, z.events
    );
    on
}

#[track_caller]
fn names(events: &[Norm]) -> Vec<&'static str> {
    events.iter().map(|e| e.name).collect()
}

/// Asserts that a monitor stays silent for [`QUIET`].
#[track_caller]
fn assert_quiet(mon: &Monitor) {
    assert_all_quiet(&[mon]);
}

/// Asserts that monitors stay silent for [`QUIET`] (one window for all).
#[track_caller]
fn assert_all_quiet(mons: &[&Monitor]) {
    for (i, mon) in mons.iter().enumerate() {
        let wait = if i == 0 {
            QUIET
        } else {
            Duration::from_millis(1)
        };
        if let Some(e) = mon.within(wait) {
            panic!("unexpected event {e:?} ({}) on monitor {i}", e.name());
        }
    }
}

/// Runs `f` for each transport, side by side.
fn each_transport(f: impl Fn(Transport) + Sync) {
    std::thread::scope(|sc| {
        for t in TRANSPORTS {
            let f = &f;
            sc.spawn(move || f(t));
        }
    });
}

// (a) connect, handshake, exchange, close --------------------------------

fn connect_exchange_close(t: Transport, imp: Impl) -> Run {
    let ctx = Ctx::new();
    let server = Peer::new(&ctx, Impl::Libzmq, SocketType::Dealer);
    let ep = server.bind(&bind_endpoint(t, "a"));
    let client = Peer::new(&ctx, imp, SocketType::Dealer);
    let mon = client.monitor(&ctx, "client", ALL);
    client.connect(&ep);
    let mut events = mon.until("HANDSHAKE_SUCCEEDED");
    client.send(&[b"hello".to_vec()]);
    assert_eq!(server.recv(), [b"hello".to_vec()]);
    server.send(&[b"world".to_vec()]);
    assert_eq!(client.recv(), [b"world".to_vec()]);
    client.close();
    events.extend(mon.until("MONITOR_STOPPED"));
    assert_quiet(&mon);
    Run {
        events,
        subs: vec![placeholder(&ep, "EP")],
    }
}

#[test]
fn a_connect_handshake_exchange_close() {
    each_transport(|t| {
        let ev = parity(&format!("{t:?}"), Fds::Identity, |imp| {
            connect_exchange_close(t, imp)
        });
        let mut want = vec!["CONNECTED", "HANDSHAKE_SUCCEEDED", "MONITOR_STOPPED"];
        if t == Transport::Tcp {
            want.insert(0, "CONNECT_DELAYED");
            assert_eq!(ev[0].value, EINPROGRESS.to_string());
        }
        assert_eq!(names(&ev), want, "{t:?}");
    });
}

// (b) bind, accept, peer leaves, close -----------------------------------

fn bind_accept_peer_leaves(t: Transport, imp: Impl) -> Run {
    let ctx = Ctx::new();
    let server = Peer::new(&ctx, imp, SocketType::Dealer);
    let mon = server.monitor(&ctx, "server", ALL);
    let ep = server.bind(&bind_endpoint(t, "b"));
    let client = Peer::new(&ctx, Impl::Libzmq, SocketType::Dealer);
    client.connect(&ep);
    let mut events = mon.until("HANDSHAKE_SUCCEEDED");
    client.send(&[b"hello".to_vec()]);
    assert_eq!(server.recv(), [b"hello".to_vec()]);
    server.send(&[b"world".to_vec()]);
    assert_eq!(client.recv(), [b"world".to_vec()]);
    client.close();
    events.extend(mon.until("DISCONNECTED"));
    assert_quiet(&mon);
    server.close();
    events.extend(mon.until("MONITOR_STOPPED"));
    assert_quiet(&mon);
    Run {
        events,
        subs: vec![placeholder(&ep, "EP")],
    }
}

#[test]
fn b_bind_accept_peer_leaves_close() {
    each_transport(|t| {
        let ev = parity(&format!("{t:?}"), Fds::Identity, |imp| {
            bind_accept_peer_leaves(t, imp)
        });
        assert_eq!(
            names(&ev),
            [
                "LISTENING",
                "ACCEPTED",
                "HANDSHAKE_SUCCEEDED",
                "DISCONNECTED",
                "CLOSED",
                "MONITOR_STOPPED"
            ],
            "{t:?}"
        );
        // The connection's descriptor, then the listener's again.
        let fds: Vec<&str> = ev.iter().map(|e| e.value.as_str()).collect();
        assert_eq!(fds, ["fd0", "fd1", "0", "fd1", "fd0", "0"], "{t:?}");
    });
}

// (c) connect with nothing listening, RECONNECT_IVL 100 / MAX 400 ---------

/// `CONNECT_RETRIED` events collected per run.
const RETRIES: usize = 4;

/// Connects to `ep` where nothing listens and records events up to the
/// [`RETRIES`]th `CONNECT_RETRIED`, then closes; what follows the close
/// (an attempt may be in flight) must end with `MONITOR_STOPPED`.
fn refused(ep: &str, imp: Impl) -> Run {
    let ctx = Ctx::new();
    let s = Peer::new(&ctx, imp, SocketType::Dealer);
    s.set_reconnect(100, 400);
    let mon = s.monitor(&ctx, "refused", ALL);
    s.connect(ep);
    let mut events = Vec::new();
    while events
        .iter()
        .filter(|e: &&Ev| e.name() == "CONNECT_RETRIED")
        .count()
        < RETRIES
    {
        events.push(mon.next());
    }
    s.close();
    let tail = mon.until("MONITOR_STOPPED");
    for e in &tail[..tail.len() - 1] {
        assert!(
            ["CONNECT_DELAYED", "CLOSED", "CONNECT_RETRIED"].contains(&e.name()),
            "after close: {e:?}"
        );
    }
    Run {
        events,
        subs: vec![placeholder(ep, "EP")],
    }
}

/// libzmq 4.3.5's intervals for RECONNECT_IVL 100 / RECONNECT_IVL_MAX 400.
const BACKOFF_435: [u32; RETRIES] = [100, 200, 400, 400];

#[test]
fn c_reconnect_backoff_with_nothing_listening() {
    let endpoints = [
        format!("tcp://127.0.0.1:{}", dead_port()),
        ipc_endpoint("c-missing"),
    ];
    // Every run waits through the same back-off: run them side by side.
    let python = pyzmq::python();
    let runs: Vec<_> = endpoints
        .iter()
        .map(|ep| {
            let spawn = |imp| {
                let ep = ep.clone();
                std::thread::spawn(move || refused(&ep, imp))
            };
            let (z, o) = (spawn(Impl::Libzmq), spawn(Impl::Ours));
            let py = python.clone().map(|python| {
                let ep = ep.clone();
                std::thread::spawn(move || pyzmq_refused(&python, &ep))
            });
            (ep, z, o, py)
        })
        .collect();
    for (ep, z, o, py) in runs {
        let (z, o) = (z.join().unwrap(), o.join().unwrap());
        // Ids and endpoints as libzmq 4.3.4; values but the intervals, too.
        let strip = |r: &Run| {
            let mut n = normalise(&r.events, &r.subs, Fds::Any);
            for e in &mut n {
                if e.name == "CONNECT_RETRIED" {
                    e.value = "interval".to_owned();
                }
            }
            n
        };
        assert_eq!(
            strip(&o),
            strip(&z),
            "{ep}\nours   {:?}\nlibzmq {:?}",
            o.events,
            z.events
        );
        let per_attempt = if ep.starts_with("tcp") {
            vec!["CONNECT_DELAYED", "CLOSED", "CONNECT_RETRIED"]
        } else {
            // IPC connects fail synchronously: no CONNECT_DELAYED.
            vec!["CLOSED", "CONNECT_RETRIED"]
        };
        let want: Vec<&str> = (0..RETRIES).flat_map(|_| per_attempt.clone()).collect();
        assert_eq!(names(&strip(&o)), want, "{ep}");
        // Our intervals are libzmq 4.3.5's; 4.3.4 adds up to one base
        // interval of jitter to the same doubling.
        let intervals = |r: &Run| -> Vec<u32> {
            r.events
                .iter()
                .filter(|e| e.name() == "CONNECT_RETRIED")
                .map(|e| e.value)
                .collect()
        };
        assert_eq!(intervals(&o), BACKOFF_435, "{ep}");
        for (v, base) in intervals(&z).into_iter().zip(BACKOFF_435) {
            assert!((base..base + 100).contains(&v), "libzmq 4.3.4 {v} {ep}");
        }
        // Full values against libzmq 4.3.5.
        match py {
            Ok(py) => {
                let py = py.join().unwrap();
                let pn = normalise(&py.events, &py.subs, Fds::Any);
                let on = normalise(&o.events, &o.subs, Fds::Any);
                assert_eq!(
                    on, pn,
                    "{ep}: ours differ from libzmq 4.3.5\nours   {:?}\n4.3.5  {:?}",
                    o.events, py.events
                );
            }
            Err(why) => println!("skipped: comparison with libzmq 4.3.5 (pyzmq): {why}"),
        }
    }
}

/// The reconnect scenario of [`refused`] with pyzmq, as a script printing
/// one JSON object per event.
const PY_REFUSED: &str = r#"
import json, struct, sys, zmq
ep, retries = sys.argv[1], int(sys.argv[2])
print(json.dumps({"libzmq": zmq.zmq_version()}), flush=True)
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.linger = 0
s.setsockopt(zmq.RECONNECT_IVL, 100)
s.setsockopt(zmq.RECONNECT_IVL_MAX, 400)
s.monitor("inproc://refused", 0xFFFF)
m = ctx.socket(zmq.PAIR)
m.rcvtimeo = 10000
m.connect("inproc://refused")
s.connect(ep)
seen = 0
while seen < retries:
    head, endpoint = m.recv_multipart()
    event, value = struct.unpack("=HI", head)
    print(json.dumps({"id": event, "value": value, "endpoint": endpoint.decode()}), flush=True)
    if event == zmq.EVENT_CONNECT_RETRIED:
        seen += 1
s.close()
m.close()
ctx.term()
"#;

/// Runs [`PY_REFUSED`] for `ep`.
fn pyzmq_refused(python: &std::path::Path, ep: &str) -> Run {
    let run = || {
        std::process::Command::new(python)
            .args(["-c", PY_REFUSED, ep, &RETRIES.to_string()])
            .output()
            .unwrap()
    };
    // libzmq's monitor has been seen to stay silent for 10 s on a loaded
    // machine (`zmq.Again`): such a run says nothing about the events, so
    // it is tried again, at most three times in all.
    let mut out = run();
    for _ in 0..2 {
        if out.status.success() || !String::from_utf8_lossy(&out.stderr).contains("zmq.error.Again")
        {
            break;
        }
        out = run();
    }
    assert!(
        out.status.success(),
        "the pyzmq script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let version = lines.next().unwrap_or_default();
    assert_eq!(version, r#"{"libzmq": "4.3.5"}"#, "pyzmq's libzmq");
    let events = lines.map(parse_py_event).collect();
    Run {
        events,
        subs: vec![placeholder(ep, "EP")],
    }
}

/// Parses `{"id": N, "value": N, "endpoint": "..."}` (as `json.dumps`
/// writes it; endpoints here need no escapes).
#[track_caller]
fn parse_py_event(line: &str) -> Ev {
    let field = |name: &str| {
        let key = format!("\"{name}\": ");
        let start = line.find(&key).unwrap() + key.len();
        let rest = &line[start..];
        if let Some(s) = rest.strip_prefix('"') {
            s[..s.find('"').unwrap()].to_owned()
        } else {
            rest[..rest.find([',', '}']).unwrap()].to_owned()
        }
    };
    Ev {
        id: field("id").parse().unwrap(),
        value: field("value").parse().unwrap(),
        endpoint: field("endpoint"),
    }
}

// (d) bind to an address in use (and other failures of a made socket) -----

/// The monitored socket binds where a libzmq socket already listens (TCP:
/// `EADDRINUSE`; IPC: libzmq replaces the socket file and listens), to an
/// address that is not local, and to a path in a missing directory.
/// Returns the events and the bind results (the errno on failure).
fn bind_failures(imp: Impl) -> (Run, Vec<Result<(), i32>>) {
    let ctx = Ctx::new();
    let holder = Peer::new(&ctx, Impl::Libzmq, SocketType::Dealer);
    let tcp = holder.bind("tcp://127.0.0.1:*");
    let port = tcp.rsplit(':').next().unwrap().to_owned();
    let ipc = holder.bind(&ipc_endpoint("d-in-use"));
    let missing = format!("{}/socket", ipc_endpoint("d-missing-dir"));
    let s = Peer::new(&ctx, imp, SocketType::Dealer);
    let mon = s.monitor(&ctx, "bind-failures", ALL);
    let results = [
        tcp.clone(),
        format!("tcp://*:{port}"),
        // TEST-NET-1: not an address of this host.
        format!("tcp://192.0.2.1:{port}"),
        missing.clone(),
        ipc.clone(),
    ]
    .iter()
    .map(|ep| s.try_bind(ep).map(|_| ()))
    .collect();
    s.close();
    let events = mon.until("MONITOR_STOPPED");
    assert_quiet(&mon);
    (
        Run {
            events,
            subs: vec![
                placeholder(&tcp, "PORT"),
                placeholder(&missing, "MISSING"),
                placeholder(&ipc, "PATH"),
            ],
        },
        results,
    )
}

#[test]
fn d_bind_to_an_address_in_use_and_other_failures() {
    let (z, zr) = bind_failures(Impl::Libzmq);
    let (o, or) = bind_failures(Impl::Ours);
    assert_eq!(or, zr, "bind results");
    assert_eq!(
        or,
        [
            Err(EADDRINUSE),
            Err(EADDRINUSE),
            Err(EADDRNOTAVAIL),
            Err(ENOENT),
            Ok(())
        ]
    );
    // A failed bind's socket may get the number of the one before.
    let zn = normalise(&z.events, &z.subs, Fds::Any);
    let on = normalise(&o.events, &o.subs, Fds::Any);
    assert_eq!(on, zn, "ours {:?}\nlibzmq {:?}", o.events, z.events);
    assert_eq!(
        on.iter()
            .map(|e| (e.name, e.value.as_str(), e.endpoint.as_str()))
            .collect::<Vec<_>>(),
        [
            // libzmq closes the socket of a failed bind (a TCP listener has
            // no endpoint yet), then reports the failure.
            ("CLOSED", "fd", ""),
            ("BIND_FAILED", "98", "127.0.0.1:PORT"),
            ("CLOSED", "fd", ""),
            ("BIND_FAILED", "98", "*:PORT"),
            ("CLOSED", "fd", ""),
            ("BIND_FAILED", "99", "192.0.2.1:PORT"),
            ("CLOSED", "fd", "ipc://MISSING"),
            ("BIND_FAILED", "2", "MISSING"),
            ("LISTENING", "fd", "ipc://PATH"),
            ("CLOSED", "fd", "ipc://PATH"),
            ("MONITOR_STOPPED", "0", ""),
        ]
    );
    // The listener's CLOSED names its LISTENING descriptor.
    let n = o.events.len();
    assert_eq!(o.events[n - 3].value, o.events[n - 2].value);
}

// Raw ZMTP peers -----------------------------------------------------------

/// A raw transport stream of either kind.
trait RawStream: Read + Write + Send {
    /// Sets how long a read may block.
    fn set_timeout(&self, d: Duration);
}

impl RawStream for TcpStream {
    fn set_timeout(&self, d: Duration) {
        self.set_read_timeout(Some(d)).unwrap();
    }
}

impl RawStream for UnixStream {
    fn set_timeout(&self, d: Duration) {
        self.set_read_timeout(Some(d)).unwrap();
    }
}

/// A PING command frame (RFC 37) with `ttl` deciseconds and no context.
fn ping(ttl: u16) -> Vec<u8> {
    let mut f = vec![0x04, 7, 4];
    f.extend(b"PING");
    f.extend(ttl.to_be_bytes());
    f
}

/// How long a raw peer waits for the other side to close.
const RAW_WAIT: Duration = Duration::from_secs(15);

/// Listens on a fresh endpoint of `t` and runs `peer` on the first
/// connection in a thread. Returns the endpoint and the thread.
fn raw_server<R: Send + 'static>(
    t: Transport,
    tag: &str,
    peer: impl FnOnce(Box<dyn RawStream>) -> R + Send + 'static,
) -> (String, JoinHandle<R>) {
    match t {
        Transport::Tcp => {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let ep = format!("tcp://{}", l.local_addr().unwrap());
            let h = std::thread::spawn(move || {
                let (s, _) = l.accept().unwrap();
                s.set_read_timeout(Some(RAW_WAIT)).unwrap();
                peer(Box::new(s))
            });
            (ep, h)
        }
        Transport::Ipc => {
            let ep = ipc_endpoint(tag);
            let path = ep.strip_prefix("ipc://").unwrap().to_owned();
            let l = UnixListener::bind(&path).unwrap();
            let h = std::thread::spawn(move || {
                let (s, _) = l.accept().unwrap();
                s.set_read_timeout(Some(RAW_WAIT)).unwrap();
                drop(l);
                let _ = std::fs::remove_file(&path);
                peer(Box::new(s))
            });
            (ep, h)
        }
    }
}

/// Connects a raw stream to `ep` and runs `peer` on it in a thread.
fn raw_client<R: Send + 'static>(
    ep: &str,
    peer: impl FnOnce(Box<dyn RawStream>) -> R + Send + 'static,
) -> JoinHandle<R> {
    let ep = ep.to_owned();
    std::thread::spawn(move || {
        let s: Box<dyn RawStream> = if let Some(addr) = ep.strip_prefix("tcp://") {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(RAW_WAIT)).unwrap();
            Box::new(s)
        } else {
            let s = UnixStream::connect(ep.strip_prefix("ipc://").unwrap()).unwrap();
            s.set_read_timeout(Some(RAW_WAIT)).unwrap();
            Box::new(s)
        };
        peer(s)
    })
}

/// A raw peer that sends its whole greeting and its READY as
/// `socket_type` at once; if `extra` is not empty, it sends it once the
/// other side's READY is in. Then it never says anything again: it reads
/// until the other side closes and returns everything it received.
fn silent_peer(
    socket_type: &'static str,
    extra: Vec<u8>,
) -> impl FnOnce(Box<dyn RawStream>) -> Vec<u8> + Send + 'static {
    move |mut s| {
        let mut out = common::null_greeting();
        out.extend(ready(socket_type));
        s.write_all(&out).unwrap();
        let mut got = Vec::new();
        if !extra.is_empty() {
            let mut buf = [0u8; 1024];
            while commands(&got).is_empty() {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return got,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            s.write_all(&extra).unwrap();
        }
        let _ = s.read_to_end(&mut got);
        got
    }
}

/// The command frames after the 64-byte greeting of `bytes`.
fn commands(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bytes.get(64..).unwrap_or_default();
    while let Some((&flags, tail)) = rest.split_first() {
        let (len, tail) = if flags & 0x02 != 0 {
            if tail.len() < 8 {
                break;
            }
            let n = u64::from_be_bytes(tail[..8].try_into().unwrap());
            (usize::try_from(n).unwrap(), &tail[8..])
        } else {
            let Some((&n, tail)) = tail.split_first() else {
                break;
            };
            (usize::from(n), tail)
        };
        if tail.len() < len {
            break;
        }
        if flags & 0x04 != 0 {
            out.push(tail[..len].to_vec());
        }
        rest = &tail[len..];
    }
    out
}

// (e) incompatible socket types --------------------------------------------

/// The monitored side meets a peer of an incompatible type (a DEALER and a
/// PUB) that sends its greeting and READY at once and then waits: the
/// monitored side rejects the READY itself, `DISCONNECTED` only (no
/// handshake event), and a connecter does not retry. `monitored_binds`
/// says whether the monitored side is the binding PUB or the connecting
/// DEALER.
fn incompatible(t: Transport, monitored_binds: bool, imp: Impl) -> Run {
    let ctx = Ctx::new();
    let (s, mon, ep, peer) = if monitored_binds {
        let s = Peer::new(&ctx, imp, SocketType::Pub);
        let mon = s.monitor(&ctx, "incompatible", ALL);
        let ep = s.bind(&bind_endpoint(t, "e-bind"));
        let peer = raw_client(&ep, silent_peer("DEALER", Vec::new()));
        (s, mon, ep, peer)
    } else {
        let (ep, peer) = raw_server(t, "e-connect", silent_peer("PUB", Vec::new()));
        let s = Peer::new(&ctx, imp, SocketType::Dealer);
        s.set_reconnect(50, 0);
        let mon = s.monitor(&ctx, "incompatible", ALL);
        s.connect(&ep);
        (s, mon, ep, peer)
    };
    let mut events = mon.until("DISCONNECTED");
    // No retry: the connecting side stops after a protocol error.
    assert_quiet(&mon);
    s.close();
    events.extend(mon.until("MONITOR_STOPPED"));
    peer.join().unwrap();
    Run {
        events,
        subs: vec![placeholder(&ep, "EP")],
    }
}

#[test]
fn e_incompatible_socket_types() {
    each_transport(|t| {
        let ev = parity(&format!("{t:?} connecter"), Fds::Identity, |imp| {
            incompatible(t, false, imp)
        });
        let mut want = vec!["CONNECTED", "DISCONNECTED", "MONITOR_STOPPED"];
        if t == Transport::Tcp {
            want.insert(0, "CONNECT_DELAYED");
        }
        assert_eq!(names(&ev), want, "{t:?}");
        let ev = parity(&format!("{t:?} binder"), Fds::Identity, |imp| {
            incompatible(t, true, imp)
        });
        assert_eq!(
            names(&ev),
            [
                "LISTENING",
                "ACCEPTED",
                "DISCONNECTED",
                "CLOSED",
                "MONITOR_STOPPED"
            ],
            "{t:?}"
        );
    });
}

/// The same meeting with a libzmq peer: a DEALER (the monitored side,
/// `imp`) connects to a libzmq PUB, or a libzmq DEALER connects to the
/// monitored PUB.
fn incompatible_libzmq_peer(t: Transport, monitored_binds: bool, imp: Impl) -> Run {
    let ctx = Ctx::new();
    let (bi, ci) = if monitored_binds {
        (imp, Impl::Libzmq)
    } else {
        (Impl::Libzmq, imp)
    };
    let binder = Peer::new(&ctx, bi, SocketType::Pub);
    let connecter = Peer::new(&ctx, ci, SocketType::Dealer);
    // Which side rejects first is a race (libzmq against libzmq too); the
    // loser sees the stream end mid-handshake and, as a connecter, would
    // retry. Retrying is off so both outcomes end the same way; that an
    // incompatible peer is not retried is tested where it is deterministic
    // (the raw-peer scenario above and the core's handshake matrix).
    connecter.set_reconnect(-1, 0);
    let watched = if monitored_binds { &binder } else { &connecter };
    let mon = watched.monitor(&ctx, "incompatible", ALL);
    let ep = binder.bind(&bind_endpoint(t, "e-libzmq"));
    connecter.connect(&ep);
    let mut events = mon.until("DISCONNECTED");
    assert_quiet(&mon);
    let (watched, other) = if monitored_binds {
        (binder, connecter)
    } else {
        (connecter, binder)
    };
    watched.close();
    events.extend(mon.until("MONITOR_STOPPED"));
    other.close();
    // Which side rejects first is a race, in libzmq against libzmq too: the
    // side that loses it sees the stream end mid-handshake first. Like
    // libzmq's own tests (testutil_security), ignore that NO_DETAIL.
    events.retain(|e| !(e.id == 0x0800 && [32, 103, 104].contains(&e.value)));
    Run {
        events,
        subs: vec![placeholder(&ep, "EP")],
    }
}

/// Incompatible socket types against a libzmq peer: `DISCONNECTED` only,
/// and a connecter does not retry, as libzmq against libzmq. (This needs
/// READY to wait for the peer's whole greeting, as libzmq does: sent
/// together with the greeting, a libzmq peer would close before sending
/// its own READY and our connecter would retry for ever.)
#[test]
fn e_incompatible_socket_types_libzmq_peer() {
    each_transport(|t| {
        parity(&format!("{t:?} connecter"), Fds::Identity, |imp| {
            incompatible_libzmq_peer(t, false, imp)
        });
        parity(&format!("{t:?} binder"), Fds::Identity, |imp| {
            incompatible_libzmq_peer(t, true, imp)
        });
    });
}

/// What a connecting DEALER sends to a raw server that releases its
/// greeting in steps: (after our first 11 bytes, after the rest of our
/// greeting). libzmq sends the rest of its greeting once it has the peer's
/// major version, and READY once it has the peer's whole greeting.
fn greeting_steps(imp: Impl) -> (Vec<u8>, Vec<u8>) {
    let (ep, server) = raw_server(Transport::Tcp, "steps", |mut s| {
        let read_exactly = |s: &mut Box<dyn RawStream>, n: usize| {
            let mut buf = vec![0u8; n];
            s.read_exact(&mut buf).unwrap();
            buf
        };
        // Everything that arrives within `d` (a window in which something
        // must not happen, or something already sent arrives).
        let read_for = |s: &mut Box<dyn RawStream>, d: Duration| {
            let deadline = Instant::now() + d;
            let mut got = Vec::new();
            let mut buf = [0u8; 256];
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                s.set_timeout(left);
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            s.set_timeout(RAW_WAIT);
            got
        };
        let g = common::null_greeting();
        // Their signature, then our signature and major version.
        let _ = read_exactly(&mut s, 10);
        s.write_all(&g[..11]).unwrap();
        let _ = read_exactly(&mut s, 1);
        // Now only the rest of their greeting may come: wait a while.
        let mut first = read_exactly(&mut s, 53);
        first.extend(read_for(&mut s, QUIET));
        s.write_all(&g[11..]).unwrap();
        // Then READY (bounded by the stream's read timeout), unless it
        // came already.
        let mut second = Vec::new();
        if first.len() == 53 {
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).unwrap_or(0);
            second.extend_from_slice(&buf[..n]);
        }
        (first, second)
    });
    let ctx = Ctx::new();
    let s = Peer::new(&ctx, imp, SocketType::Dealer);
    s.connect(&ep);
    let r = server.join().unwrap();
    s.close();
    r
}

#[test]
fn ready_waits_for_the_peer_greeting() {
    for imp in [Impl::Libzmq, Impl::Ours] {
        let (first, second) = greeting_steps(imp);
        assert_eq!(first.len(), 53, "{imp:?}: only the rest of the greeting");
        assert!(second.starts_with(&[0x04]), "{imp:?}: READY after it");
    }
}

/// libzmq closes without an ERROR command when it refuses the peer's
/// socket type (NULL mechanism); RFC 23 only says SHOULD.
#[test]
#[ignore = "core difference: an ERROR command is sent before closing on an incompatible socket type"]
fn incompatible_peer_gets_no_error_command() {
    for imp in [Impl::Libzmq, Impl::Ours] {
        let ctx = Ctx::new();
        let s = Peer::new(&ctx, imp, SocketType::Pub);
        let ep = s.bind("tcp://127.0.0.1:*");
        let got = raw_client(&ep, silent_peer("DEALER", Vec::new()))
            .join()
            .unwrap();
        // libzmq may close before its READY is out (it read ours first).
        let cmds = commands(&got);
        assert!(
            cmds.iter().all(|c| c.starts_with(b"\x05READY")),
            "{imp:?}: {cmds:?}"
        );
    }
}

// Beyond parity: delivery when a write to a departed peer fails ------------

/// A raw peer sends messages and closes while the application does not
/// read; the application then sends to the departed peer (whose socket
/// answers with a reset, so a write fails while input is still unread) and
/// reads. Returns how many messages it got, and how many were sent.
fn delivered_after_failed_write(imp: Impl) -> (usize, usize) {
    const COUNT: usize = 100;
    // About 100 KB: more than one read of the adapter and the receive
    // queue hold, less than the kernel's receive buffer.
    const SIZE: usize = 1000;
    let (ep, peer) = raw_server(Transport::Tcp, "write-fails", |mut s| {
        let mut out = common::null_greeting();
        out.extend(ready("DEALER"));
        s.write_all(&out).unwrap();
        // Read the other side's greeting and READY: closing with unread
        // input would reset the connection and lose what we send.
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while commands(&got).is_empty() {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "closed during the handshake");
            got.extend_from_slice(&buf[..n]);
        }
        for i in 0..COUNT {
            let mut body = u32::try_from(i).unwrap().to_be_bytes().to_vec();
            body.resize(SIZE, 0x5A);
            let mut frame = vec![0x02];
            frame.extend(u64::try_from(SIZE).unwrap().to_be_bytes());
            frame.extend(body);
            s.write_all(&frame).unwrap();
        }
        // A graceful close: the end of the stream follows the messages.
    });
    let ctx = Ctx::new();
    let s = Peer::new(&ctx, imp, SocketType::Dealer);
    s.set_small_receive_queue();
    s.connect(&ep);
    peer.join().unwrap();
    // The first message reaches a closed socket, which answers with a
    // reset; a later write fails.
    for _ in 0..20 {
        s.send(&[b"to a closed peer".to_vec()]);
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut delivered = 0;
    while let Some(m) = s.recv_within(WAIT) {
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].len(), SIZE);
        assert_eq!(m[0][..4], u32::try_from(delivered).unwrap().to_be_bytes());
        delivered += 1;
        if delivered == COUNT {
            break;
        }
    }
    s.close();
    (delivered, COUNT)
}

/// A failed write does not stop reading: every message the peer sent
/// before it left is delivered. libzmq means to do the same (its
/// `out_event` keeps the engine alive after a write error "to prevent
/// losing incoming messages"), but 4.3.4 loses what is still in the kernel
/// when its input was stopped by a full pipe at the time (the reset wakes
/// the stopped engine, which then gives up reading): with this scenario it
/// delivers only the few messages already in its decoder's buffer, so it is
/// not run here.
#[test]
fn messages_sent_before_a_reset_are_delivered() {
    let (delivered, sent) = delivered_after_failed_write(Impl::Ours);
    assert_eq!(delivered, sent);
}

// (f) monitor stopped and restarted ----------------------------------------

/// A monitor with a mask without `MONITOR_STOPPED` is replaced silently;
/// a replaced monitor's consumer gets `MONITOR_STOPPED` and nothing more;
/// each new consumer gets the events from its monitor's start, filtered by
/// its mask.
fn restart(imp: Impl) -> Run {
    let ctx = Ctx::new();
    let s = Peer::new(&ctx, imp, SocketType::Dealer);
    let m0 = s.monitor(&ctx, "m0", i32::try_from(event_id::LISTENING).unwrap());
    let m1 = s.monitor(&ctx, "m1", ALL);
    let ep = s.bind("tcp://127.0.0.1:*");
    let mut events = vec![m1.next()];
    let m2 = s.monitor(&ctx, "m2", ALL);
    events.extend(m1.until("MONITOR_STOPPED"));
    let client = Peer::new(&ctx, Impl::Libzmq, SocketType::Dealer);
    client.connect(&ep);
    events.extend(m2.until("HANDSHAKE_SUCCEEDED"));
    let narrow = event_id::DISCONNECTED | event_id::CLOSED | event_id::MONITOR_STOPPED;
    let m3 = s.monitor(&ctx, "m3", i32::try_from(narrow).unwrap());
    events.extend(m2.until("MONITOR_STOPPED"));
    client.close();
    events.extend(m3.until("DISCONNECTED"));
    s.close();
    events.extend(m3.until("MONITOR_STOPPED"));
    assert_all_quiet(&[&m0, &m1, &m2, &m3]);
    Run {
        events,
        subs: vec![placeholder(&ep, "EP")],
    }
}

#[test]
fn f_monitor_stopped_and_restarted() {
    let ev = parity("restart", Fds::Identity, restart);
    assert_eq!(
        names(&ev),
        [
            // m1
            "LISTENING",
            "MONITOR_STOPPED",
            // m2
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "MONITOR_STOPPED",
            // m3
            "DISCONNECTED",
            "CLOSED",
            "MONITOR_STOPPED"
        ]
    );
}

// Heartbeats against a peer that goes silent -------------------------------

/// Our socket or libzmq's connects, with heartbeats, to a raw server that
/// goes silent after the handshake: `DISCONNECTED` when the heartbeat
/// times out, then `CONNECT_RETRIED` (a long interval, so that the close
/// comes first). Returns the events and the PINGs the server received.
fn heartbeat_connecter(t: Transport, imp: Impl) -> (Run, Vec<Vec<u8>>) {
    let (ep, server) = raw_server(t, "hb-connect", silent_peer("ROUTER", Vec::new()));
    let ctx = Ctx::new();
    let s = Peer::new(&ctx, imp, SocketType::Dealer);
    s.set_heartbeat(50, 150);
    s.set_reconnect(5000, 0);
    let mon = s.monitor(&ctx, "hb-connect", ALL);
    s.connect(&ep);
    let started = Instant::now();
    let mut events = mon.until("HANDSHAKE_SUCCEEDED");
    events.extend(mon.until("CONNECT_RETRIED"));
    assert!(started.elapsed() < WAIT, "heartbeat timeout took too long");
    s.close();
    events.extend(mon.until("MONITOR_STOPPED"));
    let received = server.join().unwrap();
    let pings = commands(&received)
        .into_iter()
        .filter(|c| c.starts_with(b"\x04PING"))
        .collect();
    (
        Run {
            events,
            subs: vec![placeholder(&ep, "EP")],
        },
        pings,
    )
}

#[test]
fn heartbeat_timeout_as_connecter() {
    each_transport(|t| {
        let (z, zp) = heartbeat_connecter(t, Impl::Libzmq);
        let (o, op) = heartbeat_connecter(t, Impl::Ours);
        let norm = |r: &Run| {
            let mut n = normalise(&r.events, &r.subs, Fds::Identity);
            for e in &mut n {
                if e.name == "CONNECT_RETRIED" {
                    // 5000 plus jitter up to one interval (no maximum set).
                    let v: u32 = e.value.parse().unwrap();
                    assert!((5000..10_000).contains(&v), "{e:?}");
                    e.value = "5000+jitter".to_owned();
                }
            }
            n
        };
        assert_eq!(
            norm(&o),
            norm(&z),
            "{t:?}\nours {:?}\nlibzmq {:?}",
            o.events,
            z.events
        );
        let mut want = vec![
            "CONNECTED",
            "HANDSHAKE_SUCCEEDED",
            "DISCONNECTED",
            "CONNECT_RETRIED",
            "MONITOR_STOPPED",
        ];
        if t == Transport::Tcp {
            want.insert(0, "CONNECT_DELAYED");
        }
        assert_eq!(names(&norm(&o)), want, "{t:?}");
        // Both pinged the silent server before giving up, with the same
        // bytes (no TTL, no context).
        assert!(
            !zp.is_empty() && !op.is_empty(),
            "ours {op:?} libzmq {zp:?}"
        );
        assert_eq!(op[0], zp[0]);
        assert_eq!(op[0], ping(0)[2..]);
    });
}

/// Our socket or libzmq's binds; a raw client handshakes, sends `extra`,
/// then goes silent. With `heartbeat` on, the server's own PINGs go
/// unanswered; without, the TTL of the client's PING expires.
fn heartbeat_binder(t: Transport, imp: Impl, heartbeat: bool, extra: Vec<u8>) -> Run {
    let ctx = Ctx::new();
    let s = Peer::new(&ctx, imp, SocketType::Router);
    if heartbeat {
        s.set_heartbeat(50, 0);
    }
    let mon = s.monitor(&ctx, "hb-bind", ALL);
    let ep = s.bind(&bind_endpoint(t, "hb-bind"));
    let client = raw_client(&ep, silent_peer("DEALER", extra));
    let mut events = mon.until("DISCONNECTED");
    s.close();
    events.extend(mon.until("MONITOR_STOPPED"));
    client.join().unwrap();
    Run {
        events,
        subs: vec![placeholder(&ep, "EP")],
    }
}

#[test]
fn heartbeat_timeout_as_binder() {
    let want = [
        "LISTENING",
        "ACCEPTED",
        "HANDSHAKE_SUCCEEDED",
        "DISCONNECTED",
        "CLOSED",
        "MONITOR_STOPPED",
    ];
    each_transport(|t| {
        let ev = parity(&format!("{t:?} heartbeat"), Fds::Identity, |imp| {
            heartbeat_binder(t, imp, true, Vec::new())
        });
        assert_eq!(names(&ev), want, "{t:?}");
        // libzmq test_heartbeat_ttl with a raw client: one PING with a TTL
        // of one decisecond, then silence.
        let ev = parity(&format!("{t:?} ttl"), Fds::Identity, |imp| {
            heartbeat_binder(t, imp, false, ping(1))
        });
        assert_eq!(names(&ev), want, "{t:?}");
    });
}
