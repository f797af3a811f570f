//! The fuzz target's body on stable: inputs decode to whole scenarios, protocol-state
//! feedback is produced, a planted bug is reported as a violation, and readable corpus
//! scenarios survive the trip through fuzzer bytes.

use squall::fuzzing::{expand_input, fuzz_one, FuzzOutcome, FEEDBACK_COUNTERS, INPUT_LEN};
use squall::scenario::Scenario;
use squall::systems::raft::RaftKv;
use squall::workload::kv::{Kv, KvOp};
use squall::workload::Workload;

#[test]
fn short_inputs_expand_deterministically() {
    assert_eq!(expand_input(b"").len(), INPUT_LEN);
    assert_eq!(expand_input(b"abc"), expand_input(b"abc"));
    assert_ne!(expand_input(b"abc"), expand_input(b"abd"));
    assert_eq!(&expand_input(b"abc")[..3], b"abc");
    let long = vec![7u8; INPUT_LEN + 5];
    assert_eq!(expand_input(&long).len(), INPUT_LEN + 5);
}

#[test]
fn the_correct_store_passes_and_feedback_counters_are_hit() {
    let system = RaftKv::default();
    let mut counters = Box::new([0u8; FEEDBACK_COUNTERS]);
    for i in 0..20u8 {
        match fuzz_one(&system, &[i, i.wrapping_mul(31), 3], &mut *counters, true) {
            FuzzOutcome::Pass => {}
            FuzzOutcome::Violation(s, f) => panic!("{f}\n{}", s.to_text()),
            FuzzOutcome::Rejected(e) => panic!("rejected: {e}"),
        }
    }
    let hit = counters.iter().filter(|c| **c > 0).count();
    assert!(hit > 20, "only {hit} feedback counters hit");
}

#[test]
fn a_planted_bug_is_reported_as_a_violation() {
    let system = RaftKv::from_mutant_name(Some("no-dedup")).expect("mutant");
    let mut counters = Box::new([0u8; FEEDBACK_COUNTERS]);
    let found = (0..300u16).find_map(|i| {
        match fuzz_one(&system, &i.to_le_bytes(), &mut *counters, false) {
            FuzzOutcome::Violation(_, f) => Some(f),
            _ => None,
        }
    });
    let failure = found.expect("retried writes applied twice are caught within 300 inputs");
    assert_eq!(failure.property, "linearizability");
}

#[test]
fn corpus_scenarios_encode_to_inputs_that_decode_back() {
    let text = include_str!("../corpus/raft/leader-cut-off-while-clients-write.scn");
    let scenario: Scenario<KvOp> = Scenario::from_text(text).expect("parses");
    let bytes = scenario.to_bytes(Kv::op_bytes).expect("encodes");
    let expanded = expand_input(&bytes);
    let mut u = arbitrary::Unstructured::new(&expanded);
    let back: Scenario<KvOp> = Scenario::generate("raft", &mut u, |_, _| {}).expect("decodes");
    assert_eq!(back.nodes, scenario.nodes);
    assert_eq!(back.seed, scenario.seed);
    // Long waits come back split into 500 ms pieces; every other step is the same.
    let others = |s: &Scenario<KvOp>| {
        s.steps
            .iter()
            .filter(|st| !matches!(st, squall::scenario::Step::Wait { .. }))
            .count()
    };
    assert_eq!(others(&back), others(&scenario), "{}", back.to_text());
    assert_eq!(back.duration_ms(), scenario.duration_ms());
}
