//! Property tests for PLAIN and ZAP: any split of a handshake transcript
//! into input chunks gives the same output bytes, events and metadata, with
//! the ZAP reply given whenever the connection asks; no input panics, and a
//! connection never consumes more than offered.
#![cfg(feature = "plain")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod plain_util;
use plain_util::*;

use proptest::prelude::*;
use zmtp_core::SocketType;
use zmtp_core::conn::{Config, ConnEvent};

/// What a run produced: output bytes, events, the metadata unit.
#[derive(Debug)]
struct Run {
    closed: bool,
    sent: Vec<u8>,
    events: Vec<ConnEvent>,
    metadata: Option<Vec<(u8, Vec<u8>)>>,
    zap_requests: Vec<Vec<Vec<u8>>>,
}

/// Feeds `input` in pieces of the given sizes (cycled), answering each ZAP
/// request with `answer` as soon as it is raised; offers unconsumed bytes
/// again, as a driver does.
fn run(cfg: &Config, input: &[u8], chunks: &[usize], answer: &Answer) -> Run {
    let mut s = Solo::new(cfg);
    let mut seen = Vec::new();
    let mut handler: Handler = {
        let answer = answer.clone();
        Box::new(move |_| answer.clone())
    };
    let mut pos = 0;
    let mut i = 0;
    let mut idle = 0;
    while pos < input.len() && !s.c.is_closed() && idle < 3 {
        let len = chunks[i % chunks.len()].max(1);
        i += 1;
        let end = (pos + len).min(input.len());
        let n = s.feed(&input[pos..end]);
        assert!(n <= end - pos);
        pos += n;
        let served = serve_zap(&mut s.c, cfg, s.now, &mut handler, &mut seen);
        s.pump();
        idle = if n == 0 && !served { idle + 1 } else { 0 };
    }
    serve_zap(&mut s.c, cfg, s.now, &mut handler, &mut seen);
    s.pump();
    let metadata = if s.c.peer_metadata().is_some() {
        pop_unit(&mut s.c)
    } else {
        None
    };
    Run {
        closed: s.c.is_closed(),
        sent: s.sent,
        events: s.events,
        metadata,
        zap_requests: seen.into_iter().map(|r| r.frames).collect(),
    }
}

/// Same events, metadata and ZAP requests; the same output, except that a
/// connection closed by its input stops sending at the close, so how much
/// went out before depends on when the driver polled.
fn same(a: &Run, b: &Run) -> Result<(), TestCaseError> {
    prop_assert_eq!(&a.events, &b.events);
    prop_assert_eq!(&a.metadata, &b.metadata);
    prop_assert_eq!(&a.zap_requests, &b.zap_requests);
    prop_assert_eq!(a.closed, b.closed);
    if a.closed {
        let n = a.sent.len().min(b.sent.len());
        prop_assert_eq!(&a.sent[..n], &b.sent[..n]);
    } else {
        prop_assert_eq!(&a.sent, &b.sent);
    }
    Ok(())
}

fn server_input(tail: &[u8]) -> Vec<u8> {
    let mut v = plain_greeting();
    v.extend_from_slice(&hello(USER, PASS));
    v.extend_from_slice(tail);
    v
}

/// Server scenarios: transcript tail after the HELLO, and the ZAP answer.
fn server_case(k: usize) -> (Vec<u8>, Answer) {
    let init = initiate(&[("Socket-Type", b"DEALER"), ("Identity", b"")]);
    match k % 6 {
        0 => (init, Answer::ok(b"admin")),
        1 => (init, Answer::status("400")),
        2 => (init, Answer::status("300")),
        3 => (command(b"\x05HELLO\x00\x00"), Answer::ok(b"admin")),
        4 => (command(b"\x08INITIATE\x01"), Answer::ok(b"x")),
        _ => (init, Answer::status("007")),
    }
}

fn client_input(k: usize) -> Vec<u8> {
    let mut v = plain_greeting();
    match k % 4 {
        0 => {
            v.extend_from_slice(&welcome());
            v.extend_from_slice(&ready_for(SocketType::Router));
        }
        1 => v.extend_from_slice(&error_cmd(b"400")),
        2 => {
            v.extend_from_slice(&welcome());
            v.extend_from_slice(&ready_for(SocketType::Pub));
        }
        _ => {
            v.extend_from_slice(&command(b"\x07WELCOME!"));
        }
    }
    // Messages after the handshake, when it succeeds.
    v.extend_from_slice(&message(&[b"a", b"bc"]));
    v
}

proptest! {
    #[test]
    fn server_chunking_invariance(
        k in 0usize..6,
        chunks in proptest::collection::vec(1usize..40, 1..8),
    ) {
        let cfg = plain_server(SocketType::Router);
        let (tail, answer) = server_case(k);
        let input = server_input(&tail);
        let whole = run(&cfg, &input, &[input.len()], &answer);
        let split = run(&cfg, &input, &chunks, &answer);
        same(&whole, &split)?;
        prop_assert_eq!(whole.zap_requests.len(), 1);
    }

    #[test]
    fn client_chunking_invariance(
        k in 0usize..4,
        chunks in proptest::collection::vec(1usize..40, 1..8),
    ) {
        let cfg = plain_client(SocketType::Dealer, USER, PASS);
        let input = client_input(k);
        let whole = run(&cfg, &input, &[input.len()], &Answer::Later);
        let split = run(&cfg, &input, &chunks, &Answer::Later);
        same(&whole, &split)?;
    }

    #[test]
    fn null_zap_chunking_invariance(
        ok in any::<bool>(),
        chunks in proptest::collection::vec(1usize..40, 1..8),
    ) {
        let mut cfg = Config::new(SocketType::Router);
        cfg.set_zap_domain(b"global").unwrap();
        let mut input = null_greeting();
        input.extend_from_slice(&ready_for(SocketType::Dealer));
        input.extend_from_slice(&message(&[b"m"]));
        let answer = if ok { Answer::ok(b"u") } else { Answer::status("500") };
        let whole = run(&cfg, &input, &[input.len()], &answer);
        let split = run(&cfg, &input, &chunks, &answer);
        same(&whole, &split)?;
    }

    #[test]
    fn arbitrary_bytes_after_a_plain_greeting(
        server in any::<bool>(),
        tail in proptest::collection::vec(any::<u8>(), 0..200),
        chunks in proptest::collection::vec(1usize..40, 1..8),
        answer in 0usize..4,
    ) {
        let cfg = if server {
            plain_server(SocketType::Router)
        } else {
            plain_client(SocketType::Dealer, USER, PASS)
        };
        let answer = match answer {
            0 => Answer::ok(b"u"),
            1 => Answer::status("300"),
            2 => Answer::status("400"),
            _ => Answer::Unavailable,
        };
        let mut input = plain_greeting();
        input.extend_from_slice(&tail);
        let r = run(&cfg, &input, &chunks, &answer);
        // At most one handshake outcome and one disconnect.
        let outcomes = r
            .events
            .iter()
            .filter(|e| !matches!(e, ConnEvent::Disconnected(_)))
            .count();
        prop_assert!(outcomes <= 2, "{:?}", r.events);
        prop_assert!(
            r.events.iter().filter(|e| matches!(e, ConnEvent::Disconnected(_))).count() <= 1
        );
    }
}
