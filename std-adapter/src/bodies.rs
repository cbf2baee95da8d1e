//! Large frame bodies read outside the socket's lock.
//!
//! libzmq's decoder reads a large body straight into the message it
//! allocated for it and hands the message over without copying. The I/O
//! thread does the same here: for a data frame of at least
//! [`EXTERNAL_MIN`] bytes the core stops after the header
//! ([`zmtp_core::socket::Socket::handle_input_external`]), the I/O thread
//! reads the body into a buffer of its own without holding the socket's
//! lock, and hands it over under the lock; the core queues a small record
//! in its place and still applies every check of the pattern
//! (`ZMQ_RCVHWM`, `ZMQ_MAXMSGSIZE`, multipart order). A receive takes the
//! buffer as the frame: no copy into the core's receive queue, none out of
//! it, and [`crate::Socket::recv_into`] swaps it into the message and
//! gives the message's previous buffer back for the next body.
//!
//! The bodies a connection hands over are kept in the order of their
//! records. The pattern may drop records unread (a REQ drops a reply that
//! does not match, a REP a malformed request); the core counts the records
//! still queued ([`zmtp_core::socket::Socket::external_queued`]), so the
//! bodies kept beyond that count are the dropped ones, at the front.

use std::collections::VecDeque;

use zmtp_core::socket::PeerHandle;

/// The smallest body read outside the lock (smaller ones are copied
/// through the core's receive queue, which costs less than the extra read
/// a body of its own takes).
pub(crate) const EXTERNAL_MIN: usize = 16 * 1024;

/// Bytes of spare buffers kept for the next bodies (buffers the I/O
/// thread took while it ran ahead of the application come back as spares).
const SPARE_BYTES: usize = 4 * 1024 * 1024;

/// The bodies handed over per connection, and spare buffers.
#[derive(Debug, Default)]
pub(crate) struct Bodies {
    /// Per peer slot: bodies in the order of their records.
    queues: Vec<Queue>,
    spare: Spare,
}

/// One connection's bodies, and their total size.
#[derive(Debug, Default)]
struct Queue {
    bodies: VecDeque<Vec<u8>>,
    bytes: usize,
}

impl Queue {
    fn pop_front(&mut self) -> Option<Vec<u8>> {
        let b = self.bodies.pop_front()?;
        self.bytes = self.bytes.saturating_sub(b.len());
        Some(b)
    }
}

/// Buffers kept for the next bodies, and their total capacity.
#[derive(Debug, Default)]
struct Spare {
    bufs: Vec<Vec<u8>>,
    bytes: usize,
}

impl Spare {
    fn keep(&mut self, buf: Vec<u8>) {
        let bytes = self.bytes.saturating_add(buf.capacity());
        if buf.capacity() >= EXTERNAL_MIN && bytes <= SPARE_BYTES {
            self.bytes = bytes;
            self.bufs.push(buf);
        }
    }
}

impl Bodies {
    /// The smallest body `peer`'s connection leaves to the I/O thread
    /// now: [`EXTERNAL_MIN`], or 0 (none) while the bodies it keeps for
    /// it reach `budget` bytes (the receive buffer's size: large messages
    /// then wait in the core's queue, which bounds them).
    pub(crate) fn min_for(&self, peer: PeerHandle, budget: usize) -> usize {
        let queued = self.queues.get(peer.index()).map_or(0, |q| q.bytes);
        if queued < budget { EXTERNAL_MIN } else { 0 }
    }

    /// A buffer of `len` bytes to read a body into: a spare one when one
    /// is large enough (its bytes are overwritten), else a new one.
    pub(crate) fn buffer(&mut self, len: usize) -> Vec<u8> {
        let spare = &mut self.spare;
        match spare.bufs.iter().rposition(|b| b.capacity() >= len) {
            Some(i) => {
                let mut b = spare.bufs.swap_remove(i);
                spare.bytes = spare.bytes.saturating_sub(b.capacity());
                b.resize(len, 0);
                b
            }
            None => vec![0u8; len],
        }
    }

    /// Keeps `buf` for a later body if it is worth it.
    pub(crate) fn recycle(&mut self, buf: Vec<u8>) {
        self.spare.keep(buf);
    }

    /// `body` completed a record of `peer`'s; `queued` records (this one
    /// included) are in its receive queue.
    pub(crate) fn push(&mut self, peer: PeerHandle, queued: usize, body: Vec<u8>) {
        self.trim(peer, queued.saturating_sub(1));
        let i = peer.index();
        if self.queues.len() <= i {
            self.queues
                .resize_with(i.saturating_add(1), Default::default);
        }
        if let Some(q) = self.queues.get_mut(i) {
            q.bytes = q.bytes.saturating_add(body.len());
            q.bodies.push_back(body);
        }
    }

    /// The body of the record of `peer`'s just received; `queued` records
    /// are left in its receive queue.
    pub(crate) fn take(&mut self, peer: PeerHandle, queued: usize) -> Option<Vec<u8>> {
        self.trim(peer, queued.saturating_add(1));
        self.queues.get_mut(peer.index())?.pop_front()
    }

    /// Drops the bodies of `peer`'s beyond the last `keep` (records the
    /// pattern dropped unread).
    fn trim(&mut self, peer: PeerHandle, keep: usize) {
        let Some(q) = self.queues.get_mut(peer.index()) else {
            return;
        };
        // Every pass removes one body.
        while q.bodies.len() > keep {
            let Some(b) = q.pop_front() else {
                break;
            };
            self.spare.keep(b);
        }
    }

    /// `peer`'s connection is gone: its bodies go.
    pub(crate) fn forget(&mut self, peer: PeerHandle) {
        self.trim(peer, 0);
    }
}
