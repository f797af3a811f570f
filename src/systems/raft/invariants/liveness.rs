//! The liveness condition the liveness phase waits for once everything has healed. (Progress
//! while faults persist is checked every step, in [`super::super::progress`].)

use super::Checker;
use crate::systems::raft::observer::{NodeView, Observer, Role};
use crate::systems::Liveness;

impl Checker {
    /// The liveness condition: every node up, one leader of the highest term that everyone
    /// follows, an entry of its term committed, every node applied up to its commit index with
    /// equal state. Once state machine safety is no longer checked (after a forged message),
    /// only the recovery part: every node applied at least up to the leader's commit index,
    /// whatever a forgery made it apply besides. Nodes that refused to start from a corrupt
    /// disk take no part: the others must be live without them, and if they are no majority,
    /// liveness is impossible.
    pub fn liveness(&self, observer: &Observer) -> Liveness {
        let reg = observer.0.borrow();
        let refused: Vec<String> = (0..reg.nodes.len())
            .filter(|i| reg.nodes[*i].refused)
            .map(|i| format!("n{i}"))
            .collect();
        let all = reg.nodes.len();
        if (all - refused.len()) * 2 <= all {
            return Liveness::Impossible(format!(
                "{} refused to start from corrupt disks; the other {} of {all} nodes are no majority",
                refused.join(" "),
                all - refused.len()
            ));
        }
        let nodes: Vec<&NodeView> = reg.nodes.iter().filter(|v| !v.refused).collect();
        let ids: Vec<usize> = (0..all).filter(|i| !reg.nodes[*i].refused).collect();
        if let Some(down) = nodes.iter().position(|v| !v.up) {
            return Liveness::Waiting(format!("n{} is down", ids[down]));
        }
        let top = nodes.iter().map(|v| v.term).max().unwrap_or(0);
        let leaders: Vec<usize> = (0..all)
            .filter(|i| {
                let v = &reg.nodes[*i];
                !v.refused && v.role == Role::Leader && v.term == top
            })
            .collect();
        let leader = match leaders.as_slice() {
            [l] => *l,
            [] => return Liveness::Waiting(format!("no leader in term {top}")),
            _ => return Liveness::Waiting(format!("several leaders in term {top}")),
        };
        let lv = &reg.nodes[leader];
        for (&i, v) in ids.iter().zip(&nodes) {
            if v.term != top || v.leader != Some(leader as u8) {
                return Liveness::Waiting(format!(
                    "n{i} does not follow leader n{leader} of term {top}"
                ));
            }
        }
        if lv.commit < lv.term_start {
            return Liveness::Waiting(format!(
                "leader n{leader} has not committed an entry of term {top}"
            ));
        }
        for (&i, v) in ids.iter().zip(&nodes) {
            if !self.states_must_agree {
                if v.applied < lv.commit {
                    return Liveness::Waiting(format!(
                        "n{i} has applied up to index {}, the leader committed up to {}",
                        v.applied, lv.commit
                    ));
                }
                continue;
            }
            if v.applied != lv.commit {
                return Liveness::Waiting(format!(
                    "n{i} has applied up to index {}, the leader committed up to {}",
                    v.applied, lv.commit
                ));
            }
            if v.state_digest != lv.state_digest {
                return Liveness::Waiting(format!(
                    "n{i}'s state differs from leader n{leader}'s at index {}",
                    v.applied
                ));
            }
        }
        Liveness::Live
    }
}
