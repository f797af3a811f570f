//! Protocol situations, for fault coverage and for coverage-guided fuzzing.
//!
//! [`phase`] names what the cluster is doing when a fault hits (chaos cross-tabulates fault
//! kinds against these); [`abstract_state`] hashes a symmetry-reduced abstraction of the
//! cluster — per node: up or down, role, how far its term lags the newest, how its log and
//! commit index compare with the leader's — which the fuzz target feeds back to libFuzzer so
//! that it seeks new protocol situations, not only new code.

use super::invariants::Checker;
use super::observer::{Observer, Role};

/// What the cluster is doing.
pub fn phase(checker: &Checker, observer: &Observer) -> &'static str {
    let reg = observer.0.borrow();
    let up = || reg.nodes.iter().enumerate().filter(|(_, v)| v.up);
    let leaders = up().filter(|(_, v)| v.role == Role::Leader).count();
    match leaders {
        0 if up().any(|(_, v)| matches!(v.role, Role::Candidate | Role::PreCandidate)) => {
            "election"
        }
        0 => "no-leader",
        1 => {
            let Some((i, leader)) = up().find(|(_, v)| v.role == Role::Leader) else {
                return "no-leader";
            };
            if (leader.commit as usize) < checker.log_len(i) {
                "replicating"
            } else {
                "steady"
            }
        }
        _ => "two-leaders",
    }
}

/// A hash of the cluster's abstract state.
pub fn abstract_state(checker: &Checker, observer: &Observer) -> u64 {
    let reg = observer.0.borrow();
    let top = reg.nodes.iter().map(|v| v.term).max().unwrap_or(0);
    let leader = reg
        .nodes
        .iter()
        .enumerate()
        .find(|(_, v)| v.up && v.role == Role::Leader && v.term == top);
    let (leader_log, leader_commit) =
        leader.map_or((0, 0), |(i, v)| (checker.log_len(i), v.commit as usize));
    // One small code per node; sorted, so which node is which does not matter (symmetry).
    let mut codes: Vec<u32> = reg
        .nodes
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if !v.up {
                return 0;
            }
            let role = match v.role {
                Role::Follower => 1,
                Role::PreCandidate => 2,
                Role::Candidate => 3,
                Role::Leader => 4,
            };
            let lag = (top - v.term).min(3) as u32;
            let log = checker.log_len(i);
            let log_rel = match log.cmp(&leader_log) {
                std::cmp::Ordering::Less => 0,
                std::cmp::Ordering::Equal => 1,
                std::cmp::Ordering::Greater => 2,
            };
            let commit_rel = match (v.commit as usize).cmp(&leader_commit) {
                std::cmp::Ordering::Less => 0,
                std::cmp::Ordering::Equal => 1,
                std::cmp::Ordering::Greater => 2,
            };
            let uncommitted = u32::from(log > v.commit as usize);
            1 + role + 8 * lag + 32 * log_rel + 128 * commit_rel + 512 * uncommitted
        })
        .collect();
    codes.sort_unstable();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(leader.is_some());
    for c in codes {
        h = (h ^ u64::from(c)).wrapping_mul(0x100_0000_01b3);
    }
    h
}
