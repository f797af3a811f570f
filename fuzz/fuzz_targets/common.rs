//! What every squall fuzz target shares: the extra-counter feedback sink, the settings read
//! from the environment, and how a violation is reported. Included with `#[path]`, since the
//! counters must live in the target binary itself.

use squall::fuzzing::{Feedback, FEEDBACK_COUNTERS};
use std::fmt::Display;

// libFuzzer treats every byte of this section as a coverage counter (Linux).
#[used]
#[link_section = "__libfuzzer_extra_counters"]
static mut EXTRA_COUNTERS: [u8; FEEDBACK_COUNTERS] = [0; FEEDBACK_COUNTERS];

/// Feeds protocol-state features to libFuzzer as extra coverage counters.
pub struct ExtraCounters;

impl Feedback for ExtraCounters {
    fn hit(&mut self, feature: u64) {
        let i = (feature % FEEDBACK_COUNTERS as u64) as usize;
        // SAFETY: libFuzzer reads the counters only between inputs, on this same thread, so
        // nothing else touches them while the input runs; `i` is in bounds by the modulo.
        unsafe {
            let counters = &raw mut EXTRA_COUNTERS;
            // Presence, not counts: repeats of a situation are not new situations.
            (*counters)[i] = 1;
        }
    }
}

/// `SQUALL_MUTANT` (a planted bug, if set and not empty) and `SQUALL_FEEDBACK` (protocol
/// feedback unless `0`); warns once if the build lacks `--cfg tokio_unstable`.
pub fn settings() -> (Option<String>, bool) {
    if !cfg!(tokio_unstable) {
        eprintln!(
            "squall: built without --cfg tokio_unstable (cargo-fuzz drops .cargo/config.toml's \
             flags): tokio's scheduling is not seeded, so a crash may not replay. Build with \
             RUSTFLAGS=\"--cfg tokio_unstable\"."
        );
    }
    let feedback = std::env::var("SQUALL_FEEDBACK").map_or(true, |v| v != "0");
    (mutant(), feedback)
}

/// The planted bug `SQUALL_MUTANT` names, if set and not empty.
fn mutant() -> Option<String> {
    std::env::var("SQUALL_MUTANT")
        .ok()
        .filter(|m| !m.is_empty())
}

/// Aborts the run with the verdict and the scenario's text, which replays with `replay`
/// (with the planted bug the run had, if any).
pub fn report(failure: impl Display, scenario_text: &str, replay: &str) -> ! {
    let mutant = mutant()
        .map(|m| format!(" --mutant {m}"))
        .unwrap_or_default();
    panic!(
        "squall: {failure}\n--- scenario (save as a .scn file; {replay} FILE{mutant}) ---\n{scenario_text}"
    );
}

/// The whole of a target that fuzzes one system's scenarios: `$system` built by `$build`
/// from `SQUALL_MUTANT` (a `fn(Option<&str>) -> Result<$system, String>`), fed the input
/// bytes as a scenario, with protocol-state feedback; a violation aborts with the scenario.
#[allow(unused_macros)] // Targets whose inputs are not scenarios include this file too.
macro_rules! scenario_target {
    ($system:ty, $build:expr) => {
        fn setup() -> &'static ($system, bool) {
            static SETUP: std::sync::OnceLock<($system, bool)> = std::sync::OnceLock::new();
            SETUP.get_or_init(|| {
                let (mutant, feedback) = common::settings();
                let build: fn(Option<&str>) -> Result<$system, String> = $build;
                let system =
                    build(mutant.as_deref()).unwrap_or_else(|e| panic!("SQUALL_MUTANT: {e}"));
                (system, feedback)
            })
        }

        libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            let (system, feedback) = setup();
            if let squall::fuzzing::FuzzOutcome::Violation(scenario, failure) =
                squall::fuzzing::fuzz_one(system, data, &mut common::ExtraCounters, *feedback)
            {
                common::report(failure, &scenario.to_text(), "squall replay");
            }
        });
    };
}
