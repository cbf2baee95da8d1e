//! A cursor over an output slice: the one place the wire emitters write.
//!
//! Every write is checked; a write that does not fit returns
//! [`Error::BufferTooSmall`] and writes nothing. Integers are written
//! big-endian (network byte order, RFC 23 / RFC 37).

use super::Error;

/// A forward-only cursor over a caller-provided output buffer.
///
/// ```
/// use zmtp_core::wire::Writer;
///
/// let mut buf = [0u8; 4];
/// let mut w = Writer::new(&mut buf);
/// w.u8(0x04)?;
/// w.bytes(b"ab")?;
/// assert!(w.u16_be(7).is_err()); // one byte left; nothing written
/// assert_eq!(w.len(), 3);
/// assert_eq!(w.written(), &[0x04, b'a', b'b']);
/// # Ok::<(), zmtp_core::wire::Error>(())
/// ```
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> Writer<'b> {
    /// A writer positioned at the start of `buf`.
    #[must_use]
    pub const fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Appends `src`.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if `src` does not fit; nothing is written.
    pub fn bytes(&mut self, src: &[u8]) -> Result<(), Error> {
        let dst = self
            .buf
            .get_mut(self.pos..)
            .and_then(|tail| tail.get_mut(..src.len()))
            .ok_or(Error::BufferTooSmall)?;
        dst.copy_from_slice(src);
        self.pos = self
            .pos
            .checked_add(src.len())
            .ok_or(Error::BufferTooSmall)?;
        Ok(())
    }

    /// Appends one byte.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if the buffer is full.
    pub fn u8(&mut self, v: u8) -> Result<(), Error> {
        self.bytes(&[v])
    }

    /// Appends a big-endian `u16`.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if it does not fit; nothing is written.
    pub fn u16_be(&mut self, v: u16) -> Result<(), Error> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a big-endian `u32`.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if it does not fit; nothing is written.
    pub fn u32_be(&mut self, v: u32) -> Result<(), Error> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends a big-endian `u64`.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if it does not fit; nothing is written.
    pub fn u64_be(&mut self, v: u64) -> Result<(), Error> {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends `n` zero bytes.
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if they do not fit; nothing is written.
    pub fn zeros(&mut self, n: usize) -> Result<(), Error> {
        let dst = self
            .buf
            .get_mut(self.pos..)
            .and_then(|tail| tail.get_mut(..n))
            .ok_or(Error::BufferTooSmall)?;
        dst.fill(0);
        self.pos = self.pos.checked_add(n).ok_or(Error::BufferTooSmall)?;
        Ok(())
    }

    /// How many bytes have been written.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.pos
    }

    /// Whether nothing has been written yet.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// How many more bytes fit.
    #[must_use]
    pub const fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The bytes written so far.
    #[must_use]
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_big_endian_and_refuses_overflow() {
        let mut buf = [0xEE; 16];
        let mut w = Writer::new(&mut buf);
        assert!(w.is_empty());
        w.u8(0xAB).unwrap();
        w.u16_be(0x0102).unwrap();
        w.u32_be(0x0304_0506).unwrap();
        w.u64_be(0x0708_090A_0B0C_0D0E).unwrap();
        assert_eq!(w.remaining(), 1);
        assert_eq!(w.u16_be(0), Err(Error::BufferTooSmall));
        assert_eq!(w.zeros(2), Err(Error::BufferTooSmall));
        w.zeros(1).unwrap();
        assert_eq!(w.u8(0), Err(Error::BufferTooSmall));
        assert_eq!(w.len(), 16);
        assert_eq!(
            w.written(),
            &[
                0xAB, // u8
                0x01, 0x02, // u16
                0x03, 0x04, 0x05, 0x06, // u32
                0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, // u64
                0x00, // zeros(1)
            ]
        );
    }

    #[test]
    fn empty_write_always_fits() {
        let mut buf = [];
        let mut w = Writer::new(&mut buf);
        w.bytes(&[]).unwrap();
        w.zeros(0).unwrap();
        assert_eq!(w.len(), 0);
        assert_eq!(w.u8(1), Err(Error::BufferTooSmall));
    }
}
