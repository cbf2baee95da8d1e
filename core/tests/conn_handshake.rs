//! Connection tests: the greeting, version negotiation and the NULL
//! mechanism handshake, with libzmq's monitor outcome for every failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod conn_util;
use conn_util::*;

use zmtp_core::conn::{Config, ConnEvent, DisconnectReason, REC_METADATA, REC_MORE};
use zmtp_core::monitor::errno;
use zmtp_core::{Duration, Instant, ProtocolError, SocketType};

use ConnEvent::{
    Disconnected, HandshakeFailedAuth, HandshakeFailedNoDetail, HandshakeFailedProtocol,
};

fn cfg(t: SocketType) -> Config {
    Config::new(t)
}

/// The events of a connection that met `peer_stream` (bytes after our start).
fn outcome(t: SocketType, peer_stream: &[u8]) -> (Solo, Vec<ConnEvent>) {
    let mut s = Solo::new(&cfg(t));
    s.pump();
    let n = s.feed(peer_stream);
    assert!(n <= peer_stream.len());
    let ev = s.events.clone();
    (s, ev)
}

fn last_reason(events: &[ConnEvent]) -> DisconnectReason {
    match events.last() {
        Some(Disconnected(r)) => *r,
        other => panic!("no disconnect: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// 1. Socket-type matrix
// ---------------------------------------------------------------------------

#[test]
fn handshake_matrix_all_socket_type_pairs() {
    for ta in SocketType::ALL {
        for tb in SocketType::ALL {
            let mut p = Pair::new(&cfg(ta), &cfg(tb));
            p.drive();
            if ta.is_compatible(tb) {
                assert_eq!(p.a.events, [ConnEvent::HandshakeSucceeded], "{ta}-{tb}");
                assert_eq!(p.b.events, [ConnEvent::HandshakeSucceeded], "{ta}-{tb}");
                assert_eq!(p.a.c.peer_socket_type(), Some(tb));
                assert_eq!(p.b.c.peer_socket_type(), Some(ta));
                assert_eq!(p.a.c.peer_minor_version(), 1);
                assert!(!p.a.c.uses_subscription_messages());
                // The metadata record comes first and carries the peer's READY
                // properties.
                let meta = pop_metadata(&mut p.a.c);
                assert!(
                    meta.windows(tb.as_str().len())
                        .any(|w| w == tb.as_str().as_bytes())
                );
                pop_metadata(&mut p.b.c);
                p.a.c.send(&[b"from a", b"2"]).unwrap();
                p.b.c.send(&[b"from b"]).unwrap();
                p.drive();
                assert_eq!(
                    pop_unit(&mut p.b.c).unwrap(),
                    [(REC_MORE, b"from a".to_vec()), (0, b"2".to_vec())],
                    "{ta}-{tb}"
                );
                assert_eq!(pop_message(&mut p.a.c).unwrap(), [b"from b".to_vec()]);
                assert!(p.a.c.is_ready() && p.b.c.is_ready());
            } else {
                let expected = [Disconnected(DisconnectReason::IncompatibleSocketType)];
                assert_eq!(p.a.events, expected, "{ta}-{tb}");
                assert_eq!(p.b.events, expected, "{ta}-{tb}");
                assert!(!DisconnectReason::IncompatibleSocketType.should_reconnect());
                assert!(DisconnectReason::IncompatibleSocketType.is_reported());
                assert!(p.a.c.is_closed() && p.b.c.is_closed());
                assert_eq!(p.a.c.peer_socket_type(), None);
                assert_eq!(p.a.c.poll_timeout(), None);
                // After the greeting: our READY, then an ERROR command.
                for side in [&p.a, &p.b] {
                    let frames = parse_frames(&side.sent[64..]);
                    assert_eq!(frames.len(), 2, "{ta}-{tb}: {frames:?}");
                    assert_eq!(frames[0].0, 0x04);
                    assert!(frames[0].1.starts_with(b"\x05READY"));
                    let (flags, err) = &frames[1];
                    assert_eq!(*flags, 0x04);
                    assert!(err.starts_with(b"\x05ERROR"), "{err:?}");
                    assert_eq!(usize::from(err[6]), err.len() - 7);
                }
                // Nothing more is sent, and sending is refused.
                assert!(transmit(&mut p.a.c, p.now).is_empty());
                assert!(p.a.c.send(&[b"x"]).is_err());
            }
        }
    }
}

#[test]
fn incompatible_error_command_bytes() {
    let (s, ev) = outcome(
        SocketType::Pub,
        &[null_greeting(), ready_for(SocketType::Pull)].concat(),
    );
    assert_eq!(ev, [Disconnected(DisconnectReason::IncompatibleSocketType)]);
    let frames = parse_frames(&s.sent[64..]);
    assert_eq!(
        frames[1],
        (0x04, b"\x05ERROR\x13Invalid socket type".to_vec())
    );
}

#[test]
fn socket_type_value_is_case_sensitive() {
    // libzmq compares the Socket-Type value exactly: "dealer" is no DEALER.
    let (_, ev) = outcome(
        SocketType::Dealer,
        &[null_greeting(), ready(&[("Socket-Type", b"dealer")])].concat(),
    );
    assert_eq!(ev, [Disconnected(DisconnectReason::IncompatibleSocketType)]);
    // An unknown type name is incompatible too.
    let (_, ev) = outcome(
        SocketType::Dealer,
        &[null_greeting(), ready(&[("Socket-Type", b"SERVER")])].concat(),
    );
    assert_eq!(ev, [Disconnected(DisconnectReason::IncompatibleSocketType)]);
}

#[test]
fn socket_type_property_name_is_case_sensitive() {
    // libzmq matches the property name "Socket-Type" exactly; "socket-type"
    // is an ordinary property, so no check happens.
    let (s, ev) = outcome(
        SocketType::Dealer,
        &[null_greeting(), ready(&[("socket-type", b"PUB")])].concat(),
    );
    assert_eq!(ev, [ConnEvent::HandshakeSucceeded]);
    assert_eq!(s.c.peer_socket_type(), None);
}

// ---------------------------------------------------------------------------
// 2. Greeting: staged send and golden bytes
// ---------------------------------------------------------------------------

const SIGNATURE: [u8; 10] = [0xFF, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x7F];

fn our_greeting(padding_low: u8) -> Vec<u8> {
    let mut g = vec![0u8; 64];
    g[0] = 0xFF;
    g[8] = padding_low;
    g[9] = 0x7F;
    g[10] = 3;
    g[11] = 1;
    g[12..16].copy_from_slice(b"NULL");
    g
}

#[test]
fn greeting_is_sent_in_libzmq_stages() {
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    // Before any input: exactly the 10-byte signature.
    assert_eq!(s.pump(), SIGNATURE);
    assert!(s.pump().is_empty());
    assert!(!s.c.has_pending_output());
    let g = null_greeting();
    // Nine bytes of the peer's signature: still nothing.
    s.feed_all(&g[..9]);
    assert_eq!(s.sent.len(), 10);
    // The tenth byte completes the signature: our major version follows.
    s.feed_all(&g[9..10]);
    assert_eq!(s.sent.len(), 11);
    assert_eq!(s.sent[10], 3);
    assert!(!s.c.has_pending_output());
    // The peer's major version releases the rest of the greeting ...
    s.feed_all(&g[10..11]);
    assert_eq!(s.sent[..], our_greeting(1)[..]);
    assert!(!s.c.has_pending_output());
    // ... and READY waits for the peer's whole greeting (libzmq creates the
    // mechanism only then).
    s.feed_all(&g[11..63]);
    assert_eq!(s.sent.len(), 64);
    s.feed_all(&g[63..]);
    assert_eq!(parse_frames(&s.sent[64..]).len(), 1);
    // The peer's READY finishes the handshake.
    s.feed_all(&ready_for(SocketType::Router));
    assert_eq!(s.events, [ConnEvent::HandshakeSucceeded]);
}

#[test]
fn greeting_stages_with_whole_peer_greeting_at_once() {
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.feed_all(&null_greeting());
    assert_eq!(s.sent.len(), 64 + 2 + 41);
}

fn ready_bytes(t: &str, identity: Option<&[u8]>) -> Vec<u8> {
    let mut body = b"\x05READY".to_vec();
    body.push(11);
    body.extend_from_slice(b"Socket-Type");
    body.extend_from_slice(&(t.len() as u32).to_be_bytes());
    body.extend_from_slice(t.as_bytes());
    if let Some(id) = identity {
        body.push(8);
        body.extend_from_slice(b"Identity");
        body.extend_from_slice(&(id.len() as u32).to_be_bytes());
        body.extend_from_slice(id);
    }
    let mut f = vec![0x04, body.len() as u8];
    f.extend_from_slice(&body);
    f
}

fn start_bytes(c: &Config) -> Vec<u8> {
    let mut s = Solo::new(c);
    s.feed_all(&null_greeting());
    s.sent
}

#[test]
fn golden_dealer_without_routing_id() {
    let sent = start_bytes(&cfg(SocketType::Dealer));
    let mut expected = our_greeting(1);
    // 04 29 05 READY 0B Socket-Type 00000006 DEALER 08 Identity 00000000
    let ready = ready_bytes("DEALER", Some(b""));
    assert_eq!(&ready[..2], [0x04, 0x29]);
    expected.extend_from_slice(&ready);
    assert_eq!(sent, expected);
}

#[test]
fn golden_dealer_with_routing_id() {
    let mut c = cfg(SocketType::Dealer);
    c.set_routing_id(b"ABCDE").unwrap();
    let sent = start_bytes(&c);
    // libzmq: the padding holds routing_id_size + 1.
    let mut expected = our_greeting(6);
    expected.extend_from_slice(&ready_bytes("DEALER", Some(b"ABCDE")));
    assert_eq!(sent, expected);
    assert_eq!(sent[64..66], [0x04, 0x2E]);
}

#[test]
fn golden_router_sends_identity() {
    let sent = start_bytes(&cfg(SocketType::Router));
    let mut expected = our_greeting(1);
    expected.extend_from_slice(&ready_bytes("ROUTER", Some(b"")));
    assert_eq!(sent, expected);
    let sent = start_bytes(&cfg(SocketType::Req));
    assert_eq!(sent[64..], ready_bytes("REQ", Some(b""))[..]);
}

#[test]
fn golden_types_without_identity() {
    for t in [
        SocketType::Pair,
        SocketType::Pub,
        SocketType::Sub,
        SocketType::Rep,
        SocketType::Pull,
        SocketType::Push,
        SocketType::XPub,
        SocketType::XSub,
    ] {
        let mut c = cfg(t);
        c.set_routing_id(b"xyz").unwrap();
        let sent = start_bytes(&c);
        // The padding reflects the routing id even when READY omits it.
        let mut expected = our_greeting(4);
        expected.extend_from_slice(&ready_bytes(t.as_str(), None));
        assert_eq!(sent, expected, "{t}");
    }
}

#[test]
fn golden_ready_with_user_metadata() {
    let mut c = cfg(SocketType::Pair);
    c.add_property("X-Hello", b"World").unwrap();
    let sent = start_bytes(&c);
    let frames = parse_frames(&sent[64..]);
    let mut body = b"\x05READY".to_vec();
    body.extend_from_slice(&props(&[("Socket-Type", b"PAIR"), ("X-Hello", b"World")]));
    assert_eq!(frames, [(0x04, body)]);
}

// ---------------------------------------------------------------------------
// 3. Version negotiation
// ---------------------------------------------------------------------------

#[test]
fn zmtp_3_0_peer_handshakes_and_uses_subscription_messages() {
    let mut s = Solo::new(&cfg(SocketType::XSub));
    s.feed_all(&greeting(3, 0, b"NULL"));
    s.feed_all(&ready_for(SocketType::XPub));
    assert_eq!(s.events, [ConnEvent::HandshakeSucceeded]);
    assert_eq!(s.c.peer_minor_version(), 0);
    assert!(s.c.uses_subscription_messages());
    pop_metadata(&mut s.c);
    s.sent.clear();
    s.c.send_subscription(true, b"A").unwrap();
    s.c.send_subscription(false, b"A").unwrap();
    s.pump();
    // libzmq test_mock_pub_sub vectors for ZMTP 3.0.
    assert_eq!(s.sent, b"\x00\x02\x01A\x00\x02\x00A");
}

#[test]
fn zmtp_3_1_peer_gets_subscribe_commands() {
    let mut s = Solo::new(&cfg(SocketType::Sub));
    s.handshake(SocketType::Pub);
    s.c.send_subscription(true, b"A").unwrap();
    s.c.send_subscription(false, b"A").unwrap();
    s.pump();
    assert_eq!(s.sent, b"\x04\x0B\x09SUBSCRIBEA\x04\x08\x06CANCELA");
}

#[test]
fn higher_minor_and_major_versions_are_accepted() {
    for (major, minor) in [(3, 2), (3, 255), (4, 0)] {
        let (_, ev) = outcome(
            SocketType::Pair,
            &[greeting(major, minor, b"NULL"), ready_for(SocketType::Pair)].concat(),
        );
        assert_eq!(ev, [ConnEvent::HandshakeSucceeded], "{major}.{minor}");
    }
    // libzmq picks the 3.1 encoder for any major above 3, even with minor 0.
    let (s, _) = outcome(
        SocketType::Sub,
        &[greeting(4, 0, b"NULL"), ready_for(SocketType::Pub)].concat(),
    );
    assert!(!s.c.uses_subscription_messages());
}

fn unsupported() -> [ConnEvent; 2] {
    [
        HandshakeFailedProtocol(ProtocolError::ZmtpUnspecified),
        Disconnected(DisconnectReason::UnsupportedVersion),
    ]
}

#[test]
fn zmtp_1_0_peer_short_identity_is_refused_at_first_byte() {
    // A ZMTP 1.0 peer sends its identity frame (length 1, flags 0) and waits.
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.pump();
    s.feed(&[0x01, 0x00]);
    assert_eq!(s.events, unsupported());
    assert!(!DisconnectReason::UnsupportedVersion.should_reconnect());
    assert!(s.c.is_closed());
    // Only the signature ever left.
    assert_eq!(s.sent, SIGNATURE);
    // One byte is enough to decide.
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.feed(&[0x05]);
    assert_eq!(s.events, unsupported());
}

#[test]
fn zmtp_1_0_peer_long_identity_is_refused() {
    // 0xFF, 8-byte length, then flags with bit 0 clear (ZMTP 1.0 long frame).
    let mut g = null_greeting();
    g[9] = 0x7E;
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    assert_eq!(s.feed(&g[..9]), 9);
    assert!(s.events.is_empty());
    s.feed(&g[9..]);
    assert_eq!(s.events, unsupported());
    assert_eq!(s.sent, SIGNATURE);
}

#[test]
fn zmtp_2_0_peer_is_refused() {
    for major in [1, 2, 0] {
        let mut g = null_greeting();
        g[10] = major;
        let mut s = Solo::new(&cfg(SocketType::Dealer));
        s.feed(&g[..12]);
        assert_eq!(s.events, unsupported(), "major {major}");
        // At most the signature and major went out (a closed connection
        // drops its pending output).
        assert!(s.sent.len() <= 11);
        let before = s.sent.len();
        // Closed for good: no timer, no output, no further event.
        assert_eq!(s.c.poll_timeout(), None);
        s.advance(100_000);
        assert_eq!(s.sent.len(), before);
        assert_eq!(s.events.len(), 2);
    }
}

// ---------------------------------------------------------------------------
// 4. Mechanism mismatch
// ---------------------------------------------------------------------------

#[test]
fn mechanism_mismatch() {
    for mech in [&b"PLAIN"[..], b"CURVE", b"GSSAPI", b"NUL", b"NULLX"] {
        let (s, ev) = outcome(SocketType::Dealer, &greeting(3, 1, mech));
        let e = ProtocolError::ZmtpMechanismMismatch;
        assert_eq!(
            ev,
            [
                HandshakeFailedProtocol(e),
                Disconnected(DisconnectReason::Protocol(e))
            ],
            "{mech:?}"
        );
        assert!(!last_reason(&ev).should_reconnect());
        assert!(s.c.is_closed());
    }
}

// ---------------------------------------------------------------------------
// 5. NULL handshake errors (libzmq null_mechanism.cpp)
// ---------------------------------------------------------------------------

fn after_greeting(t: SocketType, frames: &[u8]) -> Vec<ConnEvent> {
    outcome(t, &[null_greeting(), frames.to_vec()].concat()).1
}

fn protocol(e: ProtocolError) -> [ConnEvent; 2] {
    [
        HandshakeFailedProtocol(e),
        Disconnected(DisconnectReason::Protocol(e)),
    ]
}

#[test]
fn unknown_command_during_handshake() {
    for body in [
        &b"\x05HELLO"[..],
        b"\x04PING\x00\x00",
        b"\x07WELCOME",
        b"",
        b"\x00",
        b"\x05READ",
    ] {
        let ev = after_greeting(SocketType::Dealer, &command(body));
        assert_eq!(
            ev,
            protocol(ProtocolError::ZmtpUnexpectedCommand),
            "{body:?}"
        );
        assert!(!last_reason(&ev).should_reconnect());
    }
}

#[test]
fn data_frame_during_handshake() {
    let ev = after_greeting(SocketType::Dealer, &frame(0, b"hello"));
    assert_eq!(ev, protocol(ProtocolError::ZmtpUnexpectedCommand));
    let ev = after_greeting(SocketType::Dealer, &frame(1, b"hello"));
    assert_eq!(ev, protocol(ProtocolError::ZmtpUnexpectedCommand));
}

#[test]
fn error_command_received() {
    let ev = after_greeting(SocketType::Dealer, &command(b"\x05ERROR\x08go away!"));
    assert_eq!(ev, [Disconnected(DisconnectReason::PeerError)]);
    assert!(!DisconnectReason::PeerError.should_reconnect());
    let ev = after_greeting(SocketType::Dealer, &command(b"\x05ERROR\x00"));
    assert_eq!(ev, [Disconnected(DisconnectReason::PeerError)]);
    // Trailing bytes after the reason are tolerated (libzmq reads the
    // reason only).
    let ev = after_greeting(SocketType::Dealer, &command(b"\x05ERROR\x01xyz"));
    assert_eq!(ev, [Disconnected(DisconnectReason::PeerError)]);
}

#[test]
fn error_command_with_zap_status() {
    for status in [300u32, 400, 500] {
        let body = format!("\x05ERROR\x03{status}");
        let ev = after_greeting(SocketType::Dealer, &command(body.as_bytes()));
        assert_eq!(
            ev,
            [
                HandshakeFailedAuth { status },
                Disconnected(DisconnectReason::PeerError)
            ]
        );
    }
    // Only exactly [345]00 is a status.
    for reason in ["200", "600", "401", "4000", "40"] {
        let body = format!("\x05ERROR{}{reason}", reason.len() as u8 as char);
        let ev = after_greeting(SocketType::Dealer, &command(body.as_bytes()));
        assert_eq!(ev, [Disconnected(DisconnectReason::PeerError)], "{reason}");
    }
}

#[test]
fn malformed_error_command() {
    for body in [&b"\x05ERROR"[..], b"\x05ERROR\x05abcd", b"\x05ERROR\xFF"] {
        let ev = after_greeting(SocketType::Dealer, &command(body));
        assert_eq!(
            ev,
            protocol(ProtocolError::ZmtpMalformedCommandError),
            "{body:?}"
        );
    }
}

#[test]
fn malformed_ready_metadata_disconnects_without_handshake_event() {
    let good = props(&[("Socket-Type", b"ROUTER")]);
    let cases: Vec<Vec<u8>> = vec![
        // Trailing single byte.
        [good.clone(), vec![0x01]].concat(),
        // Truncated value.
        good[..good.len() - 1].to_vec(),
        // Value length beyond the body.
        [vec![0x01, b'A', 0, 0, 1, 0], b"x".to_vec()].concat(),
        // Name length beyond the body.
        vec![0x20, b'A'],
    ];
    for p in cases {
        let mut body = b"\x05READY".to_vec();
        body.extend_from_slice(&p);
        let ev = after_greeting(SocketType::Dealer, &command(&body));
        assert_eq!(
            ev,
            [Disconnected(DisconnectReason::InvalidMetadata)],
            "{p:?}"
        );
        assert!(!DisconnectReason::InvalidMetadata.should_reconnect());
    }
}

#[test]
fn ready_without_socket_type_is_accepted() {
    for r in [ready(&[]), ready(&[("Identity", b"me"), ("X-Other", b"1")])] {
        let (s, ev) = outcome(SocketType::Router, &[null_greeting(), r.clone()].concat());
        assert_eq!(ev, [ConnEvent::HandshakeSucceeded]);
        assert_eq!(s.c.peer_socket_type(), None);
        let (flags, body) = s.c.front_frame().unwrap();
        assert_eq!(flags, REC_METADATA);
        assert_eq!(body, &r[2..]);
    }
}

#[test]
fn ready_with_long_size_field() {
    let mut body = b"\x05READY".to_vec();
    body.extend_from_slice(&props(&[("Socket-Type", b"DEALER")]));
    let ev = after_greeting(SocketType::Router, &long_frame(0x04, &body));
    assert_eq!(ev, [ConnEvent::HandshakeSucceeded]);
}

#[test]
fn ready_and_messages_in_one_chunk() {
    let stream = [
        null_greeting(),
        ready_for(SocketType::Dealer),
        message(&[b"one"]),
        message(&[b"two", b"three"]),
    ]
    .concat();
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.pump();
    // Input stops after the peer's READY until ours has gone out (libzmq's
    // NULL mechanism is ready only when both READYs are through) ...
    let n = s.feed(&stream);
    assert_eq!(
        n,
        null_greeting().len() + ready_for(SocketType::Dealer).len()
    );
    assert_eq!(s.events, [ConnEvent::HandshakeSucceeded]);
    // ... and the rest is taken once it is offered again.
    s.feed_all(&stream[n..]);
    pop_metadata(&mut s.c);
    assert_eq!(pop_message(&mut s.c).unwrap(), [b"one".to_vec()]);
    assert_eq!(
        pop_message(&mut s.c).unwrap(),
        [b"two".to_vec(), b"three".to_vec()]
    );
    assert!(pop_message(&mut s.c).is_none());
}

#[test]
fn nothing_is_sent_before_ready_completes() {
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.feed_all(&null_greeting());
    assert_eq!(
        s.c.send(&[b"early"]),
        Err(zmtp_core::conn::SendError::NotReady)
    );
    assert!(!s.c.can_send());
}

// ---------------------------------------------------------------------------
// 6. Handshake timeout and end-of-stream
// ---------------------------------------------------------------------------

fn no_detail_timeout() -> [ConnEvent; 2] {
    [
        HandshakeFailedNoDetail {
            errno: errno::EAGAIN,
        },
        Disconnected(DisconnectReason::HandshakeTimeout),
    ]
}

#[test]
fn handshake_timeout_default_30s() {
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.pump();
    assert_eq!(s.c.poll_timeout(), Some(Instant::from_millis(T0 + 30_000)));
    s.advance_to(T0 + 29_999);
    assert!(s.events.is_empty());
    s.advance_to(T0 + 30_000);
    assert_eq!(s.events, no_detail_timeout());
    assert!(DisconnectReason::HandshakeTimeout.should_reconnect());
    assert_eq!(s.c.poll_timeout(), None);
    s.advance(60_000);
    assert_eq!(s.events.len(), 2);
}

#[test]
fn handshake_timeout_custom_during_handshake_phase() {
    let mut c = cfg(SocketType::Dealer);
    c.handshake_ivl = Duration::from_millis(500);
    let mut s = Solo::new(&c);
    // The greeting completes, READY never comes.
    s.feed_all(&null_greeting());
    s.advance(499);
    assert!(s.events.is_empty());
    s.advance(1);
    assert_eq!(s.elapsed(), 500);
    assert_eq!(s.events, no_detail_timeout());
}

#[test]
fn handshake_ivl_zero_means_no_timeout() {
    let mut c = cfg(SocketType::Dealer);
    c.handshake_ivl = Duration::from_millis(0);
    let mut s = Solo::new(&c);
    s.pump();
    assert_eq!(s.c.poll_timeout(), None);
    s.advance(3_600_000);
    assert!(s.events.is_empty());
    s.feed_all(&null_greeting());
    s.feed_all(&ready_for(SocketType::Router));
    assert_eq!(s.events, [ConnEvent::HandshakeSucceeded]);
}

#[test]
fn handshake_timer_cancelled_by_success() {
    let mut p = Pair::new(&cfg(SocketType::Pair), &cfg(SocketType::Pair));
    p.handshake();
    assert_eq!(p.a.c.poll_timeout(), None);
    p.advance(120_000);
    assert_eq!(p.a.events, [ConnEvent::HandshakeSucceeded]);
    assert_eq!(p.b.events, [ConnEvent::HandshakeSucceeded]);
}

#[test]
fn eof_during_greeting_and_handshake() {
    let eof = [
        HandshakeFailedNoDetail {
            errno: errno::EPIPE,
        },
        Disconnected(DisconnectReason::Transport {
            errno: errno::EPIPE,
        }),
    ];
    // Nothing received yet.
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.pump();
    s.c.handle_transport_closed(s.now);
    s.pump();
    assert_eq!(s.events, eof);
    assert!(last_reason(&s.events).should_reconnect());
    // Half a greeting.
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.feed_all(&null_greeting()[..30]);
    s.c.handle_transport_closed(s.now);
    s.pump();
    assert_eq!(s.events, eof);
    // Greeting done, READY missing.
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.feed_all(&null_greeting());
    s.c.handle_transport_closed(s.now);
    s.pump();
    assert_eq!(s.events, eof);
    // A transport error keeps its errno.
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.feed_all(&null_greeting());
    s.c.handle_transport_error(s.now, 104);
    s.pump();
    assert_eq!(
        s.events,
        [
            HandshakeFailedNoDetail { errno: 104 },
            Disconnected(DisconnectReason::Transport { errno: 104 })
        ]
    );
}

#[test]
fn eof_after_handshake_is_only_disconnected() {
    let mut s = Solo::new(&cfg(SocketType::Dealer));
    s.handshake(SocketType::Router);
    s.c.handle_transport_closed(s.now);
    s.pump();
    assert_eq!(
        s.events,
        [Disconnected(DisconnectReason::Transport {
            errno: errno::EPIPE
        })]
    );
    assert!(last_reason(&s.events).should_reconnect());
    // A second close is a no-op.
    s.c.handle_transport_closed(s.now);
    s.c.close();
    s.pump();
    assert_eq!(s.events.len(), 1);
}
