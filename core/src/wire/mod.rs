//! The ZMTP wire format: greetings, frames, commands and metadata.
//!
//! Implements the byte layouts of RFC 23 (ZMTP 3.0) and RFC 37 (ZMTP 3.1):
//!
//! | module | RFC 23 / RFC 37 section | what |
//! |---|---|---|
//! | [`greeting`] | "Greeting", "Version Negotiation" | the 64-byte greeting and its 10-byte signature |
//! | [`frame`] | "Framing" | flags, short and long size fields, whole frames |
//! | [`command`] | "Commands", "The NULL Security Mechanism", "Connection Heartbeating", "Subscription" | READY, ERROR, SUBSCRIBE, CANCEL, PING, PONG |
//! | [`metadata`] | "The NULL Security Mechanism" (metadata grammar), "Connection Metadata" | READY / INITIATE property lists |
//! | [`plain`] | RFC 24 "ZMTP PLAIN" | HELLO, WELCOME, INITIATE |
//! | [`curve`] | RFC 25 "ZMTP-CURVE", RFC 26 "CurveZMQ" | HELLO, WELCOME, INITIATE, READY, MESSAGE layouts |
//!
//! Everything here is pure and stateless: no clock, no configuration, no
//! state machine. Parsers borrow from the input (zero-copy) and emitters write
//! into caller-provided buffers. All parsing reads through one [`Reader`];
//! all emitting writes through one [`Writer`].
//!
//! "Need more bytes" is never an error: [`FrameRepr::parse`] returns
//! `Ok(None)` for an incomplete frame. Parsers of structures that must be
//! complete (a command body, a property list) report [`Error::Truncated`].

pub mod command;
pub mod curve;
pub mod frame;
pub mod greeting;
pub mod metadata;
pub mod plain;
pub mod reader;
pub mod writer;

pub use command::{Command, Subscription};
pub use frame::{Flags, FrameRepr};
pub use greeting::{Greeting, GreetingRepr, Mechanism};
pub use metadata::{Properties, PropertiesWriter};
pub use reader::Reader;
pub use writer::Writer;

use core::fmt;

/// A malformed byte sequence, or a value that cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The input ends inside a structure that must be complete.
    Truncated,
    /// Greeting byte 0 is not `0xFF`, or bit 0 of byte 9 is clear (a ZMTP 1.0
    /// peer).
    BadSignature,
    /// Greeting major version below 3.
    UnsupportedVersion,
    /// Reserved frame flag bits are set, or COMMAND is set together with
    /// MORE.
    BadFlags,
    /// A command name of length 0, or a name that runs past the body.
    BadCommandName,
    /// A property name of length 0, or with characters outside
    /// `[A-Za-z0-9-_.+]`.
    BadPropertyName,
    /// A property value length above 2^31-1, or a value that runs past the
    /// input.
    BadPropertyValue,
    /// Bytes are left after a structure that must end exactly.
    TrailingBytes,
    /// An emit target is too small, or a field is too long to encode.
    BufferTooSmall,
    /// A frame size above 2^63-1 (RFC 23/37 long-size) or above what this
    /// platform can address.
    TooLarge,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Self::Truncated => "input ends inside a structure",
            Self::BadSignature => "bad greeting signature (not ZMTP 2.0 or later)",
            Self::UnsupportedVersion => "unsupported ZMTP major version",
            Self::BadFlags => "reserved frame flag bits set or COMMAND with MORE",
            Self::BadCommandName => "malformed command name",
            Self::BadPropertyName => "malformed metadata property name",
            Self::BadPropertyValue => "malformed metadata property value",
            Self::TrailingBytes => "trailing bytes after a structure",
            Self::BufferTooSmall => "buffer too small or field too long to encode",
            Self::TooLarge => "frame size too large",
        };
        f.write_str(msg)
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_is_non_empty_and_distinct() {
        let all = [
            Error::Truncated,
            Error::BadSignature,
            Error::UnsupportedVersion,
            Error::BadFlags,
            Error::BadCommandName,
            Error::BadPropertyName,
            Error::BadPropertyValue,
            Error::TrailingBytes,
            Error::BufferTooSmall,
            Error::TooLarge,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(!a.to_string().is_empty());
            for b in &all[i + 1..] {
                assert_ne!(a.to_string(), b.to_string());
            }
        }
    }
}
