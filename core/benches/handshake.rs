//! The greeting and NULL READY handshake between two fresh [`Connection`]s
//! (DEALER to DEALER, so both READY commands carry an Identity), from
//! `Connection::new` until both sides reported `HandshakeSucceeded`. The
//! buffers are reused; the bytes move through a 256-byte transfer buffer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark set-up: a failure must stop the run"
)]

mod util;

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use util::{T0, config, shuttle};
use zmtp_core::SocketType;
use zmtp_core::conn::{ConnEvent, Connection};

fn succeeded(c: &mut Connection<'_>) -> bool {
    let mut ok = false;
    while let Some(e) = c.poll_event() {
        ok |= e == ConnEvent::HandshakeSucceeded;
    }
    ok
}

fn handshake(c: &mut Criterion) {
    let cfg = config(SocketType::Dealer);
    let (mut rx_a, mut tx_a) = (vec![0u8; 4096], vec![0u8; 4096]);
    let (mut rx_b, mut tx_b) = (vec![0u8; 4096], vec![0u8; 4096]);
    let mut buf = [0u8; 256];
    c.bench_function("handshake/null_dealer_dealer", |b| {
        b.iter(|| {
            let mut a = Connection::new(T0, &cfg, &mut rx_a, &mut tx_a).expect("a");
            let mut z = Connection::new(T0, &cfg, &mut rx_b, &mut tx_b).expect("b");
            let (mut a_ok, mut z_ok) = (false, false);
            let mut rounds = 0;
            while !(a_ok && z_ok) {
                shuttle(&mut a, &mut z, &mut buf);
                shuttle(&mut z, &mut a, &mut buf);
                a_ok |= succeeded(&mut a);
                z_ok |= succeeded(&mut z);
                rounds += 1;
                assert!(rounds < 16, "handshake did not finish");
            }
            black_box((a.is_ready(), z.is_ready()))
        });
    });
}

criterion_group!(benches, handshake);
criterion_main!(benches);
