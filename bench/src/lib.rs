//! # zmtp-bench
//!
//! Throughput and latency of `zmtp-std` next to libzmq (through the `zmq`
//! crate) and zmq.rs (crate `zeromq`, on tokio), measured with libzmq's
//! perf-tool conventions so the figures compare with the ones people know:
//!
//! - `local_thr <bind-ep> <size> <count>` binds a PULL socket, receives
//!   `count` messages of `size` bytes and prints the throughput, timed from
//!   the first message to the last (`msg/s = count / elapsed`, libzmq's
//!   formula); `remote_thr <connect-ep> <size> <count>` connects a PUSH
//!   socket and sends them.
//! - `local_lat <bind-ep> <size> <roundtrips>` binds a REP socket and echoes;
//!   `remote_lat <connect-ep> <size> <roundtrips>` connects a REQ socket and
//!   prints the one-way latency, `elapsed / (2 x roundtrips)`.
//!
//! Each takes `--stack ours|libzmq|zmqrs|raw|raw-batch` (default `ours`);
//! `raw` is plain TCP or Unix-socket streaming without ZMTP, one write per
//! message, the reference a messaging stack can at best reach; `raw-batch`
//! the same with several messages per write, as a stack that coalesces
//! them into large writes can. The `sweep` program runs every
//! combination in separate processes and prints tables of medians (see
//! `bench/README.md`).

pub mod cli;
pub mod libzmq;
pub mod ours;
pub mod raw;
pub mod report;
pub mod sweep;
pub mod zmqrs;

/// What a tool run returns on failure: a message for the user.
pub type Result<T> = core::result::Result<T, String>;

/// Prints the endpoint a local tool bound (resolved, for `tcp://…:*`), the
/// line the sweep waits for before it starts the remote side.
pub fn announce(endpoint: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}{endpoint}", report::BOUND_PREFIX);
    let _ = out.flush();
}

/// Checks a received message: one frame of `size` bytes.
///
/// # Errors
///
/// A message for the user when the size differs (libzmq's tools stop with
/// "message of incorrect size received").
pub fn check_size(got: usize, size: usize) -> Result<()> {
    if got == size {
        Ok(())
    } else {
        Err(format!(
            "message of incorrect size received: {got} bytes, expected {size}"
        ))
    }
}
