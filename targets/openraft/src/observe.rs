//! What nodes publish for the per-step invariants: a harness-owned registry.
//!
//! Each node publishes its openraft metrics receiver (read synchronously between steps), the
//! log as it is *durable* on its disk (updated at every sync, so a power loss never makes
//! the view wrong), and the entries its state machine applied. The invariants read it
//! between steps, when no node code runs, so a `RefCell` is enough.

use crate::types::{Metrics, TypeConfig};
use openraft::rt::WatchReceiver;
use openraft::type_config::alias::WatchReceiverOf;
use openraft::ServerState;
use std::cell::RefCell;
use std::rc::Rc;

/// One log entry as invariants see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    /// The entry's term.
    pub term: u64,
    /// The entry's payload, described.
    pub what: Rc<str>,
}

/// What one node has published.
#[derive(Default)]
pub struct NodeView {
    /// Whether the node's process is running.
    pub up: bool,
    /// The running incarnation's metrics (the last values if it crashed).
    pub metrics: Option<WatchReceiverOf<TypeConfig, Metrics>>,
    /// The synced log; position `i` holds log index `i`.
    pub durable: Vec<Rec>,
    /// Lowest position of `durable` changed since the invariants last looked.
    pub dirty_from: Option<usize>,
    /// Entries applied since the invariants last looked: (log index, entry).
    pub applied: Vec<(u64, Rec)>,
}

impl NodeView {
    fn mark_dirty(&mut self, from: usize) {
        self.dirty_from = Some(self.dirty_from.map_or(from, |d| d.min(from)));
    }

    /// Replaces the durable log (a restart re-reads it from disk).
    pub fn reset_durable(&mut self, log: Vec<Rec>) {
        self.durable = log;
        self.mark_dirty(0);
    }

    /// The durable log was cut to `len` entries.
    pub fn truncate_durable(&mut self, len: usize) {
        if len < self.durable.len() {
            self.durable.truncate(len);
            self.mark_dirty(len);
        }
    }

    /// An entry became durable at the end of the log.
    pub fn push_durable(&mut self, rec: Rec) {
        self.mark_dirty(self.durable.len());
        self.durable.push(rec);
    }
}

/// The registry; cloning gives another handle to it.
#[derive(Clone)]
pub struct Observer {
    nodes: Rc<RefCell<Vec<NodeView>>>,
}

impl Observer {
    /// A registry for `n` nodes.
    pub fn new(n: u8) -> Self {
        Observer {
            nodes: Rc::new(RefCell::new((0..n).map(|_| NodeView::default()).collect())),
        }
    }

    /// Runs `f` on node `id`'s view.
    pub fn with<R>(&self, id: usize, f: impl FnOnce(&mut NodeView) -> R) -> R {
        f(&mut self.nodes.borrow_mut()[id])
    }

    /// Runs `f` on every node's view.
    pub fn with_all<R>(&self, f: impl FnOnce(&mut [NodeView]) -> R) -> R {
        f(&mut self.nodes.borrow_mut())
    }

    /// The latest metrics of every running node, with its id.
    pub fn running(&self) -> Vec<(usize, Metrics)> {
        let nodes = self.nodes.borrow();
        let running = nodes.iter().enumerate().filter(|(_, v)| v.up);
        running
            .filter_map(|(i, v)| Some((i, v.metrics.as_ref()?.borrow_watched().clone())))
            .collect()
    }

    /// Marks node `id` as running until the returned guard is dropped (when turmoil drops the
    /// node's tasks on a crash).
    pub fn alive(&self, id: usize) -> Alive {
        self.with(id, |v| v.up = true);
        Alive {
            observer: self.clone(),
            id,
        }
    }
}

/// Whether a node leads and has committed an entry of its own term (openraft commits a blank
/// entry on election, so this took a quorum's acknowledgements in that term).
pub fn leads_and_commits(m: &Metrics) -> bool {
    let committed_in_term = m
        .local_committed
        .is_some_and(|c| c.leader_id.term == m.current_term);
    m.state == ServerState::Leader && committed_in_term
}

/// Marks a node down when dropped.
pub struct Alive {
    observer: Observer,
    id: usize,
}

impl Drop for Alive {
    fn drop(&mut self) {
        if let Ok(mut nodes) = self.observer.nodes.try_borrow_mut() {
            nodes[self.id].up = false;
        }
    }
}
