//! Planted bugs: realistic mistakes from real Raft implementations, behind one runtime switch.
//!
//! `RaftKv { mutant: Some(m) }` plants `m`; the node checks `self.mutant == Some(..)` only at
//! the one spot each bug lives, so the correct store pays nothing else for the switch. A bug
//! in lease reads ([`Mutant::needs_leases`]) is planted in `raft-lease` only: `raft` reads
//! through the log, where it could never show.

use crate::mutants::MutantInfo;
use std::fmt;
use std::str::FromStr;

/// A planted bug in the Raft store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mutant {
    /// The leader commits an entry of an earlier term by counting replicas.
    CommitPreviousTerm,
    /// Term and vote are written but not synced before replying to a vote request.
    UnsyncedVote,
    /// The election restriction compares only log length, not the last term.
    LogLengthElection,
    /// A candidate counts vote replies from earlier terms, and duplicates.
    StaleVoteCount,
    /// A follower truncates its log after `prev_index` on every AppendEntries, even when the
    /// entries match (a stale or duplicated AppendEntries loses entries).
    TruncateOnAppend,
    /// A follower takes the leader's commit index bounded only by its own log length (not by
    /// its last new entry), before and regardless of the consistency check.
    UnboundedFollowerCommit,
    /// The leader acts on AppendEntries replies from earlier terms.
    StaleAppendReply,
    /// The leader answers reads from its local state without confirming leadership.
    LocalReads,
    /// Retried client requests are applied again (no session deduplication).
    NoDedup,
    /// A fixed, non-random election timeout.
    FixedElectionTimeout,
    /// No PreVote and no CheckQuorum or leader stickiness.
    NoPreVote,
    /// A follower acknowledges entries before syncing its log.
    UnsyncedLog,
    /// A vote is synced only after the reply granting it has been sent.
    VoteReplyBeforeSync,
    /// A new term is synced only after the replies of the step that adopted it.
    TermSyncAfterReply,
    /// A follower stages an AppendEntries' entries in a fixed buffer sized by the batch limit
    /// honest leaders keep to: only a forged message overflows it.
    FixedAppendBatch,
    /// Log recovery decodes every record whose length fits without verifying its checksum.
    UnverifiedRecords,
    /// The read lease is dated by the followers' wall clocks, compared with the leader's,
    /// lasts the whole minimum election timeout, and keeps the leader from stepping down: no
    /// margin for drift, and nothing bounds how far two wall clocks disagree (`raft-lease`).
    UnboundedLease,
}

impl Mutant {
    /// Every mutant.
    pub const ALL: [Mutant; 17] = [
        Mutant::CommitPreviousTerm,
        Mutant::UnsyncedVote,
        Mutant::LogLengthElection,
        Mutant::StaleVoteCount,
        Mutant::TruncateOnAppend,
        Mutant::UnboundedFollowerCommit,
        Mutant::StaleAppendReply,
        Mutant::LocalReads,
        Mutant::NoDedup,
        Mutant::FixedElectionTimeout,
        Mutant::NoPreVote,
        Mutant::UnsyncedLog,
        Mutant::VoteReplyBeforeSync,
        Mutant::TermSyncAfterReply,
        Mutant::FixedAppendBatch,
        Mutant::UnverifiedRecords,
        Mutant::UnboundedLease,
    ];

    /// Whether the bug lives in lease reads, so that only `raft-lease` can carry it.
    pub fn needs_leases(self) -> bool {
        self == Mutant::UnboundedLease
    }

    /// Kebab-case name (`--mutant NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Mutant::CommitPreviousTerm => "commit-previous-term",
            Mutant::UnsyncedVote => "unsynced-vote",
            Mutant::LogLengthElection => "log-length-election",
            Mutant::StaleVoteCount => "stale-vote-count",
            Mutant::TruncateOnAppend => "truncate-on-append",
            Mutant::UnboundedFollowerCommit => "unbounded-follower-commit",
            Mutant::StaleAppendReply => "stale-append-reply",
            Mutant::LocalReads => "local-reads",
            Mutant::NoDedup => "no-dedup",
            Mutant::FixedElectionTimeout => "fixed-election-timeout",
            Mutant::NoPreVote => "no-prevote",
            Mutant::UnsyncedLog => "unsynced-log",
            Mutant::VoteReplyBeforeSync => "vote-reply-before-sync",
            Mutant::TermSyncAfterReply => "term-sync-after-reply",
            Mutant::FixedAppendBatch => "fixed-append-batch",
            Mutant::UnverifiedRecords => "unverified-records",
            Mutant::UnboundedLease => "unbounded-lease",
        }
    }

    /// What the bug is, and the real bug it is modelled on.
    pub fn description(self) -> &'static str {
        match self {
            Mutant::CommitPreviousTerm => {
                "a leader commits an entry of an earlier term by counting replicas, and appends no no-op at the start of its term (Raft paper Figure 8; LogCabin #44)"
            }
            Mutant::UnsyncedVote => {
                "term and vote are not synced before answering a vote request, so a power loss allows a second vote in the same term (hashicorp/raft #661)"
            }
            Mutant::LogLengthElection => {
                "the election restriction compares only log length, not the last entry's term"
            }
            Mutant::StaleVoteCount => {
                "a candidate counts vote replies from earlier terms and counts a voter twice"
            }
            Mutant::TruncateOnAppend => {
                "a follower truncates its log after prev_index on a stale or duplicated AppendEntries even when the entries match"
            }
            Mutant::UnboundedFollowerCommit => {
                "a follower takes the leader's commit index bounded only by its own log length, not by the last new entry, even on an AppendEntries whose consistency check fails"
            }
            Mutant::StaleAppendReply => {
                "a leader acts on an AppendEntries reply from an earlier term"
            }
            Mutant::LocalReads => {
                "reads are served from the leader's local state without confirming leadership (stale reads after a partition)"
            }
            Mutant::NoDedup => "retried client requests are not deduplicated (a write applied twice)",
            Mutant::FixedElectionTimeout => {
                "a fixed, non-random election timeout: split votes repeat forever (a liveness bug)"
            }
            Mutant::NoPreVote => {
                "no PreVote, CheckQuorum or leader stickiness: a partially connected node keeps disrupting the leader (a liveness bug)"
            }
            Mutant::UnsyncedLog => {
                "a follower acknowledges AppendEntries before syncing its log, so a power loss forgets acknowledged entries"
            }
            Mutant::VoteReplyBeforeSync => {
                "the vote is synced, but only after the reply granting it has gone out in the same event-loop turn (persistence pipelined behind the send, against the rule of etcd raft's Ready loop that state is persisted before messages are sent); only a crash between the send and the sync loses the vote"
            }
            Mutant::TermSyncAfterReply => {
                "a follower adopting a leader's newer term syncs its log at once but its term only after replying in the same turn; a crash between the two leaves entries of a term the node no longer remembers"
            }
            Mutant::FixedAppendBatch => {
                "a follower copies an AppendEntries' entries into a fixed buffer sized by the leaders' batch limit before checking anything, trusting the sender to keep to it: a forged AppendEntries with more entries indexes past the buffer and panics (in C, a buffer overflow); only forged messages reach it"
            }
            Mutant::UnverifiedRecords => {
                "log recovery trusts the length prefix and decodes each record without verifying its checksum, so a bit flipped on disk becomes a different entry the node replays and applies (as Redis replays its append-only file, which carries no checksum: Ganesan et al., FAST '17, saw one flipped bit served and replicated as data); only a bit flip in a synced record reaches it"
            }
            Mutant::UnboundedLease => {
                "raft-lease only: each acknowledgment of a heartbeat carries the follower's wall-clock time, and the leader holds its lease (answering reads on its own, and keeping its leadership without CheckQuorum) until that time plus a whole minimum election timeout, read on its own wall clock: it trusts two machines' wall clocks to agree and to run at true rate, so a follower whose clock runs ahead keeps a deposed leader serving stale reads after a new leader has committed (leases and timeouts on System.currentTimeMillis broke on clock changes in ZooKeeper, ZOOKEEPER-1366; etcd's lease reads assume bounded drift)"
            }
        }
    }

    /// The property expected to catch it.
    pub fn caught_by(self) -> &'static str {
        match self {
            Mutant::CommitPreviousTerm => "committed entries survive every election",
            Mutant::UnsyncedVote => "persisted state survives restarts",
            Mutant::LogLengthElection => "leader completeness",
            Mutant::StaleVoteCount => "election safety",
            Mutant::TruncateOnAppend => "committed entries are never lost",
            Mutant::UnboundedFollowerCommit => "committed entries are never lost",
            Mutant::StaleAppendReply => {
                "a leader's match index rests on an acknowledgment of its term"
            }
            Mutant::LocalReads => "linearizability",
            Mutant::NoDedup => "linearizability",
            Mutant::FixedElectionTimeout => "liveness",
            Mutant::NoPreVote => "progress while faults persist",
            Mutant::UnsyncedLog => "persisted state survives restarts",
            Mutant::VoteReplyBeforeSync => "persisted state survives restarts",
            Mutant::TermSyncAfterReply => "terms never decrease",
            Mutant::FixedAppendBatch => "no panics",
            Mutant::UnverifiedRecords => "corrupt records are never trusted",
            Mutant::UnboundedLease => "linearizability",
        }
    }
}

impl Mutant {
    /// The mutant as `squall mutants` lists it.
    pub fn info(self) -> MutantInfo {
        MutantInfo {
            name: self.name(),
            description: self.description(),
            caught_by: self.caught_by(),
        }
    }

    /// Every mutant's listing, in a fixed order.
    pub fn catalog() -> Vec<MutantInfo> {
        Mutant::ALL.into_iter().map(Mutant::info).collect()
    }
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
                    "unknown mutant `{s}`; the mutants are: {}",
                    names.join(", ")
                )
            })
    }
}
