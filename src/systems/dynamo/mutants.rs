//! Planted dynamo bugs behind one runtime switch, each modelled on a real bug class
//! (`/work/shared/BUGS.md` rows A1–A10).

use crate::check::eventual::properties as ev;
use crate::mutants::MutantInfo;
use std::str::FromStr;

/// A planted bug in the dynamo store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// A1: last writer wins on the coordinator's wall clock, no hybrid logical clock.
    LwwWallClock,
    /// A2: the merge concatenates siblings without removing duplicates.
    MergeNotIdempotent,
    /// A3: tombstones (and the key's clock) collected after a short horizon.
    EarlyTombstoneGc,
    /// A4: hints kept in memory only.
    VolatileHints,
    /// A5: anti-entropy hashes keys, not versions.
    DigestKeysOnly,
    /// A6: read repair (and the answer) takes the coordinator's own copy as the winner.
    RepairLocalWins,
    /// A7: a read trusts quorum intersection instead of checking the session context, and says
    /// its answer covers the session.
    TrustQuorum,
    /// A8: a merge keeps whichever entry is "greater in any entry", dropping siblings.
    GreaterInAnyEntry,
    /// A9: no periodic anti-entropy; only a local write triggers an exchange.
    NoPeriodicSync,
    /// A10: the client drops its session context when it fails over to another coordinator.
    SessionLostOnFailover,
}

impl Mutant {
    /// Every planted bug.
    pub const ALL: [Mutant; 10] = [
        Mutant::LwwWallClock,
        Mutant::MergeNotIdempotent,
        Mutant::EarlyTombstoneGc,
        Mutant::VolatileHints,
        Mutant::DigestKeysOnly,
        Mutant::RepairLocalWins,
        Mutant::TrustQuorum,
        Mutant::GreaterInAnyEntry,
        Mutant::NoPeriodicSync,
        Mutant::SessionLostOnFailover,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Name, description and the property expected to catch it.
    pub fn info(self) -> MutantInfo {
        use super::invariants as p;
        match self {
            Mutant::LwwWallClock => MutantInfo::new(
                "lww-wall-clock",
                "A1: last writer wins by the coordinator's wall clock, without a hybrid logical clock: a skewed clock makes a causally later write lose (Jepsen: Riak, Cassandra; ScyllaDB clock-skew discards)",
                p::LWW_CAUSALITY.name,
            ),
            Mutant::MergeNotIdempotent => MutantInfo::new(
                "merge-not-idempotent",
                "A2: the merge concatenates both sides' siblings without removing duplicates, so a repeated or duplicated sync grows the state (akka #22890, CRDT-Redis #1)",
                p::VERSIONS_WELL_FORMED.name,
            ),
            Mutant::EarlyTombstoneGc => MutantInfo::new(
                "early-tombstone-gc",
                "A3: tombstones are collected, clock and all, after a short horizon; a replica that missed the delete resurrects the value (ScyllaDB #3560, #23712)",
                ev::CONVERGENCE.name,
            ),
            Mutant::VolatileHints => MutantInfo::new(
                "volatile-hints",
                "A4: a fallback acknowledges a hint it holds only in memory; a restart loses it (Dynamo SOSP'07; ScyllaDB #8102)",
                p::HINTS_DURABLE.name,
            ),
            Mutant::DigestKeysOnly => MutantInfo::new(
                "digest-keys-only",
                "A5: the anti-entropy hash tree hashes keys but not versions, so a replica that missed an update never learns it (ferrosa PR #47)",
                ev::CONVERGENCE.name,
            ),
            Mutant::RepairLocalWins => MutantInfo::new(
                "repair-local-wins",
                "A6: a read answers with, and repairs from, the coordinator's own copy (or the first reply) instead of the merge of the replies (weaviate #3762)",
                ev::READ_YOUR_WRITES.name,
            ),
            Mutant::TrustQuorum => MutantInfo::new(
                "trust-quorum",
                "A7: a read trusts that R + W > N intersects instead of checking the session's context, though sloppy quorums land on fallbacks, and tells the client its answer covers the session (Dynamo sloppy quorums; aphyr on Riak)",
                ev::READ_YOUR_WRITES.name,
            ),
            Mutant::GreaterInAnyEntry => MutantInfo::new(
                "greater-in-any-entry",
                "A8: merging compares version vectors as \"greater in any entry\" and keeps one entry outright, dropping a concurrent sibling (Riak vclock history)",
                ev::CONVERGENCE.name,
            ),
            Mutant::NoPeriodicSync => MutantInfo::new(
                "no-periodic-sync",
                "A9: anti-entropy runs only after a local write (push on write), never periodically; a replica that missed writes stays behind once writes stop (Modulo, ATC'22)",
                ev::CONVERGENCE.name,
            ),
            Mutant::SessionLostOnFailover => MutantInfo::new(
                "session-lost-on-failover",
                "A10: a client that fails over to another coordinator sends its reads without its session context (Terry et al. 1994)",
                ev::READ_YOUR_WRITES.name,
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
                    "unknown planted bug `{s}` for `dynamo`; known: {}",
                    names.join(", ")
                )
            })
    }
}
