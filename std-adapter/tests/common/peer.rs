//! One socket interface over both implementations (ours and libzmq 4.3.4
//! from the `zmq` crate), with their monitors, so that a scenario can be
//! written once and run with either. Every wait is bounded.
#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use std::time::Duration;

use zmtp_std::{Context, MonitorSocket, Socket, SocketType};

/// Send and receive timeout of every socket (generous: a loaded machine).
pub const TIMEOUT_MS: i32 = 10_000;
/// How long a bounded wait for a monitor event lasts.
pub const EVENT_WAIT: Duration = Duration::from_secs(10);

/// Which implementation plays a side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// zmtp-std.
    Ours,
    /// libzmq 4.3.4 (the `zmq` crate).
    Libzmq,
}

impl Impl {
    pub const BOTH: [Self; 2] = [Self::Ours, Self::Libzmq];

    /// The other implementation.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::Ours => Self::Libzmq,
            Self::Libzmq => Self::Ours,
        }
    }
}

/// One context of each implementation.
pub struct Ctx {
    pub ours: Context,
    pub zmq: zmq::Context,
}

impl Ctx {
    #[must_use]
    pub fn new() -> Self {
        Self {
            ours: Context::new().unwrap(),
            zmq: zmq::Context::new(),
        }
    }
}

/// libzmq's socket type for ours.
#[must_use]
pub fn zmq_type(t: SocketType) -> zmq::SocketType {
    match t {
        SocketType::Pair => zmq::PAIR,
        SocketType::Pub => zmq::PUB,
        SocketType::Sub => zmq::SUB,
        SocketType::Req => zmq::REQ,
        SocketType::Rep => zmq::REP,
        SocketType::Dealer => zmq::DEALER,
        SocketType::Router => zmq::ROUTER,
        SocketType::Pull => zmq::PULL,
        SocketType::Push => zmq::PUSH,
        SocketType::XPub => zmq::XPUB,
        SocketType::XSub => zmq::XSUB,
        other => panic!("no libzmq type for {other:?}"),
    }
}

/// A socket of either implementation.
pub enum Peer {
    Ours(Socket),
    Libzmq(zmq::Socket),
}

impl Peer {
    /// A socket with LINGER 0 and send/receive timeouts of [`TIMEOUT_MS`].
    #[must_use]
    pub fn new(ctx: &Ctx, imp: Impl, t: SocketType) -> Self {
        match imp {
            Impl::Ours => {
                let s = ctx.ours.socket(t).unwrap();
                s.set_linger(0).unwrap();
                s.set_rcvtimeo(TIMEOUT_MS).unwrap();
                s.set_sndtimeo(TIMEOUT_MS).unwrap();
                Self::Ours(s)
            }
            Impl::Libzmq => {
                let s = ctx.zmq.socket(zmq_type(t)).unwrap();
                s.set_linger(0).unwrap();
                s.set_rcvtimeo(TIMEOUT_MS).unwrap();
                s.set_sndtimeo(TIMEOUT_MS).unwrap();
                Self::Libzmq(s)
            }
        }
    }

    #[must_use]
    pub fn imp(&self) -> Impl {
        match self {
            Self::Ours(_) => Impl::Ours,
            Self::Libzmq(_) => Impl::Libzmq,
        }
    }

    /// Binds and returns the resolved endpoint (`ZMQ_LAST_ENDPOINT`).
    #[track_caller]
    pub fn bind(&self, ep: &str) -> String {
        match self {
            Self::Ours(s) => {
                s.bind(ep).unwrap_or_else(|e| panic!("bind {ep}: {e}"));
                s.last_endpoint().unwrap()
            }
            Self::Libzmq(s) => {
                s.bind(ep).unwrap_or_else(|e| panic!("bind {ep}: {e}"));
                s.get_last_endpoint().unwrap().unwrap()
            }
        }
    }

    /// Binds, returning the errno on failure.
    pub fn try_bind(&self, ep: &str) -> Result<String, i32> {
        match self {
            Self::Ours(s) => s
                .bind(ep)
                .map(|()| s.last_endpoint().unwrap())
                .map_err(|e| e.errno()),
            Self::Libzmq(s) => s
                .bind(ep)
                .map(|()| s.get_last_endpoint().unwrap().unwrap())
                .map_err(|e| e.to_raw()),
        }
    }

    #[track_caller]
    pub fn connect(&self, ep: &str) {
        match self {
            Self::Ours(s) => s
                .connect(ep)
                .unwrap_or_else(|e| panic!("connect {ep}: {e}")),
            Self::Libzmq(s) => s
                .connect(ep)
                .unwrap_or_else(|e| panic!("connect {ep}: {e}")),
        }
    }

    /// Sends a multipart message (blocking up to [`TIMEOUT_MS`]).
    #[track_caller]
    pub fn send(&self, parts: &[Vec<u8>]) {
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        match self {
            Self::Ours(s) => s.send(&refs).unwrap_or_else(|e| panic!("send: {e}")),
            Self::Libzmq(s) => s
                .send_multipart(refs, 0)
                .unwrap_or_else(|e| panic!("libzmq send: {e}")),
        }
    }

    /// Receives a multipart message within [`TIMEOUT_MS`].
    #[track_caller]
    pub fn recv(&self) -> Vec<Vec<u8>> {
        match self {
            Self::Ours(s) => s.recv().unwrap_or_else(|e| panic!("recv: {e}")),
            Self::Libzmq(s) => s
                .recv_multipart(0)
                .unwrap_or_else(|e| panic!("libzmq recv: {e}")),
        }
    }

    /// Receives a message if one arrives within `d`.
    pub fn recv_within(&self, d: Duration) -> Option<Vec<Vec<u8>>> {
        match self {
            Self::Ours(s) => s.recv_timeout(d).ok(),
            Self::Libzmq(s) => {
                s.set_rcvtimeo(i32::try_from(d.as_millis()).unwrap())
                    .unwrap();
                let m = s.recv_multipart(0).ok();
                s.set_rcvtimeo(TIMEOUT_MS).unwrap();
                m
            }
        }
    }

    /// Lets a libzmq socket process its pending commands (libzmq does that
    /// only inside API calls on the application's thread: a bound SUB, for
    /// example, sends its subscriptions to a new peer only then).
    pub fn poke(&self) {
        if let Self::Libzmq(s) = self {
            let _ = s.get_events();
        }
    }

    /// Receives as little as possible ahead of the application: RCVHWM 1
    /// (and, for ours, a 4 KiB receive buffer per connection), so that a
    /// transport holds unread input while the application does not read.
    pub fn set_small_receive_queue(&self) {
        match self {
            Self::Ours(s) => {
                s.set_rcvhwm(1).unwrap();
                s.set_buffer_sizes(4096, 64 * 1024).unwrap();
            }
            Self::Libzmq(s) => s.set_rcvhwm(1).unwrap(),
        }
    }

    pub fn set_routing_id(&self, id: &[u8]) {
        match self {
            Self::Ours(s) => s.set_routing_id(id).unwrap(),
            Self::Libzmq(s) => s.set_identity(id).unwrap(),
        }
    }

    pub fn subscribe(&self, topic: &[u8]) {
        match self {
            Self::Ours(s) => s.set_subscribe(topic).unwrap(),
            Self::Libzmq(s) => s.set_subscribe(topic).unwrap(),
        }
    }

    pub fn set_reconnect(&self, ivl: i32, ivl_max: i32) {
        match self {
            Self::Ours(s) => {
                s.set_reconnect_ivl(ivl).unwrap();
                s.set_reconnect_ivl_max(ivl_max).unwrap();
            }
            Self::Libzmq(s) => {
                s.set_reconnect_ivl(ivl).unwrap();
                s.set_reconnect_ivl_max(ivl_max).unwrap();
            }
        }
    }

    /// HEARTBEAT_IVL, HEARTBEAT_TIMEOUT (ms; 0 leaves an option alone).
    pub fn set_heartbeat(&self, ivl: i32, timeout: i32) {
        match self {
            Self::Ours(s) => {
                s.set_heartbeat_ivl(ivl).unwrap();
                if timeout > 0 {
                    s.set_heartbeat_timeout(timeout).unwrap();
                }
            }
            Self::Libzmq(s) => {
                s.set_heartbeat_ivl(ivl).unwrap();
                if timeout > 0 {
                    s.set_heartbeat_timeout(timeout).unwrap();
                }
            }
        }
    }

    /// Starts a v1 monitor on `inproc://<name>` and connects a consumer to
    /// it (libzmq: a PAIR socket, as the man page does).
    #[track_caller]
    pub fn monitor(&self, ctx: &Ctx, name: &str, mask: i32) -> Monitor {
        let ep = format!("inproc://{name}");
        match self {
            Self::Ours(s) => {
                s.monitor(Some(&ep), mask).unwrap();
                Monitor::Ours(ctx.ours.monitor_socket(&ep).unwrap())
            }
            Self::Libzmq(s) => {
                s.monitor(&ep, mask).unwrap();
                let m = ctx.zmq.socket(zmq::PAIR).unwrap();
                m.set_linger(0).unwrap();
                m.connect(&ep).unwrap();
                Monitor::Libzmq(m)
            }
        }
    }

    /// `zmq_close` (returns at once; the socket lingers in the background).
    pub fn close(self) {
        match self {
            Self::Ours(s) => s.close().unwrap(),
            Self::Libzmq(s) => drop(s),
        }
    }
}

/// One v1 monitor event as a consumer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ev {
    pub id: u16,
    pub value: u32,
    pub endpoint: String,
}

impl Ev {
    /// The libzmq name without `ZMQ_EVENT_`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        zmtp_std::Event::name_of_id(u64::from(self.id)).unwrap_or("UNKNOWN")
    }

    /// Parses the two v1 frames (native byte order, as libzmq sends them).
    #[track_caller]
    #[must_use]
    pub fn from_frames(m: &[Vec<u8>]) -> Self {
        assert_eq!(m.len(), 2, "a v1 event has two frames: {m:?}");
        assert_eq!(m[0].len(), 6, "a v1 event's first frame has 6 bytes");
        Self {
            id: u16::from_ne_bytes([m[0][0], m[0][1]]),
            value: u32::from_ne_bytes(m[0][2..6].try_into().unwrap()),
            endpoint: String::from_utf8(m[1].clone()).unwrap(),
        }
    }
}

/// The consumer of a v1 monitor of either implementation.
pub enum Monitor {
    Ours(MonitorSocket),
    Libzmq(zmq::Socket),
}

impl Monitor {
    /// The next event within `d`, if any.
    pub fn within(&self, d: Duration) -> Option<Ev> {
        let frames = match self {
            Self::Ours(m) => m.recv_raw(Some(d)).ok()?,
            Self::Libzmq(m) => {
                let ms = i32::try_from(d.as_millis()).unwrap().max(1);
                m.set_rcvtimeo(ms).unwrap();
                m.recv_multipart(0).ok()?
            }
        };
        Some(Ev::from_frames(&frames))
    }

    /// The next event, failing the test if none comes within
    /// [`EVENT_WAIT`].
    #[track_caller]
    pub fn next(&self) -> Ev {
        match self.within(EVENT_WAIT) {
            Some(e) => e,
            None => panic!("no monitor event within {EVENT_WAIT:?}"),
        }
    }

    /// Events up to and including the first `name`.
    #[track_caller]
    pub fn until(&self, name: &str) -> Vec<Ev> {
        let mut v = Vec::new();
        loop {
            let e = self.next();
            let done = e.name() == name;
            v.push(e);
            if done {
                return v;
            }
        }
    }

    /// Every event arriving within `d` of the previous one.
    pub fn drain(&self, d: Duration) -> Vec<Ev> {
        let mut v = Vec::new();
        while let Some(e) = self.within(d) {
            v.push(e);
        }
        v
    }
}

/// A unique `ipc://` endpoint in the temp directory (unique across the
/// threads and processes of concurrent tests).
#[must_use]
pub fn ipc_endpoint(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = format!("zmtp-std-{}-{tag}-{n}", std::process::id());
    format!("ipc://{}", std::env::temp_dir().join(name).display())
}

/// A TCP endpoint on port 0 and a fresh IPC endpoint.
#[must_use]
pub fn endpoints(tag: &str) -> [String; 2] {
    ["tcp://127.0.0.1:*".to_owned(), ipc_endpoint(tag)]
}

/// A libzmq socket with send and receive timeouts of [`TIMEOUT_MS`] and no
/// linger.
#[must_use]
pub fn zsock(ctx: &zmq::Context, t: zmq::SocketType) -> zmq::Socket {
    let s = ctx.socket(t).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s.set_linger(0).unwrap();
    s
}

/// Binds the libzmq socket `s` to `ep`; returns the endpoint it got.
pub fn zbind(s: &zmq::Socket, ep: &str) -> String {
    s.bind(ep).unwrap_or_else(|e| panic!("bind {ep}: {e}"));
    s.get_last_endpoint().unwrap().unwrap()
}

/// A payload of `n` bytes that differs with `seed`.
#[must_use]
pub fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| u8::try_from(i % 251).unwrap() ^ seed)
        .collect()
}
