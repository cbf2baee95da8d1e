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
