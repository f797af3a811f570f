//! The liveness condition the liveness phase waits for once everything has healed. (Progress
//! while faults persist is checked every step, in [`super::super::progress`].)

use super::Checker;
use crate::systems::raft::observer::{Observer, Role};
use crate::systems::Liveness;

impl Checker {
    /// The liveness condition: every node up, one leader of the highest term that everyone
    /// follows, an entry of its term committed, every node applied up to its commit index with
    /// equal state. Once state machine safety is no longer checked (after a forged message),
    /// only the recovery part: every node applied at least up to the leader's commit index,
    /// whatever a forgery made it apply besides.
    pub fn liveness(&self, observer: &Observer) -> Liveness {
        let reg = observer.0.borrow();
        let nodes = &reg.nodes;
        if let Some(down) = nodes.iter().position(|v| !v.up) {
            return Liveness::Waiting(format!("n{down} is down"));
        }
        let top = nodes.iter().map(|v| v.term).max().unwrap_or(0);
        let leaders: Vec<usize> = (0..nodes.len())
            .filter(|i| nodes[*i].role == Role::Leader && nodes[*i].term == top)
            .collect();
        let leader = match leaders.as_slice() {
            [l] => *l,
            [] => return Liveness::Waiting(format!("no leader in term {top}")),
            _ => return Liveness::Waiting(format!("several leaders in term {top}")),
        };
        let lv = &nodes[leader];
        for (i, v) in nodes.iter().enumerate() {
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
        for (i, v) in nodes.iter().enumerate() {
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
