//! Errors shared across layers.
//!
//! [`ProtocolError`] is "the peer broke ZMTP": one variant per libzmq
//! `ZMQ_PROTOCOL_ERROR_*` code, which is the value of a
//! `HANDSHAKE_FAILED_PROTOCOL` monitor event.

use core::fmt;

/// The peer violated the protocol. Each variant maps 1:1 to a libzmq
/// `ZMQ_PROTOCOL_ERROR_*` code (see [`ProtocolError::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ProtocolError {
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED` (0x10000000).
    ZmtpUnspecified,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND` (0x10000001).
    ZmtpUnexpectedCommand,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE` (0x10000002).
    ZmtpInvalidSequence,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE` (0x10000003).
    ZmtpKeyExchange,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED` (0x10000011).
    ZmtpMalformedCommandUnspecified,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE` (0x10000012).
    ZmtpMalformedCommandMessage,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO` (0x10000013).
    ZmtpMalformedCommandHello,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE` (0x10000014).
    ZmtpMalformedCommandInitiate,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR` (0x10000015).
    ZmtpMalformedCommandError,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY` (0x10000016).
    ZmtpMalformedCommandReady,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME` (0x10000017).
    ZmtpMalformedCommandWelcome,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA` (0x10000018).
    ZmtpInvalidMetadata,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC` (0x11000001).
    ZmtpCryptographic,
    /// `ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH` (0x11000002).
    ZmtpMechanismMismatch,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED` (0x20000000).
    ZapUnspecified,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY` (0x20000001).
    ZapMalformedReply,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID` (0x20000002).
    ZapBadRequestId,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION` (0x20000003).
    ZapBadVersion,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE` (0x20000004).
    ZapInvalidStatusCode,
    /// `ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA` (0x20000005).
    ZapInvalidMetadata,
    /// `ZMQ_PROTOCOL_ERROR_WS_UNSPECIFIED` (0x30000000).
    WsUnspecified,
}

impl ProtocolError {
    /// Every variant, in code order.
    pub const ALL: [Self; 21] = [
        Self::ZmtpUnspecified,
        Self::ZmtpUnexpectedCommand,
        Self::ZmtpInvalidSequence,
        Self::ZmtpKeyExchange,
        Self::ZmtpMalformedCommandUnspecified,
        Self::ZmtpMalformedCommandMessage,
        Self::ZmtpMalformedCommandHello,
        Self::ZmtpMalformedCommandInitiate,
        Self::ZmtpMalformedCommandError,
        Self::ZmtpMalformedCommandReady,
        Self::ZmtpMalformedCommandWelcome,
        Self::ZmtpInvalidMetadata,
        Self::ZmtpCryptographic,
        Self::ZmtpMechanismMismatch,
        Self::ZapUnspecified,
        Self::ZapMalformedReply,
        Self::ZapBadRequestId,
        Self::ZapBadVersion,
        Self::ZapInvalidStatusCode,
        Self::ZapInvalidMetadata,
        Self::WsUnspecified,
    ];

    /// The libzmq `ZMQ_PROTOCOL_ERROR_*` value (libzmq `include/zmq.h`).
    #[must_use]
    pub const fn code(self) -> u32 {
        match self {
            Self::ZmtpUnspecified => 0x1000_0000,
            Self::ZmtpUnexpectedCommand => 0x1000_0001,
            Self::ZmtpInvalidSequence => 0x1000_0002,
            Self::ZmtpKeyExchange => 0x1000_0003,
            Self::ZmtpMalformedCommandUnspecified => 0x1000_0011,
            Self::ZmtpMalformedCommandMessage => 0x1000_0012,
            Self::ZmtpMalformedCommandHello => 0x1000_0013,
            Self::ZmtpMalformedCommandInitiate => 0x1000_0014,
            Self::ZmtpMalformedCommandError => 0x1000_0015,
            Self::ZmtpMalformedCommandReady => 0x1000_0016,
            Self::ZmtpMalformedCommandWelcome => 0x1000_0017,
            Self::ZmtpInvalidMetadata => 0x1000_0018,
            Self::ZmtpCryptographic => 0x1100_0001,
            Self::ZmtpMechanismMismatch => 0x1100_0002,
            Self::ZapUnspecified => 0x2000_0000,
            Self::ZapMalformedReply => 0x2000_0001,
            Self::ZapBadRequestId => 0x2000_0002,
            Self::ZapBadVersion => 0x2000_0003,
            Self::ZapInvalidStatusCode => 0x2000_0004,
            Self::ZapInvalidMetadata => 0x2000_0005,
            Self::WsUnspecified => 0x3000_0000,
        }
    }

    /// The variant for a libzmq code, or `None` for a code libzmq does not
    /// define.
    #[must_use]
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }

    /// libzmq's name for the code, without the `ZMQ_PROTOCOL_ERROR_` prefix.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::ZmtpUnspecified => "ZMTP_UNSPECIFIED",
            Self::ZmtpUnexpectedCommand => "ZMTP_UNEXPECTED_COMMAND",
            Self::ZmtpInvalidSequence => "ZMTP_INVALID_SEQUENCE",
            Self::ZmtpKeyExchange => "ZMTP_KEY_EXCHANGE",
            Self::ZmtpMalformedCommandUnspecified => "ZMTP_MALFORMED_COMMAND_UNSPECIFIED",
            Self::ZmtpMalformedCommandMessage => "ZMTP_MALFORMED_COMMAND_MESSAGE",
            Self::ZmtpMalformedCommandHello => "ZMTP_MALFORMED_COMMAND_HELLO",
            Self::ZmtpMalformedCommandInitiate => "ZMTP_MALFORMED_COMMAND_INITIATE",
            Self::ZmtpMalformedCommandError => "ZMTP_MALFORMED_COMMAND_ERROR",
            Self::ZmtpMalformedCommandReady => "ZMTP_MALFORMED_COMMAND_READY",
            Self::ZmtpMalformedCommandWelcome => "ZMTP_MALFORMED_COMMAND_WELCOME",
            Self::ZmtpInvalidMetadata => "ZMTP_INVALID_METADATA",
            Self::ZmtpCryptographic => "ZMTP_CRYPTOGRAPHIC",
            Self::ZmtpMechanismMismatch => "ZMTP_MECHANISM_MISMATCH",
            Self::ZapUnspecified => "ZAP_UNSPECIFIED",
            Self::ZapMalformedReply => "ZAP_MALFORMED_REPLY",
            Self::ZapBadRequestId => "ZAP_BAD_REQUEST_ID",
            Self::ZapBadVersion => "ZAP_BAD_VERSION",
            Self::ZapInvalidStatusCode => "ZAP_INVALID_STATUS_CODE",
            Self::ZapInvalidMetadata => "ZAP_INVALID_METADATA",
            Self::WsUnspecified => "WS_UNSPECIFIED",
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "protocol error {} (0x{:08x})", self.name(), self.code())
    }
}

impl core::error::Error for ProtocolError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for e in ProtocolError::ALL {
            assert_eq!(ProtocolError::from_code(e.code()), Some(e));
        }
        assert_eq!(ProtocolError::from_code(0x1000_0010), None);
        assert_eq!(ProtocolError::ZmtpMechanismMismatch.code(), 0x1100_0002);
        assert_eq!(ProtocolError::ZmtpInvalidMetadata.code(), 0x1000_0018);
    }
}
