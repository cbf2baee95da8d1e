//! The sweep: every stack, transport and size, each run as two processes
//! (the receiver first, then the sender once the receiver printed its bound
//! endpoint), as libzmq's tools are run. Prints tables of medians.
//!
//! It is a benchmark: a figure never fails it. It exits non-zero only when a
//! run breaks (a tool fails, prints no figure, or does not finish in time).

use core::fmt::Write as _;
use core::time::Duration;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime};

use crate::Result;
use crate::cli::{Stack, Tool};
use crate::report;

/// Sizes of the full sweep (bytes).
pub const SIZES: [usize; 4] = [10, 100, 1024, 64 * 1024];
/// The size the raw-stream throughput reference is measured at.
pub const RAW_THR_SIZE: usize = 64 * 1024;
/// Runs of each configuration in the full sweep (the table shows medians).
pub const REPEATS: usize = 3;

/// Whether a run measures throughput or latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `local_thr` / `remote_thr`.
    Thr,
    /// `local_lat` / `remote_lat`.
    Lat,
}

/// The transport of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// `tcp://127.0.0.1`.
    Tcp,
    /// `ipc://` (Unix domain sockets).
    Ipc,
}

impl Transport {
    /// `tcp` or `ipc`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Ipc => "ipc",
        }
    }
}

/// Who talks to whom: the stack of the connecting side (sender, requester)
/// and of the binding side (receiver, replier).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pair {
    /// `remote_thr` / `remote_lat`.
    pub remote: Stack,
    /// `local_thr` / `local_lat`.
    pub local: Stack,
}

impl Pair {
    const fn same(s: Stack) -> Self {
        Self {
            remote: s,
            local: s,
        }
    }

    /// A plain-socket reference (`raw` or `raw-batch`), measured at
    /// [`RAW_THR_SIZE`] only.
    const fn is_raw(self) -> bool {
        matches!(self.local, Stack::Raw | Stack::RawBatch)
    }

    /// The column heading.
    #[must_use]
    pub fn label(self, kind: Kind) -> String {
        let name = |s: Stack| match s {
            Stack::Zmqrs => "zmq.rs",
            other => other.name(),
        };
        if self.remote == self.local {
            name(self.remote).to_owned()
        } else if kind == Kind::Thr {
            format!("{}→{}", name(self.remote), name(self.local))
        } else {
            format!("{}↔{}", name(self.remote), name(self.local))
        }
    }
}

const OURS: Pair = Pair::same(Stack::Ours);
const LIBZMQ: Pair = Pair::same(Stack::Libzmq);
const ZMQRS: Pair = Pair::same(Stack::Zmqrs);
const RAW: Pair = Pair::same(Stack::Raw);
/// The raw reference writing [`crate::raw::BATCH`] bytes at a time.
const RAW_BATCH: Pair = Pair::same(Stack::RawBatch);
/// Ours sending to libzmq.
const OURS_TO_LIBZMQ: Pair = Pair {
    remote: Stack::Ours,
    local: Stack::Libzmq,
};
/// libzmq sending to ours.
const LIBZMQ_TO_OURS: Pair = Pair {
    remote: Stack::Libzmq,
    local: Stack::Ours,
};

/// Throughput columns (the raw ones only at [`RAW_THR_SIZE`], or the
/// smoke size).
const THR_PAIRS: [Pair; 7] = [
    OURS,
    LIBZMQ,
    ZMQRS,
    OURS_TO_LIBZMQ,
    LIBZMQ_TO_OURS,
    RAW,
    RAW_BATCH,
];
/// Latency columns: ours requesting from a libzmq replier covers both
/// directions.
const LAT_PAIRS: [Pair; 5] = [OURS, LIBZMQ, ZMQRS, OURS_TO_LIBZMQ, RAW];

/// Sweep options.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `--smoke`: one size, few messages, one run each, both transports.
    pub smoke: bool,
    /// `--repeats N`.
    pub repeats: usize,
    /// `--scale F`: multiplies every message and round-trip count.
    pub scale: f64,
    /// `--sizes a,b,...`.
    pub sizes: Vec<usize>,
    /// `--transports tcp,ipc`.
    pub transports: Vec<Transport>,
    /// `--timeout S`: longest a single run may take.
    pub timeout: Duration,
    /// `--no-lat`: throughput only.
    pub lat: bool,
    /// `--no-thr`: latency only.
    pub thr: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            smoke: false,
            repeats: REPEATS,
            scale: 1.0,
            sizes: SIZES.to_vec(),
            transports: vec![Transport::Tcp, Transport::Ipc],
            timeout: Duration::from_secs(180),
            lat: true,
            thr: true,
        }
    }
}

const USAGE: &str = "usage: sweep [--smoke] [--repeats N] [--scale F] [--sizes 10,100,...] \
     [--transports tcp,ipc] [--timeout SECONDS] [--no-lat] [--no-thr]\n       \
     sweep tool <local_thr|remote_thr|local_lat|remote_lat> [--stack S] <endpoint> <size> <count>";

impl Options {
    /// Parses the sweep's arguments.
    ///
    /// # Errors
    ///
    /// A usage message.
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut o = Self::default();
        let mut it = args.iter();
        let bad = |what: &str, v: &str| format!("bad {what} {v:?}\n{USAGE}");
        while let Some(a) = it.next() {
            let mut value = || {
                it.next()
                    .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))
            };
            match a.as_str() {
                "--smoke" => {
                    o.smoke = true;
                    o.repeats = 1;
                    o.sizes = vec![100];
                    o.timeout = Duration::from_secs(30);
                }
                "--repeats" => {
                    let v = value()?;
                    o.repeats = v.parse().ok().filter(|&n| n > 0).ok_or_else(|| bad(a, v))?;
                }
                "--scale" => {
                    let v = value()?;
                    o.scale = v
                        .parse()
                        .ok()
                        .filter(|f: &f64| *f > 0.0)
                        .ok_or_else(|| bad(a, v))?;
                }
                "--sizes" => {
                    let v = value()?;
                    o.sizes = v
                        .split(',')
                        .map(str::parse)
                        .collect::<core::result::Result<_, _>>()
                        .map_err(|_| bad(a, v))?;
                }
                "--transports" => {
                    let v = value()?;
                    o.transports = v
                        .split(',')
                        .map(|t| match t {
                            "tcp" => Ok(Transport::Tcp),
                            "ipc" => Ok(Transport::Ipc),
                            _ => Err(bad(a, v)),
                        })
                        .collect::<Result<_>>()?;
                }
                "--timeout" => {
                    let v = value()?;
                    o.timeout = v
                        .parse()
                        .ok()
                        .filter(|&s| s > 0)
                        .map(Duration::from_secs)
                        .ok_or_else(|| bad(a, v))?;
                }
                "--no-lat" => o.lat = false,
                "--no-thr" => o.thr = false,
                _ => return Err(format!("unknown argument {a:?}\n{USAGE}")),
            }
        }
        if o.sizes.is_empty() || o.transports.is_empty() {
            return Err(USAGE.to_owned());
        }
        Ok(o)
    }

    /// Messages per throughput run: 5 x 10^6 up to 100 B and 2 x 10^6 up
    /// to 1 KiB (at 10^6, a run of ours lasted about 0.1 s and its figure
    /// moved by half from run to run), then about 8 GiB worth (131 072 at
    /// 64 KiB: at 2 GiB a run lasted under a second, and zmq.rs's figure
    /// moved by a third from run to run); a few thousand for `--smoke`.
    #[must_use]
    pub fn thr_count(&self, size: usize) -> u64 {
        let base: u64 = if self.smoke {
            2_000
        } else if size <= 100 {
            5_000_000
        } else if size <= 1024 {
            2_000_000
        } else {
            ((1u64 << 33) / u64::try_from(size).unwrap_or(u64::MAX)).max(10_000)
        };
        self.scaled(base)
    }

    /// Round trips per latency run.
    #[must_use]
    pub fn lat_count(&self, size: usize) -> u64 {
        let base: u64 = if self.smoke {
            200
        } else if size <= 1024 {
            20_000
        } else {
            5_000
        };
        self.scaled(base)
    }

    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "counts are small, positive and rounded on purpose"
    )]
    fn scaled(&self, n: u64) -> u64 {
        ((n as f64 * self.scale).round() as u64).max(1)
    }

    fn raw_thr_sizes(&self) -> impl Fn(usize) -> bool + '_ {
        move |size| self.smoke || size == RAW_THR_SIZE
    }
}

/// One planned run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Case {
    /// Throughput or latency.
    pub kind: Kind,
    /// TCP or IPC.
    pub transport: Transport,
    /// Message size in bytes.
    pub size: usize,
    /// Stacks of the two sides.
    pub pair: Pair,
}

impl Case {
    fn describe(&self) -> String {
        format!(
            "{} {} {} B {}",
            self.transport.name(),
            match self.kind {
                Kind::Thr => "thr",
                Kind::Lat => "lat",
            },
            self.size,
            self.pair.label(self.kind)
        )
    }
}

/// A run's figures: msg/s and Mb/s (throughput) or one-way µs (latency,
/// in `value`; `mbps` is 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// msg/s or µs.
    pub value: f64,
    /// Mb/s (throughput only).
    pub mbps: f64,
}

/// Every case of one repetition, in run order.
#[must_use]
pub fn plan(o: &Options) -> Vec<Case> {
    let mut cases = Vec::new();
    let raw_thr = o.raw_thr_sizes();
    for &transport in &o.transports {
        for &size in &o.sizes {
            if o.thr {
                for pair in THR_PAIRS {
                    if !pair.is_raw() || raw_thr(size) {
                        cases.push(Case {
                            kind: Kind::Thr,
                            transport,
                            size,
                            pair,
                        });
                    }
                }
            }
            if o.lat {
                for pair in LAT_PAIRS {
                    cases.push(Case {
                        kind: Kind::Lat,
                        transport,
                        size,
                        pair,
                    });
                }
            }
        }
    }
    cases
}

/// A spawned tool with its output being collected.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Proc {
    fn spawn(exe: &Path, tool: Tool, stack: Stack, ep: &str, size: usize, n: u64) -> Result<Self> {
        let mut child = Command::new(exe)
            .args(["tool", tool.name(), "--stack", stack.name(), ep])
            .arg(size.to_string())
            .arg(n.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", exe.display()))?;
        let (tx, lines) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out)
                    .lines()
                    .map_while(core::result::Result::ok)
                {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = child.stderr.take().map(|mut err| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = err.read_to_string(&mut s);
                s
            })
        });
        Ok(Self {
            child,
            lines,
            stdout: Vec::new(),
            stderr,
        })
    }

    /// Waits for the `bound: ` line.
    fn bound(&mut self, deadline: Instant) -> Result<String> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let ep = report::parse_bound(&line).map(str::to_owned);
                    self.stdout.push(line);
                    if let Some(ep) = ep {
                        return Ok(ep);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err("no bound endpoint in time".to_owned());
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err("exited before binding".to_owned());
                }
            }
        }
    }

    /// Waits for a successful exit until `deadline`; gives up early when
    /// `other` (the peer process) failed, since this one then waits for
    /// nothing.
    fn finish(&mut self, deadline: Instant, mut other: Option<&mut Self>) -> Result<()> {
        loop {
            if let Some(o) = other.as_deref_mut()
                && let Ok(Some(status)) = o.child.try_wait()
                && !status.success()
            {
                return Err(format!("its peer exited with {status}"));
            }
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.stdout.extend(self.lines.iter());
                    return if status.success() {
                        Ok(())
                    } else {
                        Err(format!("exited with {status}"))
                    };
                }
                Ok(None) if Instant::now() >= deadline => {
                    return Err("did not finish in time".to_owned());
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => return Err(format!("wait: {e}")),
            }
        }
    }

    fn kill(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn output(&self) -> String {
        self.stdout.join("\n")
    }

    /// What the tool wrote to stderr (after it ended).
    fn stderr(&mut self) -> String {
        self.stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How long the side that does not report the figure gets to exit after the
/// other one finished (zmq.rs may linger for its writer tasks).
const GRACE: Duration = Duration::from_secs(15);

/// Runs one case: receiver, then sender; returns its figures.
///
/// # Errors
///
/// What broke, with both tools' error output.
pub fn run_case(exe: &Path, c: &Case, count: u64, timeout: Duration, seq: u64) -> Result<Sample> {
    let (local_tool, remote_tool) = match c.kind {
        Kind::Thr => (Tool::LocalThr, Tool::RemoteThr),
        Kind::Lat => (Tool::LocalLat, Tool::RemoteLat),
    };
    let ipc_path =
        std::env::temp_dir().join(format!("zmtp-bench-{}-{seq}.ipc", std::process::id()));
    let ep = match c.transport {
        Transport::Tcp => "tcp://127.0.0.1:*".to_owned(),
        Transport::Ipc => format!("ipc://{}", ipc_path.display()),
    };
    let deadline = Instant::now() + timeout;
    let mut local = Proc::spawn(exe, local_tool, c.pair.local, &ep, c.size, count)?;
    let result = (|| {
        let bound = local.bound(deadline).map_err(|e| format!("local: {e}"))?;
        let mut remote = Proc::spawn(exe, remote_tool, c.pair.remote, &bound, c.size, count)?;
        let r = (|| {
            // The side that reports finishes first; the other one follows.
            let (first, second) = match c.kind {
                Kind::Thr => (&mut local, &mut remote),
                Kind::Lat => (&mut remote, &mut local),
            };
            first.finish(deadline, Some(&mut *second))?;
            second.finish(Instant::now() + GRACE, None)?;
            let out = match c.kind {
                Kind::Thr => local.output(),
                Kind::Lat => remote.output(),
            };
            match c.kind {
                Kind::Thr => {
                    report::parse_throughput(&out).map(|(value, mbps)| Sample { value, mbps })
                }
                Kind::Lat => report::parse_latency(&out).map(|value| Sample { value, mbps: 0.0 }),
            }
            .ok_or_else(|| format!("no figure in the output:\n{out}"))
        })();
        if r.is_err() {
            remote.kill();
        }
        r.map_err(|e| {
            let err = remote.stderr();
            if err.is_empty() {
                e
            } else {
                format!("{e}\n  {}: {}", remote_tool.name(), err.trim())
            }
        })
    })();
    local.kill();
    let _ = std::fs::remove_file(&ipc_path);
    result.map_err(|e| {
        let err = local.stderr();
        if err.is_empty() {
            e
        } else {
            format!("{e}\n  {}: {}", local_tool.name(), err.trim())
        }
    })
}

/// The median of `v` (the mean of the two middle values for an even
/// count), `None` for an empty slice.
#[must_use]
pub fn median(v: &[f64]) -> Option<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let mid = n / 2;
    match n {
        0 => None,
        _ if n % 2 == 1 => s.get(mid).copied(),
        _ => Some((s.get(mid - 1)? + s.get(mid)?) / 2.0),
    }
}

/// The results of a sweep: every sample per case, and the failures.
#[derive(Debug, Default)]
pub struct Results {
    /// Samples per case, in run order.
    pub samples: BTreeMap<Case, Vec<Sample>>,
    /// Failed runs and why.
    pub failures: Vec<(Case, String)>,
}

impl Results {
    fn median_of(&self, c: &Case, f: impl Fn(&Sample) -> f64) -> Option<f64> {
        let v: Vec<f64> = self.samples.get(c)?.iter().map(f).collect();
        median(&v)
    }

    fn failed(&self, c: &Case) -> bool {
        self.failures.iter().any(|(f, _)| f == c)
    }
}

fn fmt_count(v: f64) -> String {
    let s = format!("{v:.0}");
    let digits = s.len();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (digits - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

fn fmt_ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "–".to_owned(),
    }
}

fn fmt_size(size: usize) -> String {
    if size >= 1024 && size.is_multiple_of(1024) {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

/// The tables of medians, in Markdown.
#[must_use]
pub fn tables(o: &Options, r: &Results) -> String {
    let mut t = String::new();
    let cell = |c: &Case, f: &dyn Fn(&Sample) -> f64, fmt: &dyn Fn(f64) -> String| {
        r.median_of(c, f).map_or_else(
            || {
                if r.failed(c) {
                    "FAIL".to_owned()
                } else {
                    "–".to_owned()
                }
            },
            fmt,
        )
    };
    let case = |kind, transport, size, pair| Case {
        kind,
        transport,
        size,
        pair,
    };
    if o.thr {
        let _ = writeln!(
            t,
            "Throughput, msg/s at the receiver (median of {}); ratios > 1: ours is faster\n",
            o.repeats
        );
        let _ = writeln!(
            t,
            "| transport | size | ours | libzmq | zmq.rs | ours→libzmq | libzmq→ours | ours/libzmq | ours/zmq.rs |"
        );
        let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for &tr in &o.transports {
            for &size in &o.sizes {
                let c = |p| case(Kind::Thr, tr, size, p);
                let m = |p| r.median_of(&c(p), |s| s.value);
                let cells: Vec<String> = [OURS, LIBZMQ, ZMQRS, OURS_TO_LIBZMQ, LIBZMQ_TO_OURS]
                    .into_iter()
                    .map(|p| cell(&c(p), &|s| s.value, &fmt_count))
                    .collect();
                let _ = writeln!(
                    t,
                    "| {} | {} | {} | {} | {} |",
                    tr.name(),
                    fmt_size(size),
                    cells.join(" | "),
                    fmt_ratio(m(OURS), m(LIBZMQ)),
                    fmt_ratio(m(OURS), m(ZMQRS)),
                );
            }
        }
        let _ = writeln!(
            t,
            "\nBandwidth, Mb/s at the receiver (median); raw = the same bytes over a plain stream socket, one write per message; raw-batch = the same, {} KiB per write\n",
            crate::raw::BATCH / 1024
        );
        let _ = writeln!(
            t,
            "| transport | size | ours | libzmq | zmq.rs | raw | raw-batch | ours/raw | ours/raw-batch |"
        );
        let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for &tr in &o.transports {
            for &size in &o.sizes {
                let c = |p| case(Kind::Thr, tr, size, p);
                let m = |p| r.median_of(&c(p), |s| s.mbps);
                let cells: Vec<String> = [OURS, LIBZMQ, ZMQRS, RAW, RAW_BATCH]
                    .into_iter()
                    .map(|p| cell(&c(p), &|s| s.mbps, &|v| format!("{v:.0}")))
                    .collect();
                let _ = writeln!(
                    t,
                    "| {} | {} | {} | {} | {} |",
                    tr.name(),
                    fmt_size(size),
                    cells.join(" | "),
                    fmt_ratio(m(OURS), m(RAW)),
                    fmt_ratio(m(OURS), m(RAW_BATCH)),
                );
            }
        }
    }
    if o.lat {
        let _ = writeln!(
            t,
            "\nLatency, one-way µs (median of {}); ratios < 1: ours is faster\n",
            o.repeats
        );
        let _ = writeln!(
            t,
            "| transport | size | ours | libzmq | zmq.rs | ours↔libzmq | raw | ours/libzmq | ours/zmq.rs |"
        );
        let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for &tr in &o.transports {
            for &size in &o.sizes {
                let c = |p| case(Kind::Lat, tr, size, p);
                let m = |p| r.median_of(&c(p), |s| s.value);
                let cells: Vec<String> = LAT_PAIRS
                    .into_iter()
                    .map(|p| cell(&c(p), &|s| s.value, &|v| format!("{v:.1}")))
                    .collect();
                let _ = writeln!(
                    t,
                    "| {} | {} | {} | {} | {} |",
                    tr.name(),
                    fmt_size(size),
                    cells.join(" | "),
                    fmt_ratio(m(OURS), m(LIBZMQ)),
                    fmt_ratio(m(OURS), m(ZMQRS)),
                );
            }
        }
    }
    t
}

/// `YYYY-MM-DD HH:MM UTC` of the system clock.
#[must_use]
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Runs the sweep.
///
/// # Errors
///
/// Only when the sweep cannot start (its own executable cannot be found);
/// broken runs are listed in [`Results::failures`].
pub fn sweep(o: &Options) -> Result<Results> {
    let exe: PathBuf =
        std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let cases = plan(o);
    let total = cases.len().saturating_mul(o.repeats);
    let mut results = Results::default();
    let mut seq = 0u64;
    for rep in 0..o.repeats {
        for c in &cases {
            seq = seq.saturating_add(1);
            let count = match c.kind {
                Kind::Thr => o.thr_count(c.size),
                Kind::Lat => o.lat_count(c.size),
            };
            let started = Instant::now();
            let outcome = run_case(&exe, c, count, o.timeout, seq);
            let secs = started.elapsed().as_secs_f64();
            match outcome {
                Ok(s) => {
                    let figure = match c.kind {
                        Kind::Thr => format!("{} msg/s, {:.0} Mb/s", fmt_count(s.value), s.mbps),
                        Kind::Lat => format!("{:.1} µs", s.value),
                    };
                    eprintln!(
                        "[{seq}/{total}] run {} {}: {figure} ({count} {}, {secs:.1} s)",
                        rep + 1,
                        c.describe(),
                        if c.kind == Kind::Thr {
                            "messages"
                        } else {
                            "round trips"
                        }
                    );
                    results.samples.entry(*c).or_default().push(s);
                }
                Err(e) => {
                    eprintln!(
                        "[{seq}/{total}] run {} {}: FAILED: {e}",
                        rep + 1,
                        c.describe()
                    );
                    results.failures.push((*c, e));
                }
            }
        }
    }
    Ok(results)
}

/// The `main` of the `sweep` program (and, with `tool <name> ...`, of any
/// of the four tools, which is how the sweep spawns them).
#[must_use]
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("tool") {
        let Some(tool) = args.get(1).and_then(|n| Tool::from_name(n)) else {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        };
        return crate::cli::main_with(tool, args.get(2..).unwrap_or_default());
    }
    let o = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let date = utc_now();
    let results = match sweep(&o) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sweep: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "zmtp-bench sweep{}, {date}, {} CPUs, {:.0} s; receiver and sender in separate processes\n",
        if o.smoke { " --smoke" } else { "" },
        std::thread::available_parallelism().map_or(0, core::num::NonZero::get),
        started.elapsed().as_secs_f64()
    );
    print!("{}", tables(&o, &results));
    if results.failures.is_empty() {
        println!(
            "\nall {} runs delivered",
            results.samples.values().map(Vec::len).sum::<usize>()
        );
        ExitCode::SUCCESS
    } else {
        println!("\n{} runs BROKE:", results.failures.len());
        for (c, e) in &results.failures {
            println!("- {}: {e}", c.describe());
        }
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn counts() {
        let o = Options::default();
        assert_eq!(o.thr_count(10), 5_000_000);
        assert_eq!(o.thr_count(1024), 2_000_000);
        assert_eq!(o.thr_count(65_536), 131_072);
        assert_eq!(o.lat_count(10), 20_000);
        let s = Options::parse(&["--smoke".to_owned()]).unwrap();
        assert!(s.thr_count(100) < 10_000);
        assert_eq!(s.sizes, vec![100]);
        let half = Options::parse(&["--scale".to_owned(), "0.5".to_owned()]).unwrap();
        assert_eq!(half.thr_count(10), 2_500_000);
    }

    #[test]
    fn plan_has_raw_only_at_64k() {
        let o = Options::default();
        let p = plan(&o);
        assert!(
            p.iter()
                .filter(|c| c.kind == Kind::Thr && c.pair.is_raw())
                .all(|c| c.size == RAW_THR_SIZE)
        );
        // 2 transports x (4 sizes x 5 thr pairs + 2 raw + 4 sizes x 5 lat pairs)
        assert_eq!(p.len(), 2 * (4 * 5 + 2 + 4 * 5));
    }

    #[test]
    fn labels_and_formats() {
        assert_eq!(OURS_TO_LIBZMQ.label(Kind::Thr), "ours→libzmq");
        assert_eq!(OURS_TO_LIBZMQ.label(Kind::Lat), "ours↔libzmq");
        assert_eq!(ZMQRS.label(Kind::Thr), "zmq.rs");
        assert_eq!(fmt_count(1_234_567.0), "1 234 567");
        assert_eq!(fmt_count(12.0), "12");
        assert_eq!(fmt_size(65_536), "64 KiB");
        assert_eq!(fmt_size(100), "100 B");
    }

    /// A stand-in for the tool programs: the local side binds and then
    /// waits for ever, the remote side fails at once.
    fn fake_tools(dir: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let exe = dir.join("fake-tools.sh");
        std::fs::write(
            &exe,
            "#!/bin/sh\ncase \"$2\" in\n  local_*) echo 'bound: tcp://127.0.0.1:9'; exec sleep 60;;\n  \
             *) echo 'remote_thr: connect: refused' >&2; exit 1;;\nesac\n",
        )
        .unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        exe
    }

    #[test]
    fn a_broken_run_is_reported_quickly() {
        let dir = std::env::temp_dir().join(format!("zmtp-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = fake_tools(&dir);
        let case = Case {
            kind: Kind::Thr,
            transport: Transport::Tcp,
            size: 10,
            pair: OURS,
        };
        let started = Instant::now();
        let err = run_case(&exe, &case, 10, Duration::from_secs(30), 1).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
        assert!(err.contains("peer exited"), "{err}");
        assert!(err.contains("connect: refused"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn date() {
        let d = utc_now();
        assert!(d.starts_with("20") && d.ends_with(" UTC"), "{d}");
    }
}
