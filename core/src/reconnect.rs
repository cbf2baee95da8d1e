//! libzmq 4.3.5's reconnect interval arithmetic: the value of
//! `CONNECT_RETRIED` and the delay before the next connect attempt
//! (`src/stream_connecter_base.cpp` `get_new_reconnect_ivl()`).
//!
//! Sans-IO: the caller supplies the random number, so the same inputs give
//! the same intervals on every target. Adapters use [`Backoff`] so that they
//! all report the same intervals as libzmq.
//!
//! | `reconnect_ivl_max` | intervals |
//! |---|---|
//! | `> 0` | `ivl`, `2·ivl`, `4·ivl`, … capped at `max`, no jitter; `max` every time if `max < ivl`; saturates at `i32::MAX` |
//! | `<= 0` (default 0) | `ivl + random % ivl` every time, no growth (100..=199 ms with the default `ivl` of 100) |
//!
//! With `reconnect_ivl <= 0` libzmq does not reconnect and emits no
//! `CONNECT_RETRIED`.
//!
//! libzmq before 4.3.5 (and peers built from it) always added jitter and
//! doubled the base only when `max > ivl`; this module follows 4.3.5.

/// libzmq's default `ZMQ_RECONNECT_IVL` in milliseconds (`src/options.cpp`).
pub const DEFAULT_RECONNECT_IVL_MS: i32 = 100;
/// libzmq's default `ZMQ_RECONNECT_IVL_MAX` in milliseconds (`src/options.cpp`).
pub const DEFAULT_RECONNECT_IVL_MAX_MS: i32 = 0;

/// Reconnect state of one connecter.
///
/// libzmq keeps the current interval per connecter object: consecutive
/// failed attempts of one connecter accumulate back-off, and the new
/// connecter created after an established connection drops starts from the
/// base interval again. Call [`Backoff::reset`] at that point (after a
/// successful connect).
///
/// ```
/// use zmtp_core::reconnect::Backoff;
/// let mut b = Backoff::new(100, 400);
/// assert_eq!(b.next_interval(12345), Some(100));
/// assert_eq!(b.next_interval(12345), Some(200));
/// assert_eq!(b.next_interval(12345), Some(400));
/// assert_eq!(b.next_interval(12345), Some(400));
///
/// let mut b = Backoff::new(100, 0); // libzmq defaults
/// assert_eq!(b.next_interval(190), Some(190)); // 100 + 190 % 100
/// assert_eq!(b.next_interval(7), Some(107));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Backoff {
    reconnect_ivl: i32,
    reconnect_ivl_max: i32,
    /// libzmq's `_current_reconnect_ivl`; `None` is its initial -1.
    current: Option<i32>,
}

impl Backoff {
    /// State for a new connecter with the `ZMQ_RECONNECT_IVL` and
    /// `ZMQ_RECONNECT_IVL_MAX` options, in milliseconds.
    #[must_use]
    pub const fn new(reconnect_ivl_ms: i32, reconnect_ivl_max_ms: i32) -> Self {
        Self {
            reconnect_ivl: reconnect_ivl_ms,
            reconnect_ivl_max: reconnect_ivl_max_ms,
            current: None,
        }
    }

    /// The interval before the next retry in milliseconds, which is also the
    /// value of the `CONNECT_RETRIED` event, with libzmq's integer
    /// arithmetic exactly. `random` stands for libzmq's `generate_random()`.
    ///
    /// - `reconnect_ivl <= 0`: `None` (libzmq does not reconnect and emits no
    ///   `CONNECT_RETRIED`); the state does not change.
    /// - `reconnect_ivl_max > 0`: `ivl`, then double the previous result on
    ///   every call, capped at `max`, without jitter (`random` is ignored).
    ///   If `max < ivl` every result is `max`. Doubling saturates at
    ///   `i32::MAX`.
    /// - otherwise: `ivl + random % ivl` on every call, saturating at
    ///   `i32::MAX`; no growth (with the default `ivl` of 100: 100..=199).
    pub fn next_interval(&mut self, random: u32) -> Option<u32> {
        let ivl = self.reconnect_ivl;
        // Positive, so it converts losslessly.
        let ivl_u = u32::try_from(ivl).ok().filter(|&i| i > 0)?;
        let interval = if self.reconnect_ivl_max > 0 {
            let max = self.reconnect_ivl_max;
            let candidate = match self.current {
                None => ivl,
                Some(c) if c > i32::MAX / 2 => i32::MAX,
                Some(c) => c.saturating_mul(2),
            };
            let next = if candidate > max { max } else { candidate };
            self.current = Some(next);
            next
        } else {
            let base = *self.current.get_or_insert(ivl);
            // libzmq computes `uint32 % int` in unsigned arithmetic; the
            // result is below `ivl`, so it fits an i32.
            let jitter = random
                .checked_rem(ivl_u)
                .and_then(|j| i32::try_from(j).ok())
                .unwrap_or(0);
            base.saturating_add(jitter)
        };
        u32::try_from(interval).ok()
    }

    /// Forgets the accumulated back-off, as libzmq's fresh connecter after an
    /// established connection drops: the next interval starts from the base
    /// again.
    pub fn reset(&mut self) {
        self.current = None;
    }

    /// The `ZMQ_RECONNECT_IVL` option in milliseconds.
    #[must_use]
    pub const fn reconnect_ivl(&self) -> i32 {
        self.reconnect_ivl
    }

    /// The `ZMQ_RECONNECT_IVL_MAX` option in milliseconds.
    #[must_use]
    pub const fn reconnect_ivl_max(&self) -> i32 {
        self.reconnect_ivl_max
    }

    /// Whether the connecter reconnects at all (`reconnect_ivl > 0`).
    #[must_use]
    pub const fn reconnects(&self) -> bool {
        self.reconnect_ivl > 0
    }
}

/// libzmq's defaults: `reconnect_ivl` 100 ms, `reconnect_ivl_max` 0.
impl Default for Backoff {
    fn default() -> Self {
        Self::new(DEFAULT_RECONNECT_IVL_MS, DEFAULT_RECONNECT_IVL_MAX_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn seq(b: &mut Backoff, n: usize, random: u32) -> Vec<Option<u32>> {
        (0..n).map(|_| b.next_interval(random)).collect()
    }

    #[test]
    fn doubling_capped_at_max() {
        let mut b = Backoff::new(100, 400);
        assert_eq!(
            seq(&mut b, 5, 99),
            [Some(100), Some(200), Some(400), Some(400), Some(400)]
        );
        // Not a power-of-two multiple: the cap still applies exactly.
        let mut b = Backoff::new(100, 350);
        assert_eq!(
            seq(&mut b, 4, 0),
            [Some(100), Some(200), Some(350), Some(350)]
        );
    }

    #[test]
    fn max_below_ivl_gives_max() {
        let mut b = Backoff::new(100, 50);
        assert_eq!(seq(&mut b, 3, 7), [Some(50); 3]);
    }

    #[test]
    fn jitter_without_growth() {
        let mut b = Backoff::default();
        assert_eq!(b.next_interval(0), Some(100));
        assert_eq!(b.next_interval(90), Some(190));
        assert_eq!(b.next_interval(199), Some(199));
        assert_eq!(b.next_interval(u32::MAX), Some(100 + u32::MAX % 100));
        assert_eq!(b.next_interval(250), Some(150));
    }

    #[test]
    fn no_reconnect() {
        for ivl in [0, -1, i32::MIN] {
            let mut b = Backoff::new(ivl, 400);
            assert!(!b.reconnects());
            assert_eq!(b.next_interval(5), None);
            let mut b = Backoff::new(ivl, 0);
            assert_eq!(b.next_interval(5), None);
        }
    }

    #[test]
    fn saturation() {
        let mut b = Backoff::new(i32::MAX / 2 + 1, i32::MAX);
        assert_eq!(b.next_interval(0), Some((i32::MAX / 2 + 1) as u32));
        assert_eq!(b.next_interval(0), Some(i32::MAX as u32));
        assert_eq!(b.next_interval(0), Some(i32::MAX as u32));

        let mut b = Backoff::new(i32::MAX / 2, i32::MAX);
        assert_eq!(b.next_interval(0), Some((i32::MAX / 2) as u32));
        assert_eq!(b.next_interval(0), Some((i32::MAX / 2 * 2) as u32));
        assert_eq!(b.next_interval(0), Some(i32::MAX as u32));

        // Jitter branch: ivl + jitter saturates at i32::MAX.
        let mut b = Backoff::new(i32::MAX - 10, 0);
        assert_eq!(b.next_interval(5), Some((i32::MAX - 5) as u32));
        assert_eq!(b.next_interval(10), Some(i32::MAX as u32));
        assert_eq!(b.next_interval(1000), Some(i32::MAX as u32));
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(100, 1000);
        assert_eq!(seq(&mut b, 3, 0), [Some(100), Some(200), Some(400)]);
        b.reset();
        assert_eq!(b.next_interval(0), Some(100));
        assert_eq!(b.reconnect_ivl(), 100);
        assert_eq!(b.reconnect_ivl_max(), 1000);
    }

    /// A direct transcription of the 4.3.5 arithmetic in wide integers.
    fn model(ivl: i32, max: i32, current: &mut i64, random: u32) -> Option<u32> {
        if ivl <= 0 {
            return None;
        }
        let int_max = i64::from(i32::MAX);
        if max > 0 {
            let cand = if *current == -1 {
                i64::from(ivl)
            } else if *current > int_max / 2 {
                int_max
            } else {
                *current * 2
            };
            *current = cand.min(i64::from(max));
            Some(u32::try_from(*current).unwrap())
        } else {
            if *current == -1 {
                *current = i64::from(ivl);
            }
            let jitter = i64::from(random % ivl as u32);
            Some(u32::try_from((*current + jitter).min(int_max)).unwrap())
        }
    }

    proptest! {
        #[test]
        fn matches_model(ivl in prop_oneof![-2..300_i32, any::<i32>()],
                         max in prop_oneof![0..2000_i32, any::<i32>()],
                         randoms in proptest::collection::vec(any::<u32>(), 1..12)) {
            let mut b = Backoff::new(ivl, max);
            let mut current = -1_i64;
            for r in randoms {
                let got = b.next_interval(r);
                prop_assert_eq!(got, model(ivl, max, &mut current, r));
                if let Some(v) = got {
                    prop_assert!(v > 0 && v <= i32::MAX as u32);
                    if max > 0 { prop_assert!(v <= max as u32); }
                }
            }
        }
    }
}
