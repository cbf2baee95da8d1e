//! Connection tests: sending output in place (`peek_transmit` /
//! `consume_transmit`) produces exactly the bytes, events and queue
//! accounting of `poll_transmit`, for writes of every length, across the
//! greeting, the handshake, messages, PING/PONG and a local close.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod conn_util;
use conn_util::*;

use zmtp_core::conn::{Config, ConnEvent, Connection, Heartbeat, REC_METADATA, REC_MORE};
use zmtp_core::{Duration, Instant, SocketType};

/// How a test drains output.
#[derive(Debug, Clone, Copy)]
enum Drain {
    /// `poll_transmit` into a large buffer.
    Copy,
    /// `peek_transmit`, then `consume_transmit` of at most this many bytes
    /// per step (a transport that takes that much per write).
    InPlace(usize),
}

/// Drains everything `c` has to send now.
fn drain(c: &mut Connection<'static>, now: Instant, how: Drain) -> Vec<u8> {
    let mut out = Vec::new();
    match how {
        Drain::Copy => {
            let mut buf = vec![0u8; 1 << 20];
            for _ in 0..10_000 {
                let n = c.poll_transmit(now, &mut buf);
                if n == 0 {
                    return out;
                }
                out.extend_from_slice(&buf[..n]);
            }
        }
        Drain::InPlace(k) => {
            for _ in 0..1_000_000 {
                let Some(view) = c.peek_transmit() else {
                    assert_eq!(
                        c.poll_transmit(now, &mut [0u8; 64]),
                        0,
                        "peek_transmit showed nothing while output was pending"
                    );
                    return out;
                };
                assert!(!view.is_empty());
                assert_eq!(view.len(), view.head().len() + view.body().len());
                let mut shown = view.head().to_vec();
                shown.extend_from_slice(view.body());
                // Peeking again shows the same bytes: nothing was consumed.
                let again = c.peek_transmit().unwrap();
                assert_eq!([again.head(), again.body()].concat(), shown);
                let n = k.min(shown.len());
                out.extend_from_slice(&shown[..n]);
                assert_eq!(c.consume_transmit(now, n), n);
            }
        }
    }
    panic!("output never ends");
}

/// What one run of the script observed.
#[derive(Debug, PartialEq, Eq)]
struct Trace {
    /// The output of every drain, in order.
    outputs: Vec<Vec<u8>>,
    /// Events and `queued_outgoing` after every drain.
    events: Vec<Vec<ConnEvent>>,
    queued: Vec<u32>,
    received: Vec<Vec<Vec<u8>>>,
}

fn config() -> Config {
    let mut c = Config::new(SocketType::Pair);
    c.heartbeat = Heartbeat {
        interval: Duration::from_millis(100),
        timeout: None,
        ttl: Duration::from_millis(0),
    };
    c
}

/// Greeting, handshake, messages of many sizes (short and long frame
/// headers, multipart), a PING of ours due, a PONG to the peer's PING, and a
/// local close, with a drain after each step.
fn script(how: Drain) -> Trace {
    let mut now = Instant::from_millis(T0);
    let mut c = conn(now, &config(), 8192, 4096);
    let mut t = Trace {
        outputs: Vec::new(),
        events: Vec::new(),
        queued: Vec::new(),
        received: Vec::new(),
    };
    let step = |c: &mut Connection<'static>, now: Instant, t: &mut Trace| {
        t.outputs.push(drain(c, now, how));
        t.events.push(events(c));
        t.queued.push(c.queued_outgoing());
        while let Some(unit) = pop_unit(c) {
            if unit.iter().all(|(flags, _)| flags & REC_METADATA == 0) {
                t.received.push(unit.into_iter().map(|(_, b)| b).collect());
            }
        }
    };
    step(&mut c, now, &mut t);
    assert_eq!(c.handle_input(now, &null_greeting()), 64);
    step(&mut c, now, &mut t);
    let ready = ready_for(SocketType::Pair);
    assert_eq!(c.handle_input(now, &ready), ready.len());
    step(&mut c, now, &mut t);
    assert!(c.is_ready());
    let big = vec![0xa5u8; 1000];
    c.send(&[b"one"]).unwrap();
    c.send(&[&big[..300], b"", &big[..255]]).unwrap();
    step(&mut c, now, &mut t);
    // Queued while a message is pending: our PING and a PONG go between
    // records, never inside one.
    c.send(&[&big[..]]).unwrap();
    c.send(&[&big[..256]]).unwrap();
    now = Instant::from_millis(T0 + 100);
    c.handle_timeout(now);
    let ping = ping(10, b"ctx");
    assert_eq!(c.handle_input(now, &ping), ping.len());
    let incoming = frame(REC_MORE, b"in");
    assert_eq!(c.handle_input(now, &incoming), incoming.len());
    let incoming = frame(0, &big[..400]);
    assert_eq!(c.handle_input(now, &incoming), incoming.len());
    step(&mut c, now, &mut t);
    c.send(&[b"last"]).unwrap();
    c.close();
    step(&mut c, now, &mut t);
    t
}

#[test]
fn in_place_output_matches_copied_output_for_every_write_length() {
    let reference = script(Drain::Copy);
    let all: Vec<u8> = reference.outputs.concat();
    // The script covers what it claims.
    let frames = parse_frames(&all[64..]);
    assert!(frames.iter().any(|(_, b)| b.starts_with(b"\x04PING")));
    assert!(frames.iter().any(|(_, b)| b.starts_with(b"\x04PONG")));
    assert!(frames.iter().any(|(_, b)| b.len() == 1000));
    assert_eq!(
        reference.received,
        [vec![b"in".to_vec(), vec![0xa5u8; 400]]]
    );
    assert_eq!(reference.queued[4], 0);
    let mut lengths: Vec<usize> = (1..=80).collect();
    lengths.extend([255, 256, 257, 300, 1000, 1009, 4096, usize::MAX]);
    for k in lengths {
        assert_eq!(script(Drain::InPlace(k)), reference, "writes of {k} bytes");
    }
}

#[test]
fn in_place_and_copied_output_mix() {
    // Alternating a partial in-place write and a small copy, in either
    // order, resumes exactly where the other stopped.
    let run = |first_in_place: bool| {
        let now = Instant::from_millis(T0);
        let mut s = Solo::with_buffers(&Config::new(SocketType::Pair), 4096, 8192);
        s.handshake(SocketType::Pair);
        let body: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        s.c.send(&[&body[..], b"x"]).unwrap();
        s.c.send(&[&body[..7]]).unwrap();
        assert_eq!(s.c.queued_outgoing(), 2);
        let mut out = Vec::new();
        let mut in_place = first_in_place;
        let mut buf = [0u8; 5];
        for _ in 0..10_000 {
            if in_place {
                let Some(view) = s.c.peek_transmit() else {
                    break;
                };
                let shown = [view.head(), view.body()].concat();
                let n = shown.len().min(11);
                out.extend_from_slice(&shown[..n]);
                assert_eq!(s.c.consume_transmit(now, n), n);
            } else {
                let n = s.c.poll_transmit(now, &mut buf);
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            in_place = !in_place;
        }
        assert_eq!(s.c.queued_outgoing(), 0);
        assert!(!s.c.has_pending_output());
        assert!(s.c.peek_transmit().is_none());
        // Wire flags: 0x03 = long frame, more.
        let expected = [
            (0x03, body.clone()),
            (0, b"x".to_vec()),
            (0, body[..7].to_vec()),
        ];
        assert!(parse_frames(&out) == expected, "output differs");
    };
    run(true);
    run(false);
}

#[test]
fn consume_transmit_stops_at_what_is_pending() {
    let now = Instant::from_millis(T0);
    let mut s = Solo::new(&Config::new(SocketType::Pair));
    s.handshake(SocketType::Pair);
    assert!(s.c.peek_transmit().is_none());
    assert_eq!(s.c.consume_transmit(now, 100), 0);
    s.c.send(&[b"abc"]).unwrap();
    let view = s.c.peek_transmit().unwrap();
    assert_eq!(view.head(), [0u8, 3]);
    assert_eq!(view.body(), b"abc");
    // Messages stay counted against the high-water mark until their last
    // byte is consumed.
    assert_eq!(s.c.consume_transmit(now, 4), 4);
    assert_eq!(s.c.queued_outgoing(), 1);
    let view = s.c.peek_transmit().unwrap();
    assert!(view.head().is_empty());
    assert_eq!(view.body(), b"c");
    assert_eq!(s.c.consume_transmit(now, 100), 1);
    assert_eq!(s.c.queued_outgoing(), 0);
    assert!(!s.c.has_pending_output());
}

#[test]
fn the_greeting_is_shown_up_to_the_signature_first() {
    // Before the peer's signature only the 10-byte signature may go out
    // (libzmq sends the rest once it knows a ZMTP 3 peer is there).
    let now = Instant::from_millis(T0);
    let mut c = conn(now, &Config::new(SocketType::Pair), RX, TX);
    let view = c.peek_transmit().unwrap();
    assert!(view.head().is_empty());
    let sig = view.body().to_vec();
    let mut copy = conn(now, &Config::new(SocketType::Pair), RX, TX);
    assert_eq!(sig, transmit(&mut copy, now));
    assert_eq!(c.consume_transmit(now, 1000), sig.len());
    assert!(c.peek_transmit().is_none());
}
