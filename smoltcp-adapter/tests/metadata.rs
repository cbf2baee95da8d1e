//! A firmware learning a peer's `User-Id` (and its other properties) over
//! smoltcp: it turns on the core's `Socket::set_hold_metadata`, reads each
//! held peer's metadata after a poll, and releases it; what the peer sent
//! meanwhile arrives afterwards, in order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test on unexpected results"
)]

mod common;

use common::*;
use smoltcp::time::Duration;
use zmtp_core::conn::{Config, MechanismConfig, ZapReply};
use zmtp_core::socket_type::SocketType;

#[test]
fn firmware_reads_the_user_id_then_the_messages() {
    let mut net = Net::new();
    let mut config = Config::new(SocketType::Dealer);
    config.mechanism = MechanismConfig::PlainServer;
    let mut o = options();
    o.zap_handler = true;
    let mut server = make_with(&mut net, config, 0, o, 11);
    server.socket_mut().set_hold_metadata(true);
    let mut config = Config::new(SocketType::Dealer);
    config.mechanism = MechanismConfig::plain_client(b"admin", b"secret").unwrap();
    config.add_property("X-Board", b"rev-b").unwrap();
    let mut client = make_with(&mut net, config, 0, options(), 12);

    server.bind(DATA_PORT, &mut net.sockets).unwrap();
    client.connect(data_endpoint()).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(200));
    let q = server.poll_zap_request().expect("a ZAP request");
    assert_eq!(q.request.plain_credentials().unwrap().0, b"admin");
    let peer = server.socket().peers().next().unwrap();
    let now = zmtp_core::Instant::from_millis(net.now.total_millis().unsigned_abs());
    let reply = ZapReply {
        metadata: b"\x06X-Role\x00\x00\x00\x05admin",
        ..ZapReply::ok(b"alice")
    };
    server
        .socket_mut()
        .handle_zap_reply(now, peer, &reply)
        .unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(200));
    // The client is ready and sends; the server holds its messages until
    // the firmware has read the metadata.
    assert_eq!(client.socket().ready_peers(), 1);
    client.socket_mut().send(&[b"one"]).unwrap();
    client.socket_mut().send(&[b"two"]).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(100));
    assert_eq!(recv_message(&mut server), None);

    let held: Vec<_> = server.socket().held_metadata().collect();
    assert_eq!(held, [peer]);
    let meta = server.socket().peer_metadata(peer).unwrap();
    assert_eq!(meta.user_id(), Some(&b"alice"[..]));
    assert_eq!(meta.get_exact(b"X-Role"), Some(&b"admin"[..]));
    assert_eq!(meta.get_exact(b"X-Board"), Some(&b"rev-b"[..]));
    assert_eq!(meta.get_exact(b"Socket-Type"), Some(&b"DEALER"[..]));
    assert!(server.socket_mut().release_metadata(peer));

    net.run(&mut [&mut server, &mut client], Duration::from_millis(100));
    assert_eq!(recv_message(&mut server), Some(vec![b"one".to_vec()]));
    assert_eq!(recv_message(&mut server), Some(vec![b"two".to_vec()]));
    assert_eq!(recv_message(&mut server), None);
    // And the other way.
    server.socket_mut().send(&[b"back"]).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(100));
    assert_eq!(recv_message(&mut client), Some(vec![b"back".to_vec()]));
}
