//! Verified findings: nothing is reported as a finding until its saved scenario file has
//! failed again, the same way, in a fresh process.
//!
//! A failure seen deep in a chaos campaign, a fuzzing session or a shrink is only worth
//! reporting if a person can reproduce it from the file squall hands them. So before chaos,
//! hunt, `decode` or `shrink` report or save a failure, they write its scenario to a file and
//! replay that file:
//! - in a fresh process of the same binary (`BINARY replay FILE --json [--mutant M]`) when
//!   the binary is squall's command line (or a user's, through
//!   [`main_with`](crate::cli::main_with)), which registers itself with [`use_command`];
//! - otherwise (the library called from a test) in a forked child that parses the file
//!   anew ([`Isolation::Process`]).
//!
//! A failure whose file does not fail the same way is reported as *not reproducible*, with
//! where it came from, and never saved as a finding.

use crate::error::Error;
use crate::report::{Failure, FailureKind};
use crate::scenario::Scenario;
use crate::sim::isolate::run_isolated;
use crate::sim::runner::RunConfig;
use crate::systems::Isolation;
use crate::systems::OpOf;
use crate::systems::System;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

static COMMAND: OnceLock<PathBuf> = OnceLock::new();

/// Registers the running binary as the one that replays scenario files (it must accept
/// `replay FILE --json [--mutant M]` for every system it knows). Called by the CLI.
pub fn use_command(binary: PathBuf) {
    let _ = COMMAND.set(binary);
}

/// The binary registered with [`use_command`], if any.
pub fn command() -> Option<&'static Path> {
    COMMAND.get().map(PathBuf::as_path)
}

/// What replaying a failure's file in a fresh environment showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It failed again: same kind, same property.
    Reproduced,
    /// It did not: it passed, or failed another way (what happened, in words).
    NotReproduced(String),
    /// The replay itself could not run (never evidence either way).
    Error(String),
}

impl Verdict {
    /// Whether the failure reproduced.
    pub fn reproduced(&self) -> bool {
        matches!(self, Verdict::Reproduced)
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Verdict::Reproduced => "reproduced in a fresh process".to_string(),
            Verdict::NotReproduced(what) => format!("not reproducible: {what}"),
            Verdict::Error(e) => format!("could not replay: {e}"),
        }
    }
}

/// How a replay ended, as the fresh process reported it.
fn compare(expected: &Failure, got: Option<(FailureKind, String)>) -> Verdict {
    match got {
        Some((kind, property)) if kind == expected.kind && property == expected.property => {
            Verdict::Reproduced
        }
        Some((kind, property)) => Verdict::NotReproduced(format!(
            "the replay failed differently ({kind} violation of {property})"
        )),
        None => Verdict::NotReproduced("the replay passed".to_string()),
    }
}

/// Replays the scenario file `path` in a fresh environment and checks that it fails as
/// `expected` did. `mutant` is the planted bug the failure was found with.
pub fn verify_file<S: System>(
    system: &S,
    path: &Path,
    mutant: Option<&str>,
    expected: &Failure,
) -> Verdict {
    match COMMAND.get() {
        Some(_) => verify_by_command(path, mutant, expected),
        None => verify_by_fork(system, path, expected),
    }
}

/// What a fresh process said of a scenario file: the verdict of `replay --json`.
pub struct FreshReplay {
    /// The failure it showed, if any, as (kind, property).
    pub failure: Option<(FailureKind, String)>,
    /// The hash of its trace ([`crate::report::trace_hash`]); `None` if it died first.
    pub trace_hash: Option<u64>,
}

/// Replays a scenario file in a fresh process of the registered binary (see
/// [`use_command`]).
pub fn replay_in_fresh_process(path: &Path, mutant: Option<&str>) -> Result<FreshReplay, Error> {
    let Some(binary) = COMMAND.get() else {
        return Err(Error::command(
            "replay in a fresh process",
            "no squall binary is registered to replay scenarios",
        ));
    };
    let mut command = Command::new(binary);
    command.arg("replay").arg(path).arg("--json");
    if let Some(m) = mutant {
        command.args(["--mutant", m]);
    }
    let shown = format!(
        "{} replay {} --json{}",
        binary.display(),
        path.display(),
        crate::chaos::mutant_flag(mutant)
    );
    let output = command
        .output()
        .map_err(|e| Error::command(&shown, format!("cannot run it: {e}")))?;
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&output.status) {
        return Ok(FreshReplay {
            failure: Some((
                FailureKind::Safety,
                format!("no panics (the replay died of signal {signal})"),
            )),
            trace_hash: None,
        });
    }
    if !output.status.success() && output.status.code() != Some(1) {
        return Err(Error::command(
            &shown,
            format!(
                "exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Error::command(&shown, format!("its verdict is not JSON: {e}")))?;
    let trace_hash = json
        .get("trace_hash")
        .and_then(|h| h.as_str())
        .and_then(|h| u64::from_str_radix(h, 16).ok());
    let Some(failure) = json.get("failure").filter(|f| !f.is_null()) else {
        return Ok(FreshReplay {
            failure: None,
            trace_hash,
        });
    };
    let kind = failure
        .get("kind")
        .cloned()
        .and_then(|k| serde_json::from_value::<FailureKind>(k).ok());
    let property = failure.get("property").and_then(|p| p.as_str());
    match (kind, property) {
        (Some(kind), Some(property)) => Ok(FreshReplay {
            failure: Some((kind, property.to_string())),
            trace_hash,
        }),
        _ => Err(Error::command(&shown, "its verdict names no property")),
    }
}

fn verify_by_command(path: &Path, mutant: Option<&str>, expected: &Failure) -> Verdict {
    match replay_in_fresh_process(path, mutant).map(|r| r.failure) {
        // A process that died of a signal died as the original run's process did (see
        // `isolate`), whichever signal.
        Ok(Some((FailureKind::Safety, property)))
            if property.starts_with("no panics (the replay died")
                && expected.property == "no panics"
                && expected.detail.contains("died of signal") =>
        {
            Verdict::Reproduced
        }
        Ok(got) => compare(expected, got),
        Err(e) => Verdict::Error(e.to_string()),
    }
}

fn verify_by_fork<S: System>(system: &S, path: &Path, expected: &Failure) -> Verdict {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Verdict::Error(format!("reading {}: {e}", path.display())),
    };
    let scenario = match Scenario::<OpOf<S>>::from_text(&text) {
        Ok(s) => s,
        Err(e) => return Verdict::Error(format!("{}: {e}", path.display())),
    };
    let config = RunConfig {
        quiet_panics: true,
        ..RunConfig::default()
    };
    match run_isolated(system, &scenario, &config, Isolation::Process) {
        Ok(report) => compare(
            expected,
            report.failure().map(|f| (f.kind, f.property.clone())),
        ),
        Err(e) => Verdict::Error(e.to_string()),
    }
}

/// A scratch file for a scenario that is to be verified before it is saved anywhere a
/// person would look; removed when dropped.
pub struct ScratchFile(PathBuf);

impl ScratchFile {
    /// Writes `text` to a new file in the system's temporary directory.
    pub fn new(tag: &str, text: &str) -> std::io::Result<ScratchFile> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "squall-verify-{}-{}-{tag}.scn",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, text)?;
        Ok(ScratchFile(path))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
