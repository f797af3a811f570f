//! Checkers: pure functions of observations and histories.

// Linearizability checking (issue 3): the search, its sequential models, history file formats,
// the `squall check` command and the Porcupine benchmark.
pub mod bench;
pub mod cli;
pub mod formats;
pub mod linearizability;
pub mod model;
