//! ZeroMQ socket patterns over a fixed number of peers (RFC 28 REQ/REP,
//! RFC 29 PUB/SUB, RFC 30 PIPELINE, RFC 31 PAIR; libzmq `src/*.cpp` for the
//! details RFCs leave open).
//!
//! A [`Socket`] owns up to `PEERS` [`Connection`]s, addressed by
//! [`PeerHandle`]s, and the socket's [`Monitor`]. The adapter owns the
//! transports: when one connects or is accepted it records `CONNECTED` /
//! `ACCEPTED` on [`Socket::monitor_mut`] and calls [`Socket::attach`]; then
//! it drives every peer with [`Socket::handle_input`],
//! [`Socket::poll_transmit`], [`Socket::handle_timeout`] and
//! [`Socket::poll_closed`]. The socket raises the engine's monitor events
//! (`HANDSHAKE_*`, `DISCONNECTED`) itself, with the endpoints given at attach.
//!
//! The application calls [`Socket::send`] and [`Socket::recv`], which follow
//! the `nb` convention: `WouldBlock` means "try again after more I/O".
//!
//! A peer whose handshake consults ZAP (a PLAIN server, or NULL with a ZAP
//! domain; see [`crate::conn::zap`]) raises a request that the adapter picks
//! up with [`Socket::poll_zap_request`] and answers with
//! [`Socket::handle_zap_reply`] (or its raw-frame and no-handler variants).
//!
//! | type | send | recv | when a peer's queue is full |
//! |---|---|---|---|
//! | PAIR | to the one peer | from the one peer | `WouldBlock` |
//! | DEALER, PUSH | round-robin over ready peers | fair-queued (DEALER) | skip the peer; `WouldBlock` if all are full |
//! | REQ | round-robin, adds the empty delimiter; strict send/recv alternation | only from the peer asked, delimiter removed | `WouldBlock` |
//! | REP | to the peer that asked, with its envelope | fair-queued, envelope kept | reply dropped |
//! | ROUTER | to the peer named by the first frame | fair-queued, routing id frame prepended | dropped |
//! | PUB, XPUB | to every peer whose subscription prefixes the first frame | XPUB: subscription notices, then what peers send without a subscription prefix | dropped for that peer |
//! | SUB, XSUB | XSUB: subscription messages and others to all peers | fair-queued, filtered by prefix | — |
//! | PULL | — | fair-queued | — |
//!
//! Only peers whose handshake finished take part (libzmq's `ZMQ_IMMEDIATE`
//! behaviour): a DEALER with no ready peer returns `WouldBlock` rather than
//! queueing for a future peer. A ROUTER peer announcing a routing id that
//! another peer already uses is ignored but stays connected, as in libzmq
//! without `ZMQ_ROUTER_HANDOVER`; a second PAIR peer is closed.
//!
//! Messages a peer sent before its connection failed stay readable until
//! [`Socket::detach`] (libzmq reads a pipe up to its end); after
//! [`Socket::close_peer`] (libzmq `zmq_disconnect`) they are dropped. A
//! message is always delivered whole: one the application is half way
//! through when its peer is detached ends with an empty frame.
//!
//! ## Peer metadata
//!
//! By default a peer's metadata (its READY / INITIATE properties, and what
//! a ZAP handler said about it) is read when its handshake succeeds, for
//! the routing id, and then dropped: the socket keeps nothing per peer for
//! it. An adapter that exposes the metadata to applications (libzmq's
//! `zmq_msg_gets`) turns on [`Socket::set_hold_metadata`]: the record then
//! stays at the front of the peer's receive queue, and the peer takes no
//! part in the pattern (no message is received from it, none is sent to
//! it), until the adapter has read it with [`Socket::peer_metadata`] and
//! called [`Socket::release_metadata`]. [`Socket::held_metadata`] lists the
//! peers whose record waits. Nothing the peer sends meanwhile is lost or
//! reordered: it waits behind the record (and back-pressures the peer once
//! the queue is full). The record costs receive-queue room, not extra
//! memory.
//!
//! ## Memory
//!
//! Each peer brings its own [`PeerBuffers`] (receive queue, transmit queue,
//! and for PUB/XPUB the peer's subscriptions). The socket takes one more
//! buffer at construction: SUB/XSUB keep their own subscriptions there (to
//! filter and to replay to new peers), XPUB queues the subscription notices and
//! upstream messages for the application there. Other types may pass an empty slice.

mod pattern;
mod peerset;

pub use pattern::{ENVELOPE_CAP, ENVELOPE_FRAMES, Frame, RecvError, RecvInfo, SendError};

use crate::conn::{
    Config, ConnEvent, Connection, DisconnectReason, PeerMetadata, ZapError, ZapReply, ZapRequest,
};
use crate::monitor::{EndpointPair, Event, Monitor};
use crate::queue::{MsgRing, TopicSet};
use crate::socket_type::SocketType;
use crate::time::Instant;
use crate::wire;
use peerset::PeerSet;

/// Whether this build includes `t`'s pattern. PAIR, DEALER, PUSH and PULL
/// are always built; PUB/SUB/XPUB/XSUB need the `pubsub` feature, REQ/REP
/// `reqrep`, ROUTER `router` (all on by default). A socket of a type left
/// out still handshakes, but `send` and `recv` return `NotSupported`.
#[must_use]
#[allow(
    clippy::match_like_matches_macro,
    reason = "with every feature off all arms but the last are `false`"
)]
pub const fn is_enabled(t: SocketType) -> bool {
    match t {
        SocketType::Pub | SocketType::Sub | SocketType::XPub | SocketType::XSub => {
            cfg!(feature = "pubsub")
        }
        SocketType::Req | SocketType::Rep => cfg!(feature = "reqrep"),
        SocketType::Router => cfg!(feature = "router"),
        _ => true,
    }
}

/// Identifies one peer of a [`Socket`] (an index; reused after
/// [`Socket::detach`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PeerHandle(pub u8);

impl PeerHandle {
    /// The slot index.
    #[must_use]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Memory for one peer, provided by the caller.
#[derive(Debug)]
pub struct PeerBuffers<'a> {
    /// Receive queue: decoded frames waiting for the application.
    pub rx: &'a mut [u8],
    /// Transmit queue: frames waiting for the transport.
    pub tx: &'a mut [u8],
    /// PUB/XPUB: the peer's subscriptions (each distinct topic costs its
    /// length plus [`TopicSet::ENTRY_HEADER_LEN`] bytes). A subscription
    /// that does not fit is ignored, so the peer gets nothing for it; an
    /// empty buffer means the peer receives nothing at all. Unused (may be
    /// empty) for other types.
    pub subs: &'a mut [u8],
}

/// Why a peer could not be attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AttachError {
    /// All `PEERS` slots are in use.
    NoFreeSlot,
    /// The transmit buffer cannot even hold the greeting and READY.
    BufferTooSmall,
    /// The socket's mechanism is CURVE and the slot has no CURVE state or
    /// no random source: use `Socket::lend_curve_states` and
    /// `Socket::attach_with_rng` (feature `curve`).
    NeedsCurveState,
}

/// The [`AttachError`] for a connection that could not start.
fn attach_error(e: crate::conn::SendError) -> AttachError {
    match e {
        crate::conn::SendError::NoEntropy => AttachError::NeedsCurveState,
        _ => AttachError::BufferTooSmall,
    }
}

impl core::fmt::Display for AttachError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NoFreeSlot => "no free peer slot",
            Self::BufferTooSmall => "peer buffers too small",
            Self::NeedsCurveState => "CURVE needs lent state and a random source",
        })
    }
}

impl core::error::Error for AttachError {}

/// One attached peer.
#[derive(Debug)]
pub(crate) struct Peer<'a, const EP: usize> {
    pub(crate) conn: Connection<'a>,
    /// The monitor value for fd-valued events (libzmq's fd; an adapter
    /// without fds passes a stable per-connection number).
    pub(crate) fd: u32,
    pub(crate) endpoints: EndpointPair<EP>,
    /// ROUTER: the peer's routing id, set when the handshake succeeds.
    pub(crate) routing_id: heapless::Vec<u8, 255>,
    /// PUB/XPUB: what the peer subscribed to.
    pub(crate) subs: TopicSet<'a>,
    /// Whether the pattern uses this peer (handshake done, not a duplicate).
    pub(crate) active: bool,
    /// Closed by the peer or the transport after taking part: the messages
    /// it sent before are still delivered (libzmq reads a pipe up to its
    /// delimiter), until [`Socket::detach`].
    pub(crate) drain: bool,
    /// Whether [`Socket::poll_closed`] reported the close.
    pub(crate) close_reported: bool,
    pub(crate) close_reason: Option<DisconnectReason>,
}

/// A ZeroMQ socket of any type over up to `PEERS` connections, with a
/// monitor queue of `EVENTS` events whose endpoint strings hold up to `EP`
/// bytes. See the [module documentation](self).
#[derive(Debug)]
pub struct Socket<'a, const PEERS: usize, const EVENTS: usize = 16, const EP: usize = 64> {
    pub(crate) config: Config,
    pub(crate) peers: [Option<Peer<'a, EP>>; PEERS],
    /// The slots in use, so that per-message work visits attached peers
    /// only.
    pub(crate) attached: PeerSet,
    pub(crate) monitor: Monitor<EVENTS, EP>,
    /// SUB/XSUB: own subscriptions.
    pub(crate) subs: TopicSet<'a>,
    /// XPUB: subscription notices and upstream messages for the
    /// application.
    pub(crate) xpub_pending: MsgRing<'a>,
    /// XPUB: the peer whose message is partly copied to `xpub_pending`.
    pub(crate) xpub_open: Option<PeerHandle>,
    pub(crate) state: pattern::State,
    pub(crate) lb_next: usize,
    pub(crate) fq_next: usize,
    pub(crate) next_routing_id: u32,
    /// CURVE state storage lent for each slot (see
    /// [`Socket::lend_curve_states`]); a connection holds its slot's while
    /// attached.
    #[cfg(feature = "curve")]
    pub(crate) curve: [Option<&'a mut crate::conn::CurveState>; PEERS],
    /// Whether handshakes leave the peer's metadata queued for the adapter
    /// ([`Socket::set_hold_metadata`]).
    hold_metadata: bool,
    /// Peers whose handshake succeeded and whose metadata waits for
    /// [`Socket::release_metadata`].
    held: PeerSet,
    /// Peers that closed and whose close [`Socket::poll_closed`] has not
    /// reported yet (checked after every receive: no scan over the peers).
    pub(crate) unreported: PeerSet,
}

impl<'a, const PEERS: usize, const EVENTS: usize, const EP: usize> Socket<'a, PEERS, EVENTS, EP> {
    const CHECK: () = assert!(PEERS > 0 && PEERS <= 255, "PEERS must be 1..=255");

    /// A socket with `config`'s options. `aux` is SUB/XSUB's subscription
    /// store and XPUB's queue of subscription messages; other types may pass
    /// an empty slice.
    #[must_use]
    pub fn new(config: Config, aux: &'a mut [u8]) -> Self {
        let () = Self::CHECK;
        let (subs_buf, pending_buf): (&'a mut [u8], &'a mut [u8]) = match config.socket_type {
            SocketType::XPub => (&mut [], aux),
            _ => (aux, &mut []),
        };
        Self {
            config,
            peers: core::array::from_fn(|_| None),
            attached: PeerSet::new(),
            monitor: Monitor::new(),
            subs: TopicSet::new(subs_buf),
            xpub_pending: MsgRing::new(pending_buf),
            xpub_open: None,
            state: pattern::State::new(),
            lb_next: 0,
            fq_next: 0,
            // libzmq starts at a random value; adapters seed it with
            // `set_routing_id_seed`.
            next_routing_id: 0x1234_5678,
            #[cfg(feature = "curve")]
            curve: core::array::from_fn(|_| None),
            hold_metadata: false,
            held: PeerSet::new(),
            unreported: PeerSet::new(),
        }
    }

    /// Ends the socket and hands back the `aux` buffer given to
    /// [`Socket::new`] (peers' buffers come back through
    /// [`Socket::detach`]).
    #[must_use]
    pub fn into_aux(self) -> &'a mut [u8] {
        let subs = self.subs.into_inner();
        let pending = self.xpub_pending.into_inner();
        if subs.len() >= pending.len() {
            subs
        } else {
            pending
        }
    }

    /// The socket's type.
    #[must_use]
    pub fn socket_type(&self) -> SocketType {
        self.config.socket_type
    }

    /// The options (read-only: they apply to connections attached later).
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The options, for changes that apply to connections attached later.
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// Seeds ROUTER's generated routing ids (libzmq: `0x00` + a big-endian
    /// u32 counter that starts at a random value).
    pub fn set_routing_id_seed(&mut self, seed: u32) {
        self.next_routing_id = seed;
    }

    /// The socket's monitor (read side: `pop`, `dropped`, ...).
    #[must_use]
    pub fn monitor(&self) -> &Monitor<EVENTS, EP> {
        &self.monitor
    }

    /// The socket's monitor: start/stop it, and record transport events
    /// (`CONNECTED`, `ACCEPTED`, `LISTENING`, ...) through
    /// [`Monitor::record`].
    pub fn monitor_mut(&mut self) -> &mut Monitor<EVENTS, EP> {
        &mut self.monitor
    }

    /// Starts a connection over a transport that just connected or was
    /// accepted. `fd` is the value of this connection's fd-valued monitor
    /// events; `endpoints` is the pair used for its `HANDSHAKE_*` and
    /// `DISCONNECTED` events (the same as its `CONNECTED`/`ACCEPTED`).
    ///
    /// # Errors
    ///
    /// [`AttachError::NoFreeSlot`] when all slots are used (closed peers
    /// hold their slot until [`Socket::detach`]),
    /// [`AttachError::BufferTooSmall`] when `bufs.tx` cannot hold the
    /// greeting and READY.
    pub fn attach(
        &mut self,
        now: Instant,
        bufs: PeerBuffers<'a>,
        fd: u32,
        endpoints: EndpointPair<EP>,
    ) -> Result<PeerHandle, AttachError> {
        let index = self.free_slot()?;
        let conn = Connection::new(now, &self.config, bufs.rx, bufs.tx).map_err(attach_error)?;
        self.attach_conn(index, conn, bufs.subs, fd, endpoints)
    }

    /// Lends CURVE state storage to the socket: `states[i]` serves slot
    /// `i` (extra entries are not used). A CURVE socket can attach a
    /// connection only on a slot with state, through
    /// [`Socket::attach_with_rng`]; the state comes back to the slot when
    /// the peer is detached. Lend it once, before the first attach.
    #[cfg(feature = "curve")]
    pub fn lend_curve_states(&mut self, states: &'a mut [crate::conn::CurveState]) {
        for (slot, state) in self.curve.iter_mut().zip(states.iter_mut()) {
            *slot = Some(state);
        }
    }

    /// Lends one CURVE state to the slot the next attach will use, when
    /// that slot has none: for drivers that lend storage per connection
    /// instead of per slot ([`Socket::lend_curve_states`]). Returns `state`
    /// when it is not needed (the slot has one, or no slot is free).
    #[cfg(feature = "curve")]
    pub fn lend_curve_state(
        &mut self,
        state: &'a mut crate::conn::CurveState,
    ) -> Option<&'a mut crate::conn::CurveState> {
        let Ok(index) = self.free_slot() else {
            return Some(state);
        };
        match self.curve.get_mut(index) {
            Some(slot @ None) => {
                *slot = Some(state);
                None
            }
            _ => Some(state),
        }
    }

    /// Takes back every lent CURVE state no connection holds (all of them
    /// once every peer is detached), for reuse by another socket.
    #[cfg(feature = "curve")]
    pub fn reclaim_curve_states(
        &mut self,
    ) -> impl Iterator<Item = &'a mut crate::conn::CurveState> + '_ {
        self.curve.iter_mut().filter_map(Option::take)
    }

    /// As [`Socket::attach`], for every mechanism including CURVE: a CURVE
    /// connection takes its slot's lent state (see
    /// [`Socket::lend_curve_states`]) and draws its random bytes from
    /// `rng` before this returns (see [`Connection::new_with_rng`]). Other
    /// mechanisms do not touch `rng`.
    ///
    /// # Errors
    ///
    /// As [`Socket::attach`]; [`AttachError::NeedsCurveState`] for a CURVE
    /// socket whose free slot has no lent state. On
    /// [`AttachError::BufferTooSmall`] the slot's CURVE state is used up
    /// like the buffers (check buffer sizes once, at start-up).
    #[cfg(feature = "curve")]
    pub fn attach_with_rng(
        &mut self,
        now: Instant,
        bufs: PeerBuffers<'a>,
        rng: &mut dyn rand_core::CryptoRngCore,
        fd: u32,
        endpoints: EndpointPair<EP>,
    ) -> Result<PeerHandle, AttachError> {
        let index = self.free_slot()?;
        if self.config.mechanism.wire() != wire::Mechanism::Curve {
            return self.attach(now, bufs, fd, endpoints);
        }
        let state = self
            .curve
            .get_mut(index)
            .and_then(Option::take)
            .ok_or(AttachError::NeedsCurveState)?;
        let conn = Connection::new_with_rng(now, &self.config, bufs.rx, bufs.tx, state, rng)
            .map_err(attach_error)?;
        self.attach_conn(index, conn, bufs.subs, fd, endpoints)
    }

    fn free_slot(&self) -> Result<usize, AttachError> {
        self.peers
            .iter()
            .position(Option::is_none)
            .ok_or(AttachError::NoFreeSlot)
    }

    fn attach_conn(
        &mut self,
        index: usize,
        conn: Connection<'a>,
        subs: &'a mut [u8],
        fd: u32,
        endpoints: EndpointPair<EP>,
    ) -> Result<PeerHandle, AttachError> {
        let handle = PeerHandle(u8::try_from(index).map_err(|_| AttachError::NoFreeSlot)?);
        let slot = self.peers.get_mut(index).ok_or(AttachError::NoFreeSlot)?;
        *slot = Some(Peer {
            conn,
            fd,
            endpoints,
            routing_id: heapless::Vec::new(),
            subs: TopicSet::new(subs),
            active: false,
            drain: false,
            close_reported: false,
            close_reason: None,
        });
        self.attached.insert(index);
        self.held.remove(index);
        Ok(handle)
    }

    /// Frees a peer's slot (after its transport was closed) and hands its
    /// buffers back. A peer that is still open is closed first, silently.
    /// Messages from the peer that were not read yet are dropped; if the
    /// application is half way through one, the next [`Socket::recv`]
    /// ends it with an empty frame.
    pub fn detach(&mut self, peer: PeerHandle) -> Option<PeerBuffers<'a>> {
        if self.peer_ref(peer).is_some_and(|p| !p.conn.is_closed()) {
            self.close_peer(peer);
        }
        let p = self.peers.get_mut(peer.index())?.take()?;
        self.attached.remove(peer.index());
        self.held.remove(peer.index());
        self.unreported.remove(peer.index());
        self.state.detached(peer);
        #[cfg(feature = "curve")]
        let (rx, tx) = {
            let (rx, tx, state) = p.conn.into_parts();
            if let (Some(state), Some(slot)) = (state, self.curve.get_mut(peer.index())) {
                *slot = Some(state);
            }
            (rx, tx)
        };
        #[cfg(not(feature = "curve"))]
        let (rx, tx) = p.conn.into_buffers();
        Some(PeerBuffers {
            rx,
            tx,
            subs: p.subs.into_inner(),
        })
    }

    /// Closes a peer at the application's request (libzmq `zmq_disconnect`
    /// or socket close): no monitor event. The adapter then closes the
    /// transport and calls [`Socket::detach`].
    pub fn close_peer(&mut self, peer: PeerHandle) {
        if let Some(p) = self.peer_mut(peer) {
            p.conn.close();
        }
        self.held.remove(peer.index());
        self.process_events(peer);
        // libzmq ends the pipe from the socket side: what was not read is
        // dropped (a message being read can still be finished).
        if let Some(p) = self.peer_mut(peer) {
            p.drain = false;
        }
    }

    /// Feeds bytes received on `peer`'s transport; returns how many were
    /// consumed (see [`Connection::handle_input`]). Fewer than offered
    /// means the peer's receive queue is full: offer the rest again after
    /// the application received something. PUB and XPUB consume
    /// subscriptions as they arrive, so they take all they can in one call.
    pub fn handle_input(&mut self, now: Instant, peer: PeerHandle, bytes: &[u8]) -> usize {
        self.handle_input_external(now, peer, bytes, 0)
    }

    /// [`Socket::handle_input`], leaving data bodies of at least `min`
    /// bytes (`min` > 0; 0: none) to the driver, as
    /// [`Connection::handle_input_external`] does: the driver reads
    /// [`Socket::external_body`] bytes into storage of its own, calls
    /// [`Socket::complete_external`], and receives with
    /// [`Socket::recv_frame_with`].
    pub fn handle_input_external(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        bytes: &[u8],
        min: usize,
    ) -> usize {
        let mut used = 0usize;
        // Each pass consumes at least one byte or stops.
        while used < bytes.len() {
            let Some(p) = self.peer_mut(peer) else {
                break;
            };
            let n = p
                .conn
                .handle_input_external(now, bytes.get(used..).unwrap_or_default(), min);
            used = used.saturating_add(n).min(bytes.len());
            self.process_events(peer);
            self.service_peer(peer);
            if n == 0 {
                break;
            }
        }
        used
    }

    /// The size of the body `peer`'s connection awaits from the driver
    /// ([`Connection::external_body`]).
    #[must_use]
    pub fn external_body(&self, peer: PeerHandle) -> Option<usize> {
        self.peer(peer).and_then(Connection::external_body)
    }

    /// The driver read the body [`Socket::external_body`] announced
    /// ([`Connection::complete_external`]); `false` when none was awaited
    /// (the driver drops the body).
    pub fn complete_external(&mut self, now: Instant, peer: PeerHandle) -> bool {
        let Some(p) = self.peer_mut(peer) else {
            return false;
        };
        let done = p.conn.complete_external(now);
        self.process_events(peer);
        done
    }

    /// Bodies the driver keeps for `peer` that its receive queue still
    /// counts ([`Connection::external_queued`]); 0 for an unknown peer.
    #[must_use]
    pub fn external_queued(&self, peer: PeerHandle) -> usize {
        self.peer(peer).map_or(0, Connection::external_queued)
    }

    /// `peer`'s transport reached end-of-stream.
    pub fn handle_transport_closed(&mut self, now: Instant, peer: PeerHandle) {
        if let Some(p) = self.peer_mut(peer) {
            p.conn.handle_transport_closed(now);
        }
        self.process_events(peer);
    }

    /// `peer`'s transport failed with `errno` (Linux numbers).
    pub fn handle_transport_error(&mut self, now: Instant, peer: PeerHandle, errno: u32) {
        if let Some(p) = self.peer_mut(peer) {
            p.conn.handle_transport_error(now, errno);
        }
        self.process_events(peer);
    }

    /// Writes `peer`'s pending output into `out`; 0 means nothing to send.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, peer: PeerHandle, out: &mut [u8]) -> usize {
        let Some(p) = self.peer_mut(peer) else {
            return 0;
        };
        let n = p.conn.poll_transmit(now, out);
        // Sending our last handshake command can complete the handshake.
        self.process_events(peer);
        n
    }

    /// The next pending output of `peer` in place, without copying it; see
    /// [`Connection::peek_transmit`]. Report what was written with
    /// [`Socket::consume_transmit`].
    #[must_use]
    pub fn peek_transmit(&mut self, peer: PeerHandle) -> Option<crate::conn::TxView<'_>> {
        self.peer_mut(peer)?.conn.peek_transmit()
    }

    /// Drops the first `n` bytes of `peer`'s pending output as sent (see
    /// [`Connection::consume_transmit`]); returns how many were dropped.
    pub fn consume_transmit(&mut self, now: Instant, peer: PeerHandle, n: usize) -> usize {
        let Some(p) = self.peer_mut(peer) else {
            return 0;
        };
        let n = p.conn.consume_transmit(now, n);
        // Sending our last handshake command can complete the handshake.
        self.process_events(peer);
        n
    }

    /// Whether `peer` has output waiting.
    #[must_use]
    pub fn has_pending_output(&self, peer: PeerHandle) -> bool {
        self.peer_ref(peer)
            .is_some_and(|p| p.conn.has_pending_output())
    }

    /// Whether `peer` is holding back input because its receive queue is
    /// full; offer the unconsumed bytes again after the application reads.
    #[must_use]
    pub fn is_rx_blocked(&self, peer: PeerHandle) -> bool {
        self.peer_ref(peer).is_some_and(|p| p.conn.is_rx_blocked())
    }

    /// The earliest instant any peer needs [`Socket::handle_timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.attached
            .iter(PEERS)
            .filter_map(|i| self.peers.get(i)?.as_ref()?.conn.poll_timeout())
            .min()
    }

    /// Runs every peer's expired timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        for i in self.attached.iter(PEERS) {
            let Ok(h) = u8::try_from(i) else { break };
            let handle = PeerHandle(h);
            if let Some(p) = self.peer_mut(handle) {
                p.conn.handle_timeout(now);
                self.process_events(handle);
            }
        }
    }

    /// The next peer that closed (and why), once per close. The adapter
    /// flushes its pending output (a final ERROR command), closes the
    /// transport, calls [`Socket::detach`], and reconnects if the peer was
    /// connected by us and `reason.should_reconnect()`.
    ///
    /// Until the detach, messages that arrived from the peer before it
    /// went away can still be received (libzmq delivers a pipe's messages
    /// up to its end); an adapter that wants them delivered reads them
    /// first. After [`Socket::close_peer`] they are dropped, as libzmq does
    /// for `zmq_disconnect`.
    pub fn poll_closed(&mut self) -> Option<(PeerHandle, DisconnectReason)> {
        for i in self.unreported.iter(PEERS) {
            self.unreported.remove(i);
            let Some(Some(p)) = self.peers.get_mut(i) else {
                continue;
            };
            if p.close_reported {
                continue;
            }
            if let Some(reason) = p.close_reason {
                p.close_reported = true;
                let h = u8::try_from(i).ok()?;
                return Some((PeerHandle(h), reason));
            }
        }
        None
    }

    /// Whether [`Socket::poll_closed`] has a close to report: an adapter
    /// that drives I/O elsewhere can check this after a receive (reading
    /// can close a peer, when a held-back frame turns out never to fit)
    /// without taking the close itself.
    #[must_use]
    pub fn has_unreported_close(&self) -> bool {
        !self.unreported.is_empty()
    }

    /// The next ZAP request raised by a peer's handshake (each request is
    /// returned once; see [`Connection::poll_zap_request`]). Answer it with
    /// [`Socket::handle_zap_reply`], [`Socket::handle_zap_reply_frames`] or
    /// [`Socket::handle_zap_unavailable`], then offer that peer's
    /// unconsumed input again. The request's address frame is the peer's
    /// transport address, which the adapter adds.
    pub fn poll_zap_request(&mut self) -> Option<(PeerHandle, ZapRequest<'_>)> {
        let config = &self.config;
        for (i, slot) in self.peers.iter_mut().enumerate() {
            let Some(p) = slot else { continue };
            if let Some(req) = p.conn.poll_zap_request(config) {
                let h = u8::try_from(i).ok()?;
                return Some((PeerHandle(h), req));
            }
        }
        None
    }

    /// Answers `peer`'s ZAP request (see [`Connection::handle_zap_reply`]).
    ///
    /// # Errors
    ///
    /// [`ZapError::NoRequest`] if the peer has no pending request (or no
    /// longer exists).
    pub fn handle_zap_reply(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        reply: &ZapReply<'_>,
    ) -> Result<(), ZapError> {
        let p = self.peer_mut(peer).ok_or(ZapError::NoRequest)?;
        let r = p.conn.handle_zap_reply(now, reply);
        self.process_events(peer);
        r
    }

    /// Answers `peer`'s ZAP request with raw reply frames (see
    /// [`Connection::handle_zap_reply_frames`]).
    ///
    /// # Errors
    ///
    /// [`ZapError::NoRequest`] if the peer has no pending request.
    pub fn handle_zap_reply_frames(
        &mut self,
        now: Instant,
        peer: PeerHandle,
        frames: &[&[u8]],
    ) -> Result<(), ZapError> {
        let p = self.peer_mut(peer).ok_or(ZapError::NoRequest)?;
        let r = p.conn.handle_zap_reply_frames(now, frames);
        self.process_events(peer);
        r
    }

    /// No ZAP handler can answer `peer`'s request (see
    /// [`Connection::handle_zap_unavailable`]).
    ///
    /// # Errors
    ///
    /// [`ZapError::NoRequest`] if the peer has no pending request.
    pub fn handle_zap_unavailable(
        &mut self,
        now: Instant,
        peer: PeerHandle,
    ) -> Result<(), ZapError> {
        let p = self.peer_mut(peer).ok_or(ZapError::NoRequest)?;
        let r = p.conn.handle_zap_unavailable(now);
        self.process_events(peer);
        r
    }

    /// A peer's connection, for inspection.
    #[must_use]
    pub fn peer(&self, peer: PeerHandle) -> Option<&Connection<'a>> {
        self.peer_ref(peer).map(|p| &p.conn)
    }

    /// The handles of attached peers.
    pub fn peers(&self) -> impl Iterator<Item = PeerHandle> + '_ {
        self.attached
            .iter(PEERS)
            .filter_map(|i| u8::try_from(i).ok().map(PeerHandle))
    }

    /// Peers whose handshake finished and that take part in the pattern.
    #[must_use]
    pub fn ready_peers(&self) -> usize {
        self.peers.iter().flatten().filter(|p| p.active).count()
    }

    /// Whether a closed `peer` still holds messages the application will be
    /// given (libzmq reads a pipe up to its end): an adapter should wait for
    /// them to be read before [`Socket::detach`], which drops them.
    #[must_use]
    pub fn has_unread(&self, peer: PeerHandle) -> bool {
        let held = self.holds(peer);
        self.peer_ref(peer)
            .is_some_and(|p| (p.drain || held) && p.conn.has_message())
    }

    /// Whether handshakes leave each peer's metadata for the adapter to
    /// read (see the [module documentation](self#peer-metadata)); off by
    /// default. Applies to handshakes that succeed from now on; turning it
    /// off does not release records already held.
    pub fn set_hold_metadata(&mut self, on: bool) {
        self.hold_metadata = on;
    }

    /// Whether [`Socket::set_hold_metadata`] is on.
    #[must_use]
    pub fn holds_metadata(&self) -> bool {
        self.hold_metadata
    }

    /// The peers whose handshake succeeded and whose metadata waits for
    /// [`Socket::release_metadata`], in slot order.
    pub fn held_metadata(&self) -> impl Iterator<Item = PeerHandle> + '_ {
        self.held
            .iter(PEERS)
            .filter_map(|i| u8::try_from(i).ok().map(PeerHandle))
    }

    /// `peer`'s metadata while it is held (see
    /// [`Socket::set_hold_metadata`]): its READY / INITIATE properties and,
    /// when a ZAP handler accepted it, the handler's `User-Id` and
    /// metadata. `None` for a peer with nothing held.
    #[must_use]
    pub fn peer_metadata(&self, peer: PeerHandle) -> Option<PeerMetadata<'_>> {
        if !self.holds(peer) {
            return None;
        }
        self.peer_ref(peer)?.conn.peer_metadata()
    }

    /// Drops `peer`'s held metadata and lets the peer take part in the
    /// pattern (ROUTER routing id, SUB subscription replay, PAIR's one
    /// peer), as a handshake does when nothing is held. A peer that closed
    /// meanwhile only has the messages it sent before made readable.
    /// Offer the peer's unconsumed input again afterwards: the record's
    /// room is free. Returns whether anything was held.
    pub fn release_metadata(&mut self, peer: PeerHandle) -> bool {
        if !self.holds(peer) {
            return false;
        }
        self.held.remove(peer.index());
        self.peer_ready(peer);
        self.process_events(peer);
        self.service_peer(peer);
        true
    }

    /// ROUTER: a peer's routing id (after its handshake).
    #[must_use]
    pub fn routing_id(&self, peer: PeerHandle) -> Option<&[u8]> {
        self.peer_ref(peer)
            .filter(|p| p.active)
            .map(|p| p.routing_id.as_slice())
    }

    // ------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------

    pub(crate) fn peer_ref(&self, peer: PeerHandle) -> Option<&Peer<'a, EP>> {
        self.peers.get(peer.index())?.as_ref()
    }

    pub(crate) fn peer_mut(&mut self, peer: PeerHandle) -> Option<&mut Peer<'a, EP>> {
        self.peers.get_mut(peer.index())?.as_mut()
    }

    /// Whether `peer`'s metadata is held for the adapter.
    fn holds(&self, peer: PeerHandle) -> bool {
        let i = peer.index();
        self.held.rotation(i, i.saturating_add(1)).next() == Some(i)
    }

    /// [`Socket::process_events`] for every attached peer.
    pub(crate) fn process_all_events(&mut self) {
        for i in self.attached.iter(PEERS) {
            if let Ok(h) = u8::try_from(i) {
                self.process_events(PeerHandle(h));
            }
        }
    }

    /// Turns a peer's connection events into monitor events and pattern
    /// state changes.
    fn process_events(&mut self, peer: PeerHandle) {
        loop {
            let Some(p) = self.peer_mut(peer) else { return };
            let Some(ev) = p.conn.poll_event() else {
                return;
            };
            let fd = p.fd;
            let endpoints = p.endpoints.clone();
            let monitor_event = match ev {
                ConnEvent::HandshakeSucceeded => {
                    if self.hold_metadata {
                        // Ready once the adapter has read the metadata.
                        self.held.insert(peer.index());
                    } else {
                        self.peer_ready(peer);
                    }
                    Some(Event::HandshakeSucceeded)
                }
                ConnEvent::HandshakeFailedNoDetail { errno } => {
                    Some(Event::HandshakeFailedNoDetail { errno })
                }
                ConnEvent::HandshakeFailedProtocol(e) => Some(Event::handshake_failed_protocol(e)),
                ConnEvent::HandshakeFailedAuth { status } => {
                    Some(Event::HandshakeFailedAuth { status })
                }
                ConnEvent::Disconnected(reason) => {
                    self.peer_closed(peer, reason);
                    reason.is_reported().then_some(Event::Disconnected { fd })
                }
            };
            if let Some(e) = monitor_event
                && self.monitor.wants(e.id())
            {
                self.monitor.record(e, endpoints);
            }
        }
    }

    /// The handshake finished (or the adapter released the held metadata):
    /// read the peer's metadata, give ROUTER peers their routing id, replay
    /// subscriptions. A peer that closed before its held metadata was
    /// released only gets its messages made readable.
    fn peer_ready(&mut self, peer: PeerHandle) {
        let socket_type = self.config.socket_type;
        let mut identity: heapless::Vec<u8, 255> = heapless::Vec::new();
        let closed = {
            let Some(p) = self.peer_mut(peer) else { return };
            if let Some(meta) = p.conn.peer_metadata()
                && let Some(id) = meta.properties().get_exact(wire::metadata::IDENTITY)
            {
                identity = heapless::Vec::from_slice(id).unwrap_or_default();
            }
            p.conn.pop_metadata();
            p.close_reason
        };
        match socket_type {
            SocketType::Router if cfg!(feature = "router") => {
                // RFC 37 reserves ids starting with 0x00 for generated ones;
                // an empty Identity gets 0x00 + a big-endian counter.
                if identity.is_empty() {
                    let seq = self.next_routing_id;
                    self.next_routing_id = seq.wrapping_add(1);
                    identity.clear();
                    let _ = identity.push(0);
                    let _ = identity.extend_from_slice(&seq.to_be_bytes());
                }
                let duplicate = self
                    .peers
                    .iter()
                    .flatten()
                    .any(|q| q.active && q.routing_id == identity);
                if duplicate {
                    // libzmq without ROUTER_HANDOVER ignores the newcomer
                    // (`router_t::identify_peer`): the connection stays up
                    // but takes no part in the pattern, so what it sends
                    // waits in its receive queue and back-pressures it.
                    return;
                }
                if let Some(p) = self.peer_mut(peer) {
                    p.routing_id = identity;
                }
            }
            SocketType::Pair if self.peers.iter().flatten().any(|q| q.active) => {
                // PAIR talks to one peer; libzmq drops a second pipe.
                if let Some(p) = self.peer_mut(peer) {
                    p.conn.close();
                }
                return;
            }
            _ => {}
        }
        if let Some(reason) = closed {
            // Closed while its metadata was held: as if it had taken part
            // (see `peer_closed`).
            if let Some(p) = self.peer_mut(peer) {
                p.drain = reason != DisconnectReason::LocalClose;
            }
            return;
        }
        if let Some(p) = self.peer_mut(peer) {
            p.active = true;
        }
        if cfg!(feature = "pubsub") && matches!(socket_type, SocketType::Sub | SocketType::XSub) {
            self.replay_subscriptions(peer);
        }
    }

    /// SUB/XSUB: a new peer learns every current subscription (libzmq
    /// `xsub_t::xattach_pipe`).
    fn replay_subscriptions(&mut self, peer: PeerHandle) {
        let Some(p) = self.peers.get_mut(peer.index()).and_then(Option::as_mut) else {
            return;
        };
        for topic in self.subs.iter() {
            // A fresh transmit queue holds them unless the subscriptions
            // outgrow it; those that do not fit are lost for this peer.
            if p.conn.send_subscription(true, topic).is_err() {
                warn!("subscription replay did not fit the transmit queue");
            }
        }
    }

    fn peer_closed(&mut self, peer: PeerHandle, reason: DisconnectReason) {
        let was_active = self.peer_ref(peer).is_some_and(|p| p.active);
        if cfg!(feature = "pubsub") && was_active && self.config.socket_type == SocketType::XPub {
            self.xpub_peer_gone(peer);
        }
        if let Some(p) = self.peer_mut(peer) {
            p.active = false;
            p.drain = was_active && reason != DisconnectReason::LocalClose;
            p.close_reason = Some(reason);
            if !p.close_reported {
                self.unreported.insert(peer.index());
            }
        }
        self.state.forget(peer);
    }

    /// Housekeeping after input: PUB/XPUB consume subscriptions as they
    /// arrive, since the application never reads from those peers.
    fn service_peer(&mut self, peer: PeerHandle) {
        if cfg!(feature = "pubsub")
            && matches!(self.config.socket_type, SocketType::Pub | SocketType::XPub)
        {
            self.drain_subscriptions(peer);
        }
    }
}
