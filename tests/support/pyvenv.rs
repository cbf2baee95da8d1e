//! Python packages for tests that compare against reference peers (pyzmq,
//! whose wheels bundle libzmq 4.3.5 with CURVE; PyNaCl for libsodium): a
//! virtual environment per package and version, made once under the target
//! directory and reused. Without python3 or the package registry the
//! callers skip their comparison and say so. Included by `#[path]` from the
//! test crates that need it.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Environments this process has already looked for, with the outcome:
/// the tests of one binary run on parallel threads, and on a fresh machine
/// they would otherwise all build the same environment at once (sharing one
/// process id, each removing the others' half-built copy).
static MADE: Mutex<Vec<(PathBuf, Result<PathBuf, String>)>> = Mutex::new(Vec::new());

/// A Python interpreter in a virtual environment (under `root`, normally
/// the test's `CARGO_TARGET_TMPDIR`) with `package==version` installed, on
/// which the Python statement `check` runs without error.
///
/// # Errors
///
/// Why there is none: no python3, no registry, or `check` fails.
pub fn python(root: &Path, package: &str, version: &str, check: &str) -> Result<PathBuf, String> {
    let venv = root.join(format!("{package}-{version}-venv"));
    // Held while the environment is checked or built: the other threads
    // wait for the first one and reuse its outcome.
    let mut made = MADE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, outcome)) = made.iter().find(|(v, _)| *v == venv) {
        return outcome.clone();
    }
    let outcome = make(&venv, package, version, check);
    made.push((venv, outcome.clone()));
    outcome
}

/// Checks the environment at `venv` and builds it if it does not work.
fn make(venv: &Path, package: &str, version: &str, check: &str) -> Result<PathBuf, String> {
    let python = venv.join("bin").join("python");
    let works = |py: &Path| {
        Command::new(py)
            .args(["-c", check])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works(&python) {
        return Ok(python);
    }
    // Built beside its final place and moved there in one step, so that a
    // concurrent run never sees half an environment.
    let tmp = venv.with_file_name(format!("{package}-{version}-venv.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let out = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&tmp)
        .output()
        .map_err(|e| format!("python3 not available: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "python3 -m venv failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let out = Command::new(tmp.join("bin").join("pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--timeout",
            "30",
            &format!("{package}=={version}"),
        ])
        .output()
        .map_err(|e| format!("pip not available: {e}"))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(format!(
            "pip install {package}=={version} failed (no registry?): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    // Its interpreter finds the packages relative to its own place, so the
    // moved environment works (its pip script would not, and is not used).
    if std::fs::rename(&tmp, venv).is_err() && !works(&python) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err("could not place the virtual environment".to_owned());
    }
    if works(&python) {
        Ok(python)
    } else {
        Err(format!("{package} {version}: `{check}` fails"))
    }
}

/// The pyzmq release whose wheels bundle libzmq 4.3.5 with CURVE.
pub const PYZMQ: &str = "27.3.0";

/// A Python interpreter with pyzmq [`PYZMQ`] (CURVE-capable).
///
/// # Errors
///
/// As [`python`].
pub fn pyzmq(root: &Path) -> Result<PathBuf, String> {
    python(root, "pyzmq", PYZMQ, "import zmq; assert zmq.has('curve')")
}

/// The PyNaCl release the CURVE test vectors were checked with.
pub const PYNACL: &str = "1.6.2";

/// A Python interpreter with PyNaCl [`PYNACL`] (libsodium's boxes).
///
/// # Errors
///
/// As [`python`].
pub fn pynacl(root: &Path) -> Result<PathBuf, String> {
    python(root, "pynacl", PYNACL, "import nacl.bindings")
}
