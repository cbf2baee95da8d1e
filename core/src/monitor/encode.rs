//! libzmq's monitor message layouts (`src/socket_base.cpp`
//! `monitor_event()`), with every integer little-endian (see the crate docs,
//! "Byte order of monitor events").
//!
//! Version 1, two frames:
//!
//! | frame | size | content |
//! |---|---|---|
//! | 1 | 6 | event id `u16`, then value `u32` (unaligned, no padding) |
//! | 2 | any | endpoint ([`EndpointPair::v1_endpoint`](super::EndpointPair::v1_endpoint)) |
//!
//! Version 2, `4 + N` frames:
//!
//! | frame | size | content |
//! |---|---|---|
//! | 1 | 8 | event id `u64` |
//! | 2 | 8 | value count N `u64` |
//! | 3 ..= 2+N | 8 each | values `u64` |
//! | 3+N | any | local endpoint |
//! | 4+N | any | remote endpoint |
//!
//! A message is a list of frames; every frame but the last carries the MORE
//! flag when it travels over ZMTP.

use core::fmt;

use super::event::Event;

/// Size of the first frame of a version 1 message: `u16` id + `u32` value
/// (libzmq `socket_base.cpp` `monitor_event()` case 1).
pub const V1_HEADER_LEN: usize = 6;
/// Number of frames of a version 1 message.
pub const V1_FRAME_COUNT: usize = 2;
/// Size of each numeric frame of a version 2 message (id, count, values).
pub const V2_NUMBER_LEN: usize = 8;
/// The most numeric frames a version 2 message of a known event has: id,
/// count and the two values of `PIPES_STATS`.
pub const V2_MAX_NUMBER_FRAMES: usize = 4;

/// Why an event cannot be encoded in the version 1 layout. libzmq asserts
/// (aborts) in these cases; they cannot arise from a monitor started with a
/// version 1 mask, which excludes ids above 16 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EncodeError {
    /// The event id does not fit 16 bits (for example `PIPES_STATS`).
    IdOutOfRange,
    /// The value does not fit 32 bits.
    ValueOutOfRange,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IdOutOfRange => "event id does not fit the 16-bit field of monitor format v1",
            Self::ValueOutOfRange => {
                "event value does not fit the 32-bit field of monitor format v1"
            }
        })
    }
}

impl core::error::Error for EncodeError {}

/// Why a list of frames is not a monitor message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DecodeError {
    /// Version 1: not exactly 2 frames. Version 2: fewer than 4 frames.
    WrongFrameCount,
    /// A numeric frame has the wrong size (6 bytes for the version 1 header,
    /// 8 bytes for version 2 numbers).
    WrongFrameSize,
    /// Version 2: the value count does not match the number of frames.
    ValueCountMismatch,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WrongFrameCount => "wrong number of frames for a monitor message",
            Self::WrongFrameSize => "wrong size of a numeric monitor frame",
            Self::ValueCountMismatch => "monitor value count does not match the frames",
        })
    }
}

impl core::error::Error for DecodeError {}

/// Encodes the first frame of a version 1 message: event id as `u16` LE,
/// then the value as `u32` LE.
///
/// ```
/// use zmtp_core::monitor::{encode_v1, Event};
/// // CONNECT_DELAYED (0x0002) with EINPROGRESS (115)
/// assert_eq!(
///     encode_v1(&Event::ConnectDelayed { errno: 115 }),
///     Ok([0x02, 0x00, 0x73, 0x00, 0x00, 0x00])
/// );
/// ```
///
/// # Errors
///
/// [`EncodeError::IdOutOfRange`] if the id exceeds `0xFFFF` (so
/// `PIPES_STATS` cannot be encoded), [`EncodeError::ValueOutOfRange`] if the
/// value exceeds `u32::MAX`. libzmq asserts both.
pub fn encode_v1(event: &Event) -> Result<[u8; V1_HEADER_LEN], EncodeError> {
    let id = u16::try_from(event.id()).map_err(|_| EncodeError::IdOutOfRange)?;
    let value = u32::try_from(event.value()).map_err(|_| EncodeError::ValueOutOfRange)?;
    let [i0, i1] = id.to_le_bytes();
    let [v0, v1, v2, v3] = value.to_le_bytes();
    Ok([i0, i1, v0, v1, v2, v3])
}

/// Encodes the numeric frames of a version 2 message into `out`: id, value
/// count N, then N values, each a `u64` LE. Returns how many 8-byte frames
/// were written (`2 + N`: 3, or 4 for `PIPES_STATS`). Slots past that are
/// zeroed. The endpoint frames (local, remote) follow.
#[must_use]
pub fn encode_v2_numbers(
    event: &Event,
    out: &mut [[u8; V2_NUMBER_LEN]; V2_MAX_NUMBER_FRAMES],
) -> usize {
    let ([first, second], n) = event.values();
    let [id_f, count_f, first_f, second_f] = out;
    *id_f = event.id().to_le_bytes();
    *first_f = first.to_le_bytes();
    if n == 2 {
        *count_f = 2_u64.to_le_bytes();
        *second_f = second.to_le_bytes();
        4
    } else {
        *count_f = 1_u64.to_le_bytes();
        *second_f = [0; V2_NUMBER_LEN];
        3
    }
}

/// Reads an 8-byte little-endian number frame.
fn read_u64(frame: &[u8]) -> Result<u64, DecodeError> {
    <[u8; 8]>::try_from(frame)
        .map(u64::from_le_bytes)
        .map_err(|_| DecodeError::WrongFrameSize)
}

/// Decodes a version 1 message: exactly 2 frames, the first exactly 6 bytes.
/// Returns the event and the endpoint bytes (not checked for UTF-8; libzmq
/// sends them as bytes). Unknown ids give [`Event::Unknown`].
///
/// # Errors
///
/// [`DecodeError::WrongFrameCount`] unless there are exactly 2 frames,
/// [`DecodeError::WrongFrameSize`] unless the first one has 6 bytes.
pub fn decode_v1<'a>(frames: &[&'a [u8]]) -> Result<(Event, &'a [u8]), DecodeError> {
    let [header, endpoint] = frames else {
        return Err(DecodeError::WrongFrameCount);
    };
    let [i0, i1, v0, v1, v2, v3] =
        <[u8; V1_HEADER_LEN]>::try_from(*header).map_err(|_| DecodeError::WrongFrameSize)?;
    let id = u16::from_le_bytes([i0, i1]);
    let value = u32::from_le_bytes([v0, v1, v2, v3]);
    Ok((
        Event::from_id_value(u64::from(id), &[u64::from(value)]),
        endpoint,
    ))
}

/// Decodes a version 2 message: id, count N, N values, local endpoint,
/// remote endpoint. Returns the event, the local and the remote endpoint
/// bytes. Unknown ids, and values that do not fit the known layout of an id,
/// give [`Event::Unknown`] (see [`Event::from_id_value`]).
///
/// # Errors
///
/// [`DecodeError::WrongFrameCount`] for fewer than 4 frames,
/// [`DecodeError::WrongFrameSize`] if the id, count or a value frame is not
/// 8 bytes, [`DecodeError::ValueCountMismatch`] if N does not equal the
/// number of frames minus 4.
pub fn decode_v2<'a>(frames: &[&'a [u8]]) -> Result<(Event, &'a [u8], &'a [u8]), DecodeError> {
    let [id_f, count_f, rest @ ..] = frames else {
        return Err(DecodeError::WrongFrameCount);
    };
    let [values @ .., local, remote] = rest else {
        return Err(DecodeError::WrongFrameCount);
    };
    let id = read_u64(id_f)?;
    let count = read_u64(count_f)?;
    if u64::try_from(values.len()).ok() != Some(count) {
        return Err(DecodeError::ValueCountMismatch);
    }
    let mut first = [0_u64; 2];
    let mut slots = first.iter_mut();
    for frame in values {
        let v = read_u64(frame)?;
        if let Some(slot) = slots.next() {
            *slot = v;
        }
    }
    Ok((Event::from_parts(id, first, values.len()), local, remote))
}

/// The frames of one monitor message, borrowed from a
/// [`MonitorEvent`](super::MonitorEvent), as libzmq's monitor socket would
/// deliver them. Built by [`MonitorEvent::raw`](super::MonitorEvent::raw).
///
/// ```
/// use zmtp_core::monitor::{EndpointPair, Event, EventVersion, MonitorEvent};
/// let ev: MonitorEvent = MonitorEvent::new(Event::MonitorStopped, EndpointPair::none());
/// let raw = ev.raw(EventVersion::V2);
/// assert_eq!(raw.len(), 5);
/// let frames: Vec<&[u8]> = raw.frames().collect();
/// assert_eq!(frames[0], &[0x00, 0x04, 0, 0, 0, 0, 0, 0]); // id 0x0400
/// assert_eq!(frames[1], &[1, 0, 0, 0, 0, 0, 0, 0]); // one value
/// assert_eq!(frames[2], &[0; 8]); // value 0
/// assert_eq!(frames[3], b""); // local
/// assert_eq!(frames[4], b""); // remote
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RawMessage<'a> {
    inner: Raw<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Raw<'a> {
    Empty,
    V1 {
        header: [u8; V1_HEADER_LEN],
        endpoint: &'a str,
    },
    V2 {
        numbers: [[u8; V2_NUMBER_LEN]; V2_MAX_NUMBER_FRAMES],
        count: usize,
        local: &'a str,
        remote: &'a str,
    },
}

impl<'a> RawMessage<'a> {
    /// A message with no frames (what [`MonitorEvent::raw`](super::MonitorEvent::raw)
    /// returns for an event the version cannot carry).
    pub const EMPTY: Self = Self { inner: Raw::Empty };

    /// A version 1 message of `event` with `endpoint` as frame 2.
    ///
    /// # Errors
    ///
    /// As [`encode_v1`].
    pub fn v1(event: &Event, endpoint: &'a str) -> Result<Self, EncodeError> {
        Ok(Self {
            inner: Raw::V1 {
                header: encode_v1(event)?,
                endpoint,
            },
        })
    }

    /// A version 2 message of `event` with its local and remote endpoints.
    #[must_use]
    pub fn v2(event: &Event, local: &'a str, remote: &'a str) -> Self {
        let mut numbers = [[0; V2_NUMBER_LEN]; V2_MAX_NUMBER_FRAMES];
        let count = encode_v2_numbers(event, &mut numbers);
        Self {
            inner: Raw::V2 {
                numbers,
                count,
                local,
                remote,
            },
        }
    }

    /// The number of frames (2 for version 1, `4 + N` for version 2, 0 for
    /// [`RawMessage::EMPTY`]).
    #[must_use]
    pub const fn len(&self) -> usize {
        match self.inner {
            Raw::Empty => 0,
            Raw::V1 { .. } => V1_FRAME_COUNT,
            Raw::V2 { count, .. } => count.saturating_add(2),
        }
    }

    /// Whether the message has no frames.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frame `index`, or `None` past the end.
    #[must_use]
    pub fn frame(&self, index: usize) -> Option<&[u8]> {
        match &self.inner {
            Raw::Empty => None,
            Raw::V1 { header, endpoint } => match index {
                0 => Some(header.as_slice()),
                1 => Some(endpoint.as_bytes()),
                _ => None,
            },
            Raw::V2 {
                numbers,
                count,
                local,
                remote,
            } => {
                if index < *count {
                    numbers.get(index).map(<[u8; V2_NUMBER_LEN]>::as_slice)
                } else if index == *count {
                    Some(local.as_bytes())
                } else if Some(index) == count.checked_add(1) {
                    Some(remote.as_bytes())
                } else {
                    None
                }
            }
        }
    }

    /// Whether frame `index` is followed by another one (the ZMTP MORE
    /// flag).
    #[must_use]
    pub const fn is_more(&self, index: usize) -> bool {
        match index.checked_add(1) {
            Some(next) => next < self.len(),
            None => false,
        }
    }

    /// The total number of payload bytes over all frames.
    #[must_use]
    pub fn byte_len(&self) -> usize {
        self.frames()
            .map(<[u8]>::len)
            .fold(0, usize::saturating_add)
    }

    /// The frames in order.
    #[must_use]
    pub fn frames(&self) -> Frames<'_> {
        Frames { msg: self, next: 0 }
    }
}

impl<'m> IntoIterator for &'m RawMessage<'_> {
    type Item = &'m [u8];
    type IntoIter = Frames<'m>;
    fn into_iter(self) -> Frames<'m> {
        self.frames()
    }
}

/// Iterator over the frames of a [`RawMessage`].
#[derive(Debug, Clone)]
pub struct Frames<'m> {
    msg: &'m RawMessage<'m>,
    next: usize,
}

impl<'m> Iterator for Frames<'m> {
    type Item = &'m [u8];

    fn next(&mut self) -> Option<&'m [u8]> {
        let f = self.msg.frame(self.next)?;
        self.next = self.next.saturating_add(1);
        Some(f)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.msg.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Frames<'_> {}

impl core::iter::FusedIterator for Frames<'_> {}

#[cfg(test)]
mod tests {
    use super::super::{EndpointPair, EventVersion, MonitorEvent, errno, event_id};
    use super::*;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    fn frames_of(raw: &RawMessage<'_>) -> Vec<Vec<u8>> {
        raw.frames().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn golden_v1() {
        // CONNECT_DELAYED(EINPROGRESS): id 0x0002 LE, value 115 LE.
        assert_eq!(
            encode_v1(&Event::ConnectDelayed {
                errno: errno::EINPROGRESS
            }),
            Ok([0x02, 0x00, 0x73, 0x00, 0x00, 0x00])
        );
        // HANDSHAKE_FAILED_PROTOCOL(ZMTP_MECHANISM_MISMATCH 0x11000002).
        assert_eq!(
            encode_v1(&Event::HandshakeFailedProtocol { code: 0x1100_0002 }),
            Ok([0x00, 0x20, 0x02, 0x00, 0x00, 0x11])
        );
        // MONITOR_STOPPED: id 0x0400, value 0.
        assert_eq!(
            encode_v1(&Event::MonitorStopped),
            Ok([0x00, 0x04, 0x00, 0x00, 0x00, 0x00])
        );
        assert_eq!(
            encode_v1(&Event::PipesStats {
                egress: 0,
                ingress: 0
            }),
            Err(EncodeError::IdOutOfRange)
        );
        assert_eq!(
            encode_v1(&Event::Unknown {
                id: 0x8000,
                value: 1 << 32
            }),
            Err(EncodeError::ValueOutOfRange)
        );
    }

    #[test]
    fn golden_v1_message() {
        let ev: MonitorEvent = MonitorEvent::new(
            Event::Listening { fd: 9 },
            EndpointPair::bind("tcp://127.0.0.1:5555"),
        );
        let raw = ev.raw(EventVersion::V1);
        assert_eq!(raw.len(), 2);
        assert!(raw.is_more(0));
        assert!(!raw.is_more(1));
        let f = frames_of(&raw);
        assert_eq!(f[0], [0x08, 0x00, 0x09, 0x00, 0x00, 0x00]); // LISTENING, fd 9
        assert_eq!(f[1], b"tcp://127.0.0.1:5555");
        assert_eq!(raw.byte_len(), 6 + 20);

        // Connect side: v1 carries the remote endpoint.
        let ev: MonitorEvent = MonitorEvent::new(
            Event::Connected { fd: 10 },
            EndpointPair::connect_pair("tcp://127.0.0.1:40000", "tcp://127.0.0.1:5555"),
        );
        assert_eq!(
            frames_of(&ev.raw(EventVersion::V1))[1],
            b"tcp://127.0.0.1:5555"
        );

        // Not representable: empty message, and try_raw says why.
        let ev: MonitorEvent = MonitorEvent::new(
            Event::PipesStats {
                egress: 1,
                ingress: 2,
            },
            EndpointPair::none(),
        );
        assert!(ev.raw(EventVersion::V1).is_empty());
        assert_eq!(ev.raw(EventVersion::V1).frames().count(), 0);
        assert_eq!(ev.try_raw(EventVersion::V1), Err(EncodeError::IdOutOfRange));
    }

    #[test]
    fn golden_v2() {
        let ev: MonitorEvent = MonitorEvent::new(Event::MonitorStopped, EndpointPair::none());
        let raw = ev.raw(EventVersion::V2);
        let f = frames_of(&raw);
        assert_eq!(f.len(), 5);
        assert_eq!(f[0], [0x00, 0x04, 0, 0, 0, 0, 0, 0]); // id 0x0400
        assert_eq!(f[1], [0x01, 0, 0, 0, 0, 0, 0, 0]); // N = 1
        assert_eq!(f[2], [0; 8]); // value 0
        assert!(f[3].is_empty()); // local ""
        assert!(f[4].is_empty()); // remote ""
        assert!((0..4).all(|i| raw.is_more(i)));
        assert!(!raw.is_more(4));
        assert_eq!(raw.frame(5), None);

        let ev: MonitorEvent = MonitorEvent::new(
            Event::PipesStats {
                egress: 500,
                ingress: 0,
            },
            EndpointPair::bind_pair("tcp://127.0.0.1:5555", "tcp://127.0.0.1:40000"),
        );
        let f = frames_of(&ev.raw(EventVersion::V2));
        assert_eq!(f.len(), 6);
        assert_eq!(f[0], [0x00, 0x00, 0x01, 0, 0, 0, 0, 0]); // id 0x10000
        assert_eq!(f[1], [0x02, 0, 0, 0, 0, 0, 0, 0]); // N = 2
        assert_eq!(f[2], [0xF4, 0x01, 0, 0, 0, 0, 0, 0]); // egress 500
        assert_eq!(f[3], [0; 8]); // ingress 0
        assert_eq!(f[4], b"tcp://127.0.0.1:5555");
        assert_eq!(f[5], b"tcp://127.0.0.1:40000");

        // CONNECT_RETRIED: local "", remote the connect endpoint.
        let ev: MonitorEvent = MonitorEvent::new(
            Event::ConnectRetried { interval_ms: 190 },
            EndpointPair::connect("tcp://localhost:5556"),
        );
        let f = frames_of(&ev.raw(EventVersion::V2));
        assert_eq!(f[0], [0x04, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(f[2], [190, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(f[3], b"");
        assert_eq!(f[4], b"tcp://localhost:5556");
    }

    #[test]
    fn encode_v2_numbers_zeroes_unused() {
        let mut out = [[0xAA; 8]; 4];
        assert_eq!(encode_v2_numbers(&Event::HandshakeSucceeded, &mut out), 3);
        assert_eq!(out[0], event_id::HANDSHAKE_SUCCEEDED.to_le_bytes());
        assert_eq!(out[1], 1_u64.to_le_bytes());
        assert_eq!(out[2], [0; 8]);
        assert_eq!(out[3], [0; 8]);
    }

    #[test]
    fn decode_errors() {
        assert_eq!(decode_v1(&[]), Err(DecodeError::WrongFrameCount));
        assert_eq!(decode_v1(&[&[0; 6]]), Err(DecodeError::WrongFrameCount));
        assert_eq!(
            decode_v1(&[&[0; 6], b"", b""]),
            Err(DecodeError::WrongFrameCount)
        );
        assert_eq!(decode_v1(&[&[0; 8], b""]), Err(DecodeError::WrongFrameSize));
        assert_eq!(
            decode_v2(&[&[0; 8], &[0; 8], b""]),
            Err(DecodeError::WrongFrameCount)
        );
        assert_eq!(
            decode_v2(&[&[0; 7], &[0; 8], b"", b""]),
            Err(DecodeError::WrongFrameSize)
        );
        let one = 1_u64.to_le_bytes();
        assert_eq!(
            decode_v2(&[&[0; 8], &one, b"", b""]),
            Err(DecodeError::ValueCountMismatch)
        );
        assert_eq!(
            decode_v2(&[&[0; 8], &one, &[0; 4], b"", b""]),
            Err(DecodeError::WrongFrameSize)
        );
        // Zero values: allowed by the layout, an Unknown event.
        let id = event_id::CONNECTED.to_le_bytes();
        assert_eq!(
            decode_v2(&[&id, &[0; 8], b"a", b"b"]),
            Ok((
                Event::Unknown {
                    id: event_id::CONNECTED,
                    value: 0
                },
                &b"a"[..],
                &b"b"[..]
            ))
        );
    }

    #[test]
    fn decode_golden() {
        let (e, ep) = decode_v1(&[
            &[0x02, 0x00, 0x73, 0x00, 0x00, 0x00],
            b"tcp://127.0.0.1:6666",
        ])
        .unwrap();
        assert_eq!(e, Event::ConnectDelayed { errno: 115 });
        assert_eq!(ep, b"tcp://127.0.0.1:6666");
        let (e, _) = decode_v1(&[&[0x00, 0x80, 0x05, 0x00, 0x00, 0x00], b""]).unwrap();
        assert_eq!(
            e,
            Event::Unknown {
                id: 0x8000,
                value: 5
            }
        );
    }

    fn any_event() -> impl Strategy<Value = Event> {
        prop_oneof![
            any::<u32>().prop_map(|fd| Event::Connected { fd }),
            any::<u32>().prop_map(|errno| Event::ConnectDelayed { errno }),
            any::<u32>().prop_map(|interval_ms| Event::ConnectRetried { interval_ms }),
            any::<u32>().prop_map(|fd| Event::Listening { fd }),
            any::<u32>().prop_map(|errno| Event::BindFailed { errno }),
            any::<u32>().prop_map(|fd| Event::Accepted { fd }),
            any::<u32>().prop_map(|errno| Event::AcceptFailed { errno }),
            any::<u32>().prop_map(|fd| Event::Closed { fd }),
            any::<u32>().prop_map(|errno| Event::CloseFailed { errno }),
            any::<u32>().prop_map(|fd| Event::Disconnected { fd }),
            Just(Event::MonitorStopped),
            any::<u32>().prop_map(|errno| Event::HandshakeFailedNoDetail { errno }),
            Just(Event::HandshakeSucceeded),
            any::<u32>().prop_map(|code| Event::HandshakeFailedProtocol { code }),
            any::<u32>().prop_map(|status| Event::HandshakeFailedAuth { status }),
            (any::<u64>(), any::<u64>())
                .prop_map(|(egress, ingress)| Event::PipesStats { egress, ingress }),
            // Canonical unknowns: ids this crate does not know.
            (any::<u64>(), any::<u64>())
                .prop_filter("known id", |(id, _)| !event_id::KNOWN.contains(id))
                .prop_map(|(id, value)| Event::Unknown { id, value }),
        ]
    }

    proptest! {
        #[test]
        fn v2_round_trip(e in any_event(), local in "[ -~]{0,70}", remote in "[ -~]{0,70}") {
            let ev: MonitorEvent = MonitorEvent::new(e, EndpointPair::connect_pair(&local, &remote));
            let raw = ev.raw(EventVersion::V2);
            prop_assert_eq!(raw.len(), raw.frames().len());
            let frames: Vec<&[u8]> = raw.frames().collect();
            let (d, l, r) = decode_v2(&frames).unwrap();
            prop_assert_eq!(d, e);
            prop_assert_eq!(l, ev.endpoints.local().as_bytes());
            prop_assert_eq!(r, ev.endpoints.remote().as_bytes());
        }

        #[test]
        fn v1_round_trip(e in any_event(), ep in "[ -~]{0,70}") {
            let ev: MonitorEvent = MonitorEvent::new(e, EndpointPair::bind(&ep));
            match ev.try_raw(EventVersion::V1) {
                Ok(raw) => {
                    let frames: Vec<&[u8]> = raw.frames().collect();
                    let (d, got_ep) = decode_v1(&frames).unwrap();
                    prop_assert_eq!(d, e);
                    prop_assert_eq!(got_ep, ev.endpoints.local().as_bytes());
                }
                Err(_) => {
                    prop_assert!(e.id() > 0xFFFF || e.value() > u64::from(u32::MAX));
                }
            }
        }

        #[test]
        fn v1_bytes_round_trip(header in any::<[u8; 6]>(), ep in proptest::collection::vec(any::<u8>(), 0..20)) {
            // Decoding then encoding any 6-byte header gives it back.
            let (e, got) = decode_v1(&[&header, &ep]).unwrap();
            prop_assert_eq!(got, &ep[..]);
            prop_assert_eq!(encode_v1(&e), Ok(header));
        }

        #[test]
        fn decode_never_panics(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 0..8)) {
            let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            let _ = decode_v1(&refs);
            if let Ok((e, _, _)) = decode_v2(&refs) {
                let mut out = [[0; 8]; 4];
                let _ = encode_v2_numbers(&e, &mut out);
            }
        }

        #[test]
        fn decode_v2_numeric_frames(id in any::<u64>(), count in 0_u64..6, vals in proptest::collection::vec(any::<u64>(), 0..6)) {
            let id_b = id.to_le_bytes();
            let count_b = count.to_le_bytes();
            let val_b: Vec<[u8; 8]> = vals.iter().map(|v| v.to_le_bytes()).collect();
            let mut refs: Vec<&[u8]> = vec![&id_b, &count_b];
            refs.extend(val_b.iter().map(|b| b.as_slice()));
            refs.push(b"l");
            refs.push(b"r");
            match decode_v2(&refs) {
                Ok((e, l, r)) => {
                    prop_assert_eq!(usize::try_from(count).unwrap(), vals.len());
                    prop_assert_eq!(e, Event::from_id_value(id, &vals));
                    prop_assert_eq!((l, r), (&b"l"[..], &b"r"[..]));
                }
                Err(err) => {
                    prop_assert_eq!(err, DecodeError::ValueCountMismatch);
                    prop_assert_ne!(usize::try_from(count).unwrap(), vals.len());
                }
            }
        }
    }
}
