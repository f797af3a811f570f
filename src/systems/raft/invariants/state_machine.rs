//! Commit and apply: the commit index only rises, only committed entries are applied, and no
//! two nodes apply different entries at one index (Figure 3, state machine safety).

use super::{Checker, Index};
use crate::check::Violation;
use crate::systems::Property;

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
/// No node's commit index goes down, across restarts too.
pub const COMMIT_NEVER_DECREASES: Property = Property::safety(
    "commit index never decreases",
    "no node's commit index goes down, across restarts too",
);

impl Checker {
    /// `node` moved its commit index to `index`: up, within this incarnation (a restart
    /// starts it from 0 again).
    pub(super) fn commit_rises(&mut self, node: u8, index: Index) -> Result<(), Violation> {
        let i = usize::from(node);
        if index <= self.commits[i] {
            return Err(COMMIT_NEVER_DECREASES.violated(format!(
                "n{node} moved its commit index from {} to {index}",
                self.commits[i]
            )));
        }
        self.commits[i] = index;
        Ok(())
    }

    /// `node` applied the entry with digest `entry` at `index`.
    pub(super) fn applied(&mut self, node: u8, index: Index, entry: u64) -> Result<(), Violation> {
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
                return Err(STATE_MACHINE_SAFETY.violated(format!(
                    "n{node} applied a different entry at index {index} than another node applied there"
                )));
            }
        } else if index == len + 1 {
            self.applied.push(entry);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{appended, committed, property, run};
    use crate::systems::raft::observer::Event;

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
    fn commit_indices_never_decrease_within_an_incarnation() {
        let restarted = |term| Event::Restarted {
            node: 0,
            incarnation: 1,
            term,
            voted_for: None,
            log: vec![(1, 10)],
            torn_bytes: 0,
        };
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
