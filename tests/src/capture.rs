//! Live captures: what a real libzmq writes on the wire.
//!
//! Each function binds (or connects) a libzmq socket on `127.0.0.1` with an
//! OS-chosen port, plays the other side by hand with a [`RawPeer`] and
//! returns the bytes libzmq sent. Every libzmq socket gets `ZMQ_LINGER` 0
//! so closing never waits.

use core::fmt::Write as _;
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

use crate::peer::{RawFrame, RawPeer};
use crate::{Error, QUIET_WINDOW, READ_TIMEOUT, Result, raw};

/// A libzmq socket type and the compatible type the raw peer plays
/// against it (RFC 23/37 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The ZMTP `Socket-Type` name of the libzmq socket.
    pub name: &'static str,
    /// The libzmq socket type.
    pub zmq: zmq::SocketType,
    /// The `Socket-Type` the raw peer announces.
    pub peer: &'static str,
}

impl Kind {
    /// Whether libzmq puts an `Identity` property in this type's READY
    /// (REQ, DEALER, ROUTER).
    #[must_use]
    pub fn sends_identity(name: &str) -> bool {
        matches!(name, "REQ" | "DEALER" | "ROUTER")
    }
}

/// Every socket type libzmq 4.3.4 has among the ones ZMTP 3.1 defines
/// without DRAFT, in libzmq's numbering order.
pub const KINDS: [Kind; 11] = [
    Kind {
        name: "PAIR",
        zmq: zmq::PAIR,
        peer: "PAIR",
    },
    Kind {
        name: "PUB",
        zmq: zmq::PUB,
        peer: "SUB",
    },
    Kind {
        name: "SUB",
        zmq: zmq::SUB,
        peer: "PUB",
    },
    Kind {
        name: "REQ",
        zmq: zmq::REQ,
        peer: "REP",
    },
    Kind {
        name: "REP",
        zmq: zmq::REP,
        peer: "REQ",
    },
    Kind {
        name: "DEALER",
        zmq: zmq::DEALER,
        peer: "DEALER",
    },
    Kind {
        name: "ROUTER",
        zmq: zmq::ROUTER,
        peer: "DEALER",
    },
    Kind {
        name: "PULL",
        zmq: zmq::PULL,
        peer: "PUSH",
    },
    Kind {
        name: "PUSH",
        zmq: zmq::PUSH,
        peer: "PULL",
    },
    Kind {
        name: "XPUB",
        zmq: zmq::XPUB,
        peer: "SUB",
    },
    Kind {
        name: "XSUB",
        zmq: zmq::XSUB,
        peer: "PUB",
    },
];

/// One recorded byte sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// A Rust constant name (`SCREAMING_SNAKE_CASE`).
    pub name: String,
    /// What was captured and how.
    pub note: String,
    /// The bytes, exactly as libzmq wrote them.
    pub bytes: Vec<u8>,
}

impl Capture {
    /// Creates a capture.
    #[must_use]
    pub fn new(name: impl Into<String>, note: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            note: note.into(),
            bytes,
        }
    }

    /// The capture as a documented Rust constant:
    /// `pub const NAME: [u8; N] = [0x.., …];`, twelve bytes a line.
    #[must_use]
    pub fn to_rust(&self) -> String {
        let mut s = String::new();
        for line in self.note.lines() {
            let _ = writeln!(s, "/// {line}");
        }
        let _ = writeln!(s, "pub const {}: [u8; {}] = [", self.name, self.bytes.len());
        for chunk in self.bytes.chunks(12) {
            s.push_str("   ");
            for b in chunk {
                let _ = write!(s, " 0x{b:02x},");
            }
            s.push('\n');
        }
        s.push_str("];\n");
        s
    }
}

/// A libzmq context and one socket, bound or connected.
pub struct Libzmq {
    /// The socket.
    pub socket: zmq::Socket,
    /// The endpoint: the one libzmq reports after a bind
    /// (`ZMQ_LAST_ENDPOINT`), or the one it connected to.
    pub endpoint: String,
    /// The context (kept so it outlives the socket).
    pub ctx: zmq::Context,
}

impl core::fmt::Debug for Libzmq {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Libzmq")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Libzmq {
    /// Creates a context and a socket of type `kind`, sets `ZMQ_LINGER` 0
    /// and applies `setup`.
    fn open(
        kind: zmq::SocketType,
        setup: impl FnOnce(&zmq::Socket) -> Result<()>,
    ) -> Result<(zmq::Context, zmq::Socket)> {
        let ctx = zmq::Context::new();
        let socket = ctx.socket(kind)?;
        socket.set_linger(0)?;
        setup(&socket)?;
        Ok((ctx, socket))
    }

    /// A socket of type `kind`, set up by `setup`, bound on
    /// `tcp://127.0.0.1:*`.
    ///
    /// # Errors
    ///
    /// [`Error::Zmq`] if libzmq refuses an option or the bind;
    /// [`Error::Unexpected`] if the endpoint is not UTF-8.
    pub fn bind(
        kind: zmq::SocketType,
        setup: impl FnOnce(&zmq::Socket) -> Result<()>,
    ) -> Result<Self> {
        let (ctx, socket) = Self::open(kind, setup)?;
        socket.bind("tcp://127.0.0.1:*")?;
        let endpoint = socket
            .get_last_endpoint()?
            .map_err(|_| Error::Unexpected("ZMQ_LAST_ENDPOINT is not UTF-8".into()))?;
        Ok(Self {
            socket,
            endpoint,
            ctx,
        })
    }

    /// A socket of type `kind`, set up by `setup`, connected to `endpoint`.
    /// libzmq creates the socket's pipe at once (`ZMQ_IMMEDIATE` 0), so
    /// subscriptions and messages are queued for the connection before its
    /// handshake.
    ///
    /// # Errors
    ///
    /// [`Error::Zmq`] if libzmq refuses an option or the connect.
    pub fn connect(
        kind: zmq::SocketType,
        setup: impl FnOnce(&zmq::Socket) -> Result<()>,
        endpoint: &str,
    ) -> Result<Self> {
        let (ctx, socket) = Self::open(kind, setup)?;
        socket.connect(endpoint)?;
        Ok(Self {
            socket,
            endpoint: endpoint.to_owned(),
            ctx,
        })
    }
}

/// The raw side of a connection after the NULL handshake.
#[derive(Debug)]
pub struct Session {
    /// libzmq's 64-byte greeting.
    pub greeting: Vec<u8>,
    /// libzmq's READY command frame.
    pub ready: RawFrame,
    /// The connection, ready for traffic.
    pub peer: RawPeer,
}

/// Performs the NULL handshake on `peer` from the raw side: sends the whole
/// ZMTP 3.`minor` greeting at once, reads libzmq's 64 greeting bytes and
/// its READY, then sends a READY announcing `peer_type` (with an empty
/// `Identity` for REQ, DEALER and ROUTER, as libzmq does).
///
/// # Errors
///
/// As [`RawPeer::recv_frame`]; [`Error::Unexpected`] if libzmq's first
/// frame is not READY.
pub fn handshake_on(mut peer: RawPeer, minor: u8, peer_type: &str) -> Result<Session> {
    peer.send(&raw::greeting(minor))?;
    let greeting = peer.recv_exact(raw::GREETING_LEN, "libzmq's greeting")?;
    let ready = peer.recv_frame("libzmq's READY")?;
    if ready.command_name() != Some(b"READY") {
        return Err(Error::Unexpected(format!(
            "first frame after the greeting is not READY: {:02x?}",
            ready.wire
        )));
    }
    let identity = Kind::sends_identity(peer_type).then_some(&b""[..]);
    peer.send(&raw::command_frame(&raw::ready(peer_type, identity)))?;
    Ok(Session {
        greeting,
        ready,
        peer,
    })
}

/// Connects to `endpoint` and performs [`handshake_on`].
///
/// # Errors
///
/// As [`RawPeer::connect`] and [`handshake_on`].
pub fn handshake(endpoint: &str, minor: u8, peer_type: &str) -> Result<Session> {
    handshake_on(RawPeer::connect(endpoint)?, minor, peer_type)
}

/// A loopback listener on an OS-chosen port for libzmq sockets that
/// connect.
#[derive(Debug)]
pub struct RawListener {
    listener: TcpListener,
    /// `tcp://127.0.0.1:PORT`, for `zmq::Socket::connect`.
    pub endpoint: String,
}

impl RawListener {
    /// Binds `127.0.0.1:0`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the bind fails.
    pub fn bind() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let endpoint = format!("tcp://{}", listener.local_addr()?);
        Ok(Self { listener, endpoint })
    }

    /// Accepts one connection, waiting at most [`READ_TIMEOUT`]. The
    /// accept runs on a helper thread; on timeout the helper is released
    /// by a connection of our own, so nothing is left blocked.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] if nobody connects in time, [`Error::Io`].
    pub fn accept(self) -> Result<RawPeer> {
        let (tx, rx) = mpsc::channel();
        let listener = self.listener.try_clone()?;
        let helper = thread::spawn(move || {
            let _ = tx.send(listener.accept());
        });
        let result = match rx.recv_timeout(READ_TIMEOUT) {
            Ok(Ok((stream, _))) => RawPeer::from_stream(stream),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => {
                let _ = std::net::TcpStream::connect(self.listener.local_addr()?);
                Err(Error::Timeout("libzmq to connect"))
            }
        };
        let _ = helper.join();
        result
    }
}

/// libzmq's greeting read in the stages it is sent (`zmtp_engine.cpp`
/// `receive_greeting_versioned`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedGreeting {
    /// Sent as soon as the connection is up, before any byte from us: the
    /// 10-byte signature.
    pub before_peer: Vec<u8>,
    /// Sent after our 10-byte signature: the major version.
    pub after_signature: Vec<u8>,
    /// Sent after our major version byte: minor, mechanism, as-server,
    /// filler.
    pub after_major: Vec<u8>,
    /// Whether libzmq stayed silent for [`QUIET_WINDOW`] after each of the
    /// first two stages (that is, it really waited for us).
    pub waited: [bool; 2],
    /// libzmq's READY after we sent the rest of our greeting.
    pub ready: RawFrame,
}

/// Reads libzmq's greeting stage by stage: nothing sent, then our
/// signature, then our major version, then the rest of our ZMTP 3.1
/// greeting.
///
/// # Errors
///
/// As [`RawPeer::recv_exact`].
pub fn staged_greeting(kind: Kind) -> Result<StagedGreeting> {
    let bound = Libzmq::bind(kind.zmq, |_| Ok(()))?;
    let mut peer = RawPeer::connect(&bound.endpoint)?;
    let ours = raw::greeting(1);
    let (signature, rest) = ours.split_at(raw::SIGNATURE_LEN);
    let (major, rest) = rest.split_at(1);

    let before_peer = peer.recv_exact(raw::SIGNATURE_LEN, "libzmq's signature")?;
    let quiet_1 = peer.is_quiet_for(QUIET_WINDOW)?;
    peer.send(signature)?;
    let after_signature = peer.recv_exact(1, "libzmq's major version")?;
    let quiet_2 = peer.is_quiet_for(QUIET_WINDOW)?;
    peer.send(major)?;
    let after_major = peer.recv_exact(
        raw::GREETING_LEN - raw::SIGNATURE_LEN - 1,
        "the rest of libzmq's greeting",
    )?;
    peer.send(rest)?;
    let ready = peer.recv_frame("libzmq's READY")?;
    Ok(StagedGreeting {
        before_peer,
        after_signature,
        after_major,
        waited: [quiet_1, quiet_2],
        ready,
    })
}

/// libzmq's greeting and READY frame for `kind`, with the raw peer
/// speaking ZMTP 3.`minor`.
///
/// # Errors
///
/// As [`handshake`].
pub fn greeting_and_ready(kind: Kind, minor: u8) -> Result<(Vec<u8>, RawFrame)> {
    let bound = Libzmq::bind(kind.zmq, |_| Ok(()))?;
    let s = handshake(&bound.endpoint, minor, kind.peer)?;
    Ok((s.greeting, s.ready))
}

/// A libzmq ROUTER with `ZMQ_ROUTING_ID` set to `routing_id`: its greeting
/// and READY.
///
/// # Errors
///
/// As [`handshake`].
pub fn router_with_routing_id(routing_id: &[u8]) -> Result<(Vec<u8>, RawFrame)> {
    let bound = Libzmq::bind(zmq::ROUTER, |s| Ok(s.set_identity(routing_id)?))?;
    let s = handshake(&bound.endpoint, 1, "DEALER")?;
    Ok((s.greeting, s.ready))
}

/// A heartbeat exchange with a libzmq PAIR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The PING libzmq sends with `ZMQ_HEARTBEAT_IVL` 100 ms and
    /// `ZMQ_HEARTBEAT_TTL` 1000 ms.
    pub ping: RawFrame,
    /// libzmq's PONG to our `PING` with TTL 0 and context `"LOL"`.
    pub pong: RawFrame,
    /// libzmq's PONG to our `PING` with TTL 0 and a 20-byte context
    /// (`pattern(20)`).
    pub pong_long: RawFrame,
}

/// Heartbeat capture: libzmq PAIR with `ZMQ_HEARTBEAT_IVL` 100 ms,
/// `ZMQ_HEARTBEAT_TTL` 1000 ms and `ZMQ_HEARTBEAT_TIMEOUT` 5000 ms (so a
/// slow test never loses the connection).
///
/// # Errors
///
/// As [`handshake`]; [`Error::Unexpected`] if libzmq sends something other
/// than PING or PONG.
pub fn heartbeat() -> Result<Heartbeat> {
    let bound = Libzmq::bind(zmq::PAIR, |s| {
        s.set_heartbeat_ivl(100)?;
        s.set_heartbeat_ttl(1000)?;
        s.set_heartbeat_timeout(5000)?;
        Ok(())
    })?;
    let mut s = handshake(&bound.endpoint, 1, "PAIR")?;
    let ping = s.peer.recv_frame("libzmq's PING")?;
    if !ping.is_ping() {
        return Err(Error::Unexpected(format!(
            "expected PING: {:02x?}",
            ping.wire
        )));
    }
    let pong = exchange_ping(&mut s.peer, b"LOL")?;
    let pong_long = exchange_ping(&mut s.peer, &raw::pattern(20))?;
    Ok(Heartbeat {
        ping,
        pong,
        pong_long,
    })
}

/// Sends a PING with TTL 0 and `context`; returns the next frame that is
/// not a PING (libzmq's own PINGs are answered on the way).
///
/// # Errors
///
/// As [`RawPeer::recv_frame_skipping_pings`]; [`Error::Unexpected`] if it
/// is not a PONG.
pub fn exchange_ping(peer: &mut RawPeer, context: &[u8]) -> Result<RawFrame> {
    peer.send(&raw::command_frame(&raw::ping(0, context)))?;
    let pong = peer.recv_frame_skipping_pings("libzmq's PONG")?;
    if pong.command_name() != Some(b"PONG") {
        return Err(Error::Unexpected(format!(
            "expected PONG: {:02x?}",
            pong.wire
        )));
    }
    Ok(pong)
}

/// What a libzmq SUB sends to a publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriptions {
    /// After `ZMQ_SUBSCRIBE "A"` (set before the connection).
    pub subscribe: RawFrame,
    /// After `ZMQ_UNSUBSCRIBE "A"`.
    pub cancel: RawFrame,
    /// After `ZMQ_SUBSCRIBE ""`.
    pub subscribe_all: RawFrame,
    /// Every byte sent after `ZMQ_SUBSCRIBE` with a long topic (see
    /// [`long_topic_len`]), read until libzmq goes quiet: libzmq 4.3.4
    /// writes an 8-byte size there without setting LONG.
    pub long_topic: Vec<u8>,
}

/// The shortest topic for which libzmq 4.3.4 writes an 8-byte size without
/// the LONG flag: 3.1 (SUBSCRIBE command, 10 name bytes) 246; 3.0 (prefix
/// byte) 255.
#[must_use]
pub const fn long_topic_len(minor: u8) -> usize {
    if minor == 0 { 255 } else { 246 }
}

/// A topic of `len` printable bytes (`"TTTT…"`).
#[must_use]
pub fn long_topic(len: usize) -> Vec<u8> {
    vec![b'T'; len]
}

/// Subscription capture: libzmq SUB with `ZMQ_SUBSCRIBE "A"` connects to
/// a raw listener that plays a ZMTP 3.`minor` PUB. (Connecting makes
/// libzmq queue the subscription at once; a bound SUB would send it only
/// when its application thread next processes commands.)
///
/// # Errors
///
/// As [`handshake`].
pub fn subscriptions(minor: u8) -> Result<Subscriptions> {
    let listener = RawListener::bind()?;
    let bound = Libzmq::connect(zmq::SUB, |s| Ok(s.set_subscribe(b"A")?), &listener.endpoint)?;
    let mut s = handshake_on(listener.accept()?, minor, "PUB")?;
    let subscribe = s.peer.recv_frame("SUBSCRIBE A")?;
    bound.socket.set_unsubscribe(b"A")?;
    let cancel = s.peer.recv_frame("CANCEL A")?;
    bound.socket.set_subscribe(b"")?;
    let subscribe_all = s.peer.recv_frame("SUBSCRIBE \"\"")?;
    bound
        .socket
        .set_subscribe(&long_topic(long_topic_len(minor)))?;
    let want = 1 + 8 + long_topic_len(minor) + if minor == 0 { 1 } else { 10 };
    let mut long = s.peer.recv_exact(want, "the long-topic subscription")?;
    // Anything beyond the expected length would show a different layout.
    if !s.peer.is_quiet_for(QUIET_WINDOW)? {
        long.extend(s.peer.recv_exact(1, "extra bytes")?);
    }
    Ok(Subscriptions {
        subscribe,
        cancel,
        subscribe_all,
        long_topic: long,
    })
}

/// What a libzmq XSUB sends for the message `0x01 "A"` to a ZMTP 3.1 peer.
///
/// The XSUB connects to a raw listener so its pipe exists before the
/// handshake and the message is queued, not dropped.
///
/// # Errors
///
/// As [`handshake_on`] and [`RawListener::accept`].
pub fn xsub_subscribe_message() -> Result<RawFrame> {
    let listener = RawListener::bind()?;
    let xsub = Libzmq::connect(zmq::XSUB, |_| Ok(()), &listener.endpoint)?;
    xsub.socket.send(&b"\x01A"[..], 0)?;
    let mut s = handshake_on(listener.accept()?, 1, "PUB")?;
    s.peer.recv_frame("XSUB's subscription")
}

/// Data frames from a libzmq DEALER, in the order of
/// [`dealer_messages`].
///
/// # Errors
///
/// As [`handshake`]; [`Error::Zmq`] if a send times out.
pub fn dealer_frames() -> Result<Vec<RawFrame>> {
    let bound = Libzmq::bind(zmq::DEALER, |s| {
        let ms = i32::try_from(READ_TIMEOUT.as_millis()).unwrap_or(i32::MAX);
        Ok(s.set_sndtimeo(ms)?)
    })?;
    let mut s = handshake(&bound.endpoint, 1, "DEALER")?;
    let mut frames = Vec::new();
    for msg in dealer_messages() {
        // The first send blocks (at most SNDTIMEO) until the pipe attaches.
        bound.socket.send_multipart(msg.parts.iter(), 0)?;
        for _ in &msg.parts {
            frames.push(s.peer.recv_frame("DEALER data")?);
        }
    }
    Ok(frames)
}

/// A message [`dealer_frames`] has libzmq send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealerMessage {
    /// The capture's constant name.
    pub label: &'static str,
    /// What the message is.
    pub what: &'static str,
    /// The parts.
    pub parts: Vec<Vec<u8>>,
}

/// The messages [`dealer_frames`] has libzmq send, in order.
#[must_use]
pub fn dealer_messages() -> Vec<DealerMessage> {
    let m = |label, what, parts| DealerMessage { label, what, parts };
    vec![
        m("DATA_0", "an empty single-part message", vec![Vec::new()]),
        m("DATA_1", "a 1-byte message: 00", vec![raw::pattern(1)]),
        m(
            "DATA_255",
            "a 255-byte message: 00 01 .. fe (largest short frame)",
            vec![raw::pattern(255)],
        ),
        m(
            "DATA_256",
            "a 256-byte message: 00 01 .. ff (smallest LONG frame)",
            vec![raw::pattern(256)],
        ),
        m(
            "DATA_2_PARTS",
            "a 2-part message: \"AB\" (MORE) then \"C\"",
            vec![b"AB".to_vec(), b"C".to_vec()],
        ),
    ]
}

/// The text of `captures/libzmq-4.3.4.txt`: a header naming the libzmq
/// version and how the bytes were captured, then every capture as a Rust
/// constant ([`Capture::to_rust`]).
#[must_use]
pub fn render(captures: &[Capture]) -> String {
    let (major, minor, patch) = zmq::version();
    let mut s = format!(
        "// Bytes written by libzmq {major}.{minor}.{patch} (built from source by the\n\
         // `zmq` 0.10 crate), captured over TCP on 127.0.0.1 by a hand-driven peer:\n\
         // `cargo run -p zmtp-tests --bin capture`. Unless a note says otherwise the\n\
         // libzmq socket is bound (the accepting side) and the peer sent a ZMTP 3.1\n\
         // NULL greeting and a READY for a compatible socket type.\n"
    );
    for c in captures {
        s.push('\n');
        s.push_str(&c.to_rust());
    }
    s
}

/// Performs every capture and returns them in a stable order.
///
/// # Errors
///
/// The first failing capture's error.
pub fn all() -> Result<Vec<Capture>> {
    let mut out = Vec::new();

    let staged = staged_greeting(KINDS[0])?;
    out.push(Capture::new(
        "GREETING_STAGE_1",
        format!(
            "libzmq PAIR (accepting side), before the peer sent anything: the signature \
             (then silent for {} ms: {}).",
            QUIET_WINDOW.as_millis(),
            staged.waited[0]
        ),
        staged.before_peer,
    ));
    out.push(Capture::new(
        "GREETING_STAGE_2",
        format!(
            "libzmq PAIR, after the peer's 10-byte signature: major version \
             (then silent for {} ms: {}).",
            QUIET_WINDOW.as_millis(),
            staged.waited[1]
        ),
        staged.after_signature,
    ));
    out.push(Capture::new(
        "GREETING_STAGE_3",
        "libzmq PAIR, after the peer's major version byte: minor, mechanism, as-server, filler.",
        staged.after_major,
    ));

    for kind in KINDS {
        let (greeting, ready) = greeting_and_ready(kind, 1)?;
        out.push(Capture::new(
            format!("GREETING_{}", kind.name),
            format!(
                "libzmq {} greeting (ZMQ_ROUTING_ID unset), peer sent a ZMTP 3.1 NULL greeting.",
                kind.name
            ),
            greeting,
        ));
        out.push(Capture::new(
            format!("READY_{}", kind.name),
            format!(
                "libzmq {} READY command frame (ZMQ_ROUTING_ID unset).",
                kind.name
            ),
            ready.wire,
        ));
    }

    let (greeting, ready) = router_with_routing_id(b"abc")?;
    out.push(Capture::new(
        "GREETING_ROUTER_ID_ABC",
        "libzmq ROUTER with ZMQ_ROUTING_ID \"abc\": greeting (padding = id length + 1).",
        greeting,
    ));
    out.push(Capture::new(
        "READY_ROUTER_ID_ABC",
        "libzmq ROUTER with ZMQ_ROUTING_ID \"abc\": READY (ROUTER announces Identity).",
        ready.wire,
    ));

    let hb = heartbeat()?;
    out.push(Capture::new(
        "PING_TTL_1000MS",
        "libzmq PAIR with ZMQ_HEARTBEAT_IVL 100 and ZMQ_HEARTBEAT_TTL 1000: its PING \
         (TTL in deciseconds, no context).",
        hb.ping.wire,
    ));
    out.push(Capture::new(
        "PONG_LOL",
        "libzmq's PONG to PING TTL 0 context \"LOL\" (04 0a 04 PING 00 00 LOL).",
        hb.pong.wire,
    ));
    out.push(Capture::new(
        "PONG_CONTEXT_20",
        "libzmq's PONG to PING TTL 0 with a 20-byte context 00..13: echoes the first 16.",
        hb.pong_long.wire,
    ));

    for minor in [1u8, 0] {
        let subs = subscriptions(minor)?;
        let v = if minor == 1 { "31" } else { "30" };
        let how = if minor == 1 {
            "SUBSCRIBE/CANCEL commands"
        } else {
            "0x01/0x00-prefixed data messages"
        };
        out.push(Capture::new(
            format!("SUBSCRIBE_A_ZMTP{v}"),
            format!("libzmq SUB, ZMQ_SUBSCRIBE \"A\", peer greeting minor {minor} ({how})."),
            subs.subscribe.wire,
        ));
        out.push(Capture::new(
            format!("CANCEL_A_ZMTP{v}"),
            format!("libzmq SUB, ZMQ_UNSUBSCRIBE \"A\", peer greeting minor {minor}."),
            subs.cancel.wire,
        ));
        out.push(Capture::new(
            format!("SUBSCRIBE_ALL_ZMTP{v}"),
            format!("libzmq SUB, ZMQ_SUBSCRIBE \"\", peer greeting minor {minor}."),
            subs.subscribe_all.wire,
        ));
        out.push(Capture::new(
            format!("SUBSCRIBE_LONG_ZMTP{v}"),
            format!(
                "libzmq SUB, ZMQ_SUBSCRIBE of {} 'T' bytes, peer greeting minor {minor}.\n\
                 libzmq 4.3.4 quirk: an 8-byte size follows a flags byte WITHOUT the LONG bit.",
                long_topic_len(minor)
            ),
            subs.long_topic,
        ));
    }

    out.push(Capture::new(
        "XSUB_MESSAGE_01_A_ZMTP31",
        "libzmq XSUB sends the message 01 'A' to a ZMTP 3.1 peer: a data frame, not a \
         SUBSCRIBE command.",
        xsub_subscribe_message()?.wire,
    ));

    let frames = dealer_frames()?;
    let mut frames = frames.into_iter();
    for msg in dealer_messages() {
        let mut bytes = Vec::new();
        for _ in &msg.parts {
            if let Some(f) = frames.next() {
                bytes.extend(f.wire);
            }
        }
        out.push(Capture::new(
            msg.label,
            format!(
                "libzmq DEALER sends {} (all frames of the message).",
                msg.what
            ),
            bytes,
        ));
    }

    Ok(out)
}
