//! The harness of the `zmtp` tool's end-to-end tests: the built binary
//! spawned with its JSON lines parsed, waits bounded, and libzmq sockets
//! with test timeouts. Included by `#[path]` from the tool's test files.
#![allow(dead_code, unreachable_pub)]

use core::time::Duration;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::Value;

/// How long a test waits for something that must happen.
pub const WAIT: Duration = Duration::from_secs(20);
/// The `--timeout` every long-running child gets, so none outlives a test.
pub const CHILD_TIMEOUT: &str = "15000";
/// libzmq socket timeouts in the tests (ms).
pub const ZMQ_TIMEOUT: i32 = 10_000;

/// A running `zmtp` process.
pub struct Zmtp {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
    pub stderr: Option<JoinHandle<String>>,
    /// Every stdout line read so far, parsed.
    pub seen: Vec<Value>,
}

/// How a `zmtp` process ended.
#[derive(Debug)]
pub struct Exit {
    pub code: Option<i32>,
    /// Every stdout line, parsed.
    pub lines: Vec<Value>,
    pub stderr: String,
    pub elapsed: Duration,
}

pub fn zmtp(args: &[&str]) -> Zmtp {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zmtp"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zmtp");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    Zmtp {
        child,
        lines: rx,
        stderr: Some(stderr),
        seen: Vec::new(),
    }
}

/// Parses one output line: it must be a single JSON object.
pub fn parse(line: &str) -> Value {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"));
    assert!(v.is_object(), "not a JSON object: {line}");
    v
}

impl Zmtp {
    /// The next stdout line, within [`WAIT`].
    pub fn next(&mut self) -> Value {
        match self.lines.recv_timeout(WAIT) {
            Ok(line) => {
                let v = parse(&line);
                self.seen.push(v.clone());
                v
            }
            Err(e) => {
                let _ = self.child.kill();
                panic!(
                    "no output line within {WAIT:?} ({e}); so far: {:?}",
                    self.seen
                )
            }
        }
    }

    /// Skips lines until one satisfies `pred`.
    pub fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self.next();
            if pred(&v) {
                return v;
            }
        }
    }

    /// The next event line named `name`.
    pub fn event(&mut self, name: &str) -> Value {
        self.until(|v| v["event"] == name)
    }

    /// The endpoint of the next `{"bound":...}` line.
    pub fn bound(&mut self) -> String {
        let v = self.until(|v| v.get("bound").is_some());
        v["bound"].as_str().unwrap().to_owned()
    }

    /// Waits (bounded) for the process to exit and collects its output.
    pub fn finish(mut self) -> Exit {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > WAIT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("zmtp did not exit within {WAIT:?}; output: {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = start.elapsed();
        // The reader thread ends at end of file: take what is left.
        while let Ok(line) = self.lines.recv_timeout(WAIT) {
            self.seen.push(parse(&line));
        }
        let stderr = self.stderr.take().unwrap().join().unwrap();
        Exit {
            code: status.code(),
            lines: core::mem::take(&mut self.seen),
            stderr,
            elapsed,
        }
    }
}

impl Drop for Zmtp {
    fn drop(&mut self) {
        if self.stderr.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `zmtp` to its end.
pub fn run(args: &[&str]) -> Exit {
    zmtp(args).finish()
}

/// The names of the event lines, in order.
pub fn events(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|v| v.get("event").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// The event line named `name` (the first one).
pub fn event<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|v| v["event"] == name)
        .unwrap_or_else(|| panic!("no {name} event in {lines:?}"))
}

/// The lines that are not monitor events.
pub fn data(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .filter(|v| v.get("event").is_none())
        .cloned()
        .collect()
}

/// Asserts the structure every event line has, and that `MONITOR_STOPPED`
/// is the last line of all.
pub fn assert_monitor_ends(exit: &Exit) {
    for v in &exit.lines {
        if v.get("event").is_some() {
            let o = v.as_object().unwrap();
            assert_eq!(o.len(), 4, "{v}");
            assert!(v["id"].is_u64() && v["value"].is_u64(), "{v}");
            assert!(v["endpoint"].is_string(), "{v}");
        }
    }
    let last = exit.lines.last().expect("no output");
    assert_eq!(last["event"], "MONITOR_STOPPED", "{:?}", exit.lines);
    assert_eq!(last["id"], 1024);
    assert_eq!(last["value"], 0);
    assert_eq!(
        events(&exit.lines)
            .iter()
            .filter(|e| *e == "MONITOR_STOPPED")
            .count(),
        1
    );
}

/// The frames of a `{"recv":[...]}` line as bytes.
pub fn frames(v: &Value) -> Vec<Vec<u8>> {
    v["recv"]
        .as_array()
        .unwrap_or_else(|| panic!("not a recv line: {v}"))
        .iter()
        .map(|f| match f {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Object(o) => {
                assert_eq!(o.len(), 1, "{f}");
                let hex = o["hex"].as_str().unwrap();
                assert!(core::str::from_utf8(&unhex(hex)).is_err(), "{f}");
                unhex(hex)
            }
            _ => panic!("bad frame {f}"),
        })
        .collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert_eq!(s.len() % 2, 0);
    assert!(!s.chars().any(|c| c.is_ascii_uppercase()));
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A TCP port nothing listens on (bound by the system, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

pub fn zsock(ctx: &zmq::Context, t: zmq::SocketType) -> zmq::Socket {
    let s = ctx.socket(t).unwrap();
    s.set_rcvtimeo(ZMQ_TIMEOUT).unwrap();
    s.set_sndtimeo(ZMQ_TIMEOUT).unwrap();
    s.set_linger(0).unwrap();
    s
}

pub fn zlast(s: &zmq::Socket) -> String {
    s.get_last_endpoint().unwrap().unwrap()
}
