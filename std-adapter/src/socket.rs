//! The application side of a socket.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use core::time::Duration as StdDuration;
use std::fmt;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant as StdInstant;

use socket2::{Domain, Socket as RawSocket, Type};
use zmtp_core::SocketType;
use zmtp_core::conn::MAX_PARTS;
use zmtp_core::monitor::{EndpointPair, Event, EventMask, EventVersion, Monitor, MonitorError};
use zmtp_core::socket::{Frame, PeerHandle, RecvError, SendError};
use zmtp_core::{
    Duration,
    conn::{Config, Connection},
};

use crate::context::ContextInner;
use crate::endpoint::{self, IpcPath, Target, Transport};
use crate::error::{Error, Result};
use crate::io::{Command, Listener, fd_value};
use crate::metadata::Metadata;
use crate::monitor::{Channel, EP, Registry};
use crate::sync::lock_busy;

/// The core socket every adapter socket wraps.
pub(crate) type CoreSocket =
    zmtp_core::socket::Socket<'static, { crate::MAX_PEERS }, { crate::CORE_EVENTS }, EP>;

/// Backlog of listening sockets (libzmq's `ZMQ_BACKLOG` default).
const BACKLOG: i32 = 100;
/// The smallest per-connection buffer accepted by
/// [`Socket::set_buffer_sizes`]: room for the greeting and READY.
const MIN_BUFFER: usize = 1024;

/// A random number (libzmq `generate_random`), for reconnect jitter and
/// ROUTER's first generated routing id.
pub(crate) fn random_u32() -> u32 {
    use core::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let v = h.finish();
    u32::try_from(v >> 32).unwrap_or(0) ^ u32::try_from(v & 0xFFFF_FFFF).unwrap_or(0)
}

/// Options the adapter itself implements (the rest live in the core's
/// `Config`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) linger: i32,
    pub(crate) reconnect_ivl: i32,
    pub(crate) reconnect_ivl_max: i32,
    pub(crate) rcvtimeo: i32,
    pub(crate) sndtimeo: i32,
    pub(crate) rx_buffer: usize,
    pub(crate) tx_buffer: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            linger: -1,
            reconnect_ivl: zmtp_core::reconnect::DEFAULT_RECONNECT_IVL_MS,
            reconnect_ivl_max: zmtp_core::reconnect::DEFAULT_RECONNECT_IVL_MAX_MS,
            rcvtimeo: -1,
            sndtimeo: -1,
            rx_buffer: crate::DEFAULT_BUFFER_SIZE,
            tx_buffer: crate::DEFAULT_BUFFER_SIZE,
        }
    }
}

/// A bound or connected endpoint, as `unbind`/`disconnect` match it.
#[derive(Debug)]
pub(crate) struct EndpointEntry {
    id: u64,
    /// Bound: the resolved endpoint; connected: the user's string.
    endpoint: String,
}

/// Everything the application and the I/O thread share about a socket.
pub(crate) struct State {
    pub(crate) core: Box<CoreSocket>,
    pub(crate) opts: Options,
    endpoints: Vec<EndpointEntry>,
    pub(crate) last_endpoint: String,
    /// The active monitor's inproc name and endpoint queue.
    monitor: Option<(String, Arc<Channel>)>,
    closing: bool,
    pub(crate) closed: bool,
    /// The I/O thread holds input the core could not take yet (or the
    /// application thread read some, [`crate::io::recv_direct`]): reading
    /// makes room for it.
    pub(crate) io_waiting: bool,
    /// The core deadline the I/O thread waits for (input fed by the
    /// application thread may arm an earlier one).
    pub(crate) io_deadline: Option<zmtp_core::Instant>,
    /// `ZMQ_PLAIN_USERNAME` / `ZMQ_PLAIN_PASSWORD` as set, and whether the
    /// socket's connections may ask ZAP.
    pub(crate) credentials: crate::security::Credentials,
    /// Closed peers keep unread messages: the I/O thread frees them once
    /// they are read.
    pub(crate) io_draining: bool,
    /// Threads waiting on the socket's condition variable (the I/O thread
    /// signals it only when there are some).
    pub(crate) waiters: usize,
    /// Each peer slot's properties, set by the I/O thread when the peer's
    /// handshake succeeds (before any of its messages can be received).
    pub(crate) peer_meta: Vec<Option<Arc<Metadata>>>,
    /// The connections' application-side transmit handles.
    pub(crate) direct: Vec<crate::io::DirectTx>,
    /// A call waited since the last send: the next send writes its output
    /// itself where it can ([`crate::io::send_direct`]). Sends in a burst
    /// leave their output to the I/O thread, which batches it.
    waited_since_send: bool,
    /// The last call was a send of at most [`SPIN_MAX_SEND`] bytes: a
    /// receive that has to wait watches for this long ([`recv_spin`])
    /// before it sleeps, reading the connections that send went to itself.
    spin_recv: Option<StdDuration>,
    /// Large frame bodies the I/O thread read outside the lock.
    pub(crate) bodies: crate::bodies::Bodies,
    /// Large frame bodies waiting to be written ([`crate::outgoing`]).
    pub(crate) outgoing: crate::outgoing::Outgoing,
}

/// The copies a send made of its large frames, by frame.
type Held = [Option<Vec<u8>>; MAX_PARTS];

/// A frame handed to a receive's sink: lent, or a body of its own (which
/// the sink keeps, giving back a buffer to reuse, if it has one).
enum Part<'a> {
    Bytes(&'a [u8]),
    Owned(Vec<u8>),
}

/// Whether, and until when, a waiting receive watches for its reply
/// before it sleeps.
#[derive(Clone, Copy)]
enum Watch {
    /// Sleep at once.
    Off,
    /// Watch for up to this long from the first wait.
    Armed(StdDuration),
    /// Watching until then.
    Until(StdInstant),
}

impl State {
    /// Records `peer`'s properties for the messages it sends.
    pub(crate) fn set_metadata(&mut self, peer: PeerHandle, meta: Arc<Metadata>) {
        let i = peer.index();
        if self.peer_meta.len() <= i {
            self.peer_meta.resize(i.saturating_add(1), None);
        }
        if let Some(slot) = self.peer_meta.get_mut(i) {
            *slot = Some(meta);
        }
    }

    /// Forgets what was kept for a detached peer's connection: its
    /// properties (messages already received keep theirs), the large
    /// bodies it read and those it did not write.
    pub(crate) fn forget_peer(&mut self, peer: PeerHandle) {
        if let Some(slot) = self.peer_meta.get_mut(peer.index()) {
            *slot = None;
        }
        self.bodies.forget(peer);
        self.outgoing.forget(peer);
    }

    /// Records an endpoint for `unbind`.
    pub(crate) fn add_endpoint(&mut self, id: u64, endpoint: &str) {
        self.endpoints.push(EndpointEntry {
            id,
            endpoint: endpoint.to_owned(),
        });
    }

    /// Forgets an endpoint; returns whether it was there.
    pub(crate) fn remove_endpoint(&mut self, endpoint: &str) -> bool {
        let before = self.endpoints.len();
        self.endpoints.retain(|e| e.endpoint != endpoint);
        self.endpoints.len() != before
    }

    /// Moves the core's queued monitor events to the monitor's endpoint.
    pub(crate) fn drain_monitor(&mut self) {
        let m = self.core.monitor_mut();
        if m.queue().is_empty() && m.dropped() == 0 {
            return;
        }
        let version = m.version();
        let dropped = m.queue_mut().take_dropped();
        let mut events = Vec::with_capacity(m.queue().len());
        while let Some(e) = m.pop() {
            events.push((e, version));
        }
        if let Some((_, ch)) = &self.monitor {
            ch.push_all(events, dropped);
        }
    }

    /// Stops the monitor (`MONITOR_STOPPED` to its endpoint, if in the
    /// mask) and frees its inproc name.
    pub(crate) fn stop_monitor(&mut self, registry: &Registry) {
        self.drain_monitor();
        self.core.monitor_mut().stop();
        self.drain_monitor();
        if let Some((name, ch)) = self.monitor.take() {
            registry.release(&name, &ch);
        }
    }
}

/// A socket as both threads see it.
pub(crate) struct SocketShared {
    pub(crate) id: u64,
    pub(crate) state: Mutex<State>,
    /// Signalled by the I/O thread after input, output and closes.
    pub(crate) cond: Condvar,
    /// A `Kick` is queued and not yet handled.
    pub(crate) kick_pending: AtomicBool,
    /// Counts the I/O thread's locked rounds (input fed, output taken,
    /// closes): a receive about to block watches it for a short while
    /// before it sleeps on [`SocketShared::cond`].
    pub(crate) rounds: AtomicU64,
    /// Buffers for large frames sent ([`crate::outgoing`]), filled before
    /// the lock is taken.
    pub(crate) spares: Arc<crate::outgoing::Spares>,
    /// The largest transmit buffer this socket's connections can have (the
    /// largest [`Socket::set_buffer_sizes`] ever set): a message of more
    /// bytes fits none, and its frames are not copied before the core
    /// refuses it.
    tx_limit: AtomicUsize,
    /// A receive waited since the last send of large frames: the next one
    /// leaves them in the caller's buffers ([`crate::io::send_lent`]), as
    /// its connection is likely idle (a request after its reply, a reply
    /// after its request). Sends in a stream (which wait for room, not for
    /// input) copy them before the lock is taken and leave them to the I/O
    /// thread, which batches them.
    lend: AtomicBool,
}

/// How long a receive watches for its reply before it sleeps, reading the
/// connections its last send went to itself and watching
/// [`SocketShared::rounds`]: a reply that comes sooner is picked up
/// without a wake-up of either thread. This long after a small send;
/// [`RECV_SPIN_PER_KIB`] more per KiB sent, as a larger request takes
/// longer to carry and to answer.
const RECV_SPIN: StdDuration = StdDuration::from_micros(20);
/// The watch's extension per KiB of the send before it.
const RECV_SPIN_PER_KIB: StdDuration = StdDuration::from_micros(1);
/// The longest watch (after a send of 80 KiB or more).
const RECV_SPIN_MAX: StdDuration = StdDuration::from_micros(100);
/// The largest message after which a receive watches before it sleeps
/// (the reply to a larger one rarely comes within [`RECV_SPIN_MAX`], and
/// the watching would take the processor from the threads that carry it).
const SPIN_MAX_SEND: usize = 128 * 1024;

/// How long a receive right after a send of `sent` bytes watches for its
/// reply; `None` after a send too large to watch for.
fn recv_spin(sent: usize) -> Option<StdDuration> {
    if sent > SPIN_MAX_SEND {
        return None;
    }
    let kib = u32::try_from(sent / 1024).unwrap_or(u32::MAX);
    Some(
        RECV_SPIN
            .saturating_add(RECV_SPIN_PER_KIB.saturating_mul(kib))
            .min(RECV_SPIN_MAX),
    )
}

/// How long a blocking call may wait.
#[derive(Clone, Copy)]
enum Wait {
    Never,
    Forever,
    Until(StdInstant),
    /// As `ZMQ_RCVTIMEO` says, read under the lock the call takes anyway.
    Rcvtimeo,
    /// As `ZMQ_SNDTIMEO` says.
    Sndtimeo,
}

impl Wait {
    /// The wait for a call on a socket with options `opts`.
    fn resolve(self, opts: &Options) -> Self {
        match self {
            Self::Rcvtimeo => Self::from_option(opts.rcvtimeo),
            Self::Sndtimeo => Self::from_option(opts.sndtimeo),
            w => w,
        }
    }

    /// libzmq's `RCVTIMEO`/`SNDTIMEO` meaning: -1 forever, 0 never, else ms.
    fn from_option(ms: i32) -> Self {
        match u64::try_from(ms) {
            Err(_) => Self::Forever,
            Ok(0) => Self::Never,
            Ok(ms) => Self::after(StdDuration::from_millis(ms)),
        }
    }

    fn after(t: StdDuration) -> Self {
        StdInstant::now()
            .checked_add(t)
            .map_or(Self::Forever, Self::Until)
    }
}

fn map_send(e: SendError) -> Error {
    match e {
        SendError::NotSupported => Error::NotSupported,
        SendError::Efsm => Error::Fsm,
        SendError::EmptyMessage => Error::Invalid,
        _ => Error::MessageTooLarge,
    }
}

fn map_recv(e: RecvError) -> Error {
    match e {
        RecvError::NotSupported => Error::NotSupported,
        RecvError::Efsm => Error::Fsm,
        _ => Error::MessageTooLarge,
    }
}

fn map_monitor(e: MonitorError) -> Error {
    match e {
        MonitorError::ProtocolNotSupported => Error::ProtocolNotSupported,
        MonitorError::IncompatibleProtocol => Error::IncompatibleProtocol,
        MonitorError::EndpointTooLong => Error::NameTooLong,
        _ => Error::Invalid,
    }
}

/// A ZeroMQ socket (libzmq `zmq_socket`): create it with
/// [`Context::socket`](crate::Context::socket).
///
/// Calls lock the socket briefly; the socket may be shared between threads
/// (`&Socket` is enough for every call but [`Socket::close`]). Connections
/// progress on the context's I/O thread whether or not the application
/// calls in.
///
/// Options apply to connections made after they are set (libzmq applies
/// most of them at `bind`/`connect` time).
pub struct Socket {
    pub(crate) shared: Arc<SocketShared>,
    pub(crate) ctx: Arc<ContextInner>,
    socket_type: SocketType,
    closed: bool,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.shared.id)
            .field("socket_type", &self.socket_type)
            .finish_non_exhaustive()
    }
}

impl Socket {
    pub(crate) fn new(ctx: Arc<ContextInner>, socket_type: SocketType) -> Result<Self> {
        let aux: &'static mut [u8] = match socket_type {
            SocketType::Sub | SocketType::XSub | SocketType::XPub => {
                Box::leak(vec![0u8; crate::AUX_BUFFER].into_boxed_slice())
            }
            _ => &mut [],
        };
        let mut core = Box::new(CoreSocket::new(Config::new(socket_type), aux));
        core.set_routing_id_seed(random_u32());
        // The I/O thread copies each peer's metadata for `Message::property`.
        core.set_hold_metadata(true);
        let spares = Arc::new(crate::outgoing::Spares::default());
        let shared = Arc::new(SocketShared {
            id: ctx.next_id(),
            state: Mutex::new(State {
                core,
                opts: Options::default(),
                endpoints: Vec::new(),
                last_endpoint: String::new(),
                monitor: None,
                closing: false,
                closed: false,
                io_waiting: false,
                io_deadline: None,
                credentials: crate::security::Credentials::default(),
                io_draining: false,
                waiters: 0,
                peer_meta: Vec::new(),
                direct: Vec::new(),
                waited_since_send: true,
                spin_recv: None,
                bodies: crate::bodies::Bodies::default(),
                outgoing: crate::outgoing::Outgoing::new(Arc::clone(&spares)),
            }),
            cond: Condvar::new(),
            kick_pending: AtomicBool::new(false),
            rounds: AtomicU64::new(0),
            spares,
            tx_limit: AtomicUsize::new(crate::DEFAULT_BUFFER_SIZE),
            lend: AtomicBool::new(true),
        });
        if !ctx.send(Command::AddSocket(Arc::clone(&shared))) {
            return Err(Error::Terminated);
        }
        Ok(Self {
            shared,
            ctx,
            socket_type,
            closed: false,
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock_busy(&self.shared.state)
    }

    /// Wakes the I/O thread (once until it handled the previous wake).
    fn kick(&self) {
        // A plain load first: while a kick is pending (the I/O thread has
        // not looked yet), sending does not write the shared line.
        if !self.shared.kick_pending.load(Ordering::SeqCst)
            && !self.shared.kick_pending.swap(true, Ordering::SeqCst)
        {
            self.ctx.send(Command::Kick(self.shared.id));
        }
    }

    /// Waits until the I/O thread made progress, then takes the lock
    /// again. While `watch` says so, first reads the connections the last
    /// send went to itself ([`crate::io::recv_direct`]) and watches the
    /// I/O thread's round counter, yielding the processor in between, and
    /// returns as soon as either brought input; after the watch it
    /// sleeps on the condition variable.
    fn wait<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        w: &Wait,
        watch: &mut Watch,
    ) -> Result<MutexGuard<'a, State>> {
        let left = match w.resolve(&st.opts) {
            Wait::Never => return Err(Error::WouldBlock),
            Wait::Forever | Wait::Rcvtimeo | Wait::Sndtimeo => None,
            Wait::Until(at) => {
                let left = at.saturating_duration_since(StdInstant::now());
                if left.is_zero() {
                    return Err(Error::WouldBlock);
                }
                Some(left)
            }
        };
        st.waited_since_send = true;
        st.spin_recv = None;
        if let Watch::Armed(spin) = *watch {
            let limit = left.map_or(spin, |l| l.min(spin));
            *watch = StdInstant::now()
                .checked_add(limit)
                .map_or(Watch::Off, Watch::Until);
        }
        if let Watch::Until(until) = *watch {
            if StdInstant::now() >= until {
                *watch = Watch::Off;
            } else {
                return Ok(self.watch(st, until));
            }
        }
        st.waiters = st.waiters.saturating_add(1);
        let mut st = match left {
            None => self
                .shared
                .cond
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner),
            Some(left) => {
                self.shared
                    .cond
                    .wait_timeout(st, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
        };
        st.waiters = st.waiters.saturating_sub(1);
        Ok(st)
    }

    /// The watch of [`Socket::wait`]: until `until`, reads the hinted
    /// connections and watches the I/O thread's rounds; returns with the
    /// lock once input came or the time is up.
    fn watch<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        until: StdInstant,
    ) -> MutexGuard<'a, State> {
        if !st.closing {
            crate::io::park(&mut st);
        }
        let mut st = self.watch_parked(st, until);
        if crate::io::unpark(&mut st) {
            self.kick();
        }
        st
    }

    /// [`Socket::watch`] once the watched connections are parked.
    fn watch_parked<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        until: StdInstant,
    ) -> MutexGuard<'a, State> {
        let seen = self.shared.rounds.load(Ordering::Acquire);
        loop {
            if !st.closing {
                let r = crate::io::recv_direct(&mut st);
                if r.kick {
                    self.kick();
                }
                if r.fed {
                    st.drain_monitor();
                    // Another thread may sleep in a receive of this socket:
                    // input came, and the I/O thread (which wakes sleepers
                    // after its rounds) may not run for it.
                    if st.waiters > 0 {
                        self.shared.cond.notify_all();
                    }
                    return st;
                }
            }
            drop(st);
            if StdInstant::now() >= until {
                return self.lock();
            }
            std::thread::yield_now();
            st = self.lock();
            if self.shared.rounds.load(Ordering::Acquire) != seen {
                return st;
            }
        }
    }

    /// The socket's type.
    #[must_use]
    pub fn socket_type(&self) -> SocketType {
        self.socket_type
    }

    /// `zmq_bind`: listens on `tcp://host:port` (host `*` or a numeric
    /// address, IPv6 in brackets; port `*` or `0` for an ephemeral port) or
    /// `ipc://path` (`ipc://@name` for a Linux abstract socket; a stale
    /// socket file at `path` is removed first). Records `LISTENING` (the
    /// listener fd, the resolved endpoint) or `BIND_FAILED` (the errno, the
    /// endpoint without its scheme) before returning. The resolved endpoint
    /// becomes [`Socket::last_endpoint`].
    ///
    /// `inproc://zeromq.zap.01` is the one inproc endpoint a socket can
    /// bind: a REP or ROUTER socket bound there becomes its context's ZAP
    /// handler (RFC 27, as in libzmq; no monitor event). Its `recv` returns
    /// the authentication requests of the context's PLAIN servers (and of
    /// NULL sockets with a [`Socket::set_zap_domain`]), its `send` answers
    /// them; see the crate documentation.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for a malformed endpoint,
    /// [`Error::ProtocolNotSupported`] for another transport (and any other
    /// inproc name), [`Error::NoDevice`] for a host that is not numeric or
    /// `*`, [`Error::AddrInUse`] and other bind errors from the system
    /// (and when another socket already serves ZAP),
    /// [`Error::IncompatibleProtocol`] when a socket that is neither REP
    /// nor ROUTER binds the ZAP endpoint.
    pub fn bind(&self, endpoint: &str) -> Result<()> {
        if endpoint == crate::zap::ENDPOINT {
            return self.bind_zap();
        }
        let (transport, address) = endpoint::split(endpoint)?;
        let mut st = self.lock();
        let result = self.bind_locked(&mut st, transport, address);
        if let Err(e) = &result {
            let errno = u32::try_from(e.errno()).unwrap_or(0);
            st.core
                .monitor_mut()
                .record(Event::BindFailed { errno }, EndpointPair::bind(address));
        }
        st.drain_monitor();
        result
    }

    fn bind_locked(&self, st: &mut State, transport: Transport, address: &str) -> Result<()> {
        let (listener, fd, endpoint, file) = match transport {
            Transport::Tcp => {
                let addr = endpoint::tcp_bind_addr(address)?;
                let s = RawSocket::new(Domain::for_address(addr), Type::STREAM, None)?;
                let fd = fd_value(s.as_raw_fd());
                // libzmq's listener has no endpoint before it listens.
                let local = listen(&s, &addr.into())
                    .and_then(|()| s.local_addr()?.as_socket().ok_or(Error::AddrNotAvailable))
                    .map_err(|e| closed_after_failure(st, fd, "", e))?;
                let l = std::net::TcpListener::from(OwnedFd::from(s));
                (
                    Listener::Tcp(mio::net::TcpListener::from_std(l)),
                    fd,
                    endpoint::tcp_string(&local),
                    None,
                )
            }
            Transport::Ipc => {
                let path = IpcPath::parse(address)?;
                if let Some(file) = path.file() {
                    remove_stale_socket(file);
                }
                let addr = path.sock_addr()?;
                let s = RawSocket::new(Domain::UNIX, Type::STREAM, None)?;
                let fd = fd_value(s.as_raw_fd());
                let endpoint = path.endpoint();
                listen(&s, &addr).map_err(|e| closed_after_failure(st, fd, &endpoint, e))?;
                let l = std::os::unix::net::UnixListener::from(OwnedFd::from(s));
                (
                    Listener::Unix(mio::net::UnixListener::from_std(l)),
                    fd,
                    endpoint,
                    path.file().map(str::to_owned),
                )
            }
        };
        st.core
            .monitor_mut()
            .record(Event::Listening { fd }, EndpointPair::bind(&endpoint));
        st.last_endpoint.clone_from(&endpoint);
        let eid = self.ctx.next_id();
        st.endpoints.push(EndpointEntry {
            id: eid,
            endpoint: endpoint.clone(),
        });
        self.ctx.send(Command::Listen {
            sid: self.shared.id,
            eid,
            listener,
            fd,
            endpoint,
            file,
        });
        Ok(())
    }

    /// `zmq_connect`: connects to `tcp://host:port` (a name such as
    /// `localhost` is resolved before every attempt) or `ipc://path`, in the
    /// background, reconnecting per `ZMQ_RECONNECT_IVL` and
    /// `ZMQ_RECONNECT_IVL_MAX`. The endpoint becomes
    /// [`Socket::last_endpoint`] as given.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for a malformed endpoint (libzmq's syntax check),
    /// [`Error::ProtocolNotSupported`] for another transport,
    /// [`Error::NameTooLong`] for an IPC path longer than the system allows.
    pub fn connect(&self, endpoint: &str) -> Result<()> {
        let (transport, address) = endpoint::split(endpoint)?;
        let target = match transport {
            Transport::Tcp => endpoint::tcp_connect_target(address)?,
            Transport::Ipc => Target::Ipc(IpcPath::parse(address)?),
        };
        let mut st = self.lock();
        endpoint.clone_into(&mut st.last_endpoint);
        let eid = self.ctx.next_id();
        st.endpoints.push(EndpointEntry {
            id: eid,
            endpoint: endpoint.to_owned(),
        });
        self.ctx.send(Command::Connect {
            sid: self.shared.id,
            eid,
            target,
            endpoint: endpoint.to_owned(),
            reconnect_ivl: st.opts.reconnect_ivl,
            reconnect_ivl_max: st.opts.reconnect_ivl_max,
        });
        Ok(())
    }

    /// `zmq_unbind`: stops listening on `endpoint` (as bound, or as
    /// [`Socket::last_endpoint`] reported it); its accepted connections are
    /// closed without monitor events, the listener records `CLOSED`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] if the endpoint is not bound or connected,
    /// [`Error::Invalid`] / [`Error::ProtocolNotSupported`] for a malformed
    /// endpoint.
    pub fn unbind(&self, endpoint: &str) -> Result<()> {
        if endpoint == crate::zap::ENDPOINT {
            return self.unbind_zap();
        }
        self.term_endpoint(endpoint)
    }

    /// `zmq_disconnect`: stops connecting to `endpoint` and closes its
    /// connection without a monitor event (`CLOSED` if an attempt was in
    /// flight).
    ///
    /// # Errors
    ///
    /// As [`Socket::unbind`].
    pub fn disconnect(&self, endpoint: &str) -> Result<()> {
        self.term_endpoint(endpoint)
    }

    /// libzmq's `term_endpoint` (both `zmq_unbind` and `zmq_disconnect`):
    /// an exact match first, then the numeric form of the endpoint.
    fn term_endpoint(&self, endpoint: &str) -> Result<()> {
        let (transport, address) = endpoint::split(endpoint)?;
        let mut st = self.lock();
        let mut ids: Vec<u64> = st
            .endpoints
            .iter()
            .filter(|e| e.endpoint == endpoint)
            .map(|e| e.id)
            .collect();
        if ids.is_empty()
            && transport == Transport::Tcp
            && let Some(canonical) = endpoint::tcp_canonical(address)
        {
            ids = st
                .endpoints
                .iter()
                .filter(|e| e.endpoint == canonical)
                .map(|e| e.id)
                .collect();
        }
        if ids.is_empty() {
            return Err(Error::NotFound);
        }
        st.endpoints.retain(|e| !ids.contains(&e.id));
        for eid in ids {
            self.ctx.send(Command::Term {
                sid: self.shared.id,
                eid,
            });
        }
        Ok(())
    }

    /// `zmq_send` of a whole multipart message, waiting up to
    /// `ZMQ_SNDTIMEO` (default -1: forever) while no peer can take it.
    ///
    /// Like libzmq's `ZMQ_IMMEDIATE`, only connections whose handshake
    /// finished take messages: with none, blocking types wait.
    ///
    /// # Errors
    ///
    /// [`Error::WouldBlock`] when the timeout expired, [`Error::NotSupported`]
    /// for SUB and PULL, [`Error::Fsm`] out of REQ/REP order,
    /// [`Error::MessageTooLarge`] for a message no transmit buffer can hold,
    /// [`Error::Invalid`] for an empty message.
    pub fn send(&self, parts: &[&[u8]]) -> Result<()> {
        self.send_wait(parts, Wait::Sndtimeo)
    }

    /// `zmq_send` with `ZMQ_DONTWAIT`.
    ///
    /// # Errors
    ///
    /// [`Error::WouldBlock`] (`EAGAIN`) when no peer can take the message
    /// now; otherwise as [`Socket::send`].
    pub fn send_nonblocking(&self, parts: &[&[u8]]) -> Result<()> {
        self.send_wait(parts, Wait::Never)
    }

    /// [`Socket::send`] of a one-frame message.
    ///
    /// # Errors
    ///
    /// As [`Socket::send`].
    pub fn send_frame(&self, frame: &[u8]) -> Result<()> {
        self.send(&[frame])
    }

    fn send_wait(&self, parts: &[&[u8]], w: Wait) -> Result<()> {
        if self.reply_zap(parts) {
            return Ok(());
        }
        // Large frames of the first send after a receive waited are left
        // in the caller's buffers (written from there when the connection is
        // idle, else copied under the lock); so are those of a send that
        // does not wait (a send refused for want of room copies nothing).
        // In a stream they are copied before the lock is taken.
        let large = self.large_frames(parts);
        let lend = large.is_some()
            && (matches!(w, Wait::Never) || self.shared.lend.load(Ordering::Relaxed));
        let mut held = if lend {
            None
        } else {
            large.map(|f| self.hold(f))
        };
        let min = if large.is_some() {
            crate::outgoing::SEND_MIN
        } else {
            usize::MAX
        };
        let mut st = self.lock();
        let w = w.resolve(&st.opts);
        loop {
            match st.core.send_external(parts, min) {
                Ok(sent) => {
                    // The copies go to the connection that took them, in
                    // order (the core left it exactly the frames of `min`
                    // bytes or more); otherwise they were not needed.
                    if let Some(held) = held.as_mut() {
                        let copies = held.iter_mut().filter_map(Option::take);
                        match sent {
                            Some((peer, _)) => copies.for_each(|b| st.outgoing.push(peer, b)),
                            None => copies.for_each(|b| self.shared.spares.give(b)),
                        }
                    }
                    let after_wait = core::mem::replace(&mut st.waited_since_send, false);
                    st.spin_recv = recv_spin(parts.iter().map(|p| p.len()).sum::<usize>());
                    // Send-only sockets never wait for a reply, and an
                    // XPUB's send goes to every subscriber (a receive of
                    // its own would read them all).
                    if st.spin_recv.is_some()
                        && !matches!(
                            self.socket_type,
                            SocketType::Push | SocketType::Pub | SocketType::XPub
                        )
                    {
                        crate::io::hint_replies(&mut st);
                    }
                    let all_out = match (lend, sent, large) {
                        (true, Some((peer, _)), Some(frames)) => {
                            crate::io::send_lent(&mut st, peer, frames)
                        }
                        _ => after_wait && crate::io::send_direct(&mut st),
                    };
                    if large.is_some() {
                        self.shared.lend.store(false, Ordering::Relaxed);
                    }
                    st.drain_monitor();
                    drop(st);
                    if !all_out {
                        self.kick();
                    }
                    return Ok(());
                }
                Err(nb::Error::WouldBlock) => {}
                Err(nb::Error::Other(e)) => {
                    drop(st);
                    self.release_held(&mut held);
                    return Err(map_send(e));
                }
            }
            st = match self.wait(st, &w, &mut Watch::Off) {
                Ok(st) => st,
                Err(e) => {
                    self.release_held(&mut held);
                    return Err(e);
                }
            };
        }
    }

    /// The frames of `parts` among which a send leaves those of
    /// [`crate::outgoing::SEND_MIN`] bytes or more to the connection
    /// ([`crate::outgoing`]): all but a ROUTER's routing id, for the types
    /// that send a message to one peer. `None` when there are no such
    /// frames, or the message is refused before anything is copied.
    fn large_frames<'p>(&self, parts: &'p [&'p [u8]]) -> Option<&'p [&'p [u8]]> {
        let frames = match self.socket_type {
            SocketType::Req
            | SocketType::Rep
            | SocketType::Dealer
            | SocketType::Push
            | SocketType::Pair => parts,
            SocketType::Router => parts.get(1..).unwrap_or_default(),
            _ => return None,
        };
        // A message of too many parts, or larger than any transmit buffer,
        // is refused before anything is copied.
        if frames.len() > MAX_PARTS
            || !frames.iter().any(|f| f.len() >= crate::outgoing::SEND_MIN)
            || parts.iter().map(|p| p.len()).sum::<usize>()
                > self.shared.tx_limit.load(Ordering::Relaxed)
        {
            return None;
        }
        Some(frames)
    }

    /// Copies of the frames of `frames` of [`crate::outgoing::SEND_MIN`]
    /// bytes or more, by frame.
    fn hold(&self, frames: &[&[u8]]) -> Held {
        let mut held: Held = Default::default();
        for (slot, frame) in held.iter_mut().zip(frames) {
            if frame.len() >= crate::outgoing::SEND_MIN {
                *slot = Some(self.shared.spares.copy(frame));
            }
        }
        held
    }

    /// Gives the copies of a send that did not happen back as spares.
    fn release_held(&self, held: &mut Option<Held>) {
        for b in held.iter_mut().flatten().filter_map(Option::take) {
            self.shared.spares.give(b);
        }
    }

    /// `zmq_recv` of a whole multipart message, waiting up to
    /// `ZMQ_RCVTIMEO` (default -1: forever).
    ///
    /// # Errors
    ///
    /// [`Error::WouldBlock`] when the timeout expired,
    /// [`Error::NotSupported`] for PUB and PUSH, [`Error::Fsm`] out of
    /// REQ/REP order.
    pub fn recv(&self) -> Result<Vec<Vec<u8>>> {
        self.recv_wait(Wait::Rcvtimeo)
    }

    /// `zmq_recv` with `ZMQ_DONTWAIT`.
    ///
    /// # Errors
    ///
    /// [`Error::WouldBlock`] when no message is waiting; otherwise as
    /// [`Socket::recv`].
    pub fn recv_nonblocking(&self) -> Result<Vec<Vec<u8>>> {
        self.recv_wait(Wait::Never)
    }

    /// `zmq_recv` waiting at most `timeout` (overrides `ZMQ_RCVTIMEO`).
    ///
    /// # Errors
    ///
    /// As [`Socket::recv`].
    pub fn recv_timeout(&self, timeout: StdDuration) -> Result<Vec<Vec<u8>>> {
        self.recv_wait(Wait::after(timeout))
    }

    fn recv_wait(&self, w: Wait) -> Result<Vec<Vec<u8>>> {
        let mut frames = Vec::new();
        self.recv_frames(
            w,
            |part| {
                frames.push(match part {
                    Part::Bytes(b) => b.to_vec(),
                    Part::Owned(v) => v,
                });
                None
            },
            None,
        )?;
        Ok(frames)
    }

    /// `zmq_msg_recv` of a whole multipart message with the properties of
    /// the connection it came in on ([`Message::property`], libzmq's
    /// `zmq_msg_gets`), waiting up to `ZMQ_RCVTIMEO`. To reuse storage
    /// from one message to the next, use [`Socket::recv_into`].
    ///
    /// # Errors
    ///
    /// As [`Socket::recv`].
    pub fn recv_msg(&self) -> Result<Message> {
        let mut msg = Message::new();
        self.recv_into(&mut msg)?;
        Ok(msg)
    }

    /// [`Socket::recv`] into `msg`, whose storage is reused: once `msg`
    /// has grown to the size of the messages received, receiving allocates
    /// nothing. `msg`'s previous frames are replaced, and it carries the
    /// properties of the connection the message came in on
    /// ([`Message::property`]).
    ///
    /// # Errors
    ///
    /// As [`Socket::recv`]; `msg` is left empty.
    pub fn recv_into(&self, msg: &mut Message) -> Result<()> {
        self.recv_into_wait(msg, Wait::Rcvtimeo)
    }

    /// [`Socket::recv_into`] with `ZMQ_DONTWAIT`.
    ///
    /// # Errors
    ///
    /// As [`Socket::recv_nonblocking`]; `msg` is left empty.
    pub fn recv_into_nonblocking(&self, msg: &mut Message) -> Result<()> {
        self.recv_into_wait(msg, Wait::Never)
    }

    /// [`Socket::recv_into`] waiting at most `timeout` (overrides
    /// `ZMQ_RCVTIMEO`).
    ///
    /// # Errors
    ///
    /// As [`Socket::recv`]; `msg` is left empty.
    pub fn recv_into_timeout(&self, msg: &mut Message, timeout: StdDuration) -> Result<()> {
        self.recv_into_wait(msg, Wait::after(timeout))
    }

    fn recv_into_wait(&self, msg: &mut Message, w: Wait) -> Result<()> {
        // The old bytes stay until the first frame comes: a buffer given
        // back for the next large body keeps its length, so that it is not
        // zeroed again ([`crate::bodies`]).
        msg.ends.clear();
        let Message { data, ends, meta } = msg;
        let r = self.recv_frames(
            w,
            |part| {
                let first = ends.is_empty();
                let spare = match part {
                    // A body of its own as the first frame becomes the
                    // message's storage; the old storage is reused.
                    Part::Owned(v) if first => Some(core::mem::replace(data, v)),
                    Part::Owned(v) => {
                        data.extend_from_slice(&v);
                        Some(v)
                    }
                    Part::Bytes(b) => {
                        if first {
                            data.clear();
                        }
                        data.extend_from_slice(b);
                        None
                    }
                };
                ends.push(data.len());
                spare
            },
            Some(meta),
        );
        if r.is_err() {
            data.clear();
            *meta = None;
        }
        r
    }

    /// Takes one whole message, frame by frame into `sink`, waiting as `w`
    /// says; wakes the I/O thread when reading made room it waits for.
    /// With `meta`, sets it to the properties of the message's connection.
    fn recv_frames(
        &self,
        w: Wait,
        mut sink: impl FnMut(Part<'_>) -> Option<Vec<u8>>,
        meta: Option<&mut Option<Arc<Metadata>>>,
    ) -> Result<()> {
        let mut st = self.lock();
        let w = w.resolve(&st.opts);
        // A receive right after a small send (a request's reply, the next
        // request after a reply) watches for a while before it sleeps; a
        // receive-only socket sleeps at once.
        let mut watch = st.spin_recv.take().map_or(Watch::Off, Watch::Armed);
        loop {
            // While the I/O thread holds input back, a receive that finds
            // nothing may still have made room (REQ and REP drop messages
            // that do not fit the pattern): the units queued before it.
            let units_before = st.io_waiting.then(|| queued_units(&st));
            let taken = match self.take_zap() {
                // A ZAP handler's request, queued outside the core.
                Some(Ok(frames)) => {
                    frames.iter().for_each(|f| {
                        sink(Part::Bytes(f));
                    });
                    Ok(None)
                }
                Some(Err(e)) => Err(e),
                None => try_recv(&mut st, &mut sink),
            };
            match taken {
                Ok(peer) => {
                    if let Some(meta) = meta {
                        let found = peer.and_then(|p| st.peer_meta.get(p.index())?.as_ref());
                        // Messages of one connection share the record: no
                        // reference-count traffic while it stays the same.
                        let same = match (found, meta.as_ref()) {
                            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                            (None, None) => true,
                            _ => false,
                        };
                        if !same {
                            *meta = found.cloned();
                        }
                    }
                    let wake = needs_io(&st, peer);
                    // Reading can raise connection events (a held-back
                    // frame moving in).
                    st.drain_monitor();
                    drop(st);
                    if wake {
                        self.kick();
                    }
                    return Ok(());
                }
                Err(Error::WouldBlock) => {
                    if units_before.is_some_and(|n| queued_units(&st) < n) {
                        // Dropped messages made room: what waits for it
                        // (a multipart message waits for an empty queue)
                        // moves in, and may be what this receive waits for.
                        self.kick();
                    }
                }
                Err(e) => return Err(e),
            }
            // The next send is likely a request after its reply, or a
            // reply after its request, to an idle connection.
            self.shared.lend.store(true, Ordering::Relaxed);
            st = self.wait(st, &w, &mut watch)?;
        }
    }

    /// `ZMQ_LINGER` in ms: how long [`Socket::close`] keeps sending queued
    /// messages (-1, the default: until sent; 0: drop them).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below -1.
    pub fn set_linger(&self, ms: i32) -> Result<()> {
        check(ms >= -1)?;
        self.lock().opts.linger = ms;
        Ok(())
    }

    /// `ZMQ_SNDHWM`: messages queued per connection for sending (0: no
    /// limit but the buffer). Default 1000.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below 0.
    pub fn set_sndhwm(&self, n: i32) -> Result<()> {
        let n = u32::try_from(n).map_err(|_| Error::Invalid)?;
        self.lock().core.config_mut().sndhwm = n;
        Ok(())
    }

    /// `ZMQ_RCVHWM`: messages queued per connection after receiving (0: no
    /// limit but the buffer). Default 1000.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below 0.
    pub fn set_rcvhwm(&self, n: i32) -> Result<()> {
        let n = u32::try_from(n).map_err(|_| Error::Invalid)?;
        self.lock().core.config_mut().rcvhwm = n;
        Ok(())
    }

    /// `ZMQ_RECONNECT_IVL` in ms (default 100; -1 or 0: no reconnect).
    /// Applies to later `connect` calls.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below -1.
    pub fn set_reconnect_ivl(&self, ms: i32) -> Result<()> {
        check(ms >= -1)?;
        self.lock().opts.reconnect_ivl = ms;
        Ok(())
    }

    /// `ZMQ_RECONNECT_IVL_MAX` in ms (default 0: no back-off, jitter
    /// instead). Applies to later `connect` calls.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below 0.
    pub fn set_reconnect_ivl_max(&self, ms: i32) -> Result<()> {
        check(ms >= 0)?;
        self.lock().opts.reconnect_ivl_max = ms;
        Ok(())
    }

    /// `ZMQ_HEARTBEAT_IVL` in ms: send a PING this often (0, the default:
    /// off).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below 0.
    pub fn set_heartbeat_ivl(&self, ms: i32) -> Result<()> {
        let ms = u64::try_from(ms).map_err(|_| Error::Invalid)?;
        self.lock().core.config_mut().heartbeat.interval = Duration::from_millis(ms);
        Ok(())
    }

    /// `ZMQ_HEARTBEAT_TIMEOUT` in ms: close when nothing arrives this long
    /// after a PING (default: the heartbeat interval).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below 0.
    pub fn set_heartbeat_timeout(&self, ms: i32) -> Result<()> {
        let ms = u64::try_from(ms).map_err(|_| Error::Invalid)?;
        self.lock().core.config_mut().heartbeat.timeout = Some(Duration::from_millis(ms));
        Ok(())
    }

    /// `ZMQ_HEARTBEAT_TTL` in ms, announced in our PINGs (rounded down to
    /// deciseconds; below 100 it has no effect).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] outside 0..=6553599.
    pub fn set_heartbeat_ttl(&self, ms: i32) -> Result<()> {
        check((0..=6_553_599).contains(&ms))?;
        let ms = u64::try_from(ms).map_err(|_| Error::Invalid)?;
        self.lock().core.config_mut().heartbeat.ttl = Duration::from_millis(ms);
        Ok(())
    }

    /// `ZMQ_HANDSHAKE_IVL` in ms: the handshake must finish within this
    /// time (default 30000; 0: no limit).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below 0.
    pub fn set_handshake_ivl(&self, ms: i32) -> Result<()> {
        let ms = u64::try_from(ms).map_err(|_| Error::Invalid)?;
        self.lock().core.config_mut().handshake_ivl = Duration::from_millis(ms);
        Ok(())
    }

    /// `ZMQ_MAXMSGSIZE` in bytes: a larger incoming frame closes the
    /// connection (negative, the default -1: no limit but the receive
    /// buffer).
    ///
    /// # Errors
    ///
    /// None (every value is valid, as in libzmq).
    pub fn set_maxmsgsize(&self, bytes: i64) -> Result<()> {
        self.lock().core.config_mut().max_msg_size = u64::try_from(bytes).ok();
        Ok(())
    }

    /// `ZMQ_ROUTING_ID`: the identity REQ, DEALER and ROUTER sockets
    /// announce (1 to 255 bytes).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for an empty or too long id.
    pub fn set_routing_id(&self, id: &[u8]) -> Result<()> {
        self.lock()
            .core
            .config_mut()
            .set_routing_id(id)
            .map_err(|_| Error::Invalid)
    }

    /// `ZMQ_SUBSCRIBE` (SUB, XSUB): receive messages starting with `topic`
    /// (empty: all). Subscriptions are counted.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for other socket types, [`Error::OutOfMemory`]
    /// when the subscription store is full.
    pub fn set_subscribe(&self, topic: &[u8]) -> Result<()> {
        let r = self.lock().core.subscribe(topic);
        self.kick();
        r.map_err(|e| match e {
            SendError::NotSupported => Error::Invalid,
            _ => Error::OutOfMemory,
        })
    }

    /// `ZMQ_UNSUBSCRIBE` (SUB, XSUB): removes one count of `topic`.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for other socket types.
    pub fn set_unsubscribe(&self, topic: &[u8]) -> Result<()> {
        let r = self.lock().core.unsubscribe(topic);
        self.kick();
        r.map_err(|_| Error::Invalid)
    }

    /// `ZMQ_RCVTIMEO` in ms for [`Socket::recv`] (-1, the default: wait
    /// forever; 0: never wait).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below -1.
    pub fn set_rcvtimeo(&self, ms: i32) -> Result<()> {
        check(ms >= -1)?;
        self.lock().opts.rcvtimeo = ms;
        Ok(())
    }

    /// `ZMQ_SNDTIMEO` in ms for [`Socket::send`] (-1, the default: wait
    /// forever; 0: never wait).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below -1.
    pub fn set_sndtimeo(&self, ms: i32) -> Result<()> {
        check(ms >= -1)?;
        self.lock().opts.sndtimeo = ms;
        Ok(())
    }

    /// The receive and transmit buffer sizes of connections made from now
    /// on (default [`DEFAULT_BUFFER_SIZE`](crate::DEFAULT_BUFFER_SIZE)
    /// each). A frame larger than the receive buffer closes the connection;
    /// a message larger than the transmit buffer cannot be sent. Not a
    /// libzmq option: libzmq allocates per message.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] below 1024 bytes.
    pub fn set_buffer_sizes(&self, rx: usize, tx: usize) -> Result<()> {
        check(rx >= MIN_BUFFER && tx >= MIN_BUFFER)?;
        let mut st = self.lock();
        st.opts.rx_buffer = rx;
        st.opts.tx_buffer = tx;
        // Connections made before keep their buffers.
        self.shared.tx_limit.fetch_max(tx, Ordering::Relaxed);
        Ok(())
    }

    /// `ZMQ_LAST_ENDPOINT`: the endpoint of the last successful `bind`
    /// (resolved: `tcp://127.0.0.1:54321` after binding port `*`) or
    /// `connect` (as given); empty before either.
    ///
    /// # Errors
    ///
    /// None today; kept fallible like libzmq's `getsockopt`.
    pub fn last_endpoint(&self) -> Result<String> {
        Ok(self.lock().last_endpoint.clone())
    }

    /// `zmq_socket_monitor(s, endpoint, events)`: version 1 events to
    /// `inproc://name`, read with a
    /// [`MonitorSocket`](crate::MonitorSocket); `None` stops monitoring
    /// (with `MONITOR_STOPPED` if it is in the mask).
    ///
    /// # Errors
    ///
    /// As [`Socket::monitor_versioned`].
    pub fn monitor(&self, endpoint: Option<&str>, events: i32) -> Result<()> {
        self.monitor_versioned(endpoint, EventMask::from_zmq_int(events).bits(), 1)
    }

    /// `zmq_socket_monitor_versioned(s, endpoint, events, version, ZMQ_PAIR)`
    /// with libzmq's checks and order: a version 1 mask above 16 bits or a
    /// malformed endpoint is refused first; then an active monitor is
    /// stopped (its consumer gets `MONITOR_STOPPED` and nothing after);
    /// then the new one binds its inproc name.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for a bad mask, endpoint or a version other than 1
    /// and 2 (libzmq accepts other versions and then sends nothing),
    /// [`Error::ProtocolNotSupported`] for a transport other than `inproc`,
    /// [`Error::AddrInUse`] when another live monitor of this context uses
    /// the name, [`Error::NameTooLong`] for a name above 128 bytes.
    pub fn monitor_versioned(
        &self,
        endpoint: Option<&str>,
        events: u64,
        version: u32,
    ) -> Result<()> {
        let version = EventVersion::from_number(i64::from(version)).ok_or(Error::Invalid)?;
        let mask = EventMask::from_bits(events);
        let registry = &self.ctx.registry;
        let mut st = self.lock();
        let Some(endpoint) = endpoint else {
            st.stop_monitor(registry);
            return Ok(());
        };
        // Validate without side effects first.
        let mut probe: Monitor<1, EP> = Monitor::new();
        match probe.start_versioned(endpoint, mask, version, SocketType::Pair) {
            Ok(()) => {}
            Err(e @ MonitorError::EndpointTooLong) => {
                st.stop_monitor(registry);
                return Err(map_monitor(e));
            }
            Err(e) => return Err(map_monitor(e)),
        }
        let name = probe.inproc_name().unwrap_or_default().to_owned();
        st.stop_monitor(registry);
        let channel = registry.claim(&name)?;
        if let Err(e) =
            st.core
                .monitor_mut()
                .start_versioned(endpoint, mask, version, SocketType::Pair)
        {
            registry.release(&name, &channel);
            return Err(map_monitor(e));
        }
        st.monitor = Some((name, channel));
        Ok(())
    }

    /// `zmq_close`: stops listening and connecting (`CLOSED` for each
    /// listener and each connect attempt in flight), keeps sending queued
    /// messages for up to `ZMQ_LINGER` ms in the background, then stops the
    /// monitor (`MONITOR_STOPPED`, the last event). Returns at once, as
    /// libzmq does; dropping the last [`Context`](crate::Context) handle
    /// waits for lingering sockets.
    ///
    /// # Errors
    ///
    /// None today; kept fallible like libzmq's `zmq_close`.
    pub fn close(mut self) -> Result<()> {
        self.close_impl();
        Ok(())
    }

    fn close_impl(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.release_zap();
        let linger = {
            let mut st = self.lock();
            if st.closing {
                return;
            }
            st.closing = true;
            st.opts.linger
        };
        self.ctx.send(Command::Close {
            sid: self.shared.id,
            linger,
        });
    }
}

impl Drop for Socket {
    /// Closes the socket as [`Socket::close`] does.
    fn drop(&mut self) {
        self.close_impl();
    }
}

/// Binds a fresh listening socket to `addr` and listens, non-blocking
/// (TCP with `SO_REUSEADDR`, as libzmq's listener).
fn listen(s: &RawSocket, addr: &socket2::SockAddr) -> Result<()> {
    if addr.is_ipv4() || addr.is_ipv6() {
        s.set_reuse_address(true)?;
    }
    s.bind(addr)?;
    s.listen(BACKLOG)?;
    s.set_nonblocking(true)?;
    Ok(())
}

/// A bind failed once its socket existed: libzmq's listener closes that
/// socket and records `CLOSED` (its descriptor, the listener's endpoint so
/// far: empty for TCP, the path for IPC) before the caller records
/// `BIND_FAILED`.
fn closed_after_failure(st: &mut State, fd: u32, endpoint: &str, e: Error) -> Error {
    st.core
        .monitor_mut()
        .record(Event::Closed { fd }, EndpointPair::bind(endpoint));
    e
}

fn check(ok: bool) -> Result<()> {
    if ok { Ok(()) } else { Err(Error::Invalid) }
}

/// Takes one whole message, if one is waiting, handing each frame to
/// `sink`; returns the peer it came from (`None` for XPUB's own queue).
fn try_recv(
    st: &mut State,
    sink: &mut impl FnMut(Part<'_>) -> Option<Vec<u8>>,
) -> Result<Option<PeerHandle>> {
    loop {
        let mut external = false;
        let got = st.core.recv_frame_with(
            |frame| match frame {
                Frame::External { .. } => external = true,
                Frame::Bytes(b) => {
                    sink(Part::Bytes(b));
                }
                _ => {
                    sink(Part::Bytes(&[]));
                }
            },
            None,
        );
        match got {
            Ok(((), info)) => {
                if external {
                    // The body the I/O thread read for this record.
                    let body = info
                        .peer
                        .and_then(|p| st.bodies.take(p, st.core.external_queued(p)));
                    let spare = match body {
                        Some(b) => sink(Part::Owned(b)),
                        None => sink(Part::Bytes(&[])),
                    };
                    if let Some(b) = spare {
                        st.bodies.recycle(b);
                    }
                }
                if !info.more {
                    return Ok(info.peer);
                }
            }
            Err(nb::Error::WouldBlock) => return Err(Error::WouldBlock),
            Err(nb::Error::Other(e)) => return Err(map_recv(e)),
        }
    }
}

/// Complete units (messages, commands) queued across the socket's peers.
fn queued_units(st: &State) -> usize {
    st.core
        .peers()
        .filter_map(|p| st.core.peer(p))
        .map(Connection::queued_units)
        .fold(0, usize::saturating_add)
}

/// Whether a message just read from `peer` calls for the I/O thread: a
/// closed peer's messages were all read (it can be freed), reading closed
/// a peer (a held-back frame that can never fit), or the I/O thread holds
/// input back and the queue has drained to its low-water mark (libzmq's
/// `compute_lwm`: half the high-water mark, or 1024 below it when that is
/// larger). Waking at the low-water mark rather than after every message
/// lets the I/O thread refill the queue in batches.
fn needs_io(st: &State, peer: Option<PeerHandle>) -> bool {
    if st.io_draining || st.core.has_unreported_close() {
        return true;
    }
    if !st.io_waiting {
        return false;
    }
    let hwm = st.core.config().rcvhwm;
    let lwm = if hwm > 2048 {
        hwm.saturating_sub(1024)
    } else {
        hwm.saturating_add(1) / 2
    };
    hwm == 0
        || peer
            .and_then(|p| st.core.peer(p))
            .is_none_or(|c| c.queued_units() <= usize::try_from(lwm).unwrap_or(usize::MAX))
}

/// A multipart message in storage that is reused from one receive to the
/// next ([`Socket::recv_into`]): the frames' bytes back to back in one
/// buffer, and where each frame ends; and, once received, the properties of
/// the connection it came in on ([`Message::property`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    data: Vec<u8>,
    ends: Vec<usize>,
    meta: Option<Arc<Metadata>>,
}

impl Message {
    /// An empty message (no frames); storage grows on first use.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of frames.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the message has no frames.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Frame `i`, if there is one.
    #[must_use]
    pub fn frame(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(prev) => *self.ends.get(prev)?,
            None => 0,
        };
        self.data.get(start..end)
    }

    /// The frames in order.
    pub fn frames(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.ends.len()).map(|i| self.frame(i).unwrap_or_default())
    }

    /// Appends a frame.
    pub fn push(&mut self, frame: &[u8]) {
        self.data.extend_from_slice(frame);
        self.ends.push(self.data.len());
    }

    /// Removes every frame and the properties, keeping the storage.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
        self.meta = None;
    }

    /// Property `name` of the connection the message came in on: libzmq's
    /// `zmq_msg_gets`, where `None` is its `EINVAL`. Names are matched
    /// exactly, case included, as libzmq does: `User-Id` (set by a ZAP
    /// handler that accepted the peer), `Peer-Address`, `Socket-Type`,
    /// `Identity` (when the peer sent one) and the peer's and the ZAP
    /// handler's other properties; see [`Metadata`].
    ///
    /// A message built with [`Message::push`], received through a ZAP
    /// handler's socket or from an XPUB has none.
    #[must_use]
    pub fn property(&self, name: &str) -> Option<&[u8]> {
        self.meta.as_deref()?.get(name)
    }

    /// Every property of the connection the message came in on (see
    /// [`Message::property`]); shared by all messages from that
    /// connection.
    #[must_use]
    pub fn metadata(&self) -> Option<&Arc<Metadata>> {
        self.meta.as_ref()
    }

    /// The frames as owned vectors (what [`Socket::recv`] returns).
    #[must_use]
    pub fn to_vecs(&self) -> Vec<Vec<u8>> {
        self.frames().map(<[u8]>::to_vec).collect()
    }
}

/// Removes a socket file left behind at `path` (libzmq unlinks the path
/// before binding; only sockets are removed here).
fn remove_stale_socket(path: &str) {
    use std::os::unix::fs::FileTypeExt;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A non-blocking send of large frames that is refused for want of
    /// room (`EAGAIN`) copies nothing, even in a stream (where large
    /// frames are otherwise copied before the lock is taken): an event
    /// loop that retries it does not copy the message for every attempt.
    /// A send that may wait copies first, once.
    #[test]
    fn refused_nonblocking_send_copies_nothing() {
        let ctx = crate::Context::new().unwrap();
        let push = ctx.socket(SocketType::Push).unwrap();
        // As after a send in a stream.
        push.shared.lend.store(false, Ordering::Relaxed);
        let big = vec![7u8; 256 * 1024];
        // No peer: PUSH has nowhere to send.
        for _ in 0..8 {
            let r = push.send_nonblocking(&[&big]);
            assert!(matches!(r, Err(Error::WouldBlock)), "{r:?}");
        }
        assert_eq!(push.shared.spares.copies(), 0);
        push.set_sndtimeo(1).unwrap();
        let r = push.send_frame(&big);
        assert!(matches!(r, Err(Error::WouldBlock)), "{r:?}");
        assert_eq!(push.shared.spares.copies(), 1);
    }

    #[test]
    fn the_watch_grows_with_the_send_and_stops_at_its_limits() {
        let us = StdDuration::from_micros;
        assert_eq!(recv_spin(0), Some(us(20)));
        assert_eq!(recv_spin(1023), Some(us(20)));
        assert_eq!(recv_spin(8 * 1024), Some(us(28)));
        assert_eq!(recv_spin(64 * 1024), Some(us(84)));
        assert_eq!(recv_spin(80 * 1024), Some(us(100)));
        assert_eq!(recv_spin(SPIN_MAX_SEND), Some(us(100)));
        assert_eq!(recv_spin(SPIN_MAX_SEND + 1), None);
    }
}
