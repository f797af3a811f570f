//! `squall determinism`: the same scenarios forward, in reverse and one per fresh process.

use super::run::scenario_from_seed;
use super::{Catalog, Visit, EXIT_PASS, EXIT_VIOLATION};
use crate::determinism::check_orders;
use crate::sim::runner::derive_seed;
use crate::systems::Isolation;
use crate::systems::OpOf;
use crate::systems::System;
use crate::verify::{replay_in_fresh_process, ScratchFile};
use anyhow::{bail, Context, Result};

/// Arguments of `squall determinism`.
#[derive(clap::Args, Debug)]
pub struct DeterminismArgs {
    /// The system to test.
    pub system: String,
    /// How many generated scenarios.
    #[arg(long, default_value_t = 1000)]
    pub scenarios: u64,
    /// Seed the scenarios' seeds derive from.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the in-process passes run each scenario (default: what the system declares).
    #[arg(long)]
    pub isolation: Option<Isolation>,
    /// Activate a planted bug.
    #[arg(long)]
    pub mutant: Option<String>,
    /// Skip the pass that runs each scenario alone in a fresh process (the slow one).
    #[arg(long)]
    pub no_fresh: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

struct Gate<'a>(&'a DeterminismArgs);

impl Visit for Gate<'_> {
    type Output = Result<u8>;
    fn visit<S: System>(self, system: &S) -> Result<u8> {
        let args = self.0;
        let scenarios = (0..args.scenarios)
            .map(|i| scenario_from_seed(system, derive_seed(args.seed, i)))
            .collect::<Result<Vec<_>>>()?;
        let isolation = args.isolation.unwrap_or_else(|| system.isolation());
        let mutant = args.mutant.as_deref();
        let mut fresh = |s: &crate::scenario::Scenario<OpOf<S>>| -> Result<u64, String> {
            let file = ScratchFile::new(&format!("seed{}", s.seed), &s.to_text())
                .map_err(|e| format!("writing the scenario: {e}"))?;
            replay_in_fresh_process(file.path(), mutant)
                .map_err(|e| e.to_string())?
                .trace_hash
                .ok_or_else(|| "the replay died before reporting a trace".to_string())
        };
        let report = check_orders(
            system,
            &scenarios,
            isolation,
            if args.no_fresh {
                None
            } else {
                Some(&mut fresh)
            },
        );
        if args.json {
            let json = serde_json::json!({
                "system": system.name(),
                "seed": args.seed,
                "isolation": isolation.name(),
                "fresh_processes": !args.no_fresh,
                "passed": report.passed(),
                "report": report,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&json).context("encoding the result")?
            );
        } else {
            println!(
                "{} {}: {} scenarios ({} failing, {} distinct traces), forward and reverse in one process ({isolation} isolation){}",
                if report.passed() { "SAME" } else { "DIFFERENT" },
                system.name(),
                report.scenarios,
                report.failing,
                report.distinct_traces,
                if args.no_fresh { "" } else { ", and each alone in a fresh process" },
            );
            for m in &report.mismatches {
                println!(
                    "  seed {}: forward {} reverse {}{}",
                    m.seed,
                    m.forward,
                    m.reverse,
                    m.fresh
                        .as_ref()
                        .map(|f| format!(" alone {f}"))
                        .unwrap_or_default()
                );
            }
            for e in &report.errors {
                println!("  error: {e}");
            }
        }
        Ok(if report.passed() {
            EXIT_PASS
        } else {
            EXIT_VIOLATION
        })
    }
}

pub(super) fn determinism(catalog: &impl Catalog, args: &DeterminismArgs) -> Result<u8> {
    if args.scenarios == 0 {
        bail!("--scenarios must be at least 1");
    }
    catalog
        .visit(&args.system, args.mutant.as_deref(), Gate(args))
        .map_err(anyhow::Error::msg)?
}
