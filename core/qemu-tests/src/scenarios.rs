//! The scenarios: ports of the host tests in `core/tests` (smoke,
//! conn_handshake, socket_patterns, socket_pubsub, socket_limits,
//! monitor_sequences) to two or three sockets linked in memory.
//!
//! Each scenario takes its own memory on the stack (`#[inline(never)]`, so
//! the frames of different scenarios do not add up).

use zmtp_core::conn::{Config, DisconnectReason};
use zmtp_core::monitor::{
    EndpointSide, Event, EventVersion, decode_v1, decode_v2, errno, event_id,
};
use zmtp_core::socket::{RecvError, SendError};
use zmtp_core::{Duration, SocketType};

use crate::harness::{MEM_ONE_LINK as MEM_SMALL, MEM_TWO_LINKS as MEM_LARGE, Outcome, cfg};
use crate::{check, check_eq, fail, net, ok};

/// One scenario: a name and the function that runs it.
pub type Scenario = (&'static str, fn() -> Outcome);

/// Every scenario, in the order they run.
pub const ALL: [Scenario; 16] = [
    ("handshake_dealer_dealer", handshake_dealer_dealer),
    ("handshake_compatible_pairs", handshake_compatible_pairs),
    ("handshake_incompatible_pairs", handshake_incompatible_pairs),
    ("message_multipart", message_multipart),
    ("message_empty_frames", message_empty_frames),
    ("message_256_bytes", message_256_bytes),
    ("req_rep_envelope", req_rep_envelope),
    ("req_rep_efsm", req_rep_efsm),
    ("pub_sub_filtering", pub_sub_filtering),
    ("router_routing", router_routing),
    (
        "peer_leaving_gives_disconnected",
        peer_leaving_gives_disconnected,
    ),
    (
        "heartbeat_timeout_disconnected",
        heartbeat_timeout_disconnected,
    ),
    ("handshake_timeout_no_detail", handshake_timeout_no_detail),
    ("max_msg_size", max_msg_size),
    ("monitor_v1_encoding", monitor_v1_encoding),
    ("monitor_v2_encoding", monitor_v2_encoding),
];

#[inline(never)]
fn handshake_dealer_dealer() -> Outcome {
    net!(
        n,
        MEM_SMALL,
        cfg(SocketType::Dealer),
        cfg(SocketType::Dealer)
    );
    let (server, client, _) = n.join()?;
    n.expect_events(server, &["ACCEPTED", "HANDSHAKE_SUCCEEDED"])?;
    n.expect_events(client, &["CONNECTED", "HANDSHAKE_SUCCEEDED"])?;
    n.deliver(client, server, &[b"hello", b"world"])?;
    n.deliver(server, client, &[b"back"])
}

#[inline(never)]
fn handshake_compatible_pairs() -> Outcome {
    for (bound, connecting) in [
        (SocketType::Rep, SocketType::Req),
        (SocketType::Router, SocketType::Req),
        (SocketType::Pub, SocketType::Sub),
        (SocketType::XPub, SocketType::XSub),
        (SocketType::Pull, SocketType::Push),
        (SocketType::Pair, SocketType::Pair),
        (SocketType::Router, SocketType::Dealer),
    ] {
        net!(n, MEM_SMALL, cfg(bound), cfg(connecting));
        let (x, y, _) = n.join()?;
        let (sx, sy) = (n.event_names(x), n.event_names(y));
        check!(
            sx.as_slice() == ["ACCEPTED", "HANDSHAKE_SUCCEEDED"]
                && sy.as_slice() == ["CONNECTED", "HANDSHAKE_SUCCEEDED"],
            "{bound:?} <- {connecting:?}: {sx:?} / {sy:?}"
        );
        check!(
            n.sock(x)?.ready_peers() == 1 && n.sock(y)?.ready_peers() == 1,
            "{bound:?} <- {connecting:?}: not ready"
        );
    }
    Ok(())
}

#[inline(never)]
fn handshake_incompatible_pairs() -> Outcome {
    for (bound, connecting) in [
        (SocketType::Pub, SocketType::Push),
        (SocketType::Req, SocketType::Req),
        (SocketType::Pair, SocketType::Dealer),
        (SocketType::Router, SocketType::Pull),
        (SocketType::XPub, SocketType::Pub),
    ] {
        net!(n, MEM_SMALL, cfg(bound), cfg(connecting));
        let (x, y, l) = n.join()?;
        let (fx, fy) = (n.link(l)?.fx, n.link(l)?.fy);
        let ex: heapless::Vec<Event, 4> = n.events(x).iter().map(|e| e.event).collect();
        let ey: heapless::Vec<Event, 4> = n.events(y).iter().map(|e| e.event).collect();
        check!(
            ex.as_slice() == [Event::Accepted { fd: fx }, Event::Disconnected { fd: fx }],
            "{bound:?} <- {connecting:?}: bound side {ex:?}"
        );
        check!(
            ey.as_slice() == [Event::Connected { fd: fy }, Event::Disconnected { fd: fy }],
            "{bound:?} <- {connecting:?}: connecting side {ey:?}"
        );
        let (_, reason) = ok!(n.closed(y));
        check!(
            !reason.should_reconnect(),
            "{bound:?} <- {connecting:?}: {reason:?} reconnects"
        );
        check_eq!(n.sock(x)?.ready_peers(), 0);
    }
    Ok(())
}

#[inline(never)]
fn message_multipart() -> Outcome {
    net!(n, MEM_SMALL, cfg(SocketType::Pair), cfg(SocketType::Pair));
    let (a, b, _) = n.join()?;
    n.deliver(a, b, &[b"one", b"two", b"three", b"four"])?;
    n.deliver(b, a, &[b"x", b"yy"])?;
    // Several messages in flight arrive in order and whole.
    for i in 0..5u8 {
        n.send(a, &[&[b'm', b'0' + i], b"tail"])?;
    }
    n.drive()?;
    for i in 0..5u8 {
        n.expect(b, &[&[b'm', b'0' + i], b"tail"])?;
    }
    n.expect_nothing(b)
}

#[inline(never)]
fn message_empty_frames() -> Outcome {
    net!(
        n,
        MEM_SMALL,
        cfg(SocketType::Dealer),
        cfg(SocketType::Dealer)
    );
    let (a, b, _) = n.join()?;
    n.deliver(a, b, &[b""])?;
    n.deliver(b, a, &[b"", b"", b""])?;
    n.deliver(a, b, &[b"head", b"", b"tail"])
}

#[inline(never)]
fn message_256_bytes() -> Outcome {
    net!(n, MEM_SMALL, cfg(SocketType::Push), cfg(SocketType::Pull));
    let (a, b, _) = n.join()?;
    // 255 fits the short size field, 256 needs the long one (RFC 23).
    let mut big = [0u8; 256];
    for (i, x) in big.iter_mut().enumerate() {
        *x = (i % 251) as u8;
    }
    n.deliver(a, b, &[&big[..255]])?;
    n.deliver(a, b, &[&big])?;
    n.deliver(a, b, &[&big, &big[..17]])
}

#[inline(never)]
fn req_rep_envelope() -> Outcome {
    req_rep_round_trips()?;
    req_envelope_at_router()
}

/// REQ adds the empty delimiter, REP strips it and puts it back.
#[inline(never)]
fn req_rep_round_trips() -> Outcome {
    net!(n, MEM_SMALL, cfg(SocketType::Rep), cfg(SocketType::Req));
    let (rep, req, _) = n.join()?;
    for i in 0..3u8 {
        n.deliver(req, rep, &[b"hello", &[b'0' + i]])?;
        n.deliver(rep, req, &[b"world", &[b'0' + i]])?;
    }
    Ok(())
}

/// A ROUTER sees REQ's envelope: routing id, delimiter, body.
#[inline(never)]
fn req_envelope_at_router() -> Outcome {
    let mut c = Config::new(SocketType::Req);
    ok!(c.set_routing_id(b"client"));
    net!(n, MEM_SMALL, cfg(SocketType::Router), c);
    let (router, req, _) = n.join()?;
    n.send(req, &[b"body", b"more"])?;
    n.drive()?;
    n.expect(router, &[b"client", b"", b"body", b"more"])?;
    // A reply without the delimiter is dropped by REQ.
    n.send(router, &[b"client", b"bad"])?;
    n.send(router, &[b"client", b"", b"reply"])?;
    n.drive()?;
    n.expect(req, &[b"reply"])?;
    // The reply ended the cycle: REQ must send before it receives again.
    check_eq!(n.try_recv(req).err(), Some(RecvError::Efsm));
    Ok(())
}

#[inline(never)]
fn req_rep_efsm() -> Outcome {
    net!(n, MEM_SMALL, cfg(SocketType::Rep), cfg(SocketType::Req));
    let (rep, req, _) = n.join()?;
    check_eq!(n.try_recv(req).err(), Some(RecvError::Efsm));
    check_eq!(
        n.try_send(rep, &[b"unasked"]),
        Err(nb::Error::Other(SendError::Efsm))
    );
    n.send(req, &[b"one"])?;
    check_eq!(
        n.try_send(req, &[b"two"]),
        Err(nb::Error::Other(SendError::Efsm))
    );
    n.drive()?;
    n.expect(rep, &[b"one"])?;
    n.send(rep, &[b"answer"])?;
    check_eq!(
        n.try_send(rep, &[b"again"]),
        Err(nb::Error::Other(SendError::Efsm))
    );
    n.drive()?;
    n.expect(req, &[b"answer"])?;
    // The cycle starts again.
    n.deliver(req, rep, &[b"next"])
}

#[inline(never)]
fn pub_sub_filtering() -> Outcome {
    net!(n, MEM_SMALL, cfg(SocketType::Pub), cfg(SocketType::Sub));
    let (p, s, _) = n.join()?;
    // Nothing arrives before a subscription.
    n.send(p, &[b"weather.early"])?;
    n.drive()?;
    n.expect_nothing(s)?;
    ok!(n.sock(s)?.subscribe(b"weather."));
    n.drive()?;
    for m in [
        &b"weather.paris 21"[..],
        b"news.today",
        b"weather",
        b"weather.oslo -3",
    ] {
        n.send(p, &[m])?;
    }
    n.drive()?;
    n.expect(s, &[b"weather.paris 21"])?;
    n.expect(s, &[b"weather.oslo -3"])?;
    n.expect_nothing(s)?;
    // Multipart: the first frame is the topic.
    n.send(p, &[b"weather.rome", b"28"])?;
    n.drive()?;
    n.expect(s, &[b"weather.rome", b"28"])?;
    // After the cancel, the PUB filters again.
    ok!(n.sock(s)?.unsubscribe(b"weather."));
    n.drive()?;
    n.send(p, &[b"weather.late"])?;
    n.drive()?;
    n.expect_nothing(s)?;
    check_eq!(
        n.try_send(s, &[b"x"]),
        Err(nb::Error::Other(SendError::NotSupported))
    );
    Ok(())
}

#[inline(never)]
fn router_routing() -> Outcome {
    router_routes_by_announced_ids()?;
    router_generates_ids()
}

/// A ROUTER and one DEALER connected twice, announcing "alice" on the
/// first connection and "bob" on the second (the routing id applies to
/// connections attached later).
#[inline(never)]
fn router_routes_by_announced_ids() -> Outcome {
    net!(
        n,
        MEM_LARGE,
        cfg(SocketType::Router),
        cfg(SocketType::Dealer)
    );
    let (r, d) = (0, 1);
    ok!(n.sock(d)?.config_mut().set_routing_id(b"alice"));
    let la = n.connect(r, d)?;
    ok!(n.sock(d)?.config_mut().set_routing_id(b"bob"));
    let lb = n.connect(r, d)?;
    n.drive()?;
    check_eq!(n.sock(r)?.ready_peers(), 2);
    let (xa, xb) = (n.link(la)?.px, n.link(lb)?.px);
    check_eq!(n.sock(r)?.routing_id(xa), Some(&b"alice"[..]));
    check_eq!(n.sock(r)?.routing_id(xb), Some(&b"bob"[..]));
    // The DEALER round-robins; the ROUTER prepends the sender's id.
    n.send(d, &[b"one", b"tail"])?;
    n.send(d, &[b"two"])?;
    n.drive()?;
    n.expect(r, &[b"alice", b"one", b"tail"])?;
    n.expect(r, &[b"bob", b"two"])?;
    // Replies go to the connection the first frame names, and only there;
    // an unknown id is dropped silently.
    let (pa, pb) = (n.link(la)?.py, n.link(lb)?.py);
    for (id, body, via) in [
        (&b"bob"[..], &b"to-bob"[..], pb),
        (b"alice", b"to-alice", pa),
    ] {
        n.send(r, &[b"nobody", b"lost"])?;
        n.send(r, &[id, body])?;
        n.drive()?;
        let mut buf = [0u8; 16];
        let info = ok!(n.sock(d)?.recv(&mut buf));
        check!(
            buf.get(..info.len) == Some(body) && !info.more && info.peer == Some(via),
            "{:?} via {:?}, expected {:?}",
            buf.get(..info.len),
            info.peer,
            via
        );
        n.expect_nothing(d)?;
    }
    check_eq!(
        n.try_send(r, &[]),
        Err(nb::Error::Other(SendError::EmptyMessage))
    );
    n.expect_events(
        r,
        &[
            "ACCEPTED",
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "HANDSHAKE_SUCCEEDED",
        ],
    )
}

/// A peer without a routing id gets 0x00 + a big-endian counter (libzmq
/// `router_t::identify_peer`), wrapping.
#[inline(never)]
fn router_generates_ids() -> Outcome {
    net!(
        n,
        MEM_LARGE,
        cfg(SocketType::Router),
        cfg(SocketType::Dealer)
    );
    let (r, d) = (0, 1);
    n.sock(r)?.set_routing_id_seed(0xFFFF_FFFF);
    let l1 = n.connect(r, d)?;
    n.drive()?;
    let l2 = n.connect(r, d)?;
    n.drive()?;
    let want: [&[u8]; 2] = [b"\x00\xFF\xFF\xFF\xFF", b"\x00\x00\x00\x00\x00"];
    for (l, id) in [(l1, want[0]), (l2, want[1])] {
        let px = n.link(l)?.px;
        check_eq!(n.sock(r)?.routing_id(px), Some(id));
        n.send(r, &[id, b"hi"])?;
        n.drive()?;
        let mut buf = [0u8; 8];
        let info = ok!(n.sock(d)?.recv(&mut buf));
        check_eq!(info.peer, Some(n.link(l)?.py));
    }
    n.send(d, &[b"back"])?;
    n.drive()?;
    n.expect(r, &[want[0], b"back"])
}

#[inline(never)]
fn peer_leaving_gives_disconnected() -> Outcome {
    net!(
        n,
        MEM_SMALL,
        cfg(SocketType::Dealer),
        cfg(SocketType::Dealer)
    );
    let (server, client, l) = n.join()?;
    n.deliver(client, server, &[b"bounce"])?;
    let _ = n.events(server);
    let _ = n.events(client);
    n.cut(l);
    let (fx, px) = (n.link(l)?.fx, n.link(l)?.px);
    let s = n.events(server);
    check_eq!(s.len(), 1);
    let e = ok!(s.first());
    check_eq!(e.event, Event::Disconnected { fd: fx });
    check_eq!(e.endpoints.side(), EndpointSide::Bind);
    n.expect_events(client, &["DISCONNECTED"])?;
    check_eq!(
        n.closed(server),
        Some((
            px,
            DisconnectReason::Transport {
                errno: errno::EPIPE
            }
        ))
    );
    Ok(())
}

#[inline(never)]
fn heartbeat_timeout_disconnected() -> Outcome {
    // libzmq test_heartbeat_timeout: the server pings, the peer never
    // answers: ACCEPTED, HANDSHAKE_SUCCEEDED, then DISCONNECTED.
    let mut c = Config::new(SocketType::Router);
    c.heartbeat.interval = Duration::from_millis(50);
    net!(n, MEM_SMALL, c, cfg(SocketType::Dealer));
    let (server, client, l) = n.join()?;
    // Answered heartbeats keep the connection for a long time.
    n.advance(5_000)?;
    n.expect_events(server, &["ACCEPTED", "HANDSHAKE_SUCCEEDED"])?;
    n.stall(l);
    n.advance(99)?;
    n.expect_events(server, &[])?;
    n.advance(1)?;
    let fx = n.link(l)?.fx;
    let ev = n.events(server);
    check!(
        ev.len() == 1 && ev.first().map(|e| e.event) == Some(Event::Disconnected { fd: fx }),
        "events {:?}",
        ev.iter()
            .map(|e| e.event.name())
            .collect::<heapless::Vec<_, 8>>()
    );
    check_eq!(
        n.closed(server).map(|c| c.1),
        Some(DisconnectReason::HeartbeatTimeout)
    );
    n.expect_events(client, &["CONNECTED", "HANDSHAKE_SUCCEEDED"])
}

#[inline(never)]
fn handshake_timeout_no_detail() -> Outcome {
    // libzmq test_stream_timeout: a silent peer; the handshake interval
    // (30 s by default) expires.
    net!(
        n,
        MEM_SMALL,
        cfg(SocketType::Dealer),
        cfg(SocketType::Dealer)
    );
    let (server, client) = (0, 1);
    let l = n.connect(server, client)?;
    n.stall(l);
    n.advance(29_999)?;
    n.expect_events(server, &["ACCEPTED"])?;
    n.expect_events(client, &["CONNECTED"])?;
    n.advance(1)?;
    for (i, fd) in [(server, n.link(l)?.fx), (client, n.link(l)?.fy)] {
        let ev = n.events(i);
        let got: heapless::Vec<Event, 4> = ev.iter().map(|e| e.event).collect();
        check!(
            got.as_slice()
                == [
                    Event::HandshakeFailedNoDetail {
                        errno: errno::EAGAIN
                    },
                    Event::Disconnected { fd }
                ],
            "socket {i}: {got:?}"
        );
        check_eq!(ok!(ev.first()).event.value(), 11);
        let (_, reason) = ok!(n.closed(i));
        check_eq!(reason, DisconnectReason::HandshakeTimeout);
        check!(reason.should_reconnect());
    }
    Ok(())
}

#[inline(never)]
fn max_msg_size() -> Outcome {
    // libzmq ZMQ_MAXMSGSIZE: a larger frame ends the connection, no retry.
    let mut c = Config::new(SocketType::Pull);
    c.max_msg_size = Some(100);
    net!(n, MEM_SMALL, cfg(SocketType::Push), c);
    let (push, pull, l) = n.join()?;
    let body = [b'k'; 101];
    n.deliver(push, pull, &[&body[..100]])?;
    n.send(push, &[&body])?;
    n.drive()?;
    n.expect_events(pull, &["CONNECTED", "HANDSHAKE_SUCCEEDED", "DISCONNECTED"])?;
    let (h, reason) = ok!(n.closed(pull));
    check_eq!(h, n.link(l)?.py);
    check_eq!(reason, DisconnectReason::MessageTooLarge);
    check!(!reason.should_reconnect());
    n.expect_nothing(pull)
}

#[inline(never)]
fn monitor_v1_encoding() -> Outcome {
    net!(
        n,
        MEM_SMALL,
        cfg(SocketType::Dealer),
        cfg(SocketType::Dealer)
    );
    let (server, client, l) = n.join()?;
    let (fx, fy) = (n.link(l)?.fx, n.link(l)?.fy);
    let bind_ep: &[u8] = b"tcp://127.0.0.1:5555";
    let s = n.events(server);
    let c = n.events(client);
    check_eq!(s.len(), 2);
    check_eq!(c.len(), 2);
    // (event, id, value, endpoint): the bind side reports its local
    // endpoint, the connect side the one it connected to.
    for (e, id, value) in [
        (ok!(s.first()), 0x0020u16, fx),
        (ok!(s.get(1)), 0x1000, 0),
        (ok!(c.first()), 0x0001, fy),
        (ok!(c.get(1)), 0x1000, 0),
    ] {
        let raw = e.raw(EventVersion::V1);
        let frames: heapless::Vec<&[u8], 4> = raw.frames().collect();
        check_eq!(frames.len(), 2);
        check!(raw.is_more(0) && !raw.is_more(1));
        let mut want = [0u8; 6];
        want[..2].copy_from_slice(&id.to_le_bytes());
        want[2..].copy_from_slice(&value.to_le_bytes());
        check_eq!(frames[0], &want[..]);
        check_eq!(frames[1], bind_ep);
        let (decoded, ep) = ok!(decode_v1(&frames));
        check_eq!(decoded, e.event);
        check_eq!(ep, bind_ep);
    }
    Ok(())
}

#[inline(never)]
fn monitor_v2_encoding() -> Outcome {
    net!(
        n,
        MEM_SMALL,
        cfg(SocketType::Dealer),
        cfg(SocketType::Dealer)
    );
    let (server, _client, l) = n.join()?;
    let _ = n.events(server);
    n.cut(l);
    let fx = n.link(l)?.fx;
    let ev = n.events(server);
    let e = ok!(ev.first());
    let raw = e.raw(EventVersion::V2);
    let frames: heapless::Vec<&[u8], 6> = raw.frames().collect();
    check_eq!(frames.len(), 5);
    check!((0..4).all(|i| raw.is_more(i)) && !raw.is_more(4));
    check_eq!(frames[0], &event_id::DISCONNECTED.to_le_bytes()[..]);
    check_eq!(frames[1], &1u64.to_le_bytes()[..]);
    check_eq!(frames[2], &u64::from(fx).to_le_bytes()[..]);
    check_eq!(frames[3], e.endpoints.local().as_bytes());
    check_eq!(frames[4], e.endpoints.remote().as_bytes());
    let (decoded, local, remote) = ok!(decode_v2(&frames));
    check_eq!(decoded, Event::Disconnected { fd: fx });
    check_eq!(local, b"tcp://127.0.0.1:5555");
    check!(remote.starts_with(b"tcp://127.0.0.1:4"));
    if ev.len() != 1 {
        fail!("{} events", ev.len());
    }
    Ok(())
}
