//! Command bodies (RFC 23 / RFC 37 "Commands", "The NULL Security
//! Mechanism", "Connection Heartbeating", "Subscription") and the ZMTP 3.0
//! subscription message form.
//!
//! ```text
//! command-body = command-name command-data
//! command-name = short-size 1*255ALPHA
//! ready        = %d5 "READY" metadata
//! error        = %d5 "ERROR" short-size 0*255VCHAR
//! subscribe    = %d9 "SUBSCRIBE" *OCTET        ; ZMTP 3.1
//! cancel       = %d6 "CANCEL" *OCTET           ; ZMTP 3.1
//! ping         = %d4 "PING" 2OCTET 0*16OCTET   ; TTL (deciseconds, BE), context
//! pong         = %d4 "PONG" 0*16OCTET          ; echoed context
//! ```
//!
//! Names match exactly (case-sensitive), as libzmq's `memcmp`. PING and PONG
//! contexts of any length are accepted on input; libzmq truncates the
//! context it echoes to 16 bytes, which is the caller's job
//! ([`MAX_PING_CONTEXT_LEN`]).
//!
//! In ZMTP 3.0 a subscription is a data message whose body starts with
//! `0x01` (subscribe) or `0x00` (cancel); see [`Subscription`].

use super::frame::{Flags, emit_header, header_len};
use super::metadata::{IDENTITY, SOCKET_TYPE, property_len};
use super::{Error, Properties, PropertiesWriter, Reader, Writer};

/// Name of the READY command. RFC 23 NULL mechanism.
pub const READY: &[u8] = b"READY";
/// Name of the ERROR command. RFC 23 NULL mechanism.
pub const ERROR: &[u8] = b"ERROR";
/// Name of the SUBSCRIBE command. RFC 37 subscription.
pub const SUBSCRIBE: &[u8] = b"SUBSCRIBE";
/// Name of the CANCEL command. RFC 37 subscription.
pub const CANCEL: &[u8] = b"CANCEL";
/// Name of the PING command. RFC 37 connection heartbeating.
pub const PING: &[u8] = b"PING";
/// Name of the PONG command. RFC 37 connection heartbeating.
pub const PONG: &[u8] = b"PONG";
/// Length of `\x05READY`, the READY command's name-length byte and name.
/// RFC 23 NULL mechanism.
const READY_PREFIX_LEN: usize = 6;
/// Longest PING context a peer may send and the longest PONG context libzmq
/// echoes. RFC 37 ping-context = 0*16OCTET.
pub const MAX_PING_CONTEXT_LEN: usize = 16;
/// Longest ERROR reason. RFC 23 error-reason = short-size 0*255VCHAR.
pub const MAX_ERROR_REASON_LEN: usize = 255;

/// First byte of a ZMTP 3.0 subscribe message. RFC 29 / RFC 23.
pub const SUBSCRIBE_MESSAGE_PREFIX: u8 = 0x01;
/// First byte of a ZMTP 3.0 cancel message. RFC 29 / RFC 23.
pub const CANCEL_MESSAGE_PREFIX: u8 = 0x00;

/// A parsed command body.
///
/// ```
/// use zmtp_core::wire::{Command, FrameRepr};
///
/// let ping = Command::Ping { ttl_ds: 0, context: b"LOL" };
/// let mut buf = [0u8; 32];
/// let n = ping.emit_frame(&mut buf)?;
/// // libzmq tests/test_heartbeats.cpp: 04 0A 04 'PING' 00 00 'LOL'
/// assert_eq!(&buf[..n], b"\x04\x0a\x04PING\x00\x00LOL");
/// let (frame, used) = FrameRepr::parse(&buf[..n])?.unwrap();
/// assert!(frame.command && used == n);
/// assert_eq!(Command::parse(frame.body)?, ping);
/// # Ok::<(), zmtp_core::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Command<'a> {
    /// READY + metadata.
    Ready(Properties<'a>),
    /// ERROR + reason (at most 255 bytes).
    Error {
        /// Why the peer gave up.
        reason: &'a [u8],
    },
    /// ZMTP 3.1 SUBSCRIBE + topic.
    Subscribe(&'a [u8]),
    /// ZMTP 3.1 CANCEL + topic.
    Cancel(&'a [u8]),
    /// PING: TTL in deciseconds (0 = none) + context.
    Ping {
        /// Time-to-live hint in tenths of a second; 0 means none.
        ttl_ds: u16,
        /// Opaque context to echo in the PONG.
        context: &'a [u8],
    },
    /// PONG + the echoed context.
    Pong {
        /// The context from the PING.
        context: &'a [u8],
    },
    /// Any other command, including HELLO/WELCOME/INITIATE of other
    /// mechanisms. [`Command::emit`] writes `name` as given, so an
    /// `Unknown` built with a known name (say `READY`) parses back as that
    /// command, not as `Unknown`.
    Unknown {
        /// The command name (1 to 255 bytes).
        name: &'a [u8],
        /// Everything after the name.
        data: &'a [u8],
    },
}

impl<'a> Command<'a> {
    /// Parses the body of a frame whose COMMAND flag was set.
    ///
    /// # Errors
    ///
    /// - [`Error::BadCommandName`] for an empty body, a name length of 0, or
    ///   a name that runs past the body;
    /// - READY: any error of [`Properties::parse`];
    /// - ERROR: [`Error::Truncated`] if the reason length byte is missing or
    ///   the reason runs past the body, [`Error::TrailingBytes`] if bytes
    ///   follow the reason;
    /// - PING: [`Error::Truncated`] if fewer than 2 data bytes (the TTL).
    pub fn parse(body: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let name_len = r.u8().ok_or(Error::BadCommandName)?;
        if name_len == 0 {
            return Err(Error::BadCommandName);
        }
        let name = r.take(usize::from(name_len)).ok_or(Error::BadCommandName)?;
        let data = r.rest();
        match name {
            READY => Properties::parse(data).map(Self::Ready),
            ERROR => {
                let mut r = Reader::new(data);
                let len = r.u8().ok_or(Error::Truncated)?;
                let reason = r.take(usize::from(len)).ok_or(Error::Truncated)?;
                if r.is_empty() {
                    Ok(Self::Error { reason })
                } else {
                    Err(Error::TrailingBytes)
                }
            }
            SUBSCRIBE => Ok(Self::Subscribe(data)),
            CANCEL => Ok(Self::Cancel(data)),
            PING => {
                let mut r = Reader::new(data);
                let ttl_ds = r.u16_be().ok_or(Error::Truncated)?;
                Ok(Self::Ping {
                    ttl_ds,
                    context: r.rest(),
                })
            }
            PONG => Ok(Self::Pong { context: data }),
            _ => Ok(Self::Unknown { name, data }),
        }
    }

    /// The command name.
    #[must_use]
    pub const fn name(&self) -> &[u8] {
        match self {
            Self::Ready(_) => READY,
            Self::Error { .. } => ERROR,
            Self::Subscribe(_) => SUBSCRIBE,
            Self::Cancel(_) => CANCEL,
            Self::Ping { .. } => PING,
            Self::Pong { .. } => PONG,
            Self::Unknown { name, .. } => name,
        }
    }

    /// Length of the command data (everything after the name).
    fn data_len(&self) -> usize {
        match self {
            Self::Ready(props) => props.as_bytes().len(),
            Self::Error { reason } => reason.len().saturating_add(1),
            Self::Subscribe(topic) | Self::Cancel(topic) => topic.len(),
            Self::Ping { context, .. } => context.len().saturating_add(2),
            Self::Pong { context } => context.len(),
            Self::Unknown { data, .. } => data.len(),
        }
    }

    /// Length of the body [`Command::emit`] writes (without frame header).
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        1usize
            .saturating_add(self.name().len())
            .saturating_add(self.data_len())
    }

    /// Writes the command body. Returns the number of bytes written,
    /// [`Command::buffer_len`].
    ///
    /// # Errors
    ///
    /// - [`Error::BufferTooSmall`] if `out` is shorter than
    ///   [`Command::buffer_len`], an ERROR reason is longer than 255 bytes,
    ///   or an [`Command::Unknown`] name is longer than 255 bytes;
    /// - [`Error::BadCommandName`] for an empty [`Command::Unknown`] name.
    ///
    /// On error nothing is written.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, Error> {
        let name = self.name();
        if name.is_empty() {
            return Err(Error::BadCommandName);
        }
        let name_len = u8::try_from(name.len()).map_err(|_| Error::BufferTooSmall)?;
        let out = out
            .get_mut(..self.buffer_len())
            .ok_or(Error::BufferTooSmall)?;
        let mut w = Writer::new(out);
        let reason_len = match self {
            Self::Error { reason } => {
                Some(u8::try_from(reason.len()).map_err(|_| Error::BufferTooSmall)?)
            }
            _ => None,
        };
        w.u8(name_len)?;
        w.bytes(name)?;
        match self {
            Self::Ready(props) => w.bytes(props.as_bytes())?,
            Self::Error { reason } => {
                w.u8(reason_len.unwrap_or_default())?;
                w.bytes(reason)?;
            }
            Self::Subscribe(topic) | Self::Cancel(topic) => w.bytes(topic)?,
            Self::Ping { ttl_ds, context } => {
                w.u16_be(*ttl_ds)?;
                w.bytes(context)?;
            }
            Self::Pong { context } => w.bytes(context)?,
            Self::Unknown { data, .. } => w.bytes(data)?,
        }
        Ok(w.len())
    }

    /// Length of the whole command frame: header plus body.
    #[must_use]
    pub fn frame_len(&self) -> usize {
        let body = self.buffer_len();
        header_len(u64::try_from(body).unwrap_or(u64::MAX)).saturating_add(body)
    }

    /// Writes the whole command frame: header with the COMMAND flag, then
    /// the body. Returns the number of bytes written, [`Command::frame_len`].
    ///
    /// # Errors
    ///
    /// As [`Command::emit`], with `out` checked against
    /// [`Command::frame_len`]. On error nothing is written.
    pub fn emit_frame(&self, out: &mut [u8]) -> Result<usize, Error> {
        let body_len = self.buffer_len();
        let out = out
            .get_mut(..self.frame_len())
            .ok_or(Error::BufferTooSmall)?;
        let size = u64::try_from(body_len).map_err(|_| Error::BufferTooSmall)?;
        let header = header_len(size);
        // Emit the body first so a failing body leaves `out` untouched.
        let body = self.emit(out.get_mut(header..).ok_or(Error::BufferTooSmall)?)?;
        let header = emit_header(Flags::new(false, true), size, out)?;
        header.checked_add(body).ok_or(Error::BufferTooSmall)
    }
}

/// Length of the READY body [`emit_ready`] writes.
#[must_use]
pub fn ready_len(socket_type: &str, identity: Option<&[u8]>, extra: Properties<'_>) -> usize {
    let mut len = 1usize
        .saturating_add(READY.len())
        .saturating_add(property_len(SOCKET_TYPE, socket_type.as_bytes()));
    if let Some(id) = identity {
        len = len.saturating_add(property_len(IDENTITY, id));
    }
    len.saturating_add(extra.as_bytes().len())
}

/// Writes a READY body in libzmq's order (`mechanism.cpp`
/// `add_basic_properties`): `\x05READY`, `Socket-Type`, `Identity` when
/// `identity` is `Some` (libzmq sends it, possibly empty, for REQ, DEALER and
/// ROUTER), then the `extra` properties. Returns the number of bytes
/// written, [`ready_len`].
///
/// ```
/// use zmtp_core::wire::command::{emit_ready, ready_len};
/// use zmtp_core::wire::{Command, Properties};
///
/// let mut buf = [0u8; 64];
/// let n = emit_ready("DEALER", Some(b""), Properties::EMPTY, &mut buf)?;
/// assert_eq!(n, ready_len("DEALER", Some(b""), Properties::EMPTY));
/// let Command::Ready(props) = Command::parse(&buf[..n])? else { unreachable!() };
/// assert_eq!(props.get(b"Socket-Type"), Some(&b"DEALER"[..]));
/// # Ok::<(), zmtp_core::wire::Error>(())
/// ```
///
/// # Errors
///
/// - [`Error::BufferTooSmall`] if `out` is shorter than [`ready_len`];
/// - [`Error::BadPropertyValue`] if the identity is longer than 2^31-1
///   bytes.
pub fn emit_ready(
    socket_type: &str,
    identity: Option<&[u8]>,
    extra: Properties<'_>,
    out: &mut [u8],
) -> Result<usize, Error> {
    let out = out
        .get_mut(..ready_len(socket_type, identity, extra))
        .ok_or(Error::BufferTooSmall)?;
    let (head, props_out) = out
        .split_at_mut_checked(READY_PREFIX_LEN)
        .ok_or(Error::BufferTooSmall)?;
    let mut w = Writer::new(head);
    w.u8(5)?;
    w.bytes(READY)?;
    let mut p = PropertiesWriter::new(props_out);
    p.add(SOCKET_TYPE, socket_type.as_bytes())?;
    if let Some(id) = identity {
        p.add(IDENTITY, id)?;
    }
    p.extend(extra)?;
    w.len().checked_add(p.len()).ok_or(Error::BufferTooSmall)
}

/// A subscription in either wire form: the ZMTP 3.1 SUBSCRIBE/CANCEL
/// command or the ZMTP 3.0 data message `0x01 + topic` / `0x00 + topic`.
///
/// ```
/// use zmtp_core::wire::{Command, Subscription};
///
/// // libzmq tests/test_mock_pub_sub.cpp: 3.0 body 01 'A' == 3.1 SUBSCRIBE 'A'.
/// let sub = Subscription::parse_message(b"\x01A").unwrap();
/// assert_eq!(sub.to_command(), Command::Subscribe(b"A"));
/// # Ok::<(), zmtp_core::wire::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Subscription<'a> {
    /// Subscribe to messages starting with the topic.
    Subscribe(&'a [u8]),
    /// Cancel one earlier subscription to the topic.
    Cancel(&'a [u8]),
}

impl<'a> Subscription<'a> {
    /// Reads the ZMTP 3.0 message form. `None` if `body` is empty or its
    /// first byte is neither `0x01` nor `0x00` (then it is an ordinary
    /// message).
    #[must_use]
    pub fn parse_message(body: &'a [u8]) -> Option<Self> {
        let mut r = Reader::new(body);
        match r.u8()? {
            SUBSCRIBE_MESSAGE_PREFIX => Some(Self::Subscribe(r.rest())),
            CANCEL_MESSAGE_PREFIX => Some(Self::Cancel(r.rest())),
            _ => None,
        }
    }

    /// The ZMTP 3.1 command form, if `command` is SUBSCRIBE or CANCEL.
    #[must_use]
    pub const fn from_command(command: &Command<'a>) -> Option<Self> {
        match *command {
            Command::Subscribe(topic) => Some(Self::Subscribe(topic)),
            Command::Cancel(topic) => Some(Self::Cancel(topic)),
            _ => None,
        }
    }

    /// The topic prefix.
    #[must_use]
    pub const fn topic(&self) -> &'a [u8] {
        match *self {
            Self::Subscribe(topic) | Self::Cancel(topic) => topic,
        }
    }

    /// Whether this is a subscribe (not a cancel).
    #[must_use]
    pub const fn is_subscribe(&self) -> bool {
        matches!(self, Self::Subscribe(_))
    }

    /// Length of the ZMTP 3.0 message body: 1 + topic.
    #[must_use]
    pub const fn message_len(&self) -> usize {
        self.topic().len().saturating_add(1)
    }

    /// Writes the ZMTP 3.0 message body (`0x01`/`0x00` + topic). Returns the
    /// number of bytes written, [`Subscription::message_len`].
    ///
    /// # Errors
    ///
    /// [`Error::BufferTooSmall`] if `out` is shorter than
    /// [`Subscription::message_len`]; nothing is written.
    pub fn emit_message(&self, out: &mut [u8]) -> Result<usize, Error> {
        let out = out
            .get_mut(..self.message_len())
            .ok_or(Error::BufferTooSmall)?;
        let mut w = Writer::new(out);
        w.u8(match self {
            Self::Subscribe(_) => SUBSCRIBE_MESSAGE_PREFIX,
            Self::Cancel(_) => CANCEL_MESSAGE_PREFIX,
        })?;
        w.bytes(self.topic())?;
        Ok(w.len())
    }

    /// The ZMTP 3.1 command form.
    #[must_use]
    pub const fn to_command(&self) -> Command<'a> {
        match *self {
            Self::Subscribe(topic) => Command::Subscribe(topic),
            Self::Cancel(topic) => Command::Cancel(topic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::FrameRepr;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    /// The READY frame a libzmq DEALER (no routing id) sends.
    /// Source: libzmq `src/null_mechanism.cpp` `next_handshake_command`
    /// builds `\x05READY` + `add_basic_properties` (`src/mechanism.cpp`:
    /// Socket-Type, then Identity for DEALER); the frame is short because the
    /// body is <= 255 bytes (`src/v2_encoder.cpp`). The same 43 bytes are
    /// `zmtp_ready_dealer` in libzmq `tests/testutil.hpp` and in older
    /// `tests/test_heartbeats.cpp` (`4, 41, 5, 'R', ...`). The body is
    /// 6 + 22 + 13 = 41 = 0x29 bytes.
    const LIBZMQ_READY_DEALER: [u8; 43] = [
        0x04, // flags: COMMAND, short size
        0x29, // size 41
        0x05, b'R', b'E', b'A', b'D', b'Y', // name-len 5, "READY"
        0x0B, // property name length 11
        b'S', b'o', b'c', b'k', b'e', b't', b'-', b'T', b'y', b'p', b'e', // name
        0x00, 0x00, 0x00, 0x06, // value length 6
        b'D', b'E', b'A', b'L', b'E', b'R', // value
        0x08, // property name length 8
        b'I', b'd', b'e', b'n', b't', b'i', b't', b'y', // name
        0x00, 0x00, 0x00, 0x00, // value length 0: empty routing id
    ];

    /// The READY frame of a libzmq SUB, from libzmq `tests/testutil.hpp`
    /// `zmtp_ready_sub` (used by `tests/test_mock_pub_sub.cpp`): SUB sends
    /// no Identity (`add_basic_properties` adds it only for REQ, DEALER and
    /// ROUTER). Body 6 + 19 = 25 = 0x19 bytes.
    const LIBZMQ_READY_SUB: [u8; 27] = [
        0x04, // flags: COMMAND, short
        0x19, // size 25
        0x05, b'R', b'E', b'A', b'D', b'Y', // "READY"
        0x0B, b'S', b'o', b'c', b'k', b'e', b't', b'-', b'T', b'y', b'p', b'e', // name
        0x00, 0x00, 0x00, 0x03, // value length 3
        b'S', b'U', b'B', // value
    ];

    /// PING with TTL 0 and context "LOL", from libzmq
    /// `tests/test_heartbeats.cpp` (`zmtp_ping`): body 1 + 4 + 2 + 3 = 10.
    const LIBZMQ_PING: [u8; 12] = [
        0x04, // flags: COMMAND, short
        0x0A, // size 10
        0x04, b'P', b'I', b'N', b'G', // name-len 4, "PING"
        0x00, 0x00, // TTL 0 deciseconds
        b'L', b'O', b'L', // context
    ];

    /// libzmq's reply to [`LIBZMQ_PING`], from `tests/test_heartbeats.cpp`
    /// (`zmtp_pong`): body 1 + 4 + 3 = 8.
    const LIBZMQ_PONG: [u8; 10] = [
        0x04, // flags: COMMAND, short
        0x08, // size 8
        0x04, b'P', b'O', b'N', b'G', // name-len 4, "PONG"
        b'L', b'O', b'L', // echoed context
    ];

    /// ZMTP 3.1 SUBSCRIBE to "A", from libzmq `tests/test_mock_pub_sub.cpp`
    /// (`sub[13]` in `test_mock_sub(true)`): body 1 + 9 + 1 = 11.
    const LIBZMQ_SUBSCRIBE_A: [u8; 13] = [
        0x04, // flags: COMMAND, short
        0x0B, // size 11
        0x09, b'S', b'U', b'B', b'S', b'C', b'R', b'I', b'B', b'E', // "SUBSCRIBE"
        b'A', // topic
    ];

    /// ZMTP 3.0 subscribe to "A" as a data frame, from libzmq
    /// `tests/test_mock_pub_sub.cpp` (`sub[4]` in `test_mock_sub(false)`).
    const LIBZMQ_SUBSCRIBE_A_30: [u8; 4] = [
        0x00, // flags: last data frame, short
        0x02, // size 2
        0x01, // subscribe
        b'A', // topic
    ];

    fn frame_body(bytes: &[u8]) -> &[u8] {
        let (f, n) = FrameRepr::parse(bytes).unwrap().unwrap();
        assert_eq!(n, bytes.len());
        f.body
    }

    fn emit_frame_vec(c: &Command<'_>) -> Vec<u8> {
        let mut out = vec![0; c.frame_len()];
        assert_eq!(c.emit_frame(&mut out), Ok(out.len()));
        out
    }

    #[test]
    fn parse_libzmq_ready_dealer() {
        let Command::Ready(p) = Command::parse(frame_body(&LIBZMQ_READY_DEALER)).unwrap() else {
            panic!("not READY");
        };
        assert_eq!(p.get_exact(b"Socket-Type"), Some(&b"DEALER"[..]));
        assert_eq!(p.get_exact(b"Identity"), Some(&b""[..]));
    }

    #[test]
    fn emit_libzmq_ready_dealer() {
        let mut out = [0u8; 41];
        let n = emit_ready("DEALER", Some(b""), Properties::EMPTY, &mut out).unwrap();
        assert_eq!(n, 41);
        assert_eq!(ready_len("DEALER", Some(b""), Properties::EMPTY), 41);
        assert_eq!(&out[..], &LIBZMQ_READY_DEALER[2..]);
        let cmd = Command::parse(&out).unwrap();
        assert_eq!(emit_frame_vec(&cmd), LIBZMQ_READY_DEALER);
    }

    #[test]
    fn emit_libzmq_ready_sub() {
        let mut out = [0u8; 25];
        assert_eq!(emit_ready("SUB", None, Properties::EMPTY, &mut out), Ok(25));
        assert_eq!(&out[..], &LIBZMQ_READY_SUB[2..]);
        let Command::Ready(p) = Command::parse(frame_body(&LIBZMQ_READY_SUB)).unwrap() else {
            panic!("not READY");
        };
        assert_eq!(p.get(b"socket-type"), Some(&b"SUB"[..]));
        assert_eq!(p.get(b"Identity"), None);
    }

    #[test]
    fn emit_ready_with_extra_properties() {
        let extra_bytes = [
            7, b'X', b'-', b'C', b'o', b'l', b'o', b'r', 0, 0, 0, 4, b'b', b'l', b'u', b'e',
        ];
        let extra = Properties::parse(&extra_bytes).unwrap();
        let len = ready_len("ROUTER", Some(b"id"), extra);
        assert_eq!(len, 6 + 22 + 15 + 16);
        let mut out = vec![0; len];
        assert_eq!(emit_ready("ROUTER", Some(b"id"), extra, &mut out), Ok(len));
        let Command::Ready(p) = Command::parse(&out).unwrap() else {
            panic!("not READY");
        };
        let names: Vec<_> = p.iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec![&b"Socket-Type"[..], b"Identity", b"X-Color"]);
        assert_eq!(p.get(b"identity"), Some(&b"id"[..]));
        // Too small.
        assert_eq!(
            emit_ready("ROUTER", Some(b"id"), extra, &mut out[..len - 1]),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(
            emit_ready("ROUTER", None, extra, &mut [0; 5]),
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn ping_pong_golden() {
        let ping = Command::parse(frame_body(&LIBZMQ_PING)).unwrap();
        assert_eq!(
            ping,
            Command::Ping {
                ttl_ds: 0,
                context: b"LOL"
            }
        );
        assert_eq!(emit_frame_vec(&ping), LIBZMQ_PING);
        let pong = Command::parse(frame_body(&LIBZMQ_PONG)).unwrap();
        assert_eq!(pong, Command::Pong { context: b"LOL" });
        assert_eq!(emit_frame_vec(&pong), LIBZMQ_PONG);
    }

    /// libzmq `tests/test_heartbeats.cpp` also sends a PING whose size byte
    /// is patched to 65: "PING", TTL 0, "LOL" and 55 'z' (a 58-byte context,
    /// longer than RFC 37's 16). libzmq answers with a 21-byte PONG body:
    /// the context truncated to 16 bytes, "LOL" + 13 'z'.
    #[test]
    fn long_ping_context_accepted_and_truncated_pong() {
        let mut frame = vec![
            0x04, 65, 0x04, b'P', b'I', b'N', b'G', 0, 0, b'L', b'O', b'L',
        ];
        frame.extend_from_slice(&[b'z'; 55]);
        let Command::Ping { ttl_ds, context } = Command::parse(frame_body(&frame)).unwrap() else {
            panic!("not PING");
        };
        assert_eq!((ttl_ds, context.len()), (0, 58));
        let pong = Command::Pong {
            context: &context[..MAX_PING_CONTEXT_LEN],
        };
        let mut expected = vec![0x04, 21, 0x04, b'P', b'O', b'N', b'G', b'L', b'O', b'L'];
        expected.extend_from_slice(&[b'z'; 13]);
        assert_eq!(emit_frame_vec(&pong), expected);
    }

    #[test]
    fn ping_ttl_is_big_endian() {
        let body = [0x04, b'P', b'I', b'N', b'G', 0x01, 0x2C]; // TTL 300 ds = 30 s
        assert_eq!(
            Command::parse(&body),
            Ok(Command::Ping {
                ttl_ds: 300,
                context: b""
            })
        );
    }

    #[test]
    fn subscribe_golden() {
        let sub = Command::parse(frame_body(&LIBZMQ_SUBSCRIBE_A)).unwrap();
        assert_eq!(sub, Command::Subscribe(b"A"));
        assert_eq!(emit_frame_vec(&sub), LIBZMQ_SUBSCRIBE_A);
        let cancel = Command::Cancel(b"A");
        assert_eq!(emit_frame_vec(&cancel), b"\x04\x08\x06CANCELA");

        // ZMTP 3.0 form, same subscription.
        let (f, _) = FrameRepr::parse(&LIBZMQ_SUBSCRIBE_A_30).unwrap().unwrap();
        assert!(!f.command && !f.more);
        let s = Subscription::parse_message(f.body).unwrap();
        assert_eq!(s, Subscription::Subscribe(b"A"));
        assert_eq!(s.to_command(), sub);
        assert_eq!(Subscription::from_command(&sub), Some(s));
        assert_eq!(s.message_len(), 2);
        let mut out = [0; 2];
        assert_eq!(s.emit_message(&mut out), Ok(2));
        assert_eq!(out, LIBZMQ_SUBSCRIBE_A_30[2..]);
    }

    #[test]
    fn subscription_message_forms() {
        assert_eq!(
            Subscription::parse_message(b"\x00topic"),
            Some(Subscription::Cancel(b"topic"))
        );
        assert_eq!(
            Subscription::parse_message(b"\x01"),
            Some(Subscription::Subscribe(b""))
        );
        assert_eq!(Subscription::parse_message(b""), None);
        assert_eq!(Subscription::parse_message(b"\x02A"), None);
        assert_eq!(Subscription::parse_message(b"ALOL"), None);
        let c = Subscription::Cancel(b"ab");
        assert!(!c.is_subscribe());
        assert_eq!(c.topic(), b"ab");
        let mut out = [0xEE; 3];
        assert_eq!(c.emit_message(&mut out[..2]), Err(Error::BufferTooSmall));
        assert_eq!(out, [0xEE; 3]);
        assert_eq!(c.emit_message(&mut out), Ok(3));
        assert_eq!(out, [0x00, b'a', b'b']);
        assert_eq!(
            Subscription::from_command(&Command::Pong { context: b"" }),
            None
        );
    }

    #[test]
    fn error_golden() {
        // ERROR after a ZAP 400 (libzmq src/zap_client.cpp sends the status
        // code as the reason): name-len 5, "ERROR", reason-len 3, "400".
        let body = [0x05, b'E', b'R', b'R', b'O', b'R', 0x03, b'4', b'0', b'0'];
        let cmd = Command::parse(&body).unwrap();
        assert_eq!(cmd, Command::Error { reason: b"400" });
        let mut out = [0; 10];
        assert_eq!(cmd.emit(&mut out), Ok(10));
        assert_eq!(out, body);
        // Empty reason.
        assert_eq!(
            Command::parse(b"\x05ERROR\x00"),
            Ok(Command::Error { reason: b"" })
        );
    }

    #[test]
    fn reject_malformed_error() {
        assert_eq!(Command::parse(b"\x05ERROR"), Err(Error::Truncated));
        assert_eq!(Command::parse(b"\x05ERROR\x04400"), Err(Error::Truncated));
        assert_eq!(
            Command::parse(b"\x05ERROR\x02400"),
            Err(Error::TrailingBytes)
        );
        let long = [b'x'; 256];
        let cmd = Command::Error { reason: &long };
        let mut out = vec![0xEE; 300];
        assert_eq!(cmd.emit(&mut out), Err(Error::BufferTooSmall));
        assert_eq!(cmd.emit_frame(&mut out), Err(Error::BufferTooSmall));
        assert!(out.iter().all(|&b| b == 0xEE));
    }

    #[test]
    fn reject_malformed_names() {
        assert_eq!(Command::parse(b""), Err(Error::BadCommandName));
        assert_eq!(Command::parse(b"\x00"), Err(Error::BadCommandName));
        assert_eq!(Command::parse(b"\x00READY"), Err(Error::BadCommandName));
        assert_eq!(Command::parse(b"\x06READY"), Err(Error::BadCommandName));
        let empty = Command::Unknown {
            name: b"",
            data: b"",
        };
        assert_eq!(empty.emit(&mut [0; 4]), Err(Error::BadCommandName));
        let long = [b'A'; 256];
        let cmd = Command::Unknown {
            name: &long,
            data: b"",
        };
        assert_eq!(cmd.emit(&mut [0; 300]), Err(Error::BufferTooSmall));
    }

    #[test]
    fn reject_malformed_ready_and_ping() {
        // READY with one trailing byte after the properties.
        let mut body = LIBZMQ_READY_DEALER[2..].to_vec();
        body.push(0x01);
        assert_eq!(Command::parse(&body), Err(Error::Truncated));
        // READY with a property cut inside its value length.
        assert_eq!(
            Command::parse(b"\x05READY\x01a\x00\x00"),
            Err(Error::Truncated)
        );
        // PING with fewer than 2 TTL bytes.
        assert_eq!(Command::parse(b"\x04PING"), Err(Error::Truncated));
        assert_eq!(Command::parse(b"\x04PING\x00"), Err(Error::Truncated));
    }

    #[test]
    fn names_are_case_sensitive_and_unknown_kept() {
        assert_eq!(
            Command::parse(b"\x05ready"),
            Ok(Command::Unknown {
                name: b"ready",
                data: b""
            })
        );
        let hello = Command::parse(b"\x05HELLO\x05admin\x06secret").unwrap();
        assert_eq!(
            hello,
            Command::Unknown {
                name: b"HELLO",
                data: b"\x05admin\x06secret"
            }
        );
        assert_eq!(hello.name(), b"HELLO");
        // WELCOME (PLAIN) is exactly "\x07WELCOME".
        let welcome = Command::parse(b"\x07WELCOME").unwrap();
        assert_eq!(welcome.buffer_len(), 8);
        let mut out = [0; 8];
        assert_eq!(welcome.emit(&mut out), Ok(8));
        assert_eq!(&out, b"\x07WELCOME");
    }

    #[test]
    fn long_command_frame() {
        let topic = [b't'; 300];
        let cmd = Command::Subscribe(&topic);
        assert_eq!(cmd.buffer_len(), 310);
        assert_eq!(cmd.frame_len(), 319);
        let out = emit_frame_vec(&cmd);
        assert_eq!(&out[..9], &[0x06, 0, 0, 0, 0, 0, 0, 0x01, 0x36]); // COMMAND|LONG, 310
        assert_eq!(Command::parse(frame_body(&out)), Ok(cmd));
        let mut small = vec![0xEE; 318];
        assert_eq!(cmd.emit_frame(&mut small), Err(Error::BufferTooSmall));
        assert!(small.iter().all(|&b| b == 0xEE));
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    /// A valid property list, encoded.
    fn props_bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            (
                proptest::collection::vec(
                    prop_oneof![Just(b'a'), Just(b'Z'), Just(b'0'), Just(b'-'), Just(b'+')],
                    1..20,
                ),
                bytes(20),
            ),
            0..4,
        )
        .prop_map(|props| {
            let mut out = vec![0; 200];
            let mut w = PropertiesWriter::new(&mut out);
            for (n, v) in &props {
                w.add(n, v).unwrap();
            }
            let n = w.len();
            out.truncate(n);
            out
        })
    }

    /// One command variant tag with its owned parts.
    #[derive(Debug, Clone)]
    enum Owned {
        Ready(Vec<u8>),
        Error(Vec<u8>),
        Subscribe(Vec<u8>),
        Cancel(Vec<u8>),
        Ping(u16, Vec<u8>),
        Pong(Vec<u8>),
        Unknown(Vec<u8>, Vec<u8>),
    }

    fn any_owned() -> impl Strategy<Value = Owned> {
        let known: [&[u8]; 6] = [READY, ERROR, SUBSCRIBE, CANCEL, PING, PONG];
        prop_oneof![
            props_bytes().prop_map(Owned::Ready),
            bytes(256).prop_map(Owned::Error),
            bytes(300).prop_map(Owned::Subscribe),
            bytes(40).prop_map(Owned::Cancel),
            (any::<u16>(), bytes(20)).prop_map(|(t, c)| Owned::Ping(t, c)),
            bytes(20).prop_map(Owned::Pong),
            (proptest::collection::vec(any::<u8>(), 1..=255), bytes(40))
                .prop_filter("known name", move |(n, _)| !known.contains(&&n[..]))
                .prop_map(|(n, d)| Owned::Unknown(n, d)),
        ]
    }

    fn borrow(o: &Owned) -> Command<'_> {
        match o {
            Owned::Ready(b) => Command::Ready(Properties::parse(b).unwrap()),
            Owned::Error(r) => Command::Error { reason: r },
            Owned::Subscribe(t) => Command::Subscribe(t),
            Owned::Cancel(t) => Command::Cancel(t),
            Owned::Ping(t, c) => Command::Ping {
                ttl_ds: *t,
                context: c,
            },
            Owned::Pong(c) => Command::Pong { context: c },
            Owned::Unknown(n, d) => Command::Unknown { name: n, data: d },
        }
    }

    proptest! {
        #[test]
        fn emit_parse_round_trip(owned in any_owned()) {
            let cmd = borrow(&owned);
            let mut body = vec![0; cmd.buffer_len()];
            prop_assert_eq!(cmd.emit(&mut body), Ok(body.len()));
            prop_assert_eq!(Command::parse(&body), Ok(cmd));
            let frame = emit_frame_vec(&cmd);
            prop_assert_eq!(frame.len(), cmd.frame_len());
            let (f, n) = FrameRepr::parse(&frame).unwrap().unwrap();
            prop_assert!(f.command && !f.more);
            prop_assert_eq!(n, frame.len());
            prop_assert_eq!(f.body, &body[..]);
        }

        #[test]
        fn subscription_round_trip(topic in bytes(300), subscribe: bool) {
            let s = if subscribe {
                Subscription::Subscribe(&topic)
            } else {
                Subscription::Cancel(&topic)
            };
            let mut out = vec![0; s.message_len()];
            prop_assert_eq!(s.emit_message(&mut out), Ok(out.len()));
            prop_assert_eq!(Subscription::parse_message(&out), Some(s));
            let cmd = s.to_command();
            let mut body = vec![0; cmd.buffer_len()];
            cmd.emit(&mut body).unwrap();
            let parsed = Command::parse(&body).unwrap();
            prop_assert_eq!(Subscription::from_command(&parsed), Some(s));
        }

        #[test]
        fn parse_arbitrary_never_panics(buf in bytes(80), name in 0usize..7) {
            let _ = Command::parse(&buf);
            let _ = Subscription::parse_message(&buf);
            // Also arbitrary data behind each known name.
            let known: [&[u8]; 7] = [READY, ERROR, SUBSCRIBE, CANCEL, PING, PONG, b"X"];
            let mut body = vec![u8::try_from(known[name].len()).unwrap()];
            body.extend_from_slice(known[name]);
            body.extend_from_slice(&buf);
            if let Ok(cmd) = Command::parse(&body) {
                prop_assert_eq!(cmd.buffer_len(), body.len());
                let mut out = vec![0; body.len()];
                prop_assert_eq!(cmd.emit(&mut out), Ok(body.len()));
                prop_assert_eq!(out, body);
            }
        }
    }
}
