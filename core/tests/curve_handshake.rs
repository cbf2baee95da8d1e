//! CURVE handshakes and messages between two connections, the ZAP
//! outcomes, and every malformed command of libzmq's table, with its
//! monitor event.
#![cfg(feature = "curve")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod curve_util;

use curve_util::*;
use zmtp_core::ProtocolError as P;
use zmtp_core::conn::{Config, Connection, CurveKeypair, MechanismConfig, curve_public_key};
use zmtp_core::conn::{ConnEvent, DisconnectReason, SendError};

use std::vec::Vec;
use zmtp_core::{Instant, SocketType};

fn proto(e: P) -> ConnEvent {
    ConnEvent::HandshakeFailedProtocol(e)
}

#[test]
fn keys_derive_as_libzmq() {
    // zmq_curve(7): the public keys of the example secret keys.
    let c = client_keys();
    assert_eq!(&c.public_z85()[..], CLIENT_PUBLIC);
    assert_eq!(&server_keys().public_z85()[..], SERVER_PUBLIC);
    assert_eq!(curve_public_key(&c.secret), c.public);
    let g = CurveKeypair::generate(&mut TestRng(9));
    assert_eq!(curve_public_key(&g.secret), g.public);
    assert_ne!(g.secret, CurveKeypair::generate(&mut TestRng(10)).secret);
    let m = MechanismConfig::curve_client_z85(CLIENT_PUBLIC, CLIENT_SECRET, SERVER_PUBLIC).unwrap();
    assert_eq!(
        m,
        MechanismConfig::curve_client(c.public, c.secret, server_keys().public)
    );
    assert!(MechanismConfig::curve_server_z85(b"short").is_err());
}

#[test]
fn new_refuses_curve_without_rng() {
    let cfg = curve_server(SocketType::Router, &server_keys());
    let mut rx = [0u8; 512];
    let mut tx = [0u8; 512];
    assert_eq!(
        Connection::new(Instant::from_millis(0), &cfg, &mut rx, &mut tx).err(),
        Some(SendError::NoEntropy)
    );
}

#[test]
fn stonehouse_handshake_and_messages() {
    let mut p = default_pair(|_| Answer::Unavailable);
    p.handshake();
    assert_eq!(p.seen_b.len(), 1);
    assert_eq!(p.seen_b[0].mechanism(), b"CURVE");
    assert_eq!(p.seen_b[0].credentials(), &[client_keys().public.to_vec()]);
    let a = &mut p.pair.a.c;
    assert_eq!(a.peer_socket_type(), Some(SocketType::Router));
    a.send(&[b"hello", b"", b"world"]).unwrap();
    p.drive();
    assert_eq!(
        pop_message(&mut p.pair.b.c).unwrap(),
        vec![b"hello".to_vec(), b"".to_vec(), b"world".to_vec()]
    );
    p.pair.b.c.send(&[b"reply"]).unwrap();
    p.drive();
    assert_eq!(
        pop_message(&mut p.pair.a.c).unwrap(),
        vec![b"reply".to_vec()]
    );
    // Every frame after the handshake is a MESSAGE command on the wire.
    let sent = &p.pair.b.sent;
    assert!(sent.windows(8).any(|w| w == b"\x07MESSAGE"));
    assert!(!sent.windows(5).any(|w| w == b"reply"));
    assert_eq!(p.pair.a.events, [ConnEvent::HandshakeSucceeded]);
    assert_eq!(p.pair.b.events, [ConnEvent::HandshakeSucceeded]);
}

#[test]
fn zap_200_gives_user_id() {
    let mut p = default_pair(|_| Answer::ok(b"alice"));
    p.drive();
    assert!(p.pair.b.c.is_ready(), "{:?}", p.pair.b.events);
    let meta = p.pair.b.c.peer_metadata().unwrap();
    assert_eq!(meta.user_id(), Some(&b"alice"[..]));
    assert_eq!(meta.get(b"Socket-Type"), Some(&b"DEALER"[..]));
    assert!(p.pair.a.c.is_ready());
    assert_eq!(
        p.pair.a.c.peer_metadata().unwrap().get(b"Socket-Type"),
        Some(&b"ROUTER"[..])
    );
}

#[test]
fn zap_refusals() {
    for (code, client_event) in [
        ("400", Some(ConnEvent::HandshakeFailedAuth { status: 400 })),
        ("500", Some(ConnEvent::HandshakeFailedAuth { status: 500 })),
        ("300", None),
    ] {
        let mut p = default_pair(move |_| Answer::status(code));
        p.drive();
        let status: u32 = code.parse().unwrap();
        assert_eq!(
            p.pair.b.events[0],
            ConnEvent::HandshakeFailedAuth { status }
        );
        assert!(!p.pair.a.c.is_ready());
        assert_eq!(p.pair.a.events.first().copied(), client_event, "{code}");
        if status == 300 {
            // Silence; the server stays open.
            assert!(!p.pair.b.c.is_closed());
        } else {
            assert!(p.pair.a.c.is_closed());
            assert_eq!(
                p.pair.b.events.last(),
                Some(&ConnEvent::Disconnected(DisconnectReason::AuthFailed {
                    status
                }))
            );
        }
    }
}

#[test]
fn enforce_domain_without_handler_fails_with_efault() {
    let ck = client_keys();
    let sk = server_keys();
    let mut server = curve_server(SocketType::Router, &sk);
    server.zap_enforce_domain = true;
    server.set_zap_domain(b"global").unwrap();
    let mut p = curve_pair(
        curve_client(SocketType::Dealer, &ck, sk.public),
        server,
        |_| Answer::Unavailable,
    );
    p.drive();
    assert_eq!(
        p.pair.b.events[0],
        ConnEvent::HandshakeFailedNoDetail { errno: 14 }
    );
    // Enforced with no domain: ZAP is not asked at all.
    let mut server = curve_server(SocketType::Router, &sk);
    server.zap_enforce_domain = true;
    assert!(!server.consults_zap());
    let mut p = curve_pair(
        curve_client(SocketType::Dealer, &ck, sk.public),
        server,
        |_| panic!("no ZAP expected"),
    );
    p.handshake();
}

#[test]
fn wrong_server_key_is_cryptographic_at_the_server() {
    let ck = client_keys();
    let sk = server_keys();
    let other = CurveKeypair::generate(&mut TestRng(77));
    let mut p = curve_pair(
        curve_client(SocketType::Dealer, &ck, other.public),
        curve_server(SocketType::Router, &sk),
        |_| Answer::Unavailable,
    );
    p.drive();
    assert_eq!(p.pair.b.events[0], proto(P::ZmtpCryptographic));
    assert!(p.pair.a.c.is_closed() || !p.pair.a.c.is_ready());
}

#[test]
fn commands_and_heartbeats_travel_sealed() {
    let ck = client_keys();
    let sk = server_keys();
    let mut client = curve_client(SocketType::Sub, &ck, sk.public);
    client.heartbeat.interval = zmtp_core::Duration::from_millis(100);
    let mut p = curve_pair(client, curve_server(SocketType::Pub, &sk), |_| {
        Answer::Unavailable
    });
    p.handshake();
    p.pair.a.c.send_subscription(true, b"topic").unwrap();
    p.drive();
    let unit = pop_unit(&mut p.pair.b.c).unwrap();
    assert_eq!(
        unit,
        vec![(zmtp_core::conn::REC_COMMAND, b"\x09SUBSCRIBEtopic".to_vec())]
    );
    let before = p.pair.a.sent.len();
    p.advance_to(T0 + 250);
    // PINGs went out and PONGs came back, all sealed: nobody closed.
    assert!(p.pair.a.sent.len() > before);
    assert!(p.pair.a.c.is_ready() && p.pair.b.c.is_ready());
    assert!(!p.pair.a.sent.windows(4).any(|w| w == b"PING"));
}

/// Drives a CURVE server by hand; returns it after the greeting.
fn server_solo() -> (Connection<'static>, Config) {
    let cfg = curve_server(SocketType::Router, &server_keys());
    let mut c = curve_conn(&cfg, 5);
    let now = Instant::from_millis(T0);
    assert_eq!(c.handle_input(now, &greeting(3, 1, b"CURVE")), 64);
    let _ = transmit(&mut c, now);
    (c, cfg)
}

fn server_event(frames: &[Vec<u8>]) -> Vec<ConnEvent> {
    let (mut c, _) = server_solo();
    let now = Instant::from_millis(T0);
    for f in frames {
        c.handle_input(now, f);
        let _ = transmit(&mut c, now);
    }
    events(&mut c)
}

#[test]
fn malformed_hello_rows() {
    let mut good = vec![0u8; 200];
    good[..6].copy_from_slice(b"\x05HELLO");
    good[6] = 1;
    let mut bad_version = good.clone();
    bad_version[6] = 2;
    for (body, e) in [
        (b"\x05".to_vec(), P::ZmtpMalformedCommandUnspecified),
        (b"\x05HELLO".to_vec(), P::ZmtpMalformedCommandHello),
        (b"\x05HELLX\x01\x00".to_vec(), P::ZmtpUnexpectedCommand),
        (bad_version, P::ZmtpMalformedCommandHello),
        (good[..199].to_vec(), P::ZmtpMalformedCommandHello),
        // A box of zeros does not open: what a wrong server key gives.
        (good, P::ZmtpCryptographic),
    ] {
        let ev = server_event(&[command(&body)]);
        assert_eq!(ev[0], proto(e), "{:?}", &body[..body.len().min(8)]);
        assert!(matches!(
            ev[1],
            ConnEvent::Disconnected(DisconnectReason::Protocol(_))
        ));
    }
}

/// A client and a server driven by hand: every frame the client sends
/// after its greeting passes through `edit_c2s` (index, body) and every
/// server frame through `edit_s2c`; `None` drops the frame.
struct Duel {
    a: Connection<'static>,
    b: Connection<'static>,
    now: Instant,
    a_stream: Vec<u8>,
    b_stream: Vec<u8>,
    a_frames: usize,
    b_frames: usize,
    a_events: Vec<ConnEvent>,
    b_events: Vec<ConnEvent>,
    server_cfg: Config,
}

type Edit<'e> = &'e dyn Fn(usize, Vec<u8>) -> Option<Vec<u8>>;

impl Duel {
    fn new(client_type: SocketType) -> Self {
        let ck = client_keys();
        let sk = server_keys();
        let server_cfg = curve_server(SocketType::Router, &sk);
        Self {
            a: curve_conn(&curve_client(client_type, &ck, sk.public), 1),
            b: curve_conn(&server_cfg, 2),
            server_cfg,
            now: Instant::from_millis(T0),
            a_stream: Vec::new(),
            b_stream: Vec::new(),
            a_frames: 0,
            b_frames: 0,
            a_events: Vec::new(),
            b_events: Vec::new(),
        }
    }

    /// Moves `stream` into `to`: the greeting (64 bytes) as it comes,
    /// then whole frames through `edit`.
    fn forward(
        stream: &mut Vec<u8>,
        count: &mut usize,
        to: &mut Connection<'static>,
        now: Instant,
        edit: Edit<'_>,
    ) {
        let mut fed = 0;
        for _ in 0..1000 {
            let rest = &stream[fed..];
            if rest.is_empty() || to.is_closed() {
                break;
            }
            if *count < 64 {
                let want = (64 - *count).min(rest.len());
                let n = to.handle_input(now, &rest[..want]);
                fed += n;
                *count += n;
                if n == 0 {
                    break;
                }
                continue;
            }
            let Some((flags, body, len)) = parse_partial(rest) else {
                break;
            };
            if let Some(body) = edit(*count - 64, body) {
                let f = frame(flags & 0x04, &body);
                to.handle_input(now, &f);
            }
            *count += 1;
            fed += len;
        }
        stream.drain(..fed);
    }

    fn run(&mut self, c2s: Edit<'_>, s2c: Edit<'_>) {
        for _ in 0..64 {
            let out_a = transmit(&mut self.a, self.now);
            let out_b = transmit(&mut self.b, self.now);
            let idle = out_a.is_empty() && out_b.is_empty();
            self.a_stream.extend(out_a);
            self.b_stream.extend(out_b);
            Self::forward(
                &mut self.a_stream,
                &mut self.a_frames,
                &mut self.b,
                self.now,
                c2s,
            );
            Self::forward(
                &mut self.b_stream,
                &mut self.b_frames,
                &mut self.a,
                self.now,
                s2c,
            );
            // No ZAP handler: Stonehouse.
            let zap = self.b.poll_zap_request(&self.server_cfg).is_some();
            if zap {
                self.b.handle_zap_unavailable(self.now).unwrap();
            }
            self.a_events.extend(events(&mut self.a));
            self.b_events.extend(events(&mut self.b));
            if idle && !zap && self.a_stream.is_empty() && self.b_stream.is_empty() {
                break;
            }
        }
    }
}

/// One whole frame at the start of `s`: flags, body, bytes used.
fn parse_partial(s: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    let flags = *s.first()?;
    let (size, hdr) = if flags & 0x02 != 0 {
        (
            u64::from_be_bytes(s.get(1..9)?.try_into().ok()?) as usize,
            9,
        )
    } else {
        (usize::from(*s.get(1)?), 2)
    };
    Some((flags, s.get(hdr..hdr + size)?.to_vec(), hdr + size))
}

fn pass(_: usize, body: Vec<u8>) -> Option<Vec<u8>> {
    Some(body)
}

/// The client's frames: 0 HELLO, 1 INITIATE, then MESSAGEs.
fn server_events_with(edit: impl Fn(usize, Vec<u8>) -> Option<Vec<u8>>) -> Vec<ConnEvent> {
    let mut d = Duel::new(SocketType::Dealer);
    d.run(&edit, &pass);
    d.b_events
}

/// The server's frames: 0 WELCOME, 1 READY, then MESSAGEs.
fn client_events_with(edit: impl Fn(usize, Vec<u8>) -> Option<Vec<u8>>) -> Vec<ConnEvent> {
    let mut d = Duel::new(SocketType::Dealer);
    d.run(&pass, &edit);
    d.a_events
}

#[test]
fn duel_without_edits_succeeds() {
    let mut d = Duel::new(SocketType::Dealer);
    d.run(&pass, &pass);
    assert_eq!(d.a_events, [ConnEvent::HandshakeSucceeded]);
    assert_eq!(d.b_events, [ConnEvent::HandshakeSucceeded]);
}

#[test]
fn malformed_initiate_rows() {
    let at = |i: usize, f: fn(&mut Vec<u8>)| {
        move |n: usize, mut body: Vec<u8>| {
            if n == i {
                f(&mut body);
            }
            Some(body)
        }
    };
    for (f, e) in [
        (
            (|b: &mut Vec<u8>| b.truncate(256)) as fn(&mut Vec<u8>),
            P::ZmtpMalformedCommandInitiate,
        ),
        (|b: &mut Vec<u8>| b[1] = b'X', P::ZmtpUnexpectedCommand),
        (
            |b: &mut Vec<u8>| b.truncate(8),
            P::ZmtpMalformedCommandUnspecified,
        ),
        // The cookie, the box, the vouch inside the box.
        (|b: &mut Vec<u8>| b[30] ^= 1, P::ZmtpCryptographic),
        (|b: &mut Vec<u8>| b[200] ^= 1, P::ZmtpCryptographic),
        (|b: &mut Vec<u8>| b[110] ^= 1, P::ZmtpCryptographic),
    ] {
        let ev = server_events_with(at(1, f));
        assert_eq!(ev[0], proto(e));
    }
    // A HELLO in place of INITIATE.
    let ev = server_events_with(|n, body| {
        if n == 1 {
            let mut h = vec![0u8; 200];
            h[..6].copy_from_slice(b"\x05HELLO");
            Some(h)
        } else {
            Some(body)
        }
    });
    assert_eq!(ev[0], proto(P::ZmtpUnexpectedCommand));
}

#[test]
fn malformed_welcome_and_ready_rows() {
    // WELCOME: any damage (size, box) is ZMTP_CRYPTOGRAPHIC, as libzmq.
    for f in [
        (|b: &mut Vec<u8>| b.truncate(167)) as fn(&mut Vec<u8>),
        |b: &mut Vec<u8>| b[50] ^= 1,
        |b: &mut Vec<u8>| b.push(0),
    ] {
        let ev = client_events_with(move |n, mut body| {
            if n == 0 {
                f(&mut body);
            }
            Some(body)
        });
        assert_eq!(ev[0], proto(P::ZmtpCryptographic));
    }
    // READY before WELCOME: no key to open it.
    let ev = client_events_with(|n, body| {
        if n == 0 {
            let mut r = b"\x05READY".to_vec();
            r.resize(40, 0);
            Some(r)
        } else {
            Some(body)
        }
    });
    assert_eq!(ev[0], proto(P::ZmtpCryptographic));
    for (f, e) in [
        (
            (|b: &mut Vec<u8>| b.truncate(29)) as fn(&mut Vec<u8>),
            P::ZmtpMalformedCommandReady,
        ),
        (|b: &mut Vec<u8>| b[20] ^= 1, P::ZmtpCryptographic),
        (|b: &mut Vec<u8>| b[1] = b'X', P::ZmtpUnexpectedCommand),
    ] {
        let ev = client_events_with(move |n, mut body| {
            if n == 1 {
                f(&mut body);
            }
            Some(body)
        });
        assert_eq!(ev[0], proto(e));
    }
    // ERROR from the server.
    for (reason, event) in [
        (
            &b"400"[..],
            Some(ConnEvent::HandshakeFailedAuth { status: 400 }),
        ),
        (b"nope", None),
    ] {
        let ev = client_events_with(move |n, body| {
            if n == 0 {
                let mut e = b"\x05ERROR".to_vec();
                e.push(reason.len() as u8);
                e.extend_from_slice(reason);
                Some(e)
            } else {
                Some(body)
            }
        });
        match event {
            Some(e) => assert_eq!(ev[0], e),
            None => assert_eq!(ev[0], ConnEvent::Disconnected(DisconnectReason::PeerError)),
        }
    }
    let ev = client_events_with(|n, body| {
        if n == 0 {
            Some(b"\x05ERROR".to_vec())
        } else {
            Some(body)
        }
    });
    assert_eq!(ev[0], proto(P::ZmtpMalformedCommandError));
}

/// A duel whose client sends `parts` after the handshake; the server's
/// events, with the client's frames after the INITIATE edited.
fn message_events(edit: impl Fn(usize, Vec<u8>) -> Option<Vec<u8>>) -> Vec<ConnEvent> {
    let mut d = Duel::new(SocketType::Dealer);
    d.run(&pass, &pass);
    assert!(d.a.is_ready() && d.b.is_ready());
    // A CURVE connection reads a message only into an empty queue.
    assert!(d.b.pop_metadata());
    d.a.send(&[b"one"]).unwrap();
    d.a.send(&[b"two"]).unwrap();
    d.b_events.clear();
    d.run(&edit, &pass);
    d.b_events
}

#[test]
fn tampered_and_replayed_messages() {
    // Frames 2 and 3 are the two MESSAGEs.
    let ev = message_events(|n, mut b| {
        if n == 2 {
            let last = b.len() - 1;
            b[last] ^= 1;
        }
        Some(b)
    });
    assert_eq!(ev[0], proto(P::ZmtpCryptographic));
    // Nonces count on from the INITIATE's (2): a first MESSAGE with nonce 2
    // is not increasing.
    let ev = message_events(|n, mut b| {
        if n == 2 {
            assert_eq!(b[8..16], 3u64.to_be_bytes());
            b[15] = 2;
        }
        Some(b)
    });
    assert_eq!(ev[0], proto(P::ZmtpInvalidSequence));
    let ev = message_events(|n, b| {
        if n == 2 {
            Some(b[..32].to_vec())
        } else {
            Some(b)
        }
    });
    assert_eq!(ev[0], proto(P::ZmtpMalformedCommandMessage));
    let ev = message_events(|n, b| {
        if n == 2 {
            Some(b"\x04PING\0\0".to_vec())
        } else {
            Some(b)
        }
    });
    assert_eq!(ev[0], proto(P::ZmtpUnexpectedCommand));
    let ev = message_events(|n, b| {
        if n == 2 {
            Some(b"\x07".to_vec())
        } else {
            Some(b)
        }
    });
    assert_eq!(ev[0], proto(P::ZmtpMalformedCommandUnspecified));
    // Untouched: both arrive.
    let mut d = Duel::new(SocketType::Dealer);
    d.run(&pass, &pass);
    assert!(d.b.pop_metadata());
    d.a.send(&[b"one"]).unwrap();
    d.run(&pass, &pass);
    assert_eq!(pop_message(&mut d.b).unwrap(), vec![b"one".to_vec()]);
}

#[test]
fn oversized_message_is_refused_cleanly() {
    let ck = client_keys();
    let sk = server_keys();
    let mut server = curve_server(SocketType::Router, &sk);
    // libzmq applies ZMQ_MAXMSGSIZE to handshake commands too: leave room
    // for the INITIATE.
    server.max_msg_size = Some(400);
    let mut p = curve_pair(
        curve_client(SocketType::Dealer, &ck, sk.public),
        server,
        |_| Answer::Unavailable,
    );
    p.handshake();
    // 400 bytes decrypted are allowed though the MESSAGE is 433.
    p.pair.a.c.send(&[&[7u8; 400]]).unwrap();
    p.drive();
    assert_eq!(pop_message(&mut p.pair.b.c).unwrap(), vec![vec![7u8; 400]]);
    p.pair.a.c.send(&[&[7u8; 401]]).unwrap();
    p.drive();
    assert_eq!(
        p.pair.b.events.last(),
        Some(&ConnEvent::Disconnected(DisconnectReason::MessageTooLarge))
    );
    // Larger than the receive buffer itself (1000 + 33 > 1024 - 5).
    let mut p = curve_pair(
        curve_client(SocketType::Dealer, &ck, sk.public),
        curve_server(SocketType::Router, &sk),
        |_| Answer::Unavailable,
    );
    p.pair.b.c = curve_conn_with(&p.cfg_b, 3, 1024, TX);
    p.handshake();
    p.pair.a.c.send(&[&vec![1u8; 1000]]).unwrap();
    p.drive();
    assert_eq!(
        p.pair.b.events.last(),
        Some(&ConnEvent::Disconnected(DisconnectReason::MessageTooLarge))
    );
}

#[test]
fn null_with_enforced_domain_fails_without_handler() {
    // libzmq null_mechanism.cpp: a ZAP domain, ZMQ_ZAP_ENFORCE_DOMAIN and
    // no handler: HANDSHAKE_FAILED_NO_DETAIL(EFAULT); without enforcement
    // the handshake goes on.
    for (enforce, ok) in [(true, false), (false, true)] {
        let mut server = Config::new(SocketType::Router);
        server.set_zap_domain(b"global").unwrap();
        server.zap_enforce_domain = enforce;
        let mut p = ZapPair::new(Config::new(SocketType::Dealer), server);
        p.zap_b = Box::new(|_| Answer::Unavailable);
        p.drive();
        assert_eq!(p.pair.b.c.is_ready(), ok);
        if !ok {
            assert_eq!(
                p.pair.b.events[0],
                ConnEvent::HandshakeFailedNoDetail { errno: 14 }
            );
        }
    }
}

#[test]
fn state_storage_is_reusable() {
    let sk = server_keys();
    let cfg = curve_client(SocketType::Dealer, &client_keys(), sk.public);
    let state = Box::leak(Box::new(zmtp_core::conn::CurveState::new()));
    let now = Instant::from_millis(T0);
    let mut c = Connection::new_with_rng(now, &cfg, leak(2048), leak(2048), state, &mut TestRng(1))
        .unwrap();
    c.handle_input(now, &greeting(3, 1, b"CURVE"));
    let first = transmit(&mut c, now);
    // Storage and buffers back, reused with another random source: another
    // transient key in the HELLO.
    let (rx, tx, state) = c.into_parts();
    let mut c =
        Connection::new_with_rng(now, &cfg, rx, tx, state.unwrap(), &mut TestRng(2)).unwrap();
    c.handle_input(now, &greeting(3, 1, b"CURVE"));
    let second = transmit(&mut c, now);
    assert_eq!(first.len(), 64 + 202);
    assert_eq!(second.len(), 64 + 202);
    assert_ne!(
        first[64 + 2 + 80..64 + 2 + 112],
        second[64 + 2 + 80..64 + 2 + 112]
    );
    // Closing wipes the secrets.
    c.close();
    let (rx, tx, state) = c.into_parts();
    let state = state.unwrap();
    assert!(format!("{state:?}").contains("role: None"), "{state:?}");
    state.wipe();
    // A NULL connection leaves the storage alone.
    let null = Config::new(SocketType::Dealer);
    let c = Connection::new_with_rng(now, &null, rx, tx, state, &mut TestRng(3)).unwrap();
    assert!(c.into_parts().2.is_none());
}

/// Rewrites the client's INITIATE with a vouch for `vouched` (the client's
/// real transient key or another one), sealing everything again with keys
/// the test knows: the client's transient secret is the first 32 bytes of
/// its random source, and the WELCOME (seen on the way) gives S'.
fn initiate_with_vouch_for(vouched: Option<[u8; 32]>) -> (Vec<ConnEvent>, Vec<ConnEvent>) {
    use core::cell::RefCell;
    use crypto_box::aead::AeadInPlace;
    use crypto_box::aead::generic_array::GenericArray;
    use crypto_box::{PublicKey, SalsaBox, SecretKey};
    use rand_core::RngCore;

    let mut c_prime_secret = [0u8; 32];
    TestRng(1).fill_bytes(&mut c_prime_secret);
    let c_prime = curve_public_key(&c_prime_secret);
    let ck = client_keys();
    let sk = server_keys();
    let welcome: RefCell<Option<Vec<u8>>> = RefCell::new(None);
    let nonce = |prefix: &[u8], rest: &[u8]| {
        let mut n = [0u8; 24];
        n[..prefix.len()].copy_from_slice(prefix);
        n[prefix.len()..].copy_from_slice(rest);
        GenericArray::from(n)
    };
    let s2c = |n: usize, body: Vec<u8>| {
        if n == 0 {
            *welcome.borrow_mut() = Some(body.clone());
        }
        Some(body)
    };
    let c2s = |n: usize, mut body: Vec<u8>| {
        if n != 1 {
            return Some(body);
        }
        let w = welcome.borrow().clone().expect("WELCOME first");
        let b = SalsaBox::new(
            &PublicKey::from(sk.public),
            &SecretKey::from(c_prime_secret),
        );
        let mut plain = w[40..].to_vec();
        let mac = GenericArray::clone_from_slice(&w[24..40]);
        b.decrypt_in_place_detached(&nonce(b"WELCOME-", &w[8..24]), b"", &mut plain, &mac)
            .unwrap();
        let s_prime: [u8; 32] = plain[..32].try_into().unwrap();
        let precom = SalsaBox::new(&PublicKey::from(s_prime), &SecretKey::from(c_prime_secret));
        let n_init = nonce(b"CurveZMQINITIATE", &body[105..113]);
        let mut inner = body[129..].to_vec();
        let mac = GenericArray::clone_from_slice(&body[113..129]);
        precom
            .decrypt_in_place_detached(&n_init, b"", &mut inner, &mac)
            .unwrap();
        // C (32), vouch nonce (16), vouch MAC (16), vouch (64), metadata.
        let mut vouch = [0u8; 64];
        vouch[..32].copy_from_slice(&vouched.unwrap_or(c_prime));
        vouch[32..].copy_from_slice(&sk.public);
        let vb = SalsaBox::new(&PublicKey::from(s_prime), &SecretKey::from(ck.secret));
        let vmac = vb
            .encrypt_in_place_detached(&nonce(b"VOUCH---", &inner[32..48]), b"", &mut vouch)
            .unwrap();
        inner[48..64].copy_from_slice(&vmac);
        inner[64..128].copy_from_slice(&vouch);
        let mac = precom
            .encrypt_in_place_detached(&n_init, b"", &mut inner)
            .unwrap();
        body[113..129].copy_from_slice(&mac);
        body[129..].copy_from_slice(&inner);
        Some(body)
    };
    let mut d = Duel::new(SocketType::Dealer);
    d.run(&c2s, &s2c);
    (d.a_events, d.b_events)
}

#[test]
fn vouch_for_another_transient_key_is_key_exchange() {
    // Resealed with the right C': the rewriting itself is sound.
    let (a, b) = initiate_with_vouch_for(None);
    assert_eq!(a, [ConnEvent::HandshakeSucceeded]);
    assert_eq!(b, [ConnEvent::HandshakeSucceeded]);
    // A vouch that opens but names another C'.
    let (_, b) = initiate_with_vouch_for(Some([9; 32]));
    assert_eq!(b[0], proto(P::ZmtpKeyExchange));
}
