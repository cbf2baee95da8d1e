//! The 64-byte ZMTP greeting (RFC 23 / RFC 37 "Greeting" and "Version
//! Negotiation").
//!
//! ```text
//! offset  len  field
//!      0    1  signature start, 0xFF
//!      1    8  padding ("not significant", never validated)
//!      9    1  signature end, 0x7F (bit 0 set; clear means a ZMTP 1.0 peer)
//!     10    1  version-major, 3
//!     11    1  version-minor, 0 (3.0) or 1 (3.1)
//!     12   20  mechanism, ASCII, NUL-padded
//!     32    1  as-server, 0 or 1
//!     33   31  filler, zeros
//! ```
//!
//! libzmq writes the big-endian `routing_id_len + 1` into the padding (a
//! trick that makes the signature look like the header of a ZMTP 1.0
//! identity frame), sends only the first 10 bytes before it has seen the
//! peer's signature, and always sends as-server = 0.

use super::{Error, Reader, Writer};

/// Length of a ZMTP 3.x greeting. RFC 23 / RFC 37 greeting.
pub const GREETING_LEN: usize = 64;
/// Length of the signature (0xFF, 8 padding bytes, 0x7F): what libzmq sends
/// before it has seen anything from the peer. RFC 23 / RFC 37 signature.
pub const SIGNATURE_LEN: usize = 10;
/// Length of the NUL-padded mechanism field. RFC 23 / RFC 37 mechanism.
pub const MECHANISM_LEN: usize = 20;

/// First byte of every signature. RFC 23 / RFC 37 signature.
pub const SIGNATURE_START: u8 = 0xFF;
/// Last byte of the signature as sent. RFC 23 / RFC 37 signature.
pub const SIGNATURE_END: u8 = 0x7F;
/// The major version this crate speaks. RFC 23 / RFC 37 version-major.
pub const VERSION_MAJOR: u8 = 3;
/// The minor version this crate offers (ZMTP 3.1, as libzmq). RFC 37
/// version-minor.
pub const VERSION_MINOR: u8 = 1;

/// Offset of the signature end byte. RFC 23 greeting layout.
const SIGNATURE_END_OFFSET: usize = 9;
/// Offset of version-major. RFC 23 greeting layout.
const MAJOR_OFFSET: usize = 10;
/// Offset of version-minor. RFC 23 greeting layout.
const MINOR_OFFSET: usize = 11;
/// Offset of the mechanism field. RFC 23 greeting layout.
const MECHANISM_OFFSET: usize = 12;
/// Offset of as-server. RFC 23 greeting layout.
const AS_SERVER_OFFSET: usize = 32;
/// Length of the filler. RFC 23 greeting: 31 zero octets.
const FILLER_LEN: usize = 31;

/// A security mechanism name from the greeting's 20-byte field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Mechanism {
    /// `NULL` (RFC 23 / RFC 37).
    Null,
    /// `PLAIN` (RFC 24).
    Plain,
    /// `CURVE` (RFC 25).
    Curve,
    /// `GSSAPI` (RFC 38).
    Gssapi,
    /// Any other field, kept as received (including a known name padded with
    /// something other than NUL bytes).
    Unknown([u8; MECHANISM_LEN]),
}

impl Mechanism {
    const NULL: &'static [u8] = b"NULL";
    const PLAIN: &'static [u8] = b"PLAIN";
    const CURVE: &'static [u8] = b"CURVE";
    const GSSAPI: &'static [u8] = b"GSSAPI";

    /// Classifies a NUL-padded field. A known name matches only when it is
    /// exactly that name followed by NUL bytes (case-sensitive, as libzmq's
    /// `memcmp` of the whole field).
    #[must_use]
    pub fn from_field(field: &[u8; MECHANISM_LEN]) -> Self {
        [Self::Null, Self::Plain, Self::Curve, Self::Gssapi]
            .into_iter()
            .find(|m| m.to_field() == *field)
            .unwrap_or(Self::Unknown(*field))
    }

    /// The mechanism for a name without padding, or `None` if the name is
    /// longer than [`MECHANISM_LEN`].
    #[must_use]
    pub fn from_name(name: &[u8]) -> Option<Self> {
        let mut field = [0u8; MECHANISM_LEN];
        field.get_mut(..name.len())?.copy_from_slice(name);
        Some(Self::from_field(&field))
    }

    /// The 20-byte NUL-padded field.
    #[must_use]
    pub fn to_field(&self) -> [u8; MECHANISM_LEN] {
        let name = match self {
            Self::Unknown(field) => return *field,
            Self::Null => Self::NULL,
            Self::Plain => Self::PLAIN,
            Self::Curve => Self::CURVE,
            Self::Gssapi => Self::GSSAPI,
        };
        let mut field = [0u8; MECHANISM_LEN];
        for (dst, src) in field.iter_mut().zip(name) {
            *dst = *src;
        }
        field
    }

    /// The name without its NUL padding. For [`Mechanism::Unknown`] this is
    /// the field with trailing NUL bytes removed.
    #[must_use]
    pub fn name(&self) -> &[u8] {
        match self {
            Self::Null => Self::NULL,
            Self::Plain => Self::PLAIN,
            Self::Curve => Self::CURVE,
            Self::Gssapi => Self::GSSAPI,
            Self::Unknown(field) => {
                let end = field
                    .iter()
                    .rposition(|&b| b != 0)
                    .map_or(0, |i| i.saturating_add(1));
                field.get(..end).unwrap_or_default()
            }
        }
    }
}

/// A validated greeting.
///
/// ```
/// use zmtp_core::wire::greeting::{GreetingRepr, GREETING_LEN};
/// use zmtp_core::wire::Mechanism;
///
/// let repr = GreetingRepr { major: 3, minor: 1, mechanism: Mechanism::Null, as_server: false };
/// let mut buf = [0u8; GREETING_LEN];
/// repr.emit(0, &mut buf);
/// assert_eq!(&buf[..12], b"\xFF\0\0\0\0\0\0\0\x01\x7F\x03\x01");
/// assert_eq!(GreetingRepr::parse(&buf), Ok(repr));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GreetingRepr {
    /// version-major; at least 3 after [`GreetingRepr::parse`].
    pub major: u8,
    /// version-minor: 0 for ZMTP 3.0, 1 for ZMTP 3.1.
    pub minor: u8,
    /// The security mechanism.
    pub mechanism: Mechanism,
    /// The as-server field (any non-zero byte reads as `true`).
    pub as_server: bool,
}

impl GreetingRepr {
    /// The greeting this crate sends: ZMTP 3.1, not as server.
    #[must_use]
    pub const fn new(mechanism: Mechanism) -> Self {
        Self {
            major: VERSION_MAJOR,
            minor: VERSION_MINOR,
            mechanism,
            as_server: false,
        }
    }

    /// Parses the first [`GREETING_LEN`] bytes of `buf`; further bytes are
    /// ignored (they belong to the handshake that follows). The padding
    /// (bytes 1..=8) and the filler are not validated (RFC 23: "MUST NOT
    /// validate"); byte 9 must have bit 0 set. A major version above 3 is
    /// accepted (libzmq treats it as 3.1).
    ///
    /// # Errors
    ///
    /// - [`Error::BadSignature`] if byte 0 is not `0xFF` (reported as soon as
    ///   that byte is present) or bit 0 of byte 9 is clear;
    /// - [`Error::Truncated`] if `buf` is shorter than [`GREETING_LEN`];
    /// - [`Error::UnsupportedVersion`] if the major version is below 3.
    pub fn parse(buf: &[u8]) -> Result<Self, Error> {
        check_signature(buf)?;
        let mut r = Reader::new(buf);
        let g = r
            .array::<GREETING_LEN>()
            .map(Greeting::new_unchecked)
            .ok_or(Error::Truncated)?;
        if g.major() < VERSION_MAJOR {
            return Err(Error::UnsupportedVersion);
        }
        Ok(Self {
            major: g.major(),
            minor: g.minor(),
            mechanism: g.mechanism(),
            as_server: g.as_server(),
        })
    }

    /// Emits exactly libzmq's greeting: `0xFF`, the big-endian `u64`
    /// `identity_len + 1` (libzmq's ZMTP 1.0 compatibility trick), `0x7F`,
    /// major, minor, the mechanism field, as-server (0 or 1), 31 zero bytes.
    pub fn emit(&self, identity_len: u8, out: &mut [u8; GREETING_LEN]) {
        let mut g = Greeting::new_unchecked(out);
        g.set_signature(identity_len);
        g.set_major(self.major);
        g.set_minor(self.minor);
        g.set_mechanism(&self.mechanism);
        g.set_as_server(self.as_server);
        g.clear_filler();
    }
}

/// Checks the signature (the first [`SIGNATURE_LEN`] bytes) the way libzmq's
/// `receive_greeting` does: byte 0 must be `0xFF` and bit 0 of byte 9 must be
/// set; the padding is ignored.
///
/// # Errors
///
/// - [`Error::BadSignature`] if byte 0 is not `0xFF` (reported as soon as it
///   is present, as libzmq decides on the first byte) or bit 0 of byte 9 is
///   clear;
/// - [`Error::Truncated`] if fewer than [`SIGNATURE_LEN`] bytes are present
///   and none of them is wrong.
pub fn check_signature(buf: &[u8]) -> Result<(), Error> {
    let mut r = Reader::new(buf);
    match r.u8() {
        None => return Err(Error::Truncated),
        Some(SIGNATURE_START) => {}
        Some(_) => return Err(Error::BadSignature),
    }
    let [.., end] = r.array::<{ SIGNATURE_LEN - 1 }>().ok_or(Error::Truncated)?;
    if end & 0x01 == 0 {
        return Err(Error::BadSignature);
    }
    Ok(())
}

/// A zero-copy view over a greeting buffer (smoltcp style).
///
/// Getters read fixed offsets. On a buffer shorter than [`GREETING_LEN`]
/// (only possible through [`Greeting::new_unchecked`]) a missing field reads
/// as zero and a setter for it writes nothing; nothing panics.
///
/// ```
/// use zmtp_core::wire::{Greeting, Mechanism};
///
/// let mut buf = [0u8; 64];
/// let mut g = Greeting::new_checked(&mut buf[..])?;
/// g.set_signature(0);
/// g.set_major(3);
/// g.set_minor(0);
/// g.set_mechanism(&Mechanism::Plain);
/// assert_eq!(g.padding(), 1);
/// assert_eq!(g.mechanism(), Mechanism::Plain);
/// assert_eq!((g.major(), g.minor(), g.as_server()), (3, 0, false));
/// # Ok::<(), zmtp_core::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Greeting<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Greeting<T> {
    /// Wraps `buffer` without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps `buffer` after [`Greeting::check_len`].
    ///
    /// # Errors
    ///
    /// [`Error::Truncated`] if `buffer` is shorter than [`GREETING_LEN`].
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let g = Self::new_unchecked(buffer);
        g.check_len()?;
        Ok(g)
    }

    /// Checks that the buffer holds a whole greeting.
    ///
    /// # Errors
    ///
    /// [`Error::Truncated`] if the buffer is shorter than [`GREETING_LEN`].
    pub fn check_len(&self) -> Result<(), Error> {
        if self.buffer.as_ref().len() < GREETING_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, offset: usize) -> u8 {
        self.buffer.as_ref().get(offset).copied().unwrap_or(0)
    }

    fn field<const N: usize>(&self, offset: usize) -> [u8; N] {
        self.buffer
            .as_ref()
            .get(offset..)
            .and_then(<[u8]>::first_chunk::<N>)
            .copied()
            .unwrap_or([0; N])
    }

    /// Byte 0 (`0xFF` in a valid greeting).
    pub fn signature_start(&self) -> u8 {
        self.byte(0)
    }

    /// Bytes 1..=8 as a big-endian `u64`. Not significant (RFC 23); libzmq
    /// puts its routing id length + 1 here.
    pub fn padding(&self) -> u64 {
        u64::from_be_bytes(self.field(1))
    }

    /// Byte 9 (`0x7F` as sent; bit 0 must be set).
    pub fn signature_end(&self) -> u8 {
        self.byte(SIGNATURE_END_OFFSET)
    }

    /// version-major (byte 10).
    pub fn major(&self) -> u8 {
        self.byte(MAJOR_OFFSET)
    }

    /// version-minor (byte 11).
    pub fn minor(&self) -> u8 {
        self.byte(MINOR_OFFSET)
    }

    /// The raw mechanism field (bytes 12..32).
    pub fn mechanism_field(&self) -> [u8; MECHANISM_LEN] {
        self.field(MECHANISM_OFFSET)
    }

    /// The mechanism (bytes 12..32).
    pub fn mechanism(&self) -> Mechanism {
        Mechanism::from_field(&self.mechanism_field())
    }

    /// as-server (byte 32); any non-zero value reads as `true`.
    pub fn as_server(&self) -> bool {
        self.byte(AS_SERVER_OFFSET) != 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Greeting<T> {
    fn write(&mut self, offset: usize, src: &[u8]) {
        if let Some(dst) = self
            .buffer
            .as_mut()
            .get_mut(offset..)
            .and_then(|tail| tail.get_mut(..src.len()))
        {
            dst.copy_from_slice(src);
        }
    }

    /// Writes libzmq's signature: `0xFF`, the big-endian `u64`
    /// `identity_len + 1`, `0x7F`.
    pub fn set_signature(&mut self, identity_len: u8) {
        let padding = u64::from(identity_len).saturating_add(1);
        let mut w = [0u8; SIGNATURE_LEN];
        let mut wr = Writer::new(&mut w);
        // Cannot fail: exactly SIGNATURE_LEN bytes are written.
        let ok = wr.u8(SIGNATURE_START).is_ok()
            && wr.u64_be(padding).is_ok()
            && wr.u8(SIGNATURE_END).is_ok();
        if ok {
            self.write(0, &w);
        }
    }

    /// Sets version-major.
    pub fn set_major(&mut self, major: u8) {
        self.write(MAJOR_OFFSET, &[major]);
    }

    /// Sets version-minor.
    pub fn set_minor(&mut self, minor: u8) {
        self.write(MINOR_OFFSET, &[minor]);
    }

    /// Sets the mechanism field.
    pub fn set_mechanism(&mut self, mechanism: &Mechanism) {
        self.write(MECHANISM_OFFSET, &mechanism.to_field());
    }

    /// Sets as-server to 1 or 0.
    pub fn set_as_server(&mut self, as_server: bool) {
        self.write(AS_SERVER_OFFSET, &[u8::from(as_server)]);
    }

    /// Zeroes the 31-byte filler.
    pub fn clear_filler(&mut self) {
        self.write(AS_SERVER_OFFSET.saturating_add(1), &[0; FILLER_LEN]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The greeting a libzmq 4.3 DEALER with no routing id sends.
    /// Source: libzmq `src/zmtp_engine.cpp`: `plug_internal` writes 0xFF,
    /// `put_uint64(routing_id_size + 1)` and 0x7F;
    /// `receive_greeting_versioned` then writes major 3, minor 1, "NULL"
    /// NUL-padded to 20 bytes, then 32 zero bytes (as-server 0 + filler).
    const LIBZMQ_DEALER_GREETING: [u8; GREETING_LEN] = [
        0xFF, // signature start
        0, 0, 0, 0, 0, 0, 0, 1,    // padding: u64 BE routing_id_size (0) + 1
        0x7F, // signature end
        0x03, // version-major
        0x01, // version-minor (3.1)
        b'N', b'U', b'L', b'L', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0,    // mechanism "NULL" + 16 NULs
        0x00, // as-server (libzmq always sends 0)
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, // filler: 31 zeros
    ];

    /// The ZMTP 3.0 NULL greeting libzmq's tests send from a raw socket.
    /// Source: libzmq `tests/testutil.hpp` `zmtp_greeting_null`: all-zero
    /// padding (so no routing-id trick), major 3, minor 0, "NULL".
    const LIBZMQ_TEST_GREETING_NULL_30: [u8; GREETING_LEN] = [
        0xFF, // signature start
        0, 0, 0, 0, 0, 0, 0, 0,    // padding: zeros
        0x7F, // signature end
        0x03, // version-major
        0x00, // version-minor (3.0)
        b'N', b'U', b'L', b'L', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    // "NULL"
        0x00, // as-server
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, // filler
    ];

    #[test]
    fn emit_libzmq_dealer_greeting() {
        let mut out = [0xAA; GREETING_LEN];
        GreetingRepr::new(Mechanism::Null).emit(0, &mut out);
        assert_eq!(out, LIBZMQ_DEALER_GREETING);
    }

    #[test]
    fn parse_libzmq_dealer_greeting() {
        let repr = GreetingRepr::parse(&LIBZMQ_DEALER_GREETING).unwrap();
        assert_eq!(
            repr,
            GreetingRepr {
                major: 3,
                minor: 1,
                mechanism: Mechanism::Null,
                as_server: false
            }
        );
        let g = Greeting::new_checked(&LIBZMQ_DEALER_GREETING[..]).unwrap();
        assert_eq!(g.signature_start(), 0xFF);
        assert_eq!(g.padding(), 1);
        assert_eq!(g.signature_end(), 0x7F);
    }

    #[test]
    fn parse_libzmq_test_greeting_zmtp30() {
        let repr = GreetingRepr::parse(&LIBZMQ_TEST_GREETING_NULL_30).unwrap();
        assert_eq!((repr.major, repr.minor), (3, 0));
        assert_eq!(repr.mechanism, Mechanism::Null);
        assert!(!repr.as_server);
    }

    #[test]
    fn emit_routing_id_length_in_padding() {
        // libzmq: a 5-byte routing id gives padding byte 8 = 0x06.
        let mut out = [0; GREETING_LEN];
        GreetingRepr::new(Mechanism::Curve).emit(5, &mut out);
        assert_eq!(&out[..10], &[0xFF, 0, 0, 0, 0, 0, 0, 0, 6, 0x7F]);
        assert_eq!(&out[12..18], b"CURVE\0");
        // 255-byte identity: padding 256 = 0x0100.
        GreetingRepr::new(Mechanism::Plain).emit(255, &mut out);
        assert_eq!(&out[..10], &[0xFF, 0, 0, 0, 0, 0, 0, 1, 0, 0x7F]);
    }

    #[test]
    fn emit_as_server_and_minor() {
        let repr = GreetingRepr {
            major: 3,
            minor: 0,
            mechanism: Mechanism::Plain,
            as_server: true,
        };
        let mut out = [0xAA; GREETING_LEN];
        repr.emit(0, &mut out);
        assert_eq!(out[10], 3); // major
        assert_eq!(out[11], 0); // minor
        assert_eq!(&out[12..32], b"PLAIN\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(out[32], 1); // as-server
        assert!(out[33..].iter().all(|&b| b == 0)); // filler
        assert_eq!(GreetingRepr::parse(&out), Ok(repr));
    }

    #[test]
    fn padding_and_filler_are_not_validated() {
        let mut g = LIBZMQ_DEALER_GREETING;
        g[1..9].copy_from_slice(b"garbage!");
        g[9] = 0x01; // only bit 0 matters
        g[40] = 0x55; // filler
        g[32] = 0x07; // as-server: non-zero reads as true
        let repr = GreetingRepr::parse(&g).unwrap();
        assert!(repr.as_server);
        assert_eq!(repr.mechanism, Mechanism::Null);
    }

    #[test]
    fn parse_ignores_bytes_after_the_greeting() {
        let mut buf = [0u8; GREETING_LEN + 3];
        buf[..GREETING_LEN].copy_from_slice(&LIBZMQ_DEALER_GREETING);
        buf[GREETING_LEN..].copy_from_slice(&[0x04, 0x29, 0x05]);
        assert!(GreetingRepr::parse(&buf).is_ok());
    }

    #[test]
    fn reject_bad_signature() {
        // A ZMTP 1.0 peer: first byte is a short identity length.
        assert_eq!(GreetingRepr::parse(&[0x01]), Err(Error::BadSignature));
        assert_eq!(check_signature(&[0x01, 0x00]), Err(Error::BadSignature));
        // Bit 0 of byte 9 clear: a 1.0 long identity frame header.
        let mut g = LIBZMQ_DEALER_GREETING;
        g[9] = 0x7E;
        assert_eq!(GreetingRepr::parse(&g), Err(Error::BadSignature));
        assert_eq!(check_signature(&g[..10]), Err(Error::BadSignature));
    }

    #[test]
    fn reject_truncated() {
        assert_eq!(check_signature(&[]), Err(Error::Truncated));
        assert_eq!(
            check_signature(&LIBZMQ_DEALER_GREETING[..9]),
            Err(Error::Truncated)
        );
        assert_eq!(check_signature(&LIBZMQ_DEALER_GREETING[..10]), Ok(()));
        for n in 0..GREETING_LEN {
            assert_eq!(
                GreetingRepr::parse(&LIBZMQ_DEALER_GREETING[..n]),
                Err(Error::Truncated),
                "length {n}"
            );
        }
        assert!(Greeting::new_checked(&LIBZMQ_DEALER_GREETING[..63]).is_err());
    }

    #[test]
    fn reject_old_major_accept_newer() {
        let mut g = LIBZMQ_DEALER_GREETING;
        for major in [0, 1, 2] {
            g[10] = major;
            assert_eq!(GreetingRepr::parse(&g), Err(Error::UnsupportedVersion));
        }
        g[10] = 4;
        assert_eq!(GreetingRepr::parse(&g).unwrap().major, 4);
    }

    #[test]
    fn mechanism_fields() {
        for (m, name) in [
            (Mechanism::Null, &b"NULL"[..]),
            (Mechanism::Plain, b"PLAIN"),
            (Mechanism::Curve, b"CURVE"),
            (Mechanism::Gssapi, b"GSSAPI"),
        ] {
            let field = m.to_field();
            assert_eq!(&field[..name.len()], name);
            assert!(field[name.len()..].iter().all(|&b| b == 0));
            assert_eq!(Mechanism::from_field(&field), m);
            assert_eq!(m.name(), name);
            assert_eq!(Mechanism::from_name(name), Some(m));
        }
        // Case-sensitive, exact match.
        let lower = Mechanism::from_name(b"null").unwrap();
        assert!(matches!(lower, Mechanism::Unknown(_)));
        assert_eq!(lower.name(), b"null");
        // Non-NUL padding is not "NULL".
        let mut f = Mechanism::Null.to_field();
        f[19] = b' ';
        assert_eq!(Mechanism::from_field(&f), Mechanism::Unknown(f));
        assert_eq!(Mechanism::from_field(&f).to_field(), f);
        assert_eq!(Mechanism::from_name(&[b'A'; 21]), None);
        assert_eq!(Mechanism::from_name(&[]).unwrap().name(), b"");
    }

    #[test]
    fn view_on_short_buffer_does_not_panic() {
        let mut short = [0xFFu8; 12];
        let mut g = Greeting::new_unchecked(&mut short[..]);
        assert_eq!(g.major(), 0xFF);
        assert!(!g.as_server());
        assert_eq!(g.mechanism_field(), [0; MECHANISM_LEN]);
        g.set_mechanism(&Mechanism::Null);
        g.set_as_server(true);
        g.clear_filler();
        g.set_signature(3);
        g.set_major(3);
        assert_eq!(
            g.into_inner(),
            &[0xFF, 0, 0, 0, 0, 0, 0, 0, 4, 0x7F, 3, 0xFF]
        );
    }

    fn any_mechanism() -> impl Strategy<Value = Mechanism> {
        prop_oneof![
            Just(Mechanism::Null),
            Just(Mechanism::Plain),
            Just(Mechanism::Curve),
            Just(Mechanism::Gssapi),
            any::<[u8; MECHANISM_LEN]>().prop_map(|f| Mechanism::from_field(&f)),
        ]
    }

    proptest! {
        #[test]
        fn emit_parse_round_trip(
            major in 3u8..,
            minor: u8,
            mechanism in any_mechanism(),
            as_server: bool,
            identity_len: u8,
        ) {
            let repr = GreetingRepr { major, minor, mechanism, as_server };
            let mut out = [0u8; GREETING_LEN];
            repr.emit(identity_len, &mut out);
            prop_assert_eq!(GreetingRepr::parse(&out), Ok(repr));
            let g = Greeting::new_checked(&out[..]).unwrap();
            prop_assert_eq!(g.padding(), u64::from(identity_len) + 1);
        }

        #[test]
        fn parse_arbitrary_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = GreetingRepr::parse(&buf);
            let _ = check_signature(&buf);
            let g = Greeting::new_unchecked(&buf[..]);
            let _ = (g.padding(), g.mechanism(), g.as_server(), g.minor());
        }
    }
}
