//! The tool's output lines: one JSON object per line (RFC 8259 escaping).

use core::fmt::Write as _;

/// Appends `s` as a JSON string literal: quotes and backslashes escaped,
/// control characters (U+0000 to U+001F) as `\n`, `\t`, ... or `\u00XX`;
/// every other character as is (the output is UTF-8).
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends one message frame: a JSON string when the bytes are valid UTF-8,
/// otherwise `{"hex":"..."}` (lower-case, two digits per byte).
pub(crate) fn push_frame(out: &mut String, bytes: &[u8]) {
    if let Ok(s) = core::str::from_utf8(bytes) {
        push_str(out, s);
    } else {
        out.push_str("{\"hex\":\"");
        for b in bytes {
            let _ = write!(out, "{b:02x}");
        }
        out.push_str("\"}");
    }
}

/// `{"bound":"<endpoint>"}`
pub(crate) fn bound(endpoint: &str) -> String {
    let mut out = String::from("{\"bound\":");
    push_str(&mut out, endpoint);
    out.push('}');
    out
}

/// `{"event":"<NAME>","id":<id>,"value":<value>,"endpoint":"<endpoint>"}`
pub(crate) fn event(name: &str, id: u64, value: u64, endpoint: &str) -> String {
    let mut out = String::from("{\"event\":");
    push_str(&mut out, name);
    let _ = write!(out, ",\"id\":{id},\"value\":{value},\"endpoint\":");
    push_str(&mut out, endpoint);
    out.push('}');
    out
}

/// `{"recv":[<frame>, ...]}`
pub(crate) fn recv<F: AsRef<[u8]>>(frames: &[F]) -> String {
    let mut out = String::from("{\"recv\":[");
    for (i, f) in frames.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_frame(&mut out, f.as_ref());
    }
    out.push_str("]}");
    out
}

/// `{"public":"<Z85>","secret":"<Z85>"}` (`zmtp keygen`).
#[cfg(feature = "curve")]
pub(crate) fn keypair(public: &str, secret: &str) -> String {
    let mut out = String::from("{\"public\":");
    push_str(&mut out, public);
    out.push_str(",\"secret\":");
    push_str(&mut out, secret);
    out.push('}');
    out
}

/// `{"sent":<n>}`
pub(crate) fn sent(n: u64) -> String {
    format!("{{\"sent\":{n}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> String {
        let mut out = String::new();
        push_str(&mut out, s);
        out
    }

    #[test]
    fn escapes() {
        assert_eq!(lit(""), r#""""#);
        assert_eq!(lit("plain"), r#""plain""#);
        assert_eq!(lit("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(lit("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(lit("\u{0}\u{1}\u{1f}"), r#""\u0000\u0001\u001f""#);
        assert_eq!(lit("\u{7f}é€😀/"), "\"\u{7f}é€😀/\"");
        assert_eq!(lit("\u{2028}"), "\"\u{2028}\"");
    }

    #[test]
    fn frames() {
        let mut out = String::new();
        push_frame(&mut out, b"hi");
        push_frame(&mut out, &[0x00, 0xff, 0x10]);
        push_frame(&mut out, b"");
        assert_eq!(out, r#""hi"{"hex":"00ff10"}"""#);
    }

    #[test]
    fn lines() {
        assert_eq!(
            bound("tcp://127.0.0.1:5555"),
            r#"{"bound":"tcp://127.0.0.1:5555"}"#
        );
        assert_eq!(
            event("CONNECTED", 1, 7, "tcp://127.0.0.1:5555"),
            r#"{"event":"CONNECTED","id":1,"value":7,"endpoint":"tcp://127.0.0.1:5555"}"#
        );
        assert_eq!(
            recv(&[b"a".to_vec(), vec![0xfe]]),
            r#"{"recv":["a",{"hex":"fe"}]}"#
        );
        let none: [&[u8]; 0] = [];
        assert_eq!(recv(&none), r#"{"recv":[]}"#);
        assert_eq!(sent(3), r#"{"sent":3}"#);
    }
}
