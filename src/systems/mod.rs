//! The System contract, and the built-in systems.
//!
//! A system under test tells squall, through [`System`]:
//! - how to start node `i` (a future run as a turmoil host, restartable from its [`Disk`]);
//! - its client operation type and how a client performs one ([`Client`]);
//! - what nodes publish for observation (its `Observer`, a shared registry) and its per-step
//!   safety invariants over it (its `Checker`), computed incrementally;
//! - its liveness condition once faults heal, and which history model applies.
//!
//! Node code gets simulated time (tokio's, paused by turmoil), simulated sockets (through
//! [`Transport`](crate::sim::net::Transport)) and a seed; with [`Net::Real`] the same code runs
//! on real sockets.

pub mod raft;

use crate::check::Violation;
use crate::history::{Function, Value};
use crate::report::Trace;
use crate::scenario::NodeId;
use crate::sim::disk::Disk;
use crate::sim::net::Net;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

/// A boxed, non-`Send` future (hosts run on a `LocalSet`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Everything a node gets when it (re)starts.
pub struct NodeContext {
    /// This node's index.
    pub id: NodeId,
    /// Every node's address, indexed by node id (this node's included).
    pub peers: Vec<SocketAddr>,
    /// The node's durable disk; survives crashes, loses unsynced writes on power loss.
    pub disk: Disk,
    /// Seed for this incarnation's RNG (differs per restart, fixed per scenario).
    pub seed: u64,
    /// Where to bind the transport.
    pub net: Net,
    /// How many times this node has started before.
    pub incarnation: u32,
}

impl NodeContext {
    /// This node's own address.
    pub fn addr(&self) -> SocketAddr {
        self.peers[usize::from(self.id)]
    }
}

/// Everything a client process gets.
pub struct ClientContext {
    /// The client's index (`c0` is 0).
    pub id: u8,
    /// The client's own address.
    pub addr: SocketAddr,
    /// Every node's address, indexed by node id.
    pub nodes: Vec<SocketAddr>,
    /// Where to bind the transport.
    pub net: Net,
    /// Seed for the client's RNG.
    pub seed: u64,
}

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

/// An operation as the history records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryOp {
    /// The function.
    pub f: Function,
    /// The key, for key-value systems.
    pub key: Option<String>,
    /// The input value.
    pub value: Value,
}

/// A client process of a system: performs one operation at a time.
pub trait Client: 'static {
    /// The system's operation type.
    type Op;

    /// Performs `op` against the cluster, retrying as the system's clients do. The harness
    /// cancels it at the operation's deadline (an unanswered operation is indeterminate).
    fn invoke<'a>(&'a mut self, op: &'a Self::Op) -> BoxFuture<'a, OpResult>;
}

/// The liveness condition's state during the liveness phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// The system has recovered and made progress.
    Live,
    /// Not yet; the reason is reported if the budget runs out.
    Waiting(String),
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
    /// Simulated time at which any of the above last changed.
    pub since: Duration,
}

/// Which sequential model the client history is checked against.
pub use crate::check::model::ModelKind as HistoryModel;

/// A system under test. See the module docs.
///
/// `Sync`, and `Send + Sync` operations: each scenario runs on a fresh thread of its own (so
/// that thread-local state of code squall does not control starts anew), borrowing both.
pub trait System: Sync + 'static {
    /// A client operation; generated with `arbitrary`, written in scenario text with
    /// `Display`/`FromStr`.
    type Op: Clone
        + fmt::Debug
        + fmt::Display
        + FromStr<Err = String>
        + for<'a> arbitrary::Arbitrary<'a>
        + Send
        + Sync
        + 'static;
    /// The registry nodes publish into; cloning gives another handle to the same registry.
    type Observer: Clone + 'static;
    /// The incremental state of the per-step invariants.
    type Checker: 'static;
    /// A client process.
    type Client: Client<Op = Self::Op>;

    /// The system's name on the command line and in scenario files.
    fn name(&self) -> &'static str;

    /// A fresh registry for a cluster of `nodes`.
    fn observer(&self, nodes: u8) -> Self::Observer;

    /// Fresh invariant state for a cluster of `nodes`.
    fn checker(&self, nodes: u8) -> Self::Checker;

    /// Starts one incarnation of a node. The future runs until the node crashes.
    fn start_node(
        &self,
        ctx: NodeContext,
        observer: Self::Observer,
    ) -> BoxFuture<'static, io::Result<()>>;

    /// Creates a client process.
    fn connect_client(&self, ctx: ClientContext) -> BoxFuture<'static, io::Result<Self::Client>>;

    /// How an operation appears in the history.
    fn history_op(&self, op: &Self::Op) -> HistoryOp;

    /// Simpler versions of an operation, for shrinking (smaller key, smaller value, a read).
    fn simpler_ops(&self, _op: &Self::Op) -> Vec<Self::Op> {
        Vec::new()
    }

    /// The bytes the operation's `Arbitrary` impl decodes into it, so that readable scenarios
    /// can seed the fuzzer ([`Scenario::to_bytes`](crate::scenario::Scenario::to_bytes)).
    fn op_bytes(&self, _op: &Self::Op) -> Option<Vec<u8>> {
        None
    }

    /// Makes the `n`-th generated operation's written value unique (optional).
    fn uniquify(&self, _op: &mut Self::Op, _n: u32) {}

    /// Whether the operation cannot change state (a timed-out read is then a failure, not
    /// an indeterminate operation).
    fn is_read_only(&self, op: &Self::Op) -> bool;

    /// Checks the safety invariants after a simulation step.
    fn check_step(
        &self,
        checker: &mut Self::Checker,
        observer: &Self::Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation>;

    /// During the liveness phase (everything healed, every node up): has the system recovered?
    fn liveness(&self, checker: &Self::Checker, observer: &Self::Observer) -> Liveness;

    /// An operation the harness sends, per client, once the healed system reports itself
    /// live, and that must succeed for the run to count as live (proof that the recovery is
    /// real). `None` skips the probe.
    fn liveness_probe(&self, _client: u8) -> Option<Self::Op> {
        None
    }

    /// The shortest deadline a client operation of this system needs (the harness uses the
    /// longer of this and its own): for systems whose recovery (say, an election after a
    /// leader restart) legitimately takes longer than the harness's default deadline, which
    /// would otherwise turn the operations in flight at the heal into failures.
    fn min_op_deadline(&self) -> Duration {
        Duration::ZERO
    }

    /// The model the client history is checked against, if any.
    fn history_model(&self) -> Option<HistoryModel>;

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

    /// Where chaos, hunt and shrink run each scenario unless told otherwise. The default,
    /// [`Isolation::Process`], gives every scenario a process of its own, so that state the
    /// system's third-party code keeps per process (a global counter a PRNG is seeded from,
    /// a cache) cannot make one scenario's outcome depend on another's; it costs a fork per
    /// scenario (BENCHMARKS.md). A system whose code squall fully controls can choose
    /// [`Isolation::Thread`]. Either way every finding is replayed in a fresh process before
    /// it is reported ([`crate::verify`]).
    ///
    /// [`Isolation::Process`]: crate::sim::isolate::Isolation::Process
    /// [`Isolation::Thread`]: crate::sim::isolate::Isolation::Thread
    fn isolation(&self) -> crate::sim::isolate::Isolation {
        crate::sim::isolate::Isolation::Process
    }

    /// An abstraction of the cluster's current protocol state (role pattern, term gaps,
    /// commit relations, ...), hashed; fed to coverage-guided fuzzing as extra feedback so it
    /// seeks new protocol situations. `0` means no abstraction.
    fn abstract_state(&self, _checker: &Self::Checker, _observer: &Self::Observer) -> u64 {
        0
    }
}
