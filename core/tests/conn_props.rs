//! Property tests for the connection: input chunking does not change the
//! outcome, arbitrary input never panics, and random operation sequences on
//! a pair of connections never lose an accepted message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod conn_util;
use conn_util::*;

use proptest::prelude::*;
use proptest::sample::Index;
use zmtp_core::conn::{Config, ConnEvent, Heartbeat, SendError};
use zmtp_core::{Duration, Instant, SocketType};

type Units = Vec<Vec<(u8, Vec<u8>)>>;

fn frames_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..8),
            prop::collection::vec(any::<u8>(), 250..260),
        ],
        1..4,
    )
}

/// A peer's whole stream: greeting, READY, messages with a PING and a
/// SUBSCRIBE among them.
fn transcript(minor: u8, msgs: &[Vec<Vec<u8>>], ping_at: usize, ctx: &[u8], ttl: u16) -> Vec<u8> {
    let mut t = greeting(3, minor, b"NULL");
    t.extend_from_slice(&ready(&[("Socket-Type", b"XPUB"), ("X-Extra", b"value")]));
    for (i, m) in msgs.iter().enumerate() {
        if i == ping_at {
            t.extend_from_slice(&ping(ttl, ctx));
            t.extend_from_slice(&long_frame(0x04, b"\x09SUBSCRIBEtopic"));
        }
        let parts: Vec<&[u8]> = m.iter().map(Vec::as_slice).collect();
        t.extend_from_slice(&message(&parts));
    }
    if ping_at >= msgs.len() {
        t.extend_from_slice(&ping(ttl, ctx));
    }
    t
}

struct Outcome {
    events: Vec<ConnEvent>,
    sent: Vec<u8>,
    units: Units,
    timeout: Option<Instant>,
}

/// Feeds `stream` cut at `cuts` to a fresh XSUB connection, reading units
/// whenever input is held back (as an application would).
fn run(stream: &[u8], cuts: &[usize]) -> Outcome {
    let mut s = Solo::with_buffers(&Config::new(SocketType::XSub), 4096, 4096);
    s.pump();
    let mut units = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(core::iter::once(&stream.len())) {
        let mut stalls = 0;
        while start < end {
            let n = s.feed(&stream[start..end]);
            start += n;
            if n == 0 {
                let before = units.len();
                while let Some(u) = pop_unit(&mut s.c) {
                    units.push(u);
                }
                if units.len() == before {
                    stalls += 1;
                    assert!(stalls < 3, "stalled at {start}: {:?}", s.events);
                }
            }
        }
    }
    while let Some(u) = pop_unit(&mut s.c) {
        units.push(u);
    }
    Outcome {
        events: s.events,
        sent: s.sent,
        units,
        timeout: s.c.poll_timeout(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// (a) The same transcript split anywhere gives the same events, output
    /// and received frames.
    #[test]
    fn chunking_invariance(
        minor in 0u8..2,
        msgs in prop::collection::vec(frames_strategy(), 0..5),
        ping_at in 0usize..6,
        ctx in prop::collection::vec(any::<u8>(), 0..24),
        ttl in 0u16..3,
        cuts in prop::collection::vec(any::<Index>(), 0..24),
    ) {
        let stream = transcript(minor, &msgs, ping_at, &ctx, ttl);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len())).collect();
        cuts.sort_unstable();
        let whole = run(&stream, &[]);
        let split = run(&stream, &cuts);
        prop_assert_eq!(&whole.events, &[ConnEvent::HandshakeSucceeded]);
        prop_assert_eq!(&split.events, &whole.events);
        prop_assert_eq!(&split.sent, &whole.sent);
        prop_assert_eq!(&split.units, &whole.units);
        prop_assert_eq!(split.timeout, whole.timeout);
        // metadata + messages + the SUBSCRIBE when it was placed.
        let subs = usize::from(ping_at < msgs.len());
        prop_assert_eq!(whole.units.len(), 1 + msgs.len() + subs);
        // The PONG went out with the context truncated to 16 bytes.
        let frames = parse_frames(&whole.sent[64..]);
        let pong = [&b"\x04PONG"[..], &ctx[..ctx.len().min(16)]].concat();
        prop_assert_eq!(frames.last().map(|f| f.1.clone()), Some(pong));
    }

    /// (b) Arbitrary bytes after a valid greeting (and optionally READY)
    /// never panic, and consumption never exceeds what was offered.
    #[test]
    fn arbitrary_input_after_greeting(
        with_ready in any::<bool>(),
        junk in prop::collection::vec(any::<u8>(), 0..600),
        chunk in 1usize..64,
        rx in prop_oneof![Just(64usize), Just(512), Just(4096)],
        max in prop_oneof![Just(None), Just(Some(48u64))],
    ) {
        let mut c = Config::new(SocketType::Dealer);
        c.max_msg_size = max;
        c.rcvhwm = 2;
        let mut s = Solo::with_buffers(&c, rx.max(64), 512);
        s.feed_all(&null_greeting());
        if with_ready {
            s.feed_all(&ready_for(SocketType::Router));
        }
        let mut off = 0;
        let mut stalls = 0;
        while off < junk.len() && stalls < 4 {
            let end = (off + chunk).min(junk.len());
            let n = s.feed(&junk[off..end]);
            prop_assert!(n <= end - off);
            off += n;
            if s.c.is_closed() {
                break;
            }
            let mut popped = false;
            while pop_unit(&mut s.c).is_some() {
                popped = true;
            }
            if n == 0 && !popped {
                stalls += 1;
            }
            s.advance(7);
        }
        // At most: a handshake outcome, a detail and the disconnect.
        prop_assert!(s.events.len() <= 3, "{:?}", s.events);
        let disconnects = s.events.iter().filter(|e| matches!(e, ConnEvent::Disconnected(_))).count();
        prop_assert!(disconnects <= 1);
        prop_assert_eq!(disconnects == 1, s.c.is_closed());
    }

    /// (b') Arbitrary bytes from the very start.
    #[test]
    fn arbitrary_input_from_start(
        junk in prop::collection::vec(any::<u8>(), 0..200),
        chunk in 1usize..80,
    ) {
        let mut s = Solo::new(&Config::new(SocketType::Pair));
        for piece in junk.chunks(chunk) {
            let n = s.feed(piece);
            prop_assert!(n <= piece.len());
        }
        s.advance(40_000);
        prop_assert!(s.c.is_closed() || s.c.is_ready());
    }

    /// (c) Random operations on a pair never panic and never lose or reorder
    /// an accepted message.
    #[test]
    fn pair_operations_lose_nothing(ops in prop::collection::vec(op_strategy(), 1..48)) {
        let hb = Heartbeat {
            interval: Duration::from_millis(50),
            timeout: Some(Duration::from_millis(60_000)),
            ttl: Duration::from_millis(0),
        };
        let mut ca = Config::new(SocketType::Dealer);
        ca.heartbeat = hb;
        ca.rcvhwm = 3;
        ca.sndhwm = 4;
        let mut cb = Config::new(SocketType::Router);
        cb.rcvhwm = 2;
        cb.sndhwm = 0;
        let mut p = Pair::with_buffers(&ca, &cb, 1024, 1024);
        p.chunk = 16;
        let mut sent_ab: Vec<Vec<Vec<u8>>> = Vec::new();
        let mut sent_ba: Vec<Vec<Vec<u8>>> = Vec::new();
        let mut got_ab: Vec<Vec<Vec<u8>>> = Vec::new();
        let mut got_ba: Vec<Vec<Vec<u8>>> = Vec::new();
        for op in ops {
            match op {
                Op::Send { from_a, frames } => {
                    let parts: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
                    let (side, log) = if from_a { (&mut p.a, &mut sent_ab) } else { (&mut p.b, &mut sent_ba) };
                    match side.c.send(&parts) {
                        Ok(()) => log.push(frames),
                        Err(SendError::NotReady | SendError::Full | SendError::TooLarge) => {}
                        Err(e) => prop_assert!(false, "unexpected {e:?}"),
                    }
                }
                Op::Pop { at_a, n } => {
                    let (side, log) = if at_a { (&mut p.a, &mut got_ba) } else { (&mut p.b, &mut got_ab) };
                    for _ in 0..n {
                        match pop_data(&mut side.c) {
                            Some(m) => log.push(m),
                            None => break,
                        }
                    }
                }
                Op::Advance(ms) => p.advance(u64::from(ms)),
                Op::Chunk(c) => p.chunk = c,
                Op::Step => { p.step(); }
            }
        }
        // Drain everything.
        for _ in 0..1_000 {
            p.drive();
            let mut moved = false;
            while let Some(m) = pop_data(&mut p.a.c) { got_ba.push(m); moved = true; }
            while let Some(m) = pop_data(&mut p.b.c) { got_ab.push(m); moved = true; }
            if !moved && p.a.in_flight.is_empty() && p.b.in_flight.is_empty() {
                break;
            }
        }
        let down = |e: &&ConnEvent| matches!(e, ConnEvent::Disconnected(_));
        prop_assert!(p.a.events.iter().find(down).is_none(), "{:?}", p.a.events);
        prop_assert!(p.b.events.iter().find(down).is_none(), "{:?}", p.b.events);
        prop_assert_eq!(got_ab, sent_ab);
        prop_assert_eq!(got_ba, sent_ba);
    }
}

/// The next data message, skipping the metadata record.
fn pop_data(c: &mut zmtp_core::conn::Connection<'static>) -> Option<Vec<Vec<u8>>> {
    loop {
        let unit = pop_unit(c)?;
        if unit[0].0 & zmtp_core::conn::REC_METADATA != 0 {
            continue;
        }
        return Some(unit.into_iter().map(|(_, b)| b).collect());
    }
}

#[derive(Debug, Clone)]
enum Op {
    Send { from_a: bool, frames: Vec<Vec<u8>> },
    Pop { at_a: bool, n: usize },
    Advance(u16),
    Chunk(usize),
    Step,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), frames_strategy()).prop_map(|(from_a, frames)| Op::Send { from_a, frames }),
        3 => (any::<bool>(), 0usize..4).prop_map(|(at_a, n)| Op::Pop { at_a, n }),
        2 => (0u16..300).prop_map(Op::Advance),
        1 => (1usize..300).prop_map(Op::Chunk),
        2 => Just(Op::Step),
    ]
}
