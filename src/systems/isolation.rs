//! Where a system's scenarios run: how much of the process each shares with the ones before
//! it ([`crate::sim::isolate`] carries it out).

use std::fmt;
use std::str::FromStr;

/// Where a scenario runs. Each level includes the ones before it; every level seeds the OS
/// randomness drawn on the scenario's thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isolation {
    /// The calling thread, shared with the scenarios before it: thread-local state they left
    /// persists. For systems whose code squall fully controls; the cheapest (a fresh thread
    /// costs about 0.25 ms of CPU a scenario, a process about 1.4 ms: BENCHMARKS.md).
    Shared,
    /// A fresh thread of this process.
    Thread,
    /// A fresh child process (fork) per scenario, on a fresh thread in it: per-process state
    /// of the system's code starts the same for every scenario. The default where `fork`
    /// exists.
    #[default]
    Process,
}

impl Isolation {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Isolation::Shared => "shared",
            Isolation::Thread => "thread",
            Isolation::Process => "process",
        }
    }
}

impl fmt::Display for Isolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Isolation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "shared" => Ok(Isolation::Shared),
            "thread" => Ok(Isolation::Thread),
            "process" => Ok(Isolation::Process),
            other => Err(format!(
                "unknown isolation `{other}`; expected `process`, `thread` or `shared`"
            )),
        }
    }
}
