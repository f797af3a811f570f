//! Wire messages of the dynamo store, and the records of its two logs (the data log and the
//! hint log). Every message travels as one checksummed frame; a request carries the id its
//! answer echoes, so late and duplicated answers are matched or dropped, never misapplied.

use super::version::{Entry, Hlc, Sibling, Vv};
use serde::{Deserialize, Serialize};

/// The largest frame the store sends or receives.
pub const RECEIVE_BUFFER: usize = 32 * 1024;

/// A client request's id: (client, sequence number).
pub type ReqId = (u8, u32);

/// Every message between clients, coordinators and replicas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Client → coordinator: read `key`. With `session` non-empty, the answer must cover it
    /// (read-your-writes and monotonic reads): the coordinator says whether it does.
    Get {
        /// Request id.
        req: ReqId,
        /// Key.
        key: u8,
        /// What the session has seen and written of the key.
        session: Vv,
    },
    /// Coordinator → client: the merged entry, or why not.
    GetReply {
        /// Request id.
        req: ReqId,
        /// The merged entry (its clock is the context for the next write).
        entry: Entry,
        /// Whether `entry` covers the session's context. When no reachable replica has
        /// caught up with it, the coordinator answers with what they hold and says so.
        covered: bool,
        /// Empty on success; otherwise why the read failed.
        error: String,
        /// The coordinator's hybrid clock now (LWW mode): the client stamps its next write
        /// after it.
        clock: Hlc,
    },
    /// Client → coordinator: write `sibling` over what `context` covers. The client chooses
    /// its dot and id and, in LWW mode, its timestamp (on its session's hybrid clock, which
    /// follows the coordinators' clocks), so that a retry through another coordinator is the
    /// same version with the same timestamp; in sibling mode the coordinator stamps it.
    Put {
        /// Request id.
        req: ReqId,
        /// Key.
        key: u8,
        /// What the write overwrites.
        context: Vv,
        /// The new version (a tombstone for a delete).
        sibling: Sibling,
        /// The greatest timestamp the session has seen of the key.
        seen: Hlc,
    },
    /// Coordinator → client: the write reached W replicas.
    PutReply {
        /// Request id.
        req: ReqId,
        /// The greatest timestamp the version may end with: the one this coordinator gave it,
        /// or a greater one a replica holds from an earlier attempt (the session's next write
        /// must be stamped after it).
        ts: Hlc,
        /// The greatest timestamp the acknowledging replicas hold for it: the version's
        /// timestamp is at least this wherever it ends.
        held: Hlc,
        /// The coordinator's hybrid clock now (LWW mode).
        clock: Hlc,
    },
    /// Coordinator → home replica: apply a write.
    Store {
        /// The coordinator's operation id.
        op: u64,
        /// Key.
        key: u8,
        /// What it overwrites.
        context: Vv,
        /// The version.
        sibling: Sibling,
    },
    /// Coordinator → fallback: hold a write for the unreachable home `home` (a hint).
    Hint {
        /// The coordinator's operation id.
        op: u64,
        /// The home replica it is for.
        home: u8,
        /// Key.
        key: u8,
        /// What it overwrites.
        context: Vv,
        /// The version.
        sibling: Sibling,
    },
    /// Replica or fallback → coordinator: the write (or the hint) is durable here.
    Stored {
        /// The coordinator's operation id.
        op: u64,
        /// The timestamp the version holds here: another coordinator's, if a retry of the
        /// write reached this replica first (the greater one wins when copies merge).
        held: Hlc,
    },
    /// Coordinator → home replica: send your entry for `key`.
    Fetch {
        /// The coordinator's operation id.
        op: u64,
        /// Key.
        key: u8,
    },
    /// Replica → coordinator: its entry.
    Fetched {
        /// The coordinator's operation id.
        op: u64,
        /// The entry (default if it holds none).
        entry: Entry,
    },
    /// Coordinator → stale replica: merge this entry (read repair).
    Repair {
        /// Key.
        key: u8,
        /// The merged entry.
        entry: Entry,
    },
    /// Fallback → home: a hinted write, handed off.
    Handoff {
        /// The hint's id at the fallback.
        hint: u64,
        /// Key.
        key: u8,
        /// What it overwrites.
        context: Vv,
        /// The version.
        sibling: Sibling,
    },
    /// Home → fallback: the handed-off write is durable here; drop the hint.
    HandoffAck {
        /// The hint's id.
        hint: u64,
    },
    /// Anti-entropy, level 0: the root of the sender's hash tree over the keys both replicate.
    SyncRoot {
        /// The root hash.
        root: u64,
    },
    /// Anti-entropy, level 1: the leaves (one per key range), sent when the roots differ.
    SyncLeaves {
        /// The leaf hashes.
        leaves: Vec<u64>,
    },
    /// Anti-entropy, level 2: the entries of the ranges that differ; the receiver merges
    /// them and, if `reply`, answers with its own for the same keys.
    SyncEntries {
        /// (key, entry).
        entries: Vec<(u8, Entry)>,
        /// Whether to answer with the receiver's entries.
        reply: bool,
    },
}

/// A record of the data log: a key's entry after a change (the last one per key wins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRecord {
    /// Key.
    pub key: u8,
    /// Its entry.
    pub entry: Entry,
}

/// A record of the hint log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HintRecord {
    /// A write held for an unreachable home replica.
    Stored {
        /// The hint's id here.
        hint: u64,
        /// Its home replica.
        home: u8,
        /// Key.
        key: u8,
        /// What it overwrites.
        context: Vv,
        /// The version.
        sibling: Sibling,
    },
    /// The home acknowledged it.
    Done {
        /// The hint's id.
        hint: u64,
    },
}
