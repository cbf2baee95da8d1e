//! Puts the board's `memory.x` where the cortex-m-rt linker script finds
//! it: thumbv6m (Cortex-M0) is QEMU's `microbit`, thumbv7m (Cortex-M3) is
//! `lm3s6965evb`.
use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=memory-microbit.x");
    println!("cargo:rerun-if-changed=memory-lm3s6965evb.x");
    let target = env::var("TARGET").unwrap_or_default();
    let memory = if target.starts_with("thumbv6m") {
        "memory-microbit.x"
    } else if target.starts_with("thumbv7m") {
        "memory-lm3s6965evb.x"
    } else {
        // Host builds (`cargo check` without --target) link nothing.
        return;
    };
    let Some(out) = env::var_os("OUT_DIR").map(PathBuf::from) else {
        println!("cargo:warning=OUT_DIR is not set");
        return;
    };
    if let Err(e) = fs::copy(memory, out.join("memory.x")) {
        println!("cargo:warning=cannot copy {memory}: {e}");
        return;
    }
    println!("cargo:rustc-link-search={}", out.display());
}
