//! The saga regression corpus: every scenario in `corpus/saga/` is replayed twice (the traces
//! must be identical), and its outcome — verdict, fault effects and the trace's notable lines
//! ([`squall::corpus::outcome`]) — compared with an insta snapshot.
//!
//! - `corpus/saga/*.scn` must pass on the correct store;
//! - `corpus/saga/mutants/<mutant>.scn` must fail with that planted bug — caught by the
//!   property the mutant names — and pass on the correct store (so the bug is the cause).
//!
//! After an intended change: `cargo insta review` (or `INSTA_UPDATE=always cargo test`).

use squall::systems::saga::Saga;
use std::path::Path;

#[test]
fn directed_scenarios_pass_on_the_correct_store() {
    let files = squall::corpus::files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/saga"));
    assert!(files.len() >= 4, "corpus/saga holds only {}", files.len());
    squall::assert_corpus_passes!(Saga::default(), "corpus/saga");
}

#[test]
fn each_planted_bug_has_a_scenario_that_catches_it() {
    squall::assert_mutants_caught!(Saga::default(), "corpus/saga/mutants");
}
