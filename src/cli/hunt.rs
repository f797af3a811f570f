//! `squall hunt` and `squall mutants`: how fast squall finds each planted bug.

use super::{Catalog, Visit, EXIT_PASS, EXIT_VIOLATION};
use crate::hunt::{build_fuzz_target, hunt_chaos, hunt_fuzz, median, Attempt};
use crate::sim::runner::derive_seed;
use crate::systems::System;
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// How a hunt searches.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Blind generated scenarios, in-process.
    Chaos,
    /// libFuzzer with protocol-state feedback.
    Fuzz,
    /// libFuzzer on code coverage alone (to measure what the feedback adds).
    FuzzPlain,
    /// All three, side by side.
    All,
}

/// Arguments of `squall hunt`.
#[derive(clap::Args, Debug)]
pub struct HuntArgs {
    /// The system.
    pub system: String,
    /// The planted bug to hunt (see `squall mutants`); `all` hunts each in turn.
    #[arg(long)]
    pub mutant: String,
    /// How to search.
    #[arg(long, value_enum, default_value = "chaos")]
    pub mode: Mode,
    /// Time budget per campaign, e.g. `120` (seconds), `2m`, `1h`.
    #[arg(long, value_parser = super::duration::parse_duration, default_value = "120s")]
    pub budget: Duration,
    /// Independent campaigns (different seeds, empty corpus).
    #[arg(long, default_value_t = 5)]
    pub runs: u64,
    /// First campaign seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write the result table (markdown) to this file, appending.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Print the results as JSON (one document on stdout, at the end) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `squall mutants`.
#[derive(clap::Args, Debug)]
pub struct MutantsArgs {
    /// Only this system.
    pub system: Option<String>,
    /// Print only the names, one per line.
    #[arg(long)]
    pub names: bool,
    /// Print the list as JSON (one document on stdout).
    #[arg(long, conflicts_with = "names")]
    pub json: bool,
}

pub(super) fn mutants(catalog: &impl Catalog, args: &MutantsArgs) -> Result<u8> {
    let systems = match &args.system {
        Some(s) if catalog.names().contains(&s.as_str()) => vec![s.clone()],
        Some(s) => bail!(
            "unknown system `{s}`; known systems: {}",
            catalog.names().join(", ")
        ),
        None => catalog.names().into_iter().map(String::from).collect(),
    };
    if args.json {
        let list: Vec<_> = systems
            .iter()
            .flat_map(|system| {
                catalog.mutants(system).into_iter().map(move |m| {
                    serde_json::json!({
                        "system": system,
                        "name": m.name,
                        "caught_by": m.caught_by,
                        "description": m.description,
                    })
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&list).context("encoding the list")?
        );
        return Ok(EXIT_PASS);
    }
    for system in systems {
        for m in catalog.mutants(&system) {
            if args.names {
                println!("{}", m.name);
            } else {
                println!(
                    "{system} {:<28} caught by: {}\n    {}",
                    m.name, m.caught_by, m.description
                );
            }
        }
    }
    Ok(EXIT_PASS)
}

struct ChaosHunt<'a> {
    seed: u64,
    budget: Duration,
    mutant: &'a str,
}

impl Visit for ChaosHunt<'_> {
    type Output = Attempt;
    fn visit<S: System>(self, system: &S) -> Attempt {
        hunt_chaos(system, Some(self.mutant), self.seed, self.budget)
    }
}

/// A mode as the CLI spells it, so that a table row says how to reproduce it.
fn mode_name(mode: &Mode) -> String {
    clap::ValueEnum::to_possible_value(mode)
        .map_or_else(|| format!("{mode:?}"), |v| v.get_name().to_string())
}

fn row(mutant: &str, mode: &str, attempts: &[Attempt], budget: Duration) -> String {
    let found = attempts.iter().filter(|a| a.found).count();
    // A campaign that found nothing counts at the budget: the median is then a lower bound.
    let secs = median(
        attempts
            .iter()
            .map(|a| {
                if a.found {
                    a.seconds
                } else {
                    budget.as_secs_f64()
                }
            })
            .collect(),
    );
    let execs = median(
        attempts
            .iter()
            .filter(|a| a.found)
            .map(|a| a.execs as f64)
            .collect(),
    );
    let mut properties: Vec<&str> = attempts
        .iter()
        .filter_map(|a| a.property.as_deref())
        .collect();
    properties.sort();
    properties.dedup();
    let over = if found * 2 <= attempts.len() { ">" } else { "" };
    format!(
        "| {mutant} | {mode} | {found}/{} | {} | {over}{:.1} | {} |",
        attempts.len(),
        execs.map_or("-".to_string(), |e| format!("{e:.0}")),
        secs.unwrap_or(0.0),
        if properties.is_empty() {
            "-".to_string()
        } else {
            properties.join(", ")
        }
    )
}

pub(super) fn hunt(catalog: &impl Catalog, args: &HuntArgs) -> Result<u8> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    let mutants: Vec<String> = if args.mutant == "all" {
        catalog
            .mutants(&args.system)
            .iter()
            .map(|m| m.name.to_string())
            .collect()
    } else {
        vec![args.mutant.clone()]
    };
    if mutants.is_empty() {
        bail!("system `{}` has no planted bugs", args.system);
    }
    let modes: Vec<Mode> = match args.mode {
        Mode::All => vec![Mode::Chaos, Mode::Fuzz, Mode::FuzzPlain],
        m => vec![m],
    };
    if modes.iter().any(|m| *m != Mode::Chaos) {
        build_fuzz_target(&args.system)?;
    }
    let mut table = String::from("| mutant | mode | found | median execs | median seconds | caught by |\n|---|---|---|---|---|---|\n");
    if !args.json {
        println!("{}", table.trim_end());
    }
    let mut missed = false;
    let mut results = Vec::new();
    for mutant in &mutants {
        for mode in &modes {
            let mut attempts = Vec::new();
            for k in 0..args.runs {
                let seed = derive_seed(args.seed, k);
                let attempt = match mode {
                    Mode::Chaos => catalog
                        .visit(
                            &args.system,
                            Some(mutant),
                            ChaosHunt {
                                seed,
                                budget: args.budget,
                                mutant,
                            },
                        )
                        .map_err(anyhow::Error::msg)?,
                    Mode::Fuzz | Mode::FuzzPlain => hunt_fuzz(
                        &args.system,
                        Some(mutant),
                        *mode == Mode::Fuzz,
                        seed,
                        args.budget,
                    )?,
                    Mode::All => unreachable!("expanded above"),
                };
                attempts.push(attempt);
            }
            missed |= attempts.iter().any(|a| !a.found);
            let line = row(mutant, &mode_name(mode), &attempts, args.budget);
            let unreproduced: usize = attempts.iter().map(|a| a.not_reproducible).sum();
            if !args.json {
                println!("{line}");
                if unreproduced > 0 {
                    println!(
                        "  ({unreproduced} failure(s) did not fail again in a fresh process: not counted as found)"
                    );
                }
                for e in attempts.iter().flat_map(|a| &a.errors) {
                    println!("  harness error (not counted either way): {e}");
                }
            }
            let _ = writeln!(table, "{line}");
            results.push(serde_json::json!({
                "mutant": mutant,
                "mode": mode_name(mode),
                "found": attempts.iter().filter(|a| a.found).count(),
                "runs": attempts.len(),
                "attempts": attempts,
            }));
        }
    }
    if let Some(path) = &args.markdown {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        writeln!(
            f,
            "\n`squall hunt {} --mutant {} --mode {} --budget {} --runs {} --seed {}`\n\n{table}",
            args.system,
            args.mutant,
            mode_name(&args.mode),
            super::duration::format_duration(args.budget),
            args.runs,
            args.seed
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let json = serde_json::json!({
            "system": args.system,
            "budget_seconds": args.budget.as_secs_f64(),
            "runs": args.runs,
            "seed": args.seed,
            "results": results,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&json).context("encoding the results")?
        );
    }
    Ok(if missed { EXIT_VIOLATION } else { EXIT_PASS })
}
