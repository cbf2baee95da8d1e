//! pyzmq 27.3.0 (libzmq 4.3.5, built as libzmq's own build system builds
//! it on Linux) in a virtual environment cached under the target directory,
//! for the comparisons where libzmq 4.3.4 as the `zmq` crate builds it
//! differs from a standard build. Without python3 or the package registry
//! the callers skip those comparisons and say so.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pyzmq version.
pub const PYZMQ: &str = "27.3.0";

/// A Python interpreter with pyzmq [`PYZMQ`] (made once, then reused).
///
/// # Errors
///
/// Why there is none (no python3, no registry).
pub fn python() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = root.join(format!("pyzmq-{PYZMQ}-venv"));
    let python = venv.join("bin").join("python");
    let works = |py: &Path| {
        Command::new(py)
            .args(["-c", "import zmq"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works(&python) {
        return Ok(python);
    }
    // Built beside its final place and moved there in one step, so that a
    // concurrent run never sees half an environment.
    let tmp = root.join(format!("pyzmq-{PYZMQ}-venv.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let out = Command::new("python3")
        .arg("-m")
        .arg("venv")
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
            &format!("pyzmq=={PYZMQ}"),
        ])
        .output()
        .map_err(|e| format!("pip not available: {e}"))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(format!(
            "pip install pyzmq=={PYZMQ} failed (no registry?): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    if std::fs::rename(&tmp, &venv).is_err() && !works(&python) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err("could not place the virtual environment".to_owned());
    }
    if works(&python) {
        Ok(python)
    } else {
        Err("pyzmq does not import".to_owned())
    }
}
