//! The step-by-step text trace of a run: faults, elections and leader changes, client
//! operations and results, the violation. Byte-identical for the same scenario — the
//! determinism gate hashes it.

use std::fmt::{self, Write};
use std::time::Duration;

/// A run's trace. When disabled (fuzzing, chaos) recording costs nothing.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    enabled: bool,
    text: String,
}

impl Trace {
    /// A trace that records (`enabled`) or ignores everything.
    pub fn new(enabled: bool) -> Self {
        Trace {
            enabled,
            text: String::new(),
        }
    }

    /// Whether lines are being recorded.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Records one line at simulated time `at`.
    pub fn line(&mut self, at: Duration, args: fmt::Arguments<'_>) {
        if self.enabled {
            let ms = at.as_millis();
            // Writing into a String cannot fail.
            let _ = writeln!(self.text, "{:>6}.{:03}s  {args}", ms / 1000, ms % 1000);
        }
    }

    /// The recorded text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Takes the recorded text.
    pub fn into_text(self) -> String {
        self.text
    }
}

/// A stable 64-bit hash of a trace's text (FNV-1a): the same bytes give the same hash in any
/// process, on any platform, in any version, so traces can be compared across processes.
pub fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
