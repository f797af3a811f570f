//! Coverage-guided fuzzing of the dynamo store (`dynamo`, the `siblings` workload): bytes →
//! scenario → run; a violation aborts with the verdict and the scenario's text. Protocol-state
//! transitions (per node: up, hints held; per key: siblings per replica; hints acknowledged
//! and not handed off) are fed back to libFuzzer as extra coverage counters (set
//! SQUALL_FEEDBACK=0 to fuzz on code coverage alone); SQUALL_MUTANT=NAME plants a bug (see
//! `squall mutants dynamo`).
#![no_main]

#[path = "common.rs"]
mod common;

use common::ExtraCounters;
use libfuzzer_sys::fuzz_target;
use squall::fuzzing::{fuzz_one, FuzzOutcome};
use squall::systems::dynamo::Dynamo;
use std::sync::OnceLock;

fn setup() -> &'static (Dynamo, bool) {
    static SETUP: OnceLock<(Dynamo, bool)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let (mutant, feedback) = common::settings();
        let system = Dynamo::from_mutant_name(mutant.as_deref())
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
