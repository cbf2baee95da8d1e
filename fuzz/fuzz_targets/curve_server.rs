//! A CURVE server `conn::Connection` fed arbitrary bytes after a valid
//! CURVE greeting, with a ZAP answer chosen by the input.
//!
//! The server's key pair and its random source are fixed, so a seed can
//! hold a whole valid client transcript (HELLO, INITIATE, MESSAGEs): the
//! fuzzer then mutates past the handshake too. `fuzz/seeds/curve_server`
//! has such transcripts, made with the client key pair below.
//!
//! Input: `data[0]`: bits 0-2 the ZAP answer (200, 300, 400, 500, an
//! invalid status, no handler, a short raw reply, 200 again), bits 3-7 the
//! input chunk size; the rest follows the greeting.
//!
//! Invariants:
//! - nothing panics;
//! - the connection consumes at most what it is offered, nothing once
//!   closed, and nothing while a ZAP request waits for its answer;
//! - a ZAP request names CURVE and carries one 32-byte credential;
//! - at most one `Disconnected` event, and nothing after it;
//! - after the handshake every transmitted frame is a MESSAGE.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmtp_core::SocketType;
use zmtp_core::conn::{Config, ConnEvent, Connection, CurveState, MechanismConfig, ZapReply};
use zmtp_core::time::Instant;

#[path = "../../core/tests/rng_util/mod.rs"]
mod rng_util;

use rng_util::TestRng;

/// The server's secret key (any fixed value works).
pub const SERVER_SECRET: [u8; 32] = [0x42; 32];
/// The seed of the server's random source.
pub const SERVER_SEED: u64 = 0x5EED;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let mut cfg = Config::new(SocketType::Router);
    cfg.mechanism = MechanismConfig::curve_server(SERVER_SECRET);
    let mut rx = vec![0u8; 2048];
    let mut tx = vec![0u8; 2048];
    let now = Instant::from_millis(0);
    let mut state = CurveState::new();
    let mut c = Connection::new_with_rng(
        now,
        &cfg,
        &mut rx,
        &mut tx,
        &mut state,
        &mut TestRng(SERVER_SEED),
    )
    .unwrap();
    let mut stream = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1];
    stream.extend_from_slice(b"CURVE");
    stream.resize(64, 0);
    stream.extend_from_slice(input);
    let chunk = usize::from(mode >> 3) * 13 + 1;
    let mut pos = 0;
    let mut out = vec![0u8; 4096];
    let mut sent = Vec::new();
    let mut ready_at = None;
    let mut disconnected = false;
    let mut stalls = 0;
    while pos < stream.len() && stalls < 3 {
        let end = (pos + chunk).min(stream.len());
        let offered = &stream[pos..end];
        let closed = c.is_closed();
        let waiting = c.is_zap_pending();
        let n = c.handle_input(now, offered);
        assert!(n <= offered.len());
        if closed || waiting {
            assert_eq!(n, 0);
        }
        pos += n;
        loop {
            let k = c.poll_transmit(now, &mut out);
            if k == 0 {
                break;
            }
            sent.extend_from_slice(&out[..k]);
        }
        let mut answered = false;
        if let Some(req) = c.poll_zap_request(&cfg) {
            assert_eq!(req.mechanism(), b"CURVE");
            assert_eq!(req.credentials().len(), 1);
            assert_eq!(req.credentials()[0].len(), 32);
            answered = true;
            let _ = match mode & 7 {
                0 | 7 => c.handle_zap_reply(now, &ZapReply::ok(b"user")),
                1 => c.handle_zap_reply(now, &ZapReply::new(b"300")),
                2 => c.handle_zap_reply(now, &ZapReply::new(b"400")),
                3 => c.handle_zap_reply(now, &ZapReply::new(b"500")),
                4 => c.handle_zap_reply(now, &ZapReply::new(b"999")),
                5 => c.handle_zap_unavailable(now),
                _ => c.handle_zap_reply_frames(now, &[b"", b"1.0"]),
            };
        }
        while let Some(e) = c.poll_event() {
            assert!(!disconnected, "event after Disconnected: {e:?}");
            match e {
                ConnEvent::Disconnected(_) => disconnected = true,
                ConnEvent::HandshakeSucceeded => ready_at = Some(sent.len()),
                _ => {}
            }
        }
        if c.is_ready() {
            let _ = c.peer_metadata();
            c.pop_metadata();
            while c.pop_frame() {}
            // Echo something so that sealing runs too.
            let _ = c.send(&[&input[..input.len().min(40)]]);
        }
        stalls = if n == 0 && !answered { stalls + 1 } else { 0 };
    }
    if let Some(start) = ready_at {
        // Past the handshake, frames are MESSAGEs without flags.
        let mut s = &sent[start..];
        while s.len() >= 2 {
            let flags = s[0];
            assert_eq!(flags & 0x05, 0, "a MESSAGE frame has no MORE or COMMAND");
            let (size, hdr) = if flags & 0x02 != 0 {
                if s.len() < 9 {
                    break;
                }
                (u64::from_be_bytes(s[1..9].try_into().unwrap()) as usize, 9)
            } else {
                (usize::from(s[1]), 2)
            };
            if s.len() < hdr + size {
                break;
            }
            assert!(s[hdr..hdr + size].starts_with(b"\x07MESSAGE"));
            s = &s[hdr + size..];
        }
    }
});
