//! The primitives under CURVE against published vectors: X25519 (RFC 7748
//! §6.1, the Alice/Bob keys of NaCl's `tests/box.c`), `crypto_box_beforenm`
//! (NaCl `tests/core1.c` "firstkey"), `crypto_box` (NaCl `tests/box.c` /
//! `box.out`) and `crypto_secretbox`, used the way `conn::curve` uses them
//! (detached MAC in front of the ciphertext, sealed in place).
//!
//! The constants were checked against libsodium through PyNaCl 1.6.2;
//! [`libsodium_agrees`] repeats that check live when Python and a package
//! registry are available (it makes its own virtual environment under the
//! target directory), and says it skipped otherwise.
#![cfg(feature = "curve")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../tests/support/pyvenv.rs"]
mod pyvenv;

use crypto_box::aead::AeadInPlace;
use crypto_box::aead::generic_array::GenericArray;
use crypto_box::{PublicKey, SalsaBox, SecretKey};
use xsalsa20poly1305::{KeyInit, XSalsa20Poly1305};
use zmtp_core::conn::{CurveKeypair, curve_public_key};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn key(s: &str) -> [u8; 32] {
    hex(s).try_into().unwrap()
}

const ALICE_SK: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const ALICE_PK: &str = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const BOB_SK: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const BOB_PK: &str = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
/// HSalsa20 of the X25519 shared secret: `crypto_box_beforenm`.
const FIRSTKEY: &str = "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389";
const NONCE: &str = "69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37";
const MESSAGE: &str = concat!(
    "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffc",
    "e5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb31",
    "0e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde",
    "048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864",
    "5e0705"
);
/// `crypto_box(MESSAGE, NONCE, BOB_PK, ALICE_SK)`: MAC, then ciphertext.
const BOXED: &str = concat!(
    "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce",
    "48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c972",
    "71d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae",
    "90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b3",
    "7973f622a43d14a6599b1f654cb45a74e355a5"
);
/// A cookie-sized secret box: key 00..1f, nonce 00..17.
const COOKIE_PLAIN: &[u8; 64] = b"CurveZMQ cookie plaintext 64 bytes..............................";
const COOKIE_BOXED: &str = concat!(
    "46b8619988279a97090e2fce000533151d8a4a39a290ef419b5fe05103e62fb7",
    "22c927b6e2515a97638251a075a5d895e6a8dbfb6b9edb2c97a3ceb75448856d",
    "0d6f46b1ddb9f26192310993344fb9db"
);

#[test]
fn x25519_public_keys() {
    assert_eq!(curve_public_key(&key(ALICE_SK)), key(ALICE_PK));
    assert_eq!(CurveKeypair::from_secret(key(BOB_SK)).public, key(BOB_PK));
}

#[test]
fn crypto_box_nacl_vector() {
    let b = SalsaBox::new(
        &PublicKey::from(key(BOB_PK)),
        &SecretKey::from(key(ALICE_SK)),
    );
    let nonce: [u8; 24] = hex(NONCE).try_into().unwrap();
    let mut buf = hex(MESSAGE);
    let mac = b
        .encrypt_in_place_detached(&GenericArray::from(nonce), b"", &mut buf)
        .unwrap();
    let mut boxed = mac.to_vec();
    boxed.extend_from_slice(&buf);
    assert_eq!(boxed, hex(BOXED));
    // Bob opens it with his secret key and Alice's public key.
    let b2 = SalsaBox::new(
        &PublicKey::from(key(ALICE_PK)),
        &SecretKey::from(key(BOB_SK)),
    );
    b2.decrypt_in_place_detached(&GenericArray::from(nonce), b"", &mut buf, &mac)
        .unwrap();
    assert_eq!(buf, hex(MESSAGE));
    // One flipped bit anywhere and it does not open.
    let mut tampered = hex(BOXED)[16..].to_vec();
    tampered[7] ^= 0x10;
    assert!(
        b2.decrypt_in_place_detached(&GenericArray::from(nonce), b"", &mut tampered, &mac)
            .is_err()
    );
}

#[test]
fn beforenm_is_the_secretbox_key() {
    // crypto_box = crypto_secretbox under crypto_box_beforenm's key.
    let sb = XSalsa20Poly1305::new(&key(FIRSTKEY).into());
    let nonce: [u8; 24] = hex(NONCE).try_into().unwrap();
    let mut buf = hex(MESSAGE);
    let mac = sb
        .encrypt_in_place_detached(&GenericArray::from(nonce), b"", &mut buf)
        .unwrap();
    assert_eq!(&mac[..], &hex(BOXED)[..16]);
    assert_eq!(&buf[..], &hex(BOXED)[16..]);
}

#[test]
fn secretbox_vector() {
    let k: [u8; 32] = core::array::from_fn(|i| i as u8);
    let n: [u8; 24] = core::array::from_fn(|i| i as u8);
    let sb = XSalsa20Poly1305::new(&k.into());
    let mut buf = COOKIE_PLAIN.to_vec();
    let mac = sb
        .encrypt_in_place_detached(&GenericArray::from(n), b"", &mut buf)
        .unwrap();
    let mut boxed = mac.to_vec();
    boxed.extend_from_slice(&buf);
    assert_eq!(boxed, hex(COOKIE_BOXED));
}

/// PyNaCl (libsodium) computes the same values.
#[test]
fn libsodium_agrees() {
    let python = match pynacl_python() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: libsodium (PyNaCl) is not available: {why}");
            return;
        }
    };
    let script = format!(
        r#"
import nacl.bindings as b
ask = bytes.fromhex("{ALICE_SK}")
bsk = bytes.fromhex("{BOB_SK}")
print(b.crypto_scalarmult_base(ask).hex())
print(b.crypto_box_beforenm(b.crypto_scalarmult_base(bsk), ask).hex())
print(b.crypto_box(bytes.fromhex("{MESSAGE}"), bytes.fromhex("{NONCE}"), b.crypto_scalarmult_base(bsk), ask).hex())
print(b.crypto_secretbox({plain:?}.encode(), bytes(range(24)), bytes(range(32))).hex())
"#,
        plain = core::str::from_utf8(COOKIE_PLAIN).unwrap()
    );
    let out = std::process::Command::new(python)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, [ALICE_PK, FIRSTKEY, BOXED, COOKIE_BOXED]);
}

/// A Python interpreter with PyNaCl [`pyvenv::PYNACL`].
fn pynacl_python() -> Result<std::path::PathBuf, String> {
    pyvenv::pynacl(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")))
}
