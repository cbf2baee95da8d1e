//! Starting and stopping a monitor, following libzmq's
//! `socket_base_t::monitor()` and `stop_monitor()` (`src/socket_base.cpp`).

use core::fmt;

use heapless::String;

use super::endpoint::{DEFAULT_ENDPOINT_CAPACITY, EndpointPair, EventVersion, MonitorEvent};
use super::errno;
use super::event::{Event, EventMask, event_id};
use super::queue::EventQueue;
use crate::socket_type::SocketType;

/// Why a monitor could not be started. [`MonitorError::errno`] gives the
/// errno libzmq sets in the same case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MonitorError {
    /// The endpoint has no `://`, or an empty transport or address (`EINVAL`).
    InvalidEndpoint,
    /// The transport is not `inproc` (`EPROTONOSUPPORT`).
    ProtocolNotSupported,
    /// The transport is `udp`, which libzmq refuses for every socket type
    /// this crate implements (`ENOCOMPATPROTO`).
    IncompatibleProtocol,
    /// Event version 1 with mask bits above bit 15 (`EINVAL`).
    InvalidMask,
    /// The monitor socket type is not PAIR, PUB or PUSH (`EINVAL`).
    InvalidSocketType,
    /// The endpoint does not fit the monitor's `EP` bytes of storage. libzmq
    /// has no such limit; this is reported like a failed bind of the monitor
    /// socket (`ENAMETOOLONG`).
    EndpointTooLong,
}

impl MonitorError {
    /// The errno libzmq sets for this error (Linux numbers, and libzmq's
    /// own `ENOCOMPATPROTO`).
    #[must_use]
    pub const fn errno(self) -> u32 {
        match self {
            Self::InvalidEndpoint | Self::InvalidMask | Self::InvalidSocketType => errno::EINVAL,
            Self::ProtocolNotSupported => errno::EPROTONOSUPPORT,
            Self::IncompatibleProtocol => errno::ENOCOMPATPROTO,
            Self::EndpointTooLong => errno::ENAMETOOLONG,
        }
    }
}

impl fmt::Display for MonitorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidEndpoint => "invalid monitor endpoint",
            Self::ProtocolNotSupported => "monitor endpoints must use the inproc transport",
            Self::IncompatibleProtocol => "transport not compatible with the socket type",
            Self::InvalidMask => "event version 1 supports only the first 16 event bits",
            Self::InvalidSocketType => "monitor socket type must be PAIR, PUB or PUSH",
            Self::EndpointTooLong => "monitor endpoint too long",
        })
    }
}

impl core::error::Error for MonitorError {}

/// The monitor of one socket: the active configuration (endpoint, mask,
/// format version, monitor socket type) and the [`EventQueue`] events go
/// to. `N` is the queue capacity, `EP` the byte capacity of each endpoint
/// string (and of the monitor endpoint itself).
///
/// Producers (the core for `HANDSHAKE_*` and `DISCONNECTED`, adapters for
/// the others) call [`Monitor::record`]; the consumer calls
/// [`Monitor::pop`] and, for libzmq's bytes, [`MonitorEvent::raw`] with
/// [`Monitor::version`].
///
/// # Differences from libzmq
///
/// - A full queue drops the new event and counts it instead of blocking the
///   socket (see [`EventQueue`]).
/// - There is one queue per socket, kept across restarts: events queued
///   before [`Monitor::stop`] or a restart stay readable, followed by the
///   `MONITOR_STOPPED` of the old monitor (if its mask had it). libzmq
///   instead closes the old monitor socket with `LINGER` 0.
/// - Only event versions 1 and 2 exist (libzmq accepts other numbers and
///   then sends nothing).
/// - Checking that no other monitor uses the same inproc name (libzmq's
///   `EADDRINUSE` from binding the monitor socket) is the adapter's job.
///
/// ```
/// use zmtp_core::monitor::{EndpointPair, Event, EventMask, EventVersion, Monitor};
/// let mut m: Monitor<8> = Monitor::new();
/// m.start("inproc://mon", EventMask::ALL, EventVersion::V1).unwrap();
/// m.record(Event::HandshakeSucceeded, EndpointPair::connect_pair("tcp://127.0.0.1:40000", "tcp://127.0.0.1:5555"));
/// m.stop();
/// assert_eq!(m.pop().unwrap().event, Event::HandshakeSucceeded);
/// assert_eq!(m.pop().unwrap().event, Event::MonitorStopped);
/// ```
#[derive(Debug, Clone)]
pub struct Monitor<const N: usize, const EP: usize = DEFAULT_ENDPOINT_CAPACITY> {
    queue: EventQueue<N, EP>,
    endpoint: Option<String<EP>>,
    mask: EventMask,
    version: EventVersion,
    socket_type: SocketType,
}

impl<const N: usize, const EP: usize> Monitor<N, EP> {
    /// An inactive monitor with an empty queue.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            queue: EventQueue::new(),
            endpoint: None,
            mask: EventMask::NONE,
            version: EventVersion::V1,
            socket_type: SocketType::Pair,
        }
    }

    /// `zmq_socket_monitor` / `zmq_socket_monitor_versioned` with a PAIR
    /// monitor socket. See [`Monitor::start_versioned`].
    ///
    /// # Errors
    ///
    /// As [`Monitor::start_versioned`].
    pub fn start(
        &mut self,
        endpoint: &str,
        mask: EventMask,
        version: EventVersion,
    ) -> Result<(), MonitorError> {
        self.start_versioned(endpoint, mask, version, SocketType::Pair)
    }

    /// `zmq_socket_monitor_versioned(s, endpoint, mask, version, socket_type)`.
    ///
    /// Checks in libzmq's order:
    ///
    /// 1. version 1 and a mask with bits above bit 15: [`MonitorError::InvalidMask`];
    /// 2. the endpoint (cut at its first NUL byte, as the C API sees it) has
    ///    no `://` or an empty part: [`MonitorError::InvalidEndpoint`];
    /// 3. the transport is `udp`: [`MonitorError::IncompatibleProtocol`];
    ///    any other transport than `inproc`, known or not:
    ///    [`MonitorError::ProtocolNotSupported`];
    /// 4. if a monitor is active it is **stopped**, with a `MONITOR_STOPPED`
    ///    event if that event is in its mask (this happens even if a later
    ///    check fails);
    /// 5. `socket_type` is not PAIR, PUB or PUSH: [`MonitorError::InvalidSocketType`];
    /// 6. the endpoint does not fit `EP` bytes: [`MonitorError::EndpointTooLong`]
    ///    (the monitor stays inactive, as after a failed bind in libzmq).
    ///
    /// Then the endpoint, mask, version and socket type are stored and the
    /// monitor is active. The queue and its drop count are not touched.
    ///
    /// # Errors
    ///
    /// The [`MonitorError`] of the first check that fails, as listed above.
    pub fn start_versioned(
        &mut self,
        endpoint: &str,
        mask: EventMask,
        version: EventVersion,
        socket_type: SocketType,
    ) -> Result<(), MonitorError> {
        if version == EventVersion::V1 && !mask.fits_v1() {
            return Err(MonitorError::InvalidMask);
        }
        let endpoint = endpoint.split('\0').next().unwrap_or_default();
        let Some((transport, address)) = split_scheme(endpoint) else {
            return Err(MonitorError::InvalidEndpoint);
        };
        if transport.is_empty() || address.is_empty() {
            return Err(MonitorError::InvalidEndpoint);
        }
        match transport {
            "inproc" => {}
            "udp" => return Err(MonitorError::IncompatibleProtocol),
            _ => return Err(MonitorError::ProtocolNotSupported),
        }
        self.stop();
        if !matches!(
            socket_type,
            SocketType::Pair | SocketType::Pub | SocketType::Push
        ) {
            return Err(MonitorError::InvalidSocketType);
        }
        let mut stored = String::new();
        stored
            .push_str(endpoint)
            .map_err(|_| MonitorError::EndpointTooLong)?;
        self.endpoint = Some(stored);
        self.mask = mask;
        self.version = version;
        self.socket_type = socket_type;
        Ok(())
    }

    /// `zmq_socket_monitor(s, NULL, 0)`: if active, queues `MONITOR_STOPPED`
    /// (value 0, endpoints "" and "") when that event is in the mask, then
    /// deactivates the monitor and clears the mask. A no-op if inactive.
    /// Queued events stay readable.
    pub fn stop(&mut self) {
        if self.endpoint.take().is_some() {
            if self.mask.contains_id(event_id::MONITOR_STOPPED) {
                self.queue.push(MonitorEvent::new(
                    Event::MonitorStopped,
                    EndpointPair::none(),
                ));
            }
            self.mask = EventMask::NONE;
        }
    }

    /// Whether a monitor is active.
    #[must_use]
    pub const fn is_active(&self) -> bool {
        self.endpoint.is_some()
    }

    /// The active monitor's endpoint as given to `start` (for example
    /// `inproc://monitor`), or `None` if inactive.
    #[must_use]
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_ref().map(String::as_str)
    }

    /// The active monitor's inproc name (the endpoint without `inproc://`),
    /// or `None` if inactive.
    #[must_use]
    pub fn inproc_name(&self) -> Option<&str> {
        self.endpoint().and_then(split_scheme).map(|(_, name)| name)
    }

    /// The active mask; [`EventMask::NONE`] when inactive.
    #[must_use]
    pub const fn mask(&self) -> EventMask {
        self.mask
    }

    /// The format version of the active (or last) monitor.
    #[must_use]
    pub const fn version(&self) -> EventVersion {
        self.version
    }

    /// The monitor socket type of the active (or last) monitor.
    #[must_use]
    pub const fn socket_type(&self) -> SocketType {
        self.socket_type
    }

    /// Whether an event with this id would be recorded now (active and in
    /// the mask). A cheap pre-check so producers can skip building
    /// endpoint strings.
    #[must_use]
    pub const fn wants(&self, id: u64) -> bool {
        self.endpoint.is_some() && self.mask.contains_id(id)
    }

    /// The one entry point for producers: if the monitor is active and the
    /// event is in the mask, queue it (dropping and counting it when the
    /// queue is full). Returns whether it was queued.
    ///
    /// An event that the active format cannot carry (with version 1: an id
    /// above 16 bits or a value above 32 bits, which only an
    /// [`Event::Unknown`] sharing a mask bit can have; libzmq aborts there)
    /// is not queued and not counted.
    pub fn record(&mut self, event: Event, endpoints: EndpointPair<EP>) -> bool {
        self.record_with(event, || endpoints)
    }

    /// Like [`Monitor::record`], but builds the endpoints only if the event
    /// will be queued.
    pub fn record_with(
        &mut self,
        event: Event,
        endpoints: impl FnOnce() -> EndpointPair<EP>,
    ) -> bool {
        if !self.wants(event.id()) {
            return false;
        }
        if self.version == EventVersion::V1 && super::encode::encode_v1(&event).is_err() {
            return false;
        }
        self.queue.push(MonitorEvent::new(event, endpoints()))
    }

    /// The event queue.
    #[must_use]
    pub const fn queue(&self) -> &EventQueue<N, EP> {
        &self.queue
    }

    /// The event queue, mutably (for example to clear it or reset the drop
    /// count).
    pub fn queue_mut(&mut self) -> &mut EventQueue<N, EP> {
        &mut self.queue
    }

    /// Removes and returns the oldest queued event. Works whether or not the
    /// monitor is active.
    pub fn pop(&mut self) -> Option<MonitorEvent<EP>> {
        self.queue.pop()
    }

    /// How many events were dropped because the queue was full.
    #[must_use]
    pub const fn dropped(&self) -> u64 {
        self.queue.dropped()
    }
}

impl<const N: usize, const EP: usize> Default for Monitor<N, EP> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "defmt")]
impl<const N: usize, const EP: usize> defmt::Format for Monitor<N, EP> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Monitor {{ active: {}, mask: {=u64:#x}, version: {}, queue: {} }}",
            self.is_active(),
            self.mask.bits(),
            self.version,
            self.queue
        );
    }
}

/// Splits `scheme://rest` at the first `://` (a byte search: cheaper in
/// flash than the generic substring searcher).
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let i = s.as_bytes().windows(3).position(|w| w == b"://")?;
    Some((s.get(..i)?, s.get(i.checked_add(3)?..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    type M = Monitor<8>;

    fn drain(m: &mut M) -> std::vec::Vec<Event> {
        core::iter::from_fn(|| m.pop()).map(|e| e.event).collect()
    }

    #[test]
    fn endpoint_rules() {
        let mut m = M::new();
        let v1 = EventVersion::V1;
        assert_eq!(
            m.start("tcp://127.0.0.1:*", EventMask::ALL, v1),
            Err(MonitorError::ProtocolNotSupported)
        );
        assert_eq!(
            m.start("ipc://x", EventMask::ALL, v1),
            Err(MonitorError::ProtocolNotSupported)
        );
        assert_eq!(
            m.start("bogus://x", EventMask::ALL, v1),
            Err(MonitorError::ProtocolNotSupported)
        );
        assert_eq!(
            m.start("udp://x:1", EventMask::ALL, v1),
            Err(MonitorError::IncompatibleProtocol)
        );
        assert_eq!(
            m.start("inproc", EventMask::ALL, v1),
            Err(MonitorError::InvalidEndpoint)
        );
        assert_eq!(
            m.start("inproc://", EventMask::ALL, v1),
            Err(MonitorError::InvalidEndpoint)
        );
        assert_eq!(
            m.start("://x", EventMask::ALL, v1),
            Err(MonitorError::InvalidEndpoint)
        );
        assert_eq!(
            m.start("", EventMask::ALL, v1),
            Err(MonitorError::InvalidEndpoint)
        );
        assert_eq!(
            m.start("inproc://\0x", EventMask::ALL, v1),
            Err(MonitorError::InvalidEndpoint)
        );
        assert!(!m.is_active());
        assert_eq!(
            MonitorError::ProtocolNotSupported.errno(),
            errno::EPROTONOSUPPORT
        );
        assert_eq!(MonitorError::InvalidEndpoint.errno(), errno::EINVAL);
        assert_eq!(m.start("inproc://mon", EventMask::ALL, v1), Ok(()));
        assert!(m.is_active());
        assert_eq!(m.endpoint(), Some("inproc://mon"));
        assert_eq!(m.inproc_name(), Some("mon"));
        assert_eq!(m.mask(), EventMask::ALL);
    }

    #[test]
    fn mask_rules() {
        let mut m = M::new();
        assert_eq!(
            m.start(
                "inproc://mon",
                EventMask::from_bits(0x10000),
                EventVersion::V1
            ),
            Err(MonitorError::InvalidMask)
        );
        assert_eq!(
            m.start(
                "inproc://mon",
                EventMask::from_zmq_int(-1),
                EventVersion::V1
            ),
            Err(MonitorError::InvalidMask)
        );
        // The mask check comes before the endpoint check, as in libzmq.
        assert_eq!(
            m.start("tcp://x:1", EventMask::ALL_V2, EventVersion::V1),
            Err(MonitorError::InvalidMask)
        );
        assert_eq!(
            m.start("inproc://mon", EventMask::ALL_V2, EventVersion::V2),
            Ok(())
        );
        assert_eq!(m.version(), EventVersion::V2);
        assert!(m.record(
            Event::PipesStats {
                egress: 1,
                ingress: 2
            },
            EndpointPair::none()
        ));
    }

    #[test]
    fn socket_types() {
        let mut m = M::new();
        for t in [SocketType::Pair, SocketType::Pub, SocketType::Push] {
            assert_eq!(
                m.start_versioned("inproc://mon", EventMask::ALL_V2, EventVersion::V2, t),
                Ok(())
            );
            assert_eq!(m.socket_type(), t);
        }
        assert_eq!(
            m.start_versioned(
                "inproc://mon",
                EventMask::ALL,
                EventVersion::V2,
                SocketType::Dealer
            ),
            Err(MonitorError::InvalidSocketType)
        );
        assert!(!m.is_active());
    }

    #[test]
    fn stop_emits_monitor_stopped_only_when_in_mask() {
        let mut m = M::new();
        m.stop(); // inactive: no-op
        assert!(m.queue().is_empty());

        m.start("inproc://a", EventMask::ALL, EventVersion::V1)
            .unwrap();
        m.stop();
        assert!(!m.is_active());
        assert_eq!(m.mask(), EventMask::NONE);
        let ev = m.pop().unwrap();
        assert_eq!(ev.event, Event::MonitorStopped);
        assert_eq!(ev.endpoints, EndpointPair::none());
        assert_eq!(
            ev.raw(EventVersion::V1).frame(0),
            Some(&[0x00, 0x04, 0, 0, 0, 0][..])
        );
        m.stop(); // second stop: nothing
        assert!(m.pop().is_none());

        let mask = EventMask::ALL.without(event_id::MONITOR_STOPPED);
        m.start("inproc://a", mask, EventVersion::V1).unwrap();
        m.stop();
        assert!(m.pop().is_none());
    }

    #[test]
    fn restart_stops_old_monitor_first() {
        let mut m = M::new();
        m.start("inproc://a", EventMask::ALL, EventVersion::V1)
            .unwrap();
        m.record(
            Event::Listening { fd: 3 },
            EndpointPair::bind("tcp://127.0.0.1:5555"),
        );
        m.start_versioned(
            "inproc://b",
            EventMask::ALL_V2,
            EventVersion::V2,
            SocketType::Push,
        )
        .unwrap();
        assert_eq!(m.endpoint(), Some("inproc://b"));
        assert_eq!(
            drain(&mut m),
            [Event::Listening { fd: 3 }, Event::MonitorStopped]
        );

        // The old monitor is stopped even when the new socket type is
        // rejected (libzmq's order).
        m.start_versioned(
            "inproc://c",
            EventMask::ALL,
            EventVersion::V2,
            SocketType::Req,
        )
        .unwrap_err();
        assert!(!m.is_active());
        assert_eq!(drain(&mut m), [Event::MonitorStopped]);

        // But not when the endpoint is rejected.
        m.start("inproc://d", EventMask::ALL, EventVersion::V1)
            .unwrap();
        assert_eq!(
            m.start("tcp://x:1", EventMask::ALL, EventVersion::V1),
            Err(MonitorError::ProtocolNotSupported)
        );
        assert!(m.is_active());
        assert!(drain(&mut m).is_empty());
    }

    #[test]
    fn endpoint_too_long() {
        let mut m: Monitor<4, 12> = Monitor::new();
        assert_eq!(
            m.start("inproc://abc", EventMask::ALL, EventVersion::V1),
            Ok(())
        );
        assert_eq!(
            m.start("inproc://abcd", EventMask::ALL, EventVersion::V1),
            Err(MonitorError::EndpointTooLong)
        );
        assert!(!m.is_active());
        // The old monitor was stopped with its event.
        assert_eq!(m.pop().map(|e| e.event), Some(Event::MonitorStopped));
    }

    #[test]
    fn record_respects_mask_and_activity() {
        let mut m = M::new();
        assert!(!m.wants(event_id::CONNECTED));
        assert!(!m.record(Event::Connected { fd: 1 }, EndpointPair::none()));

        let mask = EventMask::NONE | event_id::CONNECTED | event_id::DISCONNECTED;
        m.start("inproc://m", mask, EventVersion::V1).unwrap();
        assert!(m.wants(event_id::CONNECTED));
        assert!(!m.wants(event_id::HANDSHAKE_SUCCEEDED));
        assert!(m.record(
            Event::Connected { fd: 1 },
            EndpointPair::connect("tcp://h:1")
        ));
        assert!(!m.record(
            Event::HandshakeSucceeded,
            EndpointPair::connect("tcp://h:1")
        ));
        let mut built = false;
        assert!(!m.record_with(Event::Accepted { fd: 2 }, || {
            built = true;
            EndpointPair::none()
        }));
        assert!(!built);
        assert!(m.record(
            Event::Disconnected { fd: 1 },
            EndpointPair::connect("tcp://h:1")
        ));
        assert_eq!(
            drain(&mut m),
            [Event::Connected { fd: 1 }, Event::Disconnected { fd: 1 }]
        );
        // No MONITOR_STOPPED: not in the mask.
        m.stop();
        assert!(m.pop().is_none());
    }

    #[test]
    fn record_v1_skips_unencodable() {
        let mut m = M::new();
        m.start("inproc://m", EventMask::ALL, EventVersion::V1)
            .unwrap();
        // Shares bit 0x8000 with the mask but cannot be encoded as v1.
        assert!(!m.record(
            Event::Unknown {
                id: 0x18000,
                value: 0
            },
            EndpointPair::none()
        ));
        assert!(m.record(
            Event::Unknown {
                id: 0x8000,
                value: 1
            },
            EndpointPair::none()
        ));
        assert!(!m.record(
            Event::Unknown {
                id: 0x8000,
                value: 1 << 32
            },
            EndpointPair::none()
        ));
        assert_eq!(m.queue().len(), 1);
        assert_eq!(m.dropped(), 0);
    }

    #[test]
    fn full_queue_drops_and_counts() {
        let mut m: Monitor<2> = Monitor::new();
        m.start("inproc://m", EventMask::ALL, EventVersion::V1)
            .unwrap();
        assert!(m.record(Event::Closed { fd: 1 }, EndpointPair::none()));
        assert!(m.record(Event::Closed { fd: 2 }, EndpointPair::none()));
        assert!(!m.record(Event::Closed { fd: 3 }, EndpointPair::none()));
        m.stop(); // MONITOR_STOPPED is dropped too, and counted
        assert_eq!(m.dropped(), 2);
        assert_eq!(m.queue_mut().take_dropped(), 2);
        assert_eq!(m.queue().len(), 2);
    }
}
