//! The client protocol (thesis §6.3): a request carries the client's id and a sequence number
//! that retries reuse, so the cluster applies each operation at most once.

use crate::workload::kv::KvOp;
use arbitrary::Arbitrary;
use serde::{Deserialize, Serialize};

/// A client's request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct ClientRequest {
    /// Client id.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub client: u64,
    /// Sequence number (retries reuse it).
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub seq: u64,
    /// The operation.
    pub op: KvOp,
}

/// The answer to a [`ClientRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub struct ClientReply {
    /// The request's sequence number.
    #[arbitrary(with = crate::node::forge::plausible_u64)]
    pub seq: u64,
    /// The answer.
    pub outcome: Outcome,
}

/// How the cluster answered a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Arbitrary)]
pub enum Outcome {
    /// Applied; the result (what a get read; empty for writes).
    Done(String),
    /// This node is not the leader; try the hinted node if any.
    NotLeader(Option<u8>),
}
