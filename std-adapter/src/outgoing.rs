//! Large frame bodies sent from buffers of their own.
//!
//! libzmq copies a message once, into the `zmq_msg_t` that `zmq_send`
//! makes, and its encoder writes a large body straight from that message.
//! A send does the same here: a frame of at least [`SEND_MIN`] bytes is
//! copied into a buffer of its own before the socket's lock is taken, the
//! core queues a small record holding its length in its place
//! ([`zmtp_core::socket::Socket::send_external`], which applies
//! `ZMQ_SNDHWM` and the transmit buffer's size as if the body were
//! queued), and the buffer waits here, beside the connection's records,
//! until the I/O thread takes it and writes it with the lock released (or
//! the application thread writes it at once, [`crate::io::send_direct`]).
//! Nothing copies the body a second time, and no copy happens under the
//! lock.
//!
//! Written buffers come back as spares for the next sends, so a steady
//! stream of large messages does not allocate.
//!
//! The first send after a receive that waited (a request after its reply,
//! a reply after its request) does not copy first: when its connection's
//! transmit side is idle, the application thread writes the message
//! straight from the caller's buffers, and only what the transport did not
//! take is copied here, before the send returns ([`crate::io::send_lent`]). A send in a
//! stream copies before the lock as above, and leaves the writing to the
//! I/O thread, which batches it (over TCP loopback a 64 KiB write per
//! message carries half of what batched writes do).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use zmtp_core::socket::PeerHandle;

use crate::sync::lock;

/// The smallest frame sent from a buffer of its own (smaller ones are
/// copied into the core's transmit queue, and batched with their
/// neighbours into large writes).
pub(crate) const SEND_MIN: usize = 16 * 1024;

/// Bytes of spare buffers kept for the next sends.
const SPARE_BYTES: usize = 4 * 1024 * 1024;

/// Buffers kept for the next large frames, shared by the application
/// thread (which fills them before it takes the socket's lock) and the I/O
/// thread (which gives them back once written).
#[derive(Debug, Default)]
pub(crate) struct Spares(Mutex<SpareList>);

#[derive(Debug, Default)]
struct SpareList {
    bufs: Vec<Vec<u8>>,
    /// Their total capacity.
    bytes: usize,
    /// Copies made (for tests).
    #[cfg(test)]
    copies: usize,
}

impl Spares {
    /// A copy of `frame` in a buffer of its own: a spare one when one is
    /// large enough, else a new one.
    pub(crate) fn copy(&self, frame: &[u8]) -> Vec<u8> {
        let spare = {
            let mut list = lock(&self.0);
            #[cfg(test)]
            {
                list.copies = list.copies.saturating_add(1);
            }
            let found = list.bufs.iter().rposition(|b| b.capacity() >= frame.len());
            found.map(|i| {
                let b = list.bufs.swap_remove(i);
                list.bytes = list.bytes.saturating_sub(b.capacity());
                b
            })
        };
        let mut buf = spare.unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(frame);
        buf
    }

    /// How many copies [`Spares::copy`] made.
    #[cfg(test)]
    pub(crate) fn copies(&self) -> usize {
        lock(&self.0).copies
    }

    /// Keeps `buf` for a later frame if it is worth it.
    pub(crate) fn give(&self, buf: Vec<u8>) {
        if buf.capacity() < SEND_MIN {
            return;
        }
        let mut list = lock(&self.0);
        let bytes = list.bytes.saturating_add(buf.capacity());
        if bytes <= SPARE_BYTES {
            list.bytes = bytes;
            list.bufs.push(buf);
        }
    }
}

/// The bodies of each connection's queued frames, in the order of their
/// records in the core's transmit queue, and where they go once written.
#[derive(Debug)]
pub(crate) struct Outgoing {
    queues: Vec<VecDeque<Vec<u8>>>,
    spares: Arc<Spares>,
}

impl Outgoing {
    /// No bodies yet; written ones go to `spares`.
    pub(crate) fn new(spares: Arc<Spares>) -> Self {
        Self {
            queues: Vec::new(),
            spares,
        }
    }

    /// Queues `body` behind `peer`'s others.
    pub(crate) fn push(&mut self, peer: PeerHandle, body: Vec<u8>) {
        let i = peer.index();
        if self.queues.len() <= i {
            self.queues
                .resize_with(i.saturating_add(1), Default::default);
        }
        if let Some(q) = self.queues.get_mut(i) {
            q.push_back(body);
        }
    }

    /// Queues a copy of `frame` (in a spare buffer when there is one)
    /// behind `peer`'s others.
    pub(crate) fn push_copy(&mut self, peer: PeerHandle, frame: &[u8]) {
        let body = self.spares.copy(frame);
        self.push(peer, body);
    }

    /// `peer`'s oldest body (the one the core's front record refers to).
    pub(crate) fn front(&self, peer: PeerHandle) -> Option<&[u8]> {
        self.queues.get(peer.index())?.front().map(Vec::as_slice)
    }

    /// Takes `peer`'s oldest body.
    pub(crate) fn pop(&mut self, peer: PeerHandle) -> Option<Vec<u8>> {
        self.queues.get_mut(peer.index())?.pop_front()
    }

    /// `peer`'s oldest body is written: its buffer becomes a spare.
    pub(crate) fn written(&mut self, peer: PeerHandle) {
        if let Some(b) = self.pop(peer) {
            self.spares.give(b);
        }
    }

    /// `peer`'s connection is gone: its bodies become spares.
    pub(crate) fn forget(&mut self, peer: PeerHandle) {
        if let Some(q) = self.queues.get_mut(peer.index()) {
            for b in q.drain(..) {
                self.spares.give(b);
            }
        }
    }
}
