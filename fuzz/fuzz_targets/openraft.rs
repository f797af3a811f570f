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

use libfuzzer_sys::fuzz_target;
use squall::fuzzing::{fuzz_one, Feedback, FuzzOutcome, FEEDBACK_COUNTERS};
use squall_openraft::OpenRaft;
use std::sync::OnceLock;

// libFuzzer treats every byte of this section as a coverage counter (Linux).
#[used]
#[link_section = "__libfuzzer_extra_counters"]
static mut EXTRA_COUNTERS: [u8; FEEDBACK_COUNTERS] = [0; FEEDBACK_COUNTERS];

struct ExtraCounters;

impl Feedback for ExtraCounters {
    fn hit(&mut self, feature: u64) {
        let i = (feature % FEEDBACK_COUNTERS as u64) as usize;
        // libFuzzer reads the counters only between inputs, on this same thread.
        unsafe {
            let counters = &raw mut EXTRA_COUNTERS;
            // Presence, not counts: repeats of a situation are not new situations.
            (*counters)[i] = 1;
        }
    }
}

fn setup() -> &'static (OpenRaft, bool) {
    static SETUP: OnceLock<(OpenRaft, bool)> = OnceLock::new();
    SETUP.get_or_init(|| {
        if !cfg!(tokio_unstable) {
            eprintln!(
                "squall: built without --cfg tokio_unstable (cargo-fuzz drops .cargo/config.toml's \
                 flags): tokio's scheduling is not seeded, so a crash may not replay. Build with \
                 RUSTFLAGS=\"--cfg tokio_unstable\"."
            );
        }
        let mutant = std::env::var("SQUALL_MUTANT")
            .ok()
            .filter(|m| !m.is_empty());
        let system =
            OpenRaft::variant(mutant.as_deref()).unwrap_or_else(|e| panic!("SQUALL_MUTANT: {e}"));
        let feedback = std::env::var("SQUALL_FEEDBACK").map_or(true, |v| v != "0");
        (system, feedback)
    })
}

fuzz_target!(|data: &[u8]| {
    let (system, feedback) = setup();
    if let FuzzOutcome::Violation(scenario, failure) =
        fuzz_one(system, data, &mut ExtraCounters, *feedback)
    {
        panic!(
            "squall: {failure}\n--- scenario (save as a .scn file; squall-openraft replay FILE) ---\n{}",
            scenario.to_text()
        );
    }
});
