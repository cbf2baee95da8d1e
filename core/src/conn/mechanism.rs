//! The security mechanisms' handshake state machines: NULL (RFC 23 §"The
//! NULL Security Mechanism", with libzmq's optional ZAP check) and PLAIN
//! (RFC 24), event for event as libzmq 4.3's `null_mechanism.cpp`,
//! `plain_client.cpp` and `plain_server.cpp`.
//!
//! The diagram and the table of failures are in the [`super`] module
//! documentation.
//!
//! The decision for one command is a pure function ([`Mech::on_command`])
//! over the command body; the connection applies the [`Verdict`] to its
//! queues.

use super::{ConnEvent, DisconnectReason, MechanismConfig};
use crate::error::ProtocolError;
use crate::socket_type::SocketType;
use crate::wire::{self, Properties};

/// `\x05READY`: the start of a READY body (RFC 23).
pub(super) const READY_PREFIX: &[u8] = b"\x05READY";
/// `\x05ERROR`: the start of an ERROR body (RFC 23).
pub(super) const ERROR_PREFIX: &[u8] = b"\x05ERROR";
/// Name-length byte and name of the record that holds what a ZAP handler
/// said about the peer (`User-Id` and the reply's metadata). Not a ZMTP
/// command: it never leaves the receive queue.
pub(super) const ZAP_RECORD_PREFIX: &[u8] = b"\x03ZAP";
/// A record that ends the metadata unit of a CURVE server when no ZAP
/// handler was there to answer (no properties, not the peer's).
#[cfg_attr(not(feature = "curve"), allow(dead_code))]
pub(super) const NO_ZAP_RECORD: &[u8] = b"\x00";
/// Body length of an ERROR carrying a ZAP status (`\x05ERROR\x03400`).
pub(super) const ZAP_ERROR_LEN: usize = 10;
/// The `User-Id` metadata property set from a ZAP reply (libzmq
/// `ZMQ_MSG_PROPERTY_USER_ID`).
pub const USER_ID: &[u8] = b"User-Id";

/// Where the NULL mechanism's own READY stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) enum NullZap {
    /// No ZAP check, or it passed: our READY is released.
    Clear,
    /// A ZAP request is out; our READY is held.
    Waiting,
    /// The ZAP handler said 300: no READY, no ERROR (libzmq
    /// `_error_command_sent` without a command).
    Refused,
}

/// PLAIN client stages (libzmq `plain_client_t::state`).
#[cfg(feature = "plain")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) enum ClientStage {
    /// HELLO sent (or queued); INITIATE held until WELCOME.
    WaitWelcome,
    /// INITIATE released; waiting for READY.
    WaitReady,
}

/// PLAIN server stages (libzmq `zap_client_common_handshake_t::state`).
#[cfg(feature = "plain")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) enum ServerStage {
    /// Waiting for HELLO; WELCOME and READY are held.
    WaitHello,
    /// The HELLO is kept for the ZAP request, which is out.
    WaitZap,
    /// WELCOME released; waiting for INITIATE.
    WaitInitiate,
    /// The ZAP handler said 300 (libzmq `error_sent` without a command).
    Refused,
}

/// CURVE client stages (libzmq `curve_client_t::state`).
#[cfg(feature = "curve")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) enum CurveClientStage {
    /// HELLO sent; waiting for WELCOME.
    WaitWelcome,
    /// INITIATE sent; waiting for READY.
    WaitReady,
}

/// CURVE server stages (libzmq `curve_server_t` states).
#[cfg(feature = "curve")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) enum CurveServerStage {
    /// Waiting for HELLO.
    WaitHello,
    /// WELCOME sent; waiting for INITIATE.
    WaitInitiate,
    /// INITIATE opened; the ZAP request is out.
    WaitZap,
    /// READY queued: nothing more is expected in the handshake.
    Done,
    /// The ZAP handler said 300.
    Refused,
}

/// The mechanism state of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(super) enum Mech {
    /// NULL.
    Null {
        /// The peer's READY arrived.
        ready_received: bool,
        /// Our READY and the ZAP check.
        zap: NullZap,
    },
    /// PLAIN client.
    #[cfg(feature = "plain")]
    PlainClient(ClientStage),
    /// PLAIN server.
    #[cfg(feature = "plain")]
    PlainServer(ServerStage),
    /// CURVE client (its keys live in the connection's CURVE state).
    #[cfg(feature = "curve")]
    CurveClient(CurveClientStage),
    /// CURVE server.
    #[cfg(feature = "curve")]
    CurveServer(CurveServerStage),
}

/// What to do with the body of the command just judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    /// Drop it.
    Drop,
    /// Keep it as the peer's metadata record (READY or INITIATE).
    Metadata,
    /// Keep it (hidden) for the ZAP request: a PLAIN HELLO.
    #[cfg_attr(not(feature = "plain"), allow(dead_code))]
    Credentials,
}

/// The outcome of a command the mechanism accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Verdict {
    pub(super) next: Mech,
    pub(super) keep: Keep,
    /// Held transmit records to release.
    pub(super) release: u8,
    /// The handshake is complete.
    pub(super) done: bool,
    /// The peer's socket type (with `done`).
    pub(super) peer: Option<SocketType>,
}

/// The outcome of a command the mechanism refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Failure {
    pub(super) reason: DisconnectReason,
    pub(super) event: Option<ConnEvent>,
    /// Send ERROR with this reason before closing.
    pub(super) error_reason: Option<&'static [u8]>,
}

impl Failure {
    /// `HANDSHAKE_FAILED_PROTOCOL(e)`, then close for good.
    const fn protocol(e: ProtocolError) -> Self {
        Self {
            reason: DisconnectReason::Protocol(e),
            event: Some(ConnEvent::HandshakeFailedProtocol(e)),
            error_reason: None,
        }
    }

    /// Close without a handshake event (only `DISCONNECTED`).
    pub(super) const fn silent(reason: DisconnectReason) -> Self {
        Self {
            reason,
            event: None,
            error_reason: None,
        }
    }
}

impl Verdict {
    const fn consumed(next: Mech) -> Self {
        Self {
            next,
            keep: Keep::Drop,
            release: 0,
            done: false,
            peer: None,
        }
    }
}

impl Mech {
    /// The starting state for `config` (`consults_zap`: the connection asks
    /// ZAP, see [`super::Config::consults_zap`]).
    pub(super) const fn new(config: &MechanismConfig, consults_zap: bool) -> Self {
        match config {
            MechanismConfig::Null => Self::Null {
                ready_received: false,
                zap: if consults_zap {
                    NullZap::Waiting
                } else {
                    NullZap::Clear
                },
            },
            #[cfg(feature = "plain")]
            MechanismConfig::PlainClient { .. } => Self::PlainClient(ClientStage::WaitWelcome),
            #[cfg(feature = "plain")]
            MechanismConfig::PlainServer => Self::PlainServer(ServerStage::WaitHello),
            #[cfg(feature = "curve")]
            MechanismConfig::CurveClient { .. } => Self::CurveClient(CurveClientStage::WaitWelcome),
            #[cfg(feature = "curve")]
            MechanismConfig::CurveServer { .. } => Self::CurveServer(CurveServerStage::WaitHello),
        }
    }

    /// Whether the mechanism gave up without closing yet (libzmq
    /// `mechanism_t::error` status): a later close raises no
    /// `HANDSHAKE_FAILED_NO_DETAIL`.
    pub(super) const fn is_errored(self) -> bool {
        match self {
            Self::Null {
                ready_received,
                zap,
            } => ready_received && matches!(zap, NullZap::Refused),
            #[cfg(feature = "plain")]
            Self::PlainClient(_) => false,
            #[cfg(feature = "plain")]
            Self::PlainServer(stage) => matches!(stage, ServerStage::Refused),
            #[cfg(feature = "curve")]
            Self::CurveClient(_) => false,
            #[cfg(feature = "curve")]
            Self::CurveServer(stage) => matches!(stage, CurveServerStage::Refused),
        }
    }

    /// Whether a ZAP request must be raised once the greeting is complete
    /// (NULL with a ZAP domain asks before it sends READY).
    pub(super) const fn asks_zap_at_start(self) -> bool {
        matches!(
            self,
            Self::Null {
                zap: NullZap::Waiting,
                ..
            }
        )
    }

    /// Whether the record at the front of the receive queue is a kept
    /// PLAIN HELLO (the ZAP request's credentials).
    pub(super) const fn holds_credentials(self) -> bool {
        #[cfg(feature = "plain")]
        {
            matches!(self, Self::PlainServer(ServerStage::WaitZap))
        }
        #[cfg(not(feature = "plain"))]
        {
            false
        }
    }

    /// The state after a ZAP `200`, and how many held records to release.
    /// `None` when no ZAP request was outstanding.
    pub(super) const fn zap_passed(self) -> Option<(Self, u8)> {
        match self {
            Self::Null {
                ready_received,
                zap: NullZap::Waiting,
            } => Some((
                Self::Null {
                    ready_received,
                    zap: NullZap::Clear,
                },
                1,
            )),
            #[cfg(feature = "plain")]
            Self::PlainServer(ServerStage::WaitZap) => {
                Some((Self::PlainServer(ServerStage::WaitInitiate), 1))
            }
            #[cfg(feature = "curve")]
            Self::CurveServer(CurveServerStage::WaitZap) => {
                Some((Self::CurveServer(CurveServerStage::Done), 0))
            }
            _ => None,
        }
    }

    /// The state after a ZAP `300`.
    pub(super) const fn zap_refused(self) -> Self {
        match self {
            Self::Null { ready_received, .. } => Self::Null {
                ready_received,
                zap: NullZap::Refused,
            },
            #[cfg(feature = "plain")]
            Self::PlainServer(_) => Self::PlainServer(ServerStage::Refused),
            #[cfg(feature = "plain")]
            other @ Self::PlainClient(_) => other,
            #[cfg(feature = "curve")]
            Self::CurveServer(_) => Self::CurveServer(CurveServerStage::Refused),
            #[cfg(feature = "curve")]
            other @ Self::CurveClient(_) => other,
        }
    }

    /// The start of the ERROR command this mechanism sends after a ZAP
    /// refusal: libzmq's PLAIN server writes `^RROR` (see
    /// [`wire::plain::LIBZMQ_ERROR_PREFIX`]), NULL writes `\x05ERROR`.
    pub(super) const fn error_prefix(self) -> &'static [u8] {
        match self {
            #[cfg(feature = "plain")]
            Self::PlainServer(_) => wire::plain::LIBZMQ_ERROR_PREFIX,
            _ => ERROR_PREFIX,
        }
    }

    /// Judges one handshake command (libzmq `process_handshake_command`).
    pub(super) fn on_command(self, ours: SocketType, body: &[u8]) -> Result<Verdict, Failure> {
        match self {
            Self::Null {
                ready_received,
                zap,
            } => null_command(ours, ready_received, zap, body),
            #[cfg(feature = "plain")]
            Self::PlainClient(stage) => plain_client_command(ours, stage, body),
            #[cfg(feature = "plain")]
            Self::PlainServer(stage) => plain_server_command(ours, stage, body),
            // The connection runs CURVE's commands itself (they need its
            // keys and buffers); nothing reaches this arm.
            #[cfg(feature = "curve")]
            Self::CurveClient(_) | Self::CurveServer(_) => {
                Err(Failure::protocol(ProtocolError::ZmtpUnspecified))
            }
        }
    }
}

/// Reads metadata as libzmq `mechanism_t::parse_metadata` does: a malformed
/// list or an incompatible Socket-Type (any of them, in order) is refused
/// (`Err(true)` for the latter); a missing Socket-Type passes. The first
/// Socket-Type names the peer's type.
pub(super) fn peer_metadata(ours: SocketType, props: &[u8]) -> Result<Option<SocketType>, bool> {
    let mut incompatible = false;
    let props = Properties::parse_with(props, |name, value| {
        incompatible = name == wire::metadata::SOCKET_TYPE && !ours.accepts_peer_name(value);
        !incompatible
    })
    .map_err(|_| incompatible)?;
    Ok(props
        .get_exact(wire::metadata::SOCKET_TYPE)
        .and_then(SocketType::from_name))
}

/// An ERROR command (libzmq `process_error`, shared by the mechanisms):
/// malformed → `MALFORMED_COMMAND_ERROR`; a `300`/`400`/`500` reason →
/// `HANDSHAKE_FAILED_AUTH` (`mechanism_base_t::handle_error_reason`); then
/// the connection closes without reconnecting.
pub(super) fn error_command(data: &[u8]) -> Failure {
    let mut r = wire::Reader::new(data);
    let reason = r.u8().and_then(|len| r.take(usize::from(len)));
    let Some(reason) = reason else {
        return Failure::protocol(ProtocolError::ZmtpMalformedCommandError);
    };
    Failure {
        reason: DisconnectReason::PeerError,
        event: zap_status(reason).map(|status| ConnEvent::HandshakeFailedAuth { status }),
        error_reason: None,
    }
}

/// libzmq `mechanism_base.cpp` handle_error_reason: a 3-character reason
/// `300`, `400` or `500` is a ZAP status.
pub(super) fn zap_status(reason: &[u8]) -> Option<u32> {
    match reason {
        b"300" => Some(300),
        b"400" => Some(400),
        b"500" => Some(500),
        _ => None,
    }
}

/// libzmq `null_mechanism.cpp` process_handshake_command, event for event.
fn null_command(
    ours: SocketType,
    ready_received: bool,
    zap: NullZap,
    body: &[u8],
) -> Result<Verdict, Failure> {
    if ready_received {
        return Err(Failure::protocol(ProtocolError::ZmtpUnexpectedCommand));
    }
    if let Some(props) = body.strip_prefix(READY_PREFIX) {
        let peer = match peer_metadata(ours, props) {
            Ok(peer) => peer,
            // libzmq: malformed metadata closes without a handshake event.
            Err(false) => return Err(Failure::silent(DisconnectReason::InvalidMetadata)),
            // libzmq: no handshake event, just DISCONNECTED.
            Err(true) => {
                return Err(Failure {
                    reason: DisconnectReason::IncompatibleSocketType,
                    event: None,
                    error_reason: Some(b"Invalid socket type"),
                });
            }
        };
        let next = Mech::Null {
            ready_received: true,
            zap,
        };
        return Ok(match zap {
            NullZap::Clear => Verdict {
                next,
                keep: Keep::Metadata,
                release: 0,
                done: true,
                peer,
            },
            // After a ZAP 300 libzmq's NULL mechanism reports `error` once
            // the peer's READY is in and then waits for the peer or the
            // handshake timer. (A READY cannot arrive while the ZAP request
            // is out: the connection reads no frame meanwhile.)
            NullZap::Refused | NullZap::Waiting => Verdict::consumed(next),
        });
    }
    if let Some(data) = body.strip_prefix(ERROR_PREFIX) {
        return Err(error_command(data));
    }
    Err(Failure::protocol(ProtocolError::ZmtpUnexpectedCommand))
}

/// libzmq `plain_client.cpp` process_handshake_command.
#[cfg(feature = "plain")]
fn plain_client_command(
    ours: SocketType,
    stage: ClientStage,
    body: &[u8],
) -> Result<Verdict, Failure> {
    let unexpected = Failure::protocol(ProtocolError::ZmtpUnexpectedCommand);
    if body.starts_with(wire::plain::WELCOME_BODY) {
        if stage != ClientStage::WaitWelcome {
            return Err(unexpected);
        }
        if body.len() != wire::plain::WELCOME_BODY.len() {
            return Err(Failure::protocol(
                ProtocolError::ZmtpMalformedCommandWelcome,
            ));
        }
        return Ok(Verdict {
            next: Mech::PlainClient(ClientStage::WaitReady),
            keep: Keep::Drop,
            release: 1,
            done: false,
            peer: None,
        });
    }
    if let Some(props) = body.strip_prefix(READY_PREFIX) {
        if stage != ClientStage::WaitReady {
            return Err(unexpected);
        }
        // Malformed metadata and an incompatible Socket-Type alike.
        let peer = peer_metadata(ours, props)
            .map_err(|_| Failure::protocol(ProtocolError::ZmtpInvalidMetadata))?;
        return Ok(Verdict {
            next: Mech::PlainClient(stage),
            keep: Keep::Metadata,
            release: 0,
            done: true,
            peer,
        });
    }
    // Both stages accept ERROR (libzmq: waiting_for_welcome or
    // waiting_for_ready). libzmq's PLAIN server sends it as `^RROR`, and
    // that is the only form libzmq's client knows; the RFC form is accepted
    // too.
    if let Some(data) = body
        .strip_prefix(wire::plain::LIBZMQ_ERROR_PREFIX)
        .or_else(|| body.strip_prefix(ERROR_PREFIX))
    {
        return Err(error_command(data));
    }
    Err(unexpected)
}

/// libzmq `plain_server.cpp` process_handshake_command.
#[cfg(feature = "plain")]
fn plain_server_command(
    ours: SocketType,
    stage: ServerStage,
    body: &[u8],
) -> Result<Verdict, Failure> {
    match stage {
        ServerStage::WaitHello => {
            // mechanism_base_t::check_basic_command_structure.
            let name_len = body.first().map_or(0, |&b| usize::from(b));
            if body.len() <= 1 || body.len() <= name_len {
                return Err(Failure::protocol(
                    ProtocolError::ZmtpMalformedCommandUnspecified,
                ));
            }
            if !body.starts_with(wire::plain::HELLO_PREFIX) {
                return Err(Failure::protocol(ProtocolError::ZmtpUnexpectedCommand));
            }
            if wire::plain::HelloRepr::parse(body).is_err() {
                return Err(Failure::protocol(ProtocolError::ZmtpMalformedCommandHello));
            }
            Ok(Verdict {
                next: Mech::PlainServer(ServerStage::WaitZap),
                keep: Keep::Credentials,
                release: 0,
                done: false,
                peer: None,
            })
        }
        ServerStage::WaitInitiate => {
            let Some(props) = body.strip_prefix(wire::plain::INITIATE_PREFIX) else {
                return Err(Failure::protocol(ProtocolError::ZmtpUnexpectedCommand));
            };
            // libzmq: bad INITIATE metadata closes with no handshake event.
            let peer = peer_metadata(ours, props).map_err(|incompatible| {
                Failure::silent(if incompatible {
                    DisconnectReason::IncompatibleSocketType
                } else {
                    DisconnectReason::InvalidMetadata
                })
            })?;
            Ok(Verdict {
                next: Mech::PlainServer(stage),
                keep: Keep::Metadata,
                release: 1,
                done: true,
                peer,
            })
        }
        // libzmq's default branch (waiting for the ZAP reply, or after a
        // 300): the command is out of place.
        ServerStage::WaitZap | ServerStage::Refused => {
            Err(Failure::protocol(ProtocolError::ZmtpUnspecified))
        }
    }
}

/// The property list of a metadata record body (a command name, then the
/// properties).
pub(super) fn record_properties(body: &[u8]) -> Option<Properties<'_>> {
    let mut r = wire::Reader::new(body);
    let len = r.u8()?;
    r.take(usize::from(len))?;
    Properties::parse(r.rest()).ok()
}

/// The peer's metadata once the handshake succeeded: the properties of its
/// READY (or PLAIN INITIATE) and, when a ZAP handler accepted it, what the
/// handler said (`User-Id` and the reply's metadata).
///
/// Lookups search the ZAP properties first, as libzmq builds a message's
/// metadata (`stream_engine_base_t::mechanism_ready` inserts the ZAP
/// properties before the ZMTP ones and never overwrites), so a peer cannot
/// pose as another `User-Id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PeerMetadata<'a> {
    pub(super) peer: Properties<'a>,
    pub(super) zap: Option<Properties<'a>>,
}

impl<'a> PeerMetadata<'a> {
    /// The properties the peer sent in its READY / INITIATE.
    #[must_use]
    pub const fn properties(&self) -> Properties<'a> {
        self.peer
    }

    /// The properties from the ZAP reply (`User-Id` first), when a ZAP
    /// handler accepted the peer.
    #[must_use]
    pub const fn zap_properties(&self) -> Option<Properties<'a>> {
        self.zap
    }

    /// The user id the ZAP handler gave the peer.
    #[must_use]
    pub fn user_id(&self) -> Option<&'a [u8]> {
        self.zap.and_then(|z| z.get_exact(USER_ID))
    }

    /// A property by name, ignoring ASCII case (RFC 23); ZAP properties
    /// first.
    #[must_use]
    pub fn get(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.zap
            .and_then(|z| z.get(name))
            .or_else(|| self.peer.get(name))
    }

    /// A property by exact name (libzmq `zmq_msg_gets`); ZAP properties
    /// first.
    #[must_use]
    pub fn get_exact(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.zap
            .and_then(|z| z.get_exact(name))
            .or_else(|| self.peer.get_exact(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(props: &[u8]) -> std::vec::Vec<u8> {
        let mut v = READY_PREFIX.to_vec();
        v.extend_from_slice(props);
        v
    }

    const DEALER: &[u8] = b"\x0bSocket-Type\x00\x00\x00\x06DEALER";
    const PUB: &[u8] = b"\x0bSocket-Type\x00\x00\x00\x03PUB";

    fn event(r: Result<Verdict, Failure>) -> Option<ConnEvent> {
        r.err().and_then(|f| f.event)
    }

    fn proto(e: ProtocolError) -> Option<ConnEvent> {
        Some(ConnEvent::HandshakeFailedProtocol(e))
    }

    #[test]
    fn null_rows() {
        let m = Mech::new(&MechanismConfig::Null, false);
        let v = m.on_command(SocketType::Dealer, &ready(DEALER)).unwrap();
        assert!(v.done);
        assert_eq!(v.peer, Some(SocketType::Dealer));
        assert_eq!(
            event(v.next.on_command(SocketType::Dealer, &ready(DEALER))),
            proto(ProtocolError::ZmtpUnexpectedCommand)
        );
        assert_eq!(
            event(m.on_command(SocketType::Dealer, b"\x05HELLO")),
            proto(ProtocolError::ZmtpUnexpectedCommand)
        );
        assert_eq!(
            event(m.on_command(SocketType::Dealer, b"\x05ERROR")),
            proto(ProtocolError::ZmtpMalformedCommandError)
        );
        assert_eq!(
            event(m.on_command(SocketType::Dealer, b"\x05ERROR\x03400")),
            Some(ConnEvent::HandshakeFailedAuth { status: 400 })
        );
        let f = m.on_command(SocketType::Dealer, &ready(PUB)).unwrap_err();
        assert_eq!(f.reason, DisconnectReason::IncompatibleSocketType);
        assert_eq!(f.event, None);
        let f = m
            .on_command(SocketType::Dealer, &ready(b"\x01"))
            .unwrap_err();
        assert_eq!(f.reason, DisconnectReason::InvalidMetadata);
    }

    #[test]
    fn null_refused_then_ready_is_errored() {
        let m = Mech::new(&MechanismConfig::Null, true);
        assert!(m.asks_zap_at_start());
        let m = m.zap_refused();
        assert!(!m.is_errored());
        let v = m.on_command(SocketType::Dealer, &ready(DEALER)).unwrap();
        assert!(!v.done);
        assert_eq!(v.keep, Keep::Drop);
        assert!(v.next.is_errored());
    }

    #[cfg(feature = "plain")]
    #[test]
    fn plain_client_rows() {
        let m = Mech::PlainClient(ClientStage::WaitWelcome);
        let t = SocketType::Dealer;
        assert_eq!(
            event(m.on_command(t, b"\x07WELCOMEx")),
            proto(ProtocolError::ZmtpMalformedCommandWelcome)
        );
        assert_eq!(
            event(m.on_command(t, &ready(DEALER))),
            proto(ProtocolError::ZmtpUnexpectedCommand)
        );
        assert_eq!(
            event(m.on_command(t, b"\x04PING\x00\x00")),
            proto(ProtocolError::ZmtpUnexpectedCommand)
        );
        assert_eq!(
            event(m.on_command(t, b"\x05ERROR\x03\x33")),
            proto(ProtocolError::ZmtpMalformedCommandError)
        );
        let v = m.on_command(t, b"\x07WELCOME").unwrap();
        assert_eq!(v.release, 1);
        let m = v.next;
        assert_eq!(
            event(m.on_command(t, b"\x07WELCOME")),
            proto(ProtocolError::ZmtpUnexpectedCommand)
        );
        assert_eq!(
            event(m.on_command(t, &ready(PUB))),
            proto(ProtocolError::ZmtpInvalidMetadata)
        );
        assert_eq!(
            event(m.on_command(t, &ready(b"\x00"))),
            proto(ProtocolError::ZmtpInvalidMetadata)
        );
        let f = m.on_command(t, b"\x05ERROR\x03500").unwrap_err();
        assert_eq!(
            f.event,
            Some(ConnEvent::HandshakeFailedAuth { status: 500 })
        );
        assert_eq!(f.reason, DisconnectReason::PeerError);
        let v = m
            .on_command(t, &ready(b"\x0bSocket-Type\x00\x00\x00\x06ROUTER"))
            .unwrap();
        assert!(v.done);
        assert_eq!(v.peer, Some(SocketType::Router));
    }

    #[cfg(feature = "plain")]
    #[test]
    fn plain_server_rows() {
        let m = Mech::PlainServer(ServerStage::WaitHello);
        let t = SocketType::Router;
        for (body, e) in [
            (&b""[..], ProtocolError::ZmtpMalformedCommandUnspecified),
            (b"\x05", ProtocolError::ZmtpMalformedCommandUnspecified),
            (b"\x05HELL", ProtocolError::ZmtpMalformedCommandUnspecified),
            (b"\x05HELLO", ProtocolError::ZmtpMalformedCommandHello),
            (b"\x05READY", ProtocolError::ZmtpUnexpectedCommand),
            (b"\x05HELLO\x01", ProtocolError::ZmtpMalformedCommandHello),
            (b"\x05HELLO\x00", ProtocolError::ZmtpMalformedCommandHello),
            (
                b"\x05HELLO\x00\x01",
                ProtocolError::ZmtpMalformedCommandHello,
            ),
            (
                b"\x05HELLO\x00\x00x",
                ProtocolError::ZmtpMalformedCommandHello,
            ),
        ] {
            assert_eq!(event(m.on_command(t, body)), proto(e), "{body:?}");
        }
        let v = m.on_command(t, b"\x05HELLO\x01u\x01p").unwrap();
        assert_eq!(v.keep, Keep::Credentials);
        assert!(v.next.holds_credentials());
        assert_eq!(
            event(v.next.on_command(t, b"\x08INITIATE")),
            proto(ProtocolError::ZmtpUnspecified)
        );
        let (m, release) = v.next.zap_passed().unwrap();
        assert_eq!(release, 1);
        assert_eq!(
            event(m.on_command(t, b"\x05HELLO\x00\x00")),
            proto(ProtocolError::ZmtpUnexpectedCommand)
        );
        let f = m
            .on_command(t, b"\x08INITIATE\x0bSocket-Type\x00\x00\x00\x03PUB")
            .unwrap_err();
        assert_eq!(f.event, None);
        assert_eq!(f.reason, DisconnectReason::IncompatibleSocketType);
        let f = m.on_command(t, b"\x08INITIATE\x00").unwrap_err();
        assert_eq!(
            (f.event, f.reason),
            (None, DisconnectReason::InvalidMetadata)
        );
        let v = m.on_command(t, b"\x08INITIATE").unwrap();
        assert!(v.done);
        assert_eq!(v.release, 1);
        let refused = Mech::PlainServer(ServerStage::WaitZap).zap_refused();
        assert!(refused.is_errored());
        assert_eq!(
            event(refused.on_command(t, b"\x08INITIATE")),
            proto(ProtocolError::ZmtpUnspecified)
        );
    }

    #[test]
    fn metadata_lookup_prefers_zap() {
        let zap = Properties::parse(b"\x07User-Id\x00\x00\x00\x05admin").unwrap();
        let peer =
            Properties::parse(b"\x07User-Id\x00\x00\x00\x04evil\x01X\x00\x00\x00\x01y").unwrap();
        let m = PeerMetadata {
            peer,
            zap: Some(zap),
        };
        assert_eq!(m.user_id(), Some(&b"admin"[..]));
        assert_eq!(m.get_exact(b"User-Id"), Some(&b"admin"[..]));
        assert_eq!(m.get(b"user-id"), Some(&b"admin"[..]));
        assert_eq!(m.get(b"x"), Some(&b"y"[..]));
        let m = PeerMetadata { peer, zap: None };
        assert_eq!(m.user_id(), None);
        assert_eq!(m.get_exact(b"User-Id"), Some(&b"evil"[..]));
        assert_eq!(record_properties(b"\x03ZAP"), Some(Properties::EMPTY));
        assert_eq!(record_properties(b"\x05READ"), None);
    }
}
