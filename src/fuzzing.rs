//! The body of a coverage-guided fuzz target, kept in the library so it is tested on stable
//! and the targets in `fuzz/` stay a few lines long.
//!
//! Bytes become a scenario through `arbitrary` (every byte string decodes); the run records
//! transitions between abstract protocol states, which the target feeds to libFuzzer as extra
//! coverage counters ([`Feedback`]) — so the search is rewarded for reaching new protocol
//! situations (a new role pattern, a new term gap, a leader with uncommitted entries ...),
//! not only new lines of code.

use crate::report::Failure;
use crate::scenario::Scenario;
use crate::sim::isolate::run_isolated;
use crate::sim::runner::RunConfig;
use crate::systems::Isolation;
use crate::systems::OpOf;
use crate::systems::System;
use crate::workload::Workload;
use arbitrary::Unstructured;

/// How many bytes a scenario is decoded from. Shorter fuzz inputs are extended to this length
/// with a deterministic stream seeded by the input's own hash: an empty corpus then already
/// yields whole scenarios (as rich as blind chaos), while the fuzzer's bytes decide the first
/// steps and its mutations take over more of the scenario as inputs grow.
pub const INPUT_LEN: usize = 512;

/// The bytes a fuzz input decodes from (see [`INPUT_LEN`]).
pub fn expand_input(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if data.len() >= INPUT_LEN {
        return std::borrow::Cow::Borrowed(data);
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
    }
    let mut out = data.to_vec();
    let mut state = h ^ (data.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    while out.len() < INPUT_LEN {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(INPUT_LEN);
    std::borrow::Cow::Owned(out)
}

/// Number of protocol-state feedback counters.
pub const FEEDBACK_COUNTERS: usize = 1 << 14;

/// Where protocol-state feedback goes: a table of 8-bit counters (libFuzzer's extra counters
/// in the fuzz target, a plain array in tests).
pub trait Feedback {
    /// Bumps the counter for `feature`.
    fn hit(&mut self, feature: u64);
}

impl Feedback for [u8; FEEDBACK_COUNTERS] {
    fn hit(&mut self, feature: u64) {
        // Presence, not counts: libFuzzer turns count buckets into features, and repeats of a
        // situation are not new situations.
        self[(feature % FEEDBACK_COUNTERS as u64) as usize] = 1;
    }
}

/// Ignores feedback (plain coverage only).
pub struct NoFeedback;

impl Feedback for NoFeedback {
    fn hit(&mut self, _: u64) {}
}

/// What one fuzz input did.
pub enum FuzzOutcome<Op> {
    /// Every property held.
    Pass,
    /// A property was violated: the scenario (text form) and how.
    Violation(Scenario<Op>, Failure),
    /// The harness could not run the input (never a protocol bug).
    Rejected(String),
}

/// Decodes `data` into a scenario for `system`, runs it, and reports protocol-state
/// transitions to `feedback` (when `use_feedback`).
pub fn fuzz_one<S: System>(
    system: &S,
    data: &[u8],
    feedback: &mut impl Feedback,
    use_feedback: bool,
) -> FuzzOutcome<OpOf<S>> {
    let bytes = expand_input(data);
    let mut u = Unstructured::new(&bytes);
    let points = crate::systems::crash_point_names(system);
    let scenario = match Scenario::generate_for(
        system.name(),
        system.fault_kinds(),
        &points,
        &mut u,
        S::Workload::uniquify,
    ) {
        Ok(s) => s,
        Err(e) => return FuzzOutcome::Rejected(e.to_string()),
    };
    let config = RunConfig {
        abstract_states: use_feedback,
        ..RunConfig::default()
    };
    // No fork under libFuzzer (coverage lives in this process): at most a fresh thread.
    let isolation = system.isolation().min(Isolation::Thread);
    let report = match run_isolated(system, &scenario, &config, isolation) {
        Ok(r) => r,
        Err(e) => return FuzzOutcome::Rejected(e.to_string()),
    };
    if use_feedback {
        for t in &report.abstract_transitions {
            feedback.hit(*t);
        }
        // Which faults hit which phases is protocol feedback too.
        for (kind, phase) in &report.fault_phases {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in kind.name().bytes().chain(phase.bytes()) {
                h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
            feedback.hit(h);
        }
    }
    match report.failure() {
        None => FuzzOutcome::Pass,
        Some(f) => FuzzOutcome::Violation(scenario, f.clone()),
    }
}
