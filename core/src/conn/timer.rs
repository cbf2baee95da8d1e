//! The connection's timers (quinn-proto `timer.rs` pattern): one slot per
//! kind, the earliest armed slot is the connection's `poll_timeout`.

use crate::time::Instant;

/// A connection timer (libzmq `stream_engine_base.cpp` / `zmtp_engine.cpp`
/// timer ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) enum Timer {
    /// `ZMQ_HANDSHAKE_IVL`: the handshake must finish before it fires.
    Handshake = 0,
    /// `ZMQ_HEARTBEAT_IVL`: time to send the next PING.
    HeartbeatSend = 1,
    /// `ZMQ_HEARTBEAT_TIMEOUT`: armed when a PING is sent, cancelled by any
    /// received frame.
    HeartbeatTimeout = 2,
    /// The TTL announced by the peer's PING, cancelled by any received frame.
    PeerTtl = 3,
}

const TIMER_COUNT: usize = 4;

/// Deadlines indexed by [`Timer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TimerTable([Option<Instant>; TIMER_COUNT]);

impl TimerTable {
    const ALL: [Timer; TIMER_COUNT] = [
        Timer::Handshake,
        Timer::HeartbeatSend,
        Timer::HeartbeatTimeout,
        Timer::PeerTtl,
    ];

    fn slot(&mut self, t: Timer) -> Option<&mut Option<Instant>> {
        self.0.get_mut(t as usize)
    }

    pub(crate) fn set(&mut self, t: Timer, at: Instant) {
        if let Some(s) = self.slot(t) {
            *s = Some(at);
        }
    }

    pub(crate) fn stop(&mut self, t: Timer) {
        if let Some(s) = self.slot(t) {
            *s = None;
        }
    }

    pub(crate) fn is_armed(&self, t: Timer) -> bool {
        self.0.get(t as usize).is_some_and(Option::is_some)
    }

    pub(crate) fn stop_all(&mut self) {
        self.0 = [None; TIMER_COUNT];
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// The first timer (in declaration order) whose deadline is at or before
    /// `now`; it is disarmed.
    pub(crate) fn expire(&mut self, now: Instant) -> Option<Timer> {
        for t in Self::ALL {
            if let Some(slot) = self.slot(t)
                && slot.is_some_and(|at| at <= now)
            {
                *slot = None;
                return Some(t);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_and_expiry() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Timer::HeartbeatSend, Instant::from_millis(50));
        t.set(Timer::Handshake, Instant::from_millis(30));
        assert_eq!(t.next(), Some(Instant::from_millis(30)));
        assert_eq!(t.expire(Instant::from_millis(29)), None);
        assert_eq!(t.expire(Instant::from_millis(60)), Some(Timer::Handshake));
        assert_eq!(
            t.expire(Instant::from_millis(60)),
            Some(Timer::HeartbeatSend)
        );
        assert_eq!(t.expire(Instant::from_millis(60)), None);
        assert!(!t.is_armed(Timer::Handshake));
    }
}
