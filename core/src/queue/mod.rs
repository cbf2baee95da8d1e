//! Message storage over caller-provided memory.
//!
//! Everything here borrows a `&'a mut [u8]` from the caller, so firmware can
//! place queues in `static`s (or a `StaticCell`) and size them once. Nothing
//! allocates and nothing panics.
//!
//! - [`MsgRing`] is a ring of variable-length records (one flags byte plus a
//!   body), each stored contiguously so readers get a plain `&[u8]`. It backs
//!   per-peer message queues (RFC 23 "Message frames": a ZMTP frame is a flags
//!   byte plus a body). Records can be pushed whole or streamed in as the
//!   bytes of a frame arrive from the network.
//! - [`TopicSet`] stores counted subscription prefixes (RFC 23 / RFC 29
//!   "additive and counted"; ZMTP 3.1 SUBSCRIBE / CANCEL, RFC 37).
//!
//! # Memory model of [`MsgRing`]
//!
//! A record costs [`MsgRing::HEADER_LEN`] bytes (a little-endian `u32` body
//! length and the flags byte) plus its body: a 1-byte message costs 6 bytes,
//! an empty one 5. A body never wraps around the end of the buffer. When a
//! record does not fit in the space left at the end but does fit at the
//! start, the writer skips the tail and records where the data stops, so
//! the reader jumps to the start too. The skipped tail is counted in
//! [`MsgRing::used_bytes`] until the reader passes it. Free space can
//! therefore be split in two pieces (after the newest record and before the
//! oldest), and a record fits only if it fits in one piece: a ring that is
//! far from full can still refuse a large record. [`MsgRing::fits`] answers
//! exactly. Once the ring empties, the cursors return to the start, so an
//! empty ring accepts any body up to [`MsgRing::max_body_len`]. Records of
//! one size (header plus body) that divides the capacity fill it completely.
//!
//! # Back-pressure
//!
//! A full ring refuses the record ([`Full`]) and writes nothing. What to do
//! then is the caller's policy: a connection consumes less input so TCP
//! flow control pushes back on the peer (libzmq's receive side never drops),
//! and a PUB socket drops the message for that subscriber, as libzmq does at
//! its high-water mark. Neither structure drops anything by itself.

use core::fmt;

mod ring;
mod topic;

pub use ring::{MsgRing, Records};
pub use topic::{TopicSet, Topics, TopicsWithCounts};

/// The buffer has no room for the record or topic (nothing was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Full;

impl fmt::Display for Full {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no room in the buffer")
    }
}

impl core::error::Error for Full {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn full_displays() {
        assert_eq!(Full.to_string(), "no room in the buffer");
        let e: &dyn core::error::Error = &Full;
        assert!(e.source().is_none());
    }
}
