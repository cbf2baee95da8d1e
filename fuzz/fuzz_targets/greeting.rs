//! Greeting parsing and the zero-copy greeting view on arbitrary bytes.
//!
//! Invariants:
//! - nothing panics, whatever the length of the input;
//! - `check_signature` and `GreetingRepr::parse` agree (a greeting that
//!   parses has a good signature; a bad signature fails the parse the same
//!   way);
//! - the view getters read exactly the documented offsets;
//! - a greeting that parses emits a greeting that parses to the same repr,
//!   with libzmq's signature and filler, and emitting is deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmtp_core::wire::greeting::{GREETING_LEN, MECHANISM_LEN, SIGNATURE_LEN, check_signature};
use zmtp_core::wire::{Error, Greeting, GreetingRepr, Mechanism};

fuzz_target!(|data: &[u8]| {
    let sig = check_signature(data);
    let parsed = GreetingRepr::parse(data);

    // Signature and parse agree.
    match sig {
        Ok(()) => {
            assert!(data.len() >= SIGNATURE_LEN);
            assert_eq!(data[0], 0xFF);
            assert_eq!(data[9] & 1, 1);
        }
        Err(Error::BadSignature) => assert_eq!(parsed, Err(Error::BadSignature)),
        Err(Error::Truncated) => {
            assert!(data.len() < SIGNATURE_LEN);
            assert!(matches!(parsed, Err(Error::Truncated)));
        }
        Err(e) => panic!("check_signature returned {e:?}"),
    }
    if parsed.is_ok() {
        assert_eq!(sig, Ok(()));
    }
    if data.len() < GREETING_LEN && sig.is_ok() {
        assert_eq!(parsed, Err(Error::Truncated));
    }
    if data.len() >= GREETING_LEN && sig.is_ok() {
        // A whole greeting with a good signature fails only on the version.
        match parsed {
            Ok(repr) => assert!(repr.major >= 3),
            Err(e) => assert_eq!((e, data[10] < 3), (Error::UnsupportedVersion, true)),
        }
    }

    // The view on any length reads fixed offsets, missing bytes as zero.
    let view = Greeting::new_unchecked(data);
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    assert_eq!(view.signature_start(), byte(0));
    assert_eq!(view.signature_end(), byte(9));
    assert_eq!(view.major(), byte(10));
    assert_eq!(view.minor(), byte(11));
    assert_eq!(view.as_server(), byte(32) != 0);
    let field = view.mechanism_field();
    let mechanism = view.mechanism();
    assert_eq!(Mechanism::from_field(&field), mechanism);
    assert_eq!(mechanism.to_field(), field);
    let name = mechanism.name();
    assert!(name.len() <= MECHANISM_LEN);
    assert_eq!(Mechanism::from_name(name), Some(mechanism));
    let _ = view.padding();
    if data.len() >= 33 {
        assert_eq!(&field[..], &data[12..32]);
        let mut padding = [0u8; 8];
        padding.copy_from_slice(&data[1..9]);
        assert_eq!(view.padding(), u64::from_be_bytes(padding));
    }
    assert_eq!(
        Greeting::new_checked(data).is_ok(),
        data.len() >= GREETING_LEN
    );

    // Setters on a copy of any length never write out of bounds.
    let mut copy = data.to_vec();
    let mut w = Greeting::new_unchecked(&mut copy[..]);
    w.set_signature(byte(1));
    w.set_major(byte(2));
    w.set_minor(byte(3));
    w.set_mechanism(&mechanism);
    w.set_as_server(byte(4) & 1 == 1);
    w.clear_filler();
    assert_eq!(copy.len(), data.len());

    // Round trip: emit -> parse is the identity on the repr.
    if let Ok(repr) = parsed {
        assert_eq!(view.mechanism(), repr.mechanism);
        let identity_len = byte(8);
        let mut out = [0u8; GREETING_LEN];
        repr.emit(identity_len, &mut out);
        assert_eq!(GreetingRepr::parse(&out), Ok(repr));
        assert_eq!(check_signature(&out), Ok(()));
        // libzmq's signature, the same version and mechanism bytes, a
        // normalised as-server and a zero filler.
        assert_eq!(out[0], 0xFF);
        assert_eq!(&out[1..9], &(u64::from(identity_len) + 1).to_be_bytes());
        assert_eq!(out[9], 0x7F);
        assert_eq!(&out[10..32], &data[10..32]);
        assert_eq!(out[32], u8::from(data[32] != 0));
        assert!(out[33..].iter().all(|&b| b == 0));
        let mut again = [0xAAu8; GREETING_LEN];
        repr.emit(identity_len, &mut again);
        assert_eq!(out, again);
    }
});
