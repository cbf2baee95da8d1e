//! Puts this package's `memory.x` where cortex-m-rt's `link.x` finds it and
//! adds defmt's linker script. `-Tlink.x` itself comes from the firmware
//! workspace's `.cargo/config.toml` (every ARM bare-metal target there).
use std::{env, fs, path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
    let Some(out) = env::var_os("OUT_DIR").map(PathBuf::from) else {
        eprintln!("OUT_DIR is not set");
        return ExitCode::FAILURE;
    };
    if let Err(e) = fs::copy("memory.x", out.join("memory.x")) {
        eprintln!("cannot copy memory.x to {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    println!("cargo:rerun-if-changed=memory.x");
    ExitCode::SUCCESS
}
