//! A receive that waits right after a small send reads its connection on
//! the application thread (the I/O thread reads it the rest of the time):
//! bytes keep their order whichever thread reads them, the end of a stream
//! and transport errors still reach the monitor as `DISCONNECTED`,
//! heartbeats are answered and time out, and the security mechanisms
//! decrypt what either thread read. Peers are libzmq 4.3.4 (the `zmq`
//! crate), raw sockets and this crate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::cast_possible_truncation,
    clippy::arithmetic_side_effects
)]

mod common;
#[path = "common/peer.rs"]
mod peer;

use common::*;
use peer::{TIMEOUT_MS, zbind, zsock};
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use zmtp_std::{Context, Message, Socket, SocketType};

/// A few bytes, one read; more than one read; more than the transport's
/// buffers hold (the I/O thread reads the rest).
const SIZES: [usize; 5] = [1, 10, 1024, 70_000, (1 << 20) + 3];

fn body(seq: usize, size: usize) -> Vec<u8> {
    (0..size).map(|i| (seq * 31 + i * 7) as u8).collect()
}

fn ours(ctx: &Context, t: SocketType) -> Socket {
    let s = ctx.socket(t).unwrap();
    s.set_rcvtimeo(TIMEOUT_MS).unwrap();
    s.set_sndtimeo(TIMEOUT_MS).unwrap();
    s
}

/// A libzmq ROUTER echoing every message back on a thread of its own,
/// looking for the stop request every `poll_ms`.
struct Echo {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<zmq::Socket>,
}

impl Echo {
    fn start(router: zmq::Socket, poll_ms: i32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            router.set_rcvtimeo(poll_ms).unwrap();
            while !stop2.load(Ordering::Relaxed) {
                if let Ok(m) = router.recv_multipart(0) {
                    router.send_multipart(m, 0).unwrap();
                }
            }
            router
        });
        Self { stop, thread }
    }

    /// Stops echoing; returns the ROUTER, still open.
    fn stop(self) -> zmq::Socket {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

fn endpoints(tag: &str) -> [String; 2] {
    [
        "tcp://127.0.0.1:*".to_owned(),
        format!("ipc://@zmtp-direct-read-{tag}-{}", std::process::id()),
    ]
}

/// Round trips of every size, each followed by a burst of 40 messages
/// sent without waiting: the replies to single requests are read by the
/// application thread, the burst's mostly by the I/O thread, and a burst
/// can arrive while the application thread reads. `a` sends first.
fn exchange(send: impl Fn(&[u8]), recv: impl Fn() -> Vec<u8>, rounds: usize) {
    let mut seq = 0usize;
    for round in 0..rounds {
        let size = SIZES[round % SIZES.len()];
        seq += 1;
        send(&body(seq, size));
        assert_eq!(recv(), body(seq, size), "reply {seq}");
        let first = seq + 1;
        for k in 0..40 {
            seq += 1;
            send(&body(seq, SIZES[(round + k) % 4]));
        }
        for (k, expect) in (first..=seq).enumerate() {
            let got = recv();
            assert!(
                got == body(expect, SIZES[(round + k) % 4]),
                "burst message {expect}"
            );
        }
    }
}

/// Ours (DEALER) against a libzmq ROUTER that echoes: order and content
/// of round trips and bursts, over TCP and IPC.
#[test]
fn round_trips_and_bursts_against_libzmq_echo() {
    for ep in endpoints("zecho") {
        let zctx = zmq::Context::new();
        let ctx = Context::new().unwrap();
        let router = zsock(&zctx, zmq::ROUTER);
        let ep = zbind(&router, &ep);
        let echo = Echo::start(router, 100);
        let dealer = ours(&ctx, SocketType::Dealer);
        dealer.connect(&ep).unwrap();
        let mut msg = Message::new();
        let msg = std::cell::RefCell::new(&mut msg);
        exchange(
            |b| dealer.send_frame(b).unwrap(),
            || {
                let mut m = msg.borrow_mut();
                dealer.recv_into(&mut m).unwrap();
                assert_eq!(m.len(), 1);
                m.frame(0).unwrap().to_vec()
            },
            15,
        );
        echo.stop();
    }
}

/// Ours echoes (ROUTER: receive, send, receive...) to a libzmq DEALER that
/// sends round trips and bursts: every receive after our send reads on the
/// application thread while the burst keeps the I/O thread reading too.
#[test]
fn ours_echoes_libzmq_round_trips_and_bursts() {
    for ep in endpoints("oecho") {
        let zctx = zmq::Context::new();
        let ctx = Context::new().unwrap();
        let router = ours(&ctx, SocketType::Router);
        router.bind(&ep).unwrap();
        let ep = router.last_endpoint().unwrap();
        let echo = std::thread::spawn(move || {
            let mut msg = Message::new();
            let mut n = 0usize;
            // 15 rounds of 1 + 40 messages.
            while n < 15 * 41 {
                router.recv_into(&mut msg).unwrap();
                let parts: Vec<&[u8]> = msg.frames().collect();
                router.send(&parts).unwrap();
                n += 1;
            }
            router
        });
        let dealer = zsock(&zctx, zmq::DEALER);
        dealer.connect(&ep).unwrap();
        exchange(
            |b| dealer.send(b, 0).unwrap(),
            || {
                let m = dealer.recv_multipart(0).unwrap();
                assert_eq!(m.len(), 1);
                m.into_iter().next().unwrap()
            },
            15,
        );
        drop(echo.join().unwrap());
    }
}

/// Ours on both sides, REQ against REP, over TCP and IPC.
#[test]
fn req_rep_round_trips_between_ours() {
    for ep in endpoints("reqrep") {
        let ctx = Context::new().unwrap();
        let rep = ours(&ctx, SocketType::Rep);
        rep.bind(&ep).unwrap();
        let ep = rep.last_endpoint().unwrap();
        let server = std::thread::spawn(move || {
            let mut msg = Message::new();
            for _ in 0..200 {
                rep.recv_into(&mut msg).unwrap();
                rep.send_frame(msg.frame(0).unwrap()).unwrap();
            }
            rep
        });
        let req = ours(&ctx, SocketType::Req);
        req.connect(&ep).unwrap();
        let mut msg = Message::new();
        for seq in 0..200 {
            let b = body(seq, SIZES[seq % SIZES.len()]);
            req.send_frame(&b).unwrap();
            req.recv_into(&mut msg).unwrap();
            assert!(msg.frame(0).unwrap() == b.as_slice(), "reply {seq}");
        }
        drop(server.join().unwrap());
    }
}

/// A ROUTER of ours answering three libzmq DEALERs: each reply goes to,
/// and each request comes from, the right connection while the ROUTER
/// reads after its sends.
#[test]
fn router_with_three_libzmq_dealers() {
    let zctx = zmq::Context::new();
    let ctx = Context::new().unwrap();
    let router = ours(&ctx, SocketType::Router);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let ep = router.last_endpoint().unwrap();
    let dealers: Vec<zmq::Socket> = (0..3)
        .map(|i| {
            let d = zsock(&zctx, zmq::DEALER);
            d.set_identity(format!("d{i}").as_bytes()).unwrap();
            d.connect(&ep).unwrap();
            d
        })
        .collect();
    for round in 0..30usize {
        for (i, d) in dealers.iter().enumerate() {
            d.send(body(round * 3 + i, SIZES[round % 4]), 0).unwrap();
        }
        for _ in 0..dealers.len() {
            let req = router.recv().unwrap();
            assert_eq!(req.len(), 2);
            router.send(&[&req[0], &req[1]]).unwrap();
        }
        for (i, d) in dealers.iter().enumerate() {
            let got = d.recv_multipart(0).unwrap();
            assert!(
                got == [body(round * 3 + i, SIZES[round % 4])],
                "dealer {i} round {round}"
            );
        }
    }
}

/// A libzmq peer that closes in the middle of a conversation, while our
/// socket waits for its reply right after sending (the application thread
/// reading): `DISCONNECTED` for the connection, then the reconnect, as
/// without the application thread's reads; the receive times out.
#[test]
fn peer_closing_mid_conversation_is_reported() {
    for ep in endpoints("close") {
        let zctx = zmq::Context::new();
        let ctx = Context::new().unwrap();
        let router = zsock(&zctx, zmq::ROUTER);
        let ep = zbind(&router, &ep);
        let dealer = ours(&ctx, SocketType::Dealer);
        dealer.set_rcvtimeo(3000).unwrap();
        dealer.set_reconnect_ivl(100).unwrap();
        let name = format!("inproc://direct-close-{}", ep.len());
        dealer.monitor(Some(&name), 0xFFFF).unwrap();
        let mon = ctx.monitor_socket(&name).unwrap();
        dealer.connect(&ep).unwrap();
        let connected = expect_after_optional(&mon, "CONNECT_DELAYED", "CONNECTED");
        expect(&mon, "HANDSHAKE_SUCCEEDED");
        let server = std::thread::spawn(move || {
            for _ in 0..50 {
                let m = router.recv_multipart(0).unwrap();
                router.send_multipart(m, 0).unwrap();
            }
            // The last request is read, not answered: the socket goes.
            let _ = router.recv_multipart(0).unwrap();
            drop(router);
        });
        for seq in 0..50 {
            dealer.send_frame(&body(seq, 10)).unwrap();
            assert_eq!(recv(&dealer), [body(seq, 10)]);
        }
        dealer.send_frame(b"last").unwrap();
        let started = Instant::now();
        assert!(matches!(dealer.recv(), Err(zmtp_std::Error::WouldBlock)));
        assert!(started.elapsed() >= Duration::from_millis(2500));
        server.join().unwrap();
        let disc = expect(&mon, "DISCONNECTED");
        assert_eq!(disc.value(), connected.value(), "the connection's fd");
        // The reconnect interval plus libzmq's jitter.
        let retried = expect(&mon, "CONNECT_RETRIED");
        assert!((100..200).contains(&retried.value()), "{retried:?}");
    }
}

/// Our REP answers a libzmq REQ that closes right after its last
/// request: `DISCONNECTED` as before.
#[test]
fn client_closing_after_request_is_reported() {
    let zctx = zmq::Context::new();
    let ctx = Context::new().unwrap();
    let rep = ours(&ctx, SocketType::Rep);
    rep.monitor(Some("inproc://direct-client-close"), 0xFFFF)
        .unwrap();
    let mon = ctx.monitor_socket("inproc://direct-client-close").unwrap();
    rep.bind("tcp://127.0.0.1:*").unwrap();
    expect(&mon, "LISTENING");
    let req = zsock(&zctx, zmq::REQ);
    req.connect(&rep.last_endpoint().unwrap()).unwrap();
    let accepted = expect(&mon, "ACCEPTED");
    expect(&mon, "HANDSHAKE_SUCCEEDED");
    for seq in 0..30 {
        req.send(body(seq, 100), 0).unwrap();
        let got = recv(&rep);
        send(&rep, &[&got[0]]);
        assert_eq!(req.recv_bytes(0).unwrap(), body(seq, 100));
    }
    drop(req);
    // Our REP waits for the next request right after its reply.
    assert!(matches!(
        rep.recv_timeout(Duration::from_millis(500)),
        Err(zmtp_std::Error::WouldBlock)
    ));
    let disc = expect(&mon, "DISCONNECTED");
    assert_eq!(disc.value(), accepted.value());
    expect_quiet(&mon);
}

/// Round trips with heartbeats on both sides (libzmq pings us every 20 ms
/// and gives up after 1 s without traffic, which tolerates stalls of a
/// loaded machine; so do we): PINGs read by the application thread are
/// answered or followed by traffic, nobody disconnects, and every reply
/// arrives whole.
#[test]
fn heartbeats_during_round_trips() {
    let zctx = zmq::Context::new();
    let ctx = Context::new().unwrap();
    let router = zsock(&zctx, zmq::ROUTER);
    router.set_heartbeat_ivl(20).unwrap();
    router.set_heartbeat_timeout(1000).unwrap();
    router.monitor("inproc://direct-hb-z", 0xFFFF).unwrap();
    let zmon = zctx.socket(zmq::PAIR).unwrap();
    zmon.connect("inproc://direct-hb-z").unwrap();
    let ep = zbind(&router, "tcp://127.0.0.1:*");
    let echo = Echo::start(router, 50);
    let dealer = ours(&ctx, SocketType::Dealer);
    dealer.set_heartbeat_ivl(20).unwrap();
    dealer.set_heartbeat_timeout(1000).unwrap();
    dealer.monitor(Some("inproc://direct-hb"), 0xFFFF).unwrap();
    let mon = ctx.monitor_socket("inproc://direct-hb").unwrap();
    dealer.connect(&ep).unwrap();
    expect_after_optional(&mon, "CONNECT_DELAYED", "CONNECTED");
    expect(&mon, "HANDSHAKE_SUCCEEDED");
    let started = Instant::now();
    let mut msg = Message::new();
    let mut seq = 0usize;
    // Round trips for 40 heartbeat intervals, with pauses of a few
    // intervals in between (only PINGs and PONGs then).
    while started.elapsed() < Duration::from_millis(800) {
        for _ in 0..200 {
            seq += 1;
            let b = body(seq, 10);
            dealer.send_frame(&b).unwrap();
            dealer.recv_into(&mut msg).unwrap();
            assert!(msg.frame(0).unwrap() == b.as_slice());
        }
        assert!(matches!(
            dealer.recv_into_timeout(&mut msg, Duration::from_millis(60)),
            Err(zmtp_std::Error::WouldBlock)
        ));
    }
    // Kept open (heartbeats only) until the checks are done.
    let router = echo.stop();
    expect_quiet(&mon);
    zmon.set_rcvtimeo(10).unwrap();
    while let Ok(m) = zmon.recv_multipart(0) {
        let ev = u16::from_ne_bytes([m[0][0], m[0][1]]);
        assert_ne!(ev, zmq::SocketEvent::DISCONNECTED as u16, "libzmq gave up");
    }
    drop(router);
}

/// A raw ZMTP peer (a NULL ROUTER) that `dealer` connects to, past the
/// handshake, with `dealer`'s monitor (all events, at `name`) past
/// `CONNECTED` and `HANDSHAKE_SUCCEEDED`; returns the peer's stream, the
/// monitor and the `CONNECTED` event.
fn raw_router_peer(
    ctx: &Context,
    dealer: &Socket,
    name: &str,
) -> (
    std::net::TcpStream,
    zmtp_std::MonitorSocket,
    zmtp_std::MonitorMessage,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    dealer.monitor(Some(name), 0xFFFF).unwrap();
    let mon = ctx.monitor_socket(name).unwrap();
    dealer.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let (mut raw, _) = listener.accept().unwrap();
    raw.set_read_timeout(Some(WAIT)).unwrap();
    raw.write_all(&null_handshake("ROUTER")).unwrap();
    let mut greeting = [0u8; 64];
    raw.read_exact(&mut greeting).unwrap();
    let mut head = [0u8; 2];
    raw.read_exact(&mut head).unwrap();
    let mut ready = vec![0u8; usize::from(head[1])];
    raw.read_exact(&mut ready).unwrap();
    assert_eq!(&ready[..6], b"\x05READY");
    let connected = expect_after_optional(&mon, "CONNECT_DELAYED", "CONNECTED");
    expect(&mon, "HANDSHAKE_SUCCEEDED");
    (raw, mon, connected)
}

/// A raw peer that completes the handshake, echoes a few messages and then
/// goes silent with the connection open: our heartbeat timeout closes it
/// while the application keeps sending and waiting for replies.
#[test]
fn heartbeat_timeout_while_watching_for_replies() {
    let ctx = Context::new().unwrap();
    let dealer = ours(&ctx, SocketType::Dealer);
    dealer.set_heartbeat_ivl(50).unwrap();
    dealer.set_heartbeat_timeout(150).unwrap();
    dealer.set_reconnect_ivl(-1).unwrap();
    let (mut raw, mon, connected) = raw_router_peer(&ctx, &dealer, "inproc://direct-hb-timeout");
    let mut head = [0u8; 2];
    // Echo three short messages frame by frame (PINGs are not answered).
    let mut echoed = 0;
    while echoed < 3 {
        dealer.send_frame(&[b'x'; 5]).unwrap();
        loop {
            raw.read_exact(&mut head).unwrap();
            let mut frame = vec![0u8; usize::from(head[1])];
            raw.read_exact(&mut frame).unwrap();
            if head[0] & 0x04 == 0 {
                raw.write_all(&head).unwrap();
                raw.write_all(&frame).unwrap();
                break;
            }
        }
        assert_eq!(recv(&dealer), [vec![b'x'; 5]]);
        echoed += 1;
    }
    // Silence: the next request is never answered.
    let started = Instant::now();
    dealer.send_frame(b"unanswered").unwrap();
    let disc = expect(&mon, "DISCONNECTED");
    assert_eq!(disc.value(), connected.value());
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < WAIT, "{took:?}");
    drop(raw);
}

#[cfg(feature = "curve")]
/// PLAIN (with a ZAP handler) and CURVE round trips between ours, over
/// TCP: the application thread's reads go through the mechanisms'
/// framing and, for CURVE, decryption in the core.
#[test]
fn plain_and_curve_round_trips() {
    let ctx = Context::new().unwrap();
    let zap = ctx.socket(SocketType::Rep).unwrap();
    zap.bind("inproc://zeromq.zap.01").unwrap();
    let handler = std::thread::spawn(move || {
        zap.set_rcvtimeo(5000).unwrap();
        while let Ok(req) = zap.recv() {
            let id = req.get(1).cloned().unwrap_or_default();
            if zap
                .send(&[b"1.0", &id, b"200", b"OK", b"user", b""])
                .is_err()
            {
                break;
            }
        }
    });
    let plain = (ours(&ctx, SocketType::Rep), ours(&ctx, SocketType::Req));
    plain.0.set_plain_server(true).unwrap();
    plain.1.set_plain_username(b"admin").unwrap();
    plain.1.set_plain_password(b"secret").unwrap();
    let curve = (ours(&ctx, SocketType::Rep), ours(&ctx, SocketType::Req));
    let server_keys = zmtp_std::curve_keypair();
    let client_keys = zmtp_std::curve_keypair();
    curve.0.set_curve_server(true).unwrap();
    curve.0.set_curve_secretkey(&server_keys.secret).unwrap();
    curve.1.set_curve_serverkey(&server_keys.public).unwrap();
    curve.1.set_curve_publickey(&client_keys.public).unwrap();
    curve.1.set_curve_secretkey(&client_keys.secret).unwrap();
    for (server, client) in [plain, curve] {
        server.bind("tcp://127.0.0.1:*").unwrap();
        client.connect(&server.last_endpoint().unwrap()).unwrap();
        let echo = std::thread::spawn(move || {
            for _ in 0..100 {
                let m = recv(&server);
                send(&server, &[&m[0]]);
            }
            server
        });
        for seq in 0..100 {
            let b = body(seq, SIZES[seq % 4]);
            client.send_frame(&b).unwrap();
            let got = recv(&client);
            assert!(got == [b], "reply {seq}");
        }
        drop(echo.join().unwrap());
    }
    drop(ctx);
    handler.join().unwrap();
}

/// One socket used by two threads: one sleeps in a receive while the other
/// sends a request and watches for its reply. The peer answers with two
/// messages in one write, which the watching thread reads at once: it takes
/// one, and the sleeping thread is woken for the other (the I/O thread,
/// which wakes sleepers after its rounds, has nothing to read).
#[test]
fn a_second_thread_sleeping_in_recv_gets_what_the_watch_read() {
    let ctx = Context::new().unwrap();
    let dealer = ours(&ctx, SocketType::Dealer);
    dealer.set_reconnect_ivl(-1).unwrap();
    let (mut raw, _mon, _) = raw_router_peer(&ctx, &dealer, "inproc://direct-two-threads");
    let mut head = [0u8; 2];
    std::thread::scope(|sc| {
        // The sleeper's limit is far beyond the wake-up it must get.
        let sleeper = sc.spawn(|| dealer.recv_timeout(Duration::from_secs(30)));
        // Give the other thread time to fall asleep (if it has not, the
        // test passes without testing the wake-up; it cannot fail).
        std::thread::sleep(Duration::from_millis(200));
        dealer.send_frame(b"request").unwrap();
        raw.read_exact(&mut head).unwrap();
        let mut frame = vec![0u8; usize::from(head[1])];
        raw.read_exact(&mut frame).unwrap();
        assert_eq!(frame, b"request");
        let mut replies = vec![0x00, 5];
        replies.extend_from_slice(b"first");
        replies.extend_from_slice(&[0x00, 6]);
        replies.extend_from_slice(b"second");
        raw.write_all(&replies).unwrap();
        let mine = recv(&dealer);
        let woken = Instant::now();
        let theirs = sleeper
            .join()
            .unwrap()
            .expect("the sleeping receive gets the other reply");
        // Woken for it, not finding it when its own limit ran out.
        assert!(woken.elapsed() < WAIT, "{:?}", woken.elapsed());
        let mut got = [mine, theirs];
        got.sort();
        assert_eq!(got, [vec![b"first".to_vec()], vec![b"second".to_vec()]]);
    });
    drop(raw);
}
