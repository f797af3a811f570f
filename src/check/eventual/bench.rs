//! Speed of the replicated-store checkers (`squall bench eventual`): the properties asked for
//! (by default every one) checked on generated histories of a Dynamo-like store
//! ([`super::generate::store_history`]) of the sizes asked for, each timed several times; the
//! report gives medians.

use super::generate::{store_history, StoreShape};
use super::{check, History};
use crate::check::property::Property;
use std::time::{Duration, Instant};

/// One history size's timings.
#[derive(Clone, Debug)]
pub struct SizeTimings {
    /// Operations in the history.
    pub operations: usize,
    /// Sessions and keys.
    pub shape: StoreShape,
    /// Median wall time of a check.
    pub median: Duration,
    /// Median CPU time of the checking thread, where the OS reports it.
    pub cpu_median: Option<Duration>,
    /// Fastest and slowest pass.
    pub min: Duration,
    /// Slowest pass.
    pub max: Duration,
    /// Anomalies found per property (the same on every pass).
    pub anomalies: Vec<(&'static str, usize)>,
}

impl SizeTimings {
    /// Operations checked per second (median).
    pub fn per_second(&self) -> f64 {
        self.operations as f64 / self.median.as_secs_f64().max(1e-9)
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times `passes` checks for `properties` of one generated history per size in `sizes`.
pub fn bench_eventual(
    sizes: &[usize],
    properties: &[Property],
    passes: usize,
    seed: u64,
) -> Vec<SizeTimings> {
    let passes = passes.max(1);
    sizes
        .iter()
        .map(|&n| {
            let shape = StoreShape::of(n);
            let history: History = store_history(shape, seed);
            let mut walls = Vec::with_capacity(passes);
            let mut cpus = Vec::with_capacity(passes);
            let mut anomalies = Vec::new();
            for pass in 0..passes {
                let cpu = crate::check::bench::thread_cpu_time();
                let start = Instant::now();
                let found = check(&history, properties).expect("a generated history is checkable");
                walls.push(start.elapsed());
                if let (Some(before), Some(after)) = (cpu, crate::check::bench::thread_cpu_time()) {
                    cpus.push(after.saturating_sub(before));
                }
                if pass == 0 {
                    anomalies = properties
                        .iter()
                        .map(|p| {
                            (
                                p.name,
                                found.iter().filter(|a| a.property == p.name).count(),
                            )
                        })
                        .collect();
                }
            }
            SizeTimings {
                operations: history.operations.len(),
                shape,
                min: *walls.iter().min().expect("a pass"),
                max: *walls.iter().max().expect("a pass"),
                median: median(walls),
                cpu_median: (cpus.len() == passes).then(|| median(cpus)),
                anomalies,
            }
        })
        .collect()
}
