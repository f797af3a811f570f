//! Scenarios: what a run does, as data.
//!
//! A [`Scenario`] is a cluster size, a seed, the fault [`Weather`] (which fault kinds this
//! scenario may use — swarm testing) and a list of [`Step`]s: client operations, faults and
//! waits. Scenarios are generated from bytes ([`generate`]), written and read as text
//! ([`text`]), and shrunk; they know nothing of turmoil or of any particular protocol — the
//! client operation type is the system's.

pub mod generate;
pub mod text;

use std::fmt;

/// A node's index in the cluster, `0..nodes`.
pub type NodeId = u8;

/// Smallest cluster squall runs.
pub const MIN_NODES: u8 = 3;
/// Largest cluster squall runs.
pub const MAX_NODES: u8 = 7;
/// Number of client processes a scenario can address (`c0`..`c3`).
pub use crate::history::MAX_CLIENTS;

/// A test scenario for a system whose client operations are `Op`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario<Op> {
    /// The system under test, by name (`raft`, ...).
    pub system: String,
    /// Cluster size, `MIN_NODES..=MAX_NODES`.
    pub nodes: u8,
    /// Seeds turmoil, node RNGs and the harness's fault RNG.
    pub seed: u64,
    /// The fault kinds this scenario may use.
    pub weather: Weather,
    /// The properties the run checks, by name (`check` line; empty: every property).
    pub check: Vec<String>,
    /// Each client lives beside a node (`clients pinned` line): client `cK` on node
    /// `K % nodes`, so a partition cuts it off from the nodes its node cannot reach, as a
    /// client on the far side of a real partition is. By default clients reach every node.
    pub clients_pinned: bool,
    /// What happens, in order.
    pub steps: Vec<Step<Op>>,
}

/// One thing a scenario does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<Op> {
    /// Client `client` invokes `op` (queued if the client is still busy with its last one).
    Op {
        /// The client process, `0..MAX_CLIENTS`.
        client: u8,
        /// The operation.
        op: Op,
    },
    /// A fault (or a heal) takes effect now.
    Fault(Fault),
    /// Simulated time passes.
    Wait {
        /// Milliseconds to run.
        ms: u32,
    },
}

/// A set of nodes, as a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeSet(pub u8);

impl NodeSet {
    /// Whether `node` is in the set.
    pub fn contains(self, node: NodeId) -> bool {
        self.0 & (1 << node) != 0
    }

    /// The set with `node` added.
    pub fn with(self, node: NodeId) -> Self {
        NodeSet(self.0 | (1 << node))
    }

    /// Members, ascending.
    pub fn iter(self) -> impl Iterator<Item = NodeId> {
        (0..8).filter(move |n| self.contains(*n))
    }

    /// Number of members.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// A fault, or the healing of one. Every variant maps to one turmoil call or to one change in
/// squall's own transport or disk layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Cut every link between `node` and the other nodes (clients still reach it).
    Isolate(NodeId),
    /// Cut every link between `side` and the rest of the cluster.
    Split(NodeSet),
    /// Cut one link both ways: with three or more nodes a partial, non-transitive partition.
    Cut(NodeId, NodeId),
    /// Drop messages from `from` to `to`, but not the other way.
    OneWay {
        /// Sender whose messages are lost.
        from: NodeId,
        /// Receiver that stops hearing `from`.
        to: NodeId,
    },
    /// Repair the link between two nodes (both directions, cut or one-way).
    Heal(NodeId, NodeId),
    /// Repair every link, release every held link, end loss, duplication and delays.
    HealAll,
    /// Each message (node and client traffic) is lost with this probability, in percent.
    Loss(u8),
    /// Each message is sent twice with this probability, in percent.
    Duplicate(u8),
    /// Each message is held back by its sender with this probability, in percent, for a
    /// random 10 ms to 2 s — up to several election timeouts (FoundationDB's and VOPR's
    /// packet delay): replies that arrive after their recipient's world has moved on.
    Delay(u8),
    /// Park every message between two nodes until released.
    Hold(NodeId, NodeId),
    /// Deliver a held link's parked messages out of their send order, then resume the link.
    Release(NodeId, NodeId),
    /// Fixed one-way latency on one link, in milliseconds.
    Latency(NodeId, NodeId, u16),
    /// The node's process dies; its disk keeps even unsynced writes (the OS had them).
    Crash(NodeId),
    /// The node's machine loses power: the process dies and unsynced writes are lost. Half
    /// the time (the runner's seeded choice) an append was under way: each file last
    /// appended to ends in a torn tail of 1 to 64 zero bytes, which recovery must cut.
    PowerLoss(NodeId),
    /// Start a crashed node again from its disk.
    Restart(NodeId),
    /// Send the node a frame of garbage bytes; it must reject it without harm.
    Garbage(NodeId),
    /// Deliver to the node a well-formed message of the system's own type with arbitrary
    /// contents, as if another node had sent it (a byzantine peer). The second field picks
    /// which one: the message and the peer it impersonates are drawn from the scenario's
    /// seed, the node and this number, so a forgery stays the same when other steps are
    /// removed. A no-op for a system that has no [`Forger`](crate::node::Forger).
    Forge(NodeId, u8),
    /// Repair every cut link, then isolate whichever node leads now (Jepsen's partition of
    /// the primary: each such partition replaces the last). Held links, latency, loss,
    /// duplication and delays stay. Resolved when it is applied, from what the system reports
    /// ([`System::leader`](crate::systems::System::leader)); with no leader it only repairs.
    IsolateLeader,
    /// Repair every cut link, then split the cluster so that whichever node leads now is on
    /// a side of this many nodes: the leader and the nodes after it by id (wrapping). A
    /// leader in a minority keeps taking writes it cannot commit, which a new majority leader
    /// then overwrites — Jepsen's classic lost-update partition. With no leader it only
    /// repairs, as [`Fault::IsolateLeader`] does.
    SplitLeader(u8),
    /// Crash whichever node leads now (losing its unsynced writes too with `power_loss`).
    CrashLeader {
        /// A power loss rather than a process crash.
        power_loss: bool,
    },
    /// Start every crashed node again.
    RestartAll,
    /// Arm the crash point `point` in `node`: the next time the node passes it, it crashes
    /// there, in the middle of whatever it was doing ([`crate::node::points`]). Re-arming
    /// replaces the armed point; the liveness phase disarms every point.
    CrashAt {
        /// The node.
        node: NodeId,
        /// The point's name: one of squall's ([`crate::node::points::BUILT_IN`]) or the
        /// system's own.
        point: Point,
        /// A power loss (unsynced writes are lost) rather than a process crash.
        power_loss: bool,
    },
    /// Turn BUGGIFY on or off in every node ([`crate::node::points`]); the liveness phase
    /// turns it off.
    Buggify(bool),
    /// Flip one random bit in this share, in percent, of the frames actually put on the wire
    /// (node and client traffic; not those a cut link or loss swallows), so that the
    /// receivers' checksum and length checks run on frames that look real. `heal all` or
    /// `corrupt 0%` ends it ([`crate::sim::corrupt`]).
    Corrupt(u8),
    /// Flip one random bit of one byte the node has synced to its disk (the runner's seeded
    /// choice of file and offset). The running node keeps its state in memory: it meets the
    /// damage at its next restart ([`crate::sim::corrupt`]).
    CorruptDisk(NodeId),
    /// Cut whichever node leads now off until another is elected, then cut that one off and
    /// heal the first, so that leadership can return to the first while it still holds state
    /// from its earlier term; runs across ticks ([`crate::sim::nemesis`]).
    BounceLeader,
    /// Cut the link between two nodes and heal it, three times, 40 ms apart: a flapping link
    /// that comes back within an election timeout ([`crate::sim::nemesis`]).
    Flap(NodeId, NodeId),
    /// Repair every cut link, then Jepsen's bridge: two halves that cannot reach each other
    /// but each reach one shared node, with the leader in the first half.
    Bridge,
    /// Repair every cut link, then Jepsen's majorities ring: every node hears a majority, no
    /// two nodes the same one.
    Ring,
    /// Repair every cut link, then cut every node that believes it leads (the primaries, as
    /// the system reports them) off from every other node, Jepsen's `:primaries` partition:
    /// an old leader that has not noticed its deposition and the new one lose each other.
    IsolatePrimaries,
    /// From now on the node's wall clock reads this many milliseconds ahead of true time
    /// (behind if negative), as after an NTP step or an operator's `date -s`; it keeps
    /// running at the node's rate. Its monotonic clock does not jump ([`crate::node::clock`]).
    Skew(NodeId, i32),
    /// Every node's wall clock is set off true time at once, spread evenly over this many
    /// milliseconds either way: `n0` behind by all of it, the highest node ahead by all of it
    /// (Jepsen's clock bump on every node). In a real cluster no two clocks agree; whichever
    /// node leads, some others are ahead of it and some behind.
    SpreadClocks(u32),
    /// From now on the node's clocks, monotonic and wall, run at this rate, in parts per
    /// million of true time (`drift n1 1.05`: 1,050,000, five percent fast); its timers fire
    /// early or late in true time accordingly.
    Drift(NodeId, u32),
    /// Every node's wall clock reads true time again and every clock runs at true rate (the
    /// monotonic clocks keep what they gained or lost: they never jump). `heal all` leaves
    /// clocks alone; the liveness phase heals them.
    HealClocks,
}

/// The clock faults a system claims to tolerate ([`System::clock_bound`]): generated `skew`
/// and `drift` steps stay within it, so that a correct system is only ever judged on the
/// clocks it promises to work with.
///
/// [`System::clock_bound`]: crate::systems::System::clock_bound
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockBound {
    /// Largest wall-clock offset from true time, either way, in milliseconds.
    pub max_skew_ms: u32,
    /// Largest departure of a clock's rate from true time's, either way, in parts per
    /// million (100,000: rates from 0.9 to 1.1).
    pub max_drift_ppm: u32,
}

impl ClockBound {
    /// The widest clock faults the generator draws: wall clocks up to 5 s off, rates from
    /// 0.9 to 1.1 (far beyond real quartz, ±100 ppm, so that timing bugs show in short runs).
    pub const WIDEST: ClockBound = ClockBound {
        max_skew_ms: 5_000,
        max_drift_ppm: 100_000,
    };

    /// `offset_ms` brought within the bound.
    pub fn clamp_skew(self, offset_ms: i32) -> i32 {
        let max = i32::try_from(self.max_skew_ms).unwrap_or(i32::MAX);
        offset_ms.clamp(-max, max)
    }

    /// `rate_ppm` brought within the bound.
    pub fn clamp_rate(self, rate_ppm: u32) -> u32 {
        let one = TRUE_RATE_PPM;
        rate_ppm.clamp(
            one.saturating_sub(self.max_drift_ppm),
            one.saturating_add(self.max_drift_ppm),
        )
    }
}

impl Default for ClockBound {
    fn default() -> Self {
        ClockBound::WIDEST
    }
}

/// A clock rate of one, true time's, in parts per million: the unit of `drift` rates.
pub const TRUE_RATE_PPM: u32 = 1_000_000;
/// Slowest clock rate a scenario may set, in parts per million (0.1: ten times slow).
pub const MIN_RATE_PPM: u32 = 100_000;
/// Fastest clock rate a scenario may set, in parts per million (10: ten times fast).
pub const MAX_RATE_PPM: u32 = 10_000_000;
/// Largest wall-clock offset a scenario may set, either way, in milliseconds (a day).
pub const MAX_SKEW_MS: i32 = 86_400_000;

/// A crash point's name in a scenario. Names are interned: a scenario step stays `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Point(pub &'static str);

impl Point {
    /// The point named `name`; a name not seen before is interned (leaked once: scenario
    /// files name few points).
    pub fn named(name: &str) -> Point {
        use std::sync::Mutex;
        static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
        let mut names = NAMES.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(known) = names.iter().find(|n| **n == name) {
            return Point(known);
        }
        let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
        names.push(leaked);
        Point(leaked)
    }
}

/// Fault kinds, for [`Weather`] and fault coverage.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum FaultKind {
    /// Isolate, split and heal.
    Partition,
    /// Cut single links and one-way links (partial partitions).
    Partial,
    /// Random message loss.
    Loss,
    /// Message duplication.
    Duplicate,
    /// Hold and release out of order; per-link latency; per-message delays.
    Reorder,
    /// Process crash and restart.
    Crash,
    /// Power loss (lost unsynced writes) and restart.
    PowerLoss,
    /// Garbage frames into nodes.
    Garbage,
    /// BUGGIFY: node code takes its rare paths on purpose.
    Buggify,
    /// Forged messages into nodes: only for systems that opt in (they name their message
    /// type, see [`crate::node::forge`]).
    Forge,
    /// Bit flips in frames in flight: only for systems that checksum what they send.
    Corrupt,
    /// Bit flips in what a node synced to its disk: only for systems that checksum their
    /// records.
    CorruptDisk,
    /// Nemesis compositions: bounce the leader, a flapping link, Jepsen's partition shapes.
    Nemesis,
    /// Clock skew and drift: only for systems that read their node clock for something that
    /// matters (see [`crate::node::clock`]); for any other they would take no effect.
    Clock,
}

impl FaultKind {
    /// Every kind, in a fixed order: the order of the weather's bits in generated scenarios,
    /// so a new kind is appended, never inserted.
    pub const ALL: [FaultKind; 14] = [
        FaultKind::Partition,
        FaultKind::Partial,
        FaultKind::Loss,
        FaultKind::Duplicate,
        FaultKind::Reorder,
        FaultKind::Crash,
        FaultKind::PowerLoss,
        FaultKind::Garbage,
        FaultKind::Buggify,
        FaultKind::Forge,
        FaultKind::Corrupt,
        FaultKind::CorruptDisk,
        FaultKind::Nemesis,
        FaultKind::Clock,
    ];

    /// The kinds every system can take, in [`FaultKind::ALL`] order; the others need the
    /// system's cooperation (BUGGIFY call sites, a forger, checksums, reading its clock).
    pub const UNIVERSAL: [FaultKind; 9] = [
        FaultKind::Partition,
        FaultKind::Partial,
        FaultKind::Loss,
        FaultKind::Duplicate,
        FaultKind::Reorder,
        FaultKind::Crash,
        FaultKind::PowerLoss,
        FaultKind::Garbage,
        FaultKind::Nemesis,
    ];

    /// The kind's name in scenario text.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Partition => "partition",
            FaultKind::Partial => "partial",
            FaultKind::Loss => "loss",
            FaultKind::Duplicate => "duplicate",
            FaultKind::Reorder => "reorder",
            FaultKind::Crash => "crash",
            FaultKind::PowerLoss => "powerloss",
            FaultKind::Garbage => "garbage",
            FaultKind::Buggify => "buggify",
            FaultKind::Forge => "forge",
            FaultKind::Corrupt => "corrupt",
            FaultKind::CorruptDisk => "corrupt-disk",
            FaultKind::Nemesis => "nemesis",
            FaultKind::Clock => "clock",
        }
    }

    /// The kind with this name.
    pub fn from_name(name: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.name() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// The set of fault kinds a scenario uses (swarm testing: every scenario its own mix).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Weather(u16);

impl Weather {
    /// No faults at all.
    pub const CALM: Weather = Weather(0);

    /// Every fault kind.
    pub fn all() -> Self {
        FaultKind::ALL
            .into_iter()
            .fold(Weather::CALM, Weather::with)
    }

    /// Every fault kind any system can take ([`FaultKind::UNIVERSAL`]).
    pub fn universal() -> Self {
        FaultKind::UNIVERSAL
            .into_iter()
            .fold(Weather::CALM, Weather::with)
    }

    /// Whether `kind` is on.
    pub fn allows(self, kind: FaultKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// This weather with `kind` on.
    pub fn with(self, kind: FaultKind) -> Self {
        Weather(self.0 | kind.bit())
    }

    /// This weather with `kind` off.
    pub fn without(self, kind: FaultKind) -> Self {
        Weather(self.0 & !kind.bit())
    }

    /// The kinds that are on, in [`FaultKind::ALL`] order.
    pub fn kinds(self) -> impl Iterator<Item = FaultKind> {
        FaultKind::ALL.into_iter().filter(move |k| self.allows(*k))
    }

    /// Whether no fault kind is on.
    pub fn is_calm(self) -> bool {
        self.0 == 0
    }
}

impl Fault {
    /// The kind this fault belongs to (`None` for heals, which every weather allows).
    pub fn kind(&self) -> Option<FaultKind> {
        Some(match self {
            Fault::Isolate(_) | Fault::Split(_) | Fault::IsolateLeader | Fault::SplitLeader(_) => {
                FaultKind::Partition
            }
            Fault::Cut(..) | Fault::OneWay { .. } => FaultKind::Partial,
            Fault::Loss(_) => FaultKind::Loss,
            Fault::Duplicate(_) => FaultKind::Duplicate,
            Fault::Hold(..) | Fault::Release(..) | Fault::Latency(..) | Fault::Delay(_) => {
                FaultKind::Reorder
            }
            Fault::Crash(_)
            | Fault::CrashLeader { power_loss: false }
            | Fault::CrashAt {
                power_loss: false, ..
            } => FaultKind::Crash,
            Fault::PowerLoss(_)
            | Fault::CrashLeader { power_loss: true }
            | Fault::CrashAt {
                power_loss: true, ..
            } => FaultKind::PowerLoss,
            Fault::Buggify(true) => FaultKind::Buggify,
            Fault::Garbage(_) => FaultKind::Garbage,
            Fault::Forge(..) => FaultKind::Forge,
            Fault::Corrupt(_) => FaultKind::Corrupt,
            Fault::CorruptDisk(_) => FaultKind::CorruptDisk,
            Fault::BounceLeader
            | Fault::Flap(..)
            | Fault::Bridge
            | Fault::Ring
            | Fault::IsolatePrimaries => FaultKind::Nemesis,
            Fault::Skew(..) | Fault::SpreadClocks(_) | Fault::Drift(..) => FaultKind::Clock,
            Fault::Heal(..)
            | Fault::HealClocks
            | Fault::HealAll
            | Fault::Restart(_)
            | Fault::RestartAll
            | Fault::Buggify(false) => return None,
        })
    }

    /// Every node this fault names.
    pub fn nodes(&self) -> NodeSet {
        let one = |n: NodeId| NodeSet::default().with(n);
        match *self {
            Fault::Isolate(n)
            | Fault::Crash(n)
            | Fault::PowerLoss(n)
            | Fault::Restart(n)
            | Fault::Garbage(n)
            | Fault::CorruptDisk(n)
            | Fault::CrashAt { node: n, .. }
            | Fault::Skew(n, _)
            | Fault::Drift(n, _)
            | Fault::Forge(n, _) => one(n),
            Fault::Split(side) => side,
            Fault::Cut(a, b)
            | Fault::Heal(a, b)
            | Fault::Hold(a, b)
            | Fault::Release(a, b)
            | Fault::Latency(a, b, _)
            | Fault::Flap(a, b)
            | Fault::OneWay { from: a, to: b } => one(a).with(b),
            // The leader-targeted faults name no node: which one is decided at run time.
            Fault::HealAll
            | Fault::Loss(_)
            | Fault::Duplicate(_)
            | Fault::Delay(_)
            | Fault::IsolateLeader
            | Fault::SplitLeader(_)
            | Fault::CrashLeader { .. }
            | Fault::RestartAll
            | Fault::Buggify(_)
            | Fault::Corrupt(_)
            | Fault::BounceLeader
            | Fault::Bridge
            | Fault::Ring
            | Fault::IsolatePrimaries
            | Fault::SpreadClocks(_)
            | Fault::HealClocks => NodeSet::default(),
        }
    }
}

impl<Op> Scenario<Op> {
    /// Total simulated time the steps ask for, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.steps
            .iter()
            .map(|s| match s {
                Step::Wait { ms } => u64::from(*ms),
                _ => 0,
            })
            .sum()
    }

    /// Number of client operations.
    pub fn op_count(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Op { .. }))
            .count()
    }

    /// Checks the scenario's shape: cluster size, node and client indices, weather.
    pub fn validate(&self) -> Result<(), String> {
        if !(MIN_NODES..=MAX_NODES).contains(&self.nodes) {
            return Err(format!(
                "cluster size {} is outside {MIN_NODES}..={MAX_NODES}",
                self.nodes
            ));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let at = || format!("step {}", i + 1);
            match step {
                Step::Op { client, .. } if *client >= MAX_CLIENTS => {
                    return Err(format!(
                        "{}: client c{client} is not below c{MAX_CLIENTS}",
                        at()
                    ))
                }
                Step::Fault(fault) => {
                    if let Some(n) = fault.nodes().iter().find(|n| *n >= self.nodes) {
                        return Err(format!(
                            "{}: node n{n} does not exist in a {}-node cluster",
                            at(),
                            self.nodes
                        ));
                    }
                    match *fault {
                        Fault::Cut(a, b)
                        | Fault::Heal(a, b)
                        | Fault::Hold(a, b)
                        | Fault::Release(a, b)
                        | Fault::Latency(a, b, _)
                        | Fault::Flap(a, b)
                        | Fault::OneWay { from: a, to: b }
                            if a == b =>
                        {
                            return Err(format!("{}: a link needs two different nodes", at()))
                        }
                        Fault::Split(side)
                            if side.is_empty() || side.len() >= self.nodes.into() =>
                        {
                            return Err(format!(
                                "{}: a split needs a non-empty side smaller than the cluster",
                                at()
                            ))
                        }
                        Fault::SplitLeader(size) if size == 0 || size >= self.nodes => {
                            return Err(format!(
                                "{}: the leader's side needs 1 to {} nodes",
                                at(),
                                self.nodes - 1
                            ))
                        }
                        Fault::Loss(p)
                        | Fault::Duplicate(p)
                        | Fault::Delay(p)
                        | Fault::Corrupt(p)
                            if p > 100 =>
                        {
                            return Err(format!("{}: {p}% is not a probability", at()))
                        }
                        Fault::Skew(_, ms) if !(-MAX_SKEW_MS..=MAX_SKEW_MS).contains(&ms) => {
                            return Err(format!(
                                "{}: a skew of {ms}ms is beyond a day either way",
                                at()
                            ))
                        }
                        Fault::SpreadClocks(ms) if ms > MAX_SKEW_MS.unsigned_abs() => {
                            return Err(format!(
                                "{}: a spread of {ms}ms is beyond a day either way",
                                at()
                            ))
                        }
                        Fault::Drift(_, ppm) if !(MIN_RATE_PPM..=MAX_RATE_PPM).contains(&ppm) => {
                            return Err(format!(
                                "{}: a clock rate of {ppm} ppm is outside 0.1..=10",
                                at()
                            ))
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl fmt::Display for NodeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for n in self.iter() {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "n{n}")?;
        }
        Ok(())
    }
}
