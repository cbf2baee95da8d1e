//! Deterministic test harness on a virtual clock (quinn-proto
//! `tests/util.rs` style): connections and sockets linked by in-memory byte
//! pipes. Nothing here reads a real clock or touches the network.
#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::VecDeque;
use std::vec::Vec;

use zmtp_core::conn::{Config, ConnEvent, Connection};
use zmtp_core::monitor::{EndpointPair, Event, EventMask, EventVersion, MonitorEvent};
use zmtp_core::socket::{PeerBuffers, PeerHandle, Socket};
use zmtp_core::{Instant, SocketType};

/// Default buffer sizes for tests.
pub const RX: usize = 4096;
pub const TX: usize = 4096;
pub const SUBS: usize = 1024;

/// A zeroed buffer that lives for the whole test process.
pub fn leak(n: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; n].into_boxed_slice())
}

/// Moves up to `chunk` bytes at a time from `from` to `into` (simulating a
/// transport that delivers in pieces).
fn pump(
    now: Instant,
    from: &mut Connection<'static>,
    into: &mut Connection<'static>,
    backlog: &mut Vec<u8>,
    chunk: usize,
) -> bool {
    let mut progress = false;
    let mut buf = vec![0u8; chunk.max(1)];
    loop {
        let n = from.poll_transmit(now, &mut buf);
        if n == 0 {
            break;
        }
        backlog.extend_from_slice(&buf[..n]);
        progress = true;
    }
    if !backlog.is_empty() {
        let take = backlog.len().min(chunk.max(1));
        let used = into.handle_input(now, &backlog[..take]);
        assert!(used <= take, "consumed more than offered");
        if used > 0 {
            backlog.drain(..used);
            progress = true;
        }
    }
    progress
}

/// Two connections over an in-memory link.
pub struct ConnPair {
    pub a: Connection<'static>,
    pub b: Connection<'static>,
    pub now: Instant,
    /// Bytes in flight a → b and b → a.
    pub ab: Vec<u8>,
    pub ba: Vec<u8>,
    pub events_a: Vec<ConnEvent>,
    pub events_b: Vec<ConnEvent>,
    /// Delivery granularity in bytes.
    pub chunk: usize,
    /// Everything a transmitted, in order (for golden comparisons).
    pub wire_a: Vec<u8>,
}

impl ConnPair {
    pub fn new(cfg_a: &Config, cfg_b: &Config) -> Self {
        Self::with_buffers(cfg_a, cfg_b, RX, TX)
    }

    pub fn with_buffers(cfg_a: &Config, cfg_b: &Config, rx: usize, tx: usize) -> Self {
        let now = Instant::from_millis(1_000);
        Self {
            a: Connection::new(now, cfg_a, leak(rx), leak(tx)).expect("a"),
            b: Connection::new(now, cfg_b, leak(rx), leak(tx)).expect("b"),
            now,
            ab: Vec::new(),
            ba: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
            chunk: 65_536,
            wire_a: Vec::new(),
        }
    }

    /// One exchange in each direction; returns whether anything moved.
    pub fn step(&mut self) -> bool {
        let before = self.ab.len();
        let mut p = pump(self.now, &mut self.a, &mut self.b, &mut self.ab, self.chunk);
        let _ = before;
        p |= pump(self.now, &mut self.b, &mut self.a, &mut self.ba, self.chunk);
        while let Some(e) = self.a.poll_event() {
            self.events_a.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.events_b.push(e);
        }
        p
    }

    /// Steps until nothing moves (bounded).
    #[track_caller]
    pub fn drive(&mut self) {
        for _ in 0..100_000 {
            if !self.step() {
                return;
            }
        }
        panic!("drive did not settle");
    }

    /// Advances the clock by `ms`, firing timers at their exact deadlines.
    pub fn advance(&mut self, ms: u64) {
        let end = Instant::from_millis(self.now.as_millis() + ms);
        for _ in 0..100_000 {
            self.drive();
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= end => {
                    if t > self.now {
                        self.now = t;
                    }
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = end;
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.drive();
    }
}

/// A socket in a [`Net`].
pub type TestSocket = Socket<'static, 8, 64, 64>;

/// One link between two sockets' peers.
pub struct Link {
    pub x: usize,
    pub px: PeerHandle,
    pub y: usize,
    pub py: PeerHandle,
    pub xy: Vec<u8>,
    pub yx: Vec<u8>,
    pub up: bool,
}

/// Sockets joined by in-memory links, on one virtual clock. Socket `x`
/// "binds", socket `y` "connects": the harness records ACCEPTED on x and
/// CONNECTED on y the way an adapter would.
pub struct Net {
    pub sockets: Vec<TestSocket>,
    pub links: Vec<Link>,
    pub now: Instant,
    pub chunk: usize,
    next_fd: u32,
    next_port: u16,
}

impl Net {
    pub fn new() -> Self {
        Self {
            sockets: Vec::new(),
            links: Vec::new(),
            now: Instant::from_millis(1_000),
            chunk: 65_536,
            next_fd: 10,
            next_port: 40_000,
        }
    }

    /// Adds a socket with `config` and returns its index. Its monitor is
    /// started with every v1 event.
    pub fn add(&mut self, config: Config) -> usize {
        let mut s = TestSocket::new(config, leak(SUBS));
        let i = self.sockets.len();
        s.monitor_mut()
            .start(
                &format!("inproc://monitor-{i}"),
                EventMask::ALL,
                EventVersion::V1,
            )
            .expect("monitor");
        self.sockets.push(s);
        i
    }

    pub fn add_type(&mut self, t: SocketType) -> usize {
        self.add(Config::new(t))
    }

    fn bufs() -> PeerBuffers<'static> {
        PeerBuffers {
            rx: leak(RX),
            tx: leak(TX),
            subs: leak(SUBS),
        }
    }

    /// Links socket `y` (connecting) to socket `x` (bound) and returns the
    /// link index. Raises ACCEPTED on x and CONNECTED on y.
    pub fn connect(&mut self, x: usize, y: usize) -> usize {
        self.connect_with(x, y, Self::bufs(), Self::bufs())
    }

    pub fn connect_with(
        &mut self,
        x: usize,
        y: usize,
        bx: PeerBuffers<'static>,
        by: PeerBuffers<'static>,
    ) -> usize {
        let bind_ep = format!("tcp://127.0.0.1:{}", 5555 + x);
        let port = self.next_port;
        self.next_port += 1;
        let conn_ep = format!("tcp://127.0.0.1:{port}");
        let (fx, fy) = (self.next_fd, self.next_fd + 1);
        self.next_fd += 2;
        let now = self.now;
        let ex = EndpointPair::bind_pair(&bind_ep, &conn_ep);
        self.sockets[x]
            .monitor_mut()
            .record(Event::Accepted { fd: fx }, ex.clone());
        let px = self.sockets[x].attach(now, bx, fx, ex).expect("attach x");
        let ey = EndpointPair::connect_pair(&conn_ep, &bind_ep);
        self.sockets[y]
            .monitor_mut()
            .record(Event::Connected { fd: fy }, ey.clone());
        let py = self.sockets[y].attach(now, by, fy, ey).expect("attach y");
        self.links.push(Link {
            x,
            px,
            y,
            py,
            xy: Vec::new(),
            yx: Vec::new(),
            up: true,
        });
        self.links.len() - 1
    }

    fn pump_dir(
        now: Instant,
        chunk: usize,
        sockets: &mut [TestSocket],
        from: (usize, PeerHandle),
        to: (usize, PeerHandle),
        backlog: &mut Vec<u8>,
    ) -> bool {
        let mut progress = false;
        let mut buf = vec![0u8; chunk.max(1)];
        loop {
            let n = sockets[from.0].poll_transmit(now, from.1, &mut buf);
            if n == 0 {
                break;
            }
            backlog.extend_from_slice(&buf[..n]);
            progress = true;
        }
        if !backlog.is_empty() {
            let take = backlog.len().min(chunk.max(1));
            let used = sockets[to.0].handle_input(now, to.1, &backlog[..take]);
            assert!(used <= take);
            if used > 0 {
                backlog.drain(..used);
                progress = true;
            }
        }
        progress
    }

    pub fn step(&mut self) -> bool {
        let mut progress = false;
        for l in &mut self.links {
            if !l.up {
                continue;
            }
            progress |= Self::pump_dir(
                self.now,
                self.chunk,
                &mut self.sockets,
                (l.x, l.px),
                (l.y, l.py),
                &mut l.xy,
            );
            progress |= Self::pump_dir(
                self.now,
                self.chunk,
                &mut self.sockets,
                (l.y, l.py),
                (l.x, l.px),
                &mut l.yx,
            );
        }
        progress
    }

    #[track_caller]
    pub fn drive(&mut self) {
        for _ in 0..100_000 {
            if !self.step() {
                return;
            }
        }
        panic!("drive did not settle");
    }

    /// Advances the clock by `ms`, firing timers at their deadlines.
    pub fn advance(&mut self, ms: u64) {
        let end = Instant::from_millis(self.now.as_millis() + ms);
        for _ in 0..100_000 {
            self.drive();
            let next = self.sockets.iter().filter_map(|s| s.poll_timeout()).min();
            match next {
                Some(t) if t <= end => {
                    if t > self.now {
                        self.now = t;
                    }
                    let now = self.now;
                    for s in &mut self.sockets {
                        s.handle_timeout(now);
                    }
                }
                _ => break,
            }
        }
        self.now = end;
        let now = self.now;
        for s in &mut self.sockets {
            s.handle_timeout(now);
        }
        self.drive();
    }

    /// Ends a link as if the transport dropped (both sides see end-of-stream).
    pub fn cut(&mut self, link: usize) {
        let now = self.now;
        let l = &mut self.links[link];
        l.up = false;
        let (x, px, y, py) = (l.x, l.px, l.y, l.py);
        self.sockets[x].handle_transport_closed(now, px);
        self.sockets[y].handle_transport_closed(now, py);
    }

    /// Drains socket `i`'s monitor.
    pub fn events(&mut self, i: usize) -> Vec<MonitorEvent<64>> {
        let mut out = Vec::new();
        while let Some(e) = self.sockets[i].monitor_mut().pop() {
            out.push(e);
        }
        out
    }

    /// Drains socket `i`'s monitor and returns the event names.
    pub fn event_names(&mut self, i: usize) -> Vec<&'static str> {
        self.events(i).iter().map(|e| e.event.name()).collect()
    }

    /// Sends a message of string frames from socket `i`.
    #[track_caller]
    pub fn send(&mut self, i: usize, parts: &[&str]) {
        let frames: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
        self.sockets[i].send(&frames).expect("send");
    }

    /// Receives one whole message from socket `i`, if any.
    pub fn recv(&mut self, i: usize) -> Option<Vec<Vec<u8>>> {
        let mut frames = Vec::new();
        let mut buf = vec![0u8; RX];
        loop {
            match self.sockets[i].recv(&mut buf) {
                Ok(info) => {
                    frames.push(buf[..info.len].to_vec());
                    if !info.more {
                        return Some(frames);
                    }
                }
                Err(nb::Error::WouldBlock) => {
                    assert!(frames.is_empty(), "partial message");
                    return None;
                }
                Err(nb::Error::Other(e)) => panic!("recv: {e:?}"),
            }
        }
    }

    /// Receives one whole message as strings.
    #[track_caller]
    pub fn recv_str(&mut self, i: usize) -> Option<Vec<String>> {
        self.recv(i).map(|m| {
            m.into_iter()
                .map(|f| String::from_utf8(f).expect("utf8"))
                .collect()
        })
    }
}

impl Default for Net {
    fn default() -> Self {
        Self::new()
    }
}

/// All socket-type pairs the RFC allows.
pub fn compatible_pairs() -> Vec<(SocketType, SocketType)> {
    let mut v = Vec::new();
    for a in SocketType::ALL {
        for b in SocketType::ALL {
            if a.is_compatible(b) {
                v.push((a, b));
            }
        }
    }
    v
}

/// Collected events as a queue (convenience for order assertions).
pub fn names(events: &[MonitorEvent<64>]) -> VecDeque<&'static str> {
    events.iter().map(|e| e.event.name()).collect()
}
