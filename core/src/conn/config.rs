//! Per-socket options that shape every connection (libzmq `options.cpp`
//! names and defaults).

use crate::socket_type::SocketType;
use crate::time::Duration;
use crate::wire;

/// Capacity of [`Config::metadata_bytes`] (pre-encoded user properties).
pub const METADATA_CAP: usize = 256;

/// Longest PLAIN username or password, and longest ZAP domain (libzmq
/// `options.cpp`: `ZMQ_PLAIN_USERNAME`, `ZMQ_PLAIN_PASSWORD` and
/// `ZMQ_ZAP_DOMAIN` take at most `UCHAR_MAX` bytes; RFC 24 credentials have
/// a one-byte length).
pub const CREDENTIAL_CAP: usize = 255;

/// The security mechanism a connection uses (RFC 23 "mechanism" field) and
/// its role.
///
/// As in libzmq, the role comes from the options, not from the greeting's
/// as-server byte (which libzmq always sends as 0, and so does this crate):
/// a PLAIN server is a socket with `ZMQ_PLAIN_SERVER` set, a PLAIN client
/// one with `ZMQ_PLAIN_USERNAME` / `ZMQ_PLAIN_PASSWORD`. Both peers must
/// name the same mechanism in their greetings, otherwise the handshake fails
/// with `ZMTP_MECHANISM_MISMATCH`.
///
/// The PLAIN variants exist with the `plain` feature (on by default).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "no allocator to box the credentials; a config exists once per socket"
)]
pub enum MechanismConfig {
    /// The NULL mechanism (RFC 23): no security, both sides send READY.
    /// With a ZAP domain ([`Config::zap_domain`]) the connection asks a ZAP
    /// handler before it sends its READY (libzmq `null_mechanism.cpp`).
    #[default]
    Null,
    /// PLAIN client (RFC 24): sends HELLO with these credentials, then
    /// INITIATE after the server's WELCOME.
    #[cfg(feature = "plain")]
    PlainClient {
        /// `ZMQ_PLAIN_USERNAME`.
        username: heapless::Vec<u8, CREDENTIAL_CAP>,
        /// `ZMQ_PLAIN_PASSWORD`.
        password: heapless::Vec<u8, CREDENTIAL_CAP>,
    },
    /// PLAIN server (RFC 24, `ZMQ_PLAIN_SERVER`): every client's HELLO is
    /// handed to a ZAP handler (RFC 27) through
    /// [`Connection::poll_zap_request`](super::Connection::poll_zap_request).
    #[cfg(feature = "plain")]
    PlainServer,
    /// CURVE client (RFC 25/26, `ZMQ_CURVE_SERVERKEY` set): our long-term
    /// key pair and the server's long-term public key, raw 32-byte keys
    /// (see [`MechanismConfig::curve_client_z85`] for the text form). A
    /// CURVE connection needs random bytes: make it with
    /// [`Connection::new_with_rng`](super::Connection::new_with_rng).
    #[cfg(feature = "curve")]
    CurveClient {
        /// `ZMQ_CURVE_PUBLICKEY`: our long-term public key C.
        public_key: [u8; 32],
        /// `ZMQ_CURVE_SECRETKEY`: our long-term secret key c.
        secret_key: [u8; 32],
        /// `ZMQ_CURVE_SERVERKEY`: the server's long-term public key S.
        server_key: [u8; 32],
    },
    /// CURVE server (`ZMQ_CURVE_SERVER`): our long-term secret key. Every
    /// client's long-term public key is handed to a ZAP handler (see
    /// [`Config::consults_zap`]).
    #[cfg(feature = "curve")]
    CurveServer {
        /// `ZMQ_CURVE_SECRETKEY`: our long-term secret key s.
        secret_key: [u8; 32],
    },
}

impl MechanismConfig {
    /// The mechanism as it appears in the greeting.
    #[must_use]
    pub const fn wire(&self) -> wire::Mechanism {
        match self {
            Self::Null => wire::Mechanism::Null,
            #[cfg(feature = "plain")]
            Self::PlainClient { .. } | Self::PlainServer => wire::Mechanism::Plain,
            #[cfg(feature = "curve")]
            Self::CurveClient { .. } | Self::CurveServer { .. } => wire::Mechanism::Curve,
        }
    }

    /// Whether this side plays the server role of its mechanism (libzmq
    /// `options.as_server`). Always `false` for NULL.
    #[must_use]
    pub const fn is_server(&self) -> bool {
        match self {
            Self::Null => false,
            #[cfg(feature = "plain")]
            Self::PlainClient { .. } => false,
            #[cfg(feature = "plain")]
            Self::PlainServer => true,
            #[cfg(feature = "curve")]
            Self::CurveClient { .. } => false,
            #[cfg(feature = "curve")]
            Self::CurveServer { .. } => true,
        }
    }

    /// A CURVE client: our key pair (public `public_key`, secret
    /// `secret_key`) and the server's public key, all raw.
    #[cfg(feature = "curve")]
    #[must_use]
    pub const fn curve_client(
        public_key: [u8; 32],
        secret_key: [u8; 32],
        server_key: [u8; 32],
    ) -> Self {
        Self::CurveClient {
            public_key,
            secret_key,
            server_key,
        }
    }

    /// A CURVE client from Z85 keys (40 characters each), as libzmq's
    /// `ZMQ_CURVE_PUBLICKEY` / `_SECRETKEY` / `_SERVERKEY` take them.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidKey`] if a key is not 40 valid Z85 characters.
    #[cfg(feature = "curve")]
    pub fn curve_client_z85(
        public_key: &[u8],
        secret_key: &[u8],
        server_key: &[u8],
    ) -> Result<Self, ConfigError> {
        let key = |t: &[u8]| crate::z85::decode_key(t).map_err(|_| ConfigError::InvalidKey);
        Ok(Self::curve_client(
            key(public_key)?,
            key(secret_key)?,
            key(server_key)?,
        ))
    }

    /// A CURVE server with this long-term secret key (raw).
    #[cfg(feature = "curve")]
    #[must_use]
    pub const fn curve_server(secret_key: [u8; 32]) -> Self {
        Self::CurveServer { secret_key }
    }

    /// A CURVE server from its Z85 secret key (40 characters).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidKey`] if the key is not 40 valid Z85 characters.
    #[cfg(feature = "curve")]
    pub fn curve_server_z85(secret_key: &[u8]) -> Result<Self, ConfigError> {
        crate::z85::decode_key(secret_key)
            .map(Self::curve_server)
            .map_err(|_| ConfigError::InvalidKey)
    }

    /// A PLAIN client with these credentials.
    ///
    /// # Errors
    ///
    /// [`ConfigError::CredentialTooLong`] if either is longer than
    /// [`CREDENTIAL_CAP`] bytes.
    #[cfg(feature = "plain")]
    pub fn plain_client(username: &[u8], password: &[u8]) -> Result<Self, ConfigError> {
        Ok(Self::PlainClient {
            username: heapless::Vec::from_slice(username)
                .map_err(|_| ConfigError::CredentialTooLong)?,
            password: heapless::Vec::from_slice(password)
                .map_err(|_| ConfigError::CredentialTooLong)?,
        })
    }
}

/// Heartbeat options (libzmq `ZMQ_HEARTBEAT_IVL`, `_TIMEOUT`, `_TTL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Heartbeat {
    /// Send a PING every `interval`; zero disables heartbeats (the default).
    pub interval: Duration,
    /// Close the connection when nothing arrives this long after a PING was
    /// sent. `None` means "use `interval`", libzmq's default of -1.
    pub timeout: Option<Duration>,
    /// The TTL announced in our PINGs: the peer closes the connection if it
    /// hears nothing from us for this long. Rounded down to deciseconds and
    /// capped at 6553.5 s, as libzmq stores it; below 100 ms it has no effect.
    pub ttl: Duration,
}

impl Heartbeat {
    /// The effective heartbeat timeout.
    #[must_use]
    pub fn effective_timeout(&self) -> Duration {
        self.timeout.unwrap_or(self.interval)
    }

    /// The TTL field of our PING command, in deciseconds.
    #[must_use]
    pub fn ttl_deciseconds(&self) -> u16 {
        u16::try_from(self.ttl.as_millis() / 100).unwrap_or(u16::MAX)
    }
}

/// Options shared by every connection of a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// This socket's type, announced in READY and checked against the peer's.
    pub socket_type: SocketType,
    /// `ZMQ_ROUTING_ID`: the `Identity` property sent by REQ, DEALER and
    /// ROUTER sockets (empty by default), and the identity frame of our ZAP
    /// requests (as libzmq does).
    pub routing_id: heapless::Vec<u8, 255>,
    /// The security mechanism.
    pub mechanism: MechanismConfig,
    /// `ZMQ_ZAP_DOMAIN` (RFC 27): the domain sent in ZAP requests, 0 to 255
    /// bytes, empty by default. A NULL connection consults ZAP only when it
    /// is not empty; a PLAIN server always does (libzmq
    /// `mechanism_base_t::zap_required`).
    pub zap_domain: heapless::Vec<u8, CREDENTIAL_CAP>,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN` (off by default, as in libzmq). Off, a
    /// CURVE server asks ZAP even without a domain and accepts every client
    /// when no handler answers ([`Connection::handle_zap_unavailable`],
    /// libzmq's "Stonehouse" pattern); on, it asks ZAP only when
    /// [`Config::zap_domain`] is set and then fails without a handler
    /// (`HANDSHAKE_FAILED_NO_DETAIL` `EFAULT`). A NULL connection with a
    /// domain fails the same way without a handler when it is on.
    ///
    /// [`Connection::handle_zap_unavailable`]: super::Connection::handle_zap_unavailable
    pub zap_enforce_domain: bool,
    /// `ZMQ_HANDSHAKE_IVL`: the handshake must complete within this time;
    /// zero disables the limit. Default 30 s.
    pub handshake_ivl: Duration,
    /// Heartbeat options.
    pub heartbeat: Heartbeat,
    /// `ZMQ_MAXMSGSIZE`: the largest frame body accepted from a peer, checked
    /// against the frame header before any byte of the body is stored (like
    /// libzmq, the limit applies to each frame). `None` means no limit other
    /// than the receive buffer. Default `None`.
    pub max_msg_size: Option<u64>,
    /// `ZMQ_SNDHWM`: messages queued per peer for sending; 0 = only the
    /// buffer limits. Default 1000.
    pub sndhwm: u32,
    /// `ZMQ_RCVHWM`: messages queued per peer after receiving; 0 = only the
    /// buffer limits. Default 1000.
    pub rcvhwm: u32,
    /// Extra READY / INITIATE properties (libzmq `ZMQ_METADATA`), already encoded.
    metadata: heapless::Vec<u8, METADATA_CAP>,
}

impl Config {
    /// libzmq's defaults for a socket of `socket_type`.
    #[must_use]
    pub fn new(socket_type: SocketType) -> Self {
        Self {
            socket_type,
            routing_id: heapless::Vec::new(),
            mechanism: MechanismConfig::Null,
            zap_domain: heapless::Vec::new(),
            zap_enforce_domain: false,
            handshake_ivl: Duration::from_secs(30),
            heartbeat: Heartbeat::default(),
            max_msg_size: None,
            sndhwm: 1000,
            rcvhwm: 1000,
            metadata: heapless::Vec::new(),
        }
    }

    /// Sets `ZMQ_ROUTING_ID`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidRoutingId`] if `id` is empty or longer than 255
    /// bytes (libzmq accepts 1 to 255 bytes).
    pub fn set_routing_id(&mut self, id: &[u8]) -> Result<(), ConfigError> {
        if id.is_empty() {
            return Err(ConfigError::InvalidRoutingId);
        }
        self.routing_id =
            heapless::Vec::from_slice(id).map_err(|_| ConfigError::InvalidRoutingId)?;
        Ok(())
    }

    /// Sets `ZMQ_ZAP_DOMAIN`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::ZapDomainTooLong`] above 255 bytes.
    pub fn set_zap_domain(&mut self, domain: &[u8]) -> Result<(), ConfigError> {
        self.zap_domain =
            heapless::Vec::from_slice(domain).map_err(|_| ConfigError::ZapDomainTooLong)?;
        Ok(())
    }

    /// Whether connections with these options ask a ZAP handler to
    /// authenticate their peer: a PLAIN server always, NULL when
    /// [`Config::zap_domain`] is set, a CURVE server when the domain is set
    /// or [`Config::zap_enforce_domain`] is off (libzmq
    /// `curve_server.cpp`), a client never.
    #[must_use]
    pub fn consults_zap(&self) -> bool {
        match self.mechanism {
            MechanismConfig::Null => !self.zap_domain.is_empty(),
            #[cfg(feature = "plain")]
            MechanismConfig::PlainClient { .. } => false,
            #[cfg(feature = "plain")]
            MechanismConfig::PlainServer => true,
            #[cfg(feature = "curve")]
            MechanismConfig::CurveClient { .. } => false,
            #[cfg(feature = "curve")]
            MechanismConfig::CurveServer { .. } => {
                !self.zap_enforce_domain || !self.zap_domain.is_empty()
            }
        }
    }

    /// Removes every user property added with [`Config::add_property`]
    /// (to set them again in another order).
    pub fn clear_properties(&mut self) {
        self.metadata.clear();
    }

    /// Adds a user property to the READY command (libzmq `ZMQ_METADATA`;
    /// names should start with `X-`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidProperty`] for a name that is not a valid ZMTP
    /// property name, [`ConfigError::MetadataFull`] when the encoded
    /// properties would exceed [`METADATA_CAP`] bytes.
    pub fn add_property(&mut self, name: &str, value: &[u8]) -> Result<(), ConfigError> {
        let mut buf = [0u8; METADATA_CAP];
        let len = {
            let mut w = wire::PropertiesWriter::new(&mut buf);
            w.add(name.as_bytes(), value).map_err(|e| match e {
                wire::Error::BufferTooSmall => ConfigError::MetadataFull,
                _ => ConfigError::InvalidProperty,
            })?;
            w.len()
        };
        let encoded = buf.get(..len).ok_or(ConfigError::MetadataFull)?;
        self.metadata
            .extend_from_slice(encoded)
            .map_err(|_| ConfigError::MetadataFull)
    }

    /// The user properties in their wire encoding (always a valid
    /// property list).
    #[must_use]
    pub fn metadata_bytes(&self) -> &[u8] {
        &self.metadata
    }
}

/// An invalid option value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// A routing id must be 1 to 255 bytes.
    InvalidRoutingId,
    /// A property name must be 1 to 255 characters of `[A-Za-z0-9-_.+]`.
    InvalidProperty,
    /// The encoded user properties do not fit [`METADATA_CAP`].
    MetadataFull,
    /// A PLAIN username or password above [`CREDENTIAL_CAP`] bytes.
    CredentialTooLong,
    /// A ZAP domain above [`CREDENTIAL_CAP`] bytes.
    ZapDomainTooLong,
    /// A CURVE key that is not 40 characters of Z85.
    InvalidKey,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::InvalidRoutingId => "routing id must be 1 to 255 bytes",
            Self::InvalidProperty => "invalid property name",
            Self::MetadataFull => "user metadata does not fit",
            Self::CredentialTooLong => "PLAIN username or password longer than 255 bytes",
            Self::ZapDomainTooLong => "ZAP domain longer than 255 bytes",
            Self::InvalidKey => "CURVE key is not 40 characters of Z85",
        })
    }
}

impl core::error::Error for ConfigError {}
