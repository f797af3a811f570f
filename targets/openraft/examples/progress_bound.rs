//! Calibrates the bound of "progress under faults" (`src/progress.rs`): for each cluster size,
//! loss rate and topology, cuts the leader off in many seeded runs and reports how long the
//! rest took to elect a leader that commits, against the bound the check would allow.
//!
//! Topologies: `isolated` cuts the leader off from everyone; `bridged` leaves it one follower
//! (openraft#2080's shape: that follower hears the old leader, the others do not; from four
//! nodes on, where the leader and its follower are no quorum).
//!
//! `cargo run --release -p squall-openraft --example progress_bound -- 1000` (runs per row).
//! The check only measures here (`OpenRaft::measure_progress`), so a slow election is timed,
//! not cut short by a violation.

use squall::report::Report;
use squall::scenario::Scenario;
use squall::sim::runner::{run, RunConfig};
use squall_openraft::progress::Bound;
use squall_openraft::{KvOp, OpenRaft};
use std::time::Duration;

/// When the leader is cut off.
const CUT_AT: &str = "wait 1500ms";

/// The time the first "progress:" trace line after the cut reports, and how many terms the
/// election took (the new leader's term minus the old one's), or `None` if none came.
fn time_to_progress(trace: &str) -> Option<(Duration, u64)> {
    let (before, after) = trace.split_once("step 2:")?;
    let term_of =
        |l: &str| -> Option<u64> { l.split_once(" term ")?.1.split(' ').next()?.parse().ok() };
    let old = before
        .lines()
        .filter(|l| l.contains(" is leader in term "))
        .filter_map(term_of)
        .next_back()?;
    let line = after.lines().find(|l| l.contains("progress: "))?;
    let seconds = line.split_once("commits, ")?.1.split_once('s')?.0;
    let time = seconds.parse::<f64>().ok().map(Duration::from_secs_f64)?;
    Some((time, term_of(line)?.saturating_sub(old)))
}

/// The node that leads when the cut comes: the last "nX is leader" line of a run that only
/// waits until then.
fn leader_at_cut(trace: &str) -> Option<u8> {
    trace
        .lines()
        .filter_map(|l| l.split_once(" is leader in term").map(|(h, _)| h))
        .filter_map(|h| h.trim().rsplit(' ').next()?.strip_prefix('n')?.parse().ok())
        .next_back()
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn run_text(system: &OpenRaft, config: &RunConfig, text: &str) -> Report {
    let scenario = match Scenario::<KvOp>::from_text(text) {
        Ok(s) => s,
        Err(e) => panic!("calibration scenario: {e}\n{text}"),
    };
    match run(system, &scenario, config) {
        Ok(r) => r,
        Err(e) => panic!("calibration run: {e}\n{text}"),
    }
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
    println!(
        "| nodes | topology | loss | runs | median ms | p99 | p99.9 | max | never | ≥2 elections | ≥3 elections | bound | over bound |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for nodes in 3u8..=7 {
        for bridged in [false, true] {
            // Three nodes: the bridged leader keeps a quorum (itself and its follower).
            if bridged && nodes == 3 {
                continue;
            }
            for loss in [0u8, 5, 10] {
                let (mut times, mut never, mut elections) = (Vec::new(), 0, [0u32; 2]);
                for seed in 0..runs {
                    let head = format!("system openraft\nnodes {nodes}\nseed {seed}\n{CUT_AT}\n");
                    let probe = run_text(&system, &config, &head);
                    let Some(leader) = leader_at_cut(&probe.trace) else {
                        continue;
                    };
                    // The bridge: the next node keeps its links to the leader.
                    let bridge = (leader + 1) % nodes;
                    let cuts: String = (0..nodes)
                        .filter(|&x| x != leader && !(bridged && x == bridge))
                        .map(|x| format!("cut n{leader} n{x}\n"))
                        .collect();
                    let loss_line = if loss > 0 {
                        format!("loss {loss}%\n")
                    } else {
                        String::new()
                    };
                    let text = format!("{head}{cuts}{loss_line}wait 12000ms\n");
                    let report = run_text(&system, &config, &text);
                    match time_to_progress(&report.trace) {
                        Some((t, terms)) => {
                            times.push(t);
                            elections[0] += u32::from(terms >= 2);
                            elections[1] += u32::from(terms >= 3);
                        }
                        None => never += 1,
                    }
                }
                times.sort();
                let majority = usize::from(nodes) / 2 + 1;
                // Everyone but the cut-off leader is fully connected.
                let rounds = Bound::rounds(loss, usize::from(nodes) - 1, majority);
                let allowed = bound.allowed(rounds, bridged);
                let over = times.iter().filter(|t| **t > allowed).count();
                let ms = |d: Duration| d.as_millis().to_string();
                println!(
                    "| {nodes} | {} | {loss}% | {} | {} | {} | {} | {} | {never} | {} | {} | {} | {over} |",
                    if bridged { "bridged" } else { "isolated" },
                    times.len() + never,
                    ms(percentile(&times, 0.5)),
                    ms(percentile(&times, 0.99)),
                    ms(percentile(&times, 0.999)),
                    ms(times.last().copied().unwrap_or_default()),
                    elections[0],
                    elections[1],
                    ms(allowed),
                );
            }
        }
    }
}
