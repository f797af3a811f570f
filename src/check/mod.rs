//! Checkers: pure functions of observations and histories.
//!
//! Per-step safety invariants live with their system (they read what its nodes publish);
//! what is shared is here: the [`Violation`] every checker reports, and the history checkers.

use std::fmt;

/// A broken property, as a checker reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The property's name, in English ("election safety").
    pub property: String,
    /// What exactly was seen.
    pub detail: String,
}

impl Violation {
    /// A violation of `property`, explained by `detail`.
    pub fn new(property: impl Into<String>, detail: impl Into<String>) -> Self {
        Violation {
            property: property.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.property, self.detail)
    }
}

/// Checks a client history against a system's model; `None` when it is consistent.
pub fn history_verdict(
    _model: crate::systems::HistoryModel,
    _history: &crate::history::History,
) -> Option<Violation> {
    // Wired to the linearizability checker when it lands.
    None
}
