//! Metadata property lists (READY / INITIATE bodies) on arbitrary bytes.
//!
//! Invariants:
//! - nothing panics;
//! - a list that parses keeps the input whole and iterates over its
//!   complete properties, whatever the names (libzmq ignores a last name or
//!   value length left without its value);
//! - `get` returns the value of the first case-insensitive match and
//!   `get_exact` of the first exact match;
//! - re-encoding the iterated pairs with `PropertiesWriter` gives back the
//!   list, through `extend` always, pair by pair when every name is one the
//!   writer accepts (RFC grammar), and refuses a buffer one byte too small
//!   without writing past what fits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zmtp_core::wire::metadata::{is_valid_name, property_len};
use zmtp_core::wire::{Error, Properties, PropertiesWriter};

fuzz_target!(|data: &[u8]| {
    let props = match Properties::parse(data) {
        Ok(props) => props,
        Err(e) => {
            assert_eq!(e, Error::Truncated);
            return;
        }
    };
    assert_eq!(props.as_bytes(), data);
    let pairs: Vec<(&[u8], &[u8])> = props.iter().collect();
    let total: usize = pairs.iter().map(|(n, v)| property_len(n, v)).sum();
    // The complete properties, then at most an ignored name or value
    // length (1 + 255 + 4 bytes).
    assert!(total <= data.len() && data.len() - total <= 260);
    let data = &data[..total];
    let props = Properties::parse(data).unwrap();
    assert_eq!(props.iter().collect::<Vec<_>>(), pairs);

    for (i, (name, value)) in pairs.iter().enumerate() {
        // First case-insensitive and first exact match.
        let first_ci = pairs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
        let first_exact = pairs.iter().find(|(n, _)| n == name);
        assert_eq!(props.get(name), first_ci.map(|(_, v)| *v));
        assert_eq!(props.get_exact(name), first_exact.map(|(_, v)| *v));
        if pairs[..i]
            .iter()
            .all(|(n, _)| !n.eq_ignore_ascii_case(name))
        {
            assert_eq!(props.get(name), Some(*value));
        }
        // Case-folded lookups find the same entry through `get` only.
        let upper = name.to_ascii_uppercase();
        assert_eq!(props.get(&upper), first_ci.map(|(_, v)| *v));
    }
    if !pairs.iter().any(|(n, _)| n.is_empty()) {
        assert_eq!(props.get(b""), None);
        assert_eq!(props.get_exact(b""), None);
    }

    // Through extend.
    let mut out = vec![0u8; data.len()];
    let mut w = PropertiesWriter::new(&mut out);
    assert_eq!(w.extend(props), Ok(()));
    assert_eq!(w.properties().as_bytes(), data);

    if !pairs.iter().all(|(n, _)| is_valid_name(n)) {
        return;
    }
    // Pair by pair.
    let mut out = vec![0u8; data.len()];
    let mut w = PropertiesWriter::new(&mut out);
    for (name, value) in &pairs {
        assert_eq!(w.add(name, value), Ok(()));
    }
    assert_eq!(w.len(), data.len());
    assert_eq!(w.properties(), props);
    assert_eq!(out, data);

    // One byte short: the last pair is refused, everything before it fits.
    if let Some((last, init)) = pairs.split_last() {
        let mut small = vec![0u8; data.len() - 1];
        let mut w = PropertiesWriter::new(&mut small);
        for (name, value) in init {
            assert_eq!(w.add(name, value), Ok(()));
        }
        assert_eq!(w.add(last.0, last.1), Err(Error::BufferTooSmall));
        assert_eq!(w.len(), data.len() - property_len(last.0, last.1));
        assert_eq!(w.extend(props), Err(Error::BufferTooSmall));
    }
});
