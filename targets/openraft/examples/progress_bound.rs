//! Calibrates the bound of "progress under faults" (`src/progress.rs`): for each cluster size
//! and loss rate, cuts the leader off in many seeded runs and reports how long the rest took
//! to elect a leader that commits, against the bound the check would allow.
//!
//! `cargo run --release -p squall-openraft --example progress_bound -- 2000` (runs per cell;
//! 3 × 5 cells). The check only measures here (`OpenRaft::measure_progress`), so a slow
//! election is timed, not cut short by a violation.

use squall::scenario::Scenario;
use squall::sim::runner::{run, RunConfig};
use squall_openraft::progress::Bound;
use squall_openraft::{KvOp, OpenRaft};
use std::time::Duration;

/// The time the first "progress:" trace line after the leader was cut off reports, or `None`
/// if none came.
fn time_to_progress(trace: &str) -> Option<Duration> {
    let after = trace.split_once("isolate leader")?.1;
    let line = after.lines().find(|l| l.contains("progress: "))?;
    let seconds = line.split_once("commits, ")?.1.split_once('s')?.0;
    seconds.parse::<f64>().ok().map(Duration::from_secs_f64)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn main() {
    let runs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let system = OpenRaft {
        measure_progress: true,
        ..OpenRaft::default()
    };
    let config = RunConfig {
        trace: true,
        check_history: false,
        ..RunConfig::default()
    };
    let bound = Bound::for_adapter();
    println!("| nodes | loss | runs | no leader to cut | median | p99 | p99.9 | max | never | bound | over bound |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for nodes in 3u8..=7 {
        for loss in [0u8, 5, 10] {
            let (mut times, mut never, mut skipped) = (Vec::new(), 0, 0);
            for seed in 0..runs {
                let loss_line = if loss > 0 {
                    format!("loss {loss}%\n")
                } else {
                    String::new()
                };
                let text = format!(
                    "system openraft\nnodes {nodes}\nseed {seed}\nwait 1500ms\n{loss_line}\
                     isolate leader\nwait 12000ms\n"
                );
                let scenario = match Scenario::<KvOp>::from_text(&text) {
                    Ok(s) => s,
                    Err(e) => panic!("calibration scenario: {e}"),
                };
                let report = match run(&system, &scenario, &config) {
                    Ok(r) => r,
                    Err(e) => panic!("seed {seed}: {e}"),
                };
                if report.trace.contains("there is no leader") {
                    skipped += 1;
                    continue;
                }
                match time_to_progress(&report.trace) {
                    Some(t) => times.push(t),
                    None => never += 1,
                }
            }
            times.sort();
            let majority = usize::from(nodes) / 2 + 1;
            let allowed = bound.allowed(Bound::rounds(loss, usize::from(nodes) - 1, majority));
            let over = times.iter().filter(|t| **t > allowed).count();
            let ms = |d: Duration| format!("{}", d.as_millis());
            println!(
                "| {nodes} | {loss}% | {} | {skipped} | {} | {} | {} | {} | {never} | {} | {over} |",
                times.len() + never,
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.99)),
                ms(percentile(&times, 0.999)),
                ms(times.last().copied().unwrap_or_default()),
                ms(allowed),
            );
        }
    }
}
