//! Coverage-guided fuzzing of the Raft store: bytes → scenario → run; a violation aborts with
//! the verdict and the scenario's text. Protocol-state transitions are fed back to libFuzzer
//! as extra coverage counters (set SQUALL_FEEDBACK=0 to fuzz on code coverage alone);
//! SQUALL_MUTANT=NAME plants a bug (see `squall mutants`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use squall::fuzzing::{fuzz_one, Feedback, FuzzOutcome, FEEDBACK_COUNTERS};
use squall::systems::raft::RaftKv;
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

fn setup() -> &'static (RaftKv, bool) {
    static SETUP: OnceLock<(RaftKv, bool)> = OnceLock::new();
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
        let system = RaftKv::from_mutant_name(mutant.as_deref())
            .unwrap_or_else(|e| panic!("SQUALL_MUTANT: {e}"));
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
            "squall: {failure}\n--- scenario (save as a .scn file; squall replay FILE) ---\n{}",
            scenario.to_text()
        );
    }
});
