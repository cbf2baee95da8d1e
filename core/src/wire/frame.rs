//! ZMTP frames (RFC 23 / RFC 37 "Framing").
//!
//! ```text
//! frame  = flags size body
//! flags  = 1 octet: bit 0 MORE, bit 1 LONG, bit 2 COMMAND, bits 3..7 reserved (0)
//! size   = 1 octet (LONG clear) | 8 octets big-endian (LONG set), body length
//! ```
//!
//! Frame-type bytes as libzmq writes them: `0x00` last, `0x01` more, `0x02`
//! last long, `0x03` more long, `0x04` command, `0x06` command long. libzmq
//! uses LONG only for bodies above 255 bytes but accepts it for any size.
//! A long body is at most 2^63-1 bytes (RFC 37 long-size).
//!
//! This module is stricter than libzmq's decoder, which ignores reserved bits
//! and accepts MORE on commands: both are rejected here
//! ([`Error::BadFlags`]), as RFC 23 requires them to be zero.

use super::{Error, Reader, Writer};

/// Header length of a frame with a short (1-byte) size. RFC 23 framing.
pub const SHORT_HEADER_LEN: usize = 2;
/// Header length of a frame with a long (8-byte) size. RFC 23 framing.
pub const LONG_HEADER_LEN: usize = 9;
/// Largest body that uses the short size form. RFC 23: short-size is 0 to
/// 255 octets.
pub const MAX_SHORT_SIZE: u64 = 255;
/// Largest body a long size may announce. RFC 37: long-size is 0 to 2^63-1
/// octets.
pub const MAX_LONG_SIZE: u64 = 0x7FFF_FFFF_FFFF_FFFF;

/// The flags octet of a frame. Every value of this type is valid: no
/// reserved bits, and not COMMAND together with MORE.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Flags(u8);

impl Flags {
    /// Bit 0: more frames follow in this message. RFC 23 framing.
    pub const MORE: u8 = 0x01;
    /// Bit 1: the size field is 8 bytes. RFC 23 framing.
    pub const LONG: u8 = 0x02;
    /// Bit 2: the frame is a command. RFC 23 framing.
    pub const COMMAND: u8 = 0x04;
    /// Bits 3..7: reserved, must be zero. RFC 23 framing.
    pub const RESERVED: u8 = !(Self::MORE | Self::LONG | Self::COMMAND);

    /// Validates a received flags octet.
    ///
    /// # Errors
    ///
    /// [`Error::BadFlags`] if a reserved bit is set, or COMMAND is set
    /// together with MORE.
    pub const fn from_byte(b: u8) -> Result<Self, Error> {
        if b & Self::RESERVED != 0 {
            return Err(Error::BadFlags);
        }
        if b & Self::COMMAND != 0 && b & Self::MORE != 0 {
            return Err(Error::BadFlags);
        }
        Ok(Self(b))
    }

    /// Flags for an outgoing frame, with LONG clear ([`emit_header`] decides
    /// LONG from the size). A command never has MORE (RFC 23), so `more` is
    /// ignored when `command` is set.
    #[must_use]
    pub const fn new(more: bool, command: bool) -> Self {
        if command {
            Self(Self::COMMAND)
        } else if more {
            Self(Self::MORE)
        } else {
            Self(0)
        }
    }

    /// The octet.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether MORE is set.
    #[must_use]
    pub const fn is_more(self) -> bool {
        self.0 & Self::MORE != 0
    }

    /// Whether LONG is set.
    #[must_use]
    pub const fn is_long(self) -> bool {
        self.0 & Self::LONG != 0
    }

    /// Whether COMMAND is set.
    #[must_use]
    pub const fn is_command(self) -> bool {
        self.0 & Self::COMMAND != 0
    }

    /// These flags with LONG set or cleared.
    #[must_use]
    pub const fn with_long(self, long: bool) -> Self {
        if long {
            Self(self.0 | Self::LONG)
        } else {
            Self(self.0 & !Self::LONG)
        }
    }
}

/// Size of the header (flags + size field) for a body of `size` bytes:
/// [`SHORT_HEADER_LEN`] if `size <= 255`, else [`LONG_HEADER_LEN`] (libzmq
/// uses LONG only above 255).
#[must_use]
pub const fn header_len(size: u64) -> usize {
    if size <= MAX_SHORT_SIZE {
        SHORT_HEADER_LEN
    } else {
        LONG_HEADER_LEN
    }
}

/// A body length as `u64` (lossless on every platform Rust supports).
fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// Writes flags and size: the short form if `size <= 255`, else LONG with
/// an 8-byte big-endian size. The LONG bit of `flags` is ignored and
/// recomputed. Returns the number of bytes written.
///
/// # Errors
///
/// [`Error::BufferTooSmall`] if `out` is shorter than [`header_len`]`(size)`
/// (nothing is written), or `size` is above 2^63-1 (not encodable).
pub fn emit_header(flags: Flags, size: u64, out: &mut [u8]) -> Result<usize, Error> {
    if size > MAX_LONG_SIZE {
        return Err(Error::BufferTooSmall);
    }
    let len = header_len(size);
    let mut w = Writer::new(out.get_mut(..len).ok_or(Error::BufferTooSmall)?);
    match u8::try_from(size) {
        Ok(short) => {
            w.u8(flags.with_long(false).bits())?;
            w.u8(short)?;
        }
        Err(_) => {
            w.u8(flags.with_long(true).bits())?;
            w.u64_be(size)?;
        }
    }
    Ok(w.len())
}

/// A whole frame held in one buffer.
///
/// ```
/// use zmtp_core::wire::FrameRepr;
///
/// let frame = FrameRepr { more: true, command: false, body: b"hello" };
/// let mut buf = [0u8; 16];
/// let n = frame.emit(&mut buf)?;
/// assert_eq!(&buf[..n], b"\x01\x05hello"); // MORE, size 5, body
/// assert_eq!(n, frame.buffer_len());
/// assert_eq!(FrameRepr::parse(&buf[..n])?, Some((frame, n)));
/// assert_eq!(FrameRepr::parse(&buf[..n - 1])?, None); // need more bytes
/// # Ok::<(), zmtp_core::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FrameRepr<'a> {
    /// MORE: another frame of the same message follows.
    pub more: bool,
    /// COMMAND: the body is a command.
    pub command: bool,
    /// The body.
    pub body: &'a [u8],
}

impl<'a> FrameRepr<'a> {
    /// Parses one complete frame from the front of `buf`.
    ///
    /// Returns `Ok(None)` if `buf` holds less than a whole frame (need more
    /// bytes), else `Ok(Some((frame, consumed)))`. Bytes after the frame are
    /// left alone. LONG frames of any size are accepted (libzmq accepts LONG
    /// for small bodies).
    ///
    /// # Errors
    ///
    /// - [`Error::BadFlags`] as soon as the flags octet is present and
    ///   invalid (see [`Flags::from_byte`]);
    /// - [`Error::TooLarge`] as soon as a long size above 2^63-1, or above
    ///   what this platform can address, is present.
    pub fn parse(buf: &'a [u8]) -> Result<Option<(Self, usize)>, Error> {
        let mut r = Reader::new(buf);
        let Some(flags) = r.u8() else {
            return Ok(None);
        };
        let flags = Flags::from_byte(flags)?;
        let size = if flags.is_long() {
            r.u64_be()
        } else {
            r.u8().map(u64::from)
        };
        let Some(size) = size else {
            return Ok(None);
        };
        if size > MAX_LONG_SIZE {
            return Err(Error::TooLarge);
        }
        let size = usize::try_from(size).map_err(|_| Error::TooLarge)?;
        let Some(body) = r.take(size) else {
            return Ok(None);
        };
        let frame = Self {
            more: flags.is_more(),
            command: flags.is_command(),
            body,
        };
        Ok(Some((frame, r.consumed_from(buf))))
    }

    /// The flags [`FrameRepr::emit`] writes (LONG excluded).
    #[must_use]
    pub const fn flags(&self) -> Flags {
        Flags::new(self.more, self.command)
    }

    /// The number of bytes [`FrameRepr::emit`] writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        header_len(len_u64(self.body.len())).saturating_add(self.body.len())
    }

    /// Writes the frame (header, then body). Returns the number of bytes
    /// written, [`FrameRepr::buffer_len`].
    ///
    /// # Errors
    ///
    /// - [`Error::BufferTooSmall`] if `out` is shorter than
    ///   [`FrameRepr::buffer_len`] (nothing is written);
    /// - [`Error::BadFlags`] if both `more` and `command` are set.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, Error> {
        if self.more && self.command {
            return Err(Error::BadFlags);
        }
        let out = out
            .get_mut(..self.buffer_len())
            .ok_or(Error::BufferTooSmall)?;
        let header = emit_header(self.flags(), len_u64(self.body.len()), out)?;
        let mut w = Writer::new(out.get_mut(header..).ok_or(Error::BufferTooSmall)?);
        w.bytes(self.body)?;
        header.checked_add(w.len()).ok_or(Error::BufferTooSmall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    #[test]
    fn flags_from_byte() {
        for b in [0x00, 0x01, 0x02, 0x03, 0x04, 0x06] {
            assert_eq!(Flags::from_byte(b).unwrap().bits(), b);
        }
        // COMMAND | MORE, with and without LONG.
        assert_eq!(Flags::from_byte(0x05), Err(Error::BadFlags));
        assert_eq!(Flags::from_byte(0x07), Err(Error::BadFlags));
        // Reserved bits 3..7.
        for bit in 3..8 {
            assert_eq!(Flags::from_byte(1 << bit), Err(Error::BadFlags));
        }
        let f = Flags::from_byte(0x03).unwrap();
        assert!(f.is_more() && f.is_long() && !f.is_command());
        let f = Flags::from_byte(0x06).unwrap();
        assert!(!f.is_more() && f.is_long() && f.is_command());
    }

    #[test]
    fn flags_new() {
        assert_eq!(Flags::new(false, false).bits(), 0x00);
        assert_eq!(Flags::new(true, false).bits(), 0x01);
        assert_eq!(Flags::new(false, true).bits(), 0x04);
        assert_eq!(Flags::new(true, true).bits(), 0x04); // MORE dropped
    }

    #[test]
    fn header_lengths() {
        assert_eq!(header_len(0), 2);
        assert_eq!(header_len(255), 2);
        assert_eq!(header_len(256), 9);
        assert_eq!(header_len(u64::MAX), 9);
    }

    #[test]
    fn emit_header_golden() {
        let mut out = [0xAA; 9];
        // Short: flags, size.
        assert_eq!(emit_header(Flags::new(true, false), 255, &mut out), Ok(2));
        assert_eq!(&out[..2], &[0x01, 0xFF]);
        // LONG bit in the input is recomputed away for short sizes.
        let long_more = Flags::from_byte(0x03).unwrap();
        assert_eq!(emit_header(long_more, 3, &mut out), Ok(2));
        assert_eq!(&out[..2], &[0x01, 0x03]);
        // Long: flags | LONG, 8-byte big-endian size.
        assert_eq!(emit_header(Flags::new(false, true), 256, &mut out), Ok(9));
        assert_eq!(out, [0x06, 0, 0, 0, 0, 0, 0, 0x01, 0x00]);
        assert_eq!(
            emit_header(Flags::new(false, false), MAX_LONG_SIZE, &mut out),
            Ok(9)
        );
        assert_eq!(out, [0x02, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
    }

    #[test]
    fn emit_header_rejects() {
        let mut out = [0xAA; 9];
        assert_eq!(
            emit_header(Flags::default(), 256, &mut out[..8]),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(out, [0xAA; 9]); // nothing written
        assert_eq!(
            emit_header(Flags::default(), 1, &mut out[..1]),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(
            emit_header(Flags::default(), MAX_LONG_SIZE + 1, &mut out),
            Err(Error::BufferTooSmall)
        );
    }

    /// Golden frames from libzmq `tests/test_mock_pub_sub.cpp`: the XPUB
    /// sends data "ALOL" as `00 04 'A' 'L' 'O' 'L'` and a ZMTP 3.0 SUB sends
    /// its subscription as the data frame `00 02 01 'A'`.
    #[test]
    fn parse_libzmq_data_frames() {
        let bytes = [
            0x00, // flags: last, short
            0x04, // size 4
            b'A', b'L', b'O', b'L', // body
            0x00, // next frame: flags last short
            0x02, // size 2
            0x01, b'A', // body: subscribe "A" (ZMTP 3.0 form)
        ];
        let (f, n) = FrameRepr::parse(&bytes).unwrap().unwrap();
        assert_eq!(n, 6);
        assert_eq!(
            f,
            FrameRepr {
                more: false,
                command: false,
                body: b"ALOL"
            }
        );
        let (f, n2) = FrameRepr::parse(&bytes[n..]).unwrap().unwrap();
        assert_eq!(n2, 4);
        assert_eq!(f.body, b"\x01A");

        let mut out = [0; 6];
        assert_eq!(
            FrameRepr {
                more: false,
                command: false,
                body: b"ALOL"
            }
            .emit(&mut out),
            Ok(6)
        );
        assert_eq!(out, bytes[..6]);
    }

    #[test]
    fn parse_emit_command_and_long() {
        // PING command frame from libzmq tests/test_heartbeats.cpp.
        let ping = [
            0x04, // flags: COMMAND, short
            0x0A, // size 10
            0x04, b'P', b'I', b'N', b'G', 0x00, 0x00, b'L', b'O', b'L', // body
        ];
        let (f, n) = FrameRepr::parse(&ping).unwrap().unwrap();
        assert_eq!((f.command, f.more, n), (true, false, 12));
        assert_eq!(f.body, &ping[2..]);

        // LONG accepted for a small body (libzmq accepts it), 3 bytes.
        let long_small = [0x03, 0, 0, 0, 0, 0, 0, 0, 3, b'a', b'b', b'c', 0xEE];
        let (f, n) = FrameRepr::parse(&long_small).unwrap().unwrap();
        assert_eq!(
            (f.more, f.command, f.body, n),
            (true, false, &b"abc"[..], 12)
        );
        // Re-emitted in libzmq's short form.
        let mut out = [0; 5];
        assert_eq!(f.emit(&mut out), Ok(5));
        assert_eq!(out, [0x01, 0x03, b'a', b'b', b'c']);

        // A 256-byte body is emitted LONG.
        let body = [0x5A; 256];
        let frame = FrameRepr {
            more: false,
            command: false,
            body: &body,
        };
        let mut out = vec![0; frame.buffer_len()];
        assert_eq!(frame.buffer_len(), 265);
        assert_eq!(frame.emit(&mut out), Ok(265));
        assert_eq!(&out[..9], &[0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x00]);
        assert_eq!(FrameRepr::parse(&out).unwrap(), Some((frame, 265)));
    }

    #[test]
    fn parse_needs_more_bytes() {
        assert_eq!(FrameRepr::parse(&[]), Ok(None));
        assert_eq!(FrameRepr::parse(&[0x00]), Ok(None));
        assert_eq!(FrameRepr::parse(&[0x00, 0x02, b'a']), Ok(None));
        assert_eq!(FrameRepr::parse(&[0x02, 0, 0, 0, 0, 0, 0, 0]), Ok(None));
        assert_eq!(
            FrameRepr::parse(&[0x02, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2]),
            Ok(None)
        );
        // An empty frame is complete.
        let (f, n) = FrameRepr::parse(&[0x00, 0x00]).unwrap().unwrap();
        assert_eq!((f.body, n), (&b""[..], 2));
    }

    #[test]
    fn reject_malformed() {
        assert_eq!(FrameRepr::parse(&[0x08]), Err(Error::BadFlags));
        assert_eq!(FrameRepr::parse(&[0x05, 0x00]), Err(Error::BadFlags));
        assert_eq!(FrameRepr::parse(&[0x80, 0x00]), Err(Error::BadFlags));
        // Size 2^63 and 2^64-1: not encodable per RFC 37.
        assert_eq!(
            FrameRepr::parse(&[0x02, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(Error::TooLarge)
        );
        assert_eq!(
            FrameRepr::parse(&[0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            Err(Error::TooLarge)
        );
        // Emit with COMMAND | MORE.
        let bad = FrameRepr {
            more: true,
            command: true,
            body: b"",
        };
        assert_eq!(bad.emit(&mut [0; 2]), Err(Error::BadFlags));
        // Emit into a short buffer writes nothing.
        let f = FrameRepr {
            more: false,
            command: false,
            body: b"abc",
        };
        let mut out = [0xAA; 4];
        assert_eq!(f.emit(&mut out), Err(Error::BufferTooSmall));
        assert_eq!(out, [0xAA; 4]);
    }

    fn any_frame_parts() -> impl Strategy<Value = (bool, bool, Vec<u8>)> {
        (
            any::<bool>(),
            any::<bool>(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..=255),
                proptest::collection::vec(any::<u8>(), 256..600),
            ],
        )
            .prop_map(|(more, command, body)| (more && !command, command, body))
    }

    proptest! {
        #[test]
        fn emit_parse_round_trip((more, command, body) in any_frame_parts(), extra in proptest::collection::vec(any::<u8>(), 0..4)) {
            let frame = FrameRepr { more, command, body: &body };
            let mut out = vec![0; frame.buffer_len() + extra.len()];
            let n = frame.emit(&mut out).unwrap();
            prop_assert_eq!(n, frame.buffer_len());
            out[n..].copy_from_slice(&extra);
            prop_assert_eq!(FrameRepr::parse(&out).unwrap(), Some((frame, n)));
            // Every strict prefix needs more bytes.
            for cut in [0, 1, n / 2, n - 1] {
                prop_assert_eq!(FrameRepr::parse(&out[..cut]).unwrap(), None);
            }
        }

        #[test]
        fn parse_arbitrary_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(Some((frame, consumed))) = FrameRepr::parse(&buf) {
                prop_assert!(consumed <= buf.len());
                prop_assert!(consumed >= SHORT_HEADER_LEN + frame.body.len());
            }
        }
    }
}
