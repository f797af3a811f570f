//! The 2PC regression corpus: every scenario in `corpus/twopc/` is replayed, its verdict and a
//! compact trace compared with an insta snapshot, and run twice to prove determinism.
//!
//! - `corpus/twopc/*.scn` must pass on the correct store;
//! - `corpus/twopc/mutants/<mutant>.scn` must fail with that planted bug — caught by the
//!   property the mutant names — and pass on the correct store (so the bug is the cause).
//!
//! After an intended change: `cargo insta review` (or `INSTA_UPDATE=always cargo test`).

use squall::report::Report;
use squall::scenario::Scenario;
use squall::sim::runner::{run, RunConfig};
use squall::systems::twopc::TwoPc;
use squall::systems::System;
use squall::workload::bank::BankOp;
use std::path::Path;

fn load(path: &Path) -> Scenario<BankOp> {
    let text = std::fs::read_to_string(path).expect("corpus file is readable");
    Scenario::from_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn traced() -> RunConfig {
    RunConfig {
        trace: true,
        ..RunConfig::default()
    }
}

fn replay_twice(system: &TwoPc, scenario: &Scenario<BankOp>, path: &Path) -> Report {
    let first = run(system, scenario, &traced()).expect("runs");
    let second = run(system, scenario, &traced()).expect("runs");
    assert_eq!(
        first.trace,
        second.trace,
        "{}: two replays differ",
        path.display()
    );
    first
}

#[test]
fn directed_scenarios_pass_on_the_correct_store() {
    let mut seen = 0;
    insta::glob!("../corpus/twopc", "*.scn", |path| {
        let scenario = load(path);
        let report = replay_twice(&TwoPc::default(), &scenario, path);
        assert!(
            report.passed(),
            "{}: {:?}\n{}",
            path.display(),
            report.outcome,
            report.trace
        );
        insta::assert_snapshot!(squall::corpus::outcome(&report));
        seen += 1;
    });
    assert!(seen >= 3, "corpus/twopc holds only {seen} scenarios");
}

#[test]
fn each_planted_bug_has_a_scenario_that_catches_it() {
    let mut covered = Vec::new();
    insta::glob!("../corpus/twopc/mutants", "*.scn", |path| {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name");
        let system = TwoPc::from_mutant_name(Some(name))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mutant = system.mutant.expect("a mutant");
        let scenario = load(path);
        let report = replay_twice(&system, &scenario, path);
        let failure = report
            .failure()
            .unwrap_or_else(|| panic!("{}: the planted bug was not caught", path.display()));
        let expected = mutant.info().caught_by;
        assert_eq!(
            failure.property,
            expected,
            "{}: caught by {:?}, expected {expected:?}: {failure}",
            path.display(),
            failure.property
        );
        let correct = run(&TwoPc::default(), &scenario, &RunConfig::default()).expect("runs");
        assert!(
            correct.passed(),
            "{}: fails without the bug too: {:?}",
            path.display(),
            correct.outcome
        );
        insta::assert_snapshot!(squall::corpus::outcome(&report));
        covered.push(name.to_string());
    });
    let missing: Vec<_> = TwoPc::default()
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
