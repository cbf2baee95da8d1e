//! # zmtp-std
//!
//! The `std` adapter for [`zmtp_core`]: ZeroMQ sockets over TCP and Unix
//! domain sockets (`ipc://`), driven by one background I/O thread per
//! [`Context`], with libzmq's socket monitor events.
//!
//! ```no_run
//! use zmtp_std::{Context, SocketType};
//!
//! let ctx = Context::new()?;
//! let server = ctx.socket(SocketType::Rep)?;
//! server.bind("tcp://127.0.0.1:*")?;
//! let client = ctx.socket(SocketType::Req)?;
//! client.connect(&server.last_endpoint()?)?;
//! client.send(&[b"hello"])?;
//! assert_eq!(server.recv()?, vec![b"hello".to_vec()]);
//! # Ok::<(), zmtp_std::Error>(())
//! ```
//!
//! ## How it works
//!
//! All protocol logic is in `zmtp-core`; this crate moves bytes, time and
//! events:
//!
//! - A [`Context`] owns one I/O thread running a `mio` event loop (woken by a
//!   `mio::Waker`, never spinning). It owns every listener, connect attempt
//!   and connection, the reconnect timers and the core's timers.
//! - Each [`Socket`] wraps the core socket in a mutex and a condition
//!   variable. [`Socket::send`] and [`Socket::recv`] call the core and wake
//!   the I/O thread when output is pending (once until it looked) or when
//!   reading made room for input it holds back (at the receive queue's
//!   low-water mark); blocking calls wait on the condition variable up to
//!   `ZMQ_SNDTIMEO` / `ZMQ_RCVTIMEO`, and the I/O thread signals it after
//!   input, output and closes when a thread waits. The I/O thread reads and
//!   writes without the socket's lock, in chunks of up to 256 KiB, so the
//!   application keeps sending and receiving meanwhile.
//! - [`Socket::recv_into`] receives into a reused [`Message`]: no
//!   allocation per message once it has grown, where [`Socket::recv`]
//!   allocates the frames it returns. A [`Message`] also carries the
//!   properties of the connection it came in on ([`Message::property`],
//!   libzmq's `zmq_msg_gets`: `User-Id`, `Peer-Address`, `Socket-Type`,
//!   ...): the I/O thread records them once per connection when its
//!   handshake succeeds, and every message shares that record.
//! - Monitor events: the core records `HANDSHAKE_*` and `DISCONNECTED`; this
//!   crate records the transport events (`LISTENING` and `BIND_FAILED` inside
//!   [`Socket::bind`], the others on the I/O thread) with libzmq's values
//!   (real file descriptors, Linux errno numbers, the reconnect interval of
//!   [`zmtp_core::reconnect::Backoff`]) and endpoint strings. A
//!   [`MonitorSocket`] reads them.
//!
//! ## Memory
//!
//! Each connection gets a receive and a transmit buffer of
//! [`DEFAULT_BUFFER_SIZE`] (4 MiB) each, changeable per socket with
//! [`Socket::set_buffer_sizes`]. They are allocated zeroed (`calloc`), so
//! pages cost memory only once used, and recycled when the connection goes
//! (through a pool shared by the context's sockets), so reconnect loops
//! allocate nothing new. They bound message sizes: a frame larger than the
//! receive buffer closes the connection, a message larger than the transmit
//! buffer cannot be sent. A socket takes at most [`MAX_PEERS`] connections
//! at once. Pooled buffers are never returned to the allocator. The I/O
//! thread adds a 256 KiB read chunk and a 256 KiB transmit chunk per
//! connection (allocated zeroed too, freed with the connection).
//!
//! Frame bodies of 16 KiB or more are read by the I/O thread into buffers
//! of their own, outside the socket's lock, and handed to the receive
//! without a copy (libzmq reads large bodies into their message the same
//! way): per connection, up to the receive buffer's size of them wait
//! beside the receive buffer (larger backlogs wait in the receive buffer),
//! and up to 4 MiB of buffers given back by [`Socket::recv_into`] are kept
//! per socket for the next bodies.
//!
//! Sent frames of 16 KiB or more (except for PUB, XPUB and XSUB, which send
//! a message to several peers, and over CURVE, whose frames are sealed in
//! the transmit buffer) are copied into buffers of their own before the
//! send takes the socket's lock, and written from there: one copy, as in
//! libzmq. They count against the transmit buffer's size as if they were
//! in it (a message too large for the buffer is refused before anything is
//! copied); up to 4 MiB of written buffers are kept per socket for the
//! next sends, and a connection that ends gives its unwritten ones back
//! at once.
//!
//! Messages a peer sent before its connection ended stay readable after
//! `DISCONNECTED`, as in libzmq; the connection's slot and buffers are freed
//! once they are read (or when the socket closes).
//!
//! ## Security: PLAIN and ZAP
//!
//! A socket is a PLAIN server after [`Socket::set_plain_server`], a PLAIN
//! client after [`Socket::set_plain_username`] /
//! [`Socket::set_plain_password`] (libzmq's `ZMQ_PLAIN_*` options, with
//! their getters and [`Socket::mechanism`]). A PLAIN server asks the
//! context's ZAP handler (RFC 27) about every client, as a NULL socket with
//! a [`Socket::set_zap_domain`] does about every peer. The handler is
//! served as in libzmq: a REP or ROUTER socket of the same context bound to
//! `inproc://zeromq.zap.01` receives the requests (an empty delimiter,
//! `1.0`, request id `1`, the domain, the peer's address, the server
//! socket's own routing id, the mechanism, then the username and password;
//! the address is the IP address without the port, or for IPC
//! `localhost:uid:gid:pid` from `SO_PEERCRED` as libzmq's Linux build
//! writes it)
//! and sends the 7-frame replies; handler code written for libzmq ports
//! over:
//!
//! ```
//! use zmtp_std::{Context, SocketType};
//!
//! let ctx = Context::new()?;
//! let zap = ctx.socket(SocketType::Rep)?;
//! zap.bind("inproc://zeromq.zap.01")?;
//! std::thread::spawn(move || {
//!     while let Ok(req) = zap.recv() {
//!         // "1.0", id, domain, address, identity, mechanism, user, password
//!         let ok = req.get(6..8) == Some(&[b"admin".to_vec(), b"secret".to_vec()][..]);
//!         let status: &[u8] = if ok { b"200" } else { b"400" };
//!         let id = req.get(1).cloned().unwrap_or_default();
//!         let _ = zap.send(&[b"1.0", &id, status, b"", b"admin", b""]);
//!     }
//! });
//! let server = ctx.socket(SocketType::Rep)?;
//! server.set_plain_server(true)?;
//! server.bind("tcp://127.0.0.1:*")?;
//! let client = ctx.socket(SocketType::Req)?;
//! client.set_plain_username(b"admin")?;
//! client.set_plain_password(b"secret")?;
//! client.connect(&server.last_endpoint()?)?;
//! client.send(&[b"hello"])?;
//! assert_eq!(server.recv()?, vec![b"hello".to_vec()]);
//! # Ok::<(), zmtp_std::Error>(())
//! ```
//!
//! The reply goes back to the connection it answers, checked as libzmq
//! checks it: a malformed reply fails the handshake with libzmq's `ZAP_*`
//! protocol error, 300/400/500 with `HANDSHAKE_FAILED_AUTH`. Without a
//! handler a PLAIN server fails every client with
//! `HANDSHAKE_FAILED_NO_DETAIL` `EFAULT` and a NULL socket goes on without
//! ZAP, as in libzmq. The I/O thread never waits for the handler: requests
//! queue for it, at most [`ZAP_QUEUE_CAP`] waiting to be received or
//! answered.
//!
//! ## Differences from libzmq
//!
//! - Only connections whose handshake finished take messages (libzmq's
//!   `ZMQ_IMMEDIATE` behaviour): before the first connection is ready a
//!   blocking send waits and a non-blocking one returns `EAGAIN`, where
//!   libzmq (without `ZMQ_IMMEDIATE`) would queue for the coming peer.
//! - The monitor never blocks the socket: an endpoint queue holds
//!   [`CONSUMER_QUEUE_CAP`] events, then drops and counts
//!   ([`MonitorSocket::dropped`]).
//! - [`Socket::close`] returns at once and lingers in the background, like
//!   `zmq_close`; dropping the last context handle waits for lingering
//!   sockets, like `zmq_ctx_term`.
//! - Bind hosts must be `*` or numeric (libzmq also accepts interface
//!   names). No `inproc://` transport for sockets; `ipc://*` is not
//!   supported. TCP names resolve to IPv4 first, IPv6 literals work without
//!   a `ZMQ_IPV6` option.
//! - Binding `ipc://path` removes a socket file found at `path` (a stale
//!   one, or one another socket listens on, as libzmq does), but no other
//!   kind of file: libzmq unlinks whatever is there.
//! - Only ZMTP 3.x peers (libzmq also speaks ZMTP 1.0 and 2.0), NULL and
//!   PLAIN mechanisms (no CURVE yet).
//! - ZAP: the handler must be a REP or ROUTER socket (libzmq takes any type
//!   bound at `inproc://zeromq.zap.01`); a ROUTER handler sees a fresh
//!   routing id per request (libzmq: one per connection's session). When the
//!   handler closes or unbinds, the requests it has not answered fail at
//!   once as without a handler (libzmq leaves them waiting for the
//!   handshake timer). A request that finds [`ZAP_QUEUE_CAP`] requests
//!   queued is answered as without a handler (libzmq's queue is unbounded).
//! - Message properties ([`Message::property`], libzmq's `zmq_msg_gets`)
//!   come from [`Socket::recv_msg`] and [`Socket::recv_into`] (not
//!   [`Socket::recv`], whose frames are plain vectors), with libzmq 4.3.5's
//!   names and values, but not its private `__fd`. Messages an XPUB
//!   receives from its peers carry none.
//!
//! Unix only (Unix domain sockets, file descriptors as monitor values).

mod bodies;
mod context;
mod endpoint;
mod error;
mod io;
mod metadata;
mod monitor;
mod outgoing;
mod security;
mod socket;
mod sync;
mod time;
mod zap;

pub use context::Context;
pub use error::{Error, Result};
pub use metadata::{IDENTITY, Metadata, PEER_ADDRESS, SOCKET_TYPE, USER_ID};
pub use monitor::{CONSUMER_QUEUE_CAP, MonitorMessage, MonitorSocket};
#[cfg(feature = "curve")]
pub use security::{curve_keypair, curve_public};
pub use socket::{Message, Socket};
pub use zmtp_core::SocketType;
/// A Curve25519 key pair ([`curve_keypair`]).
#[cfg(feature = "curve")]
pub use zmtp_core::conn::CurveKeypair;
pub use zmtp_core::monitor::{EndpointSide, Event, event_id};
pub use zmtp_core::wire::Mechanism;

/// Connections per socket at most (the core's `PEERS`).
pub const MAX_PEERS: usize = 64;
/// Events the core queues per socket between two moves to the monitor
/// endpoint (the core's `EVENTS`).
pub const CORE_EVENTS: usize = 1024;
/// Default receive and transmit buffer size per connection: 4 MiB each.
pub const DEFAULT_BUFFER_SIZE: usize = 4 * 1024 * 1024;
/// ZAP requests a context's handler holds at most, waiting to be received
/// or answered; a request that finds the queue full is answered as if no
/// handler were bound.
pub const ZAP_QUEUE_CAP: usize = 1024;
/// SUB/XSUB subscription store, XPUB subscription message queue (bytes).
const AUX_BUFFER: usize = 1024 * 1024;
