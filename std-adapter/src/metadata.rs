//! A peer's properties as libzmq attaches them to every message it
//! receives from that peer (`zmq_msg_gets`).

use std::collections::BTreeMap;

use zmtp_core::conn::PeerMetadata;

/// `Peer-Address`: the peer's IP address (TCP), or `localhost` and, on
/// Linux, `:uid:gid:pid` (IPC), as libzmq's `ZMQ_MSG_PROPERTY_PEER_ADDRESS`.
pub const PEER_ADDRESS: &str = "Peer-Address";
/// `User-Id`: what the ZAP handler that accepted the peer said about it
/// (libzmq's `ZMQ_MSG_PROPERTY_USER_ID`); absent when no handler ran.
pub const USER_ID: &str = "User-Id";
/// `Socket-Type`: the peer's socket type, from its handshake
/// (`ZMQ_MSG_PROPERTY_SOCKET_TYPE`).
pub const SOCKET_TYPE: &str = "Socket-Type";
/// `Identity`: the peer's routing id, when it sent one
/// (`ZMQ_MSG_PROPERTY_ROUTING_ID`'s older name).
pub const IDENTITY: &str = "Identity";

/// The properties of the connection a message came in on, shared by every
/// message received on it and fixed when its handshake succeeded: read
/// them with [`Message::property`](crate::Message::property), the
/// equivalent of libzmq's `zmq_msg_gets`.
///
/// They are what libzmq puts there, in its order of precedence when a name
/// occurs twice: `Peer-Address`, then the ZAP handler's `User-Id` and
/// metadata (when a handler accepted the peer), then every property of the
/// peer's READY / INITIATE command (`Socket-Type`, `Identity` when it sent
/// one, its `ZMQ_METADATA` ones). Names are matched exactly, case
/// included, as libzmq does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// By name, as libzmq's `metadata_t` (a `std::map`).
    props: BTreeMap<String, Vec<u8>>,
}

impl Metadata {
    /// The record for a peer whose handshake just succeeded: `peer_address`
    /// (empty: none), then `meta`'s ZAP and peer properties.
    pub(crate) fn new(peer_address: &str, meta: &PeerMetadata<'_>) -> Self {
        let mut m = Self {
            props: BTreeMap::new(),
        };
        if !peer_address.is_empty() {
            m.add(PEER_ADDRESS.as_bytes(), peer_address.as_bytes());
        }
        let zap = meta
            .zap_properties()
            .unwrap_or(zmtp_core::wire::Properties::EMPTY);
        for (name, value) in zap.iter().chain(meta.properties().iter()) {
            m.add(name, value);
        }
        m
    }

    /// Adds a property unless one of that name is there (libzmq builds a
    /// `std::map` with `insert`, which keeps the first).
    fn add(&mut self, name: &[u8], value: &[u8]) {
        // The core validated the names: 1 to 255 bytes of `[A-Za-z0-9-_.+]`.
        let Ok(name) = core::str::from_utf8(name) else {
            return;
        };
        if !self.props.contains_key(name) {
            self.props.insert(name.to_owned(), value.to_vec());
        }
    }

    /// The value of property `name` (exact, case-sensitive match), as
    /// libzmq's `zmq_msg_gets`; `None` where it fails with `EINVAL`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.props.get(name).map(Vec::as_slice)
    }

    /// Every property as `(name, value)`, each name once, in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &[u8])> + '_ {
        self.props.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The number of properties.
    #[must_use]
    pub fn len(&self) -> usize {
        self.props.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }
}
