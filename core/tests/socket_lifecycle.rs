//! Peer lifecycle: `poll_closed` reports, `detach` and re-attach of the
//! same buffers (a reconnect), slot limits, and what happens to messages a
//! peer sent before it went away (libzmq reads a pipe up to its delimiter:
//! messages that arrived before a disconnect are still delivered).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Net, bufs, strs};
use zmtp_core::conn::{Config, DisconnectReason};
use zmtp_core::monitor::{EndpointPair, errno};
use zmtp_core::socket::{AttachError, PeerHandle};
use zmtp_core::{Duration, Instant, SocketType};

#[test]
fn poll_closed_reports_each_closed_peer_once_with_its_reason() {
    let mut n = Net::<64>::new();
    let mut c = Config::new(SocketType::Dealer);
    c.heartbeat.interval = Duration::from_millis(100);
    let hub = n.add(c);
    let leaves: Vec<usize> = (0..4)
        .map(|_| {
            let l = n.add_type(SocketType::Dealer);
            n.connect(hub, l);
            l
        })
        .collect();
    n.drive();
    assert_eq!(n.sockets[hub].poll_closed(), None);
    let ph = |n: &Net<64>, l: usize| n.links[l].px;

    n.cut(0);
    let (now, p1) = (n.now, ph(&n, 1));
    n.sockets[hub].handle_transport_error(now, p1, errno::ECONNRESET);
    n.links[1].up = false;
    let p2 = ph(&n, 2);
    n.sockets[hub].close_peer(p2);
    n.stall(3);
    n.advance(300);

    let mut closed = Vec::new();
    while let Some(c) = n.sockets[hub].poll_closed() {
        closed.push(c);
    }
    closed.sort_by_key(|(h, _)| *h);
    assert_eq!(
        closed,
        [
            (
                ph(&n, 0),
                DisconnectReason::Transport {
                    errno: errno::EPIPE
                }
            ),
            (
                ph(&n, 1),
                DisconnectReason::Transport {
                    errno: errno::ECONNRESET
                }
            ),
            (ph(&n, 2), DisconnectReason::LocalClose),
            (ph(&n, 3), DisconnectReason::HeartbeatTimeout),
        ]
    );
    assert_eq!(n.sockets[hub].poll_closed(), None);
    // Every slot stays taken until detached.
    assert_eq!(n.sockets[hub].peers().count(), 4);
    for l in 0..4 {
        let p = ph(&n, l);
        assert!(n.sockets[hub].detach(p).is_some());
        assert!(n.sockets[hub].detach(p).is_none());
    }
    assert_eq!(n.sockets[hub].peers().count(), 0);
    assert_eq!(n.sockets[hub].poll_closed(), None);
    let _ = leaves;
}

#[test]
fn detached_buffers_can_be_reattached_for_a_reconnect() {
    let mut n = Net::<64>::new();
    let server = n.add_type(SocketType::Router);
    n.sockets[server].set_routing_id_seed(1);
    let client = n.add_type(SocketType::Dealer);
    let l = n.connect(server, client);
    n.drive();
    n.send(client, &["before"]);
    n.drive();
    assert_eq!(
        n.recv(server).unwrap(),
        [b"\x00\x00\x00\x00\x01".to_vec(), b"before".to_vec()]
    );

    n.cut(l);
    let (px, py) = (n.links[l].px, n.links[l].py);
    let (_, reason) = n.sockets[client].poll_closed().unwrap();
    assert!(reason.should_reconnect());
    assert!(n.sockets[server].poll_closed().is_some());
    let bx = n.sockets[server].detach(px).unwrap();
    let by = n.sockets[client].detach(py).unwrap();
    let sizes = (bx.rx.len(), bx.tx.len(), by.rx.len(), by.tx.len());
    assert_eq!(sizes, (4096, 4096, 4096, 4096));

    let l2 = n.connect_with(server, client, bx, by);
    // The slots are reused.
    assert_eq!((n.links[l2].px, n.links[l2].py), (px, py));
    n.drive();
    n.send(client, &["after", "2"]);
    n.drive();
    // A new connection: a new generated routing id.
    assert_eq!(
        n.recv(server).unwrap(),
        [
            b"\x00\x00\x00\x00\x02".to_vec(),
            b"after".to_vec(),
            b"2".to_vec()
        ]
    );
    n.send(server, &["\x00\x00\x00\x00\x02", "back"]);
    n.drive();
    assert_eq!(n.recv_str(client).unwrap(), ["back"]);
    assert_eq!(
        n.event_names(client),
        [
            "CONNECTED",
            "HANDSHAKE_SUCCEEDED",
            "DISCONNECTED",
            "CONNECTED",
            "HANDSHAKE_SUCCEEDED"
        ]
    );
}

#[test]
fn attach_reports_full_slots_and_small_buffers() {
    let mut n = Net::<64>::new();
    let s = n.add_type(SocketType::Pull);
    let ep = EndpointPair::bind_pair("tcp://127.0.0.1:1", "tcp://127.0.0.1:2");
    let now = Instant::from_millis(0);
    let handles: Vec<PeerHandle> = (0..8)
        .map(|i| {
            n.sockets[s]
                .attach(now, bufs(256, 256), i, ep.clone())
                .unwrap()
        })
        .collect();
    assert_eq!(
        n.sockets[s].attach(now, bufs(256, 256), 9, ep.clone()),
        Err(AttachError::NoFreeSlot)
    );
    assert!(n.sockets[s].detach(handles[3]).is_some());
    assert_eq!(
        n.sockets[s].attach(now, bufs(256, 16), 9, ep.clone()),
        Err(AttachError::BufferTooSmall)
    );
    assert_eq!(
        n.sockets[s].attach(now, bufs(256, 256), 9, ep),
        Ok(handles[3])
    );
    assert!(!AttachError::NoFreeSlot.to_string().is_empty());
}

#[test]
fn messages_received_before_a_disconnect_are_still_delivered() {
    let mut n = Net::<64>::new();
    let (pull, push, l) = n.join(SocketType::Pull, SocketType::Push);
    n.send(push, &["one"]);
    n.send(push, &["two", "parts"]);
    n.drive();
    n.cut(l);
    assert_eq!(n.event_names(pull)[2..], ["DISCONNECTED"]);
    assert_eq!(
        n.recv_all(pull),
        vec![strs(&["one"]), strs(&["two", "parts"])]
    );
}

/// A DEALER `d` with two peers: one (on link `la`) sent a three-part
/// message, the other a one-part message; both arrived. Returns (net, d,
/// la).
fn dealer_with_two_messages_waiting() -> (Net<64>, usize, usize) {
    let mut n = Net::<64>::new();
    let (d, [(a, la), (b, _)]) = n.hub(SocketType::Dealer, SocketType::Dealer);
    n.send(a, &["a1", "a2", "a3"]);
    n.send(b, &["b1"]);
    n.drive();
    (n, d, la)
}

#[test]
fn a_message_being_read_when_its_peer_leaves_is_finished() {
    let (mut n, d, la) = dealer_with_two_messages_waiting();
    let mut buf = [0u8; 16];
    let first = n.sockets[d].recv(&mut buf).unwrap();
    assert!(first.more);
    assert_eq!(&buf[..first.len], b"a1");
    n.cut(la);
    assert_eq!(n.recv_str(d).unwrap(), ["a2", "a3"]);
    assert_eq!(n.recv_str(d).unwrap(), ["b1"]);
}

#[test]
fn detaching_a_peer_mid_message_ends_the_message_with_an_empty_frame() {
    let (mut n, d, la) = dealer_with_two_messages_waiting();
    let mut buf = [0u8; 16];
    assert!(n.sockets[d].recv(&mut buf).unwrap().more);
    n.cut(la);
    let pa = n.links[la].px;
    assert!(n.sockets[d].detach(pa).is_some());
    // A newcomer takes the freed slot before the application reads on.
    let c = n.add_type(SocketType::Dealer);
    n.connect(d, c);
    n.drive();
    n.send(c, &["c1"]);
    n.drive();
    assert_eq!(n.recv_str(d).unwrap(), [""]);
    let mut rest = n.recv_all(d);
    rest.sort();
    assert_eq!(rest, vec![strs(&["b1"]), strs(&["c1"])]);
}

#[test]
fn a_reply_that_arrived_before_the_disconnect_reaches_req() {
    let mut n = Net::<64>::new();
    let (rep, req, l) = n.join(SocketType::Rep, SocketType::Req);
    n.deliver(req, rep, &["q"]);
    n.send(rep, &["a"]);
    n.drive();
    n.cut(l);
    assert_eq!(n.recv_str(req).unwrap(), ["a"]);
}

#[test]
fn a_request_that_arrived_before_the_disconnect_gets_a_dropped_reply() {
    let mut n = Net::<64>::new();
    let (rep, [(req, l), (req2, _)]) = n.hub(SocketType::Rep, SocketType::Req);
    n.send(req, &["q1"]);
    n.drive();
    n.cut(l);
    assert_eq!(n.recv_str(rep).unwrap(), ["q1"]);
    // The requester is gone: the reply goes nowhere, REP moves on.
    n.send(rep, &["lost"]);
    n.deliver(req2, rep, &["q2"]);
    n.deliver(rep, req2, &["a2"]);
}

#[test]
fn a_local_close_discards_what_was_not_read() {
    // libzmq zmq_disconnect: the socket side ends its pipe; unread
    // messages are dropped.
    let mut n = Net::<64>::new();
    let (pull, push, l) = n.join(SocketType::Pull, SocketType::Push);
    n.send(push, &["unread"]);
    n.drive();
    let px = n.links[l].px;
    n.sockets[pull].close_peer(px);
    assert_eq!(n.recv(pull), None);
}

#[test]
fn has_unread_reports_messages_left_by_a_closed_peer() {
    let mut net: Net = Net::new();
    let (server, client, link) = net.join(SocketType::Pull, SocketType::Push);
    net.send(client, &["last words"]);
    net.drive();
    net.cut(link);
    let peer = net.links[link].px;
    assert!(net.sockets[server].has_unread(peer));
    assert_eq!(net.recv_str(server).unwrap(), ["last words"]);
    assert!(!net.sockets[server].has_unread(peer));
    let _ = client;
}
