//! The consumer side of monitors: inproc monitor endpoints, their bounded
//! queues, and [`MonitorSocket`].
//!
//! A socket's monitor records events in the core's fixed queue; the adapter
//! moves them into the queue of the monitor's inproc endpoint (a
//! [`Channel`]) after every call that can produce events, on the I/O thread
//! and on the application's thread. A [`MonitorSocket`] reads that queue,
//! like the PAIR socket a libzmq application connects to the endpoint.
//!
//! # Differences from libzmq
//!
//! - libzmq's monitor socket blocks the socket's I/O thread when nobody
//!   reads (libzmq #2829, #3575, #3745). Here the endpoint queue holds up to
//!   [`CONSUMER_QUEUE_CAP`] events; further events are dropped and counted
//!   ([`MonitorSocket::dropped`]). The socket never waits for the consumer.
//! - Only the consumer side of `inproc://` exists: a [`MonitorSocket`] can
//!   read an endpoint, no other socket can connect to it.
//! - Several `MonitorSocket`s on one endpoint share its queue (each event
//!   goes to one of them).

use core::time::Duration;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant as StdInstant;

use zmtp_core::monitor::{EndpointSide, Event, EventVersion, MonitorEvent};

use crate::error::{Error, Result};
use crate::sync::lock;

/// Byte capacity of each endpoint string of a queued event.
pub(crate) const EP: usize = 128;

/// Events an endpoint queue holds before it drops (and counts) new ones.
pub const CONSUMER_QUEUE_CAP: usize = 10_000;

/// One queued event and the format of the monitor that produced it.
type Entry = (MonitorEvent<EP>, EventVersion);

#[derive(Debug, Default)]
struct ChannelState {
    queue: VecDeque<Entry>,
    dropped: u64,
    /// Whether a socket's monitor currently feeds this channel.
    owned: bool,
    /// Live `MonitorSocket`s reading this channel.
    consumers: usize,
}

/// The queue of one inproc monitor endpoint, from the moment a monitor
/// binds it (or a consumer connects first) until the monitor stops.
#[derive(Debug, Default)]
pub(crate) struct Channel {
    state: Mutex<ChannelState>,
    cond: Condvar,
}

impl Channel {
    /// Queues events (dropping and counting those that do not fit), adds
    /// `dropped` events lost earlier, and wakes readers.
    pub(crate) fn push_all(&self, events: impl IntoIterator<Item = Entry>, dropped: u64) {
        let mut st = lock(&self.state);
        st.dropped = st.dropped.saturating_add(dropped);
        let mut any = false;
        for e in events {
            if st.queue.len() < CONSUMER_QUEUE_CAP {
                st.queue.push_back(e);
                any = true;
            } else {
                st.dropped = st.dropped.saturating_add(1);
            }
        }
        drop(st);
        if any {
            self.cond.notify_all();
        }
    }

    fn pop(&self, timeout: Option<Duration>) -> Result<Entry> {
        let deadline = timeout.map(|t| StdInstant::now().checked_add(t));
        let mut st = lock(&self.state);
        loop {
            if let Some(e) = st.queue.pop_front() {
                return Ok(e);
            }
            st = match deadline {
                None | Some(None) => self
                    .cond
                    .wait(st)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
                Some(Some(at)) => {
                    let left = at.saturating_duration_since(StdInstant::now());
                    if left.is_zero() {
                        return Err(Error::WouldBlock);
                    }
                    self.cond
                        .wait_timeout(st, left)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

/// A context's inproc monitor names.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    map: Mutex<HashMap<String, Arc<Channel>>>,
}

impl Registry {
    /// A monitor binds `name`: the channel a consumer is already waiting
    /// on, or a new one.
    ///
    /// # Errors
    ///
    /// [`Error::AddrInUse`] when another live monitor uses the name.
    pub(crate) fn claim(&self, name: &str) -> Result<Arc<Channel>> {
        let mut map = lock(&self.map);
        let ch = map.entry(name.to_owned()).or_default();
        let mut st = lock(&ch.state);
        if st.owned {
            return Err(Error::AddrInUse);
        }
        st.owned = true;
        drop(st);
        Ok(Arc::clone(ch))
    }

    /// The monitor that claimed `ch` stopped: the name is free again, and
    /// the channel's consumers read what is left and nothing more.
    pub(crate) fn release(&self, name: &str, ch: &Arc<Channel>) {
        let mut map = lock(&self.map);
        lock(&ch.state).owned = false;
        if map.get(name).is_some_and(|c| Arc::ptr_eq(c, ch)) {
            map.remove(name);
        }
    }

    /// A consumer connects to `name`.
    fn connect(&self, name: &str) -> Arc<Channel> {
        let mut map = lock(&self.map);
        let ch = map.entry(name.to_owned()).or_default();
        let mut st = lock(&ch.state);
        st.consumers = st.consumers.saturating_add(1);
        drop(st);
        Arc::clone(ch)
    }

    /// A consumer goes away; a channel nobody feeds or reads is forgotten.
    fn disconnect(&self, name: &str, ch: &Arc<Channel>) {
        let mut map = lock(&self.map);
        let mut st = lock(&ch.state);
        st.consumers = st.consumers.saturating_sub(1);
        let unused = st.consumers == 0 && !st.owned;
        drop(st);
        if unused && map.get(name).is_some_and(|c| Arc::ptr_eq(c, ch)) {
            map.remove(name);
        }
    }
}

/// Parses `inproc://name` (libzmq's checks for a monitor endpoint).
pub(crate) fn inproc_name(endpoint: &str) -> Result<&str> {
    let (scheme, name) = endpoint.split_once("://").ok_or(Error::Invalid)?;
    if scheme.is_empty() || name.is_empty() {
        return Err(Error::Invalid);
    }
    if scheme != "inproc" {
        return Err(Error::ProtocolNotSupported);
    }
    Ok(name)
}

/// A typed monitor event: what [`MonitorSocket::recv_event`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorMessage {
    /// The event and its value.
    pub event: Event,
    /// The local endpoint (may be empty; version 2's local frame).
    pub local: String,
    /// The remote endpoint (may be empty; version 2's remote frame).
    pub remote: String,
    /// Which side the endpoints describe; decides [`MonitorMessage::endpoint`].
    pub side: EndpointSide,
}

impl MonitorMessage {
    /// The endpoint string of the version 1 format: the local endpoint for
    /// listener-side events, the remote one otherwise.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        match self.side {
            EndpointSide::Bind => &self.local,
            _ => &self.remote,
        }
    }

    /// The event's libzmq name (`"CONNECTED"`, ...).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.event.name()
    }

    /// The event's value (fd, errno, interval, ...).
    #[must_use]
    pub fn value(&self) -> u64 {
        self.event.value()
    }
}

/// The consumer side of an inproc monitor endpoint: what libzmq's PAIR
/// socket connected to the endpoint gives. Create it with
/// [`Context::monitor_socket`](crate::Context::monitor_socket), before or
/// after the monitor starts.
///
/// When the monitor stops (explicitly, by a restart on another endpoint, or
/// when its socket closes), this consumer receives the remaining events,
/// ending with `MONITOR_STOPPED` (if it was in the mask), and nothing after.
#[derive(Debug)]
pub struct MonitorSocket {
    registry: Arc<Registry>,
    name: String,
    channel: Arc<Channel>,
}

impl MonitorSocket {
    pub(crate) fn new(registry: Arc<Registry>, name: &str) -> Self {
        let channel = registry.connect(name);
        Self {
            registry,
            name: name.to_owned(),
            channel,
        }
    }

    /// The next event as the frames libzmq's monitor socket sends: version
    /// 1 is `[6-byte id and value, endpoint]`, version 2 is
    /// `[id, count, values..., local, remote]` (integers little-endian,
    /// which is libzmq's native order on the hosts this crate supports).
    /// `timeout` `None` waits forever.
    ///
    /// # Errors
    ///
    /// [`Error::WouldBlock`] when the timeout expires first.
    pub fn recv_raw(&self, timeout: Option<Duration>) -> Result<Vec<Vec<u8>>> {
        let (ev, version) = self.channel.pop(timeout)?;
        let raw = ev.raw(version);
        Ok(raw.frames().map(<[u8]>::to_vec).collect())
    }

    /// The next event, typed. `timeout` `None` waits forever.
    ///
    /// # Errors
    ///
    /// [`Error::WouldBlock`] when the timeout expires first.
    pub fn recv_event(&self, timeout: Option<Duration>) -> Result<MonitorMessage> {
        let (ev, _) = self.channel.pop(timeout)?;
        Ok(MonitorMessage {
            event: ev.event,
            local: ev.endpoints.local().to_owned(),
            remote: ev.endpoints.remote().to_owned(),
            side: ev.endpoints.side(),
        })
    }

    /// How many events were dropped because this endpoint's queue (or the
    /// socket's own event queue) was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        lock(&self.channel.state).dropped
    }

    /// Events waiting to be read.
    #[must_use]
    pub fn pending(&self) -> usize {
        lock(&self.channel.state).queue.len()
    }
}

impl Drop for MonitorSocket {
    fn drop(&mut self) {
        self.registry.disconnect(&self.name, &self.channel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zmtp_core::monitor::EndpointPair;

    fn ev(fd: u32) -> Entry {
        (
            MonitorEvent::new(
                Event::Listening { fd },
                EndpointPair::bind("tcp://1.2.3.4:5"),
            ),
            EventVersion::V1,
        )
    }

    #[test]
    fn claim_connect_release() {
        let reg = Arc::new(Registry::default());
        let early = MonitorSocket::new(Arc::clone(&reg), "m");
        let ch = reg.claim("m").unwrap();
        assert!(matches!(reg.claim("m"), Err(Error::AddrInUse)));
        ch.push_all([ev(3)], 0);
        let late = MonitorSocket::new(Arc::clone(&reg), "m");
        assert_eq!(late.pending(), 1);
        let m = early.recv_event(Some(Duration::ZERO)).unwrap();
        assert_eq!(m.name(), "LISTENING");
        assert_eq!(m.value(), 3);
        assert_eq!(m.endpoint(), "tcp://1.2.3.4:5");
        reg.release("m", &ch);
        // A new monitor on the same name gets a new channel.
        let ch2 = reg.claim("m").unwrap();
        ch2.push_all([ev(4)], 0);
        assert!(matches!(
            early.recv_event(Some(Duration::from_millis(1))),
            Err(Error::WouldBlock)
        ));
        let fresh = MonitorSocket::new(Arc::clone(&reg), "m");
        let raw = fresh.recv_raw(Some(Duration::ZERO)).unwrap();
        assert_eq!(raw[0], [8, 0, 4, 0, 0, 0]);
        assert_eq!(raw[1], b"tcp://1.2.3.4:5");
        drop((early, late, fresh));
        reg.release("m", &ch2);
        assert!(lock(&reg.map).is_empty());
    }

    #[test]
    fn bounded_queue_counts_drops() {
        let ch = Channel::default();
        ch.push_all((0..CONSUMER_QUEUE_CAP as u32 + 5).map(ev), 2);
        let st = lock(&ch.state);
        assert_eq!(st.queue.len(), CONSUMER_QUEUE_CAP);
        assert_eq!(st.dropped, 7);
    }

    #[test]
    fn inproc_names() {
        assert_eq!(inproc_name("inproc://a").unwrap(), "a");
        assert!(matches!(inproc_name("inproc://"), Err(Error::Invalid)));
        assert!(matches!(inproc_name("a"), Err(Error::Invalid)));
        assert!(matches!(
            inproc_name("tcp://1.2.3.4:5"),
            Err(Error::ProtocolNotSupported)
        ));
    }
}
