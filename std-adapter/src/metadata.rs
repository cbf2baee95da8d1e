//! A peer's properties as libzmq attaches them to every message it
//! receives from that peer (`zmq_msg_gets`).

use std::collections::BTreeMap;

use zmtp_core::conn::{Config, ConfigError, PeerMetadata};
use zmtp_core::wire::Properties;

use crate::error::{Error, Result};
use crate::socket::Socket;

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
        let zap = meta.zap_properties().unwrap_or(Properties::EMPTY);
        for (name, value) in zap.iter().chain(meta.properties().iter()) {
            m.add(name, value);
        }
        m
    }

    /// Adds a property unless one of that name is there (libzmq builds a
    /// `std::map` with `insert`, which keeps the first).
    fn add(&mut self, name: &[u8], value: &[u8]) {
        // Names are any bytes a peer sent (libzmq takes any); one that is
        // not UTF-8 cannot be asked for by `&str` and is left out.
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

/// Splits a `ZMQ_METADATA` option value into the name and value sent, as
/// libzmq's `options.cpp` checks it: `None` where libzmq fails with
/// `EINVAL`.
///
/// libzmq splits at the first `:`; the name (before it) must start with
/// `X-` and be at most 255 bytes, the value (after it, possibly holding more
/// `:`) must not be empty. A value of exactly 4 bytes is refused whatever
/// it holds: libzmq reads an option value of `sizeof (int)` bytes as an
/// integer, which this option does not take. Name and value are then sent
/// as C strings (`mechanism.cpp` measures both with `strlen`): each stops
/// at its first NUL byte.
fn split_app_property(option: &[u8]) -> Option<(&[u8], &[u8])> {
    if option.is_empty() || option.len() == size_of::<i32>() {
        return None;
    }
    let colon = option.iter().position(|&b| b == b':')?;
    let name = option.get(..colon)?;
    let value = option.get(colon.checked_add(1)?..)?;
    if name.is_empty() || value.is_empty() || !name.starts_with(b"X-") || name.len() > 255 {
        return None;
    }
    let c_str = |s: &'_ [u8]| -> usize { s.iter().position(|&b| b == 0).unwrap_or(s.len()) };
    Some((name.get(..c_str(name))?, value.get(..c_str(value))?))
}

/// A copy of `old` whose user properties are `props`, in that order.
fn with_properties<'a>(
    old: &Config,
    props: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<Config> {
    let mut c = old.clone();
    c.clear_properties();
    for (name, value) in props {
        let name = core::str::from_utf8(name).map_err(|_| Error::Invalid)?;
        c.add_property(name, value).map_err(|e| match e {
            ConfigError::MetadataFull => Error::OutOfMemory,
            _ => Error::Invalid,
        })?;
    }
    Ok(c)
}

impl Socket {
    /// `ZMQ_METADATA`: adds an application property, given as
    /// `X-name:value`, to the READY / INITIATE command of every handshake
    /// of this socket from now on, whatever the mechanism (NULL, PLAIN,
    /// CURVE); the peer reads it with [`Message::property`] or libzmq's
    /// `zmq_msg_gets`. Each call adds one property; a name set before keeps
    /// its first value (the call still succeeds), as in libzmq. The
    /// properties go out in name order, after `Socket-Type` and `Identity`,
    /// as libzmq sends them. There is no getter, as in libzmq.
    ///
    /// The option is checked as libzmq checks it: the text up to the first
    /// `:` is the name, which must start with `X-` (case-sensitive) and be
    /// at most 255 bytes; what follows is the value, which must not be
    /// empty; an option of exactly 4 bytes is refused (libzmq takes it for
    /// an integer). Name and value are sent up to their first NUL byte, if
    /// any (libzmq sends them as C strings).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] where libzmq fails with `EINVAL`, and also for a
    /// name with bytes outside RFC 23's `[A-Za-z0-9-_.+]` (libzmq sends
    /// those); [`Error::OutOfMemory`] when the encoded properties would
    /// exceed [`zmtp_core::conn::config::METADATA_CAP`] bytes (libzmq has no
    /// limit).
    ///
    /// [`Message::property`]: crate::Message::property
    pub fn set_metadata(&self, property: &[u8]) -> Result<()> {
        let (name, value) = split_app_property(property).ok_or(Error::Invalid)?;
        let mut st = self.lock();
        let old = st.core.config();
        let current = Properties::parse(old.metadata_bytes()).map_err(|_| Error::Invalid)?;
        // libzmq keeps them in a `std::map` (by name, first insert wins).
        let mut props: BTreeMap<&[u8], &[u8]> = current.iter().collect();
        if props.contains_key(name) {
            return Ok(());
        }
        props.insert(name, value);
        let new = with_properties(old, props)?;
        *st.core.config_mut() = new;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zmtp_core::conn::MechanismConfig;
    use zmtp_core::{Duration, SocketType};

    /// Rebuilding a configuration for new properties keeps every other
    /// option: each one set to something other than its default here.
    #[test]
    fn rebuilding_keeps_every_other_option() {
        let mut c = Config::new(SocketType::Router);
        c.set_routing_id(b"id").unwrap();
        c.mechanism = MechanismConfig::plain_client(b"u", b"p").unwrap();
        c.set_zap_domain(b"d").unwrap();
        c.zap_enforce_domain = true;
        c.handshake_ivl = Duration::from_millis(1234);
        c.max_msg_size = Some(77);
        c.add_property("X-b", b"2").unwrap();
        c.add_property("X-a", b"1").unwrap();
        let props = Properties::parse(c.metadata_bytes()).unwrap();
        assert_eq!(with_properties(&c, props.iter()).unwrap(), c);
        let sorted = with_properties(&c, [(&b"X-a"[..], &b"1"[..]), (b"X-b", b"2")]).unwrap();
        assert_ne!(sorted, c, "only the order differs");
        let mut back = sorted.clone();
        back.clear_properties();
        back.add_property("X-b", b"2").unwrap();
        back.add_property("X-a", b"1").unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn split_as_libzmq() {
        assert_eq!(
            split_app_property(b"X-a:b:c"),
            Some((&b"X-a"[..], &b"b:c"[..]))
        );
        assert_eq!(
            split_app_property(b"X-a\0z:b\0c"),
            Some((&b"X-a"[..], &b"b"[..]))
        );
        assert_eq!(split_app_property(b"X-:b"), None, "4 bytes: an int");
        assert_eq!(split_app_property(b"X-:bc"), Some((&b"X-"[..], &b"bc"[..])));
        assert_eq!(split_app_property(b"x-a:b"), None);
        assert_eq!(split_app_property(b"X-ab:"), None);
        assert_eq!(split_app_property(b":X-ab"), None);
    }
}
