//! Coverage-guided fuzzing of the saga store (`saga`, the `orders` workload): bytes →
//! scenario → run; a violation aborts with the verdict and the scenario's text. Protocol-state
//! transitions (per saga in flight: forward step or compensation, which step, whether its
//! service is up; whether empty compensations and refused late steps happened; and the saga
//! phase: reserving, charging, booking, compensating, orchestrator-down) are fed back to
//! libFuzzer as extra coverage counters (set SQUALL_FEEDBACK=0 to fuzz on code coverage
//! alone); SQUALL_MUTANT=NAME plants a bug (see `squall mutants saga`).
#![no_main]

#[path = "common.rs"]
mod common;

use common::ExtraCounters;
use libfuzzer_sys::fuzz_target;
use squall::fuzzing::{fuzz_one, FuzzOutcome};
use squall::systems::saga::Saga;
use std::sync::OnceLock;

fn setup() -> &'static (Saga, bool) {
    static SETUP: OnceLock<(Saga, bool)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let (mutant, feedback) = common::settings();
        let system = Saga::from_mutant_name(mutant.as_deref())
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
