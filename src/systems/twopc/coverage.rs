//! Coverage for fault × phase reports and coverage-guided fuzzing: the 2PC phase the cluster
//! is in, and an abstract protocol state (per active transaction, the vector of participant
//! states and the coordinator's state), hashed.

use super::invariants::Checker;
use super::node::COORDINATOR;
use super::observer::Observer;
use crate::workload::bank::TxId;
use std::collections::BTreeMap;

/// The 2PC phase: `blocked` (the coordinator is down while participants are in doubt),
/// `committing` (decisions being delivered), `preparing` (votes being collected),
/// `recovering` (participants in doubt with nothing active at the coordinator: after a
/// restart), or `idle`.
pub fn phase(checker: &Checker, observer: &Observer) -> &'static str {
    let reg = observer.0.borrow();
    let coordinator = &reg.nodes[usize::from(COORDINATOR)];
    let in_doubt = reg.nodes.iter().any(|v| v.up && !v.prepared.is_empty());
    if !coordinator.up && in_doubt {
        "blocked"
    } else if checker.pending() > 0 {
        "committing"
    } else if !coordinator.active.is_empty() {
        "preparing"
    } else if in_doubt {
        "recovering"
    } else {
        "idle"
    }
}

/// Per transaction the cluster still works on: whether the coordinator has it active, and
/// for each node whether it is down, holds it prepared, or neither; hashed with FNV-1a over
/// the transactions in order (their ids left out, so equal situations hash equal).
pub fn abstract_state(checker: &Checker, observer: &Observer) -> u64 {
    let reg = observer.0.borrow();
    let mut txs: BTreeMap<TxId, Vec<u8>> = BTreeMap::new();
    let coordinator = &reg.nodes[usize::from(COORDINATOR)];
    for tx in &coordinator.active {
        txs.entry(*tx).or_insert_with(|| vec![0; reg.nodes.len()]);
    }
    for (i, v) in reg.nodes.iter().enumerate() {
        for tx in &v.prepared {
            txs.entry(*tx).or_insert_with(|| vec![0; reg.nodes.len()])[i] = 1;
        }
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(u8::from(coordinator.up));
    feed(checker.pending().min(3) as u8);
    for (tx, states) in txs {
        feed(u8::from(coordinator.active.contains(&tx)) + 2);
        for (i, s) in states.iter().enumerate() {
            feed(if reg.nodes[i].up { *s } else { 9 });
        }
    }
    h
}
