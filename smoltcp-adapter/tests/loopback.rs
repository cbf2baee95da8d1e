//! Adapters talking to each other over smoltcp's `phy::Loopback`: one
//! interface (127.0.0.1/8, medium IP), one socket set, a virtual clock.
//! Every loop is bounded; every run is deterministic (fixed seeds).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail the test on unexpected results"
)]

mod common;

use common::*;
use smoltcp::phy::Medium;
use smoltcp::time::Duration;
use smoltcp::wire::{IpAddress, IpEndpoint};
use zmtp_core::monitor::{EndpointSide, Event, MonitorEvent, decode_v2, errno, event_id};
use zmtp_core::socket_type::SocketType;
use zmtp_smoltcp::{MonitorPublisher, Options};
#[test]
fn handshake_messages_and_monitor_sequences() {
    let mut net = Net::new();
    let mut server = dealer(&mut net, options(), 1);
    let mut client = dealer(&mut net, options(), 2);
    connect_pair(&mut net, &mut server, &mut client);

    // Messages both ways, multipart and empty frames included.
    client
        .socket_mut()
        .send(&[b"Hello", b"", b"multi"])
        .unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(50));
    assert_eq!(
        recv_message(&mut server),
        Some(vec![b"Hello".to_vec(), vec![], b"multi".to_vec()])
    );
    let big = vec![0xA5u8; 3000];
    server.socket_mut().send(&[b"World", &big]).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(50));
    assert_eq!(
        recv_message(&mut client),
        Some(vec![b"World".to_vec(), big])
    );
    assert_eq!(recv_message(&mut client), None);

    let s = events(&mut server);
    let c = events(&mut client);
    assert_eq!(names(&s), ["LISTENING", "ACCEPTED", "HANDSHAKE_SUCCEEDED"]);
    assert_eq!(
        names(&c),
        ["CONNECT_DELAYED", "CONNECTED", "HANDSHAKE_SUCCEEDED"]
    );

    // Values: handles where libzmq reports fds, errno where it reports one.
    assert_eq!(s[0].event, Event::Listening { fd: 3 });
    assert_eq!(s[0].endpoints.local(), "tcp://0.0.0.0:5555");
    assert_eq!(s[0].endpoints.remote(), "");
    assert_eq!(s[0].endpoints.side(), EndpointSide::Bind);
    assert_eq!(s[1].event, Event::Accepted { fd: 4 });
    assert_eq!(s[1].endpoints.local(), "tcp://127.0.0.1:5555");
    assert_eq!(s[2].endpoints, s[1].endpoints);

    assert_eq!(
        c[0].event,
        Event::ConnectDelayed {
            errno: errno::EINPROGRESS
        }
    );
    assert_eq!(c[0].endpoints.local(), "");
    assert_eq!(c[0].endpoints.remote(), "tcp://127.0.0.1:5555");
    assert_eq!(c[0].endpoints.side(), EndpointSide::Connect);
    assert_eq!(c[1].event, Event::Connected { fd: 4 });
    assert_eq!(c[1].endpoints.remote(), "tcp://127.0.0.1:5555");
    assert_eq!(c[2].endpoints, c[1].endpoints);
    // The two sides see the same connection.
    assert_eq!(c[1].endpoints.local(), s[1].endpoints.remote());
    let port: u16 = c[1].endpoints.local()["tcp://127.0.0.1:".len()..]
        .parse()
        .unwrap();
    assert!(port >= 49152);

    // The other slot of the server still listens.
    assert_eq!(server.listening(), 1);
    assert_eq!(server.attached(), 1);
}

#[test]
fn connecting_peer_leaves() {
    let mut net = Net::new();
    let mut server = dealer(&mut net, options(), 3);
    let mut client = dealer(&mut net, options(), 4);
    connect_pair(&mut net, &mut server, &mut client);
    events(&mut server);
    events(&mut client);

    // A message sent just before leaving is still delivered.
    client.socket_mut().send(&[b"bye"]).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(20));
    client
        .disconnect(data_endpoint(), &mut net.sockets)
        .unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(500));

    assert_eq!(recv_message(&mut server), Some(vec![b"bye".to_vec()]));
    let s = events(&mut server);
    assert_eq!(names(&s), ["DISCONNECTED"]);
    assert_eq!(s[0].event, Event::Disconnected { fd: 4 });
    assert_eq!(s[0].endpoints.local(), "tcp://127.0.0.1:5555");
    // A local disconnect raises nothing, and nothing reconnects.
    assert_eq!(names(&events(&mut client)), Vec::<&str>::new());
    net.run(&mut [&mut server, &mut client], Duration::from_secs(3));
    assert_eq!(names(&events(&mut client)), Vec::<&str>::new());
    // Both server slots listen again.
    assert_eq!(server.listening(), 2);
    assert_eq!(server.attached(), 0);
}

#[test]
fn bound_peer_leaves_and_the_connecter_reconnects() {
    let mut net = Net::new();
    let mut server = dealer(&mut net, options(), 5);
    let mut client = dealer(&mut net, options(), 6);
    connect_pair(&mut net, &mut server, &mut client);
    events(&mut server);
    events(&mut client);

    // The server drops its peer (a local close: no event on its side).
    let peer = server.socket().peers().next().unwrap();
    server.socket_mut().close_peer(peer);
    let t0 = net.now;
    net.run(&mut [&mut server, &mut client], Duration::from_secs(5));

    let c = events(&mut client);
    assert_eq!(
        names(&c),
        [
            "DISCONNECTED",
            "CONNECT_RETRIED",
            "CONNECT_DELAYED",
            "CONNECTED",
            "HANDSHAKE_SUCCEEDED"
        ]
    );
    assert_eq!(c[0].event, Event::Disconnected { fd: 4 });
    // A fresh back-off after an established connection: the base interval.
    assert_eq!(c[1].event, Event::ConnectRetried { interval_ms: 100 });
    assert_eq!(c[1].endpoints.local(), "");
    assert_eq!(c[1].endpoints.remote(), "tcp://127.0.0.1:5555");
    assert_eq!(c[3].event, Event::Connected { fd: 4 });
    let s = events(&mut server);
    assert_eq!(names(&s), ["ACCEPTED", "HANDSHAKE_SUCCEEDED"]);
    assert!(net.now >= t0 + Duration::from_millis(100));

    // Messages flow on the new connection.
    client.socket_mut().send(&[b"again"]).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(50));
    assert_eq!(recv_message(&mut server), Some(vec![b"again".to_vec()]));

    // The server goes away altogether; the client retries with growing
    // intervals until it comes back.
    server.unbind(&mut net.sockets).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(1000));
    let s = events(&mut server);
    assert_eq!(names(&s), ["CLOSED"]);
    assert_eq!(s[0].event, Event::Closed { fd: 3 });
    assert_eq!(s[0].endpoints.local(), "tcp://0.0.0.0:5555");
    let c = events(&mut client);
    assert_eq!(&names(&c)[..2], ["DISCONNECTED", "CONNECT_RETRIED"]);
    let retried: Vec<u64> = c
        .iter()
        .filter(|e| e.event.id() == event_id::CONNECT_RETRIED)
        .map(|e| e.event.value())
        .collect();
    // The new connecter after DISCONNECTED starts at the base interval and
    // grows with each failed attempt.
    assert_eq!(retried[..4], [100, 200, 400, 400]);
    server.bind(DATA_PORT, &mut net.sockets).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_secs(2));
    assert_eq!(client.socket().ready_peers(), 1);
    let c = events(&mut client);
    assert_eq!(
        &names(&c)[names(&c).len() - 3..],
        ["CONNECT_DELAYED", "CONNECTED", "HANDSHAKE_SUCCEEDED"]
    );
}

#[test]
fn connect_with_nothing_listening_backs_off() {
    let mut net = Net::new();
    let mut client = dealer(&mut net, options(), 7);
    let remote = IpEndpoint::new(LOCALHOST, 5600);
    client.connect(remote).unwrap();
    net.run(&mut [&mut client], Duration::from_millis(1250));
    let c = events(&mut client);
    // Attempts at 0, 100, 300, 700 and 1100 ms (intervals 100, 200, 400,
    // 400 from Backoff::new(100, 400)).
    let expected: Vec<Event> = [100, 200, 400, 400, 400]
        .iter()
        .flat_map(|&ivl| {
            [
                Event::ConnectDelayed {
                    errno: errno::EINPROGRESS,
                },
                Event::Closed { fd: 4 },
                Event::ConnectRetried { interval_ms: ivl },
            ]
        })
        .collect();
    let got: Vec<Event> = c.iter().map(|e| e.event).collect();
    assert_eq!(got, expected);
    for e in &c {
        assert_eq!(e.endpoints.local(), "");
        assert_eq!(e.endpoints.remote(), "tcp://127.0.0.1:5600");
        assert_eq!(e.endpoints.side(), EndpointSide::Connect);
    }

    // A peer appears: the next attempt succeeds.
    let mut server = dealer(&mut net, options(), 8);
    server.bind(5600, &mut net.sockets).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(500));
    assert_eq!(client.socket().ready_peers(), 1);
    assert_eq!(
        names(&events(&mut client)),
        ["CONNECT_DELAYED", "CONNECTED", "HANDSHAKE_SUCCEEDED"]
    );
}

#[test]
fn connect_timeout_and_default_jitter() {
    // Nothing answers a SYN to an address that is not on the link (medium
    // IP: it leaves on the loopback and nobody takes it).
    let mut net = Net::new();
    let mut o = Options::default(); // reconnect_ivl 100, max 0: jitter
    o.connect_timeout = Some(Duration::from_millis(300));
    let mut client = dealer(&mut net, o, 9);
    client
        .connect(IpEndpoint::new(IpAddress::v4(127, 0, 0, 9), 5555))
        .unwrap();
    net.run(&mut [&mut client], Duration::from_millis(2000));
    let c = events(&mut client);
    let got = names(&c);
    assert!(got.len() >= 6, "{got:?}");
    for chunk in c.chunks(3).filter(|ch| ch.len() == 3) {
        assert_eq!(
            names(chunk),
            ["CONNECT_DELAYED", "CLOSED", "CONNECT_RETRIED"]
        );
        let ivl = chunk[2].event.value();
        assert!((100..200).contains(&ivl), "{ivl}");
    }
}

#[test]
fn remote_monitoring_over_xpub() {
    let mut net = Net::new();
    let mut server = dealer(&mut net, options(), 10);
    let mut client = dealer(&mut net, options(), 11);
    let xpub = make(&mut net, SocketType::XPub, 1024, options(), 12);
    let mut publisher: Publisher<32> = MonitorPublisher::new(xpub).unwrap();
    publisher.bind(5556, &mut net.sockets).unwrap();
    let mut sub = make(&mut net, SocketType::Sub, 256, options(), 13);
    let mut sub_hs = make(&mut net, SocketType::Sub, 256, options(), 14);

    // The data socket binds before anyone subscribed: LISTENING waits in
    // the backlog.
    server.bind(DATA_PORT, &mut net.sockets).unwrap();
    publisher.forward(server.socket_mut().monitor_mut());
    assert_eq!(publisher.pending(), 1);

    sub.socket_mut().subscribe(b"").unwrap();
    // Only HANDSHAKE_SUCCEEDED: the topic is the 8-byte little-endian id.
    sub_hs
        .socket_mut()
        .subscribe(&event_id::HANDSHAKE_SUCCEEDED.to_le_bytes())
        .unwrap();
    sub.connect(IpEndpoint::new(LOCALHOST, 5556)).unwrap();
    sub_hs.connect(IpEndpoint::new(LOCALHOST, 5556)).unwrap();
    net.run(
        &mut [&mut publisher, &mut sub, &mut sub_hs],
        Duration::from_millis(200),
    );
    assert!(publisher.is_subscribed());

    client.connect(data_endpoint()).unwrap();
    let mut got_all: Vec<(Event, String, String)> = Vec::new();
    let mut got_hs: Vec<Event> = Vec::new();
    for _ in 0..50 {
        net.run(
            &mut [
                &mut server,
                &mut client,
                &mut publisher,
                &mut sub,
                &mut sub_hs,
            ],
            Duration::from_millis(20),
        );
        publisher.forward(server.socket_mut().monitor_mut());
        while let Some(frames) = recv_message(&mut sub) {
            let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            let (ev, local, remote) = decode_v2(&refs).unwrap();
            got_all.push((
                ev,
                String::from_utf8(local.to_vec()).unwrap(),
                String::from_utf8(remote.to_vec()).unwrap(),
            ));
        }
        while let Some(frames) = recv_message(&mut sub_hs) {
            let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            got_hs.push(decode_v2(&refs).unwrap().0);
        }
    }
    let got_names: Vec<&str> = got_all.iter().map(|(e, _, _)| e.name()).collect();
    assert_eq!(got_names, ["LISTENING", "ACCEPTED", "HANDSHAKE_SUCCEEDED"]);
    assert_eq!(got_all[0].0, Event::Listening { fd: 3 });
    assert_eq!(got_all[0].1, "tcp://0.0.0.0:5555");
    assert_eq!(got_all[1].0, Event::Accepted { fd: 4 });
    assert_eq!(got_all[1].1, "tcp://127.0.0.1:5555");
    assert!(got_all[1].2.starts_with("tcp://127.0.0.1:"));
    assert_eq!(got_hs, [Event::HandshakeSucceeded]);
    assert_eq!(publisher.published(), 3);
    assert_eq!(publisher.dropped(), 0);
    // The publisher's subscribers are its own business: its monitor is not
    // the data socket's.
    assert_eq!(publisher.pending(), 0);
}

#[test]
fn remote_monitoring_never_blocks() {
    let mut net = Net::new();
    let xpub = make(&mut net, SocketType::XPub, 1024, options(), 20);
    let mut publisher: Publisher<8> = MonitorPublisher::new(xpub).unwrap();
    publisher.bind(5556, &mut net.sockets).unwrap();

    // No subscriber: the backlog holds 8 events and counts the rest.
    for i in 0..10u32 {
        publisher.publish(MonitorEvent::new(
            Event::ConnectRetried { interval_ms: i },
            zmtp_core::monitor::EndpointPair::connect("tcp://127.0.0.1:1"),
        ));
    }
    assert_eq!(publisher.pending(), 8);
    assert_eq!(publisher.dropped(), 2);

    // A subscriber that never reads: its queues and the TCP window fill
    // up, the backlog fills up, and events are dropped and counted while
    // the loop keeps running.
    let mut sub = make(&mut net, SocketType::Sub, 256, options(), 21);
    sub.socket_mut().subscribe(b"").unwrap();
    sub.connect(IpEndpoint::new(LOCALHOST, 5556)).unwrap();
    let long = "tcp://127.0.0.1:65535";
    let mut offered = 0u64;
    for _ in 0..400 {
        for _ in 0..20 {
            publisher.publish(MonitorEvent::new(
                Event::Accepted { fd: 7 },
                zmtp_core::monitor::EndpointPair::bind_pair(long, long),
            ));
            offered += 1;
        }
        net.run(&mut [&mut publisher, &mut sub], Duration::from_millis(5));
    }
    assert!(publisher.published() > 0);
    assert!(publisher.dropped() > 0);
    assert_eq!(
        publisher.published() + publisher.dropped() + publisher.pending() as u64,
        offered + 10
    );
    // The subscriber still gets every published event in order once it reads.
    let mut first = None;
    for _ in 0..5 {
        if let Some(frames) = recv_message(&mut sub) {
            let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            first.get_or_insert(decode_v2(&refs).unwrap().0);
        }
    }
    assert_eq!(first, Some(Event::ConnectRetried { interval_ms: 0 }));
}

#[test]
fn pub_sub_and_req_rep_over_tcp() {
    let mut net = Net::new();
    let mut publ = make(&mut net, SocketType::Pub, 0, options(), 30);
    let mut sub = make(&mut net, SocketType::Sub, 256, options(), 31);
    publ.bind(6000, &mut net.sockets).unwrap();
    sub.socket_mut().subscribe(b"a").unwrap();
    sub.connect(IpEndpoint::new(LOCALHOST, 6000)).unwrap();
    net.run(&mut [&mut publ, &mut sub], Duration::from_millis(200));
    for topic in [&b"a1"[..], b"b1", b"a2"] {
        publ.socket_mut().send(&[topic]).unwrap();
    }
    net.run(&mut [&mut publ, &mut sub], Duration::from_millis(50));
    assert_eq!(recv_message(&mut sub), Some(vec![b"a1".to_vec()]));
    assert_eq!(recv_message(&mut sub), Some(vec![b"a2".to_vec()]));
    assert_eq!(recv_message(&mut sub), None);

    let mut rep = make(&mut net, SocketType::Rep, 0, options(), 32);
    let mut req = make(&mut net, SocketType::Req, 0, options(), 33);
    rep.bind(6001, &mut net.sockets).unwrap();
    req.connect(IpEndpoint::new(LOCALHOST, 6001)).unwrap();
    net.run(&mut [&mut rep, &mut req], Duration::from_millis(200));
    for i in 0..3u8 {
        req.socket_mut().send(&[&[i]]).unwrap();
        net.run(&mut [&mut rep, &mut req], Duration::from_millis(20));
        let got = recv_message(&mut rep).unwrap();
        assert_eq!(got, vec![vec![i]]);
        rep.socket_mut().send(&[&[i, i]]).unwrap();
        net.run(&mut [&mut rep, &mut req], Duration::from_millis(20));
        assert_eq!(recv_message(&mut req), Some(vec![vec![i, i]]));
    }
}

#[test]
fn reset_by_peer_reconnects() {
    let mut net = Net::new();
    let mut server = dealer(&mut net, options(), 40);
    let mut client = dealer(&mut net, options(), 41);
    connect_pair(&mut net, &mut server, &mut client);
    events(&mut server);
    events(&mut client);
    // Abort the server's established TCP connection (an RST on the wire).
    let handles: Vec<_> = server.tcp_handles().collect();
    for h in handles {
        let tcp = net.sockets.get_mut::<smoltcp::socket::tcp::Socket<'_>>(h);
        if tcp.state() == smoltcp::socket::tcp::State::Established {
            tcp.abort();
        }
    }
    net.run(&mut [&mut server, &mut client], Duration::from_secs(1));
    let c = events(&mut client);
    assert_eq!(
        names(&c),
        [
            "DISCONNECTED",
            "CONNECT_RETRIED",
            "CONNECT_DELAYED",
            "CONNECTED",
            "HANDSHAKE_SUCCEEDED"
        ]
    );
    assert_eq!(client.socket().ready_peers(), 1);
    // The server's own side of the cut connection fails too (ECONNRESET),
    // then it accepts the new one.
    let s = events(&mut server);
    assert_eq!(
        names(&s),
        ["DISCONNECTED", "ACCEPTED", "HANDSHAKE_SUCCEEDED"]
    );
}

#[test]
fn incompatible_peer_is_not_retried() {
    let mut net = Net::new();
    let mut server = make(&mut net, SocketType::Pub, 0, options(), 50);
    let mut client = dealer(&mut net, options(), 51);
    server.bind(DATA_PORT, &mut net.sockets).unwrap();
    client.connect(data_endpoint()).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_secs(2));
    // libzmq (NULL mechanism): DISCONNECTED only, and the connecter stops.
    assert_eq!(
        names(&events(&mut client)),
        ["CONNECT_DELAYED", "CONNECTED", "DISCONNECTED"]
    );
    assert_eq!(
        names(&events(&mut server)),
        ["LISTENING", "ACCEPTED", "DISCONNECTED"]
    );
    assert_eq!(client.attached(), 0);
    // The connecter is gone: the endpoint can be connected anew.
    assert!(client.connect(data_endpoint()).is_ok());
}

#[test]
fn ethernet_medium() {
    // The same exchange on an Ethernet interface (ARP included), as on a
    // board's NIC.
    let mut net = Net::with_medium(Medium::Ethernet);
    let mut server = dealer(&mut net, options(), 60);
    let mut client = dealer(&mut net, options(), 61);
    connect_pair(&mut net, &mut server, &mut client);
    client.socket_mut().send(&[b"over ethernet"]).unwrap();
    net.run(&mut [&mut server, &mut client], Duration::from_millis(50));
    assert_eq!(
        recv_message(&mut server),
        Some(vec![b"over ethernet".to_vec()])
    );
    assert_eq!(
        names(&events(&mut client)),
        ["CONNECT_DELAYED", "CONNECTED", "HANDSHAKE_SUCCEEDED"]
    );
}
