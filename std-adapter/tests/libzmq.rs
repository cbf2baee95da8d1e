//! Interop with real libzmq 4.3.4 (the `zmq` crate builds it from vendored
//! source): our socket binds and libzmq connects, and the other way round,
//! for REQ/REP, DEALER/ROUTER and PUB/SUB, with message sizes 0, 1, 255,
//! 256, 65537 and 1 MiB and multipart messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

mod common;

use common::*;
use std::time::{Duration, Instant};
use zmtp_std::{Context, Socket, SocketType};

const SIZES: [usize; 6] = [0, 1, 255, 256, 65_537, 1 << 20];
const TIMEOUT_MS: i32 = 10_000;

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| u8::try_from(i % 251).unwrap() ^ seed)
        .collect()
}

fn zsock(ctx: &zmq::Context, t: zmq::SocketType) -> zmq::Socket {
    let s = ctx.socket(t).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s.set_linger(0).unwrap();
    s
}

fn ours(ctx: &Context, t: SocketType) -> Socket {
    let s = ctx.socket(t).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s.set_linger(0).unwrap();
    s
}

fn zrecv(s: &zmq::Socket) -> Vec<Vec<u8>> {
    s.recv_multipart(0).expect("libzmq recv")
}

fn zlast(s: &zmq::Socket) -> String {
    s.get_last_endpoint().unwrap().unwrap()
}

/// The messages every pair exchanges: each size alone, then a multipart
/// message mixing them.
fn messages() -> Vec<Vec<Vec<u8>>> {
    let mut v: Vec<Vec<Vec<u8>>> = SIZES
        .iter()
        .enumerate()
        .map(|(i, &n)| vec![payload(n, u8::try_from(i).unwrap())])
        .collect();
    v.push(vec![
        payload(3, 1),
        Vec::new(),
        payload(300, 2),
        payload(70_000, 3),
    ]);
    v
}

fn refs(m: &[Vec<u8>]) -> Vec<&[u8]> {
    m.iter().map(Vec::as_slice).collect()
}

fn req_rep_ours_rep_binds(endpoint: &str) {
    let ctx = Context::new().unwrap();
    let zctx = zmq::Context::new();
    let rep = ours(&ctx, SocketType::Rep);
    rep.bind(endpoint).unwrap();
    let req = zsock(&zctx, zmq::REQ);
    req.connect(&rep.last_endpoint().unwrap()).unwrap();
    for m in messages() {
        req.send_multipart(refs(&m), 0).unwrap();
        assert_eq!(rep.recv().unwrap(), m);
        let reply: Vec<Vec<u8>> = m.iter().rev().cloned().collect();
        rep.send(&refs(&reply)).unwrap();
        assert_eq!(zrecv(&req), reply);
    }
}

#[test]
fn req_rep_ours_rep_binds_tcp() {
    req_rep_ours_rep_binds("tcp://127.0.0.1:*");
}

#[test]
fn req_rep_ours_rep_binds_ipc() {
    req_rep_ours_rep_binds(&ipc_path("rep"));
}

#[test]
fn req_rep_libzmq_rep_binds() {
    let ctx = Context::new().unwrap();
    let zctx = zmq::Context::new();
    let rep = zsock(&zctx, zmq::REP);
    rep.bind("tcp://127.0.0.1:*").unwrap();
    let req = ours(&ctx, SocketType::Req);
    req.connect(&zlast(&rep)).unwrap();
    for m in messages() {
        req.send(&refs(&m)).unwrap();
        assert_eq!(zrecv(&rep), m);
        let reply: Vec<Vec<u8>> = m.iter().rev().cloned().collect();
        rep.send_multipart(refs(&reply), 0).unwrap();
        assert_eq!(req.recv().unwrap(), reply);
    }
}

#[test]
fn dealer_router_ours_router_binds() {
    let ctx = Context::new().unwrap();
    let zctx = zmq::Context::new();
    let router = ours(&ctx, SocketType::Router);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let dealer = zsock(&zctx, zmq::DEALER);
    dealer.set_identity(b"libzmq-dealer").unwrap();
    dealer.connect(&router.last_endpoint().unwrap()).unwrap();
    for m in messages() {
        dealer.send_multipart(refs(&m), 0).unwrap();
        let got = router.recv().unwrap();
        assert_eq!(got[0], b"libzmq-dealer");
        assert_eq!(&got[1..], &m[..]);
        let mut reply = vec![b"libzmq-dealer".to_vec()];
        reply.extend(m.iter().cloned());
        router.send(&refs(&reply)).unwrap();
        assert_eq!(zrecv(&dealer), m);
    }
}

#[test]
fn dealer_router_libzmq_router_binds() {
    let ctx = Context::new().unwrap();
    let zctx = zmq::Context::new();
    let router = zsock(&zctx, zmq::ROUTER);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let dealer = ours(&ctx, SocketType::Dealer);
    dealer.set_routing_id(b"our-dealer").unwrap();
    dealer.connect(&zlast(&router)).unwrap();
    for m in messages() {
        dealer.send(&refs(&m)).unwrap();
        let got = zrecv(&router);
        assert_eq!(got[0], b"our-dealer");
        assert_eq!(&got[1..], &m[..]);
        router.send_multipart(refs(&got), 0).unwrap();
        assert_eq!(dealer.recv().unwrap(), m);
    }
}

#[test]
fn dealer_router_anonymous_dealer_gets_generated_id() {
    let ctx = Context::new().unwrap();
    let zctx = zmq::Context::new();
    let router = ours(&ctx, SocketType::Router);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let dealer = zsock(&zctx, zmq::DEALER);
    dealer.connect(&router.last_endpoint().unwrap()).unwrap();
    dealer.send("hi", 0).unwrap();
    let got = router.recv().unwrap();
    // libzmq's generated ids: 0x00 + a 4-byte counter.
    assert_eq!(got[0].len(), 5);
    assert_eq!(got[0][0], 0);
    router.send(&[&got[0], b"back"]).unwrap();
    assert_eq!(zrecv(&dealer), [b"back".to_vec()]);
}

/// Publishes `msg` until the subscriber gets something (slow joiner), and
/// returns what it got.
fn until_received(publish: impl Fn(), receive: impl Fn() -> Option<Vec<Vec<u8>>>) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + WAIT;
    loop {
        publish();
        if let Some(m) = receive() {
            return m;
        }
        assert!(Instant::now() < deadline, "subscriber received nothing");
    }
}

#[test]
fn pub_sub_ours_pub_binds() {
    let ctx = Context::new().unwrap();
    let zctx = zmq::Context::new();
    let publ = ours(&ctx, SocketType::Pub);
    publ.bind("tcp://127.0.0.1:*").unwrap();
    let sub = zsock(&zctx, zmq::SUB);
    sub.set_subscribe(b"A").unwrap();
    sub.connect(&publ.last_endpoint().unwrap()).unwrap();
    sub.set_rcvtimeo(20).unwrap();
    let got = until_received(
        || {
            publ.send(&[b"B-filtered"]).unwrap();
            publ.send(&[b"A-hello", b"part"]).unwrap();
        },
        || sub.recv_multipart(0).ok(),
    );
    assert_eq!(got, [b"A-hello".to_vec(), b"part".to_vec()]);
    sub.set_rcvtimeo(TIMEOUT_MS).unwrap();
    for (i, m) in messages().into_iter().enumerate() {
        let mut topic = vec![b'A', u8::try_from(i).unwrap()];
        topic.extend_from_slice(&m[0]);
        let mut full = vec![topic];
        full.extend(m.iter().skip(1).cloned());
        publ.send(&[b"B-never"]).unwrap();
        publ.send(&refs(&full)).unwrap();
        // Skip what was still in flight from the joining loop.
        let mut r = zrecv(&sub);
        while r[0].starts_with(b"A-hello") {
            r = zrecv(&sub);
        }
        assert_eq!(r, full);
    }
}

#[test]
fn pub_sub_libzmq_pub_binds() {
    let ctx = Context::new().unwrap();
    let zctx = zmq::Context::new();
    let publ = zsock(&zctx, zmq::PUB);
    publ.bind("tcp://127.0.0.1:*").unwrap();
    let sub = ours(&ctx, SocketType::Sub);
    sub.set_subscribe(b"A").unwrap();
    sub.connect(&zlast(&publ)).unwrap();
    let got = until_received(
        || {
            publ.send("B-filtered", 0).unwrap();
            publ.send_multipart([&b"A-hello"[..], b"part"], 0).unwrap();
        },
        || sub.recv_timeout(Duration::from_millis(20)).ok(),
    );
    assert_eq!(got, [b"A-hello".to_vec(), b"part".to_vec()]);
    for (i, m) in messages().into_iter().enumerate() {
        let mut topic = vec![b'A', u8::try_from(i).unwrap()];
        topic.extend_from_slice(&m[0]);
        let mut full = vec![topic];
        full.extend(m.iter().skip(1).cloned());
        publ.send("B-never", 0).unwrap();
        publ.send_multipart(refs(&full), 0).unwrap();
        let mut r = sub.recv().unwrap();
        while r[0].starts_with(b"A-hello") {
            r = sub.recv().unwrap();
        }
        assert_eq!(r, full);
    }
}

#[test]
fn push_pull_both_directions() {
    let ctx = Context::new().unwrap();
    let zctx = zmq::Context::new();
    let pull = ours(&ctx, SocketType::Pull);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let push = zsock(&zctx, zmq::PUSH);
    push.connect(&pull.last_endpoint().unwrap()).unwrap();
    for m in messages() {
        push.send_multipart(refs(&m), 0).unwrap();
        assert_eq!(pull.recv().unwrap(), m);
    }
    let zpull = zsock(&zctx, zmq::PULL);
    zpull.bind("tcp://127.0.0.1:*").unwrap();
    let opush = ours(&ctx, SocketType::Push);
    opush.connect(&zlast(&zpull)).unwrap();
    for m in messages() {
        opush.send(&refs(&m)).unwrap();
        assert_eq!(zrecv(&zpull), m);
    }
}

/// libzmq's monitor and ours report the same connect-side sequence for the
/// same scenario (man page flow, closing the client first).
#[test]
fn monitor_parity_with_libzmq_client() {
    let zctx = zmq::Context::new();
    let ctx = Context::new().unwrap();
    let server = ours(&ctx, SocketType::Dealer);
    server.bind("tcp://127.0.0.1:*").unwrap();
    let ep = server.last_endpoint().unwrap();

    // libzmq client.
    let zclient = zsock(&zctx, zmq::DEALER);
    zclient.monitor("inproc://zmon", 0xFFFF).unwrap();
    let zmon = zctx.socket(zmq::PAIR).unwrap();
    zmon.set_rcvtimeo(TIMEOUT_MS).unwrap();
    zmon.connect("inproc://zmon").unwrap();
    zclient.connect(&ep).unwrap();
    let mut zevents = Vec::new();
    loop {
        let m = zmon.recv_multipart(0).unwrap();
        let id = u16::from_ne_bytes([m[0][0], m[0][1]]);
        let value = u32::from_ne_bytes(m[0][2..6].try_into().unwrap());
        zevents.push((id, value, String::from_utf8(m[1].clone()).unwrap()));
        if id == 0x1000 {
            break;
        }
    }

    // Our client.
    let client = ours(&ctx, SocketType::Dealer);
    client.monitor(Some("inproc://omon"), 0xFFFF).unwrap();
    let omon = ctx.monitor_socket("inproc://omon").unwrap();
    client.connect(&ep).unwrap();
    let mut oevents = Vec::new();
    loop {
        let m = omon.recv_raw(Some(WAIT)).unwrap();
        let id = u16::from_le_bytes([m[0][0], m[0][1]]);
        let value = u32::from_le_bytes(m[0][2..6].try_into().unwrap());
        oevents.push((id, value, String::from_utf8(m[1].clone()).unwrap()));
        if id == 0x1000 {
            break;
        }
    }
    // Same ids and endpoints; values equal where deterministic (not fds).
    let shape = |v: &[(u16, u32, String)]| {
        v.iter()
            .map(|(id, value, ep)| {
                let value = if *id == 0x0001 { 0 } else { *value };
                (*id, value, ep.clone())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&oevents), shape(&zevents));

    drop(zclient);
    client.close().unwrap();
    let m = omon.recv_raw(Some(WAIT)).unwrap();
    assert_eq!(u16::from_le_bytes([m[0][0], m[0][1]]), 0x0400);
    let _ = zmon;
}

/// One server-side monitor event: name, value, v1 endpoint.
type Ev = (String, u64, String);

/// libzmq's event names by id (the ones this scenario produces).
fn zname(id: u16) -> String {
    zmtp_std::Event::from_id_value(u64::from(id), &[0])
        .name()
        .to_owned()
}

/// The bound side of the man-page flow: bind, a libzmq DEALER connects and
/// handshakes, the client leaves, the server closes. Returns the server's
/// events and its bound endpoint.
fn server_flow_libzmq() -> (Vec<Ev>, String) {
    let zctx = zmq::Context::new();
    let server = zsock(&zctx, zmq::DEALER);
    server.monitor("inproc://zsrv", 0xFFFF).unwrap();
    let mon = zctx.socket(zmq::PAIR).unwrap();
    mon.set_rcvtimeo(TIMEOUT_MS).unwrap();
    mon.connect("inproc://zsrv").unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    let ep = zlast(&server);
    let client = zsock(&zctx, zmq::DEALER);
    client.connect(&ep).unwrap();
    let mut events = Vec::new();
    let next = || {
        let m = mon.recv_multipart(0).unwrap();
        let id = u16::from_ne_bytes([m[0][0], m[0][1]]);
        let value = u32::from_ne_bytes(m[0][2..6].try_into().unwrap());
        (
            zname(id),
            u64::from(value),
            String::from_utf8(m[1].clone()).unwrap(),
        )
    };
    loop {
        let e = next();
        let done = e.0 == "HANDSHAKE_SUCCEEDED";
        events.push(e);
        if done {
            break;
        }
    }
    drop(client);
    loop {
        let e = next();
        let done = e.0 == "DISCONNECTED";
        events.push(e);
        if done {
            break;
        }
    }
    drop(server);
    loop {
        let e = next();
        let done = e.0 == "MONITOR_STOPPED";
        events.push(e);
        if done {
            break;
        }
    }
    (events, ep)
}

/// The same flow with our server (the client is libzmq again).
fn server_flow_ours() -> (Vec<Ev>, String) {
    let zctx = zmq::Context::new();
    let ctx = Context::new().unwrap();
    let server = ours(&ctx, SocketType::Dealer);
    server.monitor(Some("inproc://osrv"), 0xFFFF).unwrap();
    let mon = ctx.monitor_socket("inproc://osrv").unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    let ep = server.last_endpoint().unwrap();
    let client = zsock(&zctx, zmq::DEALER);
    client.connect(&ep).unwrap();
    let mut events = Vec::new();
    let next = || {
        let m = next(&mon);
        (m.name().to_owned(), m.value(), m.endpoint().to_owned())
    };
    loop {
        let e = next();
        let done = e.0 == "HANDSHAKE_SUCCEEDED";
        events.push(e);
        if done {
            break;
        }
    }
    drop(client);
    loop {
        let e = next();
        let done = e.0 == "DISCONNECTED";
        events.push(e);
        if done {
            break;
        }
    }
    server.close().unwrap();
    loop {
        let e = next();
        let done = e.0 == "MONITOR_STOPPED";
        events.push(e);
        if done {
            break;
        }
    }
    (events, ep)
}

/// Normalises a flow: fds become the index of the first event that
/// carried them, the bound endpoint becomes `EP`.
fn normalise(events: &[Ev], ep: &str) -> Vec<Ev> {
    let mut fds: Vec<u64> = Vec::new();
    events
        .iter()
        .map(|(name, value, endpoint)| {
            let value =
                if ["LISTENING", "ACCEPTED", "CLOSED", "DISCONNECTED"].contains(&name.as_str()) {
                    let i = fds.iter().position(|f| f == value).unwrap_or_else(|| {
                        fds.push(*value);
                        fds.len() - 1
                    });
                    u64::try_from(i).unwrap()
                } else {
                    *value
                };
            let endpoint = if endpoint == ep {
                "EP".to_owned()
            } else {
                endpoint.clone()
            };
            (name.clone(), value, endpoint)
        })
        .collect()
}

#[test]
fn monitor_parity_server_side() {
    let (z, zep) = server_flow_libzmq();
    let (o, oep) = server_flow_ours();
    assert_eq!(
        normalise(&o, &oep),
        normalise(&z, &zep),
        "ours {o:?}\nlibzmq {z:?}"
    );
}

/// `BIND_FAILED` values and endpoints for malformed or unusable bind
/// endpoints, ours against libzmq's.
#[test]
fn bind_failed_parity() {
    let bad = [
        "tcp://127.0.0.1:abc",
        "tcp://127.0.0.1",
        "tcp://localhost:*",
        "tcp://lo0-nonexistent:5555",
        "ipc://@",
    ];
    let zctx = zmq::Context::new();
    let zs = zsock(&zctx, zmq::DEALER);
    zs.monitor("inproc://zbf", 0xFFFF).unwrap();
    let zmon = zctx.socket(zmq::PAIR).unwrap();
    zmon.set_rcvtimeo(TIMEOUT_MS).unwrap();
    zmon.connect("inproc://zbf").unwrap();
    let ctx = Context::new().unwrap();
    let os = ours(&ctx, SocketType::Dealer);
    os.monitor(Some("inproc://obf"), 0xFFFF).unwrap();
    let omon = ctx.monitor_socket("inproc://obf").unwrap();
    for ep in bad {
        assert!(zs.bind(ep).is_err(), "libzmq bound {ep}");
        assert!(os.bind(ep).is_err(), "we bound {ep}");
        let m = zmon.recv_multipart(0).unwrap();
        let z = (
            u16::from_ne_bytes([m[0][0], m[0][1]]),
            u32::from_ne_bytes(m[0][2..6].try_into().unwrap()),
            String::from_utf8(m[1].clone()).unwrap(),
        );
        let m = omon.recv_raw(Some(WAIT)).unwrap();
        let o = (
            u16::from_le_bytes([m[0][0], m[0][1]]),
            u32::from_le_bytes(m[0][2..6].try_into().unwrap()),
            String::from_utf8(m[1].clone()).unwrap(),
        );
        assert_eq!(o, z, "{ep}");
    }
}

/// The first events of a connect that cannot succeed (TCP refused, IPC
/// path missing): same names and endpoints as libzmq.
#[test]
fn failed_connect_parity() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let endpoints = [
        format!("tcp://127.0.0.1:{port}"),
        ipc_path("parity-missing"),
    ];
    for ep in endpoints {
        let zctx = zmq::Context::new();
        let zs = zsock(&zctx, zmq::DEALER);
        zs.monitor("inproc://zfc", 0xFFFF).unwrap();
        let zmon = zctx.socket(zmq::PAIR).unwrap();
        zmon.set_rcvtimeo(TIMEOUT_MS).unwrap();
        zmon.connect("inproc://zfc").unwrap();
        zs.connect(&ep).unwrap();
        let mut z = Vec::new();
        while z.len() < 6 {
            let m = zmon.recv_multipart(0).unwrap();
            let id = u16::from_ne_bytes([m[0][0], m[0][1]]);
            z.push((zname(id), String::from_utf8(m[1].clone()).unwrap()));
        }
        let ctx = Context::new().unwrap();
        let os = ours(&ctx, SocketType::Dealer);
        os.monitor(Some("inproc://ofc"), 0xFFFF).unwrap();
        let omon = ctx.monitor_socket("inproc://ofc").unwrap();
        os.connect(&ep).unwrap();
        let mut o = Vec::new();
        while o.len() < 6 {
            let m = next(&omon);
            o.push((m.name().to_owned(), m.endpoint().to_owned()));
        }
        assert_eq!(o, z, "{ep}");
    }
}

/// Heartbeats both ways with libzmq: PINGs are answered, nobody
/// disconnects (libzmq `test_heartbeat_notimeout`), and libzmq's TTL in its
/// PINGs is obeyed once it stops talking (`test_heartbeat_ttl`).
#[test]
fn heartbeats_with_libzmq() {
    let zctx = zmq::Context::new();
    let ctx = Context::new().unwrap();
    // Ours pings libzmq.
    let zrouter = zsock(&zctx, zmq::ROUTER);
    zrouter.bind("tcp://127.0.0.1:*").unwrap();
    let dealer = ours(&ctx, SocketType::Dealer);
    // A PING every 50 ms, each to be answered within 500 ms (a stall of a
    // loaded machine's threads must not pass for a lost PONG).
    dealer.set_heartbeat_ivl(50).unwrap();
    dealer.set_heartbeat_timeout(500).unwrap();
    dealer.monitor(Some("inproc://hb-ours"), 0xFFFF).unwrap();
    let omon = ctx.monitor_socket("inproc://hb-ours").unwrap();
    dealer.connect(&zlast(&zrouter)).unwrap();
    // libzmq pings us.
    let router = ours(&ctx, SocketType::Router);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let zdealer = zsock(&zctx, zmq::DEALER);
    zdealer.set_heartbeat_ivl(50).unwrap();
    zdealer.set_heartbeat_timeout(500).unwrap();
    zdealer.monitor("inproc://hb-z", 0xFFFF).unwrap();
    let zmon = zctx.socket(zmq::PAIR).unwrap();
    zmon.connect("inproc://hb-z").unwrap();
    zdealer.connect(&router.last_endpoint().unwrap()).unwrap();

    expect_after_optional(&omon, "CONNECT_DELAYED", "CONNECTED");
    expect(&omon, "HANDSHAKE_SUCCEEDED");
    // Three heartbeat timeouts (30 intervals) without a disconnect on
    // either side: unanswered PINGs would have ended both links by then.
    if let Ok(m) = omon.recv_event(Some(Duration::from_millis(1500))) {
        panic!("unexpected event {m:?}");
    }
    zmon.set_rcvtimeo(10).unwrap();
    let mut names = Vec::new();
    while let Ok(m) = zmon.recv_multipart(0) {
        names.push(zname(u16::from_ne_bytes([m[0][0], m[0][1]])));
    }
    assert!(!names.iter().any(|n| n == "DISCONNECTED"), "{names:?}");
    assert!(
        names.iter().any(|n| n == "HANDSHAKE_SUCCEEDED"),
        "{names:?}"
    );
    // Both links still carry messages.
    dealer.send(&[b"to libzmq"]).unwrap();
    assert_eq!(zrecv(&zrouter)[1], b"to libzmq");
    zdealer.send("to us", 0).unwrap();
    assert_eq!(router.recv().unwrap()[1], b"to us");
}

/// libzmq `test_heartbeat_ttl`: the client announces a TTL of 100 ms but
/// pings every 250 ms; our server (no heartbeats of its own) obeys the TTL.
#[test]
fn heartbeat_ttl_from_libzmq_client() {
    let zctx = zmq::Context::new();
    let ctx = Context::new().unwrap();
    let server = ours(&ctx, SocketType::Router);
    server.monitor(Some("inproc://ttl"), 0xFFFF).unwrap();
    let mon = ctx.monitor_socket("inproc://ttl").unwrap();
    server.bind("tcp://127.0.0.1:*").unwrap();
    expect(&mon, "LISTENING");
    let client = zsock(&zctx, zmq::DEALER);
    client.set_heartbeat_ttl(100).unwrap();
    client.set_heartbeat_ivl(250).unwrap();
    client.connect(&server.last_endpoint().unwrap()).unwrap();
    let accepted = expect(&mon, "ACCEPTED");
    expect(&mon, "HANDSHAKE_SUCCEEDED");
    let disc = expect(&mon, "DISCONNECTED");
    assert_eq!(disc.value(), accepted.value());
}

/// Messages that arrived before the peer left are still delivered, after
/// `DISCONNECTED` (libzmq reads a pipe up to its end).
#[test]
fn messages_before_disconnect_are_delivered() {
    let zctx = zmq::Context::new();
    let ctx = Context::new().unwrap();
    let pull = ours(&ctx, SocketType::Pull);
    pull.monitor(Some("inproc://drain"), 0xFFFF).unwrap();
    let mon = ctx.monitor_socket("inproc://drain").unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let push = zsock(&zctx, zmq::PUSH);
    push.set_linger(5000).unwrap();
    push.connect(&pull.last_endpoint().unwrap()).unwrap();
    for i in 0..5u8 {
        push.send(vec![i; 10], 0).unwrap();
    }
    drop(push);
    expect(&mon, "LISTENING");
    expect(&mon, "ACCEPTED");
    expect(&mon, "HANDSHAKE_SUCCEEDED");
    expect(&mon, "DISCONNECTED");
    for i in 0..5u8 {
        assert_eq!(pull.recv().unwrap(), [vec![i; 10]]);
    }
    assert!(matches!(
        pull.recv_nonblocking(),
        Err(zmtp_std::Error::WouldBlock)
    ));
}
