//! ZAP, the ZeroMQ Authentication Protocol (RFC 27), as a sans-IO hook.
//!
//! libzmq sends a ZAP request over an inproc pipe to a handler bound at
//! `inproc://zeromq.zap.01` and reads its reply (`zap_client.cpp`). Here the
//! connection only *yields* the request and *takes* the reply; who answers
//! (a closure on a board, an inproc handler in the std adapter) is the
//! driver's business:
//!
//! 1. After an input call, [`Connection::poll_zap_request`] returns a
//!    [`ZapRequest`] once per request. While it waits for the answer the
//!    connection reads no further frames (the peer's bytes stay with the
//!    driver: offer them again after answering).
//! 2. The driver answers with [`Connection::handle_zap_reply`] (a typed
//!    [`ZapReply`]), [`Connection::handle_zap_reply_frames`] (the 7 raw
//!    reply frames, checked exactly as libzmq does) or
//!    [`Connection::handle_zap_unavailable`] (no handler: what libzmq does
//!    when nothing is bound at `inproc://zeromq.zap.01`).
//!
//! When ZAP is consulted (libzmq `zap_required`): by a PLAIN server for every
//! client, by a NULL connection when [`Config::zap_domain`] is not empty.
//!
//! | reply | libzmq (`zap_client.cpp`) | here |
//! |---|---|---|
//! | status `200` | continue the handshake | same; `User-Id` and the reply's metadata join the peer's metadata |
//! | status `300` | `HANDSHAKE_FAILED_AUTH` 300, no ERROR; the connection stays open, silent, until the peer or the handshake timer ends it (see below) | same |
//! | status `400` / `500` | `HANDSHAKE_FAILED_AUTH` 400/500 and ERROR "400"/"500" (PLAIN: in libzmq's `^RROR` form, see [`wire::plain::LIBZMQ_ERROR_PREFIX`]) | same, then the connection closes once the ERROR is out |
//! | wrong frame count | `HANDSHAKE_FAILED_PROTOCOL` `ZAP_MALFORMED_REPLY` | same |
//! | delimiter not empty | `ZAP_UNSPECIFIED` | same |
//! | version not `1.0` | `ZAP_BAD_VERSION` | same |
//! | request id not `1` | `ZAP_BAD_REQUEST_ID` | same |
//! | status not `[2-5]00` | `ZAP_INVALID_STATUS_CODE` | same |
//! | metadata does not parse | `ZAP_INVALID_METADATA` | same |
//! | no handler (PLAIN) | `HANDSHAKE_FAILED_NO_DETAIL` `EFAULT` | same, via [`Connection::handle_zap_unavailable`] |
//! | no handler (NULL) | handshake goes on without ZAP | same |
//!
//!
//! After a `300` libzmq's behaviour depends on a race: its PLAIN server
//! tries to read the reply while it processes the HELLO, and if the reply is
//! already there the engine sees the failed mechanism at once and closes
//! the connection (the client then reconnects within its reconnect
//! interval); otherwise, the usual case, the reply arrives later and the
//! connection stays up until the client's handshake timer. This crate
//! always behaves as in the usual case. Either way the server reports
//! `HANDSHAKE_FAILED_AUTH` 300 and later `DISCONNECTED` without
//! `HANDSHAKE_FAILED_NO_DETAIL`.
//!
//! [`Connection::poll_zap_request`]: super::Connection::poll_zap_request
//! [`Connection::handle_zap_reply`]: super::Connection::handle_zap_reply
//! [`Connection::handle_zap_reply_frames`]: super::Connection::handle_zap_reply_frames
//! [`Connection::handle_zap_unavailable`]: super::Connection::handle_zap_unavailable
//! [`Config::zap_domain`]: super::Config::zap_domain

use crate::error::ProtocolError;
use crate::socket_type::SocketType;
use crate::wire::{self, Properties};

/// The ZAP version. RFC 27 version = "1.0".
pub const ZAP_VERSION: &[u8] = b"1.0";
/// The request id libzmq puts in every request and expects back (libzmq
/// `zap_client.cpp` `id`; one request per connection at a time).
pub const ZAP_REQUEST_ID: &[u8] = b"1";
/// Frames in a ZAP reply. RFC 27: delimiter, version, request id, status
/// code, status text, user id, metadata.
pub const ZAP_REPLY_FRAMES: usize = 7;
/// Most frames in a ZAP request: delimiter, version, request id, domain,
/// address, identity, mechanism and two credentials (RFC 27; PLAIN has two).
pub const ZAP_REQUEST_MAX_FRAMES: usize = 9;
/// Most credential frames of any mechanism this crate implements (PLAIN:
/// username and password).
pub const ZAP_MAX_CREDENTIALS: usize = 2;

/// A ZAP request waiting for its reply (RFC 27 "Request"), borrowed from the
/// connection and its [`Config`](super::Config).
///
/// The request's address frame is the peer's transport address, which only
/// the driver knows: [`ZapRequest::frames`] takes it as an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ZapRequest<'a> {
    pub(crate) domain: &'a [u8],
    pub(crate) identity: &'a [u8],
    pub(crate) mechanism: &'a [u8],
    pub(crate) credentials: [&'a [u8]; ZAP_MAX_CREDENTIALS],
    pub(crate) credential_count: usize,
}

impl<'a> ZapRequest<'a> {
    /// `ZMQ_ZAP_DOMAIN` (may be empty).
    #[must_use]
    pub const fn domain(&self) -> &'a [u8] {
        self.domain
    }

    /// The identity frame: libzmq sends its *own* socket's `ZMQ_ROUTING_ID`
    /// here (`zap_client.cpp`), not the peer's, and so does this crate.
    #[must_use]
    pub const fn identity(&self) -> &'a [u8] {
        self.identity
    }

    /// The mechanism name: `NULL` or `PLAIN`.
    #[must_use]
    pub const fn mechanism(&self) -> &'a [u8] {
        self.mechanism
    }

    /// The credential frames: none for NULL, `[username, password]` for
    /// PLAIN.
    #[must_use]
    pub fn credentials(&self) -> &[&'a [u8]] {
        self.credentials
            .get(..self.credential_count)
            .unwrap_or_default()
    }

    /// PLAIN's `(username, password)`, for a PLAIN request.
    #[must_use]
    pub fn plain_credentials(&self) -> Option<(&'a [u8], &'a [u8])> {
        if self.mechanism != wire::Mechanism::Plain.name() {
            return None;
        }
        match *self.credentials() {
            [user, pass] => Some((user, pass)),
            _ => None,
        }
    }

    /// The request as RFC 27 frames, in libzmq's order: an empty delimiter,
    /// `1.0`, request id `1`, domain, `address`, identity, mechanism, then
    /// the credentials. All but the last frame carry MORE.
    #[must_use]
    pub const fn frames<'b>(&self, address: &'b [u8]) -> ZapRequestFrames<'b>
    where
        'a: 'b,
    {
        ZapRequestFrames {
            request: ZapRequest {
                domain: self.domain,
                identity: self.identity,
                mechanism: self.mechanism,
                credentials: self.credentials,
                credential_count: self.credential_count,
            },
            address,
            next: 0,
        }
    }

    /// Number of frames of [`ZapRequest::frames`].
    #[must_use]
    pub fn frame_count(&self) -> usize {
        ZAP_REQUEST_MAX_FRAMES
            .saturating_sub(ZAP_MAX_CREDENTIALS)
            .saturating_add(self.credentials().len())
    }
}

/// The frames of a [`ZapRequest`], in order (from [`ZapRequest::frames`]).
#[derive(Debug, Clone)]
pub struct ZapRequestFrames<'b> {
    request: ZapRequest<'b>,
    address: &'b [u8],
    next: usize,
}

impl<'b> Iterator for ZapRequestFrames<'b> {
    type Item = &'b [u8];

    fn next(&mut self) -> Option<&'b [u8]> {
        let r = &self.request;
        let frame: &'b [u8] = match self.next {
            0 => b"",
            1 => ZAP_VERSION,
            2 => ZAP_REQUEST_ID,
            3 => r.domain,
            4 => self.address,
            5 => r.identity,
            6 => r.mechanism,
            n => {
                let i = n.checked_sub(7)?;
                if i >= r.credential_count {
                    return None;
                }
                r.credentials.get(i).copied()?
            }
        };
        self.next = self.next.saturating_add(1);
        Some(frame)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.request.frame_count().saturating_sub(self.next);
        (n, Some(n))
    }
}

impl ExactSizeIterator for ZapRequestFrames<'_> {}

/// A ZAP reply (RFC 27 "Reply") from the application's handler.
///
/// ```
/// use zmtp_core::conn::ZapReply;
///
/// let ok = ZapReply::ok(b"admin");
/// assert_eq!(ok.status_code, b"200");
/// let frames = ok.frames();
/// assert_eq!(frames.len(), 7);
/// assert_eq!(ZapReply::from_frames(&frames), Ok(ok));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ZapReply<'a> {
    /// Three ASCII digits: `200` (accept), `300` (temporary failure), `400`
    /// (authentication failure) or `500` (internal error). Anything else
    /// fails the handshake with `ZAP_INVALID_STATUS_CODE`.
    pub status_code: &'a [u8],
    /// Human-readable status text (not used by the connection).
    pub status_text: &'a [u8],
    /// The user id: becomes the peer's `User-Id` metadata property.
    pub user_id: &'a [u8],
    /// Extra metadata in the ZMTP property encoding (may be empty); joins
    /// the peer's metadata. Malformed metadata fails the handshake with
    /// `ZAP_INVALID_METADATA`.
    pub metadata: &'a [u8],
}

impl<'a> ZapReply<'a> {
    /// A reply with `status_code` and everything else empty.
    #[must_use]
    pub const fn new(status_code: &'a [u8]) -> Self {
        Self {
            status_code,
            status_text: b"",
            user_id: b"",
            metadata: b"",
        }
    }

    /// A `200` reply for `user_id`.
    #[must_use]
    pub const fn ok(user_id: &'a [u8]) -> Self {
        Self {
            status_code: b"200",
            status_text: b"OK",
            user_id,
            metadata: b"",
        }
    }

    /// Reads the 7 reply frames, checked in libzmq's order
    /// (`zap_client.cpp` `receive_and_process_zap_reply`). The status code
    /// and metadata are checked when the reply is handed to the connection.
    ///
    /// # Errors
    ///
    /// - [`ProtocolError::ZapMalformedReply`] unless there are exactly
    ///   [`ZAP_REPLY_FRAMES`] frames (libzmq: a wrong MORE flag);
    /// - [`ProtocolError::ZapUnspecified`] if the delimiter is not empty;
    /// - [`ProtocolError::ZapBadVersion`] if the version is not `1.0`;
    /// - [`ProtocolError::ZapBadRequestId`] if the request id is not `1`.
    pub fn from_frames(frames: &[&'a [u8]]) -> Result<Self, ProtocolError> {
        let [
            delimiter,
            version,
            id,
            status_code,
            status_text,
            user_id,
            metadata,
        ] = *frames
        else {
            return Err(ProtocolError::ZapMalformedReply);
        };
        if !delimiter.is_empty() {
            return Err(ProtocolError::ZapUnspecified);
        }
        if version != ZAP_VERSION {
            return Err(ProtocolError::ZapBadVersion);
        }
        if id != ZAP_REQUEST_ID {
            return Err(ProtocolError::ZapBadRequestId);
        }
        Ok(Self {
            status_code,
            status_text,
            user_id,
            metadata,
        })
    }

    /// The reply as the 7 RFC 27 frames, with libzmq's version and request
    /// id.
    #[must_use]
    pub const fn frames(&self) -> [&'a [u8]; ZAP_REPLY_FRAMES] {
        [
            b"",
            ZAP_VERSION,
            ZAP_REQUEST_ID,
            self.status_code,
            self.status_text,
            self.user_id,
            self.metadata,
        ]
    }
}

/// A valid ZAP status code (RFC 27 "status-code").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ZapStatus {
    /// `200`: the peer is accepted.
    Ok,
    /// `300`: temporary failure; the server closes silently and the client
    /// may retry.
    TemporaryFailure,
    /// `400`: authentication failure.
    AuthenticationFailure,
    /// `500`: internal error.
    InternalError,
}

impl ZapStatus {
    /// Parses a status code as libzmq does: exactly three bytes, `[2-5]00`.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::ZapInvalidStatusCode`] otherwise.
    pub fn parse(code: &[u8]) -> Result<Self, ProtocolError> {
        match code {
            b"200" => Ok(Self::Ok),
            b"300" => Ok(Self::TemporaryFailure),
            b"400" => Ok(Self::AuthenticationFailure),
            b"500" => Ok(Self::InternalError),
            _ => Err(ProtocolError::ZapInvalidStatusCode),
        }
    }

    /// The numeric code (the `HANDSHAKE_FAILED_AUTH` value).
    #[must_use]
    pub const fn code(self) -> u32 {
        match self {
            Self::Ok => 200,
            Self::TemporaryFailure => 300,
            Self::AuthenticationFailure => 400,
            Self::InternalError => 500,
        }
    }

    /// The three ASCII digits (the reason of the ERROR command a server
    /// sends for `400` and `500`).
    #[must_use]
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            Self::Ok => b"200",
            Self::TemporaryFailure => b"300",
            Self::AuthenticationFailure => b"400",
            Self::InternalError => b"500",
        }
    }
}

/// The driver answered a ZAP request that is not pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ZapError {
    /// No ZAP request is waiting for an answer (never asked, already
    /// answered, or the connection closed meanwhile).
    NoRequest,
}

impl core::fmt::Display for ZapError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NoRequest => "no ZAP request is pending",
        })
    }
}

impl core::error::Error for ZapError {}

/// Checks a reply's status code and metadata (libzmq order: status, then
/// metadata, read as libzmq's `parse_metadata` with the ZAP flag reads it,
/// see [`Properties::parse_with`]; every Socket-Type property is
/// checked against `ours`).
pub(crate) fn check_reply<'r>(
    reply: &ZapReply<'r>,
    ours: SocketType,
) -> Result<(ZapStatus, Properties<'r>), ProtocolError> {
    let status = ZapStatus::parse(reply.status_code)?;
    let props = Properties::parse_with(reply.metadata, |name, value| {
        name != wire::metadata::SOCKET_TYPE || ours.accepts_peer_name(value)
    })
    .map_err(|_| ProtocolError::ZapInvalidMetadata)?;
    Ok((status, props))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_as_libzmq() {
        assert_eq!(ZapStatus::parse(b"200"), Ok(ZapStatus::Ok));
        assert_eq!(ZapStatus::parse(b"300"), Ok(ZapStatus::TemporaryFailure));
        assert_eq!(
            ZapStatus::parse(b"400"),
            Ok(ZapStatus::AuthenticationFailure)
        );
        assert_eq!(ZapStatus::parse(b"500"), Ok(ZapStatus::InternalError));
        for bad in [
            &b"100"[..],
            b"600",
            b"201",
            b"20",
            b"2000",
            b"",
            b"abc",
            b"250",
        ] {
            assert_eq!(
                ZapStatus::parse(bad),
                Err(ProtocolError::ZapInvalidStatusCode),
                "{bad:?}"
            );
        }
        for s in [
            ZapStatus::Ok,
            ZapStatus::TemporaryFailure,
            ZapStatus::AuthenticationFailure,
            ZapStatus::InternalError,
        ] {
            assert_eq!(ZapStatus::parse(s.as_bytes()), Ok(s));
            assert_eq!(u32::from(s.as_bytes()[0] - b'0') * 100, s.code(), "{s:?}");
        }
    }

    #[test]
    fn reply_frames_checked_in_libzmq_order() {
        let good: [&[u8]; 7] = [b"", b"1.0", b"1", b"200", b"OK", b"admin", b""];
        assert_eq!(
            ZapReply::from_frames(&good),
            Ok(ZapReply {
                status_code: b"200",
                status_text: b"OK",
                user_id: b"admin",
                metadata: b"",
            })
        );
        assert_eq!(
            ZapReply::from_frames(&good[..6]),
            Err(ProtocolError::ZapMalformedReply)
        );
        let mut eight = good.to_vec();
        eight.push(b"");
        assert_eq!(
            ZapReply::from_frames(&eight),
            Err(ProtocolError::ZapMalformedReply)
        );
        let mut f = good;
        f[0] = b"x";
        // The delimiter is checked before the version.
        f[1] = b"2.0";
        assert_eq!(
            ZapReply::from_frames(&f),
            Err(ProtocolError::ZapUnspecified)
        );
        let mut f = good;
        f[1] = b"2.0";
        f[2] = b"2";
        assert_eq!(ZapReply::from_frames(&f), Err(ProtocolError::ZapBadVersion));
        let mut f = good;
        f[2] = b"2";
        assert_eq!(
            ZapReply::from_frames(&f),
            Err(ProtocolError::ZapBadRequestId)
        );
    }

    #[test]
    fn reply_status_and_metadata_checks() {
        let mut r = ZapReply::ok(b"u");
        assert!(check_reply(&r, SocketType::Dealer).is_ok());
        r.status_code = b"201";
        assert_eq!(
            check_reply(&r, SocketType::Dealer),
            Err(ProtocolError::ZapInvalidStatusCode)
        );
        r.status_code = b"200";
        r.metadata = b"\x01";
        assert_eq!(
            check_reply(&r, SocketType::Dealer),
            Err(ProtocolError::ZapInvalidMetadata)
        );
        // A Socket-Type in the ZAP metadata is checked like the peer's.
        r.metadata = b"\x0bSocket-Type\x00\x00\x00\x03PUB";
        assert_eq!(
            check_reply(&r, SocketType::Dealer),
            Err(ProtocolError::ZapInvalidMetadata)
        );
        assert!(check_reply(&r, SocketType::Sub).is_ok());
        // libzmq accepts a list that ends in a name without a value (the
        // name is dropped), and checks every Socket-Type, not the first.
        r.metadata = b"\x05X-abc\0\0\0\x01v\x05X-def";
        let (_, props) = check_reply(&r, SocketType::Dealer).unwrap();
        assert!(props.iter().eq([(&b"X-abc"[..], &b"v"[..])]));
        r.metadata = b"\x0bSocket-Type\x00\x00\x00\x03SUB\x0bSocket-Type\x00\x00\x00\x03PUB";
        assert_eq!(
            check_reply(&r, SocketType::Pub),
            Err(ProtocolError::ZapInvalidMetadata)
        );
        // A bad status wins over bad metadata.
        r.status_code = b"999";
        r.metadata = b"\x01";
        assert_eq!(
            check_reply(&r, SocketType::Dealer),
            Err(ProtocolError::ZapInvalidStatusCode)
        );
    }

    #[test]
    fn request_frames() {
        let req = ZapRequest {
            domain: b"global",
            identity: b"IDENT",
            mechanism: b"PLAIN",
            credentials: [b"admin", b"password"],
            credential_count: 2,
        };
        assert_eq!(
            req.plain_credentials(),
            Some((&b"admin"[..], &b"password"[..]))
        );
        let f: std::vec::Vec<&[u8]> = req.frames(b"127.0.0.1").collect();
        assert_eq!(req.frames(b"").len(), 9);
        assert_eq!(
            f.as_slice(),
            &[
                &b""[..],
                b"1.0",
                b"1",
                b"global",
                b"127.0.0.1",
                b"IDENT",
                b"PLAIN",
                b"admin",
                b"password"
            ]
        );
        let null = ZapRequest {
            domain: b"d",
            identity: b"",
            mechanism: b"NULL",
            credentials: [b"", b""],
            credential_count: 0,
        };
        assert_eq!(null.frames(b"a").len(), 7);
        assert_eq!(null.frames(b"a").count(), 7);
        assert!(null.credentials().is_empty());
        assert_eq!(null.plain_credentials(), None);
    }
}
