//! The node's clock: its local view of time, which a scenario can skew and drift.
//!
//! turmoil gives every host the same time; a real machine's clock is off by some offset and
//! runs a little fast or slow, and leases, timeouts, last-writer-wins timestamps and hybrid
//! logical clocks live or die by how far. So node code reads time only through its
//! [`Clock`] (`ctx.clock`), never through `std::time`:
//!
//! - [`Clock::now`], the **monotonic** clock (CLOCK_MONOTONIC, `std::time::Instant`): for
//!   timeouts and leases. It runs at the node's rate (`drift nX 1.05`: 5 % fast) and never
//!   jumps: a skew does not move it, as NTP's steps do not move a real monotonic clock.
//! - [`Clock::wall`], the **wall** clock (CLOCK_REALTIME, `SystemTime`): for timestamps other
//!   nodes compare (LWW, HLC). It runs at the same rate and also jumps: `skew nX -300ms` sets
//!   it to read 300 ms behind true time from that instant on, as an operator's `date -s` or
//!   an NTP step does.
//! - [`Clock::sleep_until`] and [`Clock::sleep`]: wait until the *local* monotonic clock reads
//!   a time; a drifting node's timers fire early or late in true time, as they would.
//!
//! In simulation, true time is turmoil's (`sim_elapsed`, which is exact inside a tick). A
//! node's clock is a linear function of it, re-based at each change: `local(t) = local(t0) +
//! (t - t0) · rate`. The state is the harness's, shared with every incarnation of the node
//! (a process crash does not reset the machine's clock), and changes only between simulation
//! steps, so readings are as deterministic as the simulation. On real sockets
//! ([`Clock::real`], the default) it is the machine's own clock.
//!
//! A healthy clock reads exactly what tokio's paused clock and turmoil's epoch read, so a
//! system that moves its timers onto this clock runs the same trace as before until a
//! scenario touches a clock.

use crate::scenario::NodeId;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

pub use crate::scenario::TRUE_RATE_PPM;

/// A node's clock. Cloning gives another handle to the same clock; hand one to any task the
/// node spawns. See the module docs.
#[derive(Clone, Default)]
pub struct Clock(Option<Rc<Shared>>);

/// The harness's state of one node's clock.
struct Shared {
    node: NodeId,
    segment: Cell<Segment>,
    /// Readings taken while a fault showed in them (see [`Clock::faulty_reads`]).
    faulty_reads: Cell<u64>,
    /// Wakes sleepers when the rate changes, so that they recompute their wake-up time.
    changed: tokio::sync::Notify,
}

/// The clock since its last change: both readings are linear in true time from `since` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    /// True time (simulated, since the run started) of the last change.
    since: Duration,
    /// The monotonic reading then, in nanoseconds on the same scale as `since`.
    mono: i128,
    /// The wall reading then, in nanoseconds since the run started (true wall time is the
    /// run's epoch plus `since`).
    wall: i128,
    /// Parts per million of true time's rate.
    rate_ppm: u32,
}

impl Segment {
    const HEALTHY: Segment = Segment {
        since: Duration::ZERO,
        mono: 0,
        wall: 0,
        rate_ppm: TRUE_RATE_PPM,
    };

    /// `d` of true time, in local nanoseconds.
    fn scale(&self, d: Duration) -> i128 {
        (d.as_nanos() as i128) * i128::from(self.rate_ppm) / i128::from(TRUE_RATE_PPM)
    }

    fn mono_at(&self, t: Duration) -> i128 {
        self.mono + self.scale(t.saturating_sub(self.since))
    }

    fn wall_at(&self, t: Duration) -> i128 {
        self.wall + self.scale(t.saturating_sub(self.since))
    }

    /// Whether both readings equal true time (every reading can take the fast path).
    fn is_true(&self) -> bool {
        let since = self.since.as_nanos() as i128;
        self.rate_ppm == TRUE_RATE_PPM && self.mono == since && self.wall == since
    }
}

/// Signed nanoseconds as a `Duration` to add (`true`) or subtract.
fn split(nanos: i128) -> (bool, Duration) {
    let magnitude = Duration::from_nanos(nanos.unsigned_abs().min(u128::from(u64::MAX)) as u64);
    (nanos >= 0, magnitude)
}

impl Clock {
    /// The machine's own clock (tokio's and the OS's): what a node on real sockets reads.
    pub fn real() -> Clock {
        Clock(None)
    }

    /// A simulated clock for node `node`, healthy until the harness changes it.
    pub(crate) fn simulated(node: NodeId) -> Clock {
        Clock(Some(Rc::new(Shared {
            node,
            segment: Cell::new(Segment::HEALTHY),
            faulty_reads: Cell::new(0),
            changed: tokio::sync::Notify::new(),
        })))
    }

    /// The node this clock belongs to (`None` for the real clock).
    pub fn node(&self) -> Option<NodeId> {
        self.0.as_ref().map(|s| s.node)
    }

    /// The monotonic clock's reading now, as a tokio `Instant` so that it compares with and
    /// adds to others from this clock. Do not pass it to tokio's own timers: under drift
    /// they would wait true time; wait with [`Clock::sleep_until`].
    pub fn now(&self) -> Instant {
        let tokio_now = Instant::now();
        let Some(shared) = &self.0 else {
            return tokio_now;
        };
        let segment = shared.segment.get();
        if segment.is_true() {
            return tokio_now;
        }
        let Some(t) = turmoil::sim_elapsed() else {
            return tokio_now;
        };
        if segment.rate_ppm != TRUE_RATE_PPM {
            shared.faulty_reads.set(shared.faulty_reads.get() + 1);
        }
        // tokio's paused clock runs with true time: shift it by how far the local clock has
        // run ahead of (or behind) true time.
        let (ahead, by) = split(segment.mono_at(t) - t.as_nanos() as i128);
        if ahead {
            tokio_now + by
        } else {
            tokio_now.checked_sub(by).unwrap_or(tokio_now)
        }
    }

    /// The wall clock's reading now.
    pub fn wall(&self) -> SystemTime {
        let Some(shared) = &self.0 else {
            return SystemTime::now();
        };
        let (Some(t), Some(since_epoch)) = (turmoil::sim_elapsed(), turmoil::since_epoch()) else {
            return SystemTime::now();
        };
        let true_wall = UNIX_EPOCH + since_epoch;
        let segment = shared.segment.get();
        if segment.is_true() {
            return true_wall;
        }
        let off = segment.wall_at(t) - t.as_nanos() as i128;
        if off != 0 || segment.rate_ppm != TRUE_RATE_PPM {
            shared.faulty_reads.set(shared.faulty_reads.get() + 1);
        }
        let (ahead, by) = split(off);
        if ahead {
            true_wall + by
        } else {
            true_wall.checked_sub(by).unwrap_or(UNIX_EPOCH)
        }
    }

    /// Waits until the monotonic clock reads `deadline` or later.
    pub async fn sleep_until(&self, deadline: Instant) {
        let Some(shared) = &self.0 else {
            return tokio::time::sleep_until(deadline).await;
        };
        loop {
            // Registered before the clock is read, so that a change after the reading wakes
            // this sleeper (the harness changes clocks only between steps, but a sleeper
            // created in one step sleeps across many).
            let changed = shared.changed.notified();
            let now = self.now();
            if now >= deadline {
                return;
            }
            let local = deadline - now;
            let rate = u128::from(shared.segment.get().rate_ppm.max(1));
            // True time for `local` of local time, rounded up: never wakes early.
            let nanos = (local.as_nanos() * u128::from(TRUE_RATE_PPM)).div_ceil(rate);
            let wait = Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64);
            tokio::select! {
                biased;
                () = tokio::time::sleep(wait) => {}
                () = changed => {}
            }
        }
    }

    /// Waits until the monotonic clock has advanced by `duration`.
    pub async fn sleep(&self, duration: Duration) {
        self.sleep_until(self.now() + duration).await
    }

    /// How many readings (monotonic or wall) this clock gave while a fault showed in them: a
    /// drifting rate, or a wall clock off true time. Zero for a system that never reads its
    /// clock, or reads it only when it is healthy: the clock faults did nothing to it.
    pub fn faulty_reads(&self) -> u64 {
        self.0.as_ref().map_or(0, |s| s.faulty_reads.get())
    }

    /// How far the wall clock reads ahead of true time at true time `t` (negative: behind),
    /// in nanoseconds.
    pub(crate) fn wall_offset_at(&self, t: Duration) -> i128 {
        self.0
            .as_ref()
            .map_or(0, |s| s.segment.get().wall_at(t) - t.as_nanos() as i128)
    }

    /// Its rate now, in parts per million of true time.
    pub fn rate_ppm(&self) -> u32 {
        self.0
            .as_ref()
            .map_or(TRUE_RATE_PPM, |s| s.segment.get().rate_ppm)
    }

    /// Re-bases the clock at true time `t` and applies `change` (the harness's side).
    fn change(&self, t: Duration, change: impl FnOnce(&mut Segment)) {
        let Some(shared) = &self.0 else { return };
        let old = shared.segment.get();
        let mut new = Segment {
            since: t,
            mono: old.mono_at(t),
            wall: old.wall_at(t),
            rate_ppm: old.rate_ppm,
        };
        change(&mut new);
        shared.segment.set(new);
        if new.rate_ppm != old.rate_ppm {
            shared.changed.notify_waiters();
        }
    }

    /// From true time `t` on, the wall clock reads `offset_ms` ahead of true time (behind if
    /// negative); the monotonic clock is untouched.
    pub(crate) fn set_offset(&self, t: Duration, offset_ms: i32) {
        self.change(t, |s| {
            s.wall = t.as_nanos() as i128 + i128::from(offset_ms) * 1_000_000;
        });
    }

    /// From true time `t` on, both clocks run at `rate_ppm` parts per million of true time.
    pub(crate) fn set_rate(&self, t: Duration, rate_ppm: u32) {
        self.change(t, |s| s.rate_ppm = rate_ppm.max(1));
    }

    /// From true time `t` on, the wall clock reads true time and both run at true rate; the
    /// monotonic clock keeps what it gained or lost (it never jumps).
    pub(crate) fn heal(&self, t: Duration) {
        self.change(t, |s| {
            s.wall = t.as_nanos() as i128;
            s.rate_ppm = TRUE_RATE_PPM;
        });
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => f.write_str("Clock(real)"),
            Some(s) => write!(f, "Clock(n{}, {:?})", s.node, s.segment.get()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn a_healthy_clock_reads_true_time() {
        let c = Clock::simulated(0);
        let s = c.0.as_ref().map(|s| s.segment.get()).expect("simulated");
        assert!(s.is_true());
        assert_eq!(s.mono_at(at(1234)), i128::from(1234 * MS));
        assert_eq!(c.wall_offset_at(at(1234)), 0);
    }

    #[test]
    fn drift_scales_both_readings_from_the_change_on_and_the_monotonic_clock_never_jumps() {
        let c = Clock::simulated(1);
        c.set_rate(at(1000), 1_100_000);
        let s = c.0.as_ref().map(|s| s.segment.get()).expect("simulated");
        assert_eq!(s.mono_at(at(1000)), i128::from(1000 * MS));
        assert_eq!(s.mono_at(at(2000)), i128::from(2100 * MS));
        assert_eq!(c.wall_offset_at(at(2000)), i128::from(100 * MS));
        // A skew steps the wall clock only.
        c.set_offset(at(2000), -300);
        let s = c.0.as_ref().map(|s| s.segment.get()).expect("simulated");
        assert_eq!(s.mono_at(at(2000)), i128::from(2100 * MS));
        assert_eq!(c.wall_offset_at(at(2000)), -i128::from(300 * MS));
        // ... which keeps drifting at the node's rate.
        assert_eq!(c.wall_offset_at(at(3000)), -i128::from(200 * MS));
        // Healing resets the wall clock and the rate; the monotonic clock keeps its lead.
        c.heal(at(3000));
        let s = c.0.as_ref().map(|s| s.segment.get()).expect("simulated");
        assert_eq!(c.wall_offset_at(at(4000)), 0);
        assert_eq!(s.mono_at(at(4000)), i128::from(4200 * MS));
        assert_eq!(c.rate_ppm(), TRUE_RATE_PPM);
        assert!(!s.is_true());
    }

    /// A node in a real simulation: what it reads, and when its sleeps end, under drift that
    /// changes while it sleeps.
    #[test]
    fn sleeps_follow_the_local_clock_and_a_rate_change_wakes_a_sleeper() {
        use std::cell::RefCell;
        let mut sim = turmoil::Builder::new()
            .tick_duration(Duration::from_millis(10))
            .epoch(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
            .rng_seed(1)
            .build();
        let clock = Clock::simulated(0);
        let woke: Rc<RefCell<Vec<(Duration, Duration)>>> = Rc::default();
        {
            let (clock, woke) = (clock.clone(), woke.clone());
            sim.host("n0", move || {
                let (clock, woke) = (clock.clone(), woke.clone());
                async move {
                    let start = clock.now();
                    loop {
                        // 100 ms of local time per sleep; record true and local time at waking.
                        clock.sleep(Duration::from_millis(100)).await;
                        let t = turmoil::sim_elapsed().unwrap_or_default();
                        woke.borrow_mut().push((t, clock.now() - start));
                    }
                }
            });
        }
        let step_to = |sim: &mut turmoil::Sim<'_>, ms: u64| {
            while sim.elapsed() < Duration::from_millis(ms) {
                sim.step().expect("steps");
            }
        };
        step_to(&mut sim, 250);
        // Twice as fast from 250 ms: the sleep begun at 200 ms (local 200) has 50 ms of local
        // time left, which now pass in 25 ms: it ends at 275 ms, not at the 300 ms its
        // schedule said when it began (the change woke it to reschedule).
        clock.set_rate(sim.elapsed(), 2 * TRUE_RATE_PPM);
        step_to(&mut sim, 400);
        let woke = woke.borrow().clone();
        let ms = |d: Duration| d.as_millis();
        let seen: Vec<(u128, u128)> = woke.iter().map(|(t, l)| (ms(*t), ms(*l))).collect();
        // Healthy: every 100 ms. Then every 50 ms of true time, each 100 ms of local time.
        assert_eq!(
            seen,
            [(100, 100), (200, 200), (275, 300), (325, 400), (375, 500)]
        );
        assert!(clock.faulty_reads() > 0);
        // The wall clock ran fast too: at 400 ms of true time it reads 150 ms ahead.
        assert_eq!(
            clock.wall_offset_at(Duration::from_millis(400)),
            150 * MS as i128
        );
    }

    #[test]
    fn the_real_clock_takes_no_faults() {
        let c = Clock::real();
        c.set_rate(at(0), 2 * TRUE_RATE_PPM);
        c.set_offset(at(0), 5000);
        assert_eq!(c.rate_ppm(), TRUE_RATE_PPM);
        assert_eq!(c.wall_offset_at(at(10)), 0);
        assert_eq!(c.node(), None);
    }
}
