//! The context's I/O thread: one `mio` event loop that owns every transport
//! (listeners, connect attempts, established streams) and every timer
//! (reconnects, the core's timeouts, linger).
//!
//! A socket's connections are serviced in rounds. A round first writes
//! each connection's transmit chunk and reads into its receive chunk (up
//! to [`CHUNK`] bytes per call, write interest registered only while
//! output is pending) without the socket's lock, so that the application
//! can go on sending and receiving meanwhile; then, under the lock, it
//! feeds what was read to
//! [`Socket::handle_input`](zmtp_core::socket::Socket::handle_input)
//! (keeping the bytes the core holds back until the application reads;
//! large frame bodies are read outside the lock, see [`crate::bodies`]),
//! refills the transmit chunks from `poll_transmit`, handles the closes
//! `poll_closed` reports and moves monitor events to their endpoint.
//! Rounds repeat while bytes move, up to [`MAX_ROUNDS`] per turn of the
//! loop. The application is signalled only when a thread waits on the
//! socket.
//!
//! A receive that waits right after a small send reads the connections
//! that send went to on the application thread ([`recv_direct`], under a
//! per-connection [`ReadClaim`]) and takes them off this thread's poller
//! meanwhile ([`park`]), so that the reply wakes neither thread.
//!
//! A send that follows a wait (a request after its reply, a reply after
//! its request) does not wake this thread: the application thread writes
//! the core's output itself when the connection has nothing in flight
//! here ([`DirectTx`]); this thread takes over only what the transport
//! did not accept at once (large frames it writes straight from the
//! core's transmit queue). Sends in a burst are left to this thread,
//! which batches them into large writes.
//!
//! Frames a send copied into buffers of their own ([`crate::outgoing`])
//! are not copied again: this thread takes up to [`TX_BODIES`] of them
//! with its transmit chunk and writes chunk bytes and bodies in order
//! with one vectored write; the application thread's direct writes send
//! them in place.

use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration as StdDuration;
use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, PoisonError};

use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Events, Interest, Poll, Registry as MioRegistry, Token};
use socket2::{SockAddr, Socket as RawSocket, Type};
use zmtp_core::conn::DisconnectReason;
use zmtp_core::monitor::{EndpointPair, Event, errno};
use zmtp_core::reconnect::Backoff;
use zmtp_core::socket::{PeerBuffers, PeerHandle};
use zmtp_core::{Duration, Instant, SocketType};

use crate::endpoint::{Target, resolve_tcp, tcp_string, unix_string};
use crate::error::os_errno;
use crate::monitor::{EP, Registry};
use crate::outgoing::{Outgoing, Spares};
use crate::socket::{CoreSocket, SocketShared, State, random_u32};
use crate::sync::lock;
use crate::time::Clock;

/// The waker's token; transports get tokens from 1 up, never reused.
pub(crate) const WAKER: Token = Token(0);
/// Bytes per read and per transmit chunk (each connection has one of
/// each): large writes are what loopback throughput depends on.
const CHUNK: usize = 256 * 1024;
/// Bytes read at a time between large bodies (libzmq reads 8 KiB).
const SMALL_READ: usize = 8 * 1024;
/// Bytes read into the receive chunk with the rest of a large body, in the
/// same call: the next frame's header, and little of its body (which is
/// copied).
const BODY_TAIL: usize = 512;
/// Bodies one [`feed`] starts at most: one per [`crate::bodies::EXTERNAL_MIN`]
/// bytes of a chunk, and one whose header ends it.
const BODY_PASSES: usize = CHUNK / crate::bodies::EXTERNAL_MIN + 2;
/// Bodies of their own ([`crate::outgoing`]) taken into one connection's
/// output at a time (with at most [`CHUNK`] bytes of them, the last one
/// whole).
const TX_BODIES: usize = 8;
/// Rounds (a locked half and an unlocked half) per socket per turn of the
/// loop before other work runs.
const MAX_ROUNDS: usize = 64;
/// Bytes of the subscription store of each PUB/XPUB peer.
const SUBS_BUFFER: usize = 256 * 1024;

/// What the application side asks of the I/O thread.
pub(crate) enum Command {
    /// A new socket.
    AddSocket(Arc<SocketShared>),
    /// A listener bound by `bind` (its `LISTENING` event is already out).
    Listen {
        sid: u64,
        eid: u64,
        listener: Listener,
        fd: u32,
        endpoint: String,
        file: Option<String>,
    },
    /// A new connect endpoint.
    Connect {
        sid: u64,
        eid: u64,
        target: Target,
        endpoint: String,
        reconnect_ivl: i32,
        reconnect_ivl_max: i32,
    },
    /// `unbind` / `disconnect` of one endpoint.
    Term { sid: u64, eid: u64 },
    /// Output is pending, or the application made room for held-back input.
    Kick(u64),
    /// The socket was closed; linger for `linger` ms (-1: until flushed).
    Close { sid: u64, linger: i32 },
    /// The context is gone: exit once every socket finished closing.
    Shutdown,
    /// The answer to a connection's ZAP request.
    Zap {
        key: crate::zap::Key,
        answer: crate::zap::Answer,
    },
}

/// A bound listener.
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// A connection's transport.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn from_raw(sock: RawSocket, tcp: bool) -> Self {
        let fd = OwnedFd::from(sock);
        if tcp {
            Self::Tcp(TcpStream::from_std(std::net::TcpStream::from(fd)))
        } else {
            Self::Unix(UnixStream::from_std(std::os::unix::net::UnixStream::from(
                fd,
            )))
        }
    }

    fn source(&mut self) -> &mut dyn Source {
        match self {
            Self::Tcp(s) => s,
            Self::Unix(s) => s,
        }
    }

    fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Self::Tcp(s) => s.take_error(),
            Self::Unix(s) => s.take_error(),
        }
    }

    fn is_connected(&self) -> io::Result<()> {
        match self {
            Self::Tcp(s) => s.peer_addr().map(|_| ()),
            Self::Unix(s) => s.peer_addr().map(|_| ()),
        }
    }

    fn local_string(&self) -> String {
        match self {
            Self::Tcp(s) => s.local_addr().map(|a| tcp_string(&a)).unwrap_or_default(),
            Self::Unix(s) => s
                .local_addr()
                .map(|a| unix_string(&a))
                .unwrap_or_else(|_| "ipc://".to_owned()),
        }
    }

    /// The peer's address as libzmq puts it in ZAP requests: the IP
    /// address without the port; for IPC `localhost` (`getnameinfo` of a
    /// Unix socket address) and, on Linux, the peer's `:uid:gid:pid`.
    fn peer_ip(&self) -> String {
        match self {
            Self::Tcp(s) => s
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            Self::Unix(s) => crate::zap::unix_peer_address(s),
        }
    }

    fn peer_string(&self) -> String {
        match self {
            Self::Tcp(s) => s.peer_addr().map(|a| tcp_string(&a)).unwrap_or_default(),
            Self::Unix(s) => s
                .peer_addr()
                .map(|a| unix_string(&a))
                .unwrap_or_else(|_| "ipc://".to_owned()),
        }
    }

    fn raw_fd(&self) -> RawFd {
        match self {
            Self::Tcp(s) => s.as_raw_fd(),
            Self::Unix(s) => s.as_raw_fd(),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Unix(s) => s.read(buf),
        }
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read_vectored(bufs),
            Self::Unix(s) => s.read_vectored(bufs),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write_vectored(bufs),
            Self::Unix(s) => s.write_vectored(bufs),
        }
    }

    /// A second handle on the same (non-blocking) transport, for the
    /// application thread's writes and reads.
    fn app_stream(&self) -> Option<AppStream> {
        let fd = match self {
            Self::Tcp(s) => std::os::fd::AsFd::as_fd(s).try_clone_to_owned(),
            Self::Unix(s) => std::os::fd::AsFd::as_fd(s).try_clone_to_owned(),
        }
        .ok()?;
        Some(match self {
            Self::Tcp(_) => AppStream::Tcp(std::net::TcpStream::from(fd)),
            Self::Unix(_) => AppStream::Unix(std::os::unix::net::UnixStream::from(fd)),
        })
    }
}

/// The application thread's handle on a connection's transport (the
/// descriptor duplicated; it shares the original's non-blocking mode).
enum AppStream {
    Tcp(std::net::TcpStream),
    Unix(std::os::unix::net::UnixStream),
}

impl AppStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Unix(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(buf),
            Self::Unix(s) => s.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write_vectored(bufs),
            Self::Unix(s) => s.write_vectored(bufs),
        }
    }
}

/// Frames whose unsent body is at least this large are written by the
/// application thread's direct writes straight from the core's transmit
/// queue (header and body in one vectored write) instead of being copied
/// into a buffer first. (The I/O thread writes outside the socket's lock
/// and copies what is in the core's queue into its chunk: writing in place
/// under the lock, or from the application thread in a burst, measured
/// slower. Frames a send copied into buffers of their own are never in
/// the core's queue: both threads write them from their buffers.)
pub(crate) const IN_PLACE_MIN: usize = 16 * 1024;
/// Vectored writes per [`write_in_place`] call that may be interrupted by
/// a signal before it gives up (it is called again later).
const IN_PLACE_TRIES: usize = 1024;

/// How [`write_in_place`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InPlace {
    /// Nothing is pending, or the front frame is small: the copying path
    /// takes over.
    Small,
    /// The transport would block with output left.
    Blocked,
    /// The transport failed.
    Failed,
}

/// Writes `peer`'s pending output without copying it while the front
/// frame's unsent body is one of its own ([`crate::outgoing`]) or at least
/// [`IN_PLACE_MIN`] bytes of the core's transmit queue. Under the socket's
/// lock (the queue is the core's).
fn write_in_place(
    core: &mut CoreSocket,
    outgoing: &mut Outgoing,
    lent: &mut Lent<'_>,
    peer: PeerHandle,
    now: Instant,
    mut write: impl FnMut(&[IoSlice<'_>]) -> io::Result<usize>,
) -> InPlace {
    for _ in 0..IN_PLACE_TRIES {
        let (n, body_out) = {
            let Some(view) = core.peek_transmit(peer) else {
                return InPlace::Small;
            };
            let external = view.external();
            let kept = if lent.is_empty() {
                outgoing.front(peer)
            } else {
                lent.front()
            };
            let body = if external > 0 {
                // The body's last `external` bytes are unsent.
                match kept {
                    Some(b) if b.len() >= external => b
                        .get(b.len().saturating_sub(external)..)
                        .unwrap_or_default(),
                    // Not kept: the connection cannot go on.
                    _ => return InPlace::Failed,
                }
            } else if view.body().len() >= IN_PLACE_MIN {
                view.body()
            } else {
                return InPlace::Small;
            };
            match write(&[IoSlice::new(view.head()), IoSlice::new(body)]) {
                Ok(0) => return InPlace::Blocked,
                Ok(n) => (n.min(view.len()), external > 0 && n >= view.len()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return InPlace::Blocked,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return InPlace::Failed,
            }
        };
        let _ = core.consume_transmit(now, peer, n);
        if body_out {
            if lent.is_empty() {
                outgoing.written(peer);
            } else {
                lent.advance();
            }
        }
    }
    InPlace::Small
}

/// The frames of the message a send just queued, still in the caller's
/// buffers ([`send_lent`]): those of [`crate::outgoing::SEND_MIN`] bytes or
/// more are the core's external records, in order; those before `next`
/// are written.
pub(crate) struct Lent<'a> {
    frames: &'a [&'a [u8]],
    next: usize,
}

impl<'a> Lent<'a> {
    /// `frames`, none written yet.
    pub(crate) fn new(frames: &'a [&'a [u8]]) -> Self {
        Self { frames, next: 0 }
    }

    /// The unwritten large frames, in order.
    fn rest(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let frames: &'a [&'a [u8]] = self.frames.get(self.next..).unwrap_or_default();
        frames
            .iter()
            .copied()
            .filter(|f| f.len() >= crate::outgoing::SEND_MIN)
    }

    /// The first unwritten large frame.
    fn front(&self) -> Option<&'a [u8]> {
        self.rest().next()
    }

    fn is_empty(&self) -> bool {
        self.front().is_none()
    }

    /// The first unwritten large frame is written.
    fn advance(&mut self) {
        let rest = self.frames.get(self.next..).unwrap_or_default();
        let skip = rest
            .iter()
            .position(|f| f.len() >= crate::outgoing::SEND_MIN)
            .map_or(rest.len(), |i| i.saturating_add(1));
        self.next = self.next.saturating_add(skip);
    }
}

/// Bytes the application thread moves per direct write: a 64 KiB message
/// and its header in one write (a message split over two writes can cost
/// the receiver a second wake-up); at most one transmit chunk, so that
/// what the transport does not take fits the I/O thread's chunk.
const DIRECT_CHUNK: usize = 128 * 1024;
/// Direct writes per send before the rest is left to the I/O thread.
const DIRECT_PASSES: usize = 4;

/// The application thread's side of a connection's transmit path.
///
/// After a send, the application thread writes the core's output for the
/// connection itself when the I/O thread has none of the connection's
/// output in flight (its transmit chunk is empty), which saves waking the
/// I/O thread for it. What the transport does not take at once (it would
/// block, or took part) stays here; the I/O thread writes it before
/// anything else. Kept in the socket's shared state, created and removed
/// with the connection by the I/O thread.
pub(crate) struct DirectTx {
    peer: PeerHandle,
    writer: AppStream,
    clock: Clock,
    /// The I/O thread has output of this connection in flight (set under
    /// the socket's lock when it fills its chunk, cleared once the chunk
    /// is written), or the transport failed: sends go through the I/O
    /// thread.
    busy: Arc<AtomicBool>,
    /// Output taken from the core and not written: `buf[off..len]`.
    buf: Vec<u8>,
    off: usize,
    len: usize,
    /// Who reads the transport now (shared with the I/O thread).
    claim: Arc<ReadClaim>,
    /// The I/O thread's poller, the transport's descriptor as registered
    /// there (valid while this handle exists: the I/O thread removes the
    /// handle, under the socket's lock, before it closes the transport)
    /// and its token.
    poller: Option<Arc<MioRegistry>>,
    fd: RawFd,
    token: Token,
    /// The last send queued output for this connection: a receive that
    /// waits right after it reads here itself ([`recv_direct`]).
    rx_hint: bool,
    /// The application thread saw the end of the stream or an error (left
    /// for the I/O thread to find), or the core closed the connection: it
    /// reads here no more.
    rx_done: bool,
    /// Bytes the application thread read that the core could not take
    /// yet: `rbuf[roff..rlen]`; the read claim stays taken until they are
    /// consumed (by either thread, under the socket's lock).
    rbuf: Vec<u8>,
    roff: usize,
    rlen: usize,
}

/// A connection's read claim: which thread may read its transport.
///
/// Whoever reads takes the claim first, so that the stream has one reader
/// at a time and its bytes reach the core in order. The I/O thread holds
/// it from a read that returned bytes until the core consumed them (and
/// for good once the stream ended); the application thread holds it while
/// it reads and feeds, and while the core holds back bytes it read.
///
/// The transport's readiness is edge-triggered: when the I/O thread finds
/// the claim taken it records that it skipped a read (`missed`), and the
/// application thread, on releasing the claim, reads again or wakes the
/// I/O thread, so that no readiness is lost.
#[derive(Debug, Default)]
pub(crate) struct ReadClaim {
    taken: AtomicBool,
    missed: AtomicBool,
    /// The transport's registration with the I/O thread's poller, changed
    /// by either thread under this lock (see [`Parking`]).
    parking: std::sync::Mutex<Parking>,
}

/// How a connection's transport is registered with the I/O thread's
/// poller. While the application thread watches for a reply and reads the
/// transport itself, the transport is taken off the poller (`parked`), so
/// that the reply does not also wake the I/O thread; it is registered
/// again (which reports readiness that came meanwhile) when the watch
/// ends, or by the I/O thread as soon as it needs write readiness.
#[derive(Debug, Default, Clone, Copy)]
struct Parking {
    /// Deregistered by the application thread.
    parked: bool,
    /// Registered for write readiness (the I/O thread has output waiting).
    write: bool,
}

impl Parking {
    /// The interest a registration asks for.
    fn interest(self) -> Interest {
        if self.write {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        }
    }
}

impl ReadClaim {
    /// The transport's registration state, under its lock.
    fn parking(&self) -> std::sync::MutexGuard<'_, Parking> {
        self.parking.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a parked transport (`fd`, `token`) with `registry` again,
    /// with the interest it had; readiness that came meanwhile is reported
    /// then. `None` when it was not parked, else whether that worked.
    fn register_again(&self, registry: &MioRegistry, fd: RawFd, token: Token) -> Option<bool> {
        let mut p = self.parking();
        if !p.parked {
            return None;
        }
        let ok = registry
            .register(&mut mio::unix::SourceFd(&fd), token, p.interest())
            .is_ok();
        if ok {
            p.parked = false;
        }
        Some(ok)
    }

    /// Takes the claim if it is free.
    fn try_take(&self) -> bool {
        self.taken
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
    }

    /// The application thread's attempt to take the claim.
    fn take_app(&self) -> bool {
        self.try_take()
    }

    /// The application thread releases the claim; returns whether the I/O
    /// thread skipped a read meanwhile (someone must read again).
    fn release_app(&self) -> bool {
        self.taken.store(false, Ordering::SeqCst);
        self.missed.swap(false, Ordering::SeqCst)
    }

    /// The I/O thread's attempt to take the claim; when it fails, the
    /// application thread will see the skipped read when it releases.
    fn take_io(&self) -> bool {
        if self.try_take() {
            return true;
        }
        self.missed.store(true, Ordering::SeqCst);
        // Released in between: the application thread may have looked at
        // `missed` before it was set.
        let taken = self.try_take();
        if taken {
            self.missed.store(false, Ordering::SeqCst);
        }
        taken
    }

    /// The I/O thread releases the claim (it reads again itself when the
    /// transport is readable).
    fn release_io(&self) {
        self.taken.store(false, Ordering::SeqCst);
        self.missed.store(false, Ordering::SeqCst);
    }
}

impl DirectTx {
    fn has_rx_leftover(&self) -> bool {
        self.roff < self.rlen
    }

    fn has_pending(&self) -> bool {
        self.off < self.len
    }

    /// Moves the unwritten bytes to the front of `out`; returns how many.
    fn take_pending(&mut self, out: &mut [u8]) -> usize {
        let pending = self.buf.get(self.off..self.len).unwrap_or_default();
        let n = pending.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), pending.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.off = self.off.saturating_add(n);
        if !self.has_pending() {
            self.off = 0;
            self.len = 0;
        }
        n
    }
}

/// After a send that followed a wait: writes the core's output for every
/// ready connection whose transmit side is idle, from the application
/// thread, if the connection holds no more than the message just sent:
/// frames of at least [`IN_PLACE_MIN`] body bytes in place, the rest
/// through a buffer. Returns whether everything
/// went out, else the I/O thread must be woken for the rest.
pub(crate) fn send_direct(st: &mut State) -> bool {
    let mut all_out = true;
    let State {
        core,
        direct,
        outgoing,
        ..
    } = st;
    for d in direct.iter_mut() {
        if !core.has_pending_output(d.peer) {
            continue;
        }
        if !is_idle(d, core) {
            all_out = false;
            continue;
        }
        direct_write(d, core, outgoing, &mut Lent::new(&[]));
        if d.busy.load(Ordering::Relaxed) || core.has_pending_output(d.peer) {
            all_out = false;
        }
    }
    all_out
}

/// After a send queued a message for `peer` whose large frames (those of
/// `frames` of [`crate::outgoing::SEND_MIN`] bytes or more, in order) the
/// core holds as records: writes the message from the
/// application thread straight from the caller's buffers when the
/// connection's transmit side is idle (as [`send_direct`]), and copies the
/// frames that did not go out into buffers of their own for the I/O thread
/// ([`crate::outgoing`]). Returns whether everything went out (else the
/// I/O thread must be woken for the rest).
pub(crate) fn send_lent(st: &mut State, peer: PeerHandle, frames: &[&[u8]]) -> bool {
    let State {
        core,
        direct,
        outgoing,
        ..
    } = st;
    let mut lent = Lent::new(frames);
    let mut all_out = false;
    // The unsent bytes of a frame written in part.
    let mut unsent = None;
    if outgoing.front(peer).is_none()
        && let Some(d) = direct.iter_mut().find(|d| d.peer == peer)
        && is_idle(d, core)
    {
        direct_write(d, core, outgoing, &mut lent);
        all_out = !d.busy.load(Ordering::Relaxed) && !core.has_pending_output(peer);
        // The frames before it are written: when the front record's body
        // is external, it is the first unwritten frame's.
        unsent = core
            .peek_transmit(peer)
            .map(|v| v.external())
            .filter(|&n| n > 0);
    }
    for (i, f) in lent.rest().enumerate() {
        // A frame written in part is copied from where the write stopped.
        let from = match unsent {
            Some(n) if i == 0 => f.len().saturating_sub(n),
            _ => 0,
        };
        outgoing.push_copy(peer, f.get(from..).unwrap_or_default());
    }
    all_out
}

/// Whether the application thread may write `d`'s output itself: the
/// connection is ready, the I/O thread has none of its output in flight,
/// and it holds one message at most (a backlog is the I/O thread's to
/// batch).
fn is_idle(d: &DirectTx, core: &CoreSocket) -> bool {
    !d.busy.load(Ordering::Acquire)
        && core
            .peer(d.peer)
            .is_some_and(|p| p.is_ready() && p.queued_outgoing() <= 1)
}

/// Writes `d`'s pending output from the application thread: large frames
/// in place (the bodies in `lent` first, then those kept in `outgoing`),
/// the rest through `d`'s buffer, for up to [`DIRECT_PASSES`] passes. What
/// the transport does not take is left to the I/O thread (`d` turns busy).
fn direct_write(
    d: &mut DirectTx,
    core: &mut CoreSocket,
    outgoing: &mut Outgoing,
    lent: &mut Lent<'_>,
) {
    let now = d.clock.now();
    let mut passes = 0usize;
    while passes < DIRECT_PASSES && core.has_pending_output(d.peer) {
        passes = passes.saturating_add(1);
        // Large frames go out in place, without a copy.
        let writer = &mut d.writer;
        let written = write_in_place(core, outgoing, lent, d.peer, now, |bufs| {
            writer.write_vectored(bufs)
        });
        if written != InPlace::Small {
            // The I/O thread writes the rest (and finds out about a
            // failure); the output stays in the core's queue.
            d.busy.store(true, Ordering::Release);
            break;
        }
        if !core.has_pending_output(d.peer) {
            break;
        }
        if d.buf.is_empty() {
            d.buf = vec![0u8; DIRECT_CHUNK];
        }
        // The rest up to a body of its own, through the buffer.
        let len = take_output(core, now, d.peer, &mut d.buf, 0);
        let mut off = 0usize;
        let mut blocked = false;
        while off < len {
            let pending = d.buf.get(off..len).unwrap_or_default();
            match d.writer.write(pending) {
                Ok(n) if n > 0 => off = off.saturating_add(n).min(len),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Would block, took nothing, or failed: the I/O thread
                // writes the rest (and finds out about a failure).
                _ => {
                    blocked = true;
                    break;
                }
            }
        }
        if blocked {
            d.off = off;
            d.len = len;
            d.busy.store(true, Ordering::Release);
            break;
        }
    }
}

/// Bytes the application thread reads per call: a 64 KiB message and its
/// header at once.
const DIRECT_READ: usize = 128 * 1024;
/// Reads per connection and call of [`recv_direct`] while the I/O thread
/// reports skipped reads, before it is woken to read itself.
const DIRECT_READS: usize = 3;

/// Takes the hinted connections off the I/O thread's poller while the
/// application thread watches for their replies ([`Parking`]); connections
/// with output waiting for write readiness stay registered.
pub(crate) fn park(st: &mut State) {
    let State { core, direct, .. } = st;
    for d in direct.iter_mut() {
        if !d.rx_hint || d.rx_done || !core.peer(d.peer).is_some_and(|p| p.is_ready()) {
            continue;
        }
        if d.claim.taken.load(Ordering::SeqCst) && !d.has_rx_leftover() {
            // The I/O thread reads here (a large body, say): it needs the
            // readiness.
            continue;
        }
        let mut p = d.claim.parking();
        if p.parked || p.write {
            continue;
        }
        if let Some(poller) = &d.poller
            && poller.deregister(&mut mio::unix::SourceFd(&d.fd)).is_ok()
        {
            p.parked = true;
        }
    }
}

/// Registers parked connections with the I/O thread's poller again when
/// the watch ends; readiness that came meanwhile is reported then. Returns
/// whether that failed somewhere: the I/O thread must be woken, it
/// registers them itself.
pub(crate) fn unpark(st: &mut State) -> bool {
    let mut failed = false;
    for d in &st.direct {
        let again = match &d.poller {
            Some(poller) => d.claim.register_again(poller, d.fd, d.token),
            None => d.claim.parking().parked.then_some(false),
        };
        failed |= again == Some(false);
    }
    failed
}

/// The I/O thread registers a parked connection again (after a watch
/// could not, see [`unpark`]). Returns `false` when that failed too (the
/// caller tries again on the next turn).
fn unpark_io(env: &Env, c: &mut ConnIo) -> bool {
    match c
        .claim
        .register_again(env.mio(), c.stream.raw_fd(), c.token)
    {
        None => true,
        Some(true) => {
            c.readable = true;
            true
        }
        Some(false) => false,
    }
}

/// Marks the connections a send just queued output for: a receive that
/// waits right after it reads their replies itself ([`recv_direct`]).
pub(crate) fn hint_replies(st: &mut State) {
    let State { core, direct, .. } = st;
    for d in direct.iter_mut() {
        d.rx_hint = core.has_pending_output(d.peer);
    }
}

/// What [`recv_direct`] did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DirectRx {
    /// Bytes went to the core: a message may be complete.
    pub(crate) fed: bool,
    /// The I/O thread must run: it skipped a read, the stream ended or
    /// failed, or feeding left work that is the I/O thread's (output such
    /// as a PONG, a closed peer, an earlier timer).
    pub(crate) kick: bool,
}

/// While a receive waits right after a small send: the application thread
/// reads the connections that send went to ([`hint_replies`]) itself, with
/// non-blocking reads, and feeds what came to the core, instead of waiting
/// for the I/O thread to wake up, read and signal. Under the socket's
/// lock.
///
/// Only connections whose handshake is done and whose input the core is
/// not holding back are read, each under its [`ReadClaim`] (never while
/// the I/O thread holds bytes of it). The end of the stream and transport
/// errors are not consumed: the claim is released and the I/O thread, which
/// owns closing, monitor events and reconnecting, reads again and finds
/// them itself.
pub(crate) fn recv_direct(st: &mut State) -> DirectRx {
    let mut out = DirectRx::default();
    let deadline_before = st.io_deadline;
    let State {
        core,
        direct,
        io_waiting,
        ..
    } = st;
    for d in direct.iter_mut() {
        if !d.rx_hint || d.rx_done || !core.peer(d.peer).is_some_and(|p| p.is_ready()) {
            continue;
        }
        let now = d.clock.now();
        if d.has_rx_leftover() {
            // The claim is ours: the held-back bytes go first.
            out.fed |= feed_leftover(d, core, now);
            if d.rx_done {
                // The core closed the connection: the I/O thread closes
                // the transport and reports it.
                out.kick = true;
                continue;
            }
            if d.has_rx_leftover() {
                continue;
            }
            // A read follows, unless the core is holding input back again:
            // then the I/O thread reads what it skipped meanwhile.
            out.kick |= d.claim.release_app();
        }
        read_direct(d, core, now, io_waiting, &mut out);
        if out.fed && core.has_pending_output(d.peer) {
            out.kick = true;
        }
    }
    if out.fed {
        // Input can close a peer or arm a timer (a PING's TTL) earlier than
        // the one the I/O thread waits for.
        out.kick |= core.has_unreported_close()
            || core
                .poll_timeout()
                .is_some_and(|t| deadline_before.is_none_or(|d| t < d));
    }
    out
}

/// One connection's reads for [`recv_direct`].
fn read_direct(
    d: &mut DirectTx,
    core: &mut CoreSocket,
    now: Instant,
    io_waiting: &mut bool,
    out: &mut DirectRx,
) {
    if core.is_rx_blocked(d.peer) {
        return;
    }
    for pass in 1..=DIRECT_READS {
        if !d.claim.take_app() {
            // The I/O thread is reading, or holds bytes not consumed yet.
            return;
        }
        if d.rbuf.is_empty() {
            d.rbuf = vec![0u8; DIRECT_READ];
        }
        let mut tries = 0u8;
        let got = loop {
            tries = tries.saturating_add(1);
            match d.writer.read(&mut d.rbuf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted && tries < 8 => {}
                r => break r,
            }
        };
        // A read that filled the buffer may have left more in the
        // transport, with no further readiness to come: read on.
        let mut full = false;
        match got {
            Ok(n) if n > 0 => {
                let n = n.min(d.rbuf.len());
                full = n == d.rbuf.len();
                d.roff = 0;
                d.rlen = n;
                let (_, dropped) =
                    offer_held(core, now, d.peer, &d.rbuf, &mut d.roff, &mut d.rlen, 0);
                out.fed = true;
                if dropped {
                    // The core closed the connection: nothing more is
                    // read; the I/O thread closes the transport.
                    d.rx_done = true;
                    out.kick = true;
                    return;
                }
                if d.has_rx_leftover() {
                    // The queue is full: keep the rest, and the claim,
                    // until the application made room.
                    *io_waiting = true;
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // Interrupted again and again: the I/O thread reads instead.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                let _ = d.claim.release_app();
                out.kick = true;
                return;
            }
            // The end of the stream, or an error: the I/O thread, which
            // owns closing, monitor events and reconnecting, reads again
            // and finds the end itself (after an error such as ECONNRESET,
            // which this read took, it sees the end of the stream: only the
            // errno inside the disconnect reason differs, no event does).
            _ => {
                d.rx_done = true;
                let _ = d.claim.release_app();
                out.kick = true;
                return;
            }
        }
        if !d.claim.release_app() && !full {
            return;
        }
        // The I/O thread skipped a read while the claim was taken, or the
        // buffer was filled: read again, or have the I/O thread read after
        // the last pass.
        if pass == DIRECT_READS {
            out.kick = true;
        }
    }
}

/// Offers the bytes the application thread read and the core held back
/// to the core again (the caller holds the claim for them). Returns
/// whether any were consumed. When the core closed the connection instead,
/// they are dropped and the claim stays taken.
fn feed_leftover(d: &mut DirectTx, core: &mut CoreSocket, now: Instant) -> bool {
    let (used, dropped) = offer_held(core, now, d.peer, &d.rbuf, &mut d.roff, &mut d.rlen, 0);
    d.rx_done |= dropped;
    used > 0
}

/// Offers `buf[*off..*len]`, bytes read from `peer`'s transport and not
/// consumed yet, to the core, and drops what it took from the front (both
/// offsets go back to 0 once nothing is left). Returns how many bytes it
/// took, and whether the rest was dropped because the core closed the
/// connection (it took fewer and does not hold input back). Data bodies of
/// `min` bytes or more (0: none) are left to the caller
/// ([`crate::bodies`]).
fn offer_held(
    core: &mut CoreSocket,
    now: Instant,
    peer: PeerHandle,
    buf: &[u8],
    off: &mut usize,
    len: &mut usize,
    min: usize,
) -> (usize, bool) {
    let pending = buf.get(*off..*len).unwrap_or_default();
    let used = core
        .handle_input_external(now, peer, pending, min)
        .min(pending.len());
    *off = off.saturating_add(used);
    let dropped = *off < *len && !core.is_rx_blocked(peer);
    if dropped {
        *off = *len;
    }
    if *off >= *len {
        *off = 0;
        *len = 0;
    }
    (used, dropped)
}

/// The I/O thread's turn at the bytes the application thread read and the
/// core held back: offered again, and once consumed the read claim goes
/// back to the I/O thread, which reads next (as if it had skipped a read).
fn feed_direct_leftover(c: &mut ConnIo, st: &mut State, now: Instant) {
    let State { core, direct, .. } = st;
    let Some(d) = direct
        .iter_mut()
        .find(|d| d.peer == c.peer && d.has_rx_leftover())
    else {
        return;
    };
    feed_leftover(d, core, now);
    if !d.has_rx_leftover() && !d.rx_done {
        d.claim.release_io();
        c.readable = true;
    }
}

/// Forgets a connection's direct-write handle.
fn drop_direct(st: &mut State, peer: PeerHandle) {
    st.direct.retain(|d| d.peer != peer);
}

/// The monitor value of a descriptor.
pub(crate) fn fd_value(fd: RawFd) -> u32 {
    u32::try_from(fd).unwrap_or(0)
}

/// The errno of an I/O error (Linux numbers), `EIO` if it has none.
fn errno_of(e: &io::Error) -> u32 {
    os_errno(e).unwrap_or(errno::EIO)
}

/// Zeroed memory that lives for the rest of the process (`calloc`'d, so
/// untouched pages cost nothing). Peer buffers are recycled through the
/// pool; they are never freed.
fn leak(n: usize) -> &'static mut [u8] {
    if n == 0 {
        return &mut [];
    }
    Box::leak(vec![0u8; n].into_boxed_slice())
}

/// What a token stands for.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Listener(u64),
    Connecting(u64),
    Conn,
}

/// Which endpoint made a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Listener(u64),
    Connecter(u64),
}

struct ListenerIo {
    token: Token,
    listener: Listener,
    fd: u32,
    endpoint: String,
    file: Option<String>,
}

enum ConnecterState {
    /// Waiting for the reconnect timer.
    Waiting(Instant),
    /// A non-blocking connect is in progress.
    Connecting {
        token: Token,
        stream: Stream,
        fd: u32,
    },
    /// Connected; the connection has this token.
    Connected(Token),
    /// Not reconnecting (protocol error, reconnect interval <= 0).
    Stopped,
}

/// One connect endpoint (libzmq's connecter and session, together).
struct Connecter {
    target: Target,
    /// The endpoint string of this connecter's events: the user's string
    /// for the first connecter, the resolved address after a reconnect.
    endpoint: String,
    /// The last resolved address, numeric.
    numeric: Option<String>,
    ivl: i32,
    ivl_max: i32,
    backoff: Backoff,
    state: ConnecterState,
}

/// One established connection.
struct ConnIo {
    token: Token,
    stream: Stream,
    peer: PeerHandle,
    origin: Origin,
    /// Received bytes: `rx[rx_off..rx_len]` are not consumed by the core
    /// yet (it holds them back while its receive queue is full).
    rx: Box<[u8]>,
    rx_off: usize,
    rx_len: usize,
    /// Output produced by the core, not yet written: `tx[tx_off..tx_len]`,
    /// with the bodies of `tx_bodies` between its bytes.
    tx: Box<[u8]>,
    tx_off: usize,
    tx_len: usize,
    /// Large frame bodies of their own ([`crate::outgoing`]) taken with the
    /// chunk, in order.
    tx_bodies: VecDeque<TxBody>,
    /// Where written bodies go.
    spares: Arc<Spares>,
    readable: bool,
    writable: bool,
    write_interest: bool,
    /// No more reads: end-of-stream, or the transport failed.
    eof: bool,
    /// The transport's errno, when reading failed rather than ended.
    error: Option<u32>,
    /// A write failed: no more output, but reading goes on until the end
    /// of the stream, so that what the peer sent before it went (its READY,
    /// an ERROR, messages) is still processed, as libzmq's `out_event` does.
    write_failed: bool,
    /// The core was told about the end of the transport.
    close_reported: bool,
    /// Shared with the connection's [`DirectTx`]: output is in flight here.
    busy: Arc<AtomicBool>,
    /// Shared with the connection's [`DirectTx`]: who reads the transport.
    claim: Arc<ReadClaim>,
    /// This thread holds the read claim (bytes read and not consumed yet,
    /// a body being read, or the stream ended).
    rx_held: bool,
    /// A frame body the core left to this thread ([`crate::bodies`]),
    /// read outside the lock: `body[..body_got]` are in.
    body: Option<Vec<u8>>,
    body_got: usize,
    /// The last input carried a large body: the transport is read
    /// [`SMALL_READ`] bytes at a time between bodies, so that little of
    /// the next body is copied with its header.
    large: bool,
}

/// A body of its own in a connection's output: written once the chunk's
/// bytes before `at` are out.
struct TxBody {
    at: usize,
    buf: Vec<u8>,
    /// Bytes of `buf` written.
    off: usize,
}

impl ConnIo {
    fn new(
        token: Token,
        stream: Stream,
        peer: PeerHandle,
        origin: Origin,
        spares: Arc<Spares>,
    ) -> Self {
        Self {
            token,
            stream,
            peer,
            origin,
            rx: vec![0u8; CHUNK].into_boxed_slice(),
            rx_off: 0,
            rx_len: 0,
            tx: vec![0u8; CHUNK].into_boxed_slice(),
            tx_off: 0,
            tx_len: 0,
            tx_bodies: VecDeque::new(),
            spares,
            readable: true,
            writable: true,
            write_interest: false,
            eof: false,
            error: None,
            write_failed: false,
            close_reported: false,
            busy: Arc::new(AtomicBool::new(false)),
            claim: Arc::new(ReadClaim::default()),
            rx_held: false,
            body: None,
            body_got: 0,
            large: false,
        }
    }

    /// Gives the read claim back once the bytes read are consumed (kept
    /// for good after the end of the stream).
    fn release_rx(&mut self) {
        if self.rx_held && !self.has_unconsumed() && self.body.is_none() && !self.eof {
            self.rx_held = false;
            self.claim.release_io();
        }
    }

    fn has_unsent(&self) -> bool {
        self.tx_off < self.tx_len || !self.tx_bodies.is_empty()
    }

    /// Marks `n` bytes of the output written, in order: chunk bytes and
    /// bodies (given back as spares once written).
    fn advance_tx(&mut self, mut n: usize) {
        // Every pass but the last finishes a body.
        for _ in 0..=self.tx_bodies.len() {
            let end = self.tx_bodies.front().map_or(self.tx_len, |b| b.at);
            let k = n.min(end.saturating_sub(self.tx_off));
            self.tx_off = self.tx_off.saturating_add(k);
            n = n.saturating_sub(k);
            if self.tx_off < end {
                break;
            }
            let Some(b) = self.tx_bodies.front_mut() else {
                break;
            };
            let k = n.min(b.buf.len().saturating_sub(b.off));
            b.off = b.off.saturating_add(k);
            n = n.saturating_sub(k);
            if b.off < b.buf.len() {
                break;
            }
            if let Some(b) = self.tx_bodies.pop_front() {
                self.spares.give(b.buf);
            }
        }
    }

    /// Drops the output (the transport failed).
    fn drop_tx(&mut self) {
        self.tx_off = 0;
        self.tx_len = 0;
        for b in self.tx_bodies.drain(..) {
            self.spares.give(b.buf);
        }
    }

    fn has_unconsumed(&self) -> bool {
        self.rx_off < self.rx_len
    }
}

/// The I/O thread's view of one socket.
struct SockIo {
    shared: Arc<SocketShared>,
    socket_type: SocketType,
    listeners: HashMap<u64, ListenerIo>,
    connecters: HashMap<u64, Connecter>,
    conns: HashMap<Token, ConnIo>,
    /// Closed peers whose received messages the application has not read
    /// yet (libzmq delivers a pipe's messages up to its end); detached once
    /// read.
    draining: Vec<PeerHandle>,
    core_deadline: Option<Instant>,
    /// Set once the socket is closed: `Some(None)` lingers until flushed,
    /// `Some(Some(t))` until `t`.
    closing: Option<Option<Instant>>,
}

/// Everything but the sockets, so that a socket and the rest can be
/// borrowed at the same time.
struct Env {
    poll: Poll,
    /// A handle on `poll`'s registry for the application threads
    /// ([`park`]; without it connections are never parked).
    poller: Option<Arc<MioRegistry>>,
    clock: Clock,
    registry: Arc<Registry>,
    zap: Arc<crate::zap::Broker>,
    tokens: HashMap<Token, (u64, Slot)>,
    next_token: usize,
    /// Sockets to service in this turn (each once).
    dirty: Vec<u64>,
    /// The previous turn's list, kept for its capacity.
    dirty_spare: Vec<u64>,
    /// Sockets in `dirty` for more than transport readiness (commands,
    /// timers, work left from the previous turn): their locked half runs
    /// even when no bytes move.
    forced: Vec<u64>,
    /// The previous turn's list, kept for its capacity.
    forced_spare: Vec<u64>,
    pool: Vec<PeerBuffers<'static>>,
    /// CURVE states given back by closed sockets, recycled like the peer
    /// buffers (never freed).
    #[cfg(feature = "curve")]
    curve_pool: Vec<&'static mut zmtp_core::conn::CurveState>,
}

impl Env {
    fn new_token(&mut self) -> Token {
        self.next_token = self.next_token.saturating_add(1);
        Token(self.next_token)
    }

    fn mio(&self) -> &MioRegistry {
        self.poll.registry()
    }

    /// Services `sid` in this turn.
    fn mark_dirty(&mut self, sid: u64) {
        self.mark_ready(sid);
        if !self.forced.contains(&sid) {
            self.forced.push(sid);
        }
    }

    /// Services `sid` in this turn for readiness of its transports only:
    /// when no bytes move (the application thread read them first), the
    /// locked half is skipped.
    fn mark_ready(&mut self, sid: u64) {
        if !self.dirty.contains(&sid) {
            self.dirty.push(sid);
        }
    }

    fn take_buffers(&mut self, rx: usize, tx: usize, subs: usize) -> PeerBuffers<'static> {
        if let Some(i) = self
            .pool
            .iter()
            .position(|b| b.rx.len() == rx && b.tx.len() == tx && b.subs.len() == subs)
        {
            return self.pool.swap_remove(i);
        }
        PeerBuffers {
            rx: leak(rx),
            tx: leak(tx),
            subs: leak(subs),
        }
    }
}

/// The I/O thread.
pub(crate) struct Io {
    env: Env,
    commands: Receiver<Command>,
    sockets: HashMap<u64, SockIo>,
    shutdown: bool,
}

impl Io {
    pub(crate) fn new(
        poll: Poll,
        commands: Receiver<Command>,
        clock: Clock,
        registry: Arc<Registry>,
        zap: Arc<crate::zap::Broker>,
    ) -> Self {
        Self {
            env: Env {
                poller: poll.registry().try_clone().ok().map(Arc::new),
                poll,
                clock,
                registry,
                zap,
                tokens: HashMap::new(),
                next_token: 0,
                dirty: Vec::new(),
                dirty_spare: Vec::new(),
                forced: Vec::new(),
                forced_spare: Vec::new(),
                pool: Vec::new(),
                #[cfg(feature = "curve")]
                curve_pool: Vec::new(),
            },
            commands,
            sockets: HashMap::new(),
            shutdown: false,
        }
    }

    /// The event loop; returns after `Shutdown` once every socket closed.
    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self.next_timeout();
            if let Err(e) = self.env.poll.poll(&mut events, timeout)
                && e.kind() != io::ErrorKind::Interrupted
            {
                // The poller itself failed; nothing can make progress.
                return;
            }
            for ev in &events {
                let token = ev.token();
                if token == WAKER {
                    continue;
                }
                let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                let writable = ev.is_writable() || ev.is_write_closed() || ev.is_error();
                self.on_ready(token, readable, writable);
            }
            self.process_commands();
            self.run_timers();
            self.service_dirty();
            if self.shutdown && self.sockets.is_empty() {
                return;
            }
        }
    }

    fn next_timeout(&self) -> Option<StdDuration> {
        if !self.env.dirty.is_empty() {
            return Some(StdDuration::ZERO);
        }
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| {
            next = Some(next.map_or(t, |n| n.min(t)));
        };
        for sock in self.sockets.values() {
            if let Some(t) = sock.core_deadline {
                consider(t);
            }
            if let Some(Some(t)) = sock.closing {
                consider(t);
            }
            for c in sock.connecters.values() {
                if let ConnecterState::Waiting(t) = c.state {
                    consider(t);
                }
            }
        }
        next.map(|t| self.env.clock.until(t))
    }

    fn on_ready(&mut self, token: Token, readable: bool, writable: bool) {
        let Some(&(sid, slot)) = self.env.tokens.get(&token) else {
            return;
        };
        let Some(sock) = self.sockets.get_mut(&sid) else {
            return;
        };
        match slot {
            Slot::Listener(eid) => accept(&mut self.env, sock, sid, eid),
            Slot::Connecting(eid) => connect_ready(&mut self.env, sock, sid, eid),
            Slot::Conn => {
                if let Some(c) = sock.conns.get_mut(&token) {
                    c.readable |= readable;
                    c.writable |= writable;
                }
                self.env.mark_ready(sid);
            }
        }
    }

    fn process_commands(&mut self) {
        while let Ok(cmd) = self.commands.try_recv() {
            let now = self.env.clock.now();
            match cmd {
                Command::AddSocket(shared) => {
                    let socket_type = lock(&shared.state).core.socket_type();
                    self.sockets.insert(
                        shared.id,
                        SockIo {
                            shared,
                            socket_type,
                            listeners: HashMap::new(),
                            connecters: HashMap::new(),
                            conns: HashMap::new(),
                            draining: Vec::new(),
                            core_deadline: None,
                            closing: None,
                        },
                    );
                }
                Command::Listen {
                    sid,
                    eid,
                    mut listener,
                    fd,
                    endpoint,
                    file,
                } => {
                    let Some(sock) = self.sockets.get_mut(&sid) else {
                        continue;
                    };
                    let token = self.env.new_token();
                    let src: &mut dyn Source = match &mut listener {
                        Listener::Tcp(l) => l,
                        Listener::Unix(l) => l,
                    };
                    if self
                        .env
                        .mio()
                        .register(src, token, Interest::READABLE)
                        .is_err()
                    {
                        continue;
                    }
                    self.env.tokens.insert(token, (sid, Slot::Listener(eid)));
                    sock.listeners.insert(
                        eid,
                        ListenerIo {
                            token,
                            listener,
                            fd,
                            endpoint,
                            file,
                        },
                    );
                    accept(&mut self.env, sock, sid, eid);
                }
                Command::Connect {
                    sid,
                    eid,
                    target,
                    endpoint,
                    reconnect_ivl,
                    reconnect_ivl_max,
                } => {
                    let Some(sock) = self.sockets.get_mut(&sid) else {
                        continue;
                    };
                    sock.connecters.insert(
                        eid,
                        Connecter {
                            target,
                            endpoint,
                            numeric: None,
                            ivl: reconnect_ivl,
                            ivl_max: reconnect_ivl_max,
                            backoff: Backoff::new(reconnect_ivl, reconnect_ivl_max),
                            state: ConnecterState::Stopped,
                        },
                    );
                    start_attempt(&mut self.env, sock, sid, eid, now);
                }
                Command::Term { sid, eid } => {
                    if let Some(sock) = self.sockets.get_mut(&sid) {
                        term_endpoint(&mut self.env, sock, eid);
                        self.env.mark_dirty(sid);
                    }
                }
                Command::Kick(sid) => {
                    self.env.mark_dirty(sid);
                }
                Command::Close { sid, linger } => {
                    if let Some(sock) = self.sockets.get_mut(&sid) {
                        begin_close(&mut self.env, sock, linger, now);
                        self.env.mark_dirty(sid);
                    }
                }
                Command::Shutdown => self.shutdown = true,
                Command::Zap { key, answer } => {
                    if let Some(sock) = self.sockets.get_mut(&key.sid) {
                        zap_answer(sock, Token(key.conn), &answer, now);
                        self.env.mark_dirty(key.sid);
                    }
                }
            }
        }
    }

    fn run_timers(&mut self) {
        let now = self.env.clock.now();
        for (&sid, sock) in &mut self.sockets {
            if sock.core_deadline.is_some_and(|t| t <= now) {
                sock.core_deadline = None;
                lock(&sock.shared.state).core.handle_timeout(now);
                self.env.mark_dirty(sid);
            }
            if let Some(Some(t)) = sock.closing
                && t <= now
            {
                self.env.mark_dirty(sid);
            }
            let due: Vec<u64> = sock
                .connecters
                .iter()
                .filter(|(_, c)| matches!(c.state, ConnecterState::Waiting(t) if t <= now))
                .map(|(&eid, _)| eid)
                .collect();
            for eid in due {
                start_attempt(&mut self.env, sock, sid, eid, now);
            }
        }
    }

    fn service_dirty(&mut self) {
        let spare = core::mem::take(&mut self.env.dirty_spare);
        let mut dirty = core::mem::replace(&mut self.env.dirty, spare);
        let spare = core::mem::take(&mut self.env.forced_spare);
        let mut forced = core::mem::replace(&mut self.env.forced, spare);
        for &sid in &dirty {
            let finished = match self.sockets.get_mut(&sid) {
                Some(sock) => service(&mut self.env, sock, sid, forced.contains(&sid)),
                None => false,
            };
            if finished && let Some(sock) = self.sockets.remove(&sid) {
                #[cfg(feature = "curve")]
                self.env
                    .curve_pool
                    .extend(lock(&sock.shared.state).core.reclaim_curve_states());
                #[cfg(not(feature = "curve"))]
                drop(sock);
            }
        }
        dirty.clear();
        self.env.dirty_spare = dirty;
        forced.clear();
        self.env.forced_spare = forced;
    }
}

/// Accepts every pending connection of a listener.
fn accept(env: &mut Env, sock: &mut SockIo, sid: u64, eid: u64) {
    if sock.closing.is_some() {
        return;
    }
    let shared = Arc::clone(&sock.shared);
    let mut st = lock(&shared.state);
    let now = env.clock.now();
    while let Some(l) = sock.listeners.get(&eid) {
        let accepted = match &l.listener {
            Listener::Tcp(t) => t.accept().map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }),
            Listener::Unix(u) => u.accept().map(|(s, _)| Stream::Unix(s)),
        };
        match accepted {
            Ok(mut stream) => {
                let fd = fd_value(stream.raw_fd());
                let pair = EndpointPair::bind_pair(&stream.local_string(), &stream.peer_string());
                if st.core.peers().count() >= crate::MAX_PEERS {
                    // No slot for this peer: refuse it (libzmq has no such
                    // limit).
                    continue;
                }
                st.core
                    .monitor_mut()
                    .record(Event::Accepted { fd }, pair.clone());
                let token = env.new_token();
                if env
                    .mio()
                    .register(stream.source(), token, Interest::READABLE)
                    .is_err()
                {
                    continue;
                }
                attach(
                    env,
                    sock,
                    &mut st,
                    sid,
                    token,
                    stream,
                    fd,
                    pair,
                    Origin::Listener(eid),
                    now,
                );
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let endpoint = l.endpoint.clone();
                st.core.monitor_mut().record(
                    Event::AcceptFailed {
                        errno: errno_of(&e),
                    },
                    EndpointPair::bind(&endpoint),
                );
                break;
            }
        }
    }
    st.drain_monitor();
}

/// Hands an established, registered transport to the core.
#[allow(clippy::too_many_arguments)]
fn attach(
    env: &mut Env,
    sock: &mut SockIo,
    st: &mut State,
    sid: u64,
    token: Token,
    mut stream: Stream,
    fd: u32,
    pair: EndpointPair<EP>,
    origin: Origin,
    now: Instant,
) -> bool {
    let subs = if matches!(sock.socket_type, SocketType::Pub | SocketType::XPub) {
        SUBS_BUFFER
    } else {
        0
    };
    let bufs = env.take_buffers(st.opts.rx_buffer, st.opts.tx_buffer, subs);
    match attach_core(env, st, now, bufs, fd, pair) {
        Ok(peer) => {
            env.tokens.insert(token, (sid, Slot::Conn));
            let c = ConnIo::new(token, stream, peer, origin, Arc::clone(&sock.shared.spares));
            if let Some(writer) = c.stream.app_stream() {
                st.direct.push(DirectTx {
                    peer,
                    writer,
                    clock: env.clock,
                    busy: Arc::clone(&c.busy),
                    buf: Vec::new(),
                    off: 0,
                    len: 0,
                    claim: Arc::clone(&c.claim),
                    poller: env.poller.clone(),
                    fd: c.stream.raw_fd(),
                    token,
                    rx_hint: false,
                    rx_done: false,
                    rbuf: Vec::new(),
                    roff: 0,
                    rlen: 0,
                });
            }
            sock.conns.insert(token, c);
            env.mark_dirty(sid);
            true
        }
        Err(_) => {
            let _ = env.mio().deregister(stream.source());
            env.tokens.remove(&token);
            false
        }
    }
}

/// Attaches a connection to the core socket. A CURVE connection gets a
/// CURVE state for its slot (recycled from closed sockets, else a new one;
/// it stays with the slot after the peer leaves), and draws its keys and
/// nonces from the operating system's random source.
fn attach_core(
    #[cfg_attr(not(feature = "curve"), allow(unused_variables))] env: &mut Env,
    st: &mut State,
    now: Instant,
    bufs: PeerBuffers<'static>,
    fd: u32,
    pair: EndpointPair<EP>,
) -> Result<PeerHandle, zmtp_core::socket::AttachError> {
    #[cfg(feature = "curve")]
    {
        if st.core.config().mechanism.wire() == zmtp_core::wire::Mechanism::Curve {
            let state = env
                .curve_pool
                .pop()
                .unwrap_or_else(|| Box::leak(Box::new(zmtp_core::conn::CurveState::new())));
            if let Some(unused) = st.core.lend_curve_state(state) {
                env.curve_pool.push(unused);
            }
        }
        st.core
            .attach_with_rng(now, bufs, &mut rand_core::OsRng, fd, pair)
    }
    #[cfg(not(feature = "curve"))]
    {
        st.core.attach(now, bufs, fd, pair)
    }
}

/// Starts one connect attempt of a connecter (libzmq
/// `stream_connecter_base_t::start_connecting` and `open`).
fn start_attempt(env: &mut Env, sock: &mut SockIo, sid: u64, eid: u64, now: Instant) {
    let shared = Arc::clone(&sock.shared);
    let mut st = lock(&shared.state);
    let Some(con) = sock.connecters.get_mut(&eid) else {
        return;
    };
    let (addr, tcp): (Option<SockAddr>, bool) = match &con.target {
        Target::Tcp { host, port } => match resolve_tcp(host, port) {
            Ok(a) => {
                con.numeric = Some(tcp_string(&a));
                (Some(SockAddr::from(a)), true)
            }
            Err(_) => (None, true),
        },
        Target::Ipc(p) => (p.sock_addr().ok(), false),
    };
    let raw = addr.as_ref().and_then(|a| {
        let s = RawSocket::new(a.domain(), Type::STREAM, None).ok()?;
        s.set_nonblocking(true).ok()?;
        if tcp {
            let _ = s.set_tcp_nodelay(true);
        }
        Some(s)
    });
    let (Some(addr), Some(raw)) = (addr, raw) else {
        // Resolution or socket creation failed: no fd, so no CLOSED; libzmq
        // only arms the reconnect timer.
        schedule_retry(con, &mut st, now);
        st.drain_monitor();
        return;
    };
    let fd = fd_value(raw.as_raw_fd());
    let endpoint = con.endpoint.clone();
    match raw.connect(&addr) {
        Ok(()) => {
            let mut stream = Stream::from_raw(raw, tcp);
            let token = env.new_token();
            if env
                .mio()
                .register(stream.source(), token, Interest::READABLE)
                .is_ok()
            {
                connected(env, sock, &mut st, sid, eid, token, stream, fd, now);
            } else {
                st.core
                    .monitor_mut()
                    .record(Event::Closed { fd }, EndpointPair::connect(&endpoint));
                if let Some(con) = sock.connecters.get_mut(&eid) {
                    schedule_retry(con, &mut st, now);
                }
            }
        }
        Err(e) if matches!(os_errno(&e), Some(errno::EINPROGRESS | errno::EINTR)) => {
            st.core.monitor_mut().record(
                Event::ConnectDelayed {
                    errno: errno::EINPROGRESS,
                },
                EndpointPair::connect(&endpoint),
            );
            let mut stream = Stream::from_raw(raw, tcp);
            let token = env.new_token();
            if env
                .mio()
                .register(
                    stream.source(),
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                )
                .is_ok()
            {
                env.tokens.insert(token, (sid, Slot::Connecting(eid)));
                con.state = ConnecterState::Connecting { token, stream, fd };
            } else {
                st.core
                    .monitor_mut()
                    .record(Event::Closed { fd }, EndpointPair::connect(&endpoint));
                schedule_retry(con, &mut st, now);
            }
        }
        Err(_) => {
            drop(raw);
            st.core
                .monitor_mut()
                .record(Event::Closed { fd }, EndpointPair::connect(&endpoint));
            schedule_retry(con, &mut st, now);
        }
    }
    st.drain_monitor();
}

/// Arms a connecter's reconnect timer and records `CONNECT_RETRIED`
/// (libzmq `add_reconnect_timer`); with a reconnect interval <= 0 the
/// connecter stops.
fn schedule_retry(con: &mut Connecter, st: &mut State, now: Instant) {
    match con.backoff.next_interval(random_u32()) {
        Some(ms) => {
            st.core.monitor_mut().record(
                Event::ConnectRetried { interval_ms: ms },
                EndpointPair::connect(&con.endpoint),
            );
            con.state =
                ConnecterState::Waiting(now.saturating_add(Duration::from_millis(u64::from(ms))));
        }
        None => con.state = ConnecterState::Stopped,
    }
}

/// A connect attempt finished (readiness of a connecting socket).
fn connect_ready(env: &mut Env, sock: &mut SockIo, sid: u64, eid: u64) {
    let shared = Arc::clone(&sock.shared);
    let mut st = lock(&shared.state);
    let now = env.clock.now();
    let Some(con) = sock.connecters.get_mut(&eid) else {
        return;
    };
    let ConnecterState::Connecting { stream, .. } = &con.state else {
        return;
    };
    let outcome = match stream.take_error() {
        Ok(Some(e)) | Err(e) => Err(e),
        Ok(None) => match stream.is_connected() {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
            Err(e) => Err(e),
        },
    };
    let ConnecterState::Connecting {
        token,
        mut stream,
        fd,
    } = core::mem::replace(&mut con.state, ConnecterState::Stopped)
    else {
        return;
    };
    match outcome {
        Ok(()) => {
            if env
                .mio()
                .reregister(stream.source(), token, Interest::READABLE)
                .is_ok()
            {
                connected(env, sock, &mut st, sid, eid, token, stream, fd, now);
            } else {
                let _ = env.mio().deregister(stream.source());
                env.tokens.remove(&token);
                let endpoint = con.endpoint.clone();
                st.core
                    .monitor_mut()
                    .record(Event::Closed { fd }, EndpointPair::connect(&endpoint));
                schedule_retry(con, &mut st, now);
            }
        }
        Err(_) => {
            let _ = env.mio().deregister(stream.source());
            env.tokens.remove(&token);
            drop(stream);
            let endpoint = con.endpoint.clone();
            st.core
                .monitor_mut()
                .record(Event::Closed { fd }, EndpointPair::connect(&endpoint));
            schedule_retry(con, &mut st, now);
        }
    }
    st.drain_monitor();
}

/// A connect succeeded: `CONNECTED`, then the core takes the transport.
#[allow(clippy::too_many_arguments)]
fn connected(
    env: &mut Env,
    sock: &mut SockIo,
    st: &mut State,
    sid: u64,
    eid: u64,
    token: Token,
    mut stream: Stream,
    fd: u32,
    now: Instant,
) {
    let Some(con) = sock.connecters.get(&eid) else {
        return;
    };
    let pair = EndpointPair::connect_pair(&stream.local_string(), &con.endpoint);
    if st.core.peers().count() >= crate::MAX_PEERS {
        let _ = env.mio().deregister(stream.source());
        env.tokens.remove(&token);
        drop(stream);
        if let Some(con) = sock.connecters.get_mut(&eid) {
            let endpoint = con.endpoint.clone();
            st.core
                .monitor_mut()
                .record(Event::Closed { fd }, EndpointPair::connect(&endpoint));
            schedule_retry(con, st, now);
        }
        return;
    }
    st.core
        .monitor_mut()
        .record(Event::Connected { fd }, pair.clone());
    let ok = attach(
        env,
        sock,
        st,
        sid,
        token,
        stream,
        fd,
        pair,
        Origin::Connecter(eid),
        now,
    );
    if let Some(con) = sock.connecters.get_mut(&eid) {
        if ok {
            con.state = ConnecterState::Connected(token);
        } else {
            schedule_retry(con, st, now);
        }
    }
}

/// Frees a connection: deregisters and closes its transport, detaches the
/// peer and recycles its buffers. No monitor event.
fn remove_conn(env: &mut Env, sock: &mut SockIo, st: &mut State, token: Token) {
    if let Some(mut c) = sock.conns.remove(&token) {
        drop_direct(st, c.peer);
        // Bodies taken with the chunk go back to the spares, as in
        // `on_closed`.
        c.drop_tx();
        let _ = env.mio().deregister(c.stream.source());
        env.tokens.remove(&token);
        st.forget_peer(c.peer);
        if let Some(bufs) = st.core.detach(c.peer) {
            env.pool.push(bufs);
        }
    }
}

/// Closes a listener: `CLOSED` (or `CLOSE_FAILED` when removing its IPC
/// file fails), and its accepted connections go silently.
/// Closes a listener (CLOSED event). Its accepted connections are torn
/// down too unless `keep_conns` (a socket closing with linger keeps them
/// until their output is flushed, as libzmq's sessions linger).
fn close_listener(env: &mut Env, sock: &mut SockIo, st: &mut State, eid: u64, keep_conns: bool) {
    let Some(mut l) = sock.listeners.remove(&eid) else {
        return;
    };
    let src: &mut dyn Source = match &mut l.listener {
        Listener::Tcp(t) => t,
        Listener::Unix(u) => u,
    };
    let _ = env.mio().deregister(src);
    env.tokens.remove(&l.token);
    drop(l.listener);
    let event = match l.file.as_deref().map(std::fs::remove_file) {
        Some(Err(e)) => Event::CloseFailed {
            errno: errno_of(&e),
        },
        _ => Event::Closed { fd: l.fd },
    };
    st.core
        .monitor_mut()
        .record(event, EndpointPair::bind(&l.endpoint));
    if keep_conns {
        return;
    }
    let accepted: Vec<Token> = sock
        .conns
        .values()
        .filter(|c| c.origin == Origin::Listener(eid))
        .map(|c| c.token)
        .collect();
    for t in accepted {
        remove_conn(env, sock, st, t);
    }
}

/// Stops a connecter: `CLOSED` for an attempt in flight, silence otherwise.
fn close_connecter(env: &mut Env, sock: &mut SockIo, st: &mut State, eid: u64, keep_conn: bool) {
    let Some(con) = sock.connecters.remove(&eid) else {
        return;
    };
    match con.state {
        ConnecterState::Connecting {
            token,
            mut stream,
            fd,
        } => {
            let _ = env.mio().deregister(stream.source());
            env.tokens.remove(&token);
            drop(stream);
            st.core
                .monitor_mut()
                .record(Event::Closed { fd }, EndpointPair::connect(&con.endpoint));
        }
        ConnecterState::Connected(token) if !keep_conn => remove_conn(env, sock, st, token),
        _ => {}
    }
}

/// `unbind` / `disconnect`.
fn term_endpoint(env: &mut Env, sock: &mut SockIo, eid: u64) {
    let shared = Arc::clone(&sock.shared);
    let mut st = lock(&shared.state);
    if sock.listeners.contains_key(&eid) {
        close_listener(env, sock, &mut st, eid, false);
    } else {
        close_connecter(env, sock, &mut st, eid, false);
    }
    st.drain_monitor();
}

/// The application closed the socket.
fn begin_close(env: &mut Env, sock: &mut SockIo, linger: i32, now: Instant) {
    let shared = Arc::clone(&sock.shared);
    let mut st = lock(&shared.state);
    let deadline = u64::try_from(linger)
        .ok()
        .map(|ms| now.saturating_add(Duration::from_millis(ms)));
    sock.closing = Some(deadline);
    let listeners: Vec<u64> = sock.listeners.keys().copied().collect();
    for eid in listeners {
        close_listener(env, sock, &mut st, eid, true);
    }
    let connecters: Vec<u64> = sock.connecters.keys().copied().collect();
    for eid in connecters {
        close_connecter(env, sock, &mut st, eid, true);
    }
    if linger == 0 {
        let all: Vec<Token> = sock.conns.keys().copied().collect();
        for t in all {
            remove_conn(env, sock, &mut st, t);
        }
    }
    st.drain_monitor();
}

/// Moves bytes for every connection of a socket, handles closes and
/// lingering, and publishes monitor events, in rounds (see the module
/// documentation). Returns whether the socket finished closing. Unless
/// `forced`, the socket is here for readiness only, and nothing happens
/// under its lock when no bytes move (readiness of a connection whose
/// bytes the application thread read itself).
fn service(env: &mut Env, sock: &mut SockIo, sid: u64, forced: bool) -> bool {
    let shared = Arc::clone(&sock.shared);
    let mut rounds = 0usize;
    loop {
        let mut moved = false;
        // A closing socket checks after every write whether its lingering
        // connections are done.
        let closing = sock.closing.is_some();
        // A chunk went out: the core may hold more output, queued while
        // the chunk was in flight.
        let mut drained = false;
        let mut still_parked = false;
        for c in sock.conns.values_mut() {
            if forced && rounds == 0 && !unpark_io(env, c) {
                still_parked = true;
            }
            let had_unsent = c.has_unsent();
            moved |= transfer(env, c);
            drained |= had_unsent && !c.has_unsent();
        }
        moved |= closing && drained;
        if still_parked {
            // Off the poller and not registered again: try on the next
            // turn rather than miss its readiness.
            env.mark_dirty(sid);
        }
        if rounds > 0 && !moved {
            return false;
        }
        if rounds == 0 && !forced && !moved && !drained {
            return false;
        }
        if rounds >= MAX_ROUNDS {
            // More to move: another turn, after other sockets and timers.
            env.mark_dirty(sid);
            return false;
        }
        let mut st = crate::sync::lock_busy(&shared.state);
        if rounds == 0 {
            // Output queued from here on is picked up by this service or
            // kicks again.
            shared.kick_pending.store(false, Ordering::SeqCst);
        }
        let (finished, zap_handler) = service_locked(env, sock, &mut st, sid);
        shared.rounds.fetch_add(1, Ordering::Release);
        let wake = st.waiters > 0;
        drop(st);
        if wake {
            shared.cond.notify_all();
        }
        if let Some(h) = zap_handler {
            crate::zap::wake(&h);
        }
        if finished {
            return true;
        }
        rounds = rounds.saturating_add(1);
    }
}

/// The locked half of a round: input to the core, output from it, ZAP
/// requests, closes, lingering, timers and monitor events. Returns whether
/// the socket finished closing, and the ZAP handler to wake.
fn service_locked(
    env: &mut Env,
    sock: &mut SockIo,
    st: &mut State,
    sid: u64,
) -> (bool, Option<Arc<SocketShared>>) {
    let now = env.clock.now();
    for c in sock.conns.values_mut() {
        feed_direct_leftover(c, st, now);
        feed(c, st, now);
        fill(c, st, now);
        if c.has_unconsumed() && !st.core.is_rx_blocked(c.peer) {
            // Input held back until our last handshake command went out.
            feed(c, st, now);
            fill(c, st, now);
        }
    }
    let (zap_handler, zap_answered) = if st.credentials.may_ask_zap {
        crate::zap::dispatch(&env.zap, sid, &mut st.core, now, |peer| {
            let c = sock.conns.values().find(|c| c.peer == peer)?;
            Some((c.token.0, c.stream.peer_ip()))
        })
    } else {
        (None, false)
    };
    if zap_answered {
        env.mark_dirty(sid);
    }
    if st.core.held_metadata().next().is_some() {
        take_metadata(sock, st, now);
        // What the release queued (a SUB's subscriptions) may wait behind
        // a transmit chunk that is not written yet: another round sends it.
        env.mark_dirty(sid);
    }
    while let Some((peer, reason)) = st.core.poll_closed() {
        on_closed(env, sock, st, peer, reason, now);
    }
    let closing = sock.closing.is_some();
    sock.draining.retain(|&peer| {
        if st.core.has_unread(peer) && !closing {
            return true;
        }
        st.forget_peer(peer);
        if let Some(bufs) = st.core.detach(peer) {
            env.pool.push(bufs);
        }
        false
    });
    let mut finished = false;
    if let Some(deadline) = sock.closing {
        let expired = deadline.is_some_and(|t| t <= now);
        let done: Vec<Token> = sock
            .conns
            .values()
            .filter(|c| {
                expired
                    || c.eof
                    || c.write_failed
                    || (!c.has_unsent()
                        && st
                            .core
                            .peer(c.peer)
                            .is_none_or(|p| p.queued_outgoing() == 0 || p.is_closed()))
            })
            .map(|c| c.token)
            .collect();
        for t in done {
            remove_conn(env, sock, st, t);
        }
        if sock.conns.is_empty() {
            st.stop_monitor(&env.registry);
            st.closed = true;
            finished = true;
        }
    }
    sock.core_deadline = st.core.poll_timeout();
    st.io_deadline = sock.core_deadline;
    st.io_draining = !sock.draining.is_empty();
    st.io_waiting = sock.conns.values().any(ConnIo::has_unconsumed)
        || st.direct.iter().any(DirectTx::has_rx_leftover);
    st.drain_monitor();
    (finished, zap_handler)
}

/// Peers whose handshake succeeded: records their properties (with
/// `Peer-Address` as libzmq formats it) for `Message::property`, then lets
/// them take part in the pattern, and moves what waited behind the record.
fn take_metadata(sock: &mut SockIo, st: &mut State, now: Instant) {
    let held: Vec<PeerHandle> = st.core.held_metadata().collect();
    for peer in held {
        let conn = sock.conns.values_mut().find(|c| c.peer == peer);
        let address = conn
            .as_ref()
            .map(|c| c.stream.peer_ip())
            .unwrap_or_default();
        if let Some(meta) = st.core.peer_metadata(peer) {
            let record = Arc::new(crate::metadata::Metadata::new(&address, &meta));
            st.set_metadata(peer, record);
        }
        st.core.release_metadata(peer);
        if let Some(c) = conn {
            feed(c, st, now);
            fill(c, st, now);
        }
    }
}

/// The answer to a connection's ZAP request arrived.
fn zap_answer(sock: &mut SockIo, token: Token, answer: &crate::zap::Answer, now: Instant) {
    let Some(peer) = sock.conns.get(&token).map(|c| c.peer) else {
        return;
    };
    let mut st = lock(&sock.shared.state);
    crate::zap::apply(&mut st.core, now, peer, answer);
    st.drain_monitor();
}

/// Offers the bytes read and not consumed yet to the core; tells it about
/// the end of the transport once they are consumed. A body read outside
/// the lock goes first; a large body whose header the core took is
/// started from what follows the header in the chunk, and read outside
/// the lock from then on ([`crate::bodies`]).
fn feed(c: &mut ConnIo, st: &mut State, now: Instant) {
    hand_body(c, st, now);
    let offered = c.has_unconsumed();
    let mut started = false;
    for _ in 0..BODY_PASSES {
        if c.body.is_some() {
            break;
        }
        if c.has_unconsumed() {
            let min = st.bodies.min_for(c.peer, st.opts.rx_buffer);
            let (_, dropped) = offer_held(
                &mut st.core,
                now,
                c.peer,
                &c.rx,
                &mut c.rx_off,
                &mut c.rx_len,
                min,
            );
            if dropped {
                break;
            }
        }
        let Some(size) = st.core.external_body(c.peer) else {
            break;
        };
        let mut body = st.bodies.buffer(size);
        let have = c.rx.get(c.rx_off..c.rx_len).unwrap_or_default();
        let n = have.len().min(size);
        if let (Some(dst), Some(src)) = (body.get_mut(..n), have.get(..n)) {
            dst.copy_from_slice(src);
        }
        c.rx_off = c.rx_off.saturating_add(n);
        if c.rx_off >= c.rx_len {
            c.rx_off = 0;
            c.rx_len = 0;
        }
        c.body = Some(body);
        c.body_got = n;
        started = true;
        hand_body(c, st, now);
    }
    if offered {
        c.large = started || c.body.is_some();
    }
    c.release_rx();
    report_end(c, &mut st.core, now);
}

/// Hands a body read in full to the core, which queues its record (or,
/// when the connection closed meanwhile, drops it).
fn hand_body(c: &mut ConnIo, st: &mut State, now: Instant) {
    if c.body.as_ref().is_none_or(|b| c.body_got < b.len()) {
        return;
    }
    let Some(body) = c.body.take() else {
        return;
    };
    c.body_got = 0;
    if st.core.complete_external(now, c.peer) {
        let queued = st.core.external_queued(c.peer);
        st.bodies.push(c.peer, queued, body);
    } else {
        st.bodies.recycle(body);
    }
}

/// Tells the core that the transport ended, once the held-back input is
/// consumed (libzmq, too, sees the end only after reading what came
/// before it).
fn report_end(c: &mut ConnIo, core: &mut CoreSocket, now: Instant) {
    if !c.eof || c.close_reported || c.has_unconsumed() {
        return;
    }
    c.close_reported = true;
    match c.error {
        Some(errno) => core.handle_transport_error(now, c.peer, errno),
        None => core.handle_transport_closed(now, c.peer),
    }
}

/// Moves the core's pending output into the transmit chunk once the
/// previous chunk is written, until the chunk is full or the core has
/// nothing more (sending can queue more: the last handshake command going
/// out completes the handshake, and a SUB then replays its subscriptions).
///
/// Bytes the application thread took from the core and could not write
/// ([`DirectTx`]) go first. The connection is marked busy while its chunk
/// holds output (the application thread then leaves its output to the
/// I/O thread), and for good once writing failed.
fn fill(c: &mut ConnIo, st: &mut State, now: Instant) {
    let State {
        core,
        direct,
        outgoing,
        ..
    } = st;
    let d = direct.iter_mut().find(|d| d.peer == c.peer);
    if c.has_unsent() {
        return;
    }
    if c.write_failed || c.error.is_some() {
        if let Some(d) = d {
            d.off = 0;
            d.len = 0;
        }
        c.busy.store(true, Ordering::Release);
        return;
    }
    c.tx_off = 0;
    c.tx_len = 0;
    if let Some(d) = d
        && d.has_pending()
    {
        c.tx_len = d.take_pending(&mut c.tx);
    }
    c.tx_len = take_output(core, now, c.peer, &mut c.tx, c.tx_len);
    // Bodies of their own are taken as they come, each followed by what
    // the core has after it.
    let mut bytes = 0usize;
    while c.tx_bodies.len() < TX_BODIES && bytes < CHUNK {
        let Some(view) = core.peek_transmit(c.peer) else {
            break;
        };
        let external = view.external();
        // A header that did not fit the chunk comes first.
        if external == 0 || !view.head().is_empty() {
            break;
        }
        let Some(buf) = outgoing.pop(c.peer).filter(|b| b.len() >= external) else {
            // Not kept, or shorter than its header says: the connection
            // cannot go on (writing anything else would corrupt the
            // stream). Busy for good, as after a failed write.
            c.write_failed = true;
            c.drop_tx();
            c.busy.store(true, Ordering::Release);
            return;
        };
        let off = buf.len().saturating_sub(external);
        let _ = core.consume_transmit(now, c.peer, external);
        bytes = bytes.saturating_add(external);
        c.tx_bodies.push_back(TxBody {
            at: c.tx_len,
            buf,
            off,
        });
        c.tx_len = take_output(core, now, c.peer, &mut c.tx, c.tx_len);
    }
    c.busy.store(c.has_unsent(), Ordering::Release);
}

/// Moves the core's pending output for `peer` into `buf` after its first
/// `len` bytes, until `buf` is full or the core has nothing more; returns
/// the new length.
fn take_output(
    core: &mut CoreSocket,
    now: Instant,
    peer: PeerHandle,
    buf: &mut [u8],
    mut len: usize,
) -> usize {
    // Every pass adds at least one byte or stops.
    while let Some(room) = buf.get_mut(len..)
        && !room.is_empty()
    {
        let n = core.poll_transmit(now, peer, room).min(room.len());
        if n == 0 {
            break;
        }
        len = len.saturating_add(n);
    }
    len
}

/// The unlocked half of a round for one connection: writes the transmit
/// chunk, then reads once into the receive chunk if it is free. Returns
/// whether the locked half has new work: bytes came in, a full chunk went
/// out (the core may hold more), or the transport ended or failed.
fn transfer(env: &Env, c: &mut ConnIo) -> bool {
    let mut again = false;
    if c.has_unsent() && c.writable {
        // A full chunk, or bodies: the core may hold more.
        let full = c.tx_len == c.tx.len() || !c.tx_bodies.is_empty();
        let failed_before = c.write_failed;
        write_out(c);
        again |= (full && !c.has_unsent()) || c.write_failed != failed_before;
    }
    update_interest(env, c);
    if !c.has_unconsumed() && c.readable && !c.eof {
        if !c.rx_held {
            if !c.claim.take_io() {
                // The application thread is reading (or holds bytes it
                // read): it reads again or wakes this thread once done.
                return again;
            }
            c.rx_held = true;
        }
        if c.body.is_some() {
            let done = read_body(c);
            again |= done || c.eof;
            if !done || !c.readable || c.eof || c.has_unconsumed() {
                return again;
            }
        }
        // Between large bodies, a small read: the next header and the
        // start of its body.
        let want = if c.large { SMALL_READ } else { c.rx.len() };
        let mut tries = 0u8;
        // Retried only when interrupted by a signal, a few times.
        while tries < 4 {
            tries = tries.saturating_add(1);
            let Some(room) = c.rx.get_mut(..want) else {
                break;
            };
            match c.stream.read(room) {
                Ok(0) => c.eof = true,
                Ok(n) => {
                    c.rx_off = 0;
                    c.rx_len = n.min(c.rx.len());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => c.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    c.eof = true;
                    c.error = Some(errno_of(&e));
                }
            }
            again |= c.eof || c.has_unconsumed();
            break;
        }
        c.release_rx();
    }
    again
}

/// Reads the rest of the body being read outside the lock, until it is
/// complete or the transport would block, ended or failed; the read that
/// completes it also takes up to [`BODY_TAIL`] bytes that follow into the
/// (empty) receive chunk, so that a stream of large messages costs one
/// read each. Returns whether the body is complete.
fn read_body(c: &mut ConnIo) -> bool {
    let Some(body) = c.body.as_mut() else {
        return false;
    };
    // Every pass reads bytes or stops; a few interruptions are retried.
    let mut interrupted = 0u8;
    while let Some(room) = body.get_mut(c.body_got..)
        && !room.is_empty()
    {
        let want = room.len();
        let tail = c.rx.get_mut(..BODY_TAIL).unwrap_or_default();
        let mut bufs = [IoSliceMut::new(room), IoSliceMut::new(tail)];
        match c.stream.read_vectored(&mut bufs) {
            Ok(0) => {
                c.eof = true;
                break;
            }
            Ok(n) => {
                c.body_got = c.body_got.saturating_add(n.min(want));
                if n > want {
                    c.rx_off = 0;
                    c.rx_len = n.saturating_sub(want).min(BODY_TAIL);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                c.readable = false;
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted && interrupted < 4 => {
                interrupted = interrupted.saturating_add(1);
            }
            Err(e) => {
                c.eof = true;
                c.error = Some(errno_of(&e));
                break;
            }
        }
    }
    c.body_got >= body.len()
}

/// Writes the transmit chunk until it is out or the transport would block.
fn write_out(c: &mut ConnIo) {
    while c.has_unsent() && c.writable {
        let written = {
            // The chunk's bytes with the bodies between them, in order.
            let mut iov = [IoSlice::new(&[]); 2 * TX_BODIES + 1];
            let mut k = 0usize;
            let mut pos = c.tx_off;
            let mut all = true;
            for b in &c.tx_bodies {
                let Some([chunk, body]) = iov.get_mut(k..k.saturating_add(2)) else {
                    all = false;
                    break;
                };
                *chunk = IoSlice::new(c.tx.get(pos..b.at).unwrap_or_default());
                *body = IoSlice::new(b.buf.get(b.off..).unwrap_or_default());
                k = k.saturating_add(2);
                pos = pos.max(b.at);
            }
            if all && let Some(tail) = iov.get_mut(k) {
                *tail = IoSlice::new(c.tx.get(pos..c.tx_len).unwrap_or_default());
                k = k.saturating_add(1);
            }
            c.stream.write_vectored(iov.get(..k).unwrap_or_default())
        };
        match written {
            Ok(0) => c.writable = false,
            Ok(n) => c.advance_tx(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => c.writable = false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                // The peer is gone or going: drop the output, keep reading
                // up to the end of the stream (whose error or end the core
                // hears of in `report_end`). Readiness says when it comes.
                c.write_failed = true;
                c.readable = true;
                c.drop_tx();
            }
        }
    }
    if !c.has_unsent() {
        c.tx_off = 0;
        c.tx_len = 0;
        if !c.write_failed {
            // The chunk is out: the application thread may write again.
            c.busy.store(false, Ordering::Release);
        }
    }
}

/// Keeps write interest registered only while bytes wait.
fn update_interest(env: &Env, c: &mut ConnIo) {
    let want = c.has_unsent();
    if want != c.write_interest {
        let interest = if want {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let mut p = c.claim.parking();
        if p.parked && !want {
            // Registered again without write interest when the watch ends.
            p.write = false;
            c.write_interest = false;
            return;
        }
        // By descriptor, as the application thread parks it.
        let fd = c.stream.raw_fd();
        let r = if p.parked {
            // Write readiness is needed now: registered again at once.
            env.mio()
                .register(&mut mio::unix::SourceFd(&fd), c.token, interest)
        } else {
            env.mio()
                .reregister(&mut mio::unix::SourceFd(&fd), c.token, interest)
        };
        if r.is_ok() {
            // Back from parking: what came meanwhile is read (and
            // reported by the registration anyway).
            c.readable |= p.parked;
            p.parked = false;
            p.write = want;
            c.write_interest = want;
        }
    }
}

/// Writes the core's pending output until it is all out or the transport
/// would block (under the lock: for a closing connection's last command).
fn flush(env: &Env, c: &mut ConnIo, st: &mut State, now: Instant) {
    loop {
        write_out(c);
        if c.has_unsent() || c.write_failed || !c.writable {
            break;
        }
        fill(c, st, now);
        if !c.has_unsent() {
            break;
        }
    }
    update_interest(env, c);
}

/// The core closed a peer: final output, close the transport, detach, and
/// reconnect when the connection was ours and the reason allows it.
fn on_closed(
    env: &mut Env,
    sock: &mut SockIo,
    st: &mut State,
    peer: PeerHandle,
    reason: DisconnectReason,
    now: Instant,
) {
    let token = sock
        .conns
        .values()
        .find(|c| c.peer == peer)
        .map(|c| c.token);
    let mut origin = None;
    if let Some(mut c) = token.and_then(|t| sock.conns.remove(&t)) {
        // Best effort for a final command (ERROR); never waits.
        c.writable = true;
        flush(env, &mut c, st, now);
        drop_direct(st, c.peer);
        // Large bodies not written go back to the spares now, not when
        // the peer's unread messages are (nothing writes them any more).
        c.drop_tx();
        st.outgoing.forget(peer);
        origin = Some(c.origin);
        let _ = env.mio().deregister(c.stream.source());
        env.tokens.remove(&c.token);
    }
    // Messages that arrived before the close stay readable until the
    // application took them; `service` detaches the peer then.
    sock.draining.push(peer);
    let Some(Origin::Connecter(eid)) = origin else {
        return;
    };
    if sock.closing.is_some() {
        return;
    }
    let Some(con) = sock.connecters.get_mut(&eid) else {
        return;
    };
    if reason.should_reconnect() {
        // libzmq starts a new connecter: the back-off starts from the base
        // interval again, and its endpoint is the resolved address.
        if let Some(n) = &con.numeric {
            con.endpoint.clone_from(n);
        }
        con.backoff = Backoff::new(con.ivl, con.ivl_max);
        schedule_retry(con, st, now);
    } else {
        con.state = ConnecterState::Stopped;
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]
mod tests {
    use crate::{Context, Message, Socket, SocketType};

    /// Sizes that take every transmit path: a few bytes (one direct
    /// write), more than one direct chunk, and more than the direct passes
    /// and the transport's buffer (the I/O thread writes the rest).
    const SIZES: [usize; 4] = [1, 100, 70_000, (1 << 20) + 3];

    fn body(seq: usize, size: usize) -> Vec<u8> {
        (0..size).map(|i| (seq * 31 + i * 7) as u8).collect()
    }

    fn recv_one(s: &Socket, msg: &mut Message) -> Vec<u8> {
        s.recv_into(msg)
            .expect("a message within the receive timeout");
        assert_eq!(msg.len(), 1);
        msg.frame(0).unwrap().to_vec()
    }

    fn pair(ctx: &Context, endpoint: &str) -> (Socket, Socket) {
        let a = ctx.socket(SocketType::Dealer).unwrap();
        let b = ctx.socket(SocketType::Dealer).unwrap();
        for s in [&a, &b] {
            s.set_rcvtimeo(10_000).unwrap();
            s.set_sndtimeo(10_000).unwrap();
        }
        a.bind(endpoint).unwrap();
        b.connect(&a.last_endpoint().unwrap()).unwrap();
        (a, b)
    }

    /// Round trips (each send after a wait: written by the application
    /// thread) and bursts after a wait (the first message written by the
    /// application thread, the rest by the I/O thread) arrive whole and in
    /// order, in both directions.
    fn direct_and_queued_writes_keep_order(endpoint: &str) {
        let ctx = Context::new().unwrap();
        let (a, b) = pair(&ctx, endpoint);
        let mut msg = Message::new();
        let mut seq = 0usize;
        for round in 0..24 {
            let size = SIZES[round % SIZES.len()];
            seq += 1;
            b.send_frame(&body(seq, size)).unwrap();
            let got = recv_one(&a, &mut msg);
            assert_eq!(got, body(seq, size), "request {seq}");
            a.send_frame(&got).unwrap();
            assert_eq!(recv_one(&b, &mut msg), body(seq, size), "reply {seq}");
            // A burst right after the wait.
            let first = seq + 1;
            for k in 0..40 {
                seq += 1;
                b.send_frame(&body(seq, SIZES[(round + k) % 3])).unwrap();
            }
            for (k, expect) in (first..=seq).enumerate() {
                let got = recv_one(&a, &mut msg);
                assert_eq!(got, body(expect, SIZES[(round + k) % 3]), "burst {expect}");
            }
        }
    }

    #[test]
    fn direct_writes_keep_order_tcp() {
        direct_and_queued_writes_keep_order("tcp://127.0.0.1:*");
    }

    #[test]
    fn direct_writes_keep_order_ipc() {
        let name = format!("ipc://@zmtp-std-direct-{}", std::process::id());
        direct_and_queued_writes_keep_order(&name);
    }

    /// Multipart messages whose frames straddle the in-place threshold,
    /// each sent by another thread right after it waited for a go-ahead
    /// (so the application thread writes them: large frames from the
    /// core's queue, small ones through its buffer), some larger than the
    /// transport buffers hold (the write blocks mid-frame and the I/O
    /// thread takes over): frames arrive whole and in order.
    fn in_place_and_copied_frames_keep_order(endpoint: &str) {
        const PARTS: [usize; 6] = [
            super::IN_PLACE_MIN - 1,
            super::IN_PLACE_MIN,
            3,
            300_000,
            super::IN_PLACE_MIN + 1,
            0,
        ];
        let ctx = Context::new().unwrap();
        let (a, b) = pair(&ctx, endpoint);
        let count = 60usize;
        let sender = std::thread::spawn(move || {
            for seq in 0..count {
                assert_eq!(b.recv().unwrap(), [b"go".to_vec()]);
                let parts: Vec<Vec<u8>> = (0..1 + seq % 3)
                    .map(|k| body(seq * 3 + k, PARTS[(seq + k) % PARTS.len()]))
                    .collect();
                let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                b.send(&refs).unwrap();
            }
            b
        });
        for seq in 0..count {
            a.send_frame(b"go").unwrap();
            let got = a.recv().unwrap();
            assert_eq!(got.len(), 1 + seq % 3, "message {seq}");
            for (k, part) in got.iter().enumerate() {
                let expect = body(seq * 3 + k, PARTS[(seq + k) % PARTS.len()]);
                assert!(*part == expect, "message {seq} part {k}");
            }
        }
        drop(sender.join().unwrap());
    }

    #[test]
    fn in_place_writes_keep_order_tcp() {
        in_place_and_copied_frames_keep_order("tcp://127.0.0.1:*");
    }

    #[test]
    fn in_place_writes_keep_order_ipc() {
        let name = format!("ipc://@zmtp-std-in-place-{}", std::process::id());
        in_place_and_copied_frames_keep_order(&name);
    }

    /// Large frames a send leaves in the caller's buffer ([`super::send_lent`])
    /// are written or copied before the send returns: a sender that
    /// overwrites its one buffer after every send, with messages larger
    /// than a Unix socket holds (so writes stop part way: the receiver
    /// queues one message at most, and reads only after each batch), gets
    /// every message whole to the receiver. (Without the copies the IPC
    /// run fails: the I/O thread finds no body for the rest.)
    fn lent_frames_survive_the_callers_buffer(endpoint: &str) {
        const SIZE: usize = 3 << 20;
        const BATCH: usize = 2;
        let ctx = Context::new().unwrap();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        pull.set_rcvtimeo(10_000).unwrap();
        pull.set_rcvhwm(1).unwrap();
        pull.bind(endpoint).unwrap();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.set_sndtimeo(10_000).unwrap();
        push.connect(&pull.last_endpoint().unwrap()).unwrap();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let batches = 6usize;
        let sender = std::thread::spawn(move || {
            let mut buf = vec![0u8; SIZE];
            let mut seq = 0usize;
            for _ in 0..batches {
                for _ in 0..BATCH {
                    seq += 1;
                    buf.copy_from_slice(&body(seq, SIZE));
                    // A small first frame, then the large one, on odd turns.
                    if seq % 2 == 1 {
                        push.send(&[b"x", &buf]).unwrap();
                    } else {
                        push.send_frame(&buf).unwrap();
                    }
                    buf.fill(0xEE);
                }
                go_rx
                    .recv_timeout(core::time::Duration::from_secs(10))
                    .unwrap();
            }
            push
        });
        let mut seq = 0usize;
        for _ in 0..batches {
            for _ in 0..BATCH {
                seq += 1;
                let got = pull.recv().unwrap();
                let large = got.last().unwrap();
                assert_eq!(got.len(), 1 + seq % 2, "message {seq}");
                assert!(*large == body(seq, SIZE), "message {seq}");
            }
            go_tx.send(()).unwrap();
        }
        drop(sender.join().unwrap());
    }

    #[test]
    fn lent_frames_survive_the_callers_buffer_tcp() {
        lent_frames_survive_the_callers_buffer("tcp://127.0.0.1:*");
    }

    #[test]
    fn lent_frames_survive_the_callers_buffer_ipc() {
        let name = format!("ipc://@zmtp-std-lent-{}", std::process::id());
        lent_frames_survive_the_callers_buffer(&name);
    }

    /// A ROUTER answering several DEALERs writes each reply to its own
    /// connection.
    #[test]
    fn direct_writes_reach_the_right_peer() {
        let ctx = Context::new().unwrap();
        let router = ctx.socket(SocketType::Router).unwrap();
        router.set_rcvtimeo(10_000).unwrap();
        router.bind("tcp://127.0.0.1:*").unwrap();
        let ep = router.last_endpoint().unwrap();
        let dealers: Vec<Socket> = (0..3)
            .map(|i| {
                let d = ctx.socket(SocketType::Dealer).unwrap();
                d.set_rcvtimeo(10_000).unwrap();
                d.set_routing_id(format!("d{i}").as_bytes()).unwrap();
                d.connect(&ep).unwrap();
                d
            })
            .collect();
        for round in 0..20usize {
            for (i, d) in dealers.iter().enumerate() {
                d.send_frame(&body(round * 3 + i, SIZES[round % 3]))
                    .unwrap();
            }
            for _ in 0..dealers.len() {
                let req = router.recv().unwrap();
                assert_eq!(req.len(), 2);
                router.send(&[&req[0], &req[1]]).unwrap();
            }
            let mut msg = Message::new();
            for (i, d) in dealers.iter().enumerate() {
                let got = recv_one(d, &mut msg);
                assert_eq!(got, body(round * 3 + i, SIZES[round % 3]), "dealer {i}");
            }
        }
    }
}
