//! Coverage-guided fuzzing of the 2PC store (`twopc`, the `bank` workload): bytes → scenario
//! → run; a violation aborts with the verdict and the scenario's text. Protocol-state
//! transitions (the vector of participant states per transaction, the coordinator state, and
//! the 2PC phase: preparing, deciding, committing, recovering) are fed back to libFuzzer as
//! extra coverage counters (set SQUALL_FEEDBACK=0 to fuzz on code coverage alone);
//! SQUALL_MUTANT=NAME plants a bug (see `squall mutants twopc`).
#![no_main]

#[path = "common.rs"]
mod common;

use common::ExtraCounters;
use libfuzzer_sys::fuzz_target;
use squall::fuzzing::{fuzz_one, FuzzOutcome};
use squall::systems::twopc::TwoPc;
use std::sync::OnceLock;

fn setup() -> &'static (TwoPc, bool) {
    static SETUP: OnceLock<(TwoPc, bool)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let (mutant, feedback) = common::settings();
        let system = TwoPc::from_mutant_name(mutant.as_deref())
            .unwrap_or_else(|e| panic!("SQUALL_MUTANT: {e}"));
        (system, feedback)
    })
}

fuzz_target!(|data: &[u8]| {
    let (system, feedback) = setup();
    if let FuzzOutcome::Violation(scenario, failure) =
        fuzz_one(system, data, &mut ExtraCounters, *feedback)
    {
        common::report(failure, &scenario.to_text(), "squall replay");
    }
});
