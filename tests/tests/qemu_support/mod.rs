//! Running the QEMU firmware from a host test: start `qemu-system-arm` on
//! the mps2-an385 board with user networking and port forwards on
//! 127.0.0.1, decode its defmt log with `defmt-print`, read the remote
//! monitor with a libzmq SUB, and make sure QEMU never outlives the test.
//!
//! The firmware ELF files come from the environment (`cargo xtask test`
//! builds them and sets the variables); without them the tests say
//! `skipped: ...` and pass.
// Each test file uses a part of this module.
#![allow(dead_code)]

use core::time::Duration;
use std::env;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use zmtp_core::monitor::{Event, decode_v2};

/// The `fw-server` ELF.
pub(crate) const SERVER_ELF_VAR: &str = "ZMTP_FW_SERVER_ELF";
/// The `fw-client` ELF.
pub(crate) const CLIENT_ELF_VAR: &str = "ZMTP_FW_CLIENT_ELF";
/// The variable naming the `fw-secure` ELF file.
pub(crate) const SECURE_ELF_VAR: &str = "ZMTP_FW_SECURE_ELF";
/// The QEMU binary (default `qemu-system-arm`).
pub(crate) const QEMU_VAR: &str = "ZMTP_QEMU";
/// The defmt decoder (default `defmt-print`).
pub(crate) const DEFMT_PRINT_VAR: &str = "ZMTP_DEFMT_PRINT";

/// How long the firmware may take to boot and log its first line.
pub(crate) const BOOT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one expected step (a reply, a monitor event) may take.
pub(crate) const STEP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the firmware may take to exit once the scenario is over.
pub(crate) const EXIT_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts at starting QEMU when a host port chosen free was taken in
/// the meantime.
const START_ATTEMPTS: usize = 5;

/// The firmware named by `var`, or `None` after printing why the test is
/// skipped. A variable that names a missing file fails the test.
pub(crate) fn firmware(var: &str) -> Option<PathBuf> {
    let Some(path) = env::var_os(var) else {
        println!(
            "skipped: {var} is not set (`cargo xtask test` builds the QEMU firmware and sets it)"
        );
        return None;
    };
    let path = PathBuf::from(path);
    assert!(path.is_file(), "{var}={} is not a file", path.display());
    Some(path)
}

fn tool(var: &str, default: &str) -> OsString {
    env::var_os(var).unwrap_or_else(|| default.into())
}

/// `n` distinct TCP ports that were free on 127.0.0.1 a moment ago (bound
/// to port 0 together, then released). Someone may take one before QEMU
/// binds it: [`Qemu::start`] retries.
pub(crate) fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local_addr").port())
        .collect()
}

/// A running firmware: QEMU and its log decoder, both killed on drop.
pub(crate) struct Qemu {
    qemu: Child,
    decoder: Child,
    log: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    status: Option<ExitStatus>,
    /// Host port forwarded to each guest port given to [`Qemu::start`], in
    /// the same order.
    pub(crate) ports: Vec<u16>,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.qemu.kill();
            let _ = self.qemu.wait();
        }
        let _ = self.decoder.kill();
        let _ = self.decoder.wait();
    }
}

impl Qemu {
    /// Boots `elf` with `args` on the semihosting command line and a
    /// forward from a free host port on 127.0.0.1 to each of
    /// `guest_ports`; returns once the firmware has logged its network
    /// interface (QEMU's forwards are then listening).
    pub(crate) fn start(elf: &Path, guest_ports: &[u16], args: &[String]) -> Self {
        let mut last = String::new();
        for attempt in 1..=START_ATTEMPTS {
            let ports = free_ports(guest_ports.len());
            match Self::spawn(elf, guest_ports, &ports, args) {
                Ok(q) => return q,
                Err(e) if e.contains("forwarding") => {
                    eprintln!("QEMU attempt {attempt}: a host port was taken ({e}); retrying");
                    last = e;
                }
                Err(e) => panic!("QEMU did not start: {e}"),
            }
        }
        panic!("QEMU did not start after {START_ATTEMPTS} attempts: {last}");
    }

    fn spawn(elf: &Path, guest: &[u16], host: &[u16], args: &[String]) -> Result<Self, String> {
        let forwards: String = host
            .iter()
            .zip(guest)
            .map(|(h, g)| format!(",hostfwd=tcp:127.0.0.1:{h}-:{g}"))
            .collect();
        let name = elf
            .file_name()
            .map_or_else(|| "firmware".into(), |n| n.to_string_lossy().into_owned());
        let mut semihosting = format!("enable=on,target=native,arg={name}");
        for a in args {
            assert!(!a.contains(',') && !a.contains(' '), "argument {a:?}");
            semihosting.push_str(",arg=");
            semihosting.push_str(a);
        }
        let mut qemu_cmd = Command::new(tool(QEMU_VAR, "qemu-system-arm"));
        qemu_cmd
            .args(["-machine", "mps2-an385", "-cpu", "cortex-m3", "-nographic"])
            .args(["-monitor", "none", "-serial", "null"])
            .args(["-semihosting-config", &semihosting])
            .args(["-nic", &format!("user,model=lan9118{forwards}")])
            .arg("-kernel")
            .arg(elf)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut qemu = qemu_cmd
            .spawn()
            .map_err(|e| format!("cannot run {qemu_cmd:?}: {e}"))?;
        let (Some(out), Some(err)) = (qemu.stdout.take(), qemu.stderr.take()) else {
            let _ = qemu.kill();
            let _ = qemu.wait();
            return Err("no pipes".into());
        };
        let decoder = Command::new(tool(DEFMT_PRINT_VAR, "defmt-print"))
            .arg("-e")
            .arg(elf)
            .stdin(Stdio::from(out))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut decoder = match decoder {
            Ok(d) => d,
            Err(e) => {
                let _ = qemu.kill();
                let _ = qemu.wait();
                return Err(format!("cannot run defmt-print: {e}"));
            }
        };
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(out) = decoder.stdout.take() {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    eprintln!("[fw] {line}");
                    log.lock().unwrap().push(line);
                }
            });
        }
        {
            let stderr = Arc::clone(&stderr);
            thread::spawn(move || {
                let mut err = err;
                let mut buf = [0u8; 1024];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                    eprint!("[qemu] {text}");
                    stderr.lock().unwrap().push_str(&text);
                }
            });
        }
        let mut q = Self {
            qemu,
            decoder,
            log,
            stderr,
            status: None,
            ports: host.to_vec(),
        };
        let started = Instant::now();
        while started.elapsed() < BOOT_TIMEOUT {
            if q.has_log("interface ") {
                return Ok(q);
            }
            if let Ok(Some(status)) = q.qemu.try_wait() {
                q.status = Some(status);
                // Let the stderr thread catch up.
                thread::sleep(Duration::from_millis(100));
                return Err(format!(
                    "QEMU exited ({status}) before booting: {}",
                    q.stderr.lock().unwrap().trim()
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
        Err(format!(
            "no boot log after {BOOT_TIMEOUT:?}; QEMU said: {}",
            q.stderr.lock().unwrap().trim()
        ))
    }

    /// The decoded log so far.
    pub(crate) fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Whether a log line contains `needle`.
    pub(crate) fn has_log(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    /// Waits until a log line contains `needle`; panics after `timeout`.
    pub(crate) fn wait_log(&self, needle: &str, timeout: Duration) {
        let started = Instant::now();
        while !self.has_log(needle) {
            assert!(
                started.elapsed() < timeout,
                "no log line {needle:?} after {timeout:?}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Asserts that the log has a line containing each of `needles`, in
    /// that order.
    pub(crate) fn assert_log_in_order(&self, needles: &[&str]) {
        let log = self.log();
        let mut from = 0;
        for needle in needles {
            match log.iter().skip(from).position(|l| l.contains(needle)) {
                Some(i) => from += i + 1,
                None => panic!(
                    "the firmware log lacks {needle:?} (after line {from}); log:\n{}",
                    log.join("\n")
                ),
            }
        }
    }

    /// Waits for QEMU to exit; its exit status (the firmware's semihosting
    /// exit code), or `None` on timeout (QEMU is killed on drop).
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Ok(Some(status)) = self.qemu.try_wait() {
                self.status = Some(status);
                // The decoder ends at the end of QEMU's output.
                let _ = wait_child(&mut self.decoder, Duration::from_secs(5));
                return status.code();
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        thread::sleep(Duration::from_millis(10));
    }
    None
}

/// One decoded remote monitor event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ev {
    /// The event and its value.
    pub(crate) event: Event,
    /// Local endpoint.
    pub(crate) local: String,
    /// Remote endpoint.
    pub(crate) remote: String,
}

impl Ev {
    /// The event's name (`ACCEPTED`).
    pub(crate) fn name(&self) -> &'static str {
        self.event.name()
    }
}

/// A libzmq SUB on the firmware's remote monitor, subscribed to every
/// event; keeps what it decoded.
pub(crate) struct MonitorSub {
    socket: zmq::Socket,
    /// Every event received so far, in order.
    pub(crate) events: Vec<Ev>,
}

impl MonitorSub {
    /// Connects to the remote monitor on host port `port`.
    pub(crate) fn connect(ctx: &zmq::Context, port: u16) -> Self {
        let socket = ctx.socket(zmq::SUB).unwrap();
        socket.set_linger(0).unwrap();
        socket.set_rcvtimeo(100).unwrap();
        socket.set_subscribe(b"").unwrap();
        socket.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
        Self {
            socket,
            events: Vec::new(),
        }
    }

    /// Receives and decodes what arrived (waits up to 100 ms for the
    /// first message).
    pub(crate) fn poll(&mut self) {
        while let Ok(frames) = self.socket.recv_multipart(0) {
            let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            let (event, local, remote) =
                decode_v2(&refs).unwrap_or_else(|e| panic!("not a v2 monitor message: {e:?}"));
            let ev = Ev {
                event,
                local: String::from_utf8_lossy(local).into_owned(),
                remote: String::from_utf8_lossy(remote).into_owned(),
            };
            eprintln!(
                "[monitor] {} value={} local={} remote={}",
                ev.name(),
                ev.event.value(),
                ev.local,
                ev.remote
            );
            self.events.push(ev);
            // Keep reading without waiting once something came.
            self.socket.set_rcvtimeo(0).unwrap();
        }
        self.socket.set_rcvtimeo(100).unwrap();
    }

    /// Polls until `done(events)` holds; panics with `what` and the events
    /// seen after `timeout`.
    pub(crate) fn wait_for(&mut self, what: &str, timeout: Duration, done: impl Fn(&[Ev]) -> bool) {
        let started = Instant::now();
        loop {
            if done(&self.events) {
                return;
            }
            assert!(
                started.elapsed() < timeout,
                "no {what} after {timeout:?}; monitor events: {:#?}",
                self.events
            );
            self.poll();
        }
    }

    /// The events whose local endpoint ends with `suffix` (one bound
    /// socket's events, told apart by port: `":5555"`).
    pub(crate) fn events_for(&self, suffix: &str) -> Vec<&Ev> {
        self.events
            .iter()
            .filter(|e| e.local.ends_with(suffix))
            .collect()
    }

    /// The names of [`MonitorSub::events_for`].
    pub(crate) fn names_for(&self, suffix: &str) -> Vec<&'static str> {
        self.events_for(suffix).into_iter().map(Ev::name).collect()
    }
}
