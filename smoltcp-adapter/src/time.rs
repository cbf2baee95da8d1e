//! Conversions between smoltcp's clock and the core's, in one place.
//!
//! smoltcp counts signed microseconds ([`smoltcp::time::Instant`]), the core
//! unsigned milliseconds ([`zmtp_core::Instant`]). The public API of this
//! crate takes and returns smoltcp's types (the clock a firmware already
//! feeds to `Interface::poll`); everything inside runs on the core's.
//!
//! - smoltcp → core rounds down to the millisecond and maps instants before
//!   the origin to the origin.
//! - core → smoltcp saturates at the latest instant smoltcp can hold.

use smoltcp::time::{Duration as NetDuration, Instant as NetInstant};
use zmtp_core::{Duration, Instant};

/// The core's instant for smoltcp's `t` (rounded down to the millisecond;
/// negative instants become [`Instant::ZERO`]).
#[must_use]
pub fn to_core(t: NetInstant) -> Instant {
    Instant::from_millis(u64::try_from(t.total_millis()).unwrap_or(0))
}

/// smoltcp's instant for the core's `t`, saturating at the latest instant
/// smoltcp can represent.
#[must_use]
pub fn to_net(t: Instant) -> NetInstant {
    let micros = t.as_millis().saturating_mul(1000);
    NetInstant::from_micros(i64::try_from(micros).unwrap_or(i64::MAX))
}

/// The core's duration for smoltcp's `d` (rounded down to the millisecond).
#[must_use]
pub fn duration_to_core(d: NetDuration) -> Duration {
    Duration::from_millis(d.total_millis())
}

/// smoltcp's duration for the core's `d` (saturating).
#[must_use]
pub fn duration_to_net(d: Duration) -> NetDuration {
    NetDuration::from_micros(d.as_millis().saturating_mul(1000))
}

/// The earlier of two optional deadlines (`None` means "no deadline").
#[must_use]
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_edges() {
        assert_eq!(
            to_core(NetInstant::from_micros(1_999)),
            Instant::from_millis(1)
        );
        assert_eq!(to_core(NetInstant::from_micros(-5)), Instant::ZERO);
        assert_eq!(
            to_net(Instant::from_millis(1234)),
            NetInstant::from_millis(1234)
        );
        assert_eq!(
            to_net(Instant::from_millis(u64::MAX)),
            NetInstant::from_micros(i64::MAX)
        );
        for ms in [0_u64, 1, 999, 123_456_789] {
            assert_eq!(to_core(to_net(Instant::from_millis(ms))).as_millis(), ms);
        }
        assert_eq!(
            duration_to_core(NetDuration::from_micros(2_500)),
            Duration::from_millis(2)
        );
        assert_eq!(
            duration_to_net(Duration::from_millis(u64::MAX)),
            NetDuration::from_micros(u64::MAX)
        );
    }

    #[test]
    fn earliest_deadline() {
        let a = Some(Instant::from_millis(5));
        let b = Some(Instant::from_millis(3));
        assert_eq!(earliest(a, b), b);
        assert_eq!(earliest(a, None), a);
        assert_eq!(earliest(None, b), b);
        assert_eq!(earliest(None, None), None);
    }
}
