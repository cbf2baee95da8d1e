//! Per-message cost of the socket layer over the connection: a PULL
//! [`Socket`] (64 peer slots and 1024 events, as `zmtp-std` builds it) fed
//! a wire stream of small messages through `Socket::handle_input` in 64 KiB
//! pieces and read with `Socket::recv_with`, with 1 and with 8 peers
//! attached (fair queueing over the peers); and a PUSH socket sending with
//! `Socket::send` and taking the output with `Socket::poll_transmit`.
//! Throughput is counted in messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark set-up: a failure must stop the run"
)]

mod util;

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use util::{CHUNK, T0, config, leak, pump, wire_stream};
use zmtp_core::SocketType;
use zmtp_core::conn::Connection;
use zmtp_core::monitor::EndpointPair;
use zmtp_core::socket::{PeerBuffers, PeerHandle, Socket};

/// The socket `zmtp-std` wraps.
type StdSocket = Socket<'static, 64, 1024, 64>;

/// Messages per measured batch, per peer.
const BATCH: usize = 4096;

/// Receive and transmit buffers per peer: a batch of small messages.
const BUF: usize = 1024 * 1024;

/// Message body sizes.
const SIZES: [usize; 2] = [10, 100];

/// A socket of type `t` with `peers` peers attached and past the handshake,
/// each peer's remote end a connection of type `remote`.
fn socket_with(
    t: SocketType,
    remote: SocketType,
    peers: usize,
) -> (StdSocket, Vec<(PeerHandle, Connection<'static>)>) {
    let mut s = StdSocket::new(config(t), leak(1024));
    let mut remotes = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    for i in 0..peers {
        let bufs = PeerBuffers {
            rx: leak(BUF),
            tx: leak(BUF),
            subs: &mut [],
        };
        let h = s
            .attach(T0, bufs, u32::try_from(i).unwrap(), EndpointPair::none())
            .expect("attach");
        let mut far = Connection::new(T0, &config(remote), leak(BUF), leak(BUF)).expect("remote");
        for _ in 0..16 {
            let moved = pump(
                &mut buf,
                |b| s.poll_transmit(T0, h, b),
                |piece| assert_eq!(far.handle_input(T0, piece), piece.len()),
            ) + pump(
                &mut buf,
                |b| far.poll_transmit(T0, b),
                |piece| assert_eq!(s.handle_input(T0, h, piece), piece.len()),
            );
            if moved == 0 {
                break;
            }
        }
        assert!(far.is_ready(), "handshake did not finish");
        while far.poll_event().is_some() {}
        util::drain(&mut far);
        remotes.push((h, far));
    }
    while s.monitor_mut().pop().is_some() {}
    (s, remotes)
}

fn recv(c: &mut Criterion) {
    let mut g = c.benchmark_group("socket_recv");
    for peers in [1usize, 8] {
        for size in SIZES {
            let (mut s, mut remotes) = socket_with(SocketType::Pull, SocketType::Push, peers);
            let streams: Vec<(PeerHandle, Vec<u8>)> = remotes
                .iter_mut()
                .map(|(h, far)| (*h, wire_stream(far, size, BATCH)))
                .collect();
            let total = BATCH * peers;
            g.throughput(Throughput::Elements(total as u64));
            let id = BenchmarkId::new(format!("{peers}_peers"), size);
            g.bench_function(id, |b| {
                b.iter(|| {
                    for (h, wire) in &streams {
                        for piece in wire.chunks(CHUNK) {
                            assert_eq!(s.handle_input(T0, *h, piece), piece.len());
                        }
                    }
                    let mut got = 0usize;
                    loop {
                        match s.recv_with(|body| black_box(body.len()), None) {
                            Ok((_, info)) => {
                                if !info.more {
                                    got += 1;
                                }
                            }
                            Err(nb::Error::WouldBlock) => break,
                            Err(e) => panic!("recv: {e:?}"),
                        }
                    }
                    assert_eq!(got, total);
                    black_box(got)
                });
            });
        }
    }
    g.finish();
}

fn send(c: &mut Criterion) {
    let mut g = c.benchmark_group("socket_send");
    for size in SIZES {
        let (mut s, remotes) = socket_with(SocketType::Push, SocketType::Pull, 1);
        let h = remotes[0].0;
        let body = vec![0x5Au8; size];
        let mut out = vec![0u8; CHUNK];
        g.throughput(Throughput::Elements(BATCH as u64));
        g.bench_function(BenchmarkId::from_parameter(size), |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    s.send(&[black_box(&body)]).expect("send");
                }
                let wire = pump(&mut out, |b| s.poll_transmit(T0, h, b), |_| {});
                black_box(wire)
            });
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = util::criterion(3);
    targets = recv, send
}
criterion_main!(benches);
