//! The core's scenarios as no_std firmware in QEMU (`core/qemu-tests`, a
//! workspace of its own): built for Cortex-M0 and Cortex-M3 and run on
//! QEMU's `microbit` and `lm3s6965evb` boards, each scenario counted as one
//! test.

use core::time::Duration;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use crate::exec;
use crate::tally::TestCounts;

use super::Ctx;

/// The firmware crate, relative to the workspace root.
const QEMU_TESTS_DIR: &str = "core/qemu-tests";

/// The firmware's binary name.
const QEMU_TESTS_BIN: &str = "zmtp-qemu-tests";

/// The Debian package that provides `qemu-system-arm`.
const QEMU_PACKAGE: &str = "qemu-system-arm";

/// How long one board may run the scenarios (they take well under a
/// second; the limit only catches a hung emulator).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// One emulated board.
struct Board {
    /// QEMU's `-machine`.
    machine: &'static str,
    /// QEMU's `-cpu`.
    cpu: &'static str,
    /// The Rust target the firmware is built for.
    target: &'static str,
}

/// The boards the scenarios run on.
const BOARDS: [Board; 2] = [
    Board {
        machine: "microbit",
        cpu: "cortex-m0",
        target: "thumbv6m-none-eabi",
    },
    Board {
        machine: "lm3s6965evb",
        cpu: "cortex-m3",
        target: "thumbv7m-none-eabi",
    },
];

/// Stage: check, build and run the no_std scenario firmware on every board.
pub(crate) fn stage_qemu_core(ctx: &mut Ctx) {
    let dir = ctx.root.join(QEMU_TESTS_DIR);
    if !dir.join("Cargo.toml").is_file() {
        ctx.tally.fail(&format!(
            "qemu core scenarios: {QEMU_TESTS_DIR}/Cargo.toml is missing"
        ));
        return;
    }
    let qemu_ok = ensure_qemu(ctx);
    super::ensure_targets(ctx);

    let mut fmt = Command::new("cargo");
    fmt.args(["fmt", "--", "--check"]).current_dir(&dir);
    ctx.check(&format!("fmt {QEMU_TESTS_DIR}"), fmt);

    for board in &BOARDS {
        let mut clippy = Command::new("cargo");
        clippy
            .args([
                "clippy",
                "--release",
                "--target",
                board.target,
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(&dir);
        ctx.check(
            &format!("clippy {QEMU_TESTS_DIR} --target {}", board.target),
            clippy,
        );

        let mut build = Command::new("cargo");
        build
            .args(["build", "--release", "--target", board.target])
            .current_dir(&dir);
        let built = exec::run(&mut build);
        ctx.tally.check(
            &format!("build {QEMU_TESTS_DIR} --target {}", board.target),
            built,
        );
        if !built || !qemu_ok {
            ctx.tally.fail(&format!(
                "qemu {}: not run ({})",
                board.machine,
                if built {
                    "qemu-system-arm is missing"
                } else {
                    "the firmware did not build"
                }
            ));
            continue;
        }
        let elf = dir
            .join("target")
            .join(board.target)
            .join("release")
            .join(QEMU_TESTS_BIN);
        let mut qemu = Command::new("qemu-system-arm");
        qemu.args([
            "-machine",
            board.machine,
            "-cpu",
            board.cpu,
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "none",
            "-semihosting-config",
            "enable=on,target=native",
            "-kernel",
        ])
        .arg(&elf);
        let run = run_captured(&mut qemu, RUN_LIMIT);
        record_run(ctx, board.machine, &run);
    }
}

/// What one emulator run printed and how it ended.
#[derive(Debug, Default)]
struct Run {
    /// Its standard output, line by line.
    lines: Vec<String>,
    /// Its exit status, if it ended by itself.
    status: Option<ExitStatus>,
    /// Why it did not end by itself (timeout, could not start).
    error: Option<String>,
}

/// Counts one board's run: its scenarios as tests, and a failure if the
/// run timed out, exited non-zero, or printed no (or an inconsistent)
/// summary.
fn record_run(ctx: &mut Ctx, machine: &str, run: &Run) {
    let label = format!("qemu {machine} core scenarios");
    let report = parse_report(&run.lines);
    for name in &report.failed_names {
        println!("FAILED: {label}: {name}");
    }
    match report.summary {
        Some((passed, failed)) => {
            println!("{label}: {passed} passed, {failed} failed");
            ctx.tally.tests(
                &TestCounts {
                    passed,
                    failed,
                    summaries: 1,
                    failed_names: report.failed_names.clone(),
                },
                &label,
            );
            let listed = report.ok.saturating_add(report.failed_names.len() as u64);
            if listed != passed.saturating_add(failed) {
                ctx.tally.fail(&format!(
                    "{label}: {listed} scenario line(s) but the summary counts {}",
                    passed.saturating_add(failed)
                ));
            }
        }
        None => ctx
            .tally
            .fail(&format!("{label}: no `N passed, N failed` line")),
    }
    if let Some(error) = &run.error {
        ctx.tally.fail(&format!("{label}: {error}"));
    } else if let Some(status) = run.status
        && !status.success()
    {
        ctx.tally
            .fail(&format!("{label}: qemu exited with {status}"));
    }
}

/// What the firmware reported.
#[derive(Debug, Default, PartialEq, Eq)]
struct Report {
    /// `ok <name>` lines.
    ok: u64,
    /// The names of `FAILED <name>: ...` lines.
    failed_names: Vec<String>,
    /// The closing `N passed, N failed` line.
    summary: Option<(u64, u64)>,
}

/// Reads the firmware's output.
fn parse_report(lines: &[String]) -> Report {
    let mut report = Report::default();
    for line in lines {
        let line = line.trim_end();
        if line.starts_with("ok ") {
            report.ok = report.ok.saturating_add(1);
        } else if let Some(rest) = line.strip_prefix("FAILED ") {
            let name = rest.split(':').next().unwrap_or(rest);
            report.failed_names.push(name.to_owned());
        } else if let Some(counts) = parse_summary(line) {
            report.summary = Some(counts);
        }
    }
    report
}

/// `N passed, N failed` exactly.
fn parse_summary(line: &str) -> Option<(u64, u64)> {
    let (passed, failed) = line.trim().split_once(", ")?;
    let passed = passed.strip_suffix(" passed")?.parse().ok()?;
    let failed = failed.strip_suffix(" failed")?.parse().ok()?;
    Some((passed, failed))
}

/// Runs `cmd`, echoing and collecting its standard output, killing it (and
/// its process group) if it outlives `limit`.
fn run_captured(cmd: &mut Command, limit: Duration) -> Run {
    println!("$ {}", exec::display(cmd));
    exec::flush();
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
    {
        Ok(child) => child,
        Err(err) => {
            return Run {
                error: Some(format!("could not run `{}`: {err}", exec::display(cmd))),
                ..Run::default()
            };
        }
    };
    let (tx, rx) = mpsc::channel();
    let reader = child.stdout.take().map(|stdout| {
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                println!("{line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
    });
    let started = Instant::now();
    let mut run = Run::default();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                run.status = Some(status);
                break;
            }
            Ok(None) if started.elapsed() >= limit => {
                run.error = Some(format!("still running after {}s; killed", limit.as_secs()));
                let group = format!("-{}", child.id());
                let killed = Command::new("kill")
                    .args(["-KILL", "--", &group])
                    .stdin(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if !killed {
                    let _ = child.kill();
                }
                let _ = child.wait();
                break;
            }
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(err) => {
                run.error = Some(format!("waiting for qemu: {err}"));
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
        }
    }
    if let Some(reader) = reader {
        let _ = reader.join();
    }
    run.lines = rx.try_iter().collect();
    exec::flush();
    run
}

/// Makes sure `qemu-system-arm` runs, installing it with apt-get if not.
/// A failed install counts as a failure. Returns whether it runs.
fn ensure_qemu(ctx: &mut Ctx) -> bool {
    if exec::probe(Command::new("qemu-system-arm").arg("--version")) {
        println!("qemu-system-arm present");
        return true;
    }
    println!("installing {QEMU_PACKAGE} with apt-get");
    let updated = exec::run(Command::new("apt-get").arg("update"));
    let installed = updated
        && exec::run(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "--no-install-recommends", QEMU_PACKAGE]),
        );
    let works = installed && exec::probe(Command::new("qemu-system-arm").arg("--version"));
    if !works {
        println!("error: cannot install {QEMU_PACKAGE}; the QEMU scenarios cannot run");
        ctx.tally.fail(&format!("install {QEMU_PACKAGE} (apt-get)"));
    }
    works
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn summary_line_is_exact() {
        assert_eq!(parse_summary("16 passed, 0 failed"), Some((16, 0)));
        assert_eq!(parse_summary("3 passed, 2 failed\r"), Some((3, 2)));
        assert_eq!(parse_summary("16 passed; 0 failed"), None);
        assert_eq!(parse_summary("x passed, 0 failed"), None);
        assert_eq!(parse_summary("ok passed_things"), None);
    }

    #[test]
    fn report_counts_scenario_lines_and_failures() {
        let out = lines(
            "ok handshake\nFAILED router_routing: line 12: socket 0 received nothing\nok max\n2 passed, 1 failed\n",
        );
        assert_eq!(
            parse_report(&out),
            Report {
                ok: 2,
                failed_names: vec!["router_routing".to_owned()],
                summary: Some((2, 1)),
            }
        );
    }

    #[test]
    fn a_panic_leaves_no_summary() {
        let out = lines("ok a\nPANIC: panicked at src/x.rs:1:1:\nboom\n");
        let report = parse_report(&out);
        assert_eq!(report.summary, None);
        assert_eq!(report.ok, 1);
    }

    #[test]
    fn captured_run_sees_lines_and_status() {
        let run = run_captured(
            Command::new("sh").args(["-c", "echo one; echo '1 passed, 0 failed'; exit 3"]),
            Duration::from_secs(30),
        );
        assert_eq!(run.lines, ["one", "1 passed, 0 failed"]);
        assert_eq!(run.status.and_then(|s| s.code()), Some(3));
        assert!(run.error.is_none());
    }

    #[test]
    fn captured_run_is_killed_at_the_limit() {
        let started = Instant::now();
        let run = run_captured(
            Command::new("sh").args(["-c", "echo start; sleep 30 & wait"]),
            Duration::from_millis(300),
        );
        assert!(run.error.is_some());
        assert_eq!(run.lines, ["start"]);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
