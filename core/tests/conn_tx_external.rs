//! Sending with large bodies left to the driver
//! (`Connection::send_external`, `Socket::send_external`): a driver that
//! writes frame headers from the connection and bodies from its own storage
//! puts exactly the bytes of a plain `send` on the wire (also as a property
//! over random messages and write sizes), `poll_transmit` stops in front of
//! a held body, held bodies count at full size against the transmit queue,
//! envelopes and routing ids are never held, PUB/XPUB/XSUB copy, DEALER and
//! PUSH name the peer they chose, CURVE never holds, and a peer decodes the
//! bytes into the same frames.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(not(feature = "curve"))]
mod conn_util;
#[cfg(feature = "curve")]
mod curve_util;
#[cfg(feature = "curve")]
use curve_util as conn_util;

use std::collections::VecDeque;

use conn_util::*;
use proptest::prelude::*;
use zmtp_core::conn::{Config, Connection, SendError};
use zmtp_core::socket::{PeerHandle, Socket};
use zmtp_core::{Instant, SocketType};

/// A transmit queue large enough for every message of these tests.
const BIG_TX: usize = 1 << 16;
/// A receive queue that holds every message of these tests.
const BIG_RX: usize = 1 << 17;

/// `n` bytes that differ from frame to frame (`seed`) and along the frame.
fn body(seed: u8, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| seed.wrapping_add((i % 251) as u8).wrapping_mul(7))
        .collect()
}

/// A connection of type `local` past a NULL handshake with a peer of type
/// `peer`, with a transmit queue of `tx` bytes.
fn ready(local: SocketType, peer: SocketType, tx: usize) -> Solo {
    let mut s = Solo::with_buffers(&Config::new(local), RX, tx);
    s.handshake(peer);
    s
}

/// Drains everything `c` can send, the way a driver that holds bodies
/// would: each step takes at most `steps[i % len]` bytes, through
/// `poll_transmit` when `poll[i % len]` (falling back to
/// `peek_transmit` when it stops in front of a held body) or through
/// `peek_transmit` + `consume_transmit`. Held bodies come from `held`, in
/// order; fully written ones are popped. Checks what every view shows.
fn drive(
    c: &mut Connection<'static>,
    now: Instant,
    held: &mut VecDeque<Vec<u8>>,
    steps: &[usize],
    poll: &[bool],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut off = 0usize;
    for i in 0..1_000_000usize {
        let k = steps[i % steps.len()].max(1);
        if poll[i % poll.len()] {
            let mut buf = vec![0u8; k.min(1 << 18)];
            let n = c.poll_transmit(now, &mut buf);
            if n > 0 {
                out.extend_from_slice(&buf[..n]);
                continue;
            }
        }
        let Some(view) = c.peek_transmit() else {
            assert_eq!(c.poll_transmit(now, &mut [0u8; 64]), 0);
            assert!(held.is_empty(), "bodies left over");
            return out;
        };
        assert!(!view.is_empty());
        assert_eq!(
            view.len(),
            view.head().len() + view.body().len() + view.external()
        );
        let mut shown = view.head().to_vec();
        if view.external() > 0 {
            assert!(view.body().is_empty(), "a held frame with queued body");
            let front = held.front().expect("a held body is shown");
            // The unsent bytes are the body's last `external()` bytes.
            assert_eq!(front.len() - off, view.external());
            shown.extend_from_slice(&front[off..]);
        } else {
            shown.extend_from_slice(view.body());
        }
        let head_len = view.head().len();
        let external = view.external();
        let n = k.min(shown.len());
        out.extend_from_slice(&shown[..n]);
        assert_eq!(c.consume_transmit(now, n), n);
        if external > 0 && n > head_len {
            off += n - head_len;
            if off == held.front().unwrap().len() {
                held.pop_front();
                off = 0;
            }
        }
    }
    panic!("output never ends");
}

/// Everything `c` can send, copied with `poll_transmit`.
fn drain_copy(c: &mut Connection<'static>, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 18];
    for _ in 0..10_000 {
        let n = c.poll_transmit(now, &mut buf);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
    panic!("output never ends");
}

/// Sends `msgs` through `send_external` with `min` on one connection and
/// through `send` on another, drains the first as a holding driver with
/// `steps`/`poll`, the second by copy; returns both outputs.
fn both_ways(
    msgs: &[Vec<Vec<u8>>],
    min: usize,
    steps: &[usize],
    poll: &[bool],
) -> (Vec<u8>, Vec<u8>) {
    let mut ext = ready(SocketType::Push, SocketType::Pull, BIG_TX);
    let mut plain = ready(SocketType::Push, SocketType::Pull, BIG_TX);
    let mut held = VecDeque::new();
    for m in msgs {
        let parts: Vec<&[u8]> = m.iter().map(Vec::as_slice).collect();
        let n = ext.c.send_external(&[], &parts, min).unwrap();
        let large: Vec<Vec<u8>> = m
            .iter()
            .filter(|p| p.len() >= min.max(1))
            .cloned()
            .collect();
        assert_eq!(n, large.len());
        held.extend(large);
        plain.c.send(&parts).unwrap();
    }
    let a = drive(&mut ext.c, ext.now, &mut held, steps, poll);
    let b = drain_copy(&mut plain.c, plain.now);
    assert_eq!(ext.c.queued_outgoing(), 0);
    assert!(!ext.c.has_pending_output());
    (a, b)
}

/// Feeds `wire` to a PULL peer and returns the messages it decoded.
fn decode(wire: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut peer = Solo::with_buffers(&Config::new(SocketType::Pull), BIG_RX, TX);
    peer.handshake(SocketType::Push);
    let mut got = Vec::new();
    let mut pos = 0;
    for _ in 0..10_000 {
        let n = peer.c.handle_input(peer.now, &wire[pos..]);
        pos += n;
        while let Some(m) = pop_message(&mut peer.c) {
            got.push(m);
        }
        if n == 0 || pos == wire.len() {
            break;
        }
    }
    assert_eq!(pos, wire.len(), "the peer stalled");
    got
}

fn boundary_messages(min: usize) -> Vec<Vec<Vec<u8>>> {
    vec![
        vec![body(1, min), b"small".to_vec(), body(2, min - 1)],
        vec![body(3, 255)],
        vec![body(4, 256), Vec::new(), body(5, min + 1)],
        vec![b"x".to_vec()],
        vec![body(6, 3000), body(7, 254), body(8, 257)],
        vec![Vec::new()],
    ]
}

#[test]
fn held_bodies_put_the_same_bytes_on_the_wire() {
    for min in [255usize, 256, 257] {
        let msgs = boundary_messages(min);
        let modes: [(&[usize], &[bool]); 6] = [
            (&[usize::MAX], &[false]),
            (&[usize::MAX], &[true]),
            (&[1], &[false]),
            (&[1], &[true, false]),
            (&[7, 300, 2, 1000], &[true, true, false]),
            (&[9, 256, 255], &[false, true]),
        ];
        for (steps, poll) in modes {
            let (a, b) = both_ways(&msgs, min, steps, poll);
            assert!(a == b, "min {min}, steps {steps:?}, poll {poll:?}");
            assert_eq!(decode(&a), msgs);
        }
    }
}

#[test]
fn min_one_holds_every_non_empty_frame() {
    let msgs = vec![vec![b"a".to_vec(), Vec::new(), body(1, 300)]];
    let mut s = ready(SocketType::Push, SocketType::Pull, TX);
    let parts: Vec<&[u8]> = msgs[0].iter().map(Vec::as_slice).collect();
    assert_eq!(s.c.send_external(&[], &parts, 0), Ok(2));
    let (a, b) = both_ways(&msgs, 0, &[3], &[true]);
    assert_eq!(a, b);
    // usize::MAX holds nothing: plain send.
    let mut s2 = ready(SocketType::Push, SocketType::Pull, TX);
    assert_eq!(s2.c.send_external(&[], &parts, usize::MAX), Ok(0));
}

#[test]
fn poll_transmit_stops_in_front_of_a_held_body() {
    let mut s = ready(SocketType::Push, SocketType::Pull, TX);
    let now = s.now;
    let big = body(9, 1000);
    assert_eq!(s.c.send_external(&[], &[b"hd", &big], 500), Ok(1));
    s.c.send(&[b"next"]).unwrap();
    let mut buf = [0u8; 256];
    // The first frame and the long header of the held one come out.
    let n = s.c.poll_transmit(now, &mut buf);
    let mut expect = frame(1, b"hd");
    expect.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 3, 0xe8]);
    assert_eq!(&buf[..n], &expect[..]);
    assert_eq!(s.c.poll_transmit(now, &mut buf), 0);
    assert!(s.c.has_pending_output());
    let view = s.c.peek_transmit().unwrap();
    assert!(view.head().is_empty());
    assert!(view.body().is_empty());
    assert_eq!(view.external(), 1000);
    // Partial consumes count `external()` down.
    let mut left = 1000;
    for k in [1usize, 99, 400, 499] {
        assert_eq!(s.c.consume_transmit(now, k), k);
        left -= k;
        assert_eq!(s.c.peek_transmit().unwrap().external(), left);
        assert_eq!(s.c.poll_transmit(now, &mut buf), 0);
        assert!(s.c.has_pending_output());
        assert_eq!(s.c.queued_outgoing(), 2);
    }
    assert_eq!(s.c.consume_transmit(now, 1), 1);
    assert_eq!(s.c.queued_outgoing(), 1);
    let n = s.c.poll_transmit(now, &mut buf);
    assert_eq!(&buf[..n], &frame(0, b"next")[..]);
    assert!(!s.c.has_pending_output());
    assert_eq!(s.c.queued_outgoing(), 0);
}

#[test]
fn a_consume_may_span_header_body_and_next_frame() {
    let mut s = ready(SocketType::Push, SocketType::Pull, TX);
    let now = s.now;
    let big = body(3, 300);
    assert_eq!(s.c.send_external(&[], &[&big], 300), Ok(1));
    s.c.send(&[b"after"]).unwrap();
    // Header (9) + body (300) + 3 bytes of the next frame in one report.
    assert_eq!(s.c.consume_transmit(now, 312), 312);
    let view = s.c.peek_transmit().unwrap();
    assert!(view.head().is_empty());
    assert_eq!(view.body(), b"fter");
    assert_eq!(view.external(), 0);
}

#[test]
fn held_bodies_count_at_full_size() {
    let mut s = ready(SocketType::Push, SocketType::Pull, TX);
    let now = s.now;
    // Never fits, although its record would be tiny.
    let huge = body(1, TX);
    assert_eq!(
        s.c.send_external(&[], &[&huge], 1),
        Err(SendError::TooLarge)
    );
    assert_eq!(s.c.send(&[&huge]), Err(SendError::TooLarge));
    let big = body(2, 3000);
    assert_eq!(s.c.send_external(&[], &[&big], 1), Ok(1));
    assert!(s.c.can_send());
    assert_eq!(s.c.queued_outgoing(), 1);
    // The held body still takes its room: no second one, held or copied.
    assert_eq!(s.c.send_external(&[], &[&big], 1), Err(SendError::Full));
    assert_eq!(s.c.send(&[&big]), Err(SendError::Full));
    // Small messages still fit beside it.
    s.c.send(&[b"small"]).unwrap();
    assert_eq!(s.c.queued_outgoing(), 2);
    // Half the body written: still held, still Full.
    let head = s.c.peek_transmit().unwrap().head().len();
    assert_eq!(s.c.consume_transmit(now, head + 1500), head + 1500);
    assert_eq!(s.c.send_external(&[], &[&big], 1), Err(SendError::Full));
    assert_eq!(s.c.consume_transmit(now, 1500), 1500);
    assert_eq!(s.c.queued_outgoing(), 1);
    assert_eq!(s.c.send_external(&[], &[&big], 1), Ok(1));
    // Copied then held is refused the same way.
    let mut t = ready(SocketType::Push, SocketType::Pull, TX);
    t.c.send(&[&big]).unwrap();
    assert_eq!(t.c.send_external(&[], &[&big], 1), Err(SendError::Full));
}

#[test]
fn sndhwm_counts_messages_with_held_bodies() {
    let mut cfg = Config::new(SocketType::Push);
    cfg.sndhwm = 2;
    let mut s = Solo::with_buffers(&cfg, RX, BIG_TX);
    s.handshake(SocketType::Pull);
    let now = s.now;
    let big = body(4, 1000);
    assert_eq!(s.c.send_external(&[], &[&big], 1), Ok(1));
    assert_eq!(s.c.send_external(&[], &[&big], 1), Ok(1));
    assert!(!s.c.can_send());
    assert_eq!(s.c.send_external(&[], &[&big], 1), Err(SendError::Full));
    assert_eq!(s.c.send(&[b"x"]), Err(SendError::Full));
    // Writing the first message (header 9 bytes, body 1000) frees a slot.
    assert_eq!(s.c.consume_transmit(now, 1008), 1008);
    assert!(!s.c.can_send());
    assert_eq!(s.c.consume_transmit(now, 1), 1);
    assert!(s.c.can_send());
    assert_eq!(s.c.queued_outgoing(), 1);
    assert_eq!(s.c.send_external(&[], &[&big], 1), Ok(1));
}

#[test]
fn acceptance_matches_copied_frames() {
    // The same sends on a holding and a copying connection (SNDHWM 3, a
    // 4 KiB queue) meet the same answers, counts and readiness until one
    // is refused; then both write everything, and again. (Partial writes
    // in between would let the copying ring refuse a record for want of
    // contiguous room that the holding ring's small records still find.)
    let mut cfg = Config::new(SocketType::Push);
    cfg.sndhwm = 3;
    let mk = || {
        let mut s = Solo::with_buffers(&cfg, RX, TX);
        s.handshake(SocketType::Pull);
        s
    };
    let (mut ext, mut plain) = (mk(), mk());
    let now = ext.now;
    let sizes = [1500usize, 900, 10, 2000, 700, 300, 4000, 1200, 5, 3500];
    let mut held = VecDeque::new();
    let mut refused = 0;
    for (i, &n) in sizes.iter().cycle().take(60).enumerate() {
        let b = body(i as u8, n);
        let parts: [&[u8]; 2] = [b"k", &b];
        assert_eq!(
            ext.c.can_send_message(&parts),
            plain.c.can_send_message(&parts)
        );
        let got = ext.c.send_external(&[], &parts, 256);
        assert_eq!(
            got.map(|_| ()),
            plain.c.send(&parts),
            "send {i} of {n} bytes"
        );
        if got == Ok(1) {
            held.push_back(b.clone());
        }
        assert_eq!(ext.c.can_send(), plain.c.can_send());
        assert_eq!(ext.c.queued_outgoing(), plain.c.queued_outgoing());
        assert_eq!(ext.c.has_pending_output(), plain.c.has_pending_output());
        if got.is_err() {
            refused += 1;
            let a = drive(&mut ext.c, now, &mut held, &[usize::MAX], &[true]);
            assert!(a == drain_copy(&mut plain.c, now));
            assert_eq!(ext.c.queued_outgoing(), 0);
            assert!(ext.c.can_send());
        }
    }
    assert!(refused >= 5, "the script reaches the limits");
}

#[test]
fn full_boundary_matches_copied_frames() {
    // One frame queued, then a second one sized so that both exactly fill
    // the 4096-byte queue when copied.
    for held_first in [false, true] {
        let mut s = ready(SocketType::Push, SocketType::Pull, TX);
        let first = body(1, 2000);
        let min = if held_first { 1 } else { usize::MAX };
        s.c.send_external(&[], &[&first], min).unwrap();
        // Records: 5 + 2000, then 5 + 2086.
        let second = body(2, TX - 2000 - 10);
        assert_eq!(s.c.send(&[&second]), Ok(()), "held first: {held_first}");
    }
}

#[test]
fn prefix_frames_are_never_held() {
    let mut s = ready(SocketType::Dealer, SocketType::Router, BIG_TX);
    let big = body(5, 600);
    let n =
        s.c.send_external(&[b"id-long-enough", b""], &[&big], 1)
            .unwrap();
    assert_eq!(n, 1);
    let view = s.c.peek_transmit().unwrap();
    assert_eq!(view.body(), b"id-long-enough");
    assert_eq!(view.external(), 0);
    let mut held = VecDeque::from([big.clone()]);
    let wire = drive(&mut s.c, s.now, &mut held, &[usize::MAX], &[true]);
    assert_eq!(
        parse_frames(&wire),
        [
            (1, b"id-long-enough".to_vec()),
            (1, Vec::new()),
            (2, big.clone())
        ]
    );
}

// ---------------------------------------------------------------------------
// Socket level
// ---------------------------------------------------------------------------

type Sock = Socket<'static, 4, 16, 64>;

fn socket(local: SocketType) -> Sock {
    Sock::new(Config::new(local), leak(1024))
}

/// The frames a peer has queued, drained as a holding driver with `held`.
fn socket_wire(s: &mut Sock, p: PeerHandle, now: Instant, held: &mut VecDeque<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut off = 0;
    for _ in 0..10_000 {
        let Some(view) = s.peek_transmit(p) else {
            return out;
        };
        let mut shown = view.head().to_vec();
        shown.extend_from_slice(view.body());
        let head = view.head().len();
        let ext = view.external();
        if ext > 0 {
            let front = held.front().unwrap();
            assert_eq!(front.len() - off, ext);
            shown.extend_from_slice(&front[off..]);
        }
        out.extend_from_slice(&shown);
        assert_eq!(s.consume_transmit(now, p, shown.len()), shown.len());
        if ext > 0 {
            off += shown.len() - head;
            if off == held.front().unwrap().len() {
                held.pop_front();
                off = 0;
            }
        }
    }
    panic!("output never ends");
}

#[cfg(feature = "reqrep")]
#[test]
fn req_delimiter_is_never_held() {
    let now = Instant::from_millis(T0);
    let mut s = socket(SocketType::Req);
    let p = attach_raw(&mut s, SocketType::Rep, now, 10, RX, BIG_TX);
    let big = body(6, 500);
    assert_eq!(s.send_external(&[&big], 1), Ok(Some((p, 1))));
    let mut held = VecDeque::from([big.clone()]);
    let wire = socket_wire(&mut s, p, now, &mut held);
    assert!(held.is_empty());
    assert_eq!(parse_frames(&wire), [(1, Vec::new()), (2, big)]);
}

#[cfg(feature = "reqrep")]
#[test]
fn rep_envelope_is_never_held() {
    let now = Instant::from_millis(T0);
    let mut s = socket(SocketType::Rep);
    let p = attach_raw(&mut s, SocketType::Req, now, 10, RX, BIG_TX);
    let id = body(7, 20);
    let req = message(&[&id, b"", b"request"]);
    assert_eq!(s.handle_input(now, p, &req), req.len());
    let mut buf = [0u8; 64];
    let n = s.recv(&mut buf).unwrap().len;
    assert_eq!(&buf[..n], b"request");
    let big = body(8, 400);
    assert_eq!(s.send_external(&[&big], 1), Ok(Some((p, 1))));
    let mut held = VecDeque::from([big.clone()]);
    let wire = socket_wire(&mut s, p, now, &mut held);
    assert_eq!(parse_frames(&wire), [(1, id), (1, Vec::new()), (2, big)]);
}

#[cfg(feature = "router")]
#[test]
fn router_id_is_never_held() {
    let now = Instant::from_millis(T0);
    let mut s = socket(SocketType::Router);
    let p = attach_raw(&mut s, SocketType::Dealer, now, 10, RX, BIG_TX);
    let id = s.routing_id(p).unwrap().to_vec();
    let big = body(9, 700);
    assert_eq!(s.send_external(&[&id, b"x", &big], 1), Ok(Some((p, 2))));
    let mut held = VecDeque::from([b"x".to_vec(), big.clone()]);
    let wire = socket_wire(&mut s, p, now, &mut held);
    assert_eq!(parse_frames(&wire), [(1, b"x".to_vec()), (2, big)]);
    // A message for an unknown routing id is dropped: nothing held.
    assert_eq!(s.send_external(&[b"nobody", &body(1, 700)], 1), Ok(None));
    assert!(s.peek_transmit(p).is_none());
}

#[cfg(feature = "pubsub")]
#[test]
fn distributing_sockets_copy() {
    let now = Instant::from_millis(T0);
    let big = body(10, 600);
    for (local, peer) in [
        (SocketType::Pub, SocketType::Sub),
        (SocketType::XPub, SocketType::Sub),
        (SocketType::XSub, SocketType::Pub),
    ] {
        let mut s = socket(local);
        let p = attach_raw(&mut s, peer, now, 10, RX, BIG_TX);
        if peer == SocketType::Sub {
            let sub = command(b"\x09SUBSCRIBE");
            assert_eq!(s.handle_input(now, p, &sub), sub.len());
            if local == SocketType::XPub {
                let mut buf = [0u8; 16];
                s.recv(&mut buf).unwrap();
            }
        }
        assert_eq!(s.send_external(&[&big], 1), Ok(None), "{local:?}");
        let mut none = VecDeque::new();
        let wire = socket_wire(&mut s, p, now, &mut none);
        let frames = parse_frames(&wire);
        assert_eq!(frames.last().unwrap(), &(2, big.clone()), "{local:?}");
    }
}

#[test]
fn dealer_and_push_name_the_peer_they_chose() {
    let now = Instant::from_millis(T0);
    for (local, peer) in [
        (SocketType::Dealer, SocketType::Dealer),
        (SocketType::Push, SocketType::Pull),
    ] {
        let mut s = socket(local);
        let p1 = attach_raw(&mut s, peer, now, 10, RX, BIG_TX);
        let p2 = attach_raw(&mut s, peer, now, 11, RX, BIG_TX);
        let mut held: [VecDeque<Vec<u8>>; 2] = [VecDeque::new(), VecDeque::new()];
        let mut chosen = Vec::new();
        for i in 0..4u8 {
            let b = body(i, 300 + usize::from(i));
            let (p, n) = s.send_external(&[b"s", &b], 100).unwrap().unwrap();
            assert_eq!(n, 1);
            chosen.push(p);
            held[usize::from(p != p1)].push_back(b);
        }
        assert_eq!(chosen, [p1, p2, p1, p2], "{local:?}");
        // Each peer's output holds exactly the bodies it was named for.
        for (k, p) in [p1, p2].into_iter().enumerate() {
            let expect: Vec<Vec<u8>> = held[k].iter().cloned().collect();
            let wire = socket_wire(&mut s, p, now, &mut held[k]);
            let got: Vec<Vec<u8>> = parse_frames(&wire)
                .into_iter()
                .filter(|(f, _)| f & 1 == 0)
                .map(|(_, b)| b)
                .collect();
            assert_eq!(got, expect);
        }
        // Nothing large: None.
        assert_eq!(s.send_external(&[b"tiny"], 100), Ok(None));
    }
}

// ---------------------------------------------------------------------------
// CURVE
// ---------------------------------------------------------------------------

#[cfg(feature = "curve")]
#[test]
fn curve_never_holds() {
    let run = |external: bool| {
        let mut p = default_pair(|_| Answer::Unavailable);
        p.handshake();
        let big = body(11, 2000);
        let parts: [&[u8]; 3] = [b"a", &big, b""];
        let a = &mut p.pair.a.c;
        if external {
            assert_eq!(a.send_external(&[], &parts, 1), Ok(0));
        } else {
            a.send(&parts).unwrap();
        }
        let now = p.pair.now;
        let mut none = VecDeque::new();
        let wire = drive(a, now, &mut none, &[usize::MAX], &[false]);
        assert_eq!(p.pair.b.c.handle_input(now, &wire), wire.len());
        assert_eq!(
            pop_message(&mut p.pair.b.c).unwrap(),
            [b"a".to_vec(), big.clone(), Vec::new()]
        );
        wire
    };
    assert_eq!(run(true), run(false));
}

// ---------------------------------------------------------------------------
// Property
// ---------------------------------------------------------------------------

fn frame_len() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..8, 250usize..262, 500usize..3000]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn held_bodies_match_plain_send(
        msgs in prop::collection::vec(prop::collection::vec(frame_len(), 1..5), 1..6),
        min in prop_oneof![Just(0usize), 1usize..300, Just(usize::MAX)],
        steps in prop::collection::vec(1usize..600, 1..8),
        poll in prop::collection::vec(any::<bool>(), 1..5),
    ) {
        let msgs: Vec<Vec<Vec<u8>>> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| {
                m.iter()
                    .enumerate()
                    .map(|(j, &n)| body((i * 8 + j) as u8, n))
                    .collect()
            })
            .collect();
        let (a, b) = both_ways(&msgs, min, &steps, &poll);
        prop_assert!(a == b, "wire bytes differ");
        prop_assert_eq!(decode(&a), msgs);
    }
}
