//! The `qemu` stage: the Cortex-M3 firmware of `examples/firmware/qemu` in
//! QEMU (`mps2-an385`, LAN9118 Ethernet, user networking) against libzmq on
//! the host.
//!
//! 1. Tools: `qemu-system-arm` (apt-get, if `qemu-system-arm --version`
//!    fails), `defmt-print` (`cargo install`, pinned), the
//!    `thumbv7m-none-eabi` target. A tool that cannot be installed counts as
//!    a failure and the stage stops.
//! 2. `cargo fmt --check` and `cargo clippy -D warnings` of the firmware
//!    (a workspace of its own), then its release build for
//!    `thumbv7m-none-eabi`; each counts as one check.
//! 3. Its flash and RAM, and ZeroMQ's share (`fw-server` minus
//!    `fw-baseline`, read from the ELF section headers like the size
//!    report), printed.
//! 4. The host tests `tests/tests/qemu_*.rs` with `ZMTP_FW_SERVER_ELF`,
//!    `ZMTP_FW_CLIENT_ELF` and `ZMTP_FW_SECURE_ELF` pointing at the ELF files, counted from
//!    libtest's summary lines. A test that says `skipped:` here counts as a
//!    failure: this stage is where they must run.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use crate::tally::TestCounts;
use crate::{Ctx, exec, size};

/// The firmware's target (Cortex-M3).
pub(crate) const TARGET: &str = "thumbv7m-none-eabi";
/// The defmt-print release the stage installs.
const DEFMT_PRINT_VERSION: &str = "1.2.0";
/// The firmware directory, relative to the workspace root.
const FIRMWARE_DIR: &str = "examples/firmware/qemu";
/// The host test targets (files `tests/tests/<name>.rs`).
const TESTS: [&str; 3] = ["qemu_server", "qemu_client", "qemu_secure"];
/// Environment variables naming the firmware ELF files for the tests.
const ELF_VARS: [(&str, &str); 3] = [
    ("ZMTP_FW_SERVER_ELF", "fw-server"),
    ("ZMTP_FW_CLIENT_ELF", "fw-client"),
    ("ZMTP_FW_SECURE_ELF", "fw-secure"),
];

/// The stage (see the module docs).
pub(crate) fn stage(ctx: &mut Ctx) {
    crate::ensure_targets(ctx);
    if !ensure_qemu(ctx) || !ensure_defmt_print(ctx) {
        println!("error: the QEMU tests need qemu-system-arm and defmt-print; not running them");
        return;
    }
    let Some(elves) = build(ctx) else {
        return;
    };
    match size_table(&elves) {
        Ok(table) => print!("{table}"),
        Err(msg) => {
            println!("error: {msg}");
            ctx.tally.fail("QEMU firmware size");
        }
    }
    run_tests(ctx, &elves);
}

/// `cargo xtask qemu`: the stage alone.
pub(crate) fn command() -> ExitCode {
    let mut ctx = Ctx {
        root: crate::workspace_root(),
        tally: crate::tally::Tally::default(),
    };
    stage(&mut ctx);
    for failure in ctx.tally.failures() {
        println!("FAILED: {failure}");
    }
    println!("{}", ctx.tally.summary_line());
    if ctx.tally.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Installs `qemu-system-arm` with apt-get unless it already runs.
fn ensure_qemu(ctx: &mut Ctx) -> bool {
    if exec::probe(Command::new("qemu-system-arm").arg("--version")) {
        println!("qemu-system-arm present");
        return true;
    }
    println!("installing qemu-system-arm (apt-get)");
    let updated = exec::run(Command::new("apt-get").args(["update"]));
    let installed = updated
        && exec::run(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args([
                    "install",
                    "-y",
                    "--no-install-recommends",
                    "qemu-system-arm",
                ]),
        );
    let works = installed && exec::run(Command::new("qemu-system-arm").arg("--version"));
    if !works {
        ctx.tally
            .fail("install qemu-system-arm (apt-get update && apt-get install qemu-system-arm)");
    }
    works
}

/// Installs the pinned `defmt-print` unless it already runs.
fn ensure_defmt_print(ctx: &mut Ctx) -> bool {
    if exec::probe(Command::new("defmt-print").arg("--version")) {
        println!("defmt-print present");
        return true;
    }
    println!("installing defmt-print {DEFMT_PRINT_VERSION}");
    let installed = exec::run(&mut ctx.cargo(&[
        "install",
        "defmt-print",
        "--locked",
        "--version",
        DEFMT_PRINT_VERSION,
    ]));
    let works = installed && exec::run(Command::new("defmt-print").arg("--version"));
    if !works {
        ctx.tally
            .fail(&format!("install defmt-print {DEFMT_PRINT_VERSION}"));
    }
    works
}

/// The ELF files of the firmware binaries, by binary name.
struct Elves {
    dir: PathBuf,
}

impl Elves {
    fn path(&self, bin: &str) -> PathBuf {
        self.dir.join(bin)
    }
}

/// fmt check, clippy and the release build of the firmware. `None` if
/// the build failed.
fn build(ctx: &mut Ctx) -> Option<Elves> {
    let dir = ctx.root.join(FIRMWARE_DIR);
    // Cargo commands run from the firmware directory so that its
    // `.cargo/config.toml` (target, linker script, DEFMT_LOG) applies.
    let cargo = |args: &[&str]| {
        let mut cmd = Command::new("cargo");
        cmd.args(args).current_dir(&dir);
        cmd
    };
    let fmt = exec::run(&mut cargo(&["fmt", "--", "--check"]));
    ctx.tally.check(&format!("fmt {FIRMWARE_DIR}"), fmt);
    let clippy = exec::run(&mut cargo(&[
        "clippy",
        "--release",
        "--target",
        TARGET,
        "--bins",
        "--features",
        "curve",
        "--",
        "-D",
        "warnings",
    ]));
    ctx.tally.check(&format!("clippy {FIRMWARE_DIR}"), clippy);
    // `fw-secure` needs CURVE; it is built on its own so that the other
    // binaries do not link it (features unify across a build).
    let built = exec::run(&mut cargo(&[
        "build",
        "--release",
        "--target",
        TARGET,
        "--bins",
    ])) && exec::run(&mut cargo(&[
        "build",
        "--release",
        "--target",
        TARGET,
        "--bin",
        "fw-secure",
        "--features",
        "curve",
    ]));
    ctx.tally
        .check(&format!("build {FIRMWARE_DIR} --target {TARGET}"), built);
    built.then(|| Elves {
        dir: dir.join("target").join(TARGET).join("release"),
    })
}

/// Flash and RAM of the firmware binaries and ZeroMQ's share, as a
/// Markdown table.
fn size_table(elves: &Elves) -> Result<String, String> {
    let read = |bin: &str| -> Result<size::Footprint, String> {
        let path = elves.path(bin);
        let elf =
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        size::footprint(&elf).ok_or_else(|| format!("{bin} is not a little-endian ELF32 file"))
    };
    let base = read("fw-baseline")?;
    let server = read("fw-server")?;
    let client = read("fw-client")?;
    let secure = read("fw-secure")?;
    let mut out = format!(
        "| measured on `{TARGET}`, opt-level \"z\", LTO | flash | RAM (static) |\n|---|---:|---:|\n"
    );
    for (name, fp) in [
        (
            "`fw-baseline`: LAN9118 driver, smoltcp, defmt, one TCP echo socket",
            base,
        ),
        (
            "`fw-server`: REP, PUB and the remote monitor (XPUB)",
            server,
        ),
        (
            "`fw-client`: REQ connecting out and the remote monitor",
            client,
        ),
        (
            "`fw-secure`: a PLAIN and a CURVE REP server, a ZAP handler, the remote monitor",
            secure,
        ),
    ] {
        out.push_str(&format!("| {name} | {} | {} |\n", fp.flash, fp.ram));
    }
    out.push_str(&format!(
        "| **ZeroMQ in `fw-server`** (`fw-server` minus `fw-baseline`) | **{}** | **{}** |\n",
        server.flash.saturating_sub(base.flash),
        server.ram.saturating_sub(base.ram)
    ));
    Ok(out)
}

/// The host tests with the ELF variables set.
fn run_tests(ctx: &mut Ctx, elves: &Elves) {
    let mut args = vec!["test", "-p", "zmtp-tests", "--no-fail-fast"];
    for t in TESTS {
        args.extend_from_slice(&["--test", t]);
    }
    // Show the firmware log and the monitor events in CI's output.
    args.extend_from_slice(&["--", "--nocapture", "--test-threads=1"]);
    let mut cmd = ctx.cargo(&args);
    for (var, bin) in ELF_VARS {
        cmd.env(var, elves.path(bin));
    }
    let mut counts = TestCounts::default();
    let mut skipped = 0u64;
    let ok = exec::run_tee(&mut cmd, |line| {
        counts.add_line(line);
        if line.starts_with("skipped:") {
            skipped = skipped.saturating_add(1);
        }
    });
    println!(
        "QEMU tests: {} passed, {} failed (from {} test result line(s))",
        counts.passed, counts.failed, counts.summaries
    );
    ctx.tally.tests(&counts, "QEMU tests");
    if skipped > 0 {
        ctx.tally
            .fail("QEMU tests (a test skipped although the firmware was built)");
    }
    if counts.summaries < u64::try_from(TESTS.len()).unwrap_or(u64::MAX) {
        ctx.tally
            .fail("QEMU tests (a test binary did not report: build error?)");
    } else if !ok && counts.failed == 0 {
        ctx.tally.fail("QEMU tests (failed without a failing test)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firmware_and_tests_exist() {
        let root = crate::workspace_root();
        assert!(root.join(FIRMWARE_DIR).join("Cargo.toml").is_file());
        for t in TESTS {
            assert!(root.join("tests/tests").join(format!("{t}.rs")).is_file());
        }
    }
}
