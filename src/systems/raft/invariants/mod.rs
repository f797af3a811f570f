//! Raft's safety properties (paper Figure 3), checked incrementally after every step, and the
//! liveness condition.
//!
//! The checker keeps what it has seen — the leader of each term, the chain digest of every
//! (index, term) ever appended, a mirror of each node's log as (term, chain digest) pairs, the
//! chain of committed entries, the entry applied at each index — and updates it from the
//! events nodes publish. Each event costs O(1) (a restart costs the recovered log's length; a
//! match, a search among the terms its follower acknowledged in). Nothing on the per-step
//! path allocates once the checker has seen a run's largest log.
//!
//! The properties, by family (one file each; this file holds the [`Checker`]'s state, the
//! dispatch of each event to the families' checks, and [`PROPERTIES`]):
//! - `elections`: **election safety** (at most one leader per term, ever); **terms never
//!   decrease** on a node (across restarts too: the term is durable); **persisted state
//!   survives restarts** (Figure 2: term, vote and log reach stable storage before the node
//!   answers), so a restarted node still holds the vote it granted in its recovered term and
//!   every log entry it acknowledged to a leader; **corrupt records are never trusted** (a
//!   restarted node recovers only entries some node appended at that index, and after a
//!   corruption of its disk never a term beyond the cluster's). The first two assume an
//!   intact disk: for a node whose disk the run corrupted they are suspended at its restart
//!   ([`crate::systems::Faults::disk_intact`]); the correct store never restarts such a node
//!   with less than it had, it refuses to start instead;
//! - `logs`: **log matching** (entries with the same index and term have the same chain
//!   digest, i.e. identical logs up to that index); **committed entries are never lost** (no
//!   node commits an index whose prefix differs from the committed one, and no node truncates
//!   away a committed entry it held); **leader completeness** (a new leader's log holds every
//!   entry known to be committed); **committed entries are held by a majority** (when an
//!   index is first committed, a majority of nodes store that very entry — a simulator sees
//!   every log at that instant); **committed entries survive every election** (when an index
//!   is first committed, no node lacking it is as up to date as a majority, for it could be
//!   elected and overwrite the entry);
//! - `replication`: **a leader's match index rests on an acknowledgment of its term** (a
//!   leader of term t counts a follower as holding its log up to m only if that follower
//!   acknowledged at least m in term t: a reply from an earlier term vouches for a log that
//!   may since have changed); **a leader's match index is true** (while a follower stays in
//!   the term of the leader that counts it as holding the leader's log up to m, its log does
//!   agree with the leader's up to m — what every commit decision rests on);
//! - `state_machine`: **only committed entries are applied**; **state machine safety** (no
//!   two nodes apply different entries at one index); **commit index never decreases**
//!   within one incarnation;
//! - `liveness`: the condition the liveness phase waits for, and **progress while faults
//!   persist** ([`super::progress`]).

mod elections;
mod liveness;
mod logs;
mod replication;
mod state_machine;

pub use elections::{
    CORRUPT_RECORDS_NEVER_TRUSTED, ELECTION_SAFETY, PERSISTED_STATE_SURVIVES, TERMS_NEVER_DECREASE,
};
pub use logs::{
    COMMITTED_HELD_BY_MAJORITY, COMMITTED_NEVER_LOST, COMMITTED_SURVIVE_ELECTIONS,
    LEADER_COMPLETENESS, LOG_MATCHING,
};
pub use replication::{MATCH_INDEX_ACKNOWLEDGED, MATCH_INDEX_TRUE};
pub use state_machine::{COMMIT_NEVER_DECREASES, ONLY_COMMITTED_APPLIED, STATE_MACHINE_SAFETY};

use super::messages::{Index, Term};
use super::observer::{Event, Observer, Role};
use crate::check::Violation;
use crate::systems::Property;
use crate::systems::StepContext;
use std::collections::BTreeMap;

/// Every event a node publishes names a node of the cluster.
pub const WELL_FORMED_EVENTS: Property = Property::safety(
    "well-formed events",
    "every event a node publishes names a node of the cluster",
);
/// Progress while faults persist (see [`super::progress`]).
pub const PROGRESS_UNDER_FAULTS: Property = super::progress::PROGRESS_UNDER_FAULTS;

/// Every property the Raft checker asserts.
pub const PROPERTIES: [Property; 16] = [
    WELL_FORMED_EVENTS,
    TERMS_NEVER_DECREASE,
    LOG_MATCHING,
    COMMITTED_NEVER_LOST,
    MATCH_INDEX_TRUE,
    MATCH_INDEX_ACKNOWLEDGED,
    ONLY_COMMITTED_APPLIED,
    STATE_MACHINE_SAFETY,
    PERSISTED_STATE_SURVIVES,
    CORRUPT_RECORDS_NEVER_TRUSTED,
    ELECTION_SAFETY,
    LEADER_COMPLETENESS,
    COMMIT_NEVER_DECREASES,
    COMMITTED_HELD_BY_MAJORITY,
    COMMITTED_SURVIVE_ELECTIONS,
    PROGRESS_UNDER_FAULTS,
];

/// The incremental state of the safety checks. Several families read the same state (the
/// log mirrors above all); each field names who writes it.
#[derive(Debug, Default)]
pub struct Checker {
    /// The leader of each term ([`elections`]).
    leaders: BTreeMap<Term, u8>,
    /// The chain digest of every (index, term) ever appended ([`logs`]).
    chains: BTreeMap<(Index, Term), u64>,
    /// Per node: its log as (term, chain digest) per entry, as last published.
    logs: Vec<Vec<(Term, u64)>>,
    /// The chain digest of each committed index ([`logs`]).
    committed: Vec<u64>,
    /// Per committed index: the term of the node that first committed it (the committing
    /// leader's). Leader completeness binds leaders of later terms only.
    commit_terms: Vec<Term>,
    /// The entry digest applied at each index ([`state_machine`]).
    applied: Vec<u64>,
    /// Per node: its highest term seen ([`elections`]).
    terms: Vec<Term>,
    /// Per node: its commit index in this incarnation ([`state_machine`]).
    commits: Vec<Index>,
    /// Per node: the highest log index it acknowledged that is still in its log, and its chain
    /// ([`replication`] records it; [`elections`] holds restarts to it).
    acked: Vec<(Index, u64)>,
    /// Per node, by ascending term: each term in which it acknowledged AppendEntries, and the
    /// highest index it acknowledged in that term. One entry per term a node follows a leader
    /// in, so it grows only at elections ([`replication`]).
    acks: Vec<Vec<(Term, Index)>>,
    /// Per follower: the last match index a leader recorded for it, as (leader's term, index)
    /// ([`replication`]).
    matched: Vec<(Term, Index)>,
    /// Per node: its last vote (term, candidate) ([`elections`]).
    votes: Vec<Option<(Term, u8)>>,
    /// Leaders elected so far (a "sometimes" count).
    pub elections: u64,
    /// Reused event buffer (the per-step check does not allocate).
    pending: Vec<Event>,
    /// Liveness while faults persist.
    progress: super::progress::Progress,
    /// Whether the last step checked state machine safety: then the liveness condition also
    /// wants every replica's state equal to the leader's. Not after a forged message, which
    /// can make a crash-fault-tolerant follower apply an entry no leader ever had.
    states_must_agree: bool,
}

impl Checker {
    /// A checker for `nodes` nodes.
    pub fn new(nodes: u8) -> Self {
        let n = usize::from(nodes);
        Checker {
            logs: vec![Vec::new(); n],
            terms: vec![0; n],
            commits: vec![0; n],
            acked: vec![(0, 0); n],
            acks: vec![Vec::new(); n],
            matched: vec![(0, 0); n],
            votes: vec![None; n],
            states_must_agree: true,
            ..Checker::default()
        }
    }

    /// Drains the observer's events and checks each.
    pub fn check(
        &mut self,
        observer: &Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        self.states_must_agree = ctx.checks(&STATE_MACHINE_SAFETY);
        let mut pending = std::mem::take(&mut self.pending);
        observer.drain_into(&mut pending);
        // A violation of a property the run does not check must not stop the checks of the
        // rest: it is returned (for the trace) only if nothing selected broke.
        let mut unchecked = None;
        let mut result = Ok(());
        for event in pending.drain(..) {
            match self.event(event, ctx) {
                Err(v) if ctx.selection.includes(&v.property) => {
                    result = Err(v);
                    break;
                }
                Err(v) => unchecked = unchecked.or(Some(v)),
                Ok(()) => {}
            }
        }
        pending.clear();
        self.pending = pending;
        result?;
        match self.progress.check(observer, ctx) {
            Err(v) if ctx.selection.includes(&v.property) => Err(v),
            other => unchecked.map_or(other, Err),
        }
    }

    /// Length of `node`'s log as last published.
    pub fn log_len(&self, node: usize) -> usize {
        self.logs.get(node).map_or(0, Vec::len)
    }

    /// The index known committed so far.
    pub fn committed_index(&self) -> Index {
        self.committed.len() as Index
    }

    /// `node`'s log mirror, if `node` is a node of the cluster (every event is checked for
    /// that first, so the families may index by node).
    fn node_log(&mut self, node: u8) -> Result<&mut Vec<(Term, u64)>, Violation> {
        self.logs
            .get_mut(usize::from(node))
            .ok_or_else(|| WELL_FORMED_EVENTS.violated(format!("event from unknown node n{node}")))
    }

    /// Checks one event (public so tests can feed hand-made sequences): hands it to the
    /// checks of each family it concerns, in a fixed order, then records it.
    pub fn event(&mut self, event: Event, ctx: &mut StepContext<'_>) -> Result<(), Violation> {
        match event {
            Event::Restarted {
                node,
                incarnation,
                term,
                voted_for,
                log,
                torn_bytes,
            } => {
                self.node_log(node)?;
                self.recovered_only_known_entries(node, &log)?;
                if ctx.faults.disk_intact(node) {
                    self.term_seen(node, term, "restarted")?;
                    self.persisted(node, term, voted_for, &log)?;
                } else {
                    self.recovered_plausible_meta(node, term, voted_for)?;
                }
                self.recovered_log_matches(node, &log)?;
                if incarnation > 0 {
                    ctx.trace.line(
                        ctx.now,
                        format_args!(
                            "n{node} restarted: term {term}, {} log entries{}",
                            log.len(),
                            if torn_bytes > 0 {
                                format!(", cut a torn tail of {torn_bytes} bytes")
                            } else {
                                String::new()
                            }
                        ),
                    );
                }
                self.logs[usize::from(node)] = log;
                self.commits[usize::from(node)] = 0;
            }
            Event::Refused {
                node,
                incarnation,
                why,
            } => {
                self.node_log(node)?;
                ctx.trace.line(
                    ctx.now,
                    format_args!("n{node} refused to start (incarnation {incarnation}): {why}"),
                );
            }
            Event::Role { node, role, term } => {
                self.node_log(node)?;
                self.term_seen(node, term, "changed role")?;
                if role == Role::Leader {
                    self.new_leader(node, term, ctx)?;
                }
            }
            Event::Appended {
                node,
                index,
                term,
                chain,
            } => {
                self.node_log(node)?;
                self.appended(node, index, term, chain)?;
            }
            Event::Truncated { node, from } => {
                self.node_log(node)?;
                self.truncation_keeps_committed(node, from)?;
                self.truncation_keeps_match(node, from)?;
                self.truncated(node, from);
            }
            Event::Committed { node, index } => {
                self.node_log(node)?;
                self.commit_rises(node, index)?;
                self.commit_keeps_committed(node, index)?;
            }
            Event::Matched {
                leader,
                term,
                follower,
                index,
            } => {
                self.node_log(leader)?;
                self.node_log(follower)?;
                self.matched(leader, term, follower, index)?;
            }
            Event::Voted {
                node,
                term,
                candidate,
            } => {
                self.node_log(node)?;
                self.voted(node, term, candidate);
            }
            Event::Acked {
                node,
                term,
                index,
                chain,
            } => {
                self.node_log(node)?;
                self.acknowledged(node, term, index, chain);
            }
            Event::Applied { node, index, entry } => {
                self.node_log(node)?;
                self.applied(node, index, entry)?;
            }
            // Checked by linearizability, in the client history; noted so that a trace shows
            // which reads skipped the log.
            Event::LeaseRead { node, term, commit } => {
                self.node_log(node)?;
                ctx.trace.line(
                    ctx.now,
                    format_args!("n{node} read under its lease (term {term}, commit {commit})"),
                );
            }
        }
        Ok(())
    }

    /// Records that `node` truncated its log from index `from`: its mirror, and the highest
    /// acknowledged entry still in it (entries truncated at a real conflict are no longer
    /// promised across a restart).
    fn truncated(&mut self, node: u8, from: Index) {
        let i = usize::from(node);
        let log = &mut self.logs[i];
        log.truncate(from.saturating_sub(1) as usize);
        let keep = from.saturating_sub(1);
        let chain = keep
            .checked_sub(1)
            .and_then(|i| log.get(i as usize))
            .map_or(0, |e| e.1);
        let acked = &mut self.acked[i];
        if acked.0 > keep {
            *acked = (keep, chain);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Helpers the families' tests share: hand-made event sequences fed to a checker.
    use super::*;
    use crate::report::Trace;
    use std::time::Duration;

    /// Feeds `events` to a fresh 3-node checker.
    pub(super) fn run(events: Vec<Event>) -> Result<(), Violation> {
        let mut checker = Checker::new(3);
        let mut trace = Trace::new(false);
        let mut ctx = StepContext {
            step: 0,
            now: Duration::ZERO,
            trace: &mut trace,
            faults: &crate::systems::Faults::default(),
            selection: &crate::systems::Selection::all(),
        };
        for e in events {
            checker.event(e, &mut ctx)?;
        }
        Ok(())
    }

    /// The property the first violation of `events` names.
    pub(super) fn property(events: Vec<Event>) -> String {
        run(events).expect_err("a violation").property
    }

    pub(super) fn leader(node: u8, term: Term) -> Event {
        Event::Role {
            node,
            role: Role::Leader,
            term,
        }
    }

    pub(super) fn appended(node: u8, index: Index, term: Term, chain: u64) -> Event {
        Event::Appended {
            node,
            index,
            term,
            chain,
        }
    }

    pub(super) fn committed(node: u8, index: Index) -> Event {
        Event::Committed { node, index }
    }

    #[test]
    fn an_event_from_an_unknown_node_is_malformed() {
        assert_eq!(property(vec![appended(3, 1, 1, 10)]), "well-formed events");
        assert_eq!(
            property(vec![Event::Matched {
                leader: 0,
                term: 1,
                follower: 7,
                index: 1
            }]),
            "well-formed events"
        );
    }

    #[test]
    fn every_property_is_listed_once() {
        let mut names: Vec<&str> = PROPERTIES.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PROPERTIES.len());
    }
}
