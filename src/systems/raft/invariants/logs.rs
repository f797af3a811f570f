//! The logs and what is committed in them: log matching, committed entries never lost, held
//! by a majority when committed, surviving every election, and in every later leader's log
//! (Figure 3; §5.3, §5.4).
//!
//! Chain digests (see [`crate::systems::raft::log`]) make the entry at an index stand for the
//! whole prefix ending there, so each check compares one digest, not a log.

use super::{Checker, Index, Term};
use crate::check::Violation;
use crate::systems::Property;

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
/// A leader's log holds every entry committed in earlier terms.
pub const LEADER_COMPLETENESS: Property = Property::safety(
    "leader completeness",
    "a leader's log holds every entry committed in earlier terms",
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

impl Checker {
    /// Log matching: the first chain digest seen at (`index`, `term`) is the only one allowed.
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

    /// `node` appended an entry at `index`, replacing any from there on.
    pub(super) fn appended(
        &mut self,
        node: u8,
        index: Index,
        term: Term,
        chain: u64,
    ) -> Result<(), Violation> {
        let log = &mut self.logs[usize::from(node)];
        log.truncate(index.saturating_sub(1) as usize);
        log.push((term, chain));
        self.check_chain(node, index, term, chain)
    }

    /// `node` restarted with `log`: every recovered entry matches what any node held there.
    pub(super) fn recovered_log_matches(
        &mut self,
        node: u8,
        log: &[(Term, u64)],
    ) -> Result<(), Violation> {
        for (i, (t, chain)) in log.iter().enumerate() {
            self.check_chain(node, i as Index + 1, *t, *chain)?;
        }
        Ok(())
    }

    /// `node` is about to truncate its log from `from`: not if that removes a committed entry
    /// it holds (a different entry at a committed index may go).
    pub(super) fn truncation_keeps_committed(
        &self,
        node: u8,
        from: Index,
    ) -> Result<(), Violation> {
        let committed = self.committed.len() as Index;
        let log = &self.logs[usize::from(node)];
        if from >= 1 && from <= committed {
            let held = log.get(from as usize - 1).copied();
            if let Some((term, chain)) = held {
                if chain == self.committed[from as usize - 1] {
                    return Err(COMMITTED_NEVER_LOST.violated(format!(
                        "n{node} truncated its log from index {from}, removing the committed entry \
                                     {from} (term {term}); entries up to {committed} are committed"
                    )));
                }
            }
        }
        Ok(())
    }

    /// `node` committed up to `index`: its log holds that much, agrees with what is already
    /// committed, and, if this extends the committed prefix, the new entries are held by a
    /// majority and survive every election.
    pub(super) fn commit_keeps_committed(
        &mut self,
        node: u8,
        index: Index,
    ) -> Result<(), Violation> {
        let i = usize::from(node);
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
            )));
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

    /// Figure 3: an entry committed in term t is in the log of every leader of a term after
    /// t. (A candidate of an earlier term may still win on late votes, and it need not hold
    /// what a later leader committed.) Chain digests make the last such entry stand for its
    /// whole prefix.
    pub(super) fn leader_complete(&self, node: u8, term: Term) -> Result<(), Violation> {
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
                )));
            }
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
                )));
            }
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
}

#[cfg(test)]
mod tests {
    use super::super::tests::{appended, committed, leader, property, run};
    use crate::systems::raft::messages::Term;
    use crate::systems::raft::observer::Event;

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
}
