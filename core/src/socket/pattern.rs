//! Send and receive for each socket type (libzmq `lb.cpp`, `fq.cpp`,
//! `req.cpp`, `rep.cpp`, `router.cpp`, `dist.cpp`, `xpub.cpp`, `xsub.cpp`).

use super::peerset::PeerSet;
use super::{Peer, PeerHandle, Socket};
use crate::conn::{
    MAX_PARTS, REC_COMMAND, REC_EXTERNAL, REC_METADATA, REC_MORE, SendError as ConnSendError,
    external_len,
};
use crate::queue::MsgRing;
use crate::socket_type::SocketType;
use crate::wire::{Command, Subscription};

/// Bytes of REP's saved envelope (routing frames up to the delimiter), each
/// frame stored as a length byte plus its bytes. A request with a larger
/// envelope is dropped.
pub const ENVELOPE_CAP: usize = 256;

/// Most frames in REP's saved envelope, the delimiter included. A request
/// with more is dropped (it could not be answered to the right place).
pub const ENVELOPE_FRAMES: usize = 16;

/// Why [`Socket::send`] failed (besides `WouldBlock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SendError {
    /// This socket type cannot send (SUB, PULL) — libzmq `ENOTSUP`.
    NotSupported,
    /// Wrong moment in the pattern's state machine (REQ sending twice, REP
    /// sending before receiving) — libzmq `EFSM`.
    Efsm,
    /// A message needs at least one frame (ROUTER: the routing id).
    EmptyMessage,
    /// The message can never fit a peer's transmit buffer.
    TooLarge,
    /// More frames than a connection takes in one message.
    TooManyParts,
}

/// Why [`Socket::recv`] failed (besides `WouldBlock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RecvError {
    /// This socket type cannot receive (PUB, PUSH) — libzmq `ENOTSUP`.
    NotSupported,
    /// Wrong moment in the pattern's state machine (REQ receiving before
    /// sending, REP receiving before replying) — libzmq `EFSM`.
    Efsm,
    /// The frame is larger than the buffer; nothing was consumed.
    BufferTooSmall {
        /// The frame's length.
        needed: usize,
    },
    /// The frame's body is held by the driver (it was received with
    /// [`Connection::handle_input_external`](crate::conn::Connection::handle_input_external)):
    /// only [`Socket::recv_frame_with`] delivers it. Nothing was consumed.
    External {
        /// The frame's length.
        len: usize,
    },
}

/// A frame lent by [`Socket::recv_frame_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Frame<'a> {
    /// The frame's bytes.
    Bytes(&'a [u8]),
    /// A frame whose body the driver read into storage of its own
    /// ([`Connection::handle_input_external`](crate::conn::Connection::handle_input_external)):
    /// the oldest body it keeps for [`RecvInfo::peer`] that the
    /// connection still counts
    /// ([`Connection::external_queued`](crate::conn::Connection::external_queued),
    /// after this frame left the queue).
    External {
        /// The frame's length.
        len: usize,
    },
}

macro_rules! impl_display {
    ($t:ty, $($p:pat => $s:expr),+ $(,)?) => {
        impl core::fmt::Display for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self { $($p => f.write_str($s)),+ }
            }
        }
        impl core::error::Error for $t {}
    };
}

impl_display!(SendError,
    Self::NotSupported => "operation not supported by this socket type",
    Self::Efsm => "operation cannot be accomplished in current state",
    Self::EmptyMessage => "a message needs at least one frame",
    Self::TooLarge => "message larger than the transmit buffer",
    Self::TooManyParts => "too many message parts",
);

impl_display!(RecvError,
    Self::NotSupported => "operation not supported by this socket type",
    Self::Efsm => "operation cannot be accomplished in current state",
    Self::BufferTooSmall { .. } => "frame larger than the receive buffer",
    Self::External { .. } => "frame body held by the driver",
);

/// What [`Socket::recv`] delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RecvInfo {
    /// Bytes of the frame.
    pub len: usize,
    /// Whether more frames of the same message follow.
    pub more: bool,
    /// The peer the message came from (`None` for XPUB, whose subscription
    /// notices are the socket's own and whose upstream messages are queued
    /// together with them).
    pub peer: Option<PeerHandle>,
}

/// REP's saved envelope.
pub(crate) type Envelope = heapless::Vec<u8, ENVELOPE_CAP>;

/// Request/reply state.
#[allow(clippy::large_enum_variant)] // one per socket; boxing needs alloc
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReqRep {
    /// Free to send (REQ) or to receive (REP).
    Idle,
    /// REQ: waiting for the reply of `peer`. If the peer is `gone`, the reply
    /// can never come; like libzmq without `ZMQ_REQ_RELAXED` the socket
    /// stays in this state.
    Awaiting { peer: PeerHandle, gone: bool },
    /// REP: a request from `peer` was read; the reply goes back with its
    /// envelope (dropped if the peer is `gone`).
    Replying {
        peer: PeerHandle,
        gone: bool,
        envelope: Envelope,
    },
}

/// The message being read frame by frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reading {
    peer: PeerHandle,
    /// ROUTER: the routing id frame has not been delivered yet.
    id_pending: bool,
    /// At least one frame was delivered.
    started: bool,
    /// The peer was detached before the rest was read: the message ends
    /// with an empty frame.
    cut: bool,
}

impl Reading {
    const fn new(peer: PeerHandle, id_pending: bool) -> Self {
        Self {
            peer,
            id_pending,
            started: false,
            cut: false,
        }
    }
}

/// Pattern state of a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) reqrep: ReqRep,
    pub(crate) reading: Option<Reading>,
}

impl State {
    pub(crate) const fn new() -> Self {
        Self {
            reqrep: ReqRep::Idle,
            reading: None,
        }
    }

    /// `peer` closed: a pending reply to it can never be sent, a reply from
    /// it can still be read if it already arrived. A message being read
    /// from it can be finished (its frames stay until detach).
    pub(crate) fn forget(&mut self, peer: PeerHandle) {
        match &mut self.reqrep {
            ReqRep::Awaiting { peer: p, gone } | ReqRep::Replying { peer: p, gone, .. }
                if *p == peer =>
            {
                *gone = true;
            }
            _ => {}
        }
    }

    /// `peer`'s buffers are gone: a message half read from it is cut.
    pub(crate) fn detached(&mut self, peer: PeerHandle) {
        self.forget(peer);
        if let Some(r) = &mut self.reading
            && r.peer == peer
        {
            if r.started {
                r.cut = true;
            } else {
                self.reading = None;
            }
        }
    }
}

impl<'a, const PEERS: usize, const EVENTS: usize, const EP: usize> Socket<'a, PEERS, EVENTS, EP> {
    /// Sends one whole message (all frames or none).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no suitable peer can take it now (no ready peer,
    /// or the high-water mark or buffer is full) for the types that block;
    /// PUB, XPUB and ROUTER drop instead and return `Ok`. See [`SendError`]
    /// for the rest.
    pub fn send(&mut self, parts: &[&[u8]]) -> nb::Result<(), SendError> {
        self.send_external(parts, usize::MAX).map(|_| ())
    }

    /// [`Socket::send`] for a driver that writes large bodies from storage
    /// of its own
    /// ([`Connection::send_external`](crate::conn::Connection::send_external)):
    /// the message's frames of at least `min` bytes (not a ROUTER's routing
    /// id, nor a REP's envelope) are left to the driver when the message
    /// goes to one peer. Returns that peer and how many frames were left
    /// to it, in order; `None` when none were (the message went out
    /// copied, to several peers (PUB, XPUB, XSUB), or was dropped).
    ///
    /// # Errors
    ///
    /// As [`Socket::send`].
    pub fn send_external(
        &mut self,
        parts: &[&[u8]],
        min: usize,
    ) -> nb::Result<Option<(PeerHandle, usize)>, SendError> {
        if parts.is_empty() {
            return Err(nb::Error::Other(SendError::EmptyMessage));
        }
        // The types that drop instead of blocking would otherwise drop an
        // over-long message silently; it is the caller's error.
        let frames = match self.config.socket_type {
            SocketType::Router => parts.len().saturating_sub(1),
            _ => parts.len(),
        };
        if frames > MAX_PARTS {
            return Err(nb::Error::Other(SendError::TooManyParts));
        }
        match self.config.socket_type {
            SocketType::Sub | SocketType::Pull => Err(nb::Error::Other(SendError::NotSupported)),
            SocketType::Req if cfg!(feature = "reqrep") => {
                if self.state.reqrep != ReqRep::Idle {
                    return Err(nb::Error::Other(SendError::Efsm));
                }
                let (peer, held) = self.load_balance(&[b""], parts, min)?;
                self.state.reqrep = ReqRep::Awaiting { peer, gone: false };
                Ok(held_by(peer, held))
            }
            SocketType::Rep if cfg!(feature = "reqrep") => self.send_reply(parts, min),
            SocketType::Dealer | SocketType::Push | SocketType::Pair => self
                .load_balance(&[], parts, min)
                .map(|(peer, held)| held_by(peer, held)),
            SocketType::Router if cfg!(feature = "router") => Ok(self.send_routed(parts, min)),
            SocketType::Pub | SocketType::XPub if cfg!(feature = "pubsub") => {
                self.distribute(parts, true);
                Ok(None)
            }
            SocketType::XSub if cfg!(feature = "pubsub") => {
                if let [only] = parts
                    && let Some(sub) = Subscription::parse_message(only)
                {
                    return match sub {
                        Subscription::Subscribe(t) => self.subscribe(t),
                        Subscription::Cancel(t) => self.unsubscribe(t),
                    }
                    .map(|()| None)
                    .map_err(nb::Error::Other);
                }
                self.distribute(parts, false);
                Ok(None)
            }
            // Types whose cargo feature is off.
            _ => Err(nb::Error::Other(SendError::NotSupported)),
        }
    }

    /// Receives the next frame into `buf`.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing is waiting; see [`RecvError`] for the rest.
    pub fn recv(&mut self, buf: &mut [u8]) -> nb::Result<RecvInfo, RecvError> {
        let max = buf.len();
        let (res, info) = self.recv_with(
            |frame| {
                let dst = buf.get_mut(..frame.len())?;
                dst.copy_from_slice(frame);
                Some(())
            },
            Some(max),
        )?;
        match res {
            Some(()) => Ok(info),
            None => Err(nb::Error::Other(RecvError::BufferTooSmall {
                needed: info.len,
            })),
        }
    }

    /// Receives the next frame by lending it to `f` (zero-copy). When
    /// `max_len` is given and the frame is longer, the frame is not consumed
    /// and `f` is not called; `BufferTooSmall` is returned.
    ///
    /// # Errors
    ///
    /// As [`Socket::recv`].
    pub fn recv_with<R>(
        &mut self,
        f: impl FnOnce(&[u8]) -> R,
        max_len: Option<usize>,
    ) -> nb::Result<(R, RecvInfo), RecvError> {
        self.recv_lent(
            |frame| match frame {
                Frame::Bytes(b) => f(b),
                // Not reached: such frames are refused before `f` is called.
                Frame::External { .. } => f(&[]),
            },
            max_len,
            false,
        )
    }

    /// [`Socket::recv_with`] for a driver that reads large bodies itself
    /// ([`Connection::handle_input_external`](crate::conn::Connection::handle_input_external)):
    /// such a frame is lent as [`Frame::External`], and the driver hands
    /// over the body it keeps. `max_len` applies to its length too.
    ///
    /// # Errors
    ///
    /// As [`Socket::recv`].
    pub fn recv_frame_with<R>(
        &mut self,
        f: impl FnOnce(Frame<'_>) -> R,
        max_len: Option<usize>,
    ) -> nb::Result<(R, RecvInfo), RecvError> {
        self.recv_lent(f, max_len, true)
    }

    /// [`Socket::recv_frame_with`]; `externals` says whether the caller
    /// takes [`Frame::External`] (else such a frame is refused, unread).
    fn recv_lent<R>(
        &mut self,
        f: impl FnOnce(Frame<'_>) -> R,
        max_len: Option<usize>,
        externals: bool,
    ) -> nb::Result<(R, RecvInfo), RecvError> {
        let mut popped = PeerSet::new();
        let result = self.recv_frame(f, max_len, externals, &mut popped);
        // Reading makes room, and a connection may act on that (admit held
        // back input, or close on a frame that can never fit): report it,
        // for the peers this receive popped frames from (XPUB's receive
        // takes in every peer's subscriptions).
        if cfg!(feature = "pubsub") && self.config.socket_type == SocketType::XPub {
            self.process_all_events();
        } else {
            if let Ok((_, RecvInfo { peer: Some(p), .. })) = &result {
                self.process_events(*p);
            }
            if !popped.is_empty() {
                for i in popped.iter(PEERS) {
                    if let Ok(h) = u8::try_from(i) {
                        self.process_events(PeerHandle(h));
                    }
                }
            }
        }
        result
    }

    /// One frame for [`Socket::recv_with`]; the peers it popped frames
    /// from besides the message it returns (commands, dropped messages,
    /// envelopes) are added to `popped`: their connections may have events
    /// to process.
    fn recv_frame<R>(
        &mut self,
        f: impl FnOnce(Frame<'_>) -> R,
        max_len: Option<usize>,
        externals: bool,
        popped: &mut PeerSet,
    ) -> nb::Result<(R, RecvInfo), RecvError> {
        let st = self.config.socket_type;
        match st {
            SocketType::Pub | SocketType::Push => {
                return Err(nb::Error::Other(RecvError::NotSupported));
            }
            SocketType::XPub if cfg!(feature = "pubsub") => return self.recv_xpub(f, max_len),
            _ if !super::is_enabled(st) => return Err(nb::Error::Other(RecvError::NotSupported)),
            _ => {}
        }
        if self.state.reading.is_none() {
            match (&self.state.reqrep, st) {
                (ReqRep::Idle, SocketType::Req) if cfg!(feature = "reqrep") => {
                    return Err(nb::Error::Other(RecvError::Efsm));
                }
                (ReqRep::Replying { .. }, SocketType::Rep) if cfg!(feature = "reqrep") => {
                    return Err(nb::Error::Other(RecvError::Efsm));
                }
                _ => {}
            }
            let reading = self.select_message(popped).ok_or(nb::Error::WouldBlock)?;
            self.state.reading = Some(reading);
        }
        let Some(reading) = self.state.reading else {
            return Err(nb::Error::WouldBlock);
        };
        let peer = reading.peer;
        if reading.cut {
            // The rest of the message left with its peer's buffers: end it
            // so that the application never sees frames of two messages
            // run together.
            let info = RecvInfo {
                len: 0,
                more: false,
                peer: Some(peer),
            };
            let r = f(Frame::Bytes(&[]));
            self.message_read(peer);
            return Ok((r, info));
        }
        if reading.id_pending {
            let Some(p) = self.peer_ref(peer) else {
                self.state.reading = None;
                return Err(nb::Error::WouldBlock);
            };
            let id = p.routing_id.as_slice();
            if max_len.is_some_and(|m| id.len() > m) {
                return Err(nb::Error::Other(RecvError::BufferTooSmall {
                    needed: id.len(),
                }));
            }
            let info = RecvInfo {
                len: id.len(),
                more: true,
                peer: Some(peer),
            };
            let r = f(Frame::Bytes(id));
            self.state.reading = Some(Reading {
                id_pending: false,
                started: true,
                ..reading
            });
            return Ok((r, info));
        }
        let Some(p) = self.peer_mut(peer) else {
            self.state.reading = None;
            return Err(nb::Error::WouldBlock);
        };
        let Some((flags, body)) = p.conn.front_frame() else {
            self.state.reading = None;
            return Err(nb::Error::WouldBlock);
        };
        let (frame, len) = if flags & REC_EXTERNAL != 0 {
            let len = external_len(body);
            if !externals {
                return Err(nb::Error::Other(RecvError::External { len }));
            }
            (Frame::External { len }, len)
        } else {
            (Frame::Bytes(body), body.len())
        };
        if max_len.is_some_and(|m| len > m) {
            return Err(nb::Error::Other(RecvError::BufferTooSmall { needed: len }));
        }
        let more = flags & REC_MORE != 0;
        let info = RecvInfo {
            len,
            more,
            peer: Some(peer),
        };
        let r = f(frame);
        p.conn.pop_frame();
        if more {
            self.state.reading = Some(Reading {
                started: true,
                ..reading
            });
        } else {
            self.message_read(peer);
        }
        Ok((r, info))
    }

    /// The last frame of a message from `peer` was delivered.
    fn message_read(&mut self, peer: PeerHandle) {
        self.state.reading = None;
        self.fq_next = peer.index().saturating_add(1);
        if cfg!(feature = "reqrep")
            && self.config.socket_type == SocketType::Req
            && matches!(self.state.reqrep, ReqRep::Awaiting { .. })
        {
            self.state.reqrep = ReqRep::Idle;
        }
    }

    /// SUB/XSUB: subscribes to messages starting with `topic` (empty: all)
    /// and tells every peer. Subscriptions are counted: each call needs its
    /// own [`Socket::unsubscribe`].
    ///
    /// # Errors
    ///
    /// [`SendError::NotSupported`] for other types, [`SendError::TooLarge`]
    /// when the subscription store is full.
    pub fn subscribe(&mut self, topic: &[u8]) -> Result<(), SendError> {
        if !cfg!(feature = "pubsub")
            || !matches!(self.config.socket_type, SocketType::Sub | SocketType::XSub)
        {
            return Err(SendError::NotSupported);
        }
        self.subs
            .subscribe(topic)
            .map_err(|_| SendError::TooLarge)?;
        // libzmq's XSUB forwards every subscribe (the publisher keeps a set).
        self.send_subscription_to_all(true, topic);
        Ok(())
    }

    /// SUB/XSUB: removes one count of `topic`; peers are told when the last
    /// count goes.
    ///
    /// # Errors
    ///
    /// [`SendError::NotSupported`] for other types.
    pub fn unsubscribe(&mut self, topic: &[u8]) -> Result<(), SendError> {
        if !cfg!(feature = "pubsub")
            || !matches!(self.config.socket_type, SocketType::Sub | SocketType::XSub)
        {
            return Err(SendError::NotSupported);
        }
        if self.subs.cancel(topic) {
            self.send_subscription_to_all(false, topic);
        }
        Ok(())
    }

    // ------------------------------------------------------------------
    // Send helpers
    // ------------------------------------------------------------------

    /// Round-robin over ready peers, skipping those that cannot take the
    /// message now (libzmq `lb_t`).
    fn load_balance(
        &mut self,
        prefix: &[&[u8]],
        parts: &[&[u8]],
        min: usize,
    ) -> nb::Result<(PeerHandle, usize), SendError> {
        // `TooLarge` only when no peer could take the message later either.
        let mut too_large = false;
        let mut could_later = false;
        for i in self.attached.rotation(self.lb_next, PEERS) {
            let Some(Some(p)) = self.peers.get_mut(i) else {
                continue;
            };
            if !p.active {
                continue;
            }
            match p.conn.send_external(prefix, parts, min) {
                Ok(held) => {
                    self.lb_next = i.saturating_add(1);
                    let h = u8::try_from(i).map_err(|_| nb::Error::WouldBlock)?;
                    return Ok((PeerHandle(h), held));
                }
                Err(ConnSendError::TooLarge) => too_large = true,
                Err(ConnSendError::TooManyParts) => {
                    return Err(nb::Error::Other(SendError::TooManyParts));
                }
                Err(_) => could_later = true,
            }
        }
        if too_large && !could_later {
            Err(nb::Error::Other(SendError::TooLarge))
        } else {
            Err(nb::Error::WouldBlock)
        }
    }

    fn send_reply(
        &mut self,
        parts: &[&[u8]],
        min: usize,
    ) -> nb::Result<Option<(PeerHandle, usize)>, SendError> {
        if self.state.reading.is_some() {
            return Err(nb::Error::Other(SendError::Efsm));
        }
        let ReqRep::Replying {
            peer,
            gone,
            envelope,
        } = &self.state.reqrep
        else {
            return Err(nb::Error::Other(SendError::Efsm));
        };
        let mut sent = None;
        if !*gone {
            let peer = *peer;
            let mut frames: heapless::Vec<&[u8], ENVELOPE_FRAMES> = heapless::Vec::new();
            let mut rest = envelope.as_slice();
            while let Some((&len, tail)) = rest.split_first() {
                let Some(frame) = tail.get(..usize::from(len)) else {
                    break;
                };
                if frames.push(frame).is_err() {
                    break;
                }
                rest = tail.get(usize::from(len)..).unwrap_or_default();
            }
            if let Some(Some(p)) = self.peers.get_mut(peer.index()) {
                match p.conn.send_external(&frames, parts, min) {
                    Ok(held) => sent = held_by(peer, held),
                    // The caller's mistake: the request stays answerable.
                    Err(ConnSendError::TooLarge) => {
                        return Err(nb::Error::Other(SendError::TooLarge));
                    }
                    Err(ConnSendError::TooManyParts) => {
                        return Err(nb::Error::Other(SendError::TooManyParts));
                    }
                    // libzmq's REP sends through ROUTER logic: a full peer
                    // drops the reply.
                    _ => {}
                }
            }
        }
        self.state.reqrep = ReqRep::Idle;
        Ok(sent)
    }

    /// ROUTER: the first frame names the peer; unknown peers and full
    /// peers drop the message (libzmq without `ZMQ_ROUTER_MANDATORY`).
    fn send_routed(&mut self, parts: &[&[u8]], min: usize) -> Option<(PeerHandle, usize)> {
        let (id, body) = parts.split_first()?;
        if body.is_empty() {
            return None;
        }
        for i in self.attached.iter(PEERS) {
            let Some(Some(p)) = self.peers.get_mut(i) else {
                continue;
            };
            if p.active && p.routing_id.as_slice() == *id {
                let held = p.conn.send_external(&[], body, min).unwrap_or(0);
                return held_by(PeerHandle(u8::try_from(i).ok()?), held);
            }
        }
        None
    }

    /// PUB/XPUB (`filtered`): every subscribed peer; XSUB: every peer.
    /// Full peers miss the message.
    fn distribute(&mut self, parts: &[&[u8]], filtered: bool) {
        let first = parts.first().copied().unwrap_or_default();
        for i in self.attached.iter(PEERS) {
            let Some(Some(p)) = self.peers.get_mut(i) else {
                continue;
            };
            if !p.active || (filtered && !p.subs.matches(first)) {
                continue;
            }
            let _ = p.conn.send(parts);
        }
    }

    fn send_subscription_to_all(&mut self, subscribe: bool, topic: &[u8]) {
        for p in self.peers.iter_mut().flatten() {
            if p.active && p.conn.send_subscription(subscribe, topic).is_err() {
                warn!("subscription did not fit a peer's transmit queue");
            }
        }
    }

    // ------------------------------------------------------------------
    // Receive helpers
    // ------------------------------------------------------------------

    /// Fair-queues over peers with a complete message, dropping what the
    /// pattern discards, and strips envelopes. Returns the message to read;
    /// adds the peers it popped frames from to `popped`.
    fn select_message(&mut self, popped: &mut PeerSet) -> Option<Reading> {
        let st = self.config.socket_type;
        for i in self.attached.rotation(self.fq_next, PEERS) {
            let h = PeerHandle(u8::try_from(i).ok()?);
            // Each pass consumes a whole unit or returns: at most every
            // queued unit is looked at, so a match behind any number of
            // dropped messages is found in this call.
            let units = self
                .peers
                .get(i)
                .and_then(Option::as_ref)
                .map_or(0, |p| p.conn.queued_units());
            for _ in 0..=units {
                let Some(p) = self.peers.get_mut(i).and_then(Option::as_mut) else {
                    break;
                };
                if !p.active && !p.drain {
                    break;
                }
                let Some((flags, body)) = p.conn.front_frame() else {
                    break;
                };
                if flags & (REC_COMMAND | REC_METADATA) != 0 {
                    p.conn.pop_frame();
                    popped.insert(i);
                    continue;
                }
                match st {
                    SocketType::Sub | SocketType::XSub
                        if cfg!(feature = "pubsub") && !self.subs.matches(body) =>
                    {
                        drop_message(p);
                        popped.insert(i);
                        continue;
                    }
                    SocketType::Req if cfg!(feature = "reqrep") => {
                        let awaited =
                            matches!(self.state.reqrep, ReqRep::Awaiting { peer, .. } if peer == h);
                        // The reply must start with an empty delimiter.
                        if !awaited || !body.is_empty() || flags & REC_MORE == 0 {
                            drop_message(p);
                            popped.insert(i);
                            continue;
                        }
                        p.conn.pop_frame();
                        popped.insert(i);
                        if !p.conn.has_message() {
                            continue;
                        }
                    }
                    SocketType::Rep if cfg!(feature = "reqrep") => {
                        popped.insert(i);
                        let Some(envelope) = read_envelope(p) else {
                            continue;
                        };
                        self.state.reqrep = ReqRep::Replying {
                            peer: h,
                            gone: !p.active,
                            envelope,
                        };
                    }
                    _ => {}
                }
                return Some(Reading::new(
                    h,
                    cfg!(feature = "router") && st == SocketType::Router,
                ));
            }
        }
        None
    }

    fn recv_xpub<R>(
        &mut self,
        f: impl FnOnce(Frame<'_>) -> R,
        max_len: Option<usize>,
    ) -> nb::Result<(R, RecvInfo), RecvError> {
        let (flags, body) = self.xpub_pending.front().ok_or(nb::Error::WouldBlock)?;
        if max_len.is_some_and(|m| body.len() > m) {
            return Err(nb::Error::Other(RecvError::BufferTooSmall {
                needed: body.len(),
            }));
        }
        let info = RecvInfo {
            len: body.len(),
            more: flags & REC_MORE != 0,
            peer: None,
        };
        let r = f(Frame::Bytes(body));
        self.xpub_pending.pop();
        // Room appeared: input held back by a full queue may go on, first
        // the rest of a message already partly handed over.
        if let Some(open) = self.xpub_open {
            self.drain_subscriptions(open);
        }
        for i in self.attached.iter(PEERS) {
            if let Ok(h) = u8::try_from(i) {
                self.drain_subscriptions(PeerHandle(h));
            }
        }
        Ok((r, info))
    }

    /// PUB/XPUB: processes what waits in `peer`'s receive queue, frame by
    /// frame as libzmq's `xpub_t::xread_activated` does (every frame is
    /// checked, libzmq's default without `ZMQ_ONLY_FIRST_SUBSCRIBE`):
    ///
    /// - a subscription (3.1 SUBSCRIBE/CANCEL command, or a data frame
    ///   starting with `0x01`/`0x00`) updates the peer's topics; XPUB queues
    ///   `0x01`/`0x00` + topic for the application when the topic is new
    ///   across peers or its last subscriber cancelled (non-verbose);
    /// - any other frame is dropped by PUB and handed to the application by
    ///   XPUB with its MORE flag ("messages without a sub/unsub prefix are
    ///   also received", `zmq_socket(3)`).
    ///
    /// XPUB stops while its queue is full (the peer is back-pressured), and
    /// while another peer's message is half copied, so that messages never
    /// interleave.
    pub(crate) fn drain_subscriptions(&mut self, peer: PeerHandle) {
        let xpub = self.config.socket_type == SocketType::XPub;
        let i = peer.index();
        // Every pass pops a frame or returns, so this ends once the queue
        // is empty.
        loop {
            if self.xpub_open.is_some_and(|open| open != peer) {
                return;
            }
            let continuing = self.xpub_open == Some(peer);
            let Some((before, rest)) = self
                .peers
                .get_mut(..)
                .map(|s| s.split_at_mut(i.min(s.len())))
            else {
                return;
            };
            let Some((Some(this), after)) = rest.split_first_mut() else {
                return;
            };
            if !this.active && !continuing {
                return;
            }
            let Some((flags, body)) = this.conn.front_frame() else {
                return;
            };
            let sub = if flags & REC_COMMAND != 0 {
                match Command::parse(body) {
                    Ok(Command::Subscribe(t)) => Some(Subscription::Subscribe(t)),
                    Ok(Command::Cancel(t)) => Some(Subscription::Cancel(t)),
                    _ => None,
                }
            } else if flags & REC_METADATA != 0 {
                None
            } else {
                Subscription::parse_message(body)
            };
            let Some(sub) = sub else {
                if !xpub || flags & (REC_COMMAND | REC_METADATA) != 0 {
                    this.conn.pop_frame();
                    continue;
                }
                // Keep room for an empty closing frame, so that a message
                // cut short by its peer's close can always be ended.
                if !self.xpub_pending.fits(&[body.len(), 0]) {
                    if !self.xpub_pending.is_empty() {
                        return;
                    }
                    // Larger than the whole queue: it can never be
                    // delivered; drop the rest of the message.
                    warn!("XPUB queue too small for an upstream message");
                    drop_message(this);
                    close_open_message(&mut self.xpub_pending, &mut self.xpub_open);
                    continue;
                }
                let more = flags & REC_MORE;
                let _ = self.xpub_pending.push(more, body);
                this.conn.pop_frame();
                self.xpub_open = (more != 0).then_some(peer);
                continue;
            };
            let topic = sub.topic();
            let others = || {
                before
                    .iter()
                    .chain(after.iter())
                    .flatten()
                    .filter(|q| q.active)
            };
            let notice_len = topic.len().saturating_add(1);
            match sub {
                Subscription::Subscribe(_) => {
                    let unique =
                        !this.subs.contains(topic) && !others().any(|q| q.subs.contains(topic));
                    if xpub && unique && !self.xpub_pending.fits_one(notice_len) {
                        return;
                    }
                    // libzmq keeps one entry per pipe and topic
                    // (`mtrie_t::add`): a repeated subscribe changes nothing.
                    let added = if this.subs.contains(topic) {
                        false
                    } else {
                        this.subs.subscribe(topic).unwrap_or(false)
                    };
                    if !added && !this.subs.contains(topic) {
                        warn!("subscription store full: subscription lost");
                    }
                    if xpub && unique && added {
                        let _ = self.xpub_pending.push_parts(0, &[b"\x01", topic]);
                        self.xpub_open = None;
                    }
                }
                Subscription::Cancel(_) => {
                    let had = this.subs.contains(topic);
                    let last = had && !others().any(|q| q.subs.contains(topic));
                    if xpub && last && !self.xpub_pending.fits_one(notice_len) {
                        return;
                    }
                    if had {
                        // One cancel removes the pipe's entry (`mtrie_t::rm`).
                        while this.subs.contains(topic) {
                            if this.subs.cancel(topic) {
                                break;
                            }
                        }
                    }
                    if xpub && last {
                        let _ = self.xpub_pending.push_parts(0, &[b"\x00", topic]);
                        self.xpub_open = None;
                    }
                }
            }
            this.conn.pop_frame();
        }
    }

    /// XPUB: a peer left; topics nobody else subscribes to are reported as
    /// unsubscriptions (libzmq removes the pipe from its trie the same way).
    pub(crate) fn xpub_peer_gone(&mut self, peer: PeerHandle) {
        // A message half copied to the queue is finished if it can be, and
        // ended early with an empty frame otherwise, before any notice.
        if let Some(open) = self.xpub_open {
            self.drain_subscriptions(open);
            close_open_message(&mut self.xpub_pending, &mut self.xpub_open);
        }
        let i = peer.index();
        let Some((before, rest)) = self
            .peers
            .get_mut(..)
            .map(|s| s.split_at_mut(i.min(s.len())))
        else {
            return;
        };
        let Some((Some(this), after)) = rest.split_first_mut() else {
            return;
        };
        for topic in this.subs.iter() {
            let shared = before
                .iter()
                .chain(after.iter())
                .flatten()
                .any(|q| q.active && q.subs.contains(topic));
            if !shared && self.xpub_pending.push_parts(0, &[b"\x00", topic]).is_err() {
                warn!("XPUB queue full: unsubscription lost");
            }
        }
        this.subs.clear();
    }
}

/// XPUB: ends a message whose peer left half way through with an empty
/// frame (room for it is always kept).
fn close_open_message(pending: &mut MsgRing<'_>, open: &mut Option<PeerHandle>) {
    if open.take().is_some() && pending.push(0, b"").is_err() {
        warn!("XPUB queue full: could not end a cut message");
    }
}

/// Pops every frame of the message at the front of `p`'s receive queue.
fn drop_message<const EP: usize>(p: &mut Peer<'_, EP>) {
    while let Some((flags, _)) = p.conn.front_frame() {
        p.conn.pop_frame();
        if flags & REC_MORE == 0 {
            break;
        }
    }
}

/// REP: moves the routing frames up to and including the empty delimiter
/// into an envelope. A message without a delimiter, or with an envelope
/// larger than [`ENVELOPE_CAP`], is dropped (`None`).
fn read_envelope<const EP: usize>(p: &mut Peer<'_, EP>) -> Option<heapless::Vec<u8, ENVELOPE_CAP>> {
    let mut envelope: heapless::Vec<u8, ENVELOPE_CAP> = heapless::Vec::new();
    let mut fits = true;
    let mut count = 0usize;
    while let Some((flags, body)) = p.conn.front_frame() {
        let more = flags & REC_MORE != 0;
        if !more {
            // No delimiter before the last frame: malformed request.
            p.conn.pop_frame();
            return None;
        }
        let delimiter = body.is_empty() && flags & REC_EXTERNAL == 0;
        count = count.saturating_add(1);
        // A routing frame is short; one whose body the driver holds is not.
        fits = fits && count <= ENVELOPE_FRAMES && flags & REC_EXTERNAL == 0;
        if let Ok(len) = u8::try_from(body.len()) {
            fits = fits && envelope.push(len).is_ok() && envelope.extend_from_slice(body).is_ok();
        } else {
            fits = false;
        }
        p.conn.pop_frame();
        if delimiter {
            if fits {
                return Some(envelope);
            }
            drop_message(p);
            return None;
        }
    }
    None
}

/// `Some((peer, held))` when frames were left to the driver.
fn held_by(peer: PeerHandle, held: usize) -> Option<(PeerHandle, usize)> {
    (held > 0).then_some((peer, held))
}
