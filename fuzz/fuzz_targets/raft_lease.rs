//! Coverage-guided fuzzing of the Raft store with lease reads (`raft-lease`), whose scenarios
//! also skew and drift node clocks: as `raft`'s target otherwise. SQUALL_MUTANT=NAME plants a
//! bug (`squall mutants raft-lease`), SQUALL_FEEDBACK=0 fuzzes on code coverage alone.
#![no_main]

/// The store this target fuzzes.
const SYSTEM: &str = "raft-lease";

include!("raft_store.rs");
