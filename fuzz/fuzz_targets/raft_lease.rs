//! Coverage-guided fuzzing of the Raft store with lease reads (`raft-lease`), whose scenarios
//! also skew and drift node clocks: as `raft`'s target otherwise. SQUALL_MUTANT=NAME plants a
//! bug (`squall mutants raft-lease`), SQUALL_FEEDBACK=0 fuzzes on code coverage alone.
#![no_main]

#[macro_use]
#[path = "common.rs"]
mod common;

scenario_target!(squall::systems::raft::RaftKv, |mutant| {
    squall::systems::raft::RaftKv::named("raft-lease", mutant)
});
