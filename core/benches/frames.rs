//! Frame decode and encode throughput through [`Connection`], the path a
//! real adapter drives: decoding is `handle_input` over 64 KiB reads of a
//! wire stream followed by `front_frame`/`pop_frame` (what a socket's
//! receive does); encoding is `send` of a batch of messages followed by
//! `poll_transmit` into 64 KiB chunks until nothing is left. Throughput is
//! counted in message body bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark set-up: a failure must stop the run"
)]

mod util;

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use util::{CHUNK, T0, drain, pump, ready_pair, wire_stream};

/// Frame body sizes: 10 B, 1 KiB, 1 MiB.
const SIZES: [usize; 3] = [10, 1024, 1024 * 1024];

/// Receive and transmit buffers: room for a 1 MiB frame and a batch.
const BUF: usize = 2 * 1024 * 1024 + CHUNK;

/// Messages per measured batch: about 160 KiB of bodies, at least one.
fn batch(size: usize) -> usize {
    (160 * 1024 / size).clamp(1, 16 * 1024)
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    for size in SIZES {
        let count = batch(size);
        let (mut tx, mut rx) = ready_pair(BUF, BUF);
        let stream = wire_stream(&mut tx, size, count);
        g.throughput(Throughput::Bytes((size * count) as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &stream, |b, stream| {
            b.iter(|| {
                let mut bodies = 0usize;
                for piece in stream.chunks(CHUNK) {
                    let mut rest = piece;
                    while !rest.is_empty() {
                        let used = rx.handle_input(T0, rest);
                        let popped = drain(&mut rx);
                        assert!(used > 0 || popped > 0, "decoder stalled");
                        bodies += popped;
                        rest = &rest[used..];
                    }
                }
                bodies += drain(&mut rx);
                assert_eq!(bodies, size * count);
                black_box(bodies)
            });
        });
    }
    g.finish();
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    for size in SIZES {
        let count = batch(size);
        let (mut tx, _rx) = ready_pair(BUF, BUF);
        let body = vec![0x5Au8; size];
        let mut out = vec![0u8; CHUNK];
        g.throughput(Throughput::Bytes((size * count) as u64));
        g.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| {
                for _ in 0..count {
                    tx.send(&[black_box(&body)]).expect("send");
                }
                let wire = pump(
                    &mut out,
                    |b| tx.poll_transmit(T0, b),
                    |piece| {
                        black_box(piece);
                    },
                );
                black_box(wire)
            });
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = util::criterion(3);
    targets = decode, encode
}
criterion_main!(benches);
