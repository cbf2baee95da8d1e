//! A deterministic two-endpoint harness without an allocator: sockets
//! joined by in-memory byte pipes on a virtual clock, every buffer carved
//! from a caller-provided arena. The no_std counterpart of the host tests'
//! `core/tests/common` harness.

use core::cell::RefCell;
use core::fmt::{self, Write as _};

use cortex_m::interrupt::{self, Mutex};

use zmtp_core::conn::{Config, DisconnectReason};
use zmtp_core::monitor::{EndpointPair, Event, EventMask, EventVersion, MonitorEvent};
use zmtp_core::socket::{PeerBuffers, PeerHandle, RecvError, SendError, Socket};
use zmtp_core::{Instant, SocketType};

/// Most peers per socket.
pub const PEERS: usize = 2;
/// Monitor events a socket keeps.
pub const EVENTS: usize = 4;
/// Bytes of an endpoint string (`tcp://127.0.0.1:40000` is 21).
pub const EP: usize = 24;
/// Most sockets in one scenario (each is about 3 KiB on a 32-bit target;
/// the microbit has 16 KiB of RAM).
pub const SOCKETS: usize = 2;
/// Most links in one scenario.
pub const LINKS: usize = 2;
/// Per-peer receive queue size.
pub const RX: usize = 384;
/// Per-peer transmit queue size.
pub const TX: usize = 384;
/// Per-peer subscription store (PUB/XPUB).
pub const SUBS: usize = 32;
/// SUB/XSUB subscription store and XPUB queue.
pub const AUX: usize = 128;
/// Bytes a link holds in flight per direction (a TCP window).
pub const PIPE: usize = 192;
/// Scenario memory for one link.
pub const MEM_ONE_LINK: usize = 2 * (RX + TX + SUBS) + 2 * PIPE + 2 * AUX;
/// Scenario memory for two links.
pub const MEM_TWO_LINKS: usize = 4 * (RX + TX) + 4 * PIPE;
/// Bytes moved per transport write (small, to cut frames).
pub const CHUNK: usize = 61;
/// The clock at the start of every scenario, in ms.
pub const T0: u64 = 1_000;

/// A socket of the harness.
pub type Sock<'m> = Socket<'m, PEERS, EVENTS, EP>;

/// The text of the latest failure. Kept out of [`Fail`] so that every
/// `Result` of the harness stays two words wide (stack is scarce).
static WHY: Mutex<RefCell<heapless::String<160>>> =
    Mutex::new(RefCell::new(heapless::String::new()));

/// Why a scenario failed: the source line; the text is in [`WHY`].
#[derive(Debug)]
pub struct Fail {
    /// Line in the scenario source.
    pub line: u32,
}

impl Fail {
    /// A failure at `line` with a formatted text (cut at the capacity).
    pub fn new(line: u32, args: fmt::Arguments<'_>) -> Self {
        interrupt::free(|cs| {
            let mut why = WHY.borrow(cs).borrow_mut();
            why.clear();
            let _ = Truncating(&mut why).write_fmt(args);
        });
        Self { line }
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        interrupt::free(|cs| write!(f, "line {}: {}", self.line, WHY.borrow(cs).borrow()))
    }
}

/// A `fmt::Write` that keeps what fits and drops the rest.
struct Truncating<'a, const N: usize>(&'a mut heapless::String<N>);

impl<const N: usize> fmt::Write for Truncating<'_, N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.0.push(c).is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// A scenario's result.
pub type Outcome = Result<(), Fail>;

/// Fails the scenario with a formatted message.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::harness::Fail::new(line!(), format_args!($($arg)*)))
    };
}

/// Fails the scenario unless the condition holds.
#[macro_export]
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            $crate::fail!("check failed: {}", stringify!($cond));
        }
    };
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::fail!($($arg)*);
        }
    };
}

/// Fails the scenario unless both sides are equal; shows both.
#[macro_export]
macro_rules! check_eq {
    ($left:expr, $right:expr $(,)?) => {
        match (&$left, &$right) {
            (l, r) => {
                if l != r {
                    $crate::fail!("{} = {:?}, expected {:?}", stringify!($left), l, r);
                }
            }
        }
    };
}

/// Turns an `Option`/`Result` into its value or fails the scenario.
#[macro_export]
macro_rules! ok {
    ($e:expr) => {
        match $crate::harness::Present::present($e) {
            Some(v) => v,
            None => $crate::fail!("{} gave nothing", stringify!($e)),
        }
    };
}

/// Values [`ok!`] unwraps.
pub trait Present<T> {
    /// The value, if there is one.
    fn present(self) -> Option<T>;
}

impl<T> Present<T> for Option<T> {
    fn present(self) -> Option<T> {
        self
    }
}

impl<T, E> Present<T> for Result<T, E> {
    fn present(self) -> Option<T> {
        self.ok()
    }
}

/// Hands out zeroed slices of one buffer, front to back.
pub struct Arena<'m> {
    rest: &'m mut [u8],
    /// Whether a request could not be met.
    exhausted: bool,
}

impl<'m> Arena<'m> {
    /// An arena over `mem`.
    pub fn new(mem: &'m mut [u8]) -> Self {
        Self {
            rest: mem,
            exhausted: false,
        }
    }

    /// `n` zeroed bytes, or `None` when the arena is used up.
    pub fn take(&mut self, n: usize) -> Option<&'m mut [u8]> {
        if n > self.rest.len() {
            self.exhausted = true;
            return None;
        }
        let rest = core::mem::take(&mut self.rest);
        let (head, tail) = rest.split_at_mut(n);
        self.rest = tail;
        head.fill(0);
        Some(head)
    }

    /// `n` zeroed bytes, or an empty slice (remembered as a failure).
    pub fn take_or_empty(&mut self, n: usize) -> &'m mut [u8] {
        self.take(n).unwrap_or_default()
    }
}

/// The default options of a socket of type `t`.
pub fn cfg(t: SocketType) -> Config {
    Config::new(t)
}

/// A socket with `config`, its auxiliary buffer from `arena`, its monitor
/// started with every event (v1). Returned by value so that it is built
/// in the caller's frame (a socket is about 3 KiB: no temporary copies on
/// a 16 KiB board). A failure is remembered in `arena` and reported by
/// [`Net::new`].
pub fn socket<'m>(arena: &mut Arena<'m>, config: Config) -> Sock<'m> {
    let aux = if matches!(
        config.socket_type,
        SocketType::Sub | SocketType::XSub | SocketType::XPub
    ) {
        arena.take_or_empty(AUX)
    } else {
        &mut []
    };
    let mut s = Sock::new(config, aux);
    if s.monitor_mut()
        .start("inproc://monitor", EventMask::ALL, EventVersion::V1)
        .is_err()
    {
        arena.exhausted = true;
    }
    s
}

/// Declares `$n`, a [`Net`] of two sockets with configurations `$c0`
/// (index 0) and `$c1` (index 1) over `$mem` bytes of scenario memory,
/// all on the caller's stack.
#[macro_export]
macro_rules! net {
    ($n:ident, $mem:expr, $c0:expr, $c1:expr) => {
        let mut mem = [0u8; $mem];
        let mut arena = $crate::harness::Arena::new(&mut mem);
        let mut s0 = $crate::harness::socket(&mut arena, $c0);
        let mut s1 = $crate::harness::socket(&mut arena, $c1);
        #[allow(unused_mut)]
        let mut $n = $crate::harness::Net::new(arena, [&mut s0, &mut s1], line!())?;
    };
}

/// Bytes on their way from one end of a link to the other.
struct Pipe<'m> {
    buf: &'m mut [u8],
    len: usize,
}

impl Pipe<'_> {
    fn clear(&mut self) {
        self.len = 0;
    }

    fn room(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.len..).unwrap_or_default()
    }

    fn filled(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Drops the first `n` bytes.
    fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

/// One link: socket `x` accepted it (bind side), socket `y` connected.
pub struct Link<'m> {
    /// The bound socket.
    pub x: usize,
    /// The bound socket's peer handle.
    pub px: PeerHandle,
    /// The connecting socket.
    pub y: usize,
    /// The connecting socket's peer handle.
    pub py: PeerHandle,
    /// The fd value of the bound side's events.
    pub fx: u32,
    /// The fd value of the connecting side's events.
    pub fy: u32,
    /// Whether bytes move.
    pub up: bool,
    xy: Pipe<'m>,
    yx: Pipe<'m>,
}

/// Bytes of a received message.
pub const MSG: usize = 320;

/// A received message: every frame's bytes back to back, and where each
/// frame ends.
pub struct Msg {
    data: [u8; MSG],
    ends: heapless::Vec<usize, 8>,
}

impl Msg {
    /// The frames.
    pub fn frames(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let f = self.data.get(start..end).unwrap_or_default();
            start = end;
            f
        })
    }

    /// Whether the frames equal `want`.
    pub fn is(&self, want: &[&[u8]]) -> bool {
        self.ends.len() == want.len() && self.frames().zip(want).all(|(a, b)| a == *b)
    }
}

impl fmt::Debug for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for frame in self.frames() {
            match core::str::from_utf8(frame) {
                Ok(s) if frame.len() <= 24 => list.entry(&s),
                _ => list.entry(&format_args!("<{} bytes>", frame.len())),
            };
        }
        list.finish()
    }
}

/// Monitor event names, for comparisons and messages.
pub type Names = heapless::Vec<&'static str, 8>;

/// Sockets joined by in-memory links on one virtual clock.
pub struct Net<'s, 'm> {
    arena: Arena<'m>,
    /// The sockets.
    pub sockets: [&'s mut Sock<'m>; SOCKETS],
    /// The links.
    pub links: heapless::Vec<Link<'m>, LINKS>,
    /// The virtual clock.
    pub now: Instant,
    next_fd: u32,
}

/// A harness error that ends a scenario.
fn oom(line: u32) -> Fail {
    Fail::new(line, format_args!("scenario memory used up"))
}

impl<'s, 'm> Net<'s, 'm> {
    /// A network of `sockets` whose links take their buffers from `arena`.
    ///
    /// # Errors
    ///
    /// If `arena` could not provide the sockets' memory.
    pub fn new(
        arena: Arena<'m>,
        sockets: [&'s mut Sock<'m>; SOCKETS],
        line: u32,
    ) -> Result<Self, Fail> {
        if arena.exhausted {
            return Err(oom(line));
        }
        Ok(Self {
            arena,
            sockets,
            links: heapless::Vec::new(),
            now: Instant::from_millis(T0),
            next_fd: 10,
        })
    }

    /// Links `y` (connecting) to `x` (bound): records ACCEPTED on `x` and
    /// CONNECTED on `y` as an adapter would, and attaches both ends.
    #[track_caller]
    pub fn connect(&mut self, x: usize, y: usize) -> Result<usize, Fail> {
        let line = core::panic::Location::caller().line();
        let (fx, fy) = (self.next_fd, self.next_fd + 1);
        self.next_fd += 2;
        let bind_ep = "tcp://127.0.0.1:5555";
        let mut conn_ep: heapless::String<EP> = heapless::String::new();
        let _ = write!(conn_ep, "tcp://127.0.0.1:{}", 40_000 + fx);
        let ex = EndpointPair::bind_pair(bind_ep, &conn_ep);
        let ey = EndpointPair::connect_pair(&conn_ep, bind_ep);
        let px = self.attach(line, x, Event::Accepted { fd: fx }, fx, ex)?;
        let py = self.attach(line, y, Event::Connected { fd: fy }, fy, ey)?;
        let xy = self.arena.take(PIPE).ok_or_else(|| oom(line))?;
        let yx = self.arena.take(PIPE).ok_or_else(|| oom(line))?;
        self.links
            .push(Link {
                x,
                px,
                y,
                py,
                fx,
                fy,
                up: true,
                xy: Pipe { buf: xy, len: 0 },
                yx: Pipe { buf: yx, len: 0 },
            })
            .map_err(|_| Fail::new(line, format_args!("too many links")))?;
        Ok(self.links.len() - 1)
    }

    fn attach(
        &mut self,
        line: u32,
        i: usize,
        event: Event,
        fd: u32,
        endpoints: EndpointPair<EP>,
    ) -> Result<PeerHandle, Fail> {
        let now = self.now;
        let s = self
            .sockets
            .get_mut(i)
            .ok_or_else(|| Fail::new(line, format_args!("no socket {i}")))?;
        // Only PUB and XPUB keep their peers' subscriptions.
        let subs = if matches!(s.socket_type(), SocketType::Pub | SocketType::XPub) {
            SUBS
        } else {
            0
        };
        let bufs = PeerBuffers {
            rx: self.arena.take(RX).ok_or_else(|| oom(line))?,
            tx: self.arena.take(TX).ok_or_else(|| oom(line))?,
            subs: self.arena.take(subs).ok_or_else(|| oom(line))?,
        };
        s.monitor_mut().record(event, endpoints.clone());
        s.attach(now, bufs, fd, endpoints)
            .map_err(|e| Fail::new(line, format_args!("attach: {e}")))
    }

    /// Links socket 1 (connecting) to socket 0 (bound) and drives the
    /// handshake. Returns `(0, 1, link)`.
    #[track_caller]
    pub fn join(&mut self) -> Result<(usize, usize, usize), Fail> {
        let l = self.connect(0, 1)?;
        self.drive()?;
        Ok((0, 1, l))
    }

    /// One exchange each way on every live link; returns whether anything
    /// moved.
    pub fn step(&mut self) -> bool {
        let now = self.now;
        let mut progress = false;
        let mut chunk = [0u8; CHUNK];
        for l in self.links.iter_mut() {
            if !l.up {
                continue;
            }
            for (from, to, pipe) in [
                ((l.x, l.px), (l.y, l.py), &mut l.xy),
                ((l.y, l.py), (l.x, l.px), &mut l.yx),
            ] {
                // The sender writes until it has nothing or the window is
                // full.
                loop {
                    let room = pipe.room();
                    let want = room.len().min(CHUNK);
                    if want == 0 {
                        break;
                    }
                    let Some(s) = self.sockets.get_mut(from.0) else {
                        break;
                    };
                    let buf = chunk.get_mut(..want).unwrap_or_default();
                    let n = s.poll_transmit(now, from.1, buf).min(want);
                    if n == 0 {
                        break;
                    }
                    if let (Some(dst), Some(src)) = (room.get_mut(..n), chunk.get(..n)) {
                        dst.copy_from_slice(src);
                    }
                    pipe.len += n;
                    progress = true;
                }
                // The receiver is offered everything once.
                if pipe.len > 0
                    && let Some(s) = self.sockets.get_mut(to.0)
                {
                    let used = s.handle_input(now, to.1, pipe.filled());
                    if used > 0 {
                        pipe.consume(used);
                        progress = true;
                    }
                }
            }
        }
        progress
    }

    /// Steps until nothing moves.
    #[track_caller]
    pub fn drive(&mut self) -> Outcome {
        for _ in 0..10_000 {
            if !self.step() {
                return Ok(());
            }
        }
        Err(Fail::new(
            core::panic::Location::caller().line(),
            format_args!("the network never settles"),
        ))
    }

    fn next_timeout(&self) -> Option<Instant> {
        self.sockets.iter().filter_map(|s| s.poll_timeout()).min()
    }

    fn fire_timers(&mut self) {
        let now = self.now;
        for s in self.sockets.iter_mut() {
            s.handle_timeout(now);
        }
    }

    /// Advances the clock by `ms`, firing timers at their exact deadlines
    /// and settling the links after each.
    #[track_caller]
    pub fn advance(&mut self, ms: u64) -> Outcome {
        let end = Instant::from_millis(self.now.as_millis().saturating_add(ms));
        for _ in 0..10_000 {
            self.drive()?;
            match self.next_timeout() {
                Some(t) if t <= end => {
                    if t > self.now {
                        self.now = t;
                    }
                    self.fire_timers();
                }
                _ => {
                    self.now = end;
                    self.fire_timers();
                    return self.drive();
                }
            }
        }
        Err(Fail::new(
            core::panic::Location::caller().line(),
            format_args!("timers keep firing"),
        ))
    }

    /// Stops moving bytes on a link without telling either side.
    pub fn stall(&mut self, link: usize) {
        if let Some(l) = self.links.get_mut(link) {
            l.up = false;
        }
    }

    /// Ends a link as a dropped transport: both sides see end-of-stream.
    pub fn cut(&mut self, link: usize) {
        let now = self.now;
        let Some(l) = self.links.get_mut(link) else {
            return;
        };
        l.up = false;
        l.xy.clear();
        l.yx.clear();
        let (x, px, y, py) = (l.x, l.px, l.y, l.py);
        if let Some(s) = self.sockets.get_mut(x) {
            s.handle_transport_closed(now, px);
        }
        if let Some(s) = self.sockets.get_mut(y) {
            s.handle_transport_closed(now, py);
        }
    }

    /// The link `l`.
    #[track_caller]
    pub fn link(&self, l: usize) -> Result<&Link<'m>, Fail> {
        self.links.get(l).ok_or_else(|| {
            Fail::new(
                core::panic::Location::caller().line(),
                format_args!("no link {l}"),
            )
        })
    }

    /// The socket `i`.
    #[track_caller]
    pub fn sock(&mut self, i: usize) -> Result<&mut Sock<'m>, Fail> {
        self.sockets.get_mut(i).map(|s| &mut **s).ok_or_else(|| {
            Fail::new(
                core::panic::Location::caller().line(),
                format_args!("no socket {i}"),
            )
        })
    }

    /// Drains socket `i`'s monitor.
    pub fn events(&mut self, i: usize) -> heapless::Vec<MonitorEvent<EP>, EVENTS> {
        let mut out = heapless::Vec::new();
        if let Some(s) = self.sockets.get_mut(i) {
            while let Some(e) = s.monitor_mut().pop() {
                let _ = out.push(e);
            }
        }
        out
    }

    /// Drains socket `i`'s monitor and returns the event names.
    pub fn event_names(&mut self, i: usize) -> Names {
        self.events(i).iter().map(|e| e.event.name()).collect()
    }

    /// The next close reported by socket `i`.
    pub fn closed(&mut self, i: usize) -> Option<(PeerHandle, DisconnectReason)> {
        self.sockets.get_mut(i)?.poll_closed()
    }

    /// Sends a message from socket `i`, returning the socket's answer.
    pub fn try_send(&mut self, i: usize, parts: &[&[u8]]) -> nb::Result<(), SendError> {
        match self.sockets.get_mut(i) {
            Some(s) => s.send(parts),
            None => Err(nb::Error::Other(SendError::NotSupported)),
        }
    }

    /// Sends a message from socket `i`; failing is a scenario failure.
    #[track_caller]
    pub fn send(&mut self, i: usize, parts: &[&[u8]]) -> Outcome {
        let line = core::panic::Location::caller().line();
        self.try_send(i, parts)
            .map_err(|e| Fail::new(line, format_args!("send on socket {i}: {e:?}")))
    }

    /// Receives one whole message from socket `i`: `Ok(None)` when nothing
    /// is waiting.
    pub fn try_recv(&mut self, i: usize) -> Result<Option<Msg>, RecvError> {
        let Some(s) = self.sockets.get_mut(i) else {
            return Err(RecvError::NotSupported);
        };
        let mut msg = Msg {
            data: [0; MSG],
            ends: heapless::Vec::new(),
        };
        let mut at = 0usize;
        loop {
            let buf = msg.data.get_mut(at..).unwrap_or_default();
            match s.recv(buf) {
                Ok(info) => {
                    at += info.len;
                    // More than 8 frames: the rest merge into the last.
                    if msg.ends.push(at).is_err()
                        && let Some(last) = msg.ends.last_mut()
                    {
                        *last = at;
                    }
                    if !info.more {
                        return Ok(Some(msg));
                    }
                }
                Err(nb::Error::WouldBlock) if msg.ends.is_empty() => return Ok(None),
                Err(nb::Error::WouldBlock) => return Ok(Some(msg)),
                Err(nb::Error::Other(e)) => return Err(e),
            }
        }
    }

    /// Checks that the next message of socket `i` is `want`.
    #[track_caller]
    pub fn expect(&mut self, i: usize, want: &[&[u8]]) -> Outcome {
        let line = core::panic::Location::caller().line();
        match self.try_recv(i) {
            Ok(Some(m)) if m.is(want) => Ok(()),
            Ok(Some(m)) => Err(Fail::new(
                line,
                format_args!("socket {i} received {m:?}, expected {want:?}"),
            )),
            Ok(None) => Err(Fail::new(
                line,
                format_args!("socket {i} received nothing, expected {want:?}"),
            )),
            Err(e) => Err(Fail::new(line, format_args!("recv on socket {i}: {e:?}"))),
        }
    }

    /// Checks that socket `i` has no message waiting.
    #[track_caller]
    pub fn expect_nothing(&mut self, i: usize) -> Outcome {
        let line = core::panic::Location::caller().line();
        match self.try_recv(i) {
            Ok(None) => Ok(()),
            Ok(Some(m)) => Err(Fail::new(
                line,
                format_args!("socket {i} received {m:?}, expected nothing"),
            )),
            Err(e) => Err(Fail::new(line, format_args!("recv on socket {i}: {e:?}"))),
        }
    }

    /// Sends `parts` from `from`, drives the network and checks that `to`
    /// receives exactly that message.
    #[track_caller]
    pub fn deliver(&mut self, from: usize, to: usize, parts: &[&[u8]]) -> Outcome {
        self.send(from, parts)?;
        self.drive()?;
        self.expect(to, parts)
    }

    /// Checks socket `i`'s monitor events (drained) by name.
    #[track_caller]
    pub fn expect_events(&mut self, i: usize, want: &[&str]) -> Outcome {
        let line = core::panic::Location::caller().line();
        let got = self.event_names(i);
        if got.as_slice() == want {
            Ok(())
        } else {
            Err(Fail::new(
                line,
                format_args!("socket {i} events {got:?}, expected {want:?}"),
            ))
        }
    }
}
