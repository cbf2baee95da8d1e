//! The interop matrix with real libzmq 4.3.4: every compatible socket-type
//! pair, with ours playing each side against libzmq, ours binding and
//! libzmq binding, over `tcp://` and `ipc://`. Each case handshakes and
//! exchanges messages the way its pattern allows; every case carries
//! messages of 0 B, 1 B, 255 B, 256 B, 64 KiB + 1 and 1 MiB and a multipart
//! message, in each direction the pattern sends.
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

use common::WAIT;
use peer::{Ctx, Impl, Peer, ipc_endpoint, payload};
use std::time::{Duration, Instant};
use zmtp_std::SocketType;

/// The message sizes every case carries.
const SIZES: [usize; 6] = [0, 1, 255, 256, 65_537, 1 << 20];
/// The PUB/SUB topic; publications carry it as the first frame's prefix.
const TOPIC: &[u8] = b"T";
/// How long one round of a retry loop waits for its answer.
const ROUND: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Ipc,
}

/// The messages of one direction: each size alone, then a multipart message
/// mixing sizes (with an empty frame). `seed` tells directions apart.
fn messages(seed: u8) -> Vec<Vec<Vec<u8>>> {
    let mut v: Vec<Vec<Vec<u8>>> = SIZES
        .iter()
        .zip(0u8..)
        .map(|(&n, i)| vec![payload(n, seed ^ i)])
        .collect();
    v.push(vec![
        payload(3, seed),
        Vec::new(),
        payload(300, seed ^ 1),
        payload(70_000, seed ^ 2),
        payload(1, seed ^ 3),
    ]);
    v
}

/// A reply: the frames of `m` in reverse order.
fn reversed(m: &[Vec<u8>]) -> Vec<Vec<u8>> {
    m.iter().rev().cloned().collect()
}

/// `head` frames, then `m`.
fn prefixed(head: &[&[u8]], m: &[Vec<u8>]) -> Vec<Vec<u8>> {
    head.iter()
        .map(|h| h.to_vec())
        .chain(m.iter().cloned())
        .collect()
}

/// `m` with [`TOPIC`] in front of its first frame.
fn with_topic(m: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = m.to_vec();
    let mut first = TOPIC.to_vec();
    first.extend_from_slice(&m[0]);
    out[0] = first;
    out
}

/// Short form of a message for assertion output (1 MiB frames are not
/// printed).
fn shape(m: &[Vec<u8>]) -> Vec<(usize, Vec<u8>)> {
    m.iter()
        .map(|f| (f.len(), f.iter().take(8).copied().collect()))
        .collect()
}

#[track_caller]
fn assert_msg(got: &[Vec<u8>], want: &[Vec<u8>], what: &str) {
    assert!(
        got == want,
        "{what}: got {:?}, want {:?}",
        shape(got),
        shape(want)
    );
}

/// Receives the next message that is not `skip` (probes still in flight
/// from a retry loop).
#[track_caller]
fn recv_skipping(p: &Peer, skip: &[Vec<u8>]) -> Vec<Vec<u8>> {
    loop {
        let m = p.recv();
        if m != skip {
            return m;
        }
    }
}

/// Sends `probe` from `tx` until `rx` receives something within a round,
/// bounded by [`WAIT`]; returns what `rx` received. For peers that drop
/// messages until the handshake (ROUTER) or the subscription (PUB) is done.
#[track_caller]
fn until_received(tx: &Peer, probe: &[Vec<u8>], rx: &Peer) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + WAIT;
    loop {
        tx.send(probe);
        if let Some(m) = rx.recv_within(ROUND) {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "nothing received within {WAIT:?}"
        );
    }
}

/// One case: `a` and `b` are the pair's two sides (in the order the pair
/// is named), `ours` says which of them is ours, `a_binds` which one binds.
#[derive(Debug, Clone, Copy)]
struct Case {
    a: SocketType,
    b: SocketType,
    ours_is_a: bool,
    a_binds: bool,
    transport: Transport,
}

impl Case {
    fn run(self) {
        let ctx = Ctx::new();
        let (ia, ib) = if self.ours_is_a {
            (Impl::Ours, Impl::Libzmq)
        } else {
            (Impl::Libzmq, Impl::Ours)
        };
        let a = Peer::new(&ctx, ia, self.a);
        let b = Peer::new(&ctx, ib, self.b);
        self.configure(&a, &b);
        let (binder, connecter) = if self.a_binds { (&a, &b) } else { (&b, &a) };
        let ep = match self.transport {
            Transport::Tcp => binder.bind("tcp://127.0.0.1:*"),
            Transport::Ipc => {
                let tag = format!("m-{:?}-{:?}-{}", self.a, self.b, u8::from(self.ours_is_a));
                binder.bind(&ipc_endpoint(&tag))
            }
        };
        connecter.connect(&ep);
        self.exchange(&a, &b);
        a.close();
        b.close();
    }

    /// Options set before binding and connecting.
    fn configure(self, a: &Peer, b: &Peer) {
        use SocketType::{Dealer, Router, Sub};
        match (self.a, self.b) {
            (Router, Router) => {
                a.set_routing_id(b"router-a");
                b.set_routing_id(b"router-b");
            }
            (Dealer, Router) => a.set_routing_id(b"dealer-a"),
            _ => {}
        }
        if self.b == Sub {
            b.subscribe(TOPIC);
        }
    }

    fn exchange(self, a: &Peer, b: &Peer) {
        use SocketType::{Dealer, Pair, Pub, Pull, Push, Rep, Req, Router, Sub, XPub, XSub};
        let there = messages(0x10);
        let back = messages(0x20);
        match (self.a, self.b) {
            (Pair, Pair) | (Dealer, Dealer) => {
                for (m, r) in there.iter().zip(&back) {
                    a.send(m);
                    assert_msg(&b.recv(), m, "a to b");
                    b.send(r);
                    assert_msg(&a.recv(), r, "b to a");
                }
            }
            (Push, Pull) => {
                for m in &there {
                    a.send(m);
                    assert_msg(&b.recv(), m, "push to pull");
                }
            }
            (Req, Rep) => {
                for m in &there {
                    a.send(m);
                    assert_msg(&b.recv(), m, "request");
                    b.send(&reversed(m));
                    assert_msg(&a.recv(), &reversed(m), "reply");
                }
            }
            (Req, Router) => {
                for m in &there {
                    a.send(m);
                    let got = b.recv();
                    // Routing id (generated by the ROUTER), empty delimiter.
                    assert!(!got[0].is_empty() && got[1].is_empty(), "{:?}", shape(&got));
                    assert_msg(&got[2..], m, "request");
                    b.send(&prefixed(&[&got[0], b""], &reversed(m)));
                    assert_msg(&a.recv(), &reversed(m), "reply");
                }
            }
            (Dealer, Rep) => {
                for m in &there {
                    a.send(&prefixed(&[b""], m));
                    assert_msg(&b.recv(), m, "request");
                    b.send(&reversed(m));
                    assert_msg(&a.recv(), &prefixed(&[b""], &reversed(m)), "reply");
                }
            }
            (Dealer, Router) => {
                for (m, r) in there.iter().zip(&back) {
                    a.send(m);
                    assert_msg(&b.recv(), &prefixed(&[b"dealer-a"], m), "to router");
                    b.send(&prefixed(&[b"dealer-a"], r));
                    assert_msg(&a.recv(), r, "to dealer");
                }
            }
            (Router, Router) => self.router_router(a, b, &there, &back),
            (Pub | XPub, Sub | XSub) => self.publish(a, b, &there),
            other => panic!("no exchange for {other:?}"),
        }
    }

    /// ROUTER to ROUTER: the connecter speaks first (it knows the binder's
    /// routing id; the binder learns the connecter's from its handshake and
    /// drops messages to it until then, as the connecter does).
    fn router_router(self, a: &Peer, b: &Peer, there: &[Vec<Vec<u8>>], back: &[Vec<Vec<u8>>]) {
        let (c, c_id, s, s_id): (&Peer, &[u8], &Peer, &[u8]) = if self.a_binds {
            (b, b"router-b", a, b"router-a")
        } else {
            (a, b"router-a", b, b"router-b")
        };
        let hello = vec![b"hello".to_vec()];
        let probe = prefixed(&[s_id], &hello);
        let got = until_received(c, &probe, s);
        assert_msg(&got, &prefixed(&[c_id], &hello), "first message");
        let late_hello = prefixed(&[c_id], &hello);
        for (m, r) in there.iter().zip(back) {
            c.send(&prefixed(&[s_id], m));
            assert_msg(
                &recv_skipping(s, &late_hello),
                &prefixed(&[c_id], m),
                "connecter to binder",
            );
            s.send(&prefixed(&[c_id], r));
            assert_msg(&c.recv(), &prefixed(&[s_id], r), "binder to connecter");
        }
    }

    /// PUB/XPUB to SUB/XSUB: the subscription reaches the publisher first
    /// (an XPUB receives it; a PUB is probed until something gets through),
    /// then every message; a message off the topic never arrives.
    fn publish(self, publ: &Peer, sub: &Peer, msgs: &[Vec<Vec<u8>>]) {
        if self.b == SocketType::XSub {
            let mut subscribe = vec![1u8];
            subscribe.extend_from_slice(TOPIC);
            sub.send(&[subscribe]);
        }
        let probe = with_topic(&[b"-probe".to_vec()]);
        if self.a == SocketType::XPub {
            // A bound libzmq SUB sends its subscriptions to a new peer only
            // once the application calls into it (it processes its commands
            // then), so the subscriber is poked while the XPUB waits.
            let deadline = Instant::now() + WAIT;
            let got = loop {
                sub.poke();
                if let Some(m) = publ.recv_within(ROUND) {
                    break m;
                }
                assert!(Instant::now() < deadline, "no subscription within {WAIT:?}");
            };
            let mut want = vec![1u8];
            want.extend_from_slice(TOPIC);
            assert_msg(&got, &[want], "subscription at XPUB");
        } else {
            let got = until_received(publ, &probe, sub);
            assert_msg(&got, &probe, "probe");
        }
        let filtered = vec![b"X-off-topic".to_vec()];
        for m in msgs {
            let m = with_topic(m);
            publ.send(&filtered);
            publ.send(&m);
            let got = recv_skipping(sub, &probe);
            assert_msg(&got, &m, "publication");
        }
    }
}

/// Every case of a pair: both transports, ours on each side (once for a
/// symmetric pair), ours binding and libzmq binding.
fn run_pair(a: SocketType, b: SocketType) {
    let started = Instant::now();
    let ours_sides: &[bool] = if a == b { &[true] } else { &[true, false] };
    for transport in [Transport::Tcp, Transport::Ipc] {
        for &ours_is_a in ours_sides {
            for a_binds in [true, false] {
                let case = Case {
                    a,
                    b,
                    ours_is_a,
                    a_binds,
                    transport,
                };
                let t = Instant::now();
                let result = std::panic::catch_unwind(|| case.run());
                if let Err(e) = result {
                    eprintln!("failed case: {case:?}");
                    std::panic::resume_unwind(e);
                }
                eprintln!("{case:?}: {:?}", t.elapsed());
            }
        }
    }
    eprintln!("{a:?}-{b:?}: {:?}", started.elapsed());
}

macro_rules! pair {
    ($name:ident, $a:ident, $b:ident) => {
        #[test]
        fn $name() {
            run_pair(SocketType::$a, SocketType::$b);
        }
    };
}

pair!(pair_pair, Pair, Pair);
pair!(pub_sub, Pub, Sub);
pair!(pub_xsub, Pub, XSub);
pair!(xpub_sub, XPub, Sub);
pair!(xpub_xsub, XPub, XSub);
pair!(req_rep, Req, Rep);
pair!(req_router, Req, Router);
pair!(dealer_rep, Dealer, Rep);
pair!(dealer_dealer, Dealer, Dealer);
pair!(dealer_router, Dealer, Router);
pair!(router_router, Router, Router);
pair!(push_pull, Push, Pull);
