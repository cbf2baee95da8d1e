//! Metadata property lists, as carried by READY and INITIATE (RFC 23 / RFC 37
//! "The NULL Security Mechanism" grammar and "Connection Metadata").
//!
//! ```text
//! metadata = *property
//! property = name value
//! name     = short-size 1*255name-char      ; name-char = ALPHA | DIGIT | "-" | "_" | "." | "+"
//! value    = 4OCTET *OCTET                  ; big-endian length, 0 to 2^31-1
//! ```
//!
//! Names are case-insensitive per the RFC, but libzmq compares "Identity"
//! and "Socket-Type" case-sensitively; [`Properties::get`] and
//! [`Properties::get_exact`] offer both.
//!
//! Reading and writing differ on purpose. [`Properties::parse`] accepts
//! exactly what libzmq's `parse_metadata` accepts from a peer (READY,
//! INITIATE, a ZAP reply's metadata frame): any name bytes, empty names
//! included, and a list that ends where a name, a value length or a value
//! would have to continue (that last piece is dropped); a lone trailing
//! byte or bytes left inside a property are an error. A peer libzmq talks
//! to is a peer this crate talks to. [`PropertiesWriter`] writes only what
//! the RFC grammar allows.

use super::{Error, Reader, Writer};

/// Longest property name. RFC 23 metadata: name is 1 to 255 characters.
pub const MAX_NAME_LEN: usize = 255;
/// Largest property value length. RFC 37 metadata: 0 to 2^31-1 octets.
pub const MAX_VALUE_LEN: u32 = 0x7FFF_FFFF;
/// The socket type property. RFC 23 "The Socket-Type Property".
pub const SOCKET_TYPE: &[u8] = b"Socket-Type";
/// The identity property. RFC 23 "The Identity Property".
pub const IDENTITY: &[u8] = b"Identity";

/// Whether `b` may appear in a property name: `[A-Za-z0-9-_.+]` (RFC 23
/// name-char).
#[must_use]
pub const fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+')
}

/// Whether `name` is a valid property name: 1 to 255 [`is_name_char`]
/// characters.
#[must_use]
pub fn is_valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_LEN && name.iter().all(|&b| is_name_char(b))
}

/// Encoded length of one property: 1 + name + 4 + value (saturating).
#[must_use]
pub const fn property_len(name: &[u8], value: &[u8]) -> usize {
    1usize
        .saturating_add(name.len())
        .saturating_add(4)
        .saturating_add(value.len())
}

/// Reads one property as a step of libzmq's `parse_metadata` loop: `None`
/// where libzmq stops reading (`break`), with the reader having consumed
/// what libzmq has (a failed read of a name, value length or value
/// consumes nothing).
fn read_property<'a>(r: &mut Reader<'a>) -> Option<(&'a [u8], &'a [u8])> {
    let name_len = r.u8()?;
    let name = r.take(usize::from(name_len))?;
    let value_len = usize::try_from(r.u32_be()?).ok()?;
    let value = r.take(value_len)?;
    Some((name, value))
}

/// A property list read from the input (see the [module docs](self)),
/// borrowed from it. Never builds a map:
/// lookups scan the list.
///
/// ```
/// use zmtp_core::wire::{Properties, PropertiesWriter};
///
/// let mut buf = [0u8; 64];
/// let mut w = PropertiesWriter::new(&mut buf);
/// w.add(b"Socket-Type", b"DEALER")?;
/// w.add(b"X-Color", b"blue")?;
/// let n = w.len();
/// let props = Properties::parse(&buf[..n])?;
/// assert_eq!(props.get(b"socket-type"), Some(&b"DEALER"[..]));
/// assert_eq!(props.get_exact(b"socket-type"), None);
/// assert_eq!(props.iter().count(), 2);
/// # Ok::<(), zmtp_core::wire::Error>(())
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Properties<'a> {
    bytes: &'a [u8],
}

impl<'a> Properties<'a> {
    /// The empty list.
    pub const EMPTY: Properties<'static> = Properties { bytes: &[] };

    /// Reads a property list as libzmq's `parse_metadata` does: properties
    /// are read while more than one byte is left; the list is accepted if
    /// the input ends exactly where a name, a value length or a value
    /// would have to continue (that last piece is ignored: a name without a
    /// value length, or a value length with no value at all), and refused
    /// if anything else is left. Names are not checked (libzmq takes any).
    /// The list returned holds the whole input (it emits back to the same
    /// bytes); iterating it yields the complete properties.
    ///
    /// # Errors
    ///
    /// [`Error::Truncated`] if libzmq refuses the input: one lone trailing
    /// byte, or bytes left inside a property (a name, value length or
    /// value cut short with other bytes after the cut).
    pub fn parse(buf: &'a [u8]) -> Result<Self, Error> {
        Self::parse_with(buf, |_, _| true)
    }

    /// [`Properties::parse`], with `each` seeing every complete property in
    /// order; it returns `false` to refuse the list (libzmq checks every
    /// `Socket-Type` property so, in READY, INITIATE and ZAP replies).
    ///
    /// # Errors
    ///
    /// As [`Properties::parse`]; [`Error::BadPropertyValue`] if `each`
    /// refused a property (the properties after it are not read).
    pub fn parse_with(
        buf: &'a [u8],
        mut each: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<Self, Error> {
        let mut r = Reader::new(buf);
        while r.remaining() > 1 {
            let Some((name, value)) = read_property(&mut r) else {
                break;
            };
            if !each(name, value) {
                return Err(Error::BadPropertyValue);
            }
        }
        // What is left is libzmq's `bytes_left` after its loop.
        if r.remaining() > 0 {
            return Err(Error::Truncated);
        }
        Ok(Self { bytes: buf })
    }

    /// The `(name, value)` pairs in order.
    #[must_use]
    pub fn iter(&self) -> PropertiesIter<'a> {
        PropertiesIter {
            reader: Reader::new(self.bytes),
        }
    }

    /// The value of the first property whose name matches `name` ignoring
    /// ASCII case (the RFC rule).
    #[must_use]
    pub fn get(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The value of the first property whose name equals `name` exactly
    /// (libzmq's behaviour for "Identity" and "Socket-Type").
    #[must_use]
    pub fn get_exact(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// The encoded list.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether the list has no (complete) properties.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl<'a> IntoIterator for Properties<'a> {
    type Item = (&'a [u8], &'a [u8]);
    type IntoIter = PropertiesIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &Properties<'a> {
    type Item = (&'a [u8], &'a [u8]);
    type IntoIter = PropertiesIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over the `(name, value)` pairs of [`Properties`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PropertiesIter<'a> {
    reader: Reader<'a>,
}

impl<'a> Iterator for PropertiesIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.reader.is_empty() {
            return None;
        }
        let p = read_property(&mut self.reader);
        if p.is_none() {
            // The ignored last piece of a parsed list.
            self.reader.rest();
        }
        p
    }
}

/// Writes properties into a caller buffer.
///
/// Each [`PropertiesWriter::add`] either writes a whole property or
/// nothing, so the bytes written so far always form a valid list.
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PropertiesWriter<'b> {
    writer: Writer<'b>,
}

impl<'b> PropertiesWriter<'b> {
    /// A writer at the start of `out`.
    #[must_use]
    pub const fn new(out: &'b mut [u8]) -> Self {
        Self {
            writer: Writer::new(out),
        }
    }

    /// Appends one property.
    ///
    /// # Errors
    ///
    /// - [`Error::BadPropertyName`] if `name` is not 1 to 255 characters of
    ///   `[A-Za-z0-9-_.+]`;
    /// - [`Error::BadPropertyValue`] if `value` is longer than 2^31-1 bytes;
    /// - [`Error::BufferTooSmall`] if the property does not fit.
    ///
    /// On error nothing is written.
    pub fn add(&mut self, name: &[u8], value: &[u8]) -> Result<(), Error> {
        let name_len = u8::try_from(name.len()).map_err(|_| Error::BadPropertyName)?;
        if !is_valid_name(name) {
            return Err(Error::BadPropertyName);
        }
        let value_len = u32::try_from(value.len()).map_err(|_| Error::BadPropertyValue)?;
        if value_len > MAX_VALUE_LEN {
            return Err(Error::BadPropertyValue);
        }
        if property_len(name, value) > self.writer.remaining() {
            return Err(Error::BufferTooSmall);
        }
        self.writer.u8(name_len)?;
        self.writer.bytes(name)?;
        self.writer.u32_be(value_len)?;
        self.writer.bytes(value)
    }

    /// Appends a list as it is (also one read from a peer, whose names this
    /// writer would refuse).
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if it does not fit; nothing is written.
    pub fn extend(&mut self, props: Properties<'_>) -> Result<(), Error> {
        self.writer.bytes(props.as_bytes())
    }

    /// Number of bytes written.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.writer.len()
    }

    /// Whether nothing has been written.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.writer.is_empty()
    }

    /// The list written so far.
    #[must_use]
    pub fn properties(&self) -> Properties<'_> {
        Properties {
            bytes: self.writer.written(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    /// The metadata of the READY a libzmq DEALER sends with no routing id.
    /// Source: libzmq `src/mechanism.cpp` `add_basic_properties` writes
    /// Socket-Type, then Identity (only for REQ, DEALER and ROUTER, here
    /// with the empty routing id); each through `add_property` as
    /// name-length(1), name, value-length (u32 BE), value. Identical to the
    /// bytes after `05 'READY'` in libzmq `tests/testutil.hpp`
    /// `zmtp_ready_dealer`.
    const LIBZMQ_DEALER_METADATA: [u8; 35] = [
        0x0B, // name length 11
        b'S', b'o', b'c', b'k', b'e', b't', b'-', b'T', b'y', b'p', b'e', // name
        0x00, 0x00, 0x00, 0x06, // value length 6
        b'D', b'E', b'A', b'L', b'E', b'R', // value
        0x08, // name length 8
        b'I', b'd', b'e', b'n', b't', b'i', b't', b'y', // name
        0x00, 0x00, 0x00, 0x00, // value length 0 (no routing id)
    ];

    #[test]
    fn parse_libzmq_dealer_metadata() {
        let p = Properties::parse(&LIBZMQ_DEALER_METADATA).unwrap();
        let all: Vec<_> = p.iter().collect();
        assert_eq!(
            all,
            vec![
                (&b"Socket-Type"[..], &b"DEALER"[..]),
                (&b"Identity"[..], &b""[..])
            ]
        );
        assert_eq!(p.get(b"SOCKET-TYPE"), Some(&b"DEALER"[..]));
        assert_eq!(p.get_exact(SOCKET_TYPE), Some(&b"DEALER"[..]));
        assert_eq!(p.get_exact(b"socket-type"), None);
        assert_eq!(p.get(IDENTITY), Some(&b""[..]));
        assert_eq!(p.get(b"Resource"), None);
        assert_eq!(p.as_bytes(), &LIBZMQ_DEALER_METADATA);
        assert!(!p.is_empty());
        assert_eq!((&p).into_iter().count(), 2);
    }

    #[test]
    fn emit_libzmq_dealer_metadata() {
        let mut out = [0u8; 35];
        let mut w = PropertiesWriter::new(&mut out);
        assert!(w.is_empty());
        w.add(SOCKET_TYPE, b"DEALER").unwrap();
        w.add(IDENTITY, b"").unwrap();
        assert_eq!(w.len(), 35);
        assert_eq!(w.properties().as_bytes(), &LIBZMQ_DEALER_METADATA);
        assert_eq!(out, LIBZMQ_DEALER_METADATA);
        assert_eq!(property_len(SOCKET_TYPE, b"DEALER"), 22);
        assert_eq!(property_len(IDENTITY, b""), 13);
    }

    #[test]
    fn empty_list() {
        let p = Properties::parse(&[]).unwrap();
        assert!(p.is_empty());
        assert_eq!(p, Properties::EMPTY);
        assert_eq!(p.iter().next(), None);
    }

    #[test]
    fn first_duplicate_wins() {
        let bytes = [
            1, b'a', 0, 0, 0, 1, b'1', // a = "1"
            1, b'A', 0, 0, 0, 1, b'2', // A = "2"
        ];
        let p = Properties::parse(&bytes).unwrap();
        assert_eq!(p.get(b"a"), Some(&b"1"[..]));
        assert_eq!(p.get(b"A"), Some(&b"1"[..]));
        assert_eq!(p.get_exact(b"A"), Some(&b"2"[..]));
    }

    #[test]
    fn reject_malformed() {
        let ok = &LIBZMQ_DEALER_METADATA;
        // One trailing byte (libzmq: EPROTO).
        let mut v = ok.to_vec();
        v.push(0x01);
        assert_eq!(Properties::parse(&v), Err(Error::Truncated));
        // Cut inside the last property with bytes after the cut (at 31 the
        // name is whole and the input ends: accepted, see below).
        for cut in (23..ok.len()).filter(|&c| c != 31) {
            assert_eq!(
                Properties::parse(&ok[..cut]),
                Err(Error::Truncated),
                "cut {cut}"
            );
        }
        let cut = Properties::parse(&ok[..31]).unwrap();
        assert_eq!(cut.as_bytes(), &ok[..31]);
        assert_eq!(
            cut.iter().collect::<Vec<_>>(),
            vec![(SOCKET_TYPE, &b"DEALER"[..])]
        );
        // Cut inside the first value.
        assert_eq!(Properties::parse(&ok[..20]), Err(Error::Truncated));
        assert_eq!(Properties::parse(&[0]), Err(Error::Truncated));
        // Value runs past the end.
        assert_eq!(
            Properties::parse(&[1, b'a', 0, 0, 0, 2, b'x']),
            Err(Error::Truncated)
        );
    }

    /// Names libzmq takes and the RFC grammar does not: read, kept, found.
    #[test]
    fn any_name_is_read() {
        for bad in [b' ', b':', 0, 0x80, b'/'] {
            let buf = [1, bad, 0, 0, 0, 1, b'v'];
            let p = Properties::parse(&buf).unwrap();
            assert_eq!(p.get_exact(&[bad]), Some(&b"v"[..]));
        }
        let p = Properties::parse(&[0, 0, 0, 0, 0]).unwrap();
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![(&b""[..], &b""[..])]);
        // A value length above 2^31-1 is only a length: the value is not
        // there, the list ends (libzmq's break).
        let p = Properties::parse(&[1, b'a', 0x80, 0, 0, 0]).unwrap();
        assert_eq!(p.iter().next(), None);
    }

    /// libzmq 4.3.5's verdicts on these ZAP metadata frames (checked with
    /// pyzmq 27.3.0: HANDSHAKE_SUCCEEDED or ZAP_INVALID_METADATA, and the
    /// properties a message then carries).
    #[test]
    fn zap_reply_metadata_as_libzmq() {
        let ok = |buf: &'static [u8]| Properties::parse_with(buf, |_, _| true);
        let full = b"\x05X-abc\0\0\0\x01v";
        // Accepted: the input ends where a property would continue; that
        // piece is ignored.
        for (buf, kept) in [
            (&b""[..], &b""[..]),
            (b"\x05X-abc", b""),
            (b"\x05X-abc\0\0\0\x05", b""),
            (full, full),
            (b"\x05X-abc\0\0\0\x01v\x05X-def", full),
            (b"\x05X-abc\0\0\0\x01v\x05X-def\0\0\0\x09", full),
        ] {
            let p = ok(buf).unwrap();
            assert_eq!(p.as_bytes(), buf, "kept whole");
            let complete: Vec<_> = p.iter().collect();
            let expected: Vec<_> = Properties::parse(kept).unwrap().iter().collect();
            assert_eq!(complete, expected, "{buf:?}");
        }
        // Names outside the RFC grammar, empty ones included, are kept.
        let odd = b"\x00\0\0\0\x01v";
        assert_eq!(ok(odd).map(|p| p.as_bytes()), Ok(&odd[..]));
        let odd = b"\x05X-abc\0\0\0\x01v\x03a b\0\0\0\x01v\x01c\0\0\0\0";
        assert_eq!(ok(odd).map(|p| p.as_bytes()), Ok(&odd[..]));
        // Refused: bytes left inside a property, or one lone byte.
        for buf in [
            &b"\x05X-abc\0\0\0\x05ab"[..],
            b"\x05X-abc\0\0",
            b"\x01",
            b"\x00",
            b"\x00\x00",
            b"\x09X-abc",
            b"\x05X-abc\0\0\0\x01v\x01",
        ] {
            assert_eq!(ok(buf), Err(Error::Truncated), "{buf:?}");
        }
        // `each` sees every complete property and can refuse the list.
        let mut seen = 0;
        let r = Properties::parse_with(b"\x03a b\0\0\0\x01v\x01c\0\0\0\0\x01d", |n, _| {
            seen += 1;
            n != b"c"
        });
        assert_eq!((r, seen), (Err(Error::BadPropertyValue), 2));
    }

    #[test]
    fn name_validation() {
        assert!(is_valid_name(b"Socket-Type"));
        assert!(is_valid_name(b"X-a_b.c+9"));
        assert!(is_valid_name(&[b'a'; 255]));
        assert!(!is_valid_name(&[b'a'; 256]));
        assert!(!is_valid_name(b""));
        assert!(!is_valid_name(b"a b"));
    }

    #[test]
    fn writer_rejects_and_writes_nothing() {
        let mut out = [0xAA; 8];
        let mut w = PropertiesWriter::new(&mut out);
        assert_eq!(w.add(b"", b""), Err(Error::BadPropertyName));
        assert_eq!(w.add(b"a b", b""), Err(Error::BadPropertyName));
        assert_eq!(w.add(&[b'a'; 256], b""), Err(Error::BadPropertyName));
        assert_eq!(w.add(b"abcd", b""), Err(Error::BufferTooSmall)); // needs 9
        assert_eq!(w.len(), 0);
        w.add(b"abc", b"").unwrap(); // exactly 8
        assert_eq!(w.add(b"a", b""), Err(Error::BufferTooSmall));
        assert_eq!(
            w.extend(Properties::parse(&[1, b'a', 0, 0, 0, 0]).unwrap()),
            Err(Error::BufferTooSmall)
        );
        w.extend(Properties::EMPTY).unwrap();
        assert_eq!(out, [3, b'a', b'b', b'c', 0, 0, 0, 0]);
    }

    /// Every character RFC 23 allows in a property name.
    const NAME_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.+";

    fn any_name() -> impl Strategy<Value = Vec<u8>> {
        let len = prop_oneof![1usize..=16, 250usize..=255];
        len.prop_flat_map(|n| proptest::collection::vec(proptest::sample::select(NAME_CHARS), n))
    }

    fn any_props() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
        proptest::collection::vec(
            (any_name(), proptest::collection::vec(any::<u8>(), 0..40)),
            0..6,
        )
    }

    proptest! {
        #[test]
        fn emit_parse_round_trip(props in any_props()) {
            let total: usize = props.iter().map(|(n, v)| property_len(n, v)).sum();
            let mut out = vec![0; total];
            let mut w = PropertiesWriter::new(&mut out);
            for (n, v) in &props {
                w.add(n, v).unwrap();
            }
            prop_assert_eq!(w.len(), total);
            let parsed = Properties::parse(&out).unwrap();
            let got: Vec<(Vec<u8>, Vec<u8>)> =
                parsed.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
            prop_assert_eq!(got, props);
        }

        /// Any input: a list that parses is a prefix of the input, iterates
        /// over every byte of that prefix, and reads the same again.
        #[test]
        fn parse_arbitrary_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(p) = Properties::parse(&buf) {
                prop_assert_eq!(p.as_bytes(), &buf[..]);
                // The complete properties, then at most an ignored name or
                // value length (1 + 255 + 4 bytes).
                let n: usize = p.iter().map(|(n, v)| property_len(n, v)).sum();
                prop_assert!(n <= buf.len() && buf.len() - n <= 260);
                prop_assert_eq!(Properties::parse(p.as_bytes()), Ok(p));
                prop_assert_eq!(Properties::parse_with(&buf, |_, _| true), Ok(p));
            }
        }
    }
}
