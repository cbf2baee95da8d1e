//! Socket patterns over the in-memory harness: PAIR, DEALER, PUSH/PULL,
//! ROUTER routing ids, REQ/REP envelopes and state machines (RFC 28, RFC 30,
//! RFC 31; libzmq `pair.cpp`, `lb.cpp`, `fq.cpp`, `router.cpp`, `req.cpp`,
//! `rep.cpp`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Net, strs, with_routing_id};
use zmtp_core::SocketType;
use zmtp_core::conn::{Config, DisconnectReason};
use zmtp_core::socket::{RecvError, SendError};

fn net() -> Net<64> {
    Net::new()
}

// ----------------------------------------------------------------------
// PAIR
// ----------------------------------------------------------------------

#[test]
fn pair_talks_to_one_peer_and_drops_a_second() {
    let mut n = net();
    let a = n.add_type(SocketType::Pair);
    let b = n.add_type(SocketType::Pair);
    let c = n.add_type(SocketType::Pair);
    let l1 = n.connect(a, b);
    n.drive();
    assert_eq!(n.sockets[a].ready_peers(), 1);
    let l2 = n.connect(a, c);
    n.drive();
    // libzmq pair_t::xattach_pipe terminates the second pipe: the session
    // closes locally (no DISCONNECTED on `a`), the transport goes away.
    assert_eq!(n.sockets[a].ready_peers(), 1);
    let px2 = n.links[l2].px;
    assert_eq!(
        n.sockets[a].poll_closed(),
        Some((px2, DisconnectReason::LocalClose))
    );
    assert_eq!(n.sockets[a].poll_closed(), None);
    assert_eq!(
        n.event_names(a),
        [
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED"
        ]
    );
    // The adapter closes that transport: the rejected peer sees it end.
    n.links[l2].up = false;
    let (now, py2) = (n.now, n.links[l2].py);
    n.sockets[c].handle_transport_closed(now, py2);
    assert_eq!(
        n.event_names(c),
        ["CONNECTED", "HANDSHAKE_SUCCEEDED", "DISCONNECTED"]
    );
    assert!(n.sockets[a].detach(px2).is_some());

    // The first peer is unaffected, both ways.
    n.deliver(b, a, &["ping"]);
    n.deliver(a, b, &["pong", "2"]);
    assert_eq!(n.recv(c), None);
    assert!(n.links[l1].up);
}

#[test]
fn pair_without_peer_would_block() {
    let mut n = net();
    let a = n.add_type(SocketType::Pair);
    assert_eq!(n.try_send(a, &["x"]), Err(nb::Error::WouldBlock));
    let b = n.add_type(SocketType::Pair);
    n.connect(a, b);
    // Before the handshake finished: still nowhere to send (ZMQ_IMMEDIATE).
    assert_eq!(n.try_send(a, &["x"]), Err(nb::Error::WouldBlock));
    n.drive();
    n.deliver(a, b, &["x"]);
}

// ----------------------------------------------------------------------
// DEALER, PUSH/PULL
// ----------------------------------------------------------------------

/// Socket `hub` of type `hub_t` bound, `k` sockets of type `leaf_t`
/// connected to it, one at a time so slot order is link order.
fn star(n: &mut Net<64>, hub_t: SocketType, leaf_t: SocketType, k: usize) -> (usize, Vec<usize>) {
    let hub = n.add_type(hub_t);
    let mut leaves = Vec::new();
    for _ in 0..k {
        let l = n.add_type(leaf_t);
        n.connect(hub, l);
        n.drive();
        leaves.push(l);
    }
    assert_eq!(n.sockets[hub].ready_peers(), k);
    (hub, leaves)
}

#[test]
fn dealer_round_robins_over_three_peers() {
    let mut n = net();
    let (d, peers) = star(&mut n, SocketType::Dealer, SocketType::Dealer, 3);
    for i in 0..6 {
        n.send(d, &["job", &i.to_string()]);
    }
    n.drive();
    for (k, &p) in peers.iter().enumerate() {
        let got = n.recv_all(p);
        let want = vec![
            strs(&["job", &k.to_string()]),
            strs(&["job", &(k + 3).to_string()]),
        ];
        assert_eq!(got, want, "peer {k}");
    }
}

#[test]
fn dealer_fair_queues_receive() {
    let mut n = net();
    let (d, peers) = star(&mut n, SocketType::Dealer, SocketType::Dealer, 3);
    for (k, &p) in peers.iter().enumerate() {
        n.send(p, &[&format!("p{k}-a"), "more"]);
        n.send(p, &[&format!("p{k}-b")]);
    }
    n.drive();
    let got = n.recv_all(d);
    assert_eq!(
        got,
        vec![
            strs(&["p0-a", "more"]),
            strs(&["p1-a", "more"]),
            strs(&["p2-a", "more"]),
            strs(&["p0-b"]),
            strs(&["p1-b"]),
            strs(&["p2-b"]),
        ]
    );
}

#[test]
fn push_round_robins_to_three_pulls() {
    let mut n = net();
    let (push, pulls) = star(&mut n, SocketType::Push, SocketType::Pull, 3);
    for i in 0..9 {
        n.send(push, &[&i.to_string()]);
    }
    n.drive();
    for (k, &p) in pulls.iter().enumerate() {
        let got = n.recv_all(p);
        let want: Vec<Vec<String>> = (0..3).map(|j| strs(&[&(k + 3 * j).to_string()])).collect();
        assert_eq!(got, want, "pull {k}");
    }
    // PUSH cannot receive, PULL cannot send.
    let mut buf = [0u8; 8];
    assert_eq!(
        n.sockets[push].recv(&mut buf),
        Err(nb::Error::Other(RecvError::NotSupported))
    );
    assert_eq!(
        n.try_send(pulls[0], &["x"]),
        Err(nb::Error::Other(SendError::NotSupported))
    );
}

#[test]
fn pull_fair_queues_three_pushes() {
    let mut n = net();
    let (pull, pushes) = star(&mut n, SocketType::Pull, SocketType::Push, 3);
    for (k, &p) in pushes.iter().enumerate() {
        for j in 0..3 {
            n.send(p, &[&format!("{k}.{j}")]);
        }
    }
    n.drive();
    let got = n.recv_all(pull);
    let mut want = Vec::new();
    for j in 0..3 {
        for k in 0..3 {
            want.push(strs(&[&format!("{k}.{j}")]));
        }
    }
    assert_eq!(got, want);
}

#[test]
fn dealer_skips_a_peer_that_left() {
    let mut n = net();
    let (d, peers) = star(&mut n, SocketType::Dealer, SocketType::Dealer, 3);
    n.cut(1);
    for i in 0..4 {
        n.send(d, &[&i.to_string()]);
    }
    n.drive();
    assert_eq!(n.recv_all(peers[0]), vec![strs(&["0"]), strs(&["2"])]);
    assert_eq!(n.recv_all(peers[1]), Vec::<Vec<String>>::new());
    assert_eq!(n.recv_all(peers[2]), vec![strs(&["1"]), strs(&["3"])]);
}

// ----------------------------------------------------------------------
// ROUTER
// ----------------------------------------------------------------------

#[test]
fn router_generates_five_byte_ids_from_the_seed() {
    let mut n = net();
    let r = n.add_type(SocketType::Router);
    n.sockets[r].set_routing_id_seed(0xFFFF_FFFE);
    let mut dealers = Vec::new();
    for _ in 0..3 {
        let d = n.add_type(SocketType::Dealer);
        let l = n.connect(r, d);
        n.drive();
        dealers.push((d, l));
    }
    // 0x00 + big-endian u32 counter, wrapping (libzmq router_t::identify_peer).
    let want: [&[u8]; 3] = [
        b"\x00\xFF\xFF\xFF\xFE",
        b"\x00\xFF\xFF\xFF\xFF",
        b"\x00\x00\x00\x00\x00",
    ];
    for (k, &(d, l)) in dealers.iter().enumerate() {
        let px = n.links[l].px;
        assert_eq!(n.sockets[r].routing_id(px), Some(want[k]), "peer {k}");
        n.send(d, &["hello"]);
        n.drive();
        let msg = n.recv(r).unwrap();
        assert_eq!(msg, vec![want[k].to_vec(), b"hello".to_vec()]);
    }
}

#[test]
fn router_uses_peer_announced_ids_and_routes_by_them() {
    let mut n = net();
    let r = n.add_type(SocketType::Router);
    let a = n.add(with_routing_id(Config::new(SocketType::Dealer), b"alice"));
    let anon = n.add_type(SocketType::Dealer);
    let b = n.add(with_routing_id(Config::new(SocketType::Dealer), b"bob"));
    n.sockets[r].set_routing_id_seed(5);
    for s in [a, anon, b] {
        n.connect(r, s);
    }
    n.drive();
    assert_eq!(n.sockets[r].ready_peers(), 3);

    for (s, body) in [(a, "from-a"), (anon, "from-anon"), (b, "from-b")] {
        n.send(s, &[body, "tail"]);
    }
    n.drive();
    let got = n.recv_all(r);
    assert_eq!(got.len(), 3);
    let find = |body: &str| {
        got.iter()
            .find(|m| m[1] == body)
            .map(|m| m[0].clone())
            .unwrap()
    };
    assert_eq!(find("from-a"), "alice");
    assert_eq!(find("from-b"), "bob");
    assert_eq!(got.iter().find(|m| m[1] == "from-anon").unwrap()[2], "tail");
    let anon_id = n.sockets[r].routing_id(n.links[1].px).unwrap().to_vec();
    assert_eq!(anon_id, b"\x00\x00\x00\x00\x05");

    // Replies go to the peer the first frame names, and only there.
    n.send(r, &["bob", "to-bob"]);
    n.send(r, &["alice", "to-alice", "2"]);
    let anon_frames: [&[u8]; 2] = [&anon_id, b"to-anon"];
    n.sockets[r].send(&anon_frames).unwrap();
    n.drive();
    assert_eq!(n.recv_all(a), vec![strs(&["to-alice", "2"])]);
    assert_eq!(n.recv_all(b), vec![strs(&["to-bob"])]);
    assert_eq!(n.recv_all(anon), vec![strs(&["to-anon"])]);
}

/// A ROUTER `r` and a connected peer of type `t` that announces routing id
/// `id`, handshaken.
fn router_and_named(t: SocketType, id: &[u8]) -> (Net<64>, usize, usize) {
    let mut n = net();
    let r = n.add_type(SocketType::Router);
    let p = n.add(with_routing_id(Config::new(t), id));
    n.connect(r, p);
    n.drive();
    (n, r, p)
}

#[test]
fn router_drops_messages_for_unknown_ids_silently() {
    let (mut n, r, d) = router_and_named(SocketType::Dealer, b"known");
    // libzmq without ROUTER_MANDATORY: the send succeeds, nothing goes out.
    n.send(r, &["nobody", "lost"]);
    n.send(r, &["know", "lost too"]);
    n.send(r, &["known", "kept"]);
    n.drive();
    assert_eq!(n.recv_all(d), vec![strs(&["kept"])]);
    assert_eq!(n.event_names(r), ["ACCEPTED", "HANDSHAKE_SUCCEEDED"]);
}

#[test]
fn router_ignores_a_second_peer_with_a_duplicate_id() {
    let mut n = net();
    let r = n.add_type(SocketType::Router);
    let c = with_routing_id(Config::new(SocketType::Dealer), b"dup");
    let first = n.add(c.clone());
    let second = n.add(c);
    n.connect(r, first);
    n.drive();
    let l2 = n.connect(r, second);
    n.drive();
    assert_eq!(n.sockets[r].ready_peers(), 1);
    assert_eq!(n.sockets[r].routing_id(n.links[l2].px), None);
    // libzmq router_t::identify_peer: "Ignore peers with duplicate ID": the
    // pipe stays anonymous, the connection stays up.
    assert_eq!(n.sockets[r].poll_closed(), None);
    assert_eq!(n.event_names(second), ["CONNECTED", "HANDSHAKE_SUCCEEDED"]);
    assert!(n.links[l2].up);

    n.send(second, &["ignored"]);
    n.send(first, &["heard"]);
    n.drive();
    assert_eq!(n.recv_all(r), vec![strs(&["dup", "heard"])]);
    n.send(r, &["dup", "to-first"]);
    n.drive();
    assert_eq!(n.recv_all(first), vec![strs(&["to-first"])]);
    assert_eq!(n.recv_all(second), Vec::<Vec<String>>::new());
}

#[test]
fn router_send_needs_a_routing_frame() {
    let mut n = net();
    let r = n.add_type(SocketType::Router);
    assert_eq!(
        n.sockets[r].send(&[]),
        Err(nb::Error::Other(SendError::EmptyMessage))
    );
}

// ----------------------------------------------------------------------
// REQ / REP
// ----------------------------------------------------------------------

fn req_rep() -> (Net<64>, usize, usize) {
    let mut n = net();
    let (rep, req, _) = n.join(SocketType::Rep, SocketType::Req);
    (n, req, rep)
}

#[test]
fn req_rep_round_trip_strips_and_restores_the_delimiter() {
    let (mut n, req, rep) = req_rep();
    for i in 0..3 {
        n.deliver(req, rep, &["hello", &i.to_string()]);
        n.deliver(rep, req, &["world", &i.to_string()]);
    }
}

#[test]
fn req_send_twice_is_efsm() {
    let (mut n, req, _rep) = req_rep();
    n.send(req, &["one"]);
    assert_eq!(
        n.try_send(req, &["two"]),
        Err(nb::Error::Other(SendError::Efsm))
    );
}

#[test]
fn req_recv_before_send_is_efsm() {
    let (mut n, req, _rep) = req_rep();
    assert_eq!(n.try_recv(req), Err(RecvError::Efsm));
}

#[test]
fn rep_send_before_recv_is_efsm() {
    let (mut n, _req, rep) = req_rep();
    assert_eq!(
        n.try_send(rep, &["unasked"]),
        Err(nb::Error::Other(SendError::Efsm))
    );
}

#[test]
fn rep_recv_twice_without_reply_is_efsm() {
    let mut n = net();
    let (rep, [(r1, _), (r2, _)]) = n.hub(SocketType::Rep, SocketType::Req);
    n.send(r1, &["q1"]);
    n.send(r2, &["q2"]);
    n.drive();
    assert_eq!(n.recv_str(rep).unwrap(), ["q1"]);
    assert_eq!(n.try_recv(rep), Err(RecvError::Efsm));
    n.send(rep, &["a1"]);
    assert_eq!(
        n.try_send(rep, &["again"]),
        Err(nb::Error::Other(SendError::Efsm))
    );
    assert_eq!(n.recv_str(rep).unwrap(), ["q2"]);
    n.send(rep, &["a2"]);
    n.drive();
    assert_eq!(n.recv_str(r1).unwrap(), ["a1"]);
    assert_eq!(n.recv_str(r2).unwrap(), ["a2"]);
}

#[test]
fn rep_sending_mid_request_is_efsm() {
    let (mut n, req, rep) = req_rep();
    n.send(req, &["part1", "part2"]);
    n.drive();
    let mut buf = [0u8; 16];
    let info = n.sockets[rep].recv(&mut buf).unwrap();
    assert!(info.more);
    assert_eq!(
        n.try_send(rep, &["early"]),
        Err(nb::Error::Other(SendError::Efsm))
    );
    let info = n.sockets[rep].recv(&mut buf).unwrap();
    assert!(!info.more);
    n.deliver(rep, req, &["ok"]);
}

#[test]
fn req_round_robins_across_two_reps() {
    let mut n = net();
    let req = n.add_type(SocketType::Req);
    let rep1 = n.add_type(SocketType::Rep);
    let rep2 = n.add_type(SocketType::Rep);
    n.connect(rep1, req);
    n.drive();
    n.connect(rep2, req);
    n.drive();
    let reps = [rep1, rep2];
    for i in 0..4 {
        n.send(req, &[&format!("q{i}")]);
        n.drive();
        let target = reps[i % 2];
        let other = reps[(i + 1) % 2];
        assert_eq!(n.recv_str(other), None, "request {i}");
        assert_eq!(n.recv_str(target).unwrap(), [format!("q{i}")]);
        n.send(target, &[&format!("a{i}")]);
        n.drive();
        assert_eq!(n.recv_str(req).unwrap(), [format!("a{i}")]);
    }
}

#[test]
fn req_to_router_shows_the_envelope() {
    let (mut n, router, req) = router_and_named(SocketType::Req, b"client");
    n.send(req, &["body", "more"]);
    n.drive();
    assert_eq!(n.recv_str(router).unwrap(), ["client", "", "body", "more"]);
    n.send(router, &["client", "", "reply"]);
    n.drive();
    assert_eq!(n.recv_str(req).unwrap(), ["reply"]);
}

#[test]
fn req_drops_a_reply_without_delimiter() {
    let (mut n, router, req) = router_and_named(SocketType::Req, b"client");
    n.send(req, &["q"]);
    n.drive();
    assert_eq!(n.recv_str(router).unwrap(), ["client", "", "q"]);
    n.send(router, &["client", "bad"]);
    n.send(router, &["client", "bad", ""]);
    n.send(router, &["client", ""]);
    n.send(router, &["client", "", "good"]);
    n.drive();
    assert_eq!(n.recv_str(req).unwrap(), ["good"]);
    assert_eq!(n.try_recv(req), Err(RecvError::Efsm));
}

#[test]
fn req_drops_replies_from_other_peers() {
    let mut n = net();
    let req = n.add_type(SocketType::Req);
    let mut ids = Vec::new();
    let mut routers = Vec::new();
    for _ in 0..2 {
        let r = n.add_type(SocketType::Router);
        let l = n.connect(r, req);
        n.drive();
        ids.push(n.sockets[r].routing_id(n.links[l].px).unwrap().to_vec());
        routers.push(r);
    }
    n.send(req, &["q"]);
    n.drive();
    let m = n.recv(routers[0]).unwrap();
    assert_eq!(m[1..], [b"".to_vec(), b"q".to_vec()]);
    // An unsolicited reply from the other router is dropped.
    let stray: [&[u8]; 3] = [&ids[1], b"", b"stray"];
    n.sockets[routers[1]].send(&stray).unwrap();
    n.drive();
    assert_eq!(n.recv_str(req), None);
    let real: [&[u8]; 3] = [&ids[0], b"", b"real"];
    n.sockets[routers[0]].send(&real).unwrap();
    n.drive();
    assert_eq!(n.recv_str(req).unwrap(), ["real"]);
}

#[test]
fn dealer_to_rep_needs_an_explicit_delimiter() {
    let mut n = net();
    let (rep, d, _) = n.join(SocketType::Rep, SocketType::Dealer);
    // No delimiter: REP discards the malformed request.
    n.send(d, &["no-delimiter"]);
    n.send(d, &["", "req"]);
    n.drive();
    assert_eq!(n.recv_str(rep).unwrap(), ["req"]);
    n.send(rep, &["rep"]);
    n.drive();
    assert_eq!(n.recv_str(d).unwrap(), ["", "rep"]);

    // A longer envelope (as after a ROUTER hop) is kept whole.
    n.send(d, &["hop2", "hop1", "", "req2", "x"]);
    n.drive();
    assert_eq!(n.recv_str(rep).unwrap(), ["req2", "x"]);
    n.send(rep, &["rep2"]);
    n.drive();
    assert_eq!(n.recv_str(d).unwrap(), ["hop2", "hop1", "", "rep2"]);
}

#[test]
fn rep_reply_to_a_requester_that_left_is_dropped() {
    let mut n = net();
    let (rep, [(r1, l1), (r2, _)]) = n.hub(SocketType::Rep, SocketType::Req);
    n.deliver(r1, rep, &["q1"]);
    n.cut(l1);
    // The reply has nowhere to go; REP is free for the next request.
    n.send(rep, &["lost"]);
    n.deliver(r2, rep, &["q2"]);
    n.deliver(rep, r2, &["a2"]);
}
