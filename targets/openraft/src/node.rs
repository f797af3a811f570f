//! One openraft node as a turmoil host: storage from the node's disk, the network on squall's
//! transport, serving peers' RPCs and clients' operations.

use crate::compat;
use crate::network::{Endpoint, Network, Request, Response};
use crate::observe::Observer;
use crate::store::{Kv, LogStore, StateMachine};
use crate::types::{Runtime, TypeConfig};
use openraft::error::{ForwardToLeader, RaftError};
use openraft::{AsyncRuntime, Config, Raft, ReadPolicy, SnapshotPolicy, TryAsRef};
use squall::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io;
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
    let rpc = Endpoint::new(transport, ctx.incarnation);
    let (log, pristine) =
        LogStore::open(id, ctx.disk.clone(), observer.clone(), ctx.points.clone())?;
    let kv = Rc::new(RefCell::new(Kv::default()));
    let sm = StateMachine::new(id, kv.clone(), observer.clone(), ctx.points.clone());
    let config = config(leader_restore, quorum_loss_probe).validate();
    let config = Arc::new(config.map_err(io_error)?);
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
    // Each request in a task of its own, spawned through openraft's runtime so that it
    // inherits the node's seeded RNG.
    rpc.serve(|request, reply| {
        let (raft, kv) = (raft.clone(), kv.clone());
        Runtime::spawn(async move {
            // A lost answer is a lost datagram: the caller times out and retries.
            let _ = reply.send(&handle(&raft, &kv, request).await).await;
        });
    })
    .await
}

async fn handle(raft: &Node, kv: &RefCell<Kv>, request: Request) -> Response {
    let error = |e: RaftError<TypeConfig>| Response::Error(e.to_string());
    match request {
        Request::Append(rpc) => {
            (raft.append_entries(rpc).await).map_or_else(error, Response::Append)
        }
        Request::Vote(rpc) => (raft.vote(rpc).await).map_or_else(error, Response::Vote),
        Request::PreVote(rpc) => (raft.pre_vote(rpc).await).map_or_else(error, Response::Vote),
        Request::Write(cmd) => match raft.client_write(cmd).await {
            Ok(r) => Response::Done(r.data.value),
            Err(e) => refused(e),
        },
        Request::Read(key) => match raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
            // The state machine has applied everything up to the read index.
            Ok(_) => Response::Done(kv.borrow().get(key)),
            Err(e) => refused(e),
        },
    }
}

/// A client operation openraft refused: the leader to ask instead, if that is why.
fn refused<E>(e: RaftError<TypeConfig, E>) -> Response
where
    E: TryAsRef<ForwardToLeader<TypeConfig>> + std::fmt::Debug,
    RaftError<TypeConfig, E>: std::fmt::Display,
{
    match e.forward_to_leader() {
        Some(f) => Response::NotLeader(f.leader_id),
        None => Response::Error(e.to_string()),
    }
}
