//! The dynamo regression corpus: every scenario in `corpus/dynamo/` is replayed twice (the traces
//! must be identical), and its outcome — verdict, fault effects and the trace's notable lines
//! ([`squall::corpus::outcome`]) — compared with an insta snapshot.
//!
//! - `corpus/dynamo/*.scn` must pass on the correct store;
//! - `corpus/dynamo/mutants/<mutant>.scn` must fail with that planted bug — caught by the
//!   property the mutant names — and pass on the correct store (so the bug is the cause).
//!
//! These are [`squall::assert_corpus!`] with a verdict asserted besides the snapshot (the
//! macro pins outcomes, whatever they are). After an intended change: `cargo insta review`
//! (or `INSTA_UPDATE=always cargo test`).

use squall::systems::dynamo::Dynamo;
use squall::systems::System;
use std::path::{Path, PathBuf};

fn corpus(dir: &str) -> Vec<PathBuf> {
    squall::corpus::files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .expect("file name")
        .to_string()
}

#[test]
fn directed_scenarios_pass_on_the_correct_store() {
    let files = corpus("corpus/dynamo");
    assert!(files.len() >= 4, "corpus/dynamo holds only {}", files.len());
    for file in files {
        let outcome = squall::corpus::replay(&Dynamo::default(), &file);
        assert!(
            outcome.starts_with("PASS\n"),
            "{}: {outcome}",
            file.display()
        );
        insta::assert_snapshot!(stem(&file), outcome);
    }
}

#[test]
fn each_planted_bug_has_a_scenario_that_catches_it() {
    let mut covered = Vec::new();
    for file in corpus("corpus/dynamo/mutants") {
        let name = stem(&file);
        let system = Dynamo::from_mutant_name(Some(&name))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let expected = system.mutant.expect("a mutant").info().caught_by;
        let outcome = squall::corpus::replay(&system, &file);
        let verdict = outcome.lines().next().unwrap_or_default();
        assert!(
            verdict.starts_with("FAIL ") && verdict.contains(&format!("{expected:?}")),
            "{}: expected a failure of {expected:?}, got: {outcome}",
            file.display()
        );
        let correct = squall::corpus::replay(&Dynamo::default(), &file);
        assert!(
            correct.starts_with("PASS\n"),
            "{}: fails without the bug too: {correct}",
            file.display()
        );
        insta::assert_snapshot!(format!("mutant-{name}"), outcome);
        covered.push(name);
    }
    let missing: Vec<_> = Dynamo::default()
        .mutants()
        .iter()
        .map(|m| m.name)
        .filter(|m| !covered.iter().any(|c| c == m))
        .collect();
    assert!(
        missing.is_empty(),
        "planted bugs without a directed scenario: {missing:?}"
    );
}

/// `corpus/dynamo/lww/`: the last-writer-wins variant (`dynamo-lww`) under clock faults.
/// Each scenario passes on it, and fails with the wall-clock bug (A1) planted, caught by the
/// LWW causality check.
#[test]
fn the_lww_variant_keeps_causality_under_skew_and_the_wall_clock_bug_does_not() {
    let files = corpus("corpus/dynamo/lww");
    assert!(!files.is_empty(), "corpus/dynamo/lww is empty");
    for file in files {
        let outcome = squall::corpus::replay(&Dynamo::lww(), &file);
        assert!(
            outcome.starts_with("PASS\n"),
            "{}: {outcome}",
            file.display()
        );
        insta::assert_snapshot!(format!("lww-{}", stem(&file)), outcome);
        let buggy = Dynamo::named("dynamo-lww", Some("lww-wall-clock")).expect("known");
        let outcome = squall::corpus::replay(&buggy, &file);
        assert!(
            outcome.starts_with("FAIL ") && outcome.contains("lww causality"),
            "{}: {outcome}",
            file.display()
        );
    }
}
