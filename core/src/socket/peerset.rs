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

    /// The smallest member in `from..end`.
    fn first_in(&self, from: usize, end: usize) -> Option<usize> {
        let mut w = from >> 5;
        let mut mask = u32::MAX << (from & 31);
        while let Some(&word) = self.0.get(w) {
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

    /// Every member, ascending.
    pub(crate) fn iter(self) -> Members {
        Members {
            set: self,
            next: 0,
            end: usize::MAX,
        }
    }

    /// Every member once, starting at the first one at or after `start`
    /// and wrapping around (round-robin order).
    pub(crate) fn rotation(self, start: usize) -> core::iter::Chain<Members, Members> {
        Members {
            set: self,
            next: start,
            end: usize::MAX,
        }
        .chain(Members {
            set: self,
            next: 0,
            end: start,
        })
    }
}

/// Iterator over the members of a [`PeerSet`] in `next..end` (a copy of
/// the set: the socket can be changed while iterating).
#[derive(Debug, Clone)]
pub(crate) struct Members {
    set: PeerSet,
    next: usize,
    end: usize,
}

impl Iterator for Members {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let i = self.set.first_in(self.next, self.end)?;
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
        let all: Vec<usize> = s.iter().collect();
        assert_eq!(all, [0, 31, 32, 63, 200, 255]);
        let rot: Vec<usize> = s.rotation(33).collect();
        assert_eq!(rot, [63, 200, 255, 0, 31, 32]);
        let rot: Vec<usize> = s.rotation(0).collect();
        assert_eq!(rot, all);
        let rot: Vec<usize> = s.rotation(256).collect();
        assert_eq!(rot, all);
        assert_eq!(PeerSet::new().rotation(7).count(), 0);
    }
}
