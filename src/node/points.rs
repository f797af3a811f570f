//! Fault-injection points inside node code: crash points and BUGGIFY.
//!
//! A crash between scenario steps misses the windows where crash-recovery bugs live: between
//! a write and its `sync`, between a log record and the message that announces it. So node
//! code (and squall's own [`Disk`](super::Disk) and [`Transport`](super::Transport)) marks
//! points by name, and a scenario step (`crash n1 at after-vote-sync`) arms one: the next
//! time n1 passes it, n1 crashes *there*. squall cannot stop a running poll, so a point that
//! fires **freezes** the node at once — its disk ignores every later write and sync, its
//! transport every later send — and the harness crashes the host right after the simulation
//! step. Everything the node does after the point is lost, as in a real crash, except what it
//! publishes to its observer: a system whose checks trust those publications asks
//! [`is_crashed`] first (the Raft store does).
//!
//! BUGGIFY, as FoundationDB does it: [`buggify!`](crate::buggify) is true only in simulation,
//! only at call sites the scenario's seed enables (a quarter of them), only while the
//! scenario has it on (`buggify on`), and then one time in four — so that code takes its
//! rare paths on purpose. On real sockets and outside squall it is always false.
//!
//! The points of the node being polled are found through a thread-local the simulator sets
//! while it polls the node's main future; tasks the node spawns itself do not see them
//! (their crash points and buggify are off). Squall's disk and transport carry their own
//! handle, so their points work in any task.

use crate::scenario::NodeId;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The points squall's own disk and transport mark, with what each is.
pub const BUILT_IN: [PointInfo; 3] = [
    PointInfo::new(
        "disk-write",
        "after any write to the node's disk (append, truncate, replace), before it is synced",
    ),
    PointInfo::new("disk-sync", "right after the node syncs a file"),
    PointInfo::new(
        "net-send",
        "right after the node hands a message to the network",
    ),
];

/// A crash point a system declares (`squall points SYSTEM` lists them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PointInfo {
    /// Its name in scenarios (`crash n1 at NAME`) and in [`crash_point!`](crate::crash_point).
    pub name: &'static str,
    /// Where it is.
    pub description: &'static str,
}

impl PointInfo {
    /// A crash point.
    pub const fn new(name: &'static str, description: &'static str) -> PointInfo {
        PointInfo { name, description }
    }
}

/// A node's armed crash point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Armed {
    /// The point's name.
    pub point: &'static str,
    /// Whether the crash is a power loss (unsynced writes are lost).
    pub power_loss: bool,
}

/// One node's fault-injection state, shared by the harness and the node's code. Cloning
/// gives another handle to the same state. The default handle is inert: nothing is armed,
/// buggify is off (a node on real sockets, a unit test).
#[derive(Clone, Default)]
pub struct Points(Option<Rc<State>>);

struct State {
    node: NodeId,
    armed: Cell<Option<Armed>>,
    /// Set when the armed point fires; the harness crashes the node after the step.
    fired: Cell<Option<Armed>>,
    buggify: RefCell<Buggify>,
}

struct Buggify {
    on: bool,
    /// Which call sites are enabled is a function of this seed (per scenario and node).
    sites_seed: u64,
    /// Draws per call, from this incarnation's stream.
    rng: u64,
    taken: u64,
}

impl Points {
    /// Live points for node `node`; `seed` decides which buggify sites are enabled.
    pub fn new(node: NodeId, seed: u64) -> Points {
        Points(Some(Rc::new(State {
            node,
            armed: Cell::new(None),
            fired: Cell::new(None),
            buggify: RefCell::new(Buggify {
                on: false,
                sites_seed: seed,
                rng: seed ^ 0x5851_F42D_4C95_7F2D,
                taken: 0,
            }),
        })))
    }

    /// The node these points belong to.
    pub fn node(&self) -> Option<NodeId> {
        self.0.as_ref().map(|s| s.node)
    }

    /// Arms `armed` (replacing any armed point); the harness's side.
    pub fn arm(&self, armed: Option<Armed>) {
        if let Some(s) = &self.0 {
            s.armed.set(armed);
        }
    }

    /// The armed point, if any.
    pub fn armed(&self) -> Option<Armed> {
        self.0.as_ref().and_then(|s| s.armed.get())
    }

    /// The point that fired, taken (the harness's side, after each step); the node is
    /// unfrozen for its next incarnation.
    pub fn take_fired(&self) -> Option<Armed> {
        self.0.as_ref().and_then(|s| s.fired.take())
    }

    /// Passes the point `name`: if it is armed, the node crashes here (see the module docs).
    pub fn pass(&self, name: &str) {
        let Some(s) = &self.0 else { return };
        if let Some(armed) = s.armed.get() {
            if armed.point == name && s.fired.get().is_none() {
                s.armed.set(None);
                s.fired.set(Some(armed));
            }
        }
    }

    /// Whether an armed point has fired in this incarnation: the node is as good as dead, and
    /// nothing it does from here on may take effect.
    pub fn is_crashed(&self) -> bool {
        self.0.as_ref().is_some_and(|s| s.fired.get().is_some())
    }

    /// Turns buggify on or off (a scenario's `buggify on|off`).
    pub fn set_buggify(&self, on: bool) {
        if let Some(s) = &self.0 {
            s.buggify.borrow_mut().on = on;
        }
    }

    /// Re-seeds the per-call draws for a new incarnation (the enabled sites stay).
    pub fn restart(&self, incarnation_seed: u64) {
        if let Some(s) = &self.0 {
            let mut b = s.buggify.borrow_mut();
            b.rng = incarnation_seed ^ 0x5851_F42D_4C95_7F2D;
        }
    }

    /// How many times buggify returned true.
    pub fn buggified(&self) -> u64 {
        self.0.as_ref().map_or(0, |s| s.buggify.borrow().taken)
    }

    /// Buggify at the call site `(file, line)`: see the module docs.
    pub fn buggify(&self, file: &'static str, line: u32) -> bool {
        let Some(s) = &self.0 else { return false };
        let mut b = s.buggify.borrow_mut();
        if !b.on || s.fired.get().is_some() {
            return false;
        }
        let site = file
            .bytes()
            .fold(u64::from(line) ^ b.sites_seed, |h, c| mix(h ^ u64::from(c)));
        if mix(site) % 4 != 0 {
            return false;
        }
        b.rng = mix(b.rng.wrapping_add(0x9E37_79B9_7F4A_7C15));
        let taken = b.rng % 4 == 0;
        b.taken += u64::from(taken);
        taken
    }
}

/// splitmix64's finalizer: a cheap, fixed, platform-independent bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

thread_local! {
    /// The points of the node whose main future is being polled on this thread.
    static CURRENT: RefCell<Points> = RefCell::new(Points::default());
}

/// The points of the node being polled now (inert outside a node's main future).
pub fn current() -> Points {
    CURRENT.with(|c| c.borrow().clone())
}

/// Runs `f` with `points` as the current node's (the simulator's side, around each poll).
pub fn with_current<R>(points: &Points, f: impl FnOnce() -> R) -> R {
    struct Restore(Points);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| std::mem::swap(&mut *c.borrow_mut(), &mut self.0));
        }
    }
    let mut previous = points.clone();
    CURRENT.with(|c| std::mem::swap(&mut *c.borrow_mut(), &mut previous));
    let _restore = Restore(previous);
    f()
}

/// Whether the node being polled has crashed at an armed point (see [`Points::is_crashed`]).
pub fn is_crashed() -> bool {
    CURRENT.with(|c| c.borrow().is_crashed())
}

/// The node being polled passes the crash point `name` (see [`crash_point!`](crate::crash_point)).
pub fn pass(name: &str) {
    CURRENT.with(|c| c.borrow().pass(name));
}

/// Buggify for the node being polled (see [`buggify!`](crate::buggify)).
pub fn buggify(file: &'static str, line: u32) -> bool {
    CURRENT.with(|c| c.borrow().buggify(file, line))
}

/// A future that polls `inner` with `points` as the current node's.
pub struct WithPoints<F> {
    points: Points,
    inner: std::pin::Pin<Box<F>>,
}

impl<F> WithPoints<F> {
    /// Wraps `inner`.
    pub fn new(points: Points, inner: F) -> Self {
        WithPoints {
            points,
            inner: Box::pin(inner),
        }
    }
}

impl<F: std::future::Future> std::future::Future for WithPoints<F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.get_mut();
        with_current(&this.points, || this.inner.as_mut().poll(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_armed_point_fires_once_and_only_by_its_name() {
        let p = Points::new(1, 7);
        p.pass("disk-sync");
        assert!(!p.is_crashed());
        p.arm(Some(Armed {
            point: "disk-sync",
            power_loss: true,
        }));
        p.pass("disk-write");
        assert!(!p.is_crashed());
        p.pass("disk-sync");
        assert!(p.is_crashed() && p.armed().is_none());
        let fired = p.take_fired().expect("fired");
        assert_eq!((fired.point, fired.power_loss), ("disk-sync", true));
        assert!(
            !p.is_crashed(),
            "taking the firing unfreezes the next incarnation"
        );
    }

    #[test]
    fn inert_points_do_nothing_and_buggify_is_off_until_turned_on() {
        let inert = Points::default();
        inert.arm(Some(Armed {
            point: "x",
            power_loss: false,
        }));
        inert.pass("x");
        assert!(!inert.is_crashed() && !inert.buggify("f.rs", 1));
        let p = Points::new(0, 3);
        assert!((0..1000).all(|line| !p.buggify("f.rs", line)));
        p.set_buggify(true);
        let taken = (0..1000).filter(|line| p.buggify("f.rs", *line)).count();
        // A quarter of the sites, each a quarter of the time: about 62 of 1000.
        assert!((30..110).contains(&taken), "{taken}");
        assert_eq!(p.buggified(), taken as u64);
    }

    #[test]
    fn the_current_node_is_set_only_inside_with_current() {
        let p = Points::new(2, 1);
        assert_eq!(current().node(), None);
        with_current(&p, || {
            assert_eq!(current().node(), Some(2));
            p.arm(Some(Armed {
                point: "here",
                power_loss: false,
            }));
            pass("here");
            assert!(is_crashed());
        });
        assert_eq!(current().node(), None);
        assert!(!is_crashed());
    }
}
