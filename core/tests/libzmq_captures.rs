//! Bytes recorded from a real libzmq 4.3.4 peer, fed to this crate.
//!
//! The vectors live in `tests/captures/libzmq-4.3.4.txt`: they were captured
//! over TCP on 127.0.0.1 by `cargo run -p zmtp-tests --bin capture`, which
//! drives a libzmq socket (built from source by the `zmq` crate) with a
//! hand-written ZMTP peer and records every byte libzmq writes. The
//! `zmtp-tests` test `committed_captures_match_a_live_run` fails if the file
//! no longer matches a live run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

#[allow(dead_code, missing_docs, unreachable_pub)]
mod libzmq {
    include!("../../tests/captures/libzmq-4.3.4.txt");
}

use common::*;
use zmtp_core::conn::{Config, ConnEvent, Connection, DisconnectReason, REC_METADATA};
use zmtp_core::{Instant, SocketType};

fn captured(t: SocketType) -> (&'static [u8], &'static [u8]) {
    use SocketType::*;
    match t {
        Pair => (&libzmq::GREETING_PAIR, &libzmq::READY_PAIR),
        Pub => (&libzmq::GREETING_PUB, &libzmq::READY_PUB),
        Sub => (&libzmq::GREETING_SUB, &libzmq::READY_SUB),
        Req => (&libzmq::GREETING_REQ, &libzmq::READY_REQ),
        Rep => (&libzmq::GREETING_REP, &libzmq::READY_REP),
        Dealer => (&libzmq::GREETING_DEALER, &libzmq::READY_DEALER),
        Router => (&libzmq::GREETING_ROUTER, &libzmq::READY_ROUTER),
        Pull => (&libzmq::GREETING_PULL, &libzmq::READY_PULL),
        Push => (&libzmq::GREETING_PUSH, &libzmq::READY_PUSH),
        XPub => (&libzmq::GREETING_XPUB, &libzmq::READY_XPUB),
        XSub => (&libzmq::GREETING_XSUB, &libzmq::READY_XSUB),
        _ => panic!("no capture for {t}"),
    }
}

fn transmit_all(c: &mut Connection<'static>, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 97];
    loop {
        let n = c.poll_transmit(now, &mut buf);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// A connection of type `ours` that has handshaked with libzmq's recorded
/// greeting and READY of type `theirs`.
fn handshaked(ours: SocketType, theirs: SocketType, now: Instant) -> Connection<'static> {
    let mut c = Connection::new(now, &Config::new(ours), leak(RX), leak(TX)).unwrap();
    let (greeting, ready) = captured(theirs);
    let input = [greeting, ready].concat();
    assert_eq!(c.handle_input(now, &input), input.len());
    let _ = transmit_all(&mut c, now);
    assert_eq!(events(&mut c), [ConnEvent::HandshakeSucceeded]);
    c
}

#[test]
fn our_greeting_and_ready_equal_libzmqs_for_every_type() {
    let now = Instant::from_millis(0);
    for ours in SocketType::ALL {
        let peer = SocketType::ALL
            .into_iter()
            .find(|p| ours.is_compatible(*p))
            .unwrap();
        let mut c = Connection::new(now, &Config::new(ours), leak(RX), leak(TX)).unwrap();
        let (their_greeting, their_ready) = captured(peer);
        // libzmq's staged send: the signature only, until the peer speaks.
        assert_eq!(transmit_all(&mut c, now), libzmq::GREETING_STAGE_1);
        c.handle_input(now, &their_greeting[..10]);
        assert_eq!(transmit_all(&mut c, now), libzmq::GREETING_STAGE_2);
        c.handle_input(now, &their_greeting[10..11]);
        assert_eq!(transmit_all(&mut c, now), libzmq::GREETING_STAGE_3);
        let (our_greeting, our_ready) = captured(ours);
        assert_eq!(&our_greeting[11..], &libzmq::GREETING_STAGE_3[..]);
        // READY follows once the peer's whole greeting is in.
        c.handle_input(now, &their_greeting[11..]);
        assert_eq!(
            transmit_all(&mut c, now),
            our_ready,
            "{ours} READY differs from libzmq's"
        );
        c.handle_input(now, their_ready);
        assert_eq!(
            events(&mut c),
            [ConnEvent::HandshakeSucceeded],
            "{ours} vs {peer}"
        );
        assert_eq!(c.peer_socket_type(), Some(peer));
    }
}

#[test]
fn router_with_routing_id_matches_libzmq() {
    let mut config = Config::new(SocketType::Router);
    config.set_routing_id(b"abc").unwrap();
    let now = Instant::from_millis(0);
    let mut c = Connection::new(now, &config, leak(RX), leak(TX)).unwrap();
    c.handle_input(now, &libzmq::GREETING_DEALER);
    let out = transmit_all(&mut c, now);
    // libzmq pads its signature with the routing id length + 1.
    assert_eq!(&out[..64], libzmq::GREETING_ROUTER_ID_ABC);
    assert_eq!(&out[64..], libzmq::READY_ROUTER_ID_ABC);
}

#[test]
fn libzmq_data_frames_are_received_intact() {
    let now = Instant::from_millis(0);
    let mut c = handshaked(SocketType::Pull, SocketType::Push, now);
    assert_eq!(
        c.front_frame().map(|f| f.0 & REC_METADATA),
        Some(REC_METADATA)
    );
    c.pop_frame();
    let stream = [
        &libzmq::DATA_0[..],
        &libzmq::DATA_1,
        &libzmq::DATA_255,
        &libzmq::DATA_256,
        &libzmq::DATA_2_PARTS,
    ]
    .concat();
    assert_eq!(c.handle_input(now, &stream), stream.len());
    let mut frames = Vec::new();
    while let Some((flags, body)) = c.front_frame() {
        frames.push((flags, body.to_vec()));
        c.pop_frame();
    }
    let bodies: Vec<usize> = frames.iter().map(|f| f.1.len()).collect();
    assert_eq!(bodies, [0, 1, 255, 256, 2, 1]);
    assert_eq!(frames[2].1, (0..=254).collect::<Vec<u8>>());
    assert_eq!(frames[3].1, (0..=255).collect::<Vec<u8>>());
    assert_eq!(frames[4], (zmtp_core::conn::REC_MORE, b"AB".to_vec()));
    assert_eq!(frames[5], (0, b"C".to_vec()));
}

#[test]
fn libzmq_ping_with_ttl_is_answered_and_its_ttl_enforced() {
    let now = Instant::from_millis(0);
    let mut c = handshaked(SocketType::Dealer, SocketType::Dealer, now);
    assert_eq!(c.handle_input(now, &libzmq::PING_TTL_1000MS), 9);
    // PONG with the (empty) context.
    assert_eq!(transmit_all(&mut c, now), b"\x04\x05\x04PONG");
    // libzmq announced a TTL of 10 deciseconds: silence for 1 s closes.
    assert_eq!(c.poll_timeout(), Some(Instant::from_millis(1000)));
    c.handle_timeout(Instant::from_millis(999));
    assert!(events(&mut c).is_empty());
    c.handle_timeout(Instant::from_millis(1000));
    assert_eq!(
        events(&mut c),
        [ConnEvent::Disconnected(DisconnectReason::HeartbeatTimeout)]
    );
}

#[test]
fn our_pong_equals_libzmqs() {
    let now = Instant::from_millis(0);
    let mut c = handshaked(SocketType::Dealer, SocketType::Dealer, now);
    c.handle_input(now, b"\x04\x0a\x04PING\x00\x00LOL");
    assert_eq!(transmit_all(&mut c, now), libzmq::PONG_LOL);
    let ctx: Vec<u8> = (0..20).collect();
    let ping = [&b"\x04\x1b\x04PING\x00\x00"[..], &ctx].concat();
    c.handle_input(now, &ping);
    assert_eq!(transmit_all(&mut c, now), libzmq::PONG_CONTEXT_20);
}

/// A PUB socket whose one peer is the recorded libzmq subscriber.
fn publish_to_recorded(subscription: &[u8], minor: u8) -> Vec<Vec<u8>> {
    let mut net: Net = Net::new();
    let pub_ = net.add_type(SocketType::Pub);
    let now = net.now;
    let peer = net.sockets[pub_]
        .attach(
            now,
            bufs(RX, TX),
            7,
            zmtp_core::monitor::EndpointPair::bind("tcp://127.0.0.1:5555"),
        )
        .unwrap();
    let mut greeting = libzmq::GREETING_SUB;
    greeting[11] = minor;
    let handshake = [&greeting[..], &libzmq::READY_SUB].concat();
    assert_eq!(
        net.sockets[pub_].handle_input(now, peer, &handshake),
        handshake.len()
    );
    // Our READY goes out, which completes the handshake; then the
    // subscription is taken.
    let mut out = [0u8; 4096];
    let _ = net.sockets[pub_].poll_transmit(now, peer, &mut out);
    assert_eq!(
        net.sockets[pub_].handle_input(now, peer, subscription),
        subscription.len()
    );
    for topic in ["A1", "B1", "A2"] {
        net.sockets[pub_].send(&[topic.as_bytes()]).unwrap();
    }
    let n = net.sockets[pub_].poll_transmit(now, peer, &mut out);
    let mut frames = Vec::new();
    let mut rest = &out[..n];
    while let Ok(Some((f, used))) = zmtp_core::wire::FrameRepr::parse(rest) {
        frames.push(f.body.to_vec());
        rest = &rest[used..];
    }
    frames
}

#[test]
fn pub_filters_on_libzmq_subscriptions_in_every_form() {
    let a = vec![b"A1".to_vec(), b"A2".to_vec()];
    assert_eq!(publish_to_recorded(&libzmq::SUBSCRIBE_A_ZMTP31, 1), a);
    assert_eq!(publish_to_recorded(&libzmq::SUBSCRIBE_A_ZMTP30, 0), a);
    // libzmq's XSUB sends the message form even over ZMTP 3.1.
    assert_eq!(publish_to_recorded(&libzmq::XSUB_MESSAGE_01_A_ZMTP31, 1), a);
    let all = publish_to_recorded(&libzmq::SUBSCRIBE_ALL_ZMTP31, 1);
    assert_eq!(all.len(), 3);
    let cancelled = [&libzmq::SUBSCRIBE_A_ZMTP31[..], &libzmq::CANCEL_A_ZMTP31].concat();
    assert!(publish_to_recorded(&cancelled, 1).is_empty());
}
