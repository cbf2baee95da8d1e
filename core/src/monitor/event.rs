//! Monitor events: libzmq's `ZMQ_EVENT_*` ids, the value(s) each one carries
//! and event masks.

use core::fmt;
use core::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign};

use super::errno;
use crate::error::ProtocolError;

/// libzmq's `ZMQ_EVENT_*` ids (libzmq `include/zmq.h`), one `u64` constant
/// per event, plus the aggregates `ALL`, `ALL_V1` and `ALL_V2`.
///
/// Each id is a single bit, so ids double as mask bits (see
/// [`EventMask`](super::EventMask)).
pub mod event_id {
    /// `ZMQ_EVENT_CONNECTED`.
    pub const CONNECTED: u64 = 0x0001;
    /// `ZMQ_EVENT_CONNECT_DELAYED`.
    pub const CONNECT_DELAYED: u64 = 0x0002;
    /// `ZMQ_EVENT_CONNECT_RETRIED`.
    pub const CONNECT_RETRIED: u64 = 0x0004;
    /// `ZMQ_EVENT_LISTENING`.
    pub const LISTENING: u64 = 0x0008;
    /// `ZMQ_EVENT_BIND_FAILED`.
    pub const BIND_FAILED: u64 = 0x0010;
    /// `ZMQ_EVENT_ACCEPTED`.
    pub const ACCEPTED: u64 = 0x0020;
    /// `ZMQ_EVENT_ACCEPT_FAILED`.
    pub const ACCEPT_FAILED: u64 = 0x0040;
    /// `ZMQ_EVENT_CLOSED`.
    pub const CLOSED: u64 = 0x0080;
    /// `ZMQ_EVENT_CLOSE_FAILED`.
    pub const CLOSE_FAILED: u64 = 0x0100;
    /// `ZMQ_EVENT_DISCONNECTED`.
    pub const DISCONNECTED: u64 = 0x0200;
    /// `ZMQ_EVENT_MONITOR_STOPPED`.
    pub const MONITOR_STOPPED: u64 = 0x0400;
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL`.
    pub const HANDSHAKE_FAILED_NO_DETAIL: u64 = 0x0800;
    /// `ZMQ_EVENT_HANDSHAKE_SUCCEEDED`.
    pub const HANDSHAKE_SUCCEEDED: u64 = 0x1000;
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`.
    pub const HANDSHAKE_FAILED_PROTOCOL: u64 = 0x2000;
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`.
    pub const HANDSHAKE_FAILED_AUTH: u64 = 0x4000;
    /// `ZMQ_EVENT_PIPES_STATS` (libzmq DRAFT, event version 2 only).
    pub const PIPES_STATS: u64 = 0x1_0000;
    /// `ZMQ_EVENT_ALL`: the low 16 bits, including the unused bit 0x8000.
    pub const ALL: u64 = 0xFFFF;
    /// `ZMQ_EVENT_ALL_V1`, equal to [`ALL`].
    pub const ALL_V1: u64 = ALL;
    /// `ZMQ_EVENT_ALL_V2` = `ALL_V1 | PIPES_STATS`.
    pub const ALL_V2: u64 = ALL_V1 | PIPES_STATS;

    /// Every id this crate knows, in numeric order.
    pub const KNOWN: [u64; 16] = [
        CONNECTED,
        CONNECT_DELAYED,
        CONNECT_RETRIED,
        LISTENING,
        BIND_FAILED,
        ACCEPTED,
        ACCEPT_FAILED,
        CLOSED,
        CLOSE_FAILED,
        DISCONNECTED,
        MONITOR_STOPPED,
        HANDSHAKE_FAILED_NO_DETAIL,
        HANDSHAKE_SUCCEEDED,
        HANDSHAKE_FAILED_PROTOCOL,
        HANDSHAKE_FAILED_AUTH,
        PIPES_STATS,
    ];
}

/// A monitor event and its value(s). Names, ids and values are libzmq's
/// (`include/zmq.h`, `src/socket_base.cpp` `event_*()`).
///
/// Values that are file descriptors in libzmq (`fd`) are the real descriptor
/// in an adapter that has one, and a stable per-connection (or per-listener)
/// handle in an adapter without descriptors. Values that are `errno` in
/// libzmq use Linux numbers on every target (see [`errno`](super::errno)).
///
/// The endpoint strings that go with each event are described on
/// [`EndpointPair`](super::EndpointPair).
///
/// Decoding never fails on an id: [`Event::from_id_value`] maps anything it
/// does not recognise to [`Event::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// `ZMQ_EVENT_CONNECTED` (0x0001): an outgoing connection was established
    /// (the asynchronous connect completed, or a synchronous connect
    /// succeeded). Emitted by the connecting side before any `HANDSHAKE_*`
    /// event of that connection. Value: the connection's fd.
    Connected {
        /// File descriptor (or handle) of the new connection.
        fd: u32,
    },
    /// `ZMQ_EVENT_CONNECT_DELAYED` (0x0002): a non-blocking connect is in
    /// progress. Not emitted when the connect completes or fails
    /// synchronously (typical for IPC). Value: an errno, in practice always
    /// [`EINPROGRESS`](super::errno::EINPROGRESS) (115).
    ConnectDelayed {
        /// The errno of the connect call (`EINPROGRESS`).
        errno: u32,
    },
    /// `ZMQ_EVENT_CONNECT_RETRIED` (0x0004): a reconnect timer was armed
    /// (after a failed attempt, a connect timeout, or immediately after
    /// `DISCONNECTED` of an established connection). Emitted when the wait
    /// starts, not when the retry happens, and only if the reconnect interval
    /// is > 0. Value: the interval in milliseconds, computed by
    /// [`Backoff::next_interval`](crate::reconnect::Backoff::next_interval).
    ConnectRetried {
        /// Milliseconds until the next attempt.
        interval_ms: u32,
    },
    /// `ZMQ_EVENT_LISTENING` (0x0008): a bind succeeded and the listener is
    /// accepting. Emitted synchronously by the bind call. Value: the listener
    /// fd.
    Listening {
        /// File descriptor (or handle) of the listener.
        fd: u32,
    },
    /// `ZMQ_EVENT_BIND_FAILED` (0x0010): a bind failed. Emitted synchronously
    /// by the bind call. Value: an errno, for example
    /// [`EADDRINUSE`](super::errno::EADDRINUSE). libzmq's endpoint string for
    /// this event has no scheme (`127.0.0.1:5555`).
    BindFailed {
        /// The errno of the failed bind.
        errno: u32,
    },
    /// `ZMQ_EVENT_ACCEPTED` (0x0020): a listener accepted a connection.
    /// Emitted before any `HANDSHAKE_*` event of that connection. Value: the
    /// accepted fd.
    Accepted {
        /// File descriptor (or handle) of the accepted connection.
        fd: u32,
    },
    /// `ZMQ_EVENT_ACCEPT_FAILED` (0x0040): `accept()` returned no socket
    /// (including spurious wake-ups with `EAGAIN`), or the accepted socket
    /// was rejected. Value: an errno.
    AcceptFailed {
        /// The errno of the failed accept.
        errno: u32,
    },
    /// `ZMQ_EVENT_CLOSED` (0x0080): a listener fd was closed (unbind, socket
    /// close, context termination), or a connecter closed its not yet
    /// connected fd (failed connect, connect timeout, termination during an
    /// attempt). Never emitted for an established connection. Value: that fd.
    Closed {
        /// File descriptor (or handle) that was closed.
        fd: u32,
    },
    /// `ZMQ_EVENT_CLOSE_FAILED` (0x0100): closing a listener failed (libzmq:
    /// only when removing an IPC listener's file fails). Value: an errno.
    CloseFailed {
        /// The errno of the failed close.
        errno: u32,
    },
    /// `ZMQ_EVENT_DISCONNECTED` (0x0200): a connection failed, for any
    /// reason (peer close or reset, read error, decode error, handshake
    /// failure or timeout, heartbeat timeout), before or after the handshake.
    /// Never emitted for a local close, disconnect or unbind. On the
    /// connecting side it is followed by `CONNECT_RETRIED` unless the failure
    /// was a protocol error. Value: the connection's fd.
    Disconnected {
        /// File descriptor (or handle) of the failed connection.
        fd: u32,
    },
    /// `ZMQ_EVENT_MONITOR_STOPPED` (0x0400): monitoring stopped (explicitly,
    /// because a new monitor replaced this one, or because the socket was
    /// closed). Always the last event of a monitor. Value: always 0;
    /// endpoints: both empty.
    MonitorStopped,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL` (0x0800): the connection failed
    /// during the greeting or mechanism handshake for a reason other than a
    /// protocol error (peer closed: `EPIPE`, reset: `ECONNRESET`, handshake
    /// timeout: a stale errno), or a required ZAP handler is missing
    /// (`EFAULT`). Always followed by `DISCONNECTED`. Value: an errno.
    HandshakeFailedNoDetail {
        /// The errno describing the failure.
        errno: u32,
    },
    /// `ZMQ_EVENT_HANDSHAKE_SUCCEEDED` (0x1000): the security mechanism
    /// reached the ready state; the connection can carry messages. Never
    /// emitted for ZMTP 1.0/2.0 peers. Value: always 0.
    HandshakeSucceeded,
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL` (0x2000): the peer broke the
    /// protocol during the handshake (mechanism mismatch, malformed or
    /// unexpected command, bad ZAP reply). Followed by `DISCONNECTED`; the
    /// connecting side does not reconnect. Value: a `ZMQ_PROTOCOL_ERROR_*`
    /// code, kept raw so that codes this crate does not know survive
    /// decoding; [`Event::protocol_error`] gives the typed form.
    HandshakeFailedProtocol {
        /// The `ZMQ_PROTOCOL_ERROR_*` code.
        code: u32,
    },
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH` (0x4000): authentication failed. On
    /// a server: the ZAP handler answered 300, 400 or 500. On a client: the
    /// peer sent an ERROR command whose reason is exactly "300", "400" or
    /// "500". Followed by `DISCONNECTED`. Value: the status code.
    HandshakeFailedAuth {
        /// The ZAP status code (300, 400 or 500).
        status: u32,
    },
    /// `ZMQ_EVENT_PIPES_STATS` (0x10000, libzmq DRAFT): queue statistics of
    /// one pipe, emitted on request. Event version 2 only (it has two values
    /// and an id above 16 bits, so it cannot be encoded as version 1).
    PipesStats {
        /// Messages queued towards the peer.
        egress: u64,
        /// Messages queued from the peer.
        ingress: u64,
    },
    /// An id this crate does not know, or a known id whose values do not
    /// match libzmq's layout for it (a value too large for the variant's
    /// field, a non-zero value for `MONITOR_STOPPED` or
    /// `HANDSHAKE_SUCCEEDED`, or a value count other than the event's). Keeps
    /// the id and the first value (0 if there was none), so decoding never
    /// fails and never alters what it cannot represent.
    ///
    /// An `Unknown` whose id and value would decode to another variant is
    /// not canonical: it encodes to the same bytes as that variant.
    Unknown {
        /// The event id as received.
        id: u64,
        /// The first value as received, or 0.
        value: u64,
    },
}

impl Event {
    /// The libzmq `ZMQ_EVENT_*` id of the event (see [`event_id`]).
    #[must_use]
    pub const fn id(&self) -> u64 {
        match self {
            Self::Connected { .. } => event_id::CONNECTED,
            Self::ConnectDelayed { .. } => event_id::CONNECT_DELAYED,
            Self::ConnectRetried { .. } => event_id::CONNECT_RETRIED,
            Self::Listening { .. } => event_id::LISTENING,
            Self::BindFailed { .. } => event_id::BIND_FAILED,
            Self::Accepted { .. } => event_id::ACCEPTED,
            Self::AcceptFailed { .. } => event_id::ACCEPT_FAILED,
            Self::Closed { .. } => event_id::CLOSED,
            Self::CloseFailed { .. } => event_id::CLOSE_FAILED,
            Self::Disconnected { .. } => event_id::DISCONNECTED,
            Self::MonitorStopped => event_id::MONITOR_STOPPED,
            Self::HandshakeFailedNoDetail { .. } => event_id::HANDSHAKE_FAILED_NO_DETAIL,
            Self::HandshakeSucceeded => event_id::HANDSHAKE_SUCCEEDED,
            Self::HandshakeFailedProtocol { .. } => event_id::HANDSHAKE_FAILED_PROTOCOL,
            Self::HandshakeFailedAuth { .. } => event_id::HANDSHAKE_FAILED_AUTH,
            Self::PipesStats { .. } => event_id::PIPES_STATS,
            Self::Unknown { id, .. } => *id,
        }
    }

    /// libzmq's name of the event without the `ZMQ_EVENT_` prefix, for
    /// example `"HANDSHAKE_SUCCEEDED"`; `"UNKNOWN"` for [`Event::Unknown`].
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Connected { .. } => "CONNECTED",
            Self::ConnectDelayed { .. } => "CONNECT_DELAYED",
            Self::ConnectRetried { .. } => "CONNECT_RETRIED",
            Self::Listening { .. } => "LISTENING",
            Self::BindFailed { .. } => "BIND_FAILED",
            Self::Accepted { .. } => "ACCEPTED",
            Self::AcceptFailed { .. } => "ACCEPT_FAILED",
            Self::Closed { .. } => "CLOSED",
            Self::CloseFailed { .. } => "CLOSE_FAILED",
            Self::Disconnected { .. } => "DISCONNECTED",
            Self::MonitorStopped => "MONITOR_STOPPED",
            Self::HandshakeFailedNoDetail { .. } => "HANDSHAKE_FAILED_NO_DETAIL",
            Self::HandshakeSucceeded => "HANDSHAKE_SUCCEEDED",
            Self::HandshakeFailedProtocol { .. } => "HANDSHAKE_FAILED_PROTOCOL",
            Self::HandshakeFailedAuth { .. } => "HANDSHAKE_FAILED_AUTH",
            Self::PipesStats { .. } => "PIPES_STATS",
            Self::Unknown { .. } => "UNKNOWN",
        }
    }

    /// libzmq's name for a known id without the `ZMQ_EVENT_` prefix, or
    /// `None` for an id this crate does not know.
    #[must_use]
    pub fn name_of_id(id: u64) -> Option<&'static str> {
        let count = if id == event_id::PIPES_STATS { 2 } else { 1 };
        match Self::from_parts(id, [0, 0], count) {
            Self::Unknown { .. } => None,
            e => Some(e.name()),
        }
    }

    /// The (first) value: the fd, errno, interval, code or status; 0 for
    /// `MONITOR_STOPPED` and `HANDSHAKE_SUCCEEDED`; `egress` for
    /// `PIPES_STATS`.
    #[must_use]
    pub const fn value(&self) -> u64 {
        let ([first, _], _) = self.values();
        first
    }

    /// The values and how many there are: 1 for every event except
    /// `PIPES_STATS`, which has 2 (`[egress, ingress]`). Unused slots are 0.
    #[must_use]
    pub const fn values(&self) -> ([u64; 2], usize) {
        let v: u32 = match self {
            Self::Connected { fd }
            | Self::Listening { fd }
            | Self::Accepted { fd }
            | Self::Closed { fd }
            | Self::Disconnected { fd } => *fd,
            Self::ConnectDelayed { errno }
            | Self::BindFailed { errno }
            | Self::AcceptFailed { errno }
            | Self::CloseFailed { errno }
            | Self::HandshakeFailedNoDetail { errno } => *errno,
            Self::ConnectRetried { interval_ms } => *interval_ms,
            Self::HandshakeFailedProtocol { code } => *code,
            Self::HandshakeFailedAuth { status } => *status,
            Self::MonitorStopped | Self::HandshakeSucceeded => 0,
            Self::PipesStats { egress, ingress } => return ([*egress, *ingress], 2),
            Self::Unknown { value, .. } => return ([*value, 0], 1),
        };
        ([v as u64, 0], 1)
    }

    /// Builds an event from an id and its values, as read from a monitor
    /// message. Never fails:
    ///
    /// - an id this crate does not know gives [`Event::Unknown`];
    /// - a known id whose values do not fit libzmq's layout for it (wrong
    ///   count, a value above `u32::MAX` for a 32-bit field, a non-zero value
    ///   for `MONITOR_STOPPED` or `HANDSHAKE_SUCCEEDED`) also gives
    ///   [`Event::Unknown`], keeping the id and the first value.
    ///
    /// ```
    /// use zmtp_core::monitor::{event_id, Event};
    /// assert_eq!(
    ///     Event::from_id_value(event_id::CONNECT_DELAYED, &[115]),
    ///     Event::ConnectDelayed { errno: 115 }
    /// );
    /// assert_eq!(
    ///     Event::from_id_value(0x8000, &[7]),
    ///     Event::Unknown { id: 0x8000, value: 7 }
    /// );
    /// ```
    #[must_use]
    pub fn from_id_value(id: u64, values: &[u64]) -> Self {
        let mut first = [0_u64; 2];
        for (slot, v) in first.iter_mut().zip(values) {
            *slot = *v;
        }
        Self::from_parts(id, first, values.len())
    }

    /// [`Event::from_id_value`] for a message with `count` values whose
    /// first (up to) two are in `first`.
    pub(crate) fn from_parts(id: u64, first: [u64; 2], count: usize) -> Self {
        let [v0, v1] = first;
        let unknown = Self::Unknown { id, value: v0 };
        if id == event_id::PIPES_STATS {
            return if count == 2 {
                Self::PipesStats {
                    egress: v0,
                    ingress: v1,
                }
            } else {
                unknown
            };
        }
        if count != 1 {
            return unknown;
        }
        let Ok(v) = u32::try_from(v0) else {
            return unknown;
        };
        match id {
            event_id::CONNECTED => Self::Connected { fd: v },
            event_id::CONNECT_DELAYED => Self::ConnectDelayed { errno: v },
            event_id::CONNECT_RETRIED => Self::ConnectRetried { interval_ms: v },
            event_id::LISTENING => Self::Listening { fd: v },
            event_id::BIND_FAILED => Self::BindFailed { errno: v },
            event_id::ACCEPTED => Self::Accepted { fd: v },
            event_id::ACCEPT_FAILED => Self::AcceptFailed { errno: v },
            event_id::CLOSED => Self::Closed { fd: v },
            event_id::CLOSE_FAILED => Self::CloseFailed { errno: v },
            event_id::DISCONNECTED => Self::Disconnected { fd: v },
            event_id::MONITOR_STOPPED if v == 0 => Self::MonitorStopped,
            event_id::HANDSHAKE_FAILED_NO_DETAIL => Self::HandshakeFailedNoDetail { errno: v },
            event_id::HANDSHAKE_SUCCEEDED if v == 0 => Self::HandshakeSucceeded,
            event_id::HANDSHAKE_FAILED_PROTOCOL => Self::HandshakeFailedProtocol { code: v },
            event_id::HANDSHAKE_FAILED_AUTH => Self::HandshakeFailedAuth { status: v },
            _ => unknown,
        }
    }

    /// Whether the event is one this crate knows (anything but
    /// [`Event::Unknown`]).
    #[must_use]
    pub const fn is_known(&self) -> bool {
        !matches!(self, Self::Unknown { .. })
    }

    /// The typed protocol error of a `HANDSHAKE_FAILED_PROTOCOL` event, or
    /// `None` for other events and for codes libzmq does not define.
    #[must_use]
    pub fn protocol_error(&self) -> Option<ProtocolError> {
        match self {
            Self::HandshakeFailedProtocol { code } => ProtocolError::from_code(*code),
            _ => None,
        }
    }

    /// A `HANDSHAKE_FAILED_PROTOCOL` event for a typed protocol error.
    #[must_use]
    pub const fn handshake_failed_protocol(e: ProtocolError) -> Self {
        Self::HandshakeFailedProtocol { code: e.code() }
    }

    /// Whether the value of this event is an errno (see
    /// [`errno`](super::errno)).
    #[must_use]
    pub const fn value_is_errno(&self) -> bool {
        matches!(
            self,
            Self::ConnectDelayed { .. }
                | Self::BindFailed { .. }
                | Self::AcceptFailed { .. }
                | Self::CloseFailed { .. }
                | Self::HandshakeFailedNoDetail { .. }
        )
    }
}

/// Formats as libzmq's name and the value, with the errno or protocol error
/// name where there is one: `CONNECT_DELAYED(115 EINPROGRESS)`,
/// `HANDSHAKE_FAILED_PROTOCOL(0x11000002 ZMTP_MECHANISM_MISMATCH)`,
/// `PIPES_STATS(3, 0)`, `UNKNOWN(id 0x8000, 7)`.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            Self::PipesStats { egress, ingress } => write!(f, "({egress}, {ingress})"),
            Self::Unknown { id, value } => write!(f, "(id {id:#x}, {value})"),
            Self::HandshakeFailedProtocol { code } => match ProtocolError::from_code(*code) {
                Some(e) => write!(f, "({code:#010x} {})", e.name()),
                None => write!(f, "({code:#010x})"),
            },
            e if e.value_is_errno() => {
                let v = e.value();
                match u32::try_from(v).ok().and_then(errno::name) {
                    Some(n) => write!(f, "({v} {n})"),
                    None => write!(f, "({v})"),
                }
            }
            e => write!(f, "({})", e.value()),
        }
    }
}

/// A set of events: `ZMQ_EVENT_*` bits, as passed to `zmq_socket_monitor`.
///
/// Membership is libzmq's test `mask & id != 0` (`socket_base.cpp`
/// `event()`), so an unknown id is in the mask when it shares a bit with it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EventMask(u64);

impl EventMask {
    /// No events.
    pub const NONE: Self = Self(0);
    /// `ZMQ_EVENT_ALL` (0xFFFF): every event of the version 1 format. It
    /// includes the unused bit 0x8000 and, like libzmq's, grows when libzmq
    /// assigns new ids below 0x10000.
    pub const ALL: Self = Self(event_id::ALL);
    /// `ZMQ_EVENT_ALL_V1` (0xFFFF), equal to [`EventMask::ALL`].
    pub const ALL_V1: Self = Self(event_id::ALL_V1);
    /// `ZMQ_EVENT_ALL_V2` (0x1FFFF): [`EventMask::ALL_V1`] plus
    /// `PIPES_STATS`. Valid only with event version 2.
    pub const ALL_V2: Self = Self(event_id::ALL_V2);

    /// A mask from raw `ZMQ_EVENT_*` bits.
    #[must_use]
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// A mask from the C `int` that `zmq_socket_monitor` takes, widened to
    /// 64 bits exactly as libzmq does (sign extension), so `-1` becomes
    /// `u64::MAX` and is rejected for version 1 like in libzmq 4.3.2+.
    #[must_use]
    pub const fn from_zmq_int(events: i32) -> Self {
        // C's int -> uint64_t conversion: sign extension, then the two's
        // complement bits.
        Self(events as i64 as u64)
    }

    /// The raw bits.
    #[must_use]
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether an event with this id is in the mask (`bits & id != 0`).
    #[must_use]
    pub const fn contains_id(self, id: u64) -> bool {
        self.0 & id != 0
    }

    /// Whether the event is in the mask.
    #[must_use]
    pub const fn contains(self, e: &Event) -> bool {
        self.contains_id(e.id())
    }

    /// Whether the mask is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the mask is valid for event version 1 (no bit above bit 15;
    /// libzmq rejects other masks with `EINVAL`).
    #[must_use]
    pub const fn fits_v1(self) -> bool {
        self.0 >> 16 == 0
    }

    /// The mask with the bits of `id` added.
    #[must_use]
    pub const fn with(self, id: u64) -> Self {
        Self(self.0 | id)
    }

    /// The mask with the bits of `id` removed.
    #[must_use]
    pub const fn without(self, id: u64) -> Self {
        Self(self.0 & !id)
    }
}

impl From<u64> for EventMask {
    fn from(bits: u64) -> Self {
        Self(bits)
    }
}

impl From<EventMask> for u64 {
    fn from(m: EventMask) -> Self {
        m.0
    }
}

impl BitOr for EventMask {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOr<u64> for EventMask {
    type Output = Self;
    fn bitor(self, rhs: u64) -> Self {
        Self(self.0 | rhs)
    }
}

impl BitOrAssign for EventMask {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitOrAssign<u64> for EventMask {
    fn bitor_assign(&mut self, rhs: u64) {
        self.0 |= rhs;
    }
}

impl BitAnd for EventMask {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl BitAndAssign for EventMask {
    fn bitand_assign(&mut self, rhs: Self) {
        self.0 &= rhs.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn ids_match_libzmq() {
        assert_eq!(event_id::ALL, 0xFFFF);
        assert_eq!(event_id::ALL_V2, 0x1FFFF);
        for (i, id) in event_id::KNOWN.iter().enumerate().take(15) {
            assert_eq!(*id, 1 << i);
        }
        assert_eq!(event_id::PIPES_STATS, 0x10000);
    }

    #[test]
    fn every_known_id_round_trips() {
        for id in event_id::KNOWN {
            let values: &[u64] = if id == event_id::PIPES_STATS {
                &[3, 4]
            } else {
                &[0]
            };
            let e = Event::from_id_value(id, values);
            assert!(e.is_known(), "{id:#x}");
            assert_eq!(e.id(), id);
            let (v, n) = e.values();
            assert_eq!(&v[..n], values);
            assert!(Event::name_of_id(id).is_some());
        }
        assert_eq!(Event::name_of_id(0x8000), None);
        assert_eq!(Event::name_of_id(0), None);
    }

    #[test]
    fn names() {
        assert_eq!(Event::HandshakeSucceeded.name(), "HANDSHAKE_SUCCEEDED");
        assert_eq!(Event::MonitorStopped.name(), "MONITOR_STOPPED");
        assert_eq!(
            Event::Unknown {
                id: 1 << 20,
                value: 0
            }
            .name(),
            "UNKNOWN"
        );
        assert_eq!(
            Event::name_of_id(event_id::PIPES_STATS),
            Some("PIPES_STATS")
        );
    }

    #[test]
    fn values() {
        assert_eq!(Event::Connected { fd: 7 }.values(), ([7, 0], 1));
        assert_eq!(Event::MonitorStopped.value(), 0);
        assert_eq!(Event::HandshakeSucceeded.values(), ([0, 0], 1));
        let p = Event::PipesStats {
            egress: 500,
            ingress: 1,
        };
        assert_eq!(p.values(), ([500, 1], 2));
        assert_eq!(p.value(), 500);
    }

    #[test]
    fn misfitting_values_become_unknown() {
        let big = u64::from(u32::MAX) + 1;
        assert_eq!(
            Event::from_id_value(event_id::CONNECTED, &[big]),
            Event::Unknown {
                id: event_id::CONNECTED,
                value: big
            }
        );
        assert_eq!(
            Event::from_id_value(event_id::MONITOR_STOPPED, &[1]),
            Event::Unknown {
                id: event_id::MONITOR_STOPPED,
                value: 1
            }
        );
        assert_eq!(
            Event::from_id_value(event_id::PIPES_STATS, &[1]),
            Event::Unknown {
                id: event_id::PIPES_STATS,
                value: 1
            }
        );
        assert_eq!(
            Event::from_id_value(event_id::CONNECTED, &[]),
            Event::Unknown {
                id: event_id::CONNECTED,
                value: 0
            }
        );
        assert_eq!(
            Event::from_id_value(event_id::CONNECTED, &[1, 2]),
            Event::Unknown {
                id: event_id::CONNECTED,
                value: 1
            }
        );
    }

    #[test]
    fn protocol_errors() {
        let e = Event::handshake_failed_protocol(ProtocolError::ZmtpMechanismMismatch);
        assert_eq!(e, Event::HandshakeFailedProtocol { code: 0x1100_0002 });
        assert_eq!(
            e.protocol_error(),
            Some(ProtocolError::ZmtpMechanismMismatch)
        );
        assert_eq!(
            Event::HandshakeFailedProtocol { code: 0x1000_0010 }.protocol_error(),
            None
        );
        assert_eq!(Event::HandshakeSucceeded.protocol_error(), None);
    }

    #[test]
    fn display() {
        assert_eq!(
            format!("{}", Event::ConnectDelayed { errno: 115 }),
            "CONNECT_DELAYED(115 EINPROGRESS)"
        );
        assert_eq!(
            format!(
                "{}",
                Event::handshake_failed_protocol(ProtocolError::ZmtpMechanismMismatch)
            ),
            "HANDSHAKE_FAILED_PROTOCOL(0x11000002 ZMTP_MECHANISM_MISMATCH)"
        );
        assert_eq!(format!("{}", Event::MonitorStopped), "MONITOR_STOPPED(0)");
        assert_eq!(
            format!(
                "{}",
                Event::Unknown {
                    id: 0x8000,
                    value: 7
                }
            ),
            "UNKNOWN(id 0x8000, 7)"
        );
        assert_eq!(
            format!(
                "{}",
                Event::PipesStats {
                    egress: 3,
                    ingress: 0
                }
            ),
            "PIPES_STATS(3, 0)"
        );
    }

    #[test]
    fn masks() {
        assert!(EventMask::ALL.contains(&Event::HandshakeSucceeded));
        assert!(!EventMask::ALL.contains(&Event::PipesStats {
            egress: 0,
            ingress: 0
        }));
        assert!(EventMask::ALL_V2.contains_id(event_id::PIPES_STATS));
        assert!(EventMask::ALL.contains_id(0x8000));
        assert!(!EventMask::ALL.contains_id(0));
        assert!(EventMask::NONE.is_empty());
        let m =
            EventMask::NONE | event_id::CONNECTED | EventMask::from_bits(event_id::DISCONNECTED);
        assert_eq!(m.bits(), 0x0201);
        assert_eq!(m.without(event_id::CONNECTED).bits(), 0x0200);
        assert_eq!(EventMask::from_zmq_int(-1).bits(), u64::MAX);
        assert!(!EventMask::from_zmq_int(-1).fits_v1());
        assert_eq!(EventMask::from_zmq_int(0xFFFF).bits(), 0xFFFF);
        assert!(EventMask::ALL_V1.fits_v1());
        assert!(!EventMask::ALL_V2.fits_v1());
    }
}
