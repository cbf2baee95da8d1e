//! High-water marks per pattern (libzmq `zmq_socket(3)` "action in mute
//! state"): PUB, XPUB and ROUTER drop; DEALER, PUSH, PAIR and REQ block
//! (`WouldBlock`); the receive side never drops, it stops reading so the
//! sender's queue fills. Links carry at most [`WINDOW`] bytes in flight, like
//! a TCP window, so that back-pressure reaches the sender.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Net, with_routing_id};
use zmtp_core::SocketType;
use zmtp_core::conn::Config;

/// Bytes in flight per link direction.
const WINDOW: usize = 64;

fn cfg(t: SocketType) -> Config {
    let mut c = Config::new(t);
    c.sndhwm = 2;
    c.rcvhwm = 2;
    c
}

fn net() -> Net<64> {
    let mut n = Net::new();
    n.window = WINDOW;
    n
}

/// A 40-byte payload numbered `i` (about one message per window).
fn payload(i: usize) -> String {
    format!("{i:04}{}", "x".repeat(36))
}

fn number(frame: &str) -> usize {
    frame[..4].parse().unwrap()
}

/// The numbers of the messages waiting at `i` (without moving bytes).
fn waiting(n: &mut Net<64>, i: usize) -> Vec<usize> {
    n.recv_all(i).iter().map(|m| number(&m[0])).collect()
}

/// Reads everything `i` can get, driving the network in between, until
/// nothing moves.
fn drain(n: &mut Net<64>, i: usize) -> Vec<usize> {
    let mut got = Vec::new();
    for _ in 0..1000 {
        let read = waiting(n, i);
        let mut progress = !read.is_empty();
        got.extend(read);
        progress |= n.step();
        if !progress {
            break;
        }
    }
    got
}

/// What a slow peer of a dropping sender got out of `sent` messages: those
/// queued before the sender hit its high-water mark for it (at least the
/// mark, 2), in order, and nothing after that.
#[track_caller]
fn assert_queued_then_dropped(got: &[usize], sent: usize) {
    assert!(got.len() >= 2 && got.len() < sent, "{got:?}");
    assert_eq!(got, (0..got.len()).collect::<Vec<_>>());
}

#[test]
fn pub_drops_for_a_slow_subscriber_and_never_blocks() {
    let mut n = net();
    let (p, [(fast, _), (slow, _)]) = n.hub_with(
        cfg(SocketType::Pub),
        [cfg(SocketType::Sub), cfg(SocketType::Sub)],
    );
    n.sockets[fast].subscribe(b"").unwrap();
    n.sockets[slow].subscribe(b"").unwrap();
    n.drive();
    let mut fast_got = Vec::new();
    for i in 0..20 {
        n.send(p, &[&payload(i)]);
        n.drive();
        fast_got.extend(waiting(&mut n, fast));
    }
    assert_eq!(fast_got, (0..20).collect::<Vec<_>>());
    // The slow subscriber gets what was queued before the PUB hit its
    // high-water mark for it, in order, and nothing after that.
    assert_queued_then_dropped(&drain(&mut n, slow), 20);
    // Once it caught up it receives again.
    n.send(p, &[&payload(99)]);
    n.drive();
    assert_eq!(drain(&mut n, slow), [99]);
    assert_eq!(drain(&mut n, fast), [99]);
}

#[test]
fn router_drops_for_a_full_peer() {
    let mut n = net();
    let (r, [(slow, _), (fast, _)]) = n.hub_with(
        cfg(SocketType::Router),
        [
            with_routing_id(cfg(SocketType::Dealer), b"slow"),
            with_routing_id(cfg(SocketType::Dealer), b"fast"),
        ],
    );
    let mut fast_got = Vec::new();
    for i in 0..20 {
        // Always accepted: ROUTER without ROUTER_MANDATORY drops.
        n.send(r, &["slow", &payload(i)]);
        n.send(r, &["fast", &payload(i)]);
        n.drive();
        fast_got.extend(waiting(&mut n, fast));
    }
    assert_eq!(fast_got, (0..20).collect::<Vec<_>>());
    assert_queued_then_dropped(&drain(&mut n, slow), 20);
}

/// Sends from `sender` until `WouldBlock`; returns how many were accepted.
fn fill(n: &mut Net<64>, sender: usize, start: usize) -> usize {
    let mut k = 0;
    loop {
        assert!(k < 200, "never blocked");
        let p = payload(start + k);
        match n.try_send(sender, &[&p, "end"]) {
            Ok(()) => k += 1,
            Err(nb::Error::WouldBlock) => return k,
            Err(e) => panic!("{e:?}"),
        }
        n.drive();
    }
}

/// `sender_t` bound, `k` receivers of `receiver_t` that never read: the
/// sender blocks once every peer is full, loses nothing, and resumes once
/// the receivers read.
fn blocks_when_all_peers_are_full(sender_t: SocketType, receiver_t: SocketType, k: usize) {
    let mut n = net();
    let s = n.add(cfg(sender_t));
    let receivers: Vec<usize> = (0..k)
        .map(|_| {
            let r = n.add(cfg(receiver_t));
            n.connect(s, r);
            r
        })
        .collect();
    n.drive();
    let accepted = fill(&mut n, s, 0);
    assert!(accepted >= 2 * k, "{accepted}");
    // Still full: nothing moved.
    n.drive();
    assert_eq!(n.try_send(s, &["again"]), Err(nb::Error::WouldBlock));
    // The receivers' connections are holding input back.
    for (j, &r) in receivers.iter().enumerate() {
        let py = n.links[j].py;
        assert!(n.sockets[r].is_rx_blocked(py), "receiver {j}");
    }
    let mut all = Vec::new();
    for &r in &receivers {
        let got = drain(&mut n, r);
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(all, (0..accepted).collect::<Vec<_>>());
    // Room again.
    let more = fill(&mut n, s, accepted);
    assert!(more >= 2 * k, "{more}");
}

#[test]
fn dealer_blocks_when_all_peers_are_full() {
    blocks_when_all_peers_are_full(SocketType::Dealer, SocketType::Dealer, 3);
}

#[test]
fn push_blocks_when_all_peers_are_full() {
    blocks_when_all_peers_are_full(SocketType::Push, SocketType::Pull, 3);
}

#[test]
fn pair_blocks_when_its_peer_is_full() {
    blocks_when_all_peers_are_full(SocketType::Pair, SocketType::Pair, 1);
}

#[test]
fn push_skips_a_full_peer() {
    // libzmq lb_t: a pipe at its high-water mark is skipped, the message
    // goes to the next one; the sender only blocks when all are full.
    let mut n = net();
    let (s, [(slow, _), (fast, _)]) = n.hub_with(
        cfg(SocketType::Push),
        [cfg(SocketType::Pull), cfg(SocketType::Pull)],
    );
    let mut fast_got = Vec::new();
    for i in 0..30 {
        n.send(s, &[&payload(i)]);
        n.drive();
        fast_got.extend(waiting(&mut n, fast));
    }
    let slow_got = drain(&mut n, slow);
    fast_got.extend(drain(&mut n, fast));
    assert!(slow_got.len() < 15, "{slow_got:?}");
    let mut all: Vec<usize> = slow_got.iter().chain(&fast_got).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..30).collect::<Vec<_>>());
}

#[test]
fn req_blocks_without_a_ready_peer() {
    // REQ has at most one request outstanding, so its peers' queues never
    // fill through REQ; what blocks it is the lack of a ready peer.
    let mut n = net();
    let req = n.add(cfg(SocketType::Req));
    assert_eq!(n.try_send(req, &["q"]), Err(nb::Error::WouldBlock));
    let rep = n.add(cfg(SocketType::Rep));
    let l = n.connect(rep, req);
    assert_eq!(n.try_send(req, &["q"]), Err(nb::Error::WouldBlock));
    n.drive();
    n.deliver(req, rep, &["q"]);
    n.deliver(rep, req, &["a"]);
    n.cut(l);
    assert_eq!(n.try_send(req, &["q2"]), Err(nb::Error::WouldBlock));
}

#[test]
fn req_refuses_a_request_larger_than_its_buffer() {
    // Not WouldBlock: the request could never fit this peer's buffer.
    let mut n = net();
    let req = n.add(cfg(SocketType::Req));
    let rep = n.add(cfg(SocketType::Rep));
    n.connect_with(rep, req, common::bufs(1024, 1024), common::bufs(1024, 400));
    n.drive();
    assert_eq!(
        n.try_send(req, &[&"h".repeat(500)]),
        Err(nb::Error::Other(zmtp_core::socket::SendError::TooLarge))
    );
    // Nothing was sent: the socket may still send a request.
    let big = "r".repeat(300);
    n.send(req, &[&big]);
    n.drive();
    assert_eq!(n.recv_str(rep).unwrap(), [big]);
}

#[test]
fn the_receive_side_never_drops() {
    let mut n = net();
    let push = n.add(cfg(SocketType::Push));
    let pull = n.add(cfg(SocketType::Pull));
    let l = n.connect(pull, push);
    n.drive();
    let mut got = Vec::new();
    let mut blocked_seen = false;
    let mut i = 0;
    for _ in 0..10_000 {
        if i == 50 {
            break;
        }
        match n.try_send(push, &[&payload(i), "second", "third"]) {
            Ok(()) => i += 1,
            Err(nb::Error::WouldBlock) => {
                blocked_seen |= n.sockets[pull].is_rx_blocked(n.links[l].px);
                // The application reads one message; the flow resumes.
                let m = n.recv_str(pull).unwrap();
                assert_eq!(m[1..], ["second", "third"]);
                got.push(number(&m[0]));
            }
            Err(e) => panic!("{e:?}"),
        }
        n.drive();
    }
    assert_eq!(i, 50);
    assert!(blocked_seen, "back-pressure never reached the receiver");
    got.extend(drain(&mut n, pull));
    assert_eq!(got, (0..50).collect::<Vec<_>>());
}
