//! The regression corpus: every scenario in `corpus/raft/` is replayed, its verdict and a
//! compact trace compared with an insta snapshot, and run twice to prove determinism. A file
//! names its store: `raft`, or `raft-lease` (lease reads; clock faults).
//!
//! - `corpus/raft/*.scn` must pass on the correct store;
//! - `corpus/raft/mutants/<mutant>.scn` must fail with that planted bug — caught by the
//!   property the mutant names — and pass on the same store without it (so the bug is the
//!   cause).
//!
//! After an intended change: `cargo insta review` (or `INSTA_UPDATE=always cargo test`).

use squall::report::Report;
use squall::scenario::{Fault, Scenario, Step};
use squall::sim::runner::{run, RunConfig};
use squall::systems::raft::RaftKv;
use squall::systems::System;
use squall::workload::kv::KvOp;
use std::path::Path;

fn load(path: &Path) -> Scenario<KvOp> {
    let text = std::fs::read_to_string(path).expect("corpus file is readable");
    Scenario::from_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn traced() -> RunConfig {
    RunConfig {
        trace: true,
        ..RunConfig::default()
    }
}

fn replay_twice(system: &RaftKv, scenario: &Scenario<KvOp>, path: &Path) -> Report {
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
    insta::glob!("../corpus/raft", "*.scn", |path| {
        let scenario = load(path);
        let system = RaftKv::named(&scenario.system, None)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let report = replay_twice(&system, &scenario, path);
        assert!(
            report.passed(),
            "{}: {:?}\n{}",
            path.display(),
            report.outcome,
            report.trace
        );
        // BUGGIFY sites are enabled by the seed and their file and line, so an edit to the
        // node's code can leave a scenario's seed enabling none of them, which would pass
        // without testing what the file says: such a scenario needs another seed.
        let buggify_on = scenario
            .steps
            .iter()
            .any(|s| matches!(s, Step::Fault(Fault::Buggify(true))));
        assert!(
            !buggify_on || report.effects.buggified > 0,
            "{}: BUGGIFY is on, but no call site its seed enables was reached: pick a seed that enables some",
            path.display()
        );
        insta::assert_snapshot!(squall::corpus::outcome(&report));
    });
}

#[test]
fn each_planted_bug_has_a_scenario_that_catches_it() {
    let mut covered = Vec::new();
    insta::glob!("../corpus/raft/mutants", "*.scn", |path| {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name");
        let scenario = load(path);
        let system = RaftKv::named(&scenario.system, Some(name))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mutant = system.mutant.expect("a mutant");
        let report = replay_twice(&system, &scenario, path);
        let failure = report
            .failure()
            .unwrap_or_else(|| panic!("{}: the planted bug was not caught", path.display()));
        let expected = mutant.caught_by();
        let ok = failure.property == expected
            || (expected == "liveness" && failure.kind == squall::report::FailureKind::Liveness);
        assert!(
            ok,
            "{}: caught by {:?}, expected {expected:?}: {failure}",
            path.display(),
            failure.property
        );
        let correct = RaftKv {
            mutant: None,
            ..system
        };
        let correct = run(&correct, &scenario, &RunConfig::default()).expect("runs");
        assert!(
            correct.passed(),
            "{}: fails without the bug too: {:?}",
            path.display(),
            correct.outcome
        );
        insta::assert_snapshot!(squall::corpus::outcome(&report));
        covered.push(name.to_string());
    });
    // raft-lease carries every planted bug, those in lease reads included.
    let missing: Vec<_> = RaftKv::lease()
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
