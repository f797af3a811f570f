//! The `squall` command line. It lives in the library so that a crate testing its own
//! system can ship the same CLI with its system added (see [`Catalog`]).
//!
//! Exit codes (a contract): 0 pass, 1 a property was violated, 2 bad input or usage,
//! 3 unknown (a checker ran out of budget).

mod bench;
mod chaos;
mod check;
mod codec;
mod determinism;
mod duration;
mod hunt;
mod run;

use crate::systems::System;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub use check::{run_check, CheckArgs};
pub use duration::{format_duration, parse_duration};
pub use run::{load_scenario, scenario_from_seed, ReplayArgs, RunArgs};

/// Exit code: every property held.
pub const EXIT_PASS: u8 = 0;
/// Exit code: a property was violated.
pub const EXIT_VIOLATION: u8 = 1;
/// Exit code: bad input or usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: a checker could not decide within its budget.
pub const EXIT_UNKNOWN: u8 = 3;

/// Something generic over the system under test, applied to the system a command names.
pub trait Visit {
    /// What the visit returns.
    type Output;
    /// Runs with the named system.
    fn visit<S: System>(self, system: &S) -> Self::Output;
}

/// The systems a binary knows by name.
pub trait Catalog {
    /// The names, for help and errors.
    fn names(&self) -> Vec<&'static str>;
    /// The planted bugs of the named system.
    fn mutants(&self, system: &str) -> Vec<crate::mutants::MutantInfo>;
    /// Builds the named system (with the planted bug `mutant`, if any) and visits it.
    fn visit<V: Visit>(
        &self,
        name: &str,
        mutant: Option<&str>,
        visit: V,
    ) -> Result<V::Output, String>;
}

/// The systems built into squall.
pub struct BuiltIn;

impl Catalog for BuiltIn {
    fn names(&self) -> Vec<&'static str> {
        vec!["raft"]
    }

    fn mutants(&self, system: &str) -> Vec<crate::mutants::MutantInfo> {
        match system {
            "raft" => crate::systems::raft::RaftKv::default().mutants(),
            _ => Vec::new(),
        }
    }

    fn visit<V: Visit>(
        &self,
        name: &str,
        mutant: Option<&str>,
        visit: V,
    ) -> Result<V::Output, String> {
        match name {
            "raft" => {
                let system = crate::systems::raft::RaftKv::from_mutant_name(mutant)?;
                Ok(visit.visit(&system))
            }
            other => Err(format!(
                "unknown system `{other}`; known systems: {}",
                self.names().join(", ")
            )),
        }
    }
}

/// Your system beside squall's built-in ones: what [`main!`](crate::main) runs.
pub struct With<S>(pub S);

impl<S: System> Catalog for With<S> {
    fn names(&self) -> Vec<&'static str> {
        let mut names = vec![self.0.name()];
        names.extend(BuiltIn.names());
        names
    }

    fn mutants(&self, system: &str) -> Vec<crate::mutants::MutantInfo> {
        if system == self.0.name() {
            self.0.mutants()
        } else {
            BuiltIn.mutants(system)
        }
    }

    fn visit<V: Visit>(
        &self,
        name: &str,
        mutant: Option<&str>,
        visit: V,
    ) -> Result<V::Output, String> {
        if name != self.0.name() {
            return BuiltIn.visit(name, mutant, visit);
        }
        match mutant {
            None => Ok(visit.visit(&self.0)),
            Some(m) => Ok(visit.visit(&self.0.with_mutant(m)?)),
        }
    }
}

/// squall: model-based fuzzing and chaos for distributed protocols.
#[derive(Parser, Debug)]
#[command(name = "squall", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate one scenario from a seed, run it, print the verdict.
    Run(RunArgs),
    /// Run a scenario file.
    Replay(ReplayArgs),
    /// Blind random search for a time budget; failures are shrunk and saved.
    Chaos(chaos::ChaosArgs),
    /// Check a history file for linearizability (exit 0 linearizable, 1 not, 3 unknown).
    Check(CheckArgs),
    /// Shrink a failing scenario file to a minimal one.
    Shrink(chaos::ShrinkArgs),
    /// Print the scenario a fuzzer input (e.g. a crash artifact) decodes to.
    Decode(codec::DecodeArgs),
    /// Turn scenario files into fuzzer inputs (to seed the fuzz corpus from corpus/).
    Encode(codec::EncodeArgs),
    /// List the planted bugs.
    Mutants(hunt::MutantsArgs),
    /// Measure how fast squall finds a planted bug from scratch.
    Hunt(hunt::HuntArgs),
    /// Run the same scenarios forward, in reverse and one per fresh process, and compare
    /// their traces byte for byte (exit 0 identical, 1 not).
    Determinism(determinism::DeterminismArgs),
    /// Benchmarks (numbers for BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Simulation speed: scenarios per second and simulated seconds per wall second.
    Sim(bench::SimBenchArgs),
    /// Linearizability checking speed on Porcupine's test data.
    Check(bench::CheckBenchArgs),
}

/// Runs the CLI with the given catalog of systems; returns the process exit code.
pub fn main_with(catalog: &(impl Catalog + Sync)) -> ExitCode {
    let cli = Cli::parse();
    // This binary knows the catalog's systems: findings are verified by replaying their
    // files in a fresh process of it.
    if let Ok(binary) = std::env::current_exe() {
        crate::verify::use_command(binary);
    }
    let code = match cli.command {
        Command::Run(args) => run::run(catalog, &args),
        Command::Replay(args) => run::replay(catalog, &args),
        Command::Bench(BenchCommand::Sim(args)) => bench::sim(catalog, &args),
        Command::Bench(BenchCommand::Check(args)) => bench::check(&args),
        Command::Chaos(args) => chaos::chaos(catalog, &args),
        Command::Check(args) => run_check(&args),
        Command::Decode(args) => codec::decode(catalog, &args),
        Command::Mutants(args) => hunt::mutants(catalog, &args),
        Command::Hunt(args) => hunt::hunt(catalog, &args),
        Command::Encode(args) => codec::encode(catalog, &args),
        Command::Shrink(args) => chaos::shrink_file(catalog, &args),
        Command::Determinism(args) => determinism::determinism(catalog, &args),
    };
    match code {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
