//! The dynamo regression corpus: every scenario in `corpus/dynamo/` is replayed twice (the traces
//! must be identical), and its outcome — verdict, fault effects and the trace's notable lines
//! ([`squall::corpus::outcome`]) — compared with an insta snapshot.
//!
//! - `corpus/dynamo/*.scn` must pass on the correct store;
//! - `corpus/dynamo/mutants/<mutant>.scn` must fail with that planted bug — caught by the
//!   property the mutant names — and pass on the correct store (so the bug is the cause).
//!
//! After an intended change: `cargo insta review` (or `INSTA_UPDATE=always cargo test`).

use squall::corpus::{files, stem};
use squall::systems::dynamo::Dynamo;
use std::path::{Path, PathBuf};

fn corpus(dir: &str) -> Vec<PathBuf> {
    files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
}

#[test]
fn directed_scenarios_pass_on_the_correct_store() {
    let files = corpus("corpus/dynamo");
    assert!(files.len() >= 4, "corpus/dynamo holds only {}", files.len());
    squall::assert_corpus_passes!(Dynamo::default(), "corpus/dynamo");
}

#[test]
fn each_planted_bug_has_a_scenario_that_catches_it() {
    squall::assert_mutants_caught!(Dynamo::default(), "corpus/dynamo/mutants");
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
