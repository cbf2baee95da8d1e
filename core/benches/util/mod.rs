//! Set-up shared by the core benchmarks: connections driven in memory, the
//! way an adapter drives them (64 KiB per read and per transmit call, as
//! `zmtp-std` does), on a fixed clock.
#![allow(dead_code, reason = "each benchmark uses part of the helpers")]

use zmtp_core::conn::{Config, Connection};
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

/// Moves everything `from` has to send into `to` through `buf`; returns the
/// bytes moved.
pub(crate) fn shuttle(from: &mut Connection<'_>, to: &mut Connection<'_>, buf: &mut [u8]) -> usize {
    let mut moved = 0;
    loop {
        let n = from.poll_transmit(T0, buf);
        if n == 0 {
            return moved;
        }
        let used = to.handle_input(T0, &buf[..n]);
        assert_eq!(used, n, "the peer held input back");
        moved += n;
    }
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
