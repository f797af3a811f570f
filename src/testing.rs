//! squall from an ordinary `#[test]`, the way proptest and turmoil users expect:
//!
//! ```no_run
//! # use squall::systems::raft::RaftKv;
//! #[test]
//! fn the_store_survives_chaos() {
//!     squall::Check::new(RaftKv::default()).scenarios(500).run();
//! }
//! ```
//!
//! [`Check::run`] first replays every scenario saved in the regressions directory (a failure
//! found earlier stays a test case until it passes), then generates scenarios from a seed and
//! runs each. The first failure is replayed in a fresh environment (a forked process), shrunk,
//! saved to the regressions directory, and reported by a panic that names the property, the
//! shrunk scenario and the command that replays exactly that scenario.
//!
//! Environment: `SQUALL_SEED=N` fixes the seed (otherwise one is drawn and printed on
//! failure), `SQUALL_SCENARIOS=N` overrides the count, `SQUALL_REPLAY=FILE` replays one
//! scenario file and nothing else.

use crate::report::Failure;
use crate::scenario::Scenario;
use crate::shrink::{shrink, ShrinkBudget};
use crate::sim::isolate::run_isolated;
use crate::sim::runner::{derive_seed, RunConfig};
use crate::systems::{Isolation, OpOf, System};
use crate::verify::{verify_file, ScratchFile};
use std::path::{Path, PathBuf};

/// A property check of a system over generated scenarios. See the module docs.
pub struct Check<S: System> {
    system: S,
    scenarios: u64,
    seed: Option<u64>,
    regressions: Option<PathBuf>,
    isolation: Option<Isolation>,
}

/// What a [`Check`] found, when it did not panic ([`Check::try_run`]).
#[derive(Debug)]
pub enum Outcome {
    /// Every scenario passed.
    Passed {
        /// Scenarios run (regressions included).
        scenarios: u64,
        /// The seed they were generated from.
        seed: u64,
    },
    /// A scenario failed; the message is what [`Check::run`] panics with.
    Failed {
        /// The failure (of the shrunk scenario).
        failure: Failure,
        /// The scenario file that reproduces it.
        file: PathBuf,
        /// The full report: property, shrunk scenario, replay command.
        message: String,
    },
}

impl<S: System> Check<S> {
    /// A check of `system` over 100 scenarios.
    pub fn new(system: S) -> Self {
        Check {
            system,
            scenarios: 100,
            seed: None,
            regressions: None,
            isolation: None,
        }
    }

    /// How many generated scenarios to run (`SQUALL_SCENARIOS` overrides it).
    pub fn scenarios(mut self, count: u64) -> Self {
        self.scenarios = count;
        self
    }

    /// The seed the scenarios derive from (`SQUALL_SEED` overrides it).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Where failures are saved and replayed first (default:
    /// `$CARGO_MANIFEST_DIR/squall-regressions/SYSTEM`).
    pub fn regressions(mut self, dir: impl Into<PathBuf>) -> Self {
        self.regressions = Some(dir.into());
        self
    }

    /// Where each scenario runs (default: what the system declares).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = Some(isolation);
        self
    }

    /// Runs the check; panics with the shrunk failing scenario and its replay command.
    pub fn run(self) {
        match self.try_run() {
            Outcome::Passed { .. } => {}
            Outcome::Failed { message, .. } => panic!("{message}"),
        }
    }

    fn regressions_dir(&self) -> PathBuf {
        self.regressions.clone().unwrap_or_else(|| {
            let root = std::env::var_os("CARGO_MANIFEST_DIR")
                .map(PathBuf::from)
                .unwrap_or_default();
            root.join("squall-regressions").join(self.system.name())
        })
    }

    /// Runs the check and returns what it found instead of panicking.
    pub fn try_run(self) -> Outcome {
        let config = RunConfig {
            quiet_panics: true,
            ..RunConfig::default()
        };
        let isolation = self.isolation.unwrap_or_else(|| self.system.isolation());
        if let Some(file) = std::env::var_os("SQUALL_REPLAY") {
            let file = PathBuf::from(file);
            return match self.replay(&file, &config, isolation) {
                Some(failure) => self.failed(failure, file, "replayed", None),
                None => Outcome::Passed {
                    scenarios: 1,
                    seed: 0,
                },
            };
        }
        let dir = self.regressions_dir();
        let mut saved: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "scn"))
                    .collect()
            })
            .unwrap_or_default();
        saved.sort();
        for file in &saved {
            if let Some(failure) = self.replay(file, &config, isolation) {
                return self.failed(failure, file.clone(), "a saved regression", None);
            }
        }
        let seed = env_u64("SQUALL_SEED")
            .or(self.seed)
            .unwrap_or_else(clock_seed);
        let count = env_u64("SQUALL_SCENARIOS").unwrap_or(self.scenarios);
        let points = crate::systems::crash_point_names(&self.system);
        for i in 0..count {
            let scenario_seed = derive_seed(seed, i);
            let scenario = match Scenario::<OpOf<S>>::from_seed_for::<S::Workload>(
                self.system.name(),
                self.system.fault_kinds(),
                &points,
                scenario_seed,
            ) {
                Ok(s) => s,
                Err(e) => panic!("squall: {e}"),
            };
            let report = match run_isolated(&self.system, &scenario, &config, isolation) {
                Ok(r) => r,
                Err(e) => panic!("squall: seed {scenario_seed}: {e}"),
            };
            let Some(failure) = report.failure() else {
                continue;
            };
            return self.found(&scenario, failure, &dir, seed, &config, isolation);
        }
        Outcome::Passed {
            scenarios: count + saved.len() as u64,
            seed,
        }
    }

    /// Replays a scenario file; its failure, if any. A file that cannot be read or parsed is
    /// a test error, not a pass.
    fn replay(&self, file: &Path, config: &RunConfig, isolation: Isolation) -> Option<Failure> {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("squall: reading {}: {e}", file.display()));
        let scenario = Scenario::<OpOf<S>>::from_text(&text)
            .unwrap_or_else(|e| panic!("squall: {}: {e}", file.display()));
        run_isolated(&self.system, &scenario, config, isolation)
            .unwrap_or_else(|e| panic!("squall: {}: {e}", file.display()))
            .failure()
            .cloned()
    }

    fn found(
        &self,
        scenario: &Scenario<OpOf<S>>,
        failure: &Failure,
        dir: &Path,
        seed: u64,
        config: &RunConfig,
        isolation: Isolation,
    ) -> Outcome {
        // Verified first: a failure that does not replay alone is not saved as one.
        let original = match ScratchFile::new("check", &scenario.to_text()) {
            Ok(f) => f,
            Err(e) => panic!("squall: writing a scenario to replay it: {e}"),
        };
        let verdict = verify_file(&self.system, original.path(), None, failure);
        if !verdict.reproduced() {
            panic!(
                "squall: {} (seed {}) failed once but is not reproducible ({}): the system's outcome depends on something besides the scenario; see README \"Determinism of code you do not control\"\n{}",
                failure,
                scenario.seed,
                verdict.describe(),
                scenario.to_text()
            );
        }
        let budget = ShrinkBudget {
            isolation,
            ..ShrinkBudget::default()
        };
        let shrunk = shrink(&self.system, scenario, failure, config, budget);
        let name = format!(
            "{}-seed{}.scn",
            failure
                .property
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>(),
            scenario.seed
        );
        let file = dir.join(name);
        let text = format!(
            "# found by squall::Check (seed {seed}): {} violation of {}\n{}",
            failure.kind,
            failure.property,
            shrunk.scenario.to_text()
        );
        if let Err(e) = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&file, &text)) {
            panic!("squall: {failure}\nwriting {}: {e}\n{text}", file.display());
        }
        self.failed(shrunk.failure, file, "found", Some(seed))
    }

    fn failed(&self, failure: Failure, file: PathBuf, how: &str, seed: Option<u64>) -> Outcome {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let test = std::thread::current()
            .name()
            .filter(|n| *n != "main")
            .map(String::from);
        // The same profile squall was built in, and the manifest of the crate under test, so
        // the command works from any directory.
        let release = if cfg!(debug_assertions) {
            ""
        } else {
            " --release"
        };
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(|d| {
                format!(
                    " --manifest-path {}",
                    Path::new(&d).join("Cargo.toml").display()
                )
            })
            .unwrap_or_default();
        let file = std::path::absolute(&file).unwrap_or(file);
        let replay = match &test {
            Some(test) => format!(
                "SQUALL_REPLAY={} cargo test{release}{manifest} {test} -- --exact",
                file.display()
            ),
            None => format!(
                "SQUALL_REPLAY={} cargo test{release}{manifest}",
                file.display()
            ),
        };
        let message = format!(
            "squall: {} {how}: {failure}\n--- {} ---\n{text}--- replay: {replay}\n{}",
            self.system.name(),
            file.display(),
            seed.map(|s| format!("--- seed: SQUALL_SEED={s}\n"))
                .unwrap_or_default()
        );
        Outcome::Failed {
            failure,
            file,
            message,
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(v) => Some(v),
        Err(_) => panic!("squall: {name}={value:?} is not a whole number"),
    }
}

/// A fresh seed when none is given: the test explores new scenarios each run, and prints the
/// seed with any failure.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
