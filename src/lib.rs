//! squall: model-based fuzzing and chaos for distributed-protocol code.
//!
//! squall runs **real tokio protocol code** on turmoil's deterministic simulated network and
//! judges what it does. One scenario flows one way:
//!
//! ```text
//! scenario ──▶ simulation ──▶ per-step checks ──▶ verdict ──▶ shrink ──▶ corpus
//! ```
//!
//! 1. A [`scenario`] — client operations, faults and waits, with a seed — is generated from
//!    bytes with `arbitrary` (or read from its text form, one step per line).
//! 2. The [`sim`]ulator runs it against a [`systems::System`]: nodes are turmoil hosts that
//!    get what [`node`] hands them (a [`node::Disk`], a [`node::Transport`], a seed); clients
//!    perform the system's [`workload`] operations and the client history is recorded.
//! 3. After every simulation step the system's safety properties are checked
//!    ([`systems::Property`]); once the faults heal, its liveness; at the end, the history
//!    against the workload's model ([`check`]: linearizability today).
//! 4. The [`report`] is the verdict: pass, or the property that broke, where and why.
//! 5. A failure is replayed in a fresh process ([`verify`]) and [`shrink`]s to a scenario a
//!    person can read, which joins the regression corpus ([`corpus`]) pinned by snapshots.
//!
//! Around that flow: [`chaos`] (blind search), [`fuzzing`] (coverage-guided, the body of
//! the cargo-fuzz targets), `hunt` (time to find planted bugs), [`cap`] (a CP and an AP
//! store on the same partitions), [`determinism`] (the gate
//! across orders and processes), [`Check`] (all of it from a `#[test]`) and [`cli`] (the
//! `squall` command, which a user's binary gets with [`main!`]).
//!
//! ```
//! use squall::scenario::Scenario;
//! use squall::sim::runner::{run, RunConfig};
//! use squall::systems::raft::RaftKv;
//!
//! // Three Raft nodes; a client writes while the first node is cut off, then everything heals.
//! let scenario = Scenario::from_text(
//!     "system raft\nnodes 3\nseed 7\nc0 put k1 1\nisolate n0\nc1 append k1 2\nwait 1s\nheal all\n",
//! )
//! .expect("a valid scenario");
//! let report = run(&RaftKv::default(), &scenario, &RunConfig::default()).expect("runs");
//! assert!(report.passed(), "{:?}", report.outcome);
//! assert!(report.effects.dropped() > 0, "the partition took effect");
//! ```
#![warn(missing_docs)]

pub mod bench;
pub mod cap;
pub mod chaos;
pub mod check;
pub mod cli;
pub mod corpus;
pub mod determinism;
pub mod error;
pub mod fuzzing;
pub mod history;
pub(crate) mod hunt;
pub mod mutants;
pub mod node;
pub mod prelude;
pub mod report;
pub mod scenario;
pub mod shrink;
pub mod sim;
pub mod systems;
pub mod testing;
pub mod verify;
pub mod workload;

pub use testing::Check;

#[doc(hidden)]
pub use insta;

/// A `main` for a binary that is squall's command line with your system added beside the
/// built-in ones: `squall::main!(MySystem::default());` gives `run`, `replay`, `chaos`,
/// `shrink`, `hunt`, `determinism`, `properties` and the rest for it.
#[macro_export]
macro_rules! main {
    ($system:expr) => {
        fn main() -> ::std::process::ExitCode {
            $crate::cli::main_with(&$crate::cli::With($system))
        }
    };
}

pub use error::{Error, Result};

/// Marks a crash point in node code: `squall::crash_point!("after-vote-sync");`. If a
/// scenario armed this point for the node being run (`crash n1 at after-vote-sync`), the node
/// crashes here: nothing it does afterwards takes effect ([`node::points`]). Declare the
/// point in [`System::crash_points`](systems::System::crash_points). A no-op outside the
/// simulator and in tasks the node spawns itself (use [`node::Points::pass`] there).
#[macro_export]
macro_rules! crash_point {
    ($name:expr) => {
        $crate::node::points::pass($name)
    };
}

/// FoundationDB's BUGGIFY: true only in simulation, only at call sites the scenario's seed
/// enables, only while the scenario has it on (`buggify on`), and then one time in four.
/// `if squall::buggify!() { /* take the rare path */ }` ([`node::points`]).
#[macro_export]
macro_rules! buggify {
    () => {
        $crate::node::points::buggify(file!(), line!())
    };
}
