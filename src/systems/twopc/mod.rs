//! The 2PC store: a bank sharded over participant nodes, transfers as two-phase-commit
//! transactions (Gray & Reuter, "Transaction Processing", §10.3), presumed abort (Mohan,
//! Lindsay & Obermarck, TODS 1986).
//!
//! **Placement.** Every node is a participant; account `a` lives on node `a % nodes`, so a
//! cluster of three or more nodes has three or more participants. Node 0 is also the single
//! coordinator, co-located with its participant (separate logs, `coordinator.wal` and
//! `participant.wal`): a crash of n0 takes both down, which is the blocking window the checks
//! report rather than hide.
//!
//! **Logs.** Coordinator: `Decision{tx, commit, writes}` (forced before any participant hears
//! of it; aborts are forced too, so a duplicated BEGIN never re-runs an aborted transfer) and
//! `Done{tx}` (every participant acknowledged). Participant: `Prepared{tx, writes}` (forced
//! before the yes vote), `Committed{tx}` and `Aborted{tx}` (forced before the
//! acknowledgment). Records are length- and checksum-framed; a torn tail is cut at restart.
//!
//! **Recovery.** A restarted coordinator re-drives every decision without `Done`. A restarted
//! participant re-takes the locks of its prepared transactions and, like any in-doubt
//! participant, asks the coordinator every `node::INQUIRY`; a coordinator with no record
//! of a transaction it is not running answers abort (presumed abort).
//!
//! **Reads** see committed state only: `read` asks the account's owner; `read-all`
//! read-locks every participant at once (refused while a prepared transaction holds a lock;
//! a prepare meeting a read lock votes no), so it sees a transactionally consistent
//! snapshot.
//!
//! Map: `messages` (wire and log records), `node` (sans-IO core + run loop), `client`,
//! `observer`, `invariants` (per-step properties, liveness), `coverage`, [`mutants`].

pub(crate) mod client;
pub(crate) mod coverage;
pub(crate) mod invariants;
pub(crate) mod messages;
pub mod mutants;
pub(crate) mod node;
pub(crate) mod observer;

#[cfg(test)]
mod tests;

pub use mutants::Mutant;

use crate::check::Violation;
use crate::mutants::MutantInfo;
use crate::systems::{
    ClientContext, Liveness, NodeContext, PointInfo, Property, StepContext, System,
};
use crate::workload::bank::Bank;
use std::io;

/// Where the 2PC store marks crash points (besides squall's disk and transport points).
pub const CRASH_POINTS: [PointInfo; 5] = [
    PointInfo::new(
        "participant-after-prepare-sync",
        "a participant synced its PREPARED record, its yes vote not yet sent",
    ),
    PointInfo::new(
        "participant-after-commit-sync",
        "a participant synced its COMMITTED record, not yet applied or acknowledged",
    ),
    PointInfo::new(
        "participant-after-abort-sync",
        "a participant synced its ABORTED record, not yet acknowledged",
    ),
    PointInfo::new(
        "coordinator-after-decision-sync",
        "the coordinator synced its decision, no participant told yet",
    ),
    PointInfo::new(
        "coordinator-before-client-reply",
        "every participant acknowledged a decision, the client not yet answered",
    ),
];

/// The 2PC store, optionally with a planted bug.
#[derive(Clone, Copy, Debug, Default)]
pub struct TwoPc {
    /// The planted bug, if any.
    pub mutant: Option<Mutant>,
}

impl TwoPc {
    /// The store with the named planted bug (`None`: the correct store).
    pub fn from_mutant_name(mutant: Option<&str>) -> Result<Self, String> {
        Ok(TwoPc {
            mutant: mutant.map(str::parse).transpose()?,
        })
    }
}

impl System for TwoPc {
    type Workload = Bank;
    type Observer = observer::Observer;
    type Checker = invariants::Checker;
    type Client = client::TwoPcClient;

    fn name(&self) -> &'static str {
        "twopc"
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
        client::TwoPcClient::connect(ctx).await
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

    // Not `detects_corrupt_records`: recovery checksums each record but cuts the log at the
    // first bad one as if it were a torn tail, dropping synced records after it, and the
    // per-step checks assume an intact log; neither is suspended per corrupted node yet.

    fn properties(&self) -> Vec<Property> {
        invariants::PROPERTIES.to_vec()
    }

    fn mutants(&self) -> Vec<MutantInfo> {
        Mutant::ALL.iter().map(|m| m.info()).collect()
    }

    fn with_mutant(&self, name: &str) -> Self {
        TwoPc {
            mutant: name.parse().ok(),
        }
    }

    /// The coordinator: the node whose loss blocks 2PC, so `crash leader`, `isolate leader`,
    /// `bounce leader` and the rest of the leader-targeted faults aim at it.
    fn leader(
        &self,
        _checker: &Self::Checker,
        _observer: &Self::Observer,
    ) -> Option<crate::scenario::NodeId> {
        Some(node::COORDINATOR)
    }

    fn phase(&self, checker: &Self::Checker, observer: &Self::Observer) -> &'static str {
        coverage::phase(checker, observer)
    }

    /// The coordinator's transactions in flight; each node's prepared (locked) and applied
    /// transactions.
    fn node_state(
        &self,
        _checker: &Self::Checker,
        observer: &Self::Observer,
        node: crate::scenario::NodeId,
    ) -> Option<String> {
        let reg = observer.0.borrow();
        let v = reg.nodes.get(usize::from(node))?;
        let mut state = if node == node::COORDINATOR {
            format!("coordinator, {} in flight,", v.active.len())
        } else {
            "participant,".to_string()
        };
        state.push_str(&format!(
            " {} prepared, {} applied",
            v.prepared.len(),
            v.resolved.len()
        ));
        Some(state)
    }

    fn abstract_state(&self, checker: &Self::Checker, observer: &Self::Observer) -> u64 {
        coverage::abstract_state(checker, observer)
    }

    /// Every line of the store is squall's own (no per-thread or per-process state, no
    /// hashed collections), so its scenarios can share a thread, as the Raft store's do.
    fn isolation(&self) -> crate::systems::Isolation {
        crate::systems::Isolation::Shared
    }
}
