//! One ZMTP peer: the greeting, the mechanism handshake, framing and
//! heartbeats (RFC 23 "ZMTP 3.0" §Greeting, §Handshake, §Framing, §Commands;
//! RFC 37 "ZMTP 3.1" PING/PONG, SUBSCRIBE/CANCEL).
//!
//! A [`Connection`] is sans-IO in the style of quinn-proto: it never touches
//! a socket or a clock. The driver (an adapter, or the [`crate::socket`]
//! layer on its behalf) calls, after every input:
//!
//! 1. [`Connection::handle_input`] with bytes from the transport; it returns
//!    how many it consumed. Keep the rest and offer it again later: the
//!    connection consumes less when its receive queue is full, so transport
//!    flow control pushes back on the peer (nothing is dropped).
//! 2. [`Connection::poll_transmit`] until it returns 0, writing what it
//!    produced to the transport. It resumes mid-frame.
//! 3. [`Connection::poll_event`] until `None`.
//! 4. [`Connection::poll_zap_request`] (only connections that consult ZAP
//!    ever return one, see [`zap`]): answer it with
//!    [`Connection::handle_zap_reply`], [`Connection::handle_zap_reply_frames`]
//!    or [`Connection::handle_zap_unavailable`], now or later, then offer
//!    the unconsumed input again (no frame is read while the answer is
//!    outstanding).
//! 5. [`Connection::poll_timeout`], and [`Connection::handle_timeout`] once
//!    that instant is reached (spurious calls are harmless).
//!
//! When the transport reports end-of-stream or an error, call
//! [`Connection::handle_transport_closed`] / [`Connection::handle_transport_error`].
//!
//! ## Lifecycle
//!
//! ```text
//!            new()                     peer greeting (64 B) ok
//!  ──────────────────▶ Greeting ─────────────────────────────▶ Handshake ◀─┐ mechanism
//!   queues our 10-byte     │ byte 10 seen: send major            │         │ commands,
//!   signature; the rest    │ byte 11 seen: rest of greeting;     │ done    │ ZAP request
//!   is released as the     │ byte 64: first handshake command    ▼         │ and reply
//!   peer's bytes arrive    │                                    Ready ──▶ messages,
//!                          │ bad signature, version < 3,         │        PING/PONG,
//!                          │ mechanism mismatch, timeout,        │        SUBSCRIBE/CANCEL
//!                          ▼ EOF, malformed command, ZAP ...     ▼ EOF, heartbeat expiry,
//!                        Closed ◀────────────────────────────────   decode error
//! ```
//!
//! ## Mechanisms
//!
//! NULL (RFC 23), with the `plain` feature PLAIN (RFC 24), and with the
//! `curve` feature CURVE (RFC 25/26), each client and server;
//! [`MechanismConfig`] picks one. They follow libzmq 4.3's
//! `null_mechanism.cpp`, `plain_client.cpp`, `plain_server.cpp`,
//! `curve_client.cpp` and `curve_server.cpp` event for event; ZAP (RFC 27)
//! is described in [`zap`], CURVE's keys, randomness and costs in the
//! `curve` module.
//!
//! ```text
//! NULL       Start ──READY──▶ done       (with a ZAP domain our READY waits
//!                                          for the ZAP reply)
//!
//! PLAIN      WaitWelcome ──WELCOME──▶ WaitReady ──READY──▶ done
//! client     (HELLO sent;             (INITIATE released)
//!             INITIATE held)
//!
//! PLAIN      WaitHello ──HELLO──▶ WaitZap ──ZAP 200──▶ WaitInitiate ──INITIATE──▶ done
//! server     (WELCOME and READY held)  │    (WELCOME released)        (READY released)
//!                                      ├─ZAP 300──▶ silent until the peer or the
//!                                      │            handshake timer ends it
//!                                      └─ZAP 400/500──▶ ERROR, closed
//!
//! CURVE      WaitWelcome ──WELCOME──▶ WaitReady ──READY──▶ done
//! client     (HELLO sent)             (INITIATE sealed and sent)
//!
//! CURVE      WaitHello ──HELLO──▶ WaitInitiate ──INITIATE──▶ WaitZap ──ZAP 200──▶ done
//! server              (WELCOME sent)               │          (or no handler:  (READY
//!                                                  │           "Stonehouse")    sealed)
//!                                                  └─ no ZAP (enforced domain unset) ──▶ done
//! ```
//!
//! | side | what arrives | monitor event | [`DisconnectReason`] |
//! |---|---|---|---|
//! | PLAIN server | a command out of place (waiting for ZAP, after a 300) | `HANDSHAKE_FAILED_PROTOCOL` `ZMTP_UNSPECIFIED` | `Protocol` |
//! | PLAIN server | a command of size ≤ 1 or ≤ its name length | `ZMTP_MALFORMED_COMMAND_UNSPECIFIED` | `Protocol` |
//! | PLAIN server | not HELLO / not INITIATE | `ZMTP_UNEXPECTED_COMMAND` | `Protocol` |
//! | PLAIN server | HELLO with a missing or short username or password, or trailing bytes | `ZMTP_MALFORMED_COMMAND_HELLO` | `Protocol` |
//! | PLAIN server | INITIATE with bad metadata or an incompatible Socket-Type | none | `InvalidMetadata` / `IncompatibleSocketType` |
//! | PLAIN client | an unknown command, WELCOME or READY out of place | `ZMTP_UNEXPECTED_COMMAND` | `Protocol` |
//! | PLAIN client | WELCOME with anything after the name | `ZMTP_MALFORMED_COMMAND_WELCOME` | `Protocol` |
//! | PLAIN client | READY with bad metadata or an incompatible Socket-Type | `ZMTP_INVALID_METADATA` | `Protocol` |
//! | PLAIN client, NULL | a malformed ERROR | `ZMTP_MALFORMED_COMMAND_ERROR` | `Protocol` |
//! | PLAIN client, NULL | ERROR with reason `300`, `400` or `500` | `HANDSHAKE_FAILED_AUTH` | `PeerError` |
//! | PLAIN client, NULL | another ERROR | none | `PeerError` |
//! | CURVE server | a command of size ≤ 1 or ≤ its name length | `ZMTP_MALFORMED_COMMAND_UNSPECIFIED` | `Protocol` |
//! | CURVE server | not HELLO / not INITIATE | `ZMTP_UNEXPECTED_COMMAND` | `Protocol` |
//! | CURVE server | HELLO not 200 bytes, or version not 1.0 | `ZMTP_MALFORMED_COMMAND_HELLO` | `Protocol` |
//! | CURVE server | HELLO box does not open (wrong server key) | `ZMTP_CRYPTOGRAPHIC` | `Protocol` |
//! | CURVE server | INITIATE below 257 bytes | `ZMTP_MALFORMED_COMMAND_INITIATE` | `Protocol` |
//! | CURVE server | bad cookie, cookie not ours, INITIATE or vouch box does not open | `ZMTP_CRYPTOGRAPHIC` | `Protocol` |
//! | CURVE server | vouch names another C' | `ZMTP_KEY_EXCHANGE` | `Protocol` |
//! | CURVE server | INITIATE with bad metadata or an incompatible Socket-Type | none | `InvalidMetadata` / `IncompatibleSocketType` |
//! | CURVE server | a command while ZAP is asked, after a 300 | `ZMTP_UNSPECIFIED` | `Protocol` |
//! | CURVE client | WELCOME of the wrong size or whose box does not open; READY before WELCOME or whose box does not open | `ZMTP_CRYPTOGRAPHIC` | `Protocol` |
//! | CURVE client | READY below 30 bytes | `ZMTP_MALFORMED_COMMAND_READY` | `Protocol` |
//! | CURVE client | READY metadata invalid (incl. Socket-Type) | `ZMTP_INVALID_METADATA` | `Protocol` |
//! | CURVE client | an unknown command, or a second WELCOME | `ZMTP_UNEXPECTED_COMMAND` | `Protocol` |
//! | CURVE client | ERROR: malformed / `300`-`400`-`500` / other | as PLAIN client | as PLAIN client |
//! | CURVE, after the handshake | a frame of size ≤ 1 or ≤ its first byte | `ZMTP_MALFORMED_COMMAND_UNSPECIFIED` | `Protocol` |
//! | CURVE, after the handshake | not a MESSAGE | `ZMTP_UNEXPECTED_COMMAND` | `Protocol` |
//! | CURVE, after the handshake | MESSAGE below 33 bytes | `ZMTP_MALFORMED_COMMAND_MESSAGE` | `Protocol` |
//! | CURVE, after the handshake | nonce not above the last one | `ZMTP_INVALID_SEQUENCE` | `Protocol` |
//! | CURVE, after the handshake | MESSAGE box does not open | `ZMTP_CRYPTOGRAPHIC` | `Protocol` |
//!
//! libzmq's CURVE client would open a second WELCOME and send a second
//! INITIATE; here a second WELCOME is `ZMTP_UNEXPECTED_COMMAND`.
//!
//! None of these reconnect ([`DisconnectReason::should_reconnect`]).
//!
//! Handshake commands that depend on the peer are queued at
//! [`Connection::new`] and held back until the mechanism releases them
//! (PLAIN's INITIATE until WELCOME, a PLAIN server's WELCOME and READY until
//! ZAP and INITIATE, NULL's READY until ZAP when a ZAP domain is set), so the
//! connection never needs the [`Config`] again.
//!
//! When the handshake succeeds, the peer's metadata is the first unit of
//! the receive queue ([`REC_METADATA`] records): the peer's READY or
//! INITIATE body, preceded (with [`REC_MORE`]) by a record of what a ZAP
//! handler said. [`Connection::peer_metadata`] reads it, including the
//! `User-Id` from the ZAP reply; [`Connection::pop_metadata`] drops it.
//!
//! Peers older than ZMTP 3.0 (a ZMTP 1.0 signature or a 2.0 version byte) are
//! refused: the connection closes with [`DisconnectReason::UnsupportedVersion`]
//! and raises `HANDSHAKE_FAILED_PROTOCOL` with `ZMTP_UNSPECIFIED`. (libzmq
//! would fall back to the old framing; this crate implements 3.x only.)
//!
//! ## Memory
//!
//! Each connection owns two caller-provided byte buffers, organised as
//! [`MsgRing`]s: the receive queue (decoded frames waiting for the
//! application) and the transmit queue (frames waiting for the transport).
//! A frame costs its body plus [`MsgRing::HEADER_LEN`] bytes. The largest
//! frame a connection can receive is the smaller of
//! [`Config::max_msg_size`] and the receive buffer's
//! [`MsgRing::max_body_len`]; a larger frame closes the connection
//! ([`DisconnectReason::MessageTooLarge`]) before any of its body is stored.
//! A whole message must fit the receive buffer too (its frames' bodies plus
//! a record header each); a multi-frame message that cannot is refused the
//! same way once nothing else is left to read.
//!
//! Records do not wrap inside the receive buffer, so a multi-frame message
//! only starts behind other queued units when all of its frame headers are
//! in the bytes offered and the whole message fits at once; otherwise
//! ([`Connection::is_rx_blocked`]) it waits until the application has read
//! everything queued before it. This rules out a queue whose free space is
//! split around a half-received message that can then never complete.
//!
//! A driver with storage of its own (an allocator) can keep large bodies
//! out of the receive queue: [`Connection::handle_input_external`] stops
//! after the header of a data frame of at least a given size, the driver
//! reads the body wherever it likes and calls
//! [`Connection::complete_external`], and the queue holds only a
//! [`REC_EXTERNAL`] record of the frame's length in its place. Every check
//! (`ZMQ_MAXMSGSIZE`, the largest body, `ZMQ_RCVHWM`, multipart order) is
//! made as for other frames, before the driver reads anything.
//!
//! The same holds for sending: [`Connection::send_external`] queues a
//! [`REC_EXTERNAL`] record in place of each frame of at least a given size,
//! the driver keeps the bodies, and [`Connection::peek_transmit`] shows
//! when one is due ([`TxView::external`]); the driver writes it from its
//! own storage and reports it with [`Connection::consume_transmit`]. Such
//! bodies count against the transmit queue as if they were in it.

pub mod config;
#[cfg(feature = "curve")]
pub mod curve;
mod mechanism;
mod timer;
pub mod zap;

pub use config::{CREDENTIAL_CAP, Config, ConfigError, Heartbeat, MechanismConfig};
pub use mechanism::{PeerMetadata, USER_ID};
pub use zap::{ZapError, ZapReply, ZapRequest, ZapRequestFrames, ZapStatus};

#[cfg(feature = "curve")]
pub use curve::{CurveKeypair, CurveState, public_key as curve_public_key};

use crate::error::ProtocolError;
use crate::monitor::errno;
use crate::queue::MsgRing;
use crate::socket_type::SocketType;
use crate::time::{Duration, Instant};
use crate::wire::{self, Flags};
#[cfg(feature = "curve")]
use mechanism::{CurveClientStage, CurveServerStage};
use mechanism::{Keep, Mech};
use timer::{Timer, TimerTable};

/// Record flag: another frame of the same message follows.
pub const REC_MORE: u8 = 0x01;
/// Record flag: the record is a command frame body (receive side: a
/// SUBSCRIBE or CANCEL command; transmit side: any command).
pub const REC_COMMAND: u8 = 0x04;
/// Record flag (receive side): the peer's metadata, queued when the
/// handshake succeeds, ahead of any message: the body of the peer's READY
/// (NULL, PLAIN client) or INITIATE (PLAIN server), preceded, when a ZAP
/// handler accepted the peer, by a record (with [`REC_MORE`]) named `ZAP`
/// holding `User-Id` and the ZAP reply's metadata. Read it with
/// [`Connection::peer_metadata`].
pub const REC_METADATA: u8 = 0x40;
/// Record flag: a data frame whose body the driver holds, received
/// ([`Connection::handle_input_external`]) or to be sent
/// ([`Connection::send_external`]); the record's body is the frame's
/// length, 8 bytes little-endian ([`external_len`]).
pub const REC_EXTERNAL: u8 = 0x20;
/// The length of a frame whose body the driver holds, from the body of its
/// [`REC_EXTERNAL`] record.
#[must_use]
pub fn external_len(record: &[u8]) -> usize {
    let len = record
        .get(..EXTERNAL_RECORD)
        .and_then(|b| <[u8; EXTERNAL_RECORD]>::try_from(b).ok())
        .map_or(0, u64::from_le_bytes);
    usize::try_from(len).unwrap_or(usize::MAX)
}
/// Record flag (transmit side): raw bytes sent without a frame header (the
/// greeting).
const REC_RAW: u8 = 0x80;
/// Record flag (transmit side): a CURVE MESSAGE carrying a frame whose own
/// flags ([`REC_MORE`], [`REC_COMMAND`]) are kept beside this one for the
/// `ZMQ_SNDHWM` count. On the wire it is a frame without flags, as libzmq
/// sends it: MORE and COMMAND travel inside the box.
#[cfg(feature = "curve")]
const REC_SEALED: u8 = 0x08;

/// The body of a [`REC_EXTERNAL`] record: the frame's length.
const EXTERNAL_RECORD: usize = 8;

/// Bytes of a post-handshake command kept for inspection: enough for the name
/// and a PING's TTL and 16-byte context.
const CMD_SCRATCH: usize = 32;
/// The largest PING context echoed in a PONG (RFC 37; libzmq truncates too).
pub const PING_CONTEXT_MAX: usize = 16;
/// Most frames in one message handed to [`Connection::send`].
pub const MAX_PARTS: usize = 32;

/// Something the connection reports to its driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConnEvent {
    /// The mechanism handshake finished: messages may flow. Maps to
    /// `HANDSHAKE_SUCCEEDED` (value 0).
    HandshakeSucceeded,
    /// The handshake failed without protocol detail (peer closed, timeout,
    /// no ZAP handler). Maps to `HANDSHAKE_FAILED_NO_DETAIL` with this
    /// errno (Linux numbers).
    HandshakeFailedNoDetail {
        /// Linux errno: `EPIPE` for end-of-stream, `EAGAIN` for the
        /// handshake timer (what libzmq reports: its I/O thread's errno
        /// left over from the last read that found nothing), `EFAULT` for
        /// a PLAIN server without a ZAP handler, or the transport's error.
        errno: u32,
    },
    /// The peer broke the handshake protocol. Maps to
    /// `HANDSHAKE_FAILED_PROTOCOL` with the error's code.
    HandshakeFailedProtocol(ProtocolError),
    /// Authentication failed. Maps to `HANDSHAKE_FAILED_AUTH`. Raised by
    /// the side that asked ZAP when the handler answered `300`, `400` or
    /// `500`, and by the other side when it receives an ERROR command whose
    /// reason is such a status code.
    HandshakeFailedAuth {
        /// The status code.
        status: u32,
    },
    /// The connection is closed. Maps to `DISCONNECTED` for every reason
    /// except [`DisconnectReason::LocalClose`].
    Disconnected(DisconnectReason),
}

/// Why a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The transport ended or failed (errno, Linux numbers).
    Transport {
        /// `EPIPE` for end-of-stream, otherwise the transport's errno.
        errno: u32,
    },
    /// `ZMQ_HANDSHAKE_IVL` expired.
    HandshakeTimeout,
    /// Heartbeat timeout or the peer's TTL expired.
    HeartbeatTimeout,
    /// The peer's greeting is not ZMTP 3.x.
    UnsupportedVersion,
    /// The peer broke the protocol (the error is the monitor's code).
    Protocol(ProtocolError),
    /// A frame was malformed (a PING too short to hold its TTL). Like
    /// libzmq, reserved flag bits and MORE on a command are ignored rather
    /// than treated as errors.
    Framing,
    /// The peer's metadata was malformed.
    InvalidMetadata,
    /// The peer's socket type cannot talk to ours.
    IncompatibleSocketType,
    /// The peer sent an ERROR command.
    PeerError,
    /// Our ZAP handler refused the peer with this status (`400` or `500`;
    /// an ERROR command carrying it was sent first).
    AuthFailed {
        /// The ZAP status code.
        status: u32,
    },
    /// A PLAIN server had no ZAP handler to ask
    /// ([`Connection::handle_zap_unavailable`]); libzmq raises
    /// `HANDSHAKE_FAILED_NO_DETAIL` with `EFAULT`.
    ZapUnavailable,
    /// A frame exceeded `ZMQ_MAXMSGSIZE` or the receive buffer.
    MessageTooLarge,
    /// The application closed the connection; no monitor event.
    LocalClose,
}

impl DisconnectReason {
    /// Whether a connecting socket should try again (libzmq reconnects after
    /// connection and timeout errors, never after protocol errors, which
    /// include authentication failures and a received ERROR).
    #[must_use]
    pub const fn should_reconnect(self) -> bool {
        matches!(
            self,
            Self::Transport { .. } | Self::HandshakeTimeout | Self::HeartbeatTimeout
        )
    }

    /// Whether this close raises a `DISCONNECTED` monitor event.
    #[must_use]
    pub const fn is_reported(self) -> bool {
        !matches!(self, Self::LocalClose)
    }
}

/// Why a message could not be queued for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SendError {
    /// The handshake has not finished (or the connection is closed).
    NotReady,
    /// The send high-water mark or the transmit buffer is full right now.
    Full,
    /// The message can never fit the transmit buffer.
    TooLarge,
    /// More than [`MAX_PARTS`] frames.
    TooManyParts,
    /// A CURVE connection needs random bytes: it must be made with
    /// `Connection::new_with_rng` (feature `curve`).
    NoEntropy,
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NotReady => "connection not ready",
            Self::Full => "send queue full",
            Self::TooLarge => "message larger than the transmit buffer",
            Self::TooManyParts => "too many message parts",
            Self::NoEntropy => "a CURVE connection needs a random number generator",
        })
    }
}

impl core::error::Error for SendError {}

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Phase {
    /// Exchanging greetings.
    Greeting,
    /// Running the mechanism handshake.
    Handshake,
    /// Messages flow.
    Ready,
    /// Closed; only a final ERROR command may still be waiting to be sent.
    Closed,
}

/// The frame decoder (RFC 23 §Framing), advanced in a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rx {
    /// Waiting for a flags byte.
    Flags,
    /// Reading the size: 1 byte, or 8 bytes big-endian for LONG frames.
    Size { flags: Flags, got: u8, acc: u64 },
    /// Header complete; the body has not been placed yet (waiting for room
    /// in the receive queue).
    Header { flags: Flags, size: usize },
    /// Streaming the body into the receive queue's reservation.
    Ring { flags: Flags, remaining: usize },
    /// The body is the driver's to read ([`Connection::external_body`]);
    /// its record is reserved in the receive queue.
    External { flags: Flags, size: usize },
    /// Collecting the start of a post-handshake command.
    Scratch { size: usize, filled: usize },
    /// A SUBSCRIBE/CANCEL command whose first `kept` bytes are in the
    /// scratch waits for room in the receive queue.
    CmdWait { size: usize, kept: usize },
    /// Skipping the rest of a frame nobody needs.
    Discard { remaining: usize, ping: bool },
}

/// Where a connection's ZAP request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZapState {
    /// No request is out.
    Idle,
    /// A request waits to be picked up by [`Connection::poll_zap_request`].
    Requested,
    /// The driver has the request; the reply is awaited.
    Delivered,
}

/// Pending output shown in place by [`Connection::peek_transmit`]: the
/// unsent rest of the front frame's header, then of its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TxView<'a> {
    header: [u8; 9],
    head_start: u8,
    head_end: u8,
    body: &'a [u8],
    external: usize,
}

impl<'a> TxView<'a> {
    /// The unsent bytes of the frame header (empty once it is out, and for
    /// the greeting).
    #[must_use]
    pub fn head(&self) -> &[u8] {
        self.header
            .get(usize::from(self.head_start)..usize::from(self.head_end))
            .unwrap_or_default()
    }

    /// The unsent bytes of the frame body, in the transmit queue (empty
    /// for a body the driver holds, see [`TxView::external`]).
    #[must_use]
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// For a frame whose body the driver holds
    /// ([`Connection::send_external`]): how many of its bytes are unsent.
    /// They are the body's last `external()` bytes; the driver writes them
    /// from its own storage after [`TxView::head`]. 0 for other frames.
    #[must_use]
    pub fn external(&self) -> usize {
        self.external
    }

    /// `head().len() + body().len() + external()`.
    #[must_use]
    pub fn len(&self) -> usize {
        self.head()
            .len()
            .saturating_add(self.body.len())
            .saturating_add(self.external)
    }

    /// Whether nothing is shown (never the case for a view returned by
    /// [`Connection::peek_transmit`]).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One ZMTP 3.x connection. See the [module documentation](self).
#[derive(Debug)]
pub struct Connection<'a> {
    socket_type: SocketType,
    mechanism: wire::Mechanism,
    heartbeat: Heartbeat,
    max_msg_size: Option<u64>,
    sndhwm: u32,
    rcvhwm: u32,

    phase: Phase,
    greeting: [u8; wire::greeting::GREETING_LEN],
    greeting_got: usize,
    peer_major: u8,
    peer_minor: u8,
    peer_socket_type: Option<SocketType>,
    /// The mechanism's handshake state.
    mech: Mech,
    /// The ZAP request, if one is out.
    zap: ZapState,
    /// The mechanism is done but our last handshake command has not gone
    /// out yet: libzmq's mechanisms are ready only once they have produced
    /// it, so the handshake completes (and input resumes) in
    /// `poll_transmit`.
    done_pending: bool,
    rx_state: Rx,
    /// Complete units (messages, commands, metadata) at the front of `rx`.
    rx_units: usize,
    /// Whether the metadata record is still queued (it is one of `rx_units`
    /// but does not count against `ZMQ_RCVHWM`).
    rx_meta: bool,
    /// The latest instant seen, for work resumed outside an input call.
    last_now: Instant,
    /// Whether the next data frame starts a new message.
    rx_at_msg_start: bool,
    /// During [`Connection::handle_input_external`]: the smallest data
    /// body left to the driver (0: none).
    ext_min: usize,
    /// [`REC_EXTERNAL`] records in the receive queue.
    rx_external: usize,
    /// The receive-queue bytes of the message being received, counting
    /// bodies left to the driver at their full size: a message must fit
    /// the queue whichever way its frames are stored.
    rx_msg_len: usize,
    scratch: [u8; CMD_SCRATCH],
    rx: MsgRing<'a>,

    tx: MsgRing<'a>,
    /// Bytes of the front transmit record already written out.
    tx_pos: usize,
    /// Total bytes written out / allowed so far (staged greeting).
    tx_total: u64,
    tx_allowed: u64,
    /// Data messages in `tx` (for `ZMQ_SNDHWM`).
    tx_msgs: u32,
    /// What the bodies the driver holds for `tx`'s [`REC_EXTERNAL`]
    /// records would add to the queue's used bytes if they were copied
    /// into it ([`held_extra`]): counted against its capacity.
    tx_external: usize,
    /// Whether output continues after `Closed` (a final ERROR command).
    flush_after_close: bool,
    /// The last `tx_held` records of the transmit queue wait for the
    /// mechanism (handshake commands queued ahead of time).
    tx_held: u8,
    /// Handshake records behind the greeting that the mechanism cancelled:
    /// dropped instead of sent.
    tx_drop: u8,
    ping_pending: bool,
    pong_pending: Option<heapless::Vec<u8, PING_CONTEXT_MAX>>,

    timers: TimerTable,
    events: heapless::Deque<ConnEvent, 4>,
    /// A missing ZAP handler fails the handshake (`ZMQ_ZAP_ENFORCE_DOMAIN`
    /// with a domain set).
    zap_strict: bool,
    /// This connection asks ZAP ([`Config::consults_zap`]).
    #[cfg(feature = "curve")]
    consults_zap: bool,
    /// CURVE keys, nonces and our metadata, in storage the caller lends
    /// (`None` for other mechanisms).
    #[cfg(feature = "curve")]
    curve: Option<&'a mut CurveState>,
}

impl<'a> Connection<'a> {
    /// Starts a connection over a fresh transport (just connected or
    /// accepted): queues our greeting and our handshake commands (some held
    /// back until the mechanism needs them) and arms the handshake timer.
    /// libzmq's staged send is kept: only the 10-byte signature may go out
    /// before the peer's first bytes arrive.
    ///
    /// `rx_buf` and `tx_buf` become the receive and transmit queues.
    ///
    /// # Errors
    ///
    /// [`SendError::TooLarge`] if `tx_buf` cannot hold our greeting and
    /// handshake commands (and, when we consult ZAP, an ERROR command);
    /// [`SendError::NoEntropy`] for a CURVE mechanism, which needs
    /// `Connection::new_with_rng` (feature `curve`).
    pub fn new(
        now: Instant,
        config: &Config,
        rx_buf: &'a mut [u8],
        tx_buf: &'a mut [u8],
    ) -> Result<Self, SendError> {
        #[cfg(feature = "curve")]
        if config.mechanism.wire() == wire::Mechanism::Curve {
            return Err(SendError::NoEntropy);
        }
        Self::new_inner(now, config, rx_buf, tx_buf, |_| {})
    }

    /// As [`Connection::new`], for any mechanism including CURVE: a CURVE
    /// connection keeps its keys, nonces and a copy of our metadata in
    /// `curve` (caller-provided storage, like the buffers, so that
    /// connections of other mechanisms pay nothing for it) and draws from
    /// `rng`, before this returns, every random byte it will need (its
    /// transient key pair, a server's cookie key and nonces; see [`curve`]
    /// for what a board must supply). Other mechanisms touch neither.
    ///
    /// # Errors
    ///
    /// [`SendError::TooLarge`] as [`Connection::new`] (a CURVE client's
    /// transmit buffer must hold its HELLO and INITIATE, a server's its
    /// WELCOME and READY).
    #[cfg(feature = "curve")]
    pub fn new_with_rng(
        now: Instant,
        config: &Config,
        rx_buf: &'a mut [u8],
        tx_buf: &'a mut [u8],
        curve: &'a mut CurveState,
        rng: &mut dyn rand_core::CryptoRngCore,
    ) -> Result<Self, SendError> {
        Self::new_inner(now, config, rx_buf, tx_buf, |conn| {
            if config.mechanism.wire() == wire::Mechanism::Curve {
                curve.seed(&config.mechanism, rng);
                conn.curve = Some(curve);
            }
        })
    }

    /// Ends the connection and hands the caller's storage back: the
    /// buffers and, for CURVE, the state storage (reusable for another
    /// connection).
    #[cfg(feature = "curve")]
    #[must_use]
    pub fn into_parts(self) -> (&'a mut [u8], &'a mut [u8], Option<&'a mut CurveState>) {
        (self.rx.into_inner(), self.tx.into_inner(), self.curve)
    }

    fn new_inner(
        now: Instant,
        config: &Config,
        rx_buf: &'a mut [u8],
        tx_buf: &'a mut [u8],
        seed: impl FnOnce(&mut Self),
    ) -> Result<Self, SendError> {
        let mechanism = config.mechanism.wire();
        let consults_zap = config.consults_zap();
        let mut conn = Self {
            socket_type: config.socket_type,
            mechanism,
            heartbeat: config.heartbeat,
            max_msg_size: config.max_msg_size,
            sndhwm: config.sndhwm,
            rcvhwm: config.rcvhwm,
            phase: Phase::Greeting,
            greeting: [0; wire::greeting::GREETING_LEN],
            greeting_got: 0,
            peer_major: 0,
            peer_minor: 0,
            peer_socket_type: None,
            mech: Mech::new(&config.mechanism, consults_zap),
            zap: ZapState::Idle,
            done_pending: false,
            rx_state: Rx::Flags,
            rx_units: 0,
            rx_meta: false,
            last_now: now,
            rx_at_msg_start: true,
            ext_min: 0,
            rx_external: 0,
            rx_msg_len: 0,
            scratch: [0; CMD_SCRATCH],
            rx: MsgRing::new(rx_buf),
            tx: MsgRing::new(tx_buf),
            tx_pos: 0,
            tx_total: 0,
            tx_allowed: wire::greeting::SIGNATURE_LEN as u64,
            tx_external: 0,
            tx_msgs: 0,
            flush_after_close: false,
            tx_held: 0,
            tx_drop: 0,
            ping_pending: false,
            pong_pending: None,
            timers: TimerTable::default(),
            events: heapless::Deque::new(),
            zap_strict: config.zap_enforce_domain && !config.zap_domain.is_empty(),
            #[cfg(feature = "curve")]
            consults_zap,
            #[cfg(feature = "curve")]
            curve: None,
        };
        seed(&mut conn);
        let mut greeting = [0u8; wire::greeting::GREETING_LEN];
        // libzmq `zmtp_engine.cpp` plug_internal: the padding carries
        // `routing_id_size + 1` whatever the socket type. The as-server
        // byte is always 0, as libzmq sends it.
        let id_len = u8::try_from(config.routing_id.len()).unwrap_or(u8::MAX);
        wire::GreetingRepr {
            major: 3,
            minor: 1,
            mechanism,
            as_server: false,
        }
        .emit(id_len, &mut greeting);
        conn.tx
            .push(REC_RAW, &greeting)
            .map_err(|_| SendError::TooLarge)?;
        conn.queue_handshake(config)?;
        if consults_zap && !conn.tx.fits(&[mechanism::ZAP_ERROR_LEN]) {
            return Err(SendError::TooLarge);
        }
        if !config.handshake_ivl.is_zero() {
            conn.timers
                .set(Timer::Handshake, now.saturating_add(config.handshake_ivl));
        }
        Ok(conn)
    }

    /// Queues the mechanism's handshake commands behind the greeting and
    /// marks those that wait for the peer as held.
    fn queue_handshake(&mut self, config: &Config) -> Result<(), SendError> {
        match &config.mechanism {
            MechanismConfig::Null => {
                self.queue_properties(config, mechanism::READY_PREFIX)?;
                if config.consults_zap() {
                    // READY waits for the ZAP reply (libzmq
                    // `null_mechanism_t::next_handshake_command`).
                    self.tx_held = 1;
                }
            }
            #[cfg(feature = "plain")]
            MechanismConfig::PlainClient { username, password } => {
                let ulen = u8::try_from(username.len()).map_err(|_| SendError::TooLarge)?;
                let plen = u8::try_from(password.len()).map_err(|_| SendError::TooLarge)?;
                self.tx
                    .push_parts(
                        REC_COMMAND,
                        &[
                            wire::plain::HELLO_PREFIX,
                            &[ulen],
                            username,
                            &[plen],
                            password,
                        ],
                    )
                    .map_err(|_| SendError::TooLarge)?;
                self.queue_properties(config, wire::plain::INITIATE_PREFIX)?;
                // INITIATE waits for WELCOME.
                self.tx_held = 1;
            }
            #[cfg(feature = "plain")]
            MechanismConfig::PlainServer => {
                self.tx
                    .push(REC_COMMAND, wire::plain::WELCOME_BODY)
                    .map_err(|_| SendError::TooLarge)?;
                self.queue_properties(config, mechanism::READY_PREFIX)?;
                // WELCOME waits for the ZAP reply, READY for INITIATE.
                self.tx_held = 2;
            }
            #[cfg(feature = "curve")]
            MechanismConfig::CurveClient { .. } | MechanismConfig::CurveServer { .. } => {
                // INITIATE / READY carry our metadata in a box that can only
                // be sealed once the peer's first command is in: keep it.
                let mut props = [0u8; PROPS_CAP];
                let len = basic_properties(config, &mut props)?;
                let basic = props.get(..len).ok_or(SendError::TooLarge)?;
                let Some(curve) = self.curve.as_deref_mut() else {
                    return Err(SendError::NoEntropy);
                };
                curve.metadata.clear();
                curve
                    .metadata
                    .extend_from_slice(basic)
                    .and_then(|()| curve.metadata.extend_from_slice(config.metadata_bytes()))
                    .map_err(|_| SendError::TooLarge)?;
                if curve.is_server() {
                    if !self.tx.fits(&[wire::curve::WELCOME_LEN, curve.ready_len()]) {
                        return Err(SendError::TooLarge);
                    }
                } else {
                    let initiate_len = curve.initiate_len();
                    let Some(hello) = curve.hello() else {
                        // libzmq: a HELLO that cannot be sealed (a server key
                        // of small order) fails with ZMTP_CRYPTOGRAPHIC.
                        self.fail_protocol(ProtocolError::ZmtpCryptographic);
                        return Ok(());
                    };
                    self.tx
                        .push(REC_COMMAND, &hello)
                        .map_err(|_| SendError::TooLarge)?;
                    if !self.tx.fits(&[initiate_len]) {
                        return Err(SendError::TooLarge);
                    }
                }
            }
        }
        Ok(())
    }

    /// Queues a command carrying our metadata: `prefix` (`\x05READY` or
    /// `\x08INITIATE`), then libzmq's order (`mechanism.cpp`
    /// `add_basic_properties`): Socket-Type, Identity for REQ/DEALER/ROUTER,
    /// then the user properties.
    fn queue_properties(&mut self, config: &Config, prefix: &[u8]) -> Result<(), SendError> {
        let mut props = [0u8; PROPS_CAP];
        let len = basic_properties(config, &mut props)?;
        let basic = props.get(..len).ok_or(SendError::TooLarge)?;
        self.tx
            .push_parts(REC_COMMAND, &[prefix, basic, config.metadata_bytes()])
            .map_err(|_| SendError::TooLarge)
    }

    // ------------------------------------------------------------------
    // Getters
    // ------------------------------------------------------------------

    /// Where the connection is in its life.
    #[must_use]
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the handshake finished and the connection is open.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// Whether the connection is closed.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Our socket type.
    #[must_use]
    pub fn socket_type(&self) -> SocketType {
        self.socket_type
    }

    /// The peer's socket type, once its READY was accepted (`None` if the
    /// peer sent no Socket-Type, which libzmq also accepts).
    #[must_use]
    pub fn peer_socket_type(&self) -> Option<SocketType> {
        self.peer_socket_type
    }

    /// The peer's ZMTP minor version (0 for 3.0, 1 for 3.1), once its
    /// greeting arrived.
    #[must_use]
    pub fn peer_minor_version(&self) -> u8 {
        self.peer_minor
    }

    /// Whether subscriptions must be sent as ZMTP 3.0 messages (`0x01` /
    /// `0x00` prefix) rather than 3.1 SUBSCRIBE/CANCEL commands: only for a
    /// 3.0 peer (libzmq `select_handshake_fun` treats any major version
    /// above 3 as 3.1, whatever its minor). `false` before the greeting.
    #[must_use]
    pub fn uses_subscription_messages(&self) -> bool {
        self.peer_major == 3 && self.peer_minor == 0
    }

    /// Whether input is held back because the receive queue is full (by
    /// `ZMQ_RCVHWM` or by bytes), or because a multi-frame message waits for
    /// it to empty (see the module documentation), or because a ZAP request
    /// waits for its answer: the driver should offer its unconsumed bytes
    /// again after the application read something or answered the request.
    /// A frame whose bytes were all consumed already (an empty frame, a
    /// short SUBSCRIBE) moves in by itself when [`Connection::pop_frame`]
    /// makes room.
    #[must_use]
    pub fn is_rx_blocked(&self) -> bool {
        matches!(
            self.rx_state,
            Rx::Header { .. } | Rx::CmdWait { .. } | Rx::External { .. }
        ) || self.done_pending
            || self.is_zap_pending()
    }

    // ------------------------------------------------------------------
    // Inputs
    // ------------------------------------------------------------------

    /// Feeds bytes received from the transport and returns how many were
    /// consumed (at most `bytes.len()`). Fewer than offered means the receive
    /// queue is full or the connection closed; keep the rest for later.
    pub fn handle_input(&mut self, now: Instant, bytes: &[u8]) -> usize {
        self.last_now = now;
        let mut used = 0usize;
        // Every step consumes a byte or changes state; the bound only guards
        // against a bug turning into a hang.
        let mut steps = bytes.len().saturating_mul(2).saturating_add(16);
        loop {
            // While `done_pending`, what follows the peer's last handshake
            // command waits until `poll_transmit` completes the handshake.
            if self.phase == Phase::Closed || steps == 0 || self.done_pending {
                break;
            }
            steps = steps.saturating_sub(1);
            let rest = bytes.get(used..).unwrap_or_default();
            let n = if self.phase == Phase::Greeting {
                if rest.is_empty() {
                    break;
                }
                self.input_greeting(now, rest)
            } else {
                match self.input_frame(now, rest) {
                    Some(n) => n,
                    None => break,
                }
            };
            used = used.saturating_add(n);
        }
        used.min(bytes.len())
    }

    /// [`Connection::handle_input`], except that the body of a data frame
    /// of at least `min` bytes (`min` > 0) is left to the driver, as
    /// libzmq's decoder reads a large body straight into the message it
    /// allocated for it: the decoder stops after the frame's header, which
    /// is checked as any other (`ZMQ_MAXMSGSIZE`, the receive queue's
    /// largest body, `ZMQ_RCVHWM`), and reserves a small [`REC_EXTERNAL`]
    /// record in the receive queue; [`Connection::external_body`] then
    /// says how many bytes the driver reads into storage of its own
    /// before it calls [`Connection::complete_external`]. Until then no
    /// input is taken ([`Connection::is_rx_blocked`]).
    ///
    /// Not for sockets that look at message bodies (PUB, XPUB, SUB, XSUB),
    /// nor after a CURVE handshake (bodies are opened in the queue): those
    /// frames go to the queue as with [`Connection::handle_input`].
    pub fn handle_input_external(&mut self, now: Instant, bytes: &[u8], min: usize) -> usize {
        self.ext_min = min;
        let used = self.handle_input(now, bytes);
        self.ext_min = 0;
        used
    }

    /// The size of the frame body the driver is to read itself (after
    /// [`Connection::handle_input_external`] stopped at its header), if
    /// one is awaited.
    #[must_use]
    pub fn external_body(&self) -> Option<usize> {
        match self.rx_state {
            Rx::External { size, .. } if self.phase == Phase::Ready => Some(size),
            _ => None,
        }
    }

    /// The driver holds the whole body announced by
    /// [`Connection::external_body`]: its record joins the receive queue
    /// (the driver keeps the body, in the order of the records) and
    /// decoding goes on. Returns `false`, and changes nothing, when no
    /// body was awaited (the connection closed meanwhile, say): the
    /// driver drops the body.
    pub fn complete_external(&mut self, now: Instant) -> bool {
        let Some(flags) = (match self.rx_state {
            Rx::External { flags, .. } if self.phase == Phase::Ready => Some(flags),
            _ => None,
        }) else {
            return false;
        };
        self.last_now = now;
        self.rx_state = Rx::Flags;
        self.frame_received();
        if !self.rx.commit() {
            return false;
        }
        self.rx_external = self.rx_external.saturating_add(1);
        self.message_frame_queued(flags);
        true
    }

    /// [`REC_EXTERNAL`] records in the receive queue, complete or not: the
    /// bodies the driver keeps for this connection are the last this many
    /// it handed over (older ones were dropped by the pattern unread).
    #[must_use]
    pub fn external_queued(&self) -> usize {
        self.rx_external
    }

    /// The transport reached end-of-stream (libzmq maps this to `EPIPE`).
    pub fn handle_transport_closed(&mut self, now: Instant) {
        self.handle_transport_error(now, errno::EPIPE);
    }

    /// The transport failed with `errno` (Linux numbers, e.g. `ECONNRESET`).
    pub fn handle_transport_error(&mut self, _now: Instant, errno: u32) {
        self.fail(DisconnectReason::Transport { errno }, None);
    }

    /// Runs expired timers. Spurious calls are no-ops.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = now;
        while let Some(t) = self.timers.expire(now) {
            if self.phase == Phase::Closed {
                return;
            }
            match t {
                Timer::Handshake => {
                    if self.phase != Phase::Ready {
                        self.fail(DisconnectReason::HandshakeTimeout, None);
                    }
                }
                Timer::HeartbeatSend => {
                    self.ping_pending = true;
                    self.flush_control();
                    let ivl = self.heartbeat.interval;
                    if !ivl.is_zero() {
                        self.timers
                            .set(Timer::HeartbeatSend, now.saturating_add(ivl));
                    }
                    let timeout = self.heartbeat.effective_timeout();
                    if !timeout.is_zero() && !self.timers.is_armed(Timer::HeartbeatTimeout) {
                        self.timers
                            .set(Timer::HeartbeatTimeout, now.saturating_add(timeout));
                    }
                }
                Timer::HeartbeatTimeout | Timer::PeerTtl => {
                    self.fail(DisconnectReason::HeartbeatTimeout, None);
                }
            }
        }
    }

    /// Closes the connection at the application's request: no further
    /// output, no monitor event (libzmq reports nothing for a local close).
    /// A final ERROR command still waiting after a protocol failure is
    /// dropped too.
    pub fn close(&mut self) {
        self.flush_after_close = false;
        self.zap = ZapState::Idle;
        #[cfg(feature = "curve")]
        if let Some(curve) = self.curve.as_deref_mut() {
            curve.wipe();
        }
        if self.phase != Phase::Closed {
            self.phase = Phase::Closed;
            self.timers.stop_all();
            self.push_event(ConnEvent::Disconnected(DisconnectReason::LocalClose));
        }
    }

    // ------------------------------------------------------------------
    // Outputs
    // ------------------------------------------------------------------

    /// Writes pending output into `out` and returns how many bytes were
    /// written; 0 means nothing to send now. Resumes mid-frame.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> usize {
        self.transmit_with(
            now,
            out.len(),
            Some(
                |at: usize, bytes: &[u8]| match out.get_mut(at..at.saturating_add(bytes.len())) {
                    Some(dst) => {
                        dst.copy_from_slice(bytes);
                        true
                    }
                    None => false,
                },
            ),
        )
    }

    /// The next pending output in place, without copying it: the unsent
    /// rest of the front frame's header and of its body (a body is one
    /// contiguous slice of the transmit queue). `None` when nothing can be
    /// sent now. Write what the transport takes of
    /// [`TxView::head`] then [`TxView::body`] (e.g. with one vectored
    /// write), then report it with [`Connection::consume_transmit`]; until
    /// then the bytes stay queued. Further frames follow the front one
    /// after it is consumed; [`Connection::poll_transmit`] and this method
    /// may be mixed freely.
    #[must_use]
    pub fn peek_transmit(&mut self) -> Option<TxView<'_>> {
        if self.phase == Phase::Closed && !self.flush_after_close {
            return None;
        }
        if self.tx_pos == 0 {
            self.drop_cancelled();
            self.flush_control();
            if self.tx.len() <= usize::from(self.tx_held) {
                return None;
            }
        }
        let (flags, body) = self.tx.front()?;
        let mut header = [0u8; 9];
        let (header_len, body_len) = frame_layout(flags, body, &mut header);
        let budget =
            usize::try_from(self.tx_allowed.saturating_sub(self.tx_total)).unwrap_or(usize::MAX);
        if budget == 0 {
            return None;
        }
        let head_start = self.tx_pos.min(header_len);
        let head_end = header_len.min(head_start.saturating_add(budget));
        let body_budget = budget.saturating_sub(head_end.saturating_sub(head_start));
        let body_start = self.tx_pos.saturating_sub(header_len);
        let unsent = body_len.saturating_sub(body_start).min(body_budget);
        let (body, external) = if flags & REC_EXTERNAL != 0 {
            (&[][..], unsent)
        } else {
            let body = body.get(body_start..).unwrap_or_default();
            (body.get(..unsent).unwrap_or_default(), 0)
        };
        Some(TxView {
            header,
            head_start: u8::try_from(head_start).unwrap_or(0),
            head_end: u8::try_from(head_end).unwrap_or(0),
            body,
            external,
        })
    }

    /// Drops the first `n` bytes of pending output as sent, as
    /// [`Connection::poll_transmit`] would have copied them out; returns how
    /// many were dropped (fewer than `n` only when less is pending). Used
    /// after writing bytes shown by [`Connection::peek_transmit`].
    ///
    /// This is also how the bytes of a body the driver holds
    /// ([`TxView::external`]) are reported as written, which
    /// [`Connection::poll_transmit`] cannot copy out: it stops in front of
    /// such a body.
    pub fn consume_transmit(&mut self, now: Instant, n: usize) -> usize {
        self.transmit_with(now, n, None::<fn(usize, &[u8]) -> bool>)
    }

    /// Moves up to `max` bytes of pending output to `sink` (its offset in
    /// the output and the bytes) and dequeues them; stops early when the
    /// sink refuses. Without a sink the bytes are only dequeued, including
    /// those of bodies the driver holds (a sink stops in front of them).
    /// Returns how many bytes went out.
    #[inline]
    fn transmit_with(
        &mut self,
        now: Instant,
        max: usize,
        mut sink: Option<impl FnMut(usize, &[u8]) -> bool>,
    ) -> usize {
        if self.phase == Phase::Closed && !self.flush_after_close {
            return 0;
        }
        let mut written = 0usize;
        loop {
            if self.tx_pos == 0 {
                self.drop_cancelled();
                // PING/PONG only in Ready, where nothing is held.
                self.flush_control();
                if self.tx.len() <= usize::from(self.tx_held) {
                    // Nothing, or only held handshake commands, is left.
                    break;
                }
            }
            let Some((flags, body)) = self.tx.front() else {
                break;
            };
            let mut header = [0u8; 9];
            let (header_len, body_len) = frame_layout(flags, body, &mut header);
            let external = flags & REC_EXTERNAL != 0;
            let total = header_len.saturating_add(body_len);
            let budget = usize::try_from(self.tx_allowed.saturating_sub(self.tx_total))
                .unwrap_or(usize::MAX);
            let room = max.saturating_sub(written).min(budget);
            if room == 0 {
                break;
            }
            let mut copied = 0usize;
            while copied < room && self.tx_pos < total {
                let n = if self.tx_pos >= header_len && external {
                    // The driver's body: only reported, never copied.
                    if sink.is_some() {
                        break;
                    }
                    total
                        .saturating_sub(self.tx_pos)
                        .min(room.saturating_sub(copied))
                } else {
                    let (src, off) = if self.tx_pos < header_len {
                        (header.get(..header_len).unwrap_or_default(), self.tx_pos)
                    } else {
                        (body, self.tx_pos.saturating_sub(header_len))
                    };
                    let chunk = src.get(off..).unwrap_or_default();
                    let n = chunk.len().min(room.saturating_sub(copied));
                    let Some(s) = chunk.get(..n) else {
                        break;
                    };
                    if let Some(sink) = sink.as_mut()
                        && n > 0
                        && !sink(written.saturating_add(copied), s)
                    {
                        break;
                    }
                    n
                };
                if n == 0 {
                    break;
                }
                copied = copied.saturating_add(n);
                self.tx_pos = self.tx_pos.saturating_add(n);
            }
            written = written.saturating_add(copied);
            self.tx_total = self.tx_total.saturating_add(copied as u64);
            if self.tx_pos >= total {
                let ends_message = flags & (REC_RAW | REC_COMMAND | REC_MORE) == 0;
                if external {
                    self.tx_external = self.tx_external.saturating_sub(held_extra(body_len));
                }
                self.tx.pop();
                self.tx_pos = 0;
                if ends_message {
                    self.tx_msgs = self.tx_msgs.saturating_sub(1);
                }
                if self.done_pending && self.tx.is_empty() {
                    // Our last handshake command is out: the handshake is
                    // done.
                    self.done_pending = false;
                    self.mechanism_ready(now);
                }
            } else {
                break;
            }
        }
        written
    }

    /// Whether output is waiting (the driver should ask for write readiness).
    #[must_use]
    pub fn has_pending_output(&self) -> bool {
        if self.phase == Phase::Closed && !self.flush_after_close {
            return false;
        }
        let allowed = self.tx_total < self.tx_allowed;
        let waiting = usize::from(self.tx_held).saturating_add(usize::from(self.tx_drop));
        allowed && (self.tx.len() > waiting || self.ping_pending || self.pong_pending.is_some())
    }

    /// The next instant at which [`Connection::handle_timeout`] must run.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        self.timers.next()
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        self.events.pop_front()
    }

    // ------------------------------------------------------------------
    // Messages
    // ------------------------------------------------------------------

    /// Whether a new message may be queued now (ready, below `ZMQ_SNDHWM`).
    /// Buffer space is checked by [`Connection::send`] itself.
    #[must_use]
    pub fn can_send(&self) -> bool {
        self.phase == Phase::Ready && (self.sndhwm == 0 || self.tx_msgs < self.sndhwm)
    }

    /// Whether a message with these frames would be accepted right now.
    #[must_use]
    pub fn can_send_message(&self, parts: &[&[u8]]) -> bool {
        self.check_send(parts.iter().map(|p| (p.len(), false)))
            .is_ok()
    }

    /// Queues a whole message (all frames, or none).
    ///
    /// # Errors
    ///
    /// [`SendError::NotReady`] before the handshake finished,
    /// [`SendError::Full`] when `ZMQ_SNDHWM` or the buffer is full now,
    /// [`SendError::TooLarge`] when the message can never fit the buffer,
    /// [`SendError::TooManyParts`] above [`MAX_PARTS`] frames.
    pub fn send(&mut self, parts: &[&[u8]]) -> Result<(), SendError> {
        self.send_with_prefix(&[], parts)
    }

    /// Queues `prefix` frames followed by `parts` as one message (an
    /// envelope plus the application's frames).
    ///
    /// # Errors
    ///
    /// As [`Connection::send`].
    pub fn send_with_prefix(&mut self, prefix: &[&[u8]], parts: &[&[u8]]) -> Result<(), SendError> {
        self.send_external(prefix, parts, usize::MAX).map(|_| ())
    }

    /// [`Connection::send_with_prefix`] for a driver that writes large
    /// bodies from storage of its own: every frame of `parts` (not of
    /// `prefix`) of at least `min` bytes is queued as a small
    /// [`REC_EXTERNAL`] record holding its length, and its bytes are not
    /// read. The driver keeps those bodies, in order, and writes them when
    /// [`Connection::peek_transmit`] shows them ([`TxView::external`]).
    /// Returns how many frames were left to the driver: none under CURVE,
    /// whose frames are sealed in the queue.
    ///
    /// Held bodies count at full size against the transmit queue's
    /// capacity: [`SendError::TooLarge`] and `ZMQ_SNDHWM` come exactly
    /// where they would for copied frames, and [`SendError::Full`] once
    /// the bytes queued and held would exceed the capacity. A copied frame
    /// also needs its bytes in one piece of the ring, so in a queue whose
    /// free space is split by its wrap point a message with held bodies
    /// can be accepted where the same message copied would be `Full`,
    /// never the other way round.
    ///
    /// # Errors
    ///
    /// As [`Connection::send`].
    pub fn send_external(
        &mut self,
        prefix: &[&[u8]],
        parts: &[&[u8]],
        min: usize,
    ) -> Result<usize, SendError> {
        let min = if self.sealing() {
            usize::MAX
        } else {
            min.max(1)
        };
        let frames = || {
            prefix
                .iter()
                .map(|p| (*p, false))
                .chain(parts.iter().map(|p| (*p, p.len() >= min)))
        };
        self.check_send(frames().map(|(p, external)| (p.len(), external)))?;
        let count = frames().count();
        let mut external = 0usize;
        for (i, (part, held)) in frames().enumerate() {
            let more = i.saturating_add(1) < count;
            let flags = if more { REC_MORE } else { 0 };
            // `check_send` proved that every frame fits.
            if held {
                let len = (part.len() as u64).to_le_bytes();
                self.tx
                    .push(flags | REC_EXTERNAL, &len)
                    .map_err(|_| SendError::Full)?;
                self.tx_external = self.tx_external.saturating_add(held_extra(part.len()));
                external = external.saturating_add(1);
            } else {
                self.push_frame(flags, &[part])
                    .map_err(|_| SendError::Full)?;
            }
        }
        self.tx_msgs = self.tx_msgs.saturating_add(1);
        Ok(external)
    }

    /// Checks a message of frames `(length, held by the driver)`.
    fn check_send(&self, frames: impl Iterator<Item = (usize, bool)>) -> Result<(), SendError> {
        if self.phase != Phase::Ready {
            return Err(SendError::NotReady);
        }
        let mut full = [0usize; MAX_PARTS];
        // Which frames are held, and their bytes.
        let mut is_held = [false; MAX_PARTS];
        let mut held = 0usize;
        let mut n = 0usize;
        let overhead = self.frame_overhead();
        for (len, external) in frames {
            let slot = full.get_mut(n).ok_or(SendError::TooManyParts)?;
            *slot = len.saturating_add(overhead);
            if external {
                if let Some(h) = is_held.get_mut(n) {
                    *h = true;
                }
                held = held.saturating_add(len);
            }
            n = n.saturating_add(1);
        }
        let full = full.get(..n.max(1)).unwrap_or_default();
        // An empty ring places records back to back from the start, so a
        // message fits an empty transmit queue exactly when its records'
        // total does not exceed the capacity.
        let total = full.iter().try_fold(0usize, |acc, &l| {
            MsgRing::record_len(l).and_then(|r| acc.checked_add(r))
        });
        let total = match total {
            Some(t) if t <= self.tx.capacity() => t,
            _ => return Err(SendError::TooLarge),
        };
        if self.sndhwm != 0 && self.tx_msgs >= self.sndhwm {
            return Err(SendError::Full);
        }
        if held == 0 {
            if !self.tx.fits(full) {
                return Err(SendError::Full);
            }
        } else {
            // Held frames take a small record each.
            let mut queued = [0usize; MAX_PARTS];
            for ((q, &f), &h) in queued.iter_mut().zip(full).zip(&is_held) {
                *q = if h { EXTERNAL_RECORD } else { f };
            }
            if !self.tx.fits(queued.get(..full.len()).unwrap_or_default()) {
                return Err(SendError::Full);
            }
        }
        // Bodies the driver holds count as if they were queued.
        if held > 0 || self.tx_external > 0 {
            let in_use = self
                .tx
                .used_bytes()
                .saturating_add(self.tx_external)
                .saturating_add(total);
            if in_use > self.tx.capacity() {
                return Err(SendError::Full);
            }
        }
        Ok(())
    }

    /// Queues a subscription (`subscribe == true`) or cancellation in the
    /// form the peer understands: a SUBSCRIBE/CANCEL command for ZMTP 3.1
    /// peers, a `0x01`/`0x00`-prefixed message for ZMTP 3.0 peers.
    ///
    /// # Errors
    ///
    /// As [`Connection::send`] (the HWM does not apply).
    pub fn send_subscription(&mut self, subscribe: bool, topic: &[u8]) -> Result<(), SendError> {
        if self.phase != Phase::Ready {
            return Err(SendError::NotReady);
        }
        let result = if self.uses_subscription_messages() {
            let prefix: &[u8] = if subscribe { b"\x01" } else { b"\x00" };
            self.push_frame(0, &[prefix, topic])
        } else {
            let name: &[u8] = if subscribe {
                b"\x09SUBSCRIBE"
            } else {
                b"\x06CANCEL"
            };
            self.push_frame(REC_COMMAND, &[name, topic])
        };
        result.map_err(|_| {
            let len = topic
                .len()
                .saturating_add(10)
                .saturating_add(self.frame_overhead());
            if len > self.tx.max_body_len() {
                SendError::TooLarge
            } else {
                SendError::Full
            }
        })?;
        if self.uses_subscription_messages() {
            self.tx_msgs = self.tx_msgs.saturating_add(1);
        }
        Ok(())
    }

    /// Whether a complete unit (message, SUBSCRIBE/CANCEL command or the
    /// metadata record) is waiting at the front of the receive queue.
    #[must_use]
    pub fn has_message(&self) -> bool {
        self.rx_units > 0
    }

    /// Complete units waiting in the receive queue.
    #[must_use]
    pub fn queued_units(&self) -> usize {
        self.rx_units
    }

    /// Data messages and commands queued for sending.
    #[must_use]
    pub fn queued_outgoing(&self) -> u32 {
        self.tx_msgs
    }

    /// The frame at the front of the receive queue as `(record flags, body)`
    /// (see [`REC_MORE`], [`REC_COMMAND`], [`REC_METADATA`]), only when it
    /// belongs to a complete unit.
    #[must_use]
    pub fn front_frame(&self) -> Option<(u8, &[u8])> {
        if self.rx_units == 0 {
            return None;
        }
        self.rx.front()
    }

    /// Drops the frame at the front of the receive queue (after
    /// [`Connection::front_frame`]). Returns whether a frame was dropped.
    pub fn pop_frame(&mut self) -> bool {
        let Some((flags, _)) = self.front_frame() else {
            return false;
        };
        self.rx.pop();
        if flags & REC_EXTERNAL != 0 {
            self.rx_external = self.rx_external.saturating_sub(1);
        }
        if flags & REC_METADATA != 0 && flags & REC_MORE == 0 {
            self.rx_meta = false;
        }
        if flags & REC_MORE == 0 {
            self.rx_units = self.rx_units.saturating_sub(1);
        }
        self.resume_rx();
        true
    }

    /// Room was made in the receive queue: a frame whose header (or, for a
    /// short SUBSCRIBE/CANCEL, whole body) was already consumed may move in
    /// now. Without this, a blocked empty frame would wait for input that
    /// never comes, since every one of its bytes was already taken.
    fn resume_rx(&mut self) {
        if self.phase != Phase::Ready {
            return;
        }
        let now = self.last_now;
        match self.rx_state {
            Rx::Header { flags, size } => {
                let _ = self.place_body(now, flags, size, &[]);
            }
            Rx::CmdWait { size, kept } => {
                let _ = self.place_command(now, size, kept);
            }
            _ => {}
        }
    }

    /// The peer's metadata while it is at the front of the receive queue
    /// (from the handshake's success until [`Connection::pop_metadata`]):
    /// its READY / INITIATE properties and, when a ZAP handler accepted the
    /// peer, the handler's `User-Id` and metadata.
    #[must_use]
    pub fn peer_metadata(&self) -> Option<PeerMetadata<'_>> {
        if !self.rx_meta {
            return None;
        }
        let mut zap = None;
        // A CURVE server's unit is the INITIATE, then what ZAP said.
        #[cfg(feature = "curve")]
        let mut before = None;
        for (flags, body) in &self.rx {
            if flags & REC_METADATA == 0 {
                return None;
            }
            let props = mechanism::record_properties(body)?;
            if flags & REC_MORE == 0 {
                #[cfg(feature = "curve")]
                if body.starts_with(mechanism::ZAP_RECORD_PREFIX)
                    || body == mechanism::NO_ZAP_RECORD
                {
                    let zap = body
                        .starts_with(mechanism::ZAP_RECORD_PREFIX)
                        .then_some(props);
                    return before.map(|peer| PeerMetadata { peer, zap });
                }
                return Some(PeerMetadata { peer: props, zap });
            }
            if body.starts_with(mechanism::ZAP_RECORD_PREFIX) {
                zap = Some(props);
            }
            #[cfg(feature = "curve")]
            {
                before = Some(props);
            }
        }
        None
    }

    /// Drops the peer's metadata unit from the front of the receive queue
    /// (every [`REC_METADATA`] record). Returns whether there was one.
    pub fn pop_metadata(&mut self) -> bool {
        if !self.rx_meta {
            return false;
        }
        while let Some((flags, _)) = self.front_frame() {
            if flags & REC_METADATA == 0 {
                break;
            }
            self.pop_frame();
            if flags & REC_MORE == 0 {
                return true;
            }
        }
        false
    }

    // ------------------------------------------------------------------
    // ZAP (RFC 27)
    // ------------------------------------------------------------------

    /// The ZAP request this connection raised, once: `Some` the first time
    /// it is polled, then `None` until another request is raised. `config`
    /// is the [`Config`] the connection was made with (it supplies the
    /// domain and identity frames). See [`zap`].
    #[must_use]
    pub fn poll_zap_request<'c>(&'c mut self, config: &'c Config) -> Option<ZapRequest<'c>> {
        if self.zap != ZapState::Requested || self.phase == Phase::Closed {
            return None;
        }
        self.zap = ZapState::Delivered;
        self.zap_request(config)
    }

    /// The ZAP request waiting for its reply, however often it was polled.
    #[must_use]
    pub fn zap_request<'c>(&'c self, config: &'c Config) -> Option<ZapRequest<'c>> {
        if self.zap == ZapState::Idle || self.phase == Phase::Closed {
            return None;
        }
        let mut credentials: [&[u8]; zap::ZAP_MAX_CREDENTIALS] = [&[], &[]];
        let mut credential_count = 0;
        if self.mech.holds_credentials() {
            let (_, hello) = self.rx.front()?;
            let hello = wire::plain::HelloRepr::parse(hello).ok()?;
            credentials = [hello.username, hello.password];
            credential_count = 2;
        }
        #[cfg(feature = "curve")]
        if let (Mech::CurveServer(_), Some(curve)) = (self.mech, self.curve.as_deref()) {
            // The client's long-term public key (libzmq `curve_server.cpp`
            // send_zap_request).
            credentials = [curve.client_key(), &[]];
            credential_count = 1;
        }
        Some(ZapRequest {
            domain: &config.zap_domain,
            identity: &config.routing_id,
            mechanism: self.mechanism.name(),
            credentials,
            credential_count,
        })
    }

    /// Whether a ZAP request waits for its reply.
    #[must_use]
    pub fn is_zap_pending(&self) -> bool {
        self.zap != ZapState::Idle && self.phase != Phase::Closed
    }

    /// Answers the pending ZAP request (RFC 27; libzmq `zap_client.cpp`
    /// `receive_and_process_zap_reply` from the status check on):
    ///
    /// - `200`: the handshake goes on; `User-Id` and the reply's metadata
    ///   become part of the peer's metadata;
    /// - `300`: `HANDSHAKE_FAILED_AUTH` 300; nothing is sent and the
    ///   connection stays open until the peer closes it or the handshake
    ///   timer fires (then `DISCONNECTED` without `NO_DETAIL`);
    /// - `400` / `500`: `HANDSHAKE_FAILED_AUTH`, an ERROR command with the
    ///   status as reason, then the connection closes
    ///   ([`DisconnectReason::AuthFailed`]). A PLAIN server writes the ERROR
    ///   as libzmq's does, `^RROR` + reason (see
    ///   [`wire::plain::LIBZMQ_ERROR_PREFIX`]), so that libzmq clients
    ///   report `HANDSHAKE_FAILED_AUTH`; NULL writes the RFC form;
    /// - any other status: `HANDSHAKE_FAILED_PROTOCOL`
    ///   `ZAP_INVALID_STATUS_CODE`; malformed metadata:
    ///   `ZAP_INVALID_METADATA`.
    ///
    /// Offer the unconsumed input again afterwards.
    ///
    /// # Errors
    ///
    /// [`ZapError::NoRequest`] if no request is pending (the reply is
    /// ignored).
    pub fn handle_zap_reply(&mut self, now: Instant, reply: &ZapReply<'_>) -> Result<(), ZapError> {
        if !self.is_zap_pending() {
            return Err(ZapError::NoRequest);
        }
        self.last_now = now;
        self.zap = ZapState::Idle;
        match zap::check_reply(reply, self.socket_type) {
            Ok((status, props)) => self.zap_status(status, reply.user_id, props),
            Err(e) => self.fail_protocol(e),
        }
        Ok(())
    }

    /// Answers the pending ZAP request with the handler's raw reply frames,
    /// checked as libzmq does (exactly [`zap::ZAP_REPLY_FRAMES`] frames,
    /// empty delimiter, version `1.0`, request id `1`, see
    /// [`ZapReply::from_frames`]); a failed check raises
    /// `HANDSHAKE_FAILED_PROTOCOL` with its `ZAP_*` code and closes the
    /// connection. A well-formed reply is handled as
    /// [`Connection::handle_zap_reply`].
    ///
    /// # Errors
    ///
    /// [`ZapError::NoRequest`] if no request is pending.
    pub fn handle_zap_reply_frames(
        &mut self,
        now: Instant,
        frames: &[&[u8]],
    ) -> Result<(), ZapError> {
        if !self.is_zap_pending() {
            return Err(ZapError::NoRequest);
        }
        match ZapReply::from_frames(frames) {
            Ok(reply) => self.handle_zap_reply(now, &reply),
            Err(e) => {
                self.zap = ZapState::Idle;
                self.fail_protocol(e);
                Ok(())
            }
        }
    }

    /// No ZAP handler can answer the pending request (libzmq: nothing is
    /// bound at `inproc://zeromq.zap.01`). A PLAIN server then fails with
    /// `HANDSHAKE_FAILED_NO_DETAIL` `EFAULT` and closes
    /// ([`DisconnectReason::ZapUnavailable`]); a NULL connection goes on
    /// without ZAP, as libzmq does unless `ZMQ_ZAP_ENFORCE_DOMAIN` is set.
    ///
    /// # Errors
    ///
    /// [`ZapError::NoRequest`] if no request is pending.
    pub fn handle_zap_unavailable(&mut self, now: Instant) -> Result<(), ZapError> {
        if !self.is_zap_pending() {
            return Err(ZapError::NoRequest);
        }
        self.last_now = now;
        self.zap = ZapState::Idle;
        match self.mech {
            Mech::Null { ready_received, .. } if !self.zap_strict => {
                self.mech = Mech::Null {
                    ready_received,
                    zap: mechanism::NullZap::Clear,
                };
                self.tx_held = self.tx_held.saturating_sub(1);
            }
            // libzmq's "Stonehouse": without a handler (and without
            // ZMQ_ZAP_ENFORCE_DOMAIN) a CURVE server accepts the client.
            #[cfg(feature = "curve")]
            Mech::CurveServer(_) if !self.zap_strict => {
                if self
                    .rx
                    .push(REC_METADATA, mechanism::NO_ZAP_RECORD)
                    .is_err()
                {
                    self.fail(DisconnectReason::MessageTooLarge, None);
                    return Ok(());
                }
                self.curve_send_ready(now);
            }
            _ => self.fail(
                DisconnectReason::ZapUnavailable,
                Some(ConnEvent::HandshakeFailedNoDetail {
                    errno: errno::EFAULT,
                }),
            ),
        }
        Ok(())
    }

    /// Applies a valid ZAP status (libzmq `handle_zap_status_code`).
    fn zap_status(&mut self, status: ZapStatus, user_id: &[u8], props: wire::Properties<'_>) {
        match status {
            ZapStatus::Ok => {
                let Some((next, release)) = self.mech.zap_passed() else {
                    return;
                };
                if self.mech.holds_credentials() {
                    // The HELLO has served its purpose.
                    self.rx.pop();
                }
                // A CURVE server's ZAP record follows the INITIATE's and
                // ends the metadata unit; otherwise it comes first.
                #[cfg(feature = "curve")]
                let last = matches!(self.mech, Mech::CurveServer(_));
                #[cfg(not(feature = "curve"))]
                let last = false;
                if !self.push_zap_record(user_id, props, last) {
                    self.fail(DisconnectReason::MessageTooLarge, None);
                    return;
                }
                self.mech = next;
                self.tx_held = self.tx_held.saturating_sub(release);
                #[cfg(feature = "curve")]
                if last {
                    self.curve_send_ready(self.last_now);
                }
            }
            ZapStatus::TemporaryFailure => {
                if self.mech.holds_credentials() {
                    self.rx.pop();
                }
                self.mech = self.mech.zap_refused();
                self.push_event(ConnEvent::HandshakeFailedAuth {
                    status: status.code(),
                });
            }
            ZapStatus::AuthenticationFailure | ZapStatus::InternalError => {
                self.queue_error(self.mech.error_prefix(), status.as_bytes());
                let code = status.code();
                self.fail(
                    DisconnectReason::AuthFailed { status: code },
                    Some(ConnEvent::HandshakeFailedAuth { status: code }),
                );
            }
        }
    }

    /// Queues what a ZAP handler said about the peer as the first metadata
    /// record: `\x03ZAP`, `User-Id`, then the reply's properties. Returns
    /// `false` if it does not fit the receive queue.
    fn push_zap_record(&mut self, user_id: &[u8], props: wire::Properties<'_>, last: bool) -> bool {
        let Some(value_len) = u32::try_from(user_id.len())
            .ok()
            .filter(|&l| l <= wire::metadata::MAX_VALUE_LEN)
        else {
            return false;
        };
        let name_len = [u8::try_from(USER_ID.len()).unwrap_or(u8::MAX)];
        self.rx
            .push_parts(
                if last {
                    REC_METADATA
                } else {
                    REC_METADATA | REC_MORE
                },
                &[
                    mechanism::ZAP_RECORD_PREFIX,
                    &name_len,
                    USER_ID,
                    &value_len.to_be_bytes(),
                    user_id,
                    props.as_bytes(),
                ],
            )
            .is_ok()
    }

    /// Ends the connection and hands the caller's buffers back
    /// `(rx, tx)`.
    #[must_use]
    pub fn into_buffers(self) -> (&'a mut [u8], &'a mut [u8]) {
        (self.rx.into_inner(), self.tx.into_inner())
    }

    // ------------------------------------------------------------------
    // Internals: greeting
    // ------------------------------------------------------------------

    fn input_greeting(&mut self, now: Instant, bytes: &[u8]) -> usize {
        let want = wire::greeting::GREETING_LEN.saturating_sub(self.greeting_got);
        let n = want.min(bytes.len());
        let before = self.greeting_got;
        if let (Some(dst), Some(src)) = (
            self.greeting.get_mut(before..before.saturating_add(n)),
            bytes.get(..n),
        ) {
            dst.copy_from_slice(src);
        }
        self.greeting_got = before.saturating_add(n);
        let sig = wire::greeting::SIGNATURE_LEN;
        if before < sig {
            // libzmq `receive_greeting` decides on the first byte (not 0xFF:
            // a ZMTP 1.0 peer), then on byte 9 once the signature is in. A
            // 1.0 peer may send fewer than 10 bytes and wait, so the first
            // byte must be judged on its own.
            let head = self.greeting.get(..self.greeting_got).unwrap_or_default();
            match wire::greeting::check_signature(head) {
                Ok(()) => {
                    // libzmq sends its major version once the peer's
                    // signature is in.
                    self.tx_allowed = (sig as u64).saturating_add(1);
                }
                Err(wire::Error::Truncated) => {}
                Err(_) => {
                    self.refuse_version();
                    return n;
                }
            }
        }
        if before <= sig && self.greeting_got > sig {
            let major = self.greeting.get(sig).copied().unwrap_or(0);
            if major < 3 {
                self.refuse_version();
                return n;
            }
            // ... the rest of its greeting after the major ...
            self.tx_allowed = wire::greeting::GREETING_LEN as u64;
        }
        if self.greeting_got == wire::greeting::GREETING_LEN {
            self.finish_greeting(now);
        }
        n
    }

    fn finish_greeting(&mut self, _now: Instant) {
        let Ok(repr) = wire::GreetingRepr::parse(&self.greeting) else {
            self.refuse_version();
            return;
        };
        self.peer_major = repr.major;
        self.peer_minor = repr.minor;
        if repr.mechanism != self.mechanism {
            self.fail_protocol(ProtocolError::ZmtpMechanismMismatch);
            return;
        }
        // ... and its first handshake command only once the peer's whole
        // greeting was accepted (libzmq creates the mechanism then).
        self.tx_allowed = u64::MAX;
        self.phase = Phase::Handshake;
        self.rx_state = Rx::Flags;
        if self.mech.asks_zap_at_start() {
            self.zap = ZapState::Requested;
        }
    }

    // ------------------------------------------------------------------
    // Internals: frames
    // ------------------------------------------------------------------

    /// Advances the decoder by one step. Returns bytes consumed, or `None`
    /// when no progress is possible (need more bytes, or blocked).
    fn input_frame(&mut self, now: Instant, bytes: &[u8]) -> Option<usize> {
        match self.rx_state {
            Rx::Flags => {
                if self.zap != ZapState::Idle {
                    // No frame is read while the ZAP reply is awaited.
                    return None;
                }
                let &b = bytes.first()?;
                // libzmq `v2_decoder.cpp` flags_ready reads only MORE, LONG
                // and COMMAND: reserved bits are ignored, not rejected. A
                // command cannot continue a message, so MORE is dropped there.
                let b = b & !Flags::RESERVED;
                let b = if b & Flags::COMMAND != 0 {
                    b & !Flags::MORE
                } else {
                    b
                };
                match Flags::from_byte(b) {
                    Ok(flags) => {
                        self.rx_state = Rx::Size {
                            flags,
                            got: 0,
                            acc: 0,
                        };
                    }
                    Err(_) => self.fail(DisconnectReason::Framing, None),
                }
                Some(1)
            }
            Rx::Size { flags, got, acc } => {
                let &b = bytes.first()?;
                let acc = (acc << 8) | u64::from(b);
                let got = got.saturating_add(1);
                let need = if flags.is_long() { 8 } else { 1 };
                if got < need {
                    self.rx_state = Rx::Size { flags, got, acc };
                } else {
                    // The lookahead starts at this frame's body.
                    let ahead = bytes.get(1..).unwrap_or_default();
                    self.size_complete(now, flags, acc, ahead);
                }
                Some(1)
            }
            Rx::Header { flags, size } => {
                if self.place_body(now, flags, size, bytes) {
                    Some(0)
                } else {
                    None
                }
            }
            Rx::Ring { flags, remaining } => {
                if bytes.is_empty() {
                    return None;
                }
                let n = self.rx.write(bytes.get(..remaining.min(bytes.len()))?);
                if n == 0 && remaining > 0 {
                    return None;
                }
                let remaining = remaining.saturating_sub(n);
                self.rx_state = Rx::Ring { flags, remaining };
                if remaining == 0 {
                    self.frame_in_ring(now, flags);
                }
                Some(n)
            }
            // The driver reads the body ([`Connection::complete_external`]).
            Rx::External { .. } => None,
            Rx::Scratch { size, filled } => {
                let keep = size.min(CMD_SCRATCH);
                if bytes.is_empty() {
                    return None;
                }
                let n = keep.saturating_sub(filled).min(bytes.len());
                if let (Some(dst), Some(src)) = (
                    self.scratch.get_mut(filled..filled.saturating_add(n)),
                    bytes.get(..n),
                ) {
                    dst.copy_from_slice(src);
                }
                let filled = filled.saturating_add(n);
                self.rx_state = Rx::Scratch { size, filled };
                if filled >= keep {
                    self.scratch_complete(now, size);
                }
                Some(n)
            }
            Rx::CmdWait { size, kept } => {
                if self.place_command(now, size, kept) {
                    Some(0)
                } else {
                    None
                }
            }
            Rx::Discard { remaining, ping } => {
                if bytes.is_empty() {
                    return None;
                }
                let n = remaining.min(bytes.len());
                let remaining = remaining.saturating_sub(n);
                self.rx_state = Rx::Discard { remaining, ping };
                if remaining == 0 {
                    self.discard_complete(now, ping);
                }
                Some(n)
            }
        }
    }

    fn size_complete(&mut self, now: Instant, flags: Flags, size: u64, ahead: &[u8]) {
        #[cfg(feature = "curve")]
        if self.sealing() {
            self.sealed_size(now, size, ahead);
            return;
        }
        if self.max_msg_size.is_some_and(|max| size > max) {
            self.fail(DisconnectReason::MessageTooLarge, None);
            return;
        }
        let Ok(size) = usize::try_from(size) else {
            self.fail(DisconnectReason::MessageTooLarge, None);
            return;
        };
        if self.phase == Phase::Ready && flags.is_command() {
            // Post-handshake commands: look at the start, then decide.
            self.rx_state = Rx::Scratch { size, filled: 0 };
            if size == 0 {
                self.scratch_complete(now, 0);
            }
            return;
        }
        if size > self.rx.max_body_len() {
            self.fail(DisconnectReason::MessageTooLarge, None);
            return;
        }
        self.rx_state = Rx::Header { flags, size };
        self.place_body(now, flags, size, ahead);
    }

    /// The size of a frame after a CURVE handshake is known: it is read
    /// whole into the receive queue and opened there (see [`curve`]).
    #[cfg(feature = "curve")]
    fn sealed_size(&mut self, now: Instant, size: u64, ahead: &[u8]) {
        let overhead = wire::curve::MESSAGE_OVERHEAD as u64;
        let plain = size.saturating_sub(overhead);
        if self.max_msg_size.is_some_and(|max| plain > max) {
            self.fail(DisconnectReason::MessageTooLarge, None);
            return;
        }
        let size = match usize::try_from(size) {
            Ok(size) if size <= self.rx.max_body_len() => size,
            _ => {
                self.fail(DisconnectReason::MessageTooLarge, None);
                return;
            }
        };
        let flags = Flags::new(false, false);
        self.rx_state = Rx::Header { flags, size };
        self.place_body(now, flags, size, ahead);
    }

    /// A whole frame received after a CURVE handshake is in the receive
    /// queue's reservation: open it and file what it carries.
    #[cfg(feature = "curve")]
    fn sealed_frame(&mut self, now: Instant) {
        use wire::curve::{MESSAGE_FLAG_COMMAND, MESSAGE_FLAG_MORE};
        let opened = match (self.rx.reserved_mut(), self.curve.as_deref_mut()) {
            (Some(body), Some(curve)) => curve.open_message(body),
            _ => Err(ProtocolError::ZmtpUnspecified),
        };
        let (inner, len) = match opened {
            Ok(v) => v,
            Err(e) => {
                self.rx.abort();
                self.fail_protocol(e);
                return;
            }
        };
        self.frame_received();
        if inner & MESSAGE_FLAG_COMMAND != 0 {
            let body = self
                .rx
                .reserved()
                .and_then(|(_, b)| b.get(..len))
                .unwrap_or_default();
            match command_name(body) {
                Some(b"SUBSCRIBE") | Some(b"CANCEL") => {
                    if self.rx.shrink_reserved(REC_COMMAND, len) && self.rx.commit() {
                        self.rx_at_msg_start = true;
                        self.rx_units = self.rx_units.saturating_add(1);
                    }
                }
                Some(b"PING") => {
                    let kept = len.min(CMD_SCRATCH);
                    if let (Some(dst), Some(src)) = (self.scratch.get_mut(..kept), body.get(..kept))
                    {
                        dst.copy_from_slice(src);
                    }
                    self.rx.abort();
                    self.handle_ping(now, kept);
                }
                _ => self.rx.abort(),
            }
            return;
        }
        let more = inner & MESSAGE_FLAG_MORE != 0;
        let flags = if more { REC_MORE } else { 0 };
        if self.rx.shrink_reserved(flags, len) && self.rx.commit() {
            if more {
                self.rx_at_msg_start = false;
            } else {
                self.rx_at_msg_start = true;
                self.rx_units = self.rx_units.saturating_add(1);
            }
        }
    }

    /// Tries to reserve room for a frame body; on success the decoder moves
    /// on to stream the body. `ahead` is the input from the body on (possibly
    /// empty), used to size a multi-frame message before it starts.
    ///
    /// Records never wrap inside the receive queue, so a multi-frame message
    /// that starts behind other queued units may find, once those are read,
    /// no contiguous room for its next frame while its own first frames can
    /// never be read (they are not a complete unit yet). To rule that out, a
    /// multi-frame message starts in a non-empty queue only if all of it is
    /// visible in `ahead` and fits right now; otherwise it waits until the
    /// queue is empty, where any message up to the queue's capacity fits.
    fn place_body(&mut self, now: Instant, flags: Flags, size: usize, ahead: &[u8]) -> bool {
        let handshaking = self.phase == Phase::Handshake;
        // The MORE flag of a CURVE frame is inside its box: a new message
        // starts only in an empty queue (see [`curve`]).
        if !handshaking && self.sealing() && self.rx_at_msg_start && !self.rx.is_empty() {
            return false;
        }
        let queued = self.rx_units.saturating_sub(usize::from(self.rx_meta));
        if !handshaking
            && self.rx_at_msg_start
            && self.rcvhwm != 0
            && queued >= self.rcvhwm as usize
        {
            return false;
        }
        if !handshaking
            && self.rx_at_msg_start
            && flags.is_more()
            && !self.rx.is_empty()
            && !self.message_fits_now(size, ahead)
        {
            return false;
        }
        let rec_flags = if handshaking {
            REC_METADATA
        } else if flags.is_more() {
            REC_MORE
        } else {
            0
        };
        // Whether its frames' bodies are stored or left to the driver, a
        // message larger than the whole queue is refused the same way.
        let msg_len = if self.rx_at_msg_start {
            0
        } else {
            self.rx_msg_len
        }
        .saturating_add(MsgRing::record_len(size).unwrap_or(usize::MAX));
        if !handshaking && !self.sealing() && msg_len > self.rx.capacity() {
            self.fail(DisconnectReason::MessageTooLarge, None);
            return false;
        }
        let external = self.leaves_body(flags, size);
        let (rec_flags, rec_len) = if external {
            (rec_flags | REC_EXTERNAL, EXTERNAL_RECORD)
        } else {
            (rec_flags, size)
        };
        if self.rx.begin(rec_flags, rec_len).is_err() {
            if handshaking {
                // Behind a kept ZAP record the queue may lack room for a
                // command that would fit an empty one: nothing can be read
                // to make room.
                self.fail(DisconnectReason::MessageTooLarge, None);
                return false;
            }
            if !self.rx_at_msg_start && self.rx_units == 0 {
                // Only this message's first frames are queued and nothing
                // can be read to make room: it is larger than the queue.
                self.fail(DisconnectReason::MessageTooLarge, None);
            }
            return false;
        }
        self.rx_msg_len = msg_len;
        if external {
            let _ = self
                .rx
                .write(&u64::try_from(size).unwrap_or(u64::MAX).to_le_bytes());
            self.rx_state = Rx::External { flags, size };
            return true;
        }
        self.rx_state = Rx::Ring {
            flags,
            remaining: size,
        };
        if size == 0 {
            self.frame_in_ring(now, flags);
        }
        true
    }

    /// Whether a multi-frame message whose first body is `first` bytes and
    /// whose bytes from that body on are `ahead` can be stored whole right
    /// now. `false` when its frame headers are not all in `ahead`, when a
    /// command is interleaved, or beyond [`MAX_PARTS`] frames.
    fn message_fits_now(&self, first: usize, ahead: &[u8]) -> bool {
        let mut lens = [0usize; MAX_PARTS];
        let mut n = 0usize;
        let mut size = first;
        let mut r = wire::Reader::new(ahead);
        loop {
            let Some(slot) = lens.get_mut(n) else {
                return false;
            };
            *slot = size;
            n = n.saturating_add(1);
            if r.take(size).is_none() {
                return false;
            }
            let Some(b) = r.u8() else {
                return false;
            };
            let b = b & !Flags::RESERVED;
            if b & Flags::COMMAND != 0 {
                return false;
            }
            let next = if b & Flags::LONG != 0 {
                r.u64_be()
            } else {
                r.u8().map(u64::from)
            };
            let Some(next) = next.and_then(|s| usize::try_from(s).ok()) else {
                return false;
            };
            if b & Flags::MORE == 0 {
                let Some(slot) = lens.get_mut(n) else {
                    return false;
                };
                *slot = next;
                n = n.saturating_add(1);
                return self.rx.fits(lens.get(..n).unwrap_or_default());
            }
            size = next;
        }
    }

    /// A whole frame body sits in the receive queue's reservation.
    fn frame_in_ring(&mut self, now: Instant, flags: Flags) {
        self.rx_state = Rx::Flags;
        if self.phase == Phase::Handshake {
            self.handshake_frame(now);
            return;
        }
        #[cfg(feature = "curve")]
        if self.sealing() {
            self.sealed_frame(now);
            return;
        }
        self.frame_received();
        if self.rx.commit() {
            self.message_frame_queued(flags);
        }
    }

    /// A data frame joined the receive queue: the message goes on, or is
    /// complete.
    fn message_frame_queued(&mut self, flags: Flags) {
        if flags.is_more() {
            self.rx_at_msg_start = false;
        } else {
            self.rx_at_msg_start = true;
            self.rx_units = self.rx_units.saturating_add(1);
        }
    }

    /// Whether a data frame's body of `size` bytes is left to the driver
    /// ([`Connection::handle_input_external`]).
    fn leaves_body(&self, flags: Flags, size: usize) -> bool {
        self.ext_min > 0
            && size >= self.ext_min
            && self.phase == Phase::Ready
            && !flags.is_command()
            && !self.sealing()
            && !matches!(
                self.socket_type,
                SocketType::Pub | SocketType::XPub | SocketType::Sub | SocketType::XSub
            )
    }

    /// Any decoded frame proves the peer alive (libzmq cancels both the
    /// heartbeat timeout and the TTL timer).
    fn frame_received(&mut self) {
        self.timers.stop(Timer::HeartbeatTimeout);
        self.timers.stop(Timer::PeerTtl);
    }

    fn scratch_complete(&mut self, now: Instant, size: usize) {
        self.rx_state = Rx::Flags;
        let kept = size.min(CMD_SCRATCH);
        let head = self.scratch.get(..kept).unwrap_or_default();
        let name = command_name(head);
        let full = kept == size;
        match name {
            Some(b"SUBSCRIBE") | Some(b"CANCEL") => {
                // Needed whole by PUB/XPUB: move it into the receive queue.
                if size > self.rx.max_body_len() {
                    self.fail(DisconnectReason::MessageTooLarge, None);
                    return;
                }
                self.rx_state = Rx::CmdWait { size, kept };
                self.place_command(now, size, kept);
            }
            Some(b"PING") => {
                if full {
                    self.frame_received();
                    self.handle_ping(now, kept);
                } else {
                    self.rx_state = Rx::Discard {
                        remaining: size.saturating_sub(kept),
                        ping: true,
                    };
                }
            }
            _ => {
                if full {
                    self.frame_received();
                } else {
                    self.rx_state = Rx::Discard {
                        remaining: size.saturating_sub(kept),
                        ping: false,
                    };
                }
            }
        }
    }

    /// Tries to move a SUBSCRIBE/CANCEL command (its first `kept` bytes in
    /// the scratch) into the receive queue; waits while the queue is full.
    fn place_command(&mut self, now: Instant, size: usize, kept: usize) -> bool {
        if self.rx.begin(REC_COMMAND, size).is_err() {
            if !self.rx_at_msg_start && self.rx_units == 0 {
                // Interleaved in a message that fills the queue: no read
                // can ever make room.
                self.fail(DisconnectReason::MessageTooLarge, None);
            }
            return false;
        }
        let _ = self.rx.write(self.scratch.get(..kept).unwrap_or_default());
        let remaining = size.saturating_sub(kept);
        let flags = Flags::new(false, true);
        self.rx_state = Rx::Ring { flags, remaining };
        if remaining == 0 {
            self.frame_in_ring(now, flags);
        }
        true
    }

    fn discard_complete(&mut self, now: Instant, ping: bool) {
        self.rx_state = Rx::Flags;
        self.frame_received();
        if ping {
            self.handle_ping(now, CMD_SCRATCH);
        }
    }

    /// A PING arrived (its first `kept` bytes are in the scratch): answer
    /// with PONG and honour the peer's TTL.
    fn handle_ping(&mut self, now: Instant, kept: usize) {
        let head = self.scratch.get(..kept).unwrap_or_default();
        // \x04 P I N G ttl(2) context...
        let mut r = wire::Reader::new(head);
        let _ = r.take(5);
        let Some(ttl_ds) = r.u16_be() else {
            self.fail(DisconnectReason::Framing, None);
            return;
        };
        let context = r.rest();
        let ctx = context
            .get(..context.len().min(PING_CONTEXT_MAX))
            .unwrap_or_default();
        self.pong_pending = heapless::Vec::from_slice(ctx).ok();
        if self.pong_pending.is_none() {
            self.pong_pending = Some(heapless::Vec::new());
        }
        if ttl_ds > 0 && !self.timers.is_armed(Timer::PeerTtl) {
            let ttl = Duration::from_millis(u64::from(ttl_ds).saturating_mul(100));
            self.timers.set(Timer::PeerTtl, now.saturating_add(ttl));
        }
        self.flush_control();
    }

    /// Moves a pending PING or PONG into the transmit queue if it fits. Only
    /// called at a record boundary.
    fn flush_control(&mut self) {
        if self.phase != Phase::Ready {
            self.ping_pending = false;
            self.pong_pending = None;
            return;
        }
        if let Some(ctx) = &self.pong_pending {
            #[cfg(feature = "curve")]
            let pushed = {
                let ctx = ctx.clone();
                self.push_frame(REC_COMMAND, &[b"\x04PONG", &ctx]).is_ok()
            };
            #[cfg(not(feature = "curve"))]
            let pushed = self.tx.push_parts(REC_COMMAND, &[b"\x04PONG", ctx]).is_ok();
            if pushed {
                self.pong_pending = None;
            }
        }
        if self.ping_pending {
            let ttl = self.heartbeat.ttl_deciseconds().to_be_bytes();
            if self.push_frame(REC_COMMAND, &[b"\x04PING", &ttl]).is_ok() {
                self.ping_pending = false;
            }
        }
    }

    /// Whether frames go out sealed in CURVE MESSAGE commands.
    fn sealing(&self) -> bool {
        #[cfg(feature = "curve")]
        {
            self.phase == Phase::Ready && self.curve.is_some()
        }
        #[cfg(not(feature = "curve"))]
        {
            false
        }
    }

    /// Bytes the mechanism adds to every frame we send (a CURVE MESSAGE's
    /// name, nonce, MAC and flags).
    fn frame_overhead(&self) -> usize {
        if self.sealing() {
            wire_curve_overhead()
        } else {
            0
        }
    }

    /// Queues one frame: as is, or sealed in a CURVE MESSAGE once a CURVE
    /// handshake is done.
    #[cfg_attr(not(feature = "curve"), inline(always))]
    fn push_frame(&mut self, flags: u8, parts: &[&[u8]]) -> Result<(), crate::queue::Full> {
        #[cfg(feature = "curve")]
        if self.sealing() {
            return self.push_sealed(flags, parts);
        }
        self.tx.push_parts(flags, parts)
    }

    /// Queues a frame as a CURVE MESSAGE, sealed in place in the transmit
    /// queue.
    #[cfg(feature = "curve")]
    fn push_sealed(&mut self, flags: u8, parts: &[&[u8]]) -> Result<(), crate::queue::Full> {
        use crate::queue::Full;
        use wire::curve::{MESSAGE_FLAG_COMMAND, MESSAGE_FLAG_MORE, MESSAGE_OVERHEAD};
        let len = parts
            .iter()
            .try_fold(MESSAGE_OVERHEAD, |acc, p| acc.checked_add(p.len()))
            .ok_or(Full)?;
        self.tx.begin(flags | REC_SEALED, len)?;
        let mut inner = 0u8;
        if flags & REC_MORE != 0 {
            inner |= MESSAGE_FLAG_MORE;
        }
        if flags & REC_COMMAND != 0 {
            inner |= MESSAGE_FLAG_COMMAND;
        }
        // Name, nonce and MAC are written by `seal_message`.
        self.tx.write(&[0u8; MESSAGE_OVERHEAD - 1]);
        self.tx.write(&[inner]);
        for part in parts {
            self.tx.write(part);
        }
        let sealed = self
            .tx
            .reserved_mut()
            .and_then(|body| self.curve.as_deref_mut()?.seal_message(body))
            .is_some();
        if sealed && self.tx.commit() {
            Ok(())
        } else {
            self.tx.abort();
            Err(Full)
        }
    }

    // ------------------------------------------------------------------
    // Internals: the mechanism handshake
    // ------------------------------------------------------------------

    /// A whole handshake frame is in the receive queue's reservation.
    fn handshake_frame(&mut self, now: Instant) {
        #[cfg(feature = "curve")]
        match self.mech {
            Mech::CurveClient(stage) => {
                self.curve_client_command(now, stage);
                return;
            }
            Mech::CurveServer(stage) => {
                self.curve_server_command(now, stage);
                return;
            }
            _ => {}
        }
        let Some((_, body)) = self.rx.reserved() else {
            return;
        };
        match self.mech.on_command(self.socket_type, body) {
            Ok(v) => {
                self.mech = v.next;
                match v.keep {
                    Keep::Drop => self.rx.abort(),
                    Keep::Metadata => {
                        let _ = self.rx.commit();
                    }
                    Keep::Credentials => {
                        // Kept at the front of the receive queue (hidden:
                        // it is no unit) for the ZAP request.
                        let _ = self.rx.commit();
                        self.zap = ZapState::Requested;
                    }
                }
                self.tx_held = self.tx_held.saturating_sub(v.release);
                if v.done {
                    self.peer_socket_type = v.peer;
                    // The metadata (this record, after a ZAP record if
                    // any) is one unit ahead of every message.
                    self.rx_units = self.rx_units.saturating_add(1);
                    self.rx_meta = true;
                    if self.tx.is_empty() {
                        self.mechanism_ready(now);
                    } else {
                        // libzmq's mechanisms are ready only once they have
                        // produced their last command (NULL: READY sent and
                        // received; PLAIN server: READY after INITIATE).
                        self.done_pending = true;
                    }
                }
            }
            Err(f) => {
                self.rx.abort();
                if let Some(reason) = f.error_reason {
                    // RFC 23: a rejecting peer SHOULD send ERROR, then close.
                    self.queue_error(mechanism::ERROR_PREFIX, reason);
                }
                self.fail(f.reason, f.event);
            }
        }
    }

    /// A CURVE client's handshake command (libzmq `curve_client.cpp`
    /// process_handshake_command) is in the receive queue's reservation.
    #[cfg(feature = "curve")]
    fn curve_client_command(&mut self, now: Instant, stage: CurveClientStage) {
        use wire::curve::{READY_PREFIX, WELCOME_PREFIX};
        let Some((_, body)) = self.rx.reserved() else {
            return;
        };
        if body.starts_with(WELCOME_PREFIX) {
            // libzmq would open a second WELCOME again; here it is out of
            // place.
            let opened = match (stage, self.curve.as_deref_mut()) {
                (CurveClientStage::WaitWelcome, Some(curve)) => curve.open_welcome(body),
                _ => Err(ProtocolError::ZmtpUnexpectedCommand),
            };
            self.rx.abort();
            match opened {
                Ok((server_transient, cookie)) => {
                    if self.queue_initiate(&server_transient, &cookie) {
                        self.mech = Mech::CurveClient(CurveClientStage::WaitReady);
                    }
                }
                Err(e) => self.fail_protocol(e),
            }
            return;
        }
        if body.starts_with(READY_PREFIX) {
            // Before WELCOME there is no key to open it with: libzmq fails
            // with ZMTP_CRYPTOGRAPHIC too.
            let opened = match (self.rx.reserved_mut(), self.curve.as_deref_mut()) {
                (Some(body), Some(curve)) => curve.open_ready(body),
                _ => Err(ProtocolError::ZmtpUnspecified),
            };
            let meta_len = match opened {
                Ok(len) => len,
                Err(e) => {
                    self.rx.abort();
                    self.fail_protocol(e);
                    return;
                }
            };
            let (end, peer) = self.opened_metadata(READY_PREFIX.len(), meta_len);
            match peer {
                Ok(peer) if self.rx.shrink_reserved(REC_METADATA, end) && self.rx.commit() => {
                    self.peer_socket_type = peer;
                    self.curve_done(now);
                }
                _ => {
                    self.rx.abort();
                    self.fail_protocol(ProtocolError::ZmtpInvalidMetadata);
                }
            }
            return;
        }
        if let Some(data) = body.strip_prefix(mechanism::ERROR_PREFIX) {
            let f = mechanism::error_command(data);
            self.rx.abort();
            self.fail(f.reason, f.event);
            return;
        }
        self.rx.abort();
        self.fail_protocol(ProtocolError::ZmtpUnexpectedCommand);
    }

    /// A CURVE READY or INITIATE opened in place in the reserved receive
    /// record: its metadata are the `meta_len` bytes after the
    /// `prefix_len`-byte command prefix. Returns where they end in the
    /// record and the peer's socket type as
    /// [`mechanism::peer_metadata`] reads it.
    #[cfg(feature = "curve")]
    fn opened_metadata(
        &self,
        prefix_len: usize,
        meta_len: usize,
    ) -> (usize, Result<Option<SocketType>, bool>) {
        let end = prefix_len.saturating_add(meta_len);
        let props = self
            .rx
            .reserved()
            .and_then(|(_, b)| b.get(prefix_len..end))
            .unwrap_or_default();
        (end, mechanism::peer_metadata(self.socket_type, props))
    }

    /// Seals and queues our INITIATE. Returns `false` (the connection has
    /// failed) if it cannot.
    #[cfg(feature = "curve")]
    fn queue_initiate(
        &mut self,
        server_transient: &[u8; 32],
        cookie: &[u8; wire::curve::COOKIE_LEN],
    ) -> bool {
        let len = self.curve.as_deref().map_or(0, CurveState::initiate_len);
        if !self.reserve_zeroed(len) {
            return false;
        }
        let sealed = self
            .tx
            .reserved_mut()
            .and_then(|body| {
                self.curve
                    .as_deref_mut()?
                    .write_initiate(body, server_transient, cookie)
            })
            .is_some();
        if sealed && self.tx.commit() {
            return true;
        }
        self.tx.abort();
        self.fail_protocol(ProtocolError::ZmtpCryptographic);
        false
    }

    /// Reserves a zero-filled handshake command of `len` bytes in the
    /// transmit queue. On failure the connection fails.
    #[cfg(feature = "curve")]
    fn reserve_zeroed(&mut self, len: usize) -> bool {
        if self.tx.begin(REC_COMMAND, len).is_err() {
            self.fail(DisconnectReason::MessageTooLarge, None);
            return false;
        }
        while self.tx.reserved_remaining() > 0 {
            if self.tx.write(&[0u8; 64]) == 0 {
                break;
            }
        }
        true
    }

    /// A CURVE server's handshake command (libzmq `curve_server.cpp`
    /// process_handshake_command) is in the receive queue's reservation.
    #[cfg(feature = "curve")]
    fn curve_server_command(&mut self, now: Instant, stage: CurveServerStage) {
        use wire::curve::{HELLO_LEN, HELLO_PREFIX, INITIATE_MIN_LEN, INITIATE_PREFIX};
        let Some((_, body)) = self.rx.reserved() else {
            return;
        };
        // mechanism_base_t::check_basic_command_structure.
        let name_len = body.first().map_or(0, |&b| usize::from(b));
        let malformed = body.len() <= 1 || body.len() <= name_len;
        match stage {
            CurveServerStage::WaitHello => {
                let checked = if malformed {
                    Err(ProtocolError::ZmtpMalformedCommandUnspecified)
                } else if !body.starts_with(HELLO_PREFIX) {
                    Err(ProtocolError::ZmtpUnexpectedCommand)
                } else if body.len() != HELLO_LEN {
                    Err(ProtocolError::ZmtpMalformedCommandHello)
                } else {
                    self.curve
                        .as_deref_mut()
                        .map_or(Err(ProtocolError::ZmtpUnspecified), |c| c.open_hello(body))
                };
                self.rx.abort();
                if let Err(e) = checked {
                    self.fail_protocol(e);
                    return;
                }
                let Some(welcome) = self.curve.as_deref_mut().and_then(|c| c.welcome()) else {
                    self.fail_protocol(ProtocolError::ZmtpCryptographic);
                    return;
                };
                if self.tx.push(REC_COMMAND, &welcome).is_err() {
                    self.fail(DisconnectReason::MessageTooLarge, None);
                    return;
                }
                self.mech = Mech::CurveServer(CurveServerStage::WaitInitiate);
            }
            CurveServerStage::WaitInitiate => {
                let checked = if malformed {
                    Err(ProtocolError::ZmtpMalformedCommandUnspecified)
                } else if !body.starts_with(INITIATE_PREFIX) {
                    Err(ProtocolError::ZmtpUnexpectedCommand)
                } else if body.len() < INITIATE_MIN_LEN {
                    Err(ProtocolError::ZmtpMalformedCommandInitiate)
                } else {
                    match (self.rx.reserved_mut(), self.curve.as_deref_mut()) {
                        (Some(body), Some(curve)) => curve.open_initiate(body),
                        _ => Err(ProtocolError::ZmtpUnspecified),
                    }
                };
                let meta_len = match checked {
                    Ok(len) => len,
                    Err(e) => {
                        self.rx.abort();
                        self.fail_protocol(e);
                        return;
                    }
                };
                let (end, peer) = self.opened_metadata(INITIATE_PREFIX.len(), meta_len);
                // libzmq: bad INITIATE metadata closes with no handshake
                // event.
                let peer = match peer {
                    Ok(peer) => peer,
                    Err(incompatible) => {
                        self.rx.abort();
                        self.fail(
                            if incompatible {
                                DisconnectReason::IncompatibleSocketType
                            } else {
                                DisconnectReason::InvalidMetadata
                            },
                            None,
                        );
                        return;
                    }
                };
                self.peer_socket_type = peer;
                // With ZAP, the handler's record ends the metadata unit.
                let flags = if self.consults_zap {
                    REC_METADATA | REC_MORE
                } else {
                    REC_METADATA
                };
                if !(self.rx.shrink_reserved(flags, end) && self.rx.commit()) {
                    self.rx.abort();
                    self.fail(DisconnectReason::MessageTooLarge, None);
                    return;
                }
                if self.consults_zap {
                    self.mech = Mech::CurveServer(CurveServerStage::WaitZap);
                    self.zap = ZapState::Requested;
                } else {
                    // No ZAP: libzmq's "Stonehouse" (any client with the
                    // server's key is accepted).
                    self.curve_send_ready(now);
                }
            }
            // Waiting for ZAP, after a 300 or done: out of place.
            CurveServerStage::WaitZap | CurveServerStage::Refused | CurveServerStage::Done => {
                self.rx.abort();
                self.fail_protocol(ProtocolError::ZmtpUnspecified);
            }
        }
    }

    /// A CURVE server accepted the client: seals and queues READY; the
    /// handshake completes once it is out.
    #[cfg(feature = "curve")]
    fn curve_send_ready(&mut self, now: Instant) {
        let len = self.curve.as_deref().map_or(0, CurveState::ready_len);
        if !self.reserve_zeroed(len) {
            return;
        }
        let sealed = self
            .tx
            .reserved_mut()
            .and_then(|body| self.curve.as_deref_mut()?.write_ready(body))
            .is_some();
        if !(sealed && self.tx.commit()) {
            self.tx.abort();
            self.fail_protocol(ProtocolError::ZmtpCryptographic);
            return;
        }
        self.mech = Mech::CurveServer(CurveServerStage::Done);
        self.curve_done(now);
    }

    /// The CURVE handshake is complete on our side: the metadata unit is
    /// queued; the connection is ready once our last command is out.
    #[cfg(feature = "curve")]
    fn curve_done(&mut self, now: Instant) {
        self.rx_units = self.rx_units.saturating_add(1);
        self.rx_meta = true;
        if self.tx.is_empty() {
            self.mechanism_ready(now);
        } else {
            self.done_pending = true;
        }
    }

    /// Queues a final ERROR command (sent even though the connection is
    /// closing) in place of any held handshake command.
    fn queue_error(&mut self, prefix: &[u8], reason: &[u8]) {
        self.tx_drop = self.tx_drop.saturating_add(self.tx_held);
        self.tx_held = 0;
        let len = u8::try_from(reason.len()).unwrap_or(u8::MAX);
        let reason = reason.get(..usize::from(len)).unwrap_or_default();
        if self
            .tx
            .push_parts(REC_COMMAND, &[prefix, &[len], reason])
            .is_ok()
        {
            self.flush_after_close = true;
        }
    }

    /// Drops cancelled handshake commands from the front of the transmit
    /// queue. They sit right behind the greeting (the only raw record),
    /// since nothing else is queued during the handshake.
    fn drop_cancelled(&mut self) {
        while self.tx_drop > 0 {
            match self.tx.front() {
                Some((flags, _)) if flags & REC_RAW == 0 => {
                    self.tx.pop();
                    self.tx_drop = self.tx_drop.saturating_sub(1);
                }
                _ => break,
            }
        }
    }

    fn mechanism_ready(&mut self, now: Instant) {
        self.phase = Phase::Ready;
        self.timers.stop(Timer::Handshake);
        let ivl = self.heartbeat.interval;
        if !ivl.is_zero() {
            self.timers
                .set(Timer::HeartbeatSend, now.saturating_add(ivl));
        }
        self.push_event(ConnEvent::HandshakeSucceeded);
    }

    /// Closes the connection with `reason`, raising `event` first (when
    /// given) and then `Disconnected`. During the greeting or handshake, a
    /// non-protocol failure raises `HANDSHAKE_FAILED_NO_DETAIL` first, as
    /// libzmq's `stream_engine_base_t::error` does.
    /// Closes on a protocol violation: `HANDSHAKE_FAILED_PROTOCOL(e)`, then
    /// `DISCONNECTED`; no reconnect.
    fn fail_protocol(&mut self, e: ProtocolError) {
        self.fail(
            DisconnectReason::Protocol(e),
            Some(ConnEvent::HandshakeFailedProtocol(e)),
        );
    }

    /// Refuses a peer older than ZMTP 3.0 (see the module docs).
    fn refuse_version(&mut self) {
        self.fail(
            DisconnectReason::UnsupportedVersion,
            Some(ConnEvent::HandshakeFailedProtocol(
                ProtocolError::ZmtpUnspecified,
            )),
        );
    }

    fn fail(&mut self, reason: DisconnectReason, event: Option<ConnEvent>) {
        if self.phase == Phase::Closed {
            return;
        }
        // libzmq `stream_engine_base_t::error`: no NO_DETAIL once the
        // mechanism has given up (its status is `error`).
        let handshaking =
            matches!(self.phase, Phase::Greeting | Phase::Handshake) && !self.mech.is_errored();
        if let Some(e) = event {
            self.push_event(e);
        } else if handshaking {
            let errno = match reason {
                DisconnectReason::Transport { errno } => Some(errno),
                DisconnectReason::HandshakeTimeout => Some(errno::EAGAIN),
                _ => None,
            };
            if let Some(errno) = errno {
                self.push_event(ConnEvent::HandshakeFailedNoDetail { errno });
            }
        }
        self.push_event(ConnEvent::Disconnected(reason));
        self.phase = Phase::Closed;
        self.zap = ZapState::Idle;
        // Nothing sealed or opened follows (a final ERROR is in the clear).
        #[cfg(feature = "curve")]
        if let Some(curve) = self.curve.as_deref_mut() {
            curve.wipe();
        }
        self.timers.stop_all();
        self.ping_pending = false;
        self.pong_pending = None;
    }

    fn push_event(&mut self, e: ConnEvent) {
        // At most three events are ever raised by one connection
        // (handshake outcome, failure detail, disconnect).
        let _ = self.events.push_back(e);
    }
}

/// What a CURVE MESSAGE adds to a frame (0 without the `curve` feature).
const fn wire_curve_overhead() -> usize {
    #[cfg(feature = "curve")]
    {
        wire::curve::MESSAGE_OVERHEAD
    }
    #[cfg(not(feature = "curve"))]
    {
        0
    }
}

/// The frame flags of a transmit record.
fn wire_flags(flags: u8) -> Flags {
    #[cfg(feature = "curve")]
    if flags & REC_SEALED != 0 {
        return Flags::new(false, false);
    }
    Flags::new(flags & REC_MORE != 0, flags & REC_COMMAND != 0)
}

/// The bytes a frame of `len` held by the driver would add to the transmit
/// queue's used bytes if it were copied in (its record there is
/// [`EXTERNAL_RECORD`] bytes long instead).
fn held_extra(len: usize) -> usize {
    let copied = MsgRing::record_len(len).unwrap_or(usize::MAX);
    let record = MsgRing::record_len(EXTERNAL_RECORD).unwrap_or(0);
    copied.saturating_sub(record)
}

/// Writes the header of the transmit record `(flags, body)` into `header`;
/// returns the header's length (0 for raw bytes) and the frame body's (for
/// a [`REC_EXTERNAL`] record, the length of the body the driver holds).
fn frame_layout(flags: u8, body: &[u8], header: &mut [u8; 9]) -> (usize, usize) {
    let body_len = if flags & REC_EXTERNAL != 0 {
        external_len(body)
    } else {
        body.len()
    };
    let header_len = if flags & REC_RAW != 0 {
        0
    } else {
        wire::frame::emit_header(wire_flags(flags), body_len as u64, header).unwrap_or(0)
    };
    (header_len, body_len)
}

/// Room for the basic properties: Socket-Type and a 255-byte Identity.
const PROPS_CAP: usize = 2 * 16 + 255 + 8;

/// Writes libzmq's basic properties (`mechanism.cpp`
/// `add_basic_properties`): Socket-Type, then Identity for REQ, DEALER and
/// ROUTER. Returns their length.
fn basic_properties(config: &Config, props: &mut [u8; PROPS_CAP]) -> Result<usize, SendError> {
    let mut w = wire::PropertiesWriter::new(props);
    w.add(b"Socket-Type", config.socket_type.as_str().as_bytes())
        .map_err(|_| SendError::TooLarge)?;
    if config.socket_type.sends_identity() {
        w.add(b"Identity", &config.routing_id)
            .map_err(|_| SendError::TooLarge)?;
    }
    Ok(w.len())
}

/// The name of a command body (`name-len` + name), if well formed.
fn command_name(body: &[u8]) -> Option<&[u8]> {
    let mut r = wire::Reader::new(body);
    let len = r.u8()?;
    if len == 0 {
        return None;
    }
    r.take(usize::from(len))
}
