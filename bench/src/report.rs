//! The tools' output, in the format of libzmq's `perf/` programs, and the
//! parser the sweep reads it back with.

use core::time::Duration;

/// The line a local tool prints once it is bound: this prefix and the
/// endpoint peers should connect to.
pub const BOUND_PREFIX: &str = "bound: ";

/// A throughput run as the receiver measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    /// Message size in bytes.
    pub size: usize,
    /// Messages received.
    pub count: u64,
    /// From the first message received to the last.
    pub elapsed: Duration,
}

impl Throughput {
    /// Messages per second, libzmq's formula: `count / elapsed` (the first
    /// message starts the clock but is counted).
    #[must_use]
    pub fn msg_per_sec(&self) -> f64 {
        let us = self.elapsed.as_secs_f64().max(1e-6);
        as_f64(self.count) / us
    }

    /// Megabits per second (`msg/s x size x 8 / 10^6`).
    #[must_use]
    pub fn megabits(&self) -> f64 {
        self.msg_per_sec() * as_f64(self.size as u64) * 8.0 / 1e6
    }

    /// libzmq `local_thr`'s four lines.
    #[must_use]
    pub fn render(&self) -> String {
        format!(
            "message size: {} [B]\nmessage count: {}\nmean throughput: {:.0} [msg/s]\nmean throughput: {:.3} [Mb/s]",
            self.size,
            self.count,
            self.msg_per_sec(),
            self.megabits()
        )
    }
}

/// A latency run as the requester measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latency {
    /// Message size in bytes.
    pub size: usize,
    /// Request/reply round trips.
    pub roundtrips: u64,
    /// From before the first request to after the last reply.
    pub elapsed: Duration,
}

impl Latency {
    /// One-way latency in microseconds: `elapsed / (2 x roundtrips)`.
    #[must_use]
    pub fn one_way_us(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1e6 / (2.0 * as_f64(self.roundtrips.max(1)))
    }

    /// libzmq `remote_lat`'s three lines.
    #[must_use]
    pub fn render(&self) -> String {
        format!(
            "message size: {} [B]\nroundtrip count: {}\naverage latency: {:.3} [us]",
            self.size,
            self.roundtrips,
            self.one_way_us()
        )
    }
}

/// Counts are far below 2^52: the conversion is exact.
#[expect(
    clippy::cast_precision_loss,
    reason = "message counts and sizes are far below 2^52"
)]
fn as_f64(n: u64) -> f64 {
    n as f64
}

/// The figure a line `<label>: <number> [<unit>]` carries, if `line` is one.
#[must_use]
pub fn parse_figure(line: &str, label: &str, unit: &str) -> Option<f64> {
    let rest = line.trim().strip_prefix(label)?.strip_prefix(':')?;
    let rest = rest.trim().strip_suffix(&format!("[{unit}]"))?;
    rest.trim().parse().ok()
}

/// Throughput in msg/s and Mb/s from a `local_thr` output.
#[must_use]
pub fn parse_throughput(output: &str) -> Option<(f64, f64)> {
    let msgs = output
        .lines()
        .find_map(|l| parse_figure(l, "mean throughput", "msg/s"))?;
    let mbps = output
        .lines()
        .find_map(|l| parse_figure(l, "mean throughput", "Mb/s"))?;
    Some((msgs, mbps))
}

/// One-way latency in microseconds from a `remote_lat` output.
#[must_use]
pub fn parse_latency(output: &str) -> Option<f64> {
    output
        .lines()
        .find_map(|l| parse_figure(l, "average latency", "us"))
}

/// The endpoint of a `bound: ` line.
#[must_use]
pub fn parse_bound(line: &str) -> Option<&str> {
    line.trim().strip_prefix(BOUND_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_round_trip() {
        let t = Throughput {
            size: 10,
            count: 1_000_000,
            elapsed: Duration::from_millis(500),
        };
        let text = t.render();
        assert!(text.contains("mean throughput: 2000000 [msg/s]"), "{text}");
        assert!(text.contains("mean throughput: 160.000 [Mb/s]"), "{text}");
        assert_eq!(parse_throughput(&text), Some((2_000_000.0, 160.0)));
    }

    #[test]
    fn latency_round_trip() {
        let l = Latency {
            size: 10,
            roundtrips: 10_000,
            elapsed: Duration::from_millis(800),
        };
        let text = l.render();
        assert!(text.contains("average latency: 40.000 [us]"), "{text}");
        assert_eq!(parse_latency(&text), Some(40.0));
    }

    #[test]
    fn bound_line() {
        assert_eq!(
            parse_bound("bound: tcp://127.0.0.1:5555\n"),
            Some("tcp://127.0.0.1:5555")
        );
        assert_eq!(parse_bound("message size: 10 [B]"), None);
    }
}
