//! Liveness while faults persist: once the fault state has been steady for a while, any
//! fully connected majority must have a leader that has committed an entry of its term, and
//! must keep it — no more elections until the faults change.
//!
//! This is what PreVote, CheckQuorum and leader stickiness buy (Ongaro's thesis §9.6, §6.2):
//! without them a node that can reach some peers but not the leader keeps forcing elections
//! under a partial partition, although a healthy majority exists. The liveness check after
//! the heal cannot see that, since healing removes the cause.

use super::messages::Term;
use super::observer::{Observer, Role};
use crate::check::Violation;
use crate::scenario::{NodeId, NodeSet};
use crate::systems::{Property, StepContext};
use std::time::Duration;

/// A fully connected majority elects a leader that commits within a bound.
pub const PROGRESS_UNDER_FAULTS: Property = Property::liveness(
    "progress while faults persist",
    "once the faults have been steady for a while and a majority of running nodes is fully connected, a leader commits within a bound",
);

/// How long the fault state must be steady before a connected majority must have a leader.
pub const SETTLE: Duration = Duration::from_secs(2);

/// Incremental state of the check.
#[derive(Debug, Default)]
pub struct Progress {
    /// The fault state this was computed for (its `changes`), and which nodes had refused to
    /// start from a corrupt disk then.
    changes: Option<(u64, NodeSet)>,
    /// Nodes of a fully connected majority of running nodes, if there is one.
    clique: Option<NodeSet>,
    /// The clique's highest term once it settled, and its leader.
    settled: Option<(Term, usize)>,
}

impl Progress {
    /// Checks after a step.
    pub fn check(&mut self, observer: &Observer, ctx: &StepContext<'_>) -> Result<(), Violation> {
        let faults = ctx.faults;
        let refused = (observer.0.borrow().nodes.iter().enumerate())
            .filter(|(_, v)| v.refused)
            .fold(NodeSet::default(), |s, (i, _)| s.with(i as NodeId));
        if self.changes != Some((faults.changes, refused)) {
            self.settled = None;
            // Loss, corruption and delays legitimately cost elections; only a clean network
            // is held to this. A node that refused to start from a corrupt disk counts as down.
            let clean = faults.loss_percent == 0
                && faults.delay_percent == 0
                && faults.corrupt_percent == 0;
            self.clique = if !clean {
                None
            } else if !refused.is_empty() {
                let mut f = faults.clone();
                for r in refused.iter() {
                    f.up[usize::from(r)] = false;
                }
                f.connected_majority()
            } else {
                faults.connected_majority()
            };
            self.changes = Some((faults.changes, refused));
        }
        let Some(clique) = self.clique else {
            return Ok(());
        };
        if ctx.now < faults.since + SETTLE {
            return Ok(());
        }
        let reg = observer.0.borrow();
        let n = faults.up.len();
        // A leader that can replicate: it reaches a majority (itself included) both ways, if
        // only over slow links, and it has committed its `term_start` (its term's no-op). It
        // need not be in the clique.
        let leader = (0..n)
            .filter(|&i| {
                let v = &reg.nodes[i];
                faults.up[i]
                    && v.role == Role::Leader
                    && v.commit >= v.term_start
                    && faults.reaches_majority(i as NodeId)
            })
            .max_by_key(|&i| reg.nodes[i].term);
        let names = || {
            clique
                .iter()
                .map(|i| format!("n{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let Some(leader) = leader else {
            let top = reg.nodes.iter().map(|v| v.term).max().unwrap_or(0);
            return Err(PROGRESS_UNDER_FAULTS.violated(format!(
                    "{{{}}} have been up and fully connected for {:.1}s, but no node leads with a quorum \
                     and an entry of its term committed (highest term {top})",
                    names(),
                    SETTLE.as_secs_f64()
                ),
            ));
        };
        let now = (reg.nodes[leader].term, leader);
        match self.settled {
            None => self.settled = Some(now),
            Some((term, old)) if (term, old) != now => {
                return Err(PROGRESS_UNDER_FAULTS.violated(format!(
                        "{{{}}} are fully connected and had settled on n{old} as leader of term {term}, \
                         yet leadership moved to n{} in term {} although no fault changed",
                        names(),
                        now.1,
                        now.0
                    ),
                ));
            }
            Some(_) => {}
        }
        Ok(())
    }
}
