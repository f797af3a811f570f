//! Coverage-guided fuzzing of openraft (`targets/openraft/`, the `squall-openraft` adapter):
//! bytes → scenario → run; a violation aborts with the verdict and the scenario's text. An
//! input the harness cannot run is skipped, never reported as a protocol bug. The adapter
//! provides an abstract cluster state (roles, term lag, commit lag) and a phase, so
//! protocol-state transitions and fault phases are fed back to libFuzzer as extra coverage
//! counters, as for the `raft` target (SQUALL_FEEDBACK=0 turns that off);
//! SQUALL_MUTANT=leader-restore runs openraft's own default that squall found unsafe
//! (docs/findings/001-openraft-leader-restore-log-id-reuse.md).
//!
//! Build with RUSTFLAGS="--cfg tokio_unstable" (`just fuzz 600 openraft` does): cargo-fuzz
//! replaces the workspace's rustflags, and without the cfg tokio's scheduling is not seeded
//! by the scenario, so a crash may not replay under `squall-openraft replay`.
#![no_main]

#[path = "common.rs"]
mod common;

use common::ExtraCounters;
use libfuzzer_sys::fuzz_target;
use squall::fuzzing::{fuzz_one, FuzzOutcome};
use squall::systems::with_mutant;
use squall_openraft::OpenRaft;
use std::sync::OnceLock;

fn setup() -> &'static (OpenRaft, bool) {
    static SETUP: OnceLock<(OpenRaft, bool)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let (mutant, feedback) = common::settings();
        let system = match mutant {
            None => OpenRaft::default(),
            Some(name) => with_mutant(&OpenRaft::default(), &name)
                .unwrap_or_else(|e| panic!("SQUALL_MUTANT: {e}")),
        };
        (system, feedback)
    })
}

fuzz_target!(|data: &[u8]| {
    let (system, feedback) = setup();
    if let FuzzOutcome::Violation(scenario, failure) =
        fuzz_one(system, data, &mut ExtraCounters, *feedback)
    {
        common::report(failure, &scenario.to_text(), "squall-openraft replay");
    }
});
