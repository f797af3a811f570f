//! `squall bench ...`: the benchmark commands behind BENCHMARKS.md.

use super::{Catalog, Visit, EXIT_PASS, EXIT_VIOLATION};
use crate::bench::bench_sim;
use crate::systems::System;
use anyhow::Result;

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
    /// Simulated milliseconds of scenario steps (faults and client operations).
    #[arg(long, default_value_t = 1000)]
    pub duration_ms: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Repeat the measurement this many times and report each pass and the median.
    #[arg(long, default_value_t = 3)]
    pub passes: usize,
    /// Simulated milliseconds per step (squall runs use 10; this shows what the tick costs).
    #[arg(long, default_value_t = 10)]
    pub tick_ms: u64,
    /// Where each scenario runs: `thread` or `process` (default: what the system declares).
    #[arg(long)]
    pub isolation: Option<crate::systems::Isolation>,
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
        println!(
            "{} scenarios of {} nodes, {} ms of steps under faults (+ liveness phase), tick {} ms, {} passes, {isolation} isolation",
            a.scenarios, a.nodes, a.duration_ms, a.tick_ms, a.passes
        );
        println!(
            "pass  scenarios/s  sim-s/wall-s  sim-s/cpu-s  median-ms/scenario  ticks  failures"
        );
        let mut speedups = Vec::new();
        let mut rates = Vec::new();
        let mut failures = 0;
        for pass in 1..=a.passes {
            let b = bench_sim(
                system,
                a.scenarios,
                a.nodes,
                a.duration_ms,
                a.seed,
                std::time::Duration::from_millis(a.tick_ms),
                isolation,
            );
            println!(
                "{pass:>4}  {:>11.1}  {:>12.0}  {:>11.0}  {:>18.2}  {:>5}  {:>8}",
                b.per_second(),
                b.speedup(),
                b.cpu_speedup(),
                b.median_wall.as_secs_f64() * 1000.0,
                b.ticks,
                b.failures
            );
            speedups.push(b.speedup());
            rates.push(b.per_second());
            failures += b.failures;
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "median: {:.1} scenarios/s, {:.0}x real time",
            median(&mut rates),
            median(&mut speedups)
        );
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
}

pub(super) fn check(args: &CheckBenchArgs) -> Result<u8> {
    let report = crate::check::bench::bench_porcupine_with(&args.data, args.passes, args.threads)?;
    print!("{report}");
    Ok(EXIT_PASS)
}
