//! A DEALER socket with the NULL mechanism and a monitor, driven the way an
//! adapter would: bytes in, bytes out, timers, send, receive, and monitor
//! events encoded in libzmq's v1 layout. `black_box` keeps the optimiser from
//! removing anything that depends on the network.
#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::entry;
use panic_halt as _;
use zmtp_core::conn::Config;
use zmtp_core::monitor::{EndpointPair, Event, EventMask, EventVersion};
use zmtp_core::socket::{PeerBuffers, Socket};
use zmtp_core::{Instant, SocketType};

#[entry]
fn main() -> ! {
    let mut rx = [0u8; 1024];
    let mut tx = [0u8; 1024];
    let mut socket: Socket<'_, 1, 8, 48> = Socket::new(Config::new(SocketType::Dealer), &mut []);
    let _ = socket
        .monitor_mut()
        .start("inproc://monitor", EventMask::ALL, EventVersion::V1);
    let endpoints = EndpointPair::connect_pair("tcp://10.0.0.2:40000", "tcp://10.0.0.1:5555");
    socket
        .monitor_mut()
        .record(Event::Connected { fd: 1 }, endpoints.clone());
    let Ok(peer) = socket.attach(
        Instant::ZERO,
        PeerBuffers {
            rx: &mut rx,
            tx: &mut tx,
            subs: &mut [],
        },
        1,
        endpoints,
    ) else {
        loop {}
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
