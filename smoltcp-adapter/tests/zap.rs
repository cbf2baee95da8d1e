//! PLAIN and ZAP over smoltcp: the application answers ZAP requests
//! through `ZmtpSocket::poll_zap_request` (with the peer's address filled
//! in), or, without a handler, the adapter answers "no handler" as libzmq
//! does when nothing is bound at `inproc://zeromq.zap.01`.
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
use zmtp_core::monitor::{Event, errno};
use zmtp_core::socket_type::SocketType;
use zmtp_smoltcp::Options;

fn plain_server(net: &mut Net, zap_handler: bool, seed: u32) -> Zs {
    let mut config = Config::new(SocketType::Dealer);
    config.mechanism = MechanismConfig::PlainServer;
    config.set_zap_domain(b"global").unwrap();
    let mut o = options();
    o.zap_handler = zap_handler;
    make_with(net, config, 0, o, seed)
}

fn plain_client(net: &mut Net, password: &[u8], seed: u32) -> Zs {
    let mut config = Config::new(SocketType::Dealer);
    config.mechanism = MechanismConfig::plain_client(b"admin", password).unwrap();
    make_with(net, config, 0, options(), seed)
}

/// Binds the server, connects the client and runs until the server's
/// handshake waits for its ZAP answer; returns the request's fields.
fn until_request(net: &mut Net, server: &mut Zs, client: &mut Zs) -> Vec<Vec<u8>> {
    server.bind(DATA_PORT, &mut net.sockets).unwrap();
    client.connect(data_endpoint()).unwrap();
    net.run(&mut [server, client], Duration::from_millis(200));
    let q = server.poll_zap_request().expect("a ZAP request");
    assert_eq!(q.address.as_str(), "127.0.0.1");
    let frames: Vec<Vec<u8>> = q
        .request
        .frames(q.address.as_bytes())
        .map(<[u8]>::to_vec)
        .collect();
    // Each request is returned once.
    assert!(server.poll_zap_request().is_none());
    // Nothing happens until it is answered.
    net.run(&mut [server, client], Duration::from_millis(200));
    assert_eq!(server.socket().ready_peers(), 0);
    assert_eq!(client.socket().ready_peers(), 0);
    frames
}

#[test]
fn application_accepts_and_the_handshake_completes() {
    let mut net = Net::new();
    let mut server = plain_server(&mut net, true, 1);
    let mut client = plain_client(&mut net, b"password", 2);
    let frames = until_request(&mut net, &mut server, &mut client);
    let expected: [&[u8]; 9] = [
        b"",
        b"1.0",
        b"1",
        b"global",
        b"127.0.0.1",
        b"",
        b"PLAIN",
        b"admin",
        b"password",
    ];
    assert_eq!(frames, expected);

    let peer = server.socket().peers().next().unwrap();
    server
        .socket_mut()
        .handle_zap_reply(
            zmtp_core::Instant::from_millis(net.now.total_millis().unsigned_abs()),
            peer,
            &ZapReply::ok(b"alice"),
        )
        .unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(200));
    assert_eq!(server.socket().ready_peers(), 1);
    assert_eq!(client.socket().ready_peers(), 1);
    client.socket_mut().send(&[b"Hello"]).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(50));
    assert_eq!(recv_message(&mut server), Some(vec![b"Hello".to_vec()]));

    assert_eq!(
        names(&events(&mut server)),
        ["LISTENING", "ACCEPTED", "HANDSHAKE_SUCCEEDED"]
    );
    assert_eq!(
        names(&events(&mut client)),
        ["CONNECT_DELAYED", "CONNECTED", "HANDSHAKE_SUCCEEDED"]
    );
}

#[test]
fn application_rejects_with_400() {
    let mut net = Net::new();
    let mut server = plain_server(&mut net, true, 3);
    let mut client = plain_client(&mut net, b"wrong", 4);
    until_request(&mut net, &mut server, &mut client);
    let peer = server.socket().peers().next().unwrap();
    server
        .socket_mut()
        .handle_zap_reply(
            zmtp_core::Instant::from_millis(net.now.total_millis().unsigned_abs()),
            peer,
            &ZapReply::new(b"400"),
        )
        .unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_secs(2));

    let s = events(&mut server);
    assert_eq!(
        names(&s),
        [
            "LISTENING",
            "ACCEPTED",
            "HANDSHAKE_FAILED_AUTH",
            "DISCONNECTED"
        ]
    );
    assert_eq!(s[2].event, Event::HandshakeFailedAuth { status: 400 });
    let c = events(&mut client);
    // The client reads the ERROR "400": FAILED_AUTH, and like libzmq it
    // does not reconnect after an ERROR.
    assert_eq!(
        names(&c),
        [
            "CONNECT_DELAYED",
            "CONNECTED",
            "HANDSHAKE_FAILED_AUTH",
            "DISCONNECTED"
        ]
    );
    assert_eq!(c[2].event, Event::HandshakeFailedAuth { status: 400 });
    // The server's slot serves the next client.
    assert_eq!(server.listening(), 2);
}

#[test]
fn without_a_handler_plain_fails_with_efault() {
    let mut net = Net::new();
    let mut server = plain_server(&mut net, false, 5);
    let mut client = plain_client(&mut net, b"password", 6);
    server.bind(DATA_PORT, &mut net.sockets).unwrap();
    client.connect(data_endpoint()).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(300));
    // The adapter answered for the application: nothing is left to poll.
    assert!(server.poll_zap_request().is_none());
    let s = events(&mut server);
    assert_eq!(
        names(&s[..4]),
        [
            "LISTENING",
            "ACCEPTED",
            "HANDSHAKE_FAILED_NO_DETAIL",
            "DISCONNECTED"
        ]
    );
    assert_eq!(
        s[2].event,
        Event::HandshakeFailedNoDetail {
            errno: errno::EFAULT
        }
    );
    assert_eq!(server.socket().ready_peers(), 0);
}

#[test]
fn without_a_handler_null_with_a_domain_goes_on() {
    let mut net = Net::new();
    let mut config = Config::new(SocketType::Dealer);
    config.set_zap_domain(b"global").unwrap();
    let mut server = make_with(&mut net, config, 0, Options::default(), 7);
    let mut client = dealer(&mut net, options(), 8);
    connect_pair(&mut net, &mut server, &mut client);
    assert_eq!(
        names(&events(&mut server)),
        ["LISTENING", "ACCEPTED", "HANDSHAKE_SUCCEEDED"]
    );
}

#[test]
fn a_null_request_carries_no_credentials() {
    let mut net = Net::new();
    let mut config = Config::new(SocketType::Dealer);
    config.set_zap_domain(b"test").unwrap();
    config.set_routing_id(b"SERVER").unwrap();
    let mut o = options();
    o.zap_handler = true;
    let mut server = make_with(&mut net, config, 0, o, 9);
    let mut client = dealer(&mut net, options(), 10);
    let frames = until_request(&mut net, &mut server, &mut client);
    let expected: [&[u8]; 7] = [b"", b"1.0", b"1", b"test", b"127.0.0.1", b"SERVER", b"NULL"];
    assert_eq!(frames, expected);
}
