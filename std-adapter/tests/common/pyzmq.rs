//! pyzmq 27.3.0 (libzmq 4.3.5, built as libzmq's own build system builds
//! it on Linux) in a virtual environment cached under the target directory,
//! for the comparisons where libzmq 4.3.4 as the `zmq` crate builds it
//! differs from a standard build. Without python3 or the package registry
//! the callers skip those comparisons and say so.
#![allow(dead_code, unreachable_pub, missing_docs)]

#[path = "../../../tests/support/pyvenv.rs"]
mod pyvenv;

use std::path::{Path, PathBuf};

/// The pyzmq version.
pub const PYZMQ: &str = pyvenv::PYZMQ;

/// A Python interpreter with pyzmq [`PYZMQ`] (made once, then reused).
///
/// # Errors
///
/// Why there is none (no python3, no registry).
pub fn python() -> Result<PathBuf, String> {
    pyvenv::pyzmq(Path::new(env!("CARGO_TARGET_TMPDIR")))
}

/// Starts `python -c script args...` with stdin and stdout piped, and a
/// thread that hands each stdout line, through `map`, to the returned
/// channel until the process closes its stdout or the receiver is gone.
pub fn spawn_lines<T: Send + 'static>(
    python: &Path,
    script: &str,
    args: &[&str],
    map: impl Fn(String) -> T + Send + 'static,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<T>,
    std::thread::JoinHandle<()>,
) {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(map(line)).is_err() {
                break;
            }
        }
    });
    (child, lines, reader)
}
