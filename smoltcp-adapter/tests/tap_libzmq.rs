//! The adapter on a TAP device against real libzmq (the `zmq` crate), both
//! inside a network namespace that the test creates and removes.
//!
//! Each test, in the parent process:
//! 1. checks for root, `/dev/net/tun` and `ip`; without them it prints
//!    `skipped: <reason>` and passes;
//! 2. creates a namespace `zmtp-tap-<pid>-<test>` and in it a TAP device
//!    ([`TAP`], Linux side [`LINUX_ADDR`]/24) and `lo`, all brought up;
//! 3. runs this test binary again inside the namespace
//!    (`ip netns exec <ns> <this binary> --exact <test>`) with
//!    [`CHILD_VAR`] set, and waits for it at most [`CHILD_LIMIT`];
//! 4. removes the namespace (and with it the TAP device) on every path,
//!    from a `Drop` guard.
//!
//! The child process, inside the namespace, opens the TAP device with
//! smoltcp's `TunTapInterface` (smoltcp side [`SMOLTCP_ADDR`]), runs the
//! adapter on it with real time, and talks to libzmq on the Linux side of
//! the same device. Nothing outside the namespace is touched. Every wait is
//! bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test on unexpected results"
)]

use core::time::Duration as StdDuration;
use std::io::Read;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Instant as StdInstant;

use smoltcp::iface::{Config as IfaceConfig, Interface, SocketSet};
use smoltcp::phy::{Medium, TunTapInterface, wait};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr, IpEndpoint};
use zmtp_core::conn::Config;
use zmtp_core::monitor::{Event, EventMask, EventVersion, MonitorEvent, errno};
use zmtp_core::socket::Socket;
use zmtp_core::socket_type::SocketType;
use zmtp_smoltcp::{Options, Resources, ZmtpSocket};

/// Set (to the test's name) in the child process that runs inside the
/// namespace.
const CHILD_VAR: &str = "ZMTP_TAP_LIBZMQ_CHILD";
/// The TAP device inside the namespace.
const TAP: &str = "ztap0";
/// The Linux (libzmq) side of the TAP link.
const LINUX_ADDR: [u8; 4] = [10, 213, 0, 1];
/// The smoltcp side of the TAP link.
const SMOLTCP_ADDR: [u8; 4] = [10, 213, 0, 2];
/// The smoltcp side's MAC (locally administered).
const SMOLTCP_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x02, 0x13];
/// The port the bound side listens on.
const PORT: u16 = 5555;
/// The longest the child may run.
const CHILD_LIMIT: StdDuration = StdDuration::from_secs(60);
/// The longest one step of a scenario may take.
const STEP_LIMIT: StdDuration = StdDuration::from_secs(10);
/// The longest the child sleeps between polls (libzmq runs in its own
/// threads; this is how soon its progress is noticed).
const MAX_SLEEP: Duration = Duration::from_millis(5);
/// The line the child prints when its scenario passed.
const CHILD_PASSED: &str = "tap child passed:";

const PEERS: usize = 2;
type Zs = ZmtpSocket<'static, PEERS, 64, 64>;

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

/// libzmq REQ connects to the adapter's REP bound on the TAP address:
/// handshake, requests and replies (multipart, empty and 3000-byte frames,
/// so that segments are cut at the MSS), the REQ leaving; the adapter's
/// monitor shows LISTENING, ACCEPTED, HANDSHAKE_SUCCEEDED, DISCONNECTED.
#[test]
fn libzmq_req_connects_to_smoltcp_rep() {
    in_namespace("libzmq_req_connects_to_smoltcp_rep", 0, child_smoltcp_binds);
}

/// The adapter's DEALER connects to a libzmq DEALER bound on the Linux
/// side, first before libzmq binds (refused: CONNECT_DELAYED, CLOSED,
/// CONNECT_RETRIED), then successfully (CONNECTED, HANDSHAKE_SUCCEEDED);
/// messages both ways; libzmq leaving gives DISCONNECTED.
#[test]
fn smoltcp_dealer_connects_to_libzmq_dealer() {
    in_namespace(
        "smoltcp_dealer_connects_to_libzmq_dealer",
        1,
        child_smoltcp_connects,
    );
}

// ---------------------------------------------------------------------------
// The parent: namespace, TAP device, child process
// ---------------------------------------------------------------------------

/// Runs `child` in a fresh namespace (in a child process), or, in that
/// child process, runs it directly.
fn in_namespace(test: &str, index: u32, child: fn()) {
    if let Ok(name) = std::env::var(CHILD_VAR) {
        if name == test {
            child();
            println!("{CHILD_PASSED} {test}");
        }
        return;
    }
    if let Some(reason) = missing_prerequisite() {
        println!("skipped: {reason}");
        return;
    }
    let ns = Namespace::create(&format!("zmtp-tap-{}-{index}", std::process::id()));
    ns.exec(&["ip", "link", "set", "lo", "up"]);
    ns.exec(&["ip", "tuntap", "add", "dev", TAP, "mode", "tap"]);
    ns.exec(&[
        "ip",
        "addr",
        "add",
        &format!("{}/24", ip(LINUX_ADDR)),
        "dev",
        TAP,
    ]);
    ns.exec(&["ip", "link", "set", TAP, "up"]);

    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.name])
        .arg(&exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, test)
        .stdin(Stdio::null());
    let (ok, output) = run_bounded(&mut cmd, CHILD_LIMIT);
    // Indented, so that the child's libtest summary is not read as this
    // process's.
    println!("--- child process ({test}) ---");
    for line in output.lines() {
        println!("  | {line}");
    }
    println!("--- end of child process ---");
    assert!(ok, "the child process failed (output above)");
    assert!(
        output.contains(&format!("{CHILD_PASSED} {test}")),
        "the child process did not run the scenario (output above)"
    );
}

/// Why this machine cannot run the test, if it cannot.
fn missing_prerequisite() -> Option<String> {
    let uid = Command::new("id").arg("-u").output();
    match uid {
        Ok(out) if String::from_utf8_lossy(&out.stdout).trim() == "0" => {}
        Ok(out) => {
            return Some(format!(
                "not root (uid {}); network namespaces and TAP devices need root",
                String::from_utf8_lossy(&out.stdout).trim()
            ));
        }
        Err(e) => return Some(format!("cannot run `id -u`: {e}")),
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun does not exist".to_owned());
    }
    match Command::new("ip").arg("-V").output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!("`ip -V` failed ({})", out.status)),
        Err(e) => Some(format!("the `ip` command (iproute2) is not available: {e}")),
    }
}

/// A network namespace, removed (with its TAP device) when dropped.
struct Namespace {
    name: String,
}

impl Namespace {
    fn create(name: &str) -> Self {
        // A namespace left behind by an earlier run with the same pid.
        let _ = quiet(Command::new("ip").args(["netns", "del", name]));
        let ok = quiet(Command::new("ip").args(["netns", "add", name]));
        assert!(ok, "cannot create network namespace {name}");
        Self {
            name: name.to_owned(),
        }
    }

    /// Runs `args` inside the namespace; fails the test if it fails.
    fn exec(&self, args: &[&str]) {
        let status = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .stdin(Stdio::null())
            .status()
            .expect("run ip netns exec");
        assert!(
            status.success(),
            "`ip netns exec {} {}` failed: {status}",
            self.name,
            args.join(" ")
        );
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ =
            quiet(Command::new("ip").args(["netns", "exec", &self.name, "ip", "link", "del", TAP]));
        if !quiet(Command::new("ip").args(["netns", "del", &self.name])) {
            eprintln!("warning: could not remove network namespace {}", self.name);
        }
    }
}

/// Runs `cmd` without output; returns whether it succeeded.
fn quiet(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd`, killing it after `limit`. Returns whether it exited with
/// status 0, and its stdout and stderr.
fn run_bounded(cmd: &mut Command, limit: StdDuration) -> (bool, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child process");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = StdInstant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if started.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(StdDuration::from_millis(20));
    };
    let mut output = out.join().unwrap_or_default();
    output.push_str(&err.join().unwrap_or_default());
    if timed_out {
        output.push_str(&format!("(killed after {}s)\n", limit.as_secs()));
    }
    (status.is_some_and(|s| s.success()), output)
}

fn ip(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

// ---------------------------------------------------------------------------
// The child: smoltcp on the TAP device, libzmq on the Linux side
// ---------------------------------------------------------------------------

/// smoltcp on the TAP device, with the monitor events seen so far.
struct Stack {
    device: TunTapInterface,
    iface: Interface,
    sockets: SocketSet<'static>,
    events: Vec<MonitorEvent<64>>,
}

impl Stack {
    fn new() -> Self {
        let mut device = TunTapInterface::new(TAP, Medium::Ethernet).expect("open the TAP device");
        let config = IfaceConfig::new(EthernetAddress(SMOLTCP_MAC).into());
        let mut iface = Interface::new(config, &mut device, Instant::now());
        iface.update_ip_addrs(|a| {
            let [x, y, z, w] = SMOLTCP_ADDR;
            a.push(IpCidr::new(IpAddress::v4(x, y, z, w), 24)).unwrap();
        });
        Self {
            device,
            iface,
            sockets: SocketSet::new(Vec::new()),
            events: Vec::new(),
        }
    }

    /// A socket of type `t` on this stack, its monitor started (v1, every
    /// event).
    fn socket(&mut self, t: SocketType, seed: u32) -> Zs {
        let mut core = Socket::new(Config::new(t), &mut []);
        core.monitor_mut()
            .start("inproc://monitor", EventMask::ALL, EventVersion::V1)
            .unwrap();
        let res = Box::leak(Box::new(Resources::<PEERS, 8192, 8192, 256>::new()));
        let mut options = Options::default();
        options.reconnect_ivl_ms = 100;
        ZmtpSocket::new(core, res.slots(), &mut self.sockets, options, seed).unwrap()
    }

    /// Polls the network and collects `z`'s monitor events until `done`
    /// returns something (checked after every poll, with the events so
    /// far), at most [`STEP_LIMIT`].
    fn run_until<T>(
        &mut self,
        z: &mut Zs,
        what: &str,
        mut done: impl FnMut(&mut Zs, &[MonitorEvent<64>]) -> Option<T>,
    ) -> T {
        let deadline = StdInstant::now() + STEP_LIMIT;
        loop {
            let now = Instant::now();
            let next = z.poll(now, &mut self.iface, &mut self.device, &mut self.sockets);
            while let Some(e) = z.socket_mut().monitor_mut().pop() {
                println!("smoltcp monitor: {} {:?}", e.event.name(), e.event);
                self.events.push(e);
            }
            if let Some(v) = done(z, &self.events) {
                return v;
            }
            assert!(
                StdInstant::now() < deadline,
                "timed out waiting for {what}; monitor events so far: {:?}",
                self.names()
            );
            let sleep = next.map_or(
                MAX_SLEEP,
                |t| if t > now { t - now } else { Duration::ZERO },
            );
            // `wait` returns early when a frame arrives on the TAP device.
            let _ = wait(self.device.as_raw_fd(), Some(sleep.min(MAX_SLEEP)));
        }
    }

    /// Runs the network for `span` without waiting for anything.
    fn run_for(&mut self, z: &mut Zs, span: StdDuration) {
        let end = StdInstant::now() + span;
        self.run_until(z, "nothing", |_, _| {
            (StdInstant::now() >= end).then_some(())
        });
    }

    fn names(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| e.event.name()).collect()
    }
}

/// One whole message from `z`, if one is waiting.
fn recv_message(z: &mut Zs) -> Option<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    let mut buf = vec![0u8; 8192];
    loop {
        match z.socket_mut().recv(&mut buf) {
            Ok(info) => {
                frames.push(buf[..info.len].to_vec());
                if !info.more {
                    return Some(frames);
                }
            }
            Err(nb::Error::WouldBlock) if frames.is_empty() => return None,
            Err(e) => panic!("recv: {e:?}"),
        }
    }
}

/// A libzmq socket of `kind` with a monitor; returns it and the monitor's
/// reading end.
fn libzmq_socket(
    ctx: &zmq::Context,
    kind: zmq::SocketType,
    name: &str,
) -> (zmq::Socket, zmq::Socket) {
    let s = ctx.socket(kind).unwrap();
    s.set_linger(0).unwrap();
    let endpoint = format!("inproc://{name}-monitor");
    s.monitor(&endpoint, zmq::SocketEvent::ALL as i32).unwrap();
    let m = ctx.socket(zmq::PAIR).unwrap();
    m.set_linger(0).unwrap();
    m.connect(&endpoint).unwrap();
    (s, m)
}

/// The ids of the libzmq monitor events waiting on `monitor`.
fn libzmq_events(monitor: &zmq::Socket) -> Vec<u16> {
    let mut ids = Vec::new();
    while let Ok(frames) = monitor.recv_multipart(zmq::DONTWAIT) {
        if let Some(head) = frames.first().filter(|h| h.len() >= 2) {
            ids.push(u16::from_le_bytes([head[0], head[1]]));
        }
    }
    ids
}

fn smoltcp_endpoint() -> String {
    format!("tcp://{}:{PORT}", ip(SMOLTCP_ADDR))
}

fn linux_endpoint() -> String {
    format!("tcp://{}:{PORT}", ip(LINUX_ADDR))
}

/// Child of [`libzmq_req_connects_to_smoltcp_rep`].
fn child_smoltcp_binds() {
    let mut stack = Stack::new();
    let mut rep = stack.socket(SocketType::Rep, 0x00C0_FFEE);
    rep.bind(PORT, &mut stack.sockets).unwrap();

    let ctx = zmq::Context::new();
    let (req, req_monitor) = libzmq_socket(&ctx, zmq::REQ, "req");
    req.connect(&smoltcp_endpoint()).unwrap();
    stack.run_until(&mut rep, "the handshake", |z, _| {
        (z.socket().ready_peers() == 1).then_some(())
    });

    for round in 0..3u8 {
        let big: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8 ^ round).collect();
        let request = vec![b"hello".to_vec(), Vec::new(), big.clone()];
        req.send_multipart(request.clone(), 0).unwrap();
        let got = stack.run_until(&mut rep, "a request", |z, _| recv_message(z));
        assert_eq!(got, request, "round {round}: request");

        let reply_big: Vec<u8> = big.iter().rev().copied().collect();
        rep.socket_mut()
            .send(&[b"world", &[round], &reply_big])
            .unwrap();
        let got = stack.run_until(&mut rep, "a reply", |_, _| {
            req.recv_multipart(zmq::DONTWAIT).ok()
        });
        assert_eq!(
            got,
            vec![b"world".to_vec(), vec![round], reply_big],
            "round {round}: reply"
        );
    }

    // libzmq's side saw the connection and the handshake.
    let ids = libzmq_events(&req_monitor);
    for id in [
        zmq::SocketEvent::CONNECTED,
        zmq::SocketEvent::HANDSHAKE_SUCCEEDED,
    ] {
        assert!(
            ids.contains(&(id as u16)),
            "libzmq monitor: {ids:?} lacks {id:?}"
        );
    }

    // The REQ leaves: the adapter sees the TCP close.
    drop(req);
    stack.run_until(&mut rep, "DISCONNECTED", |_, ev| {
        ev.iter()
            .any(|e| e.event.name() == "DISCONNECTED")
            .then_some(())
    });
    // The slot listens again; nothing else happens.
    stack.run_for(&mut rep, StdDuration::from_millis(300));
    assert_eq!(
        stack.names(),
        [
            "LISTENING",
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "DISCONNECTED"
        ]
    );
    let ev = &stack.events;
    let listener = rep.listener_handle();
    assert_eq!(ev[0].event, Event::Listening { fd: listener });
    assert_eq!(ev[0].endpoints.local(), format!("tcp://0.0.0.0:{PORT}"));
    let Event::Accepted { fd } = ev[1].event else {
        panic!("not ACCEPTED: {:?}", ev[1].event);
    };
    assert_ne!(fd, listener);
    assert_eq!(ev[3].event, Event::Disconnected { fd });
    // ACCEPTED, the handshake and DISCONNECTED carry the connection's
    // endpoints: ours, and the libzmq peer's address.
    for e in &ev[1..] {
        assert_eq!(e.endpoints.local(), smoltcp_endpoint());
        assert!(
            e.endpoints
                .remote()
                .starts_with(&format!("tcp://{}:", ip(LINUX_ADDR))),
            "remote endpoint {}",
            e.endpoints.remote()
        );
    }
    assert_eq!(rep.socket().ready_peers(), 0);
    drop(req_monitor);
}

/// Child of [`smoltcp_dealer_connects_to_libzmq_dealer`].
fn child_smoltcp_connects() {
    let mut stack = Stack::new();
    let mut dealer = stack.socket(SocketType::Dealer, 0x0BAD_CAFE);
    let [a, b, c, d] = LINUX_ADDR;
    dealer
        .connect(IpEndpoint::new(IpAddress::v4(a, b, c, d), PORT))
        .unwrap();
    // Nobody listens yet: Linux answers the SYN with a reset.
    stack.run_until(&mut dealer, "CONNECT_RETRIED", |_, ev| {
        ev.iter()
            .any(|e| e.event.name() == "CONNECT_RETRIED")
            .then_some(())
    });
    assert_eq!(
        stack.names()[..3],
        ["CONNECT_DELAYED", "CLOSED", "CONNECT_RETRIED"]
    );
    assert_eq!(
        stack.events[0].event,
        Event::ConnectDelayed {
            errno: errno::EINPROGRESS
        }
    );
    assert_eq!(stack.events[0].endpoints.remote(), linux_endpoint());

    // libzmq binds; a retry gets through.
    let ctx = zmq::Context::new();
    let (peer, peer_monitor) = libzmq_socket(&ctx, zmq::DEALER, "dealer");
    peer.bind(&linux_endpoint()).unwrap();
    stack.run_until(&mut dealer, "the handshake", |z, _| {
        (z.socket().ready_peers() == 1).then_some(())
    });
    let names = stack.names();
    let connected = names
        .iter()
        .position(|n| *n == "CONNECTED")
        .expect("CONNECTED");
    assert_eq!(names[connected + 1..], ["HANDSHAKE_SUCCEEDED"]);
    // Before it: failed attempts only, each retried.
    assert!(
        names[..connected]
            .iter()
            .all(|n| ["CONNECT_DELAYED", "CLOSED", "CONNECT_RETRIED"].contains(n)),
        "{names:?}"
    );
    let Event::Connected { fd } = stack.events[connected].event else {
        panic!("not CONNECTED: {:?}", stack.events[connected].event);
    };
    assert_eq!(stack.events[connected].endpoints.remote(), linux_endpoint());

    // Messages both ways.
    for round in 0..3u8 {
        let big = vec![round; 2500];
        dealer
            .socket_mut()
            .send(&[b"ping", &[round], b"", &big])
            .unwrap();
        let got = stack.run_until(&mut dealer, "libzmq to receive", |_, _| {
            peer.recv_multipart(zmq::DONTWAIT).ok()
        });
        assert_eq!(got, vec![b"ping".to_vec(), vec![round], Vec::new(), big]);
        peer.send_multipart([b"pong".to_vec(), vec![round]], 0)
            .unwrap();
        let got = stack.run_until(&mut dealer, "a message from libzmq", |z, _| recv_message(z));
        assert_eq!(got, vec![b"pong".to_vec(), vec![round]]);
    }
    let ids = libzmq_events(&peer_monitor);
    for id in [
        zmq::SocketEvent::LISTENING,
        zmq::SocketEvent::ACCEPTED,
        zmq::SocketEvent::HANDSHAKE_SUCCEEDED,
    ] {
        assert!(
            ids.contains(&(id as u16)),
            "libzmq monitor: {ids:?} lacks {id:?}"
        );
    }

    // libzmq leaves: DISCONNECTED for the connection, then a reconnect.
    drop(peer);
    let seen = stack.events.len();
    stack.run_until(&mut dealer, "DISCONNECTED", |_, ev| {
        ev[seen..]
            .iter()
            .any(|e| e.event == Event::Disconnected { fd })
            .then_some(())
    });
    stack.run_until(
        &mut dealer,
        "CONNECT_RETRIED after DISCONNECTED",
        |_, ev| {
            ev[seen..]
                .iter()
                .any(|e| e.event.name() == "CONNECT_RETRIED")
                .then_some(())
        },
    );
    assert_eq!(stack.names()[seen], "DISCONNECTED");
    drop(peer_monitor);
}
