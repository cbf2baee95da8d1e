//! The CURVE command parsers (`wire::curve`) and the Z85 codec on
//! arbitrary bytes.
//!
//! Input: the bytes of a command body, tried as they are and behind each
//! CURVE command name; the same bytes are also decoded as Z85 text.
//!
//! Invariants:
//! - nothing panics;
//! - a HELLO parses only at exactly 200 bytes, a WELCOME at exactly 168,
//!   an INITIATE from 257, a READY from 30 and a MESSAGE from 33, and the
//!   parsed fields lie where the layout says;
//! - Z85 text that decodes encodes back to the same text, and bytes whose
//!   length is a multiple of 4 encode to text that decodes back to them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmtp_core::wire::curve::{
    HELLO_LEN, HELLO_PREFIX, HelloRepr, INITIATE_MIN_LEN, INITIATE_PREFIX, InitiateRepr,
    MESSAGE_MIN_LEN, MESSAGE_PREFIX, READY_MIN_LEN, READY_PREFIX, SealedRepr, WELCOME_LEN,
    WELCOME_PREFIX, WelcomeRepr,
};
use zmtp_core::z85;

fuzz_target!(|data: &[u8]| {
    parsers(data);
    for prefix in [
        HELLO_PREFIX,
        WELCOME_PREFIX,
        INITIATE_PREFIX,
        READY_PREFIX,
        MESSAGE_PREFIX,
    ] {
        let mut body = prefix.to_vec();
        body.extend_from_slice(data);
        parsers(&body);
    }
    z85_round_trip(data);
});

fn parsers(body: &[u8]) {
    if let Ok(h) = HelloRepr::parse(body) {
        assert_eq!(body.len(), HELLO_LEN);
        assert_eq!((h.major, h.minor), (body[6], body[7]));
        assert_eq!(h.padding, &body[8..80]);
        assert_eq!(&h.client_transient[..], &body[80..112]);
        assert_eq!(h.nonce.to_be_bytes(), body[112..120]);
        assert_eq!(h.signature, &body[120..]);
    }
    if let Ok(w) = WelcomeRepr::parse(body) {
        assert_eq!(body.len(), WELCOME_LEN);
        assert_eq!(&w.nonce[..], &body[8..24]);
        assert_eq!(w.sealed, &body[24..]);
    }
    if let Ok(i) = InitiateRepr::parse(body) {
        assert!(body.len() >= INITIATE_MIN_LEN);
        assert_eq!(i.cookie, &body[9..105]);
        assert_eq!(i.nonce.to_be_bytes(), body[105..113]);
        assert_eq!(i.sealed, &body[113..]);
    }
    if let Ok(r) = SealedRepr::parse_ready(body) {
        assert!(body.len() >= READY_MIN_LEN);
        assert_eq!(r.nonce.to_be_bytes(), body[6..14]);
        assert_eq!(r.sealed, &body[14..]);
    }
    if let Ok(m) = SealedRepr::parse_message(body) {
        assert!(body.len() >= MESSAGE_MIN_LEN);
        assert_eq!(m.nonce.to_be_bytes(), body[8..16]);
        assert_eq!(m.sealed, &body[16..]);
    }
}

fn z85_round_trip(data: &[u8]) {
    let mut bytes = vec![0u8; data.len()];
    if let Ok(n) = z85::decode(data, &mut bytes) {
        assert_eq!(n * 5, data.len() * 4);
        let mut text = vec![0u8; data.len()];
        assert_eq!(z85::encode(&bytes[..n], &mut text), Ok(data.len()));
        assert_eq!(text, data);
    }
    let whole = &data[..data.len() - data.len() % 4];
    let mut text = vec![0u8; whole.len() / 4 * 5];
    assert_eq!(z85::encode(whole, &mut text), Ok(text.len()));
    if !whole.is_empty() {
        let mut back = vec![0u8; whole.len()];
        assert_eq!(z85::decode(&text, &mut back), Ok(whole.len()));
        assert_eq!(back, whole);
    }
}
