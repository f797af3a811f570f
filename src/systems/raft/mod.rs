//! The Raft KV store: a CP replicated key-value store on Raft.
//!
//! Implements Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm"
//! (USENIX ATC 2014), with these parts of Ongaro's thesis (2014): PreVote (§9.6), leader
//! stickiness and CheckQuorum (§4.2.3, §6.2), the start-of-term no-op (§6.4) and client
//! sessions for exactly-once writes (§6.3).
//!
//! Two systems share this code, differing in how reads are served ([`Reads`]):
//! - `raft` puts reads through the log (§6.4's simplest option), so they are linearizable
//!   without relying on clocks;
//! - `raft-lease` lets a leader answer reads on its own while it holds a lease (§6.4.1): a
//!   majority acknowledged its heartbeats recently, measured on its node clock. It is
//!   linearizable as long as every clock runs within 10 % of true time
//!   ([`LEASE_MAX_DRIFT_PPM`]); offsets do not matter, since only monotonic clocks are
//!   read. It opts in to clock faults ([`System::reads_clock`]), and generated drifts stay
//!   within that bound. Its planted bug `unbounded-lease` measures the lease on the wall
//!   clock with no margin.
//!
//! Map of the module:
//! - `messages`: wire messages, one struct per message, and the log's disk records;
//! - `log`: the in-memory log, its chain digests and its disk format;
//! - `state_machine`: the KV map and client sessions;
//! - `node`: one Raft node (sans-IO core + the run loop over a [`Transport`]);
//! - `client`: the client process, with leader guessing and retries;
//! - `observer`: the registry nodes publish events into;
//! - `invariants`: the incremental per-step safety checker and the liveness condition;
//! - [`mutants`]: planted bugs behind one runtime switch.
//!
//! [`Transport`]: crate::node::Transport

pub(crate) mod client;
pub(crate) mod coverage;
pub mod forged;
pub(crate) mod invariants;
pub(crate) mod log;
pub(crate) mod messages;
pub mod mutants;
pub(crate) mod node;
pub(crate) mod observer;
pub(crate) mod progress;
pub(crate) mod state_machine;

#[cfg(test)]
mod tests;

pub use mutants::Mutant;
pub use node::{LEASE, LEASE_MAX_DRIFT_PPM, LEASE_SLACK};

use crate::check::Violation;
use crate::mutants::MutantInfo;
use crate::node::Forger;
use crate::scenario::{ClockBound, NodeId};
use crate::systems::{
    ClientContext, Liveness, NodeContext, PointInfo, Property, StepContext, System,
};
use crate::workload::kv::Kv;
use std::io;

/// Where the Raft store marks crash points (besides squall's disk and transport points).
pub const CRASH_POINTS: [PointInfo; 5] = [
    PointInfo::new(
        "after-vote-persist",
        "a vote was granted and written (synced unless a planted bug delays it), its reply not yet sent",
    ),
    PointInfo::new(
        "after-append-persist",
        "a follower synced the entries of an AppendEntries, its acknowledgment not yet sent",
    ),
    PointInfo::new(
        "after-leader-append",
        "a leader synced a client's command to its log, before replicating it",
    ),
    PointInfo::new(
        "after-apply",
        "an entry was applied and its client's reply queued, not yet sent",
    ),
    PointInfo::new(
        "after-vote-reply",
        "the reply granting a vote has been sent (the vote must be durable by now)",
    ),
];

/// How a Raft leader serves reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reads {
    /// Through the log, as writes (the system `raft`): linearizable whatever the clocks do.
    #[default]
    Log,
    /// From its own state while it holds a lease, else through the log (the system
    /// `raft-lease`): no round through the log for most reads, at the price of trusting
    /// clocks to drift no more than [`LEASE_MAX_DRIFT_PPM`].
    Lease,
}

/// The Raft KV system, optionally with a planted bug.
#[derive(Clone, Copy, Debug, Default)]
pub struct RaftKv {
    /// The planted bug, if any.
    pub mutant: Option<Mutant>,
    /// How leaders serve reads; names the system (`raft`, `raft-lease`).
    pub reads: Reads,
}

/// The systems' names, by how they read.
const NAMES: [(&str, Reads); 2] = [("raft", Reads::Log), ("raft-lease", Reads::Lease)];

impl RaftKv {
    /// The store with lease reads (`raft-lease`).
    pub fn lease() -> Self {
        RaftKv {
            mutant: None,
            reads: Reads::Lease,
        }
    }

    /// The store `raft` with the named planted bug (`None`: the correct store).
    pub fn from_mutant_name(mutant: Option<&str>) -> Result<Self, String> {
        RaftKv::named("raft", mutant)
    }

    /// The store named `system` (`raft` or `raft-lease`) with the named planted bug.
    pub fn named(system: &str, mutant: Option<&str>) -> Result<Self, String> {
        let reads = NAMES
            .iter()
            .find(|(name, _)| *name == system)
            .map(|(_, reads)| *reads)
            .ok_or_else(|| format!("`{system}` is not a Raft store (raft, raft-lease)"))?;
        let mutant: Option<Mutant> = mutant.map(str::parse).transpose()?;
        if let Some(m) = mutant.filter(|m| m.needs_leases() && reads != Reads::Lease) {
            return Err(format!(
                "`{m}` is a bug in lease reads, which `{system}` does not make: plant it in `raft-lease`"
            ));
        }
        Ok(RaftKv { mutant, reads })
    }
}

impl System for RaftKv {
    type Workload = Kv;
    type Observer = observer::Observer;
    type Checker = invariants::Checker;
    type Client = client::RaftClient;

    fn name(&self) -> &'static str {
        match self.reads {
            Reads::Log => "raft",
            Reads::Lease => "raft-lease",
        }
    }

    fn observer(&self, nodes: u8) -> Self::Observer {
        observer::Observer::new(nodes)
    }

    fn checker(&self, nodes: u8) -> Self::Checker {
        invariants::Checker::new(nodes)
    }

    async fn start_node(&self, ctx: NodeContext, observer: Self::Observer) -> io::Result<()> {
        node::run(ctx, observer, self.mutant, self.reads).await
    }

    async fn connect_client(&self, ctx: ClientContext) -> io::Result<Self::Client> {
        client::RaftClient::connect(ctx, self.mutant).await
    }

    fn check_step(
        &self,
        checker: &mut Self::Checker,
        observer: &Self::Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        checker.check(observer, ctx)
    }

    fn liveness(&self, checker: &Self::Checker, observer: &Self::Observer) -> Liveness {
        checker.liveness(observer)
    }

    fn crash_points(&self) -> Vec<PointInfo> {
        CRASH_POINTS.to_vec()
    }

    fn uses_buggify(&self) -> bool {
        true
    }

    fn properties(&self) -> Vec<Property> {
        invariants::PROPERTIES.to_vec()
    }

    /// Every planted bug; those in lease reads only for `raft-lease`.
    fn mutants(&self) -> Vec<MutantInfo> {
        Mutant::ALL
            .iter()
            .filter(|m| self.reads == Reads::Lease || !m.needs_leases())
            .map(|m| m.info())
            .collect()
    }

    fn with_mutant(&self, name: &str) -> Self {
        RaftKv {
            mutant: name.parse().ok(),
            reads: self.reads,
        }
    }

    /// `raft-lease` measures its leases on its nodes' clocks; `raft`'s timers run on them
    /// too, but nothing it promises depends on them, so generated scenarios leave its clocks
    /// alone (and its seeds decode as they did before clocks existed).
    fn reads_clock(&self) -> bool {
        self.reads == Reads::Lease
    }

    /// Drift within [`LEASE_MAX_DRIFT_PPM`]; any offset (leases never read the wall
    /// clock).
    fn clock_bound(&self) -> ClockBound {
        ClockBound {
            max_drift_ppm: LEASE_MAX_DRIFT_PPM,
            ..ClockBound::WIDEST
        }
    }

    fn leader(
        &self,
        _checker: &Self::Checker,
        observer: &Self::Observer,
    ) -> Option<crate::scenario::NodeId> {
        let reg = observer.0.borrow();
        (0..reg.nodes.len())
            .filter(|i| reg.nodes[*i].up && reg.nodes[*i].role == observer::Role::Leader)
            .max_by_key(|i| reg.nodes[*i].term)
            .map(|i| i as crate::scenario::NodeId)
    }

    /// Every kind: the store's frames and disk records carry checksums, and it refuses to
    /// start from a disk that fails them.
    fn detects_corrupt_frames(&self) -> bool {
        true
    }

    fn detects_corrupt_records(&self) -> bool {
        true
    }

    fn primaries(
        &self,
        _checker: &Self::Checker,
        observer: &Self::Observer,
    ) -> Vec<crate::scenario::NodeId> {
        let reg = observer.0.borrow();
        (0..reg.nodes.len())
            .filter(|i| reg.nodes[*i].up && reg.nodes[*i].role == observer::Role::Leader)
            .map(|i| i as crate::scenario::NodeId)
            .collect()
    }

    fn phase(&self, checker: &Self::Checker, observer: &Self::Observer) -> &'static str {
        coverage::phase(checker, observer)
    }

    fn node_state(
        &self,
        _checker: &Self::Checker,
        observer: &Self::Observer,
        node: crate::scenario::NodeId,
    ) -> Option<String> {
        let reg = observer.0.borrow();
        let v = reg.nodes.get(usize::from(node))?;
        if v.refused {
            return Some("refused (corrupt disk)".to_string());
        }
        let role = match v.role {
            observer::Role::Leader => "leader",
            observer::Role::Candidate => "candidate",
            observer::Role::PreCandidate => "precandidate",
            observer::Role::Follower => "follower",
        };
        let of = match (v.role, v.leader) {
            (observer::Role::Follower, Some(l)) => format!(" of n{l}"),
            _ => String::new(),
        };
        Some(format!("{role} t{}{of} commit {}", v.term, v.commit))
    }

    fn abstract_state(&self, checker: &Self::Checker, observer: &Self::Observer) -> u64 {
        coverage::abstract_state(checker, observer)
    }

    /// Every line of the store is squall's own: it keeps no per-thread or per-process state
    /// and iterates no hashed collection, so its scenarios can share a thread, the cheapest
    /// way to run them (BENCHMARKS.md). `squall determinism raft` checks the claim, and
    /// findings are still replayed in a fresh process.
    fn isolation(&self) -> crate::systems::Isolation {
        crate::systems::Isolation::Shared
    }

    /// Nodes exchange `messages::Message`; forged ones are drawn by its `Arbitrary` impl.
    /// The store is crash-fault tolerant only: under forged messages squall checks that it
    /// does not panic, stays within bounded memory and recovers once the forger stops.
    fn forger(&self) -> Option<Forger> {
        Some(Forger::of::<messages::Message>())
    }

    fn memory(&self, observer: &Self::Observer, node: NodeId) -> u64 {
        observer
            .0
            .borrow()
            .nodes
            .get(usize::from(node))
            .map_or(0, |v| v.memory)
    }
}
