//! [`MsgRing`]: a ring of variable-length records, each contiguous in memory.

use core::fmt;
use core::iter::FusedIterator;

use super::Full;

/// Where the data sits in the buffer.
///
/// Without a wrap the committed records occupy `read..write`. With
/// `wrap: Some(end)` they occupy `read..end` and then `0..write`, and
/// `end..capacity` is a skipped tail the reader jumps over. Invariants:
/// `read < end` while wrapped (the reader unwraps as soon as it reaches
/// `end`), `write <= read` while wrapped, and `read == write` without a wrap
/// only when no record is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursors {
    /// Offset of the oldest committed record's header.
    read: usize,
    /// Offset where the next record's header goes.
    write: usize,
    /// End of the data before the skipped tail, when the data wraps.
    wrap: Option<usize>,
}

/// Where a new record goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    /// Offset of the record's header.
    start: usize,
    /// The record starts at 0 and the tail after `write` is skipped.
    wraps: bool,
}

impl Cursors {
    /// The cursors of an empty ring.
    const START: Self = Self {
        read: 0,
        write: 0,
        wrap: None,
    };

    /// Where a record of `need` bytes would go in a buffer of `cap` bytes.
    fn place(self, cap: usize, need: usize) -> Option<Place> {
        match self.wrap {
            None => {
                if cap.checked_sub(self.write)? >= need {
                    Some(Place {
                        start: self.write,
                        wraps: false,
                    })
                } else if need <= self.read {
                    Some(Place {
                        start: 0,
                        wraps: true,
                    })
                } else {
                    None
                }
            }
            Some(_) => (self.read.checked_sub(self.write)? >= need).then_some(Place {
                start: self.write,
                wraps: false,
            }),
        }
    }

    /// The cursors once a record of `need` bytes at `place` is committed.
    fn advance(self, place: Place, need: usize) -> Option<Self> {
        let write = place.start.checked_add(need)?;
        Some(if place.wraps {
            Self {
                read: self.read,
                write,
                wrap: Some(self.write),
            }
        } else {
            Self { write, ..self }
        })
    }

    /// Where the record after the one ending at `end` starts.
    fn next(self, end: usize) -> usize {
        if self.wrap == Some(end) { 0 } else { end }
    }
}

/// A record being written in pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reservation {
    place: Place,
    body_len: usize,
    written: usize,
    flags: u8,
}

impl Reservation {
    /// Offset of the body's first byte.
    fn body_start(&self) -> Option<usize> {
        self.place.start.checked_add(MsgRing::HEADER_LEN)
    }
}

/// One record read from the buffer.
struct Record<'r> {
    flags: u8,
    body: &'r [u8],
    /// Offset just past the body.
    end: usize,
}

/// The header bytes of a record: body length (`u32`, little-endian), flags.
fn encode_header(flags: u8, body_len: u32) -> [u8; MsgRing::HEADER_LEN] {
    let [a, b, c, d] = body_len.to_le_bytes();
    [a, b, c, d, flags]
}

/// Reads the record whose header starts at `pos`.
fn record_at(buf: &[u8], pos: usize) -> Option<Record<'_>> {
    let &[a, b, c, d, flags] = buf.get(pos..)?.first_chunk::<{ MsgRing::HEADER_LEN }>()?;
    let body_len = usize::try_from(u32::from_le_bytes([a, b, c, d])).ok()?;
    let start = pos.checked_add(MsgRing::HEADER_LEN)?;
    let end = start.checked_add(body_len)?;
    let body = buf.get(start..end)?;
    Some(Record { flags, body, end })
}

/// A ring of variable-length records over caller-provided memory.
///
/// A record is a flags byte (a ZMTP frame's flags, RFC 23 "Message frames",
/// or any byte the caller wants) plus a body. Each record is stored
/// contiguously, so [`front`](Self::front) and [`iter`](Self::iter) hand
/// out plain `&[u8]` bodies without copying. The [module
/// documentation](super) describes what a record costs and when a ring
/// refuses one.
///
/// Records are added whole ([`push`](Self::push),
/// [`push_parts`](Self::push_parts)) or streamed
/// ([`begin`](Self::begin), [`write`](Self::write),
/// [`commit`](Self::commit)): a streamed record is invisible to readers
/// until it is committed. There is at most one reservation at a time, and
/// `push`, `push_parts`, `begin` and `clear` drop a pending one.
///
/// ```
/// use zmtp_core::queue::MsgRing;
///
/// let mut storage = [0u8; 64];
/// let mut ring = MsgRing::new(&mut storage);
/// ring.push(0x01, b"hello")?;
/// ring.push_parts(0x00, &[b"\x01", b"topic"])?;
/// assert_eq!(ring.front(), Some((0x01, &b"hello"[..])));
/// assert!(ring.pop());
/// assert_eq!(ring.front(), Some((0x00, &b"\x01topic"[..])));
/// # Ok::<(), zmtp_core::queue::Full>(())
/// ```
pub struct MsgRing<'a> {
    buf: &'a mut [u8],
    cur: Cursors,
    /// Committed records.
    len: usize,
    res: Option<Reservation>,
}

impl<'a> MsgRing<'a> {
    /// Bytes of overhead per record: the body length as a little-endian
    /// `u32` followed by the flags byte.
    pub const HEADER_LEN: usize = 5;

    /// A ring over `buf`. Any length works; with fewer than
    /// [`HEADER_LEN`](Self::HEADER_LEN) bytes nothing fits.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            cur: Cursors::START,
            len: 0,
            res: None,
        }
    }

    /// The bytes a record with a body of `body_len` bytes occupies, or
    /// `None` if the body is longer than `u32::MAX` bytes (the header
    /// cannot express it).
    #[must_use]
    pub fn record_len(body_len: usize) -> Option<usize> {
        u32::try_from(body_len).ok()?;
        body_len.checked_add(Self::HEADER_LEN)
    }

    /// The size of the buffer in bytes.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The largest body that fits in an empty ring. With a capacity below
    /// [`HEADER_LEN`](Self::HEADER_LEN) nothing fits at all and this is 0.
    #[must_use]
    pub fn max_body_len(&self) -> usize {
        let max = usize::try_from(u32::MAX).unwrap_or(usize::MAX);
        self.capacity().saturating_sub(Self::HEADER_LEN).min(max)
    }

    /// The number of committed records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no record is committed (a pending reservation does not
    /// count).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes the committed records occupy, headers and a skipped tail
    /// included. A pending reservation is not counted. Never more than
    /// [`capacity`](Self::capacity).
    #[must_use]
    pub fn used_bytes(&self) -> usize {
        match self.cur.wrap {
            None => self.cur.write.saturating_sub(self.cur.read),
            Some(_) => self
                .capacity()
                .saturating_sub(self.cur.read)
                .saturating_add(self.cur.write),
        }
    }

    /// Gives the caller's buffer back (its contents are unspecified).
    #[must_use]
    pub fn into_inner(self) -> &'a mut [u8] {
        self.buf
    }

    /// Drops every record and any pending reservation.
    pub fn clear(&mut self) {
        self.cur = Cursors::START;
        self.len = 0;
        self.res = None;
    }

    /// The cursors a new record is placed against: those of the committed
    /// records, back at the start when there are none.
    fn base(&self) -> Cursors {
        if self.len == 0 {
            Cursors::START
        } else {
            self.cur
        }
    }

    /// Whether records with these body lengths, pushed in order, would all
    /// fit right now. A pending reservation is ignored, since pushing drops
    /// it. `fits(&[])` is `true`.
    #[must_use]
    pub fn fits(&self, body_lens: &[usize]) -> bool {
        let cap = self.capacity();
        let mut cur = self.base();
        for &body_len in body_lens {
            let next = Self::record_len(body_len).and_then(|need| {
                let place = cur.place(cap, need)?;
                cur.advance(place, need)
            });
            match next {
                Some(next) => cur = next,
                None => return false,
            }
        }
        true
    }

    /// Whether a record with a body of `body_len` bytes would fit right now
    /// (ignoring a pending reservation, which pushing drops).
    #[must_use]
    pub fn fits_one(&self, body_len: usize) -> bool {
        self.fits(&[body_len])
    }

    /// Appends a record. Drops a pending reservation.
    ///
    /// # Errors
    ///
    /// [`Full`] if the record does not fit; nothing is stored.
    pub fn push(&mut self, flags: u8, body: &[u8]) -> Result<(), Full> {
        self.push_parts(flags, &[body])
    }

    /// Appends a record whose body is the concatenation of `parts` (e.g. a
    /// 1-byte prefix and a topic). Drops a pending reservation.
    ///
    /// # Errors
    ///
    /// [`Full`] if the record does not fit; nothing is stored.
    pub fn push_parts(&mut self, flags: u8, parts: &[&[u8]]) -> Result<(), Full> {
        let mut body_len: usize = 0;
        for part in parts {
            body_len = body_len.checked_add(part.len()).ok_or(Full)?;
        }
        self.begin(flags, body_len)?;
        for part in parts {
            self.write(part);
        }
        if self.commit() {
            Ok(())
        } else {
            self.abort();
            Err(Full)
        }
    }

    /// Reserves a contiguous record with a body of `body_len` bytes, to be
    /// filled with [`write`](Self::write) and made visible with
    /// [`commit`](Self::commit). A pending reservation is dropped first,
    /// whether or not the new one fits.
    ///
    /// # Errors
    ///
    /// [`Full`] if the record does not fit; nothing is reserved.
    pub fn begin(&mut self, flags: u8, body_len: usize) -> Result<(), Full> {
        self.res = None;
        let len32 = u32::try_from(body_len).map_err(|_| Full)?;
        let need = Self::record_len(body_len).ok_or(Full)?;
        let base = self.base();
        let place = base.place(self.capacity(), need).ok_or(Full)?;
        let header_end = place.start.checked_add(Self::HEADER_LEN).ok_or(Full)?;
        let header = self.buf.get_mut(place.start..header_end).ok_or(Full)?;
        header.copy_from_slice(&encode_header(flags, len32));
        self.cur = base;
        self.res = Some(Reservation {
            place,
            body_len,
            written: 0,
            flags,
        });
        Ok(())
    }

    /// Appends bytes to the reservation and returns how many it took: at
    /// most [`reserved_remaining`](Self::reserved_remaining), 0 without a
    /// reservation.
    pub fn write(&mut self, bytes: &[u8]) -> usize {
        let Some(res) = self.res.as_mut() else {
            return 0;
        };
        let n = bytes.len().min(res.body_len.saturating_sub(res.written));
        let range = res
            .body_start()
            .and_then(|start| start.checked_add(res.written))
            .and_then(|from| Some(from..from.checked_add(n)?));
        let Some(range) = range else {
            return 0;
        };
        let (Some(dst), Some(src)) = (self.buf.get_mut(range), bytes.get(..n)) else {
            return 0;
        };
        dst.copy_from_slice(src);
        res.written = res.written.saturating_add(n);
        n
    }

    /// Body bytes the reservation still needs; 0 without a reservation.
    #[must_use]
    pub fn reserved_remaining(&self) -> usize {
        self.res
            .map_or(0, |res| res.body_len.saturating_sub(res.written))
    }

    /// The reservation's flags and the body bytes written so far.
    #[must_use]
    pub fn reserved(&self) -> Option<(u8, &[u8])> {
        let res = self.res?;
        let start = res.body_start()?;
        let body = self.buf.get(start..start.checked_add(res.written)?)?;
        Some((res.flags, body))
    }

    /// The reservation's body bytes written so far, mutable: a record is
    /// transformed in place (decrypted, encrypted) before it is committed.
    #[must_use]
    pub fn reserved_mut(&mut self) -> Option<&mut [u8]> {
        let res = self.res?;
        let start = res.body_start()?;
        self.buf.get_mut(start..start.checked_add(res.written)?)
    }

    /// Cuts a complete reservation down to its first `body_len` bytes and
    /// gives it `flags` (what was a ciphertext becomes the shorter
    /// plaintext). Returns `false`, changing nothing, without a complete
    /// reservation or if `body_len` is longer than its body.
    pub fn shrink_reserved(&mut self, flags: u8, body_len: usize) -> bool {
        let Some(res) = self.res.as_mut() else {
            return false;
        };
        if res.written != res.body_len || body_len > res.body_len {
            return false;
        }
        let (Ok(len32), start) = (u32::try_from(body_len), res.place.start) else {
            return false;
        };
        let Some(header) = start
            .checked_add(Self::HEADER_LEN)
            .and_then(|end| self.buf.get_mut(start..end))
        else {
            return false;
        };
        header.copy_from_slice(&encode_header(flags, len32));
        res.body_len = body_len;
        res.written = body_len;
        res.flags = flags;
        true
    }

    /// Makes the reservation the newest record. Returns `false`, and keeps
    /// the reservation, if its body is not complete; `false` without a
    /// reservation.
    pub fn commit(&mut self) -> bool {
        let Some(res) = self.res else {
            return false;
        };
        if res.written != res.body_len {
            return false;
        }
        let next =
            Self::record_len(res.body_len).and_then(|need| self.cur.advance(res.place, need));
        let Some(next) = next else {
            return false;
        };
        self.cur = next;
        self.len = self.len.saturating_add(1);
        self.res = None;
        true
    }

    /// Drops the reservation, if any.
    pub fn abort(&mut self) {
        self.res = None;
    }

    /// The oldest committed record: its flags and body.
    #[must_use]
    pub fn front(&self) -> Option<(u8, &[u8])> {
        if self.len == 0 {
            return None;
        }
        record_at(self.buf, self.cur.read).map(|rec| (rec.flags, rec.body))
    }

    /// Drops the oldest committed record. Returns `false` if there is none.
    pub fn pop(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        let Some(rec) = record_at(self.buf, self.cur.read) else {
            return false;
        };
        let mut cur = self.cur;
        cur.read = cur.next(rec.end);
        if cur.read == 0 {
            cur.wrap = None;
        }
        self.len = self.len.saturating_sub(1);
        if self.len == 0 {
            // Back to the start, or to the pending reservation, which is
            // then the only thing in the ring.
            cur = match self.res.as_mut() {
                None => Cursors::START,
                Some(res) => {
                    res.place.wraps = false;
                    Cursors {
                        read: res.place.start,
                        write: res.place.start,
                        wrap: None,
                    }
                }
            };
        }
        self.cur = cur;
        true
    }

    /// Copies the oldest record's body into `out` and pops it. Returns its
    /// flags and body length.
    ///
    /// # Errors
    ///
    /// `Err(len)` with the body length if `out` is shorter; nothing is
    /// popped. `Err(0)` if the ring is empty (a body of any length fits an
    /// `out` of 0 bytes, so that value means "empty").
    pub fn pop_into(&mut self, out: &mut [u8]) -> Result<(u8, usize), usize> {
        let (flags, body) = self.front().ok_or(0_usize)?;
        let len = body.len();
        out.get_mut(..len).ok_or(len)?.copy_from_slice(body);
        self.pop();
        Ok((flags, len))
    }

    /// The committed records, oldest first.
    #[must_use]
    pub fn iter(&self) -> Records<'_> {
        Records {
            buf: self.buf,
            cur: self.cur,
            pos: self.cur.read,
            remaining: self.len,
        }
    }
}

impl fmt::Debug for MsgRing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsgRing")
            .field("capacity", &self.capacity())
            .field("len", &self.len)
            .field("used_bytes", &self.used_bytes())
            .field("read", &self.cur.read)
            .field("write", &self.cur.write)
            .field("wrap", &self.cur.wrap)
            .field("reserved", &self.res.map(|r| (r.written, r.body_len)))
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for MsgRing<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "MsgRing {{ capacity: {=usize}, len: {=usize}, used_bytes: {=usize}, reserved: {=bool} }}",
            self.capacity(),
            self.len,
            self.used_bytes(),
            self.res.is_some()
        );
    }
}

impl<'r> IntoIterator for &'r MsgRing<'_> {
    type Item = (u8, &'r [u8]);
    type IntoIter = Records<'r>;

    fn into_iter(self) -> Records<'r> {
        self.iter()
    }
}

/// The committed records of a [`MsgRing`], oldest first: `(flags, body)`.
#[derive(Clone)]
pub struct Records<'r> {
    buf: &'r [u8],
    cur: Cursors,
    pos: usize,
    remaining: usize,
}

impl<'r> Iterator for Records<'r> {
    type Item = (u8, &'r [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let Some(rec) = record_at(self.buf, self.pos) else {
            self.remaining = 0;
            return None;
        };
        self.pos = self.cur.next(rec.end);
        self.remaining = self.remaining.saturating_sub(1);
        Some((rec.flags, rec.body))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Records<'_> {}

impl FusedIterator for Records<'_> {}

impl fmt::Debug for Records<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("pos", &self.pos)
            .field("remaining", &self.remaining)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::vec;
    use std::vec::Vec;

    const H: usize = MsgRing::HEADER_LEN;

    fn records(ring: &MsgRing<'_>) -> Vec<(u8, Vec<u8>)> {
        ring.iter().map(|(f, b)| (f, b.to_vec())).collect()
    }

    #[test]
    fn header_layout() {
        let mut buf = [0xEEu8; 16];
        let mut ring = MsgRing::new(&mut buf);
        ring.push(0x01, b"ab").unwrap();
        assert_eq!(ring.used_bytes(), 7);
        assert_eq!(
            buf[..8],
            [
                0x02, 0x00, 0x00, 0x00, // body length, u32 little-endian
                0x01, // flags
                b'a', b'b', // body
                0xEE, // untouched
            ]
        );
    }

    #[test]
    fn zero_and_tiny_buffers() {
        let mut buf = [0u8; 0];
        let mut ring = MsgRing::new(&mut buf);
        assert_eq!(ring.capacity(), 0);
        assert_eq!(ring.max_body_len(), 0);
        assert!(ring.fits(&[]));
        assert!(!ring.fits_one(0));
        assert_eq!(ring.push(0, b""), Err(Full));
        assert_eq!(ring.begin(0, 0), Err(Full));
        assert_eq!(ring.write(b"x"), 0);
        assert!(!ring.commit());
        assert!(!ring.pop());
        assert_eq!(ring.pop_into(&mut []), Err(0));
        assert_eq!(ring.iter().next(), None);

        let mut buf = [0u8; H - 1];
        let mut ring = MsgRing::new(&mut buf);
        assert_eq!(ring.push(0, b""), Err(Full));

        let mut buf = [0u8; H];
        let mut ring = MsgRing::new(&mut buf);
        assert_eq!(ring.max_body_len(), 0);
        ring.push(7, b"").unwrap();
        assert_eq!(ring.front(), Some((7, &b""[..])));
        assert_eq!(ring.used_bytes(), H);
        assert_eq!(ring.push(7, b""), Err(Full));
        assert!(ring.pop());
        assert!(ring.is_empty());
    }

    #[test]
    fn oversized_bodies_are_refused() {
        let mut buf = [0u8; 32];
        let mut ring = MsgRing::new(&mut buf);
        assert_eq!(ring.max_body_len(), 32 - H);
        assert!(ring.fits_one(32 - H));
        assert!(!ring.fits_one(32 - H + 1));
        assert!(!ring.fits_one(usize::MAX));
        assert_eq!(ring.begin(0, usize::MAX), Err(Full));
        assert_eq!(MsgRing::record_len(usize::MAX), None);
        assert_eq!(MsgRing::record_len(3), Some(3 + H));
        #[cfg(target_pointer_width = "64")]
        {
            assert_eq!(
                MsgRing::record_len(u32::MAX as usize),
                Some(u32::MAX as usize + H)
            );
            assert_eq!(MsgRing::record_len(u32::MAX as usize + 1), None);
        }
    }

    #[test]
    fn fills_exactly_and_wraps() {
        // Records of 10 bytes (5-byte bodies) in a 30-byte ring.
        let mut buf = [0u8; 30];
        let mut ring = MsgRing::new(&mut buf);
        for i in 0..3u8 {
            ring.push(i, &[i; 5]).unwrap();
        }
        assert_eq!(ring.used_bytes(), 30);
        assert!(!ring.fits_one(0));
        assert!(ring.pop());
        assert_eq!(ring.used_bytes(), 20);
        // The tail is full, so the next record goes to the start.
        ring.push(3, &[3; 5]).unwrap();
        assert_eq!(ring.used_bytes(), 30);
        assert_eq!(
            records(&ring),
            vec![(1, vec![1; 5]), (2, vec![2; 5]), (3, vec![3; 5])]
        );
        assert!(!ring.fits_one(0));
        assert!(ring.pop());
        assert!(ring.pop());
        // The reader followed the wrap back to offset 0.
        assert_eq!(ring.front(), Some((3, &[3u8; 5][..])));
        assert_eq!(ring.used_bytes(), 10);
        assert!(ring.fits(&[5, 5]));
        assert!(!ring.fits(&[5, 5, 0]));
    }

    #[test]
    fn skipped_tail_is_counted_until_the_reader_passes_it() {
        let mut buf = [0u8; 23];
        let mut ring = MsgRing::new(&mut buf);
        ring.push(1, &[1; 5]).unwrap(); // 0..10
        ring.push(2, &[2; 5]).unwrap(); // 10..20, 3 bytes left at the end
        assert!(ring.pop());
        // 10 bytes do not fit in the 3-byte tail but fit before the reader.
        assert!(ring.fits_one(5));
        assert!(!ring.fits_one(6));
        ring.push(3, &[3; 5]).unwrap(); // 0..10, tail 20..23 skipped
        assert_eq!(ring.used_bytes(), 23);
        assert!(!ring.fits_one(0));
        assert!(ring.pop()); // reader jumps from 20 to 0
        assert_eq!(ring.used_bytes(), 10);
        assert_eq!(ring.front(), Some((3, &[3u8; 5][..])));
        // Not wrapped any more: 13 bytes free at the end.
        assert!(ring.fits_one(8));
        assert!(!ring.fits_one(9));
    }

    #[test]
    fn emptying_resets_to_the_start() {
        let mut buf = [0u8; 40];
        let mut ring = MsgRing::new(&mut buf);
        ring.push(0, &[0; 10]).unwrap();
        ring.push(0, &[0; 10]).unwrap();
        assert!(!ring.fits_one(ring.max_body_len()));
        assert!(ring.pop());
        assert!(ring.pop());
        assert!(ring.is_empty());
        assert_eq!(ring.used_bytes(), 0);
        assert!(ring.fits_one(ring.max_body_len()));
        ring.push(9, &[9; 35]).unwrap();
        assert_eq!(ring.used_bytes(), 40);
        ring.clear();
        assert!(ring.is_empty());
        ring.push(9, &[9; 35]).unwrap();
    }

    #[test]
    fn push_parts_concatenates() {
        let mut buf = [0u8; 32];
        let mut ring = MsgRing::new(&mut buf);
        ring.push_parts(0, &[b"\x01", b"", b"topic"]).unwrap();
        ring.push_parts(1, &[]).unwrap();
        assert_eq!(
            records(&ring),
            vec![(0, b"\x01topic".to_vec()), (1, vec![])]
        );
        assert_eq!(ring.push_parts(0, &[&[0; 10], &[0; 5]]), Err(Full));
        assert_eq!(ring.len(), 2);
    }

    #[test]
    fn streaming_write() {
        let mut buf = [0u8; 32];
        let mut ring = MsgRing::new(&mut buf);
        assert_eq!(ring.reserved(), None);
        assert_eq!(ring.reserved_remaining(), 0);
        ring.begin(0x01, 5).unwrap();
        assert_eq!(ring.reserved(), Some((0x01, &b""[..])));
        assert_eq!(ring.write(b"he"), 2);
        assert_eq!(ring.reserved_remaining(), 3);
        assert!(!ring.commit(), "incomplete");
        assert!(ring.is_empty(), "not visible before commit");
        assert_eq!(ring.used_bytes(), 0);
        assert_eq!(ring.write(b"llo, world"), 3);
        assert_eq!(ring.write(b"!"), 0);
        assert_eq!(ring.reserved(), Some((0x01, &b"hello"[..])));
        assert!(ring.commit());
        assert!(!ring.commit());
        assert_eq!(ring.reserved(), None);
        assert_eq!(ring.front(), Some((0x01, &b"hello"[..])));

        // An empty body commits at once.
        ring.begin(2, 0).unwrap();
        assert!(ring.commit());
        assert_eq!(ring.len(), 2);
    }

    #[test]
    fn begin_push_and_clear_drop_the_reservation() {
        let mut buf = [0u8; 64];
        let mut ring = MsgRing::new(&mut buf);
        ring.begin(1, 4).unwrap();
        ring.write(b"ab");
        ring.begin(2, 3).unwrap();
        assert_eq!(ring.reserved(), Some((2, &b""[..])));
        ring.write(b"xyz");
        ring.push(3, b"p").unwrap();
        assert_eq!(ring.reserved(), None);
        assert!(!ring.commit());
        ring.begin(4, 1).unwrap();
        assert_eq!(ring.begin(5, 1000), Err(Full));
        assert_eq!(ring.reserved(), None, "a failed begin drops the old one");
        ring.begin(4, 1).unwrap();
        ring.clear();
        assert_eq!(ring.reserved(), None);
        ring.begin(4, 1).unwrap();
        ring.abort();
        assert_eq!(ring.reserved(), None);
        assert_eq!(ring.write(b"x"), 0);
        assert!(ring.is_empty());
    }

    #[test]
    fn reservation_survives_the_ring_emptying() {
        let mut buf = [0u8; 30];
        let mut ring = MsgRing::new(&mut buf);
        ring.push(1, &[1; 5]).unwrap(); // 0..10
        ring.push(2, &[2; 5]).unwrap(); // 10..20
        ring.begin(3, 5).unwrap(); // 20..30
        ring.write(b"ab");
        assert!(ring.pop());
        assert!(ring.pop());
        assert!(ring.is_empty());
        assert_eq!(ring.reserved(), Some((3, &b"ab"[..])));
        ring.write(b"cde");
        assert!(ring.commit());
        assert_eq!(ring.front(), Some((3, &b"abcde"[..])));
        assert_eq!(ring.used_bytes(), 10);
        // 20 bytes free before the record, none after it.
        assert!(ring.fits_one(15));
        assert!(!ring.fits_one(16));
        ring.push(4, &[4; 15]).unwrap();
        assert_eq!(
            records(&ring),
            vec![(3, b"abcde".to_vec()), (4, vec![4; 15])]
        );
    }

    #[test]
    fn wrapping_reservation_survives_the_ring_emptying() {
        let mut buf = [0u8; 30];
        let mut ring = MsgRing::new(&mut buf);
        for i in 0..3u8 {
            ring.push(i, &[i; 5]).unwrap();
        }
        assert!(ring.pop());
        ring.begin(3, 5).unwrap(); // goes to 0..10
        ring.write(b"abc");
        assert!(ring.pop());
        assert!(ring.pop());
        assert_eq!(ring.used_bytes(), 0);
        ring.write(b"de");
        assert!(ring.commit());
        assert_eq!(ring.used_bytes(), 10);
        assert_eq!(ring.front(), Some((3, &b"abcde"[..])));
        ring.push(4, &[4; 15]).unwrap();
        assert_eq!(
            records(&ring),
            vec![(3, b"abcde".to_vec()), (4, vec![4; 15])]
        );
    }

    #[test]
    fn wrapping_reservation_commits_with_the_wrap() {
        let mut buf = [0u8; 30];
        let mut ring = MsgRing::new(&mut buf);
        for i in 0..3u8 {
            ring.push(i, &[i; 5]).unwrap();
        }
        assert!(ring.pop());
        ring.begin(3, 5).unwrap();
        ring.write(b"abcde");
        assert!(ring.commit());
        assert_eq!(ring.used_bytes(), 30);
        assert!(ring.pop());
        assert!(ring.pop());
        assert_eq!(ring.front(), Some((3, &b"abcde"[..])));
    }

    #[test]
    fn pop_into_copies_or_reports_the_length() {
        let mut buf = [0u8; 32];
        let mut ring = MsgRing::new(&mut buf);
        assert_eq!(ring.pop_into(&mut [0; 8]), Err(0));
        ring.push(0x01, b"hello").unwrap();
        ring.push(0x00, b"").unwrap();
        let mut out = [0u8; 4];
        assert_eq!(ring.pop_into(&mut out), Err(5));
        assert_eq!(ring.len(), 2);
        let mut out = [0u8; 8];
        assert_eq!(ring.pop_into(&mut out), Ok((0x01, 5)));
        assert_eq!(&out[..5], b"hello");
        assert_eq!(ring.pop_into(&mut []), Ok((0x00, 0)));
        assert!(ring.is_empty());
    }

    #[test]
    fn iter_is_exact_and_fused() {
        let mut buf = [0u8; 32];
        let mut ring = MsgRing::new(&mut buf);
        ring.push(1, b"a").unwrap();
        ring.push(2, b"bc").unwrap();
        let mut it = ring.iter();
        assert_eq!(it.len(), 2);
        assert_eq!(it.next(), Some((1, &b"a"[..])));
        assert_eq!(it.len(), 1);
        assert_eq!(it.next(), Some((2, &b"bc"[..])));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
        let flags: Vec<u8> = (&ring).into_iter().map(|(f, _)| f).collect();
        assert_eq!(flags, vec![1, 2]);
    }

    #[test]
    fn debug_output() {
        let mut buf = [0u8; 16];
        let mut ring = MsgRing::new(&mut buf);
        ring.push(0, b"x").unwrap();
        let s = std::format!("{ring:?}");
        assert!(
            s.starts_with("MsgRing { capacity: 16, len: 1, used_bytes: 6"),
            "{s}"
        );
        let s = std::format!("{:?}", ring.iter());
        assert!(s.starts_with("Records"), "{s}");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push {
            flags: u8,
            len: usize,
        },
        PushParts {
            flags: u8,
            parts: Vec<usize>,
        },
        Stream {
            flags: u8,
            len: usize,
            chunks: Vec<usize>,
            commit: bool,
        },
        Begin {
            flags: u8,
            len: usize,
        },
        Write(usize),
        Commit,
        Abort,
        Pop,
        PopInto(usize),
        Fits(Vec<usize>),
        Clear,
    }

    fn body_len() -> impl Strategy<Value = usize> {
        0usize..120
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), body_len()).prop_map(|(flags, len)| Op::Push { flags, len }),
            2 => (any::<u8>(), proptest::collection::vec(0usize..60, 0..4))
                .prop_map(|(flags, parts)| Op::PushParts { flags, parts }),
            2 => (any::<u8>(), body_len(), proptest::collection::vec(0usize..50, 0..5), any::<bool>())
                .prop_map(|(flags, len, chunks, commit)| Op::Stream { flags, len, chunks, commit }),
            2 => (any::<u8>(), body_len()).prop_map(|(flags, len)| Op::Begin { flags, len }),
            2 => (0usize..60).prop_map(Op::Write),
            1 => Just(Op::Commit),
            1 => Just(Op::Abort),
            4 => Just(Op::Pop),
            2 => (0usize..120).prop_map(Op::PopInto),
            2 => proptest::collection::vec(body_len(), 0..4).prop_map(Op::Fits),
            1 => Just(Op::Clear),
        ]
    }

    /// The model: committed records and the pending reservation
    /// (flags, body length, bytes written).
    #[derive(Default)]
    struct Model {
        records: VecDeque<(u8, Vec<u8>)>,
        pending: Option<(u8, usize, Vec<u8>)>,
        seq: u8,
    }

    impl Model {
        /// Distinct bytes for every body so misplaced data shows.
        fn bytes(&mut self, len: usize) -> Vec<u8> {
            self.seq = self.seq.wrapping_add(1);
            let seed = self.seq;
            (0..len)
                .map(|i| {
                    seed.wrapping_mul(31)
                        .wrapping_add(u8::try_from(i % 256).unwrap())
                })
                .collect()
        }
    }

    fn check(ring: &MsgRing<'_>, model: &Model) {
        assert_eq!(ring.len(), model.records.len());
        assert_eq!(ring.is_empty(), model.records.is_empty());
        assert_eq!(records(ring), Vec::from(model.records.clone()));
        assert_eq!(ring.iter().len(), model.records.len());
        assert_eq!(
            ring.front().map(|(f, b)| (f, b.to_vec())),
            model.records.front().cloned()
        );
        let used = ring.used_bytes();
        assert!(used <= ring.capacity());
        let payload: usize = model.records.iter().map(|(_, b)| b.len() + H).sum();
        assert!(payload <= used);
        assert_eq!(model.records.is_empty(), used == 0);
        match &model.pending {
            None => {
                assert_eq!(ring.reserved(), None);
                assert_eq!(ring.reserved_remaining(), 0);
            }
            Some((flags, len, written)) => {
                assert_eq!(ring.reserved(), Some((*flags, &written[..])));
                assert_eq!(ring.reserved_remaining(), len - written.len());
            }
        }
        if model.records.is_empty() {
            assert_eq!(ring.fits_one(ring.max_body_len()), ring.capacity() >= H);
            assert!(!ring.fits_one(ring.max_body_len() + 1));
        }
    }

    /// A push of `len` either succeeded (and `fits_one` said so) or failed
    /// for lack of a large enough free piece.
    fn push_outcome(ring: &MsgRing<'_>, fits: bool, ok: bool, len: usize) {
        assert_eq!(fits, ok, "fits_one({len}) disagrees with push");
        if !ok {
            let free = ring.capacity() - ring.used_bytes();
            // Free space is at most two pieces, each too small.
            assert!(free < 2 * (len + H), "refused {len} with {free} free");
            if ring.is_empty() {
                assert!(len > ring.max_body_len() || ring.capacity() < H);
            }
        }
    }

    fn run(cap: usize, ops: &[Op]) {
        const GUARD: usize = 16;
        let mut storage = vec![0xA5u8; cap + GUARD];
        let (mem, guard) = storage.split_at_mut(cap);
        let mut ring = MsgRing::new(mem);
        assert_eq!(ring.capacity(), cap);
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Push { flags, len } => {
                    let body = model.bytes(*len);
                    let fits = ring.fits_one(*len);
                    let ok = ring.push(*flags, &body).is_ok();
                    model.pending = None;
                    push_outcome(&ring, fits, ok, *len);
                    if ok {
                        model.records.push_back((*flags, body));
                    }
                }
                Op::PushParts { flags, parts } => {
                    let bodies: Vec<Vec<u8>> = parts.iter().map(|&l| model.bytes(l)).collect();
                    let slices: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
                    let total = bodies.iter().map(Vec::len).sum();
                    let fits = ring.fits_one(total);
                    let ok = ring.push_parts(*flags, &slices).is_ok();
                    model.pending = None;
                    push_outcome(&ring, fits, ok, total);
                    if ok {
                        model.records.push_back((*flags, bodies.concat()));
                    }
                }
                Op::Stream {
                    flags,
                    len,
                    chunks,
                    commit,
                } => {
                    let body = model.bytes(*len);
                    let fits = ring.fits_one(*len);
                    let ok = ring.begin(*flags, *len).is_ok();
                    model.pending = None;
                    push_outcome(&ring, fits, ok, *len);
                    if ok {
                        let mut at = 0;
                        for &c in chunks {
                            let end = (at + c).min(*len);
                            assert_eq!(ring.write(&body[at..at + c.min(*len - at)]), end - at);
                            at = end;
                        }
                        let rest = ring.write(&body[at..]);
                        assert_eq!(rest, *len - at);
                        assert_eq!(ring.reserved_remaining(), 0);
                        if *commit {
                            assert!(ring.commit());
                            model.records.push_back((*flags, body));
                        } else {
                            ring.abort();
                        }
                    }
                }
                Op::Begin { flags, len } => {
                    let fits = ring.fits_one(*len);
                    let ok = ring.begin(*flags, *len).is_ok();
                    push_outcome(&ring, fits, ok, *len);
                    model.pending = ok.then(|| (*flags, *len, Vec::new()));
                }
                Op::Write(n) => {
                    let bytes = model.bytes(*n);
                    let took = ring.write(&bytes);
                    match &mut model.pending {
                        None => assert_eq!(took, 0),
                        Some((_, len, written)) => {
                            let want = (*n).min(*len - written.len());
                            assert_eq!(took, want);
                            written.extend_from_slice(&bytes[..want]);
                        }
                    }
                }
                Op::Commit => {
                    let done = ring.commit();
                    match model.pending.take() {
                        Some((flags, len, written)) if written.len() == len => {
                            assert!(done);
                            model.records.push_back((flags, written));
                        }
                        other => {
                            assert!(!done);
                            model.pending = other;
                        }
                    }
                }
                Op::Abort => {
                    ring.abort();
                    model.pending = None;
                }
                Op::Pop => {
                    assert_eq!(ring.pop(), model.records.pop_front().is_some());
                }
                Op::PopInto(n) => {
                    let mut out = vec![0u8; *n];
                    let got = ring.pop_into(&mut out);
                    match model.records.front() {
                        None => assert_eq!(got, Err(0)),
                        Some((flags, body)) if body.len() <= *n => {
                            assert_eq!(got, Ok((*flags, body.len())));
                            assert_eq!(&out[..body.len()], &body[..]);
                            model.records.pop_front();
                        }
                        Some((_, body)) => assert_eq!(got, Err(body.len())),
                    }
                }
                Op::Fits(lens) => {
                    let fits = ring.fits(lens);
                    let mut all = true;
                    for &len in lens {
                        let body = model.bytes(len);
                        if ring.push(0x42, &body).is_ok() {
                            model.records.push_back((0x42, body));
                        } else {
                            all = false;
                        }
                    }
                    if !lens.is_empty() {
                        model.pending = None;
                    }
                    assert_eq!(fits, all, "fits({lens:?})");
                }
                Op::Clear => {
                    ring.clear();
                    model.records.clear();
                    model.pending = None;
                }
            }
            check(&ring, &model);
        }
        assert!(guard.iter().all(|&b| b == 0xA5), "wrote past the buffer");
    }

    proptest! {
        #[test]
        fn behaves_like_a_deque(cap in 0usize..300, ops in proptest::collection::vec(op(), 0..64)) {
            run(cap, &ops);
        }

        #[test]
        fn empty_ring_accepts_any_body_up_to_max(cap in 0usize..300, len in 0usize..300) {
            let mut buf = vec![0u8; cap];
            let mut ring = MsgRing::new(&mut buf);
            let body = vec![7u8; len];
            let fits = cap >= H && len <= ring.max_body_len();
            prop_assert_eq!(ring.push(1, &body).is_ok(), fits);
        }
    }
}
