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

use zmtp_std::{Context, MonitorMessage, MonitorSocket, Socket, SocketType};

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

/// The 64-byte ZMTP 3.1 greeting of a NULL peer, as libzmq sends it (for
/// raw peers written by hand).
pub fn null_greeting() -> Vec<u8> {
    let mut g = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1];
    let mut mechanism = b"NULL".to_vec();
    mechanism.resize(20, 0);
    g.extend(mechanism);
    g.push(0);
    g.extend([0u8; 31]);
    g
}

/// A NULL READY command frame announcing `socket_type`.
pub fn ready(socket_type: &str) -> Vec<u8> {
    let mut body = vec![5];
    body.extend(b"READY");
    body.push(11);
    body.extend(b"Socket-Type");
    body.extend(u32::try_from(socket_type.len()).unwrap().to_be_bytes());
    body.extend(socket_type.as_bytes());
    let mut f = vec![0x04, u8::try_from(body.len()).unwrap()];
    f.extend(body);
    f
}

/// [`null_greeting`] then [`ready`]: all a raw NULL peer of `socket_type`
/// sends for its handshake.
pub fn null_handshake(socket_type: &str) -> Vec<u8> {
    let mut g = null_greeting();
    g.extend(ready(socket_type));
    g
}

/// `n` bytes that differ with `seed` and along the body (a chunk of one
/// body moved elsewhere in it, or a body of another message, shows).
pub fn pat(seed: u32, n: usize) -> Vec<u8> {
    let s = seed.wrapping_mul(0x9E37_79B9) ^ 0x5bd1_e995;
    (0..n)
        .map(|i| {
            let x = (i as u32).wrapping_add(s).wrapping_mul(0x85EB_CA6B);
            ((x ^ (x >> 13) ^ (i as u32 >> 12)) >> 7) as u8
        })
        .collect()
}

/// Panics with sizes and the first differing offset rather than megabytes
/// of bytes.
#[track_caller]
pub fn same(got: &[Vec<u8>], want: &[Vec<u8>], what: &str) {
    let sizes = |m: &[Vec<u8>]| m.iter().map(Vec::len).collect::<Vec<_>>();
    assert_eq!(sizes(got), sizes(want), "{what}: frame sizes");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if g != w {
            let at = g.iter().zip(w).position(|(a, b)| a != b).unwrap_or(0);
            panic!("{what}: frame {i} of {} bytes differs at {at}", w.len());
        }
    }
}

/// The frames of `m` as slices, for `send`.
pub fn refs(m: &[Vec<u8>]) -> Vec<&[u8]> {
    m.iter().map(Vec::as_slice).collect()
}

/// One of our sockets with send and receive timeouts of [`WAIT`] and no
/// linger.
pub fn ours(ctx: &Context, t: SocketType) -> Socket {
    let ms = i32::try_from(WAIT.as_millis()).unwrap();
    let s = ctx.socket(t).unwrap();
    s.set_rcvtimeo(ms).unwrap();
    s.set_sndtimeo(ms).unwrap();
    s.set_linger(0).unwrap();
    s
}

/// Binds `s` to `ep` and returns the endpoint it got.
pub fn bind(s: &Socket, ep: &str) -> String {
    s.bind(ep).unwrap_or_else(|e| panic!("bind {ep}: {e}"));
    s.last_endpoint().unwrap()
}
