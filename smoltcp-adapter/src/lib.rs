//! # zmtp-smoltcp
//!
//! Drives [`zmtp_core`] ZeroMQ sockets over [`smoltcp`] TCP sockets:
//! `no_std`, no `alloc`, no `unsafe`, no panics of its own, and no protocol
//! logic (that stays in the core). It adds what the core leaves to a
//! transport: listening and accepting, connecting and reconnecting with
//! libzmq's back-off, the transport's monitor events at the moments libzmq
//! raises them, the next deadline so a firmware can sleep, and remote
//! monitoring over ZMTP.
//!
//! ## smoltcp version
//!
//! This crate uses **smoltcp 0.13** (features `medium-ethernet`,
//! `medium-ip`, `proto-ipv4`, `socket-tcp`; `proto-ipv6` behind this
//! crate's feature of that name), the minor version embassy-net 0.9.1
//! uses, so a firmware can use both. smoltcp 0.13 needs Rust 1.91.
//!
//! ## Layers
//!
//! | item | what it does |
//! |---|---|
//! | [`ZmtpSocket`] | one core [`Socket`](zmtp_core::socket::Socket) over `PEERS` TCP slots: [`bind`](ZmtpSocket::bind), [`connect`](ZmtpSocket::connect), monitor events, reconnects |
//! | [`MonitorPublisher`] | publishes monitor events (libzmq's v2 layout) on an XPUB socket for a remote subscriber |
//! | [`poll`], [`Drive`] | one turn of the network for any number of sockets sharing an interface |
//! | [`Resources`], [`SlotBuffers`] | caller-provided memory, const-generic sizes |
//! | [`time`] | smoltcp ↔ core clock conversion |
//! | [`endpoint`] | endpoint strings in libzmq's format |
//!
//! ## Shape
//!
//! As with embassy-net's `StackResources`, all memory comes from the
//! caller, typically `static`s: the TCP rings and the core's per-peer
//! queues of every slot ([`Resources`] or hand-made [`SlotBuffers`]), the
//! core socket's `aux` buffer, and smoltcp's `SocketSet` storage (one entry
//! per slot). Capacities are const generics. There is no `Runner` task:
//! without an executor the application and the network share one loop.
//!
//! ## The loop
//!
//! ```text
//! loop {
//!     let now = clock();                       // smoltcp::time::Instant
//!     let next = zmq.poll(now, &mut iface, &mut device, &mut sockets);
//!     while let Some(ev) = zmq.socket_mut().monitor_mut().pop() { log(ev) }
//!     if let Ok(info) = zmq.socket_mut().recv(&mut buf) { ... }  // then poll again
//!     sleep_until(next, or a packet arrives);
//! }
//! ```
//!
//! [`ZmtpSocket::poll`] services the socket, polls the interface, services
//! again and polls again, then returns the earliest of smoltcp's
//! `poll_at`, the core's `poll_timeout`, and this crate's timers (reconnect,
//! connect timeout, linger). With several sockets on one interface use
//! [`poll`] with all of them. Call it again after `send`/`recv` so that
//! output goes out and held-back input comes in.
//!
//! ## Example
//!
//! Two DEALER sockets on one smoltcp interface (here smoltcp's
//! `phy::Loopback` on a host; on a board, the NIC driver and `static`
//! buffers):
//!
//! ```
//! use smoltcp::iface::{Config as IfaceConfig, Interface, SocketSet};
//! use smoltcp::phy::{Loopback, Medium};
//! use smoltcp::time::{Duration, Instant};
//! use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, IpEndpoint};
//! use zmtp_core::{conn::Config, socket::Socket, SocketType};
//! use zmtp_core::monitor::{EventMask, EventVersion};
//! use zmtp_smoltcp::{poll, Options, Resources, ZmtpSocket};
//!
//! let mut device = Loopback::new(Medium::Ip);
//! let mut iface = Interface::new(IfaceConfig::new(HardwareAddress::Ip), &mut device, Instant::ZERO);
//! iface.update_ip_addrs(|a| a.push(IpCidr::new(IpAddress::v4(127, 0, 0, 1), 8)).unwrap());
//! let mut sockets = SocketSet::new(vec![]);
//!
//! let mut server_mem: Resources<2, 2048, 2048> = Resources::new();
//! let mut client_mem: Resources<1, 2048, 2048> = Resources::new();
//! let mut server: ZmtpSocket<2> = ZmtpSocket::new(
//!     Socket::new(Config::new(SocketType::Dealer), &mut []),
//!     server_mem.slots(), &mut sockets, Options::default(), 0x1234,
//! ).unwrap();
//! let mut client: ZmtpSocket<1> = ZmtpSocket::new(
//!     Socket::new(Config::new(SocketType::Dealer), &mut []),
//!     client_mem.slots(), &mut sockets, Options::default(), 0x5678,
//! ).unwrap();
//! client.socket_mut().monitor_mut()
//!     .start("inproc://monitor", EventMask::ALL, EventVersion::V1).unwrap();
//!
//! server.bind(5555, &mut sockets).unwrap();
//! client.connect(IpEndpoint::new(IpAddress::v4(127, 0, 0, 1), 5555)).unwrap();
//! client.socket_mut().send(&[b"hello"]).ok(); // WouldBlock: no peer yet
//!
//! let mut now = Instant::ZERO;
//! let mut buf = [0u8; 64];
//! for _ in 0..100 {
//!     let next = poll(now, &mut iface, &mut device, &mut sockets, &mut [&mut server, &mut client]);
//!     if client.socket().ready_peers() == 1 && client.socket_mut().send(&[b"hello"]).is_ok() {
//!         break;
//!     }
//!     // A board sleeps until `next` or a packet; here time just jumps.
//!     now = next.map_or(now + Duration::from_millis(1), |t| t.max(now + Duration::from_millis(1)));
//! }
//! for _ in 0..10 {
//!     poll(now, &mut iface, &mut device, &mut sockets, &mut [&mut server, &mut client]);
//! }
//! let info = server.socket_mut().recv(&mut buf).unwrap();
//! assert_eq!(&buf[..info.len], b"hello");
//! let names: Vec<_> = std::iter::from_fn(|| client.socket_mut().monitor_mut().pop())
//!     .map(|e| e.event.name())
//!     .collect();
//! assert_eq!(names, ["CONNECT_DELAYED", "CONNECTED", "HANDSHAKE_SUCCEEDED"]);
//! ```
//!
//! ## Monitor events
//!
//! See the [`socket`] module for the table of events this crate raises,
//! their values (a stable per-connection handle where libzmq reports a
//! file descriptor, Linux errno numbers where it reports errno) and
//! endpoint strings. The core raises `HANDSHAKE_*` and `DISCONNECTED`.
//!
//! ## Authentication (PLAIN, CURVE, ZAP)
//!
//! Security mechanisms are the core's (`Config::mechanism`). CURVE (feature
//! `curve`) also needs CURVE state storage per slot and the board's
//! cryptographic random source: build the socket with
//! `ZmtpSocket::new_curve`. A handshake
//! that consults ZAP (RFC 27: a PLAIN server always, a NULL socket with a
//! ZAP domain) waits for an answer. With [`Options::zap_handler`] set, the
//! application is the handler: it takes each request from
//! [`ZmtpSocket::poll_zap_request`] (the peer's IP address for the address
//! frame is filled in) and answers through the core socket
//! (`handle_zap_reply`, `handle_zap_reply_frames`); the connection's input
//! waits in its TCP ring meanwhile. Without it (the default), the adapter
//! answers like libzmq with nothing bound at `inproc://zeromq.zap.01`.
//!
//! ## Randomness
//!
//! [`ZmtpSocket::new`] takes a `u32` seed for a small xorshift generator
//! that stands for libzmq's `random()`: reconnect jitter (with the default
//! `reconnect_ivl_max` of 0), ephemeral ports, ROUTER's first routing id.
//! Use a hardware random number or a per-device value.
#![no_std]
#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]
#![cfg_attr(test, allow(clippy::indexing_slicing, clippy::arithmetic_side_effects))]

#[cfg(test)]
extern crate std;

#[macro_use]
mod fmt;

pub mod endpoint;
pub mod publisher;
mod resources;
mod rng;
pub mod socket;
pub mod time;

pub use publisher::{MonitorPublisher, NotXPub};
pub use resources::{Resources, SlotBuffers};
pub use socket::{
    BindError, ConnectError, Drive, NotFound, Options, ZapAddress, ZapQuery, ZmtpSocket, poll,
};

/// The smoltcp this crate is built against.
pub use smoltcp;
/// The core this crate drives.
pub use zmtp_core;
