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

    /// Its name as the command line and scenario files spell it: lowercase words joined by
    /// `-`, without punctuation ("a-leaders-match-index-is-true").
    pub fn slug(&self) -> String {
        slug(self.name)
    }

    /// A violation of this property, explained by `detail`.
    pub fn violated(&self, detail: impl Into<String>) -> Violation {
        let mut v = Violation::new(self.name, detail);
        v.liveness = self.kind == PropertyKind::Liveness;
        v
    }
}

/// `name` as a [`Property::slug`]: words of letters and digits, lowercase, joined by `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if (c == ' ' || c == '-' || c == '_') && !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Which properties a run checks: every one (the default), or those a scenario's `check` line
/// (or `--property`) names. The harness's safety properties, "no panics" and "no node
/// errors", are always checked: after a node panics nothing else can be judged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// `None`: every property.
    only: Option<Vec<&'static str>>,
}

impl Selection {
    /// Every property.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// The properties named in `names` (as [`Property::slug`] spells them, or as
    /// [`Property::name`] does), out of `known`; an empty list
    /// selects every property. An unknown name is an error that lists the known ones.
    pub fn of(names: &[String], known: &[Property]) -> Result<Selection, String> {
        if names.is_empty() {
            return Ok(Selection::all());
        }
        let mut only: Vec<&'static str> = harness::ALWAYS.iter().map(|p| p.name).collect();
        for name in names {
            let wanted = slug(name);
            let found = known.iter().find(|p| p.slug() == wanted).ok_or_else(|| {
                let names: Vec<String> = known.iter().map(Property::slug).collect();
                format!("unknown property `{name}`; known: {}", names.join(", "))
            })?;
            if !only.contains(&found.name) {
                only.push(found.name);
            }
        }
        Ok(Selection { only: Some(only) })
    }

    /// Whether the run checks the property named `name`.
    pub fn includes(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(&name))
    }

    /// Whether every property is checked.
    pub fn is_all(&self) -> bool {
        self.only.is_none()
    }

    /// This selection less the properties of `known` that `suspend` picks: for a run in which
    /// they stop applying (a crash-fault-tolerant system after a forged message). The
    /// harness's [`harness::ALWAYS`] properties stay whatever `suspend` says.
    pub fn suspending(&self, known: &[Property], suspend: impl Fn(&Property) -> bool) -> Selection {
        let only = known
            .iter()
            .filter(|p| self.includes(p.name) && (harness::ALWAYS.contains(p) || !suspend(p)))
            .map(|p| p.name)
            .collect();
        Selection { only: Some(only) }
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
    /// Most bytes one node may hold ([`BOUNDED_MEMORY`]; measured by `crate::sim::memory`).
    pub const MEMORY_LIMIT: u64 = 16 << 20;
    /// No node's footprint grows past [`MEMORY_LIMIT`].
    pub const BOUNDED_MEMORY: Property = Property::safety(
        "bounded memory",
        "no node holds more than 16 MiB, measured after every step as its disk's bytes plus the in-memory state the system accounts for (forged input must not make a node allocate without bound)",
    );
    /// No frame corrupted in flight is accepted as a message (`corrupt P%`).
    pub const CORRUPT_FRAMES_REJECTED: Property = Property::safety(
        "corrupt frames are rejected",
        "no frame that had a bit flipped in flight decodes as a message on a typed receive (systems that frame their own bytes are not covered)",
    );
    /// The harness's properties that no selection turns off.
    pub const ALWAYS: [Property; 2] = [NO_PANICS, NO_NODE_ERRORS];

    /// Every property the harness checks, whatever the system.
    pub const ALL: [Property; 6] = [
        NO_PANICS,
        NO_NODE_ERRORS,
        BOUNDED_MEMORY,
        RECOVERY_AFTER_HEAL,
        PROGRESS_AFTER_HEAL,
        CORRUPT_FRAMES_REJECTED,
    ];

    /// Linearizability of the client history.
    pub const LINEARIZABILITY: Property = Property::consistency(
        "linearizability",
        "the client history has a linearization consistent with the workload's model (partial operations may or may not take effect)",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: Property = Property::safety("a leader's match index is true", "…");
    const TWO: Property = Property::consistency("linearizability", "…");

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        assert_eq!(ONE.slug(), "a-leaders-match-index-is-true");
        assert_eq!(slug("  Election  Safety - "), "election-safety");
    }

    #[test]
    fn a_selection_names_properties_by_slug_or_name_and_keeps_the_harness_on() {
        let known = [harness::NO_PANICS, harness::NO_NODE_ERRORS, ONE, TWO];
        assert!(Selection::of(&[], &known).expect("empty").is_all());
        let s = Selection::of(&["a leader's match index is true".into()], &known).expect("name");
        assert!(s.includes(ONE.name) && !s.includes(TWO.name));
        assert!(s.includes("no panics") && s.includes("no node errors"));
        let s = Selection::of(&["linearizability".into()], &known).expect("slug");
        assert!(s.includes(TWO.name) && !s.includes(ONE.name) && !s.is_all());
        let e = Selection::of(&["nope".into()], &known).expect_err("unknown");
        assert!(
            e.contains("unknown property `nope`; known: no-panics"),
            "{e}"
        );
    }
}
