//! End-to-end tests of the `zmtp` tool's CURVE flags (`--curve-server`,
//! `--curve-publickey`, `--curve-secretkey`, `--curve-serverkey`,
//! `--zap-allow-key`): two tool processes over CURVE, a listed key
//! accepted and an unknown one refused, and bad keys as usage errors.
//! Loopback only, ports chosen by the system, every wait bounded.
#![cfg(feature = "curve")]
#![allow(missing_docs, dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use core::time::Duration;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::{Value, json};

/// How long a test waits for something that must happen.
const WAIT: Duration = Duration::from_secs(20);
/// The `--timeout` of servers that run until the test ends.
const SERVER_TIMEOUT: &str = "15000";
/// libzmq socket timeouts in the tests (ms).
const ZMQ_TIMEOUT: i32 = 10_000;

/// A running `zmtp` process.
struct Zmtp {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<String>>,
    seen: Vec<Value>,
}

/// How a `zmtp` process ended.
#[derive(Debug)]
struct Exit {
    code: Option<i32>,
    lines: Vec<Value>,
    stderr: String,
}

fn zmtp(args: &[&str]) -> Zmtp {
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

fn parse(line: &str) -> Value {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"));
    assert!(v.is_object(), "not a JSON object: {line}");
    v
}

impl Zmtp {
    fn next(&mut self) -> Value {
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

    fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self.next();
            if pred(&v) {
                return v;
            }
        }
    }

    /// The next event line named `name`.
    fn event(&mut self, name: &str) -> Value {
        self.until(|v| v["event"] == name)
    }

    fn bound(&mut self) -> String {
        let v = self.until(|v| v.get("bound").is_some());
        v["bound"].as_str().unwrap().to_owned()
    }

    fn finish(mut self) -> Exit {
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
        while let Ok(line) = self.lines.recv_timeout(WAIT) {
            self.seen.push(parse(&line));
        }
        let stderr = self.stderr.take().unwrap().join().unwrap();
        Exit {
            code: status.code(),
            lines: core::mem::take(&mut self.seen),
            stderr,
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

fn run(args: &[&str]) -> Exit {
    zmtp(args).finish()
}

fn events(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|v| v.get("event").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn data(lines: &[Value]) -> Vec<Value> {
    lines
        .iter()
        .filter(|v| v.get("event").is_none())
        .cloned()
        .collect()
}

fn z85(k: &[u8; 32]) -> String {
    String::from_utf8(zmtp_core::z85::encode_key(k).to_vec()).unwrap()
}

/// A tool CURVE server (ROUTER, echo) accepting `allowed`'s key only.
fn curve_server(
    server: &zmtp_std::CurveKeypair,
    allowed: &zmtp_std::CurveKeypair,
) -> (Zmtp, String) {
    let mut s = zmtp(&[
        "router",
        "--bind",
        "tcp://127.0.0.1:0",
        "--echo",
        "--curve-server",
        "--curve-secretkey",
        &z85(&server.secret),
        "--zap-allow-key",
        &z85(&allowed.public),
        "--monitor",
        "--timeout",
        SERVER_TIMEOUT,
    ]);
    let ep = s.bound();
    (s, ep)
}

fn curve_client(ep: &str, server: &[u8; 32], me: &zmtp_std::CurveKeypair, timeout: &str) -> Exit {
    run(&[
        "dealer",
        "--connect",
        ep,
        "--curve-serverkey",
        &z85(server),
        "--curve-publickey",
        &z85(&me.public),
        "--curve-secretkey",
        &z85(&me.secret),
        "--send",
        "hello",
        "--recv",
        "1",
        "--monitor",
        "--timeout",
        timeout,
    ])
}

#[test]
fn two_tools_over_curve() {
    let server = zmtp_std::curve_keypair();
    let client = zmtp_std::curve_keypair();
    let stranger = zmtp_std::curve_keypair();
    let (mut srv, ep) = curve_server(&server, &client);
    let ok = curve_client(&ep, &server.public, &client, "10000");
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert_eq!(
        data(&ok.lines),
        [json!({"sent": 1}), json!({"recv": ["hello"]})],
        "{ok:?}"
    );
    assert!(
        events(&ok.lines).contains(&"HANDSHAKE_SUCCEEDED".to_owned()),
        "{ok:?}"
    );
    srv.event("HANDSHAKE_SUCCEEDED");

    // An unknown key: 400 on both sides, no message, the run times out.
    let denied = curve_client(&ep, &server.public, &stranger, "2000");
    assert_eq!(denied.code, Some(1), "{denied:?}");
    assert_eq!(data(&denied.lines), [] as [Value; 0], "{denied:?}");
    let auth = denied
        .lines
        .iter()
        .find(|v| v["event"] == "HANDSHAKE_FAILED_AUTH")
        .unwrap_or_else(|| panic!("{denied:?}"));
    assert_eq!(auth["value"], 400);
    let e = srv.event("HANDSHAKE_FAILED_AUTH");
    assert_eq!(e["value"], 400);
}

#[test]
fn bad_keys_are_usage_errors() {
    let kp = zmtp_std::curve_keypair();
    let good = z85(&kp.public);
    let short = &good[..39];
    for args in [
        &[
            "dealer",
            "--curve-serverkey",
            short,
            "--curve-publickey",
            &good,
            "--curve-secretkey",
            &good,
        ][..],
        &[
            "router",
            "--curve-server",
            "--curve-secretkey",
            "not a key at all, forty characters long!",
        ],
        &["router", "--curve-server"],
        &["dealer", "--curve-serverkey", &good],
        &["router", "--zap-allow-key", short],
        &[
            "router",
            "--curve-server",
            "--curve-secretkey",
            &good,
            "--plain-server",
        ],
    ] {
        let exit = run(args);
        assert_eq!(exit.code, Some(2), "{args:?}: {exit:?}");
    }
}
