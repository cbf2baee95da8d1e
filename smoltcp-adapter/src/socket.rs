//! [`ZmtpSocket`]: one `zmtp-core` socket driven over smoltcp TCP sockets.
//!
//! ## Slots
//!
//! A `ZmtpSocket<PEERS>` owns `PEERS` slots. Each slot is one smoltcp
//! [`tcp::Socket`] (made from the slot's [`SlotBuffers`] and added to the
//! caller's [`SocketSet`]) plus the core's [`PeerBuffers`] for the peer on
//! that connection. A slot serves either the bind (it listens on the bound
//! port and carries what it accepts, then listens again) or one connect
//! endpoint (it connects, carries the connection, and reconnects).
//!
//! ```text
//!  bind:     Idle ─arm─▶ Listening ─established─▶ Attached ─core closed─▶ Closing ─flushed─▶ Lingering ─TCP closed─▶ Listening
//!  connect:  Waiting ─SYN─▶ Connecting ─established─▶ Attached ─core closed─▶ Closing ─flushed─▶ Waiting
//!                              │ RST / timeout                                        (or Idle: no reconnect)
//!                              └──────────▶ Waiting (CLOSED, CONNECT_RETRIED)
//! ```
//!
//! ## Monitor events (libzmq's moments and values)
//!
//! | event | when | value | endpoints |
//! |---|---|---|---|
//! | LISTENING | [`ZmtpSocket::bind`] succeeded | listener handle | `tcp://<ip or 0.0.0.0>:<port>`, "" |
//! | BIND_FAILED | [`ZmtpSocket::bind`] failed | errno ([`BindError::errno`]) | `<ip>:<port>` (no scheme), "" |
//! | ACCEPTED | a listening slot's connection is established | slot handle | `tcp://<local>`, `tcp://<peer>` |
//! | ACCEPT_FAILED | the core refused the accepted connection | `ENOBUFS` | listener endpoint, "" |
//! | CONNECT_DELAYED | the SYN went out | `EINPROGRESS` | "", `tcp://<remote>` |
//! | CONNECTED | the outgoing connection is established | slot handle | `tcp://<local>`, `tcp://<remote>` |
//! | CLOSED | a connect attempt failed (RST, no route, connect timeout) or was cancelled by [`ZmtpSocket::disconnect`]; or [`ZmtpSocket::unbind`] | slot handle; listener handle for unbind | "", `tcp://<remote>`; listener endpoint for unbind |
//! | CONNECT_RETRIED | after a failed attempt, and right after `DISCONNECTED` of a connection we made (with a fresh back-off) | interval in ms ([`Backoff`]) | "", `tcp://<remote>` |
//! | HANDSHAKE_*, DISCONNECTED | raised by the core | as the core | the pair of the connection's ACCEPTED/CONNECTED |
//!
//! **Handles.** Where libzmq reports a file descriptor this crate reports a
//! small number chosen like one: the listener is [`Options::handle_base`],
//! slot `i` is `handle_base + 1 + i`. A slot keeps its number for every
//! connection it carries, so an event's value always matches the
//! ACCEPTED/CONNECTED of the same connection (like an fd, it is reused
//! once that connection is gone). Give every `ZmtpSocket` of a firmware its
//! own `handle_base` to keep the numbers unique.
//!
//! **errno** values are Linux numbers ([`zmtp_core::monitor::errno`]): a
//! peer's FIN is `EPIPE`, a reset or a smoltcp timeout `ECONNRESET`.

use core::fmt::Write as _;

use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::phy::Device;
use smoltcp::socket::tcp;
use smoltcp::time::{Duration as NetDuration, Instant as NetInstant};
use smoltcp::wire::{IpAddress, IpEndpoint, IpListenEndpoint};
use zmtp_core::Instant;
use zmtp_core::conn::DisconnectReason;
use zmtp_core::conn::ZapRequest;
use zmtp_core::monitor::{EndpointPair, Event, errno};
use zmtp_core::reconnect::{Backoff, DEFAULT_RECONNECT_IVL_MAX_MS, DEFAULT_RECONNECT_IVL_MS};
use zmtp_core::socket::{AttachError, PeerBuffers, PeerHandle, Socket};
use zmtp_core::socket_type::SocketType;

use crate::endpoint;
use crate::resources::SlotBuffers;
use crate::rng::Rng;
use crate::time::{duration_to_core, earliest, to_core, to_net};

/// First port of the dynamic range (RFC 6335 §6) used for outgoing
/// connections.
pub const EPHEMERAL_PORT_FIRST: u16 = 49152;
/// Number of ports in the dynamic range 49152..=65535 (RFC 6335 §6).
const EPHEMERAL_PORT_COUNT: u16 = 16384;
/// Most `recv`/`send` closure calls per slot and service call: smoltcp's
/// rings hand out at most two contiguous pieces, so two suffice; the rest
/// is slack for data that arrives in between.
const MAX_IO_PASSES: usize = 4;

/// Transport options of a [`ZmtpSocket`] (the socket options libzmq keeps
/// in its connecters and listeners). Build with [`Options::default`] and
/// set fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Options {
    /// `ZMQ_RECONNECT_IVL` in milliseconds (default 100); `<= 0` disables
    /// reconnecting (and CONNECT_RETRIED), as in libzmq.
    pub reconnect_ivl_ms: i32,
    /// `ZMQ_RECONNECT_IVL_MAX` in milliseconds (default 0: no growth,
    /// jitter instead). See [`Backoff`].
    pub reconnect_ivl_max_ms: i32,
    /// `ZMQ_CONNECT_TIMEOUT`: a connect attempt still without an answer
    /// after this long is abandoned (CLOSED, then CONNECT_RETRIED).
    /// `None` (the default, like libzmq's 0) leaves it to smoltcp, which
    /// retransmits a SYN that gets no answer indefinitely; set a value when
    /// the peer may be unreachable rather than refusing.
    pub connect_timeout: Option<NetDuration>,
    /// How long a closed connection may keep its slot to send its last
    /// output (a final ERROR command) and to let the application read the
    /// messages the peer sent before it left (libzmq delivers them). After
    /// that the slot is freed regardless. Also bounds the TCP close before
    /// a listening slot listens again. Default 1 s.
    pub close_linger: NetDuration,
    /// The monitor value of the listener; slot `i` reports
    /// `handle_base + 1 + i` (see the [module docs](self)). Default 3, the
    /// first descriptor after stdin, stdout and stderr.
    pub handle_base: u32,
    /// Whether the application answers ZAP requests (libzmq: a handler is
    /// bound at `inproc://zeromq.zap.01`). When `true`, handshakes that
    /// consult ZAP wait until the application answers the request from
    /// [`ZmtpSocket::poll_zap_request`]. When `false` (the default, like
    /// libzmq with no handler bound) every request is answered "no
    /// handler" at once: a PLAIN server then fails its handshakes with
    /// HANDSHAKE_FAILED_NO_DETAIL `EFAULT`, and a NULL socket with a ZAP
    /// domain goes on without authentication.
    pub zap_handler: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            reconnect_ivl_ms: DEFAULT_RECONNECT_IVL_MS,
            reconnect_ivl_max_ms: DEFAULT_RECONNECT_IVL_MAX_MS,
            connect_timeout: None,
            close_linger: NetDuration::from_millis(1000),
            handle_base: 3,
            zap_handler: false,
        }
    }
}

/// Why [`ZmtpSocket::bind`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BindError {
    /// This socket is already bound to the same endpoint (libzmq
    /// `EADDRINUSE`).
    AddressInUse,
    /// This socket is already bound to another endpoint (one bind per
    /// socket here; libzmq allows several).
    AlreadyBound,
    /// No slot is free to listen (all carry connect endpoints).
    NoFreeSlot,
}

impl BindError {
    /// The errno of the BIND_FAILED event raised for this error: libzmq's
    /// `EADDRINUSE`, and `EMFILE` ("out of sockets") for the limits of
    /// this crate.
    #[must_use]
    pub const fn errno(self) -> u32 {
        match self {
            Self::AddressInUse => errno::EADDRINUSE,
            Self::AlreadyBound | Self::NoFreeSlot => errno::EMFILE,
        }
    }
}

impl core::fmt::Display for BindError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::AddressInUse => "already bound to this endpoint",
            Self::AlreadyBound => "already bound to another endpoint",
            Self::NoFreeSlot => "no free slot to listen on",
        })
    }
}

impl core::error::Error for BindError {}

/// Why [`ZmtpSocket::connect`] failed. Like libzmq's synchronous
/// `zmq_connect` errors, these raise no monitor event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConnectError {
    /// Port 0 or an unspecified address (libzmq `EINVAL`).
    Unaddressable,
    /// No slot is free (a bound socket keeps at least one listening slot).
    NoFreeSlot,
    /// This socket already connects to that endpoint.
    AlreadyConnected,
}

impl core::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Unaddressable => "endpoint has port 0 or no address",
            Self::NoFreeSlot => "no free slot to connect from",
            Self::AlreadyConnected => "already connecting to this endpoint",
        })
    }
}

impl core::error::Error for ConnectError {}

/// [`ZmtpSocket::unbind`] or [`ZmtpSocket::disconnect`] found nothing to
/// undo (libzmq `ENOENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NotFound;

impl core::fmt::Display for NotFound {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("no such endpoint")
    }
}

impl core::error::Error for NotFound {}

/// The text form of a peer's IP address (libzmq's ZAP address frame: the
/// address without the port, e.g. `127.0.0.1` or `::1`).
pub type ZapAddress = heapless::String<45>;

/// A ZAP request from [`ZmtpSocket::poll_zap_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct ZapQuery<'s> {
    /// The connection waiting for the answer.
    pub peer: PeerHandle,
    /// The request: domain, identity, mechanism and credentials. Its
    /// RFC 27 frames are `request.frames(address.as_bytes())`.
    pub request: ZapRequest<'s>,
    /// The peer's IP address, for the request's address frame.
    pub address: ZapAddress,
}

/// What a slot is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Free,
    Bind,
    Connect {
        remote: IpEndpoint,
        backoff: Backoff,
    },
}

/// Where a slot is (see the diagram in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Free; or a bind slot not listening yet.
    Idle,
    /// The TCP socket listens (or is in SYN-RECEIVED).
    Listening,
    /// A connecter waits for its next attempt.
    Waiting { at: Instant },
    /// The SYN went out at `since`.
    Connecting { since: Instant },
    /// The connection carries `peer`.
    Attached { peer: PeerHandle },
    /// The core closed `peer`: its last output is flushed (and unread
    /// messages may be read) until `deadline`; then the slot detaches and
    /// the connecter, if any, tries again at `retry_at`.
    Closing {
        peer: PeerHandle,
        deadline: Instant,
        retry_at: Option<Instant>,
        wait_reads: bool,
    },
    /// A bind slot's TCP socket is closing; it listens again once closed or
    /// at `until`.
    Lingering { until: Instant },
    /// The core refused the slot's buffers; the slot is out of service.
    Broken,
}

#[derive(Debug)]
struct Slot<'a> {
    tcp: SocketHandle,
    /// The core's buffers while no peer is attached.
    bufs: Option<PeerBuffers<'a>>,
    role: Role,
    state: State,
    /// The peer's address while a connection is attached (the address
    /// frame of a ZAP request).
    remote: Option<IpAddress>,
}

/// The role of a slot that no connecter uses any more: it joins the
/// listening slots if the socket is bound.
fn idle_role(listener: Option<IpListenEndpoint>) -> Role {
    if listener.is_some() {
        Role::Bind
    } else {
        Role::Free
    }
}

/// The slot's TCP socket in `sockets`, without smoltcp's panicking lookup.
fn tcp_socket<'s, 'a>(
    sockets: &'s mut SocketSet<'a>,
    handle: SocketHandle,
) -> Option<&'s mut tcp::Socket<'a>> {
    use smoltcp::socket::AnySocket;
    sockets
        .iter_mut()
        .find(|(h, _)| *h == handle)
        .and_then(|(_, s)| tcp::Socket::downcast_mut(s))
}

fn tcp_socket_ref<'s, 'a>(
    sockets: &'s SocketSet<'a>,
    handle: SocketHandle,
) -> Option<&'s tcp::Socket<'a>> {
    use smoltcp::socket::AnySocket;
    sockets
        .iter()
        .find(|(h, _)| *h == handle)
        .and_then(|(_, s)| tcp::Socket::downcast(s))
}

/// Something [`poll`] drives: a [`ZmtpSocket`] or a
/// [`MonitorPublisher`](crate::MonitorPublisher). Several of them can share
/// one interface and socket set.
pub trait Drive<'a> {
    /// Moves bytes between the smoltcp sockets and the core, raises the
    /// transport's monitor events, runs timers, accepts, connects and
    /// reconnects. Does not call `iface.poll`.
    fn service(&mut self, now: NetInstant, iface: &mut Interface, sockets: &mut SocketSet<'a>);

    /// The earliest instant at which [`Drive::service`] has work: a core
    /// timer, a reconnect or connect timeout, a slot to free, or input or
    /// output that is ready now (then `now` itself). `None`: nothing until
    /// a packet arrives or the application acts.
    fn poll_at(&self, now: NetInstant, sockets: &SocketSet<'a>) -> Option<NetInstant>;
}

/// One turn of the network: services every driver, polls the interface
/// (ingress and egress), services again so that input that just arrived is
/// answered, and polls the interface again to send the answers. Returns the
/// next deadline: the earliest of smoltcp's `Interface::poll_at` and every
/// driver's [`Drive::poll_at`]. Call it again at that instant, when a packet
/// arrives, and after the application sent or received.
///
/// With a single [`ZmtpSocket`], [`ZmtpSocket::poll`] does the same.
pub fn poll<'a, D: Device + ?Sized>(
    now: NetInstant,
    iface: &mut Interface,
    device: &mut D,
    sockets: &mut SocketSet<'a>,
    drivers: &mut [&mut dyn Drive<'a>],
) -> Option<NetInstant> {
    for d in drivers.iter_mut() {
        d.service(now, iface, sockets);
    }
    let _ = iface.poll(now, device, sockets);
    for d in drivers.iter_mut() {
        d.service(now, iface, sockets);
    }
    let _ = iface.poll(now, device, sockets);
    let mut next = iface.poll_at(now, sockets);
    for d in drivers.iter() {
        next = match (next, d.poll_at(now, sockets)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        };
    }
    next
}

/// A ZeroMQ socket over smoltcp: a `zmtp-core` [`Socket`] plus `PEERS`
/// TCP slots. See the [module docs](self) for the slot life cycle and the
/// monitor events.
///
/// The application uses [`ZmtpSocket::socket_mut`] for `send`, `recv`,
/// subscriptions and the monitor, and drives the network with
/// [`ZmtpSocket::poll`] (or [`poll`] for several sockets).
#[derive(Debug)]
pub struct ZmtpSocket<'a, const PEERS: usize, const EVENTS: usize = 16, const EP: usize = 64> {
    socket: Socket<'a, PEERS, EVENTS, EP>,
    slots: [Slot<'a>; PEERS],
    listener: Option<IpListenEndpoint>,
    options: Options,
    rng: Rng,
    /// Offset of the next ephemeral port in the dynamic range.
    next_port: u16,
    /// The random source of CURVE connections ([`ZmtpSocket::new_curve`]).
    #[cfg(feature = "curve")]
    entropy: Option<Entropy<'a>>,
}

/// The caller's cryptographic random source, for CURVE connections.
#[cfg(feature = "curve")]
struct Entropy<'a>(&'a mut dyn rand_core::CryptoRngCore);

#[cfg(feature = "curve")]
impl core::fmt::Debug for Entropy<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Entropy")
    }
}

/// Attaches `bufs` to `socket`, with the random source when there is one.
fn core_attach<'a, const PEERS: usize, const EVENTS: usize, const EP: usize>(
    socket: &mut Socket<'a, PEERS, EVENTS, EP>,
    #[cfg(feature = "curve")] entropy: Option<&mut Entropy<'a>>,
    now: Instant,
    bufs: PeerBuffers<'a>,
    fd: u32,
    pair: EndpointPair<EP>,
) -> Result<PeerHandle, AttachError> {
    #[cfg(feature = "curve")]
    if let Some(Entropy(rng)) = entropy {
        return socket.attach_with_rng(now, bufs, &mut **rng, fd, pair);
    }
    socket.attach(now, bufs, fd, pair)
}

impl<'a, const PEERS: usize, const EVENTS: usize, const EP: usize>
    ZmtpSocket<'a, PEERS, EVENTS, EP>
{
    /// Wraps `socket` (freshly made, no peer attached) and adds one smoltcp
    /// TCP socket per slot to `sockets`.
    ///
    /// `seed` seeds the generator that stands for libzmq's random numbers:
    /// the reconnect jitter (the value of CONNECT_RETRIED with the default
    /// `reconnect_ivl_max` of 0), the choice of ephemeral ports, and ROUTER's
    /// first generated routing id. Pass a hardware random number or a
    /// per-device value; the same seed replays the same choices (tests).
    ///
    /// `sockets` must have room for `PEERS` more sockets: smoltcp's
    /// `SocketSet::add` panics when a set built on a fixed slice is full.
    ///
    /// # Errors
    ///
    /// [`AttachError::BufferTooSmall`] if a slot's `peer.tx` cannot hold
    /// the greeting and READY of this socket's configuration,
    /// [`AttachError::NoFreeSlot`] if `socket` already has peers. Each
    /// slot's buffers are tried once with the core (attached and detached
    /// again) before anything is added to `sockets`.
    pub fn new(
        socket: Socket<'a, PEERS, EVENTS, EP>,
        slots: [SlotBuffers<'a>; PEERS],
        sockets: &mut SocketSet<'a>,
        options: Options,
        seed: u32,
    ) -> Result<Self, AttachError> {
        Self::build(
            socket,
            slots,
            sockets,
            options,
            seed,
            #[cfg(feature = "curve")]
            None,
        )
    }

    /// [`ZmtpSocket::new`] for a socket whose mechanism is CURVE (or may
    /// be): `states` lends the core one CURVE state per slot (about 900
    /// bytes each; see `zmtp_core::conn::CurveState`) and `rng` is the
    /// cryptographic random source every connection draws its transient
    /// keys, cookie key and nonces from (96 bytes per connection at most),
    /// typically the board's TRNG. Each `ZmtpSocket` needs its own `rng`
    /// handle. A board without a TRNG must give it a CSPRNG seeded with
    /// secret, unpredictable bytes it keeps between boots (provisioned per
    /// device and mixed with a persisted counter); a device id or a boot
    /// counter alone is not enough (see `zmtp_core::conn::curve`).
    ///
    /// # Errors
    ///
    /// As [`ZmtpSocket::new`]; [`AttachError::NeedsCurveState`] if
    /// `states` has fewer than `PEERS` entries.
    #[cfg(feature = "curve")]
    pub fn new_curve(
        mut socket: Socket<'a, PEERS, EVENTS, EP>,
        slots: [SlotBuffers<'a>; PEERS],
        sockets: &mut SocketSet<'a>,
        options: Options,
        seed: u32,
        states: &'a mut [zmtp_core::conn::CurveState],
        rng: &'a mut dyn rand_core::CryptoRngCore,
    ) -> Result<Self, AttachError> {
        if states.len() < PEERS {
            return Err(AttachError::NeedsCurveState);
        }
        socket.lend_curve_states(states);
        Self::build(socket, slots, sockets, options, seed, Some(Entropy(rng)))
    }

    fn build(
        mut socket: Socket<'a, PEERS, EVENTS, EP>,
        mut slots: [SlotBuffers<'a>; PEERS],
        sockets: &mut SocketSet<'a>,
        options: Options,
        seed: u32,
        #[cfg(feature = "curve")] mut entropy: Option<Entropy<'a>>,
    ) -> Result<Self, AttachError> {
        for b in &mut slots {
            let peer = core::mem::replace(
                &mut b.peer,
                PeerBuffers {
                    rx: &mut [],
                    tx: &mut [],
                    subs: &mut [],
                },
            );
            let h = core_attach(
                &mut socket,
                #[cfg(feature = "curve")]
                entropy.as_mut(),
                Instant::ZERO,
                peer,
                0,
                EndpointPair::none(),
            )?;
            b.peer = socket.detach(h).ok_or(AttachError::NoFreeSlot)?;
        }
        let mut rng = Rng::new(seed);
        socket.set_routing_id_seed(rng.next_u32());
        let next_port = u16::try_from(rng.next_u32() >> 18).unwrap_or(0);
        let slots = slots.map(|b| {
            let mut tcp = tcp::Socket::new(
                tcp::SocketBuffer::new(b.tcp_rx),
                tcp::SocketBuffer::new(b.tcp_tx),
            );
            // libzmq sets TCP_NODELAY on every connection.
            tcp.set_nagle_enabled(false);
            Slot {
                tcp: sockets.add(tcp),
                bufs: Some(b.peer),
                role: Role::Free,
                state: State::Idle,
                remote: None,
            }
        });
        Ok(Self {
            socket,
            slots,
            listener: None,
            options,
            rng,
            next_port,
            #[cfg(feature = "curve")]
            entropy,
        })
    }

    /// The core socket (read side: type, peers, monitor).
    #[must_use]
    pub fn socket(&self) -> &Socket<'a, PEERS, EVENTS, EP> {
        &self.socket
    }

    /// The core socket: `send`, `recv`, `subscribe`, and the monitor
    /// (`monitor_mut().start(..)`, `pop()`). Call [`ZmtpSocket::poll`]
    /// after sending or receiving so that the output goes out and held-back
    /// input comes in.
    pub fn socket_mut(&mut self) -> &mut Socket<'a, PEERS, EVENTS, EP> {
        &mut self.socket
    }

    /// The next ZAP request of a handshake (RFC 27), with the peer's IP
    /// address for the request's address frame, when
    /// [`Options::zap_handler`] is set. Each request is returned once.
    ///
    /// Answer it through [`ZmtpSocket::socket_mut`] with the core's
    /// `handle_zap_reply`, `handle_zap_reply_frames` or
    /// `handle_zap_unavailable` for `query.peer`, then call
    /// [`ZmtpSocket::poll`]: the peer's bytes that arrived meanwhile stay in
    /// the TCP receive ring and are read on that poll. A request left
    /// unanswered holds its handshake until the handshake timer
    /// (`Config::handshake_ivl`) ends the connection, as a libzmq handler
    /// that never replies does.
    pub fn poll_zap_request(&mut self) -> Option<ZapQuery<'_>> {
        let (peer, request) = self.socket.poll_zap_request()?;
        let mut address = ZapAddress::new();
        let remote = self
            .slots
            .iter()
            .find(|s| s.state == State::Attached { peer })
            .and_then(|s| s.remote);
        if let Some(ip) = remote {
            // 45 bytes hold any IPv4 or IPv6 address's text form.
            let _ = write!(address, "{ip}");
        }
        Some(ZapQuery {
            peer,
            request,
            address,
        })
    }

    /// The transport options.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The transport options; changes apply to later connects and closes.
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    /// The bound endpoint (with the port actually used), if bound.
    #[must_use]
    pub fn bound(&self) -> Option<IpListenEndpoint> {
        self.listener
    }

    /// The monitor value of the listener ([`Options::handle_base`]).
    #[must_use]
    pub fn listener_handle(&self) -> u32 {
        self.options.handle_base
    }

    /// The monitor value of slot `index`: `handle_base + 1 + index`.
    #[must_use]
    pub fn slot_handle(&self, index: usize) -> u32 {
        let i = u32::try_from(index).unwrap_or(u32::MAX);
        self.options.handle_base.saturating_add(1).saturating_add(i)
    }

    /// The smoltcp handles of the slots' TCP sockets (for inspection).
    pub fn tcp_handles(&self) -> impl Iterator<Item = SocketHandle> + '_ {
        self.slots.iter().map(|s| s.tcp)
    }

    /// Peers with an established TCP connection attached to the core
    /// (handshaking or ready).
    #[must_use]
    pub fn attached(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s.state, State::Attached { .. }))
            .count()
    }

    /// Slots whose TCP socket listens.
    #[must_use]
    pub fn listening(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.state == State::Listening)
            .count()
    }

    /// Slots that lost their buffers to a refused attach and are out of
    /// service (see [`ZmtpSocket::new`] for how to avoid it).
    #[must_use]
    pub fn broken(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.state == State::Broken)
            .count()
    }

    // ------------------------------------------------------------------
    // bind / connect
    // ------------------------------------------------------------------

    /// `zmq_bind`: listens on `endpoint` (an unspecified address listens on
    /// every address of the interface; port 0 picks a free port from the
    /// dynamic range) with every free slot, and records LISTENING.
    /// Returns the endpoint with the port used.
    ///
    /// Each accepted connection raises ACCEPTED and is attached to the
    /// core; when it closes, its slot listens again.
    ///
    /// # Errors
    ///
    /// See [`BindError`]; each also records BIND_FAILED with
    /// [`BindError::errno`].
    pub fn bind(
        &mut self,
        endpoint: impl Into<IpListenEndpoint>,
        sockets: &mut SocketSet<'a>,
    ) -> Result<IpListenEndpoint, BindError> {
        let mut ep: IpListenEndpoint = endpoint.into();
        let result = match self.listener {
            Some(bound) if bound == ep => Err(BindError::AddressInUse),
            Some(_) => Err(BindError::AlreadyBound),
            None if !self.slots.iter().any(Self::is_free) => Err(BindError::NoFreeSlot),
            None => Ok(()),
        };
        if let Err(e) = result {
            self.socket
                .monitor_mut()
                .record_with(Event::BindFailed { errno: e.errno() }, || {
                    EndpointPair::bind(&endpoint::bare_listen(ep))
                });
            return Err(e);
        }
        if ep.port == 0 {
            ep.port = self.next_ephemeral_port();
        }
        self.listener = Some(ep);
        for slot in &mut self.slots {
            if Self::is_free(slot) {
                slot.role = Role::Bind;
                if let Some(tcp) = tcp_socket(sockets, slot.tcp) {
                    Self::arm(slot, tcp, ep);
                }
            }
        }
        let fd = self.listener_handle();
        self.socket
            .monitor_mut()
            .record_with(Event::Listening { fd }, || {
                EndpointPair::bind(&endpoint::tcp_listen(ep))
            });
        debug!("zmtp-smoltcp: listening on port {}", ep.port);
        Ok(ep)
    }

    /// `zmq_unbind`: stops listening, records CLOSED for the listener, and
    /// closes the connections it accepted without an event (libzmq tears
    /// them down silently).
    ///
    /// # Errors
    ///
    /// [`NotFound`] if the socket is not bound.
    pub fn unbind(&mut self, sockets: &mut SocketSet<'a>) -> Result<(), NotFound> {
        let ep = self.listener.take().ok_or(NotFound)?;
        let fd = self.listener_handle();
        self.socket
            .monitor_mut()
            .record_with(Event::Closed { fd }, || {
                EndpointPair::bind(&endpoint::tcp_listen(ep))
            });
        for slot in &mut self.slots {
            if slot.role != Role::Bind {
                continue;
            }
            slot.role = Role::Free;
            match slot.state {
                State::Attached { peer } => self.socket.close_peer(peer),
                State::Closing { .. } | State::Broken => {}
                _ => {
                    if let Some(tcp) = tcp_socket(sockets, slot.tcp) {
                        tcp.abort();
                    }
                    slot.state = State::Idle;
                }
            }
        }
        Ok(())
    }

    /// `zmq_connect`: connects a free slot to `remote`, now and again
    /// whenever the connection fails (with the [`Backoff`] of
    /// [`Options::reconnect_ivl_ms`] and [`Options::reconnect_ivl_max_ms`]).
    /// The first attempt starts at the next [`ZmtpSocket::poll`], which
    /// records CONNECT_DELAYED when the SYN goes out.
    ///
    /// A bound socket lends one of its listening slots if no slot is free,
    /// as long as another one keeps listening; the slot listens again once
    /// the connecter ends ([`ZmtpSocket::disconnect`], a protocol error,
    /// or reconnecting disabled).
    ///
    /// # Errors
    ///
    /// See [`ConnectError`]; no monitor event is raised.
    pub fn connect(&mut self, remote: impl Into<IpEndpoint>) -> Result<(), ConnectError> {
        let remote: IpEndpoint = remote.into();
        if remote.port == 0 || remote.addr.is_unspecified() {
            return Err(ConnectError::Unaddressable);
        }
        if self.connecter(remote).is_some() {
            return Err(ConnectError::AlreadyConnected);
        }
        let bind_slots = self.slots.iter().filter(|s| s.role == Role::Bind).count();
        let index = self.slots.iter().position(Self::is_free).or_else(|| {
            (bind_slots > 1)
                .then(|| {
                    self.slots.iter().position(|s| {
                        s.role == Role::Bind && matches!(s.state, State::Idle | State::Listening)
                    })
                })
                .flatten()
        });
        let slot = index
            .and_then(|i| self.slots.get_mut(i))
            .ok_or(ConnectError::NoFreeSlot)?;
        slot.role = Role::Connect {
            remote,
            backoff: Backoff::new(
                self.options.reconnect_ivl_ms,
                self.options.reconnect_ivl_max_ms,
            ),
        };
        // A lent listening socket is aborted by the attempt.
        slot.state = State::Waiting { at: Instant::ZERO };
        Ok(())
    }

    /// `zmq_disconnect`: stops connecting to `remote`. An attempt in flight
    /// is aborted with CLOSED; an established connection is closed without
    /// an event (libzmq raises none for a local close).
    ///
    /// # Errors
    ///
    /// [`NotFound`] if the socket does not connect to `remote`.
    pub fn disconnect(
        &mut self,
        remote: impl Into<IpEndpoint>,
        sockets: &mut SocketSet<'a>,
    ) -> Result<(), NotFound> {
        let remote: IpEndpoint = remote.into();
        let index = self.connecter(remote).ok_or(NotFound)?;
        let fd = self.slot_handle(index);
        let slot = self.slots.get_mut(index).ok_or(NotFound)?;
        slot.role = Role::Free;
        match slot.state {
            State::Attached { peer } => self.socket.close_peer(peer),
            State::Closing {
                peer,
                deadline,
                wait_reads,
                ..
            } => {
                slot.state = State::Closing {
                    peer,
                    deadline,
                    retry_at: None,
                    wait_reads,
                };
            }
            State::Connecting { .. } => {
                if let Some(tcp) = tcp_socket(sockets, slot.tcp) {
                    tcp.abort();
                }
                slot.role = idle_role(self.listener);
                slot.state = State::Idle;
                self.socket
                    .monitor_mut()
                    .record_with(Event::Closed { fd }, || {
                        EndpointPair::connect(&endpoint::tcp(remote))
                    });
            }
            State::Broken => {}
            _ => {
                slot.role = idle_role(self.listener);
                slot.state = State::Idle;
            }
        }
        Ok(())
    }

    /// One turn of the network for this socket alone: [`poll`] with
    /// `&mut [self]`. Returns the next deadline.
    pub fn poll<D: Device + ?Sized>(
        &mut self,
        now: NetInstant,
        iface: &mut Interface,
        device: &mut D,
        sockets: &mut SocketSet<'a>,
    ) -> Option<NetInstant> {
        poll(now, iface, device, sockets, &mut [self])
    }

    // ------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------

    fn is_free(slot: &Slot<'a>) -> bool {
        slot.role == Role::Free && slot.state == State::Idle && slot.bufs.is_some()
    }

    fn connecter(&self, remote: IpEndpoint) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| matches!(s.role, Role::Connect { remote: r, .. } if r == remote))
    }

    fn next_ephemeral_port(&mut self) -> u16 {
        let offset = self.next_port % EPHEMERAL_PORT_COUNT;
        self.next_port = offset.wrapping_add(1) % EPHEMERAL_PORT_COUNT;
        EPHEMERAL_PORT_FIRST.saturating_add(offset)
    }

    /// Makes a bind slot's TCP socket listen.
    fn arm(slot: &mut Slot<'a>, tcp: &mut tcp::Socket<'a>, ep: IpListenEndpoint) {
        if tcp.is_open() && !tcp.is_listening() {
            tcp.abort();
        }
        match tcp.listen(ep) {
            Ok(()) => slot.state = State::Listening,
            Err(_) => {
                warn!("zmtp-smoltcp: listen failed");
                slot.state = State::Idle;
            }
        }
    }

    fn service_slot(
        &mut self,
        index: usize,
        now: Instant,
        iface: &mut Interface,
        sockets: &mut SocketSet<'a>,
    ) {
        let fd = self.slot_handle(index);
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        let Some(tcp) = tcp_socket(sockets, slot.tcp) else {
            return;
        };
        match slot.state {
            State::Idle => {
                if slot.role == Role::Bind
                    && let Some(ep) = self.listener
                {
                    Self::arm(slot, tcp, ep);
                }
            }
            State::Listening => match tcp.state() {
                tcp::State::Listen | tcp::State::SynReceived => {}
                tcp::State::Established | tcp::State::CloseWait => {
                    self.accepted(index, fd, now, tcp);
                }
                _ => {
                    if let Some(ep) = self.listener {
                        Self::arm(slot, tcp, ep);
                    }
                }
            },
            State::Waiting { at } => {
                if now >= at {
                    self.attempt(index, fd, now, iface, tcp);
                }
            }
            State::Connecting { since } => match tcp.state() {
                tcp::State::SynSent | tcp::State::SynReceived => {
                    let timeout = self.options.connect_timeout.map(duration_to_core);
                    if timeout.is_some_and(|t| now >= since.saturating_add(t)) {
                        tcp.abort();
                        self.attempt_failed(index, fd, now);
                    }
                }
                tcp::State::Established | tcp::State::CloseWait => {
                    self.connected(index, fd, now, tcp);
                }
                _ => {
                    tcp.abort();
                    self.attempt_failed(index, fd, now);
                }
            },
            State::Attached { peer } => {
                Self::pump(&mut self.socket, peer, now, tcp);
            }
            State::Closing {
                peer,
                deadline,
                retry_at,
                wait_reads,
            } => {
                Self::flush(&mut self.socket, peer, now, tcp);
                let flushed = !self.socket.has_pending_output(peer) || !tcp.may_send();
                let unread = wait_reads && self.socket.peer(peer).is_some_and(|c| c.has_message());
                if (flushed && !unread) || now >= deadline {
                    slot.bufs = self.socket.detach(peer);
                    slot.remote = None;
                    tcp.close();
                    slot.state = if slot.bufs.is_none() {
                        State::Broken
                    } else {
                        match (slot.role, retry_at) {
                            (Role::Bind, _) => State::Lingering {
                                until: now
                                    .saturating_add(duration_to_core(self.options.close_linger)),
                            },
                            (Role::Connect { .. }, Some(at)) => State::Waiting { at },
                            (Role::Connect { .. }, None) | (Role::Free, _) => {
                                slot.role = idle_role(self.listener);
                                State::Idle
                            }
                        }
                    };
                }
            }
            State::Lingering { until } => {
                if !tcp.is_open() || now >= until {
                    match (slot.role, self.listener) {
                        (Role::Bind, Some(ep)) => Self::arm(slot, tcp, ep),
                        _ => slot.state = State::Idle,
                    }
                }
            }
            State::Broken => {}
        }
    }

    /// Attaches slot `index`'s buffers to the core as a connection with
    /// `pair`, records `event` (ACCEPTED or CONNECTED, with libzmq's order:
    /// after the engine is attached) and pumps it once. Returns `false` when
    /// the core refused the connection (the slot's buffers are then gone).
    fn attach_slot(
        &mut self,
        index: usize,
        event: Event,
        pair: EndpointPair<EP>,
        remote: IpAddress,
        now: Instant,
        tcp: &mut tcp::Socket<'a>,
    ) -> bool {
        let Some(slot) = self.slots.get_mut(index) else {
            return false;
        };
        let (Event::Accepted { fd } | Event::Connected { fd }) = event else {
            return false;
        };
        let attached = match slot.bufs.take() {
            Some(bufs) => core_attach(
                &mut self.socket,
                #[cfg(feature = "curve")]
                self.entropy.as_mut(),
                now,
                bufs,
                fd,
                pair.clone(),
            )
            .ok(),
            None => None,
        };
        let Some(peer) = attached else {
            return false;
        };
        slot.state = State::Attached { peer };
        slot.remote = Some(remote);
        self.socket.monitor_mut().record(event, pair);
        Self::pump(&mut self.socket, peer, now, tcp);
        true
    }

    /// A listening slot's connection is established: attach it and record
    /// ACCEPTED.
    fn accepted(&mut self, index: usize, fd: u32, now: Instant, tcp: &mut tcp::Socket<'a>) {
        if self.slots.get(index).is_none() {
            return;
        }
        let (Some(local), Some(remote)) = (tcp.local_endpoint(), tcp.remote_endpoint()) else {
            tcp.abort();
            return;
        };
        let pair = EndpointPair::bind_pair(&endpoint::tcp(local), &endpoint::tcp(remote));
        if !self.attach_slot(index, Event::Accepted { fd }, pair, remote.addr, now, tcp) {
            tcp.abort();
            if let Some(slot) = self.slots.get_mut(index) {
                slot.state = State::Broken;
            }
            let listener = self.listener;
            self.socket.monitor_mut().record_with(
                Event::AcceptFailed {
                    errno: errno::ENOBUFS,
                },
                || match listener {
                    Some(ep) => EndpointPair::bind(&endpoint::tcp_listen(ep)),
                    None => EndpointPair::bind(""),
                },
            );
            warn!("zmtp-smoltcp: accepted connection refused by the core");
        }
    }

    /// A connecting slot's connection is established: attach it and record
    /// CONNECTED.
    fn connected(&mut self, index: usize, fd: u32, now: Instant, tcp: &mut tcp::Socket<'a>) {
        let Some(Role::Connect { remote, .. }) = self.slots.get(index).map(|slot| &slot.role)
        else {
            return;
        };
        let remote = *remote;
        let Some(local) = tcp.local_endpoint() else {
            tcp.abort();
            return;
        };
        let pair = EndpointPair::connect_pair(&endpoint::tcp(local), &endpoint::tcp(remote));
        if !self.attach_slot(index, Event::Connected { fd }, pair, remote.addr, now, tcp) {
            let Some(slot) = self.slots.get_mut(index) else {
                return;
            };
            // The connecter closes its socket and gives up: without
            // buffers it cannot carry a connection.
            tcp.abort();
            slot.state = State::Broken;
            slot.role = Role::Free;
            self.socket
                .monitor_mut()
                .record_with(Event::Closed { fd }, || {
                    EndpointPair::connect(&endpoint::tcp(remote))
                });
            warn!("zmtp-smoltcp: connection refused by the core");
        }
    }

    /// Starts a connect attempt: CONNECT_DELAYED when the SYN is queued,
    /// CLOSED and a retry when smoltcp refuses at once (no route).
    fn attempt(
        &mut self,
        index: usize,
        fd: u32,
        now: Instant,
        iface: &mut Interface,
        tcp: &mut tcp::Socket<'a>,
    ) {
        let port = self.next_ephemeral_port();
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        let Role::Connect { remote, .. } = slot.role else {
            slot.state = State::Idle;
            return;
        };
        if tcp.is_open() {
            tcp.abort();
        }
        match tcp.connect(iface.context(), remote, port) {
            Ok(()) => {
                slot.state = State::Connecting { since: now };
                self.socket.monitor_mut().record_with(
                    Event::ConnectDelayed {
                        errno: errno::EINPROGRESS,
                    },
                    || EndpointPair::connect(&endpoint::tcp(remote)),
                );
            }
            Err(_) => self.attempt_failed(index, fd, now),
        }
    }

    /// A connect attempt failed: CLOSED, then CONNECT_RETRIED with the
    /// connecter's next interval (or the connecter ends if reconnecting is
    /// off).
    fn attempt_failed(&mut self, index: usize, fd: u32, now: Instant) {
        let Some(Role::Connect { remote, .. }) = self.slots.get(index).map(|s| s.role) else {
            if let Some(slot) = self.slots.get_mut(index) {
                slot.state = State::Idle;
            }
            return;
        };
        self.socket
            .monitor_mut()
            .record_with(Event::Closed { fd }, || {
                EndpointPair::connect(&endpoint::tcp(remote))
            });
        let next = self.schedule_retry(index, now);
        if let Some(slot) = self.slots.get_mut(index) {
            if let Some(at) = next {
                slot.state = State::Waiting { at };
            } else {
                slot.role = idle_role(self.listener);
                slot.state = State::Idle;
            }
        }
    }

    /// Draws the connecter's next interval and records CONNECT_RETRIED;
    /// returns when to try again, or `None` when reconnecting is off.
    fn schedule_retry(&mut self, index: usize, now: Instant) -> Option<Instant> {
        let random = self.rng.next_u32();
        let slot = self.slots.get_mut(index)?;
        let Role::Connect { remote, backoff } = &mut slot.role else {
            return None;
        };
        let remote = *remote;
        let ivl = backoff.next_interval(random)?;
        self.socket
            .monitor_mut()
            .record_with(Event::ConnectRetried { interval_ms: ivl }, || {
                EndpointPair::connect(&endpoint::tcp(remote))
            });
        Some(now.saturating_add(zmtp_core::Duration::from_millis(u64::from(ivl))))
    }

    /// Input from TCP into the core, the core's output into TCP, and the
    /// transport's end into the core.
    fn pump(
        socket: &mut Socket<'a, PEERS, EVENTS, EP>,
        peer: PeerHandle,
        now: Instant,
        tcp: &mut tcp::Socket<'a>,
    ) {
        for _ in 0..MAX_IO_PASSES {
            let r = tcp.recv(|buf| {
                let n = socket.handle_input(now, peer, buf);
                (n, n)
            });
            match r {
                Ok(n) if n > 0 => {}
                Ok(_) => break,
                Err(tcp::RecvError::Finished) => {
                    // FIN after everything was consumed: end of stream.
                    socket.handle_transport_closed(now, peer);
                    break;
                }
                Err(tcp::RecvError::InvalidState) => {
                    if !tcp.is_active() {
                        // Reset by the peer, or smoltcp gave up.
                        socket.handle_transport_error(now, peer, errno::ECONNRESET);
                    }
                    break;
                }
            }
        }
        Self::flush(socket, peer, now, tcp);
    }

    /// The core's pending output for `peer` into the TCP transmit ring.
    fn flush(
        socket: &mut Socket<'a, PEERS, EVENTS, EP>,
        peer: PeerHandle,
        now: Instant,
        tcp: &mut tcp::Socket<'a>,
    ) {
        for _ in 0..MAX_IO_PASSES {
            let r = tcp.send(|buf| {
                let n = socket.poll_transmit(now, peer, buf);
                (n, n)
            });
            if !matches!(r, Ok(n) if n > 0) {
                break;
            }
        }
    }

    /// Closes reported by the core: CONNECT_RETRIED right away for a
    /// connection we made (libzmq's new connecter starts from the base
    /// interval), then the slot flushes and detaches.
    fn handle_closes(&mut self, now: Instant) {
        let readable = !matches!(
            self.socket.socket_type(),
            SocketType::Pub | SocketType::XPub | SocketType::Push
        );
        // poll_closed reports each close once; at most PEERS are pending.
        for _ in 0..=PEERS {
            let Some((peer, reason)) = self.socket.poll_closed() else {
                break;
            };
            let Some(index) = self
                .slots
                .iter()
                .position(|s| s.state == State::Attached { peer })
            else {
                // Not carried by a slot (already detached): nothing to do.
                continue;
            };
            let is_connect = matches!(
                self.slots.get(index).map(|s| s.role),
                Some(Role::Connect { .. })
            );
            let mut retry_at = None;
            if is_connect {
                if reason.should_reconnect() {
                    if let Some(Slot {
                        role: Role::Connect { backoff, .. },
                        ..
                    }) = self.slots.get_mut(index)
                    {
                        backoff.reset();
                    }
                    retry_at = self.schedule_retry(index, now);
                }
                if retry_at.is_none()
                    && let Some(slot) = self.slots.get_mut(index)
                {
                    // Protocol error or reconnecting off: the connecter
                    // ends, as libzmq terminates the session.
                    slot.role = Role::Free;
                }
            }
            if let Some(slot) = self.slots.get_mut(index) {
                slot.state = State::Closing {
                    peer,
                    deadline: now.saturating_add(duration_to_core(self.options.close_linger)),
                    retry_at,
                    wait_reads: readable && reason != DisconnectReason::LocalClose,
                };
            }
        }
    }

    fn service_all(&mut self, now: NetInstant, iface: &mut Interface, sockets: &mut SocketSet<'a>) {
        let now = to_core(now);
        if self.socket.poll_timeout().is_some_and(|t| t <= now) {
            self.socket.handle_timeout(now);
        }
        for i in 0..PEERS {
            self.service_slot(i, now, iface, sockets);
        }
        if !self.options.zap_handler {
            self.answer_zap_unavailable(now);
        }
        self.handle_closes(now);
        // A second pass flushes the last output of what just closed and
        // frees the slots that are done.
        for i in 0..PEERS {
            self.service_slot(i, now, iface, sockets);
        }
        self.handle_closes(now);
    }

    /// No ZAP handler: every pending request gets libzmq's "nothing bound
    /// at `inproc://zeromq.zap.01`" answer. The second service pass then
    /// reads the input the requests held back.
    fn answer_zap_unavailable(&mut self, now: Instant) {
        // At most one request per peer is pending.
        for _ in 0..PEERS {
            let Some((peer, _)) = self.socket.poll_zap_request() else {
                break;
            };
            let _ = self.socket.handle_zap_unavailable(now, peer);
        }
    }

    fn next_deadline(&self, now: NetInstant, sockets: &SocketSet<'a>) -> Option<NetInstant> {
        let znow = to_core(now);
        let mut next = self.socket.poll_timeout();
        for slot in &self.slots {
            let tcp = tcp_socket_ref(sockets, slot.tcp);
            let at = match slot.state {
                State::Waiting { at } => Some(at),
                State::Connecting { since } => self
                    .options
                    .connect_timeout
                    .map(|t| since.saturating_add(duration_to_core(t))),
                State::Attached { peer } => {
                    let out = self.socket.has_pending_output(peer)
                        && tcp.is_some_and(tcp::Socket::can_send);
                    let input =
                        tcp.is_some_and(tcp::Socket::can_recv) && !self.socket.is_rx_blocked(peer);
                    (out || input).then_some(znow)
                }
                State::Closing { peer, deadline, .. } => {
                    let out = self.socket.has_pending_output(peer)
                        && tcp.is_some_and(tcp::Socket::can_send);
                    Some(if out { znow } else { deadline })
                }
                State::Lingering { until } => Some(until),
                State::Idle | State::Listening | State::Broken => None,
            };
            next = earliest(next, at);
        }
        next.map(to_net)
    }
}

impl<'a, const PEERS: usize, const EVENTS: usize, const EP: usize> Drive<'a>
    for ZmtpSocket<'a, PEERS, EVENTS, EP>
{
    fn service(&mut self, now: NetInstant, iface: &mut Interface, sockets: &mut SocketSet<'a>) {
        self.service_all(now, iface, sockets);
    }

    fn poll_at(&self, now: NetInstant, sockets: &SocketSet<'a>) -> Option<NetInstant> {
        self.next_deadline(now, sockets)
    }
}
