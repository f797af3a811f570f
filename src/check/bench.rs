//! Benchmark of the linearizability checker on Porcupine's test data (`squall bench check`).
//!
//! Measures check time only (files are parsed once, before timing) for the three sets the
//! issue compares against Porcupine: all etcd histories (cas model), the six KV histories
//! checked per key, and c01/c10 KV checked as one state. Each set is timed `passes` times
//! and the median is reported; verdicts are compared with `expected.tsv` on every pass.

use crate::check::formats::{parse, Format};
use crate::check::linearizability::{
    available_threads, check_operations_with, CheckOptions, Operation, Verdict,
};
use crate::check::model::ModelKind;
use crate::error::{Error, Result};
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

/// One benchmark set's timings.
#[derive(Clone, Debug)]
pub struct BenchRow {
    /// What the set is.
    pub name: &'static str,
    /// Number of checks per pass.
    pub checks: usize,
    /// Median pass time (wall clock).
    pub median: Duration,
    /// Median CPU time of the checking thread per pass, where the OS reports it
    /// (`/proc/thread-self/schedstat`): on a loaded machine it is the steadier number.
    pub cpu_median: Option<Duration>,
    /// Fastest and slowest pass.
    pub min: Duration,
    /// Slowest pass.
    pub max: Duration,
    /// Porcupine's reference times on this machine class (run A, run B), from the data README.
    pub porcupine: (Duration, Duration),
    /// The slowest single check in the median pass, and its time.
    pub slowest: (String, Duration),
}

/// The benchmark's result.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// Passes per set.
    pub passes: usize,
    /// Threads per check.
    pub threads: usize,
    /// One row per set.
    pub rows: Vec<BenchRow>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |d: Duration| format!("{:.3} s", d.as_secs_f64());
        writeln!(
            f,
            "check time only, median of {} passes, {} thread(s) per check",
            self.passes, self.threads
        )?;
        writeln!(
            f,
            "| set | checks | squall median | (CPU) | min | max | Porcupine A / B | speed-up vs A / B | slowest check |"
        )?;
        writeln!(f, "|---|---|---|---|---|---|---|---|---|")?;
        for r in &self.rows {
            let m = r.median.as_secs_f64().max(1e-9);
            writeln!(
                f,
                "| {} | {} | {} | {} | {} | {} | {} / {} | {:.1}× / {:.1}× | {} ({:.1} ms) |",
                r.name,
                r.checks,
                s(r.median),
                r.cpu_median.map_or("n/a".to_string(), s),
                s(r.min),
                s(r.max),
                s(r.porcupine.0),
                s(r.porcupine.1),
                r.porcupine.0.as_secs_f64() / m,
                r.porcupine.1.as_secs_f64() / m,
                r.slowest.0,
                r.slowest.1.as_secs_f64() * 1e3,
            )?;
        }
        Ok(())
    }
}

/// CPU time consumed by the calling thread so far (Linux only).
pub(crate) fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

struct Case {
    file: String,
    kind: ModelKind,
    partition: bool,
    expected: bool,
    ops: Vec<Operation>,
}

/// Runs the benchmark on the Porcupine data in `data_dir` (the folder holding
/// `expected.tsv`), with as many threads as the machine has cores (Porcupine too checks
/// partitions in parallel). Fails if a file is missing or a verdict disagrees with
/// `expected.tsv`.
pub fn bench_porcupine(data_dir: &Path, passes: usize) -> Result<BenchReport> {
    bench_porcupine_with(data_dir, passes, available_threads())
}

/// [`bench_porcupine`] with a given number of threads per check.
pub fn bench_porcupine_with(data_dir: &Path, passes: usize, threads: usize) -> Result<BenchReport> {
    let tsv_path = data_dir.join("expected.tsv");
    let tsv = std::fs::read_to_string(&tsv_path).map_err(|e| Error::io("reading", &tsv_path, e))?;
    let mut etcd = Vec::new();
    let mut kv_part = Vec::new();
    let mut kv_whole = Vec::new();
    for (i, row) in tsv.lines().enumerate().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let [file, model, partition, expected] = cols[..] else {
            return Err(Error::data(
                Some(&tsv_path),
                format!("line {}: expected 4 columns", i + 1),
            ));
        };
        let expected = match expected {
            "linearizable" => true,
            "not-linearizable" => false,
            _ => continue,
        };
        let (format, kind) = match model {
            "cas-register" => (Format::PorcupineEtcd, ModelKind::Cas),
            "kv" => (Format::PorcupineKv, ModelKind::Kv),
            other => {
                return Err(Error::data(
                    Some(&tsv_path),
                    format!("line {}: unknown model {other}", i + 1),
                ))
            }
        };
        let path = data_dir.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
        let ops = parse(format, &text).map_err(|source| Error::History {
            path: Some(path.clone()),
            source,
        })?;
        let case = Case {
            file: format!("{file}{}", if partition == "no" { " (whole)" } else { "" }),
            kind,
            partition: partition != "no",
            expected,
            ops,
        };
        match (kind, case.partition) {
            (ModelKind::Kv, true) => kv_part.push(case),
            (ModelKind::Kv, false) => kv_whole.push(case),
            _ => etcd.push(case),
        }
    }
    let ms = Duration::from_millis;
    let sets = [
        ("all etcd histories (cas)", etcd, (ms(980), ms(500))),
        ("6 KV histories, per key", kv_part, (ms(590), ms(155))),
        ("c01+c10 KV, no partition", kv_whole, (ms(8900), ms(4300))),
    ];
    let mut rows = Vec::new();
    for (name, cases, porcupine) in sets {
        let mut pass_times = Vec::with_capacity(passes);
        let mut per_case: Vec<Vec<(Duration, usize)>> = Vec::new();
        let mut cpu_times = Vec::with_capacity(passes);
        for _ in 0..passes.max(1) {
            let mut times = Vec::with_capacity(cases.len());
            let cpu_start = thread_cpu_time();
            let start = Instant::now();
            for (i, c) in cases.iter().enumerate() {
                let t = Instant::now();
                let opts = CheckOptions {
                    partition: c.partition,
                    threads,
                    ..CheckOptions::default()
                };
                let v = check_operations_with(c.kind, &c.ops, &opts)?;
                times.push((t.elapsed(), i));
                let ok = match v {
                    Verdict::Linearizable => c.expected,
                    Verdict::NotLinearizable(_) => !c.expected,
                    Verdict::Unknown(_) => false,
                };
                if !ok {
                    return Err(Error::data(
                        Some(&tsv_path),
                        format!("{}: the verdict is {v}, not what this file expects", c.file),
                    ));
                }
            }
            pass_times.push(start.elapsed());
            cpu_times.push(
                cpu_start
                    .zip(thread_cpu_time())
                    .map(|(a, b)| b.saturating_sub(a)),
            );
            per_case.push(times);
        }
        let mut order: Vec<usize> = (0..pass_times.len()).collect();
        order.sort_by_key(|&i| pass_times[i]);
        let mid = order[order.len() / 2];
        let slowest = per_case[mid]
            .iter()
            .max()
            .map(|&(d, i)| (cases[i].file.clone(), d))
            .unwrap_or_default();
        let mut cpu: Vec<Duration> = cpu_times.iter().flatten().copied().collect();
        cpu.sort();
        rows.push(BenchRow {
            name,
            cpu_median: (cpu.len() == pass_times.len()).then(|| cpu[cpu.len() / 2]),
            checks: cases.len(),
            median: pass_times[mid],
            min: pass_times[order[0]],
            max: pass_times[order[order.len() - 1]],
            porcupine,
            slowest,
        });
    }
    Ok(BenchReport {
        threads,
        passes: passes.max(1),
        rows,
    })
}
