//! The one place where `std::time` meets the core's millisecond clock.

use core::time::Duration as StdDuration;
use std::time::Instant as StdInstant;

use zmtp_core::Instant;

/// The longest single wait the I/O thread computes (a guard against
/// overflow for far-away deadlines).
const MAX_WAIT: StdDuration = StdDuration::from_secs(3600);

/// A context's clock: core instants are milliseconds since `origin`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    origin: StdInstant,
}

impl Clock {
    /// A clock starting now.
    pub(crate) fn new() -> Self {
        Self {
            origin: StdInstant::now(),
        }
    }

    /// The current core instant (rounded down to the millisecond).
    pub(crate) fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// How long from now until `deadline`, rounded so that the core's clock
    /// has reached `deadline` when the wait ends (zero if it has already).
    pub(crate) fn until(&self, deadline: Instant) -> StdDuration {
        match self
            .origin
            .checked_add(StdDuration::from_millis(deadline.as_millis()))
        {
            Some(at) => at
                .saturating_duration_since(StdInstant::now())
                .min(MAX_WAIT),
            None => MAX_WAIT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_and_until() {
        let c = Clock::new();
        let now = c.now();
        assert!(now.as_millis() < 1000);
        assert_eq!(c.until(Instant::ZERO), StdDuration::ZERO);
        let later = Instant::from_millis(now.as_millis() + 50);
        let wait = c.until(later);
        assert!(wait <= StdDuration::from_millis(50));
        assert!(wait > StdDuration::from_millis(10));
        assert_eq!(c.until(Instant::from_millis(u64::MAX)), MAX_WAIT);
    }
}
