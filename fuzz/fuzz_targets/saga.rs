//! Coverage-guided fuzzing of the saga store (`saga`, the `orders` workload): bytes →
//! scenario → run; a violation aborts with the verdict and the scenario's text. Protocol-state
//! transitions (per saga in flight: forward step or compensation, which step, whether its
//! service is up; whether empty compensations and refused late steps happened; and the saga
//! phase: reserving, charging, booking, compensating, orchestrator-down) are fed back to
//! libFuzzer as extra coverage counters (set SQUALL_FEEDBACK=0 to fuzz on code coverage
//! alone); SQUALL_MUTANT=NAME plants a bug (see `squall mutants saga`).
#![no_main]

#[macro_use]
#[path = "common.rs"]
mod common;

scenario_target!(
    squall::systems::saga::Saga,
    squall::systems::saga::Saga::from_mutant_name
);
