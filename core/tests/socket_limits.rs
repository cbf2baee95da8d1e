//! Where fixed capacities meet the patterns: oversized and over-long
//! messages, long REP envelopes, long runs of filtered messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Net, Sock, bufs, data_frame, greeting_v30, leak, ready_frame, strs};
use zmtp_core::conn::{Config, MAX_PARTS};
use zmtp_core::monitor::EndpointPair;
use zmtp_core::socket::{ENVELOPE_FRAMES, SendError};
use zmtp_core::{Instant, SocketType};

fn many(n: usize) -> Vec<&'static [u8]> {
    vec![b"p".as_slice(); n]
}

#[test]
fn too_many_parts_is_an_error_for_every_sending_type() {
    let mut n = Net::<64>::new();
    let pairs = [
        (SocketType::Dealer, SocketType::Dealer),
        (SocketType::Push, SocketType::Pull),
        (SocketType::Pair, SocketType::Pair),
        (SocketType::Pub, SocketType::Sub),
        (SocketType::XPub, SocketType::Sub),
        (SocketType::XSub, SocketType::XPub),
        (SocketType::Req, SocketType::Rep),
    ];
    for (a, b) in pairs {
        let x = n.add_type(a);
        let y = n.add_type(b);
        n.connect(x, y);
        n.drive();
        if b == SocketType::Sub {
            n.sockets[y].subscribe(b"").unwrap();
            n.drive();
        }
        let limit = if a == SocketType::Req {
            MAX_PARTS - 1
        } else {
            MAX_PARTS
        };
        assert_eq!(
            n.sockets[x].send(&many(limit + 1)),
            Err(nb::Error::Other(SendError::TooManyParts)),
            "{a:?}"
        );
        n.sockets[x].send(&many(limit)).unwrap();
    }
    let r = n.add_type(SocketType::Router);
    let mut c = Config::new(SocketType::Dealer);
    c.set_routing_id(b"d").unwrap();
    let d = n.add(c);
    n.connect(r, d);
    n.drive();
    let mut parts = many(MAX_PARTS + 2);
    parts[0] = b"d";
    assert_eq!(
        n.sockets[r].send(&parts),
        Err(nb::Error::Other(SendError::TooManyParts))
    );
    n.sockets[r].send(&parts[..=MAX_PARTS]).unwrap();
    n.drive();
    assert_eq!(n.recv(d).unwrap().len(), MAX_PARTS);
}

#[test]
fn dealer_waits_rather_than_fail_when_one_peer_could_take_the_message_later() {
    let mut n = Net::<64>::new();
    let d = n.add_type(SocketType::Dealer);
    let small = n.add_type(SocketType::Dealer);
    let big = n.add_type(SocketType::Dealer);
    // The first peer's transmit buffer can never hold a 300-byte message.
    n.connect_with(d, small, bufs(1024, 256), bufs(1024, 1024));
    let lb = n.connect_with(d, big, bufs(1024, 1024), bufs(1024, 1024));
    n.drive();
    let m = "m".repeat(300);
    n.stall(lb);
    n.send(d, &[&m]);
    n.send(d, &[&m]);
    n.send(d, &[&m]);
    // The big peer is full for now: try again later, not "too large".
    assert_eq!(n.try_send(d, &[&m]), Err(nb::Error::WouldBlock));
    n.links[lb].up = true;
    n.drive();
    for _ in 0..3 {
        assert_eq!(n.recv_str(big).unwrap(), core::slice::from_ref(&m));
    }
    // With only the small peer left, the message can never go.
    n.cut(lb);
    assert_eq!(
        n.try_send(d, &[&m]),
        Err(nb::Error::Other(SendError::TooLarge))
    );
}

#[test]
fn rep_drops_a_request_whose_envelope_has_too_many_frames() {
    let mut n = Net::<64>::new();
    let (rep, d, _) = n.join(SocketType::Rep, SocketType::Dealer);
    let hops: Vec<String> = (0..=ENVELOPE_FRAMES).map(|i| format!("h{i}")).collect();
    let mut long: Vec<&str> = hops.iter().map(String::as_str).collect();
    long.extend(["", "too long"]);
    n.send(d, &long);
    // The delimiter counts: ENVELOPE_FRAMES - 1 hops fit.
    let mut ok: Vec<&str> = hops[2..].iter().map(String::as_str).collect();
    ok.extend(["", "fits"]);
    n.send(d, &ok);
    n.drive();
    // The first request cannot be answered with its whole envelope: it is
    // dropped rather than answered to the wrong place.
    assert_eq!(n.recv_str(rep).unwrap(), ["fits"]);
    n.send(rep, &["answer"]);
    n.drive();
    let mut want: Vec<&str> = hops[2..].iter().map(String::as_str).collect();
    want.extend(["", "answer"]);
    assert_eq!(n.recv_str(d).unwrap(), strs(&want));
}

#[test]
fn sub_finds_a_match_behind_many_filtered_messages() {
    // A publisher that does not filter (ZMTP 3.0 peers may ignore
    // subscriptions): the SUB drops everything else locally, however much
    // of it is queued, in one receive call.
    let now = Instant::from_millis(0);
    let mut c = Config::new(SocketType::Sub);
    c.rcvhwm = 0;
    let mut s = Sock::<4>::new(c, leak(256));
    let ep = EndpointPair::connect_pair("tcp://127.0.0.1:40000", "tcp://127.0.0.1:5555");
    let p = s.attach(now, bufs(32_768, 1024), 1, ep).unwrap();
    s.subscribe(b"A").unwrap();
    let mut input = greeting_v30().to_vec();
    input.extend(ready_frame("PUB"));
    for _ in 0..3000 {
        input.extend(data_frame(b"x", false));
    }
    input.extend(data_frame(b"A!", false));
    feed_after_handshake(&mut s, now, p, &input, "PUB");
    let mut buf = [0u8; 8];
    let info = s.recv(&mut buf).unwrap();
    assert_eq!(&buf[..info.len], b"A!");
}

#[test]
fn pub_applies_every_queued_subscription() {
    // More queued subscription frames than any fixed pass would take: all
    // are applied in one go.
    let now = Instant::from_millis(0);
    let mut s = Sock::<4>::new(Config::new(SocketType::Pub), leak(0));
    let ep = EndpointPair::bind_pair("tcp://127.0.0.1:5555", "tcp://127.0.0.1:40000");
    let mut b = bufs(65_536, 4096);
    b.subs = leak(256);
    let p = s.attach(now, b, 1, ep).unwrap();
    let mut input = greeting_v30().to_vec();
    input.extend(ready_frame("SUB"));
    for _ in 0..5000 {
        input.extend(data_frame(b"\x01Z", false));
        input.extend(data_frame(b"\x00Z", false));
    }
    input.extend(data_frame(b"\x01A", false));
    feed_after_handshake(&mut s, now, p, &input, "SUB");
    let mut out = [0u8; 1024];
    while s.poll_transmit(now, p, &mut out) > 0 {}
    s.send(&[b"A1"]).unwrap();
    let n = s.poll_transmit(now, p, &mut out);
    assert_eq!(&out[..n], data_frame(b"A1", false));
}

#[test]
fn long_and_empty_frames_survive_any_chunking() {
    for chunk in [1, 2, 7, 300, 65_536] {
        let mut n = Net::<64>::new();
        n.chunk = chunk;
        let (a, b, _) = n.join(SocketType::Dealer, SocketType::Dealer);
        let long = "L".repeat(1000);
        let short = "s".repeat(255);
        n.send(b, &["", &long, &short, "", "end"]);
        n.send(b, &[""]);
        n.drive();
        assert_eq!(
            n.recv_str(a).unwrap(),
            [
                String::new(),
                long.clone(),
                short,
                String::new(),
                "end".into()
            ],
            "chunk {chunk}"
        );
        assert_eq!(n.recv_str(a).unwrap(), [""], "chunk {chunk}");
    }
}

#[test]
fn a_frame_larger_than_the_receiver_allows_disconnects_without_retry() {
    // libzmq ZMQ_MAXMSGSIZE: the engine fails with a decode error:
    // DISCONNECTED, and the session is not reconnected.
    let mut n = Net::<64>::new();
    let mut c = Config::new(SocketType::Pull);
    c.max_msg_size = Some(100);
    let pull = n.add(c);
    let push = n.add_type(SocketType::Push);
    let l = n.connect(push, pull);
    n.drive();
    n.send(push, &[&"k".repeat(100)]);
    n.drive();
    assert_eq!(n.recv_str(pull).unwrap(), ["k".repeat(100)]);
    n.send(push, &[&"x".repeat(101)]);
    n.drive();
    assert_eq!(
        n.event_names(pull),
        ["CONNECTED", "HANDSHAKE_SUCCEEDED", "DISCONNECTED"]
    );
    let (h, reason) = n.sockets[pull].poll_closed().unwrap();
    assert_eq!(h, n.links[l].py);
    assert_eq!(reason, zmtp_core::conn::DisconnectReason::MessageTooLarge);
    assert!(!reason.should_reconnect());
    assert_eq!(n.recv(pull), None);
}

#[test]
fn a_subscription_that_does_not_fit_the_peer_store_is_ignored() {
    let mut n = Net::<64>::new();
    let xp = n.add_type(SocketType::XPub);
    let s = n.add_type(SocketType::Sub);
    // Room for one 2-byte topic (8 bytes of header each).
    let mut bx = bufs(1024, 1024);
    bx.subs = leak(10);
    n.connect_with(xp, s, bx, bufs(1024, 1024));
    n.drive();
    n.sockets[s].subscribe(b"AA").unwrap();
    n.sockets[s].subscribe(b"BB").unwrap();
    n.drive();
    assert_eq!(n.recv_all(xp), vec![strs(&["\x01AA"])]);
    n.send(xp, &["AA1"]);
    n.send(xp, &["BB1"]);
    n.drive();
    assert_eq!(n.recv_all(s), vec![strs(&["AA1"])]);
    // Freed room is used again.
    n.sockets[s].unsubscribe(b"AA").unwrap();
    n.sockets[s].subscribe(b"CC").unwrap();
    n.drive();
    assert_eq!(n.recv_all(xp), vec![strs(&["\x00AA"]), strs(&["\x01CC"])]);
}

#[test]
fn rep_keeps_the_request_answerable_after_an_oversized_reply() {
    let mut n = Net::<64>::new();
    let rep = n.add_type(SocketType::Rep);
    let req = n.add_type(SocketType::Req);
    n.connect_with(rep, req, bufs(1024, 512), bufs(1024, 1024));
    n.drive();
    n.deliver(req, rep, &["q"]);
    assert_eq!(
        n.try_send(rep, &[&"x".repeat(600)]),
        Err(nb::Error::Other(SendError::TooLarge))
    );
    assert_eq!(
        n.sockets[rep].send(&many(MAX_PARTS)),
        Err(nb::Error::Other(SendError::TooManyParts))
    );
    n.deliver(rep, req, &["small"]);
}

/// Feeds a peer's greeting and READY, lets our READY go out (which
/// completes the handshake), then feeds the rest of `input`.
fn feed_after_handshake<const E: usize>(
    s: &mut Sock<E>,
    now: Instant,
    p: zmtp_core::socket::PeerHandle,
    input: &[u8],
    peer_type: &str,
) {
    let hs = greeting_v30().len() + ready_frame(peer_type).len();
    assert_eq!(s.handle_input(now, p, &input[..hs]), hs);
    let mut out = [0u8; 1024];
    while s.poll_transmit(now, p, &mut out) > 0 {}
    assert_eq!(s.handle_input(now, p, &input[hs..]), input.len() - hs);
}

#[test]
fn closes_are_reported_once_each_in_slot_order() {
    // `has_unreported_close` and `poll_closed` keep their own set of closed
    // peers: every close is reported once, the lowest slot first, and a
    // detached peer's close is never reported.
    let mut n = Net::<64>::new();
    let pull = n.add_type(SocketType::Pull);
    let pushes: Vec<usize> = (0..4).map(|_| n.add_type(SocketType::Push)).collect();
    let links: Vec<usize> = pushes.iter().map(|&p| n.connect(pull, p)).collect();
    n.drive();
    assert!(!n.sockets[pull].has_unreported_close());
    assert_eq!(n.sockets[pull].poll_closed(), None);
    for &l in &[links[3], links[1], links[2]] {
        n.cut(l);
    }
    n.drive();
    let s = &mut n.sockets[pull];
    assert!(s.has_unreported_close());
    // Detached before its close was taken: never reported.
    let gone = n.links[links[2]].px;
    assert!(s.detach(gone).is_some());
    let mut order = Vec::new();
    while let Some((h, _)) = s.poll_closed() {
        order.push(h);
    }
    assert_eq!(order, [n.links[links[1]].px, n.links[links[3]].px]);
    assert!(!s.has_unreported_close());
    assert_eq!(s.poll_closed(), None);
    // A later close is reported too.
    n.cut(links[0]);
    n.drive();
    let s = &mut n.sockets[pull];
    assert!(s.has_unreported_close());
    assert_eq!(s.poll_closed().map(|(h, _)| h), Some(n.links[links[0]].px));
    assert!(!s.has_unreported_close());
}
