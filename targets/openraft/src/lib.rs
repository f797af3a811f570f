//! openraft under squall: an outside user's adapter.
//!
//! [openraft](https://crates.io/crates/openraft), unmodified, runs as squall's system
//! `openraft`: each node is a turmoil host ([`node`]) with its log and vote on squall's
//! durable disk ([`store`]) and its RPCs on squall's datagram transport ([`network`]); a small
//! key-value application with exactly-once writes runs on top, driven by squall's clients
//! ([`client`]). After every simulation step the Raft safety properties are checked
//! ([`check`]) against what nodes publish ([`observe`]); while faults persist, a fully
//! connected majority must elect a leader and commit within a bound that depends on the
//! faults in force (a liveness property, [`progress`]); after
//! the heal, squall's liveness phase and the linearizability check of the client history
//! apply as to any system.
//!
//! Only squall's public API is used: this crate is the worked example of "testing your own
//! system" (see README.md).

pub mod check;
pub mod client;
pub mod compat;
pub mod network;
pub mod node;
pub mod observe;
pub mod progress;
pub mod store;
pub mod types;

use observe::{leads_and_commits, Observer};
use openraft::ServerState;
use squall::prelude::*;
use squall::workload::kv::Kv;
use std::io;
use std::time::Duration;
use types::{Metrics, Runtime};

/// The client operations: squall's `kv` workload (`get k1`, `put k1 5`, `append k1 5`), the
/// one the built-in Raft store serves, so scenarios and histories read the same for both.
pub use squall::workload::kv::KvOp;

/// The system: openraft with the KV application.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenRaft {
    /// Run with openraft's default `enable_leader_restore = true`, which squall found unsafe
    /// under power loss (docs/findings/001-openraft-leader-restore-log-id-reuse.md). Off by
    /// default so that chaos looks past it.
    pub leader_restore: bool,
    /// Run with openraft's default `quorum_loss_probe_interval = None`, under which a leader
    /// that reaches one follower of a connected majority keeps the majority from electing
    /// (docs/findings/002-openraft-leader-lease-blocks-connected-majority.md). Releases before
    /// alpha.35 have no such setting and always behave so.
    pub no_quorum_loss_probe: bool,
    /// Measure progress under faults without judging it: the check only notes in the trace
    /// how long each steady fault state took to elect a leader that commits. For calibrating
    /// the bound (`examples/progress_bound.rs`); never on in chaos.
    pub measure_progress: bool,
}

/// Where the adapter's storage callbacks mark crash points (besides squall's disk and
/// transport points): each is a moment between something becoming durable or applied and
/// openraft (or a client) learning of it.
pub const CRASH_POINTS: [PointInfo; 4] = [
    PointInfo::new(
        "vote-saved",
        "save_vote synced the vote; openraft has not granted it yet",
    ),
    PointInfo::new(
        "log-flushed",
        "appended entries were synced; openraft has not been told (nothing acknowledged on them)",
    ),
    PointInfo::new(
        "committed-saved",
        "save_committed synced the committed log id; openraft has not been told",
    ),
    PointInfo::new(
        "entry-applied",
        "the state machine applied an entry; its client is not yet answered",
    ),
];

impl System for OpenRaft {
    type Workload = Kv;
    type Observer = Observer;
    /// The per-step checks: safety, and progress under faults.
    type Checker = (check::Checker, progress::Progress);
    type Client = client::KvClient;

    fn name(&self) -> &'static str {
        "openraft"
    }

    fn observer(&self, nodes: u8) -> Observer {
        Observer::new(nodes)
    }

    fn checker(&self, nodes: u8) -> Self::Checker {
        let progress = progress::Progress::new(nodes, !self.measure_progress);
        (check::Checker::new(nodes), progress)
    }

    async fn start_node(&self, ctx: NodeContext, observer: Observer) -> io::Result<()> {
        // Every random number openraft draws in this node comes from this seed.
        let (seed, probe) = (ctx.seed, !self.no_quorum_loss_probe);
        let node = node::run(ctx, observer, self.leader_restore, probe);
        Runtime::scope(seed, node).await
    }

    async fn connect_client(&self, ctx: ClientContext) -> io::Result<client::KvClient> {
        client::KvClient::connect(ctx).await
    }

    fn check_step(
        &self,
        (safety, progress): &mut Self::Checker,
        observer: &Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        safety.step(observer, ctx)?;
        progress.step(observer, ctx)
    }

    fn liveness(&self, _: &Self::Checker, observer: &Observer) -> Liveness {
        let up = observer.running();
        let top = up.iter().map(|(_, m)| m.current_term).max().unwrap_or(0);
        if up
            .iter()
            .any(|(_, m)| leads_and_commits(m) && m.current_term == top)
        {
            return Liveness::Live;
        }
        let state =
            |(i, m): &(usize, Metrics)| format!("n{i} {:?} term {}", m.state, m.current_term);
        let nodes: Vec<String> = up.iter().map(state).collect();
        let nodes = nodes.join(", ");
        Liveness::Waiting(format!(
            "no leader that committed in the highest term {top}: {nodes}"
        ))
    }

    fn min_op_deadline(&self) -> Duration {
        // After a leader restart the other nodes wait out the old leader's lease and an
        // election timeout (up to 800 ms each) before electing: recovery can take ~1.7 s,
        // longer than squall's default 1 s deadline for the operations in flight at the heal.
        Duration::from_secs(3)
    }

    /// Not planted bugs: openraft's own defaults that squall found broken, as published.
    fn crash_points(&self) -> Vec<PointInfo> {
        CRASH_POINTS.to_vec()
    }

    fn mutants(&self) -> Vec<MutantInfo> {
        let mut variants = vec![MutantInfo::new(
            "leader-restore",
            "openraft's default enable_leader_restore=true: a leader restarted after a power \
             loss resumes its term and reuses the log ids of entries it lost but had replicated",
            "log matching",
        )];
        if compat::HAS_QUORUM_LOSS_PROBE {
            variants.push(MutantInfo::new(
                "no-quorum-loss-probe",
                "openraft's default quorum_loss_probe_interval=None: a leader that lost its \
                 quorum keeps heartbeating the followers it reaches, and a connected majority \
                 that includes one of them never elects",
                progress::PROPERTY,
            ));
        }
        variants
    }

    fn with_mutant(&self, name: &str) -> Self {
        OpenRaft {
            leader_restore: self.leader_restore || name == "leader-restore",
            no_quorum_loss_probe: self.no_quorum_loss_probe || name == "no-quorum-loss-probe",
            ..*self
        }
    }

    fn leader(&self, _: &Self::Checker, observer: &Observer) -> Option<u8> {
        let nodes = observer.running().into_iter();
        let leaders = nodes.filter(|(_, m)| m.state == ServerState::Leader);
        leaders
            .max_by_key(|(_, m)| m.current_term)
            .map(|(i, _)| i as u8)
    }

    fn phase(&self, _: &Self::Checker, observer: &Observer) -> &'static str {
        let nodes = observer.running();
        match nodes
            .iter()
            .filter(|(_, m)| m.state == ServerState::Leader)
            .count()
        {
            0 => "election",
            1 => "replicating",
            _ => "leader overlap",
        }
    }

    fn abstract_state(&self, (safety, _): &Self::Checker, observer: &Observer) -> u64 {
        // Which nodes run, their roles, term lag behind the highest leader term (capped),
        // whether each one's commit lags: the shape of the cluster, not its numbers.
        observer
            .running()
            .iter()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, (i, m)| {
                let role = match m.state {
                    ServerState::Leader => 1,
                    ServerState::Candidate => 2,
                    ServerState::Follower => 3,
                    _ => 4,
                };
                let lag = safety.max_term.saturating_sub(m.current_term).min(3);
                let behind = u64::from(m.local_committed.map(|c| c.index) < m.last_log_index);
                let shape = *i as u64 | role << 3 | lag << 6 | behind << 8;
                (h ^ shape).wrapping_mul(0x0100_0000_01b3)
            })
    }
}
