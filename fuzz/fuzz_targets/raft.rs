//! Coverage-guided fuzzing of the Raft store: bytes → scenario → run; a violation aborts with
//! the verdict and the scenario's text. Protocol-state transitions are fed back to libFuzzer
//! as extra coverage counters (set SQUALL_FEEDBACK=0 to fuzz on code coverage alone);
//! SQUALL_MUTANT=NAME plants a bug (see `squall mutants`).
#![no_main]

#[macro_use]
#[path = "common.rs"]
mod common;

scenario_target!(squall::systems::raft::RaftKv, |mutant| {
    squall::systems::raft::RaftKv::named("raft", mutant)
});
