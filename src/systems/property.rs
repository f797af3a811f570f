//! Properties as named data: what each check asserts, in one line, so that a user can list
//! them (`squall properties SYSTEM`) and select some (`--property NAME`).

use crate::check::Violation;
use std::fmt;

/// Which family a property belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PropertyKind {
    /// Checked after every simulation step; a violation stops the run where it happened.
    Safety,
    /// Checked while the run goes on or once the faults heal: the system makes progress.
    Liveness,
    /// Checked on the client history at the end of the run.
    Consistency,
}

impl fmt::Display for PropertyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PropertyKind::Safety => "safety",
            PropertyKind::Liveness => "liveness",
            PropertyKind::Consistency => "consistency",
        })
    }
}

/// A named property and what it asserts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Property {
    /// Its name, as violations and `--property` spell it ("election safety").
    pub name: &'static str,
    /// Its family.
    pub kind: PropertyKind,
    /// What it asserts, in one line.
    pub statement: &'static str,
}

impl Property {
    /// A safety property.
    pub const fn safety(name: &'static str, statement: &'static str) -> Property {
        Property {
            name,
            kind: PropertyKind::Safety,
            statement,
        }
    }

    /// A liveness property.
    pub const fn liveness(name: &'static str, statement: &'static str) -> Property {
        Property {
            name,
            kind: PropertyKind::Liveness,
            statement,
        }
    }

    /// A consistency property of the client history.
    pub const fn consistency(name: &'static str, statement: &'static str) -> Property {
        Property {
            name,
            kind: PropertyKind::Consistency,
            statement,
        }
    }

    /// A violation of this property, explained by `detail`.
    pub fn violated(&self, detail: impl Into<String>) -> Violation {
        let mut v = Violation::new(self.name, detail);
        v.liveness = self.kind == PropertyKind::Liveness;
        v
    }
}

/// The properties the harness checks for every system.
pub mod harness {
    use super::Property;

    /// No node task panics.
    pub const NO_PANICS: Property = Property::safety(
        "no panics",
        "no node panics, and no scenario's process dies of a signal",
    );
    /// No node's main future returns an error.
    pub const NO_NODE_ERRORS: Property = Property::safety(
        "no node errors",
        "no node's task ends with an error (an I/O error the node did not handle)",
    );
    /// The system reports itself recovered after the heal.
    pub const RECOVERY_AFTER_HEAL: Property = Property::liveness(
        "recovery after heal",
        "once every fault is healed and every node restarted, the system reports itself recovered and every client operation finishes within the liveness budget",
    );
    /// The probes succeed after the heal.
    pub const PROGRESS_AFTER_HEAL: Property = Property::liveness(
        "progress after heal",
        "once the healed system reports itself recovered, every client's probe operation succeeds",
    );
    /// Linearizability of the client history.
    pub const LINEARIZABILITY: Property = Property::consistency(
        "linearizability",
        "the client history has a linearization consistent with the workload's model (partial operations may or may not take effect)",
    );
}
