//! Monitor event sequences, values and endpoint strings raised by sockets
//! (libzmq `zmq_socket_monitor(3)`; the sequences of `tests/test_monitor.cpp`,
//! `tests/test_heartbeats.cpp`, `tests/test_stream_timeout.cpp`), the
//! monitor's start/stop rules, masks, the v1/v2 layouts and a full queue.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Net, bind_endpoint, bufs, greeting_v30, leak, names};
use zmtp_core::conn::{Config, DisconnectReason};
use zmtp_core::monitor::{
    EndpointPair, EndpointSide, Event, EventMask, EventVersion, MonitorEvent, decode_v1, decode_v2,
    errno, event_id,
};
use zmtp_core::socket::Socket;
use zmtp_core::{Duration, Instant, ProtocolError, SocketType};

fn dealers() -> (Net<64>, usize, usize, usize) {
    let mut n = Net::new();
    let server = n.add_type(SocketType::Dealer);
    let client = n.add_type(SocketType::Dealer);
    let l = n.connect(server, client);
    (n, server, client, l)
}

/// The v1 message of an event: (id, value, endpoint).
fn v1(e: &MonitorEvent<64>) -> (u16, u32, String) {
    let raw = e.raw(EventVersion::V1);
    let frames: Vec<&[u8]> = raw.frames().collect();
    assert_eq!(frames.len(), 2);
    assert!(raw.is_more(0) && !raw.is_more(1));
    let h = frames[0];
    assert_eq!(h.len(), 6);
    (
        u16::from_le_bytes([h[0], h[1]]),
        u32::from_le_bytes([h[2], h[3], h[4], h[5]]),
        String::from_utf8(frames[1].to_vec()).unwrap(),
    )
}

#[test]
fn handshake_sequence_values_and_endpoints() {
    let (mut n, server, client, l) = dealers();
    n.drive();
    let (fx, fy) = (n.links[l].fx, n.links[l].fy);
    let bind_ep = bind_endpoint(server);
    let conn_ep = n.links[l].ex.remote().to_owned();
    assert!(conn_ep.starts_with("tcp://127.0.0.1:"));

    let s = n.events(server);
    assert_eq!(
        s.iter().map(|e| e.event).collect::<Vec<_>>(),
        [Event::Accepted { fd: fx }, Event::HandshakeSucceeded]
    );
    for e in &s {
        assert_eq!(e.endpoints.local(), bind_ep);
        assert_eq!(e.endpoints.remote(), conn_ep);
        assert_eq!(e.endpoints.side(), EndpointSide::Bind);
    }
    // v1: bind side sends the local endpoint.
    assert_eq!(v1(&s[0]), (0x0020, fx, bind_ep.clone()));
    assert_eq!(v1(&s[1]), (0x1000, 0, bind_ep.clone()));

    let c = n.events(client);
    assert_eq!(
        c.iter().map(|e| e.event).collect::<Vec<_>>(),
        [Event::Connected { fd: fy }, Event::HandshakeSucceeded]
    );
    for e in &c {
        assert_eq!(e.endpoints.local(), conn_ep);
        assert_eq!(e.endpoints.remote(), bind_ep);
        assert_eq!(e.endpoints.side(), EndpointSide::Connect);
    }
    // v1: connect side sends the remote endpoint (the one connected to).
    assert_eq!(v1(&c[0]), (0x0001, fy, bind_ep.clone()));
    assert_eq!(v1(&c[1]), (0x1000, 0, bind_ep));
}

#[test]
fn peer_leaving_after_the_handshake_is_disconnected_on_both_sides() {
    let (mut n, server, client, l) = dealers();
    n.drive();
    n.deliver(client, server, &["bounce"]);
    let _ = n.events(server);
    let _ = n.events(client);
    n.cut(l);
    let (fx, fy) = (n.links[l].fx, n.links[l].fy);
    let s = n.events(server);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].event, Event::Disconnected { fd: fx });
    assert_eq!(s[0].endpoints, n.links[l].ex);
    let c = n.events(client);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].event, Event::Disconnected { fd: fy });
    assert_eq!(c[0].endpoints, n.links[l].ey);
    assert_eq!(v1(&c[0]).2, bind_endpoint(server));
    let px = n.links[l].px;
    assert_eq!(
        n.sockets[server].poll_closed(),
        Some((
            px,
            DisconnectReason::Transport {
                errno: errno::EPIPE
            }
        ))
    );
}

#[test]
fn incompatible_socket_types_give_only_disconnected() {
    for (bound, connecting) in [
        (SocketType::Pub, SocketType::Push),
        (SocketType::Req, SocketType::Req),
        (SocketType::Pair, SocketType::Dealer),
        (SocketType::Router, SocketType::Pull),
        (SocketType::XPub, SocketType::Pub),
    ] {
        let mut n = Net::<64>::new();
        let x = n.add_type(bound);
        let y = n.add_type(connecting);
        let l = n.connect(x, y);
        n.drive();
        let (fx, fy) = (n.links[l].fx, n.links[l].fy);
        let ctx = format!("{bound:?} <- {connecting:?}");
        let s = n.events(x);
        assert_eq!(
            s.iter().map(|e| e.event).collect::<Vec<_>>(),
            [Event::Accepted { fd: fx }, Event::Disconnected { fd: fx }],
            "{ctx}"
        );
        let c = n.events(y);
        assert_eq!(
            c.iter().map(|e| e.event).collect::<Vec<_>>(),
            [Event::Connected { fd: fy }, Event::Disconnected { fd: fy }],
            "{ctx}"
        );
        // Not worth a reconnect (libzmq: protocol error, session ends).
        let (_, reason) = n.sockets[y].poll_closed().unwrap();
        assert!(!reason.should_reconnect(), "{ctx}: {reason:?}");
        assert_eq!(n.sockets[x].ready_peers(), 0);
    }
}

#[test]
fn handshake_timeout_gives_no_detail_etimedout_then_disconnected() {
    let (mut n, server, client, l) = dealers();
    // The peer never says anything (libzmq test_stream_timeout: a silent
    // STREAM socket).
    n.stall(l);
    n.advance(29_999);
    assert_eq!(n.event_names(server), ["ACCEPTED"]);
    assert_eq!(n.event_names(client), ["CONNECTED"]);
    n.advance(1);
    for (i, fd, ep) in [
        (server, n.links[l].fx, n.links[l].ex.clone()),
        (client, n.links[l].fy, n.links[l].ey.clone()),
    ] {
        let ev = n.events(i);
        assert_eq!(
            ev.iter().map(|e| e.event).collect::<Vec<_>>(),
            [
                Event::HandshakeFailedNoDetail {
                    errno: errno::EAGAIN
                },
                Event::Disconnected { fd }
            ]
        );
        assert_eq!(ev[0].event.value(), 11);
        assert!(ev.iter().all(|e| e.endpoints == ep));
        let (_, reason) = n.sockets[i].poll_closed().unwrap();
        assert_eq!(reason, DisconnectReason::HandshakeTimeout);
        assert!(reason.should_reconnect());
    }
}

#[test]
fn handshake_ivl_is_configurable_and_zero_disables_it() {
    let mut n = Net::<64>::new();
    let mut c = Config::new(SocketType::Dealer);
    c.handshake_ivl = Duration::from_millis(100);
    let x = n.add(c);
    let mut c0 = Config::new(SocketType::Dealer);
    c0.handshake_ivl = Duration::from_millis(0);
    let y = n.add(c0);
    let l = n.connect(x, y);
    n.stall(l);
    n.advance(100);
    assert_eq!(
        n.event_names(x),
        ["ACCEPTED", "HANDSHAKE_FAILED_NO_DETAIL", "DISCONNECTED"]
    );
    n.advance(3_600_000);
    assert_eq!(n.event_names(y), ["CONNECTED"]);
}

#[test]
fn peer_closing_during_the_handshake_gives_no_detail_epipe() {
    let (mut n, server, client, l) = dealers();
    n.step();
    n.cut(l);
    for i in [server, client] {
        let ev = n.events(i);
        assert_eq!(
            names(&ev)[1..],
            ["HANDSHAKE_FAILED_NO_DETAIL", "DISCONNECTED"]
        );
        assert_eq!(ev[1].event.value(), u64::from(errno::EPIPE));
    }
}

#[test]
fn mechanism_mismatch_gives_failed_protocol_then_disconnected() {
    let now = Instant::from_millis(0);
    let mut s: Socket<'static, 2, 8, 64> = Socket::new(Config::new(SocketType::Dealer), leak(0));
    s.monitor_mut()
        .start("inproc://m", EventMask::ALL, EventVersion::V1)
        .unwrap();
    let ep = EndpointPair::bind_pair("tcp://127.0.0.1:5555", "tcp://127.0.0.1:40000");
    let p = s.attach(now, bufs(1024, 1024), 3, ep).unwrap();
    let mut g = greeting_v30();
    g[11] = 1;
    g[12..17].copy_from_slice(b"PLAIN");
    let _ = s.handle_input(now, p, &g);
    let ev: Vec<_> = core::iter::from_fn(|| s.monitor_mut().pop()).collect();
    assert_eq!(
        ev.iter().map(|e| e.event).collect::<Vec<_>>(),
        [
            Event::HandshakeFailedProtocol {
                code: ProtocolError::ZmtpMechanismMismatch.code()
            },
            Event::Disconnected { fd: 3 }
        ]
    );
    let (_, reason) = s.poll_closed().unwrap();
    assert!(!reason.should_reconnect());
}

#[test]
fn heartbeat_timeout_gives_disconnected() {
    // libzmq test_heartbeat_timeout: the server pings, the peer never
    // answers: ACCEPTED -> DISCONNECTED (no HANDSHAKE_FAILED_*).
    let mut n = Net::<64>::new();
    let mut c = Config::new(SocketType::Router);
    c.heartbeat.interval = Duration::from_millis(50);
    let server = n.add(c);
    let client = n.add_type(SocketType::Dealer);
    let l = n.connect(server, client);
    n.drive();
    n.stall(l);
    n.advance(99);
    assert_eq!(n.event_names(server), ["ACCEPTED", "HANDSHAKE_SUCCEEDED"]);
    n.advance(1);
    let ev = n.events(server);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].event, Event::Disconnected { fd: n.links[l].fx });
    assert_eq!(
        n.sockets[server].poll_closed().unwrap().1,
        DisconnectReason::HeartbeatTimeout
    );
    assert_eq!(n.event_names(client), ["CONNECTED", "HANDSHAKE_SUCCEEDED"]);
}

#[test]
fn heartbeats_answered_keep_the_connection() {
    // libzmq test_heartbeat_notimeout: ACCEPTED, then no further event.
    let mut n = Net::<64>::new();
    let mut c = Config::new(SocketType::Router);
    c.heartbeat.interval = Duration::from_millis(50);
    let server = n.add(c);
    let client = n.add_type(SocketType::Dealer);
    n.connect(server, client);
    n.advance(10_000);
    assert_eq!(n.event_names(server), ["ACCEPTED", "HANDSHAKE_SUCCEEDED"]);
    assert_eq!(n.event_names(client), ["CONNECTED", "HANDSHAKE_SUCCEEDED"]);
}

#[test]
fn peer_ttl_expiry_gives_disconnected() {
    // libzmq test_heartbeat_ttl: the client announces a 100 ms TTL in its
    // PINGs (every 250 ms); the server, without heartbeats of its own,
    // closes when nothing arrives within the TTL.
    let mut n = Net::<64>::new();
    let server = n.add_type(SocketType::Dealer);
    let mut c = Config::new(SocketType::Dealer);
    c.heartbeat.interval = Duration::from_millis(250);
    c.heartbeat.ttl = Duration::from_millis(100);
    let client = n.add(c);
    let l = n.connect(server, client);
    n.advance(349);
    assert_eq!(n.event_names(server), ["ACCEPTED", "HANDSHAKE_SUCCEEDED"]);
    n.advance(1);
    let ev = n.events(server);
    assert_eq!(
        ev.iter().map(|e| e.event).collect::<Vec<_>>(),
        [Event::Disconnected { fd: n.links[l].fx }]
    );
}

#[test]
fn local_close_raises_no_event() {
    let (mut n, server, client, l) = dealers();
    n.drive();
    let _ = n.events(server);
    let _ = n.events(client);
    let py = n.links[l].py;
    n.sockets[client].close_peer(py);
    assert_eq!(n.event_names(client), Vec::<&str>::new());
    assert_eq!(
        n.sockets[client].poll_closed(),
        Some((py, DisconnectReason::LocalClose))
    );
    // The adapter closes the transport; the peer sees it end.
    n.stall(l);
    let (now, px) = (n.now, n.links[l].px);
    n.sockets[server].handle_transport_closed(now, px);
    assert_eq!(n.event_names(server), ["DISCONNECTED"]);
    // Detaching a closed or an open peer raises nothing either.
    assert!(n.sockets[client].detach(py).is_some());
    let c2 = n.add_type(SocketType::Dealer);
    let l2 = n.connect(server, c2);
    n.drive();
    let _ = n.events(server);
    let px2 = n.links[l2].px;
    assert!(n.sockets[server].detach(px2).is_some());
    assert_eq!(n.event_names(server), Vec::<&str>::new());
}

#[test]
fn monitor_stop_is_the_last_event() {
    let (mut n, server, client, l) = dealers();
    n.drive();
    n.sockets[client].monitor_mut().stop();
    n.cut(l);
    let ev = n.events(client);
    assert_eq!(
        names(&ev),
        ["CONNECTED", "HANDSHAKE_SUCCEEDED", "MONITOR_STOPPED"]
    );
    let last = ev.last().unwrap();
    assert_eq!(last.event.value(), 0);
    assert_eq!(last.endpoints.local(), "");
    assert_eq!(last.endpoints.remote(), "");
    assert_eq!(v1(last), (0x0400, 0, String::new()));
    assert!(!n.sockets[client].monitor().is_active());
    // libzmq test_monitor_basic, server side: ... DISCONNECTED, then the
    // stop.
    n.sockets[server].monitor_mut().stop();
    assert_eq!(
        n.event_names(server),
        [
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "DISCONNECTED",
            "MONITOR_STOPPED"
        ]
    );
    // Stopping again does nothing.
    n.sockets[server].monitor_mut().stop();
    assert_eq!(n.event_names(server), Vec::<&str>::new());
}

#[test]
fn restarting_the_monitor_stops_the_old_one_first() {
    let (mut n, server, _client, l) = dealers();
    n.drive();
    n.sockets[server]
        .monitor_mut()
        .start(
            "inproc://second",
            EventMask::NONE.with(event_id::DISCONNECTED),
            EventVersion::V2,
        )
        .unwrap();
    n.cut(l);
    let c2 = n.add_type(SocketType::Dealer);
    n.connect(server, c2);
    n.drive();
    assert_eq!(
        n.event_names(server),
        [
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "MONITOR_STOPPED",
            "DISCONNECTED"
        ]
    );
    // A monitor whose mask lacks MONITOR_STOPPED stops silently.
    n.sockets[server]
        .monitor_mut()
        .start("inproc://third", EventMask::ALL, EventVersion::V1)
        .unwrap();
    assert_eq!(n.event_names(server), Vec::<&str>::new());
}

#[test]
fn mask_filters_events() {
    let mut n = Net::<64>::new();
    let server = n.add_unmonitored(Config::new(SocketType::Router));
    // libzmq test_heartbeats' mask.
    let mask = EventMask::NONE
        .with(event_id::CONNECTED)
        .with(event_id::DISCONNECTED)
        .with(event_id::ACCEPTED);
    n.sockets[server]
        .monitor_mut()
        .start("inproc://mask", mask, EventVersion::V1)
        .unwrap();
    let client = n.add_unmonitored(Config::new(SocketType::Dealer));
    n.sockets[client]
        .monitor_mut()
        .start(
            "inproc://mask2",
            EventMask::NONE.with(event_id::HANDSHAKE_SUCCEEDED),
            EventVersion::V1,
        )
        .unwrap();
    let l = n.connect(server, client);
    n.drive();
    n.cut(l);
    assert_eq!(n.event_names(server), ["ACCEPTED", "DISCONNECTED"]);
    assert_eq!(n.event_names(client), ["HANDSHAKE_SUCCEEDED"]);
    // A stopped monitor records nothing.
    n.sockets[client].monitor_mut().stop();
    let c2 = n.add_type(SocketType::Dealer);
    n.connect(c2, client);
    n.drive();
    assert_eq!(n.event_names(client), Vec::<&str>::new());
}

#[test]
fn v2_raw_form_carries_the_same_data_as_v1() {
    let (mut n, server, client, l) = dealers();
    n.drive();
    n.cut(l);
    n.sockets[server].monitor_mut().stop();
    let mut all = n.events(server);
    all.extend(n.events(client));
    assert_eq!(all.len(), 7);
    for e in &all {
        let r1 = e.raw(EventVersion::V1);
        let f1: Vec<&[u8]> = r1.frames().collect();
        let (ev1, ep1) = decode_v1(&f1).unwrap();
        let r2 = e.raw(EventVersion::V2);
        let f2: Vec<&[u8]> = r2.frames().collect();
        assert_eq!(f2.len(), 5);
        assert!((0..4).all(|i| r2.is_more(i)) && !r2.is_more(4));
        let (ev2, local, remote) = decode_v2(&f2).unwrap();
        assert_eq!(ev1, e.event);
        assert_eq!(ev2, e.event);
        assert_eq!(ep1, e.endpoints.v1_endpoint().as_bytes());
        assert_eq!(local, e.endpoints.local().as_bytes());
        assert_eq!(remote, e.endpoints.remote().as_bytes());
        // Same id and value, widened to 64 bits.
        assert_eq!(&f2[0][..2], &f1[0][..2]);
        assert_eq!(&f2[0][2..], [0; 6]);
        assert_eq!(f2[1], 1_u64.to_le_bytes());
        assert_eq!(&f2[2][..4], &f1[0][2..]);
        assert_eq!(&f2[2][4..], [0; 4]);
    }
}

#[test]
fn a_full_monitor_queue_drops_and_counts_and_never_blocks() {
    let mut n = Net::<2>::new();
    let server = n.add_type(SocketType::Dealer);
    let mut clients = Vec::new();
    for _ in 0..3 {
        let c = n.add_type(SocketType::Dealer);
        n.connect(server, c);
        clients.push(c);
    }
    n.drive();
    // Only the first two server events fit: ACCEPTED, ACCEPTED; the rest
    // (one ACCEPTED, three HANDSHAKE_SUCCEEDED) are counted.
    assert_eq!(n.sockets[server].monitor().dropped(), 4);
    assert_eq!(n.sockets[server].ready_peers(), 3);
    // The socket keeps working.
    for (k, &c) in clients.iter().enumerate() {
        n.send(c, &[&format!("m{k}")]);
    }
    n.drive();
    let mut got: Vec<String> = n
        .recv_all(server)
        .into_iter()
        .map(|m| m[0].clone())
        .collect();
    got.sort();
    assert_eq!(got, ["m0", "m1", "m2"]);
    assert_eq!(n.event_names(server), ["ACCEPTED", "ACCEPTED"]);
    // Room again: new events are recorded, the count stays.
    n.cut(0);
    assert_eq!(n.event_names(server), ["DISCONNECTED"]);
    assert_eq!(n.sockets[server].monitor().dropped(), 4);
}
