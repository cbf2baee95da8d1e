//! Bytes the raw peer sends, built by hand from RFC 23 / RFC 37 and kept
//! independent of `zmtp-core`, so a capture never depends on the code it
//! is used to check.

/// Size of a greeting (RFC 23 "Greeting").
pub const GREETING_LEN: usize = 64;

/// Size of the greeting signature (RFC 23: `%xFF padding %x7F`).
pub const SIGNATURE_LEN: usize = 10;

/// Frame flag: another frame of the same message follows (RFC 23 "Framing").
pub const FLAG_MORE: u8 = 0x01;
/// Frame flag: the size field is 8 bytes (RFC 23 "Framing").
pub const FLAG_LONG: u8 = 0x02;
/// Frame flag: the frame is a command (RFC 23 "Framing").
pub const FLAG_COMMAND: u8 = 0x04;

/// A ZMTP 3.`minor` greeting for the NULL mechanism, not as server:
/// `FF 00*8 01 7F 03 minor "NULL" 00*16 00 00*31`.
///
/// The padding is libzmq's: the big-endian `u64` 1 (an empty routing id
/// plus one).
#[must_use]
pub fn greeting(minor: u8) -> [u8; GREETING_LEN] {
    let mut g = [0u8; GREETING_LEN];
    let head = [0xFF, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x7F, 0x03, minor];
    let (front, rest) = g.split_at_mut(head.len());
    front.copy_from_slice(&head);
    // Mechanism "NULL" padded with zeros to 20 bytes; as-server 0; filler 0.
    if let Some(mech) = rest.get_mut(..4) {
        mech.copy_from_slice(b"NULL");
    }
    g
}

/// A frame: flags, size (one byte, or LONG with 8 big-endian bytes above
/// 255), body.
#[must_use]
pub fn frame(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len().saturating_add(9));
    match u8::try_from(body.len()) {
        Ok(len) => {
            out.push(flags);
            out.push(len);
        }
        Err(_) => {
            out.push(flags | FLAG_LONG);
            let len = u64::try_from(body.len()).unwrap_or(u64::MAX);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(body);
    out
}

/// A data frame with MORE set or not.
#[must_use]
pub fn data_frame(more: bool, body: &[u8]) -> Vec<u8> {
    frame(if more { FLAG_MORE } else { 0 }, body)
}

/// A command frame around a command body.
#[must_use]
pub fn command_frame(body: &[u8]) -> Vec<u8> {
    frame(FLAG_COMMAND, body)
}

/// A command body: name length, name, data. Names longer than 255 bytes
/// are cut to 255 (every name used here is short).
#[must_use]
pub fn command(name: &[u8], data: &[u8]) -> Vec<u8> {
    let len = u8::try_from(name.len()).unwrap_or(u8::MAX);
    let mut out = Vec::with_capacity(name.len().saturating_add(data.len()).saturating_add(1));
    out.push(len);
    out.extend_from_slice(name.get(..usize::from(len)).unwrap_or(name));
    out.extend_from_slice(data);
    out
}

/// One metadata property: name length, name, 4-byte big-endian value
/// length, value (RFC 23 "metadata").
fn property(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(name);
    let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
}

/// A READY command body: `Socket-Type`, then `Identity` if given.
#[must_use]
pub fn ready(socket_type: &str, identity: Option<&[u8]>) -> Vec<u8> {
    let mut props = Vec::new();
    property(&mut props, b"Socket-Type", socket_type.as_bytes());
    if let Some(id) = identity {
        property(&mut props, b"Identity", id);
    }
    command(b"READY", &props)
}

/// A PING command body: TTL in deciseconds (big-endian `u16`), context.
#[must_use]
pub fn ping(ttl_ds: u16, context: &[u8]) -> Vec<u8> {
    let mut data = ttl_ds.to_be_bytes().to_vec();
    data.extend_from_slice(context);
    command(b"PING", &data)
}

/// A PONG command body echoing `context`.
#[must_use]
pub fn pong(context: &[u8]) -> Vec<u8> {
    command(b"PONG", context)
}

/// A deterministic body of `len` bytes: `0x00, 0x01, … 0xFF, 0x00, …`.
#[must_use]
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 256) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_is_the_spec_layout() {
        let g = greeting(1);
        let mut want = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1];
        want.extend_from_slice(b"NULL");
        want.extend_from_slice(&[0; 16]);
        want.push(0);
        want.extend_from_slice(&[0; 31]);
        assert_eq!(g.to_vec(), want);
    }

    #[test]
    fn frames_switch_to_long_above_255() {
        assert_eq!(data_frame(false, &[]), [0, 0]);
        assert_eq!(data_frame(true, &[7]), [1, 1, 7]);
        assert_eq!(
            &data_frame(false, &pattern(256))[..9],
            [2, 0, 0, 0, 0, 0, 0, 1, 0]
        );
        assert_eq!(&command_frame(&pattern(255))[..2], [4, 255]);
    }

    #[test]
    fn ping_matches_libzmq_test_vector() {
        // libzmq tests/test_heartbeats.cpp
        assert_eq!(
            command_frame(&ping(0, b"LOL")),
            b"\x04\x0a\x04PING\x00\x00LOL"
        );
        assert_eq!(command_frame(&pong(b"LOL")), b"\x04\x08\x04PONGLOL");
    }
}
