//! Raft's safety properties (paper Figure 3), checked incrementally after every step, and the
//! liveness condition.
//!
//! The checker keeps what it has seen — the leader of each term, the chain digest of every
//! (index, term) ever appended, a mirror of each node's log as (term, chain digest) pairs, the
//! chain of committed entries, the entry applied at each index — and updates it from the
//! events nodes publish. Each event costs O(1) (a restart costs the recovered log's length; a
//! match, a search among the terms its follower acknowledged in).
//!
//! Properties:
//! - **election safety**: at most one leader per term, ever;
//! - **log matching**: entries with the same index and term have the same chain digest, i.e.
//!   identical logs up to that index;
//! - **leader completeness**: a new leader's log holds every entry known to be committed;
//! - **committed entries are never lost**: no node commits an index whose prefix differs from
//!   the committed one, and no node truncates away a committed entry it held;
//! - **committed entries are held by a majority**: when an index is first committed, a
//!   majority of nodes store that very entry (a simulator sees every log at that instant);
//! - **committed entries survive every election**: when an index is first committed, no node
//!   lacking it is as up to date as a majority (it could be elected and overwrite the entry);
//! - **a leader's match index rests on an acknowledgment of its term**: a leader of term t
//!   counts a follower as holding its log up to m only if that follower acknowledged at least
//!   m in term t (a reply from an earlier term vouches for a log that may since have changed);
//! - **a leader's match index is true**: while a follower stays in the term of the leader
//!   that counts it as holding the leader's log up to index m, its log does agree with the
//!   leader's up to m (what every commit decision rests on);
//! - **state machine safety**: no two nodes apply different entries at one index;
//! - **terms never decrease** on a node (across restarts too: the term is durable);
//! - **commit index never decreases** within one incarnation;
//! - **only committed entries are applied**;
//! - **persisted state survives restarts** (Figure 2: term, vote and log reach stable storage
//!   before the node answers): a restarted node still holds the vote it granted in its
//!   recovered term and every log entry it acknowledged to a leader.

use super::messages::{Index, Term};
use super::observer::{Event, Observer, Role};
use crate::check::Violation;
use crate::systems::Property;
use crate::systems::{Liveness, StepContext};
use std::collections::BTreeMap;

/// Every event a node publishes names a node of the cluster.
pub const WELL_FORMED_EVENTS: Property = Property::safety(
    "well-formed events",
    "every event a node publishes names a node of the cluster",
);
/// No node's current term ever goes down, across restarts too.
pub const TERMS_NEVER_DECREASE: Property = Property::safety(
    "terms never decrease",
    "no node's current term ever goes down, across restarts too",
);
/// Two logs that hold an entry of the same index and term hold the same entries before it.
pub const LOG_MATCHING: Property = Property::safety(
    "log matching",
    "two logs that hold an entry of the same index and term hold the same entries before it",
);
/// No node truncates a committed entry from its log.
pub const COMMITTED_NEVER_LOST: Property = Property::safety(
    "committed entries are never lost",
    "no node truncates a committed entry from its log",
);
/// A leader counts a follower as holding its log up to m only while the follower's log agrees up to m.
pub const MATCH_INDEX_TRUE: Property = Property::safety(
    "a leader's match index is true",
    "a leader counts a follower as holding its log up to m only while the follower's log agrees up to m",
);
/// A leader of term t counts a follower up to m only if that follower acknowledged at least m in term t.
pub const MATCH_INDEX_ACKNOWLEDGED: Property = Property::safety(
    "a leader's match index rests on an acknowledgment of its term",
    "a leader of term t counts a follower up to m only if that follower acknowledged at least m in term t",
);
/// No node applies an entry above its commit index.
pub const ONLY_COMMITTED_APPLIED: Property = Property::safety(
    "only committed entries are applied",
    "no node applies an entry above its commit index",
);
/// No two nodes apply different entries at the same index.
pub const STATE_MACHINE_SAFETY: Property = Property::safety(
    "state machine safety",
    "no two nodes apply different entries at the same index",
);
/// A restarted node remembers its vote and every entry it acknowledged.
pub const PERSISTED_STATE_SURVIVES: Property = Property::safety(
    "persisted state survives restarts",
    "a restarted node remembers its vote and every entry it acknowledged",
);
/// At most one leader per term.
pub const ELECTION_SAFETY: Property =
    Property::safety("election safety", "at most one leader per term");
/// A leader's log holds every entry committed in earlier terms.
pub const LEADER_COMPLETENESS: Property = Property::safety(
    "leader completeness",
    "a leader's log holds every entry committed in earlier terms",
);
/// No node's commit index goes down, across restarts too.
pub const COMMIT_NEVER_DECREASES: Property = Property::safety(
    "commit index never decreases",
    "no node's commit index goes down, across restarts too",
);
/// An entry counted committed is in the logs of a majority.
pub const COMMITTED_HELD_BY_MAJORITY: Property = Property::safety(
    "committed entries are held by a majority",
    "an entry counted committed is in the logs of a majority",
);
/// Every leader elected after an entry committed holds it.
pub const COMMITTED_SURVIVE_ELECTIONS: Property = Property::safety(
    "committed entries survive every election",
    "every leader elected after an entry committed holds it",
);
/// Progress while faults persist (see [`super::progress`]).
pub const PROGRESS_UNDER_FAULTS: Property = super::progress::PROGRESS_UNDER_FAULTS;

/// Every property the Raft checker asserts.
pub const PROPERTIES: [Property; 15] = [
    WELL_FORMED_EVENTS,
    TERMS_NEVER_DECREASE,
    LOG_MATCHING,
    COMMITTED_NEVER_LOST,
    MATCH_INDEX_TRUE,
    MATCH_INDEX_ACKNOWLEDGED,
    ONLY_COMMITTED_APPLIED,
    STATE_MACHINE_SAFETY,
    PERSISTED_STATE_SURVIVES,
    ELECTION_SAFETY,
    LEADER_COMPLETENESS,
    COMMIT_NEVER_DECREASES,
    COMMITTED_HELD_BY_MAJORITY,
    COMMITTED_SURVIVE_ELECTIONS,
    PROGRESS_UNDER_FAULTS,
];

/// The incremental state of the safety checks.
#[derive(Debug, Default)]
pub struct Checker {
    leaders: BTreeMap<Term, u8>,
    chains: BTreeMap<(Index, Term), u64>,
    logs: Vec<Vec<(Term, u64)>>,
    committed: Vec<u64>,
    /// Per committed index: the term of the node that first committed it (the committing
    /// leader's). Leader completeness binds leaders of later terms only.
    commit_terms: Vec<Term>,
    applied: Vec<u64>,
    terms: Vec<Term>,
    commits: Vec<Index>,
    /// Per node: the highest log index it acknowledged that is still in its log, and its chain.
    acked: Vec<(Index, u64)>,
    /// Per node, by ascending term: each term in which it acknowledged AppendEntries, and the
    /// highest index it acknowledged in that term. One entry per term a node follows a leader
    /// in, so it grows only at elections.
    acks: Vec<Vec<(Term, Index)>>,
    /// Per follower: the last match index a leader recorded for it, as (leader's term, index).
    matched: Vec<(Term, Index)>,
    /// Per node: its last vote (term, candidate).
    votes: Vec<Option<(Term, u8)>>,
    /// Leaders elected so far (a "sometimes" count).
    pub elections: u64,
    /// Reused event buffer (the per-step check does not allocate).
    pending: Vec<Event>,
    /// Liveness while faults persist.
    progress: super::progress::Progress,
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
            ..Checker::default()
        }
    }

    /// Drains the observer's events and checks each.
    pub fn check(
        &mut self,
        observer: &Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        let mut pending = std::mem::take(&mut self.pending);
        observer.drain_into(&mut pending);
        let result = pending
            .drain(..)
            .try_for_each(|event| self.event(event, ctx));
        self.pending = pending;
        result?;
        self.progress.check(observer, ctx)
    }

    /// Length of `node`'s log as last published.
    pub fn log_len(&self, node: usize) -> usize {
        self.logs.get(node).map_or(0, Vec::len)
    }

    /// The index known committed so far.
    pub fn committed_index(&self) -> Index {
        self.committed.len() as Index
    }

    fn node_log(&mut self, node: u8) -> Result<&mut Vec<(Term, u64)>, Violation> {
        self.logs
            .get_mut(usize::from(node))
            .ok_or_else(|| WELL_FORMED_EVENTS.violated(format!("event from unknown node n{node}")))
    }

    fn term_seen(&mut self, node: u8, term: Term, what: &str) -> Result<(), Violation> {
        let i = usize::from(node);
        if term < self.terms[i] {
            return Err(TERMS_NEVER_DECREASE.violated(format!(
                "n{node} {what} with term {term} after having reached term {}",
                self.terms[i]
            )));
        }
        self.terms[i] = term;
        Ok(())
    }

    fn check_chain(
        &mut self,
        node: u8,
        index: Index,
        term: Term,
        chain: u64,
    ) -> Result<(), Violation> {
        let known = *self.chains.entry((index, term)).or_insert(chain);
        if known != chain {
            return Err(LOG_MATCHING.violated(format!(
                "n{node} holds an entry at index {index} of term {term} whose log prefix differs \
                     from another node's entry with the same index and term"
            )));
        }
        Ok(())
    }

    /// Checks one event (public so tests can feed hand-made sequences).
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
                self.term_seen(node, term, "restarted")?;
                self.persisted(node, term, voted_for, &log)?;
                for (i, (t, chain)) in log.iter().enumerate() {
                    self.check_chain(node, i as Index + 1, *t, *chain)?;
                }
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
                let log = self.node_log(node)?;
                log.truncate(index.saturating_sub(1) as usize);
                log.push((term, chain));
                self.check_chain(node, index, term, chain)?;
            }
            Event::Truncated { node, from } => {
                let committed = self.committed.len() as Index;
                let log = self.node_log(node)?;
                if from >= 1 && from <= committed {
                    let held = log.get(from as usize - 1).copied();
                    if let Some((term, chain)) = held {
                        if chain == self.committed[from as usize - 1] {
                            return Err(COMMITTED_NEVER_LOST.violated(format!(
                                    "n{node} truncated its log from index {from}, removing the committed entry \
                                     {from} (term {term}); entries up to {committed} are committed"
                                ),
                            ));
                        }
                    }
                }
                let (term, matched) = self.matched[usize::from(node)];
                if term == self.terms[usize::from(node)] && from >= 1 && from <= matched {
                    let leader = self
                        .leaders
                        .get(&term)
                        .map_or("?".to_string(), |l| format!("n{l}"));
                    return Err(MATCH_INDEX_TRUE.violated(format!(
                            "n{node} truncated its log from index {from} in term {term}, while {leader}, \
                             leader of term {term}, counts it as holding its log up to index {matched}"
                        ),
                    ));
                }
                let log = self.node_log(node)?;
                log.truncate(from.saturating_sub(1) as usize);
                let keep = from.saturating_sub(1);
                let chain = keep
                    .checked_sub(1)
                    .and_then(|i| log.get(i as usize))
                    .map_or(0, |e| e.1);
                let acked = &mut self.acked[usize::from(node)];
                if acked.0 > keep {
                    *acked = (keep, chain);
                }
            }
            Event::Committed { node, index } => self.commit(node, index)?,
            Event::Matched {
                leader,
                term,
                follower,
                index,
            } => self.matched(leader, term, follower, index)?,
            Event::Voted {
                node,
                term,
                candidate,
            } => {
                self.node_log(node)?;
                self.votes[usize::from(node)] = Some((term, candidate));
            }
            Event::Acked {
                node,
                term,
                index,
                chain,
            } => {
                self.node_log(node)?;
                // Terms only rise, so this is a push or an update of the last entry; a term
                // forgotten by a power loss (a planted bug) may go back, hence the search.
                let acks = &mut self.acks[usize::from(node)];
                match acks.binary_search_by_key(&term, |a| a.0) {
                    Ok(k) => acks[k].1 = acks[k].1.max(index),
                    Err(k) => acks.insert(k, (term, index)),
                }
                let acked = &mut self.acked[usize::from(node)];
                if index >= acked.0 {
                    *acked = (index, chain);
                }
            }
            Event::Applied { node, index, entry } => {
                self.node_log(node)?;
                let i = usize::from(node);
                if index > self.commits[i] {
                    return Err(ONLY_COMMITTED_APPLIED.violated(format!(
                        "n{node} applied index {index} while its commit index is {}",
                        self.commits[i]
                    )));
                }
                let len = self.applied.len() as Index;
                if index >= 1 && index <= len {
                    if self.applied[index as usize - 1] != entry {
                        return Err(STATE_MACHINE_SAFETY.violated(format!("n{node} applied a different entry at index {index} than another node applied there"),
                        ));
                    }
                } else if index == len + 1 {
                    self.applied.push(entry);
                }
            }
        }
        Ok(())
    }

    /// Figure 2: term, vote and log are on stable storage before the node answers an RPC, so a
    /// restart recovers at least what the node promised.
    fn persisted(
        &mut self,
        node: u8,
        term: Term,
        voted_for: Option<u8>,
        log: &[(Term, u64)],
    ) -> Result<(), Violation> {
        let i = usize::from(node);
        if let Some((vote_term, candidate)) = self.votes[i] {
            if term == vote_term && voted_for != Some(candidate) {
                return Err(PERSISTED_STATE_SURVIVES.violated(format!(
                    "n{node} voted for n{candidate} in term {term} but restarted in term {term} \
                         without that vote"
                )));
            }
        }
        let (acked, chain) = self.acked[i];
        if acked > 0 && log.get(acked as usize - 1).map(|e| e.1) != Some(chain) {
            return Err(PERSISTED_STATE_SURVIVES.violated(format!(
                "n{node} acknowledged log entries up to index {acked} but restarted with {} \
                     entries that do not include them",
                log.len()
            )));
        }
        Ok(())
    }

    fn new_leader(
        &mut self,
        node: u8,
        term: Term,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        if let Some(other) = self.leaders.get(&term) {
            if *other != node {
                return Err(ELECTION_SAFETY.violated(format!("n{node} became leader of term {term}, but n{other} was already leader of term {term}"),
                ));
            }
        }
        self.leaders.insert(term, node);
        self.elections += 1;
        ctx.trace.line(
            ctx.now,
            format_args!("n{node} became leader of term {term}"),
        );
        // Figure 3: an entry committed in term t is in the log of every leader of a term
        // after t. (A candidate of an earlier term may still win on late votes, and it need
        // not hold what a later leader committed.) Chain digests make the last such entry
        // stand for its whole prefix.
        let c = self
            .commit_terms
            .iter()
            .rposition(|t| *t < term)
            .map_or(0, |p| p + 1);
        if c > 0 {
            let log = &self.logs[usize::from(node)];
            let ok = log
                .get(c - 1)
                .is_some_and(|(_, chain)| *chain == self.committed[c - 1]);
            if !ok {
                return Err(LEADER_COMPLETENESS.violated(format!(
                        "n{node} became leader of term {term} with {} log entries, but its log does not hold \
                         every entry committed in earlier terms (up to index {c})",
                        log.len()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn commit(&mut self, node: u8, index: Index) -> Result<(), Violation> {
        self.node_log(node)?;
        let i = usize::from(node);
        if index <= self.commits[i] {
            return Err(COMMIT_NEVER_DECREASES.violated(format!(
                "n{node} moved its commit index from {} to {index}",
                self.commits[i]
            )));
        }
        self.commits[i] = index;
        let log = &self.logs[i];
        if (log.len() as Index) < index {
            return Err(COMMITTED_NEVER_LOST.violated(format!(
                "n{node} committed index {index} but holds only {} entries",
                log.len()
            )));
        }
        let c = self.committed.len();
        let m = c.min(index as usize);
        if m > 0 && log[m - 1].1 != self.committed[m - 1] {
            // Find the first differing index for the report: the first committed entry lost.
            let first = (0..m)
                .find(|k| log[*k].1 != self.committed[*k])
                .map_or(m, |k| k + 1);
            return Err(COMMITTED_NEVER_LOST.violated(format!(
                    "n{node} committed index {index}, but its entry at index {first} (term {}) differs from \
                     the entry already committed there",
                    log[first - 1].0
                ),
            ));
        }
        if index as usize > c {
            self.held_by_majority(node, index)?;
            self.committed
                .extend(self.logs[i][c..index as usize].iter().map(|e| e.1));
            let term = self.terms[i];
            self.commit_terms.resize(index as usize, term);
            self.survives_elections(node, index)?;
        }
        Ok(())
    }

    /// Raft's up-to-date order (§5.4.1): last term, then length.
    fn up_to_date(log: &[(Term, u64)]) -> (Term, usize) {
        (log.last().map_or(0, |e| e.0), log.len())
    }

    /// Leader completeness, looked at from the commit instead of from the next election: no
    /// node whose log lacks the newly committed entry may be at least as up to date as a
    /// majority, for it could then win an election and overwrite the entry. In correct Raft
    /// every holder's last term is at least the entry's, and any log with a later last term
    /// (or as long, with the same) was built on top of it, so only nodes that lack it vote for
    /// such a node — a minority. A leader that commits an earlier term's entry by counting
    /// replicas (the Raft paper's Figure 8) is caught here at once, before a rival wins.
    fn survives_elections(&self, node: u8, index: Index) -> Result<(), Violation> {
        let k = index as usize - 1;
        let chain = self.committed[k];
        let majority = self.logs.len() / 2 + 1;
        for (n, log) in self.logs.iter().enumerate() {
            if log.get(k).is_some_and(|e| e.1 == chain) {
                continue;
            }
            let me = Self::up_to_date(log);
            let votes = self
                .logs
                .iter()
                .filter(|l| Self::up_to_date(l) <= me)
                .count();
            if votes >= majority {
                return Err(COMMITTED_SURVIVE_ELECTIONS.violated(format!(
                        "n{node} committed index {index}, but n{n}'s log lacks that entry and is at least as \
                         up to date (last term {}, {} entries) as {votes} of {} nodes: it can be elected and \
                         overwrite it",
                        me.0,
                        me.1,
                        self.logs.len()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A leader raised its match index for `follower` to `index`. In correct Raft it does so
    /// only on a reply of its own term, so the follower acknowledged at least `index` in that
    /// term: a match index with no such acknowledgment behind it (a reply from an earlier
    /// term, a guess) is caught here, at once, whatever the logs hold. O(log terms).
    /// And a follower still in that term has since taken entries only from this leader, which
    /// never conflict with what it acknowledged: so the two logs agree up to `index` (chain
    /// digests make the entry there stand for the whole prefix). A follower that forgets or
    /// truncates what it acknowledged breaks this before any commit rests on it.
    fn matched(
        &mut self,
        leader: u8,
        term: Term,
        follower: u8,
        index: Index,
    ) -> Result<(), Violation> {
        self.node_log(leader)?;
        self.node_log(follower)?;
        let f = usize::from(follower);
        let acks = &self.acks[f];
        let found = acks.binary_search_by_key(&term, |a| a.0);
        if found.map_or(true, |k| acks[k].1 < index) {
            let what = match found {
                Ok(k) => format!("acknowledged only up to index {} in term {term}", acks[k].1),
                Err(0) => format!("acknowledged nothing in term {term} nor before it"),
                Err(k) => format!(
                    "acknowledged nothing in term {term} (its last acknowledgment before it: index {} \
                     in term {})",
                    acks[k - 1].1,
                    acks[k - 1].0
                ),
            };
            return Err(MATCH_INDEX_ACKNOWLEDGED.violated(format!(
                    "n{leader}, leader of term {term}, counts n{follower} as holding its log up to index \
                     {index}, but n{follower} {what}"
                ),
            ));
        }
        if term < self.matched[f].0 {
            return Ok(());
        }
        self.matched[f] = (term, index);
        if self.terms[f] != term || index == 0 {
            return Ok(());
        }
        let k = index as usize - 1;
        let theirs = self.logs[f].get(k);
        if theirs.map(|e| e.1) != self.logs[usize::from(leader)].get(k).map(|e| e.1) {
            return Err(MATCH_INDEX_TRUE.violated(format!(
                    "n{leader}, leader of term {term}, counts n{follower} as holding its log up to index \
                     {index}, but n{follower} (in term {term}) {}",
                    match theirs {
                        Some((t, _)) => format!("holds a different entry there (term {t})"),
                        None => format!("holds only {} entries", self.logs[f].len()),
                    }
                ),
            ));
        }
        Ok(())
    }

    /// An entry is committed only once a majority stores it (what makes it survive every
    /// later election). Only a simulator can check this at the instant of the commit: it sees
    /// every node's log at once. Chain digests make the newly committed top entry stand for
    /// its whole prefix. O(nodes), and only when the committed prefix grows.
    fn held_by_majority(&self, node: u8, index: Index) -> Result<(), Violation> {
        let k = index as usize - 1;
        let chain = self.logs[usize::from(node)][k].1;
        let holders = self
            .logs
            .iter()
            .filter(|log| log.get(k).is_some_and(|e| e.1 == chain))
            .count();
        let majority = self.logs.len() / 2 + 1;
        if holders < majority {
            return Err(COMMITTED_HELD_BY_MAJORITY.violated(format!(
                "n{node} committed index {index}, but only {holders} of {} nodes hold that entry \
                     (a majority is {majority})",
                self.logs.len()
            )));
        }
        Ok(())
    }

    /// The liveness condition: every node up, one leader of the highest term that everyone
    /// follows, an entry of its term committed, every node applied up to its commit index with
    /// equal state.
    pub fn liveness(&self, observer: &Observer) -> Liveness {
        let reg = observer.0.borrow();
        let nodes = &reg.nodes;
        if let Some(down) = nodes.iter().position(|v| !v.up) {
            return Liveness::Waiting(format!("n{down} is down"));
        }
        let top = nodes.iter().map(|v| v.term).max().unwrap_or(0);
        let leaders: Vec<usize> = (0..nodes.len())
            .filter(|i| nodes[*i].role == Role::Leader && nodes[*i].term == top)
            .collect();
        let leader = match leaders.as_slice() {
            [l] => *l,
            [] => return Liveness::Waiting(format!("no leader in term {top}")),
            _ => return Liveness::Waiting(format!("several leaders in term {top}")),
        };
        let lv = &nodes[leader];
        for (i, v) in nodes.iter().enumerate() {
            if v.term != top || v.leader != Some(leader as u8) {
                return Liveness::Waiting(format!(
                    "n{i} does not follow leader n{leader} of term {top}"
                ));
            }
        }
        if lv.commit < lv.term_start {
            return Liveness::Waiting(format!(
                "leader n{leader} has not committed an entry of term {top}"
            ));
        }
        for (i, v) in nodes.iter().enumerate() {
            if v.applied != lv.commit {
                return Liveness::Waiting(format!(
                    "n{i} has applied up to index {}, the leader committed up to {}",
                    v.applied, lv.commit
                ));
            }
            if v.state_digest != lv.state_digest {
                return Liveness::Waiting(format!(
                    "n{i}'s state differs from leader n{leader}'s at index {}",
                    v.applied
                ));
            }
        }
        Liveness::Live
    }
}

#[cfg(test)]
mod tests {
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
        };
        for e in events {
            checker.event(e, &mut ctx)?;
        }
        Ok(())
    }

    fn property(events: Vec<Event>) -> String {
        run(events).expect_err("a violation").property
    }

    fn leader(node: u8, term: Term) -> Event {
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
    fn committed(node: u8, index: Index) -> Event {
        Event::Committed { node, index }
    }

    #[test]
    fn election_safety() {
        assert!(run(vec![leader(0, 1), leader(1, 2), leader(1, 2)]).is_ok());
        assert_eq!(
            property(vec![leader(0, 1), leader(1, 1)]),
            "election safety"
        );
    }

    #[test]
    fn log_matching() {
        assert!(run(vec![
            appended(0, 1, 1, 10),
            appended(1, 1, 1, 10),
            appended(2, 1, 2, 20)
        ])
        .is_ok());
        assert_eq!(
            property(vec![appended(0, 1, 1, 10), appended(1, 1, 1, 11)]),
            "log matching"
        );
    }

    fn committed_entry_on_two_nodes() -> Vec<Event> {
        vec![
            leader(0, 1),
            appended(0, 1, 1, 10),
            appended(1, 1, 1, 10),
            committed(0, 1),
        ]
    }

    #[test]
    fn leader_completeness() {
        let mut ok = committed_entry_on_two_nodes();
        ok.push(leader(1, 2));
        assert!(run(ok).is_ok());
        let mut bad = committed_entry_on_two_nodes();
        bad.push(leader(2, 2));
        assert_eq!(property(bad), "leader completeness");
    }

    #[test]
    fn leader_completeness_binds_later_terms_only() {
        // n0 commits index 1 in term 2; n2's candidacy of term 1 then wins on late votes
        // (chaos found this in the correct store): it need not hold a later term's entries.
        assert!(run(late_commit_then(1)).is_ok());
        assert_eq!(property(late_commit_then(3)), "leader completeness");
    }

    /// n0 commits index 1 in term 2, then n2 (holding nothing) becomes leader of `leader_term`.
    fn late_commit_then(leader_term: Term) -> Vec<Event> {
        vec![
            leader(0, 2),
            appended(0, 1, 2, 10),
            appended(1, 1, 2, 10),
            committed(0, 1),
            leader(2, leader_term),
        ]
    }

    #[test]
    fn committed_entries_are_never_lost() {
        // n2 held a different entry at the committed index: truncating it is fine.
        let mut ok = committed_entry_on_two_nodes();
        ok.extend([
            appended(2, 1, 0, 99),
            Event::Truncated { node: 2, from: 1 },
            appended(2, 1, 1, 10),
            committed(2, 1),
        ]);
        assert!(run(ok).is_ok());
        let mut truncated = committed_entry_on_two_nodes();
        truncated.push(Event::Truncated { node: 1, from: 1 });
        assert_eq!(property(truncated), "committed entries are never lost");
        let mut contradicted = committed_entry_on_two_nodes();
        contradicted.extend([appended(2, 1, 2, 20), committed(2, 1)]);
        assert_eq!(property(contradicted), "committed entries are never lost");
    }

    #[test]
    fn committed_entries_are_held_by_a_majority() {
        // Two of three nodes hold entry 1 when n0 commits it: fine.
        assert!(run(committed_entry_on_two_nodes()).is_ok());
        // n1 holds a different entry at index 1 (the stale acknowledgement of the planted
        // stale-append-reply bug vouches for it): n0 alone holds what it commits.
        assert_eq!(
            property(vec![
                leader(0, 3),
                appended(0, 1, 3, 10),
                appended(1, 1, 1, 11),
                committed(0, 1),
            ]),
            "committed entries are held by a majority"
        );
    }

    #[test]
    fn committed_entries_survive_every_election() {
        // n2 holds nothing: every holder's log is more up to date than its, so it cannot win.
        assert!(run(committed_entry_on_two_nodes()).is_ok());
        // Figure 8: n2 holds index 1 of term 2 when n0 commits the term-1 entry there by
        // counting n0 and n1. n2's last term beats theirs; it can be elected and overwrite it.
        let mut figure8 = vec![appended(2, 1, 2, 20)];
        figure8.extend(committed_entry_on_two_nodes());
        assert_eq!(
            property(figure8),
            "committed entries survive every election"
        );
    }

    #[test]
    fn state_machine_safety() {
        let apply = |node, entry| Event::Applied {
            node,
            index: 1,
            entry,
        };
        // Both nodes hold and commit entry 1 (the checker sees chains, not commands), then
        // apply it: the same entry digest passes, a different one is a violation.
        let setup = || {
            vec![
                appended(0, 1, 1, 10),
                appended(1, 1, 1, 10),
                committed(0, 1),
                committed(1, 1),
            ]
        };
        let mut same = setup();
        same.extend([apply(0, 5), apply(1, 5)]);
        assert!(run(same).is_ok());
        let mut different = setup();
        different.extend([apply(0, 5), apply(1, 6)]);
        assert_eq!(property(different), "state machine safety");
    }

    #[test]
    fn terms_and_commit_indices_never_decrease() {
        let restarted = |term| Event::Restarted {
            node: 0,
            incarnation: 1,
            term,
            voted_for: None,
            log: vec![(1, 10)],
            torn_bytes: 0,
        };
        let follower = |term| Event::Role {
            node: 0,
            role: Role::Follower,
            term,
        };
        assert!(run(vec![follower(3), restarted(3), follower(4)]).is_ok());
        assert_eq!(
            property(vec![follower(5), restarted(3)]),
            "terms never decrease"
        );
        assert!(run(vec![
            appended(0, 1, 1, 10),
            appended(1, 1, 1, 10),
            committed(0, 1),
            restarted(1),
            committed(0, 1)
        ])
        .is_ok());
        assert_eq!(
            property(vec![
                appended(0, 1, 1, 10),
                appended(0, 2, 1, 11),
                appended(1, 1, 1, 10),
                appended(1, 2, 1, 11),
                committed(0, 2),
                committed(0, 1)
            ]),
            "commit index never decreases"
        );
    }
}

#[cfg(test)]
mod match_tests {
    use super::tests::{appended, run};
    use super::*;

    fn role(node: u8, role: Role, term: Term) -> Event {
        Event::Role { node, role, term }
    }
    fn matched(index: Index) -> Event {
        Event::Matched {
            leader: 0,
            term: 3,
            follower: 1,
            index,
        }
    }

    /// n1 acknowledges up to `index` in `term`.
    fn ack(term: Term, index: Index) -> Event {
        Event::Acked {
            node: 1,
            term,
            index,
            chain: 10,
        }
    }

    /// n0 leads term 3 with two entries; n1, in term 3, holds the first (the second from an
    /// earlier term's leader).
    fn cluster() -> Vec<Event> {
        vec![
            role(0, Role::Leader, 3),
            role(1, Role::Follower, 3),
            appended(0, 1, 2, 10),
            appended(0, 2, 3, 11),
            appended(1, 1, 2, 10),
            appended(1, 2, 1, 99),
        ]
    }

    #[test]
    fn a_match_rests_on_an_acknowledgment_of_the_leaders_term() {
        let mut ok = cluster();
        ok.extend([ack(2, 2), ack(3, 1), matched(1)]);
        assert!(run(ok).is_ok());
        // n1 has moved on since: its acknowledgment in term 3 still counts.
        let mut moved_on = cluster();
        moved_on.extend([ack(3, 1), role(1, Role::Follower, 4), ack(4, 1), matched(1)]);
        assert!(run(moved_on).is_ok());
        // No acknowledgment at all; one of an earlier term only (a stale reply); too short a
        // one in the leader's term.
        let mut never = cluster();
        never.push(matched(1));
        let mut earlier = cluster();
        earlier.extend([ack(2, 2), matched(1)]);
        let mut short = cluster();
        short.extend([ack(3, 1), matched(2)]);
        let mut later = cluster();
        later.extend([ack(2, 2), role(1, Role::Follower, 4), ack(4, 2), matched(2)]);
        for events in [never, earlier, short, later] {
            assert_eq!(
                run(events).expect_err("a violation").property,
                "a leader's match index rests on an acknowledgment of its term"
            );
        }
    }

    #[test]
    fn a_true_match_passes_and_a_false_one_is_caught() {
        let mut ok = cluster();
        ok.extend([ack(3, 1), matched(1)]);
        assert!(run(ok).is_ok());
        // A follower in another term is not bound (its later entries may replace these).
        let mut elsewhere = cluster();
        elsewhere.extend([ack(3, 2), role(1, Role::Candidate, 4), matched(2)]);
        assert!(run(elsewhere).is_ok());
        // n1 acknowledged index 2 yet holds a different entry there; or, without it, too few
        // entries (a follower that forgot what it acknowledged).
        let mut stale = cluster();
        stale.extend([ack(3, 2), matched(2)]);
        let mut short = cluster();
        short.remove(5);
        short.extend([ack(3, 2), matched(2)]);
        for events in [stale, short] {
            assert_eq!(
                run(events).expect_err("a violation").property,
                "a leader's match index is true"
            );
        }
    }

    #[test]
    fn a_follower_may_not_truncate_below_its_match_in_that_term() {
        let mut kept = cluster();
        kept.extend([ack(3, 1), matched(1), Event::Truncated { node: 1, from: 2 }]);
        assert!(run(kept).is_ok());
        let mut lost = cluster();
        lost.extend([ack(3, 1), matched(1), Event::Truncated { node: 1, from: 1 }]);
        assert_eq!(
            run(lost).expect_err("a violation").property,
            "a leader's match index is true"
        );
    }
}

#[cfg(test)]
mod persistence_tests {
    use super::tests::run;
    use super::*;

    fn restarted(term: Term, voted_for: Option<u8>, log: Vec<(Term, u64)>) -> Event {
        Event::Restarted {
            node: 1,
            incarnation: 1,
            term,
            voted_for,
            log,
            torn_bytes: 0,
        }
    }

    #[test]
    fn a_granted_vote_survives_a_restart() {
        let voted = Event::Voted {
            node: 1,
            term: 2,
            candidate: 0,
        };
        assert!(run(vec![voted.clone(), restarted(2, Some(0), vec![])]).is_ok());
        assert!(run(vec![voted.clone(), restarted(3, None, vec![])]).is_ok());
        let lost = run(vec![voted, restarted(2, None, vec![])]).expect_err("a violation");
        assert_eq!(lost.property, "persisted state survives restarts");
    }

    #[test]
    fn acknowledged_entries_survive_a_restart() {
        let appended = |index, chain| Event::Appended {
            node: 1,
            index,
            term: 1,
            chain,
        };
        let acked = Event::Acked {
            node: 1,
            term: 1,
            index: 2,
            chain: 11,
        };
        let before = vec![appended(1, 10), appended(2, 11), acked];
        let mut kept = before.clone();
        kept.push(restarted(1, None, vec![(1, 10), (1, 11)]));
        assert!(run(kept).is_ok());
        let mut lost = before.clone();
        lost.push(restarted(1, None, vec![(1, 10)]));
        assert_eq!(
            run(lost).expect_err("a violation").property,
            "persisted state survives restarts"
        );
        // Entries truncated at a real conflict are no longer promised.
        let mut truncated = before;
        truncated.extend([
            Event::Truncated { node: 1, from: 2 },
            restarted(1, None, vec![(1, 10)]),
        ]);
        assert!(run(truncated).is_ok());
    }

    #[test]
    fn only_committed_entries_are_applied() {
        let applied = Event::Applied {
            node: 1,
            index: 1,
            entry: 5,
        };
        let err = run(vec![applied]).expect_err("a violation");
        assert_eq!(err.property, "only committed entries are applied");
    }
}
