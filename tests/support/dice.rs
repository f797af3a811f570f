//! A system whose nodes draw randomness squall never hands them, as third-party code does:
//! std's `RandomState` (the iteration order of a `HashMap`), `rand`'s thread RNG, the
//! `getrandom` crate (0.3, and 0.2, which makes the system call itself), and
//! `futures::select!`, whose branch order comes from a thread-local
//! PRNG seeded from a process-wide counter. Each node publishes what it drew and the checker
//! writes every draw into the trace, so two runs of a scenario have the same trace only if
//! every source gave the same values.
//!
//! With `dice_property` on, a draw below a threshold violates a made-up property: a failure
//! that depends on nothing but the (seeded) randomness.

use futures_util::FutureExt;
use rand::Rng;
use squall::check::model::ModelKind;
use squall::check::Violation;
use squall::history::{Function, Value};
use squall::systems::Isolation;
use squall::systems::{
    Client, ClientContext, Liveness, NodeContext, OpResult, StepContext, System,
};
use squall::workload::{HistoryOp, Workload};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::rc::Rc;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The only operation: a client does nothing (the nodes do the drawing).
#[derive(Clone, Debug, PartialEq, Eq, arbitrary::Arbitrary)]
pub struct Noop;

impl fmt::Display for Noop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("noop")
    }
}

impl FromStr for Noop {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "noop" => Ok(Noop),
            other => Err(format!("expected `noop`, found `{other}`")),
        }
    }
}

/// The workload: clients do nothing, and no history model applies.
pub struct Idle;

impl Workload for Idle {
    type Op = Noop;
    const NAME: &'static str = "idle";

    fn history_op(_op: &Noop) -> HistoryOp {
        HistoryOp {
            f: Function::Read,
            key: None,
            value: Value::Nil,
        }
    }

    fn is_read_only(_op: &Noop) -> bool {
        true
    }

    fn model() -> Option<ModelKind> {
        None
    }
}

/// Per node: the draws not yet written to the trace.
pub type Draws = Rc<RefCell<Vec<Vec<String>>>>;

/// What the nodes publish: their draws, and this run's position among the runs of this
/// process (a per-process counter, as a third-party crate might keep).
#[derive(Clone)]
pub struct Observed {
    draws: Draws,
    run_in_process: u64,
}

/// Runs started in this process so far.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// How many runs this process has started.
#[allow(dead_code)]
pub fn runs_so_far() -> u64 {
    RUNS.load(Ordering::Relaxed)
}

/// Which sources the nodes draw from.
#[derive(Clone, Copy)]
pub struct Dice {
    /// `futures::select!` (a per-process counter seeds it: needs a process per scenario).
    pub select: bool,
    /// Fail the run when a node's `rand` draw is below `u32::MAX / threshold`.
    pub dice_property: Option<u32>,
    /// Fail the run with this index among the runs of its process (see [`runs_so_far`]): a
    /// failure that depends on the runs before it, so it never replays on its own.
    pub fail_run: Option<u64>,
    /// Where chaos runs scenarios by default.
    pub isolation: Isolation,
}

impl Default for Dice {
    fn default() -> Self {
        Dice {
            select: true,
            dice_property: None,
            fail_run: None,
            isolation: Isolation::Process,
        }
    }
}

/// One round of draws from every source, as text.
async fn draw(select: bool) -> String {
    let map: HashMap<u32, ()> = (0..8).map(|k| (k, ())).collect();
    let order: Vec<u32> = map.keys().copied().collect();
    let thread_rng: u32 = rand::rng().random();
    let mut bytes = [0u8; 4];
    let os = match getrandom::fill(&mut bytes) {
        Ok(()) => u32::from_le_bytes(bytes).to_string(),
        Err(e) => format!("error {e}"),
    };
    let mut old = [0u8; 4];
    let syscall = match getrandom02::getrandom(&mut old) {
        Ok(()) => u32::from_le_bytes(old).to_string(),
        Err(e) => format!("error {e}"),
    };
    let branch = if select {
        futures_util::select! {
            a = futures_util::future::ready(0u8).fuse() => a,
            b = futures_util::future::ready(1u8).fuse() => b,
        }
    } else {
        0
    };
    format!(
        "order {order:?} rand {thread_rng} getrandom {os} getrandom-0.2 {syscall} select {branch}"
    )
}

async fn node(ctx: NodeContext, draws: Draws, select: bool) -> io::Result<()> {
    let id = usize::from(ctx.id);
    loop {
        let drawn = draw(select).await;
        draws.borrow_mut()[id].push(drawn);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A client that does nothing.
pub struct NoopClient;

impl Client<Idle> for NoopClient {
    async fn invoke(&mut self, _op: &Noop) -> OpResult {
        OpResult::Ok(Value::Nil)
    }
}

impl System for Dice {
    type Workload = Idle;
    type Observer = Observed;
    type Checker = ();
    type Client = NoopClient;

    fn name(&self) -> &'static str {
        "dice"
    }

    fn observer(&self, nodes: u8) -> Observed {
        Observed {
            draws: Rc::new(RefCell::new(vec![Vec::new(); usize::from(nodes)])),
            run_in_process: RUNS.fetch_add(1, Ordering::Relaxed),
        }
    }

    fn checker(&self, _nodes: u8) {}

    async fn start_node(&self, ctx: NodeContext, observed: Observed) -> io::Result<()> {
        node(ctx, observed.draws, self.select).await
    }

    async fn connect_client(&self, _ctx: ClientContext) -> io::Result<NoopClient> {
        Ok(NoopClient)
    }

    fn check_step(
        &self,
        _: &mut (),
        observed: &Observed,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        if self.fail_run == Some(observed.run_in_process) {
            return Err(Violation::new(
                "not the marked run",
                format!("this is run {} of its process", observed.run_in_process),
            ));
        }
        let mut draws = observed.draws.borrow_mut();
        for (node, drawn) in draws.iter_mut().enumerate() {
            for d in drawn.drain(..) {
                ctx.trace.line(ctx.now, format_args!("n{node} drew {d}"));
                if let Some(threshold) = self.dice_property {
                    let value: u32 = d
                        .split_whitespace()
                        .nth_back(6)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(u32::MAX);
                    if value < u32::MAX / threshold {
                        return Err(Violation::new(
                            "no low rolls",
                            format!("n{node} drew {value} from rand's thread RNG"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn liveness(&self, _: &(), _: &Observed) -> Liveness {
        Liveness::Live
    }

    fn isolation(&self) -> Isolation {
        self.isolation
    }
}
