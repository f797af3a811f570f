//! A regression corpus replayed under `insta` snapshots, in one line of a test:
//!
//! ```no_run
//! # use squall::systems::raft::RaftKv;
//! #[test]
//! fn corpus() {
//!     squall::assert_corpus!(RaftKv::default(), "corpus/raft");
//! }
//! ```
//!
//! Every `*.scn` file in the directory (relative to the crate's manifest) is replayed twice
//! (the two traces must be identical), and its [`outcome`] — the verdict, the fault effects
//! and the trace's notable lines — is pinned by a snapshot named after the file. A changed
//! outcome shows up as a snapshot diff to review (`cargo insta review`).

use crate::report::Report;
use crate::scenario::Scenario;
use crate::sim::isolate::run_isolated;
use crate::sim::runner::RunConfig;
use crate::systems::{Isolation, OpOf, System};
use std::path::{Path, PathBuf};

/// The verdict, the fault effects and the trace's notable lines (faults, leader changes, the
/// liveness phase, the history verdict, the violation): the story of a run, without churn on
/// incidental timing of every client operation.
pub fn outcome(report: &Report) -> String {
    let mut out = String::new();
    match report.failure() {
        None => out.push_str("PASS\n"),
        Some(f) => out.push_str(&format!(
            "FAIL {} {:?} at step {:?}\n",
            f.kind, f.property, f.step
        )),
    }
    out.push_str(&format!(
        "ops {:?}\nfaults {}\n",
        report.ops, report.effects
    ));
    for line in report.trace.lines() {
        let notable = [
            "step ",
            "became leader",
            "the leader is",
            "liveness:",
            "history:",
            "VIOLATION",
        ]
        .iter()
        .any(|k| line.contains(k));
        if notable {
            out.push_str(&without_line_numbers(line));
            out.push('\n');
        }
    }
    out
}

/// `line` with the line numbers of source locations (`node.rs:455`, as a panic's report
/// names its place) left out, so that a snapshot does not change with every edit above it.
fn without_line_numbers(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find(".rs:") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let digits = tail[1..].len()
            - tail[1..]
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        if digits > 0 {
            rest = &tail[1 + digits..];
        } else {
            out.push(':');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The scenario files of a corpus directory, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("squall: reading the corpus {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "squall: no scenarios in {}",
        dir.display()
    );
    files
}

/// Replays one corpus file twice on a fresh thread each (panicking if the traces differ) and
/// returns its [`outcome`].
pub fn replay<S: System>(system: &S, file: &Path) -> String {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("squall: reading {}: {e}", file.display()));
    let scenario = Scenario::<OpOf<S>>::from_text(&text)
        .unwrap_or_else(|e| panic!("squall: {}: {e}", file.display()));
    let config = RunConfig {
        trace: true,
        quiet_panics: true,
        ..RunConfig::default()
    };
    let isolation = system.isolation().max(Isolation::Thread);
    let run = || {
        run_isolated(system, &scenario, &config, isolation)
            .unwrap_or_else(|e| panic!("squall: {}: {e}", file.display()))
    };
    let (first, second) = (run(), run());
    assert_eq!(
        first.trace,
        second.trace,
        "squall: {}: two replays differ",
        file.display()
    );
    outcome(&first)
}

/// Replays every scenario of `dir` with [`replay`] and returns each file's name and outcome.
///
/// # Panics
/// If a scenario fails on `correct`, naming the file and its outcome.
pub fn replay_passing<S: System>(correct: &S, dir: &Path) -> Vec<(String, String)> {
    files(dir)
        .iter()
        .map(|file| {
            let outcome = replay(correct, file);
            assert!(
                outcome.starts_with("PASS\n"),
                "squall: {} fails on the correct {}: {outcome}",
                file.display(),
                correct.name()
            );
            (stem(file), outcome)
        })
        .collect()
}

/// Replays each planted bug's directed scenario, `dir/<mutant>.scn`, and returns each bug's
/// name and outcome with the bug planted.
///
/// # Panics
/// Naming the file, if a file names no planted bug of `correct`, if a scenario does not fail
/// with its bug planted by the property the bug names, or fails on `correct` too (the bug
/// would not be the cause); and if a planted bug has no scenario.
pub fn replay_mutants<S: System>(correct: &S, dir: &Path) -> Vec<(String, String)> {
    let planted = correct.mutants();
    let mut out = Vec::new();
    for file in files(dir) {
        let name = stem(&file);
        let info = planted.iter().find(|m| m.name == name).unwrap_or_else(|| {
            panic!(
                "squall: {}: `{name}` is no planted bug of {}",
                file.display(),
                correct.name()
            )
        });
        let outcome = replay(&correct.with_mutant(&name), &file);
        let verdict = outcome.lines().next().unwrap_or_default();
        assert!(
            verdict.starts_with("FAIL ") && verdict.contains(&format!("{:?}", info.caught_by)),
            "squall: {}: expected a failure of {:?}, got: {outcome}",
            file.display(),
            info.caught_by
        );
        let correct_outcome = replay(correct, &file);
        assert!(
            correct_outcome.starts_with("PASS\n"),
            "squall: {}: fails without the bug too: {correct_outcome}",
            file.display()
        );
        out.push((name, outcome));
    }
    let missing: Vec<&str> = planted
        .iter()
        .map(|m| m.name)
        .filter(|m| !out.iter().any(|(name, _)| name == m))
        .collect();
    assert!(
        missing.is_empty(),
        "squall: planted bugs of {} without a directed scenario in {}: {missing:?}",
        correct.name(),
        dir.display()
    );
    out
}

/// A corpus file's name without `.scn`: its snapshot's name.
pub fn stem(file: &Path) -> String {
    file.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario")
        .to_string()
}

/// Replays every scenario of a corpus directory (relative to the calling crate's manifest)
/// and pins each outcome with an `insta` snapshot named after the file.
#[macro_export]
macro_rules! assert_corpus {
    ($system:expr, $dir:expr) => {{
        let system = $system;
        let dir = ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join($dir);
        for file in $crate::corpus::files(&dir) {
            let name = $crate::corpus::stem(&file);
            $crate::insta::assert_snapshot!(name, $crate::corpus::replay(&system, &file));
        }
    }};
}

/// Every scenario of a corpus directory (relative to the calling crate's manifest) passes on
/// the correct system ([`replay_passing`]), each pinned by a snapshot named after the file.
/// A macro, so that the snapshots belong to the calling test.
#[macro_export]
macro_rules! assert_corpus_passes {
    ($system:expr, $dir:expr) => {{
        let dir = ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join($dir);
        for (name, outcome) in $crate::corpus::replay_passing(&$system, &dir) {
            $crate::insta::assert_snapshot!(name, outcome);
        }
    }};
}

/// Every planted bug of the system has `DIR/<mutant>.scn` (relative to the calling crate's
/// manifest), which the property the bug names catches and the correct system passes
/// ([`replay_mutants`]); each outcome with the bug is pinned as `mutant-<mutant>`.
#[macro_export]
macro_rules! assert_mutants_caught {
    ($system:expr, $dir:expr) => {{
        let dir = ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join($dir);
        for (name, outcome) in $crate::corpus::replay_mutants(&$system, &dir) {
            $crate::insta::assert_snapshot!(format!("mutant-{name}"), outcome);
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::without_line_numbers;

    #[test]
    fn source_line_numbers_are_left_out_of_outcomes() {
        assert_eq!(
            without_line_numbers("panics: index out of bounds at src/systems/raft/node.rs:455"),
            "panics: index out of bounds at src/systems/raft/node.rs"
        );
        assert_eq!(
            without_line_numbers("a.rs:1 b.rs: c.rs:22x"),
            "a.rs b.rs: c.rsx"
        );
        assert_eq!(without_line_numbers("no location"), "no location");
    }
}
