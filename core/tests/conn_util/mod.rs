//! Helpers for the connection-level tests: a single connection driven by
//! hand (a scripted peer), a pair of connections with per-direction delivery
//! control, the byte pump every in-memory link uses, and builders for
//! greetings, frames and commands. Nothing here reads a real clock or
//! touches the network.
#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::vec::Vec;

use zmtp_core::conn::{Config, ConnEvent, Connection};
use zmtp_core::monitor::EndpointPair;
use zmtp_core::socket::{PeerBuffers, PeerHandle, Socket};
use zmtp_core::{Instant, SocketType};

/// The instant every test starts at.
pub const T0: u64 = 1_000;

/// Default receive and transmit buffer sizes.
pub const RX: usize = 4096;
pub const TX: usize = 4096;

/// A zeroed buffer that lives for the whole test process.
pub fn leak(n: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; n].into_boxed_slice())
}

/// A fresh connection at `now` with `rx`/`tx` byte buffers.
pub fn conn(now: Instant, cfg: &Config, rx: usize, tx: usize) -> Connection<'static> {
    Connection::new(now, cfg, leak(rx), leak(tx)).expect("connection")
}

/// Everything `c` wants to send right now (small output buffer on purpose,
/// to exercise resumption mid-frame).
pub fn transmit(c: &mut Connection<'static>, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    for _ in 0..1_000_000 {
        let n = c.poll_transmit(now, &mut buf);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
    panic!("poll_transmit never ends");
}

/// How one direction of an in-memory link moves bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// Most bytes the sender may write per transmit call.
    pub write: usize,
    /// Most bytes the link holds in flight (`usize::MAX`: unbounded), like a
    /// TCP window, so that back-pressure reaches the sender.
    pub window: usize,
    /// Most bytes offered to the receiver per input call.
    pub read: usize,
}

/// Moves bytes one way over an in-memory link: the sender writes into
/// `in_flight` until it has nothing more or the window is full, then the
/// receiver is offered up to `flow.read` bytes once, and what it consumed
/// leaves `in_flight`. `ends` is handed to both closures (the sender and
/// receiver may live in it). Returns whether anything moved.
pub fn pump<T: ?Sized>(
    ends: &mut T,
    in_flight: &mut Vec<u8>,
    flow: Flow,
    mut transmit: impl FnMut(&mut T, &mut [u8]) -> usize,
    input: impl FnOnce(&mut T, &[u8]) -> usize,
) -> bool {
    let mut progress = false;
    let mut buf = vec![0u8; flow.write.max(1)];
    for calls in 0.. {
        assert!(calls < 1_000_000, "transmit never ends");
        let room = flow.window.saturating_sub(in_flight.len()).min(buf.len());
        if room == 0 {
            break;
        }
        let n = transmit(ends, &mut buf[..room]);
        assert!(n <= room, "wrote more than offered");
        if n == 0 {
            break;
        }
        in_flight.extend_from_slice(&buf[..n]);
        progress = true;
    }
    if !in_flight.is_empty() {
        let take = in_flight.len().min(flow.read.max(1));
        let used = input(ends, &in_flight[..take]);
        assert!(used <= take, "consumed more than offered");
        if used > 0 {
            in_flight.drain(..used);
            progress = true;
        }
    }
    progress
}

/// A simulation on the virtual clock: [`Pair`] and the socket harness
/// provide these primitives and share [`settle`] and [`advance_clock`].
pub trait Sim {
    /// One exchange over every live link; returns whether anything moved.
    fn step(&mut self) -> bool;
    /// The simulation's clock.
    fn clock(&mut self) -> &mut Instant;
    /// The earliest timer deadline of any endpoint.
    fn next_timeout(&self) -> Option<Instant>;
    /// Runs every endpoint's timers at `now`.
    fn fire_timers(&mut self, now: Instant);
}

/// Steps until nothing moves (bounded).
#[track_caller]
pub fn settle(sim: &mut impl Sim) {
    for _ in 0..100_000 {
        if !sim.step() {
            return;
        }
    }
    panic!("drive did not settle");
}

/// Moves the clock to `end`, firing timers at their exact deadlines and
/// settling the links after each.
#[track_caller]
pub fn advance_clock(sim: &mut impl Sim, end: Instant) {
    for _ in 0..100_000 {
        settle(sim);
        match sim.next_timeout() {
            Some(t) if t <= end => {
                let now = sim.clock();
                if t > *now {
                    *now = t;
                }
                let now = *now;
                sim.fire_timers(now);
            }
            _ => break,
        }
    }
    let now = sim.clock();
    if end > *now {
        *now = end;
    }
    let now = *now;
    sim.fire_timers(now);
    settle(sim);
}

/// All pending events.
pub fn events(c: &mut Connection<'static>) -> Vec<ConnEvent> {
    let mut v = Vec::new();
    while let Some(e) = c.poll_event() {
        v.push(e);
    }
    v
}

/// One unit from the receive queue: its frames as `(record flags, body)`.
pub fn pop_unit(c: &mut Connection<'static>) -> Option<Vec<(u8, Vec<u8>)>> {
    if !c.has_message() {
        return None;
    }
    let mut frames = Vec::new();
    loop {
        let (flags, body) = c.front_frame().expect("a unit has frames");
        frames.push((flags, body.to_vec()));
        assert!(c.pop_frame());
        if flags & zmtp_core::conn::REC_MORE == 0 {
            return Some(frames);
        }
    }
}

/// Drops the metadata record queued by a successful handshake (the socket
/// layer does the same).
pub fn pop_metadata(c: &mut Connection<'static>) -> Vec<u8> {
    let (flags, body) = c.front_frame().expect("metadata record");
    assert_ne!(
        flags & zmtp_core::conn::REC_METADATA,
        0,
        "front is not metadata"
    );
    let body = body.to_vec();
    assert!(c.pop_frame());
    body
}

/// The bodies of the next data message.
pub fn pop_message(c: &mut Connection<'static>) -> Option<Vec<Vec<u8>>> {
    pop_unit(c).map(|frames| frames.into_iter().map(|(_, b)| b).collect())
}

// ---------------------------------------------------------------------------
// Wire builders
// ---------------------------------------------------------------------------

/// A 64-byte ZMTP 3.x greeting as libzmq would send it.
pub fn greeting(major: u8, minor: u8, mechanism: &[u8]) -> Vec<u8> {
    let mut g = vec![0u8; 64];
    g[0] = 0xFF;
    g[8] = 0x01;
    g[9] = 0x7F;
    g[10] = major;
    g[11] = minor;
    g[12..12 + mechanism.len()].copy_from_slice(mechanism);
    g
}

/// The NULL ZMTP 3.1 greeting.
pub fn null_greeting() -> Vec<u8> {
    greeting(3, 1, b"NULL")
}

/// A frame with the shortest size field.
pub fn frame(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    if body.len() > 255 {
        v.push(flags | 0x02);
        v.extend_from_slice(&(body.len() as u64).to_be_bytes());
    } else {
        v.push(flags);
        v.push(body.len() as u8);
    }
    v.extend_from_slice(body);
    v
}

/// A frame that always uses the 8-byte size field.
pub fn long_frame(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![flags | 0x02];
    v.extend_from_slice(&(body.len() as u64).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A command frame.
pub fn command(body: &[u8]) -> Vec<u8> {
    frame(0x04, body)
}

/// A property list.
pub fn props(list: &[(&str, &[u8])]) -> Vec<u8> {
    let mut v = Vec::new();
    for (name, value) in list {
        v.push(name.len() as u8);
        v.extend_from_slice(name.as_bytes());
        v.extend_from_slice(&(value.len() as u32).to_be_bytes());
        v.extend_from_slice(value);
    }
    v
}

/// A READY command frame with these properties.
pub fn ready(list: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = b"\x05READY".to_vec();
    body.extend_from_slice(&props(list));
    command(&body)
}

/// A READY command frame announcing `t`.
pub fn ready_for(t: SocketType) -> Vec<u8> {
    ready(&[("Socket-Type", t.as_str().as_bytes())])
}

/// A whole message: every frame but the last has MORE.
pub fn message(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let more = if i + 1 < parts.len() { 0x01 } else { 0x00 };
        v.extend_from_slice(&frame(more, p));
    }
    v
}

/// A PING command frame.
pub fn ping(ttl_ds: u16, context: &[u8]) -> Vec<u8> {
    let mut body = b"\x04PING".to_vec();
    body.extend_from_slice(&ttl_ds.to_be_bytes());
    body.extend_from_slice(context);
    command(&body)
}

/// The frames in a byte stream (after the greeting): `(flags, body)`.
/// Panics on a truncated stream.
pub fn parse_frames(mut s: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut v = Vec::new();
    while !s.is_empty() {
        let flags = s[0];
        let (size, hdr) = if flags & 0x02 != 0 {
            (u64::from_be_bytes(s[1..9].try_into().unwrap()) as usize, 9)
        } else {
            (usize::from(s[1]), 2)
        };
        v.push((flags, s[hdr..hdr + size].to_vec()));
        s = &s[hdr + size..];
    }
    v
}

// ---------------------------------------------------------------------------
// A connection driven by hand
// ---------------------------------------------------------------------------

/// One connection whose peer is the test itself.
pub struct Solo {
    pub c: Connection<'static>,
    pub now: Instant,
    /// Every byte transmitted so far.
    pub sent: Vec<u8>,
    /// Every event so far.
    pub events: Vec<ConnEvent>,
}

impl Solo {
    pub fn new(cfg: &Config) -> Self {
        Self::with_buffers(cfg, RX, TX)
    }

    pub fn with_buffers(cfg: &Config, rx: usize, tx: usize) -> Self {
        let now = Instant::from_millis(T0);
        Self {
            c: conn(now, cfg, rx, tx),
            now,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Collects output and events; returns the new output.
    pub fn pump(&mut self) -> Vec<u8> {
        let out = transmit(&mut self.c, self.now);
        self.sent.extend_from_slice(&out);
        self.events.extend(events(&mut self.c));
        out
    }

    /// Offers `bytes` once; returns how many were consumed.
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        let n = self.c.handle_input(self.now, bytes);
        assert!(n <= bytes.len(), "consumed more than offered");
        self.pump();
        n
    }

    /// Offers `bytes` until all are consumed; panics if the connection stalls.
    #[track_caller]
    pub fn feed_all(&mut self, bytes: &[u8]) {
        let n = self.feed(bytes);
        assert_eq!(n, bytes.len(), "input not fully consumed");
    }

    /// Greeting + READY from a NULL peer of type `t`; the handshake succeeds
    /// and the metadata record is dropped.
    #[track_caller]
    pub fn handshake(&mut self, t: SocketType) {
        self.feed_all(&null_greeting());
        self.feed_all(&ready_for(t));
        assert!(self.c.is_ready(), "handshake failed: {:?}", self.events);
        pop_metadata(&mut self.c);
        self.events.clear();
        self.sent.clear();
    }

    /// Moves the clock to `at_ms` (absolute), running timers at their exact
    /// deadlines on the way.
    pub fn advance_to(&mut self, at_ms: u64) {
        let end = Instant::from_millis(at_ms);
        for _ in 0..100_000 {
            match self.c.poll_timeout() {
                Some(t) if t <= end => {
                    if t > self.now {
                        self.now = t;
                    }
                    self.c.handle_timeout(self.now);
                    self.pump();
                }
                _ => break,
            }
        }
        if end > self.now {
            self.now = end;
        }
        self.c.handle_timeout(self.now);
        self.pump();
    }

    pub fn advance(&mut self, ms: u64) {
        self.advance_to(self.now.as_millis() + ms);
    }

    /// Milliseconds since the start.
    pub fn elapsed(&self) -> u64 {
        self.now.as_millis() - T0
    }
}

// ---------------------------------------------------------------------------
// Two connections
// ---------------------------------------------------------------------------

/// One side of a [`Pair`].
pub struct Side {
    pub c: Connection<'static>,
    /// Everything this side transmitted.
    pub sent: Vec<u8>,
    /// Bytes on their way to the other side.
    pub in_flight: Vec<u8>,
    /// Whether bytes reach the other side (false: they pile up).
    pub deliver: bool,
    pub events: Vec<ConnEvent>,
}

impl Side {
    fn new(c: Connection<'static>) -> Self {
        Self {
            c,
            sent: Vec::new(),
            in_flight: Vec::new(),
            deliver: true,
            events: Vec::new(),
        }
    }
}

/// Two connections over an in-memory link with per-direction control.
pub struct Pair {
    pub a: Side,
    pub b: Side,
    pub now: Instant,
    /// Delivery granularity in bytes.
    pub chunk: usize,
}

impl Pair {
    pub fn new(cfg_a: &Config, cfg_b: &Config) -> Self {
        Self::with_buffers(cfg_a, cfg_b, RX, TX)
    }

    pub fn with_buffers(cfg_a: &Config, cfg_b: &Config, rx: usize, tx: usize) -> Self {
        let now = Instant::from_millis(T0);
        Self {
            a: Side::new(conn(now, cfg_a, rx, tx)),
            b: Side::new(conn(now, cfg_b, rx, tx)),
            now,
            chunk: 65_536,
        }
    }

    /// Moves `from`'s output towards `to` (small writes on purpose, to
    /// exercise resumption mid-frame); it is delivered unless `from` holds
    /// it back.
    fn pump(now: Instant, chunk: usize, from: &mut Side, to: &mut Connection<'static>) -> bool {
        let flow = Flow {
            write: 7,
            window: usize::MAX,
            read: chunk,
        };
        let Side {
            c,
            sent,
            in_flight,
            deliver,
            ..
        } = from;
        let deliver = *deliver;
        pump(
            &mut (c, to),
            in_flight,
            flow,
            |(c, _), buf| {
                let n = c.poll_transmit(now, buf);
                sent.extend_from_slice(&buf[..n]);
                n
            },
            |(_, to), bytes| {
                if deliver {
                    to.handle_input(now, bytes)
                } else {
                    0
                }
            },
        )
    }

    /// One exchange each way; returns whether anything moved.
    pub fn step(&mut self) -> bool {
        let mut p = Self::pump(self.now, self.chunk, &mut self.a, &mut self.b.c);
        p |= Self::pump(self.now, self.chunk, &mut self.b, &mut self.a.c);
        self.a.events.extend(events(&mut self.a.c));
        self.b.events.extend(events(&mut self.b.c));
        p
    }

    /// Steps until nothing moves (bounded).
    #[track_caller]
    pub fn drive(&mut self) {
        settle(self);
    }

    /// Advances the clock to `at_ms` (absolute), firing timers at their
    /// exact deadlines.
    #[track_caller]
    pub fn advance_to(&mut self, at_ms: u64) {
        advance_clock(self, Instant::from_millis(at_ms));
    }

    pub fn advance(&mut self, ms: u64) {
        self.advance_to(self.now.as_millis() + ms);
    }

    /// Milliseconds since the start.
    pub fn elapsed(&self) -> u64 {
        self.now.as_millis() - T0
    }

    /// Drives the handshake and drops both metadata records.
    #[track_caller]
    pub fn handshake(&mut self) {
        self.drive();
        assert!(self.a.c.is_ready(), "a: {:?}", self.a.events);
        assert!(self.b.c.is_ready(), "b: {:?}", self.b.events);
        pop_metadata(&mut self.a.c);
        pop_metadata(&mut self.b.c);
    }
}

impl Sim for Pair {
    fn step(&mut self) -> bool {
        Self::step(self)
    }

    fn clock(&mut self) -> &mut Instant {
        &mut self.now
    }

    fn next_timeout(&self) -> Option<Instant> {
        [self.a.c.poll_timeout(), self.b.c.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    fn fire_timers(&mut self, now: Instant) {
        self.a.c.handle_timeout(now);
        self.b.c.handle_timeout(now);
    }
}

/// Attaches a raw peer of type `peer` (descriptor `fd`, queues of `rx` and
/// `tx` bytes) to `s`, past a NULL handshake; our handshake output is
/// discarded.
pub fn attach_raw<const P: usize, const E: usize, const EP: usize>(
    s: &mut Socket<'static, P, E, EP>,
    peer: SocketType,
    now: Instant,
    fd: u32,
    rx: usize,
    tx: usize,
) -> PeerHandle {
    let ep = EndpointPair::connect_pair("tcp://127.0.0.1:40002", "tcp://127.0.0.1:5556");
    let bufs = PeerBuffers {
        rx: leak(rx),
        tx: leak(tx),
        subs: leak(1024),
    };
    let p = s.attach(now, bufs, fd, ep).expect("attach");
    let mut hs = null_greeting();
    hs.extend_from_slice(&ready_for(peer));
    assert_eq!(s.handle_input(now, p, &hs), hs.len());
    let mut out = [0u8; 512];
    for _ in 0..100 {
        if s.poll_transmit(now, p, &mut out) == 0 {
            break;
        }
    }
    assert!(s.peer(p).unwrap().is_ready());
    p
}
