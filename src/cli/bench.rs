//! `squall bench ...`: the benchmark commands behind BENCHMARKS.md.

use super::duration::parse_duration;
use super::{Catalog, Visit, EXIT_PASS, EXIT_VIOLATION};
use crate::bench::bench_sim;
use crate::systems::System;
use anyhow::{Context, Result};
use std::time::Duration;

/// Arguments of `squall bench sim`.
#[derive(clap::Args, Debug)]
pub struct SimBenchArgs {
    /// The system to run.
    pub system: String,
    /// How many scenarios.
    #[arg(long, default_value_t = 200)]
    pub scenarios: usize,
    /// Cluster size.
    #[arg(long, default_value_t = 3)]
    pub nodes: u8,
    /// Simulated time of scenario steps (faults and client operations), e.g. `1s`, `6`,
    /// `500ms`.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub duration: Duration,
    /// The same in milliseconds (older spelling; `--duration` wins where both are given).
    #[arg(long, hide = true, conflicts_with = "duration")]
    pub duration_ms: Option<u64>,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Repeat the measurement this many times and report each pass and the median.
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    /// Simulated time per step (squall runs use `10ms`; this shows what the tick costs).
    #[arg(long, value_parser = parse_duration, default_value = "10ms")]
    pub tick: Duration,
    /// The same in milliseconds (older spelling).
    #[arg(long, hide = true, conflicts_with = "tick")]
    pub tick_ms: Option<u64>,
    /// Where each scenario runs: `thread` or `process` (default: what the system declares).
    #[arg(long)]
    pub isolation: Option<crate::systems::Isolation>,
    /// Only the fault kinds squall had before crash points and BUGGIFY (no crash points, no
    /// buggify, nothing newer): to compare speed side by side with older builds.
    #[arg(long)]
    pub classic: bool,
    /// Print the result as JSON (one document on stdout).
    #[arg(long)]
    pub json: bool,
}

struct SimVisit<'a>(&'a SimBenchArgs);

impl Visit for SimVisit<'_> {
    type Output = Result<u8>;

    fn visit<S: System>(self, system: &S) -> Result<u8> {
        let a = self.0;
        anyhow::ensure!((3..=7).contains(&a.nodes), "--nodes must be 3..=7");
        anyhow::ensure!(
            a.passes > 0 && a.scenarios > 0,
            "--passes and --scenarios must be positive"
        );
        let isolation = a.isolation.unwrap_or_else(|| system.isolation());
        let duration_ms = a
            .duration_ms
            .unwrap_or_else(|| a.duration.as_millis().try_into().unwrap_or(u64::MAX));
        let tick = a.tick_ms.map_or(a.tick, Duration::from_millis);
        anyhow::ensure!(!tick.is_zero(), "--tick must be positive");
        if !a.json {
            println!(
                "{} scenarios of {} nodes, {duration_ms} ms of steps under faults (+ liveness phase), tick {} ms, {} passes, {isolation} isolation",
                a.scenarios,
                a.nodes,
                tick.as_millis(),
                a.passes
            );
            println!(
                "pass  scenarios/s  sim-s/wall-s  sim-s/cpu-s  median-ms/scenario  ticks  failures"
            );
        }
        let mut speedups = Vec::new();
        let mut rates = Vec::new();
        let mut failures = 0;
        let mut passes = Vec::new();
        for pass in 1..=a.passes {
            let plan = crate::bench::SimPlan {
                count: a.scenarios,
                nodes: a.nodes,
                duration_ms,
                first_seed: a.seed,
                tick,
                isolation,
                classic: a.classic,
            };
            let b = bench_sim(system, &plan);
            if !a.json {
                println!(
                    "{pass:>4}  {:>11.1}  {:>12.0}  {:>11.0}  {:>18.2}  {:>5}  {:>8}",
                    b.per_second(),
                    b.speedup(),
                    b.cpu_speedup(),
                    b.median_wall.as_secs_f64() * 1000.0,
                    b.ticks,
                    b.failures
                );
            }
            passes.push(serde_json::json!({
                "scenarios": b.scenarios,
                "scenarios_per_second": b.per_second(),
                "simulated_per_wall_second": b.speedup(),
                "simulated_per_cpu_second": b.cpu_speedup(),
                "median_ms_per_scenario": b.median_wall.as_secs_f64() * 1000.0,
                "ticks": b.ticks,
                "failures": b.failures,
            }));
            speedups.push(b.speedup());
            rates.push(b.per_second());
            failures += b.failures;
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (rate, speedup) = (median(&mut rates), median(&mut speedups));
        if a.json {
            let json = serde_json::json!({
                "system": system.name(),
                "nodes": a.nodes,
                "scenarios": a.scenarios,
                "duration_ms": duration_ms,
                "tick_ms": tick.as_secs_f64() * 1000.0,
                "seed": a.seed,
                "isolation": isolation.name(),
                "passes": passes,
                "median_scenarios_per_second": rate,
                "median_simulated_per_wall_second": speedup,
                "failures": failures,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&json).context("encoding the result")?
            );
        } else {
            println!("median: {rate:.1} scenarios/s, {speedup:.0}x real time");
        }
        Ok(if failures == 0 {
            EXIT_PASS
        } else {
            EXIT_VIOLATION
        })
    }
}

pub(super) fn sim(catalog: &impl Catalog, args: &SimBenchArgs) -> Result<u8> {
    catalog
        .visit(&args.system, None, SimVisit(args))
        .map_err(anyhow::Error::msg)?
}

/// Arguments of `squall bench check`.
#[derive(clap::Args, Debug)]
pub struct CheckBenchArgs {
    /// Porcupine's test data (expected.tsv, jepsen/, kv/).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/porcupine-data"))]
    pub data: std::path::PathBuf,
    /// Passes; the report gives each set's median.
    #[arg(long, default_value_t = 5)]
    pub passes: usize,
    /// Threads for partitions.
    #[arg(long, default_value_t = crate::check::linearizability::available_threads())]
    pub threads: usize,
    /// Print the result as JSON (one document on stdout).
    #[arg(long)]
    pub json: bool,
}

pub(super) fn check(args: &CheckBenchArgs) -> Result<u8> {
    let report = crate::check::bench::bench_porcupine_with(&args.data, args.passes, args.threads)?;
    if !args.json {
        print!("{report}");
        return Ok(EXIT_PASS);
    }
    let secs = |d: Duration| d.as_secs_f64();
    let json = serde_json::json!({
        "passes": report.passes,
        "threads": report.threads,
        "sets": report.rows.iter().map(|r| serde_json::json!({
            "name": r.name,
            "checks": r.checks,
            "median_seconds": secs(r.median),
            "cpu_median_seconds": r.cpu_median.map(secs),
            "min_seconds": secs(r.min),
            "max_seconds": secs(r.max),
            "porcupine_seconds": [secs(r.porcupine.0), secs(r.porcupine.1)],
            "slowest_check": {"file": r.slowest.0, "seconds": secs(r.slowest.1)},
        })).collect::<Vec<_>>(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&json).context("encoding the result")?
    );
    Ok(EXIT_PASS)
}

/// Arguments of `squall bench eventual`.
#[derive(clap::Args, Debug)]
pub struct EventualBenchArgs {
    /// History sizes in operations, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    pub operations: Vec<usize>,
    /// Check only these models' properties (session, causal, convergence; comma-separated).
    /// Default: every property.
    #[arg(long, value_delimiter = ',')]
    pub model: Vec<super::CheckModel>,
    /// Passes per size; the report gives the median.
    #[arg(long, default_value_t = 5)]
    pub passes: usize,
    /// Seed of the generated histories.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the result as JSON (one document on stdout).
    #[arg(long)]
    pub json: bool,
}

pub(super) fn eventual(args: &EventualBenchArgs) -> Result<u8> {
    anyhow::ensure!(
        args.passes > 0 && !args.operations.is_empty() && args.operations.iter().all(|&n| n > 0),
        "--passes and --operations must be positive"
    );
    let mut properties: Vec<crate::check::property::Property> = Vec::new();
    for model in &args.model {
        let store = model
            .store()
            .ok_or_else(|| anyhow::anyhow!("--model takes session, causal or convergence here"))?;
        for p in store.properties() {
            if !properties.contains(p) {
                properties.push(*p);
            }
        }
    }
    if properties.is_empty() {
        properties = crate::check::eventual::properties::ALL.to_vec();
    }
    let rows = crate::check::eventual::bench::bench_eventual(
        &args.operations,
        &properties,
        args.passes,
        args.seed,
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let names: Vec<&str> = properties.iter().map(|p| p.name).collect();
    if args.json {
        let json = serde_json::json!({
            "properties": names,
            "passes": args.passes,
            "seed": args.seed,
            "sizes": rows.iter().map(|r| serde_json::json!({
                "operations": r.operations,
                "sessions": r.shape.sessions,
                "keys": r.shape.keys,
                "median_ms": ms(r.median),
                "cpu_median_ms": r.cpu_median.map(ms),
                "min_ms": ms(r.min),
                "max_ms": ms(r.max),
                "operations_per_second": r.per_second(),
                "anomalies": r.anomalies.iter().map(|(p, n)| (p.to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
            })).collect::<Vec<_>>(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&json).context("encoding the result")?
        );
        return Ok(EXIT_PASS);
    }
    let what = if properties[..] == crate::check::eventual::properties::ALL[..] {
        "every property".to_string()
    } else {
        names.join(", ")
    };
    println!(
        "{what}, on a generated Dynamo-like history (seed {}), median of {} passes",
        args.seed, args.passes
    );
    println!("operations  sessions   keys  median ms  cpu ms  min-max ms       ops/s  anomalies");
    for r in &rows {
        let found: Vec<String> = r
            .anomalies
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        println!(
            "{:>10}  {:>8}  {:>5}  {:>9.1}  {:>6}  {:>6.1}-{:<6.1}  {:>10.0}  {}",
            r.operations,
            r.shape.sessions,
            r.shape.keys,
            ms(r.median),
            r.cpu_median
                .map_or("-".to_string(), |c| format!("{:.1}", ms(c))),
            ms(r.min),
            ms(r.max),
            r.per_second(),
            if found.is_empty() {
                "none".to_string()
            } else {
                found.join(", ")
            },
        );
    }
    Ok(EXIT_PASS)
}
