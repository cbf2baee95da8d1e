//! Command bodies and ZMTP 3.0 subscription messages on arbitrary bytes.
//!
//! The input is parsed twice as a command body: as it is, and with a known
//! command name put in front of `data[1..]` (chosen by `data[0]`), so that
//! every command's data parser is reached from the first run.
//!
//! Invariants:
//! - nothing panics;
//! - any command that parses emits back to the same bytes, and its frame
//!   parses back to a COMMAND frame holding those bytes;
//! - any subscription message that parses emits back to the same bytes, and
//!   survives the trip through a SUBSCRIBE / CANCEL command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmtp_core::wire::command::{CANCEL, ERROR, PING, PONG, READY, SUBSCRIBE};
use zmtp_core::wire::{Command, Error, FrameRepr, Subscription};

/// Names put in front of the data; the last one is not a known command.
const NAMES: [&[u8]; 7] = [READY, ERROR, SUBSCRIBE, CANCEL, PING, PONG, b"X-UNKNOWN"];

fuzz_target!(|data: &[u8]| {
    let _ = check_command(data);
    check_subscription(data);

    if let Some((&selector, tail)) = data.split_first() {
        let name = NAMES[usize::from(selector) % NAMES.len()];
        let mut body = Vec::with_capacity(1 + name.len() + tail.len());
        body.push(name.len() as u8);
        body.extend_from_slice(name);
        body.extend_from_slice(tail);
        if let Ok(cmd) = check_command(&body) {
            assert_eq!(cmd.name(), name);
        }
    }
});

fn check_command(body: &[u8]) -> Result<Command<'_>, Error> {
    let parsed = Command::parse(body);
    let cmd = match parsed {
        Ok(cmd) => cmd,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::BadCommandName
                        | Error::Truncated
                        | Error::TrailingBytes
                        | Error::BadPropertyName
                        | Error::BadPropertyValue
                ),
                "{e:?}"
            );
            return parsed;
        }
    };
    let name = cmd.name();
    assert!(!name.is_empty());
    assert_eq!(usize::from(body[0]), name.len());
    assert_eq!(&body[1..=name.len()], name);

    // Emit back to the same bytes.
    assert_eq!(cmd.buffer_len(), body.len());
    let mut out = vec![0u8; body.len()];
    assert_eq!(cmd.emit(&mut out), Ok(body.len()));
    assert_eq!(out, body);
    assert_eq!(Command::parse(&out), Ok(cmd));
    if let Some(short) = body.len().checked_sub(1) {
        assert_eq!(cmd.emit(&mut vec![0u8; short]), Err(Error::BufferTooSmall));
    }

    // The whole frame.
    let mut frame = vec![0u8; cmd.frame_len()];
    assert_eq!(cmd.emit_frame(&mut frame), Ok(frame.len()));
    let (f, n) = FrameRepr::parse(&frame)
        .expect("emitted frame parses")
        .expect("emitted frame is complete");
    assert_eq!(n, frame.len());
    assert!(f.command && !f.more);
    assert_eq!(f.body, body);

    // Per-command checks.
    match cmd {
        Command::Ready(props) => {
            let mut sum = 0;
            for (name, value) in props {
                sum += 1 + name.len() + 4 + value.len();
                assert!(props.get(name).is_some());
                assert!(props.get_exact(name).is_some());
            }
            // At most a last name or value length left without its value
            // (1 + 255 + 4 bytes), ignored as libzmq ignores it.
            let len = props.as_bytes().len();
            assert!(sum <= len && len - sum <= 260);
        }
        Command::Error { reason } => assert_eq!(reason.len() + 1, body.len() - 6),
        Command::Ping { context, .. } => assert_eq!(context.len() + 2, body.len() - 5),
        Command::Subscribe(topic) | Command::Cancel(topic) => {
            let sub = Subscription::from_command(&cmd).expect("a subscription command");
            assert_eq!(sub.topic(), topic);
            assert_eq!(sub.is_subscribe(), matches!(cmd, Command::Subscribe(_)));
            assert_eq!(sub.to_command(), cmd);
        }
        Command::Unknown { name, .. } => {
            assert!(![READY, ERROR, SUBSCRIBE, CANCEL, PING, PONG].contains(&name));
        }
        _ => {}
    }
    if !matches!(cmd, Command::Subscribe(_) | Command::Cancel(_)) {
        assert_eq!(Subscription::from_command(&cmd), None);
    }
    parsed
}

fn check_subscription(body: &[u8]) {
    let Some(sub) = Subscription::parse_message(body) else {
        assert!(body.first().is_none_or(|&b| b > 1));
        return;
    };
    assert_eq!(sub.is_subscribe(), body[0] == 1);
    assert_eq!(sub.topic(), &body[1..]);
    assert_eq!(sub.message_len(), body.len());
    let mut out = vec![0u8; body.len()];
    assert_eq!(sub.emit_message(&mut out), Ok(body.len()));
    assert_eq!(out, body);

    // The ZMTP 3.1 form of the same subscription.
    let cmd = sub.to_command();
    let mut cmd_body = vec![0u8; cmd.buffer_len()];
    assert_eq!(cmd.emit(&mut cmd_body), Ok(cmd_body.len()));
    let back = Command::parse(&cmd_body).expect("subscription command parses");
    assert_eq!(Subscription::from_command(&back), Some(sub));
}
