//! Log replication (Figure 2): log entries, AppendEntries (also the heartbeat) and its reply.

use super::{Index, Term};
use crate::workload::kv::KvOp;
use serde::{Deserialize, Serialize};

/// What a log entry asks the state machine to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// The entry a new leader appends at the start of its term (Raft §8, thesis §6.4).
    Noop,
    /// A client's operation, with its session identity.
    Kv {
        /// The client's id.
        client: u64,
        /// The client's sequence number for this operation.
        seq: u64,
        /// The operation.
        op: KvOp,
    },
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The term in which a leader created it.
    pub term: Term,
    /// Its command.
    pub command: Command,
}

/// AppendEntries RPC (Figure 2); also the heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntries {
    /// Leader.
    pub from: u8,
    /// Leader's term.
    pub term: Term,
    /// Index of the entry before `entries`.
    pub prev_index: Index,
    /// Its term.
    pub prev_term: Term,
    /// Entries to store (empty for a heartbeat).
    pub entries: Vec<Entry>,
    /// Leader's commit index.
    pub leader_commit: Index,
}

/// [`AppendEntries`] result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendReply {
    /// Follower.
    pub from: u8,
    /// Follower's current term.
    pub term: Term,
    /// Whether the follower's log matched at `prev_index`.
    pub success: bool,
    /// On success: the index up to which the follower's log now matches the leader's.
    /// On failure: where the leader should retry from (the conflict hint).
    pub index: Index,
}
