//! Frame bodies of 16 KiB or more, which the I/O thread reads into buffers
//! of their own outside the socket's lock and a receive takes without
//! copying: content and order with every receive API, sizes around the
//! threshold, multipart messages mixing small and large frames, the
//! fallback through the core's queue once the bodies kept for a connection
//! reach the receive buffer's size, REQ/REP and DEALER/ROUTER envelopes,
//! messages the pattern drops unread, libzmq 4.3.4 peers (the `zmq` crate),
//! a raw peer that dies or pauses inside a body, and `ZMQ_MAXMSGSIZE`.
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

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::Duration;

use common::{QUIET, WAIT, bind, ours, pat, refs, same};
use peer::{Ctx, Impl, Peer, endpoints, zsock};
use zmtp_std::{Context, Error, Message, MonitorSocket, Socket, SocketType};

const ALL: i32 = 0xFFFF;
/// The size from which the I/O thread reads a body itself.
const LARGE: usize = 16 * 1024;

/// Sizes around and far over the threshold, and multipart messages mixing
/// small, large and empty frames; every frame's content is its own.
/// Small and large messages alternate, so that a reused message gets a
/// small one after a large one and a large one after a small one.
fn messages(seed: u32) -> Vec<Vec<Vec<u8>>> {
    let shapes: Vec<Vec<usize>> = vec![
        vec![0],
        vec![1],
        vec![LARGE - 1],
        vec![LARGE],
        vec![LARGE + 1],
        vec![65_536],
        vec![3],
        vec![200_000],
        vec![1 << 20],
        vec![0],
        vec![10, 100_000, 5],
        vec![70_000, 40_000],
        vec![20_000, 0],
        vec![0, 20_000],
        vec![LARGE, 7],
        vec![LARGE - 1, LARGE],
        vec![300_000],
        vec![2],
    ];
    let mut n = seed.wrapping_mul(1000);
    shapes
        .into_iter()
        .map(|sizes| {
            sizes
                .into_iter()
                .map(|size| {
                    n += 1;
                    pat(n, size)
                })
                .collect()
        })
        .collect()
}

/// How a test receives.
#[derive(Debug, Clone, Copy)]
enum Api {
    Recv,
    RecvInto,
    RecvMsg,
}

/// Receives `want.len()` messages from `s` with `api` (one message reused
/// throughout for `recv_into`) and checks each.
fn receive_all(s: &Socket, api: Api, want: &[Vec<Vec<u8>>], what: &str) {
    let mut reused = Message::new();
    for (i, w) in want.iter().enumerate() {
        let got = match api {
            Api::Recv => s.recv(),
            Api::RecvInto => s.recv_into(&mut reused).map(|()| reused.to_vecs()),
            Api::RecvMsg => s.recv_msg().map(|m| {
                assert_eq!(m.property("Socket-Type"), Some(&b"PUSH"[..]));
                m.to_vecs()
            }),
        }
        .unwrap_or_else(|e| panic!("{what}: {api:?} message {i}: {e}"));
        same(&got, w, &format!("{what}: {api:?} message {i}"));
        if let Api::RecvInto = api {
            assert_eq!(reused.len(), w.len());
            for (k, f) in w.iter().enumerate() {
                assert_eq!(reused.frame(k), Some(f.as_slice()), "{what}: message {i}");
            }
        }
    }
}

/// Ours on both sides, PUSH to PULL over TCP and IPC: every message
/// arrives whole and in order with each of the three receive APIs.
#[test]
fn push_pull_sizes_around_the_threshold_with_every_receive_api() {
    for ep in endpoints("sizes") {
        let ctx = Context::new().unwrap();
        let pull = ours(&ctx, SocketType::Pull);
        let ep = bind(&pull, &ep);
        let push = ours(&ctx, SocketType::Push);
        push.connect(&ep).unwrap();
        let apis = [Api::Recv, Api::RecvInto, Api::RecvMsg];
        let sender = std::thread::spawn(move || {
            for seed in 0..apis.len() as u32 {
                for m in messages(seed) {
                    push.send(&refs(&m)).unwrap();
                }
            }
            push
        });
        for (seed, api) in apis.into_iter().enumerate() {
            receive_all(&pull, api, &messages(seed as u32), &ep);
        }
        assert!(matches!(pull.recv_timeout(QUIET), Err(Error::WouldBlock)));
        drop(sender.join().unwrap());
    }
}

/// `recv_into` with one reused message while the sender waits for each
/// message to be read: the receive reads the connection itself or the I/O
/// thread does, one message at a time, and a large body swapped into the
/// message is followed by small ones and by larger ones.
#[test]
fn recv_into_alternating_sizes_one_at_a_time() {
    for ep in endpoints("alt") {
        let ctx = Context::new().unwrap();
        let a = ours(&ctx, SocketType::Pair);
        let ep = bind(&a, &ep);
        let b = ours(&ctx, SocketType::Pair);
        b.connect(&ep).unwrap();
        let sizes = [
            100_000,
            10,
            LARGE,
            0,
            1 << 20,
            LARGE + 1,
            5,
            40_000,
            200_000,
            17,
        ];
        let mut msg = Message::new();
        for round in 0..3u32 {
            for (i, &n) in sizes.iter().enumerate() {
                let body = pat(round * 100 + i as u32, n);
                b.send_frame(&body).unwrap();
                a.recv_into(&mut msg).unwrap();
                assert_eq!(msg.len(), 1);
                assert!(
                    msg.frame(0) == Some(&body[..]),
                    "{ep}: round {round} size {n}"
                );
                // And back the other way, with the reply read right after a
                // small send.
                a.send_frame(&body[..n.min(3)]).unwrap();
                assert_eq!(b.recv().unwrap(), vec![body[..n.min(3)].to_vec()]);
            }
        }
    }
}

/// A small receive buffer and a sender far ahead of the receiver: the
/// bodies kept for the connection reach the buffer's size, later large
/// frames go through the core's queue, and once the receiver reads the
/// bodies are read outside the lock again. Everything arrives, in order.
#[test]
fn back_pressure_with_a_small_receive_buffer() {
    for ep in endpoints("pressure") {
        let ctx = Context::new().unwrap();
        let pull = ours(&ctx, SocketType::Pull);
        pull.set_buffer_sizes(256 * 1024, 256 * 1024).unwrap();
        let ep = bind(&pull, &ep);
        let push = ours(&ctx, SocketType::Push);
        push.connect(&ep).unwrap();
        let mut want: Vec<Vec<Vec<u8>>> = (0..300u32).map(|i| vec![pat(i, 64 * 1024)]).collect();
        for (k, at) in [7usize, 120, 299].into_iter().enumerate() {
            let k = k as u32;
            want.insert(
                at,
                vec![
                    pat(1000 + k, 40_000),
                    pat(2000 + k, 3),
                    pat(3000 + k, 30_000),
                ],
            );
            want.insert(at, vec![pat(4000 + k, 64 * 1024), Vec::new()]);
        }
        let (sent_tx, sent_rx) = mpsc::channel();
        let to_send = want.clone();
        let sender = std::thread::spawn(move || {
            for (i, m) in to_send.iter().enumerate() {
                push.send(&refs(m)).unwrap();
                let _ = sent_tx.send(i + 1);
            }
            push
        });
        // The sender runs ahead until the pipeline is full (its own queue
        // takes about 4 MiB); the receiver reads one message, lets the
        // sender fill the room, then reads the rest.
        let mut sent = 0;
        while sent < 40 {
            sent = sent_rx.recv_timeout(WAIT).expect("the sender is stuck");
        }
        let first = pull.recv().unwrap();
        same(&first, &want[0], "message 0");
        while sent < 60 {
            sent = sent_rx.recv_timeout(WAIT).expect("the sender is stuck");
        }
        let mut msg = Message::new();
        for (i, w) in want.iter().enumerate().skip(1) {
            let got = if i % 2 == 0 {
                pull.recv().unwrap()
            } else {
                pull.recv_into(&mut msg).unwrap();
                msg.to_vecs()
            };
            same(&got, w, &format!("{ep}: message {i}"));
        }
        assert!(matches!(pull.recv_timeout(QUIET), Err(Error::WouldBlock)));
        drop(sender.join().unwrap());
    }
}

/// REQ/REP, ours on both sides, large requests and large replies over
/// TCP and IPC (50 round trips over IPC), content checked both ways.
#[test]
fn req_rep_large_both_ways() {
    for (ep, rounds) in endpoints("reqrep").into_iter().zip([20u32, 50]) {
        let ctx = Context::new().unwrap();
        let rep = ours(&ctx, SocketType::Rep);
        let ep = bind(&rep, &ep);
        let req = ours(&ctx, SocketType::Req);
        req.connect(&ep).unwrap();
        let size = |i: u32| [LARGE, 100_000, 20, 300_000, LARGE + 1, 70_000][i as usize % 6];
        let server = std::thread::spawn(move || {
            let mut msg = Message::new();
            for i in 0..rounds {
                rep.recv_into(&mut msg).unwrap();
                let want = [pat(i, size(i)), pat(i + 500, 50_000)];
                assert_eq!(msg.len(), 2, "request {i}");
                assert!(msg.frame(0) == Some(&want[0][..]), "request {i}");
                assert!(msg.frame(1) == Some(&want[1][..]), "request {i}");
                let reply = pat(i + 1000, size(i + 1) * 2);
                rep.send(&[&reply, &[]]).unwrap();
            }
            rep
        });
        for i in 0..rounds {
            req.send(&[&pat(i, size(i)), &pat(i + 500, 50_000)])
                .unwrap();
            let got = req.recv().unwrap();
            same(
                &got,
                &[pat(i + 1000, size(i + 1) * 2), Vec::new()],
                &format!("{ep}: reply {i}"),
            );
        }
        drop(server.join().unwrap());
    }
}

/// DEALER/ROUTER, ours on both sides: the ROUTER gets the routing id
/// frame and then the large frames, and replies with large frames.
#[test]
fn dealer_router_large_both_ways() {
    for ep in endpoints("router") {
        let ctx = Context::new().unwrap();
        let router = ours(&ctx, SocketType::Router);
        let ep = bind(&router, &ep);
        let dealer = ours(&ctx, SocketType::Dealer);
        dealer.set_routing_id(b"dealer-1").unwrap();
        dealer.connect(&ep).unwrap();
        for i in 0..10u32 {
            let m = vec![pat(i, 100_000), pat(i + 50, 8), pat(i + 100, LARGE)];
            dealer.send(&refs(&m)).unwrap();
            let got = router.recv().unwrap();
            assert_eq!(got[0], b"dealer-1");
            same(&got[1..], &m, &format!("{ep}: request {i}"));
            let reply = vec![pat(i + 200, 0), pat(i + 300, 250_000 + i as usize)];
            router.send(&[b"dealer-1", &reply[0], &reply[1]]).unwrap();
            same(&dealer.recv().unwrap(), &reply, &format!("{ep}: reply {i}"));
        }
        // A burst from the DEALER before the ROUTER reads.
        let burst: Vec<Vec<Vec<u8>>> = (0..20u32)
            .map(|i| vec![pat(i + 400, 30_000 + 1000 * i as usize), pat(i + 450, 1)])
            .collect();
        for m in &burst {
            dealer.send(&refs(m)).unwrap();
        }
        let mut msg = Message::new();
        for (i, m) in burst.iter().enumerate() {
            router.recv_into(&mut msg).unwrap();
            let got = msg.to_vecs();
            assert_eq!(got[0], b"dealer-1");
            same(&got[1..], m, &format!("{ep}: burst {i}"));
        }
    }
}

/// A REQ connected to two REPs: requests alternate between them and every
/// large reply comes from the REP that was asked.
#[test]
fn req_with_two_reps() {
    for ep in endpoints("tworeps") {
        let ctx = Context::new().unwrap();
        let req = ours(&ctx, SocketType::Req);
        let ep = bind(&req, &ep);
        let mut servers = Vec::new();
        for k in 0..2u32 {
            let rep = ours(&ctx, SocketType::Rep);
            rep.connect(&ep).unwrap();
            servers.push(std::thread::spawn(move || {
                let mut n = 0;
                // Each REP answers requests until it gets "stop".
                loop {
                    let m = rep.recv().unwrap();
                    if m == [b"stop".to_vec()] {
                        rep.send_frame(b"").unwrap();
                        return n;
                    }
                    n += 1;
                    let mut reply = pat(10_000 * (k + 1), m[0].len() + 1);
                    reply[..4].copy_from_slice(&m[0][..4]);
                    rep.send(&[&reply, &[k as u8]]).unwrap();
                }
            }));
        }
        // Both REPs are connected once each has answered a request (a REQ
        // sends only to connections that finished their handshake).
        let mut from = [0usize; 2];
        for i in 0..30u32 {
            let mut request = pat(i, 40_000 + 1000 * i as usize);
            request[..4].copy_from_slice(&i.to_be_bytes());
            req.send_frame(&request).unwrap();
            let got = req.recv().unwrap();
            assert_eq!(got.len(), 2, "reply {i}");
            let k = got[1][0];
            assert!(k < 2);
            from[usize::from(k)] += 1;
            let mut want = pat(10_000 * (u32::from(k) + 1), request.len() + 1);
            want[..4].copy_from_slice(&i.to_be_bytes());
            same(&got[..1], &[want], &format!("{ep}: reply {i}"));
        }
        for _ in 0..2 {
            req.send_frame(b"stop").unwrap();
            req.recv().unwrap();
        }
        let answered: Vec<usize> = servers.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(answered.iter().sum::<usize>(), 30);
        assert_eq!(answered, from.to_vec());
    }
}

/// A REP of either implementation gets requests from a libzmq DEALER: each
/// good request (an empty delimiter, a large frame and a small one) comes
/// after a large request without a delimiter and a multipart one without
/// a delimiter, which the REP drops unread (libzmq's REP reads on to the
/// next request within the same receive).
fn rep_drops_malformed_requests(imp: Impl, tcp: bool) {
    let ctx = Ctx::new();
    let rep = Peer::new(&ctx, imp, SocketType::Rep);
    let ep = rep.bind(&if tcp {
        "tcp://127.0.0.1:*".to_owned()
    } else {
        peer::ipc_endpoint("dropped-rep")
    });
    let dealer = zsock(&ctx.zmq, zmq::DEALER);
    dealer.connect(&ep).unwrap();
    for i in 0..5u32 {
        dealer.send(&pat(i + 600, 40_000)[..], 0).unwrap();
        dealer
            .send_multipart([&pat(i + 700, 20_000)[..], &pat(i + 800, 30_000)[..]], 0)
            .unwrap();
        let request = vec![pat(i + 900, 45_000), pat(i + 950, 3)];
        dealer
            .send_multipart([&[][..], &request[0][..], &request[1][..]], 0)
            .unwrap();
        same(
            &rep.recv(),
            &request,
            &format!("{imp:?} tcp {tcp}: request {i}"),
        );
        let reply = pat(i + 990, 33_000);
        rep.send(std::slice::from_ref(&reply));
        same(
            &dealer.recv_multipart(0).unwrap(),
            &[Vec::new(), reply],
            &format!("{imp:?} tcp {tcp}: reply {i}"),
        );
    }
}

/// The scenario of the test below with libzmq's REP: what it expects of
/// ours is what libzmq does.
#[test]
fn libzmq_rep_drops_malformed_requests_and_reads_on() {
    for tcp in [true, false] {
        rep_drops_malformed_requests(Impl::Libzmq, tcp);
    }
}

/// Messages our REP drops unread leave their bodies behind, which must not
/// be taken for the good request's.
///
/// The good request is a multi-frame message whose large frame the I/O
/// thread cannot see whole in what it read, so it waits for the receive
/// queue to empty; the receive that drops the malformed requests empties
/// it and must wake the I/O thread, or the receive times out.
#[test]
fn rep_drops_malformed_requests_and_reads_on() {
    for tcp in [true, false] {
        rep_drops_malformed_requests(Impl::Ours, tcp);
    }
}

/// libzmq 4.3.4 PUSH to our PULL, and our PUSH to a libzmq PULL, over
/// TCP and IPC; either side binds.
#[test]
fn interop_with_libzmq_push_and_pull() {
    for ep in endpoints("interop") {
        let zctx = zmq::Context::new();
        let ctx = Context::new().unwrap();
        // libzmq PUSH connects to our PULL.
        let pull = ours(&ctx, SocketType::Pull);
        let our_ep = bind(&pull, &ep);
        let zpush = zsock(&zctx, zmq::PUSH);
        zpush.connect(&our_ep).unwrap();
        let want = messages(7);
        let to_send = want.clone();
        let sender = std::thread::spawn(move || {
            for m in &to_send {
                zpush.send_multipart(refs(m), 0).unwrap();
            }
            zpush
        });
        let mut msg = Message::new();
        for (i, w) in want.iter().enumerate() {
            let got = if i % 2 == 0 {
                pull.recv().unwrap()
            } else {
                pull.recv_into(&mut msg).unwrap();
                msg.to_vecs()
            };
            same(&got, w, &format!("{ep}: from libzmq, message {i}"));
        }
        drop(sender.join().unwrap());
        // Our PUSH connects to a libzmq PULL.
        let zpull = zsock(&zctx, zmq::PULL);
        let zep = if ep.starts_with("tcp") {
            "tcp://127.0.0.1:*".to_owned()
        } else {
            peer::ipc_endpoint("interop-z")
        };
        zpull.bind(&zep).unwrap();
        let zep = zpull.get_last_endpoint().unwrap().unwrap();
        let push = ours(&ctx, SocketType::Push);
        push.connect(&zep).unwrap();
        let want = messages(8);
        let to_send = want.clone();
        let sender = std::thread::spawn(move || {
            for m in &to_send {
                push.send(&refs(m)).unwrap();
            }
            push
        });
        for (i, w) in want.iter().enumerate() {
            same(
                &zpull.recv_multipart(0).unwrap(),
                w,
                &format!("{ep}: to libzmq, message {i}"),
            );
        }
        drop(sender.join().unwrap());
        // And a libzmq PUSH that binds, our PULL connecting.
        let zpush = zsock(&zctx, zmq::PUSH);
        let zep = if ep.starts_with("tcp") {
            "tcp://127.0.0.1:*".to_owned()
        } else {
            peer::ipc_endpoint("interop-zpush")
        };
        zpush.bind(&zep).unwrap();
        let zep = zpush.get_last_endpoint().unwrap().unwrap();
        let pull2 = ours(&ctx, SocketType::Pull);
        pull2.connect(&zep).unwrap();
        let want = messages(9);
        for m in &want {
            zpush.send_multipart(refs(m), 0).unwrap();
        }
        for (i, w) in want.iter().enumerate() {
            let m = pull2.recv_msg().unwrap();
            same(&m.to_vecs(), w, &format!("{ep}: libzmq binds, message {i}"));
        }
    }
}

// Raw peers ---------------------------------------------------------------

/// The header of a data frame of `size` bytes (always the long form, which
/// ZMTP allows for any size).
fn long_header(size: usize, more: bool) -> Vec<u8> {
    let mut h = vec![0x02 | u8::from(more)];
    h.extend((size as u64).to_be_bytes());
    h
}

/// A whole data frame, in the short form when it fits.
fn frame(body: &[u8], more: bool) -> Vec<u8> {
    let mut f = match u8::try_from(body.len()) {
        Ok(n) => vec![u8::from(more), n],
        Err(_) => long_header(body.len(), more),
    };
    f.extend(body);
    f
}

/// A raw client connection of either transport.
fn raw_connect(ep: &str) -> Box<dyn Write + Send> {
    if let Some(addr) = ep.strip_prefix("tcp://") {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_write_timeout(Some(WAIT)).unwrap();
        Box::new(s)
    } else {
        let s = UnixStream::connect(ep.strip_prefix("ipc://").unwrap()).unwrap();
        s.set_write_timeout(Some(WAIT)).unwrap();
        Box::new(s)
    }
}

/// Event names up to and including `last`.
fn events_until(mon: &MonitorSocket, last: &str) -> Vec<&'static str> {
    let mut names = Vec::new();
    for _ in 0..20 {
        let e = common::next(mon);
        names.push(e.name());
        if e.name() == last {
            return names;
        }
    }
    panic!("no {last} in {names:?}");
}

/// Writes `bytes` in `pieces` writes with a pause after each (the reader
/// gets them on separate readiness events).
fn write_paced(s: &mut dyn Write, bytes: &[u8], pieces: usize) {
    let step = bytes.len().div_ceil(pieces).max(1);
    for (i, chunk) in bytes.chunks(step).enumerate() {
        if let Err(e) = s.write_all(chunk) {
            panic!("piece {i} of {step} bytes: {e}");
        }
        s.flush().unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// A peer that dies inside a large body: DISCONNECTED, nothing
/// delivered, and a well-behaved peer's large messages come through after
/// it. The body arrives in one write or in several with pauses.
#[test]
fn peer_dying_inside_a_large_body() {
    for ep in endpoints("dies") {
        for pieces in [1usize, 4] {
            let ctx = Context::new().unwrap();
            let pull = ours(&ctx, SocketType::Pull);
            pull.monitor(Some("inproc://dies"), ALL).unwrap();
            let mon = ctx.monitor_socket("inproc://dies").unwrap();
            let ep = bind(&pull, &ep);
            common::expect(&mon, "LISTENING");
            let mut raw = raw_connect(&ep);
            raw.write_all(&common::null_handshake("PUSH")).unwrap();
            assert_eq!(
                events_until(&mon, "HANDSHAKE_SUCCEEDED"),
                ["ACCEPTED", "HANDSHAKE_SUCCEEDED"]
            );
            // A whole small message first, then 30 000 of 100 000 bytes.
            raw.write_all(&frame(b"before", false)).unwrap();
            let mut partial = long_header(100_000, false);
            partial.extend(pat(1, 30_000));
            write_paced(&mut *raw, &partial, pieces);
            drop(raw);
            assert_eq!(events_until(&mon, "DISCONNECTED"), ["DISCONNECTED"]);
            assert_eq!(pull.recv().unwrap(), [b"before".to_vec()]);
            assert!(
                matches!(pull.recv_timeout(QUIET), Err(Error::WouldBlock)),
                "{ep}: a message from the cut body"
            );
            // A multipart message cut inside its second, large frame.
            let mut raw = raw_connect(&ep);
            let mut bytes = common::null_handshake("PUSH");
            bytes.extend(frame(&pat(2, 20_000), true));
            bytes.extend(long_header(80_000, false));
            bytes.extend(pat(3, 50_000));
            write_paced(&mut *raw, &bytes, pieces);
            drop(raw);
            assert_eq!(
                events_until(&mon, "DISCONNECTED"),
                ["ACCEPTED", "HANDSHAKE_SUCCEEDED", "DISCONNECTED"]
            );
            assert!(
                matches!(pull.recv_timeout(QUIET), Err(Error::WouldBlock)),
                "{ep}: part of a cut message"
            );
            // A well-behaved peer.
            let push = ours(&ctx, SocketType::Push);
            push.connect(&ep).unwrap();
            let want = [
                vec![pat(4, 200_000)],
                vec![pat(5, 10), pat(6, 70_000)],
                vec![pat(7, 1 << 20)],
            ];
            for m in &want {
                push.send(&refs(m)).unwrap();
            }
            for (i, w) in want.iter().enumerate() {
                same(&pull.recv().unwrap(), w, &format!("{ep}: message {i}"));
            }
        }
    }
}

/// A peer that sends large bodies in several writes with pauses
/// (each piece on a readiness event of its own): every message arrives
/// whole, the small ones between them too.
#[test]
fn large_bodies_arriving_in_pieces() {
    for ep in endpoints("pieces") {
        let ctx = Context::new().unwrap();
        let pull = ours(&ctx, SocketType::Pull);
        let ep = bind(&pull, &ep);
        let mut raw = raw_connect(&ep);
        raw.write_all(&common::null_handshake("PUSH")).unwrap();
        let want = [
            vec![pat(10, 100_000)],
            vec![pat(11, 5)],
            vec![pat(12, LARGE), pat(13, 40_000)],
            vec![pat(14, 300_000)],
        ];
        let mut bytes = Vec::new();
        for m in &want {
            for (k, f) in m.iter().enumerate() {
                bytes.extend(frame(f, k + 1 < m.len()));
            }
        }
        // Pieces that split headers and bodies at odd places, written
        // while the application receives.
        let writer = std::thread::spawn(move || {
            write_paced(&mut *raw, &bytes, 13);
            raw
        });
        let mut msg = Message::new();
        for (i, w) in want.iter().enumerate() {
            pull.recv_into(&mut msg).unwrap();
            same(&msg.to_vecs(), w, &format!("{ep}: message {i}"));
        }
        drop(writer.join().unwrap());
    }
}

// ZMQ_MAXMSGSIZE ------------------------------------------------------------

/// Against a PULL of either implementation with MAXMSGSIZE 64 KiB, a
/// libzmq PUSH sends `bad` (too large), then, once it reconnected, a
/// message under the limit. Returns the receiver's events from the first
/// ACCEPTED on, and checks that only the good message arrives.
fn maxmsgsize_flow(imp: Impl, tcp: bool, bad: &[Vec<u8>]) -> Vec<&'static str> {
    let ctx = Ctx::new();
    let pull = Peer::new(&ctx, imp, SocketType::Pull);
    match &pull {
        Peer::Ours(s) => s.set_maxmsgsize(64 * 1024).unwrap(),
        Peer::Libzmq(s) => s.set_maxmsgsize(64 * 1024).unwrap(),
    }
    let mon = pull.monitor(&ctx, "maxmsgsize", ALL);
    let ep = pull.bind(&if tcp {
        "tcp://127.0.0.1:*".to_owned()
    } else {
        peer::ipc_endpoint("maxmsgsize")
    });
    assert_eq!(mon.next().name(), "LISTENING");
    let push = Peer::new(&ctx, Impl::Libzmq, SocketType::Push);
    push.set_reconnect(20, 0);
    push.connect(&ep);
    push.send(bad);
    let mut names: Vec<&'static str> = mon
        .until("DISCONNECTED")
        .iter()
        .map(peer::Ev::name)
        .collect();
    assert!(
        pull.recv_within(QUIET).is_none(),
        "{imp:?}: a message over MAXMSGSIZE was delivered"
    );
    // The PUSH reconnects; a message under the limit gets through.
    names.extend(mon.until("HANDSHAKE_SUCCEEDED").iter().map(peer::Ev::name));
    let good = vec![pat(50, 60_000), pat(51, 64 * 1024)];
    push.send(&good);
    same(&pull.recv(), &good, &format!("{imp:?}: under the limit"));
    names
}

/// MAXMSGSIZE applies to frames whose bodies the I/O thread reads: the
/// connection closes at the header of a 100 KiB frame (whole or in a
/// multipart message), nothing of the message is delivered, and the
/// events are libzmq's.
#[test]
fn maxmsgsize_closes_on_a_large_frame_as_libzmq_does() {
    let cases = [
        vec![pat(40, 100 * 1024)],
        vec![pat(41, 20_000), pat(42, 100 * 1024)],
    ];
    for tcp in [true, false] {
        for bad in &cases {
            let theirs = maxmsgsize_flow(Impl::Libzmq, tcp, bad);
            let ours = maxmsgsize_flow(Impl::Ours, tcp, bad);
            assert_eq!(ours, theirs, "tcp {tcp}, frames {}", bad.len());
            assert!(ours.contains(&"DISCONNECTED"));
        }
    }
}

/// A large frame of exactly MAXMSGSIZE bytes is delivered, one byte more
/// closes the connection (ours on both sides).
#[test]
fn maxmsgsize_boundary_for_large_frames() {
    let ctx = Context::new().unwrap();
    let pull = ours(&ctx, SocketType::Pull);
    pull.set_maxmsgsize(40_000).unwrap();
    pull.monitor(Some("inproc://boundary"), ALL).unwrap();
    let mon = ctx.monitor_socket("inproc://boundary").unwrap();
    let ep = bind(&pull, "tcp://127.0.0.1:*");
    common::expect(&mon, "LISTENING");
    let push = ours(&ctx, SocketType::Push);
    push.set_reconnect_ivl(20).unwrap();
    push.connect(&ep).unwrap();
    let exact = pat(60, 40_000);
    push.send_frame(&exact).unwrap();
    assert_eq!(pull.recv().unwrap(), [exact]);
    assert_eq!(
        events_until(&mon, "HANDSHAKE_SUCCEEDED"),
        ["ACCEPTED", "HANDSHAKE_SUCCEEDED"]
    );
    push.send_frame(&pat(61, 40_001)).unwrap();
    assert_eq!(events_until(&mon, "DISCONNECTED"), ["DISCONNECTED"]);
    assert!(matches!(pull.recv_timeout(QUIET), Err(Error::WouldBlock)));
}

// Helpers' own checks -------------------------------------------------------

#[test]
fn patterns_differ_between_seeds_and_along_a_body() {
    assert_ne!(pat(1, 4096), pat(2, 4096));
    let p = pat(3, 64 * 1024);
    // Any 8 KiB window differs from the one 8 KiB further on.
    for at in (0..p.len() - 16 * 1024).step_by(4096) {
        assert_ne!(p[at..at + 8192], p[at + 8192..at + 16_384], "at {at}");
    }
}
