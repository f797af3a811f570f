//! The dynamo store: a Dynamo-style replicated key-value store that stays available under
//! partitions (DeCandia et al., "Dynamo: Amazon's Highly Available Key-value Store", SOSP
//! 2007), serving the [`siblings`](crate::workload::siblings) workload.
//!
//! **Placement.** A consistent-hash ring ([`ring`]) gives each key N home replicas (N = 3 of
//! 5 nodes by default). Any node coordinates any request; a client sticks to one coordinator
//! and fails over to the next on a timeout.
//!
//! **Quorums.** A write is acknowledged once W nodes hold it durably (W = 2), a read once R
//! homes answered (R = 2). When homes do not answer, a *sloppy quorum* hands the write to
//! fallbacks further along the ring, each holding a *hint* on disk and handing it off once the
//! home is reachable ([`node`]).
//!
//! **Versions.** Dotted version vectors with siblings ([`version`]): a write carries the
//! causal context its session saw and overwrites exactly that; concurrent writes remain
//! siblings, returned together. The `dynamo-lww` variant resolves them by last writer wins on
//! a hybrid logical clock instead: every coordinator answer carries its HLC reading (its wall
//! clock, so the variant opts in to clock faults), and a session stamps its writes past every
//! reading and timestamp it has seen — once, so that a retry through another coordinator
//! carries the same timestamp (a coordinator that restamped retries would give one version
//! two timestamps, and a causally later write could lose to the greater one).
//!
//! **Repair.** Reads repair stale replicas with the merge of the replies; periodic
//! anti-entropy exchanges hash trees ([`merkle`]) between replicas and merges the ranges that
//! differ. Deletes write tombstones, collected after [`node::GC_HORIZON`] with the key's clock
//! kept.
//!
//! **Sessions.** Each client carries its session context per key and asks every read to cover
//! it (read-your-writes, monotonic reads); the coordinator waits for more replies, or fails
//! the read, rather than return less ([`client`]).
//!
//! **Checks.** Per step: versions well formed, hints durable. At the end: the client history
//! (recorded by the clients, [`observer`]) and the home replicas' final states, taken once the
//! healed cluster is quiet, with the AP checkers of [`crate::check::eventual`] — valid
//! observations, no dropped siblings, read-your-writes, monotonic reads and writes,
//! writes-follow-reads, convergence, no lost writes — or, in LWW mode, LWW causality and
//! convergence ([`invariants`]). Get the verdicts programmatically with
//! [`invariants::check_run`] (what the harness calls) or build the history with
//! [`observer::Observer`] and check it with [`crate::check::eventual::check`].
//!
//! Map: `ring`, `version`, `merkle`, `messages`, `node` (sans-IO core + run loop), `client`,
//! `observer`, `invariants`, `coverage`, [`mutants`].

pub mod client;
pub(crate) mod coverage;
pub mod invariants;
pub mod merkle;
pub mod messages;
pub mod mutants;
pub mod node;
pub mod observer;
pub mod ring;
pub mod version;

#[cfg(test)]
mod tests;

pub use mutants::Mutant;
pub use version::Resolve;

use crate::check::Violation;
use crate::mutants::MutantInfo;
use crate::scenario::{ClockBound, NodeId};
use crate::systems::{
    ClientContext, Liveness, NodeContext, PointInfo, Property, StepContext, System,
};
use crate::workload::siblings::Siblings;
use std::io;

/// Where the dynamo store marks crash points (besides squall's disk and transport points).
pub const CRASH_POINTS: [PointInfo; 3] = [
    PointInfo::new(
        "after-hint-stored",
        "a fallback synced a hint, the coordinator not yet told",
    ),
    PointInfo::new(
        "before-handoff-ack",
        "a home stored a handed-off hint, the fallback not yet told (it hands it off again)",
    ),
    PointInfo::new(
        "after-local-write-before-fanout",
        "a coordinator that is a home replica stored a write, the other homes not yet asked",
    ),
];

/// Replication parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Home replicas per key.
    pub n: u8,
    /// Replies a read needs.
    pub r: u8,
    /// Durable copies a write needs.
    pub w: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config { n: 3, r: 2, w: 2 }
    }
}

/// The dynamo store, optionally with a planted bug.
#[derive(Clone, Copy, Debug)]
pub struct Dynamo {
    /// Siblings (`dynamo`) or last writer wins (`dynamo-lww`).
    pub resolve: Resolve,
    /// N, R, W.
    pub config: Config,
    /// The planted bug, if any.
    pub mutant: Option<Mutant>,
}

impl Default for Dynamo {
    fn default() -> Self {
        Dynamo {
            resolve: Resolve::Siblings,
            config: Config::default(),
            mutant: None,
        }
    }
}

impl Dynamo {
    /// The LWW variant.
    pub fn lww() -> Self {
        Dynamo {
            resolve: Resolve::Lww,
            ..Dynamo::default()
        }
    }

    /// The store named `dynamo` or `dynamo-lww`, with the named planted bug (`None`: the
    /// correct store).
    pub fn named(name: &str, mutant: Option<&str>) -> Result<Self, String> {
        let base = match name {
            "dynamo-lww" => Dynamo::lww(),
            _ => Dynamo::default(),
        };
        Ok(Dynamo {
            mutant: mutant.map(str::parse).transpose()?,
            ..base
        })
    }

    /// The store with the named planted bug (`None`: the correct store).
    pub fn from_mutant_name(mutant: Option<&str>) -> Result<Self, String> {
        Self::named("dynamo", mutant)
    }

    /// How it resolves concurrent writes: planted bug A1 is a last-writer-wins store.
    pub fn resolve(&self) -> Resolve {
        if self.mutant == Some(Mutant::LwwWallClock) {
            Resolve::Lww
        } else {
            self.resolve
        }
    }
}

impl System for Dynamo {
    type Workload = Siblings;
    type Observer = observer::Observer;
    type Checker = invariants::Checker;
    type Client = client::DynamoClient;

    fn name(&self) -> &'static str {
        match self.resolve {
            Resolve::Siblings => "dynamo",
            Resolve::Lww => "dynamo-lww",
        }
    }

    fn observer(&self, nodes: u8) -> Self::Observer {
        observer::Observer::new(nodes)
    }

    fn checker(&self, _nodes: u8) -> Self::Checker {
        invariants::Checker::new()
    }

    async fn start_node(&self, ctx: NodeContext, observer: Self::Observer) -> io::Result<()> {
        node::run(ctx, observer, self.mutant, self.resolve(), self.config).await
    }

    async fn connect_client(&self, ctx: ClientContext) -> io::Result<Self::Client> {
        // Without the registry the history is recorded nowhere (a detached client).
        let nodes = ctx.nodes.len() as u8;
        self.connect_observed(ctx, observer::Observer::new(nodes))
            .await
    }

    async fn connect_observed(
        &self,
        ctx: ClientContext,
        observer: Self::Observer,
    ) -> io::Result<Self::Client> {
        client::DynamoClient::connect(ctx, observer, self.mutant, self.resolve()).await
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
        checker.liveness(observer, self.config.n)
    }

    fn check_run(
        &self,
        _checker: &Self::Checker,
        observer: &Self::Observer,
        selected: &dyn Fn(&Property) -> bool,
    ) -> Option<Violation> {
        invariants::check_run(observer, self.resolve(), selected)
    }

    fn crash_points(&self) -> Vec<PointInfo> {
        CRASH_POINTS.to_vec()
    }

    /// Every message goes through squall's checksummed frames.
    fn detects_corrupt_frames(&self) -> bool {
        true
    }

    fn reads_clock(&self) -> bool {
        self.resolve() == Resolve::Lww
    }

    /// Any skew and drift: the HLC keeps causality whatever the clocks say (what LWW loses
    /// under skew is concurrent writes, which it promises nothing about).
    fn clock_bound(&self) -> ClockBound {
        ClockBound::WIDEST
    }

    fn properties(&self) -> Vec<Property> {
        invariants::properties(self.resolve())
    }

    fn mutants(&self) -> Vec<MutantInfo> {
        Mutant::ALL.iter().map(|m| m.info()).collect()
    }

    fn with_mutant(&self, name: &str) -> Self {
        Dynamo {
            mutant: name.parse().ok(),
            ..*self
        }
    }

    /// Leaderless: no node leads, so leader-targeted faults are no-ops.
    fn leader(&self, _checker: &Self::Checker, _observer: &Self::Observer) -> Option<NodeId> {
        None
    }

    fn phase(&self, checker: &Self::Checker, observer: &Self::Observer) -> &'static str {
        coverage::phase(checker, observer)
    }

    fn abstract_state(&self, checker: &Self::Checker, observer: &Self::Observer) -> u64 {
        coverage::abstract_state(checker, observer)
    }

    /// Every line of the store is squall's own (no per-thread or per-process state, no
    /// hashed collections), so its scenarios can share a thread.
    fn isolation(&self) -> crate::systems::Isolation {
        crate::systems::Isolation::Shared
    }
}
