//! `zmtp_core::wire` against a live libzmq 4.3.4.
//!
//! Forward: each test performs a capture from [`zmtp_tests::capture`]
//! (libzmq writes, a hand-driven peer records) and asserts that the wire
//! emitter for the same thing writes the same bytes.
//!
//! Reverse: the peer speaks only bytes emitted by `zmtp_core::wire`
//! (greeting, READY, commands, frames) and libzmq must accept them: its
//! monitor reports HANDSHAKE_SUCCEEDED, it delivers the message, applies
//! the subscription, or answers the PING.
//!
//! Every read has a timeout, every libzmq socket binds or connects on
//! 127.0.0.1 with an OS-chosen port, and nothing sleeps.
// The helpers below are test code: a failed step should stop the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use zmtp_core::SocketType;
use zmtp_core::wire::command::emit_ready;
use zmtp_core::wire::frame::emit_header;
use zmtp_core::wire::greeting::GREETING_LEN;
use zmtp_core::wire::{
    Command, Flags, FrameRepr, GreetingRepr, Mechanism, Properties, Subscription,
};
use zmtp_tests::capture::{self, KINDS, Kind, Libzmq, RawListener};
use zmtp_tests::{RawFrame, RawPeer, Result, raw};

// ---------------------------------------------------------------------------
// What zmtp_core::wire emits
// ---------------------------------------------------------------------------

/// `GreetingRepr { 3, minor, Null, as_server: false }.emit(identity_len)`.
fn core_greeting(minor: u8, identity_len: u8) -> Vec<u8> {
    let mut buf = [0u8; GREETING_LEN];
    GreetingRepr {
        major: 3,
        minor,
        mechanism: Mechanism::Null,
        as_server: false,
    }
    .emit(identity_len, &mut buf);
    buf.to_vec()
}

/// A READY command frame: `emit_header(COMMAND, len)` + `emit_ready(..)`.
fn core_ready_frame(socket_type: &str, identity: Option<&[u8]>) -> Vec<u8> {
    let mut body = [0u8; 512];
    let n = emit_ready(socket_type, identity, Properties::EMPTY, &mut body).unwrap();
    let mut out = vec![0u8; 9];
    let h = emit_header(Flags::new(false, true), n as u64, &mut out).unwrap();
    out.truncate(h);
    out.extend_from_slice(&body[..n]);
    out
}

/// The `Identity` libzmq would send for `socket_type`: empty for REQ,
/// DEALER and ROUTER, absent otherwise, as `SocketType::sends_identity`
/// says.
fn default_identity(socket_type: &str) -> Option<&'static [u8]> {
    let t = SocketType::from_name(socket_type.as_bytes()).unwrap();
    t.sends_identity().then_some(&b""[..])
}

/// `Command::emit_frame`.
fn core_command(cmd: Command<'_>) -> Vec<u8> {
    let mut out = vec![0u8; cmd.frame_len()];
    let n = cmd.emit_frame(&mut out).unwrap();
    assert_eq!(n, out.len());
    out
}

/// `FrameRepr { more, command: false, body }.emit`.
fn core_frame(more: bool, body: &[u8]) -> Vec<u8> {
    let f = FrameRepr {
        more,
        command: false,
        body,
    };
    let mut out = vec![0u8; f.buffer_len()];
    let n = f.emit(&mut out).unwrap();
    assert_eq!(n, out.len());
    out
}

/// A ZMTP 3.0 subscription message frame:
/// `Subscription::emit_message` wrapped in a data frame.
fn core_subscription_message(sub: Subscription<'_>) -> Vec<u8> {
    let mut body = vec![0u8; sub.message_len()];
    sub.emit_message(&mut body).unwrap();
    core_frame(false, &body)
}

/// Hex dump for assertion messages.
fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_bytes(what: &str, libzmq: &[u8], core: &[u8]) {
    assert!(
        libzmq == core,
        "{what}: libzmq and zmtp_core::wire differ\n libzmq: {}\n core:   {}",
        hex(libzmq),
        hex(core)
    );
}

// ---------------------------------------------------------------------------
// Forward: libzmq's bytes == zmtp_core::wire's bytes
// ---------------------------------------------------------------------------

#[test]
fn greeting_and_ready_match_libzmq_for_every_socket_type() {
    for kind in KINDS {
        let (greeting, ready) = capture::greeting_and_ready(kind, 1).unwrap();
        assert_bytes(
            &format!("{} greeting", kind.name),
            &greeting,
            &core_greeting(1, 0),
        );
        assert_bytes(
            &format!("{} READY", kind.name),
            &ready.wire,
            &core_ready_frame(kind.name, default_identity(kind.name)),
        );
    }
}

#[test]
fn libzmq_greets_a_zmtp30_peer_with_the_same_31_greeting() {
    let kind = KINDS[5]; // DEALER
    let (greeting, ready) = capture::greeting_and_ready(kind, 0).unwrap();
    assert_bytes("greeting to a 3.0 peer", &greeting, &core_greeting(1, 0));
    assert_bytes(
        "READY to a 3.0 peer",
        &ready.wire,
        &core_ready_frame("DEALER", Some(b"")),
    );
}

#[test]
fn libzmq_sends_its_greeting_in_three_stages() {
    let staged = capture::staged_greeting(KINDS[0]).unwrap();
    let ours = core_greeting(1, 0);
    assert_bytes("stage 1 (signature)", &staged.before_peer, &ours[..10]);
    assert_bytes("stage 2 (major)", &staged.after_signature, &ours[10..11]);
    assert_bytes("stage 3 (rest)", &staged.after_major, &ours[11..]);
    assert_eq!(
        staged.waited,
        [true, true],
        "libzmq sent more than one stage before hearing from the peer"
    );
    assert_bytes(
        "READY after the staged greeting",
        &staged.ready.wire,
        &core_ready_frame("PAIR", None),
    );
}

#[test]
fn router_routing_id_sets_greeting_padding_and_ready_identity() {
    let (greeting, ready) = capture::router_with_routing_id(b"abc").unwrap();
    // libzmq's padding is routing id length + 1: byte 8 is 0x04.
    assert_eq!(greeting[8], 0x04);
    assert_bytes("ROUTER(abc) greeting", &greeting, &core_greeting(1, 3));
    // ROUTER announces its Identity (unlike the RFC 23 worked example).
    assert_bytes(
        "ROUTER(abc) READY",
        &ready.wire,
        &core_ready_frame("ROUTER", Some(b"abc")),
    );
}

#[test]
fn ping_and_pong_match_libzmq() {
    let hb = capture::heartbeat().unwrap();
    // ZMQ_HEARTBEAT_TTL 1000 ms travels as 10 deciseconds, no context.
    assert_bytes(
        "PING",
        &hb.ping.wire,
        &core_command(Command::Ping {
            ttl_ds: 10,
            context: b"",
        }),
    );
    assert_bytes(
        "PONG LOL",
        &hb.pong.wire,
        &core_command(Command::Pong { context: b"LOL" }),
    );
    // libzmq echoes at most 16 context bytes.
    let long = raw::pattern(20);
    assert_bytes(
        "PONG to a 20-byte context",
        &hb.pong_long.wire,
        &core_command(Command::Pong {
            context: &long[..16],
        }),
    );
}

#[test]
fn subscribe_and_cancel_commands_match_libzmq_zmtp31() {
    let subs = capture::subscriptions(1).unwrap();
    assert_bytes(
        "SUBSCRIBE A",
        &subs.subscribe.wire,
        &core_command(Command::Subscribe(b"A")),
    );
    assert_bytes(
        "CANCEL A",
        &subs.cancel.wire,
        &core_command(Command::Cancel(b"A")),
    );
    assert_bytes(
        "SUBSCRIBE \"\"",
        &subs.subscribe_all.wire,
        &core_command(Command::Subscribe(b"")),
    );
    // Same bytes through the Subscription form.
    assert_bytes(
        "Subscription::Subscribe(A).to_command()",
        &subs.subscribe.wire,
        &core_command(Subscription::Subscribe(b"A").to_command()),
    );
}

#[test]
fn subscribe_and_cancel_messages_match_libzmq_zmtp30() {
    let subs = capture::subscriptions(0).unwrap();
    assert_bytes(
        "0x01 A",
        &subs.subscribe.wire,
        &core_subscription_message(Subscription::Subscribe(b"A")),
    );
    assert_bytes(
        "0x00 A",
        &subs.cancel.wire,
        &core_subscription_message(Subscription::Cancel(b"A")),
    );
    assert_bytes(
        "0x01",
        &subs.subscribe_all.wire,
        &core_subscription_message(Subscription::Subscribe(b"")),
    );
}

/// libzmq 4.3.4 decides LONG from the topic length but writes the size of
/// topic plus command name (3.1) or prefix byte (3.0): for topics of
/// 246..=255 (3.1) or exactly 255 (3.0) bytes it writes an 8-byte size
/// with LONG clear, a malformed frame. `zmtp_core::wire` writes a
/// well-formed LONG frame; the two differ in that one bit and nowhere else.
#[test]
fn long_subscription_differs_from_libzmq_only_in_the_long_flag() {
    for minor in [1u8, 0] {
        let subs = capture::subscriptions(minor).unwrap();
        let topic = capture::long_topic(capture::long_topic_len(minor));
        let mut core = if minor == 1 {
            core_command(Command::Subscribe(&topic))
        } else {
            core_subscription_message(Subscription::Subscribe(&topic))
        };
        assert_eq!(core[0] & raw::FLAG_LONG, raw::FLAG_LONG, "core sets LONG");
        assert_eq!(
            subs.long_topic[0] & raw::FLAG_LONG,
            0,
            "libzmq 4.3.4 leaves LONG clear (minor {minor})"
        );
        core[0] &= !raw::FLAG_LONG;
        assert_bytes(
            &format!("long subscription, minor {minor}, LONG masked"),
            &subs.long_topic,
            &core,
        );
    }
}

#[test]
fn xsub_sends_a_subscription_message_as_a_data_frame_over_zmtp31() {
    let frame = capture::xsub_subscribe_message().unwrap();
    assert!(!frame.is_command());
    assert_bytes(
        "XSUB 01 A",
        &frame.wire,
        &core_subscription_message(Subscription::Subscribe(b"A")),
    );
    // And a parser sees a subscription in it.
    assert_eq!(
        Subscription::parse_message(frame.body()),
        Some(Subscription::Subscribe(b"A"))
    );
}

#[test]
fn data_frames_match_libzmq_dealer() {
    let frames = capture::dealer_frames().unwrap();
    let mut frames = frames.iter();
    for msg in capture::dealer_messages() {
        let last = msg.parts.len() - 1;
        for (i, part) in msg.parts.iter().enumerate() {
            let got = frames.next().unwrap();
            assert_bytes(
                &format!("{} part {i}", msg.label),
                &got.wire,
                &core_frame(i < last, part),
            );
        }
    }
    assert!(frames.next().is_none());
}

// ---------------------------------------------------------------------------
// Reverse: libzmq accepts what zmtp_core::wire emits
// ---------------------------------------------------------------------------

/// Connects to `endpoint` and performs the NULL handshake with bytes from
/// `zmtp_core::wire` only: greeting (minor `minor`) and READY for
/// `socket_type` with `identity`. Returns the peer after libzmq's READY.
fn core_handshake(
    endpoint: &str,
    minor: u8,
    socket_type: &str,
    identity: Option<&[u8]>,
) -> Result<RawPeer> {
    core_handshake_on(RawPeer::connect(endpoint)?, minor, socket_type, identity)
}

fn core_handshake_on(
    mut peer: RawPeer,
    minor: u8,
    socket_type: &str,
    identity: Option<&[u8]>,
) -> Result<RawPeer> {
    peer.send(&core_greeting(minor, 0))?;
    peer.send(&core_ready_frame(socket_type, identity))?;
    let greeting = peer.recv_exact(64, "libzmq's greeting")?;
    assert_eq!(greeting[..11], core_greeting(1, 0)[..11]);
    let ready = peer.recv_frame("libzmq's READY")?;
    assert_eq!(ready.command_name(), Some(&b"READY"[..]));
    Ok(peer)
}

/// Starts a v1 monitor for `events` on `bound` and returns its connected
/// PAIR consumer with a receive timeout.
fn monitor(bound: &Libzmq, events: &[zmq::SocketEvent]) -> zmq::Socket {
    let mask = events.iter().fold(0i32, |m, e| m | i32::from(e.to_raw()));
    let addr = "inproc://monitor";
    bound.socket.monitor(addr, mask).unwrap();
    let consumer = bound.ctx.socket(zmq::PAIR).unwrap();
    consumer.set_linger(0).unwrap();
    consumer
        .set_rcvtimeo(zmtp_tests::READ_TIMEOUT.as_millis() as i32)
        .unwrap();
    consumer.connect(addr).unwrap();
    consumer
}

/// The next monitor event id (v1: u16 in native order, then u32 value,
/// then the endpoint frame).
fn next_event(consumer: &zmq::Socket) -> u16 {
    let parts = consumer
        .recv_multipart(0)
        .expect("monitor event within the timeout");
    assert_eq!(parts.len(), 2);
    u16::from_ne_bytes([parts[0][0], parts[0][1]])
}

#[test]
fn libzmq_accepts_core_handshake_for_every_socket_type() {
    use zmq::SocketEvent::{
        HANDSHAKE_FAILED_AUTH, HANDSHAKE_FAILED_NO_DETAIL, HANDSHAKE_FAILED_PROTOCOL,
        HANDSHAKE_SUCCEEDED,
    };
    for kind in KINDS {
        let bound = Libzmq::bind(kind.zmq, |_| Ok(())).unwrap();
        let consumer = monitor(
            &bound,
            &[
                HANDSHAKE_SUCCEEDED,
                HANDSHAKE_FAILED_NO_DETAIL,
                HANDSHAKE_FAILED_PROTOCOL,
                HANDSHAKE_FAILED_AUTH,
            ],
        );
        let peer =
            core_handshake(&bound.endpoint, 1, kind.peer, default_identity(kind.peer)).unwrap();
        assert_eq!(
            next_event(&consumer),
            HANDSHAKE_SUCCEEDED.to_raw(),
            "libzmq {} refused zmtp_core's {} handshake",
            kind.name,
            kind.peer
        );
        // Close the monitored socket before its consumer.
        drop(bound);
        drop(consumer);
        drop(peer);
    }
}

#[test]
fn libzmq_closes_on_an_incompatible_socket_type_without_handshake_event() {
    use zmq::SocketEvent::{
        DISCONNECTED, HANDSHAKE_FAILED_NO_DETAIL, HANDSHAKE_FAILED_PROTOCOL, HANDSHAKE_SUCCEEDED,
    };
    let bound = Libzmq::bind(zmq::PUB, |_| Ok(())).unwrap();
    let consumer = monitor(
        &bound,
        &[
            DISCONNECTED,
            HANDSHAKE_SUCCEEDED,
            HANDSHAKE_FAILED_NO_DETAIL,
            HANDSHAKE_FAILED_PROTOCOL,
        ],
    );
    // libzmq may close before we read its greeting, so only send.
    let mut peer = RawPeer::connect(&bound.endpoint).unwrap();
    peer.send(&core_greeting(1, 0)).unwrap();
    peer.send(&core_ready_frame("PUSH", None)).unwrap();
    // NULL mechanism: no ERROR command, no handshake event, just a close.
    assert_eq!(next_event(&consumer), DISCONNECTED.to_raw());
    peer.wait_closed().unwrap();
    drop(bound);
    drop(consumer);
}

#[test]
fn libzmq_pull_receives_core_frames() {
    let bound = Libzmq::bind(zmq::PULL, |s| {
        Ok(s.set_rcvtimeo(zmtp_tests::READ_TIMEOUT.as_millis() as i32)?)
    })
    .unwrap();
    let mut peer = core_handshake(&bound.endpoint, 1, "PUSH", None).unwrap();
    let parts: Vec<Vec<u8>> = vec![
        Vec::new(),
        raw::pattern(1),
        raw::pattern(255),
        raw::pattern(256),
        raw::pattern(70_000),
    ];
    for (i, part) in parts.iter().enumerate() {
        peer.send(&core_frame(i + 1 < parts.len(), part)).unwrap();
    }
    let got = bound.socket.recv_multipart(0).unwrap();
    assert_eq!(got, parts);
}

#[test]
fn libzmq_router_takes_core_identity_as_routing_id_and_replies_in_core_frames() {
    let bound = Libzmq::bind(zmq::ROUTER, |s| {
        Ok(s.set_rcvtimeo(zmtp_tests::READ_TIMEOUT.as_millis() as i32)?)
    })
    .unwrap();
    let mut peer = core_handshake(&bound.endpoint, 1, "DEALER", Some(b"xyz")).unwrap();
    peer.send(&core_frame(true, b"")).unwrap();
    peer.send(&core_frame(false, b"hello")).unwrap();
    let got = bound.socket.recv_multipart(0).unwrap();
    assert_eq!(got, vec![b"xyz".to_vec(), Vec::new(), b"hello".to_vec()]);

    bound
        .socket
        .send_multipart([&b"xyz"[..], b"", b"world"], 0)
        .unwrap();
    let delimiter = peer.recv_frame("reply delimiter").unwrap();
    let body = peer.recv_frame("reply body").unwrap();
    assert_bytes("reply delimiter", &delimiter.wire, &core_frame(true, b""));
    assert_bytes("reply body", &body.wire, &core_frame(false, b"world"));
}

/// An XPUB that reports subscriptions, with a receive timeout.
fn xpub() -> Libzmq {
    Libzmq::bind(zmq::XPUB, |s| {
        Ok(s.set_rcvtimeo(zmtp_tests::READ_TIMEOUT.as_millis() as i32)?)
    })
    .unwrap()
}

/// Publishes "B-miss" then "A-hit" on `xpub` and checks that the peer's
/// next data frame is "A-hit" as `zmtp_core::wire` would frame it.
fn assert_filtered_delivery(xpub: &Libzmq, peer: &mut RawPeer) {
    xpub.socket.send(&b"B-miss"[..], 0).unwrap();
    xpub.socket.send(&b"A-hit"[..], 0).unwrap();
    let frame: RawFrame = peer.recv_frame_skipping_pings("published message").unwrap();
    assert_bytes("published A-hit", &frame.wire, &core_frame(false, b"A-hit"));
}

#[test]
fn libzmq_xpub_applies_core_subscribe_and_cancel_commands() {
    let xpub = xpub();
    let mut peer = core_handshake(&xpub.endpoint, 1, "SUB", None).unwrap();
    peer.send(&core_command(Command::Subscribe(b"A"))).unwrap();
    assert_eq!(xpub.socket.recv_bytes(0).unwrap(), b"\x01A");
    assert_filtered_delivery(&xpub, &mut peer);
    peer.send(&core_command(Command::Cancel(b"A"))).unwrap();
    assert_eq!(xpub.socket.recv_bytes(0).unwrap(), b"\x00A");
}

#[test]
fn libzmq_xpub_applies_core_subscription_messages_from_a_zmtp30_peer() {
    let xpub = xpub();
    let mut peer = core_handshake(&xpub.endpoint, 0, "SUB", None).unwrap();
    peer.send(&core_subscription_message(Subscription::Subscribe(b"A")))
        .unwrap();
    assert_eq!(xpub.socket.recv_bytes(0).unwrap(), b"\x01A");
    assert_filtered_delivery(&xpub, &mut peer);
    peer.send(&core_subscription_message(Subscription::Cancel(b"A")))
        .unwrap();
    assert_eq!(xpub.socket.recv_bytes(0).unwrap(), b"\x00A");
}

#[test]
fn libzmq_pub_accepts_core_subscribe_from_a_connecting_side() {
    // libzmq PUB connects to us: the accepting (raw) side speaks first the
    // same way, and the subscription applies.
    let listener = RawListener::bind().unwrap();
    let publisher = Libzmq::connect(
        zmq::XPUB,
        |s| Ok(s.set_rcvtimeo(zmtp_tests::READ_TIMEOUT.as_millis() as i32)?),
        &listener.endpoint,
    )
    .unwrap();
    let peer = listener.accept().unwrap();
    let mut peer = core_handshake_on(peer, 1, "SUB", None).unwrap();
    peer.send(&core_command(Command::Subscribe(b"A"))).unwrap();
    assert_eq!(publisher.socket.recv_bytes(0).unwrap(), b"\x01A");
    assert_filtered_delivery(&publisher, &mut peer);
}

#[test]
fn libzmq_answers_core_ping_with_the_pong_core_emits() {
    let bound = Libzmq::bind(zmq::DEALER, |_| Ok(())).unwrap();
    let mut peer = core_handshake(&bound.endpoint, 1, "DEALER", Some(b"")).unwrap();
    let contexts = [
        Vec::new(),
        b"LOL".to_vec(),
        raw::pattern(16),
        raw::pattern(17),
    ];
    for context in &contexts {
        peer.send(&core_command(Command::Ping { ttl_ds: 0, context }))
            .unwrap();
        let pong = peer.recv_frame("PONG").unwrap();
        let echoed = &context[..context.len().min(16)];
        assert_bytes(
            &format!("PONG to a {}-byte context", context.len()),
            &pong.wire,
            &core_command(Command::Pong { context: echoed }),
        );
    }
}

#[test]
fn kinds_cover_every_core_socket_type_with_compatible_peers() {
    // libzmq's numbering order (zmq.h): PAIR 0 .. XSUB 10.
    let libzmq_order = [
        zmq::PAIR,
        zmq::PUB,
        zmq::SUB,
        zmq::REQ,
        zmq::REP,
        zmq::DEALER,
        zmq::ROUTER,
        zmq::PULL,
        zmq::PUSH,
        zmq::XPUB,
        zmq::XSUB,
    ];
    assert_eq!(KINDS.len(), SocketType::ALL.len());
    for (kind, t) in KINDS.iter().zip(SocketType::ALL) {
        assert_eq!(kind.name, t.as_str());
        assert_eq!(kind.zmq, libzmq_order[usize::from(t.number())]);
        assert!(t.accepts_peer_name(kind.peer.as_bytes()));
        assert_eq!(
            Kind::sends_identity(kind.name),
            t.sends_identity(),
            "{}",
            kind.name
        );
    }
}

#[test]
fn committed_captures_match_a_live_run() {
    let committed = include_str!("../captures/libzmq-4.3.4.txt");
    let live = capture::render(&capture::all().unwrap());
    assert!(
        live == committed,
        "captures/libzmq-4.3.4.txt is stale: regenerate it with \
         `cargo run -p zmtp-tests --bin capture > tests/captures/libzmq-4.3.4.txt`\n{live}"
    );
}
