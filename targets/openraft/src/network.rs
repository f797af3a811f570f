//! What nodes and clients ask each other, and openraft's network on squall's request/response
//! layer ([`Rpc`]), which gives every request an id unique per node incarnation, matches the
//! answer to it, drops late and duplicated answers and garbage, and fails a call at its
//! deadline. The deadline here is openraft's own soft TTL for the RPC; openraft retries.
//!
//! Why datagrams and not turmoil TCP: squall's message faults (loss, duplication, garbage)
//! live in its transport, so openraft sees them all; and a lost datagram costs one RPC, where
//! a lost TCP segment stalls the stream forever (turmoil never retransmits).

use crate::compat::Snapshot;
use crate::types::{Command, TypeConfig, Vote};
use openraft::error::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::RaftNetworkV2;
use serde::{Deserialize, Serialize};
use squall::node::Rpc;
use std::future::Future;
use std::net::SocketAddr;

/// Requests: openraft's RPCs between nodes, and the KV clients' operations.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Replication and heartbeats.
    Append(AppendEntriesRequest<TypeConfig>),
    /// A vote request.
    Vote(VoteRequest<TypeConfig>),
    /// A pre-vote request.
    PreVote(VoteRequest<TypeConfig>),
    /// A client's write.
    Write(Command),
    /// A client's linearizable read of key `k{0}`.
    Read(u8),
}

/// Answers.
#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    /// To `Append`.
    Append(AppendEntriesResponse<TypeConfig>),
    /// To `Vote` and `PreVote`.
    Vote(VoteResponse<TypeConfig>),
    /// A client operation took effect; the key's value (after a write, or as read).
    Done(String),
    /// This node is not the leader; the leader it knows of, if any.
    NotLeader(Option<u64>),
    /// The receiver failed to handle the request (openraft error text).
    Error(String),
}

/// A node's or a client's endpoint.
pub type Endpoint = Rpc<Request, Response>;

/// Creates a connection per peer for openraft; connecting is free (datagrams).
pub struct Network {
    /// This node's endpoint.
    pub rpc: Endpoint,
    /// Every node's address, by node id.
    pub peers: Vec<SocketAddr>,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: u64, _node: &openraft::impls::EmptyNode) -> Peer {
        let addr = usize::try_from(target).ok().and_then(|t| self.peers.get(t));
        Peer {
            rpc: self.rpc.clone(),
            addr: addr.copied(),
        }
    }
}

/// openraft's view of one peer.
pub struct Peer {
    rpc: Endpoint,
    addr: Option<SocketAddr>,
}

fn network_error(e: impl std::fmt::Display) -> RPCError<TypeConfig> {
    RPCError::Network(NetworkError::from_string(e))
}

impl Peer {
    async fn call(
        &self,
        request: Request,
        option: RPCOption,
    ) -> Result<Response, RPCError<TypeConfig>> {
        let addr = (self.addr)
            .ok_or_else(|| RPCError::Unreachable(Unreachable::from_string("no such node")))?;
        match self.rpc.call(addr, &request, option.soft_ttl()).await {
            Ok(Response::Error(e)) => Err(network_error(format!("remote: {e}"))),
            Ok(response) => Ok(response),
            Err(e) => Err(network_error(e)),
        }
    }

    async fn ask_vote(
        &self,
        request: Request,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self.call(request, option).await? {
            Response::Vote(r) => Ok(r),
            other => Err(network_error(format!("unexpected response {other:?}"))),
        }
    }
}

impl RaftNetworkV2<TypeConfig> for Peer {
    crate::compat::snapshot_data_type!();

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self.call(Request::Append(rpc), option).await? {
            Response::Append(r) => Ok(r),
            other => Err(network_error(format!("unexpected response {other:?}"))),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.ask_vote(Request::Vote(rpc), option).await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        self.ask_vote(Request::PreVote(rpc), option).await
    }

    async fn full_snapshot(
        &mut self,
        _vote: Vote,
        _snapshot: Snapshot,
        _cancel: impl Future<Output = ReplicationClosed> + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        // Snapshots are never built (see `store`), so openraft never needs to send one.
        Err(StreamingError::Unreachable(Unreachable::from_string(
            "this adapter does not send snapshots",
        )))
    }
}
