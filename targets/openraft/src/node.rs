//! One openraft node as a turmoil host: storage from the node's disk, the network on squall's
//! transport, and a loop that serves peers' RPCs and clients' operations.

use crate::compat;
use crate::network::{Network, Rpc};
use crate::observe::Observer;
use crate::store::{Kv, LogStore, StateMachine};
use crate::types::{Runtime, TypeConfig};
use crate::wire::{decode, Frame, Request, Response};
use openraft::error::{ClientWriteError, LinearizableReadError, RaftError};
use openraft::{AsyncRuntime, Config, Raft, ReadPolicy, SnapshotPolicy};
use squall::node::net::{Transport, MAX_FRAME};
use squall::systems::NodeContext;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

/// A running openraft node, as the request handlers see it.
pub type Node = Raft<TypeConfig, StateMachine>;

/// openraft's timing, scaled to squall's network: 10 ms ticks (a request and its response
/// take at least two) and up to 25 ms latency per message, so a round trip can take ~70 ms.
/// openraft gives each RPC ¾ of the heartbeat interval as its deadline, hence 120 ms; the
/// election timeout is several heartbeats so that one lost heartbeat does not depose a leader.
///
/// `leader_restore` is openraft's `enable_leader_restore`, on by default in openraft and off
/// here: with it, a leader that loses unflushed entries to a power loss resumes its term and
/// reuses their log ids for different entries (docs/findings/001-openraft-leader-restore-log-id-reuse.md).
///
/// `quorum_loss_probe` sets openraft's `quorum_loss_probe_interval` (off by default in
/// openraft, and absent before alpha.35) to [`QUORUM_LOSS_PROBE`]: without it, a leader that
/// lost its quorum but still reaches one follower of a connected majority keeps that follower
/// leased, and the majority never elects (docs/findings/002-openraft-leader-lease-blocks-connected-majority.md).
pub fn config(leader_restore: bool, quorum_loss_probe: bool) -> Config {
    let mut config = Config {
        cluster_name: "squall".to_string(),
        heartbeat_interval: 120,
        election_timeout_min: 400,
        election_timeout_max: 800,
        // Small batches keep every AppendEntries frame far below a datagram's size.
        max_payload_entries: 64,
        snapshot_policy: SnapshotPolicy::Never,
        enable_pre_vote: Some(true),
        enable_leader_restore: Some(leader_restore),
        ..Config::default()
    };
    compat::set_quorum_loss_probe(&mut config, quorum_loss_probe.then_some(QUORUM_LOSS_PROBE));
    config
}

/// The quorum-loss probe interval, in ms: how long a leader without a quorum stays silent
/// (then heartbeats as long, and so on). openraft requires at least its lease plus an
/// election timeout (1.6 s here), the time for a follower's lease on it to expire and one
/// election timer to fire. Twice that leaves room for three election rounds, so that the
/// old leader does not start heartbeating again, and re-lease its followers, before a
/// connected majority had a fair chance to elect (`progress::Bound` allows two rounds).
pub const QUORUM_LOSS_PROBE: u64 = 2 * (800 + 800);

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Runs node `ctx.id` until the harness crashes it.
pub async fn run(
    ctx: NodeContext,
    observer: Observer,
    leader_restore: bool,
    quorum_loss_probe: bool,
) -> io::Result<()> {
    let id = usize::from(ctx.id);
    let _alive = observer.alive(id);
    let transport = Transport::bind(&ctx.net, ctx.addr()).await?;
    let rpc = Rc::new(Rpc::new(transport, ctx.incarnation));
    let (log, pristine) = LogStore::open(id, ctx.disk.clone(), observer.clone())?;
    let kv = Rc::new(RefCell::new(Kv::default()));
    let sm = StateMachine::new(id, kv.clone(), observer.clone());
    let config = Arc::new(
        config(leader_restore, quorum_loss_probe)
            .validate()
            .map_err(io_error)?,
    );
    let network = Network {
        rpc: rpc.clone(),
        peers: ctx.peers.clone(),
    };
    let raft: Node = Raft::new(id as u64, config, network, log, sm)
        .await
        .map_err(io_error)?;
    observer.with(id, |v| v.metrics = Some(raft.metrics()));
    if pristine {
        // Every node of a fresh cluster initializes it with the same membership (allowed by
        // openraft): the cluster forms even if some node is cut off from the start.
        let members: BTreeSet<u64> = (0..ctx.peers.len() as u64).collect();
        let raft = raft.clone();
        Runtime::spawn(async move {
            // `NotAllowed` means someone's log already reached us: fine.
            let _ = raft.initialize(members).await;
        });
    }
    serve(rpc, raft, kv).await
}

/// Receives frames: requests are handled each in its own task, responses go to their waiter.
async fn serve(rpc: Rc<Rpc>, raft: Node, kv: Rc<RefCell<Kv>>) -> io::Result<()> {
    let mut buf = vec![0u8; MAX_FRAME];
    loop {
        let (len, from) = rpc.transport.recv(&mut buf).await?;
        // Garbage and corrupted frames are dropped, never trusted.
        match decode(&buf[..len]) {
            None => {}
            Some(Frame::Response { id, body }) => rpc.deliver(id, body),
            Some(Frame::Request { id, body }) => {
                let (rpc, raft, kv) = (rpc.clone(), raft.clone(), kv.clone());
                Runtime::spawn(async move {
                    let answer = handle(&raft, &kv, body).await;
                    rpc.respond(from, id, answer).await;
                });
            }
        }
    }
}

async fn handle(raft: &Node, kv: &Rc<RefCell<Kv>>, request: Request) -> Response {
    match request {
        Request::Append(rpc) => match raft.append_entries(rpc).await {
            Ok(r) => Response::Append(r),
            Err(e) => Response::Error(e.to_string()),
        },
        Request::Vote(rpc) => match raft.vote(rpc).await {
            Ok(r) => Response::Vote(r),
            Err(e) => Response::Error(e.to_string()),
        },
        Request::PreVote(rpc) => match raft.pre_vote(rpc).await {
            Ok(r) => Response::Vote(r),
            Err(e) => Response::Error(e.to_string()),
        },
        Request::Write(cmd) => match raft.client_write(cmd).await {
            Ok(r) => Response::Done(r.data.value),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
                Response::NotLeader(f.leader_id)
            }
            Err(e) => Response::Error(e.to_string()),
        },
        Request::Read(key) => match raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
            // The state machine has applied everything up to the read index.
            Ok(_) => Response::Done(kv.borrow().get(key)),
            Err(RaftError::APIError(LinearizableReadError::ForwardToLeader(f))) => {
                Response::NotLeader(f.leader_id)
            }
            Err(e) => Response::Error(e.to_string()),
        },
    }
}

/// Where a client sends its requests: node addresses by id.
pub fn node_addr(nodes: &[SocketAddr], id: u64) -> Option<SocketAddr> {
    usize::try_from(id).ok().and_then(|i| nodes.get(i).copied())
}
