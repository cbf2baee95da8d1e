//! Command lines of the four perf tools: `[--stack S] <endpoint> <size>
//! <count>`, as libzmq's `perf/` programs take them.

use core::fmt;
use core::str::FromStr;
use std::process::ExitCode;

use crate::report::{Latency, Throughput};
use crate::{Result, libzmq, ours, raw, zmqrs};

/// One of libzmq's four perf tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// PULL, binds, receives and measures throughput.
    LocalThr,
    /// PUSH, connects, sends.
    RemoteThr,
    /// REP, binds, echoes.
    LocalLat,
    /// REQ, connects, measures round trips.
    RemoteLat,
}

impl Tool {
    /// The program name (`local_thr`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::LocalThr => "local_thr",
            Self::RemoteThr => "remote_thr",
            Self::LocalLat => "local_lat",
            Self::RemoteLat => "remote_lat",
        }
    }

    /// The tool named `name`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::LocalThr,
            Self::RemoteThr,
            Self::LocalLat,
            Self::RemoteLat,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }

    /// Whether the tool binds (and prints the bound endpoint first).
    #[must_use]
    pub const fn is_local(self) -> bool {
        matches!(self, Self::LocalThr | Self::LocalLat)
    }

    const fn count_name(self) -> &'static str {
        match self {
            Self::LocalThr | Self::RemoteThr => "message-count",
            Self::LocalLat | Self::RemoteLat => "roundtrip-count",
        }
    }
}

/// Which ZeroMQ implementation a tool runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stack {
    /// This project's `zmtp-std`.
    Ours,
    /// libzmq 4.3 through the `zmq` crate.
    Libzmq,
    /// zmq.rs (crate `zeromq`) on a multi-threaded tokio runtime.
    Zmqrs,
    /// No ZeroMQ at all: the same bytes over a plain stream socket.
    Raw,
    /// As [`Stack::Raw`], with the sender writing [`crate::raw::BATCH`]
    /// bytes of messages at a time (as a stack that coalesces messages
    /// into large writes does); the rest is the same.
    RawBatch,
}

impl Stack {
    /// The name used by `--stack`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Libzmq => "libzmq",
            Self::Zmqrs => "zmqrs",
            Self::Raw => "raw",
            Self::RawBatch => "raw-batch",
        }
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Stack {
    type Err = String;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ours" | "zmtp" | "zmtp-std" => Ok(Self::Ours),
            "libzmq" | "zmq" => Ok(Self::Libzmq),
            "zmqrs" | "zmq.rs" | "zeromq" => Ok(Self::Zmqrs),
            "raw" => Ok(Self::Raw),
            "raw-batch" => Ok(Self::RawBatch),
            _ => Err(format!(
                "unknown stack {s:?} (ours, libzmq, zmqrs, raw or raw-batch)"
            )),
        }
    }
}

/// A parsed tool command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// `--stack`, `ours` when absent.
    pub stack: Stack,
    /// Endpoint to bind (local tools) or connect to (remote tools).
    pub endpoint: String,
    /// Message size in bytes.
    pub size: usize,
    /// Messages (throughput) or round trips (latency).
    pub count: u64,
}

impl Args {
    /// Parses the arguments after the program name.
    ///
    /// # Errors
    ///
    /// A usage message.
    pub fn parse(tool: Tool, args: &[String]) -> Result<Self> {
        let usage = || {
            format!(
                "usage: {} [--stack ours|libzmq|zmqrs|raw|raw-batch] <{}> <message-size> <{}>",
                tool.name(),
                if tool.is_local() {
                    "bind-to"
                } else {
                    "connect-to"
                },
                tool.count_name()
            )
        };
        let mut stack = Stack::Ours;
        let mut positional = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if let Some(v) = a.strip_prefix("--stack=") {
                stack = v.parse()?;
            } else if a == "--stack" {
                stack = it.next().ok_or_else(usage)?.parse()?;
            } else if a == "-h" || a == "--help" {
                return Err(usage());
            } else {
                positional.push(a.as_str());
            }
        }
        let [endpoint, size, count] = positional.as_slice() else {
            return Err(usage());
        };
        let size = size
            .parse()
            .map_err(|_| format!("bad message size {size:?}\n{}", usage()))?;
        let count: u64 = count
            .parse()
            .map_err(|_| format!("bad count {count:?}\n{}", usage()))?;
        if count == 0 {
            return Err(format!("the count must be positive\n{}", usage()));
        }
        Ok(Self {
            stack,
            endpoint: (*endpoint).to_owned(),
            size,
            count,
        })
    }
}

/// What a tool produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Nothing to report (the sending or echoing side).
    Done,
    /// `local_thr`'s figure.
    Throughput(Throughput),
    /// `remote_lat`'s figure.
    Latency(Latency),
}

/// Runs `tool` with parsed arguments.
///
/// # Errors
///
/// Whatever the stack reported: a failed bind or connect, a broken
/// connection, a message of the wrong size.
pub fn run(tool: Tool, a: &Args) -> Result<Outcome> {
    let (ep, size, n) = (a.endpoint.as_str(), a.size, a.count);
    match (a.stack, tool) {
        (Stack::Ours, Tool::LocalThr) => ours::local_thr(ep, size, n).map(Outcome::Throughput),
        (Stack::Ours, Tool::RemoteThr) => ours::remote_thr(ep, size, n).map(|()| Outcome::Done),
        (Stack::Ours, Tool::LocalLat) => ours::local_lat(ep, size, n).map(|()| Outcome::Done),
        (Stack::Ours, Tool::RemoteLat) => ours::remote_lat(ep, size, n).map(Outcome::Latency),
        (Stack::Libzmq, Tool::LocalThr) => libzmq::local_thr(ep, size, n).map(Outcome::Throughput),
        (Stack::Libzmq, Tool::RemoteThr) => libzmq::remote_thr(ep, size, n).map(|()| Outcome::Done),
        (Stack::Libzmq, Tool::LocalLat) => libzmq::local_lat(ep, size, n).map(|()| Outcome::Done),
        (Stack::Libzmq, Tool::RemoteLat) => libzmq::remote_lat(ep, size, n).map(Outcome::Latency),
        (Stack::Zmqrs, Tool::LocalThr) => zmqrs::local_thr(ep, size, n).map(Outcome::Throughput),
        (Stack::Zmqrs, Tool::RemoteThr) => zmqrs::remote_thr(ep, size, n).map(|()| Outcome::Done),
        (Stack::Zmqrs, Tool::LocalLat) => zmqrs::local_lat(ep, size, n).map(|()| Outcome::Done),
        (Stack::Zmqrs, Tool::RemoteLat) => zmqrs::remote_lat(ep, size, n).map(Outcome::Latency),
        (Stack::Raw | Stack::RawBatch, Tool::LocalThr) => {
            raw::local_thr(ep, size, n).map(Outcome::Throughput)
        }
        (Stack::Raw, Tool::RemoteThr) => raw::remote_thr(ep, size, n, 1).map(|()| Outcome::Done),
        (Stack::RawBatch, Tool::RemoteThr) => {
            raw::remote_thr(ep, size, n, raw::batch_of(size)).map(|()| Outcome::Done)
        }
        (Stack::Raw | Stack::RawBatch, Tool::LocalLat) => {
            raw::local_lat(ep, size, n).map(|()| Outcome::Done)
        }
        (Stack::Raw | Stack::RawBatch, Tool::RemoteLat) => {
            raw::remote_lat(ep, size, n).map(Outcome::Latency)
        }
    }
}

/// The `main` of a tool program: parses `std::env::args`, runs, prints the
/// figure in libzmq's format.
#[must_use]
pub fn main(tool: Tool) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    main_with(tool, &args)
}

/// Like [`main`] with explicit arguments (after the program name).
#[must_use]
pub fn main_with(tool: Tool, args: &[String]) -> ExitCode {
    let result = Args::parse(tool, args).and_then(|a| run(tool, &a));
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Throughput(t)) => {
            println!("{}", t.render());
            ExitCode::SUCCESS
        }
        Ok(Outcome::Latency(l)) => {
            println!("{}", l.render());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", tool.name());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_libzmq_style_lines() {
        let a = Args::parse(
            Tool::LocalThr,
            &strings(&["tcp://127.0.0.1:5555", "10", "1000"]),
        )
        .unwrap();
        assert_eq!(a.stack, Stack::Ours);
        assert_eq!(a.endpoint, "tcp://127.0.0.1:5555");
        assert_eq!((a.size, a.count), (10, 1000));
        let a = Args::parse(
            Tool::RemoteLat,
            &strings(&["--stack", "libzmq", "ipc:///tmp/x", "1", "2"]),
        )
        .unwrap();
        assert_eq!(a.stack, Stack::Libzmq);
        let a = Args::parse(
            Tool::RemoteLat,
            &strings(&["ipc:///tmp/x", "1", "2", "--stack=zmqrs"]),
        )
        .unwrap();
        assert_eq!(a.stack, Stack::Zmqrs);
    }

    #[test]
    fn rejects_bad_lines() {
        assert!(Args::parse(Tool::LocalThr, &strings(&["tcp://x:1", "10"])).is_err());
        assert!(Args::parse(Tool::LocalThr, &strings(&["tcp://x:1", "ten", "1"])).is_err());
        assert!(Args::parse(Tool::LocalThr, &strings(&["tcp://x:1", "10", "0"])).is_err());
        assert!(Args::parse(Tool::LocalThr, &strings(&["--stack", "nng", "a", "1", "1"])).is_err());
    }

    #[test]
    fn tool_names() {
        for t in [
            Tool::LocalThr,
            Tool::RemoteThr,
            Tool::LocalLat,
            Tool::RemoteLat,
        ] {
            assert_eq!(Tool::from_name(t.name()), Some(t));
        }
        assert_eq!(Tool::from_name("sweep"), None);
    }
}
