//! Frame parsing on arbitrary bytes, decoded as a stream of frames.
//!
//! Invariants:
//! - nothing panics;
//! - `consumed <= len`, and `consumed` is the header plus the body;
//! - every strict prefix of a frame that parses needs more bytes
//!   (`Ok(None)`), never an error and never another frame;
//! - emit -> parse is the identity, and a frame whose header was in
//!   libzmq's canonical form (short for bodies up to 255 bytes, LONG above)
//!   emits back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmtp_core::wire::frame::{LONG_HEADER_LEN, SHORT_HEADER_LEN, emit_header, header_len};
use zmtp_core::wire::{Error, FrameRepr};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    loop {
        match FrameRepr::parse(rest) {
            Ok(None) => break,
            Err(e) => {
                assert!(matches!(e, Error::BadFlags | Error::TooLarge), "{e:?}");
                break;
            }
            Ok(Some((frame, consumed))) => {
                check_frame(rest, frame, consumed);
                rest = &rest[consumed..];
            }
        }
    }
});

fn check_frame(input: &[u8], frame: FrameRepr<'_>, consumed: usize) {
    assert!(consumed <= input.len());
    assert!(!(frame.more && frame.command));
    let long = input[0] & 0x02 != 0;
    let header = if long {
        LONG_HEADER_LEN
    } else {
        SHORT_HEADER_LEN
    };
    assert_eq!(consumed, header + frame.body.len());
    assert_eq!(frame.body, &input[header..consumed]);

    // Every strict prefix needs more bytes.
    for cut in [0, 1, header - 1, header, consumed / 2, consumed - 1] {
        if cut < consumed {
            assert_eq!(FrameRepr::parse(&input[..cut]), Ok(None), "cut {cut}");
        }
    }

    // Emit -> parse round trip.
    let len = frame.buffer_len();
    assert_eq!(len, header_len(frame.body.len() as u64) + frame.body.len());
    let mut out = vec![0xA5u8; len];
    // A buffer one byte short is refused and left untouched.
    if let Some(short) = len.checked_sub(1) {
        assert_eq!(frame.emit(&mut out[..short]), Err(Error::BufferTooSmall));
        assert!(out.iter().all(|&b| b == 0xA5));
    }
    assert_eq!(frame.emit(&mut out), Ok(len));
    assert_eq!(FrameRepr::parse(&out), Ok(Some((frame, len))));
    let canonical = long == (frame.body.len() > 255);
    if canonical {
        assert_eq!(&out[..], &input[..consumed]);
    }
    // The header alone, through emit_header.
    let mut head = [0u8; LONG_HEADER_LEN];
    let n = emit_header(frame.flags(), frame.body.len() as u64, &mut head);
    assert_eq!(n, Ok(len - frame.body.len()));
    assert_eq!(
        &head[..len - frame.body.len()],
        &out[..len - frame.body.len()]
    );
}
