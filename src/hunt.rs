//! How fast squall finds a planted bug from scratch: independent campaigns, each reporting
//! executions and seconds to the first violation (or "not found" within its budget).
//!
//! Two modes: `chaos` runs blind generated scenarios in-process; `fuzz` drives the cargo-fuzz
//! target (libFuzzer, coverage-guided, with or without protocol-state feedback) from an empty
//! corpus, in a child process.

use crate::chaos::{work, Campaign, ChaosPlan};
use crate::error::Error;
use crate::sim::runner::derive_seed;
use crate::systems::System;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// One campaign's result.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Attempt {
    /// Whether a violation was found within the budget.
    pub found: bool,
    /// Executions until the first violation (or in total, if none).
    pub execs: u64,
    /// Seconds until the first violation (or the budget).
    pub seconds: f64,
    /// The property that caught it.
    pub property: Option<String>,
    /// Failures seen that did not fail again in a fresh process (never counted as found).
    pub not_reproducible: usize,
    /// What went wrong while verifying a failure (never evidence either way).
    pub errors: Vec<String>,
}

/// Runs one blind chaos campaign (single worker) until the first verified violation (one
/// whose scenario failed again in a fresh process) or the budget.
pub fn hunt_chaos<S: System>(
    system: &S,
    mutant: Option<&str>,
    seed: u64,
    budget: Duration,
) -> Attempt {
    let started = Instant::now();
    let plan = ChaosPlan {
        seed,
        shard: (0, 1),
        jobs: 1,
        deadline: started + budget,
        max_execs: None,
        stop_at_first: true,
        shrink: false,
        out: None,
        mutant: mutant.map(String::from),
        isolation: None,
        check: Vec::new(),
    };
    let campaign = Campaign::default();
    work(system, &plan, 0, &campaign, started);
    let not_reproducible = campaign
        .not_reproducible
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .len();
    let errors = campaign
        .harness_errors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let found = campaign.found.lock().unwrap_or_else(|p| p.into_inner());
    match found.values().min_by_key(|f| f.execs_at_first) {
        Some(f) => Attempt {
            found: true,
            execs: f.execs_at_first,
            seconds: f.seconds_at_first,
            property: Some(f.property.clone()),
            not_reproducible,
            errors,
        },
        None => Attempt {
            found: false,
            execs: campaign.execs.load(Ordering::Relaxed),
            seconds: started.elapsed().as_secs_f64(),
            property: None,
            not_reproducible,
            errors,
        },
    }
}

/// Where the cargo-fuzz crate lives.
pub fn fuzz_dir() -> PathBuf {
    std::env::var_os("SQUALL_FUZZ_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz"))
}

/// Builds the fuzz target once (so campaigns measure fuzzing, not compiling).
pub fn build_fuzz_target(target: &str) -> Result<(), Error> {
    // cargo-fuzz replaces .cargo/config.toml's rustflags with RUSTFLAGS plus its own; without
    // tokio_unstable the runs are not deterministic (TURMOIL.md §7). `-O`: the same optimized
    // build, without debug assertions, that chaos mode runs. No comparison tracing: the
    // scenario decoder maps bytes with `%`, so libFuzzer's compare hints buy nothing, and
    // the tracing made every execution ~1.3x slower (measured, BENCHMARKS.md).
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(flags) if !flags.is_empty() => format!("{flags} --cfg tokio_unstable"),
        _ => "--cfg tokio_unstable".to_string(),
    };
    let status = Command::new("cargo")
        .args([
            "+nightly",
            "fuzz",
            "build",
            "-O",
            "-s",
            "none",
            "--no-trace-compares",
            target,
        ])
        .env("RUSTFLAGS", rustflags)
        .current_dir(fuzz_dir())
        .status();
    let shown = format!("cargo +nightly fuzz build -O {target}");
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(Error::command(shown, format!("failed ({status})"))),
        Err(e) => Err(Error::command(
            shown,
            format!("cannot run it (is cargo-fuzz installed? `cargo install cargo-fuzz`): {e}"),
        )),
    }
}

/// Runs one libFuzzer campaign from an empty corpus until the first crash or the budget.
pub fn hunt_fuzz(
    target: &str,
    mutant: Option<&str>,
    feedback: bool,
    seed: u64,
    budget: Duration,
) -> Result<Attempt, Error> {
    let scratch = std::env::temp_dir().join(format!("squall-hunt-{}-{seed}", std::process::id()));
    let corpus = scratch.join("corpus");
    std::fs::create_dir_all(&corpus).map_err(|e| Error::io("creating", &corpus, e))?;
    let binary = fuzz_dir()
        .join("target/x86_64-unknown-linux-gnu/release")
        .join(target);
    let started = Instant::now();
    let output = Command::new(&binary)
        .arg(&corpus)
        .arg(format!("-max_total_time={}", budget.as_secs().max(1)))
        .arg(format!(
            "-seed={}",
            (derive_seed(seed, 7) % (u32::MAX as u64)) + 1
        ))
        .arg(format!("-artifact_prefix={}/", scratch.display()))
        .arg("-print_final_stats=1")
        // Scenarios need a few hundred bytes; don't spend the budget growing inputs from 4.
        .arg("-max_len=512")
        .arg("-len_control=0")
        .env("SQUALL_MUTANT", mutant.unwrap_or(""))
        .env("SQUALL_FEEDBACK", if feedback { "1" } else { "0" })
        .output()
        .map_err(|e| Error::command(binary.display().to_string(), format!("cannot run it: {e}")))?;
    let seconds = started.elapsed().as_secs_f64();
    let log = String::from_utf8_lossy(&output.stderr);
    let execs = log
        .lines()
        .find_map(|l| {
            l.strip_prefix("stat::number_of_executed_units:")
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0);
    let property = log.lines().find_map(|l| {
        l.split_once("violation: ").map(|(_, rest)| {
            rest.split(" at step")
                .next()
                .unwrap_or(rest)
                .split(" after the last")
                .next()
                .unwrap_or(rest)
                .to_string()
        })
    });
    let crashed = log.contains("panicked at") || log.contains("deadly signal");
    if crashed && property.is_none() {
        let _ = std::fs::remove_dir_all(&scratch);
        return Err(Error::command(
            binary.display().to_string(),
            format!(
                "the fuzz target crashed without a squall verdict (a harness problem):\n{}",
                tail(&log)
            ),
        ));
    }
    // A crash counts only once its input, decoded into a scenario, fails the same way again
    // in a fresh process.
    let mut errors = Vec::new();
    let verified = crashed
        && match verify_crash(target, mutant, &scratch) {
            Ok(replayed) => replayed == property,
            Err(e) => {
                errors.push(format!("verifying the crash of seed {seed}: {e}"));
                false
            }
        };
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(Attempt {
        found: verified,
        execs,
        seconds,
        not_reproducible: usize::from(crashed && !verified && errors.is_empty()),
        property: if verified { property } else { None },
        errors,
    })
}

/// Decodes the crash artifact libFuzzer left in `scratch` and replays it in a fresh process
/// (`squall decode --json`); returns the property it failed, if any.
fn verify_crash(
    target: &str,
    mutant: Option<&str>,
    scratch: &Path,
) -> Result<Option<String>, Error> {
    let binary = crate::verify::command().ok_or_else(|| {
        Error::command(
            format!("decode {target}"),
            "no squall binary is registered to decode crashes",
        )
    })?;
    let artifact = std::fs::read_dir(scratch)
        .map_err(|e| Error::io("reading", scratch, e))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("crash-"))
        })
        .ok_or_else(|| Error::data(Some(scratch), "libFuzzer left no crash artifact"))?;
    let mut command = Command::new(binary);
    command
        .args(["decode", target])
        .arg(&artifact)
        .arg("--json");
    if let Some(m) = mutant {
        command.args(["--mutant", m]);
    }
    let shown = format!(
        "{} decode {target} {} --json{}",
        binary.display(),
        artifact.display(),
        crate::chaos::mutant_flag(mutant)
    );
    let output = command
        .output()
        .map_err(|e| Error::command(&shown, format!("cannot run it: {e}")))?;
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Error::command(&shown, format!("its verdict is not JSON: {e}")))?;
    Ok(json
        .get("failure")
        .and_then(|f| f.get("property"))
        .and_then(|p| p.as_str())
        .map(String::from))
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Median of a non-empty list.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}
