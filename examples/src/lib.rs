//! Runnable examples for the zmtp crates (see `examples/`), and what they
//! share.

/// Whether the event names `got` follow `expected`, libzmq's flow notation
/// from the `zmq_socket_monitor` man page and its tests: a name ending in
/// `?` may be absent, and `...` stands for any events.
///
/// ```
/// use zmtp_examples::matches_flow;
/// let flow = ["CONNECT_DELAYED?", "CONNECTED", "...", "MONITOR_STOPPED"];
/// assert!(matches_flow(&["CONNECTED", "MONITOR_STOPPED"], &flow));
/// assert!(matches_flow(&["CONNECT_DELAYED", "CONNECTED", "DISCONNECTED", "MONITOR_STOPPED"], &flow));
/// assert!(!matches_flow(&["CONNECTED"], &flow));
/// ```
#[must_use]
pub fn matches_flow(got: &[&str], expected: &[&str]) -> bool {
    match expected.split_first() {
        None => got.is_empty(),
        Some((&"...", rest)) => {
            (0..=got.len()).any(|i| matches_flow(got.get(i..).unwrap_or_default(), rest))
        }
        Some((want, rest)) => {
            let tail = got.get(1..).unwrap_or_default();
            match want.strip_suffix('?') {
                Some(name) => {
                    (got.first() == Some(&name) && matches_flow(tail, rest))
                        || matches_flow(got, rest)
                }
                None => got.first() == Some(want) && matches_flow(tail, rest),
            }
        }
    }
}
