//! Running child processes: echo the command, stream its output, report
//! success as a `bool` (failures are explained on the console, never hidden).

use core::time::Duration;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::Instant;

/// How often a deadline-guarded child is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Flush stdout so our own lines stay in order with the child's output.
pub(crate) fn flush() {
    // A closed stdout is not worth failing a check over.
    let _ = io::stdout().flush();
}

/// The command as a shell-like line: `ENV=value program arg ...`.
pub(crate) fn display(cmd: &Command) -> String {
    let mut words: Vec<String> = Vec::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            words.push(format!(
                "{}={}",
                key.to_string_lossy(),
                value.to_string_lossy()
            ));
        }
    }
    words.push(cmd.get_program().to_string_lossy().into_owned());
    for arg in cmd.get_args() {
        words.push(arg.to_string_lossy().into_owned());
    }
    words.join(" ")
}

/// Print the command line the way CI logs show it.
fn announce(cmd: &Command) {
    println!("$ {}", display(cmd));
    flush();
}

/// Explain a non-zero exit.
fn report_status(cmd: &Command, status: ExitStatus) -> bool {
    if status.success() {
        true
    } else {
        println!("command failed ({status}): {}", display(cmd));
        false
    }
}

/// Explain a process that could not be started or waited for.
fn report_io_error(cmd: &Command, err: &io::Error) -> bool {
    println!("error: could not run `{}`: {err}", display(cmd));
    false
}

/// Run `cmd` with stdout and stderr passed straight through.
/// Returns whether it exited with status 0.
pub(crate) fn run(cmd: &mut Command) -> bool {
    announce(cmd);
    match cmd.status() {
        Ok(status) => report_status(cmd, status),
        Err(err) => report_io_error(cmd, &err),
    }
}

/// Run `cmd`, echoing its stdout line by line while handing each line to
/// `on_line`; stderr is passed straight through.
/// Returns whether it exited with status 0.
pub(crate) fn run_tee(cmd: &mut Command, mut on_line: impl FnMut(&str)) -> bool {
    announce(cmd);
    let mut child = match cmd.stdout(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(err) => return report_io_error(cmd, &err),
    };
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) if !buf.ends_with(b"\n") => {
                    // Last line without a newline: keep our own lines apart.
                    let line = String::from_utf8_lossy(&buf);
                    println!("{line}");
                    on_line(&line);
                }
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    print!("{line}");
                    flush();
                    on_line(&line);
                }
                Err(err) => {
                    println!("error: reading output of `{}`: {err}", display(cmd));
                    break;
                }
            }
        }
    }
    match child.wait() {
        Ok(status) => report_status(cmd, status),
        Err(err) => report_io_error(cmd, &err),
    }
}

/// Run `cmd` and return its stdout; stderr is passed straight through.
///
/// # Errors
///
/// A message saying why, if the command could not run or exited non-zero.
pub(crate) fn query(cmd: &mut Command) -> Result<String, String> {
    announce(cmd);
    let output = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|err| format!("could not run `{}`: {err}", display(cmd)))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!("`{}` failed ({})", display(cmd), output.status))
    }
}

/// Run `cmd` quietly and report only whether it exited with status 0
/// (used to probe for installed tools).
pub(crate) fn probe(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Run `cmd` with output passed through, killing it (and everything it
/// started) if it is still running after `limit`.
///
/// The child gets its own process group so that the kill also reaches the
/// processes it spawned (cargo-fuzz runs the fuzz binary as a child).
pub(crate) fn run_with_deadline(cmd: &mut Command, limit: Duration) -> bool {
    announce(cmd);
    let mut child = match cmd.stdin(Stdio::null()).process_group(0).spawn() {
        Ok(child) => child,
        Err(err) => return report_io_error(cmd, &err),
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return report_status(cmd, status),
            Ok(None) if started.elapsed() >= limit => {
                println!(
                    "error: `{}` still running after {}s; killing it",
                    display(cmd),
                    limit.as_secs()
                );
                kill_group(&mut child);
                return false;
            }
            Ok(None) => thread::sleep(POLL_INTERVAL),
            Err(err) => {
                kill_group(&mut child);
                return report_io_error(cmd, &err);
            }
        }
    }
}

/// Kill the child's whole process group, then reap the child.
fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let killed_group = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !killed_group {
        println!("warning: could not kill process group {group}; killing the child only");
        let _ = child.kill();
    }
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_shows_env_program_and_args() {
        let mut cmd = Command::new("cargo");
        cmd.env("RUSTDOCFLAGS", "-Dwarnings")
            .args(["doc", "--workspace", "--no-deps"]);
        assert_eq!(
            display(&cmd),
            "RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps"
        );
    }

    #[test]
    fn run_reports_exit_status() {
        assert!(run(&mut Command::new("true")));
        assert!(!run(&mut Command::new("false")));
        assert!(!run(&mut Command::new("a-program-that-does-not-exist")));
    }

    #[test]
    fn run_tee_sees_every_line() {
        let mut lines = Vec::new();
        let ok = run_tee(Command::new("printf").arg("one\ntwo\nthree"), |line| {
            lines.push(line.trim_end().to_owned())
        });
        assert!(ok);
        assert_eq!(lines, ["one", "two", "three"]);
    }

    #[test]
    fn query_returns_stdout_or_an_error() {
        assert_eq!(query(Command::new("echo").arg("hi")).unwrap(), "hi\n");
        assert!(query(&mut Command::new("false")).is_err());
    }

    #[test]
    fn deadline_kills_a_hung_process_group() {
        // A shell that starts a grandchild and waits: both must die.
        let started = Instant::now();
        let ok = run_with_deadline(
            Command::new("sh").args(["-c", "sleep 30 & wait"]),
            Duration::from_millis(300),
        );
        assert!(!ok);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn deadline_passes_through_a_quick_success() {
        assert!(run_with_deadline(
            &mut Command::new("true"),
            Duration::from_secs(30)
        ));
    }
}
