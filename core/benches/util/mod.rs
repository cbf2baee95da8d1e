//! Set-up shared by the core benchmarks: connections driven in memory, the
//! way an adapter drives them (64 KiB per read and per transmit call, as
//! `zmtp-std` does), on a fixed clock.
#![allow(dead_code, reason = "each benchmark uses part of the helpers")]

use zmtp_core::conn::{Config, Connection, SendError};
use zmtp_core::{Instant, SocketType};

/// criterion's settings for the core benchmarks: a one-second warm-up and
/// `measure_secs` of measurement per benchmark.
pub(crate) fn criterion(measure_secs: u64) -> criterion::Criterion {
    criterion::Criterion::default()
        .warm_up_time(core::time::Duration::from_secs(1))
        .measurement_time(core::time::Duration::from_secs(measure_secs))
}

/// The instant every benchmark runs at (no timer ever fires).
pub(crate) const T0: Instant = Instant::from_millis(1_000);

/// Bytes per transport read and per transmit call (the std adapter's).
pub(crate) const CHUNK: usize = 64 * 1024;

/// libzmq's defaults for `t` without the message-count HWMs, so that only
/// the buffers bound a batch.
pub(crate) fn config(t: SocketType) -> Config {
    let mut c = Config::new(t);
    c.sndhwm = 0;
    c.rcvhwm = 0;
    c
}

/// A zeroed buffer for the rest of the process.
pub(crate) fn leak(n: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; n].into_boxed_slice())
}

/// Calls `poll` (a `poll_transmit`) into `buf` until it has nothing more,
/// handing each piece to `take`; returns the bytes taken.
pub(crate) fn pump(
    buf: &mut [u8],
    mut poll: impl FnMut(&mut [u8]) -> usize,
    mut take: impl FnMut(&[u8]),
) -> usize {
    let mut moved = 0;
    loop {
        let n = poll(buf);
        if n == 0 {
            return moved;
        }
        take(&buf[..n]);
        moved += n;
    }
}

/// Moves everything `from` has to send into `to` through `buf`; returns the
/// bytes moved.
pub(crate) fn shuttle(from: &mut Connection<'_>, to: &mut Connection<'_>, buf: &mut [u8]) -> usize {
    pump(
        buf,
        |b| from.poll_transmit(T0, b),
        |piece| {
            let used = to.handle_input(T0, piece);
            assert_eq!(used, piece.len(), "the peer held input back");
        },
    )
}

/// Everything `tx` transmits after `count` messages of `size` bytes
/// (taking its output whenever its transmit buffer is full).
pub(crate) fn wire_stream(tx: &mut Connection<'_>, size: usize, count: usize) -> Vec<u8> {
    let body = vec![0xA5u8; size];
    let mut out = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    let mut flush = |tx: &mut Connection<'_>, out: &mut Vec<u8>| {
        pump(
            &mut chunk,
            |b| tx.poll_transmit(T0, b),
            |piece| out.extend_from_slice(piece),
        );
    };
    for _ in 0..count {
        match tx.send(&[&body]) {
            Ok(()) => {}
            Err(SendError::Full) => {
                flush(tx, &mut out);
                tx.send(&[&body]).expect("send after flush");
            }
            Err(e) => panic!("send: {e}"),
        }
    }
    flush(tx, &mut out);
    out
}

/// Runs greeting and READY both ways until neither side has more to say.
pub(crate) fn handshake(a: &mut Connection<'_>, b: &mut Connection<'_>, buf: &mut [u8]) {
    for _ in 0..16 {
        let moved = shuttle(a, b, buf) + shuttle(b, a, buf);
        if moved == 0 {
            break;
        }
    }
    assert!(a.is_ready() && b.is_ready(), "handshake did not finish");
}

/// Drops every complete frame waiting in `c`'s receive queue; returns the
/// body bytes dropped.
pub(crate) fn drain(c: &mut Connection<'_>) -> usize {
    let mut bytes = 0;
    while let Some((_, body)) = c.front_frame() {
        bytes += body.len();
        c.pop_frame();
    }
    bytes
}

/// A PUSH and a PULL connection after the handshake, with their events and
/// the metadata records consumed: `(sender, receiver)`.
pub(crate) fn ready_pair(
    rx_len: usize,
    tx_len: usize,
) -> (Connection<'static>, Connection<'static>) {
    let mut push =
        Connection::new(T0, &config(SocketType::Push), leak(rx_len), leak(tx_len)).expect("sender");
    let mut pull = Connection::new(T0, &config(SocketType::Pull), leak(rx_len), leak(tx_len))
        .expect("receiver");
    let mut buf = vec![0u8; CHUNK];
    handshake(&mut push, &mut pull, &mut buf);
    for c in [&mut push, &mut pull] {
        while c.poll_event().is_some() {}
        drain(c);
    }
    (push, pull)
}
