//! The runner's side of clock faults: every node's [`Clock`], the `skew`, `spread clocks`,
//! `drift` and `heal clocks` steps applied to them, and the effect counts that show how far the clocks went
//! apart.
//!
//! Divergence is measured on the wall clocks, the readings nodes compare with each other:
//! the largest difference between two nodes' wall clocks at any instant of the run. Between
//! two changes every wall clock is linear in true time, so the largest spread in that span is
//! at one of its ends: sampling just before and just after each change, and at the end, finds
//! the maximum exactly without looking at every tick.

use crate::node::Clock;
use crate::scenario::NodeId;
use std::time::Duration;

/// The clocks of a run's nodes.
pub(super) struct Clocks {
    clocks: Vec<Clock>,
    /// Clock changes made (`spread clocks` changes every node's).
    changes: u64,
    /// Largest spread between two wall clocks seen, in nanoseconds.
    divergence: i128,
}

impl Clocks {
    /// Healthy clocks for `nodes` nodes.
    pub fn new(nodes: u8) -> Clocks {
        Clocks {
            clocks: (0..nodes).map(Clock::simulated).collect(),
            changes: 0,
            divergence: 0,
        }
    }

    /// Node `n`'s clock, for its [`NodeContext`](crate::node::NodeContext).
    pub fn of(&self, n: NodeId) -> Clock {
        self.clocks[usize::from(n)].clone()
    }

    /// `skew nX ±MS` at true time `t`.
    pub fn skew(&mut self, n: NodeId, offset_ms: i32, t: Duration) {
        self.sample(t);
        self.clocks[usize::from(n)].set_offset(t, offset_ms);
        self.changes += 1;
        self.sample(t);
    }

    /// `spread clocks MS` at true time `t`: node `i` of `n` is set `MS · (2i - (n-1)) / (n-1)`
    /// off true time, from `-MS` for n0 to `+MS` for the last node (one change per node).
    pub fn spread(&mut self, ms: u32, t: Duration) {
        self.sample(t);
        let n = self.clocks.len() as i64;
        let ms = i64::from(ms);
        for (i, c) in self.clocks.iter().enumerate() {
            let offset = if n > 1 {
                ms * (2 * i as i64 - (n - 1)) / (n - 1)
            } else {
                0
            };
            c.set_offset(
                t,
                offset.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            );
            self.changes += 1;
        }
        self.sample(t);
    }

    /// `drift nX RATE` at true time `t`.
    pub fn drift(&mut self, n: NodeId, rate_ppm: u32, t: Duration) {
        self.sample(t);
        self.clocks[usize::from(n)].set_rate(t, rate_ppm);
        self.changes += 1;
        self.sample(t);
    }

    /// `heal clocks` at true time `t` (and the liveness phase's heal).
    pub fn heal(&mut self, t: Duration) {
        self.sample(t);
        for c in &self.clocks {
            c.heal(t);
        }
        self.sample(t);
    }

    /// Takes the spread between the wall clocks at `t` into the maximum.
    pub fn sample(&mut self, t: Duration) {
        let offsets = self.clocks.iter().map(|c| c.wall_offset_at(t));
        let (lo, hi) = offsets.fold((i128::MAX, i128::MIN), |(lo, hi), o| (lo.min(o), hi.max(o)));
        if hi >= lo {
            self.divergence = self.divergence.max(hi - lo);
        }
    }

    /// Clock changes made.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Readings nodes took while a fault showed in them ([`Clock::faulty_reads`]).
    pub fn faulty_reads(&self) -> u64 {
        self.clocks.iter().map(Clock::faulty_reads).sum()
    }

    /// Largest spread between two wall clocks, in whole milliseconds (rounded up).
    pub fn divergence_ms(&self) -> u64 {
        (self.divergence.max(0) as u128).div_ceil(1_000_000) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_is_the_widest_spread_of_the_wall_clocks_at_any_instant() {
        let mut c = Clocks::new(3);
        let s = Duration::from_secs;
        c.skew(0, 300, s(1));
        assert_eq!(c.divergence_ms(), 300);
        c.skew(1, -200, s(1));
        assert_eq!(c.divergence_ms(), 500);
        // n2 runs 10 % fast: after 10 s it is 1 s ahead of true time, 1.2 s ahead of n1.
        c.drift(2, 1_100_000, s(1));
        c.sample(s(11));
        assert_eq!(c.divergence_ms(), 1_200);
        c.heal(s(11));
        assert_eq!((c.changes(), c.divergence_ms()), (3, 1_200));
        c.sample(s(20));
        assert_eq!(c.divergence_ms(), 1_200, "healed clocks agree again");
        assert_eq!(c.faulty_reads(), 0, "nobody read them");
        // Spread: -1 s, 0, +1 s.
        let mut c = Clocks::new(3);
        c.spread(1_000, s(1));
        assert_eq!(c.divergence_ms(), 2_000);
        assert_eq!(c.changes(), 3);
        assert_eq!(c.of(0).wall_offset_at(s(2)), -1_000_000_000);
        assert_eq!(c.of(1).wall_offset_at(s(2)), 0);
        assert_eq!(c.of(2).wall_offset_at(s(2)), 1_000_000_000);
    }
}
