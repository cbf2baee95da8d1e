//! The PLAIN mechanism: its command parsers on arbitrary bytes, and a PLAIN
//! client or server connection fed arbitrary bytes after a valid PLAIN
//! greeting, with a ZAP handler answering as the input says.
//!
//! Input: `data[0]` picks the run. Bit 0 clear: parsers only, on
//! `data[1..]` as it is and behind each PLAIN command prefix. Bit 0 set: a
//! connection (bit 1: server, else client; bits 2-4: the ZAP answer) fed
//! `data[1..]` behind a PLAIN greeting, in chunks whose sizes come from
//! `data[0] >> 5`.
//!
//! Invariants:
//! - nothing panics;
//! - a HELLO / WELCOME / INITIATE that parses emits back to the same bytes
//!   and refuses a buffer one byte short;
//! - the connection consumes at most what it is offered, nothing once
//!   closed, and nothing while a ZAP request waits for its answer;
//! - at most one `Disconnected` event, and nothing after it; a ZAP request
//!   is only raised by a server, once, and carries the HELLO's credentials.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmtp_core::SocketType;
use zmtp_core::conn::{Config, ConnEvent, Connection, MechanismConfig, ZapReply};
use zmtp_core::time::Instant;
use zmtp_core::wire::Error;
use zmtp_core::wire::plain::{
    HELLO_PREFIX, HelloRepr, INITIATE_PREFIX, InitiateRepr, WELCOME_BODY, WelcomeRepr,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        parsers(rest);
        for prefix in [HELLO_PREFIX, WELCOME_BODY, INITIATE_PREFIX] {
            let mut body = prefix.to_vec();
            body.extend_from_slice(rest);
            parsers(&body);
        }
    } else {
        connection(mode, rest);
    }
});

fn parsers(body: &[u8]) {
    if let Ok(h) = HelloRepr::parse(body) {
        assert!(body.starts_with(HELLO_PREFIX));
        round_trip(body, h.buffer_len(), |out| h.emit(out));
    }
    if let Ok(w) = WelcomeRepr::parse(body) {
        assert_eq!(body, WELCOME_BODY);
        round_trip(body, w.buffer_len(), |out| w.emit(out));
    }
    match InitiateRepr::parse(body) {
        Ok(i) => round_trip(body, i.buffer_len(), |out| i.emit(out)),
        Err(e) => assert!(matches!(
            e,
            Error::BadCommandName
                | Error::Truncated
                | Error::BadPropertyName
                | Error::BadPropertyValue
        )),
    }
}

fn round_trip(body: &[u8], len: usize, emit: impl Fn(&mut [u8]) -> Result<usize, Error>) {
    assert_eq!(len, body.len());
    let mut out = vec![0u8; len];
    assert_eq!(emit(&mut out), Ok(len));
    assert_eq!(out, body);
    if let Some(short) = len.checked_sub(1) {
        assert_eq!(emit(&mut vec![0u8; short]), Err(Error::BufferTooSmall));
    }
}

fn connection(mode: u8, input: &[u8]) {
    let server = mode & 2 != 0;
    let mut cfg = Config::new(if server {
        SocketType::Router
    } else {
        SocketType::Dealer
    });
    cfg.mechanism = if server {
        MechanismConfig::PlainServer
    } else {
        MechanismConfig::plain_client(b"admin", b"secret").unwrap()
    };
    let mut rx = vec![0u8; 1024];
    let mut tx = vec![0u8; 1024];
    let now = Instant::from_millis(0);
    let mut c = Connection::new(now, &cfg, &mut rx, &mut tx).unwrap();
    let mut stream = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1];
    stream.extend_from_slice(b"PLAIN");
    stream.resize(64, 0);
    stream.extend_from_slice(input);
    let chunk = usize::from(mode >> 5) * 7 + 1;
    let mut pos = 0;
    let mut out = [0u8; 97];
    let mut disconnected = false;
    let mut requests = 0;
    let mut stalls = 0;
    while pos < stream.len() && stalls < 3 {
        let end = (pos + chunk).min(stream.len());
        let offered = &stream[pos..end];
        let closed = c.is_closed();
        let waiting = c.is_zap_pending();
        let n = c.handle_input(now, offered);
        assert!(n <= offered.len());
        if closed {
            assert_eq!(n, 0);
        }
        if waiting {
            assert_eq!(n, 0, "no frame is read while ZAP is pending");
        }
        pos += n;
        while c.poll_transmit(now, &mut out) > 0 {}
        let mut answered = false;
        if let Some(req) = c.poll_zap_request(&cfg) {
            assert!(server);
            requests += 1;
            assert_eq!(req.mechanism(), b"PLAIN");
            let creds = req.plain_credentials().expect("PLAIN credentials");
            assert!(creds.0.len() <= 255 && creds.1.len() <= 255);
            answered = true;
            let _ = match (mode >> 2) & 7 {
                0 | 1 => c.handle_zap_reply(now, &ZapReply::ok(b"user")),
                2 => c.handle_zap_reply(now, &ZapReply::new(b"300")),
                3 => c.handle_zap_reply(now, &ZapReply::new(b"400")),
                4 => c.handle_zap_reply(now, &ZapReply::new(b"999")),
                5 => c.handle_zap_unavailable(now),
                6 => c.handle_zap_reply_frames(now, &[b"", b"1.0"]),
                _ => c.handle_zap_reply_frames(
                    now,
                    &[
                        b"",
                        b"1.0",
                        b"1",
                        b"200",
                        b"",
                        b"u",
                        b"\x01X\x00\x00\x00\x01y",
                    ],
                ),
            };
        }
        while let Some(e) = c.poll_event() {
            assert!(!disconnected, "event after Disconnected: {e:?}");
            if matches!(e, ConnEvent::Disconnected(_)) {
                disconnected = true;
            }
        }
        if c.is_ready() {
            let _ = c.peer_metadata();
            c.pop_metadata();
            while c.pop_frame() {}
        }
        stalls = if n == 0 && !answered { stalls + 1 } else { 0 };
    }
    assert!(requests <= 1);
}
