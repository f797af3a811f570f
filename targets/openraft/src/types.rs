//! openraft's type configuration and the KV application's commands.
//!
//! The application is a small key-value store: `put` overwrites a key, `append` appends to it,
//! and every write carries its client's `(client, seq)` so the state machine applies a retried
//! write once (Raft §8). Values are the tokens `[v]` concatenated, as squall's KV model expects.

use openraft::impls::leader_id_std;
use openraft::impls::TokioRuntime;
use openraft::rt::deterministic_rng::DeterministicRng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// openraft's async runtime: tokio (turmoil's paused, per-host runtime), with every random
/// number openraft draws (election timeouts) taken from a per-node seed instead of the OS.
pub type Runtime = DeterministicRng<TokioRuntime>;

/// A write, as it travels through the Raft log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The client that sent it.
    pub client: u8,
    /// The client's sequence number; a retry reuses it.
    pub seq: u64,
    /// What to do.
    pub write: Write,
}

/// The two kinds of write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Write {
    /// Overwrite the key with `[value]`.
    Put {
        /// Key index.
        key: u8,
        /// Written value.
        value: u32,
    },
    /// Append `[value]` to the key.
    Append {
        /// Key index.
        key: u8,
        /// Appended value.
        value: u32,
    },
}

impl fmt::Display for Write {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Write::Put { key, value } => write!(f, "put k{key} {value}"),
            Write::Append { key, value } => write!(f, "append k{key} {value}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}#{} {}", self.client, self.seq, self.write)
    }
}

/// What applying a write answers: the key's value afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The key's value after the write.
    pub value: String,
}

openraft::declare_raft_types!(
    /// The adapter's openraft type configuration.
    pub TypeConfig:
        D = Command,
        R = Applied,
        NodeId = u64,
        Node = openraft::impls::EmptyNode,
        // Standard Raft leader ids: at most one leader per term, checked directly.
        LeaderId = leader_id_std::LeaderId<u64, u64>,
        AsyncRuntime = Runtime,
);

/// A log entry.
pub type Entry = openraft::type_config::alias::EntryOf<TypeConfig>;
/// A log id (term and index).
pub type LogId = openraft::type_config::alias::LogIdOf<TypeConfig>;
/// A vote.
pub type Vote = openraft::type_config::alias::VoteOf<TypeConfig>;
/// The membership as the state machine stores it.
pub type StoredMembership = openraft::type_config::alias::StoredMembershipOf<TypeConfig>;
/// Snapshot payload (snapshots are never built: see `store`).
pub type SnapshotData = std::io::Cursor<Vec<u8>>;
/// openraft's metrics.
pub type Metrics = openraft::RaftMetrics<TypeConfig>;

/// A one-line description of an entry's payload, for invariants and violation reports.
pub fn describe(entry: &Entry) -> String {
    match &entry.payload {
        openraft::EntryPayload::Blank => "blank".to_string(),
        openraft::EntryPayload::Normal(cmd) => cmd.to_string(),
        openraft::EntryPayload::Membership(m) => format!("membership {m}"),
    }
}
