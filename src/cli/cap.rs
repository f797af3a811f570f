//! `squall cap`: a CP and an AP store on the same partition schedules.

use super::{Catalog, Visit, EXIT_PASS, EXIT_VIOLATION};
use crate::cap::{measure, schedules, CapError, CapReport, StoreResult};
use crate::systems::System;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Arguments of `squall cap`.
#[derive(clap::Args, Debug)]
pub struct CapArgs {
    /// The stores to compare, in order (each must take `put KEY VALUE` and `get KEY`).
    #[arg(long = "system", default_values_t = ["raft".to_string(), "dynamo".to_string()])]
    pub systems: Vec<String>,
    /// Partition schedules per store.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub schedules: u32,
    /// Seed of the schedules.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Plant a bug in one of the stores: `SYSTEM:MUTANT` (`squall mutants` lists them).
    #[arg(long = "mutant", value_name = "SYSTEM:MUTANT")]
    pub mutants: Vec<String>,
    /// Print the results as JSON (one document on stdout) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also draw the results as an SVG bar chart into this file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Write each store's first schedule that was not linearizable, and its first that broke
    /// what the store claims, into this directory as scenario files to replay.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

struct Measure<'a> {
    schedules: &'a [String],
}

impl Visit for Measure<'_> {
    type Output = Result<StoreResult, CapError>;
    fn visit<S: System>(self, system: &S) -> Self::Output {
        measure(system, self.schedules, |_| {})
    }
}

pub(super) fn cap(catalog: &impl Catalog, args: &CapArgs) -> Result<u8> {
    for name in &args.systems {
        if !catalog.names().contains(&name.as_str()) {
            bail!(
                "unknown system `{name}`; known systems: {}",
                catalog.names().join(", ")
            );
        }
    }
    let mut planted: Vec<(&str, &str)> = Vec::new();
    for m in &args.mutants {
        let Some((system, mutant)) = m.split_once(':') else {
            bail!("--mutant takes SYSTEM:MUTANT (e.g. raft:local-reads), found `{m}`");
        };
        if !args.systems.iter().any(|s| s == system) {
            bail!("--mutant {m}: `{system}` is not one of the stores compared (--system)");
        }
        planted.push((system, mutant));
    }
    if let Some(path) = &args.svg {
        // Fail before the runs, not after them.
        std::fs::write(path, "")
            .with_context(|| format!("cannot write the chart to {}", path.display()))?;
    }
    let texts = schedules("raft", args.seed, args.schedules);
    let mut report = CapReport {
        seed: args.seed,
        schedules: args.schedules,
        stores: Vec::new(),
    };
    for name in &args.systems {
        let mutant = planted.iter().find(|(s, _)| s == name).map(|(_, m)| *m);
        eprintln!(
            "cap: {} schedules on {name}{} ...",
            args.schedules,
            mutant
                .map(|m| format!(" with mutant {m}"))
                .unwrap_or_default()
        );
        let result = catalog
            .visit(name, mutant, Measure { schedules: &texts })
            .map_err(anyhow::Error::msg)?
            .with_context(|| format!("measuring `{name}`"))?;
        report.stores.push(result);
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for store in &report.stores {
            let firsts = [
                ("not-linearizable", store.first_not_linearizable),
                (
                    "broke-claims",
                    store.first_claimed_violation.as_ref().map(|(i, _)| *i),
                ),
            ];
            for (what, index) in firsts {
                let Some(i) = index else { continue };
                let path = dir.join(format!("{}-{what}-{i}.scn", store.system));
                let text = crate::cap::retarget(&texts[i as usize], &store.system);
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let mutant = planted
                    .iter()
                    .find(|(s, _)| *s == store.system)
                    .map(|(_, m)| format!(" --mutant {m}"))
                    .unwrap_or_default();
                eprintln!(
                    "cap: wrote {} (squall replay {} --trace{mutant})",
                    path.display(),
                    path.display()
                );
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, report.svg())
            .with_context(|| format!("cannot write the chart to {}", path.display()))?;
        eprintln!("cap: chart written to {}", path.display());
    }
    let broken = report.stores.iter().any(|s| s.claimed_violations > 0);
    Ok(if broken { EXIT_VIOLATION } else { EXIT_PASS })
}
