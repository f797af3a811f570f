//! The `squall` command line.

use clap::Parser;
use squall::check::cli::{run_check, CheckArgs};

/// Model-based fuzzing and chaos harness for distributed-protocol code.
#[derive(Parser)]
#[command(version, about)]
enum Cli {
    /// Check a history file for linearizability.
    Check(CheckArgs),
}

fn main() {
    let code = match Cli::parse() {
        Cli::Check(args) => match run_check(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                2
            }
        },
    };
    std::process::exit(code);
}
