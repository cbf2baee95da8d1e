//! ZAP with the NULL mechanism (libzmq `null_mechanism.cpp`): consulted only
//! when a ZAP domain is set; our READY waits for the reply; every status
//! with libzmq's event sequence on both sides.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod plain_util;
use plain_util::*;

use zmtp_core::conn::{Config, ConnEvent, DisconnectReason, Phase, REC_METADATA, REC_MORE};
use zmtp_core::monitor::errno;
use zmtp_core::{ProtocolError, SocketType};

use ConnEvent::{
    Disconnected, HandshakeFailedAuth, HandshakeFailedNoDetail, HandshakeFailedProtocol,
    HandshakeSucceeded,
};

fn with_domain(t: SocketType, domain: &[u8]) -> Config {
    let mut c = Config::new(t);
    c.set_zap_domain(domain).unwrap();
    c
}

/// `a` a plain NULL DEALER, `b` a NULL ROUTER with ZAP domain "global"
/// whose handler gives `answer`.
fn pair(answer: Answer) -> ZapPair {
    let mut p = ZapPair::new(
        Config::new(SocketType::Dealer),
        with_domain(SocketType::Router, b"global"),
    );
    p.zap_b = Box::new(move |_| answer.clone());
    p
}

#[test]
fn no_domain_no_zap() {
    let cfg = Config::new(SocketType::Router);
    assert!(!cfg.consults_zap());
    // The harness panics on any request.
    let mut p = ZapPair::new(Config::new(SocketType::Dealer), cfg);
    p.handshake();
    assert!(p.seen_b.is_empty());
}

#[test]
fn domain_too_long() {
    let mut c = Config::new(SocketType::Rep);
    assert!(c.set_zap_domain(&[b'd'; 255]).is_ok());
    assert_eq!(
        c.set_zap_domain(&[b'd'; 256]),
        Err(zmtp_core::conn::ConfigError::ZapDomainTooLong)
    );
}

#[test]
fn accepted() {
    let mut p = pair(Answer::Reply(
        b"200".to_vec(),
        b"anon".to_vec(),
        b"\x06X-Role\x00\x00\x00\x05guest".to_vec(),
    ));
    p.cfg_b.set_routing_id(b"R").unwrap();
    p.drive();
    assert_eq!(p.pair.a.events, vec![HandshakeSucceeded]);
    assert_eq!(p.pair.b.events, vec![HandshakeSucceeded]);
    assert_eq!(
        p.seen_b[0].frames,
        vec![
            b"".to_vec(),
            b"1.0".to_vec(),
            b"1".to_vec(),
            b"global".to_vec(),
            ADDRESS.to_vec(),
            b"R".to_vec(),
            b"NULL".to_vec(),
        ]
    );
    let m = p.pair.b.c.peer_metadata().unwrap();
    assert_eq!(m.user_id(), Some(&b"anon"[..]));
    assert_eq!(m.get_exact(b"X-Role"), Some(&b"guest"[..]));
    assert_eq!(m.get_exact(b"Socket-Type"), Some(&b"DEALER"[..]));
    let unit = pop_unit(&mut p.pair.b.c).unwrap();
    assert_eq!(
        unit.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
        vec![REC_METADATA | REC_MORE, REC_METADATA]
    );
    assert!(unit[1].1.starts_with(b"\x05READY"));
    assert!(p.pair.a.c.pop_metadata());
    p.pair.a.c.send(&[b"x"]).unwrap();
    p.drive();
    assert_eq!(pop_message(&mut p.pair.b.c), Some(vec![b"x".to_vec()]));
}

#[test]
fn ready_waits_for_the_reply() {
    let mut s = Solo::new(&with_domain(SocketType::Router, b"d"));
    s.feed_all(&null_greeting());
    // The request is raised at the end of the greeting; READY is held.
    assert!(s.c.is_zap_pending());
    assert_eq!(s.sent.len(), 64);
    // The peer's READY is left unread until the reply.
    let ready = ready_for(SocketType::Dealer);
    assert_eq!(s.feed(&ready), 0);
    answer_zap(&mut s.c, s.now, &Answer::ok(b""));
    s.pump();
    assert!(s.sent[64..].starts_with(b"\x04"));
    assert_eq!(&s.sent[66..72], b"\x05READY");
    s.feed_all(&ready);
    assert_eq!(s.events, vec![HandshakeSucceeded]);
}

#[test]
fn refused_400_and_500() {
    for (code, status) in [("400", 400), ("500", 500)] {
        let mut p = pair(Answer::status(code));
        p.drive();
        assert_eq!(
            p.pair.b.events,
            vec![
                HandshakeFailedAuth { status },
                Disconnected(DisconnectReason::AuthFailed { status })
            ]
        );
        // Greeting, then ERROR instead of READY.
        let mut error = b"\x04\x0a\x05ERROR\x03".to_vec();
        error.extend_from_slice(code.as_bytes());
        assert_eq!(&p.pair.b.sent[64..], &error[..]);
        assert_eq!(
            p.pair.a.events,
            vec![
                HandshakeFailedAuth { status },
                Disconnected(DisconnectReason::PeerError)
            ]
        );
    }
}

#[test]
fn temporary_failure_300() {
    let mut p = pair(Answer::status("300"));
    p.drive();
    assert_eq!(p.pair.b.events, vec![HandshakeFailedAuth { status: 300 }]);
    assert_eq!(p.pair.b.sent.len(), 64, "neither READY nor ERROR");
    assert_eq!(p.pair.b.c.phase(), Phase::Handshake);
    assert!(p.pair.a.events.is_empty());
    p.advance_to(T0 + 30_000);
    assert_eq!(
        p.pair.a.events,
        vec![
            HandshakeFailedNoDetail {
                errno: errno::EAGAIN
            },
            Disconnected(DisconnectReason::HandshakeTimeout)
        ]
    );
    // The peer's READY was in: the mechanism had given up, no NO_DETAIL.
    assert_eq!(
        p.pair.b.events,
        vec![
            HandshakeFailedAuth { status: 300 },
            Disconnected(DisconnectReason::HandshakeTimeout)
        ]
    );
}

#[test]
fn temporary_failure_300_before_the_peer_ready() {
    // Until the peer's READY is in, the mechanism is still handshaking:
    // the transport ending raises NO_DETAIL.
    let mut s = Solo::new(&with_domain(SocketType::Router, b"d"));
    s.feed_all(&null_greeting());
    answer_zap(&mut s.c, s.now, &Answer::status("300"));
    let now = s.now;
    s.c.handle_transport_closed(now);
    s.pump();
    assert_eq!(
        s.events,
        vec![
            HandshakeFailedAuth { status: 300 },
            HandshakeFailedNoDetail {
                errno: errno::EPIPE
            },
            Disconnected(DisconnectReason::Transport {
                errno: errno::EPIPE
            })
        ]
    );
}

#[test]
fn unavailable_handler_goes_on_without_zap() {
    // libzmq without ZMQ_ZAP_ENFORCE_DOMAIN: no handler, no check.
    let mut p = pair(Answer::Unavailable);
    p.drive();
    assert_eq!(p.pair.a.events, vec![HandshakeSucceeded]);
    assert_eq!(p.pair.b.events, vec![HandshakeSucceeded]);
    let m = p.pair.b.c.peer_metadata().unwrap();
    assert_eq!(m.user_id(), None);
    assert_eq!(m.zap_properties(), None);
}

#[test]
fn zap_protocol_errors() {
    for (answer, code) in [
        (Answer::status("201"), ProtocolError::ZapInvalidStatusCode),
        (
            Answer::Reply(b"200".to_vec(), Vec::new(), b"\x00".to_vec()),
            ProtocolError::ZapInvalidMetadata,
        ),
        (
            Answer::Frames(vec![b"".to_vec(), b"1.0".to_vec()]),
            ProtocolError::ZapMalformedReply,
        ),
    ] {
        let mut p = pair(answer);
        p.drive();
        assert_eq!(
            p.pair.b.events,
            vec![
                HandshakeFailedProtocol(code),
                Disconnected(DisconnectReason::Protocol(code))
            ]
        );
    }
}

#[test]
fn both_sides_ask_zap() {
    let mut p = ZapPair::new(
        with_domain(SocketType::Dealer, b"a"),
        with_domain(SocketType::Router, b"b"),
    );
    p.zap_a = Box::new(|_| Answer::ok(b"router-user"));
    p.zap_b = Box::new(|_| Answer::ok(b"dealer-user"));
    p.drive();
    assert_eq!(p.pair.a.events, vec![HandshakeSucceeded]);
    assert_eq!(p.pair.b.events, vec![HandshakeSucceeded]);
    assert_eq!(
        p.pair.a.c.peer_metadata().unwrap().user_id(),
        Some(&b"router-user"[..])
    );
    assert_eq!(
        p.pair.b.c.peer_metadata().unwrap().user_id(),
        Some(&b"dealer-user"[..])
    );
}

#[test]
fn zap_record_too_large_for_the_receive_queue() {
    // A user id that cannot be stored: the connection closes as for an
    // oversized frame.
    let cfg = with_domain(SocketType::Router, b"d");
    let mut s = Solo::with_buffers(&cfg, 128, TX);
    s.feed_all(&null_greeting());
    let big = vec![b'u'; 200];
    answer_zap(
        &mut s.c,
        s.now,
        &Answer::Reply(b"200".to_vec(), big, Vec::new()),
    );
    s.pump();
    assert_eq!(
        s.events,
        vec![Disconnected(DisconnectReason::MessageTooLarge)]
    );
}

#[test]
fn peer_cannot_pose_as_another_user() {
    // The peer's own User-Id property loses to the ZAP handler's.
    let mut s = Solo::new(&with_domain(SocketType::Router, b"d"));
    s.feed_all(&null_greeting());
    answer_zap(&mut s.c, s.now, &Answer::ok(b"real"));
    s.feed_all(&ready(&[
        ("Socket-Type", b"DEALER"),
        ("User-Id", b"forged"),
    ]));
    let m = s.c.peer_metadata().unwrap();
    assert_eq!(m.user_id(), Some(&b"real"[..]));
    assert_eq!(m.get_exact(b"User-Id"), Some(&b"real"[..]));
    assert_eq!(m.properties().get_exact(b"User-Id"), Some(&b"forged"[..]));
}
