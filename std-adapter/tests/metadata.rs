//! Message properties (`Message::property`, libzmq's `zmq_msg_gets`)
//! compared with libzmq 4.3.5 (pyzmq): the same clients (ours, several at
//! once, each with its own routing id and credentials) send to a pyzmq
//! ROUTER and to ours, each with a ZAP handler giving a user id and
//! metadata; every message must report the same properties on both, for
//! NULL, NULL with a ZAP domain, PLAIN and CURVE, over TCP and IPC.
//!
//! `ZMQ_METADATA` (`Socket::set_metadata`): option checks call by call
//! against libzmq 4.3.5, the READY bytes against libzmq's, and application
//! properties read both ways between us and libzmq, for NULL, PLAIN and
//! CURVE.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[path = "common/pyzmq.rs"]
mod pyzmq;

use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::collections::BTreeMap;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

use common::{WAIT, ipc_path, send};
use serde_json::{Value, json};
use zmtp_std::{Context, Error, Message, Socket, SocketType};

/// The names every message is asked about: the standard ones, the ZAP
/// handler's metadata, a case variant and an unknown one (`EINVAL`).
const NAMES: &[&str] = &[
    "User-Id",
    "Socket-Type",
    "Identity",
    "Peer-Address",
    "X-Tag",
    "user-id",
    "Routing-Id",
    "X-Missing",
];

/// Clients per run.
const CLIENTS: usize = 3;
/// Messages each client sends.
const PER_CLIENT: usize = 2;

/// The ZAP handler's reply metadata: `X-Tag`, and a `User-Id` that the
/// reply's user id frame must win over.
const ZAP_METADATA: &[u8] = b"\x05X-Tag\x00\x00\x00\x03red\x07User-Id\x00\x00\x00\x03bob";

const SCRIPT: &str = r#"
import json, os, sys, threading, zmq
spec = json.loads(sys.argv[1])
ctx = zmq.Context()
meta = bytes.fromhex(spec["zap_metadata"])
ready = threading.Event()
def zap():
    z = ctx.socket(zmq.REP)
    z.linger = 0
    z.bind("inproc://zeromq.zap.01")
    ready.set()
    while True:
        req = z.recv_multipart()
        mech = req[5]
        if mech == b"PLAIN":
            uid = req[6]
        elif mech == b"CURVE":
            uid = req[6].hex().encode()
        else:
            uid = b"alice"
        z.send_multipart([b"1.0", req[1], b"200", b"OK", uid, meta])
threading.Thread(target=zap, daemon=True).start()
ready.wait()
s = ctx.socket(zmq.ROUTER)
s.linger = 0
s.rcvtimeo = 20000
if spec["mech"] == "plain":
    s.plain_server = True
if spec["mech"] == "curve":
    s.curve_server = True
    s.curve_secretkey = bytes.fromhex(spec["secret"])
if spec["domain"]:
    s.zap_domain = spec["domain"].encode()
s.bind(spec["endpoint"])
print(json.dumps({"endpoint": s.last_endpoint.decode()}), flush=True)
for _ in range(spec["count"]):
    frames = s.recv_multipart(copy=False)
    per_frame = []
    for f in frames:
        props = {}
        for n in spec["names"]:
            try:
                props[n] = f.get(n)
            except zmq.ZMQError as e:
                props[n] = None if e.errno == zmq.EINVAL else "errno %d" % e.errno
        per_frame.append(props)
    print(json.dumps({"frames": [f.bytes.hex() for f in frames], "props": per_frame}), flush=True)
for i in range(spec["clients"]):
    s.send_multipart([b"c%d" % i, b"reply"])
sys.stdin.readline()
os._exit(0)
"#;

/// Every name in [`NAMES`] with its value (`None`: `EINVAL`).
type Props = BTreeMap<String, Option<String>>;

/// What a server saw: each message's frames and, per frame, its
/// properties.
type Seen = Vec<(Vec<Vec<u8>>, Vec<Props>)>;

/// What a server saw, and what each client saw of the server's reply.
struct Views {
    server: Seen,
    clients: Vec<Props>,
}

/// Each client receives the server's reply: its properties.
fn replies(clients: &[Socket]) -> Vec<Props> {
    clients
        .iter()
        .map(|c| {
            c.set_rcvtimeo(i32::try_from(WAIT.as_millis()).unwrap())
                .unwrap();
            let msg = c.recv_msg().unwrap();
            assert_eq!(msg.frame(0), Some(&b"reply"[..]));
            props_of(&msg).remove(0)
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mech {
    Null,
    NullDomain,
    Plain,
    #[cfg_attr(not(feature = "curve"), allow(dead_code))]
    Curve,
}

impl Mech {
    fn name(self) -> &'static str {
        match self {
            Self::Null | Self::NullDomain => "null",
            Self::Plain => "plain",
            Self::Curve => "curve",
        }
    }

    fn domain(self) -> &'static str {
        if self == Self::NullDomain { "d" } else { "" }
    }
}

/// A CURVE key pair as `(public, secret)`.
type Keys = ([u8; 32], [u8; 32]);

#[cfg(feature = "curve")]
fn keypair() -> Keys {
    let k = zmtp_std::curve_keypair();
    (k.public, k.secret)
}

#[cfg(not(feature = "curve"))]
fn keypair() -> Keys {
    ([0; 32], [0; 32])
}

/// One run's keys and credentials.
struct Run {
    mech: Mech,
    server: Keys,
    clients: Vec<Keys>,
}

impl Run {
    fn new(mech: Mech) -> Self {
        Self {
            mech,
            server: keypair(),
            clients: (0..CLIENTS).map(|_| keypair()).collect(),
        }
    }

    /// The user id the handlers give client `i` (`None`: no handler runs).
    fn user_id(&self, i: usize) -> Option<String> {
        match self.mech {
            Mech::Null => None,
            Mech::NullDomain => Some("alice".to_owned()),
            Mech::Plain => Some(format!("user{i}")),
            Mech::Curve => Some(hex(&self.clients[i].0)),
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Our clients, connected to `endpoint`, each sending [`PER_CLIENT`]
/// messages.
fn run_clients(ctx: &Context, run: &Run, endpoint: &str) -> Vec<Socket> {
    let clients: Vec<Socket> = (0..CLIENTS)
        .map(|i| {
            let c = ctx.socket(SocketType::Dealer).unwrap();
            c.set_linger(0).unwrap();
            c.set_routing_id(format!("c{i}").as_bytes()).unwrap();
            match run.mech {
                Mech::Plain => {
                    c.set_plain_username(format!("user{i}").as_bytes()).unwrap();
                    c.set_plain_password(b"pw").unwrap();
                }
                #[cfg(feature = "curve")]
                Mech::Curve => {
                    c.set_curve_serverkey(&run.server.0).unwrap();
                    c.set_curve_publickey(&run.clients[i].0).unwrap();
                    c.set_curve_secretkey(&run.clients[i].1).unwrap();
                }
                _ => {}
            }
            c.connect(endpoint).unwrap();
            c
        })
        .collect();
    for k in 0..PER_CLIENT {
        for (i, c) in clients.iter().enumerate() {
            send(c, &[format!("m{i}-{k}").as_bytes()]);
        }
    }
    clients
}

/// The pyzmq server's view of our clients.
fn py_server(python: &std::path::Path, run: &Run, endpoint: &str) -> Views {
    let spec = json!({
        "mech": run.mech.name(),
        "domain": run.mech.domain(),
        "secret": hex(&run.server.1),
        "endpoint": endpoint,
        "count": CLIENTS * PER_CLIENT,
        "clients": CLIENTS,
        "names": NAMES,
        "zap_metadata": hex(ZAP_METADATA),
    });
    let server = PyPeer::run(python, SCRIPT, &spec);
    let bound = server.next()["endpoint"].as_str().unwrap().to_owned();
    let ctx = Context::new().unwrap();
    let clients = run_clients(&ctx, run, &bound);
    let mut seen = Seen::new();
    for _ in 0..CLIENTS * PER_CLIENT {
        let v = server.next();
        let frames = v["frames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| unhex(f.as_str().unwrap()))
            .collect();
        let props = v["props"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                p.as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned)))
                    .collect()
            })
            .collect();
        seen.push((frames, props));
    }
    let client_views = replies(&clients);
    for c in clients {
        c.close().unwrap();
    }
    drop(server);
    Views {
        server: seen,
        clients: client_views,
    }
}

/// Our ZAP handler, answering as the script's does.
fn our_zap(ctx: &Context, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    let z = ctx.socket(SocketType::Rep).unwrap();
    z.set_linger(0).unwrap();
    z.bind("inproc://zeromq.zap.01").unwrap();
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            let req = match z.recv_timeout(Duration::from_millis(20)) {
                Ok(m) => m,
                Err(Error::WouldBlock) => continue,
                Err(e) => panic!("ZAP handler: {e}"),
            };
            let uid = match req[5].as_slice() {
                b"PLAIN" => req[6].clone(),
                b"CURVE" => hex(&req[6]).into_bytes(),
                _ => b"alice".to_vec(),
            };
            z.send(&[b"1.0", &req[1], b"200", b"OK", &uid, ZAP_METADATA])
                .unwrap();
        }
        let _ = z.close();
    })
}

/// The properties of `msg` for every name in [`NAMES`], one map per frame
/// (ours are per message).
fn props_of(msg: &Message) -> Vec<Props> {
    let one: Props = NAMES
        .iter()
        .map(|&n| {
            let v = msg
                .property(n)
                .map(|v| String::from_utf8(v.to_vec()).unwrap());
            (n.to_owned(), v)
        })
        .collect();
    vec![one; msg.len()]
}

/// Our server's view of our clients; alternates `recv_msg` and
/// `recv_into` (into one reused message).
fn our_server(run: &Run, endpoint: &str) -> Views {
    let ctx = Context::new().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let zap = our_zap(&ctx, Arc::clone(&stop));
    let s = ctx.socket(SocketType::Router).unwrap();
    s.set_linger(0).unwrap();
    match run.mech {
        Mech::Plain => s.set_plain_server(true).unwrap(),
        #[cfg(feature = "curve")]
        Mech::Curve => {
            s.set_curve_server(true).unwrap();
            s.set_curve_secretkey(&run.server.1).unwrap();
        }
        Mech::NullDomain => s.set_zap_domain(b"d").unwrap(),
        _ => {}
    }
    s.bind(endpoint).unwrap();
    let bound = s.last_endpoint().unwrap();
    let clients = run_clients(&ctx, run, &bound);
    let mut seen = Seen::new();
    let mut reused = Message::new();
    for n in 0..CLIENTS * PER_CLIENT {
        let msg = if n % 2 == 0 {
            s.recv_into_timeout(&mut reused, WAIT).unwrap();
            reused.clone()
        } else {
            s.set_rcvtimeo(i32::try_from(WAIT.as_millis()).unwrap())
                .unwrap();
            s.recv_msg().unwrap()
        };
        seen.push((msg.to_vecs(), props_of(&msg)));
    }
    for i in 0..CLIENTS {
        send(&s, &[format!("c{i}").as_bytes(), b"reply"]);
    }
    let client_views = replies(&clients);
    for c in clients {
        c.close().unwrap();
    }
    s.close().unwrap();
    stop.store(true, Ordering::SeqCst);
    zap.join().unwrap();
    Views {
        server: seen,
        clients: client_views,
    }
}

/// Checks what a server saw against what libzmq is documented and observed
/// to report, whoever the server was.
fn check_expected(run: &Run, ipc: bool, views: &Views, who: &str) {
    let seen = &views.server;
    assert_eq!(seen.len(), CLIENTS * PER_CLIENT, "{who}");
    // Clients and servers run in this process, or (pyzmq) a child whose
    // uid and gid are ours; the clients' pid is ours.
    let peer_address = if ipc {
        format!(
            "localhost:{}:{}:{}",
            rustix_ids().0,
            rustix_ids().1,
            std::process::id()
        )
    } else {
        "127.0.0.1".to_owned()
    };
    for p in &views.clients {
        assert_eq!(p["User-Id"], None, "{who}: clients run no ZAP handler");
        assert_eq!(p["Socket-Type"].as_deref(), Some("ROUTER"), "{who}");
        assert_eq!(p["X-Tag"], None, "{who}");
        let address = p["Peer-Address"].clone().unwrap();
        if ipc {
            assert!(address.starts_with("localhost:"), "{who}: {address}");
        } else {
            assert_eq!(address, "127.0.0.1", "{who}");
        }
    }
    for (frames, props) in seen {
        assert_eq!(frames.len(), 2, "{who}: routing id + body");
        let id = String::from_utf8(frames[0].clone()).unwrap();
        let i: usize = id.strip_prefix('c').unwrap().parse().unwrap();
        let zap = run.mech != Mech::Null;
        for p in props {
            let get = |n: &str| p[n].clone();
            assert_eq!(get("User-Id"), run.user_id(i), "{who} {:?}", run.mech);
            assert_eq!(get("Socket-Type").as_deref(), Some("DEALER"), "{who}");
            assert_eq!(get("Identity"), Some(id.clone()), "{who}");
            assert_eq!(get("Peer-Address"), Some(peer_address.clone()), "{who}");
            assert_eq!(get("X-Tag").as_deref(), zap.then_some("red"), "{who}");
            assert_eq!(get("user-id"), None, "{who}: names are case-sensitive");
            assert_eq!(get("Routing-Id"), None, "{who}");
            assert_eq!(get("X-Missing"), None, "{who}");
        }
    }
}

/// This process's real uid and gid (what `SO_PEERCRED` reports).
fn rustix_ids() -> (u32, u32) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u32 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap()
    };
    (field("Uid:"), field("Gid:"))
}

fn sorted(mut views: Views) -> Views {
    views.server.sort_by(|a, b| a.0.cmp(&b.0));
    views
}

fn compare(mech: Mech, ipc: bool) {
    let run = Run::new(mech);
    let endpoint = |tag: &str| {
        if ipc {
            ipc_path(tag)
        } else {
            "tcp://127.0.0.1:*".to_owned()
        }
    };
    let ours = sorted(our_server(&run, &endpoint("ours")));
    check_expected(&run, ipc, &ours, "ours");
    let Some(python) = python_or_skip() else {
        return;
    };
    let theirs = sorted(py_server(&python, &run, &endpoint("libzmq")));
    check_expected(&run, ipc, &theirs, "libzmq");
    assert_eq!(
        ours.server, theirs.server,
        "{mech:?} ipc={ipc}: our server vs libzmq 4.3.5"
    );
    // Over IPC the clients see the server's pid, which differs.
    let without_pid = |views: &Views| -> Vec<Props> {
        let mut v = views.clients.clone();
        for p in &mut v {
            if let Some(Some(a)) = p.get_mut("Peer-Address")
                && ipc
            {
                a.truncate(a.rfind(':').unwrap());
            }
        }
        v
    };
    assert_eq!(
        without_pid(&ours),
        without_pid(&theirs),
        "{mech:?} ipc={ipc}: our clients' view of our server vs of libzmq 4.3.5"
    );
}

fn python_or_skip() -> Option<std::path::PathBuf> {
    match pyzmq::python() {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("skipping the libzmq 4.3.5 comparison: {e}");
            None
        }
    }
}

#[test]
fn null_without_zap_has_no_user_id() {
    compare(Mech::Null, false);
    compare(Mech::Null, true);
}

#[test]
fn null_with_zap_domain() {
    compare(Mech::NullDomain, false);
    compare(Mech::NullDomain, true);
}

#[test]
fn plain_each_peer_its_own_user_id() {
    compare(Mech::Plain, false);
    compare(Mech::Plain, true);
}

#[cfg(feature = "curve")]
#[test]
fn curve_each_peer_its_own_user_id() {
    compare(Mech::Curve, false);
    compare(Mech::Curve, true);
}

/// Messages built by the application and a ZAP handler's requests carry
/// no properties; a received message keeps its properties when cloned and
/// loses them when cleared.
#[test]
fn messages_without_a_connection_have_no_properties() {
    let mut m = Message::new();
    m.push(b"x");
    assert_eq!(m.property("Socket-Type"), None);
    assert!(m.metadata().is_none());

    let ctx = Context::new().unwrap();
    let zap = ctx.socket(SocketType::Rep).unwrap();
    zap.set_linger(0).unwrap();
    zap.bind("inproc://zeromq.zap.01").unwrap();
    let s = ctx.socket(SocketType::Pull).unwrap();
    s.set_linger(0).unwrap();
    s.set_zap_domain(b"d").unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let c = ctx.socket(SocketType::Push).unwrap();
    c.set_linger(0).unwrap();
    c.connect(&s.last_endpoint().unwrap()).unwrap();
    let mut req = Message::new();
    zap.recv_into_timeout(&mut req, WAIT).unwrap();
    assert_eq!(req.frame(5), Some(&b"NULL"[..]));
    assert!(req.metadata().is_none(), "a ZAP request has no properties");
    zap.send(&[b"1.0", req.frame(1).unwrap(), b"200", b"OK", b"", b""])
        .unwrap();
    // The PUSH sends once its handshake succeeded.
    send(&c, &[b"hello"]);
    let mut got = Message::new();
    s.recv_into_timeout(&mut got, WAIT).unwrap();
    assert_eq!(got.frame(0), Some(&b"hello"[..]));
    // An empty user id is still a `User-Id` (libzmq `set_user_id`).
    assert_eq!(got.property("User-Id"), Some(&b""[..]));
    assert_eq!(got.property("Socket-Type"), Some(&b"PUSH"[..]));
    assert_eq!(got.property("Identity"), None, "a PUSH sends no Identity");
    let names: Vec<&str> = got.metadata().unwrap().iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Peer-Address", "Socket-Type", "User-Id"]);
    let copy = got.clone();
    assert_eq!(copy.property("Socket-Type"), Some(&b"PUSH"[..]));
    got.clear();
    assert_eq!(got.property("Socket-Type"), None);
}

/// A SUB's subscriptions go out when the I/O thread has read the peer's
/// metadata; they must not wait behind a transmit chunk still holding the
/// handshake's last command (a libzmq PUB hears nothing otherwise). That
/// depends on timing, so several SUBs connect at once, a few times.
#[test]
fn sub_subscribes_right_after_the_handshake() {
    let threads: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| (0..8).filter(|_| !sub_gets_news()).count()))
        .collect();
    let failed: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(failed, 0, "SUBs that never received");
}

/// Whether our SUB receives from a libzmq PUB publishing every 20 ms
/// within [`WAIT`].
fn sub_gets_news() -> bool {
    let zctx = zmq::Context::new();
    let publisher = zctx.socket(zmq::PUB).unwrap();
    publisher.set_linger(0).unwrap();
    publisher.bind("tcp://127.0.0.1:*").unwrap();
    let ep = publisher.get_last_endpoint().unwrap().unwrap();
    let ctx = Context::new().unwrap();
    let sub = ctx.socket(SocketType::Sub).unwrap();
    sub.set_linger(0).unwrap();
    sub.set_subscribe(b"").unwrap();
    sub.connect(&ep).unwrap();
    let start = std::time::Instant::now();
    while start.elapsed() < WAIT {
        publisher.send("news", 0).unwrap();
        if let Ok(m) = sub.recv_timeout(Duration::from_millis(20)) {
            assert_eq!(m, vec![b"news".to_vec()]);
            return true;
        }
    }
    false
}

// ---------------------------------------------------------------------
// ZMQ_METADATA: application properties sent in our own handshakes.
// ---------------------------------------------------------------------

/// Option values asked of both libzmq and us, `setsockopt` by
/// `setsockopt` on one socket: libzmq's own test cases (test_app_meta.cpp),
/// the edges of its checks (first colon, 4-byte values, `X-` case, 255-byte
/// names, NUL bytes) and a repeated name.
fn option_cases() -> Vec<Vec<u8>> {
    let mut cases: Vec<Vec<u8>> = [
        &b"X-hello:hello"[..],
        b":",
        b"key:",
        b":value",
        b"keyvalue",
        b"",
        b"X-",
        b"X-:b",
        b"X-:bc",
        b"X-a:",
        b"X-a:1",
        b"X-b:22",
        b"X-b:33",
        b"x-c:1",
        b"Y-c:1",
        b"X-c:a:b",
        b"X-d::",
        b"X-e:\0b",
        b"X-f\0g:v",
        b"X-hello:again",
        b"1234",
    ]
    .iter()
    .map(|c| c.to_vec())
    .collect();
    let key = |n: usize| {
        let mut k = b"X-".to_vec();
        k.resize(n, b'k');
        k
    };
    // 250 bytes is the longest name that fits our limit with a 1-byte
    // value; libzmq takes up to 255 (see `metadata_option_limits`).
    for n in [250, 256] {
        let mut c = key(n);
        c.extend_from_slice(b":v");
        cases.push(c);
    }
    // libzmq's too-long key.
    let mut long = b"X-".to_vec();
    long.extend(b"KeyTooLong".repeat(26));
    long.extend_from_slice(b":value");
    cases.push(long);
    cases
}

/// What libzmq 4.3.5 answers to each of [`option_cases`], each on a new
/// REQ socket: 0 or the errno.
const OPTION_SCRIPT: &str = r#"
import json, sys, zmq
ctx = zmq.Context()
out = []
for c in json.loads(sys.argv[1]):
    s = ctx.socket(zmq.REQ)
    s.linger = 0
    try:
        s.setsockopt(zmq.METADATA, bytes.fromhex(c))
        out.append(0)
    except zmq.ZMQError as e:
        out.append(e.errno)
try:
    ctx.socket(zmq.REQ).getsockopt(zmq.METADATA)
    out.append(0)
except zmq.ZMQError as e:
    out.append(e.errno)
print(json.dumps(out), flush=True)
"#;

fn errno_of(r: zmtp_std::Result<()>) -> i64 {
    r.map_or_else(|e| i64::from(e.errno()), |()| 0)
}

/// `Socket::set_metadata` accepts and refuses exactly what libzmq's
/// `ZMQ_METADATA` does, call by call, each on a new socket (so that our
/// size limit stays out of the way, see [`metadata_option_limits`]);
/// libzmq has no getter (`EINVAL`), and neither have we.
#[test]
fn metadata_option_is_checked_as_libzmq_checks_it() {
    let cases = option_cases();
    let ctx = Context::new().unwrap();
    let ours: Vec<i64> = cases
        .iter()
        .map(|c| {
            let s = ctx.socket(SocketType::Req).unwrap();
            s.set_linger(0).unwrap();
            errno_of(s.set_metadata(c))
        })
        .collect();
    // libzmq's own bad strings (test_app_meta.cpp) are refused with EINVAL.
    for (c, e) in cases.iter().zip(&ours) {
        if [&b":"[..], b"key:", b":value", b"keyvalue", b""].contains(&c.as_slice())
            || c.len() > 258
        {
            assert_eq!(*e, 22, "{:?}", String::from_utf8_lossy(c));
        }
    }
    assert_eq!(ours[0], 0, "X-hello:hello");
    let Some(python) = python_or_skip() else {
        return;
    };
    let arg = Value::from(cases.iter().map(|c| hex(c)).collect::<Vec<_>>()).to_string();
    let out = Command::new(python)
        .arg("-c")
        .arg(OPTION_SCRIPT)
        .arg(arg)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut theirs: Vec<i64> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs.pop(), Some(22), "libzmq has no ZMQ_METADATA getter");
    for ((c, o), t) in cases.iter().zip(&ours).zip(&theirs) {
        assert_eq!(
            o,
            t,
            "{:?}: ours vs libzmq 4.3.5",
            String::from_utf8_lossy(c)
        );
    }
}

/// Where we refuse what libzmq takes (see the README's differences): a
/// name outside RFC 23's characters (the core cannot encode it), and more
/// properties than `METADATA_CAP` (256) bytes hold, encoded; a refused
/// call changes nothing the socket sends.
#[test]
fn metadata_option_limits() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Dealer).unwrap();
    s.set_routing_id(b"id").unwrap();
    assert_eq!(s.set_metadata(b"X-a b:v").unwrap_err().errno(), 22);
    let big = [&b"X-big:"[..], &[b'v'; 300]].concat();
    assert!(matches!(s.set_metadata(&big), Err(Error::OutOfMemory)));
    // A 255-byte name, which libzmq takes, needs 261 bytes.
    let name255 = [&b"X-"[..], &[b'k'; 253], b":v"].concat();
    assert!(matches!(s.set_metadata(&name255), Err(Error::OutOfMemory)));
    // Up to the limit properties still fit.
    let fits = [&b"X-fits:"[..], &[b'v'; 200]].concat();
    s.set_metadata(&fits).unwrap();
    assert!(matches!(
        s.set_metadata(b"X-more:0123456789012345678901234567890123456789012345678901"),
        Err(Error::OutOfMemory)
    ));
    s.set_metadata(b"X-m:1").unwrap();
    // What the socket sends: the accepted properties only, and the options
    // set before them (the routing id) still there.
    s.set_linger(0).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    s.connect(&format!("tcp://{}", listener.local_addr().unwrap()))
        .unwrap();
    let ready = capture_ready(&listener);
    let mut expected =
        b"\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x02id".to_vec();
    expected.extend_from_slice(b"\x06X-fits\x00\x00\x00\xc8");
    expected.extend_from_slice(&[b'v'; 200]);
    expected.extend_from_slice(b"\x03X-m\x00\x00\x00\x011");
    assert_eq!(ready, expected);
}

/// What each side sets (in this order), and what the peer must read: a
/// repeated name keeps its first value, a value stops at a NUL byte.
const CLIENT_META: &[&[u8]] = &[
    b"X-hello:hello",
    b"X-connection:primary",
    b"X-bin:009c6",
    b"X-colon:a:b",
    b"X-nul:ab\0cd",
    b"X-hello:again",
];
const CLIENT_SEEN: &[(&str, &str)] = &[
    ("X-hello", "hello"),
    ("X-connection", "primary"),
    ("X-bin", "009c6"),
    ("X-colon", "a:b"),
    ("X-nul", "ab"),
];
const SERVER_META: &[&[u8]] = &[b"X-hello:world", b"X-connection:backup"];
const SERVER_SEEN: &[(&str, &str)] = &[("X-hello", "world"), ("X-connection", "backup")];
/// Asked on every message besides those above: one name nobody sets.
const MISSING: &str = "X-missing";

/// A pyzmq ROUTER server or DEALER client with `ZMQ_METADATA`, printing
/// the properties of the one message it receives.
const APP_META_SCRIPT: &str = r#"
import json, os, sys, threading, zmq
spec = json.loads(sys.argv[1])
ctx = zmq.Context()
server = spec["role"] == "server"
if server and spec["mech"] != "null":
    ready = threading.Event()
    def zap():
        z = ctx.socket(zmq.REP)
        z.linger = 0
        z.bind("inproc://zeromq.zap.01")
        ready.set()
        while True:
            req = z.recv_multipart()
            z.send_multipart([b"1.0", req[1], b"200", b"OK", b"u", b""])
    threading.Thread(target=zap, daemon=True).start()
    ready.wait()
s = ctx.socket(zmq.ROUTER if server else zmq.DEALER)
s.linger = 0
s.rcvtimeo = 20000
for m in spec["meta"]:
    s.setsockopt(zmq.METADATA, bytes.fromhex(m))
if spec["mech"] == "plain":
    if server:
        s.plain_server = True
    else:
        s.plain_username = b"u"
        s.plain_password = b"p"
if spec["mech"] == "curve":
    if server:
        s.curve_server = True
        s.curve_secretkey = bytes.fromhex(spec["secret"])
    else:
        s.curve_serverkey = bytes.fromhex(spec["server_public"])
        s.curve_publickey = bytes.fromhex(spec["public"])
        s.curve_secretkey = bytes.fromhex(spec["secret"])
if server:
    s.bind(spec["endpoint"])
    print(json.dumps({"endpoint": s.last_endpoint.decode()}), flush=True)
else:
    s.connect(spec["endpoint"])
    s.send(b"hi")
frames = s.recv_multipart(copy=False)
props = {}
for n in spec["names"]:
    try:
        props[n] = frames[-1].get(n)
    except zmq.ZMQError as e:
        props[n] = None if e.errno == zmq.EINVAL else "errno %d" % e.errno
if server:
    s.send_multipart([frames[0].bytes, b"back"])
print(json.dumps({"props": props}), flush=True)
sys.stdin.readline()
os._exit(0)
"#;

/// A pyzmq process running a script given a JSON spec, and the JSON lines
/// it prints.
struct PyPeer {
    child: Child,
    lines: Receiver<Value>,
    reader: Option<JoinHandle<()>>,
}

impl PyPeer {
    /// Runs [`APP_META_SCRIPT`].
    fn start(python: &std::path::Path, spec: &Value) -> Self {
        Self::run(python, APP_META_SCRIPT, spec)
    }

    fn run(python: &std::path::Path, script: &str, spec: &Value) -> Self {
        let (child, lines, reader) =
            pyzmq::spawn_lines(python, script, &[&spec.to_string()], |line| {
                serde_json::from_str::<Value>(&line).unwrap()
            });
        Self {
            child,
            lines,
            reader: Some(reader),
        }
    }

    fn next(&self) -> Value {
        self.lines
            .recv_timeout(WAIT * 2)
            .unwrap_or_else(|e| panic!("pyzmq process said nothing: {e}"))
    }

    /// The properties it printed, by name.
    fn props(&self) -> Props {
        self.next()["props"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned)))
            .collect()
    }
}

impl Drop for PyPeer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = std::time::Instant::now() + WAIT;
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// The names asked about and the values expected: `seen`, and
/// [`MISSING`] absent.
fn expected(seen: &[(&str, &str)]) -> Props {
    seen.iter()
        .map(|&(n, v)| (n.to_owned(), Some(v.to_owned())))
        .chain([(MISSING.to_owned(), None)])
        .collect()
}

fn names<'a>(seen: &[(&'a str, &str)]) -> Vec<&'a str> {
    seen.iter().map(|&(n, _)| n).chain([MISSING]).collect()
}

fn our_props(msg: &Message, seen: &[(&str, &str)]) -> Props {
    names(seen)
        .into_iter()
        .map(|n| {
            let v = msg
                .property(n)
                .map(|v| String::from_utf8(v.to_vec()).unwrap());
            (n.to_owned(), v)
        })
        .collect()
}

/// Sets `meta` on `s`, and `mech` in the given role (between the first
/// property and the others: the mechanism must survive both).
fn configure(s: &Socket, mech: Mech, server: bool, run: &Run, meta: &[&[u8]]) {
    s.set_metadata(meta[0]).unwrap();
    match (mech, server) {
        (Mech::Plain, true) => s.set_plain_server(true).unwrap(),
        (Mech::Plain, false) => {
            s.set_plain_username(b"u").unwrap();
            s.set_plain_password(b"p").unwrap();
        }
        #[cfg(feature = "curve")]
        (Mech::Curve, true) => {
            s.set_curve_server(true).unwrap();
            s.set_curve_secretkey(&run.server.1).unwrap();
        }
        #[cfg(feature = "curve")]
        (Mech::Curve, false) => {
            s.set_curve_serverkey(&run.server.0).unwrap();
            s.set_curve_publickey(&run.clients[0].0).unwrap();
            s.set_curve_secretkey(&run.clients[0].1).unwrap();
        }
        _ => {}
    }
    let _ = run;
    for m in &meta[1..] {
        s.set_metadata(m).unwrap();
    }
}

fn spec(
    role: &str,
    mech: Mech,
    run: &Run,
    endpoint: &str,
    meta: &[&[u8]],
    seen: &[(&str, &str)],
) -> Value {
    json!({
        "role": role,
        "mech": mech.name(),
        "endpoint": endpoint,
        "meta": meta.iter().map(|m| hex(m)).collect::<Vec<_>>(),
        "names": names(seen),
        "secret": hex(if role == "server" { &run.server.1 } else { &run.clients[0].1 }),
        "public": hex(&run.clients[0].0),
        "server_public": hex(&run.server.0),
    })
}

/// Our DEALER client with `ZMQ_METADATA` against a pyzmq ROUTER server with
/// its own, and a pyzmq DEALER client against our ROUTER server: each side
/// reads the other's application properties.
fn app_metadata_both_ways(mech: Mech) {
    let Some(python) = python_or_skip() else {
        return;
    };
    let run = Run::new(mech);
    let ctx = Context::new().unwrap();

    // Ours as the client.
    let server = PyPeer::start(
        &python,
        &spec(
            "server",
            mech,
            &run,
            "tcp://127.0.0.1:*",
            SERVER_META,
            CLIENT_SEEN,
        ),
    );
    let endpoint = server.next()["endpoint"].as_str().unwrap().to_owned();
    let c = ctx.socket(SocketType::Dealer).unwrap();
    c.set_linger(0).unwrap();
    configure(&c, mech, false, &run, CLIENT_META);
    c.connect(&endpoint).unwrap();
    send(&c, &[b"hi"]);
    assert_eq!(
        server.props(),
        expected(CLIENT_SEEN),
        "{mech:?}: libzmq reads ours"
    );
    let mut reply = Message::new();
    c.recv_into_timeout(&mut reply, WAIT).unwrap();
    assert_eq!(reply.frame(0), Some(&b"back"[..]));
    assert_eq!(
        our_props(&reply, SERVER_SEEN),
        expected(SERVER_SEEN),
        "{mech:?}: we read libzmq's"
    );
    c.close().unwrap();
    drop(server);

    // Ours as the server.
    let stop = Arc::new(AtomicBool::new(false));
    let zap = our_zap(&ctx, Arc::clone(&stop));
    let s = ctx.socket(SocketType::Router).unwrap();
    s.set_linger(0).unwrap();
    configure(&s, mech, true, &run, SERVER_META);
    s.bind("tcp://127.0.0.1:*").unwrap();
    let client = PyPeer::start(
        &python,
        &spec(
            "client",
            mech,
            &run,
            &s.last_endpoint().unwrap(),
            CLIENT_META,
            SERVER_SEEN,
        ),
    );
    let mut got = Message::new();
    s.recv_into_timeout(&mut got, WAIT).unwrap();
    assert_eq!(got.frame(1), Some(&b"hi"[..]));
    assert_eq!(
        our_props(&got, CLIENT_SEEN),
        expected(CLIENT_SEEN),
        "{mech:?}: we read libzmq's"
    );
    send(&s, &[got.frame(0).unwrap(), b"back"]);
    assert_eq!(
        client.props(),
        expected(SERVER_SEEN),
        "{mech:?}: libzmq reads ours"
    );
    drop(client);
    s.close().unwrap();
    stop.store(true, Ordering::SeqCst);
    zap.join().unwrap();
}

#[test]
fn app_metadata_null() {
    app_metadata_both_ways(Mech::Null);
}

#[test]
fn app_metadata_plain() {
    app_metadata_both_ways(Mech::Plain);
}

#[cfg(feature = "curve")]
#[test]
fn app_metadata_curve() {
    app_metadata_both_ways(Mech::Curve);
}

/// A pyzmq DEALER with a routing id and [`CLIENT_META`], connected to
/// `argv[1]` until stdin closes.
const CONNECT_SCRIPT: &str = r#"
import json, os, sys, zmq
spec = json.loads(sys.argv[1])
s = zmq.Context().socket(zmq.DEALER)
s.linger = 0
s.routing_id = b"c0"
for m in spec["meta"]:
    s.setsockopt(zmq.METADATA, bytes.fromhex(m))
s.connect(spec["endpoint"])
sys.stdin.readline()
os._exit(0)
"#;

/// Accepts one connection on `listener`, sends a NULL greeting and
/// returns the body of the first command the peer sends (its READY).
fn capture_ready(listener: &std::net::TcpListener) -> Vec<u8> {
    use std::io::{Read, Write};
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(WAIT)).unwrap();
    let mut greeting = [0u8; 64];
    greeting[0] = 0xff;
    greeting[9] = 0x7f;
    greeting[10] = 3;
    greeting[11] = 1;
    greeting[12..16].copy_from_slice(b"NULL");
    conn.write_all(&greeting).unwrap();
    let mut theirs = [0u8; 64];
    conn.read_exact(&mut theirs).unwrap();
    assert_eq!(&theirs[12..16], b"NULL");
    let mut flags = [0u8; 1];
    conn.read_exact(&mut flags).unwrap();
    assert_eq!(flags[0] & 0x04, 0x04, "a command");
    let len = if flags[0] & 0x02 == 0 {
        let mut b = [0u8; 1];
        conn.read_exact(&mut b).unwrap();
        usize::from(b[0])
    } else {
        let mut b = [0u8; 8];
        conn.read_exact(&mut b).unwrap();
        usize::try_from(u64::from_be_bytes(b)).unwrap()
    };
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).unwrap();
    body
}

/// Our READY with application properties is byte for byte libzmq's:
/// `Socket-Type`, `Identity`, then the properties in name order (libzmq
/// keeps them in a `std::map`), whatever order they were set in, a repeated
/// name once with its first value, a value cut at its NUL byte.
#[test]
fn app_metadata_ready_bytes_as_libzmq() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let ctx = Context::new().unwrap();
    let c = ctx.socket(SocketType::Dealer).unwrap();
    c.set_linger(0).unwrap();
    c.set_routing_id(b"c0").unwrap();
    for m in CLIENT_META {
        c.set_metadata(m).unwrap();
    }
    c.connect(&endpoint).unwrap();
    let ours = capture_ready(&listener);
    c.close().unwrap();
    let mut expected =
        b"\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x02c0".to_vec();
    for (n, v) in [
        ("X-bin", "009c6"),
        ("X-colon", "a:b"),
        ("X-connection", "primary"),
        ("X-hello", "hello"),
        ("X-nul", "ab"),
    ] {
        expected.push(u8::try_from(n.len()).unwrap());
        expected.extend_from_slice(n.as_bytes());
        expected.extend_from_slice(&u32::try_from(v.len()).unwrap().to_be_bytes());
        expected.extend_from_slice(v.as_bytes());
    }
    assert_eq!(ours, expected, "ours");
    let Some(python) = python_or_skip() else {
        return;
    };
    let spec = json!({
        "endpoint": endpoint,
        "meta": CLIENT_META.iter().map(|m| hex(m)).collect::<Vec<_>>(),
    });
    let mut child = Command::new(python)
        .arg("-c")
        .arg(CONNECT_SCRIPT)
        .arg(spec.to_string())
        .stdin(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let theirs = capture_ready(&listener);
    drop(child.stdin.take());
    let deadline = std::time::Instant::now() + WAIT;
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(ours, theirs, "our READY vs libzmq 4.3.5's");
}

/// A property set after `bind` goes into the handshakes of connections
/// accepted from then on (a difference from libzmq, which copies the
/// options at `bind`).
#[test]
fn app_metadata_set_after_bind_applies_to_later_connections() {
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Dealer).unwrap();
    s.set_linger(0).unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    s.set_metadata(b"X-late:yes").unwrap();
    let c = ctx.socket(SocketType::Dealer).unwrap();
    c.set_linger(0).unwrap();
    c.connect(&s.last_endpoint().unwrap()).unwrap();
    send(&s, &[b"x"]);
    let mut m = Message::new();
    c.recv_into_timeout(&mut m, WAIT).unwrap();
    assert_eq!(m.property("X-late"), Some(&b"yes"[..]));
    assert_eq!(m.property("Socket-Type"), Some(&b"DEALER"[..]));
}

/// A libzmq peer whose property names the RFC grammar forbids (libzmq
/// sends and accepts any name): its handshake succeeds with us as with
/// libzmq, and the properties read back as sent; the connection is not
/// dropped.
#[test]
fn names_outside_the_rfc_grammar_are_read_as_libzmq_reads_them() {
    let Some(python) = python_or_skip() else {
        return;
    };
    const META: &[&[u8]] = &[b"X-a b:spaced", b"X-c/d:slashed"];
    const SEEN: &[(&str, &str)] = &[("X-a b", "spaced"), ("X-c/d", "slashed")];
    let run = Run::new(Mech::Null);
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Router).unwrap();
    s.set_linger(0).unwrap();
    s.monitor(Some("inproc://odd-names"), 0xFFFF).unwrap();
    let m = ctx.monitor_socket("inproc://odd-names").unwrap();
    s.bind("tcp://127.0.0.1:*").unwrap();
    let client = PyPeer::start(
        &python,
        &spec(
            "client",
            Mech::Null,
            &run,
            &s.last_endpoint().unwrap(),
            META,
            &[],
        ),
    );
    let mut got = Message::new();
    s.recv_into_timeout(&mut got, WAIT).unwrap();
    assert_eq!(got.frame(1), Some(&b"hi"[..]));
    assert_eq!(our_props(&got, SEEN), expected(SEEN));
    send(&s, &[got.frame(0).unwrap(), b"back"]);
    let _ = client.props();
    drop(client);
    // One connection, one handshake, no failure.
    let mut names = Vec::new();
    while let Ok(e) = m.recv_event(Some(Duration::from_millis(300))) {
        names.push(e.name());
        if names.len() > 16 {
            break;
        }
    }
    let count = |n: &str| names.iter().filter(|&&e| e == n).count();
    let (accepted, succeeded) = (count("ACCEPTED"), count("HANDSHAKE_SUCCEEDED"));
    assert_eq!((accepted, succeeded), (1, 1), "{names:?}");
    s.close().unwrap();
}
