//! CURVE over smoltcp: a server that authenticates clients by their public
//! key through the application's ZAP handler, a client that trusts the
//! server's key, messages both ways; a client with the wrong server key
//! fails as libzmq's does.
#![cfg(feature = "curve")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test on unexpected results"
)]

mod common;

use common::*;
use rand_core::OsRng;
use smoltcp::time::Duration;
use zmtp_core::ProtocolError;
use zmtp_core::conn::{Config, CurveKeypair, CurveState, MechanismConfig, ZapReply};
use zmtp_core::monitor::Event;
use zmtp_core::socket::Socket;
use zmtp_core::socket_type::SocketType;
use zmtp_smoltcp::{Resources, ZmtpSocket};

fn curve_socket(net: &mut Net, config: Config, zap_handler: bool, seed: u32) -> Zs {
    let mut core = Socket::new(config, &mut []);
    core.monitor_mut()
        .start(
            "inproc://monitor",
            zmtp_core::monitor::EventMask::ALL_V2,
            zmtp_core::monitor::EventVersion::V2,
        )
        .unwrap();
    let res = leak(Resources::<PEERS, 4096, 4096, 256>::new());
    let states = Box::leak(Box::new([CurveState::new(), CurveState::new()]));
    let mut o = options();
    o.zap_handler = zap_handler;
    ZmtpSocket::new_curve(
        core,
        res.slots(),
        &mut net.sockets,
        o,
        seed,
        states,
        leak(OsRng),
    )
    .unwrap()
}

fn server_config(keys: &CurveKeypair) -> Config {
    let mut c = Config::new(SocketType::Dealer);
    c.mechanism = MechanismConfig::curve_server(keys.secret);
    c.set_zap_domain(b"board").unwrap();
    c
}

fn client_config(keys: &CurveKeypair, server: [u8; 32]) -> Config {
    let mut c = Config::new(SocketType::Dealer);
    c.mechanism = MechanismConfig::curve_client(keys.public, keys.secret, server);
    c
}

#[test]
fn curve_client_and_server_with_a_key_checking_handler() {
    let server_keys = CurveKeypair::generate(&mut OsRng);
    let client_keys = CurveKeypair::generate(&mut OsRng);
    let mut net = Net::new();
    let mut server = curve_socket(&mut net, server_config(&server_keys), true, 1);
    let mut client = curve_socket(
        &mut net,
        client_config(&client_keys, server_keys.public),
        false,
        2,
    );
    server.bind(DATA_PORT, &mut net.sockets).unwrap();
    client.connect(data_endpoint()).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(200));

    let q = server.poll_zap_request().expect("a ZAP request");
    assert_eq!(q.request.mechanism(), b"CURVE");
    assert_eq!(q.request.credentials(), [&client_keys.public[..]]);
    assert_eq!(q.address.as_str(), "127.0.0.1");
    let peer = q.peer;
    let now = zmtp_smoltcp::time::to_core(net.now);
    server
        .socket_mut()
        .handle_zap_reply(now, peer, &ZapReply::ok(b"client"))
        .unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(200));
    assert_eq!(server.socket().ready_peers(), 1);
    assert_eq!(client.socket().ready_peers(), 1);

    let big = vec![0x3Cu8; 2500];
    client.socket_mut().send(&[b"hello", &big]).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(50));
    assert_eq!(
        recv_message(&mut server),
        Some(vec![b"hello".to_vec(), big])
    );
    server.socket_mut().send(&[b"world"]).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(50));
    assert_eq!(recv_message(&mut client), Some(vec![b"world".to_vec()]));

    assert_eq!(
        names(&events(&mut server)),
        ["LISTENING", "ACCEPTED", "HANDSHAKE_SUCCEEDED"]
    );
    assert_eq!(
        names(&events(&mut client)),
        ["CONNECT_DELAYED", "CONNECTED", "HANDSHAKE_SUCCEEDED"]
    );

    // The client leaves; its slot's state serves the next connection.
    client
        .disconnect(data_endpoint(), &mut net.sockets)
        .unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_secs(2));
    client.connect(data_endpoint()).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(200));
    let q = server.poll_zap_request().expect("a second ZAP request");
    let peer = q.peer;
    let now = zmtp_smoltcp::time::to_core(net.now);
    server
        .socket_mut()
        .handle_zap_reply(now, peer, &ZapReply::ok(b"client"))
        .unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(200));
    assert_eq!(client.socket().ready_peers(), 1);
}

#[test]
fn wrong_server_key_fails_with_cryptographic() {
    let server_keys = CurveKeypair::generate(&mut OsRng);
    let client_keys = CurveKeypair::generate(&mut OsRng);
    let impostor = CurveKeypair::generate(&mut OsRng);
    let mut net = Net::new();
    let mut server = curve_socket(&mut net, server_config(&server_keys), false, 3);
    let mut client = curve_socket(
        &mut net,
        client_config(&client_keys, impostor.public),
        false,
        4,
    );
    server.bind(DATA_PORT, &mut net.sockets).unwrap();
    client.connect(data_endpoint()).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(300));
    let s = events(&mut server);
    assert_eq!(
        names(&s)[..4],
        [
            "LISTENING",
            "ACCEPTED",
            "HANDSHAKE_FAILED_PROTOCOL",
            "DISCONNECTED"
        ]
    );
    assert_eq!(
        s[2].event,
        Event::handshake_failed_protocol(ProtocolError::ZmtpCryptographic)
    );
    assert_eq!(server.socket().ready_peers(), 0);
    assert_eq!(client.socket().ready_peers(), 0);
}
