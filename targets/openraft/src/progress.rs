//! Progress while faults persist, a liveness property: once the faults have been steady for
//! a bound and some majority of running nodes is fully connected (every link between them
//! healthy both ways), the cluster must have elected a leader that commits.
//!
//! "Has a leader that commits" means: some running node is leader, has committed an entry of
//! its own term (openraft commits a blank entry on election, so this needs a quorum's
//! acknowledgements in that term), and has links both ways to a quorum (its quorum need not
//! be fully connected: followers only need to hear the leader). The last part keeps a deposed
//! leader cut off on the minority side from passing for one. The check reads the harness's
//! fault state ([`squall::systems::Faults`]) and nothing else of it.
//!
//! A failure is reported as liveness ([`Violation::liveness`]), not safety: nothing wrong was
//! done, something expected did not happen in time. The time allowed depends on the faults in
//! force; [`Bound`] derives it, and says when nothing can be asserted at all.

use crate::node;
use crate::observe::{self, Observer};
use crate::store::FSYNC;
use crate::types::Metrics;
use squall::check::Violation;
use squall::scenario::{NodeId, NodeSet};
use squall::sim::runner::RunConfig;
use squall::systems::{Faults, StepContext};
use std::time::Duration;

/// The name the property is reported under.
pub const PROPERTY: &str = "progress under faults";

/// Progress that took at least this long is noted in the trace.
const NEWS: Duration = Duration::from_millis(100);

/// How unlikely a false alarm may be, per fault state that outlasts the bound. Only such
/// states can raise one: about one generated scenario in 60 holds a fault state for 4.9 s
/// or more, so a nightly campaign (some 4 x 10^5 scenarios) sees a few thousand, and at
/// 10^-4 it raises less than one false alarm a night. A stall that does not end by itself
/// is caught whatever the bound, as soon as a fault state outlasts it.
pub const FALSE_ALARM: f64 = 1e-4;

/// The chance that an election round fails without any loss, to a split vote: measured, an
/// upper estimate. `cargo run --release -p squall-openraft --example progress_bound`
/// isolates (or bridges) the leader in 1,000 runs per cluster size: without loss at most
/// 8.3% of the failovers needed a second election (6 nodes, bridged), and at most a tenth of
/// those a third (4 nodes, isolated: 7 of 67) (README.md, "Liveness bounds"). Rounds fail
/// independently (each draws fresh timeouts), so the tail is geometric.
pub const SPLIT_VOTE: f64 = 0.1;

/// How long the check allows a steady fault state to elect a leader that commits, and why.
///
/// After the faults settle, a fully connected majority elects and commits in three parts:
///
/// 1. **The old leader's lease.** A voter that heard a leader refuses votes (and pre-votes)
///    for `election_timeout_max` after it last did; the old leader may have been heard right
///    up to the moment the faults changed. [`Bound::lease`]. If a running node outside the
///    connected set still reaches one of its members, it may be an old leader that keeps
///    renewing that member's lease: with openraft's quorum-loss probe
///    ([`node::QUORUM_LOSS_PROBE`]) it falls silent once its own lease on a quorum (another
///    `election_timeout_max`) has run out, so a *bridged* majority waits two leases. Without
///    the probe (releases before alpha.35, or `--mutant no-quorum-loss-probe`) the old leader
///    never falls silent and the check reports the stall
///    (docs/findings/002-openraft-leader-lease-blocks-connected-majority.md).
/// 2. **Election rounds.** A round is one election timer firing (at most
///    `election_timeout_max` after the last round) followed by three round trips — pre-vote,
///    vote (persisted before the answer), the blank entry replicated and acknowledged — and
///    the fsync of that entry. A round trip on a healthy link is two one-way latencies of at
///    most `RunConfig::max_latency`, plus a tick each way for the step the messages are seen
///    in. [`Bound::round`].
/// 3. **Rounds that fail.** Without loss a round fails to a split vote (two timers firing
///    within a round trip), with probability at most [`SPLIT_VOTE`]. With loss `p` in force
///    a round also fails if too few voters answer: a voter helps only if its pre-vote and its
///    vote both make the round trip, probability `s = (1 - p)^4`, and the candidate needs
///    `majority - 1` of the `c - 1` other members of the largest fully connected set, so
///    loss spoils a round with probability at most `l = P(Binomial(c - 1, s) < majority - 1)`.
///    A round fails with probability at most `f = 1 - (1 - SPLIT_VOTE)(1 - l)`, and
///    `ceil(ln FALSE_ALARM / ln f)` rounds make "every round failed" less likely than
///    [`FALSE_ALARM`]: four without loss, 6 to 21 s worth under 5–10% loss. Loss of replication traffic only delays a round
///    (openraft resends AppendEntries without waiting for a new election), which the round's
///    length covers.
///
/// Latency above the normal range is not modelled: it cannot be, because openraft gives each
/// RPC a deadline of ¾ of the heartbeat interval (90 ms here) and a slow link's round trip
/// (100 ms and more) exceeds it, so a leader behind slow links may never collect an
/// acknowledgement while its heartbeats still arrive and keep its followers from electing
/// anyone else. Raft's timing assumption (broadcast time well below the election timeout)
/// does not hold, and the check asserts nothing while any link between running nodes is slow.
/// The same goes for per-message delays (held back up to 2 s, longer than an election
/// timeout). Duplication and garbage frames are harmless to elections and change nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    /// Part 1: a voter's lease on the old leader.
    pub lease: Duration,
    /// Part 2: the longest an election round takes.
    pub round: Duration,
}

impl Bound {
    /// The bound for the adapter's configuration ([`node::config`]) on squall's default
    /// network ([`RunConfig::default`]).
    pub fn for_adapter() -> Self {
        let config = node::config(false, true);
        let net = RunConfig::default();
        let timeout_max = Duration::from_millis(config.election_timeout_max);
        let round_trip = 2 * net.max_latency + 2 * net.tick;
        Bound {
            lease: timeout_max,
            round: timeout_max + 3 * round_trip + FSYNC,
        }
    }

    /// Election rounds to allow with `loss_percent` loss in force, when the largest fully
    /// connected set of running nodes has `connected` members and a quorum is `majority`;
    /// `u32::MAX` when no round can succeed.
    pub fn rounds(loss_percent: u8, connected: usize, majority: usize) -> u32 {
        let p = f64::from(loss_percent.min(100)) / 100.0;
        let helps = (1.0 - p).powi(4);
        let spoiled = binomial_below(connected.saturating_sub(1), helps, majority - 1);
        let fails = 1.0 - (1.0 - SPLIT_VOTE) * (1.0 - spoiled);
        if fails >= 1.0 {
            return u32::MAX;
        }
        let rounds = (FALSE_ALARM.ln() / fails.ln()).ceil();
        // A small whole number, or saturated when a round almost never succeeds.
        rounds.min(f64::from(u32::MAX)) as u32
    }

    /// The time allowed: the lease (two if `bridged`) and `rounds` election rounds.
    pub fn allowed(&self, rounds: u32, bridged: bool) -> Duration {
        let leases = if bridged { 2 } else { 1 };
        (self.lease * leases).saturating_add(self.round.saturating_mul(rounds))
    }
}

/// `P(X < k)` for `X ~ Binomial(n, s)`.
fn binomial_below(n: usize, s: f64, k: usize) -> f64 {
    let mut total = 0.0;
    let mut choose = 1.0; // C(n, i)
    for i in 0..k.min(n + 1) {
        total += choose * s.powi(i as i32) * (1.0 - s).powi((n - i) as i32);
        choose = choose * (n - i) as f64 / (i + 1) as f64;
    }
    total.min(1.0)
}

/// What the check concluded about one fault state.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Nothing to assert: no fully connected majority, or faults Raft's timing cannot absorb.
    Nothing,
    /// A leader that commits within this long.
    Within(Duration),
}

/// The progress check's memory.
pub struct Progress {
    n: usize,
    bound: Bound,
    /// Report a missed bound as a violation (off: only note in the trace when progress came).
    enforce: bool,
    /// The fault state last analysed (its `changes`: two changes at one instant leave
    /// `since` equal), and what it expects.
    analysed: Option<(u64, Expect)>,
    /// Whether the current fault state has already seen a leader that commits.
    satisfied: bool,
}

impl Progress {
    /// Fresh memory for `n` nodes; `enforce: false` measures without judging.
    pub fn new(n: u8, enforce: bool) -> Self {
        Progress {
            n: usize::from(n),
            bound: Bound::for_adapter(),
            enforce,
            analysed: None,
            satisfied: false,
        }
    }

    fn majority(&self) -> usize {
        self.n / 2 + 1
    }

    /// Whether a running node outside `set` reaches a member of it (a possible old leader
    /// that keeps the member leased).
    fn bridged(&self, faults: &Faults, set: NodeSet) -> bool {
        (0..self.n as u8).any(|x| {
            let reaches = |m: u8| faults.reach[usize::from(x)][usize::from(m)];
            !set.contains(x) && faults.up[usize::from(x)] && set.iter().any(reaches)
        })
    }

    /// Whether a link between two running nodes carries frames, but slower than normal.
    fn has_slow_link(&self, faults: &Faults) -> bool {
        (0..self.n).any(|a| {
            (0..self.n)
                .any(|b| faults.up[a] && faults.up[b] && faults.reach[a][b] && !faults.links[a][b])
        })
    }

    /// What a fault state lets the check expect (see [`Bound`]).
    fn expect(&self, faults: &Faults) -> Expect {
        let Some(set) = faults.connected_majority() else {
            return Expect::Nothing;
        };
        if faults.delay_percent > 0 || self.has_slow_link(faults) {
            return Expect::Nothing;
        }
        let rounds = Bound::rounds(faults.loss_percent, set.len(), self.majority());
        if rounds == u32::MAX {
            return Expect::Nothing;
        }
        Expect::Within(self.bound.allowed(rounds, self.bridged(faults, set)))
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
        let expect = match self.analysed {
            Some((changes, expect)) if changes == faults.changes => expect,
            _ => {
                let expect = self.expect(faults);
                self.analysed = Some((faults.changes, expect));
                self.satisfied = false;
                expect
            }
        };
        let Expect::Within(bound) = expect else {
            return Ok(());
        };
        if self.satisfied {
            return Ok(());
        }
        // A leader counts if it has links both ways, healthy or only slow, to a quorum. (Its
        // quorum need not be fully connected: followers need only hear the leader.)
        let leads = |(i, m): &(usize, Metrics)| {
            observe::leads_and_commits(m) && faults.reaches_majority(*i as NodeId)
        };
        let leader = observer.running().into_iter().find(leads);
        let steady = ctx.now.saturating_sub(faults.since);
        if let Some((i, m)) = leader {
            let term = m.current_term;
            self.satisfied = true;
            // A leader that had already committed when the faults changed is not news.
            if steady < NEWS {
                return Ok(());
            }
            ctx.trace.line(
                ctx.now,
                format_args!(
                    "progress: n{i} leads term {term} and commits, {:.2}s after the faults \
                     settled (bound {:.2}s)",
                    steady.as_secs_f64(),
                    bound.as_secs_f64()
                ),
            );
            return Ok(());
        }
        if self.enforce && steady > bound {
            let cut: Vec<String> = (0..self.n)
                .flat_map(|a| (0..self.n).map(move |b| (a, b)))
                .filter(|&(a, b)| a != b && !faults.links[a][b])
                .map(|(a, b)| format!("n{a}->n{b}"))
                .collect();
            let down: Vec<String> = (0..self.n)
                .filter(|&i| !faults.up[i])
                .map(|i| format!("n{i}"))
                .collect();
            return Err(Violation::liveness(
                PROPERTY,
                format!(
                    "a majority has been fully connected for {:.1}s (down: [{}], broken links: \
                     [{}], loss {}%) without a leader that commits; the bound for these \
                     faults is {:.1}s",
                    steady.as_secs_f64(),
                    down.join(" "),
                    cut.join(" "),
                    faults.loss_percent,
                    bound.as_secs_f64()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_loss_the_bound_is_the_lease_and_four_rounds() {
        let b = Bound::for_adapter();
        // 800 ms timeout, round trip 2 × 25 + 2 × 10 = 70 ms, fsync 15 ms.
        assert_eq!(b.lease, Duration::from_millis(800));
        assert_eq!(b.round, Duration::from_millis(800 + 3 * 70 + 15));
        // 0.1^4 = 10^-4: split votes alone decide, whatever the cluster.
        for (connected, majority) in [(2, 2), (3, 3), (6, 4), (7, 4)] {
            assert_eq!(Bound::rounds(0, connected, majority), 4);
        }
        assert_eq!(b.allowed(4, false), Duration::from_millis(4_900));
        assert_eq!(b.allowed(4, true), Duration::from_millis(5_700));
    }

    #[test]
    fn loss_adds_rounds_and_fewer_spare_voters_add_more() {
        let three = Bound::rounds(5, 3, 2);
        assert!(three > 4, "{three}");
        // Five nodes, all connected: 4 peers for 2 votes; only a bare majority: 2 for 2.
        let five_all = Bound::rounds(5, 5, 3);
        let five_bare = Bound::rounds(5, 3, 3);
        assert!(five_bare > five_all, "{five_bare} <= {five_all}");
        assert!(Bound::rounds(10, 3, 3) > five_bare);
    }

    #[test]
    fn total_loss_allows_no_bound() {
        assert_eq!(Bound::rounds(100, 7, 4), u32::MAX);
    }

    #[test]
    fn binomial_tail_matches_hand_computation() {
        // P(X < 2), X ~ Bin(3, 0.5) = (1 + 3) / 8.
        assert!((binomial_below(3, 0.5, 2) - 0.5).abs() < 1e-12);
        // P(X < 1), X ~ Bin(2, 0.9) = 0.01.
        assert!((binomial_below(2, 0.9, 1) - 0.01).abs() < 1e-12);
        assert_eq!(binomial_below(2, 0.9, 0), 0.0);
    }

    fn healthy(n: usize) -> Faults {
        Faults {
            up: vec![true; n],
            links: vec![vec![true; n]; n],
            reach: vec![vec![true; n]; n],
            ..Faults::default()
        }
    }

    #[test]
    fn slow_links_and_delays_suspend_the_check() {
        let p = Progress::new(3, true);
        let mut f = healthy(3);
        assert_eq!(p.expect(&f), Expect::Within(Duration::from_millis(4_900)));
        f.links[0][1] = false; // slow: still reaches
        assert_eq!(p.expect(&f), Expect::Nothing);
        let mut f = healthy(3);
        f.delay_percent = 2;
        assert_eq!(p.expect(&f), Expect::Nothing);
    }

    #[test]
    fn a_cut_minority_still_expects_progress_but_a_cut_majority_does_not() {
        let p = Progress::new(5, true);
        let mut f = healthy(5);
        for x in [3, 4] {
            for y in 0..5 {
                if x != y {
                    f.links[x][y] = false;
                    f.links[y][x] = false;
                    f.reach[x][y] = false;
                    f.reach[y][x] = false;
                }
            }
        }
        // n3 and n4 reach nobody: the majority {n0 n1 n2} waits one lease.
        assert_eq!(p.expect(&f), Expect::Within(Duration::from_millis(4_900)));
        // n3 reaches n2 again (n3-n0 and n3-n1 stay cut): a bridge, two leases.
        f.reach[3][2] = true;
        f.reach[2][3] = true;
        f.links[3][2] = true;
        f.links[2][3] = true;
        assert_eq!(p.expect(&f), Expect::Within(Duration::from_millis(5_700)));
        f.up[2] = false;
        assert_eq!(p.expect(&f), Expect::Nothing);
    }
}
