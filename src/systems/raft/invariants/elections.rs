//! Elections and durable state: at most one leader per term, terms that never go down, and a
//! vote or an acknowledged entry that survives a restart (Figure 2, Figure 3).

use super::{Checker, Index, Term};
use crate::check::Violation;
use crate::systems::{Property, StepContext};

/// At most one leader per term.
pub const ELECTION_SAFETY: Property =
    Property::safety("election safety", "at most one leader per term");
/// No node's current term ever goes down, across restarts too.
pub const TERMS_NEVER_DECREASE: Property = Property::safety(
    "terms never decrease",
    "no node's current term ever goes down, across restarts too",
);
/// A restarted node remembers its vote and every entry it acknowledged.
pub const PERSISTED_STATE_SURVIVES: Property = Property::safety(
    "persisted state survives restarts",
    "a restarted node remembers its vote and every entry it acknowledged",
);

/// A restarted node never uses a record that fails verification.
pub const CORRUPT_RECORDS_NEVER_TRUSTED: Property = Property::safety(
    "corrupt records are never trusted",
    "a restarted node recovers only log entries some node appended at that index, and after a corruption of its disk no term beyond the cluster's nor a vote for no node",
);

impl Checker {
    /// Detection: every entry `node` recovered is one some node appended at that index, with
    /// the same prefix (its chain digest). Only the last may be unknown: a node that crashes
    /// at a point right after writing an entry has not published it. A flipped bit in a
    /// record gives another digest, or a term nobody wrote there.
    pub(super) fn recovered_only_known_entries(
        &self,
        node: u8,
        log: &[(Term, u64)],
    ) -> Result<(), Violation> {
        for (i, (term, chain)) in log.iter().enumerate() {
            let index = i as Index + 1;
            let known = self.chains.get(&(index, *term));
            let ok = match known {
                Some(c) => c == chain,
                None => i + 1 == log.len(),
            };
            if !ok {
                return Err(CORRUPT_RECORDS_NEVER_TRUSTED.violated(format!(
                    "n{node} restarted with an entry at index {index} (term {term}) that no node \
                     appended there: a corrupt record used as valid"
                )));
            }
        }
        Ok(())
    }

    /// Detection for the term and vote of a node whose disk was corrupted (which may have
    /// forgotten them): no term beyond any the cluster reached (a candidate may have persisted
    /// one more before it could report it), no vote for a node that does not exist.
    pub(super) fn recovered_plausible_meta(
        &mut self,
        node: u8,
        term: Term,
        voted_for: Option<u8>,
    ) -> Result<(), Violation> {
        let highest = self.terms.iter().copied().max().unwrap_or(0);
        if term > highest + 1 {
            return Err(CORRUPT_RECORDS_NEVER_TRUSTED.violated(format!(
                "n{node} restarted in term {term}, beyond any term the cluster reached ({highest}): \
                 a corrupt term used as valid"
            )));
        }
        if let Some(c) = voted_for.filter(|c| usize::from(*c) >= self.terms.len()) {
            return Err(CORRUPT_RECORDS_NEVER_TRUSTED.violated(format!(
                "n{node} restarted with a vote for n{c}, which does not exist"
            )));
        }
        // What it recovered is its new baseline: later terms are held to it.
        self.terms[usize::from(node)] = term;
        Ok(())
    }

    /// `node` reports `term` (on a role change or a restart): never below what it reported.
    pub(super) fn term_seen(&mut self, node: u8, term: Term, what: &str) -> Result<(), Violation> {
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

    /// `node` became leader of `term`: the only one, ever; and (see [`super::logs`]) holding
    /// every entry committed in earlier terms.
    pub(super) fn new_leader(
        &mut self,
        node: u8,
        term: Term,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        if let Some(other) = self.leaders.get(&term) {
            if *other != node {
                return Err(ELECTION_SAFETY.violated(format!(
                    "n{node} became leader of term {term}, but n{other} was already leader of term {term}"
                )));
            }
        }
        self.leaders.insert(term, node);
        self.elections += 1;
        ctx.trace.line(
            ctx.now,
            format_args!("n{node} became leader of term {term}"),
        );
        self.leader_complete(node, term)
    }

    /// `node` granted its vote in `term` to `candidate`.
    pub(super) fn voted(&mut self, node: u8, term: Term, candidate: u8) {
        self.votes[usize::from(node)] = Some((term, candidate));
    }

    /// Figure 2: term, vote and log are on stable storage before the node answers an RPC, so a
    /// restart recovers at least what the node promised.
    pub(super) fn persisted(
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
        let (acked, chain): (Index, u64) = self.acked[i];
        if acked > 0 && log.get(acked as usize - 1).map(|e| e.1) != Some(chain) {
            return Err(PERSISTED_STATE_SURVIVES.violated(format!(
                "n{node} acknowledged log entries up to index {acked} but restarted with {} \
                     entries that do not include them",
                log.len()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{leader, property, run};
    use crate::systems::raft::messages::Term;
    use crate::systems::raft::observer::{Event, Role};

    #[test]
    fn election_safety() {
        assert!(run(vec![leader(0, 1), leader(1, 2), leader(1, 2)]).is_ok());
        assert_eq!(
            property(vec![leader(0, 1), leader(1, 1)]),
            "election safety"
        );
    }

    #[test]
    fn terms_never_decrease() {
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
    }

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

    /// Feeds `events` to a 3-node checker whose run corrupted `corrupted`'s disk.
    fn run_corrupted(events: Vec<Event>, corrupted: usize) -> Result<(), crate::check::Violation> {
        use crate::report::Trace;
        use crate::systems::{Faults, Selection, StepContext};
        let mut checker = super::super::Checker::new(3);
        let mut trace = Trace::new(false);
        let mut faults = Faults {
            corrupted: vec![false; 3],
            ..Faults::default()
        };
        faults.corrupted[corrupted] = true;
        let mut ctx = StepContext {
            step: 0,
            now: std::time::Duration::ZERO,
            trace: &mut trace,
            faults: &faults,
            selection: &Selection::all(),
        };
        for e in events {
            checker.event(e, &mut ctx)?;
        }
        Ok(())
    }

    #[test]
    fn a_node_whose_disk_was_corrupted_may_forget_but_never_invent() {
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
        let voted = Event::Voted {
            node: 1,
            term: 1,
            candidate: 0,
        };
        let before = vec![voted, appended(1, 10), appended(2, 11), acked];
        // Forgetting the vote and acknowledged entries is loss, not a false record: the
        // checks that assume an intact disk are suspended for the corrupted node only.
        let mut forgot = before.clone();
        forgot.push(restarted(0, None, vec![(1, 10)]));
        assert!(run_corrupted(forgot.clone(), 1).is_ok());
        assert_eq!(
            run_corrupted(forgot, 2)
                .expect_err("n1's disk is intact")
                .property,
            "persisted state survives restarts"
        );
        // An entry nobody appended, in the middle of the log: a corrupt record used.
        let mut invented = before.clone();
        invented.push(restarted(1, Some(0), vec![(1, 99), (1, 11)]));
        assert_eq!(
            run_corrupted(invented.clone(), 1)
                .expect_err("caught")
                .property,
            "corrupt records are never trusted"
        );
        assert_eq!(
            run(invented)
                .expect_err("caught whatever the disk")
                .property,
            "corrupt records are never trusted"
        );
        // The last entry may be one the node wrote but never published (it crashed at a
        // point right after the write).
        let mut unpublished = before.clone();
        unpublished.push(restarted(1, Some(0), vec![(1, 10), (1, 11), (1, 12)]));
        assert!(run(unpublished).is_ok());
        // A term far beyond the cluster's, or a vote for no node: a corrupt meta used.
        let mut term = before.clone();
        term.push(restarted(65, Some(0), vec![(1, 10), (1, 11)]));
        assert!(run_corrupted(term, 1).is_err());
        let mut vote = before;
        vote.push(restarted(1, Some(9), vec![(1, 10), (1, 11)]));
        assert!(run_corrupted(vote, 1).is_err());
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
}
