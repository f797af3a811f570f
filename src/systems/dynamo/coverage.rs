//! Coverage for fault × phase reports and coverage-guided fuzzing: the phase the cluster is
//! in, and an abstract state (per key: how many siblings each home holds, whether the homes
//! agree; hints pending), hashed.

use super::invariants::Checker;
use super::observer::Observer;

/// `handoff` (hints pending), `diverged` (replicas of some key differ), `siblings` (some
/// key holds concurrent values) or `quiet`.
pub fn phase(checker: &Checker, observer: &Observer) -> &'static str {
    let reg = observer.0.borrow();
    if checker.pending_hints() > 0 || reg.nodes.iter().any(|v| !v.hints.is_empty()) {
        return "handoff";
    }
    let mut keys = std::collections::BTreeMap::new();
    let mut siblings = false;
    for v in reg.nodes.iter().filter(|v| v.up) {
        for (k, e) in &v.entries {
            siblings |= e.live().count() > 1;
            keys.entry(*k).or_insert_with(Vec::new).push(e.digest());
        }
    }
    if keys.values().any(|d| d.windows(2).any(|w| w[0] != w[1])) {
        "diverged"
    } else if siblings {
        "siblings"
    } else {
        "quiet"
    }
}

/// Per node: up, hint count (capped), per key the number of siblings (capped); FNV-1a.
pub fn abstract_state(checker: &Checker, observer: &Observer) -> u64 {
    let reg = observer.0.borrow();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(checker.pending_hints().min(3) as u8);
    for v in &reg.nodes {
        feed(u8::from(v.up));
        feed(v.hints.len().min(3) as u8);
        for k in 0..crate::workload::kv::KEYS {
            feed(
                v.entries
                    .get(&k)
                    .map_or(9, |e| e.siblings.len().min(4) as u8),
            );
        }
    }
    h
}
