//! Replays a scenario with "progress under faults" measuring instead of judging, and prints
//! the trace: when a run fails that property, this shows whether (and when) the cluster made
//! progress after all, or stalled for good — the first question when classifying a liveness
//! failure as a bug or a bound too tight.
//!
//! `cargo run --release -p squall-openraft --example progress_trace -- FILE.scn`

use squall::scenario::Scenario;
use squall::sim::runner::{run, RunConfig};
use squall_openraft::{KvOp, OpenRaft};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: progress_trace FILE.scn");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let scenario = match Scenario::<KvOp>::from_text(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let system = OpenRaft {
        measure_progress: true,
        ..OpenRaft::default()
    };
    let config = RunConfig {
        trace: true,
        ..RunConfig::default()
    };
    match run(&system, &scenario, &config) {
        Ok(report) => {
            let verdict = match report.failure() {
                None => "PASS (progress measured, not judged)".to_string(),
                Some(f) => format!("FAIL {f}"),
            };
            // A closed pipe (`| head`) is not an error worth a panic.
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{}", report.trace).and_then(|()| writeln!(out, "{verdict}"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            ExitCode::from(2)
        }
    }
}
