//! # zmtp-core
//!
//! A `no_std`, allocation-free, sans-IO implementation of ZMTP 3.0 / 3.1
//! (ZeroMQ's wire protocol, RFC 23 and RFC 37) with socket monitoring that
//! follows libzmq's `zmq_socket_monitor` event model.
//!
//! ## Layers
//!
//! | module | what it does | state | time |
//! |---|---|---|---|
//! | [`wire`] | zero-copy views and validated representations of greetings, frames, commands and metadata | none | none |
//! | [`monitor`] | libzmq's event model, the v1/v2 monitor encoders and decoders, a fixed-capacity event queue | queue | none |
//! | [`reconnect`] | libzmq 4.3.5's reconnect interval arithmetic (the CONNECT_RETRIED value) | per connecter | none |
//! | [`queue`] | a record ring over caller-provided memory, used for per-peer message queues | ring | none |
//! | [`conn`] | one ZMTP peer: greeting, mechanism handshake, framing, heartbeats | per peer | argument |
//! | [`socket`] | socket patterns (PAIR, DEALER, ROUTER, REQ, REP, PUB, SUB, XPUB, XSUB, PUSH, PULL) over a fixed number of peers | per socket | argument |
//!
//! Dependencies point one way: `wire` ← `monitor` ← `conn` ← `socket`.
//!
//! ## Sans-IO
//!
//! The core never reads a clock, never does I/O, never allocates and never
//! panics. Every call that depends on time takes a [`time::Instant`]. An
//! adapter (`zmtp-std`, `zmtp-smoltcp`) moves bytes between the transport and
//! the core and drives timers.
//!
//! ## Byte order of monitor events
//!
//! libzmq writes monitor integers in host byte order. Every host and board
//! this crate targets (x86-64, AArch64, Cortex-M) is little-endian, so this
//! crate fixes the order to little-endian: events forwarded from a board to a
//! desktop decode the same, and the bytes equal libzmq's on those hosts.
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

#[cfg(all(feature = "defmt", feature = "log"))]
compile_error!("the `defmt` and `log` features are mutually exclusive");

#[macro_use]
mod fmt;

pub mod conn;
pub mod error;
pub mod monitor;
pub mod queue;
pub mod reconnect;
pub mod socket;
pub mod socket_type;
pub mod time;
pub mod wire;
pub mod z85;

pub use error::ProtocolError;
pub use socket_type::SocketType;
pub use time::{Duration, Instant};
