//! PLAIN (RFC 24) handshakes: golden bytes of every command as libzmq sends
//! them, full client/server handshakes between two connections with a ZAP
//! handler answering every status, and each PLAIN row of libzmq's
//! HANDSHAKE_FAILED_PROTOCOL table with its exact code and event sequence.
#![cfg(feature = "plain")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod plain_util;
use plain_util::*;

use zmtp_core::conn::{ConnEvent, DisconnectReason, Phase, REC_METADATA, REC_MORE};
use zmtp_core::monitor::errno;
use zmtp_core::{ProtocolError, SocketType};

use ConnEvent::{
    Disconnected, HandshakeFailedAuth, HandshakeFailedNoDetail, HandshakeFailedProtocol,
    HandshakeSucceeded,
};

/// HELLO for "admin" / "password" (libzmq `plain_client.cpp`
/// `produce_hello`): body 6 + 1 + 5 + 1 + 8 = 21 = 0x15 bytes.
const HELLO_ADMIN: [u8; 23] = [
    0x04, 0x15, // COMMAND, size 21
    0x05, b'H', b'E', b'L', b'L', b'O', // "HELLO"
    0x05, b'a', b'd', b'm', b'i', b'n', // username
    0x08, b'p', b'a', b's', b's', b'w', b'o', b'r', b'd', // password
];

/// INITIATE of a DEALER with no routing id (libzmq
/// `make_command_with_basic_properties`): body 9 + 22 + 13 = 44 bytes.
const INITIATE_DEALER: [u8; 46] = [
    0x04, 0x2C, // COMMAND, size 44
    0x08, b'I', b'N', b'I', b'T', b'I', b'A', b'T', b'E', // "INITIATE"
    0x0B, b'S', b'o', b'c', b'k', b'e', b't', b'-', b'T', b'y', b'p', b'e', //
    0x00, 0x00, 0x00, 0x06, b'D', b'E', b'A', b'L', b'E', b'R', //
    0x08, b'I', b'd', b'e', b'n', b't', b'i', b't', b'y', //
    0x00, 0x00, 0x00, 0x00, // empty routing id
];

/// WELCOME (libzmq `plain_server.cpp` `produce_welcome`).
const WELCOME: [u8; 10] = [
    0x04, 0x08, // COMMAND, size 8
    0x07, b'W', b'E', b'L', b'C', b'O', b'M', b'E',
];

/// READY of a ROUTER server with no routing id: body 6 + 22 + 13 = 41.
const READY_ROUTER: [u8; 43] = [
    0x04, 0x29, // COMMAND, size 41
    0x05, b'R', b'E', b'A', b'D', b'Y', // "READY"
    0x0B, b'S', b'o', b'c', b'k', b'e', b't', b'-', b'T', b'y', b'p', b'e', //
    0x00, 0x00, 0x00, 0x06, b'R', b'O', b'U', b'T', b'E', b'R', //
    0x08, b'I', b'd', b'e', b'n', b't', b'i', b't', b'y', //
    0x00, 0x00, 0x00, 0x00,
];

/// ERROR "400" as a libzmq PLAIN server sends it after a ZAP 400, captured
/// from libzmq 4.3.4: its `plain_common.hpp` writes the prefix as
/// `"\x05ERROR"`, which C++ reads as `\x5E` + "RROR" (a hex escape takes
/// every hex digit), so the name-length byte is 0x5E and the frame is 9
/// bytes.
const LIBZMQ_ERROR_400: [u8; 11] = [
    0x04, 0x09, // COMMAND, size 9
    0x5E, b'R', b'R', b'O', b'R', // libzmq's "^RROR"
    0x03, b'4', b'0', b'0', // reason
];

fn proto(e: ProtocolError) -> Vec<ConnEvent> {
    vec![
        HandshakeFailedProtocol(e),
        Disconnected(DisconnectReason::Protocol(e)),
    ]
}

// ---------------------------------------------------------------------------
// Golden transcripts, one side scripted by the test
// ---------------------------------------------------------------------------

#[test]
fn client_transcript_is_libzmqs() {
    let mut s = Solo::new(&plain_client(SocketType::Dealer, USER, PASS));
    s.pump();
    assert_eq!(
        s.sent.len(),
        10,
        "only the signature before the peer speaks"
    );
    s.feed_all(&plain_greeting());
    // Greeting, then HELLO; INITIATE waits for WELCOME.
    assert_eq!(s.sent.len(), 64 + HELLO_ADMIN.len());
    assert_eq!(&s.sent[..64], &plain_greeting()[..]);
    assert_eq!(s.sent[32], 0, "as-server byte stays 0");
    assert_eq!(&s.sent[64..], &HELLO_ADMIN);
    s.feed_all(&WELCOME);
    assert_eq!(&s.sent[64 + HELLO_ADMIN.len()..], &INITIATE_DEALER);
    assert!(s.events.is_empty());
    assert_eq!(s.c.phase(), Phase::Handshake);
    s.feed_all(&READY_ROUTER);
    assert_eq!(s.events, vec![HandshakeSucceeded]);
    assert_eq!(s.c.peer_socket_type(), Some(SocketType::Router));
    let meta = s.c.peer_metadata().unwrap();
    assert_eq!(meta.user_id(), None);
    assert_eq!(meta.get_exact(b"Socket-Type"), Some(&b"ROUTER"[..]));
    // One metadata record: the READY body.
    let (flags, body) = s.c.front_frame().unwrap();
    assert_eq!(flags, REC_METADATA);
    assert_eq!(body, &READY_ROUTER[2..]);
    assert!(s.c.pop_metadata());
    assert!(!s.c.has_message());
}

#[test]
fn server_transcript_is_libzmqs() {
    let mut s = Solo::new(&plain_server(SocketType::Router));
    s.feed_all(&plain_greeting());
    assert_eq!(s.sent.len(), 64, "WELCOME waits for ZAP");
    assert_eq!(&s.sent[12..17], b"PLAIN");
    assert_eq!(s.sent[32], 0, "as-server byte stays 0 (libzmq)");
    s.feed_all(&HELLO_ADMIN);
    assert!(s.c.is_zap_pending());
    let cfg = plain_server(SocketType::Router);
    let req = s.c.poll_zap_request(&cfg).unwrap();
    assert_eq!(req.mechanism(), b"PLAIN");
    assert_eq!(req.plain_credentials(), Some((USER, PASS)));
    assert_eq!(req.domain(), b"");
    let frames: Vec<&[u8]> = req.frames(ADDRESS).collect();
    assert_eq!(
        frames.as_slice(),
        &[
            &b""[..],
            b"1.0",
            b"1",
            b"",
            ADDRESS,
            b"",
            b"PLAIN",
            USER,
            PASS
        ]
    );
    // Returned once.
    assert!(s.c.poll_zap_request(&cfg).is_none());
    assert!(s.c.zap_request(&cfg).is_some());
    s.pump();
    assert_eq!(s.sent.len(), 64);
    let meta = b"\x05X-Org\x00\x00\x00\x04acme";
    answer_zap(
        &mut s.c,
        s.now,
        &Answer::Reply(b"200".to_vec(), b"admin-id".to_vec(), meta.to_vec()),
    );
    assert!(!s.c.is_zap_pending());
    s.pump();
    assert_eq!(&s.sent[64..], &WELCOME);
    s.feed_all(&INITIATE_DEALER);
    assert_eq!(&s.sent[64 + WELCOME.len()..], &READY_ROUTER);
    assert_eq!(s.events, vec![HandshakeSucceeded]);
    assert_eq!(s.c.peer_socket_type(), Some(SocketType::Dealer));
    let m = s.c.peer_metadata().unwrap();
    assert_eq!(m.user_id(), Some(&b"admin-id"[..]));
    assert_eq!(m.get(b"x-org"), Some(&b"acme"[..]));
    assert_eq!(m.get_exact(b"Socket-Type"), Some(&b"DEALER"[..]));
    assert_eq!(m.properties().as_bytes(), &INITIATE_DEALER[11..]);
    // The unit: the ZAP record (with MORE), then the INITIATE body.
    let unit = pop_unit(&mut s.c).unwrap();
    assert_eq!(unit.len(), 2);
    assert_eq!(unit[0].0, REC_METADATA | REC_MORE);
    assert!(
        unit[0]
            .1
            .starts_with(b"\x03ZAP\x07User-Id\x00\x00\x00\x08admin-id")
    );
    assert_eq!(unit[1], (REC_METADATA, INITIATE_DEALER[2..].to_vec()));
    assert!(s.c.peer_metadata().is_none());
}

#[test]
fn server_waits_for_zap_without_reading() {
    // Bytes behind the HELLO are left with the driver until the reply.
    let mut s = Solo::new(&plain_server(SocketType::Router));
    s.feed_all(&plain_greeting());
    let mut input = HELLO_ADMIN.to_vec();
    input.extend_from_slice(&INITIATE_DEALER);
    let n = s.feed(&input);
    assert_eq!(n, HELLO_ADMIN.len());
    assert_eq!(s.feed(&input[n..]), 0);
    answer_zap(&mut s.c, s.now, &Answer::ok(b"u"));
    s.feed_all(&input[n..]);
    assert_eq!(s.events, vec![HandshakeSucceeded]);
}

#[test]
fn credentials_of_every_length() {
    for (user, pass) in [
        (&b""[..], &b""[..]),
        (&[b'u'; 255][..], &[b'p'; 255][..]),
        (b"\x00\xff", b"x"),
    ] {
        let mut p = ZapPair::plain(SocketType::Dealer, SocketType::Router, user, pass, |_| {
            Answer::ok(b"id")
        });
        p.handshake();
        let creds = p.seen_b[0].credentials();
        assert_eq!(creds, &[user.to_vec(), pass.to_vec()]);
    }
}

// ---------------------------------------------------------------------------
// Two connections with a ZAP handler
// ---------------------------------------------------------------------------

#[test]
fn handshake_accepted_then_messages_flow() {
    let mut p = ZapPair::plain(SocketType::Dealer, SocketType::Router, USER, PASS, |req| {
        assert_eq!(req.mechanism(), b"PLAIN");
        if req.credentials() == [USER.to_vec(), PASS.to_vec()] {
            Answer::ok(b"admin")
        } else {
            Answer::status("400")
        }
    });
    p.cfg_b.set_zap_domain(b"global").unwrap();
    p.cfg_b.set_routing_id(b"SRV").unwrap();
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
            b"SRV".to_vec(),
            b"PLAIN".to_vec(),
            USER.to_vec(),
            PASS.to_vec(),
        ]
    );
    assert_eq!(
        p.pair.b.c.peer_metadata().unwrap().user_id(),
        Some(&b"admin"[..])
    );
    assert_eq!(p.pair.a.c.peer_metadata().unwrap().user_id(), None);
    assert!(p.pair.a.c.pop_metadata());
    assert!(p.pair.b.c.pop_metadata());
    p.pair.a.c.send(&[b"hello"]).unwrap();
    p.pair.b.c.send(&[b"world"]).unwrap();
    p.drive();
    assert_eq!(pop_message(&mut p.pair.b.c), Some(vec![b"hello".to_vec()]));
    assert_eq!(pop_message(&mut p.pair.a.c), Some(vec![b"world".to_vec()]));
}

#[test]
fn wrong_password_400() {
    // libzmq test_security_plain.cpp "wrong password": the server reports
    // HANDSHAKE_FAILED_AUTH 400 and sends ERROR "400"; the client reports
    // HANDSHAKE_FAILED_AUTH 400 and stops.
    let mut p = ZapPair::plain(
        SocketType::Dealer,
        SocketType::Router,
        USER,
        b"wrong",
        |req| {
            if req.credentials()[1] == PASS {
                Answer::ok(b"admin")
            } else {
                Answer::status("400")
            }
        },
    );
    p.drive();
    let reason = DisconnectReason::AuthFailed { status: 400 };
    assert_eq!(
        p.pair.b.events,
        vec![HandshakeFailedAuth { status: 400 }, Disconnected(reason)]
    );
    assert!(!reason.should_reconnect());
    // The server sent its greeting, then only ERROR "400".
    assert_eq!(&p.pair.b.sent[64..], &LIBZMQ_ERROR_400);
    assert_eq!(
        p.pair.a.events,
        vec![
            HandshakeFailedAuth { status: 400 },
            Disconnected(DisconnectReason::PeerError)
        ]
    );
    assert!(!DisconnectReason::PeerError.should_reconnect());
}

#[test]
fn internal_error_500() {
    let mut p = ZapPair::plain(SocketType::Dealer, SocketType::Router, USER, PASS, |_| {
        Answer::status("500")
    });
    p.drive();
    assert_eq!(
        p.pair.b.events,
        vec![
            HandshakeFailedAuth { status: 500 },
            Disconnected(DisconnectReason::AuthFailed { status: 500 })
        ]
    );
    assert_eq!(&p.pair.b.sent[64 + 2..], b"\x5eRROR\x03500");
    assert_eq!(
        p.pair.a.events,
        vec![
            HandshakeFailedAuth { status: 500 },
            Disconnected(DisconnectReason::PeerError)
        ]
    );
}

#[test]
fn temporary_failure_300_is_silent_until_the_handshake_timer() {
    // libzmq zap_client.cpp: 300 sends no ERROR and does not close; the
    // client hears nothing (test_security_zap.cpp expects no client event)
    // until its handshake timer fires, then reconnects.
    let mut p = ZapPair::plain(SocketType::Dealer, SocketType::Router, USER, PASS, |_| {
        Answer::status("300")
    });
    p.drive();
    assert_eq!(p.pair.b.events, vec![HandshakeFailedAuth { status: 300 }]);
    assert_eq!(p.pair.b.sent.len(), 64, "nothing after the greeting");
    assert!(p.pair.a.events.is_empty());
    assert_eq!(p.pair.b.c.phase(), Phase::Handshake);
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
    assert!(DisconnectReason::HandshakeTimeout.should_reconnect());
    // The server's mechanism had given up: DISCONNECTED without NO_DETAIL.
    assert_eq!(
        p.pair.b.events,
        vec![
            HandshakeFailedAuth { status: 300 },
            Disconnected(DisconnectReason::HandshakeTimeout)
        ]
    );
}

#[test]
fn temporary_failure_300_then_client_closes() {
    let mut p = ZapPair::plain(SocketType::Dealer, SocketType::Router, USER, PASS, |_| {
        Answer::status("300")
    });
    p.drive();
    let now = p.pair.now;
    p.pair.b.c.handle_transport_closed(now);
    assert_eq!(
        events(&mut p.pair.b.c),
        vec![Disconnected(DisconnectReason::Transport {
            errno: errno::EPIPE
        })]
    );
}

#[test]
fn temporary_failure_300_then_a_command_is_unspecified() {
    // libzmq plain_server.cpp: any command in state error_sent falls to the
    // default branch.
    let mut s = Solo::new(&plain_server(SocketType::Router));
    s.feed_all(&plain_greeting());
    s.feed_all(&HELLO_ADMIN);
    answer_zap(&mut s.c, s.now, &Answer::status("300"));
    s.feed_all(&INITIATE_DEALER);
    let mut want = vec![HandshakeFailedAuth { status: 300 }];
    want.extend(proto(ProtocolError::ZmtpUnspecified));
    assert_eq!(s.events, want);
}

#[test]
fn invalid_status_codes() {
    for code in ["600", "100", "201", "20", "2000", "", "OK!"] {
        let mut p = ZapPair::plain(
            SocketType::Dealer,
            SocketType::Router,
            USER,
            PASS,
            move |_| Answer::status(code),
        );
        p.drive();
        assert_eq!(
            p.pair.b.events,
            proto(ProtocolError::ZapInvalidStatusCode),
            "{code:?}"
        );
        assert_eq!(p.pair.b.sent.len(), 64, "no ERROR for {code:?}");
        // The client sees the transport end during its handshake.
        let now = p.pair.now;
        p.pair.a.c.handle_transport_closed(now);
        assert_eq!(
            events(&mut p.pair.a.c),
            vec![
                HandshakeFailedNoDetail {
                    errno: errno::EPIPE
                },
                Disconnected(DisconnectReason::Transport {
                    errno: errno::EPIPE
                })
            ]
        );
    }
}

#[test]
fn malformed_zap_replies() {
    let good = || -> Vec<Vec<u8>> {
        [&b""[..], b"1.0", b"1", b"200", b"OK", b"admin", b""]
            .iter()
            .map(|f| f.to_vec())
            .collect()
    };
    let mut too_many = good();
    too_many.push(Vec::new());
    let mut cases: Vec<(Vec<Vec<u8>>, ProtocolError)> = vec![
        (good()[..6].to_vec(), ProtocolError::ZapMalformedReply),
        (too_many, ProtocolError::ZapMalformedReply),
        (Vec::new(), ProtocolError::ZapMalformedReply),
    ];
    let mut f = good();
    f[0] = b"x".to_vec();
    cases.push((f, ProtocolError::ZapUnspecified));
    let mut f = good();
    f[1] = b"1.1".to_vec();
    cases.push((f, ProtocolError::ZapBadVersion));
    let mut f = good();
    f[2] = b"2".to_vec();
    cases.push((f, ProtocolError::ZapBadRequestId));
    let mut f = good();
    f[3] = b"250".to_vec();
    cases.push((f, ProtocolError::ZapInvalidStatusCode));
    let mut f = good();
    f[6] = b"\x05X-Org\x00\x00".to_vec();
    cases.push((f, ProtocolError::ZapInvalidMetadata));
    for (frames, code) in cases {
        let answer = Answer::Frames(frames.clone());
        let mut p = ZapPair::plain(
            SocketType::Dealer,
            SocketType::Router,
            USER,
            PASS,
            move |_| answer.clone(),
        );
        p.drive();
        assert_eq!(p.pair.b.events, proto(code), "{frames:?}");
        assert!(!DisconnectReason::Protocol(code).should_reconnect());
    }
    // And a good one through the raw path.
    let mut p = ZapPair::plain(
        SocketType::Dealer,
        SocketType::Router,
        USER,
        PASS,
        move |_| Answer::Frames(good()),
    );
    p.handshake();
}

#[test]
fn no_zap_handler_is_efault() {
    // libzmq plain_server.cpp: zap_connect fails → NO_DETAIL(EFAULT), and
    // the engine closes (protocol error: no DISCONNECTED detail).
    let mut p = ZapPair::plain(SocketType::Dealer, SocketType::Router, USER, PASS, |_| {
        Answer::Unavailable
    });
    p.drive();
    assert_eq!(
        p.pair.b.events,
        vec![
            HandshakeFailedNoDetail {
                errno: errno::EFAULT
            },
            Disconnected(DisconnectReason::ZapUnavailable)
        ]
    );
    assert!(!DisconnectReason::ZapUnavailable.should_reconnect());
}

#[test]
fn zap_answers_without_a_request_are_refused() {
    let mut s = Solo::new(&plain_server(SocketType::Router));
    let now = s.now;
    let e =
        s.c.handle_zap_reply(now, &zmtp_core::conn::ZapReply::ok(b""));
    assert_eq!(e, Err(zmtp_core::conn::ZapError::NoRequest));
    assert!(s.c.handle_zap_unavailable(now).is_err());
    assert!(s.c.handle_zap_reply_frames(now, &[]).is_err());
    // After the peer went away, a late reply is refused too.
    s.feed_all(&plain_greeting());
    s.feed_all(&HELLO_ADMIN);
    s.c.handle_transport_closed(now);
    assert!(
        s.c.handle_zap_reply(now, &zmtp_core::conn::ZapReply::ok(b""))
            .is_err()
    );
}

#[test]
fn handshake_timeout_while_waiting_for_zap() {
    // libzmq test_security_zap.cpp "do not send": a handler that never
    // answers; the mechanism is still handshaking, so NO_DETAIL.
    let mut p = ZapPair::plain(SocketType::Dealer, SocketType::Router, USER, PASS, |_| {
        Answer::Later
    });
    p.advance_to(T0 + 30_000);
    assert_eq!(
        p.pair.b.events,
        vec![
            HandshakeFailedNoDetail {
                errno: errno::EAGAIN
            },
            Disconnected(DisconnectReason::HandshakeTimeout)
        ]
    );
    assert!(!p.pair.b.c.is_zap_pending());
}

#[test]
fn mechanism_mismatch_null_vs_plain() {
    let null = zmtp_core::conn::Config::new(SocketType::Dealer);
    for (ours, peer_mechanism) in [
        (null.clone(), &b"PLAIN"[..]),
        (plain_server(SocketType::Router), b"NULL"),
        (plain_client(SocketType::Dealer, USER, PASS), b"NULL"),
        (plain_client(SocketType::Dealer, USER, PASS), b"CURVE"),
    ] {
        let mut s = Solo::new(&ours);
        s.feed_all(&greeting(3, 1, peer_mechanism));
        assert_eq!(s.events, proto(ProtocolError::ZmtpMechanismMismatch));
    }
    // Between two connections the side that reads the whole greeting first
    // fails; the other then sees the transport end during its handshake.
    let mut p = ZapPair::new(null, plain_server(SocketType::Router));
    p.drive();
    assert_eq!(p.pair.b.events, proto(ProtocolError::ZmtpMechanismMismatch));
    let now = p.pair.now;
    p.pair.a.c.handle_transport_closed(now);
    assert_eq!(
        events(&mut p.pair.a.c),
        vec![
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
fn two_plain_clients() {
    // Both name PLAIN; each waits for WELCOME and takes the other's HELLO
    // for an unexpected command (the first to read it closes).
    let mut p = ZapPair::new(
        plain_client(SocketType::Dealer, USER, PASS),
        plain_client(SocketType::Dealer, USER, PASS),
    );
    p.drive();
    let (a, b) = (&p.pair.a.events, &p.pair.b.events);
    let expected = proto(ProtocolError::ZmtpUnexpectedCommand);
    // Exactly one side reads the other's HELLO first and closes; the other
    // has not seen anything yet.
    assert!(
        (*a == expected && b.is_empty()) || (*b == expected && a.is_empty()),
        "a: {a:?}, b: {b:?}"
    );
}

// ---------------------------------------------------------------------------
// Every PLAIN row of the HANDSHAKE_FAILED_PROTOCOL table
// ---------------------------------------------------------------------------

/// The events of a PLAIN server fed the client greeting then `input`.
fn server_outcome(input: &[u8]) -> (Solo, Vec<ConnEvent>) {
    let mut s = Solo::new(&plain_server(SocketType::Router));
    s.feed_all(&plain_greeting());
    s.feed(input);
    let ev = s.events.clone();
    (s, ev)
}

/// The events of a PLAIN server past a ZAP 200, fed `input`.
fn server_after_zap(input: &[u8]) -> (Solo, Vec<ConnEvent>) {
    let mut s = Solo::new(&plain_server(SocketType::Router));
    s.feed_all(&plain_greeting());
    s.feed_all(&HELLO_ADMIN);
    answer_zap(&mut s.c, s.now, &Answer::ok(b""));
    s.pump();
    s.feed(input);
    let ev = s.events.clone();
    (s, ev)
}

#[test]
fn server_rejects_what_is_not_hello() {
    for (body, code) in [
        // check_basic_command_structure: size <= 1 or <= its name length.
        (&b""[..], ProtocolError::ZmtpMalformedCommandUnspecified),
        (b"\x05", ProtocolError::ZmtpMalformedCommandUnspecified),
        (b"\x05HELL", ProtocolError::ZmtpMalformedCommandUnspecified),
        // Not HELLO.
        (b"\x05READY", ProtocolError::ZmtpUnexpectedCommand),
        (b"\x08INITIATE", ProtocolError::ZmtpUnexpectedCommand),
        (b"\x05ERROR\x03400", ProtocolError::ZmtpUnexpectedCommand),
        (b"\x04PING\x00\x00", ProtocolError::ZmtpUnexpectedCommand),
        // Malformed HELLO: no username, short username, no password,
        // short password, trailing bytes.
        (b"\x05HELLO", ProtocolError::ZmtpMalformedCommandHello),
        (
            b"\x05HELLO\x05adm",
            ProtocolError::ZmtpMalformedCommandHello,
        ),
        (
            b"\x05HELLO\x05admin",
            ProtocolError::ZmtpMalformedCommandHello,
        ),
        (
            b"\x05HELLO\x05admin\x08pass",
            ProtocolError::ZmtpMalformedCommandHello,
        ),
        (
            b"\x05HELLO\x00\x00\x00",
            ProtocolError::ZmtpMalformedCommandHello,
        ),
    ] {
        let (s, ev) = server_outcome(&command(body));
        assert_eq!(ev, proto(code), "{body:?}");
        assert_eq!(s.sent.len(), 64, "nothing but the greeting for {body:?}");
    }
    // During the handshake a data frame is judged like a command, as in
    // libzmq (whose decoder hands every frame to the mechanism).
    let (s, ev) = server_outcome(&frame(0, b"\x05HELLO\x00\x00"));
    assert_eq!(ev, Vec::<ConnEvent>::new());
    assert!(s.c.is_zap_pending());
}

#[test]
fn server_rejects_what_is_not_initiate() {
    for body in [&b"\x05HELLO\x00\x00"[..], b"\x05READY", b"\x07WELCOME"] {
        let (_, ev) = server_after_zap(&command(body));
        assert_eq!(ev, proto(ProtocolError::ZmtpUnexpectedCommand), "{body:?}");
    }
}

#[test]
fn server_bad_initiate_metadata_has_no_event() {
    // libzmq: parse_metadata fails → engine error(protocol_error) →
    // DISCONNECTED only, and no ERROR is sent.
    let (s, ev) = server_after_zap(&command(b"\x08INITIATE\x01"));
    assert_eq!(ev, vec![Disconnected(DisconnectReason::InvalidMetadata)]);
    assert_eq!(&s.sent[64..], &WELCOME);
    let (s, ev) = server_after_zap(&initiate_for(SocketType::Pub));
    assert_eq!(
        ev,
        vec![Disconnected(DisconnectReason::IncompatibleSocketType)]
    );
    assert_eq!(&s.sent[64..], &WELCOME);
}

/// The events of a PLAIN DEALER client fed a PLAIN greeting then `input`.
fn client_outcome(input: &[u8]) -> Vec<ConnEvent> {
    let mut s = Solo::new(&plain_client(SocketType::Dealer, USER, PASS));
    s.feed_all(&plain_greeting());
    s.feed(input);
    s.events
}

#[test]
fn client_rows() {
    let ready_router = ready_for(SocketType::Router);
    let welcome_then = |rest: &[u8]| {
        let mut v = welcome();
        v.extend_from_slice(rest);
        v
    };
    let cases: Vec<(Vec<u8>, Vec<ConnEvent>)> = vec![
        // Unknown command, READY or ERROR in the wrong place.
        (
            command(b"\x05HELLO\x00\x00"),
            proto(ProtocolError::ZmtpUnexpectedCommand),
        ),
        (
            command(b"\x04PING\x00\x00"),
            proto(ProtocolError::ZmtpUnexpectedCommand),
        ),
        (
            ready_router.clone(),
            proto(ProtocolError::ZmtpUnexpectedCommand),
        ),
        (
            welcome_then(&welcome()),
            proto(ProtocolError::ZmtpUnexpectedCommand),
        ),
        // WELCOME with anything after the name.
        (
            command(b"\x07WELCOME\x00"),
            proto(ProtocolError::ZmtpMalformedCommandWelcome),
        ),
        // READY metadata invalid, including an incompatible Socket-Type.
        (
            welcome_then(&ready_for(SocketType::Pub)),
            proto(ProtocolError::ZmtpInvalidMetadata),
        ),
        (
            welcome_then(&command(b"\x05READY\x01")),
            proto(ProtocolError::ZmtpInvalidMetadata),
        ),
        // Malformed ERROR, before and after WELCOME.
        (
            command(b"\x05ERROR"),
            proto(ProtocolError::ZmtpMalformedCommandError),
        ),
        (
            welcome_then(&command(b"\x05ERROR\x05ab")),
            proto(ProtocolError::ZmtpMalformedCommandError),
        ),
        // ERROR with a ZAP status: FAILED_AUTH; with another reason:
        // DISCONNECTED only. Either way no reconnect.
        (
            error_cmd(b"300"),
            vec![
                HandshakeFailedAuth { status: 300 },
                Disconnected(DisconnectReason::PeerError),
            ],
        ),
        (
            welcome_then(&error_cmd(b"400")),
            vec![
                HandshakeFailedAuth { status: 400 },
                Disconnected(DisconnectReason::PeerError),
            ],
        ),
        (
            error_cmd(b"Invalid credentials"),
            vec![Disconnected(DisconnectReason::PeerError)],
        ),
        (
            error_cmd(b"200"),
            vec![Disconnected(DisconnectReason::PeerError)],
        ),
        // libzmq's own PLAIN ERROR form, before and after WELCOME.
        (
            LIBZMQ_ERROR_400.to_vec(),
            vec![
                HandshakeFailedAuth { status: 400 },
                Disconnected(DisconnectReason::PeerError),
            ],
        ),
        (
            welcome_then(&command(b"\x5eRROR\x03500")),
            vec![
                HandshakeFailedAuth { status: 500 },
                Disconnected(DisconnectReason::PeerError),
            ],
        ),
        (
            command(b"\x5eRROR\x04500"),
            proto(ProtocolError::ZmtpMalformedCommandError),
        ),
        // The happy path, for contrast.
        (welcome_then(&ready_router), vec![HandshakeSucceeded]),
    ];
    for (input, want) in cases {
        assert_eq!(client_outcome(&input), want, "{input:?}");
    }
}

#[test]
fn client_without_socket_type_is_accepted() {
    // libzmq does not require Socket-Type.
    let mut input = welcome();
    input.extend_from_slice(&ready(&[("X-Hello", b"1")]));
    assert_eq!(client_outcome(&input), vec![HandshakeSucceeded]);
}

#[test]
fn tiny_transmit_buffer_is_refused() {
    let cfg = plain_server(SocketType::Router);
    let r = zmtp_core::conn::Connection::new(
        zmtp_core::Instant::from_millis(T0),
        &cfg,
        leak(256),
        leak(120),
    );
    assert!(r.is_err());
}
