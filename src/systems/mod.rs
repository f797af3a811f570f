//! The System contract, and the built-in systems.
//!
//! A system under test tells squall, through [`System`]:
//! - the [`Workload`] it serves (what clients do and how the history is judged);
//! - how to start node `i` (a future run as a turmoil host, restartable from its
//!   [`Disk`](crate::node::Disk)), and a [`Client`] that performs the workload's operations;
//! - what nodes publish for observation (its `Observer`, a shared registry) and its per-step
//!   safety invariants over it (its `Checker`), computed incrementally, named as
//!   [`Property`]s;
//! - its liveness condition once faults heal, and its planted bugs.
//!
//! Node code gets what [`crate::node`] hands it: simulated time (tokio's, paused by turmoil,
//! read through the node's [`Clock`](crate::node::Clock), which scenarios can skew and
//! drift), simulated sockets ([`Transport`](crate::node::Transport)), a
//! [`Disk`](crate::node::Disk) and a seed; with [`Net::Real`](crate::node::Net::Real) the
//! same code runs on real sockets.

pub mod dynamo;
pub mod raft;
pub mod saga;
pub mod twopc;

mod isolation;
pub use crate::check::property;

pub use crate::node::points::PointInfo;
pub use crate::node::{ClientContext, NodeContext};
pub use crate::workload::{HistoryOp, Workload};
pub use isolation::Isolation;
pub use property::{Property, PropertyKind, Selection};

use crate::check::Violation;
use crate::history::Value;
use crate::mutants::MutantInfo;
use crate::node::Forger;
use crate::report::Trace;
use crate::scenario::{ClockBound, FaultKind, NodeId, NodeSet, Weather};
use std::io;
use std::time::Duration;

/// The operation type of a system's workload.
pub type OpOf<S> = <<S as System>::Workload as Workload>::Op;

/// How one client operation ended, as the client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpResult {
    /// It took effect; the value is the result (what a read read).
    Ok(Value),
    /// It certainly did not take effect.
    Fail(String),
    /// Unknown whether it took effect.
    Unknown(String),
}

/// A client process of a system: performs one operation of workload `W` at a time.
pub trait Client<W: Workload>: 'static {
    /// Performs `op` against the cluster, retrying as the system's clients do. The harness
    /// cancels it at the operation's deadline (an unanswered operation is indeterminate).
    /// Hosts run on one thread, so the future need not be `Send`.
    #[allow(async_fn_in_trait)]
    async fn invoke(&mut self, op: &W::Op) -> OpResult;
}

/// The liveness condition's state during the liveness phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// The system has recovered and made progress.
    Live,
    /// Not yet; the reason is reported if the budget runs out.
    Waiting(String),
    /// Never, by design, after what the run did (most nodes refuse to start from disks the
    /// run corrupted, say): reported as expected, not as a failure, and no probes are sent.
    Impossible(String),
}

/// What the harness tells a checker about the current step.
pub struct StepContext<'a> {
    /// Index of the scenario step being executed (0-based); steps past the end are the
    /// liveness phase.
    pub step: usize,
    /// Simulated time since the start of the run.
    pub now: Duration,
    /// The run's trace, for notable events (elections, leader changes).
    pub trace: &'a mut Trace,
    /// The faults in force during this step.
    pub faults: &'a Faults,
    /// The properties this run checks.
    pub selection: &'a Selection,
}

impl StepContext<'_> {
    /// Whether this run checks `property`: a checker may skip the work of the others. (A
    /// violation of one it does not check is ignored by the harness anyway.)
    pub fn checks(&self, property: &Property) -> bool {
        self.selection.includes(property.name)
    }
}

/// Where a property comes from, as `squall properties` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Checked by the harness for every system.
    Harness,
    /// The system's own ([`System::properties`]).
    System,
    /// The workload's history checks.
    Workload,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Origin::Harness => "harness",
            Origin::System => "system",
            Origin::Workload => "workload",
        })
    }
}

/// Every property a run of `system` checks (unless a selection narrows it): the harness's,
/// the system's and its workload's, in that order.
pub fn properties_of<S: System>(system: &S) -> Vec<(Origin, Property)> {
    let mut all: Vec<(Origin, Property)> = property::harness::ALL
        .iter()
        .map(|p| (Origin::Harness, *p))
        .collect();
    all.extend(system.properties().into_iter().map(|p| (Origin::System, p)));
    if S::Workload::model().is_some() {
        all.push((Origin::Workload, property::harness::LINEARIZABILITY));
    }
    all.extend(
        S::Workload::history_properties()
            .into_iter()
            .map(|p| (Origin::Workload, p)),
    );
    all
}

/// The faults in force, as the harness applied them: for properties that depend on the
/// network, such as "a fully connected majority elects a leader and commits within a bound".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Which nodes are running, by node id.
    pub up: Vec<bool>,
    /// `links[a][b]`: frames from node `a` reach node `b` as on a healthy link (not cut, not
    /// held, no latency fault above the normal range).
    pub links: Vec<Vec<bool>>,
    /// `reach[a][b]`: frames from node `a` reach node `b` at all — not cut, not held — however
    /// slowly. A leader whose quorum sits behind slow links still makes progress.
    pub reach: Vec<Vec<bool>>,
    /// Message loss, in percent.
    pub loss_percent: u8,
    /// Message duplication, in percent.
    pub duplicate_percent: u8,
    /// Messages held back by their sender for a random time, in percent.
    pub delay_percent: u8,
    /// Messages with a bit flipped in flight (which receivers drop), in percent.
    pub corrupt_percent: u8,
    /// Simulated time at which any of the above last changed.
    pub since: Duration,
    /// How many times any of the above changed: two changes at the same instant (a crash
    /// point firing, then a fault step) leave `since` equal but not the state, so a check
    /// that caches what it derived from the faults keys on this.
    pub changes: u64,
    /// Which nodes' disks the run corrupted (`corrupt-disk nX`), by node id: sticky for the
    /// rest of the run, whether or not the node has met the damage yet.
    pub corrupted: Vec<bool>,
    /// Whether the system promises to recover a corrupted disk without losing what it
    /// acknowledged ([`System::recovers_from_corruption`]).
    pub corruption_recovered: bool,
}

impl Faults {
    /// Whether checks may assume that `node` recovers everything it made durable: its disk
    /// was never corrupted, or the system promises to recover from corruption. A check of
    /// "persisted state survives restarts" is suspended for a node where this is false (what
    /// still holds there is detection: a corrupt record is never used as valid).
    pub fn disk_intact(&self, node: NodeId) -> bool {
        self.corruption_recovered
            || !self
                .corrupted
                .get(usize::from(node))
                .copied()
                .unwrap_or(false)
    }

    /// Whether every node of `set` is running and every two of them exchange frames both ways
    /// as over a healthy link (see [`Faults::links`]). The empty set is connected.
    pub fn is_connected(&self, set: NodeSet) -> bool {
        set.iter().all(|a| {
            let a = usize::from(a);
            self.up.get(a).copied().unwrap_or(false)
                && set.iter().all(|b| {
                    let b = usize::from(b);
                    a == b || (self.linked(&self.links, a, b) && self.linked(&self.links, b, a))
                })
        })
    }

    /// The largest [connected](Faults::is_connected) set of nodes, if it is a majority of the
    /// cluster: the nodes that a correct protocol needs to make progress under these faults.
    /// Of several largest ones, the one with the smallest bit mask (node `i` is bit `i`). At
    /// most 2^nodes subsets are tried: call it when [`Faults::since`] changes, not every step.
    pub fn connected_majority(&self) -> Option<NodeSet> {
        // A NodeSet holds eight nodes; clusters have at most MAX_NODES (7).
        let n = self.up.len().min(8);
        let mut best: Option<NodeSet> = None;
        for mask in 1u16..(1 << n) {
            let set = NodeSet(mask as u8);
            if set.len() * 2 <= self.up.len() || best.is_some_and(|b| b.len() >= set.len()) {
                continue;
            }
            if self.is_connected(set) {
                best = Some(set);
            }
        }
        best
    }

    /// Whether `node` is running and reaches a majority of the cluster (itself included) both
    /// ways, if only over slow links (see [`Faults::reach`]): whether, as a leader, it could
    /// replicate. Its majority need not be connected among itself.
    pub fn reaches_majority(&self, node: NodeId) -> bool {
        let i = usize::from(node);
        let n = self.up.len();
        if !self.up.get(i).copied().unwrap_or(false) {
            return false;
        }
        let linked = (0..n)
            .filter(|&j| {
                j == i
                    || (self.up[j]
                        && self.linked(&self.reach, i, j)
                        && self.linked(&self.reach, j, i))
            })
            .count();
        linked * 2 > n
    }

    fn linked(&self, matrix: &[Vec<bool>], from: usize, to: usize) -> bool {
        matrix
            .get(from)
            .and_then(|row| row.get(to))
            .copied()
            .unwrap_or(false)
    }
}

/// Every crash point `system`'s nodes pass: squall's own, then the system's.
pub fn crash_points<S: System>(system: &S) -> Vec<PointInfo> {
    let mut all = crate::node::points::BUILT_IN.to_vec();
    all.extend(system.crash_points());
    all
}

/// The names of [`crash_points`], which generated scenarios arm.
pub fn crash_point_names<S: System>(system: &S) -> Vec<&'static str> {
    crash_points(system).iter().map(|p| p.name).collect()
}

/// The fault kinds `system` can take: every universal one, forged messages if it has a
/// [`System::forger`], BUGGIFY if it uses it, corruption where it detects it, and clock
/// faults if it reads its clock. What generators draw from for it, so no step is spent on a
/// fault that would be a no-op.
pub fn supported_faults<S: System>(system: &S) -> Weather {
    let mut weather = Weather::universal();
    if system.forger().is_some() {
        weather = weather.with(FaultKind::Forge);
    }
    if system.uses_buggify() {
        weather = weather.with(FaultKind::Buggify);
    }
    if system.detects_corrupt_frames() {
        weather = weather.with(FaultKind::Corrupt);
    }
    if system.detects_corrupt_records() {
        weather = weather.with(FaultKind::CorruptDisk);
    }
    if system.reads_clock() {
        weather = weather.with(FaultKind::Clock);
    }
    weather
}

/// What generated scenarios for `system` draw from: the fault kinds it takes, the crash
/// points its nodes pass and the clock faults it claims to tolerate.
pub fn offer<S: System>(system: &S) -> crate::scenario::generate::Offer {
    crate::scenario::generate::Offer {
        kinds: supported_faults(system),
        points: crash_point_names(system),
        clock: system.clock_bound(),
    }
}

/// `system` with the planted bug `name`, which must be one of its [`System::mutants`].
pub fn with_mutant<S: System>(system: &S, name: &str) -> Result<S, String> {
    let known: Vec<&str> = system.mutants().iter().map(|m| m.name).collect();
    if known.contains(&name) {
        return Ok(system.with_mutant(name));
    }
    Err(if known.is_empty() {
        format!(
            "`{}` has no planted bugs (asked for `{name}`)",
            system.name()
        )
    } else {
        format!(
            "unknown planted bug `{name}` for `{}`; known: {}",
            system.name(),
            known.join(", ")
        )
    })
}

/// A system under test. See the module docs.
///
/// `Sync`, and `Send + Sync` operations: each scenario runs on a fresh thread of its own (so
/// that thread-local state of code squall does not control starts anew), borrowing both.
/// `Clone`: each node's host and the client host own a clone, which their futures borrow.
pub trait System: Clone + Sync + 'static {
    /// What clients do and how it is judged.
    type Workload: Workload;
    /// The registry nodes publish into; cloning gives another handle to the same registry.
    type Observer: Clone + 'static;
    /// The incremental state of the per-step invariants.
    type Checker: 'static;
    /// A client process.
    type Client: Client<Self::Workload>;

    /// The system's name on the command line and in scenario files.
    fn name(&self) -> &'static str;

    /// A fresh registry for a cluster of `nodes`.
    fn observer(&self, nodes: u8) -> Self::Observer;

    /// Fresh invariant state for a cluster of `nodes`.
    fn checker(&self, nodes: u8) -> Self::Checker;

    /// Starts one incarnation of a node: runs until the node crashes. The harness calls it on
    /// a clone of the system that the node's host owns, so the future may borrow `self`.
    #[allow(async_fn_in_trait)]
    async fn start_node(&self, ctx: NodeContext, observer: Self::Observer) -> io::Result<()>;

    /// Creates a client process (on a clone of the system, as [`System::start_node`]).
    #[allow(async_fn_in_trait)]
    async fn connect_client(&self, ctx: ClientContext) -> io::Result<Self::Client>;

    /// Creates a client process that may publish into the system's registry (a client that
    /// records what the store answered, for checks the workload's history cannot express:
    /// sibling sets, causal contexts). The harness calls this; by default it is
    /// [`System::connect_client`], the registry unused.
    #[allow(async_fn_in_trait)]
    async fn connect_observed(
        &self,
        ctx: ClientContext,
        _observer: Self::Observer,
    ) -> io::Result<Self::Client> {
        self.connect_client(ctx).await
    }

    /// The system's own checks of the finished run, after the liveness phase and the
    /// workload's history checks: what its clients and nodes recorded in the registry (the
    /// dynamo store checks its sibling history and the replicas' final states here). The
    /// first violation of a property `selected` accepts; none by default.
    fn check_run(
        &self,
        _checker: &Self::Checker,
        _observer: &Self::Observer,
        _selected: &dyn Fn(&Property) -> bool,
    ) -> Option<Violation> {
        None
    }

    /// Checks the safety invariants after a simulation step (none by default: the client
    /// history is still checked against the workload's model).
    fn check_step(
        &self,
        _checker: &mut Self::Checker,
        _observer: &Self::Observer,
        _ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        Ok(())
    }

    /// During the liveness phase (everything healed, every node up): has the system
    /// recovered? By default it has, and the workload's liveness probes must then succeed.
    fn liveness(&self, _checker: &Self::Checker, _observer: &Self::Observer) -> Liveness {
        Liveness::Live
    }

    /// The crash points its nodes pass besides squall's own ([`crate::node::points::BUILT_IN`]):
    /// scenarios arm them (`crash n1 at NAME`), `squall points SYSTEM` lists them. Node code
    /// marks each with [`crash_point!`](crate::crash_point).
    fn crash_points(&self) -> Vec<PointInfo> {
        Vec::new()
    }

    /// The properties [`check_step`](System::check_step) asserts, each with a one-line
    /// statement (`squall properties SYSTEM` lists them with the harness's and the
    /// workload's; `--property NAME` checks only some).
    fn properties(&self) -> Vec<Property> {
        Vec::new()
    }

    /// The planted bugs this system carries (`squall mutants`).
    fn mutants(&self) -> Vec<MutantInfo> {
        Vec::new()
    }

    /// This system with the named planted bug active. squall calls it only with a name from
    /// [`System::mutants`] (it rejects others itself), so a system with one planted bug can
    /// ignore the name.
    fn with_mutant(&self, _name: &str) -> Self {
        self.clone()
    }

    /// The shortest deadline a client operation of this system needs (the harness uses the
    /// longer of this and its own): for systems whose recovery (say, an election after a
    /// leader restart) legitimately takes longer than the harness's default deadline, which
    /// would otherwise turn the operations in flight at the heal into failures.
    fn min_op_deadline(&self) -> Duration {
        Duration::ZERO
    }

    /// The protocol phase the cluster is in ("election", "replicating", ...), for fault
    /// coverage: which faults hit which situations.
    fn phase(&self, _checker: &Self::Checker, _observer: &Self::Observer) -> &'static str {
        "any"
    }

    /// The node leading the cluster now (the leader of the highest term among running
    /// nodes), for the faults that target a leader (`isolate leader`, `crash leader`).
    /// `None` (the default, and for leaderless designs) turns those faults into no-ops.
    fn leader(&self, _checker: &Self::Checker, _observer: &Self::Observer) -> Option<NodeId> {
        None
    }

    /// Every node that believes it leads now (an old leader that has not noticed its
    /// deposition as well as the new one), for `isolate primaries`. By default the
    /// [`System::leader`] alone.
    fn primaries(&self, checker: &Self::Checker, observer: &Self::Observer) -> Vec<NodeId> {
        self.leader(checker, observer).into_iter().collect()
    }

    /// What node `node` publishes about itself now, in a few words (`leader t3 commit 5`,
    /// `follower t3 of n1`), for the HTML report's node lanes: it draws a lane whose state
    /// begins with `leader` as leading, `candidate` or `precandidate` as campaigning. Read
    /// after every tick, and only by runs that record a report. By default `leader` for the
    /// nodes among [`System::primaries`], nothing for the others.
    fn node_state(
        &self,
        checker: &Self::Checker,
        observer: &Self::Observer,
        node: NodeId,
    ) -> Option<String> {
        self.primaries(checker, observer)
            .contains(&node)
            .then(|| "leader".to_string())
    }

    /// Whether the system detects a frame with a bit flipped in flight and drops it, so
    /// generated scenarios may draw `corrupt P%`. squall's typed frames
    /// ([`Transport::send_msg`](crate::node::Transport::send_msg)) carry a checksum, so a
    /// system that sends only through them can say yes; frames a system builds itself may
    /// carry none, hence the default no (a scenario file may still ask for corruption).
    fn detects_corrupt_frames(&self) -> bool {
        false
    }

    /// Whether the system detects a bit flipped in what it synced to its disk (its records
    /// carry checksums), so generated scenarios may draw `corrupt-disk nX`. No by default.
    fn detects_corrupt_records(&self) -> bool {
        false
    }

    /// Whether a node whose disk the run corrupted (`corrupt-disk nX`) recovers without
    /// losing anything it acknowledged (by repairing from its peers, as TigerBeetle and
    /// protocol-aware recovery do). If not (the default), checks that assume an intact disk
    /// are suspended for such a node ([`Faults::disk_intact`]); detection still holds: the
    /// node never uses a corrupt record as valid, and the cluster's own properties still hold.
    fn recovers_from_corruption(&self) -> bool {
        false
    }

    /// Where chaos, hunt and shrink run each scenario unless told otherwise. The default,
    /// [`Isolation::Process`], gives every scenario a process of its own, so that state the
    /// system's third-party code keeps per process (a global counter a PRNG is seeded from,
    /// a cache) cannot make one scenario's outcome depend on another's; it costs a fork per
    /// scenario (BENCHMARKS.md). A system whose code squall fully controls can choose
    /// [`Isolation::Thread`] or [`Isolation::Shared`]. Either way every finding is replayed
    /// in a fresh process before it is reported ([`crate::verify`]).
    fn isolation(&self) -> Isolation {
        Isolation::Process
    }

    /// An abstraction of the cluster's current protocol state (role pattern, term gaps,
    /// commit relations, ...), hashed; fed to coverage-guided fuzzing as extra feedback so it
    /// seeks new protocol situations. `0` means no abstraction.
    fn abstract_state(&self, _checker: &Self::Checker, _observer: &Self::Observer) -> u64 {
        0
    }

    /// How to forge this system's messages, for `forge nX` steps: usually
    /// `Some(Forger::of::<MyMessage>())`, naming the message type its nodes exchange (it
    /// derives `Arbitrary`; see [`crate::node::forge`] for making its fields plausible).
    /// `None`, the default: the system does not take forged messages; a `forge` step is a
    /// no-op for it, and generated scenarios never contain one.
    fn forger(&self) -> Option<Forger> {
        None
    }

    /// Whether its node code calls [`buggify!`](crate::buggify). If not (the default),
    /// generated scenarios never turn BUGGIFY on: it would take no path, and chaos would
    /// report a fault kind that never took effect.
    fn uses_buggify(&self) -> bool {
        false
    }

    /// Whether its node code reads its [`Clock`](crate::node::Clock) for something its
    /// properties depend on: leases, timestamps other nodes compare, hybrid logical clocks.
    /// If so, generated scenarios draw `skew` and `drift` steps (within
    /// [`System::clock_bound`]); if not (the default), they would be wasted on it, and chaos
    /// would report a fault kind that never took effect. A scenario file may still skew the
    /// clocks of any system.
    fn reads_clock(&self) -> bool {
        false
    }

    /// The clock faults under which the system claims its properties (its drift bound, the
    /// offsets it tolerates): generated clock faults stay within it. The default is the
    /// widest the generator draws ([`ClockBound::WIDEST`]).
    fn clock_bound(&self) -> ClockBound {
        ClockBound::WIDEST
    }

    /// Whether the system claims to tolerate byzantine peers. If not (the default, and the
    /// case for crash-fault-tolerant designs such as Raft), a run stops checking the system's
    /// own properties once a forged message has been delivered, and checks the client
    /// history only up to that point: it then asks only for robustness (no panic, no node
    /// error, bounded memory, and recovery and progress once everything heals). A system
    /// that claims tolerance keeps every property on.
    fn byzantine_tolerant(&self) -> bool {
        false
    }

    /// Bytes of in-memory state `node` holds that its input can grow (its log, queues,
    /// session tables), by the system's own accounting; 0 by default. The bounded-memory
    /// check adds it to what squall measures itself (the node's disk). squall cannot verify
    /// it: what a system leaves out is not checked.
    fn memory(&self, _observer: &Self::Observer, _node: NodeId) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` running nodes, every link healthy.
    fn healthy(n: usize) -> Faults {
        Faults {
            up: vec![true; n],
            links: vec![vec![true; n]; n],
            reach: vec![vec![true; n]; n],
            ..Faults::default()
        }
    }

    fn cut(f: &mut Faults, a: usize, b: usize) {
        for (x, y) in [(a, b), (b, a)] {
            f.links[x][y] = false;
            f.reach[x][y] = false;
        }
    }

    fn set(nodes: &[NodeId]) -> NodeSet {
        nodes.iter().fold(NodeSet::default(), |s, n| s.with(*n))
    }

    #[test]
    fn a_healthy_cluster_is_its_own_connected_majority() {
        let f = healthy(5);
        assert!(f.is_connected(set(&[0, 1, 2, 3, 4])));
        assert_eq!(f.connected_majority(), Some(set(&[0, 1, 2, 3, 4])));
    }

    #[test]
    fn an_isolated_or_crashed_node_is_left_out() {
        let mut f = healthy(5);
        for other in 1..5 {
            cut(&mut f, 0, other);
        }
        f.up[4] = false;
        assert!(!f.is_connected(set(&[0, 1])));
        assert!(!f.is_connected(set(&[1, 4])));
        assert_eq!(f.connected_majority(), Some(set(&[1, 2, 3])));
    }

    #[test]
    fn a_partial_partition_leaves_two_majorities_and_the_lower_one_is_named() {
        // n0–n2 cut: {n0, n1} and {n1, n2} are both connected majorities of three.
        let mut f = healthy(3);
        cut(&mut f, 0, 2);
        assert!(!f.is_connected(set(&[0, 1, 2])));
        assert!(f.is_connected(set(&[1, 2])));
        assert_eq!(f.connected_majority(), Some(set(&[0, 1])));
    }

    #[test]
    fn a_one_way_cut_disconnects_and_an_even_split_has_no_majority() {
        let mut f = healthy(3);
        f.links[0][1] = false;
        assert!(!f.is_connected(set(&[0, 1])));
        assert_eq!(f.connected_majority(), Some(set(&[0, 2])));
        let mut f = healthy(4);
        for (a, b) in [(0, 2), (0, 3), (1, 2), (1, 3)] {
            cut(&mut f, a, b);
        }
        assert_eq!(f.connected_majority(), None);
        assert_eq!(Faults::default().connected_majority(), None);
    }

    #[test]
    fn a_majority_is_reached_over_slow_links_but_not_over_cut_ones() {
        let mut f = healthy(5);
        // Slow links: not healthy, still reaching.
        for other in 1..5 {
            f.links[0][other] = false;
            f.links[other][0] = false;
        }
        assert!(f.reaches_majority(0));
        assert_eq!(f.connected_majority(), Some(set(&[1, 2, 3, 4])));
        cut(&mut f, 0, 1);
        cut(&mut f, 0, 2);
        assert!(f.reaches_majority(0));
        cut(&mut f, 0, 3);
        assert!(!f.reaches_majority(0));
        f.up[0] = false;
        assert!(!f.reaches_majority(0));
        assert!(!f.reaches_majority(9));
    }
}
