//! CURVE through the socket layer: lent state per slot, attach with a
//! random source, the state back on detach and reused by the next peer.
#![cfg(feature = "curve")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod curve_util;

use curve_util::*;
use zmtp_core::conn::{CurveState, ZapReply};
use zmtp_core::monitor::{EndpointPair, Event, EventMask, EventVersion};
use zmtp_core::socket::{AttachError, PeerBuffers, PeerHandle, Socket};
use zmtp_core::{Instant, SocketType};

type S = Socket<'static, 2, 16, 64>;

fn bufs() -> PeerBuffers<'static> {
    PeerBuffers {
        rx: leak(4096),
        tx: leak(4096),
        subs: &mut [],
    }
}

fn states(n: usize) -> &'static mut [CurveState] {
    Box::leak(
        (0..n)
            .map(|_| CurveState::new())
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

fn socket(config: zmtp_core::conn::Config) -> S {
    let mut s = S::new(config, &mut []);
    s.monitor_mut()
        .start("inproc://m", EventMask::ALL, EventVersion::V2)
        .unwrap();
    s
}

/// Moves bytes both ways until nothing moves; answers the server's ZAP
/// requests with `status`.
fn run(a: &mut S, pa: PeerHandle, b: &mut S, pb: PeerHandle, status: &[u8]) {
    let now = Instant::from_millis(1);
    let mut buf = [0u8; 4096];
    for _ in 0..100 {
        let mut moved = false;
        let n = a.poll_transmit(now, pa, &mut buf);
        if n > 0 {
            assert_eq!(b.handle_input(now, pb, &buf[..n]), n);
            moved = true;
        }
        let n = b.poll_transmit(now, pb, &mut buf);
        if n > 0 {
            assert_eq!(a.handle_input(now, pa, &buf[..n]), n);
            moved = true;
        }
        while let Some((p, _)) = b.poll_zap_request() {
            b.handle_zap_reply(now, p, &ZapReply::new(status)).unwrap();
            moved = true;
        }
        if !moved {
            return;
        }
    }
    panic!("the connections never went quiet");
}

fn names(s: &mut S) -> Vec<&'static str> {
    core::iter::from_fn(|| s.monitor_mut().pop())
        .map(|e| e.event.name())
        .collect()
}

#[test]
fn curve_sockets_exchange_messages_and_reuse_their_state() {
    let server_keys = server_keys();
    let mut server = socket(curve_server(SocketType::Dealer, &server_keys));
    let mut client = socket(curve_client(
        SocketType::Dealer,
        &client_keys(),
        server_keys.public,
    ));
    // Without lent state a CURVE socket cannot attach.
    assert_eq!(
        server.attach_with_rng(
            Instant::ZERO,
            bufs(),
            &mut TestRng(1),
            5,
            EndpointPair::none()
        ),
        Err(AttachError::NeedsCurveState)
    );
    assert_eq!(
        client.attach(Instant::ZERO, bufs(), 5, EndpointPair::none()),
        Err(AttachError::NeedsCurveState)
    );
    server.lend_curve_states(states(2));
    client.lend_curve_states(states(2));

    for round in 0..3u64 {
        let ps = server
            .attach_with_rng(
                Instant::ZERO,
                bufs(),
                &mut TestRng(10 + round),
                5,
                EndpointPair::none(),
            )
            .unwrap();
        let pc = client
            .attach_with_rng(
                Instant::ZERO,
                bufs(),
                &mut TestRng(20 + round),
                6,
                EndpointPair::none(),
            )
            .unwrap();
        run(&mut client, pc, &mut server, ps, b"200");
        assert_eq!(names(&mut server), ["HANDSHAKE_SUCCEEDED"]);
        assert_eq!(names(&mut client), ["HANDSHAKE_SUCCEEDED"]);

        client.send(&[b"hello", b"curve"]).unwrap();
        run(&mut client, pc, &mut server, ps, b"200");
        let mut frame = [0u8; 64];
        let info = server.recv(&mut frame).unwrap();
        assert_eq!(&frame[..info.len], b"hello");
        assert!(info.more);
        let info = server.recv(&mut frame).unwrap();
        assert_eq!(&frame[..info.len], b"curve");

        // Detaching gives each slot its state back for the next round.
        assert!(server.detach(ps).is_some());
        assert!(client.detach(pc).is_some());
        names(&mut server);
        names(&mut client);
    }
}

#[test]
fn a_null_socket_attaches_with_rng_without_state() {
    let mut a = socket(zmtp_core::conn::Config::new(SocketType::Dealer));
    let mut b = socket(zmtp_core::conn::Config::new(SocketType::Dealer));
    let pa = a
        .attach_with_rng(
            Instant::ZERO,
            bufs(),
            &mut TestRng(1),
            5,
            EndpointPair::none(),
        )
        .unwrap();
    let pb = b
        .attach_with_rng(
            Instant::ZERO,
            bufs(),
            &mut TestRng(2),
            6,
            EndpointPair::none(),
        )
        .unwrap();
    run(&mut a, pa, &mut b, pb, b"200");
    assert_eq!(names(&mut a), ["HANDSHAKE_SUCCEEDED"]);
}

#[test]
fn zap_refusal_through_the_socket() {
    let server_keys = server_keys();
    let mut server = socket(curve_server(SocketType::Dealer, &server_keys));
    server.config_mut().set_zap_domain(b"test").unwrap();
    let mut client = socket(curve_client(
        SocketType::Dealer,
        &client_keys(),
        server_keys.public,
    ));
    server.lend_curve_states(states(1));
    client.lend_curve_states(states(1));
    let ps = server
        .attach_with_rng(
            Instant::ZERO,
            bufs(),
            &mut TestRng(3),
            5,
            EndpointPair::none(),
        )
        .unwrap();
    let pc = client
        .attach_with_rng(
            Instant::ZERO,
            bufs(),
            &mut TestRng(4),
            6,
            EndpointPair::none(),
        )
        .unwrap();
    run(&mut client, pc, &mut server, ps, b"400");
    let s: Vec<Event> = core::iter::from_fn(|| server.monitor_mut().pop())
        .map(|e| e.event)
        .collect();
    assert_eq!(s[0], Event::HandshakeFailedAuth { status: 400 });
    let c: Vec<Event> = core::iter::from_fn(|| client.monitor_mut().pop())
        .map(|e| e.event)
        .collect();
    assert_eq!(c[0], Event::HandshakeFailedAuth { status: 400 });
}

#[test]
fn states_lent_per_connection_are_reclaimed() {
    let server_keys = server_keys();
    let mut server = socket(curve_server(SocketType::Dealer, &server_keys));
    let mut client = socket(curve_client(
        SocketType::Dealer,
        &client_keys(),
        server_keys.public,
    ));
    client.lend_curve_states(states(2));
    let pool = states(3);
    let (first, rest) = pool.split_first_mut().unwrap();
    let (second, rest) = rest.split_first_mut().unwrap();
    // The next slot takes one state; a second one is not needed.
    assert!(server.lend_curve_state(first).is_none());
    assert!(server.lend_curve_state(second).is_some());
    let ps = server
        .attach_with_rng(
            Instant::ZERO,
            bufs(),
            &mut TestRng(30),
            5,
            EndpointPair::none(),
        )
        .unwrap();
    let pc = client
        .attach_with_rng(
            Instant::ZERO,
            bufs(),
            &mut TestRng(31),
            6,
            EndpointPair::none(),
        )
        .unwrap();
    run(&mut client, pc, &mut server, ps, b"200");
    assert_eq!(names(&mut server), ["HANDSHAKE_SUCCEEDED"]);
    // The connection holds its state: nothing to reclaim; the next slot
    // takes another one.
    assert_eq!(server.reclaim_curve_states().count(), 0);
    assert!(server.lend_curve_state(&mut rest[0]).is_none());
    // Detached, both come back.
    assert!(server.detach(ps).is_some());
    assert_eq!(server.reclaim_curve_states().count(), 2);
    assert_eq!(server.reclaim_curve_states().count(), 0);
}
