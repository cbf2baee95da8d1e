//! Socket monitoring with libzmq's event model (`zmq_socket_monitor`,
//! `zmq_socket_monitor_versioned`).
//!
//! - [`Event`]: the `ZMQ_EVENT_*` events and their values, with
//!   [`event_id`] constants and [`EventMask`] sets; errno values use the
//!   Linux numbers in [`errno`].
//! - [`EndpointPair`] and [`MonitorEvent`]: the endpoint strings that go with
//!   an event, stored inline.
//! - [`encode_v1`], [`encode_v2_numbers`], [`decode_v1`], [`decode_v2`] and
//!   [`RawMessage`]: libzmq's version 1 and version 2 message layouts, with
//!   every integer little-endian (see the crate docs, "Byte order of monitor
//!   events").
//! - [`EventQueue`]: the fixed-capacity queue between the socket and the
//!   consumer; it drops and counts instead of blocking.
//! - [`Monitor`]: libzmq's start/stop rules around the queue, and the
//!   [`Monitor::record`] entry point for producers.
//!
//! Who emits what: the core emits `HANDSHAKE_*` and `DISCONNECTED`; adapters
//! emit `CONNECTED`, `CONNECT_DELAYED`, `CONNECT_RETRIED` (with the interval
//! from [`crate::reconnect::Backoff`]), `LISTENING`, `BIND_FAILED`,
//! `ACCEPTED`, `ACCEPT_FAILED`, `CLOSED` and `CLOSE_FAILED`.
//!
//! With a PUB monitor socket, a SUB consumer's topic is the first frame: the
//! 8-byte little-endian event id in version 2, the 6-byte id and value
//! header in version 1. Subscribe to `""`, or to a prefix of those bytes
//! (the id's low byte comes first).

pub mod errno;

mod encode;
mod endpoint;
mod event;
mod lifecycle;
mod queue;

pub use encode::{
    DecodeError, EncodeError, Frames, RawMessage, V1_FRAME_COUNT, V1_HEADER_LEN,
    V2_MAX_NUMBER_FRAMES, V2_NUMBER_LEN, decode_v1, decode_v2, encode_v1, encode_v2_numbers,
};
pub use endpoint::{
    DEFAULT_ENDPOINT_CAPACITY, EndpointPair, EndpointSide, EventVersion, MonitorEvent,
};
pub use event::{Event, EventMask, event_id};
pub use lifecycle::{Monitor, MonitorError};
pub use queue::EventQueue;
