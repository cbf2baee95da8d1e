//! Monitor event encoding, ns per event: [`MonitorEvent::raw`] in libzmq's
//! version 1 and version 2 layouts with every frame read (what a consumer
//! or a forwarding adapter does), and the producer's side, recording an
//! event into the [`Monitor`] queue and popping it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark set-up: a failure must stop the run"
)]

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use zmtp_core::monitor::{EndpointPair, Event, EventMask, EventVersion, Monitor, MonitorEvent};

fn events() -> [(&'static str, MonitorEvent); 3] {
    let ep = EndpointPair::connect_pair("tcp://127.0.0.1:40000", "tcp://127.0.0.1:5555");
    [
        (
            "connected",
            MonitorEvent::new(Event::Connected { fd: 7 }, ep.clone()),
        ),
        (
            "handshake_succeeded",
            MonitorEvent::new(Event::HandshakeSucceeded, ep.clone()),
        ),
        (
            "connect_retried",
            MonitorEvent::new(Event::ConnectRetried { interval_ms: 200 }, ep),
        ),
    ]
}

/// Bytes over every frame of the encoded message (reads each frame).
fn frame_bytes(e: &MonitorEvent, v: EventVersion) -> usize {
    e.raw(v).frames().map(<[u8]>::len).sum()
}

fn encode(c: &mut Criterion) {
    for (version, name) in [(EventVersion::V1, "v1"), (EventVersion::V2, "v2")] {
        let mut g = c.benchmark_group(format!("monitor_encode_{name}"));
        for (label, e) in events() {
            assert!(frame_bytes(&e, version) > 0);
            g.bench_with_input(BenchmarkId::from_parameter(label), &e, |b, e| {
                b.iter(|| frame_bytes(black_box(e), version));
            });
        }
        g.finish();
    }
}

fn record(c: &mut Criterion) {
    let mut m: Monitor<8> = Monitor::new();
    m.start("inproc://bench", EventMask::ALL, EventVersion::V1)
        .expect("start");
    let ep = EndpointPair::connect_pair("tcp://127.0.0.1:40000", "tcp://127.0.0.1:5555");
    c.bench_function("monitor_record_pop", |b| {
        b.iter(|| {
            m.record(black_box(Event::Connected { fd: 7 }), black_box(ep.clone()));
            black_box(m.pop())
        });
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(core::time::Duration::from_secs(1))
        .measurement_time(core::time::Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = encode, record
}
criterion_main!(benches);
