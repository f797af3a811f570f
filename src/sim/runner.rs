//! The simulation driver: one scenario, one seeded turmoil `Sim`, one `step()` per tick.
//!
//! ```text
//! for step in scenario:           op → the client's queue; fault → turmoil / transport / disk;
//!                                 wait → sim.step() per tick, safety invariants after each
//! heal everything, restart nodes; step until the system is live, then send liveness probes
//! step until every op has finished, the probes having succeeded (bounded) → liveness
//! check the client history against the system's model → consistency
//! ```
//!
//! Everything that could differ between two runs of one scenario is derived from the
//! scenario's seed: turmoil's RNG (latency, scheduling order of tokio under `tokio_unstable`),
//! node RNGs, the transport's loss/duplication RNG, the reordering and garbage choices.

use super::clocks::Clocks;
use super::links::Links;
use super::nemesis::{ends_nemesis, Leadership, Move, Nemesis};
use crate::check::{HistoryVerdict, Violation};
use crate::history::{Event, EventType, History};
use crate::node::net::{Net, NetFaults, Transport};
use crate::node::points::{Armed, Points, WithPoints};
use crate::node::Disk;
use crate::report::{Effects, Failure, FailureKind, OpCounts, Outcome, Report};
use crate::report::{FaultRecord, LaneAddr, Recorder, Trace};
use crate::scenario::{Fault, FaultKind, NodeId, Scenario, Step, MAX_CLIENTS};
use crate::systems::property::harness;
use crate::systems::{properties_of, OpOf, Property, Selection};
use crate::systems::{
    Client, ClientContext, Liveness, NodeContext, OpResult, StepContext, System, Workload,
};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};
use tokio::sync::mpsc;

/// The port every node listens on.
pub const NODE_PORT: u16 = 7000;
/// First port of the client processes (client `c` uses `CLIENT_PORT + c`).
pub const CLIENT_PORT: u16 = 9000;
/// Port the garbage sender uses; forged messages come from it too.
const GARBAGE_PORT: u16 = 9100;

/// How a run is driven. The defaults are what `squall run` uses.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Record the readable trace (costs a little; off for fuzzing and chaos).
    pub trace: bool,
    /// Record what the HTML report draws — every frame, node state, fault and step — into
    /// [`Report::recording`] (and the trace with it). Off for fuzzing and chaos, where no
    /// recorder exists at all; on to write a report.
    pub record: bool,
    /// Simulated time per `sim.step()`; a whole number of milliseconds (TURMOIL.md §4).
    pub tick: Duration,
    /// Upper bound of the random per-message latency.
    pub max_latency: Duration,
    /// How long a client operation may take before it counts as indeterminate.
    pub op_deadline: Duration,
    /// How long the system may take to recover after everything heals.
    pub liveness_budget: Duration,
    /// Check the client history against the system's model.
    pub check_history: bool,
    /// Record the abstract protocol states visited (for fuzzing feedback).
    pub abstract_states: bool,
    /// Don't print node panics (they are reported as failures anyway); for chaos and
    /// shrinking, which run many failing scenarios.
    pub quiet_panics: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            trace: false,
            record: false,
            tick: Duration::from_millis(10),
            max_latency: Duration::from_millis(25),
            op_deadline: Duration::from_secs(1),
            liveness_budget: Duration::from_secs(10),
            check_history: true,
            abstract_states: false,
            quiet_panics: false,
        }
    }
}

/// A problem with the harness or the system's plumbing, not a property violation.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario is not valid for this system.
    #[error("invalid scenario: {0}")]
    Scenario(String),
    /// The harness could not run the scenario (a thread or process it needed, a child that
    /// hung): never evidence about the system.
    #[error("harness error: {0}")]
    Harness(String),
}

/// A fixed epoch so that anything reading `since_epoch` sees the same times every run.
const EPOCH_SECS: u64 = 1_700_000_000;

fn node_ip(n: NodeId) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, n + 1))
}

const CLIENT_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1));

/// Mixes a seed with a purpose tag (splitmix64), so that every RNG gets its own stream.
pub fn derive_seed(seed: u64, tag: u64) -> u64 {
    let mut z = seed ^ tag.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What the client host and the harness share.
struct ClientLog {
    history: History,
    ops: OpCounts,
    /// Operations enqueued but not finished.
    outstanding: u64,
    /// Per client: `info` results so far (a client's process id changes after each).
    infos: [u64; MAX_CLIENTS as usize],
    /// Probe operations that did not succeed.
    failed_probes: Vec<String>,
}

struct Queued<Op> {
    op: Op,
    describe: Described,
    probe: bool,
}

/// What the client host needs to know of an operation to record it; computed by the harness,
/// which holds the system (the host's tasks cannot borrow it).
struct Described {
    op: crate::systems::HistoryOp,
    read_only: bool,
    text: String,
}

thread_local! {
    /// The first panic message on this thread since the last step (see `install_panic_hook`).
    static FIRST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Whether the current run keeps node panics off stderr.
    static QUIET_PANICS: Cell<bool> = const { Cell::new(false) };
}

/// Wraps the process's panic hook (once) so the runner can name a node's own panic message;
/// the previous hook still runs (and under libFuzzer still aborts).
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a task panicked".to_string());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            FIRST_PANIC.with(|p| {
                let mut p = p.borrow_mut();
                if p.is_none() {
                    *p = Some(format!("{msg}{at}"));
                }
            });
            if !QUIET_PANICS.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs one scenario against `system` on the calling thread, with the thread's OS randomness
/// seeded from the scenario. Thread-local state left by earlier scenarios on this thread
/// persists: [`super::isolate::run_isolated`] gives a scenario a fresh thread or process.
pub fn run<S: System>(
    system: &S,
    scenario: &Scenario<OpOf<S>>,
    config: &RunConfig,
) -> Result<Report, RunError> {
    scenario.validate().map_err(RunError::Scenario)?;
    if scenario.system != system.name() {
        return Err(RunError::Scenario(format!(
            "scenario is for system `{}`, not `{}`",
            scenario.system,
            system.name()
        )));
    }
    let known: Vec<Property> = properties_of(system).into_iter().map(|(_, p)| p).collect();
    let selection = Selection::of(&scenario.check, &known).map_err(RunError::Scenario)?;
    let points = crate::systems::crash_point_names(system);
    for step in &scenario.steps {
        if let Step::Fault(Fault::CrashAt { point, .. }) = step {
            if !points.contains(&point.0) {
                return Err(RunError::Scenario(format!(
                    "unknown crash point `{}` for `{}`; known: {}",
                    point.0,
                    system.name(),
                    points.join(", ")
                )));
            }
        }
    }
    install_panic_hook();
    // OS randomness drawn on this thread comes from the scenario's seed (see `entropy`).
    super::entropy::seeded(derive_seed(scenario.seed, 3), || {
        QUIET_PANICS.with(|q| q.set(config.quiet_panics));
        let report = Runner::new(system, scenario, config, selection).run();
        QUIET_PANICS.with(|q| q.set(false));
        report
    })
}

struct Runner<'a, S: System> {
    system: &'a S,
    scenario: &'a Scenario<OpOf<S>>,
    config: &'a RunConfig,
    sim: turmoil::Sim<'a>,
    observer: S::Observer,
    checker: S::Checker,
    trace: Rc<RefCell<Trace>>,
    /// The links between nodes and the faults on them, with the view checkers read.
    links: Links,
    log: Rc<RefCell<ClientLog>>,
    queues: Vec<mpsc::UnboundedSender<Queued<OpOf<S>>>>,
    garbage: mpsc::UnboundedSender<(SocketAddr, Vec<u8>)>,
    disks: Vec<Disk>,
    /// Each node's crash points and buggify.
    points: Vec<Points>,
    /// Which nodes are down, and since when.
    down_since: Vec<Option<Duration>>,
    /// Every node's clock, and the clock faults' effects.
    clocks: Clocks,
    rng: Xoshiro256PlusPlus,
    effects: Effects,
    ticks: u64,
    fault_phases: Vec<(FaultKind, &'static str)>,
    abstract_state: u64,
    abstract_transitions: Vec<u64>,
    history_unknown: bool,
    /// The properties this run checks.
    selection: Selection,
    /// Properties not selected that were violated (noted in the trace once each).
    unchecked: Vec<String>,
    /// Forged messages sent, and whether one has been delivered.
    forgeries: super::forge::Forgeries,
    /// The nemesis that runs across ticks (`bounce leader`, `flap`), if any.
    nemesis: Option<Nemesis>,
    /// What the HTML report draws, when the run records ([`RunConfig::record`]).
    recorder: Option<Rc<RefCell<Recorder>>>,
}

impl<'a, S: System> Runner<'a, S> {
    fn new(
        system: &'a S,
        scenario: &'a Scenario<OpOf<S>>,
        config: &'a RunConfig,
        selection: Selection,
    ) -> Self {
        let n = scenario.nodes;
        let mut sim = turmoil::Builder::new()
            .rng_seed(scenario.seed)
            .epoch(UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
            .tick_duration(config.tick)
            // The harness bounds the run itself; turmoil's limit only applies to clients.
            .simulation_duration(Duration::from_secs(u64::from(u32::MAX)))
            .min_message_latency(Duration::ZERO)
            .max_message_latency(config.max_latency)
            // Datagrams beyond the receive queue are dropped silently: keep it out of the way.
            .udp_capacity(4096)
            .build();
        let observer = system.observer(n);
        let checker = system.checker(n);
        let trace = Rc::new(RefCell::new(Trace::new(config.trace || config.record)));
        let mut hosts: Vec<IpAddr> = (0..n).map(node_ip).collect();
        hosts.push(CLIENT_IP);
        let faults = Rc::new(RefCell::new(NetFaults::new(
            hosts,
            derive_seed(scenario.seed, 1),
        )));
        faults.borrow_mut().harness = Some(SocketAddr::new(CLIENT_IP, GARBAGE_PORT));
        let recorder = config
            .record
            .then(|| Rc::new(RefCell::new(recorder_for(n))));
        faults.borrow_mut().recorder.clone_from(&recorder);
        if scenario.clients_pinned {
            let homes = (0..MAX_CLIENTS).map(|k| usize::from(k % n)).collect();
            faults
                .borrow_mut()
                .pin_clients(CLIENT_IP, CLIENT_PORT, homes);
        }
        let peers: Vec<SocketAddr> = (0..n)
            .map(|i| SocketAddr::new(node_ip(i), NODE_PORT))
            .collect();
        let points: Vec<Points> = (0..n)
            .map(|i| Points::new(i, derive_seed(scenario.seed, 6000 + u64::from(i))))
            .collect();
        let disks: Vec<Disk> = points.iter().cloned().map(Disk::with_points).collect();
        let clocks = Clocks::new(n);

        for id in 0..n {
            let incarnation = Rc::new(Cell::new(0u32));
            let (peers, disk, observer, faults, points, clock) = (
                peers.clone(),
                disks[usize::from(id)].clone(),
                observer.clone(),
                faults.clone(),
                points[usize::from(id)].clone(),
                clocks.of(id),
            );
            let seed = scenario.seed;
            sim.host(node_ip(id), move || {
                let inc = incarnation.get();
                incarnation.set(inc + 1);
                let ctx = NodeContext {
                    id,
                    peers: peers.clone(),
                    disk: disk.clone(),
                    seed: derive_seed(seed, 1000 + u64::from(id) * 1000 + u64::from(inc)),
                    net: Net::Sim(faults.clone()),
                    incarnation: inc,
                    points: points.clone(),
                    // The machine's clock: a restart does not reset it.
                    clock: clock.clone(),
                };
                points.restart(ctx.seed);
                let (system, observer) = (system.clone(), observer.clone());
                // The node's crash points and buggify are "current" while its future is
                // polled, for the macros (`crate::node::points`).
                WithPoints::new(points.clone(), async move {
                    let node = system.start_node(ctx, observer).await;
                    node.map_err(|e| format!("node n{id}: {e}").into())
                })
            });
        }

        let log = Rc::new(RefCell::new(ClientLog {
            history: History::new(),
            ops: OpCounts::default(),
            outstanding: 0,
            infos: [0; MAX_CLIENTS as usize],
            failed_probes: Vec::new(),
        }));
        let mut queues = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..MAX_CLIENTS {
            let (tx, rx) = mpsc::unbounded_channel();
            queues.push(tx);
            receivers.push(rx);
        }
        let (garbage, garbage_rx) = mpsc::unbounded_channel();
        let receivers = Rc::new(RefCell::new(Some((receivers, garbage_rx))));
        {
            let (log, trace, faults, peers) =
                (log.clone(), trace.clone(), faults.clone(), peers.clone());
            let deadline = config.op_deadline.max(system.min_op_deadline());
            let seed = scenario.seed;
            let observer = observer.clone();
            sim.host(CLIENT_IP, move || {
                let taken = receivers.borrow_mut().take();
                let contexts: Vec<_> = (0..MAX_CLIENTS)
                    .map(|id| ClientContext {
                        id,
                        addr: SocketAddr::new(CLIENT_IP, CLIENT_PORT + u16::from(id)),
                        nodes: peers.clone(),
                        net: Net::Sim(faults.clone()),
                        seed: derive_seed(seed, 100 + u64::from(id)),
                    })
                    .collect();
                let (system, observer) = (system.clone(), observer.clone());
                let (log, trace, net) = (log.clone(), trace.clone(), Net::Sim(faults.clone()));
                async move {
                    let Some((receivers, garbage_rx)) = taken else {
                        return Err("the client host cannot be restarted".into());
                    };
                    let mut clients = Vec::with_capacity(contexts.len());
                    for ctx in contexts {
                        clients.push(system.connect_observed(ctx, observer.clone()).await?);
                    }
                    client_host(clients, receivers, garbage_rx, log, trace, net, deadline)
                        .await
                        .map_err(|e| e.into())
                }
            });
        }

        let mut links = Links::new((0..n).map(node_ip).collect(), faults);
        links.set_corruption_recovered(system.recovers_from_corruption());
        Runner {
            system,
            scenario,
            config,
            sim,
            observer,
            checker,
            trace,
            links,
            log,
            queues,
            garbage,
            disks,
            points,
            down_since: vec![None; usize::from(n)],
            clocks,
            rng: Xoshiro256PlusPlus::seed_from_u64(derive_seed(scenario.seed, 2)),
            effects: Effects::default(),
            ticks: 0,
            fault_phases: Vec::new(),
            abstract_state: 0,
            abstract_transitions: Vec::new(),
            history_unknown: false,
            selection,
            unchecked: Vec::new(),
            forgeries: super::forge::Forgeries::new(system.byzantine_tolerant()),
            nemesis: None,
            recorder,
        }
    }

    fn now(&self) -> Duration {
        self.sim.elapsed()
    }

    fn note(&self, args: fmt::Arguments<'_>) {
        let now = self.now();
        self.trace.borrow_mut().line(now, args);
    }

    fn run(mut self) -> Result<Report, RunError> {
        let outcome = self.run_phases();
        let trace = Rc::clone(&self.trace);
        if let Outcome::Fail(failure) = &outcome {
            trace
                .borrow_mut()
                .line(failure.at, format_args!("VIOLATION {failure}"));
        }
        let now = self.now();
        for since in self.down_since.iter().flatten() {
            self.effects.node_down_ms += (now - *since).as_millis() as u64;
        }
        let mut effects = self.effects;
        effects.add(&self.links.effects());
        self.clocks.sample(now);
        effects.clock_changes = self.clocks.changes();
        effects.clock_faulty_reads = self.clocks.faulty_reads();
        effects.clock_divergence_ms = self.clocks.divergence_ms();
        effects.buggified = self.points.iter().map(Points::buggified).sum();
        let text = trace.borrow().text().to_string();
        let recording = self
            .recorder
            .as_ref()
            .map(|r| std::mem::take(&mut *r.borrow_mut()).finish());
        let log = self.log.borrow();
        Ok(Report {
            outcome,
            trace: text,
            history: log.history.clone(),
            effects,
            ops: log.ops,
            sim_time: now,
            ticks: self.ticks,
            fault_phases: std::mem::take(&mut self.fault_phases),
            abstract_transitions: std::mem::take(&mut self.abstract_transitions),
            history_unknown: self.history_unknown,
            recording,
        })
    }

    fn run_phases(&mut self) -> Outcome {
        let steps = &self.scenario.steps;
        for (i, step) in steps.iter().enumerate() {
            if let Some(r) = &self.recorder {
                r.borrow_mut().step(self.now(), i + 1, step.to_string());
            }
            let result = match step {
                Step::Op { client, op } => {
                    self.enqueue(*client, op.clone(), false);
                    Ok(())
                }
                Step::Fault(fault) => {
                    self.note(format_args!("step {}: {fault}", i + 1));
                    if let Some(kind) = fault.kind() {
                        let phase = self.system.phase(&self.checker, &self.observer);
                        self.fault_phases.push((kind, phase));
                    }
                    self.apply(*fault);
                    self.refresh_faults();
                    Ok(())
                }
                Step::Wait { ms } => {
                    let until = self.now() + Duration::from_millis(u64::from(*ms));
                    let mut r = Ok(());
                    while self.now() < until {
                        if let Err(f) = self.tick(Some(i)) {
                            r = Err(f);
                            break;
                        }
                    }
                    r
                }
            };
            if let Err(failure) = result {
                return Outcome::Fail(failure);
            }
        }
        if let Err(failure) = self.liveness_phase() {
            return Outcome::Fail(failure);
        }
        if self.config.check_history {
            if let Some(failure) = self.check_history() {
                return Outcome::Fail(failure);
            }
        }
        Outcome::Pass
    }

    /// One `sim.step()` and the safety invariants.
    fn tick(&mut self, step: Option<usize>) -> Result<(), Failure> {
        let stepped = catch_unwind(AssertUnwindSafe(|| self.sim.step()));
        if stepped.is_ok() {
            FIRST_PANIC.with(|p| p.borrow_mut().take());
        }
        self.ticks += 1;
        let failure = |kind, property: &str, detail: String, at| Failure {
            kind,
            property: property.to_string(),
            detail,
            step: step.map(|s| s + 1),
            at,
        };
        match stepped {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(failure(
                    FailureKind::Safety,
                    harness::NO_NODE_ERRORS.name,
                    e.to_string(),
                    self.now(),
                ))
            }
            Err(panic) => {
                // tokio re-panics with its own message; the node's own panic is the first one.
                let msg = FIRST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| {
                        panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "a task panicked".to_string())
                    });
                return Err(failure(
                    FailureKind::Safety,
                    harness::NO_PANICS.name,
                    msg,
                    self.now(),
                ));
            }
        }
        self.links.finish_releases(&mut self.sim);
        self.crash_fired_points();
        if self.forgeries.watching() {
            self.watch_forgeries();
        }
        self.advance_nemesis();
        if let Some(detail) = self.links.corrupt_accepted().filter(|_| {
            self.selection
                .includes(harness::CORRUPT_FRAMES_REJECTED.name)
        }) {
            return Err(failure(
                FailureKind::Safety,
                harness::CORRUPT_FRAMES_REJECTED.name,
                detail,
                self.now(),
            ));
        }
        let now = self.now();
        if self.selection.includes(harness::BOUNDED_MEMORY.name) {
            let over = super::memory::over_limit(self.system, &self.observer, &self.disks);
            if let Some(detail) = over {
                return Err(failure(
                    FailureKind::Safety,
                    harness::BOUNDED_MEMORY.name,
                    detail,
                    now,
                ));
            }
        }
        let mut trace = self.trace.borrow_mut();
        let mut ctx = StepContext {
            step: step.unwrap_or(self.scenario.steps.len()),
            now,
            trace: &mut trace,
            faults: self.links.view(),
            selection: &self.selection,
        };
        let checked = self
            .system
            .check_step(&mut self.checker, &self.observer, &mut ctx);
        drop(trace);
        if let Err(v) = checked {
            if self.selection.includes(&v.property) {
                let kind = if v.liveness {
                    FailureKind::Liveness
                } else {
                    FailureKind::Safety
                };
                return Err(failure(kind, &v.property, v.detail, now));
            }
            self.not_checked(&v);
        }
        if self.recorder.is_some() {
            self.record_states();
        }
        if self.config.abstract_states {
            let state = self.system.abstract_state(&self.checker, &self.observer);
            if state != self.abstract_state {
                // A transition, so that the feedback sees orderings, not just states.
                self.abstract_transitions
                    .push(self.abstract_state.rotate_left(17) ^ state);
                self.abstract_state = state;
            }
        }
        Ok(())
    }

    fn enqueue(&mut self, client: u8, op: OpOf<S>, probe: bool) {
        self.log.borrow_mut().outstanding += 1;
        // The client host never exits while the harness runs, so its queue stays open.
        let describe = Described {
            op: S::Workload::history_op(&op),
            read_only: S::Workload::is_read_only(&op),
            text: op.to_string(),
        };
        let _ = self.queues[usize::from(client)].send(Queued {
            op,
            describe,
            probe,
        });
    }

    fn apply(&mut self, fault: Fault) {
        let n = self.scenario.nodes;
        if ends_nemesis(&fault) {
            self.nemesis = None;
        }
        match fault {
            Fault::Isolate(x) => {
                for y in (0..n).filter(|y| *y != x) {
                    self.links.partition_both(&mut self.sim, x, y);
                }
            }
            Fault::Split(side) => {
                for a in side.iter() {
                    for b in (0..n).filter(|b| !side.contains(*b)) {
                        self.links.partition_both(&mut self.sim, a, b);
                    }
                }
            }
            Fault::Cut(a, b) => self.links.partition_both(&mut self.sim, a, b),
            Fault::OneWay { from, to } => {
                self.links
                    .partition_oneway(&mut self.sim, &mut self.rng, from, to)
            }
            Fault::Heal(a, b) => self.links.heal(&mut self.sim, &mut self.rng, a, b),
            Fault::HealAll => self.links.heal_all(&mut self.sim, &mut self.rng),
            Fault::Loss(p) => self.links.set_loss(p),
            Fault::Duplicate(p) => self.links.set_duplicate(p),
            Fault::Delay(p) => self.links.set_delay(p),
            Fault::Hold(a, b) => self.links.hold(&mut self.sim, a, b),
            Fault::Release(a, b) => self.links.release(&mut self.sim, &mut self.rng, a, b),
            Fault::Latency(a, b, ms) => {
                let latency = Duration::from_millis(u64::from(ms));
                let max = self.config.max_latency;
                self.links.set_latency(&mut self.sim, a, b, latency, max);
            }
            Fault::Crash(x) => self.stop(x, false),
            Fault::PowerLoss(x) => self.stop(x, true),
            Fault::Restart(x) => self.restart(x),
            Fault::IsolateLeader => {
                self.links.repair_cuts(&mut self.sim);
                if let Some(x) = self.leader() {
                    self.apply(Fault::Isolate(x));
                }
            }
            Fault::SplitLeader(size) => {
                self.links.repair_cuts(&mut self.sim);
                if let Some(x) = self.leader() {
                    let side = (0..size).fold(crate::scenario::NodeSet::default(), |s, k| {
                        s.with((x + k) % n)
                    });
                    self.apply(Fault::Split(side));
                }
            }
            Fault::CrashLeader { power_loss } => {
                if let Some(x) = self.leader() {
                    self.stop(x, power_loss);
                }
            }
            Fault::RestartAll => (0..n).for_each(|x| self.restart(x)),
            Fault::CrashAt {
                node,
                point,
                power_loss,
            } => {
                self.effects.points_armed += 1;
                self.points[usize::from(node)].arm(Some(Armed {
                    point: point.0,
                    power_loss,
                }));
            }
            Fault::Buggify(on) => self.points.iter().for_each(|p| p.set_buggify(on)),
            Fault::Corrupt(p) => self.links.set_corrupt(p),
            Fault::CorruptDisk(x) => {
                let disk = &self.disks[usize::from(x)];
                match super::corrupt::corrupt_disk(disk, &mut self.rng) {
                    Some(what) => {
                        self.effects.disk_corruptions += 1;
                        self.links.mark_corrupted(x);
                        self.note(format_args!("  n{x}: {what}"));
                    }
                    None => self.note(format_args!("  n{x} has synced nothing to corrupt")),
                }
            }
            Fault::BounceLeader
            | Fault::Flap(..)
            | Fault::Bridge
            | Fault::Ring
            | Fault::IsolatePrimaries => {
                let leader = match fault {
                    Fault::BounceLeader | Fault::Bridge => self.leader(),
                    _ => None,
                };
                let primaries = match fault {
                    Fault::IsolatePrimaries => self.primaries(),
                    _ => Vec::new(),
                };
                let seen = Leadership {
                    leader,
                    primaries: &primaries,
                };
                let (nemesis, moves) = Nemesis::start(fault, n, self.now(), &seen);
                self.nemesis = nemesis;
                self.make_moves(moves);
            }
            Fault::Garbage(x) => {
                let len = self.rng.random_range(1..=256usize);
                let bytes: Vec<u8> = (0..len).map(|_| self.rng.random()).collect();
                self.effects.garbage += 1;
                let _ = self
                    .garbage
                    .send((SocketAddr::new(node_ip(x), NODE_PORT), bytes));
            }
            Fault::Forge(x, k) => self.forge(x, k),
            Fault::Skew(x, ms) => self.clocks.skew(x, ms, self.now()),
            Fault::SpreadClocks(ms) => self.clocks.spread(ms, self.now()),
            Fault::Drift(x, ppm) => self.clocks.drift(x, ppm, self.now()),
            Fault::HealClocks => self.clocks.heal(self.now()),
        }
    }

    /// Sends node `x` its `k`-th forgery, from the harness's address ([`super::forge`]).
    fn forge(&mut self, x: NodeId, k: u8) {
        let seed = self.scenario.seed;
        let Some(draw) = super::forge::draw(self.system, seed, self.scenario.nodes, x, k) else {
            self.note(format_args!(
                "  nothing forged (the system takes no forged messages)"
            ));
            return;
        };
        self.note(format_args!(
            "  forged as from n{}: {}",
            draw.sender, draw.forged.description
        ));
        let events = self.log.borrow().history.events.len();
        self.forgeries.sent(events);
        let peer = SocketAddr::new(node_ip(draw.sender), NODE_PORT);
        let _ = self
            .garbage
            .send((SocketAddr::new(node_ip(x), NODE_PORT), draw.datagram(peer)));
    }

    /// After a tick of a run that sent forgeries: at the first delivery, the checks that no
    /// longer apply stop ([`super::forge`]).
    fn watch_forgeries(&mut self) {
        let delivered = self.links.effects().forged > 0;
        let events = self.log.borrow().history.events.len();
        if !self.forgeries.after_tick(delivered, events) {
            return;
        }
        if self.system.byzantine_tolerant() {
            self.note(format_args!(
                "forged message delivered (the system claims byzantine tolerance: every property stays on)"
            ));
            return;
        }
        let known: Vec<Property> = properties_of(self.system)
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        self.selection = self.forgeries.selection_after(&self.selection, &known);
        self.note(format_args!(
            "forged message delivered: only the harness's properties are checked from here, \
             and the history up to here"
        ));
    }

    /// Recomputes the fault state checkers see; `since` moves only if something changed.
    fn refresh_faults(&mut self) {
        let up = self.down_since.iter().map(Option::is_none).collect();
        let now = self.now();
        self.links.refresh(up, now);
        if let Some(r) = &self.recorder {
            r.borrow_mut().faults(fault_record(self.links.view(), now));
        }
    }

    /// The node a leader-targeted fault hits, as the system reports it; noted in the trace.
    fn leader(&self) -> Option<NodeId> {
        let leader = self
            .system
            .leader(&self.checker, &self.observer)
            .filter(|x| *x < self.scenario.nodes);
        match leader {
            Some(x) => self.note(format_args!("  the leader is n{x}")),
            None => self.note(format_args!("  there is no leader")),
        }
        leader
    }

    /// The nodes that believe they lead, as the system reports them (running nodes only).
    fn primaries(&self) -> Vec<NodeId> {
        let mut primaries = self.system.primaries(&self.checker, &self.observer);
        primaries.retain(|x| *x < self.scenario.nodes);
        primaries.sort_unstable();
        primaries.dedup();
        primaries
    }

    /// Advances a running nemesis after a tick ([`super::nemesis`]).
    fn advance_nemesis(&mut self) {
        let Some(mut nemesis) = self.nemesis.take() else {
            return;
        };
        let (leader, primaries) = if nemesis.follows_leadership() {
            let leader = self
                .system
                .leader(&self.checker, &self.observer)
                .filter(|x| *x < self.scenario.nodes);
            (leader, self.primaries())
        } else {
            (None, Vec::new())
        };
        let seen = Leadership {
            leader,
            primaries: &primaries,
        };
        let (moves, done) = nemesis.advance(self.now(), &seen);
        if !done {
            self.nemesis = Some(nemesis);
        }
        if !moves.is_empty() {
            self.make_moves(moves);
            self.refresh_faults();
        }
    }

    /// Makes a nemesis's moves on the links.
    fn make_moves(&mut self, moves: Vec<Move>) {
        for m in moves {
            if m.is_link_change() {
                self.effects.nemesis_moves += 1;
            }
            match m {
                Move::RepairCuts => self.links.repair_cuts(&mut self.sim),
                // Not through `apply`: an `isolate` step would end the nemesis itself.
                Move::Isolate(x) => {
                    for y in (0..self.scenario.nodes).filter(|y| *y != x) {
                        self.links.partition_both(&mut self.sim, x, y);
                    }
                }
                Move::Cut(a, b) => self.links.partition_both(&mut self.sim, a, b),
                Move::OneWay(from, to) => {
                    self.links
                        .partition_oneway(&mut self.sim, &mut self.rng, from, to)
                }
                Move::Heal(a, b) => self.links.heal(&mut self.sim, &mut self.rng, a, b),
                Move::Note(line) => self.note(format_args!("{line}")),
                Move::Bounced => self.effects.bounced += 1,
            }
        }
    }

    fn stop(&mut self, x: NodeId, power_loss: bool) {
        let ip = node_ip(x);
        if !self.sim.is_host_running(ip) {
            return;
        }
        self.sim.crash(ip);
        self.down_since[usize::from(x)] = Some(self.now());
        if power_loss {
            self.effects.power_losses += 1;
            let disk = &self.disks[usize::from(x)];
            self.effects.lost_writes += disk.power_loss();
            // Half the power losses strike in the middle of an append.
            if self.rng.random_bool(0.5) {
                let len = self.rng.random_range(1..=64usize);
                if disk.tear(len) > 0 {
                    self.effects.torn_tails += 1;
                }
            }
        } else {
            self.effects.crashes += 1;
        }
    }

    fn restart(&mut self, x: NodeId) {
        let ip = node_ip(x);
        if self.sim.is_host_running(ip) {
            return;
        }
        self.sim.bounce(ip);
        self.effects.restarts += 1;
        if let Some(since) = self.down_since[usize::from(x)].take() {
            self.effects.node_down_ms += (self.now() - since).as_millis() as u64;
        }
    }

    /// Heals everything, restarts every node, waits (bounded) until the system is live, sends
    /// the probes, and waits until every operation has finished.
    fn liveness_phase(&mut self) -> Result<(), Failure> {
        let (recovery, progress) = (
            self.selection.includes(harness::RECOVERY_AFTER_HEAL.name),
            self.selection.includes(harness::PROGRESS_AFTER_HEAL.name),
        );
        if !recovery && !progress {
            return Ok(());
        }
        self.note(format_args!("liveness: heal all, restart every node"));
        if let Some(r) = &self.recorder {
            r.borrow_mut().liveness(self.now());
        }
        self.nemesis = None;
        let now = self.now();
        self.clocks.heal(now);
        for p in &self.points {
            p.arm(None);
            p.set_buggify(false);
        }
        self.links.heal_all(&mut self.sim, &mut self.rng);
        self.links
            .reset_latencies(&mut self.sim, self.config.max_latency);
        for x in 0..self.scenario.nodes {
            self.restart(x);
        }
        self.refresh_faults();
        // As Jepsen's final reads: first the system recovers (in Raft, a leader with a quorum
        // commits an entry of its term), then the probes must succeed. Probing at once would
        // judge the election races that follow a heal (seven nodes can take several rounds of
        // them, a second or more) rather than whether the system came back.
        let mut deadline = self.now() + self.config.liveness_budget;
        let mut probed = false;
        loop {
            let live = self.system.liveness(&self.checker, &self.observer);
            if let Liveness::Impossible(why) = live {
                return self.not_expected_live(&why);
            }
            if live == Liveness::Live && !probed {
                probed = true;
                // A late recovery still gives the probes their full operation deadline.
                let op_deadline = self.config.op_deadline.max(self.system.min_op_deadline());
                deadline = deadline.max(self.now() + op_deadline);
                for c in 0..MAX_CLIENTS {
                    if let Some(op) = S::Workload::liveness_probe(c) {
                        self.enqueue(c, op, true);
                    }
                }
            }
            let outstanding = self.log.borrow().outstanding;
            if live == Liveness::Live && probed && outstanding == 0 {
                break;
            }
            if self.now() >= deadline && !recovery {
                self.note(format_args!("liveness: not recovered (not checked)"));
                break;
            }
            if self.now() >= deadline {
                let why = match live {
                    Liveness::Waiting(why) => why,
                    Liveness::Live => format!("{outstanding} client operation(s) never finished"),
                    Liveness::Impossible(why) => why,
                };
                return Err(Failure {
                    kind: FailureKind::Liveness,
                    property: harness::RECOVERY_AFTER_HEAL.name.to_string(),
                    detail: format!(
                        "not live {:.1}s after everything healed: {why}",
                        self.config.liveness_budget.as_secs_f64()
                    ),
                    step: None,
                    at: self.now(),
                });
            }
            self.tick(None)?;
        }
        let failed = self.log.borrow().failed_probes.clone();
        if !failed.is_empty() && progress {
            return Err(Failure {
                kind: FailureKind::Liveness,
                property: harness::PROGRESS_AFTER_HEAL.name.to_string(),
                detail: format!("liveness probe(s) did not succeed: {}", failed.join("; ")),
                step: None,
                at: self.now(),
            });
        }
        self.note(format_args!("liveness: recovered"));
        Ok(())
    }

    /// The system says it cannot recover, by design, after what the run did: noted as
    /// expected, no probes; the operations in flight are given their deadline to finish so
    /// that the history is complete.
    fn not_expected_live(&mut self, why: &str) -> Result<(), Failure> {
        self.note(format_args!("liveness: not expected ({why})"));
        let deadline = self.now() + self.config.op_deadline.max(self.system.min_op_deadline());
        while self.log.borrow().outstanding > 0 && self.now() < deadline {
            self.tick(None)?;
        }
        Ok(())
    }

    /// Crashes every node that passed its armed crash point during the last step (it has been
    /// frozen since: `crate::node::points`).
    fn crash_fired_points(&mut self) {
        let mut crashed = false;
        for x in 0..self.scenario.nodes {
            if let Some(armed) = self.points[usize::from(x)].take_fired() {
                self.effects.points_fired += 1;
                let what = if armed.power_loss {
                    "lost power"
                } else {
                    "crashed"
                };
                self.note(format_args!("n{x} {what} at {}", armed.point));
                self.stop(x, armed.power_loss);
                crashed = true;
            }
        }
        if crashed {
            self.refresh_faults();
        }
    }

    /// A violation of a property the run does not check: noted once per property.
    fn not_checked(&mut self, v: &Violation) {
        if !self.unchecked.contains(&v.property) {
            self.unchecked.push(v.property.clone());
            let why = if self.forgeries.honest_events().is_some() {
                "suspended after a forgery"
            } else {
                "not selected"
            };
            self.note(format_args!(
                "not checked ({why}): {}: {}",
                v.property, v.detail
            ));
        }
    }

    fn check_history(&mut self) -> Option<Failure> {
        if let Some(failure) = self.check_workload_history() {
            return Some(failure);
        }
        // Only what the system recorded before the first forgery was delivered would be
        // honest, and the registry does not say what that was: skipped then.
        if self.forgeries.honest_events().is_some() {
            return None;
        }
        let selection = &self.selection;
        let verdict = self.system.check_run(&self.checker, &self.observer, &|p| {
            selection.includes(p.name)
        });
        match verdict {
            Some(v) => Some(Failure {
                kind: FailureKind::Consistency,
                property: v.property,
                detail: v.detail,
                step: None,
                at: self.now(),
            }),
            None => None,
        }
    }

    fn check_workload_history(&mut self) -> Option<Failure> {
        let own = S::Workload::history_properties();
        if !own.is_empty() {
            let selection = &self.selection;
            let verdict = S::Workload::check_history(&self.log.borrow().history, &|p| {
                selection.includes(p.name)
            });
            if let Some(v) = verdict {
                return Some(Failure {
                    kind: FailureKind::Consistency,
                    property: v.property,
                    detail: v.detail,
                    step: None,
                    at: self.now(),
                });
            }
            let names: Vec<&str> = own.iter().map(|p| p.name).collect();
            self.note(format_args!("history: {}: hold", names.join(", ")));
        }
        let model = S::Workload::model()?;
        if !self.selection.includes(harness::LINEARIZABILITY.name) {
            return None;
        }
        let honest = self.forgeries.honest_events();
        let verdict = {
            let log = self.log.borrow();
            match honest {
                // Only what happened before the first forgery was delivered ([`super::forge`]).
                Some(n) => {
                    let prefix = crate::history::History {
                        events: log.history.events[..n.min(log.history.events.len())].to_vec(),
                    };
                    crate::check::history_verdict(model, &prefix)
                }
                None => crate::check::history_verdict(model, &log.history),
            }
        };
        match verdict {
            HistoryVerdict::Consistent => {
                match honest {
                    Some(n) => self.note(format_args!(
                        "history: linearizable up to the first forgery ({n} of {} events, {model:?} model)",
                        self.log.borrow().history.events.len()
                    )),
                    None => self.note(format_args!("history: linearizable ({model:?} model)")),
                }
                None
            }
            HistoryVerdict::Unknown(why) => {
                self.note(format_args!(
                    "history: unknown within the check's budget ({why})"
                ));
                self.history_unknown = true;
                None
            }
            HistoryVerdict::Violated(v) => {
                self.record_explanation(model);
                Some(Failure {
                    kind: FailureKind::Consistency,
                    property: v.property,
                    detail: v.detail,
                    step: None,
                    at: self.now(),
                })
            }
        }
    }

    /// Records what every node publishes and the cluster's phase, after a tick of a
    /// recording run.
    fn record_states(&self) {
        let Some(r) = &self.recorder else {
            return;
        };
        let now = self.now();
        let phase = self.system.phase(&self.checker, &self.observer);
        let mut r = r.borrow_mut();
        r.phase(now, phase);
        for x in 0..self.scenario.nodes {
            let state = if self.down_since[usize::from(x)].is_some() {
                "down".to_string()
            } else {
                self.system
                    .node_state(&self.checker, &self.observer, x)
                    .unwrap_or_default()
            };
            r.state(now, x, state);
        }
    }

    /// Records, for the report, why the history is not linearizable (the check runs again:
    /// only for a recording run that failed it).
    fn record_explanation(&self, model: crate::check::model::ModelKind) {
        let Some(r) = &self.recorder else {
            return;
        };
        let explanation = {
            let log = self.log.borrow();
            let events = match self.forgeries.honest_events() {
                Some(n) => &log.history.events[..n.min(log.history.events.len())],
                None => &log.history.events[..],
            };
            let history = History {
                events: events.to_vec(),
            };
            crate::check::history_explanation(model, &history)
        };
        if let Some(e) = explanation {
            r.borrow_mut().explained((&*e).into());
        }
    }
}

/// A recorder whose lanes are the nodes, the client processes and the harness.
fn recorder_for(nodes: u8) -> Recorder {
    let mut lanes: Vec<String> = (0..nodes).map(|x| format!("n{x}")).collect();
    let mut addrs: Vec<LaneAddr> = (0..nodes)
        .map(|x| LaneAddr {
            addr: SocketAddr::new(node_ip(x), NODE_PORT),
            by_port: false,
            lane: u16::from(x),
        })
        .collect();
    for c in 0..MAX_CLIENTS {
        addrs.push(LaneAddr {
            addr: SocketAddr::new(CLIENT_IP, CLIENT_PORT + u16::from(c)),
            by_port: true,
            lane: lanes.len() as u16,
        });
        lanes.push(format!("c{c}"));
    }
    lanes.push("harness".to_string());
    Recorder::new(lanes, addrs)
}

/// The client host: one task per client process, each performing its queued operations one
/// at a time and recording them; plus the garbage sender.
async fn client_host<W: Workload, C: Client<W>>(
    clients: Vec<C>,
    receivers: Vec<mpsc::UnboundedReceiver<Queued<W::Op>>>,
    mut garbage: mpsc::UnboundedReceiver<(SocketAddr, Vec<u8>)>,
    log: Rc<RefCell<ClientLog>>,
    trace: Rc<RefCell<Trace>>,
    net: Net,
    deadline: Duration,
) -> std::io::Result<()> {
    let base = tokio::time::Instant::now();
    for ((id, mut client), mut rx) in clients.into_iter().enumerate().zip(receivers) {
        let (log, trace) = (log.clone(), trace.clone());
        tokio::task::spawn_local(async move {
            while let Some(queued) = rx.recv().await {
                let Queued {
                    op,
                    describe,
                    probe,
                } = queued;
                let now = || base.elapsed();
                let process = {
                    let mut log = log.borrow_mut();
                    let process = id as u64 + u64::from(MAX_CLIENTS) * log.infos[id];
                    log.history.push(Event {
                        process,
                        kind: EventType::Invoke,
                        f: describe.op.f,
                        key: describe.op.key.clone(),
                        value: describe.op.value.clone(),
                        time: now().as_nanos() as u64,
                    });
                    process
                };
                trace
                    .borrow_mut()
                    .line(now(), format_args!("c{id} invoke {}", describe.text));
                let result = match tokio::time::timeout(deadline, client.invoke(&op)).await {
                    Ok(result) => result,
                    Err(_) if describe.read_only => OpResult::Fail("timed out".to_string()),
                    Err(_) => OpResult::Unknown("timed out".to_string()),
                };
                let (kind, value) = match &result {
                    OpResult::Ok(v) => (EventType::Ok, v.clone()),
                    OpResult::Fail(_) => (EventType::Fail, describe.op.value.clone()),
                    OpResult::Unknown(_) => (EventType::Info, describe.op.value.clone()),
                };
                match &result {
                    OpResult::Ok(v) => trace
                        .borrow_mut()
                        .line(now(), format_args!("c{id} ok {} -> {v}", describe.text)),
                    OpResult::Fail(why) => trace
                        .borrow_mut()
                        .line(now(), format_args!("c{id} fail {}: {why}", describe.text)),
                    OpResult::Unknown(why) => trace
                        .borrow_mut()
                        .line(now(), format_args!("c{id} info {}: {why}", describe.text)),
                }
                let mut log = log.borrow_mut();
                log.history.push(Event {
                    process,
                    kind,
                    f: describe.op.f,
                    key: describe.op.key,
                    value,
                    time: now().as_nanos() as u64,
                });
                match kind {
                    EventType::Ok => log.ops.ok += 1,
                    EventType::Fail => log.ops.fail += 1,
                    _ => {
                        log.ops.info += 1;
                        log.infos[id] += 1;
                    }
                }
                if probe && kind != EventType::Ok {
                    log.failed_probes
                        .push(format!("c{id} {}: {result:?}", describe.text));
                }
                log.outstanding -= 1;
            }
        });
    }
    let sender = Transport::bind(&net, SocketAddr::new(CLIENT_IP, GARBAGE_PORT)).await?;
    while let Some((to, bytes)) = garbage.recv().await {
        sender.send(to, &bytes).await?;
    }
    // The harness dropped its end: the run is over.
    Ok(())
}

/// The network faults in force, as the report draws them.
fn fault_record(view: &crate::systems::Faults, now: Duration) -> FaultRecord {
    let n = view.up.len();
    let pairs = |keep: &dyn Fn(usize, usize) -> bool| -> Vec<[u8; 2]> {
        (0..n)
            .flat_map(|a| (0..n).map(move |b| (a, b)))
            .filter(|&(a, b)| a != b && keep(a, b))
            .map(|(a, b)| [a as u8, b as u8])
            .collect()
    };
    let at = |m: &Vec<Vec<bool>>, a: usize, b: usize| m.get(a).and_then(|r| r.get(b)).copied();
    FaultRecord {
        at: crate::report::micros(now),
        cut: pairs(&|a, b| at(&view.reach, a, b) == Some(false)),
        slow: pairs(&|a, b| {
            at(&view.reach, a, b) == Some(true) && at(&view.links, a, b) == Some(false)
        }),
        down: (0..n).filter(|x| !view.up[*x]).map(|x| x as u8).collect(),
        loss: view.loss_percent,
        duplicate: view.duplicate_percent,
        delay: view.delay_percent,
        corrupt: view.corrupt_percent,
    }
}
