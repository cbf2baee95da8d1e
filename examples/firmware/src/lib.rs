//! What the size firmware binaries share: a socket driven the way an
//! adapter would drive it (bytes in, bytes out, timers, send, receive,
//! monitor events encoded in libzmq's v1 layout, closes, ZAP requests
//! answered). `black_box` keeps the optimiser from removing anything that
//! depends on the network.
#![no_std]

use core::hint::black_box;
use zmtp_core::Instant;
use zmtp_core::conn::Config;
use zmtp_core::monitor::{EndpointPair, Event, EventMask, EventVersion};
use zmtp_core::socket::{AttachError, PeerBuffers, PeerHandle, Socket};

/// The size firmware's socket: one peer, 8 queued monitor events, 48-byte
/// endpoint strings.
pub type SizeSocket<'a> = Socket<'a, 1, 8, 48>;

/// Runs a one-peer socket with `config` for ever. `attach` attaches the
/// peer's buffers (with whatever a mechanism needs besides); `zap` answers
/// the ZAP requests of the socket's handshakes (a firmware that never
/// consults ZAP passes a closure that does nothing).
#[inline(always)]
pub fn run<'a>(
    config: Config,
    bufs: PeerBuffers<'a>,
    attach: impl FnOnce(
        &mut SizeSocket<'a>,
        PeerBuffers<'a>,
        EndpointPair<48>,
    ) -> Result<PeerHandle, AttachError>,
    mut zap: impl FnMut(&mut SizeSocket<'a>, Instant),
) -> ! {
    let mut socket: SizeSocket<'a> = Socket::new(config, &mut []);
    let _ = socket
        .monitor_mut()
        .start("inproc://monitor", EventMask::ALL, EventVersion::V1);
    let endpoints = EndpointPair::connect_pair("tcp://10.0.0.2:40000", "tcp://10.0.0.1:5555");
    socket
        .monitor_mut()
        .record(Event::Connected { fd: 1 }, endpoints.clone());
    let Ok(peer) = attach(&mut socket, bufs, endpoints) else {
        loop {
            cortex_m::asm::wfi();
        }
    };
    let mut input = [0u8; 256];
    let mut output = [0u8; 256];
    let mut frame = [0u8; 128];
    let mut ms = 0u64;
    loop {
        ms = ms.wrapping_add(1);
        let now = Instant::from_millis(black_box(ms));
        let len = black_box(input.len());
        let _ = socket.handle_input(now, peer, black_box(&input[..len]));
        zap(&mut socket, now);
        let n = socket.poll_transmit(now, peer, &mut output);
        black_box(&output[..n]);
        if socket.poll_timeout().is_some_and(|t| t <= now) {
            socket.handle_timeout(now);
        }
        let _ = socket.send(&[black_box(b"ping")]);
        if let Ok(info) = socket.recv(&mut frame) {
            black_box(info);
        }
        while let Some(e) = socket.monitor_mut().pop() {
            let raw = e.raw(EventVersion::V1);
            for f in raw.frames() {
                black_box(f);
            }
        }
        if let Some((p, reason)) = socket.poll_closed() {
            black_box((p, reason.should_reconnect()));
        }
        black_box(&mut input);
    }
}
