//! Project automation. `cargo xtask test` runs every check.
//!
//! `cargo xtask test` is the project's one test command; CI runs it (through
//! `.ci/run`) on a clean clone. It runs these stages in order, and runs every
//! stage even when an earlier one failed, so one run reports every failure:
//!
//! 1. `fmt`: `cargo fmt --all -- --check`
//! 2. `clippy`: the workspace with `-D warnings`, then `zmtp-core` with
//!    `--no-default-features`, `--features defmt`, `--features log`,
//!    `--features curve` and `--no-default-features --features curve`, and
//!    `zmtp-smoltcp` with `defmt`, `proto-ipv6` and `curve`
//! 3. `test`: `cargo test --workspace --no-fail-fast`, counting libtest's
//!    `test result:` lines (unit, integration and doctests)
//! 4. `cross`: `zmtp-core` for `thumbv6m-none-eabi`, `thumbv7m-none-eabi` and
//!    `thumbv7em-none-eabihf` and `zmtp-smoltcp` for the first two, each
//!    without features, with `defmt`, `curve` and `curve,defmt`.
//!    Then `qemu core scenarios`: `core/qemu-tests` (the core's scenarios
//!    as no_std firmware) run on QEMU `microbit` and `lm3s6965evb`, each
//!    scenario counted as a test; qemu-system-arm is installed with apt-get
//!    if missing (see `nostd.rs`)
//! 5. `doc`: `cargo doc --workspace --no-deps` with `RUSTDOCFLAGS=-Dwarnings`
//! 6. `fuzz`: if `fuzz/` exists, `cargo +nightly fuzz build`, then a short run
//!    of every target listed by `cargo +nightly fuzz list`
//!    (`ZMTP_FUZZ_SECS` seconds each, default 20)
//! 7. `size`: hook for the firmware size report (not set up yet)
//! 8. `qemu`: the Cortex-M3 firmware in QEMU against libzmq on the host
//!    (installs qemu-system-arm and defmt-print when missing; see `qemu.rs`)
//!
//! `cargo xtask test --quick` runs stages 1 to 3 only.
//!
//! Counting: every check that is not a libtest test (fmt, each clippy run,
//! each cross-build, the doc build, the fuzz build, each fuzz run) counts as
//! one passed or one failed. libtest tests count individually. Installing a
//! missing tool, and querying a tool (listing fuzz targets), count only when
//! they fail. The last line printed is exactly `N passed, N failed`, and the
//! exit code is 0 if and only if nothing failed.
//!
//! Tools are installed when a stage needs them and they are missing: the
//! rustup targets before the cross-builds; the nightly toolchain and
//! cargo-fuzz before fuzzing, and only when `fuzz/` exists. An installer that
//! cannot install counts as a failure; nothing is skipped silently.

mod exec;
mod nostd;
#[path = "../../tests/support/pyvenv.rs"]
mod pyvenv;
mod qemu;
mod size;
mod tally;

use core::time::Duration;
use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use tally::{Tally, TestCounts};

/// Cortex-M targets the core must build for (no_std, no allocator).
const CROSS_TARGETS: [&str; 3] = [
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabihf",
];

/// Targets the smoltcp adapter is cross-built for (Cortex-M0 and M3).
const SMOLTCP_TARGETS: [&str; 2] = ["thumbv6m-none-eabi", "thumbv7m-none-eabi"];

/// Feature sets each cross-build is run with.
const CROSS_FEATURES: [Option<&str>; 2] = [None, Some("defmt")];

/// Further feature sets each cross-build is run with: CURVE.
const CURVE_CROSS_FEATURES: [Option<&str>; 2] = [Some("curve"), Some("curve,defmt")];

/// The toolchain `cargo fuzz` runs on (sanitizers need nightly).
const FUZZ_TOOLCHAIN: &str = "nightly";

/// The cargo-fuzz release the fuzz stage is pinned to.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Environment variable overriding the seconds each fuzz target runs.
const FUZZ_SECS_VAR: &str = "ZMTP_FUZZ_SECS";

/// Seconds each fuzz target runs when `ZMTP_FUZZ_SECS` is not set.
const DEFAULT_FUZZ_SECS: u64 = 20;

/// Slack on top of the fuzzing time before a fuzz run is considered hung and
/// killed (covers start-up and a possible rebuild).
const FUZZ_GRACE_SECS: u64 = 60;

/// libFuzzer's memory limit for each run, in MiB.
const FUZZ_RSS_LIMIT_MB: u32 = 2048;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test            run every check: fmt, clippy, host tests, no_std cross-builds,
                  docs, fuzzing (if fuzz/ exists) and the size report
  test --quick    fmt, clippy and host tests only
  size            build the size firmware and print the flash/RAM report
  qemu            the QEMU firmware tests alone (stage `qemu firmware` of `test`)
  help            print this message

The last line of `test` is `N passed, N failed`; the exit code is 0 iff 0 failed.
Missing rustup targets, the nightly toolchain and cargo-fuzz are installed on demand,
and so are qemu-system-arm (apt-get) and defmt-print for the QEMU tests.

environment:
  ZMTP_FUZZ_SECS  seconds each fuzz target runs (default 20)
";

/// State shared by all stages.
struct Ctx {
    /// Workspace root; every command runs there.
    root: PathBuf,
    /// Totals so far.
    tally: Tally,
}

impl Ctx {
    /// A `cargo` command (through rustup's proxy, so `+nightly` works) run
    /// from the workspace root.
    fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("cargo");
        cmd.args(args).current_dir(&self.root);
        cmd
    }

    /// A `rustup` command run from the workspace root.
    fn rustup(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("rustup");
        cmd.args(args).current_dir(&self.root);
        cmd
    }

    /// Run `cmd` with output passed through and count it as one check.
    fn check(&mut self, name: &str, mut cmd: Command) {
        let ok = exec::run(&mut cmd);
        self.tally.check(name, ok);
    }
}

/// One stage: a name for the header and the function that runs it.
type Stage = (&'static str, fn(&mut Ctx));

/// Every stage, in the order `cargo xtask test` runs them.
const STAGES: [Stage; 9] = [
    ("fmt", stage_fmt),
    ("clippy", stage_clippy),
    ("host tests", stage_test),
    ("no_std cross-builds", stage_cross),
    ("qemu core scenarios", nostd::stage_qemu_core),
    ("docs", stage_doc),
    ("fuzz", stage_fuzz),
    ("size", stage_size),
    ("qemu firmware", qemu::stage),
];

/// How many leading stages `--quick` runs (fmt, clippy, host tests).
const QUICK_STAGES: usize = 3;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["test"] => test(false),
        ["test", "--quick"] => test(true),
        ["size"] => size_command(),
        ["qemu"] => qemu::command(),
        ["help" | "--help" | "-h"] => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        [] => {
            eprintln!("error: no command given\n");
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
        other => {
            eprintln!("error: unknown command `{}`\n", other.join(" "));
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The workspace root: the parent of this package's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// `cargo xtask test [--quick]`.
fn test(quick: bool) -> ExitCode {
    let mut ctx = Ctx {
        root: workspace_root(),
        tally: Tally::default(),
    };
    let stages = if quick {
        STAGES.get(..QUICK_STAGES).unwrap_or(&STAGES)
    } else {
        &STAGES
    };
    let total = stages.len();
    let started = Instant::now();
    for (index, (name, stage)) in stages.iter().enumerate() {
        println!();
        println!("==> stage {}/{total}: {name}", index.saturating_add(1));
        exec::flush();
        let stage_started = Instant::now();
        stage(&mut ctx);
        println!(
            "<== {name} done in {:.1}s",
            stage_started.elapsed().as_secs_f64()
        );
    }
    println!();
    println!(
        "==> summary ({:.1}s{})",
        started.elapsed().as_secs_f64(),
        if quick { ", --quick" } else { "" }
    );
    for failure in ctx.tally.failures() {
        println!("FAILED: {failure}");
    }
    println!("{}", ctx.tally.summary_line());
    exec::flush();
    if ctx.tally.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Stage 1: formatting.
fn stage_fmt(ctx: &mut Ctx) {
    let cmd = ctx.cargo(&["fmt", "--all", "--", "--check"]);
    ctx.check("fmt", cmd);
    // The fuzz crate and the firmware are workspaces of their own.
    for dir in ["fuzz", "examples/firmware"] {
        let manifest = format!("{dir}/Cargo.toml");
        if ctx.root.join(&manifest).is_file() {
            let cmd = ctx.cargo(&["fmt", "--manifest-path", &manifest, "--", "--check"]);
            ctx.check(&format!("fmt {dir}"), cmd);
        }
    }
}

/// Stage 2: clippy with warnings denied, for the whole workspace and for
/// each feature set of `zmtp-core`.
fn stage_clippy(ctx: &mut Ctx) {
    let cmd = ctx.cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    ctx.check("clippy --workspace", cmd);
    let variants: [(&str, &[&str]); 8] = [
        ("zmtp-core", &["--no-default-features"]),
        ("zmtp-core", &["--features", "defmt"]),
        ("zmtp-core", &["--features", "log"]),
        ("zmtp-core", &["--features", "curve"]),
        (
            "zmtp-core",
            &["--no-default-features", "--features", "curve"],
        ),
        ("zmtp-smoltcp", &["--features", "defmt"]),
        ("zmtp-smoltcp", &["--features", "proto-ipv6"]),
        ("zmtp-smoltcp", &["--features", "curve"]),
    ];
    for (package, features) in variants {
        let mut args = vec!["clippy", "-p", package, "--all-targets"];
        args.extend_from_slice(features);
        args.extend_from_slice(&["--", "-D", "warnings"]);
        let cmd = ctx.cargo(&args);
        ctx.check(&format!("clippy -p {package} {}", features.join(" ")), cmd);
    }
}

/// Stage 3: host tests. Counts individual tests from libtest's summary
/// lines. `--no-fail-fast` keeps going after a failing test binary so every
/// failure is counted.
fn stage_test(ctx: &mut Ctx) {
    prepare_python(&ctx.root);
    let mut cmd = ctx.cargo(&["test", "--workspace", "--no-fail-fast"]);
    let mut counts = TestCounts::default();
    let ok = exec::run_tee(&mut cmd, |line| counts.add_line(line));
    println!(
        "host tests: {} passed, {} failed (from {} test result line(s))",
        counts.passed, counts.failed, counts.summaries
    );
    ctx.tally.tests(&counts, "host tests");
    if !ok && counts.failed == 0 {
        // Something failed that is not a test (a build error, a crashed
        // harness): it must not pass unnoticed.
        ctx.tally
            .fail("cargo test --workspace (failed without a failing test: build error?)");
    } else if ok && counts.failed > 0 {
        ctx.tally
            .fail("cargo test --workspace (exit status 0 despite failing tests)");
    }
    // The README's main job and the core demo check their own event flows
    // and exit non-zero when they differ from libzmq's.
    for example in ["monitor", "core_demo"] {
        let cmd = ctx.cargo(&["run", "-p", "zmtp-examples", "--example", example]);
        ctx.check(&format!("example {example}"), cmd);
    }
    // The benchmark sweep in a tiny configuration, so it cannot rot. It
    // fails only when a stack does not deliver, never on a figure.
    let cmd = ctx.cargo(&["run", "-p", "zmtp-bench", "--bin", "sweep", "--", "--smoke"]);
    ctx.check("benchmark smoke run", cmd);
    // The core's criterion benchmarks, each run once (criterion's test
    // mode): their set-up and checks stay working.
    let cmd = ctx.cargo(&["test", "-p", "zmtp-core", "--benches"]);
    ctx.check("core benchmarks, run once each", cmd);
}

/// Makes the Python environments of the reference peers (pyzmq, PyNaCl)
/// where the tests look for them (`CARGO_TARGET_TMPDIR`), once, before the
/// tests run: on a fresh machine that is a download, better not done inside
/// the first tests that need them. A failure is not counted here: those
/// tests try again and say why they skip their comparison.
fn prepare_python(root: &Path) {
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let tmp = target.join("tmp");
    if let Err(e) = std::fs::create_dir_all(&tmp) {
        println!("note: cannot create {}: {e}", tmp.display());
        return;
    }
    for (what, made) in [
        ("pyzmq", pyvenv::pyzmq(&tmp)),
        ("PyNaCl", pyvenv::pynacl(&tmp)),
    ] {
        match made {
            Ok(python) => println!("python environment for {what}: {}", python.display()),
            Err(e) => println!("note: no python environment for {what} yet: {e}"),
        }
    }
    exec::flush();
}

/// Stage 4: `zmtp-core` for each Cortex-M target, with and without defmt.
fn stage_cross(ctx: &mut Ctx) {
    ensure_targets(ctx);
    for (package, target) in CROSS_TARGETS
        .into_iter()
        .map(|t| ("zmtp-core", t))
        .chain(SMOLTCP_TARGETS.into_iter().map(|t| ("zmtp-smoltcp", t)))
    {
        for &features in CROSS_FEATURES.iter().chain(&CURVE_CROSS_FEATURES) {
            let mut args = vec!["build", "-p", package, "--target", target];
            let mut name = format!("build {package} --target {target}");
            if let Some(features) = features {
                args.extend_from_slice(&["--features", features]);
                name.push_str(" --features ");
                name.push_str(features);
            }
            let cmd = ctx.cargo(&args);
            ctx.check(&name, cmd);
        }
    }
}

/// Stage 5: API docs with rustdoc warnings denied.
fn stage_doc(ctx: &mut Ctx) {
    let mut cmd = ctx.cargo(&["doc", "--workspace", "--no-deps"]);
    cmd.env("RUSTDOCFLAGS", "-Dwarnings");
    ctx.check("doc", cmd);
}

/// Stage 6: build every fuzz target, then run each one briefly.
///
/// `fuzz/` is a cargo-fuzz crate with its own `[workspace]`. Without it, the
/// stage says so and counts nothing. Each run is killed if it outlives its
/// fuzzing time by more than [`FUZZ_GRACE_SECS`].
fn stage_fuzz(ctx: &mut Ctx) {
    if !ctx.root.join("fuzz").is_dir() {
        println!("no fuzz/ directory: no fuzz targets to build or run (nothing counted)");
        return;
    }
    let secs = match fuzz_secs(env::var(FUZZ_SECS_VAR).ok().as_deref()) {
        Ok(secs) => secs,
        Err(msg) => {
            println!("error: {msg}");
            ctx.tally.fail(&format!("fuzz: {msg}"));
            return;
        }
    };
    if !ensure_nightly(ctx) || !ensure_cargo_fuzz(ctx) {
        println!(
            "error: fuzzing needs the {FUZZ_TOOLCHAIN} toolchain and cargo-fuzz; not running it"
        );
        return;
    }
    warn_if_no_cxx();

    let toolchain = format!("+{FUZZ_TOOLCHAIN}");
    let cmd = ctx.cargo(&[&toolchain, "fuzz", "build"]);
    ctx.check("fuzz build", cmd);

    let listed = exec::query(&mut ctx.cargo(&[&toolchain, "fuzz", "list"]));
    let targets = match listed {
        Ok(stdout) => parse_fuzz_list(&stdout),
        Err(msg) => {
            println!("error: {msg}");
            ctx.tally.fail("fuzz list");
            return;
        }
    };
    if targets.is_empty() {
        ctx.tally
            .fail("fuzz list (fuzz/ exists but lists no targets)");
        return;
    }
    println!("fuzz targets: {} ({secs}s each)", targets.join(", "));

    let max_total_time = format!("-max_total_time={secs}");
    let rss_limit = format!("-rss_limit_mb={FUZZ_RSS_LIMIT_MB}");
    let limit = Duration::from_secs(secs.saturating_add(FUZZ_GRACE_SECS));
    for target in &targets {
        // New inputs go to the (ignored) corpus directory; the committed
        // seeds are read but never written.
        let corpus = format!("fuzz/corpus/{target}");
        let seeds = format!("fuzz/seeds/{target}");
        let mut cmd = ctx.cargo(&[
            &toolchain,
            "fuzz",
            "run",
            target,
            &corpus,
            &seeds,
            "--",
            &max_total_time,
            &rss_limit,
            "-create_missing_dirs=1",
        ]);
        let ok = exec::run_with_deadline(&mut cmd, limit);
        ctx.tally.check(&format!("fuzz run {target}"), ok);
    }
}

/// Stage 7: firmware size report. Builds the size firmware, prints flash
/// and RAM, and checks the core's flash against [`size::FLASH_BUDGET`].
fn stage_size(ctx: &mut Ctx) {
    ensure_targets(ctx);
    let mut lint = Command::new("cargo");
    lint.args([
        "clippy",
        "--release",
        "--bins",
        "--features",
        "plain,curve",
        "--",
        "-D",
        "warnings",
    ])
    .current_dir(ctx.root.join("examples").join("firmware"));
    ctx.check("clippy (size firmware)", lint);
    match build_size_report(ctx) {
        Ok(report) => {
            print!("{}", report.table());
            ctx.tally.check(
                &format!(
                    "flash added by zmtp-core: {} bytes (budget {})",
                    report.core_flash(),
                    size::FLASH_BUDGET
                ),
                report.within_budget(),
            );
        }
        Err(msg) => {
            println!("error: {msg}");
            ctx.tally.fail("size report");
        }
    }
}

/// Builds the size firmware (its own workspace under `examples/firmware`,
/// whose `.cargo/config.toml` selects the Cortex-M target) and reads it.
fn build_size_report(ctx: &mut Ctx) -> Result<size::Report, String> {
    let dir = ctx.root.join("examples").join("firmware");
    let mut cmd = Command::new("cargo");
    cmd.args(["build", "--release", "--bins"]).current_dir(&dir);
    // The mechanism variants are built on their own: features unify across
    // a build, and the NULL DEALER must not link them.
    let variant = |bin: &str, feature: &str| {
        let mut c = Command::new("cargo");
        c.args(["build", "--release", "--bin", bin, "--features", feature])
            .current_dir(&dir);
        c
    };
    let built = exec::run(&mut cmd)
        && exec::run(&mut variant("size-plain", "plain"))
        && exec::run(&mut variant("size-curve", "curve"));
    ctx.tally.check("size firmware build", built);
    if !built {
        return Err("the size firmware did not build".to_owned());
    }
    size::read_report(&dir.join("target").join(size::TARGET).join("release"))
}

/// `cargo xtask size`: builds the size firmware and prints the report.
fn size_command() -> ExitCode {
    let mut ctx = Ctx {
        root: workspace_root(),
        tally: Tally::default(),
    };
    ensure_targets(&mut ctx);
    match build_size_report(&mut ctx) {
        Ok(report) => {
            print!("{}", report.table());
            if report.within_budget() {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "flash added by zmtp-core exceeds {} bytes",
                    size::FLASH_BUDGET
                );
                ExitCode::FAILURE
            }
        }
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Seconds each fuzz target runs, from `ZMTP_FUZZ_SECS` (if set).
///
/// # Errors
///
/// A message if the value is not a whole number of seconds greater than 0.
fn fuzz_secs(value: Option<&str>) -> Result<u64, String> {
    let Some(value) = value else {
        return Ok(DEFAULT_FUZZ_SECS);
    };
    match value.trim().parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(secs),
        _ => Err(format!(
            "{FUZZ_SECS_VAR}={value:?} is not a whole number of seconds > 0"
        )),
    }
}

/// Target names from `cargo fuzz list` output (one per line).
fn parse_fuzz_list(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Add whichever of [`CROSS_TARGETS`] rustup does not list as installed.
/// A failure counts once; the builds then run anyway and fail on their own.
fn ensure_targets(ctx: &mut Ctx) {
    let installed = match exec::query(&mut ctx.rustup(&["target", "list", "--installed"])) {
        Ok(stdout) => stdout,
        Err(msg) => {
            println!("error: cannot list installed rustup targets: {msg}");
            ctx.tally
                .fail("install rustup targets (rustup target list failed)");
            return;
        }
    };
    let missing = missing_targets(&installed);
    if missing.is_empty() {
        println!("rustup targets present: {}", CROSS_TARGETS.join(", "));
        return;
    }
    println!("installing missing rustup targets: {}", missing.join(", "));
    let mut args = vec!["target", "add"];
    args.extend_from_slice(&missing);
    if !exec::run(&mut ctx.rustup(&args)) {
        ctx.tally
            .fail(&format!("install rustup targets {}", missing.join(" ")));
    }
}

/// The cross targets absent from `rustup target list --installed` output.
fn missing_targets(installed: &str) -> Vec<&'static str> {
    CROSS_TARGETS
        .into_iter()
        .filter(|target| !installed.lines().any(|line| line.trim() == *target))
        .collect()
}

/// Make sure the nightly toolchain is installed. Returns whether it is.
fn ensure_nightly(ctx: &mut Ctx) -> bool {
    let listed = match exec::query(&mut ctx.rustup(&["toolchain", "list"])) {
        Ok(stdout) => stdout,
        Err(msg) => {
            println!("error: cannot list rustup toolchains: {msg}");
            ctx.tally
                .fail("install nightly toolchain (rustup toolchain list failed)");
            return false;
        }
    };
    if has_toolchain(&listed, FUZZ_TOOLCHAIN) {
        println!("{FUZZ_TOOLCHAIN} toolchain present");
        return true;
    }
    println!("installing the {FUZZ_TOOLCHAIN} toolchain");
    let ok = exec::run(&mut ctx.rustup(&[
        "toolchain",
        "install",
        FUZZ_TOOLCHAIN,
        "--profile",
        "minimal",
    ]));
    if !ok {
        ctx.tally
            .fail(&format!("install {FUZZ_TOOLCHAIN} toolchain"));
    }
    ok
}

/// Whether `rustup toolchain list` output names `channel`, either bare or
/// with a host triple (`nightly`, `nightly-x86_64-unknown-linux-gnu`), but
/// not a dated one (`nightly-2024-01-01-...`), which `+nightly` would not use.
fn has_toolchain(listed: &str, channel: &str) -> bool {
    listed.lines().any(|line| {
        let name = line.split_whitespace().next().unwrap_or("");
        match name.strip_prefix(channel) {
            Some("") => true,
            Some(rest) => rest
                .strip_prefix('-')
                .and_then(|triple| triple.chars().next())
                .is_some_and(|first| !first.is_ascii_digit()),
            None => false,
        }
    })
}

/// Make sure `cargo fuzz` works, installing the pinned cargo-fuzz if not.
/// Returns whether it works.
fn ensure_cargo_fuzz(ctx: &mut Ctx) -> bool {
    if exec::probe(&mut ctx.cargo(&["fuzz", "--version"])) {
        println!("cargo-fuzz present");
        return true;
    }
    println!("installing cargo-fuzz {CARGO_FUZZ_VERSION}");
    let installed = exec::run(&mut ctx.cargo(&[
        "install",
        "cargo-fuzz",
        "--locked",
        "--version",
        CARGO_FUZZ_VERSION,
    ]));
    let works = installed && exec::run(&mut ctx.cargo(&["fuzz", "--version"]));
    if !works {
        ctx.tally
            .fail(&format!("install cargo-fuzz {CARGO_FUZZ_VERSION}"));
    }
    works
}

/// libFuzzer is C++ and built by the `cc` crate; say so up front if no C++
/// compiler is found (the fuzz build would then fail, and count as failed).
fn warn_if_no_cxx() {
    let cxx = env::var("CXX").unwrap_or_else(|_| "c++".to_owned());
    if !exec::probe(Command::new(&cxx).arg("--version")) {
        println!(
            "warning: no C++ compiler `{cxx}` found; building libFuzzer needs one \
             (on Debian: apt-get install g++)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_secs_defaults_and_validates() {
        assert_eq!(fuzz_secs(None), Ok(20));
        assert_eq!(fuzz_secs(Some("5")), Ok(5));
        assert_eq!(fuzz_secs(Some(" 7\n")), Ok(7));
        assert!(fuzz_secs(Some("0")).is_err());
        assert!(fuzz_secs(Some("-3")).is_err());
        assert!(fuzz_secs(Some("ten")).is_err());
        assert!(fuzz_secs(Some("")).is_err());
    }

    #[test]
    fn fuzz_list_is_one_target_per_line() {
        assert_eq!(
            parse_fuzz_list("frame_decoder\n\ngreeting \nmonitor_event\n"),
            ["frame_decoder", "greeting", "monitor_event"]
        );
        assert!(parse_fuzz_list("\n").is_empty());
    }

    #[test]
    fn missing_targets_compares_whole_lines() {
        let all = "thumbv6m-none-eabi\nthumbv7em-none-eabihf\nthumbv7m-none-eabi\nx86_64-unknown-linux-gnu\n";
        assert!(missing_targets(all).is_empty());
        let some = "thumbv7em-none-eabihf\nx86_64-unknown-linux-gnu\n";
        assert_eq!(
            missing_targets(some),
            ["thumbv6m-none-eabi", "thumbv7m-none-eabi"]
        );
        assert_eq!(missing_targets("").len(), 3);
    }

    #[test]
    fn toolchain_list_matching() {
        let listed =
            "stable-x86_64-unknown-linux-gnu (active, default)\nnightly-x86_64-unknown-linux-gnu\n";
        assert!(has_toolchain(listed, "nightly"));
        assert!(has_toolchain("nightly\n", "nightly"));
        assert!(!has_toolchain(
            "stable-x86_64-unknown-linux-gnu (default)\n",
            "nightly"
        ));
        assert!(!has_toolchain(
            "nightly-2024-01-01-x86_64-unknown-linux-gnu\n",
            "nightly"
        ));
        assert!(!has_toolchain("", "nightly"));
    }

    #[test]
    fn stage_order_matches_the_documented_order() {
        let names: Vec<&str> = STAGES.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "fmt",
                "clippy",
                "host tests",
                "no_std cross-builds",
                "qemu core scenarios",
                "docs",
                "fuzz",
                "size",
                "qemu firmware"
            ]
        );
        assert_eq!(STAGES.get(..QUICK_STAGES).map(<[Stage]>::len), Some(3));
    }

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        let root = workspace_root();
        assert!(root.join("Cargo.toml").is_file());
        assert!(root.join("xtask").is_dir());
    }
}
