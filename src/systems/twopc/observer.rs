//! The registry 2PC nodes publish into: events as things happen, and each node's current
//! committed balances and locks. The checker drains the events after every simulation step.

use super::messages::Writes;
use crate::workload::bank::TxId;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Something a node did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A participant voted.
    Voted {
        /// Participant.
        node: u8,
        /// Transaction.
        tx: TxId,
        /// Yes or no.
        yes: bool,
        /// For a yes: whether its PREPARED record was synced when it voted.
        durable: bool,
    },
    /// A participant committed (`commit`) or aborted a transaction, or acknowledged the abort
    /// of one it never prepared (`prepared` false).
    Resolved {
        /// Participant.
        node: u8,
        /// Transaction.
        tx: TxId,
        /// Commit or abort.
        commit: bool,
        /// Whether it had prepared it.
        prepared: bool,
    },
    /// The coordinator decided (after logging the decision, unless a planted bug skips it).
    Decided {
        /// Transaction.
        tx: TxId,
        /// Commit or abort.
        commit: bool,
        /// Every participant's writes.
        writes: Writes,
    },
    /// The coordinator restarted with these logged decisions.
    CoordinatorRecovered {
        /// The decisions in its log, with every participant's writes.
        decisions: BTreeMap<TxId, (bool, Writes)>,
    },
    /// A participant restarted with these transactions prepared and undecided.
    ParticipantRecovered {
        /// Participant.
        node: u8,
        /// Its in-doubt transactions.
        prepared: Vec<TxId>,
        /// Transactions its log shows committed (true) or aborted (false).
        resolved: Vec<(TxId, bool)>,
        /// Its incarnation.
        incarnation: u32,
    },
}

/// A node's current state, as it last published it.
#[derive(Clone, Debug, Default)]
pub struct NodeView {
    /// Whether the node's process is running.
    pub up: bool,
    /// Committed balances of its accounts.
    pub balances: BTreeMap<u8, i64>,
    /// Transactions it holds prepared (and so locked).
    pub prepared: Vec<TxId>,
    /// Transactions it applied, by id (commit true / abort false).
    pub resolved: BTreeMap<TxId, bool>,
    /// As coordinator: transactions not yet done (preparing, or decided and not acknowledged).
    pub active: Vec<TxId>,
}

/// The shared registry.
#[derive(Debug, Default)]
pub struct Registry {
    /// Per node.
    pub nodes: Vec<NodeView>,
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
            nodes: vec![NodeView::default(); usize::from(nodes)],
            events: Vec::new(),
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

    /// Updates a node's view (also suppressed after a crash point fired).
    pub fn view(&self, node: u8, f: impl FnOnce(&mut NodeView)) {
        if crate::node::points::is_crashed() {
            return;
        }
        if let Some(v) = self.0.borrow_mut().nodes.get_mut(usize::from(node)) {
            f(v);
        }
    }

    /// Marks a node down (its future was dropped); never suppressed.
    pub fn down(&self, node: u8) {
        if let Some(v) = self.0.borrow_mut().nodes.get_mut(usize::from(node)) {
            v.up = false;
        }
    }

    /// Moves the pending events into `into` (cleared first).
    pub fn drain_into(&self, into: &mut Vec<Event>) {
        into.clear();
        std::mem::swap(&mut self.0.borrow_mut().events, into);
    }
}
