//! Deterministic test harness on a virtual clock (quinn-proto
//! `tests/util.rs` style): sockets joined by in-memory byte pipes, generic
//! over the monitor queue size, with per-link buffer sizes and an optional
//! bound on the bytes a link holds in flight (a TCP window), so that
//! back-pressure reaches the sender; helpers for a raw ZMTP peer; and, from
//! `conn_util`, the connection-level harness and wire builders. Nothing here
//! reads a real clock or touches the network.
#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../conn_util/mod.rs"]
mod conn_util;

use std::vec::Vec;

pub use conn_util::*;
use zmtp_core::conn::Config;
use zmtp_core::monitor::{EndpointPair, Event, EventMask, EventVersion, MonitorEvent};
use zmtp_core::socket::{PeerBuffers, PeerHandle, RecvError, SendError, Socket};
use zmtp_core::{Instant, SocketType};

/// Default subscription (auxiliary) buffer size.
pub const SUBS: usize = 1024;

/// Fresh peer buffers of the given sizes.
pub fn bufs(rx: usize, tx: usize) -> PeerBuffers<'static> {
    PeerBuffers {
        rx: leak(rx),
        tx: leak(tx),
        subs: leak(SUBS),
    }
}

/// A socket of the harness, with `E` monitor events.
pub type Sock<const E: usize> = Socket<'static, 8, E, 64>;

/// One link between two sockets' peers.
#[derive(Debug)]
pub struct Link {
    /// The bound socket and its peer handle.
    pub x: usize,
    pub px: PeerHandle,
    /// The connecting socket and its peer handle.
    pub y: usize,
    pub py: PeerHandle,
    pub fx: u32,
    pub fy: u32,
    /// Bytes in flight x → y and y → x.
    pub xy: Vec<u8>,
    pub yx: Vec<u8>,
    pub up: bool,
    /// The endpoint pairs given at attach (bind side, connect side).
    pub ex: EndpointPair<64>,
    pub ey: EndpointPair<64>,
}

/// Sockets joined by in-memory links on one virtual clock. Socket `x`
/// "binds", socket `y` "connects": the harness records ACCEPTED on x and
/// CONNECTED on y the way an adapter would.
pub struct Net<const E: usize = 64> {
    pub sockets: Vec<Sock<E>>,
    pub links: Vec<Link>,
    pub now: Instant,
    /// Bytes moved per transport read/write.
    pub chunk: usize,
    /// Most bytes a link holds in flight per direction (`usize::MAX`:
    /// unbounded).
    pub window: usize,
    next_fd: u32,
    next_port: u16,
}

impl<const E: usize> Default for Net<E> {
    fn default() -> Self {
        Self::new()
    }
}

/// The endpoint a socket `i` binds.
pub fn bind_endpoint(i: usize) -> String {
    format!("tcp://127.0.0.1:{}", 5555 + i)
}

impl<const E: usize> Net<E> {
    pub fn new() -> Self {
        Self {
            sockets: Vec::new(),
            links: Vec::new(),
            now: Instant::from_millis(T0),
            chunk: 65_536,
            window: usize::MAX,
            next_fd: 10,
            next_port: 40_000,
        }
    }

    /// Adds a socket with `config` and returns its index. Its monitor is
    /// started with every v1 event.
    pub fn add(&mut self, config: Config) -> usize {
        let i = self.add_unmonitored(config);
        self.sockets[i]
            .monitor_mut()
            .start(
                &format!("inproc://monitor-{i}"),
                EventMask::ALL,
                EventVersion::V1,
            )
            .expect("monitor");
        i
    }

    /// Adds a socket without starting its monitor.
    pub fn add_unmonitored(&mut self, config: Config) -> usize {
        let s = Sock::<E>::new(config, leak(SUBS));
        self.sockets.push(s);
        self.sockets.len() - 1
    }

    /// Adds a monitored socket whose auxiliary buffer (SUB/XSUB
    /// subscriptions, XPUB queue) has `aux` bytes.
    pub fn add_aux(&mut self, config: Config, aux: usize) -> usize {
        let i = self.add(config);
        let config = self.sockets[i].config().clone();
        let monitor = self.sockets[i].monitor().clone();
        self.sockets[i] = Sock::<E>::new(config, leak(aux));
        *self.sockets[i].monitor_mut() = monitor;
        i
    }

    pub fn add_type(&mut self, t: SocketType) -> usize {
        self.add(Config::new(t))
    }

    /// Adds a socket `x` of type `bound` and a socket `y` of type
    /// `connecting`, links `y` to `x` and drives the handshake. Returns
    /// `(x, y, link)`.
    #[track_caller]
    pub fn join(&mut self, bound: SocketType, connecting: SocketType) -> (usize, usize, usize) {
        let x = self.add_type(bound);
        let y = self.add_type(connecting);
        let link = self.connect(x, y);
        self.drive();
        (x, y, link)
    }

    /// Adds a socket `hub` of type `hub_type` and `K` sockets of type
    /// `leaf_type`, links each leaf to the hub in turn and drives the
    /// handshakes. Returns the hub and each leaf with its link.
    #[track_caller]
    pub fn hub<const K: usize>(
        &mut self,
        hub_type: SocketType,
        leaf_type: SocketType,
    ) -> (usize, [(usize, usize); K]) {
        self.hub_with(
            Config::new(hub_type),
            core::array::from_fn(|_| Config::new(leaf_type)),
        )
    }

    /// [`Net::hub`] with a configuration for each socket.
    #[track_caller]
    pub fn hub_with<const K: usize>(
        &mut self,
        hub: Config,
        leaves: [Config; K],
    ) -> (usize, [(usize, usize); K]) {
        let h = self.add(hub);
        let leaves = leaves.map(|c| self.add(c));
        let joined = leaves.map(|l| (l, self.connect(h, l)));
        self.drive();
        (h, joined)
    }

    /// Links `y` (connecting) to `x` (bound) with default buffers and
    /// returns the link index.
    pub fn connect(&mut self, x: usize, y: usize) -> usize {
        self.connect_with(x, y, bufs(RX, TX), bufs(RX, TX))
    }

    /// Links `y` (connecting) to `x` (bound) over the given buffers; records
    /// ACCEPTED on `x` and CONNECTED on `y` as an adapter would.
    pub fn connect_with(
        &mut self,
        x: usize,
        y: usize,
        bx: PeerBuffers<'static>,
        by: PeerBuffers<'static>,
    ) -> usize {
        let bind_ep = bind_endpoint(x);
        let port = self.next_port;
        self.next_port += 1;
        let conn_ep = format!("tcp://127.0.0.1:{port}");
        let (fx, fy) = (self.next_fd, self.next_fd + 1);
        self.next_fd += 2;
        let ex = EndpointPair::bind_pair(&bind_ep, &conn_ep);
        let px = self.attach_end(x, Event::Accepted { fd: fx }, bx, fx, &ex);
        let ey = EndpointPair::connect_pair(&conn_ep, &bind_ep);
        let py = self.attach_end(y, Event::Connected { fd: fy }, by, fy, &ey);
        self.links.push(Link {
            x,
            px,
            y,
            py,
            fx,
            fy,
            xy: Vec::new(),
            yx: Vec::new(),
            up: true,
            ex,
            ey,
        });
        self.links.len() - 1
    }

    /// Records `event` on socket `i`'s monitor, as the adapter does when a
    /// transport is up, and attaches the peer.
    #[track_caller]
    fn attach_end(
        &mut self,
        i: usize,
        event: Event,
        b: PeerBuffers<'static>,
        fd: u32,
        endpoints: &EndpointPair<64>,
    ) -> PeerHandle {
        let now = self.now;
        let s = &mut self.sockets[i];
        s.monitor_mut().record(event, endpoints.clone());
        s.attach(now, b, fd, endpoints.clone()).expect("attach")
    }

    /// One exchange in each direction on every live link; returns whether
    /// anything moved.
    pub fn step(&mut self) -> bool {
        let now = self.now;
        let flow = Flow {
            write: self.chunk,
            window: self.window,
            read: self.chunk,
        };
        let mut progress = false;
        for l in &mut self.links {
            if !l.up {
                continue;
            }
            for (from, to, in_flight) in [
                ((l.x, l.px), (l.y, l.py), &mut l.xy),
                ((l.y, l.py), (l.x, l.px), &mut l.yx),
            ] {
                progress |= pump(
                    self.sockets.as_mut_slice(),
                    in_flight,
                    flow,
                    |s, buf| s[from.0].poll_transmit(now, from.1, buf),
                    |s, bytes| s[to.0].handle_input(now, to.1, bytes),
                );
            }
        }
        progress
    }

    /// Steps until nothing moves (bounded).
    #[track_caller]
    pub fn drive(&mut self) {
        settle(self);
    }

    /// Advances the clock by `ms`, firing timers at their deadlines.
    #[track_caller]
    pub fn advance(&mut self, ms: u64) {
        advance_clock(self, Instant::from_millis(self.now.as_millis() + ms));
    }

    /// Stops moving bytes on a link without telling either side (a silent
    /// peer, or a network that dropped everything).
    pub fn stall(&mut self, link: usize) {
        self.links[link].up = false;
    }

    /// Ends a link as if the transport dropped: both sides see end-of-stream.
    pub fn cut(&mut self, link: usize) {
        let now = self.now;
        let l = &mut self.links[link];
        l.up = false;
        l.xy.clear();
        l.yx.clear();
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
        names(&self.events(i))
    }

    /// Sends a message of string frames from socket `i`.
    #[track_caller]
    pub fn send(&mut self, i: usize, parts: &[&str]) {
        self.try_send(i, parts).expect("send");
    }

    /// Sends a message of string frames from socket `i`, returning the
    /// socket's answer.
    pub fn try_send(&mut self, i: usize, parts: &[&str]) -> nb::Result<(), SendError> {
        let frames: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
        self.sockets[i].send(&frames)
    }

    /// Sends `parts` from socket `from`, drives the network and checks that
    /// socket `to` receives exactly that message.
    #[track_caller]
    pub fn deliver(&mut self, from: usize, to: usize, parts: &[&str]) {
        self.send(from, parts);
        self.drive();
        assert_eq!(self.recv_str(to).unwrap(), parts);
    }

    /// Receives one whole message from socket `i`, if any. Panics on a
    /// partial message or an error.
    #[track_caller]
    pub fn recv(&mut self, i: usize) -> Option<Vec<Vec<u8>>> {
        match self.try_recv(i) {
            Ok(m) => m,
            Err(e) => panic!("recv: {e:?}"),
        }
    }

    /// Receives one whole message from socket `i`: `Ok(None)` when nothing
    /// is waiting. Panics on a partial message.
    #[track_caller]
    pub fn try_recv(&mut self, i: usize) -> Result<Option<Vec<Vec<u8>>>, RecvError> {
        let mut frames = Vec::new();
        let mut buf = vec![0u8; 65_536];
        loop {
            match self.sockets[i].recv(&mut buf) {
                Ok(info) => {
                    frames.push(buf[..info.len].to_vec());
                    if !info.more {
                        return Ok(Some(frames));
                    }
                }
                Err(nb::Error::WouldBlock) => {
                    assert!(frames.is_empty(), "partial message");
                    return Ok(None);
                }
                Err(nb::Error::Other(e)) => {
                    assert!(frames.is_empty(), "error inside a message");
                    return Err(e);
                }
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

    /// Receives every waiting message as strings.
    #[track_caller]
    pub fn recv_all(&mut self, i: usize) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        while let Some(m) = self.recv_str(i) {
            out.push(m);
        }
        out
    }
}

impl<const E: usize> Sim for Net<E> {
    fn step(&mut self) -> bool {
        Self::step(self)
    }

    fn clock(&mut self) -> &mut Instant {
        &mut self.now
    }

    fn next_timeout(&self) -> Option<Instant> {
        self.sockets.iter().filter_map(|s| s.poll_timeout()).min()
    }

    fn fire_timers(&mut self, now: Instant) {
        for s in &mut self.sockets {
            s.handle_timeout(now);
        }
    }
}

/// `config` with routing id `id`.
#[track_caller]
pub fn with_routing_id(mut config: Config, id: &[u8]) -> Config {
    config.set_routing_id(id).expect("routing id");
    config
}

/// The names of monitor events, in order.
pub fn names(events: &[MonitorEvent<64>]) -> Vec<&'static str> {
    events.iter().map(|e| e.event.name()).collect()
}

/// Owned string frames, for comparisons.
pub fn strs(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

// ---------------------------------------------------------------------------
// A raw ZMTP peer
// ---------------------------------------------------------------------------

/// A libzmq-style ZMTP 3.0 greeting (NULL mechanism, minor version 0), as a
/// ZMTP 3.0 peer such as libzmq 4.1 sends it (libzmq
/// `tests/test_mock_pub_sub.cpp`).
pub fn greeting_v30() -> Vec<u8> {
    greeting(3, 0, b"NULL")
}

/// A READY command frame with only a Socket-Type property.
pub fn ready_frame(socket_type: &str) -> Vec<u8> {
    ready(&[("Socket-Type", socket_type.as_bytes())])
}

/// A data frame, with MORE if `more`.
pub fn data_frame(body: &[u8], more: bool) -> Vec<u8> {
    frame(u8::from(more), body)
}

/// Everything `peer` of `s` wants to transmit now.
pub fn take_output<const E: usize>(s: &mut Sock<E>, now: Instant, peer: PeerHandle) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = s.poll_transmit(now, peer, &mut buf);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}
