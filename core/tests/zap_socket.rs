//! PLAIN and ZAP through the socket layer: the adapter-facing calls
//! (`Socket::poll_zap_request`, `handle_zap_reply*`,
//! `handle_zap_unavailable`), the monitor events they raise, and ROUTER
//! routing ids read from a PLAIN INITIATE.
#![cfg(feature = "plain")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod common;
use common::*;

use zmtp_core::conn::{Config, DisconnectReason, MechanismConfig, ZapReply};
use zmtp_core::monitor::errno;
use zmtp_core::monitor::{Event, MonitorEvent};
use zmtp_core::{Instant, ProtocolError, SocketType};

/// How the test's ZAP handler answers.
#[derive(Clone, Copy)]
enum Zap {
    /// 200 for admin/password, 400 otherwise, user id "admin".
    Check,
    Status(&'static str),
    BadVersion,
    Unavailable,
}

/// A [`Net`] whose sockets answer ZAP requests like `zap`.
struct ZapNet {
    net: Net,
    zap: Zap,
    requests: Vec<Vec<Vec<u8>>>,
}

impl ZapNet {
    fn serve(&mut self) -> bool {
        let now = self.net.now;
        let mut any = false;
        for s in &mut self.net.sockets {
            while let Some((peer, req)) = s.poll_zap_request() {
                any = true;
                let frames: Vec<Vec<u8>> = req.frames(b"127.0.0.1").map(<[u8]>::to_vec).collect();
                let good = req.plain_credentials() == Some((&b"admin"[..], &b"password"[..]));
                self.requests.push(frames);
                match self.zap {
                    Zap::Check if good => s.handle_zap_reply(now, peer, &ZapReply::ok(b"admin")),
                    Zap::Check => s.handle_zap_reply(now, peer, &ZapReply::new(b"400")),
                    Zap::Status(code) => {
                        s.handle_zap_reply(now, peer, &ZapReply::new(code.as_bytes()))
                    }
                    Zap::BadVersion => s.handle_zap_reply_frames(
                        now,
                        peer,
                        &[b"", b"2.0", b"1", b"200", b"", b"", b""],
                    ),
                    Zap::Unavailable => s.handle_zap_unavailable(now, peer),
                }
                .unwrap();
            }
        }
        any
    }
}

impl Sim for ZapNet {
    fn step(&mut self) -> bool {
        let moved = self.net.step();
        self.serve() | moved
    }
    fn clock(&mut self) -> &mut Instant {
        self.net.clock()
    }
    fn next_timeout(&self) -> Option<Instant> {
        self.net.next_timeout()
    }
    fn fire_timers(&mut self, now: Instant) {
        self.net.fire_timers(now);
    }
}

fn client(t: SocketType, pass: &[u8]) -> Config {
    let mut c = Config::new(t);
    c.mechanism = MechanismConfig::plain_client(b"admin", pass).unwrap();
    c
}

fn server(t: SocketType) -> Config {
    let mut c = Config::new(t);
    c.mechanism = MechanismConfig::PlainServer;
    c
}

/// A bound PLAIN server `x` and a connecting PLAIN client `y`, driven.
fn setup(ts: SocketType, client_cfg: Config, zap: Zap) -> (ZapNet, usize, usize) {
    let mut z = ZapNet {
        net: Net::new(),
        zap,
        requests: Vec::new(),
    };
    let x = z.net.add(server(ts));
    let y = z.net.add(client_cfg);
    z.net.connect(x, y);
    settle(&mut z);
    (z, x, y)
}

fn values(events: &[MonitorEvent<64>]) -> Vec<(&'static str, u64)> {
    events
        .iter()
        .map(|e| (e.event.name(), e.event.value()))
        .collect()
}

#[test]
fn accepted_and_routed_by_identity() {
    let mut cfg = client(SocketType::Dealer, b"password");
    cfg.set_routing_id(b"D1").unwrap();
    let (mut z, x, y) = setup(SocketType::Router, cfg, Zap::Check);
    assert_eq!(
        z.net.event_names(x),
        vec!["ACCEPTED", "HANDSHAKE_SUCCEEDED"]
    );
    assert_eq!(
        z.net.event_names(y),
        vec!["CONNECTED", "HANDSHAKE_SUCCEEDED"]
    );
    assert_eq!(z.requests.len(), 1);
    assert_eq!(z.requests[0][6], b"PLAIN");
    // The ROUTER took the routing id from the client's INITIATE.
    z.net.send(y, &["hi"]);
    settle(&mut z);
    assert_eq!(z.net.recv_str(x), Some(strs(&["D1", "hi"])));
    z.net.send(x, &["D1", "back"]);
    settle(&mut z);
    assert_eq!(z.net.recv_str(y), Some(strs(&["back"])));
}

#[test]
fn wrong_password_monitor_sequence() {
    let (mut z, x, y) = setup(
        SocketType::Rep,
        client(SocketType::Req, b"nope"),
        Zap::Check,
    );
    assert_eq!(
        values(&z.net.events(x)),
        vec![
            ("ACCEPTED", 10),
            ("HANDSHAKE_FAILED_AUTH", 400),
            ("DISCONNECTED", 10)
        ]
    );
    assert_eq!(
        values(&z.net.events(y)),
        vec![
            ("CONNECTED", 11),
            ("HANDSHAKE_FAILED_AUTH", 400),
            ("DISCONNECTED", 11)
        ]
    );
    let mut closed: Vec<_> = (0..2)
        .filter_map(|i| z.net.sockets[i].poll_closed().map(|(_, r)| (i, r)))
        .collect();
    closed.sort_by_key(|(i, _)| *i);
    assert_eq!(
        closed,
        vec![
            (x, DisconnectReason::AuthFailed { status: 400 }),
            (y, DisconnectReason::PeerError)
        ]
    );
    // The client does not reconnect after an auth failure.
    assert!(!closed[1].1.should_reconnect());
}

#[test]
fn status_300_and_500() {
    let (mut z, x, y) = setup(
        SocketType::Router,
        client(SocketType::Dealer, b"password"),
        Zap::Status("500"),
    );
    assert_eq!(
        z.net.event_names(x),
        vec!["ACCEPTED", "HANDSHAKE_FAILED_AUTH", "DISCONNECTED"]
    );
    assert_eq!(values(&z.net.events(y))[1], ("HANDSHAKE_FAILED_AUTH", 500));

    let (mut z, x, y) = setup(
        SocketType::Router,
        client(SocketType::Dealer, b"password"),
        Zap::Status("300"),
    );
    assert_eq!(
        values(&z.net.events(x)),
        vec![("ACCEPTED", 10), ("HANDSHAKE_FAILED_AUTH", 300)]
    );
    assert_eq!(z.net.event_names(y), vec!["CONNECTED"]);
    z.net.advance(30_000);
    assert_eq!(z.net.event_names(x), vec!["DISCONNECTED"]);
    let client_events = z.net.events(y);
    assert_eq!(
        client_events.iter().map(|e| e.event).collect::<Vec<_>>(),
        vec![
            Event::HandshakeFailedNoDetail {
                errno: errno::EAGAIN
            },
            Event::Disconnected { fd: 11 }
        ]
    );
}

#[test]
fn malformed_reply_and_no_handler() {
    let (mut z, x, _) = setup(
        SocketType::Router,
        client(SocketType::Dealer, b"password"),
        Zap::BadVersion,
    );
    assert_eq!(
        values(&z.net.events(x)),
        vec![
            ("ACCEPTED", 10),
            (
                "HANDSHAKE_FAILED_PROTOCOL",
                u64::from(ProtocolError::ZapBadVersion.code())
            ),
            ("DISCONNECTED", 10)
        ]
    );
    let (mut z, x, _) = setup(
        SocketType::Router,
        client(SocketType::Dealer, b"password"),
        Zap::Unavailable,
    );
    assert_eq!(
        values(&z.net.events(x)),
        vec![
            ("ACCEPTED", 10),
            ("HANDSHAKE_FAILED_NO_DETAIL", u64::from(errno::EFAULT)),
            ("DISCONNECTED", 10)
        ]
    );
}

#[test]
fn mechanism_mismatch_null_client() {
    let (mut z, x, y) = setup(
        SocketType::Router,
        Config::new(SocketType::Dealer),
        Zap::Check,
    );
    // The side that reads the whole greeting first fails with
    // MECHANISM_MISMATCH and closes; the other sees the transport end.
    assert_eq!(
        values(&z.net.events(y)),
        vec![
            ("CONNECTED", 11),
            (
                "HANDSHAKE_FAILED_PROTOCOL",
                u64::from(ProtocolError::ZmtpMechanismMismatch.code())
            ),
            ("DISCONNECTED", 11)
        ]
    );
    z.net.cut(0);
    assert_eq!(
        values(&z.net.events(x)),
        vec![
            ("ACCEPTED", 10),
            ("HANDSHAKE_FAILED_NO_DETAIL", u64::from(errno::EPIPE)),
            ("DISCONNECTED", 10)
        ]
    );
    assert!(z.requests.is_empty());
}

#[test]
fn no_request_for_an_unknown_peer() {
    let mut net: Net = Net::new();
    let x = net.add(server(SocketType::Router));
    let s = &mut net.sockets[x];
    assert!(s.poll_zap_request().is_none());
    let now = Instant::from_millis(T0);
    let h = zmtp_core::socket::PeerHandle(3);
    assert!(s.handle_zap_reply(now, h, &ZapReply::ok(b"")).is_err());
    assert!(s.handle_zap_reply_frames(now, h, &[]).is_err());
    assert!(s.handle_zap_unavailable(now, h).is_err());
}
