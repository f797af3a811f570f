//! Replication bookkeeping: what a leader believes its followers hold (its match indices,
//! §5.3), held to what those followers acknowledged and to what their logs really hold.

use super::{Checker, Index, Term};
use crate::check::Violation;
use crate::systems::Property;

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

impl Checker {
    /// `node` acknowledged AppendEntries up to `index` in `term`.
    pub(super) fn acknowledged(&mut self, node: u8, term: Term, index: Index, chain: u64) {
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

    /// `node` is about to truncate its log from `from`: not below what the leader of its
    /// current term counts it as holding.
    pub(super) fn truncation_keeps_match(&self, node: u8, from: Index) -> Result<(), Violation> {
        let (term, matched) = self.matched[usize::from(node)];
        if term == self.terms[usize::from(node)] && from >= 1 && from <= matched {
            let leader = self
                .leaders
                .get(&term)
                .map_or("?".to_string(), |l| format!("n{l}"));
            return Err(MATCH_INDEX_TRUE.violated(format!(
                "n{node} truncated its log from index {from} in term {term}, while {leader}, \
                             leader of term {term}, counts it as holding its log up to index {matched}"
            )));
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
    pub(super) fn matched(
        &mut self,
        leader: u8,
        term: Term,
        follower: u8,
        index: Index,
    ) -> Result<(), Violation> {
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
            )));
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
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{appended, run};
    use crate::systems::raft::messages::{Index, Term};
    use crate::systems::raft::observer::{Event, Role};

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
