//! Receiving with large bodies left to the driver
//! (`Connection::handle_input_external`, `Socket::recv_frame_with`): where
//! the decoder stops, what the receive queue holds, which frames are never
//! left out (small ones, PUB/SUB, too large ones), RCVHWM, a transport that
//! closes while a body is awaited, the patterns' view of such frames, and a
//! property: the external path delivers exactly what plain `handle_input`
//! delivers, for any messages and any input split points.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[cfg(not(feature = "curve"))]
mod conn_util;
// With CURVE, the connection helpers come through the CURVE ones (which
// load them themselves).
#[cfg(feature = "curve")]
mod curve_util;
#[cfg(feature = "curve")]
use curve_util as conn_util;

use std::collections::VecDeque;

use conn_util::*;
use proptest::prelude::*;
use zmtp_core::conn::{Config, ConnEvent, DisconnectReason, REC_EXTERNAL, REC_MORE, external_len};
use zmtp_core::socket::{Frame, PeerHandle, RecvError, RecvInfo, Socket};
use zmtp_core::{Instant, SocketType};

/// The smallest body left to the driver in most tests.
const MIN: usize = 16_384;

/// A receive queue that holds any single frame these tests send (the
/// header checks apply the queue's largest body to external frames too).
const BIG_RX: usize = 1 << 17;

/// `n` bytes that differ from frame to frame (`seed`) and along the frame.
fn body(seed: u8, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| seed.wrapping_add((i % 251) as u8).wrapping_mul(7))
        .collect()
}

/// A connection of type `local` with a receive queue of `rx` bytes, past a
/// NULL handshake with a peer of type `peer`.
fn ready_solo(cfg: &Config, peer: SocketType, rx: usize) -> Solo {
    let mut s = Solo::with_buffers(cfg, rx, TX);
    s.handshake(peer);
    s
}

fn pull() -> Solo {
    ready_solo(&Config::new(SocketType::Pull), SocketType::Push, BIG_RX)
}

/// Offers `bytes` once through the external path; returns how many were
/// consumed.
fn feed_ext(s: &mut Solo, bytes: &[u8], min: usize) -> usize {
    let n = s.c.handle_input_external(s.now, bytes, min);
    assert!(n <= bytes.len(), "consumed more than offered");
    s.pump();
    n
}

/// Records as `(flags, body)`.
type Records = Vec<(u8, Vec<u8>)>;

/// Every record of every complete unit in the queue.
fn drain_records(s: &mut Solo) -> Records {
    let mut out = Vec::new();
    while let Some(unit) = pop_unit(&mut s.c) {
        out.extend(unit);
    }
    out
}

/// Plays the driver over `wire` offered in pieces that end at `cuts`
/// (increasing offsets; the end of `wire` is implied): input goes through
/// `handle_input_external(min)`, an awaited body is read from the stream
/// as far as it has arrived, and completed once whole. Returns the records
/// of every unit and the bodies the driver read, in order.
fn drive_conn(s: &mut Solo, wire: &[u8], cuts: &[usize], min: usize) -> (Records, Vec<Vec<u8>>) {
    let mut ends: Vec<usize> = cuts.iter().copied().filter(|&c| c < wire.len()).collect();
    ends.sort_unstable();
    ends.push(wire.len());
    let mut pos = 0;
    let mut reading: Vec<u8> = Vec::new();
    let mut bodies = Vec::new();
    let mut records = Vec::new();
    for avail in ends {
        for _ in 0..10_000 {
            let mut progress = false;
            if let Some(n) = s.c.external_body() {
                let take = (n - reading.len()).min(avail.saturating_sub(pos));
                reading.extend_from_slice(&wire[pos..pos + take]);
                pos += take;
                progress |= take > 0;
                if reading.len() == n {
                    assert!(s.c.complete_external(s.now));
                    bodies.push(core::mem::take(&mut reading));
                    progress = true;
                }
            } else if pos < avail {
                let n = feed_ext(s, &wire[pos..avail], min);
                pos += n;
                progress |= n > 0;
            }
            let got = drain_records(s);
            progress |= !got.is_empty();
            records.extend(got);
            if !progress {
                break;
            }
        }
    }
    assert_eq!(pos, wire.len(), "input left over: {:?}", s.events);
    assert!(reading.is_empty());
    (records, bodies)
}

/// The records of the 10 B, 40 000 B, 5 B message of [`three_frames`]
/// received with the middle body left to the driver.
#[track_caller]
fn assert_three_records(records: &[(u8, Vec<u8>)], parts: &[Vec<u8>; 3]) {
    assert_eq!(records.len(), 3);
    assert_eq!(records[0], (REC_MORE, parts[0].clone()));
    assert_eq!(records[1].0, REC_MORE | REC_EXTERNAL);
    assert_eq!(records[1].1, 40_000u64.to_le_bytes());
    assert_eq!(external_len(&records[1].1), 40_000);
    assert_eq!(records[2], (0, parts[2].clone()));
}

fn three_frames() -> ([Vec<u8>; 3], Vec<u8>) {
    let parts = [body(1, 10), body(2, 40_000), body(3, 5)];
    let wire = message(&[&parts[0], &parts[1], &parts[2]]);
    (parts, wire)
}

// ---------------------------------------------------------------------------
// Connection level
// ---------------------------------------------------------------------------

#[test]
fn large_body_is_left_to_the_driver() {
    let (parts, wire) = three_frames();
    let mut s = pull();
    // 10 B frame (2 + 10), then the 40 000 B frame's long header (9).
    let header_end = 2 + 10 + 9;
    let n = feed_ext(&mut s, &wire, MIN);
    assert_eq!(n, header_end);
    assert_eq!(s.c.external_body(), Some(40_000));
    assert!(s.c.is_rx_blocked());
    assert!(!s.c.has_message());
    assert_eq!(s.c.external_queued(), 0);
    // Nothing more is taken, by either entry point.
    assert_eq!(feed_ext(&mut s, &wire[n..], MIN), 0);
    assert_eq!(s.c.handle_input(s.now, &wire[n..]), 0);
    assert_eq!(s.c.external_body(), Some(40_000));
    // The driver reads the body from the stream itself.
    let held = wire[n..n + 40_000].to_vec();
    assert_eq!(held, parts[1]);
    assert!(s.c.complete_external(s.now));
    assert_eq!(s.c.external_body(), None);
    assert_eq!(s.c.external_queued(), 1);
    assert!(!s.c.is_rx_blocked());
    // Completing twice does nothing.
    assert!(!s.c.complete_external(s.now));
    assert_eq!(s.c.external_queued(), 1);
    let rest = &wire[n + 40_000..];
    assert_eq!(feed_ext(&mut s, rest, MIN), rest.len());
    assert!(s.c.has_message());
    assert_eq!(s.c.queued_units(), 1);

    let (flags, b) = s.c.front_frame().unwrap();
    assert_eq!((flags, b), (REC_MORE, &parts[0][..]));
    assert!(s.c.pop_frame());
    assert_eq!(s.c.external_queued(), 1);
    let (flags, b) = s.c.front_frame().unwrap();
    assert_eq!(flags, REC_MORE | REC_EXTERNAL);
    assert_eq!(b, 40_000u64.to_le_bytes());
    assert_eq!(external_len(b), 40_000);
    assert!(s.c.pop_frame());
    assert_eq!(s.c.external_queued(), 0);
    let (flags, b) = s.c.front_frame().unwrap();
    assert_eq!((flags, b), (0, &parts[2][..]));
    assert!(s.c.pop_frame());
    assert!(s.c.front_frame().is_none());
    assert_eq!(s.c.queued_units(), 0);
    assert!(s.events.is_empty(), "{:?}", s.events);
}

#[test]
fn external_body_on_a_dealer_pair_and_short_header() {
    // DEALER - DEALER, a single frame whose size fits the short header is
    // never external for min above 255; with min 200 it is.
    let cfg = Config::new(SocketType::Dealer);
    let mut s = ready_solo(&cfg, SocketType::Dealer, BIG_RX);
    let b = body(9, 250);
    let wire = frame(0, &b);
    assert_eq!(wire.len(), 2 + 250);
    assert_eq!(feed_ext(&mut s, &wire, 200), 2);
    assert_eq!(s.c.external_body(), Some(250));
    assert!(s.c.complete_external(s.now));
    assert_eq!(feed_ext(&mut s, &wire[2 + 250..], 200), 0);
    let recs = drain_records(&mut s);
    assert_eq!(recs, [(REC_EXTERNAL, 250u64.to_le_bytes().to_vec())]);
    // Exactly `min` is left out; one less is not.
    for (size, external) in [(200, true), (199, false)] {
        let b = body(4, size);
        let wire = frame(0, &b);
        let n = feed_ext(&mut s, &wire, 200);
        if external {
            assert_eq!(n, 2);
            assert_eq!(s.c.external_body(), Some(size));
            assert!(s.c.complete_external(s.now));
            let recs = drain_records(&mut s);
            assert_eq!(recs, [(REC_EXTERNAL, (size as u64).to_le_bytes().to_vec())]);
        } else {
            assert_eq!(n, wire.len());
            assert_eq!(s.c.external_body(), None);
            assert_eq!(drain_records(&mut s), [(0, b)]);
        }
    }
    assert!(s.events.is_empty(), "{:?}", s.events);
}

#[test]
fn every_split_point_gives_the_same_result() {
    let (parts, wire) = three_frames();
    let header_end = 2 + 10 + 9;
    // One byte at a time: each call takes exactly one byte until the
    // large frame's header is complete, then nothing.
    let mut s = pull();
    for i in 0..header_end {
        assert_eq!(s.c.external_body(), None, "at {i}");
        assert_eq!(feed_ext(&mut s, &wire[i..=i], MIN), 1, "at {i}");
    }
    assert_eq!(s.c.external_body(), Some(40_000));
    assert_eq!(feed_ext(&mut s, &wire[header_end..=header_end], MIN), 0);
    assert!(s.c.complete_external(s.now));
    for i in header_end + 40_000..wire.len() {
        assert_eq!(feed_ext(&mut s, &wire[i..=i], MIN), 1, "at {i}");
    }
    assert_three_records(&drain_records(&mut s), &parts);

    // One cut anywhere around the headers (and inside the large body).
    let mut cuts: Vec<usize> = (0..=header_end + 2).collect();
    cuts.extend([header_end + 1000, header_end + 39_999, header_end + 40_000]);
    cuts.extend(header_end + 40_000..wire.len());
    for cut in cuts {
        let mut s = pull();
        let (records, bodies) = drive_conn(&mut s, &wire, &[cut], MIN);
        assert_three_records(&records, &parts);
        assert_eq!(bodies, [parts[1].clone()], "cut {cut}");
        assert!(s.events.is_empty(), "cut {cut}: {:?}", s.events);
    }
    // Every split point at once (byte-at-a-time feeding throughout).
    let mut s = pull();
    let all: Vec<usize> = (1..wire.len()).collect();
    let (records, bodies) = drive_conn(&mut s, &wire, &all, MIN);
    assert_three_records(&records, &parts);
    assert_eq!(bodies, [parts[1].clone()]);
}

#[test]
fn nothing_is_left_out_without_min_or_below_it() {
    let (parts, wire) = three_frames();
    // Plain handle_input, and min 0.
    for plain in [true, false] {
        let mut s = pull();
        let n = if plain {
            s.feed(&wire)
        } else {
            feed_ext(&mut s, &wire, 0)
        };
        assert_eq!(n, wire.len());
        assert_eq!(s.c.external_body(), None);
        assert_eq!(s.c.external_queued(), 0);
        assert!(!s.c.complete_external(s.now));
        let recs = drain_records(&mut s);
        assert_eq!(
            recs,
            [
                (REC_MORE, parts[0].clone()),
                (REC_MORE, parts[1].clone()),
                (0, parts[2].clone())
            ]
        );
    }
    // Every body below min.
    let mut s = pull();
    assert_eq!(feed_ext(&mut s, &wire, 40_001), wire.len());
    assert_eq!(s.c.external_body(), None);
    assert_eq!(drain_records(&mut s)[1], (REC_MORE, parts[1].clone()));
}

#[test]
fn pub_sub_sockets_never_leave_bodies_out() {
    for (local, peer) in [
        (SocketType::Sub, SocketType::Pub),
        (SocketType::XSub, SocketType::Pub),
        (SocketType::Pub, SocketType::Sub),
        (SocketType::XPub, SocketType::Sub),
    ] {
        let mut s = ready_solo(&Config::new(local), peer, BIG_RX);
        let b = body(5, 20_000);
        let wire = frame(0, &b);
        assert_eq!(feed_ext(&mut s, &wire, 1), wire.len(), "{local:?}");
        assert_eq!(s.c.external_body(), None, "{local:?}");
        assert_eq!(s.c.external_queued(), 0, "{local:?}");
        assert!(!s.c.is_rx_blocked(), "{local:?}");
        assert!(!s.c.complete_external(s.now), "{local:?}");
        assert_eq!(drain_records(&mut s), [(0, b)], "{local:?}");
    }
}

#[test]
fn commands_are_never_left_out() {
    // A large unknown command after the handshake is consumed (and
    // discarded) as usual.
    let mut s = pull();
    let mut cmd = b"\x07UNKNOWN".to_vec();
    cmd.extend_from_slice(&body(6, 20_000));
    let wire = command(&cmd);
    assert_eq!(feed_ext(&mut s, &wire, 1), wire.len());
    assert_eq!(s.c.external_body(), None);
    assert!(drain_records(&mut s).is_empty());
    // A data frame after it still goes out.
    let b = body(7, 100);
    assert_eq!(feed_ext(&mut s, &frame(0, &b), 1), 2);
    assert_eq!(s.c.external_body(), Some(100));
}

#[test]
fn handshake_frames_are_never_left_out() {
    // A READY with a large property during the handshake, with min 1.
    let mut s = Solo::with_buffers(&Config::new(SocketType::Pull), BIG_RX, TX);
    assert_eq!(feed_ext(&mut s, &null_greeting(), 1), 64);
    let big = body(8, 20_000);
    let ready = ready(&[("Socket-Type", b"PUSH"), ("X-Big", &big)]);
    assert_eq!(feed_ext(&mut s, &ready, 1), ready.len());
    assert_eq!(s.c.external_body(), None);
    assert!(s.c.is_ready(), "{:?}", s.events);
    pop_metadata(&mut s.c);
}

#[test]
fn too_large_frame_still_closes() {
    let mut cfg = Config::new(SocketType::Pull);
    cfg.max_msg_size = Some(30_000);
    let mut s = ready_solo(&cfg, SocketType::Push, BIG_RX);
    let wire = frame(0, &body(1, 30_001));
    assert_eq!(feed_ext(&mut s, &wire, MIN), 9);
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
    );
    assert_eq!(s.c.external_body(), None);
    assert!(!s.c.complete_external(s.now));
    assert_eq!(feed_ext(&mut s, &wire[9..], MIN), 0);
    assert!(!s.c.has_message());

    // The receive queue's largest body applies as well.
    let mut s = ready_solo(&Config::new(SocketType::Pull), SocketType::Push, 4096);
    let wire = frame(0, &body(1, 40_000));
    assert_eq!(feed_ext(&mut s, &wire, MIN), 9);
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
    );
    assert_eq!(s.c.external_body(), None);
    assert!(!s.c.complete_external(s.now));
}

/// A multi-frame message larger than the whole receive queue is refused
/// whether its first body is left to the driver (it arrives at an empty
/// queue) or copied (its header waited behind a queued message and was
/// resumed by a read): acceptance does not depend on timing.
#[test]
fn message_larger_than_the_queue_is_refused_either_way() {
    let big = message(&[&body(1, 40_000), &body(2, 30_000)]);
    // At an empty queue: the first body is left out, the second would fit.
    let mut s = ready_solo(&Config::new(SocketType::Pull), SocketType::Push, 65_536);
    let n = feed_ext(&mut s, &big, 35_000);
    assert_eq!(s.c.external_body(), Some(40_000));
    assert!(s.c.complete_external(s.now));
    feed_ext(&mut s, &big[n + 40_000..], 35_000);
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
    );
    assert!(!s.c.has_message());

    // Behind a queued message: the header waits, a read resumes it.
    let mut s = ready_solo(&Config::new(SocketType::Pull), SocketType::Push, 65_536);
    let mut wire = frame(0, b"a");
    wire.extend_from_slice(&big);
    let n = feed_ext(&mut s, &wire, 35_000);
    assert_eq!(s.c.external_body(), None);
    assert_eq!(pop_message(&mut s.c).unwrap(), [b"a".to_vec()]);
    feed_ext(&mut s, &wire[n..], 35_000);
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
    );
    assert!(!s.c.has_message());

    // One that fits is received either way.
    let fits = message(&[&body(1, 40_000), &body(2, 20_000)]);
    let mut s = ready_solo(&Config::new(SocketType::Pull), SocketType::Push, 65_536);
    let mut wire = frame(0, b"a");
    wire.extend_from_slice(&fits);
    // All of it is in view and fits behind "a": its first body is left out.
    let n = feed_ext(&mut s, &wire, 35_000);
    assert_eq!(s.c.external_body(), Some(40_000));
    assert!(s.c.complete_external(s.now));
    let rest = n + 40_000;
    assert_eq!(feed_ext(&mut s, &wire[rest..], 35_000), wire.len() - rest);
    assert!(s.events.is_empty());
    assert_eq!(pop_message(&mut s.c).unwrap(), [b"a".to_vec()]);
    let records = drain_records(&mut s);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].0, REC_MORE | REC_EXTERNAL);
    assert_eq!(external_len(&records[0].1), 40_000);
    assert_eq!(records[1], (0, body(2, 20_000)));
}

#[test]
fn complete_without_a_body_awaited() {
    let mut s = pull();
    assert!(!s.c.complete_external(s.now));
    assert_eq!(s.c.external_queued(), 0);
    // Mid-header: still nothing awaited.
    let wire = frame(0, &body(1, 20_000));
    assert_eq!(feed_ext(&mut s, &wire[..5], MIN), 5);
    assert_eq!(s.c.external_body(), None);
    assert!(!s.c.complete_external(s.now));
    assert_eq!(feed_ext(&mut s, &wire[5..], MIN), 4);
    assert_eq!(s.c.external_body(), Some(20_000));
    assert!(s.c.complete_external(s.now));
    assert!(!s.c.complete_external(s.now));
    assert_eq!(s.c.external_queued(), 1);
    assert_eq!(drain_records(&mut s).len(), 1);
    assert_eq!(s.c.external_queued(), 0);
}

#[test]
fn transport_closed_while_a_body_is_awaited() {
    let mut s = pull();
    let first = body(1, 30);
    let big = body(2, 20_000);
    // A complete small message, a complete external one, then the header
    // of another external frame.
    let mut wire = frame(0, &first);
    wire.extend_from_slice(&frame(0, &big));
    wire.extend_from_slice(&message(&[&big, b"tail"]));
    let n = feed_ext(&mut s, &wire, MIN);
    assert_eq!(n, 32 + 9);
    assert!(s.c.complete_external(s.now));
    let n2 = feed_ext(&mut s, &wire[n + 20_000..], MIN);
    assert_eq!(n2, 9);
    assert_eq!(s.c.external_body(), Some(20_000));
    assert_eq!(s.c.external_queued(), 1);

    s.c.handle_transport_closed(s.now);
    s.pump();
    assert!(
        s.events
            .iter()
            .any(|e| matches!(e, ConnEvent::Disconnected(_))),
        "{:?}",
        s.events
    );
    assert_eq!(s.c.external_body(), None);
    assert!(!s.c.complete_external(s.now));
    // The half-received message never shows; the complete ones do.
    assert_eq!(s.c.external_queued(), 1);
    assert_eq!(pop_unit(&mut s.c).unwrap(), [(0, first)]);
    let (flags, b) = s.c.front_frame().unwrap();
    assert_eq!(flags, REC_EXTERNAL);
    assert_eq!(external_len(b), 20_000);
    assert!(s.c.pop_frame());
    assert_eq!(s.c.external_queued(), 0);
    assert!(s.c.front_frame().is_none());
    assert!(!s.c.has_message());
}

#[test]
fn rcvhwm_holds_the_header_until_a_message_is_read() {
    let mut cfg = Config::new(SocketType::Pull);
    cfg.rcvhwm = 1;
    let mut s = ready_solo(&cfg, SocketType::Push, BIG_RX);
    let first = body(1, 10);
    let big = body(2, 40_000);
    let third = body(3, 20_000);
    let mut wire = frame(0, &first);
    wire.extend_from_slice(&frame(0, &big));
    wire.extend_from_slice(&frame(0, &third));
    // The header is consumed, then the queue is at its mark.
    let n = feed_ext(&mut s, &wire, MIN);
    assert_eq!(n, 12 + 9);
    assert_eq!(s.c.external_body(), None);
    assert!(s.c.is_rx_blocked());
    assert_eq!(feed_ext(&mut s, &wire[n..], MIN), 0);
    assert_eq!(s.c.external_body(), None);
    assert!(!s.c.complete_external(s.now));
    assert_eq!(s.c.external_queued(), 0);
    // Reading the first message resumes the frame, into the queue: the body
    // is copied as with handle_input.
    assert_eq!(pop_message(&mut s.c).unwrap(), [first]);
    assert_eq!(s.c.external_body(), None);
    assert!(!s.c.is_rx_blocked());
    // The body, then the next header, held on RCVHWM again.
    let m = feed_ext(&mut s, &wire[n..], MIN);
    assert_eq!(m, 40_000 + 9);
    assert_eq!(s.c.external_body(), None);
    assert!(s.c.is_rx_blocked());
    assert_eq!(pop_unit(&mut s.c).unwrap(), [(0, big)]);
    let rest = &wire[n + m..];
    assert_eq!(feed_ext(&mut s, rest, MIN), rest.len());
    assert_eq!(pop_unit(&mut s.c).unwrap(), [(0, third)]);
    assert_eq!(s.c.external_queued(), 0);
    // A frame whose header arrives with room is left out.
    let fourth = frame(0, &body(4, 20_000));
    assert_eq!(feed_ext(&mut s, &fourth, MIN), 9);
    assert_eq!(s.c.external_body(), Some(20_000));
    assert!(s.c.complete_external(s.now));
    // ... and, being queued, holds the next header on RCVHWM in turn.
    let fifth = frame(0, &body(5, 20_000));
    assert_eq!(feed_ext(&mut s, &fifth, MIN), 9);
    assert_eq!(s.c.external_body(), None);
    assert!(s.c.is_rx_blocked());
    let (flags, b) = s.c.front_frame().unwrap();
    assert_eq!((flags, external_len(b)), (REC_EXTERNAL, 20_000));
    assert!(s.c.pop_frame());
    assert_eq!(s.c.external_queued(), 0);
    assert!(s.events.is_empty(), "{:?}", s.events);
}

#[test]
fn header_held_on_rcvhwm_without_room_on_resume_is_left_out_later() {
    // RCVHWM 2: an external record and a copied 30 000 B message are
    // queued, a 40 000 B header is held. Popping the record resumes the
    // frame, but the queue has no contiguous room for 40 000 B behind the
    // copied message: the frame stays held, and the next
    // handle_input_external leaves its body to the driver (8 bytes fit).
    let mut cfg = Config::new(SocketType::Pull);
    cfg.rcvhwm = 2;
    let min = 35_000;
    let mut s = ready_solo(&cfg, SocketType::Push, 60_000);
    let a = body(1, 36_000);
    let b = body(2, 30_000);
    let c = body(3, 40_000);
    let mut wire = frame(0, &a);
    wire.extend_from_slice(&frame(0, &b));
    wire.extend_from_slice(&frame(0, &c));
    let n = feed_ext(&mut s, &wire, min);
    assert_eq!(n, 9);
    assert_eq!(s.c.external_body(), Some(36_000));
    assert!(s.c.complete_external(s.now));
    let m = feed_ext(&mut s, &wire[n + 36_000..], min);
    assert_eq!(m, 30_009 + 9);
    assert_eq!(s.c.external_body(), None);
    assert!(s.c.is_rx_blocked());
    let (flags, r) = s.c.front_frame().unwrap();
    assert_eq!((flags, external_len(r)), (REC_EXTERNAL, 36_000));
    assert!(s.c.pop_frame());
    assert_eq!(s.c.external_queued(), 0);
    // No room for the body in the queue: still held.
    assert_eq!(s.c.external_body(), None);
    assert!(s.c.is_rx_blocked());
    let rest = &wire[n + 36_000 + m..];
    assert_eq!(feed_ext(&mut s, rest, min), 0);
    assert_eq!(s.c.external_body(), Some(40_000));
    assert!(s.c.complete_external(s.now));
    assert_eq!(pop_unit(&mut s.c).unwrap(), [(0, b)]);
    let (flags, r) = s.c.front_frame().unwrap();
    assert_eq!((flags, external_len(r)), (REC_EXTERNAL, 40_000));
    assert!(s.events.is_empty(), "{:?}", s.events);
}

// ---------------------------------------------------------------------------
// Socket level
// ---------------------------------------------------------------------------

type Sock = Socket<'static, 4, 16, 64>;

/// A socket of type `local` with one peer, past a NULL handshake with a raw
/// peer of type `peer` (whose output is discarded).
fn raw_socket(local: SocketType, peer: SocketType, rx: usize) -> (Sock, PeerHandle, Instant) {
    let now = Instant::from_millis(T0);
    let mut s = Sock::new(Config::new(local), leak(1024));
    let p = attach_raw(&mut s, peer, now, 10, rx, TX);
    (s, p, now)
}

/// What `recv_frame_with` lent, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Bytes(Vec<u8>),
    External(usize),
}

fn lend(f: Frame<'_>) -> Got {
    match f {
        Frame::Bytes(b) => Got::Bytes(b.to_vec()),
        Frame::External { len } => Got::External(len),
        _ => panic!("unknown frame kind"),
    }
}

fn recv_frame(s: &mut Sock) -> nb::Result<(Got, RecvInfo), RecvError> {
    s.recv_frame_with(lend, None)
}

/// Feeds all of `wire` through the external path, reading each awaited
/// body from it; returns the bodies read.
fn feed_socket(s: &mut Sock, p: PeerHandle, now: Instant, wire: &[u8], min: usize) -> Vec<Vec<u8>> {
    let mut pos = 0;
    let mut bodies = Vec::new();
    for _ in 0..1000 {
        if let Some(n) = s.external_body(p) {
            bodies.push(wire[pos..pos + n].to_vec());
            pos += n;
            assert!(s.complete_external(now, p));
            continue;
        }
        if pos == wire.len() {
            break;
        }
        let n = s.handle_input_external(now, p, &wire[pos..], min);
        if n == 0 {
            break;
        }
        pos += n;
    }
    assert_eq!(pos, wire.len());
    bodies
}

#[test]
fn pull_lends_external_frames() {
    let (mut s, p, now) = raw_socket(SocketType::Pull, SocketType::Push, BIG_RX);
    let big = body(1, 20_000);
    let mut wire = frame(0, &big);
    wire.extend_from_slice(&frame(0, b"small"));
    let n = s.handle_input_external(now, p, &wire, MIN);
    assert_eq!(n, 9);
    assert_eq!(s.external_body(p), Some(20_000));
    assert!(s.is_rx_blocked(p));
    // Nothing to receive yet.
    assert_eq!(recv_frame(&mut s), Err(nb::Error::WouldBlock));
    assert!(s.complete_external(now, p));
    assert!(!s.complete_external(now, p));
    assert_eq!(s.external_body(p), None);
    assert_eq!(s.external_queued(p), 1);
    let rest = &wire[9 + 20_000..];
    assert_eq!(s.handle_input_external(now, p, rest, MIN), rest.len());

    // recv_with and recv refuse the frame without consuming it.
    for _ in 0..2 {
        let r = s.recv_with(|b| b.len(), None);
        assert_eq!(
            r,
            Err(nb::Error::Other(RecvError::External { len: 20_000 }))
        );
        let mut buf = [0u8; 100];
        assert_eq!(
            s.recv(&mut buf),
            Err(nb::Error::Other(RecvError::External { len: 20_000 }))
        );
        assert_eq!(s.external_queued(p), 1);
    }
    // max_len applies to its length.
    assert_eq!(
        s.recv_frame_with(lend, Some(19_999)),
        Err(nb::Error::Other(RecvError::BufferTooSmall {
            needed: 20_000
        }))
    );
    assert_eq!(s.external_queued(p), 1);
    let (got, info) = s.recv_frame_with(lend, Some(20_000)).unwrap();
    assert_eq!(got, Got::External(20_000));
    assert_eq!(
        info,
        RecvInfo {
            len: 20_000,
            more: false,
            peer: Some(p)
        }
    );
    assert_eq!(s.external_queued(p), 0);
    let (got, info) = recv_frame(&mut s).unwrap();
    assert_eq!(got, Got::Bytes(b"small".to_vec()));
    assert_eq!((info.len, info.more), (5, false));
    assert_eq!(recv_frame(&mut s), Err(nb::Error::WouldBlock));
}

#[test]
fn socket_min_zero_is_handle_input() {
    let (mut s, p, now) = raw_socket(SocketType::Pull, SocketType::Push, BIG_RX);
    let big = body(1, 20_000);
    let wire = message(&[&big, b"x"]);
    assert_eq!(s.handle_input_external(now, p, &wire, 0), wire.len());
    assert_eq!(s.external_body(p), None);
    assert_eq!(s.external_queued(p), 0);
    let mut buf = vec![0u8; 30_000];
    let info = s.recv(&mut buf).unwrap();
    assert_eq!((info.len, info.more), (20_000, true));
    assert_eq!(buf[..20_000], big[..]);
    let info = s.recv(&mut buf).unwrap();
    assert_eq!(&buf[..info.len], b"x");
}

#[test]
fn rep_drops_a_request_with_an_external_envelope_frame() {
    let (mut s, p, now) = raw_socket(SocketType::Rep, SocketType::Req, BIG_RX);
    let big = body(1, 20_000);
    // An external frame before the delimiter (it cannot be a routing
    // frame), then an external first frame with no delimiter at all, then
    // a proper request.
    let mut wire = message(&[&big, b"", b"req1"]);
    wire.extend_from_slice(&message(&[&big, b"req2"]));
    wire.extend_from_slice(&message(&[b"", b"ok"]));
    let bodies = feed_socket(&mut s, p, now, &wire, MIN);
    assert_eq!(bodies.len(), 2);
    assert_eq!(s.external_queued(p), 2);
    let (got, info) = recv_frame(&mut s).unwrap();
    assert_eq!(got, Got::Bytes(b"ok".to_vec()));
    assert!(!info.more);
    // Both dropped unread.
    assert_eq!(s.external_queued(p), 0);
    s.send(&[b"reply"]).unwrap();
    // Nothing else was delivered.
    assert_eq!(recv_frame(&mut s), Err(nb::Error::WouldBlock));

    // The same input without leaving bodies out: the same outcome.
    let (mut s, p, now) = raw_socket(SocketType::Rep, SocketType::Req, BIG_RX);
    assert_eq!(s.handle_input(now, p, &wire), wire.len());
    let (got, _) = recv_frame(&mut s).unwrap();
    assert_eq!(got, Got::Bytes(b"ok".to_vec()));
}

#[test]
fn rep_receives_an_external_request_body() {
    let (mut s, p, now) = raw_socket(SocketType::Rep, SocketType::Req, BIG_RX);
    let big = body(1, 20_000);
    let wire = message(&[b"", &big]);
    let bodies = feed_socket(&mut s, p, now, &wire, MIN);
    assert_eq!(bodies, [big]);
    let r = s.recv_with(|b| b.len(), None);
    assert_eq!(
        r,
        Err(nb::Error::Other(RecvError::External { len: 20_000 }))
    );
    let (got, info) = recv_frame(&mut s).unwrap();
    assert_eq!(got, Got::External(20_000));
    assert!(!info.more);
    assert_eq!(s.external_queued(p), 0);
}

#[test]
fn router_lends_the_routing_id_then_the_external_frame() {
    let (mut s, p, now) = raw_socket(SocketType::Router, SocketType::Dealer, BIG_RX);
    let id = s.routing_id(p).unwrap().to_vec();
    let big = body(1, 20_000);
    let wire = message(&[&big, b"tail"]);
    let bodies = feed_socket(&mut s, p, now, &wire, MIN);
    assert_eq!(bodies, [big]);
    // The routing id is the socket's own frame: recv_with takes it.
    let (got, info) = s.recv_with(<[u8]>::to_vec, None).unwrap();
    assert_eq!(got, id);
    assert!(info.more);
    let r = s.recv_with(|b| b.len(), None);
    assert_eq!(
        r,
        Err(nb::Error::Other(RecvError::External { len: 20_000 }))
    );
    let (got, info) = recv_frame(&mut s).unwrap();
    assert_eq!(got, Got::External(20_000));
    assert_eq!((info.len, info.more, info.peer), (20_000, true, Some(p)));
    let (got, info) = recv_frame(&mut s).unwrap();
    assert_eq!(got, Got::Bytes(b"tail".to_vec()));
    assert!(!info.more);

    // Through recv_frame_with from the start: the id comes as Bytes.
    let wire = message(&[&body(2, 30_000)]);
    let bodies = feed_socket(&mut s, p, now, &wire, MIN);
    assert_eq!(bodies.len(), 1);
    let (got, info) = recv_frame(&mut s).unwrap();
    assert_eq!(got, Got::Bytes(id));
    assert!(info.more);
    let (got, info) = recv_frame(&mut s).unwrap();
    assert_eq!(got, Got::External(30_000));
    assert!(!info.more);
}

#[test]
fn req_takes_an_external_reply_body_and_drops_an_external_delimiter() {
    let (mut s, p, now) = raw_socket(SocketType::Req, SocketType::Rep, BIG_RX);
    let big = body(1, 20_000);
    s.send(&[b"q1"]).unwrap();
    // A reply whose first frame is external is no delimiter: dropped.
    let mut wire = message(&[&big, b"x"]);
    // The proper reply, with an external body.
    wire.extend_from_slice(&message(&[b"", &big]));
    let bodies = feed_socket(&mut s, p, now, &wire, MIN);
    assert_eq!(bodies.len(), 2);
    assert_eq!(s.external_queued(p), 2);
    let (got, info) = recv_frame(&mut s).unwrap();
    assert_eq!(got, Got::External(20_000));
    assert!(!info.more);
    // The dropped reply's body is the older one: the driver discards it.
    assert_eq!(s.external_queued(p), 0);
    assert_eq!(recv_frame(&mut s), Err(nb::Error::Other(RecvError::Efsm)));
}

#[test]
fn two_peers_keep_their_own_bodies() {
    // PULL fair-queues two PUSH peers; each frame lent as external names
    // its peer, whose bodies the driver keeps apart.
    let (mut s, p1, now) = raw_socket(SocketType::Pull, SocketType::Push, BIG_RX);
    let p2 = attach_raw(&mut s, SocketType::Push, now, 11, BIG_RX, TX);
    let mut held: [VecDeque<Vec<u8>>; 2] = [VecDeque::new(), VecDeque::new()];
    let mut expect: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
    for (k, p) in [p1, p2].into_iter().enumerate() {
        let mut wire = Vec::new();
        for i in 0..3u8 {
            let size = if i == 1 { 100 } else { 20_000 + usize::from(i) };
            let b = body(i + 10 * u8::try_from(k).unwrap(), size);
            wire.extend_from_slice(&frame(0, &b));
            expect[k].push(b);
        }
        for b in feed_socket(&mut s, p, now, &wire, MIN) {
            held[k].push_back(b);
        }
        assert_eq!(s.external_queued(p), 2);
    }
    let mut got: [Vec<Vec<u8>>; 2] = [Vec::new(), Vec::new()];
    let mut order = Vec::new();
    for _ in 0..6 {
        let (frame, info) = recv_frame(&mut s).unwrap();
        assert!(!info.more);
        let peer = info.peer.unwrap();
        let k = usize::from(peer == p2);
        order.push(k);
        let b = match frame {
            Got::Bytes(b) => b,
            Got::External(len) => {
                assert_eq!(held[k].len(), s.external_queued(peer) + 1);
                let b = held[k].pop_front().unwrap();
                assert_eq!(b.len(), len);
                b
            }
        };
        got[k].push(b);
    }
    assert_eq!(recv_frame(&mut s), Err(nb::Error::WouldBlock));
    assert_eq!(got, expect);
    // Fair queueing alternates between the peers.
    assert_eq!(order, [0, 1, 0, 1, 0, 1]);
}

#[cfg(feature = "curve")]
#[test]
fn curve_bodies_go_to_the_queue() {
    let mut p = default_pair(|_| Answer::Unavailable);
    p.handshake();
    let big = body(1, 2000);
    p.pair.a.c.send(&[b"head", &big]).unwrap();
    let now = p.pair.now;
    let wire = transmit(&mut p.pair.a.c, now);
    assert!(wire.len() > 2000);
    let b = &mut p.pair.b.c;
    assert_eq!(b.handle_input_external(now, &wire, 1), wire.len());
    assert_eq!(b.external_body(), None);
    assert_eq!(b.external_queued(), 0);
    assert_eq!(pop_message(b).unwrap(), [b"head".to_vec(), big]);
}

#[test]
fn transport_closed_while_a_socket_body_is_awaited() {
    let (mut s, p, now) = raw_socket(SocketType::Pull, SocketType::Push, BIG_RX);
    let mut wire = frame(0, &body(1, 20_000));
    wire.extend_from_slice(&frame(0, &body(2, 20_000)));
    assert_eq!(s.handle_input_external(now, p, &wire, MIN), 9);
    assert!(s.complete_external(now, p));
    assert_eq!(s.handle_input_external(now, p, &wire[9 + 20_000..], MIN), 9);
    assert_eq!(s.external_body(p), Some(20_000));
    s.handle_transport_closed(now, p);
    assert_eq!(s.external_body(p), None);
    assert!(!s.complete_external(now, p));
    // The complete message is still delivered, its body from the driver.
    assert_eq!(s.external_queued(p), 1);
    let (got, info) = recv_frame(&mut s).unwrap();
    assert_eq!((got, info.more), (Got::External(20_000), false));
    assert_eq!(s.external_queued(p), 0);
    assert_eq!(recv_frame(&mut s), Err(nb::Error::WouldBlock));
}

#[test]
fn closing_a_peer_while_its_body_is_awaited() {
    let (mut s, p, now) = raw_socket(SocketType::Pull, SocketType::Push, BIG_RX);
    let mut wire = frame(0, b"done");
    wire.extend_from_slice(&frame(0, &body(1, 20_000)));
    wire.extend_from_slice(&frame(0, &body(2, 20_000)));
    let n = s.handle_input_external(now, p, &wire, MIN);
    assert_eq!(n, 6 + 9);
    assert!(s.complete_external(now, p));
    let m = s.handle_input_external(now, p, &wire[n + 20_000..], MIN);
    assert_eq!(m, 9);
    assert_eq!(s.external_body(p), Some(20_000));
    assert_eq!(s.external_queued(p), 1);
    s.close_peer(p);
    assert_eq!(s.external_body(p), None);
    assert!(!s.complete_external(now, p));
    // Unread messages of a peer closed by the application are dropped.
    assert_eq!(recv_frame(&mut s), Err(nb::Error::WouldBlock));
    assert!(s.detach(p).is_some());
    assert_eq!(s.external_body(p), None);
    assert_eq!(s.external_queued(p), 0);
    assert!(!s.complete_external(now, p));
    assert_eq!(s.handle_input_external(now, p, &wire, MIN), 0);
}

// ---------------------------------------------------------------------------
// Property: the external path delivers what handle_input delivers
// ---------------------------------------------------------------------------

/// A receive queue that holds any whole message of the property test.
const PROP_RX: usize = 1 << 19;

/// Receives every waiting frame from `s` (no more than a bound), pairing
/// each external frame with the body the driver holds for it.
fn recv_all(
    s: &mut Sock,
    p: PeerHandle,
    held: &mut VecDeque<Vec<u8>>,
    partial: &mut Vec<Vec<u8>>,
    out: &mut Vec<Vec<Vec<u8>>>,
    min: usize,
) -> bool {
    let mut progress = false;
    for _ in 0..1000 {
        let (got, info) = match recv_frame(s) {
            Ok(r) => r,
            Err(nb::Error::WouldBlock) => break,
            Err(e) => panic!("recv: {e:?}"),
        };
        progress = true;
        let bytes = match got {
            Got::Bytes(b) => {
                assert_eq!(b.len(), info.len);
                b
            }
            Got::External(len) => {
                assert!(len >= min, "{len} < {min}");
                // The oldest body the connection still counts: PULL drops
                // nothing, so that is the front of the FIFO.
                assert_eq!(held.len(), s.external_queued(p) + 1);
                let b = held.pop_front().expect("a held body");
                assert_eq!(b.len(), len);
                b
            }
        };
        partial.push(bytes);
        if !info.more {
            out.push(core::mem::take(partial));
        }
    }
    progress
}

/// Feeds `wire` to a fresh PULL socket in pieces ending at `cuts`, at most
/// `read` bytes per call, as a driver would: with `min` (`None`: plain
/// `handle_input`), receiving between input calls. Returns the messages
/// received.
fn run_socket(wire: &[u8], cuts: &[usize], read: usize, min: Option<usize>) -> Vec<Vec<Vec<u8>>> {
    let (mut s, p, now) = raw_socket(SocketType::Pull, SocketType::Push, PROP_RX);
    let mut ends: Vec<usize> = cuts.iter().copied().filter(|&c| c < wire.len()).collect();
    ends.sort_unstable();
    ends.push(wire.len());
    let mut pos = 0;
    let mut reading: Vec<u8> = Vec::new();
    let mut held = VecDeque::new();
    let mut partial = Vec::new();
    let mut out = Vec::new();
    for avail in ends {
        for _ in 0..1_000_000 {
            let mut progress = false;
            if let Some(n) = s.external_body(p) {
                assert!(min.is_some(), "external body on plain input");
                let take = (n - reading.len()).min(avail.saturating_sub(pos)).min(read);
                reading.extend_from_slice(&wire[pos..pos + take]);
                pos += take;
                progress |= take > 0;
                if reading.len() == n {
                    assert!(s.complete_external(now, p));
                    held.push_back(core::mem::take(&mut reading));
                    progress = true;
                }
            } else if pos < avail {
                let end = avail.min(pos.saturating_add(read));
                let n = match min {
                    Some(m) => s.handle_input_external(now, p, &wire[pos..end], m),
                    None => s.handle_input(now, p, &wire[pos..end]),
                };
                pos += n;
                progress |= n > 0;
            }
            progress |= recv_all(
                &mut s,
                p,
                &mut held,
                &mut partial,
                &mut out,
                min.unwrap_or(1),
            );
            if !progress {
                break;
            }
        }
    }
    assert_eq!(pos, wire.len(), "input left over");
    assert!(reading.is_empty() && held.is_empty() && partial.is_empty());
    assert_eq!(s.external_queued(p), 0);
    assert!(s.poll_closed().is_none());
    out
}

fn frame_size() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => 0..300usize,
        1 => 300..MIN,
        2 => MIN..70_000usize,
    ]
}

fn messages() -> impl Strategy<Value = Vec<Vec<usize>>> {
    prop::collection::vec(prop::collection::vec(frame_size(), 1..=4), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn external_path_delivers_what_handle_input_delivers(
        msgs in messages(),
        long in prop::collection::vec(any::<bool>(), 0..4),
        cuts in prop::collection::vec(0..400_000usize, 0..12),
        min in prop_oneof![Just(1usize), Just(256usize), Just(MIN)],
        read in prop_oneof![2 => Just(usize::MAX), 1 => 1..16usize, 1 => 1000..20_000usize],
    ) {
        let sent: Vec<Vec<Vec<u8>>> = msgs
            .iter()
            .enumerate()
            .map(|(i, sizes)| {
                sizes
                    .iter()
                    .enumerate()
                    .map(|(k, &n)| body(u8::try_from(i * 4 + k).unwrap(), n))
                    .collect()
            })
            .collect();
        let mut wire = Vec::new();
        for (i, m) in sent.iter().enumerate() {
            // Some messages with 8-byte size fields throughout (legal for
            // any size, though senders use the short form when it fits).
            for (k, f) in m.iter().enumerate() {
                let more = u8::from(k + 1 < m.len());
                if long.get(i).copied().unwrap_or(false) {
                    wire.extend_from_slice(&long_frame(more, f));
                } else {
                    wire.extend_from_slice(&frame(more, f));
                }
            }
        }
        let plain = run_socket(&wire, &cuts, read, None);
        prop_assert_eq!(&plain, &sent);
        let external = run_socket(&wire, &cuts, read, Some(min));
        prop_assert_eq!(&external, &sent);
    }
}
