//! Connection tests: framing after the handshake, size limits, back-pressure
//! on both queues, and local close.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod conn_util;
use conn_util::*;

use zmtp_core::conn::{Config, ConnEvent, DisconnectReason, REC_COMMAND, REC_MORE, SendError};
use zmtp_core::queue::MsgRing;
use zmtp_core::{Instant, SocketType};

fn pair_cfg() -> Config {
    Config::new(SocketType::Pair)
}

fn ready_solo(c: &Config, rx: usize) -> Solo {
    let mut s = Solo::with_buffers(c, rx, 4096);
    s.handshake(SocketType::Pair);
    s
}

// ---------------------------------------------------------------------------
// 8. Maximum message size
// ---------------------------------------------------------------------------

fn max100() -> Config {
    let mut c = pair_cfg();
    c.max_msg_size = Some(100);
    c
}

#[test]
fn max_msg_size_accepts_the_limit() {
    let mut s = ready_solo(&max100(), 4096);
    s.feed_all(&frame(0, &[1u8; 100]));
    assert_eq!(pop_message(&mut s.c).unwrap(), [vec![1u8; 100]]);
    // The limit is per frame, like libzmq's decoder.
    s.feed_all(&message(&[&[2u8; 100], &[3u8; 100]]));
    assert_eq!(
        pop_message(&mut s.c).unwrap(),
        [vec![2u8; 100], vec![3u8; 100]]
    );
    assert!(s.events.is_empty());
}

#[test]
fn max_msg_size_rejects_one_more_before_storing_it() {
    for (bytes, header) in [(frame(0, &[1u8; 101]), 2), (long_frame(0, &[1u8; 101]), 9)] {
        let mut s = ready_solo(&max100(), 4096);
        let n = s.feed(&bytes);
        // Consumption stops right after the header: no body byte is taken.
        assert_eq!(n, header);
        assert_eq!(
            s.events,
            [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
        );
        assert!(!DisconnectReason::MessageTooLarge.should_reconnect());
        assert!(!s.c.has_message());
        assert_eq!(s.c.queued_units(), 0);
        assert!(s.c.front_frame().is_none());
        // Closed: nothing more is consumed.
        assert_eq!(s.feed(&bytes[n..]), 0);
    }
}

#[test]
fn max_msg_size_in_the_middle_of_a_message() {
    // A first frame is accepted, the second is too large: the partial
    // message never becomes visible.
    let mut s = ready_solo(&max100(), 4096);
    let bytes = message(&[b"head", &[0u8; 200]]);
    let n = s.feed(&bytes);
    assert_eq!(n, 6 + 2);
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
    );
    assert!(!s.c.has_message());
}

#[test]
fn max_msg_size_applies_during_the_handshake() {
    // libzmq's handshake decoder has the same limit; the failure is a
    // protocol error: DISCONNECTED only.
    let mut c = pair_cfg();
    c.max_msg_size = Some(10);
    let mut s = Solo::new(&c);
    s.feed_all(&null_greeting());
    s.feed(&ready_for(SocketType::Pair));
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
    );
}

#[test]
fn frame_larger_than_the_receive_buffer() {
    let mut s = ready_solo(&pair_cfg(), 256);
    let max = 256 - MsgRing::HEADER_LEN;
    // The largest body that fits is accepted.
    s.feed_all(&frame(0, &vec![5u8; max]));
    assert_eq!(pop_message(&mut s.c).unwrap(), [vec![5u8; max]]);
    // One more byte can never fit.
    let n = s.feed(&frame(0, &vec![5u8; max + 1]));
    assert_eq!(n, 2);
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
    );
    assert!(!s.c.has_message());
}

#[test]
fn huge_declared_sizes() {
    for size in [u64::MAX, 1u64 << 63, (1u64 << 63) - 1, 1 << 40] {
        let mut s = ready_solo(&pair_cfg(), 4096);
        let mut bytes = vec![0x02];
        bytes.extend_from_slice(&size.to_be_bytes());
        bytes.extend_from_slice(b"xyz");
        assert_eq!(s.feed(&bytes), 9);
        assert_eq!(
            s.events,
            [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
        );
    }
    // A huge command is skipped, not stored: only the limit stops it.
    let mut c = pair_cfg();
    c.max_msg_size = Some(1_000);
    let mut s = ready_solo(&c, 4096);
    let mut bytes = vec![0x06];
    bytes.extend_from_slice(&(1u64 << 40).to_be_bytes());
    assert_eq!(s.feed(&bytes), 9);
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
    );
}

#[test]
fn long_size_field_for_small_bodies() {
    let mut s = ready_solo(&max100(), 4096);
    s.feed_all(&long_frame(0x01, b"hi"));
    s.feed_all(&long_frame(0x00, b""));
    assert_eq!(
        pop_unit(&mut s.c).unwrap(),
        [(REC_MORE, b"hi".to_vec()), (0, vec![])]
    );
    assert!(s.events.is_empty());
}

// ---------------------------------------------------------------------------
// 9. Back-pressure
// ---------------------------------------------------------------------------

#[test]
fn rcvhwm_holds_input_back_without_loss() {
    let mut b = pair_cfg();
    b.rcvhwm = 2;
    let mut p = Pair::new(&pair_cfg(), &b);
    p.handshake();
    for i in 0..5u8 {
        p.a.c.send(&[b"msg", &[i]]).unwrap();
    }
    let stream = transmit(&mut p.a.c, p.now);
    let msg_len = 5 + 3;
    assert_eq!(stream.len(), 5 * msg_len);
    // B takes two messages and the header of the third, then stops.
    let n = p.b.c.handle_input(p.now, &stream);
    assert_eq!(n, 2 * msg_len + 2);
    assert!(p.b.c.is_rx_blocked());
    assert_eq!(p.b.c.queued_units(), 2);
    // Offering again changes nothing while the queue is full.
    assert_eq!(p.b.c.handle_input(p.now, &stream[n..]), 0);
    let mut rest = &stream[n..];
    let mut got = Vec::new();
    for _ in 0..10 {
        while let Some(m) = pop_message(&mut p.b.c) {
            got.push(m);
        }
        if rest.is_empty() {
            break;
        }
        let used = p.b.c.handle_input(p.now, rest);
        assert!(p.b.c.queued_units() <= 2);
        rest = &rest[used..];
    }
    assert!(rest.is_empty());
    assert!(!p.b.c.is_rx_blocked());
    let expected: Vec<Vec<Vec<u8>>> = (0..5u8).map(|i| vec![b"msg".to_vec(), vec![i]]).collect();
    assert_eq!(got, expected);
    assert!(p.b.events.is_empty() || p.b.events == [ConnEvent::HandshakeSucceeded]);
}

#[test]
fn rcvhwm_does_not_count_the_metadata_record() {
    let mut c = pair_cfg();
    c.rcvhwm = 2;
    let mut s = Solo::new(&c);
    s.feed_all(&null_greeting());
    let stream = [
        ready_for(SocketType::Pair),
        message(&[b"1"]),
        message(&[b"2"]),
        message(&[b"3"]),
    ]
    .concat();
    let n = s.feed(&stream);
    // READY + two messages + the third's header.
    assert_eq!(n, stream.len() - 1);
    assert_eq!(s.c.queued_units(), 3);
    pop_metadata(&mut s.c);
    // Making room for metadata only does not admit a third message.
    assert!(s.c.is_rx_blocked());
    assert_eq!(pop_message(&mut s.c).unwrap(), [b"1".to_vec()]);
    s.feed_all(&stream[n..]);
    assert_eq!(pop_message(&mut s.c).unwrap(), [b"2".to_vec()]);
    assert_eq!(pop_message(&mut s.c).unwrap(), [b"3".to_vec()]);
}

#[test]
fn rcvhwm_counts_messages_not_frames() {
    let mut c = pair_cfg();
    c.rcvhwm = 1;
    let mut s = ready_solo(&c, 4096);
    let stream = [message(&[b"a", b"b", b"c"]), message(&[b"d"])].concat();
    let n = s.feed(&stream);
    assert_eq!(n, 9 + 2);
    assert_eq!(pop_message(&mut s.c).unwrap().len(), 3);
    s.feed_all(&stream[n..]);
    assert_eq!(pop_message(&mut s.c).unwrap(), [b"d".to_vec()]);
}

#[test]
fn blocked_empty_frame_is_delivered_after_pop() {
    // Every byte of an empty frame is its header: once it is consumed there
    // is nothing left to offer, so popping must let it in.
    let mut c = pair_cfg();
    c.rcvhwm = 1;
    let mut s = ready_solo(&c, 4096);
    let stream = [message(&[b"a"]), message(&[b""])].concat();
    s.feed_all(&stream);
    assert!(s.c.is_rx_blocked());
    assert_eq!(pop_message(&mut s.c).unwrap(), [b"a".to_vec()]);
    assert!(!s.c.is_rx_blocked());
    assert_eq!(pop_message(&mut s.c).unwrap(), [Vec::<u8>::new()]);
}

#[test]
fn blocked_short_subscribe_is_delivered_after_pop() {
    // A receive buffer that holds the peer's READY (26-byte body) and then
    // one 11-byte SUBSCRIBE at a time. The whole command is consumed into
    // the scratch before it waits for room.
    let mut s = Solo::with_buffers(&Config::new(SocketType::XPub), 31, 4096);
    s.handshake(SocketType::XSub);
    let stream = [command(b"\x09SUBSCRIBEA"), command(b"\x09SUBSCRIBEB")].concat();
    s.feed_all(&stream);
    assert!(s.c.is_rx_blocked());
    assert_eq!(
        pop_unit(&mut s.c).unwrap(),
        [(REC_COMMAND, b"\x09SUBSCRIBEA".to_vec())]
    );
    assert_eq!(
        pop_unit(&mut s.c).unwrap(),
        [(REC_COMMAND, b"\x09SUBSCRIBEB".to_vec())]
    );
}

#[test]
fn long_subscribe_and_cancel_commands_are_queued_whole() {
    let mut s = Solo::new(&Config::new(SocketType::XPub));
    s.handshake(SocketType::XSub);
    let topic = vec![b't'; 300];
    let mut body = b"\x06CANCEL".to_vec();
    body.extend_from_slice(&topic);
    s.feed_all(&frame(0x04, &body));
    assert_eq!(pop_unit(&mut s.c).unwrap(), [(REC_COMMAND, body)]);
}

#[test]
fn small_receive_buffer_holds_input_back_without_loss() {
    // 64 bytes hold two 20-byte messages (25 bytes each with the header).
    let mut p = Pair::with_buffers(&pair_cfg(), &pair_cfg(), 64, 4096);
    p.handshake();
    for i in 0..5u8 {
        p.a.c.send(&[&[i; 20]]).unwrap();
    }
    p.drive();
    assert_eq!(p.b.c.queued_units(), 2);
    assert!(p.b.c.is_rx_blocked());
    assert!(!p.a.in_flight.is_empty());
    let mut got = Vec::new();
    for _ in 0..10 {
        while let Some(m) = pop_message(&mut p.b.c) {
            got.push(m);
        }
        p.drive();
    }
    let expected: Vec<Vec<Vec<u8>>> = (0..5u8).map(|i| vec![vec![i; 20]]).collect();
    assert_eq!(got, expected);
    assert!(p.a.in_flight.is_empty());
}

#[test]
fn multipart_message_behind_queued_units_does_not_deadlock() {
    // Records never wrap in the receive queue. A large multi-frame message
    // that started behind queued messages could find no contiguous room for
    // its last frame once those were read, while its own first frames can
    // never be read: it must wait for an empty queue instead.
    let mut b = pair_cfg();
    b.rcvhwm = 2;
    let mut p = Pair::with_buffers(&pair_cfg(), &b, 1024, 1024);
    p.chunk = 16;
    p.handshake();
    p.a.c.send(&[&[1u8; 250], &[2u8; 252]]).unwrap();
    p.drive();
    p.a.c.send(&[&[3u8; 1], &[4u8; 251], &[5u8; 253]]).unwrap();
    p.drive();
    p.a.c
        .send(&[&[6u8; 252], &[7u8; 255], &[8u8; 256]])
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..20 {
        p.drive();
        while let Some(m) = pop_message(&mut p.b.c) {
            got.push(m.iter().map(Vec::len).collect::<Vec<_>>());
        }
    }
    assert_eq!(
        got,
        [vec![250, 252], vec![1, 251, 253], vec![252, 255, 256]]
    );
    assert!(
        p.b.events
            .iter()
            .all(|e| *e == ConnEvent::HandshakeSucceeded)
    );
}

#[test]
fn multipart_message_larger_than_the_receive_buffer() {
    // Each frame fits, the message does not: refused instead of waiting
    // forever for room that cannot appear.
    let mut s = ready_solo(&pair_cfg(), 256);
    let bytes = message(&[&[1u8; 200], &[2u8; 200]]);
    let n = s.feed(&bytes);
    assert_eq!(n, 202 + 2);
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
    );
    assert!(!s.c.has_message());
}

#[test]
fn multipart_message_split_across_reads_waits_for_an_empty_queue() {
    let mut s = ready_solo(&pair_cfg(), 4096);
    s.feed_all(&message(&[b"first"]));
    // Only the first frame of the next message is visible: it is held back
    // until the queue is empty, then stored from the start of the buffer.
    let next = message(&[b"a", b"b"]);
    let n = s.feed(&next[..4]);
    assert_eq!(n, 2);
    assert!(s.c.is_rx_blocked());
    assert_eq!(pop_message(&mut s.c).unwrap(), [b"first".to_vec()]);
    s.feed_all(&next[n..]);
    assert_eq!(
        pop_message(&mut s.c).unwrap(),
        [b"a".to_vec(), b"b".to_vec()]
    );
    // A whole multi-frame message in one read is queued behind others.
    let two = [message(&[b"x", b"y"]), message(&[b"z", b"w"])].concat();
    s.feed_all(&two);
    assert_eq!(s.c.queued_units(), 2);
}

#[test]
fn subscribe_inside_a_message_that_fills_the_queue() {
    // A peer interleaving a SUBSCRIBE in a message that already fills the
    // receive queue cannot be waited for: refused, not stuck.
    let mut s = Solo::with_buffers(&Config::new(SocketType::XPub), 256, 4096);
    s.handshake(SocketType::XSub);
    s.feed_all(&frame(0x01, &[0u8; 240]));
    s.feed(&command(b"\x09SUBSCRIBEtopic"));
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::MessageTooLarge)]
    );
}

#[test]
fn sndhwm_limits_queued_messages() {
    let mut a = pair_cfg();
    a.sndhwm = 3;
    let mut p = Pair::new(&a, &pair_cfg());
    p.handshake();
    for i in 0..3u8 {
        assert!(p.a.c.can_send());
        p.a.c.send(&[&[i], b"more"]).unwrap();
    }
    assert_eq!(p.a.c.queued_outgoing(), 3);
    assert!(!p.a.c.can_send());
    assert!(!p.a.c.can_send_message(&[b"x"]));
    assert_eq!(p.a.c.send(&[b"x"]), Err(SendError::Full));
    // Once transmitted, there is room again.
    let out = transmit(&mut p.a.c, p.now);
    assert_eq!(parse_frames(&out).len(), 6);
    assert_eq!(p.a.c.queued_outgoing(), 0);
    p.a.c.send(&[b"x"]).unwrap();
    // A partially transmitted message still counts.
    let mut buf = [0u8; 2];
    assert_eq!(p.a.c.poll_transmit(p.now, &mut buf), 2);
    assert_eq!(p.a.c.queued_outgoing(), 1);
}

#[test]
fn subscription_commands_do_not_count_against_sndhwm() {
    let mut c = Config::new(SocketType::Sub);
    c.sndhwm = 1;
    let mut s = Solo::new(&c);
    s.handshake(SocketType::Pub);
    for _ in 0..5 {
        s.c.send_subscription(true, b"topic").unwrap();
    }
    assert_eq!(s.c.queued_outgoing(), 0);
}

#[test]
fn send_errors() {
    let mut s = Solo::with_buffers(&pair_cfg(), 4096, 128);
    s.handshake(SocketType::Pair);
    let max = 128 - MsgRing::HEADER_LEN;
    assert_eq!(s.c.send(&[&vec![0u8; max]]), Ok(()));
    // Buffer full right now.
    assert_eq!(s.c.send(&[b"x"]), Err(SendError::Full));
    s.pump();
    // Never fits: one frame too large, or frames that fit alone but not
    // together (retrying would never succeed).
    assert_eq!(s.c.send(&[&vec![0u8; max + 1]]), Err(SendError::TooLarge));
    assert_eq!(s.c.send(&[&vec![0u8; max], b""]), Err(SendError::TooLarge));
    assert_eq!(
        s.c.send(&[&[0u8; 60], &[0u8; 59]]),
        Err(SendError::TooLarge)
    );
    assert!(!s.c.can_send_message(&[&[0u8; 60], &[0u8; 59]]));
    assert_eq!(s.c.send(&[&[0u8; 59], &[0u8; 59]]), Ok(()));
    s.pump();
    let parts: Vec<&[u8]> = vec![b""; 33];
    assert_eq!(s.c.send(&parts), Err(SendError::TooManyParts));
    let parts: Vec<&[u8]> = vec![b""; 20];
    assert_eq!(s.c.send(&parts), Ok(()));
}

// ---------------------------------------------------------------------------
// 10. Multipart, empty frames, size boundaries
// ---------------------------------------------------------------------------

fn roundtrip(p: &mut Pair, parts: &[&[u8]]) {
    p.a.sent.clear();
    p.a.c.send(parts).unwrap();
    p.drive();
    let got = pop_unit(&mut p.b.c).expect("message");
    assert_eq!(got.len(), parts.len());
    for (i, ((flags, body), part)) in got.iter().zip(parts).enumerate() {
        assert_eq!(body.as_slice(), *part, "frame {i}");
        let more = if i + 1 < parts.len() { REC_MORE } else { 0 };
        assert_eq!(*flags, more);
    }
}

#[test]
fn multipart_and_empty_frames() {
    let mut p = Pair::new(&pair_cfg(), &pair_cfg());
    p.handshake();
    roundtrip(&mut p, &[b""]);
    assert_eq!(p.a.sent, [0x00, 0x00]);
    roundtrip(&mut p, &[b"", b"", b""]);
    assert_eq!(p.a.sent, [0x01, 0x00, 0x01, 0x00, 0x00, 0x00]);
    roundtrip(&mut p, &[b"", b"body", b""]);
    let many: Vec<&[u8]> = vec![b"x"; 32];
    roundtrip(&mut p, &many);
}

#[test]
fn short_long_boundary() {
    let mut p = Pair::new(&pair_cfg(), &pair_cfg());
    p.handshake();
    let b255 = vec![0xABu8; 255];
    roundtrip(&mut p, &[&b255]);
    assert_eq!(p.a.sent[..2], [0x00, 0xFF]);
    assert_eq!(p.a.sent.len(), 2 + 255);
    let b256 = vec![0xCDu8; 256];
    roundtrip(&mut p, &[&b256, &b255]);
    assert_eq!(p.a.sent[..9], [0x03, 0, 0, 0, 0, 0, 0, 1, 0]);
    assert_eq!(p.a.sent[9 + 256..9 + 256 + 2], [0x00, 0xFF]);
}

#[test]
fn sixty_four_kib_plus_one() {
    let big = 65_537usize;
    let mut p = Pair::with_buffers(&pair_cfg(), &pair_cfg(), 70_000, 70_000);
    p.handshake();
    let body: Vec<u8> = (0..big).map(|i| (i % 251) as u8).collect();
    p.chunk = 1_500;
    roundtrip(&mut p, &[&body]);
    assert_eq!(p.a.sent[..9], [0x02, 0, 0, 0, 0, 0, 1, 0, 1]);
    assert_eq!(p.a.sent.len(), 9 + big);
}

#[test]
fn byte_by_byte_delivery() {
    let mut p = Pair::new(
        &Config::new(SocketType::Dealer),
        &Config::new(SocketType::Router),
    );
    p.chunk = 1;
    p.handshake();
    let b300 = vec![1u8; 300];
    roundtrip(&mut p, &[b"a", &b300, b""]);
}

// ---------------------------------------------------------------------------
// 11. Framing after the handshake
// ---------------------------------------------------------------------------

#[test]
fn reserved_flag_bits_are_ignored_like_libzmq() {
    // libzmq's v2 decoder reads only MORE, LONG and COMMAND.
    let mut s = ready_solo(&pair_cfg(), 4096);
    s.feed_all(&frame(0x08 | 0x01, b"first"));
    s.feed_all(&frame(0xF0, b"last"));
    assert_eq!(
        pop_unit(&mut s.c).unwrap(),
        [(REC_MORE, b"first".to_vec()), (0, b"last".to_vec())]
    );
    // Reserved bits with LONG and COMMAND keep their meaning.
    s.feed_all(&long_frame(0x80, b"long"));
    assert_eq!(pop_message(&mut s.c).unwrap(), [b"long".to_vec()]);
    s.feed_all(&frame(0xFC, b"\x04PING\x00\x00ctx"));
    assert_eq!(s.sent, b"\x04\x08\x04PONGctx");
    assert!(s.events.is_empty());
    assert!(s.c.is_ready());
}

#[test]
fn more_on_a_command_is_ignored() {
    let mut s = Solo::new(&Config::new(SocketType::XPub));
    s.handshake(SocketType::XSub);
    s.feed_all(&frame(0x05, b"\x09SUBSCRIBEA"));
    s.feed_all(&message(&[b"\x01B"]));
    // The SUBSCRIBE is a unit of its own, not the start of a message.
    assert_eq!(
        pop_unit(&mut s.c).unwrap(),
        [(REC_COMMAND, b"\x09SUBSCRIBEA".to_vec())]
    );
    assert_eq!(pop_unit(&mut s.c).unwrap(), [(0, b"\x01B".to_vec())]);
    s.feed_all(&frame(0x05, b"\x04PING\x00\x00"));
    assert_eq!(s.sent, b"\x04\x05\x04PONG");
    assert!(s.events.is_empty());
}

#[test]
fn command_between_frames_of_a_message() {
    // A PING may arrive between two frames of a message; the message stays
    // whole.
    let mut s = ready_solo(&pair_cfg(), 4096);
    s.feed_all(&frame(0x01, b"part1"));
    assert!(!s.c.has_message());
    s.feed_all(&ping(0, b""));
    s.feed_all(&frame(0x00, b"part2"));
    assert_eq!(
        pop_message(&mut s.c).unwrap(),
        [b"part1".to_vec(), b"part2".to_vec()]
    );
    assert_eq!(s.sent, b"\x04\x05\x04PONG");
}

// ---------------------------------------------------------------------------
// 13. Local close
// ---------------------------------------------------------------------------

#[test]
fn local_close_is_silent() {
    let mut p = Pair::new(&pair_cfg(), &pair_cfg());
    p.handshake();
    p.a.events.clear();
    p.a.c.send(&[b"queued before close"]).unwrap();
    p.a.c.close();
    assert_eq!(
        events(&mut p.a.c),
        [ConnEvent::Disconnected(DisconnectReason::LocalClose)]
    );
    assert!(!DisconnectReason::LocalClose.is_reported());
    assert!(!DisconnectReason::LocalClose.should_reconnect());
    assert!(p.a.c.is_closed());
    assert!(!p.a.c.has_pending_output());
    let mut buf = [0u8; 256];
    assert_eq!(p.a.c.poll_transmit(p.now, &mut buf), 0);
    assert_eq!(p.a.c.poll_timeout(), None);
    assert_eq!(p.a.c.send(&[b"x"]), Err(SendError::NotReady));
    assert_eq!(p.a.c.handle_input(p.now, b"\x00\x01x"), 0);
    // Closing twice raises nothing more; timers and EOF are no-ops.
    p.a.c.close();
    p.a.c.handle_transport_closed(p.now);
    p.a.c.handle_timeout(Instant::from_millis(T0 + 1_000_000));
    assert!(p.a.c.poll_event().is_none());
}

#[test]
fn local_close_during_handshake_and_of_a_pending_error() {
    let mut s = Solo::new(&pair_cfg());
    s.c.close();
    assert_eq!(s.pump(), Vec::<u8>::new());
    assert_eq!(
        s.events,
        [ConnEvent::Disconnected(DisconnectReason::LocalClose)]
    );
    // A closed-by-protocol connection with an ERROR waiting: close() drops it.
    let mut s = Solo::new(&pair_cfg());
    s.c.handle_input(
        s.now,
        &[null_greeting(), ready_for(SocketType::Pub)].concat(),
    );
    assert!(s.c.has_pending_output());
    s.c.close();
    assert!(!s.c.has_pending_output());
    assert_eq!(
        events(&mut s.c),
        [ConnEvent::Disconnected(
            DisconnectReason::IncompatibleSocketType
        )]
    );
}

#[test]
fn buffers_come_back() {
    let s = Solo::with_buffers(&pair_cfg(), 100, 200);
    let (rx, tx) = s.c.into_buffers();
    assert_eq!((rx.len(), tx.len()), (100, 200));
}
