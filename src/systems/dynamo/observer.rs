//! The registry dynamo nodes and clients publish into.
//!
//! Nodes publish their current entries, hints and anti-entropy rounds, and events (a hint
//! acknowledged, a hint handed off, a restart with the hints recovered). Clients record their
//! operations as a history of a store whose reads return sibling sets
//! ([`crate::check::eventual::Recorder`]): each write under its unique id, its context as the
//! writes it overwrites, each read with its siblings and the writes its context covers. The
//! checker drains the events after every step and judges the history at the end.

use super::version::{Dot, Entry, Hlc, Vv};
use crate::check::eventual::{Action, Completion, Datum, Recorder};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use tokio::time::Instant;

/// Something a node did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A fallback acknowledged holding a hint (`durable`: synced to its disk first).
    HintAcked {
        /// The fallback.
        node: u8,
        /// The hint's id there.
        hint: u64,
    },
    /// A fallback dropped a hint its home acknowledged.
    HintDone {
        /// The fallback.
        node: u8,
        /// The hint's id.
        hint: u64,
    },
    /// A node (re)started holding these hints.
    Recovered {
        /// The node.
        node: u8,
        /// The hints it recovered.
        hints: Vec<u64>,
    },
}

/// A node's current state, as it last published it.
#[derive(Clone, Debug, Default)]
pub struct NodeView {
    /// Whether the node's process is running.
    pub up: bool,
    /// Its entries by key.
    pub entries: BTreeMap<u8, Entry>,
    /// Hints it holds: id → (home, key).
    pub hints: BTreeMap<u64, (u8, u8)>,
    /// Requests it coordinates that are not finished.
    pub busy: usize,
    /// Anti-entropy rounds it has run (all incarnations).
    pub sync_rounds: u64,
}

/// What a last-writer-wins write looked like, for the LWW checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LwwWrite {
    /// Session (client).
    pub session: u8,
    /// Key.
    pub key: u8,
    /// The write's id.
    pub id: String,
    /// The greatest timestamp its session had seen of the key before invoking it.
    pub seen: Hlc,
    /// The greatest timestamp the store said the version may end with.
    pub ts: Hlc,
    /// The timestamp the acknowledging replicas held for it: it ends with at least this.
    pub held: Hlc,
}

/// The shared registry.
#[derive(Debug, Default)]
pub struct Registry {
    /// Per node.
    pub nodes: Vec<NodeView>,
    /// Events since the checker last drained them.
    pub events: Vec<Event>,
    /// The client history.
    pub recorder: Recorder,
    /// Every write invoked: (key, dot) → its id.
    pub writes: BTreeMap<(u8, Dot), String>,
    /// Acknowledged LWW writes.
    pub lww: Vec<LwwWrite>,
    /// Time zero of the client history.
    pub base: Option<Instant>,
    /// Problems recording the history (a bug in the client, reported as a violation).
    pub record_errors: Vec<String>,
    /// Anti-entropy rounds per node when the cluster last changed (an entry, a client
    /// operation): the quiet period counts from there.
    pub quiet_from: Option<Vec<u64>>,
    /// The replicas' entries the last time the healed cluster was quiet: (node, key) → entry.
    pub final_states: Option<BTreeMap<(u8, u8), Entry>>,
    /// Bumped on every node change, so checks skip unchanged states.
    pub version: u64,
}

/// A handle to the registry; clones share it.
#[derive(Clone, Debug)]
pub struct Observer(pub Rc<RefCell<Registry>>);

impl Observer {
    /// A registry for `nodes` nodes.
    pub fn new(nodes: u8) -> Self {
        Observer(Rc::new(RefCell::new(Registry {
            nodes: vec![NodeView::default(); usize::from(nodes)],
            ..Registry::default()
        })))
    }

    /// Publishes an event, unless the node crashed at an armed point.
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

    /// Publishes a node's state; a change to its entries restarts the quiet period.
    pub fn publish(
        &self,
        node: u8,
        entries: BTreeMap<u8, Entry>,
        hints: BTreeMap<u64, (u8, u8)>,
        busy: usize,
    ) {
        if crate::node::points::is_crashed() {
            return;
        }
        let mut reg = self.0.borrow_mut();
        let Some(v) = reg.nodes.get_mut(usize::from(node)) else {
            return;
        };
        let changed = v.entries != entries || !v.up;
        v.up = true;
        v.entries = entries;
        v.hints = hints;
        v.busy = busy;
        if changed {
            reg.version += 1;
            reg.quiet_from = None;
        }
    }

    /// Marks a node down (its future was dropped); never suppressed.
    pub fn down(&self, node: u8) {
        let mut reg = self.0.borrow_mut();
        reg.version += 1;
        if let Some(v) = reg.nodes.get_mut(usize::from(node)) {
            v.up = false;
            v.busy = 0;
        }
    }

    /// Moves the pending events into `into` (cleared first).
    pub fn drain_into(&self, into: &mut Vec<Event>) {
        into.clear();
        std::mem::swap(&mut self.0.borrow_mut().events, into);
    }

    fn now(reg: &mut Registry) -> u64 {
        let base = *reg.base.get_or_insert_with(Instant::now);
        Instant::now().duration_since(base).as_nanos() as u64
    }

    /// The ids of the writes to `key` that `clock` covers.
    fn covered(reg: &Registry, key: u8, clock: &Vv) -> Vec<Datum> {
        reg.writes
            .range(
                (
                    key,
                    Dot {
                        actor: 0,
                        counter: 0,
                    },
                )
                    ..=(
                        key,
                        Dot {
                            actor: u8::MAX,
                            counter: u32::MAX,
                        },
                    ),
            )
            .filter(|((_, dot), _)| clock.covers(*dot))
            .map(|(_, id)| Datum::from(id.as_str()))
            .collect()
    }

    fn record(reg: &mut Registry, result: Result<(), crate::check::eventual::RecordError>) {
        if let Err(e) = result {
            reg.record_errors.push(e.to_string());
        }
    }

    /// A client invokes a write (or, `value` `None`, a delete) of `id` with dot `dot` on
    /// `key`, overwriting what `context` covers.
    pub fn invoke_write(
        &self,
        session: u8,
        key: u8,
        dot: Dot,
        id: &str,
        delete: bool,
        context: &Vv,
    ) {
        let mut reg = self.0.borrow_mut();
        reg.quiet_from = None;
        let overwritten = Self::covered(&reg, key, context);
        reg.writes.insert((key, dot), id.to_string());
        let time = Self::now(&mut reg);
        let action = if delete {
            Action::Delete
        } else {
            Action::Write
        };
        let r = reg
            .recorder
            .invoke(
                Datum::from(format!("c{session}")),
                action,
                Datum::from(format!("k{key}")),
                Some(Datum::from(id)),
                overwritten,
                time,
            )
            .map(|_| ());
        Self::record(&mut reg, r);
    }

    /// A client invokes a read of `key`.
    pub fn invoke_read(&self, session: u8, key: u8) {
        let mut reg = self.0.borrow_mut();
        reg.quiet_from = None;
        let time = Self::now(&mut reg);
        let r = reg
            .recorder
            .invoke(
                Datum::from(format!("c{session}")),
                Action::Read,
                Datum::from(format!("k{key}")),
                None,
                Vec::new(),
                time,
            )
            .map(|_| ());
        Self::record(&mut reg, r);
    }

    /// A client's read returned `entry`.
    pub fn read_ok(&self, session: u8, key: u8, entry: &Entry) {
        let mut reg = self.0.borrow_mut();
        let mut values: Vec<Datum> = entry.live().map(|s| Datum::from(s.id.as_str())).collect();
        values.sort();
        values.dedup();
        let context: Vec<Datum> = Self::covered(&reg, key, &entry.clock)
            .into_iter()
            .filter(|d| !values.contains(d))
            .collect();
        let time = Self::now(&mut reg);
        let r = reg
            .recorder
            .complete(
                &Datum::from(format!("c{session}")),
                Completion::Read { values, context },
                time,
            )
            .map(|_| ());
        Self::record(&mut reg, r);
    }

    /// A client's write was acknowledged (with the LWW facts, in LWW mode).
    pub fn write_ok(&self, session: u8, lww: Option<LwwWrite>) {
        let mut reg = self.0.borrow_mut();
        let time = Self::now(&mut reg);
        let r = reg
            .recorder
            .complete(
                &Datum::from(format!("c{session}")),
                Completion::Written { version: None },
                time,
            )
            .map(|_| ());
        Self::record(&mut reg, r);
        reg.lww.extend(lww);
    }

    /// A client's operation failed (`unknown`: may have happened) — or was cancelled at its
    /// deadline, if still outstanding.
    pub fn op_ended(&self, session: u8, unknown: bool) {
        let mut reg = self.0.borrow_mut();
        let s = Datum::from(format!("c{session}"));
        if reg.recorder.outstanding(&s).is_none() {
            return;
        }
        let time = Self::now(&mut reg);
        let c = if unknown {
            Completion::Unknown
        } else {
            Completion::Fail
        };
        let r = reg.recorder.complete(&s, c, time).map(|_| ());
        Self::record(&mut reg, r);
    }

    /// Whether any client operation is outstanding.
    pub fn clients_busy(&self) -> bool {
        let reg = self.0.borrow();
        (0..crate::history::MAX_CLIENTS).any(|c| {
            reg.recorder
                .outstanding(&Datum::from(format!("c{c}")))
                .is_some()
        })
    }
}
