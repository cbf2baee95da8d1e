//! PUB/SUB and XPUB/XSUB (RFC 29; libzmq `dist.cpp`, `xpub.cpp`,
//! `xsub.cpp`), with subscriptions in both wire forms: ZMTP 3.1
//! SUBSCRIBE/CANCEL commands and ZMTP 3.0 `0x01`/`0x00` messages (the byte
//! vectors of libzmq `tests/test_mock_pub_sub.cpp`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{
    Net, Sock, bufs, data_frame, greeting_v30, leak, parse_frames, ready_frame, strs, take_output,
};
use zmtp_core::conn::Config;
use zmtp_core::monitor::{EndpointPair, EventMask, EventVersion};
use zmtp_core::socket::PeerHandle;
use zmtp_core::{Instant, SocketType};

fn pub_sub() -> (Net<64>, usize, usize) {
    let mut n = Net::new();
    let (p, s, _) = n.join(SocketType::Pub, SocketType::Sub);
    (n, p, s)
}

#[test]
fn sub_receives_only_matching_prefixes() {
    let (mut n, p, s) = pub_sub();
    n.sockets[s].subscribe(b"weather.").unwrap();
    n.drive();
    for m in [
        "weather.paris 21",
        "news.today",
        "weather",
        "weather.oslo -3",
    ] {
        n.send(p, &[m]);
    }
    n.drive();
    assert_eq!(
        n.recv_all(s),
        vec![strs(&["weather.paris 21"]), strs(&["weather.oslo -3"])]
    );
}

#[test]
fn empty_subscription_receives_everything() {
    let (mut n, p, s) = pub_sub();
    n.send(p, &["before any subscription"]);
    n.drive();
    assert_eq!(n.recv(s), None);
    n.sockets[s].subscribe(b"").unwrap();
    n.drive();
    for m in ["a", "", "zzz"] {
        n.send(p, &[m]);
    }
    n.drive();
    assert_eq!(
        n.recv_all(s),
        vec![strs(&["a"]), strs(&[""]), strs(&["zzz"])]
    );
}

#[test]
fn subscriptions_are_counted_at_the_sub() {
    let (mut n, p, s) = pub_sub();
    n.sockets[s].subscribe(b"A").unwrap();
    n.sockets[s].subscribe(b"A").unwrap();
    n.drive();
    n.sockets[s].unsubscribe(b"A").unwrap();
    n.drive();
    // One count left: the SUB sent no CANCEL, so the PUB still forwards.
    n.send(p, &["A1"]);
    n.drive();
    assert_eq!(n.recv_all(s), vec![strs(&["A1"])]);
    n.sockets[s].unsubscribe(b"A").unwrap();
    n.drive();
    // Now the PUB filters: nothing is even queued for that peer.
    n.send(p, &["A2"]);
    let peer = n.links[0].px;
    assert_eq!(n.sockets[p].peer(peer).unwrap().queued_outgoing(), 0);
    n.drive();
    assert_eq!(n.recv(s), None);
    // Unsubscribing what was never subscribed changes nothing.
    n.sockets[s].unsubscribe(b"never").unwrap();
}

#[test]
fn subscriptions_are_replayed_to_a_peer_that_connects_later() {
    let mut n = Net::<64>::new();
    let s = n.add_type(SocketType::Sub);
    n.sockets[s].subscribe(b"A").unwrap();
    n.sockets[s].subscribe(b"B").unwrap();
    n.sockets[s].subscribe(b"B").unwrap();
    let p1 = n.add_type(SocketType::Pub);
    n.connect(p1, s);
    n.drive();
    n.send(p1, &["A1"]);
    n.send(p1, &["B1"]);
    n.send(p1, &["C1"]);
    n.drive();
    assert_eq!(n.recv_all(s), vec![strs(&["A1"]), strs(&["B1"])]);

    // A second publisher joins after a cancel: it learns the current set.
    n.sockets[s].unsubscribe(b"A").unwrap();
    let p2 = n.add_type(SocketType::Pub);
    n.connect(p2, s);
    n.drive();
    n.send(p2, &["A2"]);
    n.send(p2, &["B2"]);
    n.drive();
    assert_eq!(n.recv_all(s), vec![strs(&["B2"])]);
    // And the cancel reached the first publisher.
    n.send(p1, &["A3"]);
    n.drive();
    assert_eq!(n.recv(s), None);
}

#[test]
fn messages_published_before_the_subscription_arrives_are_lost() {
    let (mut n, p, s) = pub_sub();
    n.sockets[s].subscribe(b"A").unwrap();
    // The SUBSCRIBE is still queued at the SUB: the PUB filters it out.
    n.send(p, &["A0"]);
    n.drive();
    n.send(p, &["A1"]);
    n.drive();
    assert_eq!(n.recv_all(s), vec![strs(&["A1"])]);
}

#[test]
fn multipart_messages_are_filtered_by_the_first_frame() {
    let (mut n, p, s) = pub_sub();
    n.sockets[s].subscribe(b"A").unwrap();
    n.drive();
    n.send(p, &["A", "x", "y"]);
    n.send(p, &["B", "A"]);
    n.send(p, &["Ab", ""]);
    n.drive();
    assert_eq!(
        n.recv_all(s),
        vec![strs(&["A", "x", "y"]), strs(&["Ab", ""])]
    );
}

#[test]
fn pub_and_sub_reject_the_wrong_direction() {
    let (mut n, p, s) = pub_sub();
    let mut buf = [0u8; 8];
    assert!(matches!(
        n.sockets[p].recv(&mut buf),
        Err(nb::Error::Other(zmtp_core::socket::RecvError::NotSupported))
    ));
    assert!(matches!(
        n.try_send(s, &["x"]),
        Err(nb::Error::Other(zmtp_core::socket::SendError::NotSupported))
    ));
    assert!(n.sockets[p].subscribe(b"x").is_err());
}

// ----------------------------------------------------------------------
// Byte-level: a raw peer speaking ZMTP 3.0 or 3.1
// ----------------------------------------------------------------------

/// A socket with one attached peer fed by hand.
struct Raw {
    sock: Sock<16>,
    peer: PeerHandle,
    now: Instant,
}

impl Raw {
    fn new(t: SocketType) -> Self {
        let now = Instant::from_millis(1_000);
        let mut sock = Sock::<16>::new(Config::new(t), leak(1024));
        sock.monitor_mut()
            .start("inproc://raw", EventMask::ALL, EventVersion::V1)
            .unwrap();
        let ep = EndpointPair::bind_pair("tcp://127.0.0.1:5555", "tcp://127.0.0.1:40000");
        let peer = sock.attach(now, bufs(1024, 1024), 7, ep).unwrap();
        Self { sock, peer, now }
    }

    fn feed(&mut self, bytes: &[u8]) {
        let used = self.sock.handle_input(self.now, self.peer, bytes);
        assert_eq!(used, bytes.len());
    }

    fn output(&mut self) -> Vec<u8> {
        take_output(&mut self.sock, self.now, self.peer)
    }

    /// Greets as a ZMTP 3.`minor` peer of type `peer_type`; returns our
    /// greeting and the frames we sent after it (the READY and more).
    fn handshake(&mut self, minor: u8, peer_type: &str) -> (Vec<u8>, Vec<(u8, Vec<u8>)>) {
        let sig = self.output();
        assert_eq!(sig.len(), 10, "only the signature before the peer's");
        let mut g = greeting_v30();
        g[11] = minor;
        self.feed(&g);
        let mut out = sig;
        out.extend(self.output());
        self.feed(&ready_frame(peer_type));
        out.extend(self.output());
        assert!(self.sock.peer(self.peer).unwrap().is_ready());
        let frames = parse_frames(&out[64..]);
        (out[..64].to_vec(), frames)
    }
}

fn ready_body(t: &str) -> Vec<u8> {
    ready_frame(t)[2..].to_vec()
}

#[test]
fn pub_applies_zmtp30_subscription_messages() {
    let mut r = Raw::new(SocketType::Pub);
    let (greeting, frames) = r.handshake(0, "SUB");
    assert_eq!(&greeting[10..12], [3, 1], "we still greet as 3.1");
    assert_eq!(frames, vec![(0x04, ready_body("PUB"))]);
    assert_eq!(r.sock.peer(r.peer).unwrap().peer_minor_version(), 0);

    // libzmq tests/test_mock_pub_sub.cpp: subscribe to "A" in 3.0 form.
    r.feed(&[0x00, 0x02, 0x01, b'A']);
    for m in ["ALOL", "BLOL", "A"] {
        r.sock.send(&[m.as_bytes()]).unwrap();
    }
    r.sock.send(&[b"AB", b"tail"]).unwrap();
    r.sock.send(&[b"B", b"A"]).unwrap();
    let out = r.output();
    // "ALOL" is 00 04 'A' 'L' 'O' 'L'; nothing but data frames goes out.
    assert_eq!(&out[..6], [0x00, 0x04, b'A', b'L', b'O', b'L']);
    assert_eq!(
        parse_frames(&out),
        vec![
            (0x00, b"ALOL".to_vec()),
            (0x00, b"A".to_vec()),
            (0x01, b"AB".to_vec()),
            (0x00, b"tail".to_vec()),
        ]
    );

    // 3.0 cancel: 00 02 00 'A'.
    r.feed(&[0x00, 0x02, 0x00, b'A']);
    r.sock.send(&[b"ALOL"]).unwrap();
    assert!(r.output().is_empty());
    let names: Vec<_> = core::iter::from_fn(|| r.sock.monitor_mut().pop())
        .map(|e| e.event.name())
        .collect();
    assert_eq!(names, ["HANDSHAKE_SUCCEEDED"]);
}

#[test]
fn pub_applies_zmtp31_subscribe_commands() {
    let mut r = Raw::new(SocketType::Pub);
    let (_, frames) = r.handshake(1, "SUB");
    assert_eq!(frames, vec![(0x04, ready_body("PUB"))]);
    // 04 0B 09 SUBSCRIBE 'A'
    let mut cmd = vec![0x04, 0x0B, 0x09];
    cmd.extend_from_slice(b"SUBSCRIBE");
    cmd.push(b'A');
    r.feed(&cmd);
    r.sock.send(&[b"ALOL"]).unwrap();
    r.sock.send(&[b"BLOL"]).unwrap();
    assert_eq!(parse_frames(&r.output()), vec![(0x00, b"ALOL".to_vec())]);
    // 04 08 06 CANCEL 'A'
    let mut cancel = vec![0x04, 0x08, 0x06];
    cancel.extend_from_slice(b"CANCEL");
    cancel.push(b'A');
    r.feed(&cancel);
    r.sock.send(&[b"ALOL"]).unwrap();
    assert!(r.output().is_empty());
}

#[test]
fn sub_speaks_zmtp30_messages_to_a_30_peer() {
    let mut r = Raw::new(SocketType::Sub);
    r.sock.subscribe(b"A").unwrap();
    let (_, frames) = r.handshake(0, "PUB");
    // READY, then the replayed subscription as a 3.0 message.
    assert_eq!(
        frames,
        vec![(0x04, ready_body("SUB")), (0x00, b"\x01A".to_vec())]
    );
    r.sock.subscribe(b"B").unwrap();
    r.sock.unsubscribe(b"A").unwrap();
    assert_eq!(r.output(), [0x00, 0x02, 0x01, b'B', 0x00, 0x02, 0x00, b'A']);
    // Incoming data is filtered locally by the SUB.
    let mut input = data_frame(b"ALOL", false);
    input.extend(data_frame(b"BLOL", false));
    r.feed(&input);
    let mut buf = [0u8; 16];
    let info = r.sock.recv(&mut buf).unwrap();
    assert_eq!(&buf[..info.len], b"BLOL");
    assert!(r.sock.recv(&mut buf).is_err());
}

#[test]
fn sub_speaks_zmtp31_commands_to_a_31_peer() {
    let mut r = Raw::new(SocketType::Sub);
    r.sock.subscribe(b"A").unwrap();
    let (_, frames) = r.handshake(1, "PUB");
    let mut sub = b"\x09SUBSCRIBE".to_vec();
    sub.push(b'A');
    assert_eq!(frames, vec![(0x04, ready_body("SUB")), (0x04, sub)]);
    r.sock.unsubscribe(b"A").unwrap();
    let mut want = vec![0x04, 0x08, 0x06];
    want.extend_from_slice(b"CANCEL");
    want.push(b'A');
    assert_eq!(r.output(), want);
}

// ----------------------------------------------------------------------
// XPUB / XSUB
// ----------------------------------------------------------------------

#[test]
fn xpub_reports_new_and_vanished_subscriptions() {
    let mut n = Net::<64>::new();
    let (x, [(s1, l1), (s2, _)]) = n.hub(SocketType::XPub, SocketType::Sub);
    assert_eq!(n.recv(x), None);

    n.sockets[s1].subscribe(b"A").unwrap();
    n.drive();
    assert_eq!(n.recv(x).unwrap(), [b"\x01A".to_vec()]);
    // Not new across peers: no message (libzmq non-verbose XPUB).
    n.sockets[s2].subscribe(b"A").unwrap();
    n.sockets[s1].subscribe(b"A").unwrap();
    n.drive();
    assert_eq!(n.recv(x), None);
    n.sockets[s1].subscribe(b"B").unwrap();
    n.drive();
    assert_eq!(n.recv(x).unwrap(), [b"\x01B".to_vec()]);

    // s1 holds "A" twice, s2 once: s1's two cancels end its interest, but
    // s2 still subscribes.
    n.sockets[s1].unsubscribe(b"A").unwrap();
    n.sockets[s1].unsubscribe(b"A").unwrap();
    n.drive();
    assert_eq!(n.recv(x), None);
    n.sockets[s2].unsubscribe(b"A").unwrap();
    n.drive();
    assert_eq!(n.recv(x).unwrap(), [b"\x00A".to_vec()]);

    // The last subscriber of "B" disconnects.
    n.cut(l1);
    assert_eq!(n.recv(x).unwrap(), [b"\x00B".to_vec()]);
    assert_eq!(n.recv(x), None);

    // XPUB publishes like PUB.
    n.sockets[s2].subscribe(b"C").unwrap();
    n.drive();
    assert_eq!(n.recv(x).unwrap(), [b"\x01C".to_vec()]);
    n.send(x, &["C1", "more"]);
    n.send(x, &["D1"]);
    n.drive();
    assert_eq!(n.recv_all(s2), vec![strs(&["C1", "more"])]);
}

#[test]
fn xpub_reports_the_empty_subscription() {
    let mut n = Net::<64>::new();
    let (x, s, _) = n.join(SocketType::XPub, SocketType::Sub);
    n.sockets[s].subscribe(b"").unwrap();
    n.drive();
    assert_eq!(n.recv(x).unwrap(), [b"\x01".to_vec()]);
    n.sockets[s].unsubscribe(b"").unwrap();
    n.drive();
    assert_eq!(n.recv(x).unwrap(), [b"\x00".to_vec()]);
}

#[test]
fn xsub_sends_subscriptions_as_messages() {
    let mut n = Net::<64>::new();
    let (p, xs, _) = n.join(SocketType::Pub, SocketType::XSub);
    n.send(xs, &["\x01A"]);
    n.drive();
    n.send(p, &["A1"]);
    n.send(p, &["B1"]);
    n.drive();
    assert_eq!(n.recv_all(xs), vec![strs(&["A1"])]);
    n.send(xs, &["\x00A"]);
    n.drive();
    n.send(p, &["A2"]);
    n.drive();
    assert_eq!(n.recv(xs), None);
}

#[test]
fn xsub_to_xpub_forwards_subscriptions() {
    let mut n = Net::<64>::new();
    let (xp, xs, _) = n.join(SocketType::XPub, SocketType::XSub);
    n.deliver(xs, xp, &["\x01topic"]);
    n.deliver(xp, xs, &["topic.1"]);
    n.deliver(xs, xp, &["\x00topic"]);
}

#[test]
fn xpub_receives_messages_without_a_subscription_prefix() {
    // libzmq zmq_socket(3), ZMQ_XPUB: "Messages without a sub/unsub prefix
    // are also received, but have no effect on subscription status."
    let mut n = Net::<64>::new();
    let (xp, xs, _) = n.join(SocketType::XPub, SocketType::XSub);
    n.send(xs, &["hello upstream"]);
    n.send(xs, &["\x01A"]);
    n.send(xs, &["two", "frames"]);
    n.drive();
    assert_eq!(
        n.recv_all(xp),
        vec![
            strs(&["hello upstream"]),
            strs(&["\x01A"]),
            strs(&["two", "frames"])
        ]
    );
    // They change no subscription.
    n.send(xp, &["hello"]);
    n.send(xp, &["A"]);
    n.drive();
    assert_eq!(n.recv_all(xs), vec![strs(&["A"])]);
}

#[test]
fn xpub_upstream_messages_never_interleave_in_a_small_queue() {
    let mut n = Net::<64>::new();
    // Room for two 8-byte frames plus an empty one, not three.
    let xp = n.add_aux(Config::new(SocketType::XPub), 40);
    let a = n.add_type(SocketType::XSub);
    let b = n.add_type(SocketType::XSub);
    n.connect(xp, a);
    n.connect(xp, b);
    n.drive();
    n.send(a, &["aaaaaaa1", "aaaaaaa2", "aaaaaaa3"]);
    n.send(b, &["bbbbbbb1", "bbbbbbb2", "bbbbbbb3"]);
    n.send(a, &["\x01A"]);
    n.drive();
    let mut got = Vec::new();
    for _ in 0..10 {
        got.extend(n.recv_all(xp));
        n.drive();
    }
    assert_eq!(
        got,
        vec![
            strs(&["aaaaaaa1", "aaaaaaa2", "aaaaaaa3"]),
            strs(&["\x01A"]),
            strs(&["bbbbbbb1", "bbbbbbb2", "bbbbbbb3"]),
        ]
    );
}

#[test]
fn xpub_ends_a_message_cut_by_its_peer_leaving() {
    let mut n = Net::<64>::new();
    let xp = n.add_aux(Config::new(SocketType::XPub), 40);
    let a = n.add_type(SocketType::XSub);
    let b = n.add_type(SocketType::XSub);
    let la = n.connect(xp, a);
    n.connect(xp, b);
    n.drive();
    n.send(a, &["aaaaaaa1", "aaaaaaa2", "aaaaaaa3", "aaaaaaa4"]);
    n.drive();
    n.send(b, &["b"]);
    n.drive();
    n.cut(la);
    // The half-copied message ends with an empty frame; the next one is
    // whole.
    assert_eq!(n.recv_str(xp).unwrap(), ["aaaaaaa1", "aaaaaaa2", ""]);
    assert_eq!(n.recv_str(xp).unwrap(), ["b"]);
    assert_eq!(n.recv(xp), None);
}

#[test]
fn xpub_checks_every_frame_for_a_subscription() {
    // libzmq xpub_t::xread_activated without ZMQ_ONLY_FIRST_SUBSCRIBE looks
    // at every frame: a later frame starting with 0x01 subscribes too, and
    // its notice ends the message handed to the application.
    let mut n = Net::<64>::new();
    let (xp, xs, _) = n.join(SocketType::XPub, SocketType::XSub);
    n.send(xs, &["head", "\x01T", "tail"]);
    n.drive();
    assert_eq!(
        n.recv_all(xp),
        vec![strs(&["head", "\x01T"]), strs(&["tail"])]
    );
    // The XPUB now forwards "T..." to that peer.
    n.send(xp, &["T1"]);
    n.send(xp, &["U1"]);
    let px = n.links[0].px;
    assert_eq!(n.sockets[xp].peer(px).unwrap().queued_outgoing(), 1);
}

#[test]
fn long_topics_work_in_both_directions() {
    for len in [31, 32, 33, 200, 254, 255, 300, 1000] {
        for chunk in [1, 13, 65_536] {
            let mut n = Net::<64>::new();
            n.chunk = chunk;
            let (x, s, _) = n.join(SocketType::XPub, SocketType::Sub);
            let topic = "t".repeat(len);
            n.sockets[s].subscribe(topic.as_bytes()).unwrap();
            n.drive();
            let ctx = format!("len {len} chunk {chunk}");
            assert_eq!(n.recv_str(x).unwrap(), [format!("\x01{topic}")], "{ctx}");
            n.send(x, &[&format!("{topic}!")]);
            n.send(x, &[&topic[1..]]);
            n.drive();
            assert_eq!(n.recv_all(s), vec![strs(&[&format!("{topic}!")])], "{ctx}");
            n.sockets[s].unsubscribe(topic.as_bytes()).unwrap();
            n.drive();
            assert_eq!(n.recv_str(x).unwrap(), [format!("\x00{topic}")], "{ctx}");
        }
    }
}
