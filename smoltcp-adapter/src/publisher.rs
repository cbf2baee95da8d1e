//! Remote monitoring: a socket's monitor events published over ZMTP, so a
//! desktop can watch a board that has no second process to read an inproc
//! monitor.
//!
//! A [`MonitorPublisher`] wraps a [`ZmtpSocket`] of type XPUB with its own
//! listening port. Every event handed to it is sent as libzmq's version 2
//! monitor message (frames: `u64` id, `u64` value count, the `u64` values,
//! local endpoint, remote endpoint; integers little-endian), exactly what a
//! libzmq PUB monitor socket (`zmq_socket_monitor_versioned(s, ep, mask, 2,
//! ZMQ_PUB)`) sends. A subscriber (libzmq, pyzmq, or this crate's SUB)
//! decodes it with the same rules: the topic is the first frame, the 8-byte
//! event id, so subscribe to `""` or to the id's leading bytes (low byte
//! first).
//!
//! ## Never blocking
//!
//! - Events wait in a backlog of `BACKLOG` events while nobody has
//!   subscribed yet (so the events of the boot, such as LISTENING, reach
//!   the first subscriber) and while every subscriber's queue is full. A
//!   full backlog drops the new event and counts it.
//! - An event that some subscribers can take and others cannot (their
//!   transmit queue is full: a slow reader) goes to those that can; it is
//!   counted as dropped once.
//!
//! [`MonitorPublisher::dropped`] is the sum of both counts.
//!
//! XPUB rather than PUB: the publisher learns of subscriptions from XPUB's
//! notices, so it holds events until a subscription exists instead of
//! sending them into the void while a subscriber is still joining.
//! Subscribers cannot tell the difference (SUB talks to XPUB as to PUB).

use smoltcp::iface::{Interface, SocketSet};
use smoltcp::time::Instant as NetInstant;
use smoltcp::wire::IpListenEndpoint;
use zmtp_core::monitor::{EventQueue, EventVersion, Monitor, MonitorEvent, RawMessage};
use zmtp_core::socket_type::SocketType;

use crate::socket::{BindError, Drive, ZmtpSocket};

/// Frames of a version 2 message of a known event: id, count, up to two
/// values, local, remote.
const MAX_FRAMES: usize = 6;
/// XPUB notices read per service call.
const MAX_NOTICES: usize = 64;

/// The frames of `raw` (a version 2 message has at most [`MAX_FRAMES`]).
fn frames<'m>(raw: &'m RawMessage<'_>) -> heapless::Vec<&'m [u8], MAX_FRAMES> {
    let mut parts = heapless::Vec::new();
    for f in raw.frames() {
        if parts.push(f).is_err() {
            break;
        }
    }
    parts
}

/// [`MonitorPublisher::new`] needs an XPUB socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NotXPub;

impl core::fmt::Display for NotXPub {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a monitor publisher needs an XPUB socket")
    }
}

impl core::error::Error for NotXPub {}

/// Publishes monitor events (version 2 layout) on an XPUB socket; see the
/// [module docs](self).
///
/// `PEERS` subscribers at once, a backlog of `BACKLOG` events, endpoint
/// strings of up to `EP` bytes (the same `EP` as the monitored socket),
/// and `EVENTS` for the publisher's own monitor queue.
#[derive(Debug)]
pub struct MonitorPublisher<
    'a,
    const PEERS: usize,
    const BACKLOG: usize = 16,
    const EP: usize = 64,
    const EVENTS: usize = 4,
> {
    inner: ZmtpSocket<'a, PEERS, EVENTS, EP>,
    backlog: EventQueue<BACKLOG, EP>,
    /// Distinct topics subscribed across subscribers (XPUB notices).
    topics: u32,
    /// Events some subscriber missed because its queue was full.
    missed: u64,
    published: u64,
    /// Inside a multi-frame message from a subscriber (only first frames
    /// are notices).
    in_message: bool,
}

impl<'a, const PEERS: usize, const BACKLOG: usize, const EP: usize, const EVENTS: usize>
    MonitorPublisher<'a, PEERS, BACKLOG, EP, EVENTS>
{
    /// Wraps `inner`, an XPUB socket (its core socket needs an `aux`
    /// buffer for the subscription notices: a few bytes per topic). Bind it
    /// with [`MonitorPublisher::bind`].
    ///
    /// # Errors
    ///
    /// [`NotXPub`] if `inner` is not an XPUB socket.
    pub fn new(inner: ZmtpSocket<'a, PEERS, EVENTS, EP>) -> Result<Self, NotXPub> {
        if inner.socket().socket_type() != SocketType::XPub {
            return Err(NotXPub);
        }
        Ok(Self {
            inner,
            backlog: EventQueue::new(),
            topics: 0,
            missed: 0,
            published: 0,
            in_message: false,
        })
    }

    /// Listens for subscribers ([`ZmtpSocket::bind`]).
    ///
    /// # Errors
    ///
    /// As [`ZmtpSocket::bind`].
    pub fn bind(
        &mut self,
        endpoint: impl Into<IpListenEndpoint>,
        sockets: &mut SocketSet<'a>,
    ) -> Result<IpListenEndpoint, BindError> {
        self.inner.bind(endpoint, sockets)
    }

    /// The XPUB socket.
    #[must_use]
    pub fn inner(&self) -> &ZmtpSocket<'a, PEERS, EVENTS, EP> {
        &self.inner
    }

    /// The XPUB socket (its options, its own monitor).
    pub fn inner_mut(&mut self) -> &mut ZmtpSocket<'a, PEERS, EVENTS, EP> {
        &mut self.inner
    }

    /// Queues one event for publication. Returns `false` if the backlog
    /// was full: the event is dropped and counted.
    pub fn publish(&mut self, event: MonitorEvent<EP>) -> bool {
        self.backlog.push(event)
    }

    /// Moves every event queued in `monitor` (another socket's monitor) to
    /// the backlog; returns how many were moved (dropped ones included).
    /// Use [`MonitorPublisher::publish`] instead to also look at each
    /// event (to log it, for example).
    pub fn forward<const N: usize>(&mut self, monitor: &mut Monitor<N, EP>) -> usize {
        let mut moved = 0usize;
        // Each pass removes one event; the queue holds at most N.
        for _ in 0..N {
            let Some(ev) = monitor.pop() else { break };
            self.publish(ev);
            moved = moved.saturating_add(1);
        }
        moved
    }

    /// Whether at least one subscription exists.
    #[must_use]
    pub fn is_subscribed(&self) -> bool {
        self.topics > 0
    }

    /// Events waiting in the backlog.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.backlog.len()
    }

    /// Events sent to at least one subscriber.
    #[must_use]
    pub fn published(&self) -> u64 {
        self.published
    }

    /// Events lost: dropped by a full backlog, plus events that at least
    /// one subscriber missed because its queue was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.backlog.dropped().saturating_add(self.missed)
    }

    /// Reads XPUB's subscription notices (`0x01` + topic, `0x00` + topic).
    fn read_notices(&mut self) {
        for _ in 0..MAX_NOTICES {
            let socket = self.inner.socket_mut();
            let Ok((first, info)) = socket.recv_with(|f| f.first().copied(), None) else {
                break;
            };
            if !self.in_message {
                match first {
                    Some(1) => self.topics = self.topics.saturating_add(1),
                    Some(0) => self.topics = self.topics.saturating_sub(1),
                    _ => {}
                }
            }
            self.in_message = info.more;
        }
    }

    /// Whether the front event can go to at least one subscriber now:
    /// `(ready subscribers, subscribers with room)`.
    fn room_for(&self, parts: &[&[u8]]) -> (usize, usize) {
        let socket = self.inner.socket();
        let mut ready = 0usize;
        let mut room = 0usize;
        for h in socket.peers() {
            if let Some(c) = socket.peer(h)
                && c.is_ready()
            {
                ready = ready.saturating_add(1);
                if c.can_send_message(parts) {
                    room = room.saturating_add(1);
                }
            }
        }
        (ready, room)
    }

    /// Sends backlog events while a subscription exists and some
    /// subscriber has room.
    fn flush_backlog(&mut self) {
        if self.topics == 0 {
            return;
        }
        for _ in 0..BACKLOG {
            let sent = {
                let Some(ev) = self.backlog.peek() else { break };
                let raw: RawMessage<'_> = ev.raw(EventVersion::V2);
                let parts = frames(&raw);
                let (ready, room) = self.room_for(&parts);
                if room > 0 {
                    // XPUB never blocks: it queues for every matching
                    // subscriber with room.
                    let _ = self.inner.socket_mut().send(&parts);
                }
                (room > 0).then_some(room < ready)
            };
            let Some(missed_by_some) = sent else { break };
            if missed_by_some {
                self.missed = self.missed.saturating_add(1);
            }
            self.backlog.pop();
            self.published = self.published.saturating_add(1);
        }
    }

    /// Whether an event waits and could be sent now.
    fn can_flush(&self) -> bool {
        if self.topics == 0 {
            return false;
        }
        let Some(ev) = self.backlog.peek() else {
            return false;
        };
        let raw = ev.raw(EventVersion::V2);
        let parts = frames(&raw);
        self.room_for(&parts).1 > 0
    }
}

impl<'a, const PEERS: usize, const BACKLOG: usize, const EP: usize, const EVENTS: usize> Drive<'a>
    for MonitorPublisher<'a, PEERS, BACKLOG, EP, EVENTS>
{
    fn service(&mut self, now: NetInstant, iface: &mut Interface, sockets: &mut SocketSet<'a>) {
        self.inner.service(now, iface, sockets);
        self.read_notices();
        self.flush_backlog();
        // Push what was just queued into the TCP sockets.
        self.inner.service(now, iface, sockets);
    }

    fn poll_at(&self, now: NetInstant, sockets: &SocketSet<'a>) -> Option<NetInstant> {
        if self.can_flush() {
            return Some(now);
        }
        self.inner.poll_at(now, sockets)
    }
}
