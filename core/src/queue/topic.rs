//! [`TopicSet`]: counted subscription prefixes over caller-provided memory.

use core::fmt;
use core::iter::FusedIterator;

use super::Full;

/// One stored entry: its offset, count and topic.
struct Entry<'r> {
    offset: usize,
    count: u32,
    topic: &'r [u8],
    /// Offset just past the topic.
    end: usize,
}

/// Reads the entry at `offset`.
fn entry_at(buf: &[u8], offset: usize) -> Option<Entry<'_>> {
    let &[c0, c1, c2, c3, l0, l1, l2, l3] = buf
        .get(offset..)?
        .first_chunk::<{ TopicSet::ENTRY_HEADER_LEN }>()?;
    let count = u32::from_le_bytes([c0, c1, c2, c3]);
    let len = usize::try_from(u32::from_le_bytes([l0, l1, l2, l3])).ok()?;
    let start = offset.checked_add(TopicSet::ENTRY_HEADER_LEN)?;
    let end = start.checked_add(len)?;
    let topic = buf.get(start..end)?;
    Some(Entry {
        offset,
        count,
        topic,
        end,
    })
}

/// Walks the entries of the used part of a buffer.
#[derive(Clone)]
struct Entries<'r> {
    buf: &'r [u8],
    offset: usize,
}

impl<'r> Iterator for Entries<'r> {
    type Item = Entry<'r>;

    fn next(&mut self) -> Option<Entry<'r>> {
        let entry = entry_at(self.buf, self.offset)?;
        self.offset = entry.end;
        Some(entry)
    }
}

/// Writes the count field of the entry at `offset`.
fn set_count(buf: &mut [u8], offset: usize, count: u32) -> Option<()> {
    let field = buf.get_mut(offset..)?.first_chunk_mut::<4>()?;
    *field = count.to_le_bytes();
    Some(())
}

/// Counted subscription prefixes over caller-provided memory.
///
/// ZeroMQ subscriptions are additive and counted (RFC 23, RFC 29): a topic
/// subscribed twice needs two cancels before it is gone. A message matches
/// when any topic is a byte prefix of it, so the empty topic matches every
/// message and an empty set matches none.
///
/// Entries are stored back to back in the buffer, in the order they were
/// first subscribed, as `[u32 count][u32 topic length][topic]` (both
/// little-endian): a topic costs
/// [`ENTRY_HEADER_LEN`](Self::ENTRY_HEADER_LEN) bytes plus its length, and
/// a cancelled topic's space is reclaimed at once by moving the later
/// entries down. Lookups are linear, which suits the handful of topics a
/// small device holds.
///
/// ```
/// use zmtp_core::queue::TopicSet;
///
/// let mut storage = [0u8; 64];
/// let mut subs = TopicSet::new(&mut storage);
/// assert_eq!(subs.subscribe(b"temp."), Ok(true));
/// assert_eq!(subs.subscribe(b"temp."), Ok(false));
/// assert!(subs.matches(b"temp.kitchen 21.5"));
/// assert!(!subs.cancel(b"temp."));
/// assert!(subs.cancel(b"temp."));
/// assert!(!subs.matches(b"temp.kitchen 21.5"));
/// # Ok::<(), zmtp_core::queue::Full>(())
/// ```
pub struct TopicSet<'a> {
    buf: &'a mut [u8],
    /// Bytes of `buf` holding entries.
    used: usize,
    /// Distinct topics.
    len: usize,
}

impl<'a> TopicSet<'a> {
    /// Bytes of overhead per distinct topic: its count and its length, each
    /// a little-endian `u32`.
    pub const ENTRY_HEADER_LEN: usize = 8;

    /// An empty set over `buf`. Any length works; with fewer than
    /// [`ENTRY_HEADER_LEN`](Self::ENTRY_HEADER_LEN) bytes no topic fits.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            used: 0,
            len: 0,
        }
    }

    /// The bytes a topic of `topic_len` bytes occupies, or `None` if it is
    /// longer than `u32::MAX` bytes.
    #[must_use]
    pub fn entry_len(topic_len: usize) -> Option<usize> {
        u32::try_from(topic_len).ok()?;
        topic_len.checked_add(Self::ENTRY_HEADER_LEN)
    }

    fn entries(&self) -> Entries<'_> {
        Entries {
            buf: self.buf.get(..self.used).unwrap_or_default(),
            offset: 0,
        }
    }

    fn find(&self, topic: &[u8]) -> Option<Entry<'_>> {
        self.entries().find(|e| e.topic == topic)
    }

    /// Adds one count of `topic`. Returns `Ok(true)` if the topic is new
    /// (its count went from 0 to 1) and `Ok(false)` if only its count grew.
    ///
    /// # Errors
    ///
    /// [`Full`] if a new topic does not fit in the buffer, or if the topic's
    /// count is already `u32::MAX`; nothing changes.
    pub fn subscribe(&mut self, topic: &[u8]) -> Result<bool, Full> {
        if let Some((offset, count)) = self.find(topic).map(|e| (e.offset, e.count)) {
            let count = count.checked_add(1).ok_or(Full)?;
            set_count(self.buf, offset, count).ok_or(Full)?;
            return Ok(false);
        }
        let topic_len = u32::try_from(topic.len()).map_err(|_| Full)?;
        let need = Self::entry_len(topic.len()).ok_or(Full)?;
        let end = self.used.checked_add(need).ok_or(Full)?;
        let entry = self.buf.get_mut(self.used..end).ok_or(Full)?;
        let (header, body) = entry
            .split_first_chunk_mut::<{ TopicSet::ENTRY_HEADER_LEN }>()
            .ok_or(Full)?;
        let [c0, c1, c2, c3] = 1_u32.to_le_bytes();
        let [l0, l1, l2, l3] = topic_len.to_le_bytes();
        *header = [c0, c1, c2, c3, l0, l1, l2, l3];
        body.copy_from_slice(topic);
        self.used = end;
        self.len = self.len.saturating_add(1);
        Ok(true)
    }

    /// Removes one count of `topic`. Returns `true` if the topic is now
    /// gone (its count went from 1 to 0), `false` if it was absent or is
    /// still counted.
    pub fn cancel(&mut self, topic: &[u8]) -> bool {
        let Some((offset, count, end)) = self.find(topic).map(|e| (e.offset, e.count, e.end))
        else {
            return false;
        };
        if count > 1 {
            set_count(self.buf, offset, count.saturating_sub(1));
            return false;
        }
        // Move the later entries down over this one.
        let Some(tail) = self.buf.get_mut(offset..self.used) else {
            return false;
        };
        let gap = end.saturating_sub(offset);
        if gap > tail.len() {
            return false;
        }
        tail.copy_within(gap.., 0);
        self.used = self.used.saturating_sub(gap);
        self.len = self.len.saturating_sub(1);
        true
    }

    /// How many times `topic` is subscribed (0 if absent).
    #[must_use]
    pub fn count(&self, topic: &[u8]) -> u32 {
        self.find(topic).map_or(0, |e| e.count)
    }

    /// Whether any topic is a byte prefix of `msg`.
    #[must_use]
    pub fn matches(&self, msg: &[u8]) -> bool {
        self.entries().any(|e| msg.starts_with(e.topic))
    }

    /// Whether `topic` itself is subscribed.
    #[must_use]
    pub fn contains(&self, topic: &[u8]) -> bool {
        self.find(topic).is_some()
    }

    /// The number of distinct topics.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no topic is subscribed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Gives the caller's buffer back (its contents are unspecified).
    #[must_use]
    pub fn into_inner(self) -> &'a mut [u8] {
        self.buf
    }

    /// Removes every topic.
    pub fn clear(&mut self) {
        self.used = 0;
        self.len = 0;
    }

    /// The distinct topics, in the order they were first subscribed (for
    /// re-sending subscriptions after a reconnect).
    #[must_use]
    pub fn iter(&self) -> Topics<'_> {
        Topics {
            entries: self.entries(),
            remaining: self.len,
        }
    }

    /// The distinct topics with their counts, in the order they were first
    /// subscribed.
    #[must_use]
    pub fn iter_with_counts(&self) -> TopicsWithCounts<'_> {
        TopicsWithCounts {
            entries: self.entries(),
            remaining: self.len,
        }
    }

    /// The bytes the entries occupy.
    #[must_use]
    pub fn used_bytes(&self) -> usize {
        self.used
    }

    /// The size of the buffer in bytes.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }
}

impl fmt::Debug for TopicSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopicSet")
            .field("capacity", &self.capacity())
            .field("len", &self.len)
            .field("used_bytes", &self.used)
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for TopicSet<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "TopicSet {{ capacity: {=usize}, len: {=usize}, used_bytes: {=usize} }}",
            self.capacity(),
            self.len,
            self.used
        );
    }
}

impl<'r> IntoIterator for &'r TopicSet<'_> {
    type Item = &'r [u8];
    type IntoIter = Topics<'r>;

    fn into_iter(self) -> Topics<'r> {
        self.iter()
    }
}

/// The distinct topics of a [`TopicSet`], in the order they were first
/// subscribed.
#[derive(Clone)]
pub struct Topics<'r> {
    entries: Entries<'r>,
    remaining: usize,
}

impl<'r> Iterator for Topics<'r> {
    type Item = &'r [u8];

    fn next(&mut self) -> Option<&'r [u8]> {
        let Some(entry) = self.entries.next() else {
            self.remaining = 0;
            return None;
        };
        self.remaining = self.remaining.saturating_sub(1);
        Some(entry.topic)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Topics<'_> {}

impl FusedIterator for Topics<'_> {}

impl fmt::Debug for Topics<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topics")
            .field("remaining", &self.remaining)
            .finish()
    }
}

/// The distinct topics of a [`TopicSet`] with their counts, in the order
/// they were first subscribed.
#[derive(Clone)]
pub struct TopicsWithCounts<'r> {
    entries: Entries<'r>,
    remaining: usize,
}

impl<'r> Iterator for TopicsWithCounts<'r> {
    type Item = (&'r [u8], u32);

    fn next(&mut self) -> Option<Self::Item> {
        let Some(entry) = self.entries.next() else {
            self.remaining = 0;
            return None;
        };
        self.remaining = self.remaining.saturating_sub(1);
        Some((entry.topic, entry.count))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for TopicsWithCounts<'_> {}

impl FusedIterator for TopicsWithCounts<'_> {}

impl fmt::Debug for TopicsWithCounts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopicsWithCounts")
            .field("remaining", &self.remaining)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::vec;
    use std::vec::Vec;

    const H: usize = TopicSet::ENTRY_HEADER_LEN;

    fn topics(set: &TopicSet<'_>) -> Vec<Vec<u8>> {
        set.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn entry_layout() {
        let mut buf = [0xEEu8; 16];
        let mut set = TopicSet::new(&mut buf);
        set.subscribe(b"ab").unwrap();
        set.subscribe(b"ab").unwrap();
        assert_eq!(set.used_bytes(), H + 2);
        assert_eq!(
            buf[..11],
            [
                0x02, 0x00, 0x00, 0x00, // count, u32 little-endian
                0x02, 0x00, 0x00, 0x00, // topic length, u32 little-endian
                b'a', b'b', // topic
                0xEE, // untouched
            ]
        );
    }

    #[test]
    fn counted_subscriptions() {
        let mut buf = [0u8; 64];
        let mut set = TopicSet::new(&mut buf);
        assert!(set.is_empty());
        assert!(!set.matches(b"anything"));
        assert_eq!(set.subscribe(b"A"), Ok(true));
        assert_eq!(set.subscribe(b"A"), Ok(false));
        assert_eq!(set.subscribe(b"B"), Ok(true));
        assert_eq!(set.len(), 2);
        assert_eq!(set.count(b"A"), 2);
        assert_eq!(set.count(b"C"), 0);
        assert!(set.matches(b"ALOL"));
        assert!(set.matches(b"B"));
        assert!(!set.matches(b"C"));
        assert!(!set.matches(b""));
        assert!(!set.cancel(b"A"));
        assert!(set.contains(b"A"));
        assert!(set.cancel(b"A"));
        assert!(!set.contains(b"A"));
        assert!(!set.cancel(b"A"), "absent");
        assert!(!set.matches(b"ALOL"));
        assert_eq!(topics(&set), vec![b"B".to_vec()]);
        assert_eq!(set.used_bytes(), H + 1);
    }

    #[test]
    fn empty_topic_matches_everything() {
        let mut buf = [0u8; 16];
        let mut set = TopicSet::new(&mut buf);
        assert_eq!(set.subscribe(b""), Ok(true));
        assert!(set.matches(b""));
        assert!(set.matches(b"\x00\x01"));
        assert!(set.contains(b""));
        assert!(!set.contains(b"x"));
        assert_eq!(set.used_bytes(), H);
        assert!(set.cancel(b""));
        assert!(!set.matches(b""));
    }

    #[test]
    fn removal_compacts_in_order() {
        let mut buf = [0u8; 128];
        let mut set = TopicSet::new(&mut buf);
        for t in [&b"one"[..], b"two", b"three", b"four"] {
            set.subscribe(t).unwrap();
        }
        assert!(set.cancel(b"two"));
        assert_eq!(
            topics(&set),
            vec![b"one".to_vec(), b"three".to_vec(), b"four".to_vec()]
        );
        assert!(set.cancel(b"four"));
        assert!(set.cancel(b"one"));
        assert_eq!(topics(&set), vec![b"three".to_vec()]);
        assert_eq!(set.used_bytes(), H + 5);
        set.subscribe(b"five").unwrap();
        let counted: Vec<(Vec<u8>, u32)> = set
            .iter_with_counts()
            .map(|(t, c)| (t.to_vec(), c))
            .collect();
        assert_eq!(counted, vec![(b"three".to_vec(), 1), (b"five".to_vec(), 1)]);
        set.clear();
        assert!(set.is_empty());
        assert_eq!(set.used_bytes(), 0);
        assert_eq!(set.iter().next(), None);
    }

    #[test]
    fn full_changes_nothing() {
        let mut buf = [0u8; 2 * H + 3];
        let mut set = TopicSet::new(&mut buf);
        assert_eq!(set.subscribe(b"abc"), Ok(true));
        assert_eq!(set.subscribe(b"x"), Err(Full));
        assert_eq!(set.len(), 1);
        assert_eq!(set.used_bytes(), H + 3);
        // Adding a count needs no room.
        assert_eq!(set.subscribe(b"abc"), Ok(false));
        assert_eq!(set.subscribe(b""), Ok(true));
        assert_eq!(set.used_bytes(), set.capacity());
        assert_eq!(set.subscribe(b""), Ok(false));

        let mut buf = [0u8; 0];
        let mut set = TopicSet::new(&mut buf);
        assert_eq!(set.subscribe(b""), Err(Full));
        assert!(set.is_empty());
        assert!(!set.cancel(b""));
    }

    #[test]
    fn topic_as_long_as_the_buffer_allows() {
        let mut buf = [0u8; 300];
        let mut set = TopicSet::new(&mut buf);
        let topic = [7u8; 300 - H];
        assert_eq!(set.subscribe(&topic), Ok(true));
        assert!(set.matches(&[7u8; 400]));
        assert!(!set.matches(&[7u8; 291]));
        assert!(set.cancel(&topic));
        assert_eq!(set.subscribe(&[7u8; 300 - H + 1]), Err(Full));
    }

    #[test]
    fn count_saturates_with_full() {
        let mut buf = [0u8; 16];
        let mut set = TopicSet::new(&mut buf);
        set.subscribe(b"t").unwrap();
        set_count(set.buf, 0, u32::MAX).unwrap();
        assert_eq!(set.subscribe(b"t"), Err(Full));
        assert_eq!(set.count(b"t"), u32::MAX);
        assert!(!set.cancel(b"t"));
        assert_eq!(set.count(b"t"), u32::MAX - 1);
    }

    #[test]
    fn entry_len_and_debug() {
        assert_eq!(TopicSet::entry_len(3), Some(H + 3));
        assert_eq!(TopicSet::entry_len(usize::MAX), None);
        let mut buf = [0u8; 32];
        let mut set = TopicSet::new(&mut buf);
        set.subscribe(b"a").unwrap();
        let s = std::format!("{set:?}");
        assert_eq!(s, "TopicSet { capacity: 32, len: 1, used_bytes: 9 }");
        assert_eq!(set.iter().len(), 1);
        assert_eq!((&set).into_iter().count(), 1);
        assert!(std::format!("{:?}", set.iter()).starts_with("Topics"));
        assert!(std::format!("{:?}", set.iter_with_counts()).starts_with("TopicsWithCounts"));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Subscribe(Vec<u8>),
        Cancel(Vec<u8>),
        Clear,
    }

    /// Topics from a small alphabet so prefixes and repeats are common.
    fn topic() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(0u8..3, 0..6)
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => topic().prop_map(Op::Subscribe),
            5 => topic().prop_map(Op::Cancel),
            1 => Just(Op::Clear),
        ]
    }

    fn model_used(model: &BTreeMap<Vec<u8>, u32>) -> usize {
        model.keys().map(|t| H + t.len()).sum()
    }

    proptest! {
        #[test]
        fn behaves_like_a_counted_map(
            cap in 0usize..120,
            ops in proptest::collection::vec(op(), 0..64),
            probes in proptest::collection::vec(proptest::collection::vec(0u8..3, 0..8), 0..8),
        ) {
            const GUARD: usize = 16;
            let mut storage = vec![0x5Au8; cap + GUARD];
            let (mem, guard) = storage.split_at_mut(cap);
            let mut set = TopicSet::new(mem);
            let mut model: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
            // First-subscription order, to check iteration order.
            let mut order: Vec<Vec<u8>> = Vec::new();
            for op in &ops {
                match op {
                    Op::Subscribe(t) => {
                        let room = model_used(&model) + H + t.len() <= cap;
                        let got = set.subscribe(t);
                        match model.get_mut(t) {
                            Some(c) => {
                                *c += 1;
                                prop_assert_eq!(got, Ok(false));
                            }
                            None if room => {
                                model.insert(t.clone(), 1);
                                order.push(t.clone());
                                prop_assert_eq!(got, Ok(true));
                            }
                            None => prop_assert_eq!(got, Err(Full)),
                        }
                    }
                    Op::Cancel(t) => {
                        let got = set.cancel(t);
                        let gone = match model.get_mut(t) {
                            None => false,
                            Some(c) if *c > 1 => {
                                *c -= 1;
                                false
                            }
                            Some(_) => {
                                model.remove(t);
                                order.retain(|o| o != t);
                                true
                            }
                        };
                        prop_assert_eq!(got, gone);
                    }
                    Op::Clear => {
                        set.clear();
                        model.clear();
                        order.clear();
                    }
                }
                prop_assert_eq!(set.len(), model.len());
                prop_assert_eq!(set.is_empty(), model.is_empty());
                prop_assert_eq!(set.used_bytes(), model_used(&model));
                prop_assert!(set.used_bytes() <= set.capacity());
                prop_assert_eq!(topics(&set), order.clone());
                let counted: BTreeMap<Vec<u8>, u32> =
                    set.iter_with_counts().map(|(t, c)| (t.to_vec(), c)).collect();
                prop_assert_eq!(&counted, &model);
                for p in &probes {
                    let want = model.keys().any(|t| p.starts_with(t));
                    prop_assert_eq!(set.matches(p), want);
                    prop_assert_eq!(set.contains(p), model.contains_key(p));
                    prop_assert_eq!(set.count(p), model.get(p).copied().unwrap_or(0));
                }
            }
            prop_assert!(guard.iter().all(|&b| b == 0x5A), "wrote past the buffer");
        }
    }
}
