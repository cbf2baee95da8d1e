//! Frames of 16 KiB or more sent from buffers of their own (the I/O
//! thread's vectored writes and the application thread's direct writes)
//! to libzmq 4.3.4 peers (the `zmq` crate): sizes around the threshold in
//! single- and multipart messages, a receiver that starts late, REQ/REP
//! both ways, ROUTER to known and unknown ids, back pressure, a peer that
//! goes away with a backlog queued, round robin over two peers, PUB (which
//! copies) and linger. Every frame's content is its own, so loss,
//! duplication and reordering show.
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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use common::{QUIET, WAIT, bind, ours, pat, refs, same};
use peer::{TIMEOUT_MS, endpoints, zbind, zsock};
use zmtp_std::{Context, Error, SocketType};

/// The size from which a frame is sent from a buffer of its own.
const SEND_MIN: usize = 16 * 1024;

fn zsend(s: &zmq::Socket, m: &[Vec<u8>]) {
    s.send_multipart(m.iter().map(Vec::as_slice), 0).unwrap();
}

fn zrecv(s: &zmq::Socket, what: &str) -> Vec<Vec<u8>> {
    s.recv_multipart(0)
        .unwrap_or_else(|e| panic!("{what}: libzmq receive: {e}"))
}

/// One round of messages: sizes around the threshold and far over it, in
/// single frames and with the large frame first, in the middle and last.
/// Every frame's content depends on `round` and its place.
fn messages(round: u32) -> Vec<Vec<Vec<u8>>> {
    let shapes: [&[usize]; 16] = [
        &[0],
        &[1],
        &[SEND_MIN - 1],
        &[SEND_MIN],
        &[SEND_MIN + 1],
        &[65_536],
        &[1 << 20],
        &[SEND_MIN, 3, 0],
        &[2, SEND_MIN + 1, 5],
        &[0, 1, 65_536],
        &[65_536, SEND_MIN - 1, SEND_MIN, 1],
        &[7, 1 << 20],
        &[SEND_MIN - 1],
        &[40_000, 0, 40_001],
        &[3],
        &[SEND_MIN + 1, SEND_MIN + 1],
    ];
    let mut n = round * 1000;
    shapes
        .iter()
        .map(|sizes| {
            sizes
                .iter()
                .map(|&size| {
                    n += 1;
                    pat(n, size)
                })
                .collect()
        })
        .collect()
}

/// Our PUSH and DEALER to a libzmq PULL and DEALER over TCP and IPC:
/// several rounds of the mixed stream while the receiver starts reading
/// only once the sender has run ahead (its queue and the socket buffers
/// full, so the I/O thread writes several bodies at once and partially).
#[test]
fn stream_to_libzmq_with_a_late_receiver() {
    const ROUNDS: u32 = 6;
    for (ours_t, z_t, name) in [
        (SocketType::Push, zmq::PULL, "push"),
        (SocketType::Dealer, zmq::DEALER, "dealer"),
    ] {
        for ep in endpoints(name) {
            let zctx = zmq::Context::new();
            let zr = zsock(&zctx, z_t);
            zr.set_rcvhwm(4).unwrap();
            zr.set_rcvbuf(64 * 1024).unwrap();
            let ep = zbind(&zr, &ep);
            let ctx = Context::new().unwrap();
            let s = ours(&ctx, ours_t);
            s.connect(&ep).unwrap();
            let (sent_tx, sent_rx) = mpsc::channel();
            let sender = std::thread::spawn(move || {
                let mut k = 0;
                for round in 0..ROUNDS {
                    for m in messages(round) {
                        s.send(&refs(&m)).unwrap();
                        k += 1;
                        let _ = sent_tx.send(k);
                    }
                }
                s
            });
            // Start reading only once the sender is stuck behind a full
            // pipeline (its queue, the socket buffers and the receiver's
            // high-water mark): about 15 MiB do not fit.
            let total = ROUNDS as usize * messages(0).len();
            let mut sent = 0;
            let deadline = Instant::now() + WAIT;
            while Instant::now() < deadline {
                match sent_rx.recv_timeout(Duration::from_millis(300)) {
                    Ok(k) => sent = k,
                    Err(_) => break,
                }
            }
            assert!(
                sent > 0 && sent < total,
                "{ep}: the sender did not stall ({sent} of {total} sent)"
            );
            for round in 0..ROUNDS {
                for (i, w) in messages(round).iter().enumerate() {
                    let what = format!("{name} {ep}: round {round} message {i}");
                    same(&zrecv(&zr, &what), w, &what);
                }
            }
            zr.set_rcvtimeo(QUIET.as_millis() as i32).unwrap();
            assert_eq!(zr.recv_multipart(0), Err(zmq::Error::EAGAIN));
            drop(sender.join().unwrap());
        }
    }
}

/// Request/reply with large frames both ways: our REQ to a libzmq REP,
/// and a libzmq REQ to our REP (whose reply carries the envelope and the
/// large body), with sizes alternating from round to round.
#[test]
fn req_rep_with_libzmq_both_ways() {
    let size = |i: u32| [SEND_MIN, 5, 1 << 20, SEND_MIN - 1, 100_000, 0][i as usize % 6];
    const ROUNDS: u32 = 12;
    for ep in endpoints("reqrep") {
        // Our REQ, libzmq REP.
        let zctx = zmq::Context::new();
        let zrep = zsock(&zctx, zmq::REP);
        let zep = zbind(&zrep, &ep);
        let server = std::thread::spawn(move || {
            for i in 0..ROUNDS {
                let what = format!("libzmq REP: request {i}");
                let got = zrecv(&zrep, &what);
                same(&got, &[pat(i, size(i)), pat(i + 100, SEND_MIN)], &what);
                zsend(&zrep, &[pat(i + 200, size(i + 1)), pat(i + 300, 2)]);
            }
            zrep
        });
        let ctx = Context::new().unwrap();
        let req = ours(&ctx, SocketType::Req);
        req.connect(&zep).unwrap();
        for i in 0..ROUNDS {
            req.send(&[&pat(i, size(i)), &pat(i + 100, SEND_MIN)])
                .unwrap();
            let want = [pat(i + 200, size(i + 1)), pat(i + 300, 2)];
            same(&req.recv().unwrap(), &want, &format!("{zep}: reply {i}"));
        }
        drop(server.join().unwrap());

        // libzmq REQ, our REP.
        let rep = ours(&ctx, SocketType::Rep);
        let ep = bind(&rep, &ep);
        let zreq = zsock(&zctx, zmq::REQ);
        zreq.connect(&ep).unwrap();
        let server = std::thread::spawn(move || {
            for i in 0..ROUNDS {
                let got = rep.recv().unwrap();
                same(&got, &[pat(i + 400, size(i + 2))], &format!("request {i}"));
                rep.send(&[&pat(i + 500, size(i + 3)), &pat(i + 600, 1 << 16)])
                    .unwrap();
            }
            rep
        });
        for i in 0..ROUNDS {
            zsend(&zreq, &[pat(i + 400, size(i + 2))]);
            let what = format!("{ep}: reply {i} to libzmq REQ");
            let got = zrecv(&zreq, &what);
            same(
                &got,
                &[pat(i + 500, size(i + 3)), pat(i + 600, 1 << 16)],
                &what,
            );
        }
        drop(server.join().unwrap());
    }
}

/// Our ROUTER to a libzmq DEALER with large bodies, and to an id no
/// peer has: dropped, and later sends arrive as before.
#[test]
fn router_to_libzmq_dealer_and_to_an_unknown_id() {
    for ep in endpoints("router") {
        let ctx = Context::new().unwrap();
        let router = ours(&ctx, SocketType::Router);
        let ep = bind(&router, &ep);
        let zctx = zmq::Context::new();
        let zd = zsock(&zctx, zmq::DEALER);
        zd.set_identity(b"peer-1").unwrap();
        zd.connect(&ep).unwrap();
        zsend(&zd, &[b"hello".to_vec()]);
        assert_eq!(
            router.recv().unwrap(),
            vec![b"peer-1".to_vec(), b"hello".to_vec()]
        );
        for i in 0..30u32 {
            let body = vec![
                pat(i, [SEND_MIN, 200_000, 1, SEND_MIN + 1][i as usize % 4]),
                pat(i + 50, [0, 70_000][i as usize % 2]),
            ];
            if i % 3 == 1 {
                // A large message to nobody, between those to the peer.
                let lost = pat(i + 900, 300_000);
                router.send(&[b"nobody", &lost, &lost]).unwrap();
            }
            router.send(&[b"peer-1", &body[0], &body[1]]).unwrap();
            let what = format!("{ep}: message {i}");
            same(&zrecv(&zd, &what), &body, &what);
        }
        zd.set_rcvtimeo(QUIET.as_millis() as i32).unwrap();
        assert_eq!(zd.recv_multipart(0), Err(zmq::Error::EAGAIN));
        // And back: the ROUTER still reads its peer.
        zsend(&zd, &[pat(7000, 100_000)]);
        same(
            &router.recv().unwrap(),
            &[b"peer-1".to_vec(), pat(7000, 100_000)],
            &ep,
        );
    }
}

/// Back pressure: a small high-water mark and transmit buffer and a
/// libzmq PULL that does not read. Non-blocking sends succeed until
/// `WouldBlock`, a send with a short `ZMQ_SNDTIMEO` times out, and neither
/// of those is sent; once the PULL reads, a blocking send goes through and
/// the PULL gets exactly the accepted messages.
#[test]
fn back_pressure_wouldblock_and_sndtimeo() {
    for ep in endpoints("pressure") {
        let zctx = zmq::Context::new();
        let zpull = zsock(&zctx, zmq::PULL);
        zpull.set_rcvhwm(1).unwrap();
        zpull.set_rcvbuf(16 * 1024).unwrap();
        let ep = zbind(&zpull, &ep);
        let ctx = Context::new().unwrap();
        let push = ours(&ctx, SocketType::Push);
        push.set_sndhwm(4).unwrap();
        push.set_buffer_sizes(256 * 1024, 256 * 1024).unwrap();
        push.connect(&ep).unwrap();
        let msg = |i: u32| vec![pat(i, 8), pat(i + 10_000, 64 * 1024 + i as usize)];
        // The first blocking send waits for the connection.
        let mut accepted = vec![msg(0)];
        push.send(&refs(&accepted[0])).unwrap();
        // Non-blocking sends until one is refused; then a send that may wait
        // 300 ms, which goes through while the I/O thread still moves bytes
        // into the socket buffer and times out once the pipeline is stalled.
        let mut refused = 0u32;
        let mut stalled = false;
        for id in 1..2000u32 {
            let m = msg(id);
            match push.send_nonblocking(&refs(&m)) {
                Ok(()) => {
                    accepted.push(m);
                    continue;
                }
                Err(Error::WouldBlock) => refused += 1,
                Err(e) => panic!("{ep}: send {id}: {e}"),
            }
            push.set_sndtimeo(300).unwrap();
            let t0 = Instant::now();
            match push.send(&refs(&m)) {
                Ok(()) => accepted.push(m),
                Err(Error::WouldBlock) => {
                    assert!(
                        t0.elapsed() >= Duration::from_millis(250),
                        "{ep}: timed out early"
                    );
                    stalled = true;
                    break;
                }
                Err(e) => panic!("{ep}: timed send {id}: {e}"),
            }
        }
        assert!(stalled && refused > 0, "{ep}: never stalled");
        // Still full: refused again.
        assert!(matches!(
            push.send_nonblocking(&refs(&msg(5000))),
            Err(Error::WouldBlock)
        ));
        let n = accepted.len();
        // Now the PULL reads; a blocking send goes through.
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            for _ in 0..=n {
                got.push(zpull.recv_multipart(0).unwrap());
            }
            zpull.set_rcvtimeo(QUIET.as_millis() as i32).unwrap();
            assert_eq!(zpull.recv_multipart(0), Err(zmq::Error::EAGAIN));
            got
        });
        push.set_sndtimeo(TIMEOUT_MS).unwrap();
        let last = msg(6000);
        push.send(&refs(&last)).unwrap();
        accepted.push(last);
        let got = reader.join().unwrap();
        assert_eq!(got.len(), accepted.len(), "{ep}");
        for (i, (g, w)) in got.iter().zip(&accepted).enumerate() {
            same(g, w, &format!("{ep}: message {i}"));
        }
    }
}

/// Our DEALER with a backlog of large frames queued to a libzmq DEALER
/// that goes away; a new libzmq DEALER binds the same endpoint and ours
/// reconnects. What the new peer gets is whole messages, each exactly as
/// sent, in order, starting at a message boundary; what was queued to the
/// dead connection may be lost (as in libzmq).
#[test]
fn peer_goes_away_with_a_backlog_queued() {
    for ep in endpoints("away") {
        let zctx = zmq::Context::new();
        let old = zsock(&zctx, zmq::DEALER);
        old.set_rcvhwm(1).unwrap();
        old.set_rcvbuf(16 * 1024).unwrap();
        let ep = zbind(&old, &ep);
        let ctx = Context::new().unwrap();
        let dealer = ours(&ctx, SocketType::Dealer);
        dealer.set_reconnect_ivl(20).unwrap();
        dealer.set_reconnect_ivl_max(100).unwrap();
        dealer.connect(&ep).unwrap();
        let msg = |i: u32| {
            vec![
                i.to_be_bytes().to_vec(),
                pat(i, 100_000 + 1000 * (i as usize % 7)),
                pat(i + 50_000, [0, 3, SEND_MIN][i as usize % 3]),
            ]
        };
        // The first message waits for the connection; then a backlog.
        dealer.send(&refs(&msg(0))).unwrap();
        let mut next = 1u32;
        while next < 200 {
            match dealer.send_nonblocking(&refs(&msg(next))) {
                Ok(()) => next += 1,
                Err(Error::WouldBlock) => break,
                Err(e) => panic!("{ep}: send {next}: {e}"),
            }
        }
        assert!(next > 3, "{ep}: no backlog ({next})");
        // The old peer reads one message (so it saw a message boundary)
        // and goes away.
        same(&zrecv(&old, &ep), &msg(0), &format!("{ep}: old peer"));
        drop(old);
        let new = zsock(&zctx, zmq::DEALER);
        new.set_rcvtimeo(100).unwrap();
        let deadline = Instant::now() + WAIT;
        loop {
            match new.bind(&ep) {
                Ok(()) => break,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("{ep}: rebind: {e}"),
            }
        }
        // Messages sent from now on go to whichever connection ours has;
        // keep sending until the new peer gets one sent after the rebind.
        let marker_from = 1000u32;
        let mut got = Vec::new();
        let mut marker = marker_from;
        let deadline = Instant::now() + WAIT;
        'outer: while Instant::now() < deadline && marker < marker_from + 200 {
            dealer.send(&refs(&msg(marker))).unwrap();
            marker += 1;
            while let Ok(m) = new.recv_multipart(0) {
                let idx = u32::from_be_bytes(m[0].as_slice().try_into().unwrap());
                got.push((idx, m));
                if idx >= marker_from {
                    break 'outer;
                }
            }
        }
        assert!(
            got.last().is_some_and(|(i, _)| *i >= marker_from),
            "{ep}: the new peer got no message sent after it bound"
        );
        let mut prev = None;
        for (idx, m) in &got {
            same(
                m,
                &msg(*idx),
                &format!("{ep}: message {idx} at the new peer"),
            );
            assert!(prev < Some(*idx), "{ep}: {idx} after {prev:?}");
            assert!(*idx != 0, "{ep}: message 0 twice");
            prev = Some(*idx);
        }
    }
}

/// Our DEALER bound with two libzmq DEALERs connected: large messages
/// go round robin; each peer gets whole messages in order and together
/// they get every message once.
#[test]
fn round_robin_over_two_libzmq_dealers() {
    const N: u32 = 40;
    for ep in endpoints("rr") {
        let ctx = Context::new().unwrap();
        let dealer = ours(&ctx, SocketType::Dealer);
        let ep = bind(&dealer, &ep);
        let zctx = zmq::Context::new();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let mut peers = Vec::new();
        for k in 0..2u8 {
            let z = zsock(&zctx, zmq::DEALER);
            z.set_rcvtimeo(100).unwrap();
            z.connect(&ep).unwrap();
            zsend(&z, &[vec![b'h', k]]);
            let (stop, tx) = (Arc::clone(&stop), tx.clone());
            peers.push(std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(m) = z.recv_multipart(0) {
                        let _ = tx.send((k, m));
                        n += 1;
                    }
                }
                n
            }));
        }
        // Both handshakes are done once both greetings are read.
        let mut hellos = [dealer.recv().unwrap(), dealer.recv().unwrap()];
        hellos.sort();
        assert_eq!(hellos, [vec![b"h\0".to_vec()], vec![b"h\x01".to_vec()]]);
        let msg = |i: u32| vec![i.to_be_bytes().to_vec(), pat(i, 30_000 + 5000 * i as usize)];
        for i in 0..N {
            dealer.send(&refs(&msg(i))).unwrap();
        }
        let mut seen = vec![false; N as usize];
        let mut last = [None::<u32>; 2];
        for _ in 0..N {
            let (k, m) = rx.recv_timeout(WAIT).expect("a message is missing");
            let idx = u32::from_be_bytes(m[0].as_slice().try_into().unwrap());
            same(&m, &msg(idx), &format!("{ep}: peer {k} message {idx}"));
            assert!(!seen[idx as usize], "{ep}: message {idx} twice");
            seen[idx as usize] = true;
            assert!(last[k as usize] < Some(idx), "{ep}: peer {k} out of order");
            last[k as usize] = Some(idx);
        }
        assert!(rx.recv_timeout(QUIET).is_err(), "{ep}: a message too many");
        stop.store(true, Ordering::Relaxed);
        let counts: Vec<u32> = peers.into_iter().map(|p| p.join().unwrap()).collect();
        assert_eq!(counts, [N / 2, N / 2], "{ep}: round robin");
    }
}

/// Our PUB to a libzmq SUB: large frames (which PUB copies into its
/// queue) arrive intact.
#[test]
fn pub_to_libzmq_sub() {
    for ep in endpoints("pub") {
        let ctx = Context::new().unwrap();
        let publ = ours(&ctx, SocketType::Pub);
        let ep = bind(&publ, &ep);
        let zctx = zmq::Context::new();
        let sub = zsock(&zctx, zmq::SUB);
        sub.set_subscribe(b"").unwrap();
        sub.set_rcvtimeo(50).unwrap();
        sub.connect(&ep).unwrap();
        // Until the subscription is in, what PUB sends is dropped.
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "{ep}: no subscription");
            publ.send_frame(b"w").unwrap();
            if sub.recv_multipart(0).is_ok() {
                break;
            }
        }
        sub.set_rcvtimeo(TIMEOUT_MS).unwrap();
        let msg = |i: u32| {
            vec![
                vec![b'm', i as u8],
                pat(i, [SEND_MIN, 100_000, SEND_MIN - 1, 1][i as usize % 4]),
                pat(i + 100, [0, 70_000][i as usize % 2]),
            ]
        };
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            while got.len() < 20 {
                let m = sub.recv_multipart(0).unwrap();
                if m != [b"w".to_vec()] {
                    got.push(m);
                }
            }
            got
        });
        for i in 0..20u32 {
            publ.send(&refs(&msg(i))).unwrap();
        }
        for (i, m) in reader.join().unwrap().iter().enumerate() {
            same(m, &msg(i as u32), &format!("{ep}: message {i}"));
        }
    }
}

/// Linger -1: our PUSH closed right after queueing a backlog of large
/// frames; the libzmq PULL gets every message.
#[test]
fn linger_delivers_the_backlog_after_close() {
    for ep in endpoints("linger") {
        let zctx = zmq::Context::new();
        let zpull = zsock(&zctx, zmq::PULL);
        let ep = zbind(&zpull, &ep);
        let msg = |i: u32| vec![pat(i, 150_000 + i as usize), pat(i + 77, 1)];
        const N: u32 = 30;
        let ctx = Context::new().unwrap();
        let push = ours(&ctx, SocketType::Push);
        push.set_linger(-1).unwrap();
        push.connect(&ep).unwrap();
        for i in 0..N {
            push.send(&refs(&msg(i))).unwrap();
        }
        push.close().unwrap();
        let reader = std::thread::spawn(move || {
            (0..N)
                .map(|i| zrecv(&zpull, &format!("message {i}")))
                .collect::<Vec<_>>()
        });
        // Dropping the context waits for the lingering socket.
        drop(ctx);
        for (i, m) in reader.join().unwrap().iter().enumerate() {
            same(m, &msg(i as u32), &format!("{ep}: message {i}"));
        }
    }
}
