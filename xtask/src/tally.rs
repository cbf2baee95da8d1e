//! Counting checks and tests, and reading libtest's summary lines.

/// Running totals for one `cargo xtask test` invocation.
///
/// A check that is not a libtest test (fmt, one clippy run, one cross-build,
/// the doc build, one fuzz run, ...) counts as exactly one passed or one failed
/// entry. libtest tests count individually.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    passed: u64,
    failed: u64,
    /// Human-readable names of everything that failed, in order.
    failures: Vec<String>,
}

impl Tally {
    /// Record one check that is not a libtest test.
    pub(crate) fn check(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed = self.passed.saturating_add(1);
            println!("ok: {name}");
        } else {
            self.fail(name);
        }
    }

    /// Record one failed check (also used for installers and tool queries that
    /// only count when they fail).
    pub(crate) fn fail(&mut self, name: &str) {
        self.failed = self.failed.saturating_add(1);
        self.failures.push(name.to_owned());
        println!("FAILED: {name}");
    }

    /// Record libtest tests counted from `test result:` lines.
    pub(crate) fn tests(&mut self, counts: &TestCounts, label: &str) {
        self.passed = self.passed.saturating_add(counts.passed);
        self.failed = self.failed.saturating_add(counts.failed);
        if counts.failed > 0 {
            self.failures
                .push(format!("{label}: {} test(s) failed", counts.failed));
            for name in &counts.failed_names {
                self.failures.push(format!("{label}: {name}"));
            }
        }
    }

    /// Number of failed entries so far.
    pub(crate) const fn failed(&self) -> u64 {
        self.failed
    }

    /// Names of the failed entries so far.
    pub(crate) fn failures(&self) -> &[String] {
        &self.failures
    }

    /// The final line, exactly `N passed, N failed`.
    pub(crate) fn summary_line(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failed)
    }
}

/// Passed and failed counts summed over libtest `test result:` lines, and the
/// names of the tests libtest reported as failed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct TestCounts {
    /// Tests that passed.
    pub(crate) passed: u64,
    /// Tests that failed.
    pub(crate) failed: u64,
    /// How many `test result:` lines were seen (one per test binary and one
    /// per doctest run).
    pub(crate) summaries: u64,
    /// Names from `test <name> ... FAILED` lines, in order, so the summary at
    /// the end of a long log says which tests failed.
    pub(crate) failed_names: Vec<String>,
}

impl TestCounts {
    /// Add one line of `cargo test` standard output. Lines other than
    /// libtest's summary line are ignored.
    ///
    /// The summary line looks like
    /// `test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s`
    /// (or `FAILED.` instead of `ok.`; the word may be wrapped in colour codes).
    pub(crate) fn add_line(&mut self, line: &str) {
        let line = line.trim_end();
        if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|rest| rest.strip_suffix(" ... FAILED"))
        {
            self.failed_names.push(name.to_owned());
            return;
        }
        let Some(rest) = line.strip_prefix("test result: ") else {
            return;
        };
        let mut passed = None;
        let mut failed = None;
        for part in rest.split(';') {
            let words: Vec<&str> = part.split_whitespace().collect();
            if let [.., count, kind] = words.as_slice() {
                let Ok(n) = count.parse::<u64>() else {
                    continue;
                };
                match *kind {
                    "passed" => passed = Some(n),
                    "failed" => failed = Some(n),
                    _ => {}
                }
            }
        }
        if let (Some(p), Some(f)) = (passed, failed) {
            self.passed = self.passed.saturating_add(p);
            self.failed = self.failed.saturating_add(f);
            self.summaries = self.summaries.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(text: &str) -> TestCounts {
        let mut c = TestCounts::default();
        for line in text.lines() {
            c.add_line(line);
        }
        c
    }

    #[test]
    fn sums_every_summary_line_including_doctests() {
        let out = "\
running 2 tests
test a ... ok
test b ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests zmtp_core

running 3 tests
test c ... FAILED
test d ... FAILED
test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s
";
        assert_eq!(
            count(out),
            TestCounts {
                passed: 3,
                failed: 2,
                summaries: 3,
                failed_names: vec!["c".to_owned(), "d".to_owned()],
            }
        );
    }

    #[test]
    fn tolerates_colour_codes_around_the_verdict() {
        let line = "test result: \u{1b}[32mok\u{1b}[0m. 41 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 1.20s";
        assert_eq!(
            count(line),
            TestCounts {
                passed: 41,
                failed: 0,
                summaries: 1,
                ..TestCounts::default()
            }
        );
    }

    #[test]
    fn ignores_lines_that_are_not_summaries() {
        let out = "\
test test_result_parsing ... ok
some output mentioning test result: ok. 5 passed; 0 failed
test result: garbage
";
        assert_eq!(count(out), TestCounts::default());
    }

    #[test]
    fn tally_counts_checks_and_tests_and_formats_the_last_line() {
        let mut t = Tally::default();
        t.check("fmt", true);
        t.check("clippy", false);
        t.tests(
            &TestCounts {
                passed: 10,
                failed: 1,
                summaries: 2,
                failed_names: vec!["io::reconnects".to_owned()],
            },
            "host tests",
        );
        assert_eq!(t.summary_line(), "11 passed, 2 failed");
        assert_eq!(t.failed(), 2);
        assert_eq!(
            t.failures(),
            [
                "clippy".to_owned(),
                "host tests: 1 test(s) failed".to_owned(),
                "host tests: io::reconnects".to_owned()
            ]
        );
    }
}
