//! Peer metadata held for the adapter (`Socket::set_hold_metadata`): the
//! record waits at the front of the peer's receive queue until released,
//! the peer takes part in the pattern only then, and nothing it sent
//! meanwhile is lost or reordered.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod common;
use common::*;

use zmtp_core::SocketType;
use zmtp_core::conn::{Config, ZapReply};
use zmtp_core::socket::PeerHandle;

/// Socket `i`'s held peers.
fn held(net: &Net, i: usize) -> Vec<PeerHandle> {
    net.sockets[i].held_metadata().collect()
}

/// Owned `(name, value)` pairs.
type Props = Vec<(String, Vec<u8>)>;

/// Reads `peer`'s held metadata as owned `(name, value)` pairs: the peer's
/// properties, then the ZAP ones.
fn read_meta(net: &Net, i: usize, peer: PeerHandle) -> (Props, Option<Vec<u8>>) {
    let m = net.sockets[i].peer_metadata(peer).expect("metadata held");
    let props = m
        .properties()
        .iter()
        .map(|(n, v)| (String::from_utf8(n.to_vec()).unwrap(), v.to_vec()))
        .collect();
    (props, m.user_id().map(<[u8]>::to_vec))
}

#[test]
fn off_by_default_nothing_held() {
    let mut net: Net = Net::new();
    let (x, y, link) = net.join(SocketType::Router, SocketType::Dealer);
    assert!(!net.sockets[x].holds_metadata());
    assert!(held(&net, x).is_empty());
    assert!(net.sockets[x].peer_metadata(net.links[link].px).is_none());
    assert!(!net.sockets[x].release_metadata(net.links[link].px));
    net.send(y, &["hi"]);
    net.drive();
    assert_eq!(net.recv_str(x).unwrap()[1], "hi");
}

#[test]
fn router_messages_wait_behind_the_record_in_order() {
    let mut net: Net = Net::new();
    let x = net.add_type(SocketType::Router);
    net.sockets[x].set_hold_metadata(true);
    let mut dealer = with_routing_id(Config::new(SocketType::Dealer), b"D1");
    dealer.add_property("X-Tag", b"red").unwrap();
    let y = net.add(dealer);
    let link = net.connect(x, y);
    net.drive();
    let px = net.links[link].px;
    assert_eq!(held(&net, x), vec![px]);
    assert_eq!(
        net.event_names(x),
        vec!["ACCEPTED", "HANDSHAKE_SUCCEEDED"],
        "the handshake is reported when it succeeds, not at release"
    );
    // The DEALER may send at once; the ROUTER holds what arrives.
    net.send(y, &["a"]);
    net.send(y, &["b", "c"]);
    net.drive();
    assert_eq!(net.recv(x), None);
    // The ROUTER cannot route to it yet either.
    assert_eq!(net.sockets[x].routing_id(px), None);

    let (props, user) = read_meta(&net, x, px);
    assert_eq!(
        props,
        vec![
            ("Socket-Type".to_owned(), b"DEALER".to_vec()),
            ("Identity".to_owned(), b"D1".to_vec()),
            ("X-Tag".to_owned(), b"red".to_vec()),
        ]
    );
    assert_eq!(user, None, "no ZAP handler ran");
    let meta = net.sockets[x].peer_metadata(px).unwrap();
    assert_eq!(meta.get_exact(b"X-Tag"), Some(&b"red"[..]));
    assert_eq!(meta.get_exact(b"x-tag"), None);
    assert_eq!(meta.get(b"x-tag"), Some(&b"red"[..]));

    assert!(net.sockets[x].release_metadata(px));
    assert!(!net.sockets[x].release_metadata(px), "released once");
    assert!(held(&net, x).is_empty());
    assert!(net.sockets[x].peer_metadata(px).is_none());
    assert_eq!(net.recv_str(x), Some(strs(&["D1", "a"])));
    assert_eq!(net.recv_str(x), Some(strs(&["D1", "b", "c"])));
    assert_eq!(net.recv(x), None);
    net.send(x, &["D1", "back"]);
    net.drive();
    assert_eq!(net.recv_str(y), Some(strs(&["back"])));
}

#[test]
fn backpressured_input_resumes_after_release() {
    let mut net: Net = Net::new();
    let x = net.add_type(SocketType::Pull);
    net.sockets[x].set_hold_metadata(true);
    let y = net.add_type(SocketType::Push);
    // A small receive queue: the record plus a few messages fill it.
    let link = net.connect_with(x, y, bufs(160, TX), bufs(RX, TX));
    net.window = 64;
    net.drive();
    let px = net.links[link].px;
    assert_eq!(held(&net, x), vec![px]);
    let mut sent = 0u32;
    for _ in 0..40 {
        if net.try_send(y, &[&format!("m{sent:02}")]).is_err() {
            break;
        }
        sent += 1;
        net.drive();
    }
    assert!(sent >= 20, "the sender queued {sent}");
    assert!(
        net.sockets[x].is_rx_blocked(px),
        "the held record back-pressures"
    );
    assert_eq!(net.recv(x), None);
    assert!(net.sockets[x].release_metadata(px));
    let mut got = Vec::new();
    for _ in 0..400 {
        net.drive();
        match net.recv_str(x) {
            Some(m) => got.push(m[0].clone()),
            None if got.len() as u32 == sent => break,
            None => {}
        }
    }
    let want: Vec<String> = (0..sent).map(|i| format!("m{i:02}")).collect();
    assert_eq!(got, want);
}

#[test]
fn sub_replays_subscriptions_at_release() {
    let mut net: Net = Net::new();
    let x = net.add_type(SocketType::Pub);
    let y = net.add_type(SocketType::Sub);
    net.sockets[y].set_hold_metadata(true);
    net.sockets[y].subscribe(b"t").unwrap();
    let link = net.connect(x, y);
    net.drive();
    let py = net.links[link].py;
    assert_eq!(held(&net, y), vec![py]);
    net.send(x, &["t1"]);
    net.drive();
    assert_eq!(net.recv(y), None, "no subscription was sent yet");
    net.sockets[y].release_metadata(py);
    net.drive();
    net.send(x, &["t2"]);
    net.send(x, &["u"]);
    net.drive();
    assert_eq!(net.recv_str(y), Some(strs(&["t2"])));
    assert_eq!(net.recv(y), None);
}

#[test]
fn pub_takes_subscriptions_queued_behind_the_record() {
    let mut net: Net = Net::new();
    let x = net.add_type(SocketType::Pub);
    net.sockets[x].set_hold_metadata(true);
    let y = net.add_type(SocketType::Sub);
    net.sockets[y].subscribe(b"t").unwrap();
    let link = net.connect(x, y);
    net.drive();
    let px = net.links[link].px;
    net.send(x, &["t0"]);
    net.drive();
    assert_eq!(net.recv(y), None, "the PUB does not send to a held peer");
    let (props, _) = read_meta(&net, x, px);
    assert_eq!(props[0], ("Socket-Type".to_owned(), b"SUB".to_vec()));
    net.sockets[x].release_metadata(px);
    net.drive();
    net.send(x, &["t1"]);
    net.drive();
    assert_eq!(net.recv_str(y), Some(strs(&["t1"])));
}

#[test]
fn pair_keeps_one_peer_decided_at_release() {
    let mut net: Net = Net::new();
    let x = net.add_type(SocketType::Pair);
    net.sockets[x].set_hold_metadata(true);
    let a = net.add_type(SocketType::Pair);
    let b = net.add_type(SocketType::Pair);
    let la = net.connect(x, a);
    let lb = net.connect(x, b);
    net.drive();
    let (pa, pb) = (net.links[la].px, net.links[lb].px);
    assert_eq!(held(&net, x), vec![pa, pb]);
    net.sockets[x].release_metadata(pa);
    net.sockets[x].release_metadata(pb);
    net.drive();
    assert!(net.sockets[x].peer(pb).unwrap().is_closed());
    assert!(!net.sockets[x].peer(pa).unwrap().is_closed());
    net.deliver(a, x, &["one"]);
}

#[test]
fn closed_before_release_still_delivers() {
    let mut net: Net = Net::new();
    let x = net.add_type(SocketType::Router);
    net.sockets[x].set_hold_metadata(true);
    let y = net.add(with_routing_id(Config::new(SocketType::Dealer), b"gone"));
    let link = net.connect(x, y);
    net.drive();
    let px = net.links[link].px;
    net.send(y, &["last"]);
    net.drive();
    net.cut(link);
    assert!(net.sockets[x].poll_closed().is_some());
    assert!(
        net.sockets[x].has_unread(px),
        "the adapter must not detach yet"
    );
    let (props, _) = read_meta(&net, x, px);
    assert_eq!(props[1], ("Identity".to_owned(), b"gone".to_vec()));
    net.sockets[x].release_metadata(px);
    assert_eq!(net.recv_str(x), Some(strs(&["gone", "last"])));
    assert!(!net.sockets[x].has_unread(px));
    assert!(net.sockets[x].detach(px).is_some());
}

#[test]
fn close_peer_drops_the_held_record() {
    let mut net: Net = Net::new();
    let x = net.add_type(SocketType::Pull);
    net.sockets[x].set_hold_metadata(true);
    let y = net.add_type(SocketType::Push);
    let link = net.connect(x, y);
    net.drive();
    let px = net.links[link].px;
    net.sockets[x].close_peer(px);
    assert!(held(&net, x).is_empty());
    assert!(!net.sockets[x].has_unread(px));
    assert!(!net.sockets[x].release_metadata(px));
}

/// NULL with a ZAP domain: the handler's user id and metadata join the
/// held record.
#[test]
fn zap_user_id_and_metadata_are_held() {
    let mut net: Net = Net::new();
    let mut server = Config::new(SocketType::Pull);
    server.set_zap_domain(b"d").unwrap();
    let x = net.add(server);
    net.sockets[x].set_hold_metadata(true);
    let y = net.add_type(SocketType::Push);
    let link = net.connect(x, y);
    net.drive();
    let px = net.links[link].px;
    let (peer, _) = net.sockets[x].poll_zap_request().expect("ZAP request");
    assert_eq!(peer, px);
    let now = net.now;
    let reply = ZapReply {
        metadata: b"\x05X-Tag\x00\x00\x00\x03red\x07User-Id\x00\x00\x00\x03bob",
        ..ZapReply::ok(b"alice")
    };
    net.sockets[x].handle_zap_reply(now, px, &reply).unwrap();
    net.drive();
    net.send(y, &["m"]);
    net.drive();
    assert_eq!(held(&net, x), vec![px]);
    let m = net.sockets[x].peer_metadata(px).unwrap();
    assert_eq!(m.user_id(), Some(&b"alice"[..]));
    // The reply's user id frame wins over a `User-Id` in its metadata, as
    // in libzmq.
    assert_eq!(m.get_exact(b"User-Id"), Some(&b"alice"[..]));
    assert_eq!(m.get_exact(b"X-Tag"), Some(&b"red"[..]));
    assert_eq!(m.get_exact(b"Socket-Type"), Some(&b"PUSH"[..]));
    let zap: Vec<(Vec<u8>, Vec<u8>)> = m
        .zap_properties()
        .unwrap()
        .iter()
        .map(|(n, v)| (n.to_vec(), v.to_vec()))
        .collect();
    assert_eq!(
        zap,
        vec![
            (b"User-Id".to_vec(), b"alice".to_vec()),
            (b"X-Tag".to_vec(), b"red".to_vec()),
            (b"User-Id".to_vec(), b"bob".to_vec()),
        ]
    );
    net.sockets[x].release_metadata(px);
    assert_eq!(net.recv_str(x), Some(strs(&["m"])));
}
