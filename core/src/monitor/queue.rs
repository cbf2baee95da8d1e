//! The fixed-capacity monitor event queue: the "inproc" endpoint between the
//! socket (producer) and whoever reads the monitor (consumer).

use heapless::Deque;

use super::endpoint::{DEFAULT_ENDPOINT_CAPACITY, MonitorEvent};

/// A fixed-capacity queue of up to `N` monitor records, each with endpoint
/// strings of up to `EP` bytes.
///
/// # Differences from libzmq
///
/// libzmq sends monitor events on a PAIR or PUSH socket without
/// `ZMQ_DONTWAIT`: when nobody reads or the high-water mark (1000) is
/// reached, the sending thread blocks, which can stall the monitored socket
/// (libzmq #2829, #3575, #3745). This queue never blocks and never fails:
/// when it is full, [`EventQueue::push`] drops the **new** event and counts
/// it, and the consumer sees the count in [`EventQueue::dropped`]. Events
/// already queued are never lost.
///
/// # Cost
///
/// Pushing is an O(1) copy into a ring; nothing allocates. Producers should
/// go through [`Monitor::record`](super::Monitor::record), whose cost is a
/// mask check plus this push. The queue needs `&mut` access and no atomics
/// (it builds for `thumbv6m-none-eabi`); an adapter that shares it between
/// threads wraps it in a mutex.
///
/// The consumer reads typed records with [`EventQueue::pop`], or libzmq's
/// raw messages with `pop` and [`MonitorEvent::raw`].
#[derive(Debug, Clone)]
pub struct EventQueue<const N: usize, const EP: usize = DEFAULT_ENDPOINT_CAPACITY> {
    events: Deque<MonitorEvent<EP>, N>,
    dropped: u64,
}

impl<const N: usize, const EP: usize> EventQueue<N, EP> {
    /// An empty queue. `N` must be at least 1 (checked at compile time).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            events: Deque::new(),
            dropped: 0,
        }
    }

    /// Appends an event. Never blocks and never fails: if the queue is full
    /// the new event is dropped and counted. Returns `false` when it was
    /// dropped.
    pub fn push(&mut self, ev: MonitorEvent<EP>) -> bool {
        match self.events.push_back(ev) {
            Ok(()) => true,
            Err(_) => {
                self.dropped = self.dropped.saturating_add(1);
                false
            }
        }
    }

    /// Removes and returns the oldest event.
    pub fn pop(&mut self) -> Option<MonitorEvent<EP>> {
        self.events.pop_front()
    }

    /// The oldest event, without removing it.
    #[must_use]
    pub fn peek(&self) -> Option<&MonitorEvent<EP>> {
        self.events.front()
    }

    /// The queued events, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &MonitorEvent<EP>> {
        self.events.iter()
    }

    /// The number of queued events.
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is queued.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Whether the next push will be dropped.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.events.is_full()
    }

    /// The capacity `N`.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// How many events were dropped because the queue was full, since
    /// creation or the last [`EventQueue::take_dropped`] (saturating).
    #[must_use]
    pub const fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Returns the drop count and resets it to 0.
    pub fn take_dropped(&mut self) -> u64 {
        core::mem::take(&mut self.dropped)
    }

    /// Discards every queued event. The drop count is kept.
    pub fn clear(&mut self) {
        self.events.clear();
    }
}

impl<const N: usize, const EP: usize> Default for EventQueue<N, EP> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "defmt")]
impl<const N: usize, const EP: usize> defmt::Format for EventQueue<N, EP> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "EventQueue {{ len: {}, capacity: {}, dropped: {} }}",
            self.len(),
            N,
            self.dropped
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::{EndpointPair, Event};
    use super::*;
    use proptest::prelude::*;

    fn ev(fd: u32) -> MonitorEvent {
        MonitorEvent::new(Event::Connected { fd }, EndpointPair::connect("tcp://h:1"))
    }

    #[test]
    fn fifo_and_drop_new() {
        let mut q: EventQueue<2> = EventQueue::new();
        assert!(q.is_empty());
        assert_eq!(q.capacity(), 2);
        assert!(q.push(ev(1)));
        assert!(q.push(ev(2)));
        assert!(q.is_full());
        assert!(!q.push(ev(3)));
        assert_eq!(q.dropped(), 1);
        assert_eq!(q.len(), 2);
        assert_eq!(q.peek().map(|e| e.event), Some(Event::Connected { fd: 1 }));
        assert_eq!(q.iter().count(), 2);
        assert_eq!(q.pop().map(|e| e.event), Some(Event::Connected { fd: 1 }));
        assert!(q.push(ev(4)));
        assert_eq!(q.pop().map(|e| e.event), Some(Event::Connected { fd: 2 }));
        assert_eq!(q.pop().map(|e| e.event), Some(Event::Connected { fd: 4 }));
        assert_eq!(q.pop(), None);
        assert_eq!(q.take_dropped(), 1);
        assert_eq!(q.dropped(), 0);
        q.push(ev(5));
        q.clear();
        assert!(q.is_empty());
    }

    #[test]
    fn const_construction() {
        static _Q: EventQueue<4> = EventQueue::new();
        let q: EventQueue<4, 16> = EventQueue::default();
        assert_eq!(q.len(), 0);
    }

    proptest! {
        #[test]
        fn never_exceeds_capacity(ops in proptest::collection::vec(any::<bool>(), 0..200)) {
            let mut q: EventQueue<7, 16> = EventQueue::new();
            let (mut pushes, mut popped) = (0_u64, 0_u64);
            for (i, push) in ops.iter().enumerate() {
                if *push {
                    q.push(MonitorEvent::new(Event::Closed { fd: u32::try_from(i).unwrap() }, EndpointPair::none()));
                    pushes += 1;
                } else if q.pop().is_some() {
                    popped += 1;
                }
                prop_assert!(q.len() <= q.capacity());
                prop_assert_eq!(q.len() as u64 + q.dropped() + popped, pushes);
            }
        }

        #[test]
        fn len_plus_dropped_is_pushes(n in 0_u64..50) {
            let mut q: EventQueue<10, 8> = EventQueue::new();
            for i in 0..n {
                q.push(MonitorEvent::new(Event::Closed { fd: u32::try_from(i).unwrap() }, EndpointPair::none()));
            }
            prop_assert!(q.len() <= 10);
            prop_assert_eq!(q.len() as u64 + q.dropped(), n);
        }
    }
}
