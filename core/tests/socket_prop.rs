//! Property test: random sends, receives, network steps, clock jumps, cuts
//! and reconnects on a DEALER - ROUTER - DEALER network never panic, never
//! deliver a partial or altered message, deliver each message at most once
//! and in order per connection, and deliver every message `send` accepted
//! unless its connection was cut.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Net, bufs};
use proptest::prelude::*;
use zmtp_core::SocketType;
use zmtp_core::conn::Config;

#[derive(Debug, Clone)]
enum Op {
    DealerSend { d: usize, frames: usize, len: usize },
    RouterSend { d: usize, frames: usize, len: usize },
    Recv { who: usize },
    RecvFrame { who: usize },
    Step,
    Drive,
    Advance { ms: u64 },
    Cut { d: usize },
    Reconnect { d: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 1..4usize, 0..40usize)
            .prop_map(|(d, frames, len)| Op::DealerSend { d, frames, len }),
        4 => (0..2usize, 1..4usize, 0..40usize)
            .prop_map(|(d, frames, len)| Op::RouterSend { d, frames, len }),
        4 => (0..3usize).prop_map(|who| Op::Recv { who }),
        2 => (0..3usize).prop_map(|who| Op::RecvFrame { who }),
        2 => Just(Op::Step),
        2 => Just(Op::Drive),
        1 => (0..40_000u64).prop_map(|ms| Op::Advance { ms }),
        1 => (0..2usize).prop_map(|d| Op::Cut { d }),
        1 => (0..2usize).prop_map(|d| Op::Reconnect { d }),
    ]
}

/// Direction of a message: dealer to router, or router to dealer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dir {
    Up,
    Down,
}

/// The frames of message `seq` on `link` going `dir`.
fn message(dir: Dir, link: usize, seq: u32, frames: usize, len: usize) -> Vec<Vec<u8>> {
    let tag = match dir {
        Dir::Up => 'U',
        Dir::Down => 'D',
    };
    let mut out = vec![format!("{tag}{link}:{seq}:{frames}:{len}").into_bytes()];
    for k in 1..frames {
        let fill = u8::try_from((seq as usize + k) % 26).unwrap() + b'a';
        out.push(vec![fill; len]);
    }
    out
}

/// The first frame's fields: direction, link, seq, frame count, length.
fn header(frame: &[u8]) -> Option<(Dir, usize, u32, usize, usize)> {
    let head = core::str::from_utf8(frame).ok()?;
    let dir = match head.get(..1)? {
        "U" => Dir::Up,
        "D" => Dir::Down,
        _ => return None,
    };
    let f: Vec<usize> = head
        .get(1..)?
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [link, seq, count, len] = f[..] else {
        return None;
    };
    Some((dir, link, u32::try_from(seq).ok()?, count, len))
}

/// Reads an intact message back: (dir, link, seq).
fn parse(frames: &[Vec<u8>]) -> Option<(Dir, usize, u32)> {
    let (dir, link, seq, count, len) = header(frames.first()?)?;
    (frames == message(dir, link, seq, count, len)).then_some((dir, link, seq))
}

struct Model {
    net: Net<64>,
    router: usize,
    dealers: [usize; 2],
    /// The current link of each dealer.
    link_of: [usize; 2],
    /// Per link: which dealer, whether cut, the router's id for it.
    dealer_of: Vec<usize>,
    cut: Vec<bool>,
    ids: Vec<Option<Vec<u8>>>,
    next_seq: u32,
    sent: BTreeSet<(Dir, usize, u32)>,
    received: BTreeSet<(Dir, usize, u32)>,
    last_seq: BTreeMap<(Dir, usize), u32>,
    /// Frames of a message read part way, per receiver.
    partial: [Vec<Vec<u8>>; 3],
}

impl Model {
    fn new(window: usize, chunk: usize, hwm: u32) -> Self {
        let mut net = Net::<64>::new();
        net.window = window;
        net.chunk = chunk;
        let cfg = |t| {
            let mut c = Config::new(t);
            c.sndhwm = hwm;
            c.rcvhwm = hwm;
            c
        };
        let router = net.add(cfg(SocketType::Router));
        let d0 = net.add(cfg(SocketType::Dealer));
        let d1 = net.add(cfg(SocketType::Dealer));
        let mut m = Self {
            net,
            router,
            dealers: [d0, d1],
            link_of: [0, 0],
            dealer_of: Vec::new(),
            cut: Vec::new(),
            ids: Vec::new(),
            next_seq: 0,
            sent: BTreeSet::new(),
            received: BTreeSet::new(),
            last_seq: BTreeMap::new(),
            partial: [Vec::new(), Vec::new(), Vec::new()],
        };
        for d in 0..2 {
            m.link(d, bufs(512, 512), bufs(512, 512));
        }
        // Start from ready connections (sends before the handshake are
        // still exercised after each reconnect).
        m.net.drive();
        m.learn_ids();
        m
    }

    fn link(
        &mut self,
        d: usize,
        bx: zmtp_core::socket::PeerBuffers<'static>,
        by: zmtp_core::socket::PeerBuffers<'static>,
    ) {
        let l = self.net.connect_with(self.router, self.dealers[d], bx, by);
        self.link_of[d] = l;
        self.dealer_of.push(d);
        self.cut.push(false);
        self.ids.push(None);
    }

    fn learn_ids(&mut self) {
        for l in 0..self.ids.len() {
            if self.ids[l].is_none() && !self.cut[l] {
                let px = self.net.links[l].px;
                if let Some(id) = self.net.sockets[self.router].routing_id(px) {
                    self.ids[l] = Some(id.to_vec());
                }
            }
        }
    }

    fn seq(&mut self) -> u32 {
        self.next_seq += 1;
        self.next_seq
    }

    fn got(&mut self, who: usize, dir: Dir, link: usize, seq: u32) {
        assert_eq!(dir, if who == 0 { Dir::Up } else { Dir::Down });
        if who > 0 {
            assert_eq!(
                self.dealer_of[link],
                who - 1,
                "delivered to the wrong dealer"
            );
        }
        assert!(self.sent.contains(&(dir, link, seq)), "never sent");
        assert!(self.received.insert((dir, link, seq)), "delivered twice");
        if let Some(&prev) = self.last_seq.get(&(dir, link)) {
            assert!(seq > prev, "out of order on link {link}");
        }
        self.last_seq.insert((dir, link), seq);
    }

    /// Reads one frame; returns whether a whole message ended.
    fn recv_frame(&mut self, who: usize) -> Option<bool> {
        let sock = if who == 0 {
            self.router
        } else {
            self.dealers[who - 1]
        };
        let mut buf = [0u8; 512];
        match self.net.sockets[sock].recv(&mut buf) {
            Ok(info) => {
                self.partial[who].push(buf[..info.len].to_vec());
                if info.more {
                    return Some(false);
                }
                let m = core::mem::take(&mut self.partial[who]);
                self.message_done(who, &m);
                Some(true)
            }
            Err(nb::Error::WouldBlock) => {
                assert!(self.partial[who].is_empty(), "message stopped half way");
                None
            }
            Err(e) => panic!("recv: {e:?}"),
        }
    }

    /// A whole message arrived: either intact, or cut short (an empty last
    /// frame) because its connection was cut and detached while it was
    /// being read.
    fn message_done(&mut self, who: usize, m: &[Vec<u8>]) {
        let head = usize::from(who == 0);
        let body = &m[head..];
        let link_of_id = |ids: &[Option<Vec<u8>>]| {
            ids.iter()
                .position(|id| id.as_deref() == Some(&m[0][..]))
                .expect("unknown routing id")
        };
        if let Some((dir, link, seq)) = parse(body) {
            if who == 0 {
                // The routing id names the connection it came over.
                assert_eq!(link_of_id(&self.ids), link, "wrong routing id");
            }
            self.got(who, dir, link, seq);
            return;
        }
        assert_eq!(m.last().map(Vec::len), Some(0), "partial message: {m:?}");
        let prefix = &body[..body.len().saturating_sub(1)];
        let link = match prefix.first().and_then(|f| header(f)) {
            Some((dir, link, seq, count, len)) => {
                let full = message(dir, link, seq, count, len);
                assert!(
                    full.len() > prefix.len() && full.starts_with(prefix),
                    "altered message: {m:?}"
                );
                link
            }
            None if who == 0 => link_of_id(&self.ids),
            None => {
                assert!(prefix.is_empty(), "altered message: {m:?}");
                // A cut right after the first frame was delivered is not
                // possible for DEALER: the first frame is the header.
                panic!("empty message at a dealer");
            }
        };
        assert!(self.cut[link], "message cut on a live connection: {m:?}");
    }

    fn recv(&mut self, who: usize) -> bool {
        loop {
            match self.recv_frame(who) {
                Some(true) => return true,
                Some(false) => {}
                None => return false,
            }
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::DealerSend { d, frames, len } => {
                let l = self.link_of[d];
                let seq = self.seq();
                let msg = message(Dir::Up, l, seq, frames, len);
                let parts: Vec<&[u8]> = msg.iter().map(Vec::as_slice).collect();
                match self.net.sockets[self.dealers[d]].send(&parts) {
                    Ok(()) => {
                        assert!(!self.cut[l], "accepted by a cut connection");
                        self.sent.insert((Dir::Up, l, seq));
                    }
                    Err(nb::Error::WouldBlock) => {}
                    Err(e) => panic!("dealer send: {e:?}"),
                }
            }
            Op::RouterSend { d, frames, len } => {
                let l = self.link_of[d];
                let Some(id) = self.ids[l].clone() else {
                    return;
                };
                let seq = self.seq();
                let msg = message(Dir::Down, l, seq, frames, len);
                let mut parts: Vec<&[u8]> = vec![&id];
                parts.extend(msg.iter().map(Vec::as_slice));
                let px = self.net.links[l].px;
                let r = &mut self.net.sockets[self.router];
                // ROUTER drops what a peer cannot take: only count what the
                // peer's connection would accept.
                let accepted = r.peer(px).is_some_and(|c| c.can_send_message(&parts[1..]));
                r.send(&parts).unwrap();
                if accepted && !self.cut[l] {
                    self.sent.insert((Dir::Down, l, seq));
                }
            }
            Op::Recv { who } => {
                self.recv(who);
            }
            Op::RecvFrame { who } => {
                self.recv_frame(who);
            }
            Op::Step => {
                self.net.step();
            }
            Op::Drive => self.net.drive(),
            Op::Advance { ms } => self.net.advance(ms),
            Op::Cut { d } => {
                let l = self.link_of[d];
                if !self.cut[l] {
                    self.net.cut(l);
                    self.cut[l] = true;
                }
            }
            Op::Reconnect { d } => {
                let l = self.link_of[d];
                if self.cut[l] {
                    let (px, py) = (self.net.links[l].px, self.net.links[l].py);
                    let bx = self.net.sockets[self.router].detach(px).unwrap();
                    let by = self.net.sockets[self.dealers[d]].detach(py).unwrap();
                    self.link(d, bx, by);
                }
            }
        }
        self.learn_ids();
    }

    /// Delivers everything still in flight.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut progress = self.net.step();
            for who in 0..3 {
                while self.recv(who) {
                    progress = true;
                }
            }
            if !progress {
                return;
            }
        }
        panic!("did not settle");
    }

    fn check_complete(&self) {
        for &(dir, link, seq) in &self.sent {
            if !self.cut[link] {
                assert!(
                    self.received.contains(&(dir, link, seq)),
                    "lost {dir:?} {link}:{seq}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn dealer_router_dealer_delivers_exactly_once(
        ops in prop::collection::vec(op(), 1..100),
        window in prop_oneof![Just(48usize), Just(200), Just(usize::MAX)],
        chunk in prop_oneof![Just(5usize), Just(64), Just(65_536)],
        hwm in 1u32..5,
    ) {
        let mut m = Model::new(window, chunk, hwm);
        for op in &ops {
            m.apply(op);
        }
        m.settle();
        m.check_complete();
    }
}
