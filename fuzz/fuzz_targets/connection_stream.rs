//! A whole `Connection` driven by arbitrary input chunks, time steps,
//! transmit buffers, sends, pops and closes.
//!
//! The scenario (socket type, buffer sizes, timer options) and the list of
//! operations come from `arbitrary`. `start` can put a valid peer greeting
//! (ZMTP 3.1 or 3.0, NULL) and a READY for a compatible socket type in front
//! of the input, so that most runs reach the Ready phase.
//!
//! The harness behaves like a driver: it keeps the bytes the connection did
//! not consume and offers them again with the next chunk, and it drains the
//! events after every operation.
//!
//! Invariants:
//! - nothing panics;
//! - `handle_input` consumes at most what it is offered, and nothing once
//!   the connection is closed;
//! - `poll_transmit` writes at most the buffer; it writes something whenever
//!   `has_pending_output` says so; the staged greeting holds back everything
//!   but the signature until the peer's signature and major version arrived;
//! - after `handle_timeout(now)` no timer is due at or before `now`;
//! - events: at most one handshake outcome, at most one `Disconnected`, and
//!   nothing after it; `is_closed` and `is_ready` agree with the events;
//! - the transmitted byte stream is our greeting (libzmq's, with the routing
//!   id length in the padding), our READY, then well-formed
//!   frames: the data frames are exactly the sent messages in order, the
//!   commands are PING, PONG, SUBSCRIBE/CANCEL (in the order they were
//!   queued) or the ERROR sent on an incompatible peer;
//! - the records handed to the application are exactly what the consumed
//!   input holds: the peer's READY body, then its data frames and
//!   SUBSCRIBE/CANCEL commands, in order.
#![no_main]

use std::collections::VecDeque;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use zmtp_core::SocketType;
use zmtp_core::conn::{
    Config, ConnEvent, Connection, DisconnectReason, REC_COMMAND, REC_METADATA, REC_MORE, SendError,
};
use zmtp_core::time::{Duration, Instant};
use zmtp_core::wire::command::{self, CANCEL, SUBSCRIBE};
use zmtp_core::wire::greeting::GREETING_LEN;
use zmtp_core::wire::{Command, FrameRepr, GreetingRepr, Mechanism, Properties};

/// How the peer's side of the stream starts.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Start {
    /// Only the fuzzed input.
    Raw,
    /// A valid NULL ZMTP 3.1 greeting.
    Greeting31,
    /// A valid NULL ZMTP 3.0 greeting.
    Greeting30,
    /// A 3.1 greeting and a READY for a compatible socket type.
    Ready31,
    /// A 3.0 greeting and a READY for a compatible socket type.
    Ready30,
}

/// Options and buffer sizes.
#[derive(Arbitrary, Debug)]
struct Knobs {
    /// Receive buffer: 16 + this % 2048 bytes.
    rx_len: u16,
    /// Transmit buffer: 16 + this % 2048 bytes.
    tx_len: u16,
    /// Heartbeat interval in 10 ms steps (0: off).
    heartbeat_ivl: u8,
    /// Heartbeat timeout in 10 ms steps (`None`: the interval).
    heartbeat_timeout: Option<u8>,
    /// TTL announced in our PINGs, deciseconds.
    ttl_ds: u8,
    /// Handshake limit in 100 ms steps (0: none).
    handshake_ivl: u8,
    /// `ZMQ_MAXMSGSIZE`.
    max_msg_size: Option<u16>,
    /// `ZMQ_RCVHWM` (0: unlimited).
    rcvhwm: u8,
    /// `ZMQ_SNDHWM` (0: unlimited).
    sndhwm: u8,
    /// Whether to set a routing id (sent by REQ, DEALER and ROUTER).
    routing_id: bool,
}

#[derive(Arbitrary, Debug)]
enum Op<'a> {
    /// Bytes from the peer (appended to what is still unconsumed).
    Input(&'a [u8]),
    /// Let time pass (ms), then run the timers.
    Advance(u16),
    /// Ask for output with a buffer of `len % 2048` bytes.
    Transmit(u16),
    /// Take one received frame.
    Pop,
    /// Send a message; `parts` (1 to 4) splits the bytes into frames.
    Send { parts: u8, bytes: &'a [u8] },
    /// Send a subscription or a cancellation.
    Subscription { subscribe: bool, topic: &'a [u8] },
    /// The transport reached end-of-stream.
    Close,
    /// The transport failed with an errno.
    TransportError(u8),
    /// The application closed the connection.
    LocalClose,
    /// A spurious timer call at the current time.
    Timeout,
}

#[derive(Arbitrary, Debug)]
struct Scenario<'a> {
    /// Our socket type: index into `SocketType::ALL`.
    socket: u8,
    start: Start,
    /// The peer's socket type: index into the types compatible with ours.
    peer: u8,
    knobs: Knobs,
    ops: Vec<Op<'a>>,
}

const ROUTING_ID: &[u8] = b"fuzz-id";

fuzz_target!(|s: Scenario<'_>| run(s));

fn run(s: Scenario<'_>) {
    let all = SocketType::ALL;
    let ours = all[usize::from(s.socket) % all.len()];
    let peers: Vec<SocketType> = all
        .iter()
        .copied()
        .filter(|&p| ours.is_compatible(p))
        .collect();
    let peer = peers[usize::from(s.peer) % peers.len()];

    let k = &s.knobs;
    let mut config = Config::new(ours);
    config.handshake_ivl = Duration::from_millis(u64::from(k.handshake_ivl) * 100);
    config.heartbeat.interval = Duration::from_millis(u64::from(k.heartbeat_ivl) * 10);
    config.heartbeat.timeout = k
        .heartbeat_timeout
        .map(|t| Duration::from_millis(u64::from(t) * 10));
    config.heartbeat.ttl = Duration::from_millis(u64::from(k.ttl_ds) * 100);
    config.max_msg_size = k.max_msg_size.map(u64::from);
    config.rcvhwm = u32::from(k.rcvhwm);
    config.sndhwm = u32::from(k.sndhwm);
    if k.routing_id {
        config.set_routing_id(ROUTING_ID).expect("valid routing id");
    }

    let mut rx_buf = vec![0u8; 16 + usize::from(k.rx_len) % 2048];
    let mut tx_buf = vec![0u8; 16 + usize::from(k.tx_len) % 2048];
    let mut now = Instant::from_millis(0);
    let conn = match Connection::new(now, &config, &mut rx_buf, &mut tx_buf) {
        Ok(conn) => conn,
        Err(e) => {
            assert_eq!(e, SendError::TooLarge);
            return;
        }
    };

    let mut h = Harness {
        conn,
        ours,
        ttl_ds: u16::from(k.ttl_ds),
        pending: Vec::new(),
        consumed: Vec::new(),
        transmitted: Vec::new(),
        sent_data: Vec::new(),
        sent_subs: Vec::new(),
        rx_model: RxModel::default(),
        events: Vec::new(),
        local_close: false,
        routing_id: k.routing_id,
    };

    let (minor, ready) = match s.start {
        Start::Raw => (None, false),
        Start::Greeting31 => (Some(1), false),
        Start::Greeting30 => (Some(0), false),
        Start::Ready31 => (Some(1), true),
        Start::Ready30 => (Some(0), true),
    };
    if let Some(minor) = minor {
        let repr = GreetingRepr {
            major: 3,
            minor,
            mechanism: Mechanism::Null,
            as_server: false,
        };
        let mut g = [0u8; GREETING_LEN];
        repr.emit(0, &mut g);
        h.pending.extend_from_slice(&g);
    }
    if ready {
        let identity = peer.sends_identity().then_some(&b""[..]);
        let mut body = vec![0u8; command::ready_len(peer.as_str(), identity, Properties::EMPTY)];
        command::emit_ready(peer.as_str(), identity, Properties::EMPTY, &mut body)
            .expect("READY fits");
        let frame = FrameRepr {
            more: false,
            command: true,
            body: &body,
        };
        let mut bytes = vec![0u8; frame.buffer_len()];
        frame.emit(&mut bytes).expect("frame fits");
        h.pending.extend_from_slice(&bytes);
    }
    if !h.pending.is_empty() {
        h.input(now, &[]);
    }

    for op in &s.ops {
        match *op {
            Op::Input(bytes) => h.input(now, bytes),
            Op::Advance(ms) => {
                now = now.saturating_add(Duration::from_millis(u64::from(ms)));
                h.timeout(now);
            }
            Op::Transmit(len) => {
                h.transmit(now, usize::from(len) % 2048);
            }
            Op::Pop => h.pop(),
            Op::Send { parts, bytes } => h.send(parts, bytes),
            Op::Subscription { subscribe, topic } => h.subscription(subscribe, topic),
            Op::Close => h.conn.handle_transport_closed(now),
            Op::TransportError(errno) => h.conn.handle_transport_error(now, u32::from(errno)),
            Op::LocalClose => {
                h.local_close = !h.conn.is_closed();
                h.conn.close();
            }
            Op::Timeout => h.timeout(now),
        }
        h.drain_events();
    }
    // Flush what is left, then check the whole output stream once more.
    for _ in 0..64 {
        if h.transmit(now, 1024) == 0 {
            break;
        }
    }
    h.check_output();
}

/// The frames the application should see, derived from the consumed input.
#[derive(Default)]
struct RxModel {
    /// Parse position in `consumed` (starts after the greeting).
    pos: usize,
    /// Frames parsed so far (the handshake frame is the first).
    frames_seen: usize,
    /// Whether a frame failed to parse (the connection closed there).
    broken: bool,
    /// Expected records, oldest first.
    expected: VecDeque<(u8, Vec<u8>)>,
}

struct Harness<'a> {
    conn: Connection<'a>,
    ours: SocketType,
    ttl_ds: u16,
    /// Input offered but not yet consumed.
    pending: Vec<u8>,
    /// Every byte the connection consumed.
    consumed: Vec<u8>,
    /// Every byte the connection transmitted.
    transmitted: Vec<u8>,
    /// Data frames queued for sending, `(more, body)`, in order.
    sent_data: Vec<(bool, Vec<u8>)>,
    /// SUBSCRIBE/CANCEL command bodies queued for sending, in order.
    sent_subs: Vec<Vec<u8>>,
    rx_model: RxModel,
    events: Vec<ConnEvent>,
    local_close: bool,
    /// Whether our READY carries `ROUTING_ID` (for the types that send one).
    routing_id: bool,
}

impl Harness<'_> {
    fn input(&mut self, now: Instant, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        let was_closed = self.conn.is_closed();
        let n = self.conn.handle_input(now, &self.pending);
        assert!(
            n <= self.pending.len(),
            "consumed {n} of {}",
            self.pending.len()
        );
        if was_closed {
            assert_eq!(n, 0, "input consumed after close");
        }
        self.consumed.extend(self.pending.drain(..n));
        self.update_rx_model();
    }

    fn timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
        if let Some(t) = self.conn.poll_timeout() {
            assert!(t > now, "timer at {t:?} still due at {now:?}");
        }
    }

    fn transmit(&mut self, now: Instant, len: usize) -> usize {
        let mut out = vec![0u8; len];
        let pending = self.conn.has_pending_output();
        let n = self.conn.poll_transmit(now, &mut out);
        assert!(n <= len, "wrote {n} into {len}");
        if pending && len > 0 {
            assert!(n > 0, "pending output but nothing written");
        }
        self.transmitted.extend_from_slice(&out[..n]);
        // libzmq's staged greeting: the signature first, the major version
        // after the peer's signature, the rest after the peer's major.
        if self.consumed.len() < 10 {
            assert!(self.transmitted.len() <= 10);
        } else if self.consumed.len() < 11 {
            assert!(self.transmitted.len() <= 11);
        }
        n
    }

    fn pop(&mut self) {
        let front = self.conn.front_frame().map(|(f, b)| (f, b.to_vec()));
        assert_eq!(front.is_some(), self.conn.has_message());
        match front {
            Some(record) => {
                let expected = self.rx_model.expected.pop_front();
                assert_eq!(Some(&record), expected.as_ref(), "received record");
                assert!(self.conn.pop_frame());
            }
            None => assert!(!self.conn.pop_frame()),
        }
    }

    fn send(&mut self, parts: u8, bytes: &[u8]) {
        let count = usize::from(parts % 4) + 1;
        let chunk = bytes.len().div_ceil(count).max(1);
        let mut frames: Vec<&[u8]> = bytes.chunks(chunk).collect();
        while frames.len() < count {
            frames.push(&[]);
        }
        let can = self.conn.can_send_message(&frames);
        let ready = self.conn.is_ready();
        let result = self.conn.send(&frames);
        assert_eq!(result.is_ok(), can);
        if !ready {
            assert_eq!(result, Err(SendError::NotReady));
        }
        if result.is_ok() {
            let last = frames.len() - 1;
            for (i, f) in frames.iter().enumerate() {
                self.sent_data.push((i < last, f.to_vec()));
            }
        }
    }

    fn subscription(&mut self, subscribe: bool, topic: &[u8]) {
        let ready = self.conn.is_ready();
        let result = self.conn.send_subscription(subscribe, topic);
        if !ready {
            assert_eq!(result, Err(SendError::NotReady));
        }
        if result.is_err() {
            return;
        }
        if self.conn.uses_subscription_messages() {
            let mut body = vec![u8::from(subscribe)];
            body.extend_from_slice(topic);
            self.sent_data.push((false, body));
        } else {
            let name = if subscribe { SUBSCRIBE } else { CANCEL };
            let mut body = vec![name.len() as u8];
            body.extend_from_slice(name);
            body.extend_from_slice(topic);
            self.sent_subs.push(body);
        }
    }

    fn drain_events(&mut self) {
        while let Some(e) = self.conn.poll_event() {
            let disconnected = self
                .events
                .iter()
                .any(|e| matches!(e, ConnEvent::Disconnected(_)));
            assert!(
                !disconnected,
                "event {e:?} after Disconnected: {:?}",
                self.events
            );
            let outcome = |e: &ConnEvent| {
                matches!(
                    e,
                    ConnEvent::HandshakeSucceeded
                        | ConnEvent::HandshakeFailedNoDetail { .. }
                        | ConnEvent::HandshakeFailedProtocol(_)
                        | ConnEvent::HandshakeFailedAuth { .. }
                )
            };
            if outcome(&e) {
                assert!(
                    !self.events.iter().any(outcome),
                    "second handshake outcome {e:?}: {:?}",
                    self.events
                );
            }
            if let ConnEvent::Disconnected(reason) = e {
                assert_eq!(reason == DisconnectReason::LocalClose, self.local_close);
            }
            self.events.push(e);
        }
        let disconnected = self
            .events
            .iter()
            .any(|e| matches!(e, ConnEvent::Disconnected(_)));
        let succeeded = self.events.contains(&ConnEvent::HandshakeSucceeded);
        assert_eq!(self.conn.is_closed(), disconnected, "{:?}", self.events);
        assert_eq!(
            self.conn.is_ready(),
            succeeded && !disconnected,
            "{:?}",
            self.events
        );
        // A handshake failure is always followed by Disconnected.
        if let Some(last) = self.events.last() {
            assert!(
                matches!(
                    last,
                    ConnEvent::Disconnected(_) | ConnEvent::HandshakeSucceeded
                ),
                "event stream ends with {last:?}: {:?}",
                self.events
            );
        }
        if self.conn.is_closed() {
            assert_eq!(self.conn.poll_timeout(), None);
        }
        if let (true, Some(p)) = (succeeded, self.conn.peer_socket_type()) {
            assert!(self.ours.is_compatible(p));
        }
    }

    /// Extends the expected receive records with the frames completed by
    /// the latest consumed input.
    fn update_rx_model(&mut self) {
        let m = &mut self.rx_model;
        if self.consumed.len() < GREETING_LEN || m.broken {
            return;
        }
        if m.pos < GREETING_LEN {
            m.pos = GREETING_LEN;
        }
        loop {
            // Like libzmq's decoder, the connection ignores reserved flag
            // bits and MORE on a command: model the frame with them cleared.
            let mut normalized = self.consumed[m.pos..].to_vec();
            if let Some(first) = normalized.first_mut() {
                *first &= 0x07;
                if *first & 0x04 != 0 {
                    *first &= !0x01;
                }
            }
            let rest = &normalized[..];
            let (frame, n) = match FrameRepr::parse(rest) {
                Ok(Some(ok)) => ok,
                Ok(None) => return,
                Err(_) => {
                    m.broken = true;
                    return;
                }
            };
            m.pos += n;
            m.frames_seen += 1;
            if m.frames_seen == 1 {
                // The handshake frame: kept as metadata when accepted.
                m.expected.push_back((REC_METADATA, frame.body.to_vec()));
            } else if frame.command {
                let name = frame
                    .body
                    .split_first()
                    .and_then(|(&len, rest)| rest.get(..usize::from(len)).filter(|_| len > 0));
                if name == Some(SUBSCRIBE) || name == Some(CANCEL) {
                    m.expected.push_back((REC_COMMAND, frame.body.to_vec()));
                }
            } else {
                let flags = if frame.more { REC_MORE } else { 0 };
                m.expected.push_back((flags, frame.body.to_vec()));
            }
        }
    }

    /// Checks the whole transmitted stream.
    fn check_output(&self) {
        let out = &self.transmitted;
        let mut greeting = [0u8; GREETING_LEN];
        // libzmq pads the signature with the routing id length + 1.
        let id_len = if self.routing_id {
            ROUTING_ID.len() as u8
        } else {
            0
        };
        GreetingRepr::new(Mechanism::Null).emit(id_len, &mut greeting);
        let g = out.len().min(GREETING_LEN);
        assert_eq!(&out[..g], &greeting[..g], "our greeting");
        if out.len() <= GREETING_LEN {
            return;
        }
        let mut rest = &out[GREETING_LEN..];
        let mut data = self.sent_data.iter();
        let mut subs = self.sent_subs.iter();
        let mut first = true;
        while let Some((frame, n)) = FrameRepr::parse(rest).expect("our frames are well formed") {
            rest = &rest[n..];
            if first {
                first = false;
                let identity = self.ours.sends_identity().then_some(if self.routing_id {
                    ROUTING_ID
                } else {
                    &b""[..]
                });
                let mut ready =
                    vec![0u8; command::ready_len(self.ours.as_str(), identity, Properties::EMPTY)];
                command::emit_ready(self.ours.as_str(), identity, Properties::EMPTY, &mut ready)
                    .expect("READY fits");
                assert!(frame.command);
                assert_eq!(frame.body, &ready[..], "our READY");
                continue;
            }
            if !frame.command {
                let expected = data.next().expect("a data frame we did not send");
                assert_eq!((frame.more, frame.body), (expected.0, &expected.1[..]));
                continue;
            }
            match Command::parse(frame.body).expect("our commands parse") {
                Command::Ping { ttl_ds, context } => {
                    assert_eq!(ttl_ds, self.ttl_ds);
                    assert!(context.is_empty());
                }
                Command::Pong { context } => assert!(context.len() <= 16),
                Command::Subscribe(_) | Command::Cancel(_) => {
                    let expected = subs.next().expect("a subscription we did not send");
                    assert_eq!(frame.body, &expected[..]);
                }
                Command::Error { reason } => assert_eq!(reason, b"Invalid socket type"),
                other => panic!("unexpected command {other:?}"),
            }
        }
    }
}
