//! The per-step safety properties of the 2PC store, its liveness condition, and the
//! "blocked while the coordinator was down" report. Incremental: each step drains the events
//! nodes published and updates small per-transaction maps.

use super::observer::{Event, Observer};
use crate::check::Violation;
use crate::systems::{Liveness, Property, StepContext};
use crate::workload::bank::{TxId, ACCOUNTS, INITIAL_BALANCE};
use std::collections::{BTreeMap, BTreeSet};

/// No transaction commits at one participant and aborts at another (or against the
/// coordinator's decision).
pub const ATOMICITY: Property = Property::safety(
    "atomicity",
    "no transaction commits at one participant and aborts at another, and no participant applies the opposite of the coordinator's decision",
);
/// Commit only if every participant voted yes.
pub const VALIDITY: Property = Property::safety(
    "validity",
    "the coordinator decides commit only if every participant of the transaction voted yes",
);
/// A logged decision never changes.
pub const DECISION_DURABLE: Property = Property::safety(
    "decision durability",
    "a decision the coordinator acted on never changes, and survives its crashes and power losses",
);
/// Yes votes are backed by a durable PREPARED record.
pub const PREPARED_DURABLE: Property = Property::safety(
    "prepared record durable",
    "a participant that voted yes had synced its PREPARED record, and recovers the transaction as prepared until it is decided",
);
/// Money is conserved in committed state.
pub const CONSERVATION: Property = Property::safety(
    "committed money is conserved",
    "committed balances plus the committed transfers not yet applied total the initial money, and no committed balance is negative",
);
/// An acknowledged abort is final.
pub const ABORT_IS_FINAL: Property = Property::safety(
    "abort is final",
    "a participant never votes yes for a transaction whose abort it acknowledged (in the same incarnation)",
);
/// The 2PC store's properties.
pub const PROPERTIES: [Property; 6] = [
    ATOMICITY,
    VALIDITY,
    DECISION_DURABLE,
    PREPARED_DURABLE,
    CONSERVATION,
    ABORT_IS_FINAL,
];

/// The incremental checker state.
#[derive(Default)]
pub struct Checker {
    events: Vec<Event>,
    /// The coordinator's decisions as it acted on them.
    decisions: BTreeMap<TxId, bool>,
    /// How each participant resolved each transaction.
    resolved: BTreeMap<TxId, BTreeMap<u8, bool>>,
    /// Yes votes not yet resolved at their participant.
    voted_yes: BTreeSet<(u8, TxId)>,
    /// Every (participant, transaction) that voted yes.
    ever_yes: BTreeSet<(u8, TxId)>,
    /// Aborts a participant acknowledged, with its incarnation then.
    aborted_at: BTreeMap<(u8, TxId), u32>,
    incarnation: BTreeMap<u8, u32>,
    /// Committed transfers not yet applied: per transaction, per participant, the net change.
    pending: BTreeMap<TxId, BTreeMap<u8, i64>>,
    /// Whether the "blocked while the coordinator was down" note was written for the
    /// current outage.
    blocked_noted: bool,
    /// How many times participants were blocked by a down coordinator.
    pub blocked: u64,
}

impl Checker {
    /// Fresh state.
    pub fn new() -> Self {
        Checker::default()
    }

    /// Transactions the coordinator decided but not every participant applied.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Checks the properties after a step.
    pub fn check(
        &mut self,
        observer: &Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        let mut events = std::mem::take(&mut self.events);
        observer.drain_into(&mut events);
        let result = events.iter().try_for_each(|e| self.on_event(e, ctx));
        self.events = events;
        result?;
        if ctx.checks(&CONSERVATION) {
            self.conservation(observer)?;
        }
        self.note_blocking(observer, ctx);
        Ok(())
    }

    fn on_event(&mut self, e: &Event, ctx: &StepContext<'_>) -> Result<(), Violation> {
        match e {
            Event::Voted {
                node,
                tx,
                yes,
                durable,
            } => {
                if !*yes {
                    return Ok(());
                }
                if !durable && ctx.checks(&PREPARED_DURABLE) {
                    return Err(PREPARED_DURABLE.violated(format!(
                        "n{node} voted yes for {tx} before its PREPARED record was synced"
                    )));
                }
                let incarnation = self.incarnation.get(node).copied().unwrap_or(0);
                if self.aborted_at.get(&(*node, *tx)) == Some(&incarnation)
                    && ctx.checks(&ABORT_IS_FINAL)
                {
                    return Err(ABORT_IS_FINAL.violated(format!(
                        "n{node} voted yes for {tx} after it acknowledged the transaction's abort"
                    )));
                }
                if !self.resolved.get(tx).is_some_and(|r| r.contains_key(node)) {
                    self.voted_yes.insert((*node, *tx));
                }
                self.ever_yes.insert((*node, *tx));
            }
            Event::Resolved {
                node, tx, commit, ..
            } => self.on_resolved(*node, *tx, *commit, ctx)?,
            Event::Decided { tx, commit, writes } => self.on_decided(*tx, *commit, writes, ctx)?,
            Event::CoordinatorRecovered { decisions } => {
                if ctx.checks(&DECISION_DURABLE) {
                    for (tx, commit) in &self.decisions {
                        let recovered = decisions.get(tx).map(|(c, _)| *c);
                        if recovered != Some(*commit) {
                            return Err(DECISION_DURABLE.violated(format!(
                                "the coordinator acted on {} for {tx} but recovered {}",
                                if *commit { "commit" } else { "abort" },
                                match recovered {
                                    None => "no decision",
                                    Some(true) => "commit",
                                    Some(false) => "abort",
                                }
                            )));
                        }
                    }
                }
                // Decisions logged by an incarnation that crashed before it said so.
                for (tx, (commit, writes)) in decisions {
                    if !self.decisions.contains_key(tx) {
                        self.on_decided(*tx, *commit, writes, ctx)?;
                    }
                }
            }
            Event::ParticipantRecovered {
                node,
                prepared,
                resolved,
                incarnation,
            } => {
                self.incarnation.insert(*node, *incarnation);
                for (tx, commit) in resolved {
                    if !self.resolved.get(tx).is_some_and(|r| r.contains_key(node)) {
                        self.on_resolved(*node, *tx, *commit, ctx)?;
                    }
                }
                if ctx.checks(&PREPARED_DURABLE) {
                    if let Some((_, tx)) = self
                        .voted_yes
                        .range((*node, TxId::default())..)
                        .take_while(|(n, _)| n == node)
                        .find(|(_, tx)| !prepared.contains(tx))
                    {
                        return Err(PREPARED_DURABLE.violated(format!(
                            "n{node} voted yes for {tx}, undecided, but restarted without it prepared"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    fn on_resolved(
        &mut self,
        node: u8,
        tx: TxId,
        commit: bool,
        ctx: &StepContext<'_>,
    ) -> Result<(), Violation> {
        self.voted_yes.remove(&(node, tx));
        if !commit {
            let incarnation = self.incarnation.get(&node).copied().unwrap_or(0);
            self.aborted_at.insert((node, tx), incarnation);
        }
        let by_node = self.resolved.entry(tx).or_default();
        let other = by_node.iter().find(|(_, c)| **c != commit).map(|(n, _)| *n);
        by_node.insert(node, commit);
        if commit {
            if let Some(p) = self.pending.get_mut(&tx) {
                p.remove(&node);
                if p.is_empty() {
                    self.pending.remove(&tx);
                }
            }
        }
        if !ctx.checks(&ATOMICITY) {
            return Ok(());
        }
        let word = |c: bool| if c { "committed" } else { "aborted" };
        if let Some(o) = other {
            return Err(ATOMICITY.violated(format!(
                "{tx} {} at n{node} but {} at n{o}",
                word(commit),
                word(!commit)
            )));
        }
        if let Some(d) = self.decisions.get(&tx) {
            if *d != commit {
                return Err(ATOMICITY.violated(format!(
                    "{tx} {} at n{node}, but the coordinator decided to {}",
                    word(commit),
                    if *d { "commit" } else { "abort" }
                )));
            }
        }
        Ok(())
    }

    fn on_decided(
        &mut self,
        tx: TxId,
        commit: bool,
        writes: &[(u8, Vec<super::messages::Write>)],
        ctx: &StepContext<'_>,
    ) -> Result<(), Violation> {
        if let Some(before) = self.decisions.get(&tx) {
            if *before != commit && ctx.checks(&DECISION_DURABLE) {
                return Err(DECISION_DURABLE.violated(format!(
                    "{tx}: the coordinator decided {commit} after deciding {before}"
                )));
            }
            return Ok(());
        }
        self.decisions.insert(tx, commit);
        if commit {
            if ctx.checks(&VALIDITY) {
                if let Some((p, _)) = writes
                    .iter()
                    .find(|(p, _)| !self.ever_yes.contains(&(*p, tx)))
                {
                    return Err(
                        VALIDITY.violated(format!("{tx} committed although n{p} never voted yes"))
                    );
                }
            }
            let resolved = self.resolved.get(&tx);
            let pending: BTreeMap<u8, i64> = writes
                .iter()
                .filter(|(p, _)| resolved.is_none_or(|r| r.get(p) != Some(&true)))
                .map(|(p, w)| (*p, w.iter().map(|(_, d)| d).sum()))
                .collect();
            if !pending.is_empty() {
                self.pending.insert(tx, pending);
            }
        }
        if ctx.checks(&ATOMICITY) {
            if let Some((n, c)) = self
                .resolved
                .get(&tx)
                .and_then(|r| r.iter().find(|(_, c)| **c != commit))
            {
                return Err(ATOMICITY.violated(format!(
                    "the coordinator decided {commit} for {tx}, but n{n} already resolved it as {c}"
                )));
            }
        }
        Ok(())
    }

    fn conservation(&self, observer: &Observer) -> Result<(), Violation> {
        let reg = observer.0.borrow();
        let mut sum = 0;
        for (i, v) in reg.nodes.iter().enumerate() {
            for (a, b) in &v.balances {
                if *b < 0 {
                    return Err(CONSERVATION.violated(format!("n{i} holds a{a}={b}")));
                }
                sum += b;
            }
        }
        // Before a node first starts its view is empty.
        let accounts: usize = reg.nodes.iter().map(|v| v.balances.len()).sum();
        if accounts != usize::from(ACCOUNTS) {
            return Ok(());
        }
        let pending: i64 = self.pending.values().flat_map(|p| p.values()).sum();
        let total = i64::from(ACCOUNTS) * INITIAL_BALANCE;
        if sum + pending != total {
            return Err(CONSERVATION.violated(format!(
                "committed balances total {sum}, committed transfers not yet applied {pending:+}, not {total}"
            )));
        }
        Ok(())
    }

    fn note_blocking(&mut self, observer: &Observer, ctx: &mut StepContext<'_>) {
        let coordinator_up = ctx.faults.up.first().copied().unwrap_or(true);
        if coordinator_up {
            self.blocked_noted = false;
            return;
        }
        if self.blocked_noted {
            return;
        }
        let reg = observer.0.borrow();
        let blocked: Vec<String> = reg
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, v)| v.up && !v.prepared.is_empty())
            .map(|(i, v)| {
                let txs: Vec<String> = v.prepared.iter().map(ToString::to_string).collect();
                format!("n{i} holds {}", txs.join(" "))
            })
            .collect();
        if !blocked.is_empty() {
            self.blocked_noted = true;
            self.blocked += 1;
            ctx.trace.line(
                ctx.now,
                format_args!(
                    "info: blocked while the coordinator was down (correct 2PC): {}",
                    blocked.join(", ")
                ),
            );
        }
    }

    /// The liveness condition, reported as the harness's "recovery after heal": once the
    /// coordinator is back and faults are healed, every transaction is decided and
    /// acknowledged and every participant's locks are released within the liveness budget.
    /// (Every node is up during the liveness phase, so the clock for an in-doubt transaction
    /// starts with its coordinator back; blocking before that is only noted, see
    /// `note_blocking`.)
    ///
    /// The liveness condition (every node is up during the liveness phase, so the
    /// coordinator is back): nothing active at the coordinator, nothing prepared anywhere.
    pub fn liveness(&self, observer: &Observer) -> Liveness {
        let reg = observer.0.borrow();
        for (i, v) in reg.nodes.iter().enumerate() {
            if !v.up {
                return Liveness::Waiting(format!("n{i} is down"));
            }
            if let Some(tx) = v.active.first() {
                return Liveness::Waiting(format!(
                    "the coordinator has {} transaction(s) not done, first {tx}",
                    v.active.len()
                ));
            }
            if let Some(tx) = v.prepared.first() {
                return Liveness::Waiting(format!("n{i} holds {tx} prepared (locked)"));
            }
        }
        Liveness::Live
    }
}
