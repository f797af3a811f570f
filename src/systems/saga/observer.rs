//! The registry saga nodes publish into: events as things happen (a step's effect, a
//! compensation, a saga's progress as the orchestrator acts on it), and each service's and the
//! orchestrator's current state. The checker drains the events after every simulation step.

use super::messages::Kind;
use crate::workload::orders::TxId;
use crate::workload::orders::{Delta, Key, Order, Service};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// How far a saga has got, as its log says. Ordered: a saga only ever moves up (forward steps
/// done, then compensations done, then its end).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Progress {
    /// Going forward: this many steps took effect (0: begun).
    Forward(u8),
    /// Being compensated: `compensate` steps to undo, `done` of them acknowledged.
    Compensating {
        /// Steps to undo (`compensate - 1` down to 0).
        compensate: u8,
        /// Compensations acknowledged so far.
        done: u8,
    },
    /// Ended: completed, or compensated.
    Ended(bool),
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Progress::Forward(0) => f.write_str("begun"),
            Progress::Forward(k) => write!(f, "{k} step(s) done"),
            Progress::Compensating { compensate, done } => {
                write!(f, "compensating ({done} of {compensate} undone)")
            }
            Progress::Ended(true) => f.write_str("completed"),
            Progress::Ended(false) => f.write_str("compensated"),
        }
    }
}

/// One entry of a service's ledger: an effect, or an empty compensation's tombstone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    /// The saga.
    pub saga: TxId,
    /// Forward step or compensation.
    pub kind: Kind,
    /// Whether it changed anything (false: an empty compensation, a no-op).
    pub applied: bool,
    /// What it changed.
    pub delta: Delta,
}

/// Something a node did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A service took (or, under a planted bug, took again) a forward step or compensation:
    /// published after its record is synced, once per time it is decided — a retry answered
    /// from the dedup table publishes nothing.
    Took {
        /// The service.
        service: Service,
        /// What it did.
        effect: Effect,
    },
    /// A service refused a forward step that arrived after its compensation (a hanging
    /// request, refused as it should be).
    RefusedHanging {
        /// The service.
        service: Service,
        /// The saga.
        saga: TxId,
    },
    /// A service restarted with this ledger (its log's effects and tombstones, in order).
    ServiceRecovered {
        /// The service.
        service: Service,
        /// Its ledger.
        ledger: Vec<Effect>,
    },
    /// The orchestrator is about to act on this progress of a saga (it says its log holds it).
    Progress {
        /// The saga.
        saga: TxId,
        /// Its order.
        order: Order,
        /// How far it is.
        progress: Progress,
    },
    /// The orchestrator told a client how its saga ended.
    Replied {
        /// The saga.
        saga: TxId,
        /// Completed or compensated.
        completed: bool,
    },
    /// The orchestrator restarted with these sagas in its log.
    OrchestratorRecovered {
        /// Each saga, its order and how far its log says it got.
        sagas: Vec<(TxId, Order, Progress)>,
    },
}

/// A service's current state, as it last published it.
#[derive(Clone, Debug, Default)]
pub struct ServiceView {
    /// Its values.
    pub values: BTreeMap<Key, i64>,
}

/// What the orchestrator is doing with a saga in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Waiting for forward step `k`.
    Forward(u8),
    /// Waiting for the compensation of step `k`.
    Compensating(u8),
}

/// The shared registry.
#[derive(Debug, Default)]
pub struct Registry {
    /// Whether each node's process is running.
    pub up: Vec<bool>,
    /// Each service's state, in step order.
    pub services: [ServiceView; 3],
    /// The orchestrator's sagas in flight.
    pub active: BTreeMap<TxId, Stage>,
    /// Events since the checker last drained them.
    pub events: Vec<Event>,
}

/// A handle to the registry; clones share it.
#[derive(Clone, Debug)]
pub struct Observer(pub Rc<RefCell<Registry>>);

impl Observer {
    /// A registry for `nodes` nodes.
    pub fn new(nodes: u8) -> Self {
        Observer(Rc::new(RefCell::new(Registry {
            up: vec![false; usize::from(nodes)],
            ..Registry::default()
        })))
    }

    /// Publishes an event, unless the node crashed at an armed point (then it did none of
    /// what follows the point).
    pub fn push(&self, event: Event) {
        if crate::node::points::is_crashed() {
            return;
        }
        self.0.borrow_mut().events.push(event);
    }

    /// Updates the registry (also suppressed after a crash point fired).
    pub fn update(&self, f: impl FnOnce(&mut Registry)) {
        if crate::node::points::is_crashed() {
            return;
        }
        f(&mut self.0.borrow_mut());
    }

    /// Marks a node down (its future was dropped); never suppressed.
    pub fn down(&self, node: u8) {
        if let Some(up) = self.0.borrow_mut().up.get_mut(usize::from(node)) {
            *up = false;
        }
    }

    /// Moves the pending events into `into` (cleared first).
    pub fn drain_into(&self, into: &mut Vec<Event>) {
        into.clear();
        std::mem::swap(&mut self.0.borrow_mut().events, into);
    }
}
