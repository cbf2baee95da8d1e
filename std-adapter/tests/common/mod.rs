//! Helpers shared by the integration tests: bounded waits on monitor
//! events and messages (generous timeouts, never a fixed sleep as the
//! success condition).
#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use core::time::Duration;

use zmtp_std::{MonitorMessage, MonitorSocket, Socket};

/// How long a test waits for something that must happen.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long a test waits to make sure something does not happen.
pub const QUIET: Duration = Duration::from_millis(300);

/// The next event, failing the test if none comes within [`WAIT`].
#[track_caller]
pub fn next(mon: &MonitorSocket) -> MonitorMessage {
    match mon.recv_event(Some(WAIT)) {
        Ok(m) => m,
        Err(e) => panic!("no monitor event within {WAIT:?}: {e}"),
    }
}

/// The next event, which must be `name`.
#[track_caller]
pub fn expect(mon: &MonitorSocket, name: &str) -> MonitorMessage {
    let m = next(mon);
    assert_eq!(m.name(), name, "unexpected event {m:?}");
    m
}

/// Skips an optional event: returns the next event that is not `optional`.
#[track_caller]
pub fn expect_after_optional(mon: &MonitorSocket, optional: &str, name: &str) -> MonitorMessage {
    let mut m = next(mon);
    if m.name() == optional {
        m = next(mon);
    }
    assert_eq!(m.name(), name, "unexpected event {m:?}");
    m
}

/// Asserts that no event arrives within [`QUIET`].
#[track_caller]
pub fn expect_quiet(mon: &MonitorSocket) {
    if let Ok(m) = mon.recv_event(Some(QUIET)) {
        panic!("unexpected event {m:?}");
    }
}

/// Receives a message within [`WAIT`].
#[track_caller]
pub fn recv(s: &Socket) -> Vec<Vec<u8>> {
    match s.recv_timeout(WAIT) {
        Ok(m) => m,
        Err(e) => panic!("no message within {WAIT:?}: {e}"),
    }
}

/// Sets a send timeout of [`WAIT`] and sends.
#[track_caller]
pub fn send(s: &Socket, parts: &[&[u8]]) {
    s.set_sndtimeo(i32::try_from(WAIT.as_millis()).unwrap())
        .unwrap();
    if let Err(e) = s.send(parts) {
        panic!("send failed: {e}");
    }
}

/// A unique path for an IPC socket file in the temp directory.
pub fn ipc_path(tag: &str) -> String {
    let dir = std::env::temp_dir();
    let unique = format!(
        "zmtp-std-{}-{}-{}",
        std::process::id(),
        tag,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    format!("ipc://{}", dir.join(unique).display())
}
