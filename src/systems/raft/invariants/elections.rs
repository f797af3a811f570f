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

impl Checker {
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
