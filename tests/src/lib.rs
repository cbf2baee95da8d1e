//! # zmtp-tests
//!
//! Cross-crate tests that hold `zmtp-core` against a real libzmq.
//!
//! libzmq is the judge of correctness for ZMTP. This package links libzmq
//! 4.3.4 through the `zmq` crate, which builds it from source (no system
//! package), talks to it over TCP on `127.0.0.1` from a raw
//! [`std::net::TcpStream`], and records byte for byte what libzmq writes:
//! its greeting, its READY command, heartbeats, subscriptions and data
//! frames.
//!
//! - [`capture`] performs those live captures. Every function binds a
//!   libzmq socket on `tcp://127.0.0.1:*` (port 0), connects a
//!   [`RawPeer`], plays the other side with bytes built by [`raw`] (written
//!   from the RFCs, independent of `zmtp-core`), and returns the bytes
//!   libzmq sent.
//! - The `capture` binary (`cargo run -p zmtp-tests --bin capture`) prints
//!   every capture as a Rust byte-array literal. Its output is kept in
//!   `captures/libzmq-4.3.4.txt` so unit tests in `zmtp-core` can quote the
//!   vectors.
//! - `tests/wire_vs_libzmq.rs` repeats the captures live and asserts that
//!   `zmtp_core::wire` emits the same bytes, and the reverse: libzmq accepts
//!   a greeting, READY, subscriptions, heartbeats and messages emitted by
//!   `zmtp_core::wire`.
//!
//! Every read waits with a timeout ([`READ_TIMEOUT`]); no step sleeps and
//! no loop is unbounded. Only loopback addresses and port 0 are used.

pub mod capture;
pub mod peer;
pub mod raw;

pub use capture::Capture;
pub use peer::{RawFrame, RawPeer};

use core::fmt;
use core::time::Duration;

/// How long any single read from libzmq may take before the step fails.
/// Generous, because a loaded machine may schedule libzmq's I/O thread
/// late; a passing step returns as soon as the bytes arrive.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a peer must stay silent for [`RawPeer::is_quiet_for`] to say
/// that libzmq sent nothing more (used only to show libzmq's staged
/// greeting: a false "quiet" is impossible, a late byte only fails the
/// check).
pub const QUIET_WINDOW: Duration = Duration::from_millis(100);

/// A failure while talking to libzmq.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A socket call failed.
    Io(std::io::Error),
    /// A libzmq call failed.
    Zmq(zmq::Error),
    /// Nothing (or not enough) arrived within [`READ_TIMEOUT`].
    Timeout(&'static str),
    /// libzmq closed the connection.
    Closed(&'static str),
    /// libzmq sent or reported something other than expected.
    Unexpected(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "socket error: {e}"),
            Self::Zmq(e) => write!(f, "libzmq error: {e}"),
            Self::Timeout(what) => write!(f, "timed out waiting for {what}"),
            Self::Closed(what) => {
                write!(f, "libzmq closed the connection while waiting for {what}")
            }
            Self::Unexpected(what) => write!(f, "unexpected: {what}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Zmq(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<zmq::Error> for Error {
    fn from(e: zmq::Error) -> Self {
        Self::Zmq(e)
    }
}

/// The result of a step that talks to libzmq.
pub type Result<T> = core::result::Result<T, Error>;
