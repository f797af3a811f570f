// The body of the `raft` and `raft-lease` targets: each names its store in `SYSTEM` and
// includes this file, since the two stores differ only in how their leaders serve reads.

#[path = "common.rs"]
mod common;

use common::ExtraCounters;
use libfuzzer_sys::fuzz_target;
use squall::fuzzing::{fuzz_one, FuzzOutcome};
use squall::systems::raft::RaftKv;
use std::sync::OnceLock;

fn setup() -> &'static (RaftKv, bool) {
    static SETUP: OnceLock<(RaftKv, bool)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let (mutant, feedback) = common::settings();
        let system = RaftKv::named(SYSTEM, mutant.as_deref())
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
