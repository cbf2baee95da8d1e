//! Monitor message decoding (version 1 and version 2) on arbitrary frame
//! lists.
//!
//! Input format: a list of frames, each a length byte followed by that many
//! bytes; a last frame shorter than its length byte holds whatever is left.
//! A version 1 LISTENING message is `06 <6 header bytes> 14 <20 endpoint
//! bytes>`.
//!
//! Invariants:
//! - nothing panics;
//! - decode fails exactly on a wrong frame count, a wrong numeric frame
//!   size or (v2) a value count that does not match the frames;
//! - decoded events re-encode to the same numeric frames (v2: whenever the
//!   value count is the event's own; otherwise the id and first value are
//!   kept), and whole messages rebuilt with `RawMessage` equal the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmtp_core::monitor::{
    DecodeError, EndpointPair, Event, EventVersion, MonitorEvent, RawMessage, V1_HEADER_LEN,
    V2_MAX_NUMBER_FRAMES, V2_NUMBER_LEN, decode_v1, decode_v2, encode_v1, encode_v2_numbers,
};

fuzz_target!(|data: &[u8]| {
    let frames = split_frames(data);
    check_v1(&frames);
    check_v2(&frames);
});

/// Splits `data` into length-prefixed frames.
fn split_frames(mut data: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        let len = usize::from(len).min(rest.len());
        let (frame, rest) = rest.split_at(len);
        frames.push(frame);
        data = rest;
    }
    frames
}

/// Queries that must not panic on any event.
fn poke(ev: &Event) {
    let _ = ev.name();
    let _ = ev.is_known();
    let _ = ev.protocol_error();
    let _ = Event::name_of_id(ev.id());
    let (values, n) = ev.values();
    assert!(n == 1 || n == 2);
    assert_eq!(ev.value(), values[0]);
    // Rebuilding from the id and values gives an event that encodes the
    // same (an `Unknown` may come back as the variant it stands for).
    let again = Event::from_id_value(ev.id(), &values[..n]);
    assert_eq!((again.id(), again.values()), (ev.id(), ev.values()));
}

fn collect(raw: &RawMessage<'_>) -> Vec<Vec<u8>> {
    assert_eq!(raw.frames().len(), raw.len());
    for i in 0..raw.len() {
        assert_eq!(raw.is_more(i), i + 1 < raw.len());
    }
    assert_eq!(raw.frame(raw.len()), None);
    raw.frames().map(<[u8]>::to_vec).collect()
}

fn owned(frames: &[&[u8]]) -> Vec<Vec<u8>> {
    frames.iter().map(|f| f.to_vec()).collect()
}

fn check_v1(frames: &[&[u8]]) {
    let (ev, endpoint) = match decode_v1(frames) {
        Ok(ok) => ok,
        Err(DecodeError::WrongFrameCount) => return assert_ne!(frames.len(), 2),
        Err(DecodeError::WrongFrameSize) => {
            assert_eq!(frames.len(), 2);
            return assert_ne!(frames[0].len(), V1_HEADER_LEN);
        }
        Err(e) => panic!("decode_v1: {e:?}"),
    };
    poke(&ev);
    assert_eq!(endpoint, frames[1]);
    assert_eq!(encode_v1(&ev).as_ref().map(|h| &h[..]), Ok(frames[0]));
    assert_eq!(ev.values().1, 1);

    let Ok(ep) = core::str::from_utf8(endpoint) else {
        return;
    };
    let raw = RawMessage::v1(&ev, ep).expect("a decoded v1 event encodes as v1");
    assert_eq!(collect(&raw), owned(frames));
    assert_eq!(raw.byte_len(), frames[0].len() + frames[1].len());
    let rebuilt: Vec<&[u8]> = raw.frames().collect();
    assert_eq!(decode_v1(&rebuilt), Ok((ev, endpoint)));

    // Through a queued record; v1 sends the local endpoint of a bind pair.
    let rec: MonitorEvent = MonitorEvent::new(ev, EndpointPair::bind(ep));
    let raw = rec.raw(EventVersion::V1);
    if rec.endpoints.is_truncated() {
        assert!(ep.len() > rec.endpoints.local().len());
        assert!(ep.starts_with(rec.endpoints.local()));
    } else {
        assert_eq!(collect(&raw), owned(frames));
    }
}

fn check_v2(frames: &[&[u8]]) {
    let (ev, local, remote) = match decode_v2(frames) {
        Ok(ok) => ok,
        Err(DecodeError::WrongFrameCount) => return assert!(frames.len() < 4),
        Err(DecodeError::WrongFrameSize) => {
            let n = frames.len();
            assert!(n >= 4);
            let bad = frames[..n - 2].iter().any(|f| f.len() != V2_NUMBER_LEN);
            return assert!(bad);
        }
        Err(DecodeError::ValueCountMismatch) => {
            let count = u64::from_le_bytes(frames[1].try_into().expect("8-byte count"));
            return assert_ne!(count, (frames.len() - 4) as u64);
        }
        Err(e) => panic!("decode_v2: {e:?}"),
    };
    poke(&ev);
    let n = frames.len();
    let count = n - 4;
    assert_eq!(local, frames[n - 2]);
    assert_eq!(remote, frames[n - 1]);
    let number = |i: usize| u64::from_le_bytes(frames[i].try_into().expect("8-byte frame"));
    assert_eq!(number(1), count as u64);
    assert_eq!(ev.id(), number(0));

    let mut out = [[0u8; V2_NUMBER_LEN]; V2_MAX_NUMBER_FRAMES];
    let written = encode_v2_numbers(&ev, &mut out);
    let (_, values) = ev.values();
    assert_eq!(written, values + 2);
    if values == count {
        // The value count is the event's own: numbers re-encode exactly.
        for (i, f) in out[..written].iter().enumerate() {
            assert_eq!(&f[..], frames[i], "number frame {i}");
        }
    } else {
        // A count the event cannot have: kept as Unknown with the first
        // value (or 0), which re-encodes canonically.
        let first = if count == 0 { 0 } else { number(2) };
        assert_eq!(
            ev,
            Event::Unknown {
                id: number(0),
                value: first
            }
        );
        assert_eq!(written, 3);
    }
    let (Ok(l), Ok(r)) = (core::str::from_utf8(local), core::str::from_utf8(remote)) else {
        return;
    };
    let raw = RawMessage::v2(&ev, l, r);
    let rebuilt: Vec<&[u8]> = raw.frames().collect();
    let (again, l2, r2) = decode_v2(&rebuilt).expect("a rebuilt v2 message decodes");
    assert_eq!((l2, r2), (local, remote));
    assert_eq!((again.id(), again.values()), (ev.id(), ev.values()));
    if values == count {
        assert_eq!(again, ev);
        assert_eq!(collect(&raw), owned(frames));
    }
    let rec: MonitorEvent = MonitorEvent::new(ev, EndpointPair::bind_pair(l, r));
    if !rec.endpoints.is_truncated() {
        assert_eq!(collect(&rec.raw(EventVersion::V2)), collect(&raw));
    }
}
