//! `zmtp`: a small, scriptable ZeroMQ peer for testing boards and services
//! from a terminal. One socket of any type, bound and/or connected, sending
//! the given messages, printing what it receives and its monitor events as
//! JSON lines. `zmtp --help` describes the interface.

#[path = "zmtp/args.rs"]
mod args;
#[path = "zmtp/json.rs"]
mod json;
#[path = "zmtp/zap.rs"]
mod zap;

use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::collections::VecDeque;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use zmtp_std::{Context, Error, MonitorSocket, Socket, SocketType, event_id};

use crate::args::Cli;

/// The inproc endpoint of the tool's own monitor.
const MONITOR_ENDPOINT: &str = "inproc://zmtp-cli-monitor";
/// Every v1 event (`ZMQ_EVENT_ALL`).
const ALL_EVENTS: i32 = 0xFFFF;
/// How long PUB waits after a first peer's handshake before sending, so
/// the peer's subscriptions arrive first.
const PUB_GRACE: Duration = Duration::from_millis(200);
/// How long a line of the main loop waits for the monitor thread to print
/// the events already queued.
const SETTLE: Duration = Duration::from_millis(10);
/// How long the monitor thread must have been idle before a line of the
/// main loop goes out (it may have just taken an event).
const QUIET: Duration = Duration::from_micros(20);
/// How often a blocked send is retried while the tool also waits for input.
const POLL: Duration = Duration::from_millis(10);
/// The longest single wait when there is no deadline.
const IDLE: Duration = Duration::from_secs(1);

// Without CURVE there is no `keygen`, so one variant only.
#[cfg_attr(not(feature = "curve"), allow(clippy::infallible_destructuring_match))]
fn main() -> ExitCode {
    let cli = match args::invocation() {
        args::Invocation::Socket(cli) => cli,
        #[cfg(feature = "curve")]
        args::Invocation::Keygen => return keygen(),
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("zmtp: error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("zmtp: error: {msg}");
            ExitCode::FAILURE
        }
        Err(Failure::StdoutGone) => ExitCode::FAILURE,
    }
}

/// `zmtp keygen`: prints a fresh CURVE key pair.
#[cfg(feature = "curve")]
fn keygen() -> ExitCode {
    let pair = zmtp_std::curve_keypair();
    let public = pair.public_z85();
    let secret = pair.secret_z85();
    // Z85 is ASCII.
    let text = |k: &[u8]| String::from_utf8_lossy(k).into_owned();
    emit(&json::keypair(&text(&public), &text(&secret)));
    if STDOUT_GONE.load(Ordering::SeqCst) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Why the tool fails.
#[derive(Debug)]
enum Failure {
    /// A usage error found after parsing (exit status 2).
    Usage(String),
    /// A runtime failure (exit status 1).
    Runtime(String),
    /// Nobody reads stdout any more (exit status 1, no message).
    StdoutGone,
}

/// Set when stdout is gone (a closed pipe): the run then ends.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// Writes one output line whole and flushes it. When stdout is gone the
/// run ends (quietly, with exit status 1).
fn emit(line: &str) {
    let mut buf = String::with_capacity(line.len().saturating_add(1));
    buf.push_str(line);
    buf.push('\n');
    let mut out = std::io::stdout().lock();
    if out
        .write_all(buf.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        STDOUT_GONE.store(true, Ordering::SeqCst);
    }
}

/// Whether an endpoint error is the user's (a malformed or unsupported
/// endpoint) rather than the system's.
fn endpoint_usage_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Invalid | Error::ProtocolNotSupported | Error::IncompatibleProtocol
    )
}

/// The tool's monitor, shared by the thread that prints its events and the
/// main loop.
struct Shared {
    mon: MonitorSocket,
    /// When the first `HANDSHAKE_SUCCEEDED` arrived.
    first_handshake: Mutex<Option<Instant>>,
    /// The monitor thread is printing an event it took.
    printing: AtomicBool,
}

impl Shared {
    fn first_handshake(&self) -> Option<Instant> {
        *self
            .first_handshake
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Prints a line of the main loop, after the events already waiting
    /// (so that, for example, `HANDSHAKE_SUCCEEDED` comes before the
    /// first message on that connection): waits until the monitor thread
    /// has had nothing to print for [`QUIET`], at most [`SETTLE`].
    fn emit(&self, line: &str) {
        let start = Instant::now();
        let mut quiet_since = start;
        loop {
            let now = Instant::now();
            if self.mon.pending() > 0 || self.printing.load(Ordering::SeqCst) {
                quiet_since = now;
            } else if now.duration_since(quiet_since) >= QUIET {
                break;
            }
            if now.duration_since(start) >= SETTLE {
                break;
            }
            std::thread::yield_now();
        }
        emit(line);
    }
}

/// The thread that reads the tool's monitor and prints its events.
struct Printer {
    thread: JoinHandle<u64>,
    /// Set once the context is gone: no further event can come.
    finished: Arc<AtomicBool>,
}

impl Printer {
    /// Starts printing the monitor's events: all of them with `all`,
    /// otherwise only `BIND_FAILED`.
    fn start(shared: Arc<Shared>, all: bool) -> std::io::Result<Self> {
        let finished = Arc::new(AtomicBool::new(false));
        let done = Arc::clone(&finished);
        let thread = std::thread::Builder::new()
            .name("zmtp-monitor".to_owned())
            .spawn(move || {
                loop {
                    match shared.mon.recv_event(Some(Duration::from_millis(50))) {
                        Ok(m) => {
                            shared.printing.store(true, Ordering::SeqCst);
                            let id = m.event.id();
                            if id == event_id::HANDSHAKE_SUCCEEDED {
                                let mut first = shared
                                    .first_handshake
                                    .lock()
                                    .unwrap_or_else(PoisonError::into_inner);
                                first.get_or_insert_with(Instant::now);
                            }
                            if all || id == event_id::BIND_FAILED {
                                emit(&json::event(m.name(), id, m.value(), m.endpoint()));
                            }
                            shared.printing.store(false, Ordering::SeqCst);
                            if id == event_id::MONITOR_STOPPED {
                                break;
                            }
                        }
                        Err(_) if done.load(Ordering::SeqCst) => break,
                        Err(_) => {}
                    }
                }
                shared.mon.dropped()
            })?;
        Ok(Self { thread, finished })
    }

    /// Waits until every event, up to `MONITOR_STOPPED`, was printed. Call
    /// once the context is dropped (its I/O thread has stopped).
    fn finish(self) {
        self.finished.store(true, Ordering::SeqCst);
        match self.thread.join() {
            Ok(0) => {}
            Ok(n) => eprintln!("zmtp: warning: {n} monitor events were dropped"),
            Err(_) => eprintln!("zmtp: warning: the monitor thread failed"),
        }
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let start = Instant::now();
    let deadline = cli
        .timeout
        .map(|ms| start.checked_add(Duration::from_millis(ms)));
    // A timeout too far away to represent is no timeout.
    let deadline = deadline.flatten();

    let ctx = Context::new().map_err(|e| Failure::Runtime(format!("context: {e}")))?;
    #[cfg(feature = "curve")]
    let allow_keys = cli.zap_allow_key.clone();
    #[cfg(not(feature = "curve"))]
    let allow_keys: Vec<[u8; 32]> = Vec::new();
    let handler = if cli.zap_allow.is_empty() && allow_keys.is_empty() {
        None
    } else {
        Some(
            zap::Handler::start(&ctx, cli.zap_allow.clone(), allow_keys)
                .map_err(Failure::Runtime)?,
        )
    };
    let sock = ctx
        .socket(cli.socket_type)
        .map_err(|e| Failure::Runtime(format!("socket: {e}")))?;
    apply_options(cli, &sock)?;

    let mon = ctx
        .monitor_socket(MONITOR_ENDPOINT)
        .map_err(|e| Failure::Runtime(format!("monitor: {e}")))?;
    sock.monitor(Some(MONITOR_ENDPOINT), ALL_EVENTS)
        .map_err(|e| Failure::Runtime(format!("monitor: {e}")))?;
    let shared = Arc::new(Shared {
        mon,
        first_handshake: Mutex::new(None),
        printing: AtomicBool::new(false),
    });
    let printer = Printer::start(Arc::clone(&shared), cli.monitor)
        .map_err(|e| Failure::Runtime(format!("monitor thread: {e}")))?;

    let mut session = Session::new(cli, &sock, deadline, shared);
    let result = session.run(cli);

    // Close: linger at most until the deadline, then wait for the I/O
    // thread (dropping the last context handle) and the last events.
    let linger = effective_linger(cli.linger.unwrap_or(-1), deadline);
    let _ = sock.set_linger(linger);
    let _ = sock.close();
    if let Some(h) = handler {
        h.stop();
    }
    drop(ctx);
    printer.finish();
    result
}

/// `--linger`, capped by the time left until the deadline.
fn effective_linger(linger: i32, deadline: Option<Instant>) -> i32 {
    let Some(deadline) = deadline else {
        return linger;
    };
    let left = deadline
        .saturating_duration_since(Instant::now())
        .as_millis();
    let left = i32::try_from(left).unwrap_or(i32::MAX);
    if linger < 0 { left } else { linger.min(left) }
}

fn apply_options(cli: &Cli, sock: &Socket) -> Result<(), Failure> {
    fn set<T: Copy>(
        name: &str,
        value: Option<T>,
        f: impl FnOnce(T) -> zmtp_std::Result<()>,
    ) -> Result<(), Failure> {
        match value {
            Some(v) => f(v).map_err(|e| Failure::Usage(format!("--{name}: {e}"))),
            None => Ok(()),
        }
    }
    if let Some(id) = &cli.routing_id {
        sock.set_routing_id(id.as_bytes())
            .map_err(|e| Failure::Usage(format!("--routing-id: {e}")))?;
    }
    for m in &cli.metadata {
        sock.set_metadata(m.as_bytes())
            .map_err(|e| Failure::Usage(format!("--metadata {m:?}: {e}")))?;
    }
    set("linger", cli.linger, |v| sock.set_linger(v))?;
    set("sndhwm", cli.sndhwm, |v| sock.set_sndhwm(v))?;
    set("rcvhwm", cli.rcvhwm, |v| sock.set_rcvhwm(v))?;
    set("maxmsgsize", cli.maxmsgsize, |v| sock.set_maxmsgsize(v))?;
    set("reconnect-ivl", cli.reconnect_ivl, |v| {
        sock.set_reconnect_ivl(v)
    })?;
    set("reconnect-ivl-max", cli.reconnect_ivl_max, |v| {
        sock.set_reconnect_ivl_max(v)
    })?;
    set("handshake-ivl", cli.handshake_ivl, |v| {
        sock.set_handshake_ivl(v)
    })?;
    set("heartbeat-ivl", cli.heartbeat_ivl, |v| {
        sock.set_heartbeat_ivl(v)
    })?;
    set("heartbeat-timeout", cli.heartbeat_timeout, |v| {
        sock.set_heartbeat_timeout(v)
    })?;
    set("heartbeat-ttl", cli.heartbeat_ttl, |v| {
        sock.set_heartbeat_ttl(v)
    })?;
    if cli.plain_server {
        sock.set_plain_server(true)
            .map_err(|e| Failure::Usage(format!("--plain-server: {e}")))?;
        if cli.zap_allow.is_empty() {
            eprintln!(
                "zmtp: note: --plain-server without --zap-allow: no ZAP handler, every client fails"
            );
        }
    }
    if let Some(u) = &cli.plain_username {
        sock.set_plain_username(u.as_bytes())
            .map_err(|e| Failure::Usage(format!("--plain-username: {e}")))?;
    }
    if let Some(p) = &cli.plain_password {
        sock.set_plain_password(p.as_bytes())
            .map_err(|e| Failure::Usage(format!("--plain-password: {e}")))?;
    }
    if let Some(d) = &cli.zap_domain {
        sock.set_zap_domain(d.as_bytes())
            .map_err(|e| Failure::Usage(format!("--zap-domain: {e}")))?;
    }
    #[cfg(feature = "curve")]
    apply_curve(cli, sock)?;
    if !cli.zap_allow.is_empty()
        && !cli.plain_server
        && cli.zap_domain.as_deref().is_none_or(str::is_empty)
    {
        eprintln!(
            "zmtp: note: --zap-allow without --plain-server or --zap-domain: nothing asks the ZAP handler"
        );
    }
    for topic in &cli.subscribe {
        sock.set_subscribe(topic.as_bytes())
            .map_err(|e| Failure::Usage(format!("--subscribe {topic:?}: {e}")))?;
    }
    if cli.socket_type == SocketType::Sub && cli.subscribe.is_empty() {
        eprintln!("zmtp: note: a SUB socket without --subscribe receives nothing");
    }
    Ok(())
}

/// Whose turn it is in the REQ/REP state machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// Any type but REQ and REP: send and receive freely.
    Free,
    /// REQ may send a request / REP may send its reply.
    Send,
    /// REQ waits for the reply / REP waits for a request.
    Recv,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Everything asked for was done.
    Done,
    /// The deadline came first.
    Deadline,
}

/// Where a message to send comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Echo,
    Queued,
}

/// The main loop's state.
struct Session<'s> {
    sock: &'s Socket,
    kind: SocketType,
    deadline: Option<Instant>,
    shared: Arc<Shared>,
    /// `--send` messages not yet sent.
    pending: VecDeque<Vec<u8>>,
    /// How many `--send` messages were given.
    total_sends: usize,
    /// Messages to send back (`--echo`), before any `--send` message.
    echoes: VecDeque<Vec<Vec<u8>>>,
    sent: u64,
    received: u64,
    recv_target: Option<u64>,
    echo: bool,
    turn: Turn,
    /// ROUTER: the routing id of the last message received.
    last_peer: Option<Vec<u8>>,
    /// XPUB: a subscription message arrived.
    subscribed: bool,
}

impl<'s> Session<'s> {
    fn new(cli: &Cli, sock: &'s Socket, deadline: Option<Instant>, shared: Arc<Shared>) -> Self {
        let turn = match cli.socket_type {
            SocketType::Req => Turn::Send,
            SocketType::Rep => Turn::Recv,
            _ => Turn::Free,
        };
        Self {
            sock,
            kind: cli.socket_type,
            deadline,
            shared,
            pending: cli.send.iter().map(|s| s.as_bytes().to_vec()).collect(),
            total_sends: cli.send.len(),
            echoes: VecDeque::new(),
            sent: 0,
            received: 0,
            recv_target: cli.recv,
            echo: cli.echo,
            turn,
            last_peer: None,
            subscribed: false,
        }
    }

    /// Binds, connects and runs the main loop.
    fn run(&mut self, cli: &Cli) -> Result<(), Failure> {
        for ep in &cli.bind {
            match self.sock.bind(ep) {
                Ok(()) => {
                    let resolved = self.sock.last_endpoint().unwrap_or_else(|_| ep.clone());
                    self.shared.emit(&json::bound(&resolved));
                }
                Err(e) if endpoint_usage_error(&e) => {
                    return Err(Failure::Usage(format!("--bind {ep}: {e}")));
                }
                Err(e) => return Err(Failure::Runtime(format!("bind {ep}: {e}"))),
            }
        }
        for ep in &cli.connect {
            if let Err(e) = self.sock.connect(ep) {
                return Err(if endpoint_usage_error(&e) {
                    Failure::Usage(format!("--connect {ep}: {e}"))
                } else {
                    Failure::Runtime(format!("connect {ep}: {e}"))
                });
            }
        }
        match self.drive()? {
            End::Done => Ok(()),
            End::Deadline if self.goal_met() => Ok(()),
            End::Deadline => {
                let mut msg = format!("timed out after {} ms", cli.timeout.unwrap_or(0));
                if let Some(n) = self.recv_target {
                    msg.push_str(&format!(": received {} of {n} messages", self.received));
                }
                if self.total_sends > 0 {
                    msg.push_str(&format!(
                        "{} sent {} of {} --send messages",
                        if self.recv_target.is_some() { "," } else { ":" },
                        self.total_sends.saturating_sub(self.pending.len()),
                        self.total_sends,
                    ));
                }
                Err(Failure::Runtime(msg))
            }
        }
    }

    /// Whether the run is complete (see "WHEN IT EXITS" in the help).
    fn done(&self) -> bool {
        let sends_done = self.pending.is_empty() && self.echoes.is_empty();
        match self.recv_target {
            Some(n) => self.received >= n && sends_done,
            None => !self.echo && self.total_sends > 0 && sends_done,
        }
    }

    /// Whether what was asked (the `--recv` count, every `--send`) was
    /// reached: a deadline then ends the run successfully.
    fn goal_met(&self) -> bool {
        self.recv_target.is_none_or(|n| self.received >= n) && self.pending.is_empty()
    }

    /// Whether a queued `--send` message may go out now.
    fn may_send_queued(&self) -> bool {
        if self.turn == Turn::Recv {
            return false;
        }
        match self.kind {
            SocketType::Router => self.last_peer.is_some(),
            SocketType::XPub => self.subscribed,
            SocketType::Pub => self
                .shared
                .first_handshake()
                .is_some_and(|t| t.elapsed() >= PUB_GRACE),
            _ => true,
        }
    }

    /// Whether the loop may receive now.
    fn may_recv(&self) -> bool {
        args::can_recv(self.kind) && self.turn != Turn::Send
    }

    /// The next message to send, if one may go out now.
    fn next_send(&self) -> Option<(Vec<Vec<u8>>, Source)> {
        if let Some(e) = self.echoes.front() {
            return Some((e.clone(), Source::Echo));
        }
        let msg = self.pending.front()?;
        if !self.may_send_queued() {
            return None;
        }
        let parts = match (&self.last_peer, self.kind) {
            (Some(peer), SocketType::Router) => vec![peer.clone(), msg.clone()],
            _ => vec![msg.clone()],
        };
        Some((parts, Source::Queued))
    }

    /// Sends, waiting up to `wait` for a peer to take the message.
    fn send(&self, parts: &[Vec<u8>], wait: Duration) -> zmtp_std::Result<()> {
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        if wait.is_zero() {
            self.sock.send_nonblocking(&refs)
        } else {
            let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX).max(1);
            self.sock.set_sndtimeo(ms)?;
            self.sock.send(&refs)
        }
    }

    fn on_sent(&mut self, source: Source) {
        match source {
            Source::Echo => {
                self.echoes.pop_front();
            }
            Source::Queued => {
                self.pending.pop_front();
            }
        }
        self.sent = self.sent.saturating_add(1);
        self.shared.emit(&json::sent(self.sent));
        if self.turn != Turn::Free {
            self.turn = Turn::Recv;
        }
    }

    fn on_message(&mut self, msg: Vec<Vec<u8>>) {
        self.received = self.received.saturating_add(1);
        self.shared.emit(&json::recv(&msg));
        if self.turn != Turn::Free {
            self.turn = Turn::Send;
        }
        match self.kind {
            SocketType::Router => self.last_peer = msg.first().cloned(),
            SocketType::XPub if msg.first().and_then(|f| f.first()) == Some(&1) => {
                self.subscribed = true;
            }
            _ => {}
        }
        // For REQ and REP a queued message takes the turn before an echo.
        if self.echo && (self.turn == Turn::Free || self.pending.is_empty()) {
            self.echoes.push_back(msg);
        }
    }

    /// The main loop: send what may go out, wait for input or the next
    /// chance to send, until done or the deadline.
    fn drive(&mut self) -> Result<End, Failure> {
        let receiver = args::can_recv(self.kind);
        loop {
            if STDOUT_GONE.load(Ordering::SeqCst) {
                return Err(Failure::StdoutGone);
            }
            if self.done() {
                return Ok(End::Done);
            }
            let left = match self.deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(End::Deadline);
                    }
                    left.min(IDLE)
                }
                None => IDLE,
            };
            let mut wait = left;
            if let Some((parts, source)) = self.next_send() {
                // A type that cannot receive just waits in send; the others
                // try, then wait for input a short while and try again.
                let send_wait = if receiver { Duration::ZERO } else { left };
                match self.send(&parts, send_wait) {
                    Ok(()) => {
                        self.on_sent(source);
                        continue;
                    }
                    Err(Error::WouldBlock) if receiver => wait = POLL.min(left),
                    Err(Error::WouldBlock) => continue,
                    Err(e) => return Err(Failure::Runtime(format!("send: {e}"))),
                }
            } else if self.kind == SocketType::Pub && !self.pending.is_empty() {
                // Waiting for a peer's handshake and the grace period.
                wait = POLL.min(left);
            }
            if self.may_recv() {
                match self.sock.recv_timeout(wait) {
                    Ok(msg) => self.on_message(msg),
                    Err(Error::WouldBlock) => {}
                    Err(e) => return Err(Failure::Runtime(format!("receive: {e}"))),
                }
            } else {
                std::thread::sleep(wait);
            }
        }
    }
}

/// `--curve-*`: the CURVE options, in libzmq's order (the keys, then the
/// role).
#[cfg(feature = "curve")]
fn apply_curve(cli: &Cli, sock: &Socket) -> Result<(), Failure> {
    fn usage(flag: &'static str) -> impl Fn(Error) -> Failure {
        move |e| Failure::Usage(format!("--{flag}: {e}"))
    }
    if let Some(k) = &cli.curve_publickey {
        sock.set_curve_publickey(k)
            .map_err(usage("curve-publickey"))?;
    }
    if let Some(k) = &cli.curve_secretkey {
        sock.set_curve_secretkey(k)
            .map_err(usage("curve-secretkey"))?;
    }
    if let Some(k) = &cli.curve_serverkey {
        sock.set_curve_serverkey(k)
            .map_err(usage("curve-serverkey"))?;
    }
    if cli.curve_server {
        sock.set_curve_server(true).map_err(usage("curve-server"))?;
    }
    Ok(())
}
