//! Coverage-guided fuzzing of the 2PC store (`twopc`, the `bank` workload): bytes → scenario
//! → run; a violation aborts with the verdict and the scenario's text. Protocol-state
//! transitions (the vector of participant states per transaction, the coordinator state, and
//! the 2PC phase: preparing, deciding, committing, recovering) are fed back to libFuzzer as
//! extra coverage counters (set SQUALL_FEEDBACK=0 to fuzz on code coverage alone);
//! SQUALL_MUTANT=NAME plants a bug (see `squall mutants twopc`).
#![no_main]

#[macro_use]
#[path = "common.rs"]
mod common;

scenario_target!(
    squall::systems::twopc::TwoPc,
    squall::systems::twopc::TwoPc::from_mutant_name
);
