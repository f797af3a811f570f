//! The planted-bug switch: each built-in system carries realistic bugs behind one runtime
//! switch (`--mutant NAME` on the CLI, `SQUALL_MUTANT` for fuzz targets), so one binary can
//! hunt any of them. A system with no mutant active pays nothing for the switch beyond a
//! comparison at each mutated spot.

/// A planted bug, as listed by `squall mutants`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MutantInfo {
    /// The name on the command line.
    pub name: &'static str,
    /// What the bug is, and the real bug it is modelled on.
    pub description: &'static str,
    /// The property expected to catch it.
    pub caught_by: &'static str,
}

impl MutantInfo {
    /// A planted bug: its name, what it is, and the property expected to catch it.
    pub const fn new(
        name: &'static str,
        description: &'static str,
        caught_by: &'static str,
    ) -> MutantInfo {
        MutantInfo {
            name,
            description,
            caught_by,
        }
    }
}
