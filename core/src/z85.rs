//! Z85, ZeroMQ's base-85 text encoding (RFC 32), exactly as libzmq's
//! `zmq_z85_encode` / `zmq_z85_decode` (`zmq_utils.cpp`): 4 bytes become 5
//! characters of an 85-character alphabet, most significant first. CURVE
//! keys are 32 bytes, so their text form is 40 characters
//! ([`KEY_TEXT_LEN`]).
//!
//! Like libzmq, the decoder accepts only the 85 alphabet characters (no
//! whitespace, no case folding) and refuses a group whose value exceeds
//! `0xFFFFFFFF`.
//!
//! ```
//! use zmtp_core::z85;
//!
//! // The test vector of RFC 32.
//! let bytes = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
//! let mut text = [0u8; 10];
//! assert_eq!(z85::encode(&bytes, &mut text)?, 10);
//! assert_eq!(&text, b"HelloWorld");
//! let mut back = [0u8; 8];
//! assert_eq!(z85::decode(b"HelloWorld", &mut back)?, 8);
//! assert_eq!(back, bytes);
//! # Ok::<(), zmtp_core::z85::Z85Error>(())
//! ```

/// The Z85 alphabet (RFC 32), index = digit value.
pub const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Length of a 32-byte key in Z85 text.
pub const KEY_TEXT_LEN: usize = 40;

/// The value of a Z85 digit.
fn digit(c: u8) -> Option<u8> {
    ALPHABET
        .iter()
        .position(|&a| a == c)
        .and_then(|p| u8::try_from(p).ok())
}

/// Why Z85 text or bytes were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Z85Error {
    /// Bytes to encode must be a multiple of 4 long; text to decode a
    /// non-zero multiple of 5 (libzmq `EINVAL`).
    BadLength,
    /// A character outside the alphabet, or a 5-character group above
    /// `0xFFFFFFFF` (libzmq `EINVAL`).
    BadCharacter,
    /// The output buffer is too short.
    BufferTooSmall,
}

impl core::fmt::Display for Z85Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::BadLength => "Z85 length is not a multiple of 4 bytes / 5 characters",
            Self::BadCharacter => "invalid Z85 text",
            Self::BufferTooSmall => "Z85 output buffer too small",
        })
    }
}

impl core::error::Error for Z85Error {}

/// Encodes `data` (a multiple of 4 bytes) into `out` and returns the text
/// length, `data.len() * 5 / 4` (no NUL terminator is written).
///
/// # Errors
///
/// [`Z85Error::BadLength`] if `data.len()` is not a multiple of 4,
/// [`Z85Error::BufferTooSmall`] if `out` is shorter than the text.
pub fn encode(data: &[u8], out: &mut [u8]) -> Result<usize, Z85Error> {
    if !data.len().is_multiple_of(4) {
        return Err(Z85Error::BadLength);
    }
    let len = (data.len() / 4)
        .checked_mul(5)
        .ok_or(Z85Error::BufferTooSmall)?;
    let out = out.get_mut(..len).ok_or(Z85Error::BufferTooSmall)?;
    for (group, text) in data.chunks_exact(4).zip(out.chunks_exact_mut(5)) {
        let mut value = group
            .iter()
            .fold(0u32, |acc, &b| acc.wrapping_shl(8) | u32::from(b));
        for slot in text.iter_mut().rev() {
            let digit = usize::try_from(value % 85).unwrap_or(0);
            *slot = ALPHABET.get(digit).copied().unwrap_or(b'0');
            value /= 85;
        }
    }
    Ok(len)
}

/// Decodes Z85 `text` (a non-zero multiple of 5 characters) into `out` and
/// returns the byte length, `text.len() * 4 / 5`.
///
/// # Errors
///
/// [`Z85Error::BadLength`] for an empty text or one that is not a multiple
/// of 5 long, [`Z85Error::BadCharacter`] for a character outside the
/// alphabet or a group above `0xFFFFFFFF`, [`Z85Error::BufferTooSmall`] if
/// `out` is too short. Nothing is guaranteed about `out` on error.
pub fn decode(text: &[u8], out: &mut [u8]) -> Result<usize, Z85Error> {
    if text.is_empty() || !text.len().is_multiple_of(5) {
        return Err(Z85Error::BadLength);
    }
    let len = (text.len() / 5)
        .checked_mul(4)
        .ok_or(Z85Error::BufferTooSmall)?;
    let out = out.get_mut(..len).ok_or(Z85Error::BufferTooSmall)?;
    for (group, bytes) in text.chunks_exact(5).zip(out.chunks_exact_mut(4)) {
        let mut value = 0u64;
        for &c in group {
            let d = digit(c).ok_or(Z85Error::BadCharacter)?;
            value = value.saturating_mul(85).saturating_add(u64::from(d));
        }
        let value = u32::try_from(value).map_err(|_| Z85Error::BadCharacter)?;
        bytes.copy_from_slice(&value.to_be_bytes());
    }
    Ok(len)
}

/// Decodes a 40-character Z85 key into its 32 bytes.
///
/// # Errors
///
/// [`Z85Error::BadLength`] unless `text` is exactly [`KEY_TEXT_LEN`]
/// characters, [`Z85Error::BadCharacter`] as [`decode`].
pub fn decode_key(text: &[u8]) -> Result<[u8; 32], Z85Error> {
    if text.len() != KEY_TEXT_LEN {
        return Err(Z85Error::BadLength);
    }
    let mut key = [0u8; 32];
    decode(text, &mut key)?;
    Ok(key)
}

/// Encodes a 32-byte key as its 40 Z85 characters.
#[must_use]
pub fn encode_key(key: &[u8; 32]) -> [u8; KEY_TEXT_LEN] {
    let mut text = [0u8; KEY_TEXT_LEN];
    // 32 is a multiple of 4 and the output is exactly 40 bytes.
    let _ = encode(key, &mut text);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc32_vector() {
        let bytes = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
        let mut text = [0u8; 10];
        assert_eq!(encode(&bytes, &mut text), Ok(10));
        assert_eq!(&text, b"HelloWorld");
        let mut back = [0u8; 8];
        assert_eq!(decode(&text, &mut back), Ok(8));
        assert_eq!(back, bytes);
    }

    #[test]
    fn manual_page_keys_round_trip() {
        // The example key pairs of the zmq_curve(7) manual page.
        for key in [
            &b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"[..],
            b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6",
            b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID",
            b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs",
        ] {
            let bytes = decode_key(key).unwrap();
            assert_eq!(&encode_key(&bytes)[..], key);
        }
    }

    #[test]
    fn refusals() {
        let mut out = [0u8; 8];
        assert_eq!(decode(b"", &mut out), Err(Z85Error::BadLength));
        assert_eq!(decode(b"Hell", &mut out), Err(Z85Error::BadLength));
        assert_eq!(decode(b"Hell\"", &mut out), Err(Z85Error::BadCharacter));
        assert_eq!(decode(b"Hell ", &mut out), Err(Z85Error::BadCharacter));
        assert_eq!(decode(b"Hell\x7f", &mut out), Err(Z85Error::BadCharacter));
        // 85^5 - 1 > u32::MAX: "#####" is refused, "%nSc0" = 0xFFFFFFFF is not.
        assert_eq!(decode(b"#####", &mut out), Err(Z85Error::BadCharacter));
        assert_eq!(decode(b"%nSc0", &mut out), Ok(4));
        assert_eq!(out[..4], [0xFF; 4]);
        assert_eq!(decode(b"%nSc1", &mut out), Err(Z85Error::BadCharacter));
        assert_eq!(
            decode(b"HelloWorld", &mut out[..7]),
            Err(Z85Error::BufferTooSmall)
        );
        assert_eq!(encode(b"abc", &mut out), Err(Z85Error::BadLength));
        assert_eq!(
            encode(b"abcd", &mut out[..4]),
            Err(Z85Error::BufferTooSmall)
        );
        assert_eq!(decode_key(b"HelloWorld"), Err(Z85Error::BadLength));
    }

    #[test]
    fn round_trip_all_byte_values() {
        let data: std::vec::Vec<u8> = (0..=255u8).collect();
        let mut text = [0u8; 320];
        assert_eq!(encode(&data, &mut text), Ok(320));
        assert!(text.iter().all(|c| ALPHABET.contains(c)));
        let mut back = [0u8; 256];
        assert_eq!(decode(&text, &mut back), Ok(256));
        assert_eq!(&back[..], &data[..]);
    }
}
