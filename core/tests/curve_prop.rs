//! Property tests for CURVE: a handshake and an exchange of messages give
//! the same bytes on the wire, the same events and the same messages
//! however the link splits the bytes (delivery chunk sizes), and random
//! bytes after a valid greeting never make a CURVE server panic or consume
//! more than offered.
#![cfg(feature = "curve")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod curve_util;
use curve_util::*;

use proptest::prelude::*;
use zmtp_core::conn::ConnEvent;
use zmtp_core::{Instant, SocketType};

/// What one run produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    a_sent: Vec<u8>,
    b_sent: Vec<u8>,
    a_events: Vec<ConnEvent>,
    b_events: Vec<ConnEvent>,
    received: Vec<Vec<Vec<u8>>>,
}

fn exchange(chunk: usize, messages: &[Vec<Vec<u8>>]) -> Outcome {
    let mut p = default_pair(|_| Answer::ok(b"user"));
    p.pair.chunk = chunk;
    p.handshake();
    let mut received = Vec::new();
    for m in messages {
        let parts: Vec<&[u8]> = m.iter().map(Vec::as_slice).collect();
        p.pair.a.c.send(&parts).unwrap();
        p.drive();
        received.push(pop_message(&mut p.pair.b.c).expect("delivered"));
    }
    Outcome {
        a_sent: p.pair.a.sent,
        b_sent: p.pair.b.sent,
        a_events: p.pair.a.events,
        b_events: p.pair.b.events,
        received,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn chunking_does_not_matter(
        chunk in 1usize..300,
        messages in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..4),
            1..4,
        ),
    ) {
        let whole = exchange(65_536, &messages);
        prop_assert_eq!(&whole.received, &messages);
        prop_assert_eq!(&whole.a_events, &[ConnEvent::HandshakeSucceeded]);
        let split = exchange(chunk, &messages);
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn server_survives_garbage(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        cut in 1usize..64,
    ) {
        let cfg = curve_server(SocketType::Router, &server_keys());
        let mut c = curve_conn(&cfg, 3);
        let now = Instant::from_millis(T0);
        let mut input = greeting(3, 1, b"CURVE");
        input.extend_from_slice(&bytes);
        let mut pos = 0;
        for _ in 0..10_000 {
            if pos >= input.len() || c.is_closed() {
                break;
            }
            let end = (pos + cut).min(input.len());
            let n = c.handle_input(now, &input[pos..end]);
            prop_assert!(n <= end - pos);
            let _ = transmit(&mut c, now);
            if c.poll_zap_request(&cfg).is_some() {
                c.handle_zap_unavailable(now).unwrap();
            }
            if n == 0 && !c.is_zap_pending() {
                break;
            }
            pos += n;
        }
        while c.poll_event().is_some() {}
    }
}
