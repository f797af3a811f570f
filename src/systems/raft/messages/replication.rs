//! Log replication (Figure 2): log entries, AppendEntries (also the heartbeat) and its reply.

use super::{Index, Term};
use crate::workload::kv::KvOp;
use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};

/// What a log entry asks the state machine to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub enum Command {
    /// The entry a new leader appends at the start of its term (Raft §8, thesis §6.4).
    Noop,
    /// A client's operation, with its session identity.
    Kv {
        /// The client's id.
        #[arbitrary(with = crate::node::forge::plausible_u64)]
        client: u64,
        /// The client's sequence number for this operation.
        #[arbitrary(with = crate::node::forge::plausible_u64)]
        seq: u64,
        /// The operation.
        op: KvOp,
    },
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct Entry {
    /// The term in which a leader created it.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub term: Term,
    /// Its command.
    pub command: Command,
}

/// AppendEntries RPC (Figure 2); also the heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct AppendEntries {
    /// Leader.
    #[arbitrary(with = crate::node::forge::node_id)]
    pub from: u8,
    /// Leader's term.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub term: Term,
    /// Index of the entry before `entries`.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub prev_index: Index,
    /// Its term.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub prev_term: Term,
    /// Entries to store (empty for a heartbeat).
    pub entries: Vec<Entry>,
    /// Leader's commit index.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub leader_commit: Index,
}

/// [`AppendEntries`] result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct AppendReply {
    /// Follower.
    #[arbitrary(with = crate::node::forge::node_id)]
    pub from: u8,
    /// Follower's current term.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub term: Term,
    /// Whether the follower's log matched at `prev_index`.
    pub success: bool,
    /// On success: the index up to which the follower's log now matches the leader's.
    /// On failure: where the leader should retry from (the conflict hint).
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub index: Index,
}

/// An [`AppendEntries`] from a leader that serves reads under a lease (`raft-lease`). The
/// follower handles `append` as any AppendEntries and answers with a [`LeaseReply`] that
/// echoes `sent`: the leader's clock reading when it sent it, in microseconds on its own
/// clock. The leader can then date the lease an acknowledgment renews by the moment the
/// follower's promise began, even if the reply was delayed, duplicated or reordered — a
/// reply's arrival time says nothing about which heartbeat it answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct LeaseAppend {
    /// The leader's clock reading at sending, in microseconds.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub sent: u64,
    /// The AppendEntries itself.
    pub append: AppendEntries,
}

/// The answer to a [`LeaseAppend`]: the [`AppendReply`], with the request's `sent` echoed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct LeaseReply {
    /// The `sent` of the [`LeaseAppend`] answered.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub sent: u64,
    /// The reply itself.
    pub reply: AppendReply,
}
