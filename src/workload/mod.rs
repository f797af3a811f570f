//! Workloads: what clients do and how it is judged, as in Jepsen and Maelstrom.
//!
//! A workload owns the operation type (generated with `arbitrary`, written in scenario text
//! with `Display`/`FromStr`), how an operation appears in the client history, simpler
//! operations for shrinking, the probe that proves a healed system live, and the model its
//! history is checked against. A system ([`crate::systems::System`]) declares the workload
//! it serves and implements only its nodes and a client that performs the workload's
//! operations; several systems serve one workload (the Raft store and openraft both serve
//! [`kv`]), which is what makes side-by-side comparisons possible.
//!
//! Shipped: [`register`] (read/write one register), [`cas`] (read/write/compare-and-set, the
//! etcd model), [`kv`] (get/put/append on keys) and [`bank`] (transfers between accounts,
//! judged by atomicity and conservation through its own history checks,
//! [`Workload::check_history`]) and [`orders`] (order sagas over three services, judged by
//! semantic atomicity and conservation) and [`siblings`] (get/put/delete on a store whose reads
//! return concurrent values; judged by the system's eventual-consistency checks).

pub mod bank;
pub mod cas;
pub mod ids;
pub mod kv;
pub mod orders;
pub mod register;
pub mod siblings;

use crate::check::model::ModelKind;
use crate::check::property::Property;
use crate::check::Violation;
use crate::history::{Function, History, Value};
use std::fmt;
use std::str::FromStr;

/// An operation as the history records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryOp {
    /// The function.
    pub f: Function,
    /// The key, for key-value workloads.
    pub key: Option<String>,
    /// The input value.
    pub value: Value,
}

/// What clients do and how it is judged. See the module docs.
pub trait Workload: 'static {
    /// A client operation.
    type Op: Clone
        + fmt::Debug
        + fmt::Display
        + FromStr<Err = String>
        + for<'a> arbitrary::Arbitrary<'a>
        + Send
        + Sync
        + 'static;

    /// The workload's name (`squall properties` and the docs use it).
    const NAME: &'static str;

    /// How an operation appears in the history.
    fn history_op(op: &Self::Op) -> HistoryOp;

    /// Whether the operation cannot change state (a timed-out read is then a failure, not
    /// an indeterminate operation).
    fn is_read_only(op: &Self::Op) -> bool;

    /// The model the client history is checked against for linearizability, if any.
    fn model() -> Option<ModelKind>;

    /// Simpler versions of an operation, for shrinking (smaller key, smaller value, a read).
    fn simpler_ops(_op: &Self::Op) -> Vec<Self::Op> {
        Vec::new()
    }

    /// The bytes the operation's `Arbitrary` impl decodes into it, so that readable scenarios
    /// can seed the fuzzer ([`Scenario::to_bytes`](crate::scenario::Scenario::to_bytes)).
    fn op_bytes(_op: &Self::Op) -> Option<Vec<u8>> {
        None
    }

    /// Makes the `n`-th generated operation's written value unique, so that a read names the
    /// write it saw (optional).
    fn uniquify(_op: &mut Self::Op, _n: u32) {}

    /// An operation the harness sends, per client, once the healed system reports itself
    /// live, and that must succeed for the run to count as live (proof that the recovery is
    /// real). `None` skips the probe.
    fn liveness_probe(_client: u8) -> Option<Self::Op> {
        None
    }

    /// The workload's own checks of the client history besides linearizability against
    /// [`Workload::model`] (the bank's conservation and atomicity), as named properties.
    fn history_properties() -> Vec<Property> {
        Vec::new()
    }

    /// Runs the checks of [`Workload::history_properties`] that `selected` accepts on a
    /// finished run's history: the first violation found.
    fn check_history(
        _history: &History,
        _selected: &dyn Fn(&Property) -> bool,
    ) -> Option<Violation> {
        None
    }
}
