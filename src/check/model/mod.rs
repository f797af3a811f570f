//! Sequential specifications that the linearizability search checks histories against.
//!
//! A model is a small trait impl: an initial state, a way to compile an [`Operation`] into the
//! model's own compact operation (rejecting shapes the model does not understand), and a
//! transition function. The search interns states and caches transitions, so `step` may
//! allocate (the KV model concatenates strings) without slowing the search down much.
//!
//! Contract that the search relies on: a `step` of an operation whose output is
//! [`Outcome::Unknown`](crate::check::linearizability::Outcome::Unknown) must succeed from every
//! state. Such an operation may take effect or not, and the search uses this to stop as soon as
//! every completed operation is placed (pending ones can always go last, i.e. never).

use crate::check::linearizability::Operation;
use std::fmt::Debug;
use std::hash::Hash;

pub mod cas;
pub mod kv;
pub mod register;

pub use cas::CasRegister;
pub use kv::Kv;
pub use register::Register;

/// A sequential specification.
pub trait Model: Sync {
    /// A state of the object. Cloned and hashed when interned, so keep it small.
    type State: Clone + Eq + Hash + Debug + Send;
    /// An operation compiled for this model (input and output).
    type Op: Debug + Send + Sync;

    /// The model's name, for messages.
    fn name(&self) -> &'static str;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Compiles an operation, or says why this model cannot interpret it.
    fn prepare(&self, op: &Operation) -> Result<Self::Op, String>;

    /// Applies `op` to `state`: `Some(next)` if `op` could have produced its output in `state`.
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;

    /// True if `op` never changes any state (a read, a compare-and-set that failed). The
    /// search uses it to prune: a read-only operation that real time allows next and the
    /// state accepts can always be linearized right away, so alternatives need not be tried.
    /// Answering `false` is always safe; answering `true` for an operation that can change
    /// the state gives wrong verdicts.
    fn is_read_only(&self, op: &Self::Op) -> bool {
        let _ = op;
        false
    }

    /// The partition an operation belongs to, when checking each partition on its own
    /// (P-compositionality). The default is the operation's key.
    fn partition<'a>(&self, op: &'a Operation) -> Option<&'a str> {
        op.key.as_deref()
    }

    /// A person-readable rendering of a state.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }

    /// The part of `state` that `op` looks at, for explanations (a KV store shows the
    /// operation's key only). Defaults to the whole state.
    fn describe_state_for(&self, state: &Self::State, op: &Self::Op) -> String {
        let _ = op;
        self.describe_state(state)
    }
}

/// The built-in models, by name (the CLI's `--model`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelKind {
    /// Key-value store: get (read) / put (write) / append on string values.
    Kv,
    /// Read/write register.
    Register,
    /// Compare-and-set register (the etcd model).
    Cas,
}
