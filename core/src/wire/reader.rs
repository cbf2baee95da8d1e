//! A cursor over an input slice: the one place the wire parsers cut slices.
//!
//! Every read is checked; a read past the end returns `None` and consumes
//! nothing. Multi-byte integers are big-endian ("network byte order", RFC 23
//! and RFC 37 use it for every integer on the wire).

/// A forward-only cursor over a borrowed byte slice.
///
/// ```
/// use zmtp_core::wire::Reader;
///
/// let mut r = Reader::new(&[0x01, 0x00, 0x02, b'h', b'i']);
/// assert_eq!(r.u8(), Some(1));
/// assert_eq!(r.u16_be(), Some(2));
/// assert_eq!(r.take(3), None); // only 2 bytes left; nothing consumed
/// assert_eq!(r.rest(), b"hi");
/// assert!(r.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `buf`.
    #[must_use]
    pub const fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// The next `n` bytes, or `None` (consuming nothing) if fewer are left.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.buf.split_at_checked(n)?;
        self.buf = tail;
        Some(head)
    }

    /// The next `N` bytes as an array, or `None` (consuming nothing) if fewer
    /// are left.
    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.buf.split_first_chunk::<N>()?;
        self.buf = tail;
        Some(*head)
    }

    /// The next byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    /// The next two bytes as a big-endian `u16`.
    pub fn u16_be(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    /// The next four bytes as a big-endian `u32`.
    pub fn u32_be(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    /// The next eight bytes as a big-endian `u64`.
    pub fn u64_be(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }

    /// The next byte without consuming it.
    #[must_use]
    pub fn peek_u8(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    /// Everything left; the reader is empty afterwards.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.buf)
    }

    /// How many bytes are left.
    #[must_use]
    pub const fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether no bytes are left.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// How many bytes have been consumed from `original`, the slice this
    /// reader was created over. Saturates at 0 if `original` is shorter than
    /// what is left.
    #[must_use]
    pub const fn consumed_from(&self, original: &[u8]) -> usize {
        original.len().saturating_sub(self.buf.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian() {
        let bytes = [
            0xAB, // u8
            0x01, 0x02, // u16 0x0102
            0x01, 0x02, 0x03, 0x04, // u32 0x01020304
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // u64
        ];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8(), Some(0xAB));
        assert_eq!(r.u16_be(), Some(0x0102));
        assert_eq!(r.u32_be(), Some(0x0102_0304));
        assert_eq!(r.u64_be(), Some(0x0102_0304_0506_0708));
        assert!(r.is_empty());
        assert_eq!(r.consumed_from(&bytes), bytes.len());
    }

    #[test]
    fn short_reads_consume_nothing() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32_be(), None);
        assert_eq!(r.u64_be(), None);
        assert_eq!(r.take(4), None);
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.peek_u8(), Some(1));
        assert_eq!(r.take(0), Some(&[][..]));
        assert_eq!(r.u16_be(), Some(0x0102));
        assert_eq!(r.u16_be(), None);
        assert_eq!(r.u8(), Some(3));
        assert_eq!(r.u8(), None);
        assert_eq!(r.peek_u8(), None);
        assert_eq!(r.rest(), &[][..]);
    }

    #[test]
    fn rest_consumes_everything() {
        let mut r = Reader::new(b"abc");
        assert_eq!(r.take(1), Some(&b"a"[..]));
        assert_eq!(r.rest(), b"bc");
        assert_eq!(r.remaining(), 0);
        assert_eq!(r.rest(), b"");
    }
}
