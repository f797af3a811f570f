//! Planted 2PC bugs behind one runtime switch, each modelled on a real bug class
//! (`/work/shared/BUGS.md` rows T1–T8).

use crate::mutants::MutantInfo;
use std::str::FromStr;

/// A planted bug in the 2PC store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// T1: a participant votes yes before its PREPARED record is synced.
    VoteBeforeSync,
    /// T2: the coordinator sends COMMIT without logging the decision; a restarted coordinator
    /// presumes abort.
    CommitBeforeLog,
    /// T3: an in-doubt participant aborts on its own after a timeout.
    InDoubtTimeout,
    /// T4: at the vote timeout, a missing vote counts as yes.
    MissingVoteIsYes,
    /// T5: an ABORT for an unknown transaction leaves no tombstone; a late PREPARE prepares it.
    NoAbortTombstone,
    /// T6: decisions are sent once, never resent, never re-driven after a restart.
    NoRedrive,
    /// T7: a resent COMMIT is applied again.
    DoubleApply,
    /// T8: reads see prepared (uncommitted) writes.
    DirtyRead,
}

impl Mutant {
    /// Every planted bug.
    pub const ALL: [Mutant; 8] = [
        Mutant::VoteBeforeSync,
        Mutant::CommitBeforeLog,
        Mutant::InDoubtTimeout,
        Mutant::MissingVoteIsYes,
        Mutant::NoAbortTombstone,
        Mutant::NoRedrive,
        Mutant::DoubleApply,
        Mutant::DirtyRead,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Name, description and the property expected to catch it.
    pub fn info(self) -> MutantInfo {
        use super::invariants as p;
        match self {
            Mutant::VoteBeforeSync => MutantInfo::new(
                "vote-before-sync",
                "T1: a participant votes yes before its PREPARED record is synced (MDEV-35019, h2database #2347)",
                p::PREPARED_DURABLE.name,
            ),
            Mutant::CommitBeforeLog => MutantInfo::new(
                "commit-before-log",
                "T2: the coordinator sends COMMIT without forcing its decision record and presumes abort after a restart (horizontal-scaling-convex #101)",
                p::DECISION_DURABLE.name,
            ),
            Mutant::InDoubtTimeout => MutantInfo::new(
                "in-doubt-timeout",
                "T3: an in-doubt participant aborts on its own after a timeout instead of asking the coordinator (XA heuristic outcomes)",
                p::ATOMICITY.name,
            ),
            Mutant::MissingVoteIsYes => MutantInfo::new(
                "missing-vote-is-yes",
                "T4: at the vote timeout the coordinator counts a missing vote as yes",
                p::VALIDITY.name,
            ),
            Mutant::NoAbortTombstone => MutantInfo::new(
                "no-abort-tombstone",
                "T5: an ABORT for an unknown transaction leaves no tombstone, so a late PREPARE prepares it (KAFKA-17754, ScalarDB #2135)",
                p::ABORT_IS_FINAL.name,
            ),
            Mutant::NoRedrive => MutantInfo::new(
                "no-redrive",
                "T6: decisions are sent once, never resent, and not re-driven after a coordinator restart (atomix #360)",
                crate::systems::property::harness::RECOVERY_AFTER_HEAL.name,
            ),
            Mutant::DoubleApply => MutantInfo::new(
                "double-apply",
                "T7: a resent COMMIT is applied again (elizaOS #10846)",
                p::CONSERVATION.name,
            ),
            Mutant::DirtyRead => MutantInfo::new(
                "dirty-read",
                "T8: reads see prepared, uncommitted writes (Jepsen G1a aborted reads)",
                crate::workload::bank::NO_ABORTED_READS.name,
            ),
        }
    }
}

impl FromStr for Mutant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Mutant::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Mutant::ALL.iter().map(|m| m.name()).collect();
                format!(
                    "unknown planted bug `{s}` for `twopc`; known: {}",
                    names.join(", ")
                )
            })
    }
}
