//! End-to-end smoke tests over the in-memory harness.
mod common;
use common::*;
use zmtp_core::SocketType;
use zmtp_core::conn::{Config, ConnEvent};

#[test]
fn dealer_pair_handshake_and_bounce() {
    let mut net: Net = Net::new();
    let (server, client, _) = net.join(SocketType::Dealer, SocketType::Dealer);
    assert_eq!(net.event_names(server), ["ACCEPTED", "HANDSHAKE_SUCCEEDED"]);
    assert_eq!(
        net.event_names(client),
        ["CONNECTED", "HANDSHAKE_SUCCEEDED"]
    );
    net.deliver(client, server, &["hello", "world"]);
    net.deliver(server, client, &["back"]);
}

#[test]
fn conn_pair_null_handshake() {
    let mut p = Pair::new(&Config::new(SocketType::Req), &Config::new(SocketType::Rep));
    p.drive();
    assert_eq!(p.a.events, [ConnEvent::HandshakeSucceeded]);
    assert_eq!(p.b.events, [ConnEvent::HandshakeSucceeded]);
}
