//! Progress while faults persist: once the faults have been steady for [`BOUND`] and some
//! majority of running nodes is fully connected (every link between them healthy both
//! ways), the cluster must have elected a leader that commits.
//!
//! "Has a leader that commits" means: some running node is leader, has committed an entry of
//! its own term (openraft commits a blank entry on election, so this needs a quorum's
//! acknowledgements in that term), and has healthy links both ways to a quorum (its quorum
//! need not be fully connected: followers only need to hear the leader). The last part keeps
//! a deposed leader cut off on the minority side from passing for one. The check reads
//! the harness's fault state ([`squall::systems::Faults`]) and nothing else of it.
//!
//! Message loss above [`MAX_LOSS`] percent suspends the check: progress is still expected, but
//! not within a bound worth asserting.

use crate::observe::Observer;
use openraft::rt::WatchReceiver;
use openraft::ServerState;
use squall::check::Violation;
use squall::systems::{Faults, StepContext};
use std::time::Duration;

/// How long a fully connected majority may take to elect a leader and commit. An election
/// takes one election timeout (at most 800 ms) plus a pre-vote and a vote round trip; split
/// votes retry with fresh random timeouts. 3 s allows for a few rounds.
pub const BOUND: Duration = Duration::from_secs(3);

/// Loss above this (percent) suspends the check.
pub const MAX_LOSS: u8 = 10;

/// The progress check's memory.
pub struct Progress {
    n: usize,
    /// The fault state last analysed (its `since`), and whether it has a fully connected
    /// majority of running nodes.
    analysed: Option<(Duration, bool)>,
    /// Whether the current fault state has already seen a leader that commits.
    satisfied: bool,
}

impl Progress {
    /// Fresh memory for `n` nodes.
    pub fn new(n: u8) -> Self {
        Progress {
            n: usize::from(n),
            analysed: None,
            satisfied: false,
        }
    }

    fn majority(&self) -> usize {
        self.n / 2 + 1
    }

    /// Whether `set` (a bit set of nodes) is fully connected and running.
    fn connected(faults: &Faults, set: u32) -> bool {
        let members: Vec<usize> = (0..faults.up.len())
            .filter(|i| set & (1 << i) != 0)
            .collect();
        members.iter().all(|&a| {
            faults.up[a]
                && members
                    .iter()
                    .all(|&b| faults.links[a][b] && faults.links[b][a])
        })
    }

    /// Whether some majority is fully connected (at most 2^7 subsets).
    fn has_connected_majority(&self, faults: &Faults) -> bool {
        (0u32..1 << self.n)
            .filter(|s| s.count_ones() as usize >= self.majority())
            .any(|s| Self::connected(faults, s))
    }

    /// Whether node `i` has links both ways, healthy or only slow, to enough running nodes to
    /// form a quorum with itself. (Its quorum need not be fully connected: followers need only
    /// hear the leader.)
    fn has_quorum(&self, faults: &Faults, i: usize) -> bool {
        let reachable = (0..self.n)
            .filter(|&j| j != i && faults.up[j] && faults.reach[i][j] && faults.reach[j][i])
            .count();
        faults.up[i] && reachable + 1 >= self.majority()
    }

    /// Checks after one step.
    pub fn step(
        &mut self,
        observer: &Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        let faults = ctx.faults;
        if faults.up.len() != self.n {
            return Ok(());
        }
        let expected = match self.analysed {
            Some((since, expected)) if since == faults.since => expected,
            _ => {
                let expected = self.has_connected_majority(faults);
                self.analysed = Some((faults.since, expected));
                self.satisfied = false;
                expected
            }
        };
        // Delayed messages cost elections as lost ones do, and more unevenly.
        if !expected || self.satisfied || faults.loss_percent > MAX_LOSS || faults.delay_percent > 0
        {
            return Ok(());
        }
        let leaders: Vec<(usize, u64)> = observer.with_all(|nodes| {
            nodes
                .iter()
                .enumerate()
                .filter(|(_, v)| v.up)
                .filter_map(|(i, v)| {
                    let m = v.metrics.as_ref()?.borrow_watched();
                    let committed_in_term = m
                        .local_committed
                        .is_some_and(|c| c.leader_id.term == m.current_term);
                    (m.state == ServerState::Leader && committed_in_term)
                        .then_some((i, m.current_term))
                })
                .collect()
        });
        if leaders.iter().any(|&(i, _)| self.has_quorum(faults, i)) {
            self.satisfied = true;
            return Ok(());
        }
        let steady = ctx.now.saturating_sub(faults.since);
        if steady > BOUND {
            let cut: Vec<String> = (0..self.n)
                .flat_map(|a| (0..self.n).map(move |b| (a, b)))
                .filter(|&(a, b)| a != b && !faults.links[a][b])
                .map(|(a, b)| format!("n{a}->n{b}"))
                .collect();
            let down: Vec<String> = (0..self.n)
                .filter(|&i| !faults.up[i])
                .map(|i| format!("n{i}"))
                .collect();
            return Err(Violation::new(
                "progress under faults",
                format!(
                    "a majority has been fully connected for {:.1}s (down: [{}], broken links: \
                     [{}], loss {}%) without a leader that commits",
                    steady.as_secs_f64(),
                    down.join(" "),
                    cut.join(" "),
                    faults.loss_percent
                ),
            ));
        }
        Ok(())
    }
}
