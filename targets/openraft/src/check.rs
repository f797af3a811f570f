//! Raft's safety properties, checked after every simulation step, incrementally.
//!
//! What is read: each node's openraft metrics (term, role, committed log id), its durable log
//! (only the positions that changed since the last step), and the entries its state machine
//! applied since the last step. What is remembered between steps is summarized, so one step
//! costs what changed, not the size of the logs:
//!
//! - *election safety* (Raft §5.2): at most one leader per term — `leaders`;
//! - *log matching* (§5.3): two entries with the same index and term hold the same command
//!   and follow entries of the same term — `seen`, by `(index, term)`; by induction the logs
//!   are identical up to there;
//! - *committed entries never change*: every committed log id any node ever reported agrees —
//!   `committed`, and `canon`, the committed prefix with its contents;
//! - *committed entries are stored on a majority*: the highest committed entry is durable on
//!   a majority of the voters at every step, and a node never loses a committed entry it held
//!   (`holds`);
//! - *state-machine safety* (§5.4.3): no two nodes apply different entries at one index, and
//!   no node applies anything but the committed entry — `applied`.

use crate::observe::{Observer, Rec};
use openraft::rt::WatchReceiver;
use openraft::ServerState;
use squall::check::Violation;
use squall::systems::StepContext;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The invariants' memory.
pub struct Checker {
    n: usize,
    /// term → its leader.
    leaders: BTreeMap<u64, usize>,
    /// (index, term) → (term of the entry before, command).
    seen: BTreeMap<(u64, u64), (u64, Rc<str>)>,
    /// index → term of every committed log id reported.
    committed: BTreeMap<u64, u64>,
    /// The committed prefix, with contents, as far as some node's durable log showed it.
    canon: Vec<Rec>,
    /// Per node: length of the prefix of its durable log known to equal `canon`.
    holds: Vec<usize>,
    /// The first entry applied at each index (by any node).
    applied: Vec<Rec>,
    /// Per node: the leader it followed at the last step, for the trace.
    last_leader: Vec<Option<(u64, u64)>>,
    /// The highest leader term seen, for phase and liveness.
    pub(crate) max_term: u64,
}

impl Checker {
    /// Fresh memory for `n` nodes.
    pub fn new(n: u8) -> Self {
        let n = usize::from(n);
        Checker {
            n,
            leaders: BTreeMap::new(),
            seen: BTreeMap::new(),
            committed: BTreeMap::new(),
            canon: Vec::new(),
            holds: vec![0; n],
            applied: Vec::new(),
            last_leader: vec![None; n],
            max_term: 0,
        }
    }

    fn majority(&self) -> usize {
        self.n / 2 + 1
    }

    /// Checks everything after one step.
    pub fn step(
        &mut self,
        observer: &Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        observer.with_all(|nodes| {
            for (i, view) in nodes.iter_mut().enumerate() {
                let Some(metrics) = &view.metrics else {
                    continue;
                };
                let m = metrics.borrow_watched().clone();
                // Election safety.
                if m.state == ServerState::Leader {
                    let term = m.current_term;
                    self.max_term = self.max_term.max(term);
                    match self.leaders.get(&term) {
                        Some(&other) if other != i => {
                            return Err(Violation::new(
                                "election safety",
                                format!("n{other} and n{i} are both leader in term {term}"),
                            ))
                        }
                        Some(_) => {}
                        None => {
                            self.leaders.insert(term, i);
                            ctx.trace
                                .line(ctx.now, format_args!("n{i} is leader in term {term}"));
                        }
                    }
                }
                let leader = m.current_leader.map(|l| (m.current_term, l));
                if leader != self.last_leader[i] {
                    self.last_leader[i] = leader;
                }
                // Committed log ids never disagree.
                for c in [m.local_committed, m.cluster_committed]
                    .into_iter()
                    .flatten()
                {
                    let term = c.leader_id.term;
                    match self.committed.get(&c.index) {
                        Some(&t) if t != term => {
                            return Err(Violation::new(
                                "committed entries never change",
                                format!(
                                    "n{i} reports index {} committed in term {term}, \
                                     earlier reported committed in term {t}",
                                    c.index
                                ),
                            ))
                        }
                        Some(_) => {}
                        None => {
                            self.committed.insert(c.index, term);
                        }
                    }
                }
            }
            // Log matching, over what changed in each durable log.
            for (i, view) in nodes.iter_mut().enumerate() {
                let Some(from) = view.dirty_from.take() else {
                    continue;
                };
                for (k, rec) in view.durable.iter().enumerate().skip(from) {
                    let prev = if k == 0 { 0 } else { view.durable[k - 1].term };
                    let key = (k as u64, rec.term);
                    match self.seen.get(&key) {
                        Some((p, what)) if *p != prev || *what != rec.what => {
                            return Err(Violation::new(
                                "log matching",
                                format!(
                                    "n{i} holds `{}` at index {k} term {} after term {prev}; \
                                     another log holds `{what}` there after term {p}",
                                    rec.what, rec.term
                                ),
                            ))
                        }
                        Some(_) => {}
                        None => {
                            self.seen.insert(key, (prev, rec.what.clone()));
                        }
                    }
                }
                // A node never loses a committed entry it held.
                if from < self.holds[i] {
                    let keep = self.holds[i];
                    if let Some(k) =
                        (from..keep).find(|&k| view.durable.get(k) != self.canon.get(k))
                    {
                        return Err(Violation::new(
                            "committed entries never lost",
                            format!(
                                "n{i} held committed entry {k} `{}` (term {}) and no longer does",
                                self.canon[k].what, self.canon[k].term
                            ),
                        ));
                    }
                }
            }
            // Extend the committed prefix from any durable log that shows the highest
            // committed id.
            if let Some((&index, &term)) = self.committed.last_key_value() {
                let top = index as usize;
                if self.canon.len() <= top {
                    if let Some(view) = nodes
                        .iter()
                        .find(|v| v.durable.get(top).is_some_and(|r| r.term == term))
                    {
                        let from = self.canon.len();
                        self.canon.extend_from_slice(&view.durable[from..=top]);
                        for k in from..=top {
                            if let Some(a) = self.applied.get(k) {
                                if *a != self.canon[k] {
                                    return Err(Violation::new(
                                        "state machine safety",
                                        format!(
                                            "`{}` was applied at index {k}, but `{}` (term {}) \
                                             is committed there",
                                            a.what, self.canon[k].what, self.canon[k].term
                                        ),
                                    ));
                                }
                            }
                        }
                    }
                }
                // The highest committed entry is durable on a majority.
                let on = nodes
                    .iter()
                    .filter(|v| v.durable.get(top).is_some_and(|r| r.term == term))
                    .count();
                if on < self.majority() {
                    let holders: Vec<String> = nodes
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| v.durable.get(top).is_some_and(|r| r.term == term))
                        .map(|(i, _)| format!("n{i}"))
                        .collect();
                    return Err(Violation::new(
                        "committed entries are stored on a majority",
                        format!(
                            "index {index} (term {term}) is committed but durable only on [{}] \
                             of {} voters",
                            holders.join(" "),
                            self.n
                        ),
                    ));
                }
            }
            // Which nodes hold how much of the committed prefix.
            for (i, view) in nodes.iter().enumerate() {
                let mut h = self.holds[i].min(view.durable.len());
                while h < self.canon.len() && view.durable.get(h) == self.canon.get(h) {
                    h += 1;
                }
                self.holds[i] = h;
            }
            // State-machine safety.
            for (i, view) in nodes.iter_mut().enumerate() {
                for (index, rec) in view.applied.drain(..) {
                    let k = index as usize;
                    if let Some(c) = self.canon.get(k) {
                        if *c != rec {
                            return Err(Violation::new(
                                "state machine safety",
                                format!(
                                    "n{i} applied `{}` (term {}) at index {k}, but `{}` \
                                     (term {}) is committed there",
                                    rec.what, rec.term, c.what, c.term
                                ),
                            ));
                        }
                    }
                    match self.applied.get(k) {
                        Some(a) if *a != rec => {
                            return Err(Violation::new(
                                "state machine safety",
                                format!(
                                    "n{i} applied `{}` (term {}) at index {k}, another node \
                                     applied `{}` (term {})",
                                    rec.what, rec.term, a.what, a.term
                                ),
                            ))
                        }
                        Some(_) => {}
                        None if k == self.applied.len() => self.applied.push(rec),
                        None => {
                            return Err(Violation::new(
                                "state machine safety",
                                format!(
                                    "n{i} applied index {k} before anyone applied index {}",
                                    self.applied.len()
                                ),
                            ))
                        }
                    }
                }
            }
            Ok(())
        })
    }
}
