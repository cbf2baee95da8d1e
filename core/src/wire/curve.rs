//! The CURVE mechanism's commands (RFC 25 "ZMTP-CURVE" over RFC 26
//! "CurveZMQ"), laid out as libzmq 4.3 puts them on the wire
//! (`curve_client_tools.hpp`, `curve_server.cpp`,
//! `curve_mechanism_base.cpp`). These are views of the clear fields; the
//! boxes are opened by the connection (`conn::curve`).
//!
//! ```text
//! HELLO    (200)  %x05 "HELLO" %x01 %x00 72*%x00 C'(32) nonce(8) box(80)
//!                 box = Box[64 * %x00](C' -> S), nonce "CurveZMQHELLO---"
//! WELCOME  (168)  %x07 "WELCOME" nonce(16) box(144)
//!                 box = Box[S'(32) + cookie(96)](S -> C'), nonce "WELCOME-"
//!                 cookie = nonce(16) + SecretBox[C' + s'](K), nonce "COOKIE--"
//! INITIATE (>=257) %x08 "INITIATE" cookie(96) nonce(8) box(>=144)
//!                 box = Box[C(32) + vouch nonce(16) + vouch(80) + metadata](C' -> S'),
//!                 nonce "CurveZMQINITIATE"; vouch = Box[C' + S](C -> S'), nonce "VOUCH---"
//! READY    (>=30) %x05 "READY" nonce(8) box(>=16)
//!                 box = Box[metadata](S' -> C'), nonce "CurveZMQREADY---"
//! MESSAGE  (>=33) %x07 "MESSAGE" nonce(8) box(>=17)
//!                 box = Box[flags(1) + payload], nonce "CurveZMQMESSAGEC" (client)
//!                 or "CurveZMQMESSAGES" (server); flags bit 0 MORE, bit 1 COMMAND
//! ```
//!
//! libzmq 4.3 sends MESSAGE in a frame without flags (neither COMMAND nor
//! MORE: those are in the box), and reads any frame after the handshake as
//! a MESSAGE, whatever its flags.
//!
//! Short nonces are 8-byte big-endian counters; long nonces are 16 random
//! bytes. Every box is a NaCl `crypto_box` (X25519, XSalsa20, Poly1305):
//! its 16-byte MAC comes first, then the ciphertext, as long as the
//! plaintext.

use super::{Error, Reader};

/// `\x05HELLO`.
pub const HELLO_PREFIX: &[u8] = b"\x05HELLO";
/// `\x07WELCOME`.
pub const WELCOME_PREFIX: &[u8] = b"\x07WELCOME";
/// `\x08INITIATE`.
pub const INITIATE_PREFIX: &[u8] = b"\x08INITIATE";
/// `\x05READY`.
pub const READY_PREFIX: &[u8] = b"\x05READY";
/// `\x07MESSAGE`.
pub const MESSAGE_PREFIX: &[u8] = b"\x07MESSAGE";

/// Size of a HELLO body.
pub const HELLO_LEN: usize = 200;
/// Size of a WELCOME body.
pub const WELCOME_LEN: usize = 168;
/// Smallest INITIATE body (no metadata).
pub const INITIATE_MIN_LEN: usize = 257;
/// Smallest READY body libzmq accepts (`curve_client.cpp`).
pub const READY_MIN_LEN: usize = 30;
/// Smallest MESSAGE body: name, nonce, MAC and the flags byte.
pub const MESSAGE_MIN_LEN: usize = 33;
/// Bytes a MESSAGE adds to the frame it carries: name (8), short nonce
/// (8), MAC (16) and flags (1).
pub const MESSAGE_OVERHEAD: usize = 33;
/// The Poly1305 MAC in front of every box.
pub const MAC_LEN: usize = 16;
/// A Curve25519 key.
pub const KEY_LEN: usize = 32;
/// A cookie: its 16-byte nonce and the 80-byte secret box.
pub const COOKIE_LEN: usize = 96;

/// Nonce prefix of the HELLO box.
pub const HELLO_NONCE_PREFIX: &[u8; 16] = b"CurveZMQHELLO---";
/// Nonce prefix of the WELCOME box.
pub const WELCOME_NONCE_PREFIX: &[u8; 8] = b"WELCOME-";
/// Nonce prefix of the cookie.
pub const COOKIE_NONCE_PREFIX: &[u8; 8] = b"COOKIE--";
/// Nonce prefix of the INITIATE box.
pub const INITIATE_NONCE_PREFIX: &[u8; 16] = b"CurveZMQINITIATE";
/// Nonce prefix of the vouch.
pub const VOUCH_NONCE_PREFIX: &[u8; 8] = b"VOUCH---";
/// Nonce prefix of the READY box.
pub const READY_NONCE_PREFIX: &[u8; 16] = b"CurveZMQREADY---";
/// Nonce prefix of MESSAGE boxes from the client.
pub const MESSAGE_CLIENT_NONCE_PREFIX: &[u8; 16] = b"CurveZMQMESSAGEC";
/// Nonce prefix of MESSAGE boxes from the server.
pub const MESSAGE_SERVER_NONCE_PREFIX: &[u8; 16] = b"CurveZMQMESSAGES";

/// MESSAGE flags bit: another frame follows.
pub const MESSAGE_FLAG_MORE: u8 = 0x01;
/// MESSAGE flags bit: the payload is a command (libzmq; RFC 26 reserves it).
pub const MESSAGE_FLAG_COMMAND: u8 = 0x02;

/// A HELLO command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HelloRepr<'a> {
    /// CurveZMQ major version (1).
    pub major: u8,
    /// CurveZMQ minor version (0).
    pub minor: u8,
    /// The 72 bytes of anti-amplification padding (zeros from libzmq; not
    /// checked by it).
    pub padding: &'a [u8],
    /// The client's transient public key C'.
    pub client_transient: [u8; KEY_LEN],
    /// The short nonce.
    pub nonce: u64,
    /// Box[64 zeros](C' -> S): MAC then ciphertext, 80 bytes.
    pub signature: &'a [u8],
}

impl<'a> HelloRepr<'a> {
    /// Reads a HELLO body.
    ///
    /// # Errors
    ///
    /// [`Error::BadCommandName`] without the `\x05HELLO` name,
    /// [`Error::Truncated`] / [`Error::TrailingBytes`] unless the body is
    /// exactly [`HELLO_LEN`] bytes.
    pub fn parse(body: &'a [u8]) -> Result<Self, Error> {
        let data = body
            .strip_prefix(HELLO_PREFIX)
            .ok_or(Error::BadCommandName)?;
        let mut r = Reader::new(data);
        let major = r.u8().ok_or(Error::Truncated)?;
        let minor = r.u8().ok_or(Error::Truncated)?;
        let padding = r.take(72).ok_or(Error::Truncated)?;
        let client_transient = r.array::<KEY_LEN>().ok_or(Error::Truncated)?;
        let nonce = r.u64_be().ok_or(Error::Truncated)?;
        let signature = r.take(80).ok_or(Error::Truncated)?;
        if !r.is_empty() {
            return Err(Error::TrailingBytes);
        }
        Ok(Self {
            major,
            minor,
            padding,
            client_transient,
            nonce,
            signature,
        })
    }
}

/// A WELCOME command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WelcomeRepr<'a> {
    /// The 16 random bytes after `WELCOME-` in the box's nonce.
    pub nonce: [u8; 16],
    /// Box[S' + cookie](S -> C'): MAC then ciphertext, 144 bytes.
    pub sealed: &'a [u8],
}

impl<'a> WelcomeRepr<'a> {
    /// Reads a WELCOME body.
    ///
    /// # Errors
    ///
    /// [`Error::BadCommandName`] without the name, [`Error::Truncated`] /
    /// [`Error::TrailingBytes`] unless it is exactly [`WELCOME_LEN`] bytes.
    pub fn parse(body: &'a [u8]) -> Result<Self, Error> {
        let data = body
            .strip_prefix(WELCOME_PREFIX)
            .ok_or(Error::BadCommandName)?;
        let mut r = Reader::new(data);
        let nonce = r.array::<16>().ok_or(Error::Truncated)?;
        let sealed = r.take(144).ok_or(Error::Truncated)?;
        if !r.is_empty() {
            return Err(Error::TrailingBytes);
        }
        Ok(Self { nonce, sealed })
    }
}

/// An INITIATE command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InitiateRepr<'a> {
    /// The cookie from the WELCOME, returned as is (96 bytes).
    pub cookie: &'a [u8],
    /// The short nonce.
    pub nonce: u64,
    /// Box[C + vouch + metadata](C' -> S'): MAC then ciphertext, at least
    /// 144 bytes.
    pub sealed: &'a [u8],
}

impl<'a> InitiateRepr<'a> {
    /// Reads an INITIATE body.
    ///
    /// # Errors
    ///
    /// [`Error::BadCommandName`] without the name, [`Error::Truncated`]
    /// below [`INITIATE_MIN_LEN`] bytes.
    pub fn parse(body: &'a [u8]) -> Result<Self, Error> {
        let data = body
            .strip_prefix(INITIATE_PREFIX)
            .ok_or(Error::BadCommandName)?;
        if body.len() < INITIATE_MIN_LEN {
            return Err(Error::Truncated);
        }
        let mut r = Reader::new(data);
        let cookie = r.take(COOKIE_LEN).ok_or(Error::Truncated)?;
        let nonce = r.u64_be().ok_or(Error::Truncated)?;
        Ok(Self {
            cookie,
            nonce,
            sealed: r.rest(),
        })
    }
}

/// A READY or MESSAGE command: a short nonce and a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SealedRepr<'a> {
    /// The short nonce.
    pub nonce: u64,
    /// MAC then ciphertext.
    pub sealed: &'a [u8],
}

impl<'a> SealedRepr<'a> {
    /// Reads a READY body.
    ///
    /// # Errors
    ///
    /// [`Error::BadCommandName`] without the name, [`Error::Truncated`]
    /// below [`READY_MIN_LEN`] bytes.
    pub fn parse_ready(body: &'a [u8]) -> Result<Self, Error> {
        Self::parse(body, READY_PREFIX, READY_MIN_LEN)
    }

    /// Reads a MESSAGE body.
    ///
    /// # Errors
    ///
    /// [`Error::BadCommandName`] without the name, [`Error::Truncated`]
    /// below [`MESSAGE_MIN_LEN`] bytes.
    pub fn parse_message(body: &'a [u8]) -> Result<Self, Error> {
        Self::parse(body, MESSAGE_PREFIX, MESSAGE_MIN_LEN)
    }

    fn parse(body: &'a [u8], prefix: &[u8], min: usize) -> Result<Self, Error> {
        let data = body.strip_prefix(prefix).ok_or(Error::BadCommandName)?;
        if body.len() < min {
            return Err(Error::Truncated);
        }
        let mut r = Reader::new(data);
        let nonce = r.u64_be().ok_or(Error::Truncated)?;
        Ok(Self {
            nonce,
            sealed: r.rest(),
        })
    }
}

/// A full 24-byte nonce: a 16-byte prefix and a big-endian short nonce.
#[must_use]
pub fn short_nonce(prefix: &[u8; 16], counter: u64) -> [u8; 24] {
    let mut n = [0u8; 24];
    let (head, tail) = n.split_at_mut(16);
    head.copy_from_slice(prefix);
    tail.copy_from_slice(&counter.to_be_bytes());
    n
}

/// A full 24-byte nonce: an 8-byte prefix and 16 bytes.
#[must_use]
pub fn long_nonce(prefix: &[u8; 8], rest: &[u8; 16]) -> [u8; 24] {
    let mut n = [0u8; 24];
    let (head, tail) = n.split_at_mut(8);
    head.copy_from_slice(prefix);
    tail.copy_from_slice(rest);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let mut hello = [0u8; HELLO_LEN];
        hello[..6].copy_from_slice(HELLO_PREFIX);
        hello[6] = 1;
        hello[80] = 0xAA;
        hello[119] = 1;
        let h = HelloRepr::parse(&hello).unwrap();
        assert_eq!((h.major, h.minor, h.nonce), (1, 0, 1));
        assert_eq!(h.client_transient[0], 0xAA);
        assert_eq!(h.signature.len(), 80);
        assert_eq!(HelloRepr::parse(&hello[..199]), Err(Error::Truncated));
        assert_eq!(HelloRepr::parse(b"\x05HELLX"), Err(Error::BadCommandName));

        let mut welcome = [0u8; WELCOME_LEN];
        welcome[..8].copy_from_slice(WELCOME_PREFIX);
        assert_eq!(WelcomeRepr::parse(&welcome).unwrap().sealed.len(), 144);
        let mut long = [0u8; WELCOME_LEN + 1];
        long[..8].copy_from_slice(WELCOME_PREFIX);
        assert_eq!(WelcomeRepr::parse(&long), Err(Error::TrailingBytes));

        let mut initiate = [0u8; INITIATE_MIN_LEN];
        initiate[..9].copy_from_slice(INITIATE_PREFIX);
        initiate[112] = 2;
        let i = InitiateRepr::parse(&initiate).unwrap();
        assert_eq!((i.cookie.len(), i.nonce, i.sealed.len()), (96, 2, 144));
        assert_eq!(InitiateRepr::parse(&initiate[..256]), Err(Error::Truncated));

        let r = SealedRepr::parse_ready(b"\x05READY\0\0\0\0\0\0\0\x01................").unwrap();
        assert_eq!((r.nonce, r.sealed.len()), (1, 16));
        assert_eq!(
            SealedRepr::parse_message(b"\x07MESSAGE\0\0\0\0\0\0\0\x03................"),
            Err(Error::Truncated)
        );
        assert_eq!(
            short_nonce(MESSAGE_CLIENT_NONCE_PREFIX, 3)[16..],
            [0, 0, 0, 0, 0, 0, 0, 3]
        );
        assert_eq!(
            &long_nonce(VOUCH_NONCE_PREFIX, &[7; 16])[..9],
            b"VOUCH---\x07"
        );
    }
}
