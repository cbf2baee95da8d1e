//! The set of attached peer slots, so that per-message work (load
//! balancing, fair queueing, event processing) visits the peers that exist
//! rather than every slot.

/// Slots a set can hold (the most `PEERS` a socket may have is 255).
const WORDS: usize = 8;

/// A bit per slot index (0..256).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PeerSet([u32; WORDS]);

impl PeerSet {
    pub(crate) const fn new() -> Self {
        Self([0; WORDS])
    }

    pub(crate) fn insert(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i >> 5) {
            *w |= 1u32 << (i & 31);
        }
    }

    pub(crate) fn remove(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i >> 5) {
            *w &= !(1u32 << (i & 31));
        }
    }

    /// Whether the set has no member.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The smallest member in `from..end` (one copy serves every loop
    /// over the peers, which keeps the firmware small).
    #[inline(never)]
    fn first_in(&self, from: usize, end: usize) -> Option<usize> {
        let mut w = from >> 5;
        let mut mask = u32::MAX << (from & 31);
        // Words past `end` hold no member in range.
        let words = self.0.get(..end.saturating_add(31) >> 5).unwrap_or(&self.0);
        while let Some(&word) = words.get(w) {
            let bits = word & mask;
            if bits != 0 {
                let i = (w << 5) | usize::try_from(bits.trailing_zeros()).unwrap_or(0);
                return (i < end).then_some(i);
            }
            w = w.saturating_add(1);
            mask = u32::MAX;
        }
        None
    }

    /// Every member below `limit`, ascending.
    pub(crate) fn iter(self, limit: usize) -> Members {
        self.rotation(0, limit)
    }

    /// Every member below `limit` once, starting at the first one at or
    /// after `start` and wrapping around (round-robin order).
    pub(crate) fn rotation(self, start: usize, limit: usize) -> Members {
        Members {
            set: self,
            next: start,
            start,
            limit,
            wrapped: false,
        }
    }
}

/// Iterator over the members of a [`PeerSet`] in rotation order (over a
/// copy of the set: the socket can be changed while iterating).
#[derive(Debug, Clone)]
pub(crate) struct Members {
    set: PeerSet,
    next: usize,
    start: usize,
    /// Members from here up are not visited (the socket's `PEERS`: a
    /// constant the compiler folds into the search).
    limit: usize,
    wrapped: bool,
}

impl Iterator for Members {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let end = if self.wrapped { self.start } else { self.limit };
        if let Some(i) = self.set.first_in(self.next, end) {
            self.next = i.saturating_add(1);
            return Some(i);
        }
        if self.wrapped || self.start == 0 {
            return None;
        }
        self.wrapped = true;
        self.next = 0;
        let i = self.set.first_in(0, self.start.min(self.limit))?;
        self.next = i.saturating_add(1);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::PeerSet;
    use std::vec::Vec;

    #[test]
    fn members_and_rotation() {
        let mut s = PeerSet::new();
        for i in [0, 5, 31, 32, 63, 200, 255] {
            s.insert(i);
        }
        s.remove(5);
        s.insert(300); // out of range: ignored
        let all: Vec<usize> = s.iter(256).collect();
        assert_eq!(all, [0, 31, 32, 63, 200, 255]);
        let rot: Vec<usize> = s.rotation(33, 256).collect();
        assert_eq!(rot, [63, 200, 255, 0, 31, 32]);
        let rot: Vec<usize> = s.rotation(0, 256).collect();
        assert_eq!(rot, all);
        let rot: Vec<usize> = s.rotation(256, 256).collect();
        assert_eq!(rot, all);
        assert_eq!(PeerSet::new().rotation(7, 256).count(), 0);
        let low: Vec<usize> = s.rotation(31, 32).collect();
        assert_eq!(low, [31, 0]);
    }
}
