//! The saga store: an order-payment saga orchestrated across three participant services
//! (Garcia-Molina & Salem, "Sagas", SIGMOD 1987), serving the [`orders`] workload.
//!
//! **The saga.** An order runs three steps, each at its own service and each with a
//! compensation: T1 reserves stock (C1 releases it), T2 charges the customer and credits the
//! merchant (C2 refunds), T3 books shipping capacity (C3 cancels). If a step is refused (out of
//! stock, insufficient funds, no capacity) or its outcome stays unknown past its timeout, the
//! steps before it — and an unknown one itself — are compensated in reverse order, each
//! until acknowledged.
//!
//! **Placement.** Node 0 runs the orchestrator; services go round the other nodes (stock n1,
//! payment n2, shipping n3, or n1 with three nodes), so every step crosses the network; nodes
//! beyond n3 run no service. Each service and the orchestrator keep their own log
//! (`stock.wal`, `payment.wal`, `shipping.wal`, `saga.wal`).
//!
//! **Exactly-once effects.** Every step and compensation carries the idempotency key (saga,
//! step); a service writes the dedup entry and the effect as one synced record, answers a
//! retry from it, turns an early compensation into a tombstone and refuses the forward step
//! that arrives after it (`participant`).
//!
//! **Recovery.** The orchestrator syncs each transition before acting on it and resumes every
//! unfinished saga after a restart (`orchestrator`); a service rebuilds its values and dedup
//! table from its log.
//!
//! Map: `messages` (wire and log records), `orchestrator`, `participant`, `node` (the
//! sans-IO node and its run loop), `client`, `observer`, `invariants` (per-step properties,
//! liveness), `coverage`, [`mutants`].
//!
//! [`orders`]: crate::workload::orders

pub(crate) mod client;
pub(crate) mod coverage;
pub(crate) mod invariants;
pub(crate) mod messages;
pub mod mutants;
pub(crate) mod node;
pub(crate) mod observer;
pub(crate) mod orchestrator;
pub(crate) mod participant;

#[cfg(test)]
mod tests;

pub use mutants::Mutant;

use crate::check::Violation;
use crate::mutants::MutantInfo;
use crate::scenario::NodeId;
use crate::systems::{
    ClientContext, Liveness, NodeContext, PointInfo, Property, StepContext, System,
};
use crate::workload::orders::Orders;
use std::io;
use std::time::Duration;

/// Where the saga store marks crash points (besides squall's disk and transport points).
pub const CRASH_POINTS: [PointInfo; 6] = [
    PointInfo::new(
        "participant-after-effect-sync",
        "a service synced the record of a step or compensation (dedup entry and effect), not yet applied in memory or answered",
    ),
    PointInfo::new(
        "orchestrator-after-begin-sync",
        "the orchestrator synced a saga's BEGIN, its first step not yet issued",
    ),
    PointInfo::new(
        "orchestrator-after-step-sync",
        "the orchestrator synced a STEP-DONE, the next step not yet issued",
    ),
    PointInfo::new(
        "orchestrator-after-abort-sync",
        "the orchestrator synced an ABORT, no compensation issued yet",
    ),
    PointInfo::new(
        "orchestrator-after-compensation-sync",
        "the orchestrator synced a COMPENSATED, the next compensation not yet issued",
    ),
    PointInfo::new(
        "orchestrator-before-client-reply",
        "the orchestrator synced a saga's END, the client not yet told",
    ),
];

/// The saga store, optionally with a planted bug.
#[derive(Clone, Copy, Debug, Default)]
pub struct Saga {
    /// The planted bug, if any.
    pub mutant: Option<Mutant>,
}

impl Saga {
    /// The store with the named planted bug (`None`: the correct store).
    pub fn from_mutant_name(mutant: Option<&str>) -> Result<Self, String> {
        Ok(Saga {
            mutant: mutant.map(str::parse).transpose()?,
        })
    }
}

impl System for Saga {
    type Workload = Orders;
    type Observer = observer::Observer;
    type Checker = invariants::Checker;
    type Client = client::SagaClient;

    fn name(&self) -> &'static str {
        "saga"
    }

    fn observer(&self, nodes: u8) -> Self::Observer {
        observer::Observer::new(nodes)
    }

    fn checker(&self, _nodes: u8) -> Self::Checker {
        invariants::Checker::new()
    }

    async fn start_node(&self, ctx: NodeContext, observer: Self::Observer) -> io::Result<()> {
        node::run(ctx, observer, self.mutant).await
    }

    async fn connect_client(&self, ctx: ClientContext) -> io::Result<Self::Client> {
        client::SagaClient::connect(ctx).await
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

    /// Every message goes through squall's checksummed frames.
    fn detects_corrupt_frames(&self) -> bool {
        true
    }

    // Not `detects_corrupt_records`: as in the 2PC store, recovery cuts a log at its first bad
    // record as at a torn tail, and the per-step checks assume an intact log.

    fn properties(&self) -> Vec<Property> {
        invariants::PROPERTIES.to_vec()
    }

    fn mutants(&self) -> Vec<MutantInfo> {
        Mutant::ALL.iter().map(|m| m.info()).collect()
    }

    fn with_mutant(&self, name: &str) -> Self {
        Saga {
            mutant: name.parse().ok(),
        }
    }

    /// A saga under faults takes several step timeouts and compensation rounds: an order
    /// gets this long before its client records it as indeterminate.
    fn min_op_deadline(&self) -> Duration {
        Duration::from_secs(2)
    }

    fn phase(&self, checker: &Self::Checker, observer: &Self::Observer) -> &'static str {
        coverage::phase(checker, observer)
    }

    /// The orchestrator, which drives every saga: the faults that follow a leader (`isolate
    /// leader`, `crash leader`) hit it.
    fn leader(&self, _checker: &Self::Checker, _observer: &Self::Observer) -> Option<NodeId> {
        Some(node::ORCHESTRATOR)
    }

    fn abstract_state(&self, checker: &Self::Checker, observer: &Self::Observer) -> u64 {
        coverage::abstract_state(checker, observer)
    }

    /// The orchestrator, or a participant (the report's lanes).
    fn node_state(
        &self,
        _checker: &Self::Checker,
        _observer: &Self::Observer,
        node: NodeId,
    ) -> Option<String> {
        Some(if node == node::ORCHESTRATOR {
            "orchestrator".to_string()
        } else {
            "participant".to_string()
        })
    }

    /// Every line of the store is squall's own (no per-thread or per-process state, no
    /// hashed collections), so its scenarios can share a thread, as the 2PC store's do.
    fn isolation(&self) -> crate::systems::Isolation {
        crate::systems::Isolation::Shared
    }
}
