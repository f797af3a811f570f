//! openraft's RPCs over squall's datagram transport.
//!
//! Why datagrams and not turmoil TCP: squall's message faults (loss, duplication, garbage)
//! live in its transport, so openraft sees them all; and a lost datagram costs one RPC, where
//! a lost TCP segment stalls the stream forever (turmoil never retransmits). The price is
//! request/response matching, done here: every request carries an id, unique per node
//! incarnation, and a call waits for the matching response until its deadline — openraft's
//! own soft TTL for the RPC — then fails, and openraft retries. Late or duplicated responses
//! find no waiter and are dropped.

use crate::compat::Snapshot;
use crate::types::{TypeConfig, Vote};
use crate::wire::{encode, Frame, Request, Response};
use openraft::error::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::RaftNetworkV2;
use squall::node::net::Transport;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::sync::oneshot;

/// A node's endpoint: its transport, and the requests it is waiting on.
pub struct Rpc {
    /// The node's bound transport (requests in and out, responses in and out).
    pub transport: Transport,
    next_id: Cell<u64>,
    waiting: RefCell<BTreeMap<u64, oneshot::Sender<Response>>>,
}

/// Why a call failed.
pub enum CallError {
    /// No matching response before the deadline.
    TimedOut,
    /// The transport failed to send.
    Send(std::io::Error),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::TimedOut => f.write_str("no response before the deadline"),
            CallError::Send(e) => write!(f, "send failed: {e}"),
        }
    }
}

impl Rpc {
    /// An endpoint whose request ids start at `incarnation << 40`, so a response meant for an
    /// earlier incarnation never matches a request of this one.
    pub fn new(transport: Transport, incarnation: u32) -> Self {
        Rpc {
            transport,
            next_id: Cell::new(u64::from(incarnation) << 40),
            waiting: RefCell::new(BTreeMap::new()),
        }
    }

    /// Sends `body` to `to` and waits up to `deadline` for the answer.
    pub async fn call(
        &self,
        to: SocketAddr,
        body: Request,
        deadline: Duration,
    ) -> Result<Response, CallError> {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        let (tx, rx) = oneshot::channel();
        self.waiting.borrow_mut().insert(id, tx);
        let frame = encode(&Frame::Request { id, body });
        let result = match self.transport.send(to, &frame).await {
            Err(e) => Err(CallError::Send(e)),
            Ok(()) => match tokio::time::timeout(deadline, rx).await {
                Ok(Ok(response)) => Ok(response),
                _ => Err(CallError::TimedOut),
            },
        };
        self.waiting.borrow_mut().remove(&id);
        result
    }

    /// Hands a received response to its waiter, if it still waits.
    pub fn deliver(&self, id: u64, body: Response) {
        if let Some(tx) = self.waiting.borrow_mut().remove(&id) {
            let _ = tx.send(body);
        }
    }

    /// Answers request `id` from `to`.
    pub async fn respond(&self, to: SocketAddr, id: u64, body: Response) {
        // A lost answer is a lost datagram: the caller times out and retries.
        let _ = self
            .transport
            .send(to, &encode(&Frame::Response { id, body }))
            .await;
    }
}

/// Creates a connection per peer for openraft; connecting is free (datagrams).
pub struct Network {
    /// This node's endpoint.
    pub rpc: Rc<Rpc>,
    /// Every node's address, by node id.
    pub peers: Vec<SocketAddr>,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: u64, _node: &openraft::impls::EmptyNode) -> Peer {
        let addr = usize::try_from(target)
            .ok()
            .and_then(|t| self.peers.get(t).copied());
        Peer {
            rpc: self.rpc.clone(),
            addr,
        }
    }
}

/// openraft's view of one peer.
pub struct Peer {
    rpc: Rc<Rpc>,
    addr: Option<SocketAddr>,
}

fn network_error(e: impl std::fmt::Display) -> RPCError<TypeConfig> {
    RPCError::Network(NetworkError::from_string(e))
}

impl Peer {
    async fn call(
        &self,
        body: Request,
        deadline: Duration,
    ) -> Result<Response, RPCError<TypeConfig>> {
        let Some(addr) = self.addr else {
            return Err(RPCError::Unreachable(Unreachable::from_string(
                "no such node",
            )));
        };
        match self.rpc.call(addr, body, deadline).await {
            Ok(Response::Error(e)) => Err(network_error(format!("remote: {e}"))),
            Ok(response) => Ok(response),
            Err(e) => Err(network_error(e)),
        }
    }
}

fn unexpected(r: &Response) -> RPCError<TypeConfig> {
    network_error(format!("unexpected response {r:?}"))
}

impl RaftNetworkV2<TypeConfig> for Peer {
    crate::compat::snapshot_data_type!();

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self.call(Request::Append(rpc), option.soft_ttl()).await? {
            Response::Append(r) => Ok(r),
            other => Err(unexpected(&other)),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self.call(Request::Vote(rpc), option.soft_ttl()).await? {
            Response::Vote(r) => Ok(r),
            other => Err(unexpected(&other)),
        }
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self.call(Request::PreVote(rpc), option.soft_ttl()).await? {
            Response::Vote(r) => Ok(r),
            other => Err(unexpected(&other)),
        }
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
