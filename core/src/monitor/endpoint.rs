//! Endpoint strings of monitor events, the queued record and the message
//! format version.

use heapless::String;

use super::encode::{EncodeError, RawMessage};
use super::event::Event;

/// Default capacity, in bytes, of each endpoint string of an event: enough
/// for any TCP endpoint libzmq prints, the longest being
/// `tcp://[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535` (53 bytes).
pub const DEFAULT_ENDPOINT_CAPACITY: usize = 64;

/// Which side an endpoint pair describes (libzmq `endpoint_type_t` in
/// `src/endpoint.hpp`). It decides which string the version 1 format sends:
/// the local one for [`EndpointSide::Bind`], the remote one otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EndpointSide {
    /// A listener or a connection it accepted (`endpoint_type_bind`).
    Bind,
    /// A connecter or a connection it made (`endpoint_type_connect`).
    Connect,
    /// No endpoint (`endpoint_type_none`): `MONITOR_STOPPED`.
    None,
}

/// The endpoint strings of an event (libzmq `endpoint_uri_pair_t`), stored
/// inline with a capacity of `EP` bytes each.
///
/// A string longer than `EP` bytes is truncated at the last UTF-8 character
/// boundary that fits, and [`EndpointPair::is_truncated`] reports it. The
/// default `EP` (64) fits every TCP endpoint; long IPC paths (up to 107
/// bytes on Linux) need a larger `EP` to stay whole.
///
/// What libzmq puts in each field (`src/endpoint.cpp`, the connecters,
/// listeners and engines):
///
/// | event | constructor | local | remote |
/// |---|---|---|---|
/// | CONNECT_DELAYED, CONNECT_RETRIED, CLOSED (connecter) | [`connect`](Self::connect) | "" | the connect endpoint |
/// | CONNECTED | [`connect_pair`](Self::connect_pair) | local address of the new connection | the connect endpoint |
/// | LISTENING, ACCEPT_FAILED, CLOSED (listener), CLOSE_FAILED | [`bind`](Self::bind) | the bound endpoint (real port) | "" |
/// | BIND_FAILED | [`bind`](Self::bind) | the address **without** scheme, e.g. `127.0.0.1:5555` | "" |
/// | ACCEPTED | [`bind_pair`](Self::bind_pair) | local address of the accepted connection | peer address |
/// | HANDSHAKE_\*, DISCONNECTED, PIPES_STATS | same pair as the connection's CONNECTED/ACCEPTED | | |
/// | MONITOR_STOPPED | [`none`](Self::none) | "" | "" |
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EndpointPair<const EP: usize = DEFAULT_ENDPOINT_CAPACITY> {
    local: String<EP>,
    remote: String<EP>,
    side: EndpointSide,
    truncated: bool,
}

/// Copies at most `EP` bytes of `s`, cutting at a character boundary.
/// Returns the copy and whether anything was cut off.
fn truncated_copy<const EP: usize>(s: &str) -> (String<EP>, bool) {
    let mut end = s.len().min(EP);
    while !s.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    let mut out = String::new();
    let fits = out.push_str(s.get(..end).unwrap_or_default()).is_ok();
    (out, !fits || end < s.len())
}

impl<const EP: usize> EndpointPair<EP> {
    /// A pair of any side. Strings longer than `EP` bytes are truncated.
    #[must_use]
    pub fn new(local: &str, remote: &str, side: EndpointSide) -> Self {
        let (local, t1) = truncated_copy(local);
        let (remote, t2) = truncated_copy(remote);
        Self {
            local,
            remote,
            side,
            truncated: t1 || t2,
        }
    }

    /// No endpoints: "", "", [`EndpointSide::None`] (`MONITOR_STOPPED`).
    #[must_use]
    pub const fn none() -> Self {
        Self {
            local: String::new(),
            remote: String::new(),
            side: EndpointSide::None,
            truncated: false,
        }
    }

    /// A listener's pair: `local`, "", [`EndpointSide::Bind`] (LISTENING,
    /// BIND_FAILED, ACCEPT_FAILED, CLOSED and CLOSE_FAILED of a listener).
    #[must_use]
    pub fn bind(local: &str) -> Self {
        Self::new(local, "", EndpointSide::Bind)
    }

    /// An accepted connection's pair: both addresses,
    /// [`EndpointSide::Bind`] (ACCEPTED and the events of that connection).
    #[must_use]
    pub fn bind_pair(local: &str, remote: &str) -> Self {
        Self::new(local, remote, EndpointSide::Bind)
    }

    /// A connecter's pair: "", `remote`, [`EndpointSide::Connect`]
    /// (CONNECT_DELAYED, CONNECT_RETRIED and CLOSED of a connecter).
    #[must_use]
    pub fn connect(remote: &str) -> Self {
        Self::new("", remote, EndpointSide::Connect)
    }

    /// An outgoing connection's pair: both addresses,
    /// [`EndpointSide::Connect`] (CONNECTED and the events of that
    /// connection).
    #[must_use]
    pub fn connect_pair(local: &str, remote: &str) -> Self {
        Self::new(local, remote, EndpointSide::Connect)
    }

    /// The local endpoint (may be empty).
    #[must_use]
    pub fn local(&self) -> &str {
        self.local.as_str()
    }

    /// The remote endpoint (may be empty).
    #[must_use]
    pub fn remote(&self) -> &str {
        self.remote.as_str()
    }

    /// Which side the pair describes.
    #[must_use]
    pub const fn side(&self) -> EndpointSide {
        self.side
    }

    /// The string of the version 1 format (libzmq `identifier()`): the local
    /// endpoint for [`EndpointSide::Bind`], the remote one otherwise.
    #[must_use]
    pub fn v1_endpoint(&self) -> &str {
        match self.side {
            EndpointSide::Bind => self.local(),
            EndpointSide::Connect | EndpointSide::None => self.remote(),
        }
    }

    /// Whether a string was cut to fit the capacity `EP`.
    #[must_use]
    pub const fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl<const EP: usize> Default for EndpointPair<EP> {
    fn default() -> Self {
        Self::none()
    }
}

/// One queued monitor record: the event plus its endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MonitorEvent<const EP: usize = DEFAULT_ENDPOINT_CAPACITY> {
    /// The event and its value(s).
    pub event: Event,
    /// The endpoint strings.
    pub endpoints: EndpointPair<EP>,
}

impl<const EP: usize> MonitorEvent<EP> {
    /// A record of `event` with `endpoints`.
    #[must_use]
    pub const fn new(event: Event, endpoints: EndpointPair<EP>) -> Self {
        Self { event, endpoints }
    }

    /// The record as the message libzmq's monitor socket would deliver, in
    /// the given format (borrowing the endpoint strings).
    ///
    /// An event that version 1 cannot carry (`PIPES_STATS`, or an
    /// [`Event::Unknown`] whose id exceeds 16 bits or whose value exceeds 32
    /// bits; libzmq aborts on those) gives an empty message with no frames.
    /// [`MonitorEvent::try_raw`] reports the reason instead.
    #[must_use]
    pub fn raw(&self, version: EventVersion) -> RawMessage<'_> {
        self.try_raw(version).unwrap_or(RawMessage::EMPTY)
    }

    /// Like [`MonitorEvent::raw`], but fails instead of returning an empty
    /// message.
    ///
    /// # Errors
    ///
    /// For [`EventVersion::V1`], the errors of
    /// [`encode_v1`](super::encode_v1). Version 2 never fails.
    pub fn try_raw(&self, version: EventVersion) -> Result<RawMessage<'_>, EncodeError> {
        match version {
            EventVersion::V1 => RawMessage::v1(&self.event, self.endpoints.v1_endpoint()),
            EventVersion::V2 => Ok(RawMessage::v2(
                &self.event,
                self.endpoints.local(),
                self.endpoints.remote(),
            )),
        }
    }
}

/// Monitor message format version (libzmq `event_version`).
///
/// libzmq accepts any version number in `zmq_socket_monitor_versioned` but
/// sends no event at all (not even `MONITOR_STOPPED`) for versions other
/// than 1 and 2; this crate only has the two that send something.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EventVersion {
    /// Version 1 (`zmq_socket_monitor`): two frames, a 6-byte
    /// `[u16 id][u32 value]` header and one endpoint. Events with ids above
    /// 16 bits cannot be monitored.
    #[default]
    V1,
    /// Version 2 (`zmq_socket_monitor_versioned`, libzmq DRAFT): 64-bit id,
    /// value count, values, local and remote endpoints.
    V2,
}

impl EventVersion {
    /// libzmq's number for the version (1 or 2).
    #[must_use]
    pub const fn number(self) -> u32 {
        match self {
            Self::V1 => 1,
            Self::V2 => 2,
        }
    }

    /// The version for libzmq's number, or `None` for numbers other than 1
    /// and 2.
    #[must_use]
    pub const fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(Self::V1),
            2 => Some(Self::V2),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        let p: EndpointPair = EndpointPair::none();
        assert_eq!(
            (p.local(), p.remote(), p.side()),
            ("", "", EndpointSide::None)
        );
        assert_eq!(p.v1_endpoint(), "");
        assert_eq!(p, EndpointPair::default());

        let p: EndpointPair = EndpointPair::bind("tcp://127.0.0.1:5555");
        assert_eq!(p.v1_endpoint(), "tcp://127.0.0.1:5555");
        assert_eq!(p.remote(), "");

        let p: EndpointPair =
            EndpointPair::bind_pair("tcp://127.0.0.1:5555", "tcp://127.0.0.1:40000");
        assert_eq!(p.side(), EndpointSide::Bind);
        assert_eq!(p.v1_endpoint(), "tcp://127.0.0.1:5555");

        let p: EndpointPair = EndpointPair::connect("tcp://localhost:5555");
        assert_eq!((p.local(), p.v1_endpoint()), ("", "tcp://localhost:5555"));

        let p: EndpointPair =
            EndpointPair::connect_pair("tcp://127.0.0.1:40000", "tcp://127.0.0.1:5555");
        assert_eq!(p.side(), EndpointSide::Connect);
        assert_eq!(p.v1_endpoint(), "tcp://127.0.0.1:5555");
        assert!(!p.is_truncated());
    }

    #[test]
    fn longest_tcp_endpoint_fits_default() {
        let ep = "tcp://[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535";
        let p: EndpointPair = EndpointPair::connect_pair(ep, ep);
        assert_eq!(p.local(), ep);
        assert_eq!(p.remote(), ep);
        assert!(!p.is_truncated());
    }

    #[test]
    fn truncation_at_char_boundary() {
        let p: EndpointPair<8> = EndpointPair::bind("ipc://abcdef");
        assert_eq!(p.local(), "ipc://ab");
        assert!(p.is_truncated());
        // "é" is 2 bytes: 7 ASCII + 2 does not fit in 8, so cut before it.
        let p: EndpointPair<8> = EndpointPair::connect("ipc://aé");
        assert_eq!(p.remote(), "ipc://a");
        assert!(p.is_truncated());
        let p: EndpointPair<8> = EndpointPair::connect("ipc://é");
        assert_eq!(p.remote(), "ipc://é");
        assert!(!p.is_truncated());
        let p: EndpointPair<0> = EndpointPair::connect("x");
        assert_eq!(p.remote(), "");
        assert!(p.is_truncated());
    }

    #[test]
    fn versions() {
        assert_eq!(EventVersion::default(), EventVersion::V1);
        assert_eq!(EventVersion::from_number(2), Some(EventVersion::V2));
        assert_eq!(EventVersion::from_number(3), None);
        assert_eq!(EventVersion::V2.number(), 2);
    }
}
