//! Connection tests: ZMTP 3.1 PING/PONG heartbeats, the heartbeat timeout
//! and the peer's TTL (libzmq `zmtp_engine.cpp`, `test_heartbeats.cpp`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod conn_util;
use conn_util::*;

use zmtp_core::conn::{Config, ConnEvent, DisconnectReason, Heartbeat};
use zmtp_core::{Duration, Instant, SocketType};

fn hb(ivl: u64, timeout: Option<u64>, ttl: u64) -> Heartbeat {
    Heartbeat {
        interval: Duration::from_millis(ivl),
        timeout: timeout.map(Duration::from_millis),
        ttl: Duration::from_millis(ttl),
    }
}

fn with_hb(t: SocketType, h: Heartbeat) -> Config {
    let mut c = Config::new(t);
    c.heartbeat = h;
    c
}

fn pings(frames: &[(u8, Vec<u8>)]) -> Vec<Vec<u8>> {
    frames
        .iter()
        .filter(|(f, b)| *f == 0x04 && b.starts_with(b"\x04PING"))
        .map(|(_, b)| b.clone())
        .collect()
}

fn pongs(frames: &[(u8, Vec<u8>)]) -> Vec<Vec<u8>> {
    frames
        .iter()
        .filter(|(f, b)| *f == 0x04 && b.starts_with(b"\x04PONG"))
        .map(|(_, b)| b.clone())
        .collect()
}

/// A pair whose handshake is done at `T0`, with both transmit logs cleared.
fn pair(a: &Config, b: &Config) -> Pair {
    let mut p = Pair::new(a, b);
    p.handshake();
    p.a.sent.clear();
    p.b.sent.clear();
    p.a.events.clear();
    p.b.events.clear();
    p
}

#[test]
fn ping_every_interval_and_pong_reply() {
    let mut p = pair(
        &with_hb(SocketType::Dealer, hb(100, None, 0)),
        &Config::new(SocketType::Router),
    );
    assert_eq!(p.a.c.poll_timeout(), Some(Instant::from_millis(T0 + 100)));
    assert_eq!(p.b.c.poll_timeout(), None);
    p.advance(99);
    assert!(p.a.sent.is_empty());
    p.advance(1);
    // 04 07 04 PING 00 00: no TTL, no context.
    assert_eq!(p.a.sent, b"\x04\x07\x04PING\x00\x00");
    assert_eq!(p.b.sent, b"\x04\x05\x04PONG");
    // Ten seconds of virtual time: one PING per interval, the link stays up.
    p.advance_to(T0 + 10_000);
    let a_frames = parse_frames(&p.a.sent);
    let b_frames = parse_frames(&p.b.sent);
    assert_eq!(pings(&a_frames).len(), 100);
    assert_eq!(a_frames.len(), 100);
    assert_eq!(pongs(&b_frames).len(), 100);
    assert!(p.a.events.is_empty(), "{:?}", p.a.events);
    assert!(p.b.events.is_empty(), "{:?}", p.b.events);
    assert!(p.a.c.is_ready() && p.b.c.is_ready());
    // PONGs are not messages.
    assert!(!p.a.c.has_message());
    assert!(!p.b.c.has_message());
}

#[test]
fn ping_carries_ttl_in_deciseconds() {
    for (ttl_ms, wire) in [
        (1_000u64, 10u16),
        (1_099, 10),
        (99, 0),
        (6_553_500, 65_535),
        (10_000_000, 65_535),
    ] {
        let mut p = pair(
            &with_hb(SocketType::Pair, hb(100, None, ttl_ms)),
            &Config::new(SocketType::Pair),
        );
        p.advance(100);
        let mut expected = b"\x04\x07\x04PING".to_vec();
        expected.extend_from_slice(&wire.to_be_bytes());
        assert_eq!(p.a.sent, expected, "ttl {ttl_ms}");
    }
}

#[test]
fn heartbeat_timeout_defaults_to_interval() {
    let mut p = pair(
        &with_hb(SocketType::Dealer, hb(100, None, 0)),
        &Config::new(SocketType::Router),
    );
    // B goes silent: nothing it sends reaches A any more.
    p.b.deliver = false;
    // First PING at +100 arms the timeout for +200.
    p.advance_to(T0 + 199);
    assert!(p.a.events.is_empty());
    p.advance_to(T0 + 200);
    assert_eq!(
        p.a.events,
        [ConnEvent::Disconnected(DisconnectReason::HeartbeatTimeout)]
    );
    assert!(DisconnectReason::HeartbeatTimeout.should_reconnect());
    assert!(p.a.c.is_closed());
    assert_eq!(p.a.c.poll_timeout(), None);
    // B itself has no heartbeat and notices nothing.
    assert!(p.b.events.is_empty());
}

#[test]
fn heartbeat_timeout_explicit() {
    let mut p = pair(
        &with_hb(SocketType::Dealer, hb(100, Some(250), 0)),
        &Config::new(SocketType::Router),
    );
    p.b.deliver = false;
    // Armed by the first PING (+100) and not re-armed by later ones.
    p.advance_to(T0 + 349);
    assert!(p.a.events.is_empty());
    assert_eq!(pings(&parse_frames(&p.a.sent)).len(), 3);
    p.advance_to(T0 + 350);
    assert_eq!(
        p.a.events,
        [ConnEvent::Disconnected(DisconnectReason::HeartbeatTimeout)]
    );
}

#[test]
fn heartbeat_timeout_is_cancelled_by_any_frame() {
    let mut p = pair(
        &with_hb(SocketType::Dealer, hb(100, Some(250), 0)),
        &Config::new(SocketType::Router),
    );
    // B's PONGs are lost, but B keeps sending messages: A stays up.
    p.advance(50);
    p.b.deliver = false;
    for _ in 0..20 {
        p.advance(50);
        // Throw away whatever B sent (PONGs) and deliver one fresh message.
        p.b.in_flight.clear();
        p.b.c.send(&[b"alive"]).unwrap();
        let bytes = transmit(&mut p.b.c, p.now);
        assert_eq!(p.a.c.handle_input(p.now, &bytes), bytes.len());
        while pop_message(&mut p.a.c).is_some() {}
    }
    assert!(p.a.events.is_empty(), "{:?}", p.a.events);
    // Then B goes fully silent: the timeout runs from the next PING.
    let quiet_from = p.elapsed();
    p.advance(1_000);
    assert_eq!(
        p.a.events,
        [ConnEvent::Disconnected(DisconnectReason::HeartbeatTimeout)]
    );
    assert!(p.elapsed() > quiet_from);
}

#[test]
fn peer_ttl_closes_silent_peer() {
    // A announces TTL 1 s; B has no heartbeat of its own.
    let mut p = pair(
        &with_hb(SocketType::Dealer, hb(100, Some(60_000), 1_000)),
        &Config::new(SocketType::Router),
    );
    // While PINGs flow, B's TTL timer keeps being re-armed.
    p.advance_to(T0 + 5_000);
    assert!(p.b.events.is_empty());
    assert!(p.a.events.is_empty());
    // The PING sent at +5000 reached B: its TTL now runs to +6000.
    assert_eq!(p.b.c.poll_timeout(), Some(Instant::from_millis(T0 + 6_000)));
    p.a.deliver = false;
    p.advance_to(T0 + 5_999);
    assert!(p.b.events.is_empty());
    p.advance_to(T0 + 6_000);
    assert_eq!(
        p.b.events,
        [ConnEvent::Disconnected(DisconnectReason::HeartbeatTimeout)]
    );
    assert!(p.b.c.is_closed());
}

#[test]
fn peer_ttl_is_cancelled_by_any_frame_and_ping_without_ttl_arms_nothing() {
    let mut s = Solo::new(&Config::new(SocketType::Pair));
    s.handshake(SocketType::Pair);
    s.feed_all(&ping(0, b""));
    assert_eq!(s.c.poll_timeout(), None);
    s.feed_all(&ping(5, b""));
    assert_eq!(s.c.poll_timeout(), Some(Instant::from_millis(T0 + 500)));
    // Any frame cancels it (libzmq decode_and_push)...
    s.advance(200);
    s.feed_all(&message(&[b"data"]));
    assert_eq!(s.c.poll_timeout(), None);
    // ...and a PING re-arms it from now.
    s.feed_all(&ping(5, b""));
    assert_eq!(s.c.poll_timeout(), Some(Instant::from_millis(T0 + 700)));
    s.advance(100);
    s.feed_all(&ping(5, b""));
    assert_eq!(s.c.poll_timeout(), Some(Instant::from_millis(T0 + 800)));
    s.advance_to(T0 + 799);
    assert!(s.events.is_empty());
    s.advance_to(T0 + 800);
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::HeartbeatTimeout)]
    );
}

#[test]
fn large_ttl_does_not_wrap() {
    // libzmq computes ttl * 100 in 16 bits; the full 6553.5 s is kept here.
    let mut s = Solo::new(&Config::new(SocketType::Pair));
    s.handshake(SocketType::Pair);
    s.feed_all(&ping(u16::MAX, b""));
    assert_eq!(
        s.c.poll_timeout(),
        Some(Instant::from_millis(T0 + 6_553_500))
    );
}

#[test]
fn pong_echoes_ping_context() {
    let mut s = Solo::new(&Config::new(SocketType::Router));
    s.handshake(SocketType::Dealer);
    // libzmq test_heartbeats vector.
    s.feed_all(b"\x04\x0A\x04PING\x00\x00LOL");
    assert_eq!(s.sent, b"\x04\x08\x04PONGLOL");
    s.sent.clear();
    // Exactly 16 bytes of context: echoed whole.
    s.feed_all(&ping(0, b"0123456789abcdef"));
    assert_eq!(
        s.sent,
        [&b"\x04\x15\x04PONG"[..], b"0123456789abcdef"].concat()
    );
    s.sent.clear();
    // 17 bytes: truncated to 16.
    s.feed_all(&ping(0, b"0123456789abcdefg"));
    assert_eq!(
        s.sent,
        [&b"\x04\x15\x04PONG"[..], b"0123456789abcdef"].concat()
    );
    s.sent.clear();
    // A 65-byte PING body gives a 21-byte PONG body (libzmq test vector).
    let ctx: Vec<u8> = (0..58u8).collect();
    let p = ping(0, &ctx);
    assert_eq!(p[1], 65);
    s.feed_all(&p);
    let frames = parse_frames(&s.sent);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].1.len(), 21);
    assert_eq!(frames[0].1[5..], ctx[..16]);
    assert!(s.events.is_empty());
    assert!(!s.c.has_message());
}

#[test]
fn pong_for_ping_fed_byte_by_byte() {
    let mut s = Solo::new(&Config::new(SocketType::Router));
    s.handshake(SocketType::Dealer);
    let ctx: Vec<u8> = (0..40u8).collect();
    for b in ping(3, &ctx) {
        s.feed_all(&[b]);
    }
    assert_eq!(s.sent, [&b"\x04\x15\x04PONG"[..], &ctx[..16]].concat());
    assert_eq!(s.c.poll_timeout(), Some(Instant::from_millis(T0 + 300)));
}

#[test]
fn ping_in_a_long_frame_is_answered() {
    let mut s = Solo::new(&Config::new(SocketType::Router));
    s.handshake(SocketType::Dealer);
    let ctx = vec![7u8; 300];
    let mut body = b"\x04PING\x00\x00".to_vec();
    body.extend_from_slice(&ctx);
    s.feed_all(&long_frame(0x04, &body));
    assert_eq!(s.sent, [&b"\x04\x15\x04PONG"[..], &ctx[..16]].concat());
}

#[test]
fn unknown_and_pong_commands_after_handshake_are_ignored() {
    let mut s = Solo::new(&Config::new(SocketType::Router));
    s.handshake(SocketType::Dealer);
    s.feed_all(&command(b"\x04PONGxyz"));
    s.feed_all(&command(b"\x07UNKNOWNpayload"));
    s.feed_all(&command(&[b"\x05HELLO".as_slice(), &[0u8; 200]].concat()));
    // An empty command and a bare name-length byte (libzmq ignores these).
    s.feed_all(&command(b""));
    s.feed_all(&command(b"\x09"));
    assert!(s.events.is_empty(), "{:?}", s.events);
    assert!(s.sent.is_empty());
    assert!(!s.c.has_message());
    assert!(s.c.is_ready());
}

#[test]
fn ping_shorter_than_its_ttl_is_a_framing_error() {
    let mut s = Solo::new(&Config::new(SocketType::Router));
    s.handshake(SocketType::Dealer);
    s.feed(&command(b"\x04PING\x00"));
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::Framing)]
    );
    assert!(!DisconnectReason::Framing.should_reconnect());
}

#[test]
fn heartbeats_to_a_zmtp_3_0_peer() {
    // libzmq sends PINGs to 3.0 peers too (no minor-version gate).
    let mut s = Solo::new(&with_hb(SocketType::Pair, hb(100, None, 0)));
    s.feed_all(&greeting(3, 0, b"NULL"));
    s.feed_all(&ready_for(SocketType::Pair));
    pop_metadata(&mut s.c);
    s.sent.clear();
    s.advance(100);
    assert_eq!(s.sent, b"\x04\x07\x04PING\x00\x00");
}

#[test]
fn no_heartbeat_before_handshake() {
    let mut s = Solo::new(&with_hb(SocketType::Pair, hb(100, None, 0)));
    s.pump();
    // Only the handshake timer is armed.
    assert_eq!(s.c.poll_timeout(), Some(Instant::from_millis(T0 + 30_000)));
    s.feed_all(&null_greeting());
    s.advance(1_000);
    assert!(s.events.is_empty());
    // The heartbeat starts at the handshake.
    s.feed_all(&ready_for(SocketType::Pair));
    assert_eq!(s.c.poll_timeout(), Some(Instant::from_millis(T0 + 1_100)));
}

#[test]
fn ping_waits_for_room_in_the_transmit_queue() {
    // A transmit buffer filled by one message: the PING is held back and
    // goes out after the message, never in the middle of it.
    let mut s = Solo::with_buffers(&with_hb(SocketType::Pair, hb(100, None, 0)), 512, 160);
    s.handshake(SocketType::Pair);
    s.c.send(&[&[9u8; 150]]).unwrap();
    let at = Instant::from_millis(T0 + 100);
    assert_eq!(s.c.poll_timeout(), Some(at));
    s.c.handle_timeout(at);
    let out = transmit(&mut s.c, at);
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0], (0x00, vec![9u8; 150]));
    assert_eq!(frames[1], (0x04, b"\x04PING\x00\x00".to_vec()));
}
