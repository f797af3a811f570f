//! Coverage-guided fuzzing of the dynamo store (`dynamo`, the `siblings` workload): bytes →
//! scenario → run; a violation aborts with the verdict and the scenario's text. Protocol-state
//! transitions (per node: up, hints held; per key: siblings per replica; hints acknowledged
//! and not handed off) are fed back to libFuzzer as extra coverage counters (set
//! SQUALL_FEEDBACK=0 to fuzz on code coverage alone); SQUALL_MUTANT=NAME plants a bug (see
//! `squall mutants dynamo`).
#![no_main]

#[macro_use]
#[path = "common.rs"]
mod common;

scenario_target!(
    squall::systems::dynamo::Dynamo,
    squall::systems::dynamo::Dynamo::from_mutant_name
);
