//! The `squall` command line.
//!
//! This is the binary's front end, and it lives in the library on purpose: a crate that
//! tests its own system ships the same CLI with its system added, in a binary of three lines
//! ([`main_with`] and a [`Catalog`]). So it is treated as the binary, not as library: it is
//! the only module that uses `anyhow` (everything below it returns [`crate::Error`] or a
//! narrower error), it prints, and it maps outcomes to exit codes. Nothing else in the
//! library depends on what it prints.
//!
//! Exit codes (a contract; each command's `--help` says what they mean for it): 0 pass,
//! 1 a property was violated, 2 bad input or usage, 3 unknown (a checker ran out of budget,
//! or a failure did not fail again in a fresh process).

mod bench;
mod cap;
mod chaos;
mod check;
mod codec;
mod determinism;
mod duration;
mod hunt;
mod properties;
mod run;

use crate::systems::System;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub use check::{run_check, CheckArgs, CheckModel};
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

/// The name this binary was run as (`squall`, or a user's own binary), for the commands it
/// prints.
pub(crate) fn program() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "squall".to_string())
}

/// `word` as one shell word: as it is when that is safe, else single-quoted.
pub(crate) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

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
        vec![
            "raft",
            "raft-lease",
            "twopc",
            "saga",
            "dynamo",
            "dynamo-lww",
        ]
    }

    fn mutants(&self, system: &str) -> Vec<crate::mutants::MutantInfo> {
        match system {
            "raft" => crate::systems::raft::RaftKv::default().mutants(),
            "raft-lease" => crate::systems::raft::RaftKv::lease().mutants(),
            "twopc" => crate::systems::twopc::TwoPc::default().mutants(),
            "saga" => crate::systems::saga::Saga::default().mutants(),
            "dynamo" | "dynamo-lww" => crate::systems::dynamo::Dynamo::default().mutants(),
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
            "raft" | "raft-lease" => {
                let system = crate::systems::raft::RaftKv::named(name, mutant)?;
                Ok(visit.visit(&system))
            }
            "twopc" => {
                let system = crate::systems::twopc::TwoPc::from_mutant_name(mutant)?;
                Ok(visit.visit(&system))
            }
            "saga" => {
                let system = crate::systems::saga::Saga::from_mutant_name(mutant)?;
                Ok(visit.visit(&system))
            }
            "dynamo" | "dynamo-lww" => {
                let system = crate::systems::dynamo::Dynamo::named(name, mutant)?;
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
            Some(m) => Ok(visit.visit(&crate::systems::with_mutant(&self.0, m)?)),
        }
    }
}

/// squall: model-based fuzzing and chaos for distributed protocols.
#[derive(Parser, Debug)]
#[command(name = "squall", version, about, long_about = None, after_help = EXITS)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXITS: &str = "\
Exit codes: 0 pass, 1 a property was violated, 2 bad input or usage, 3 unknown (a checker ran
out of budget, or a failure did not fail again in a fresh process). Each command's --help says
what they mean for it.";

const EXITS_RUN: &str = "\
Exit codes: 0 every property held, 1 a property was violated (the verdict ends with the
commands that replay it with its trace and shrink it), 2 bad input or usage.";

const EXITS_CHAOS: &str = "\
Exit codes: 0 nothing failed and every scheduled fault kind took effect, 1 a failure that
failed again in a fresh process (a finding), or a fault kind that never took effect, or no
scenario ran, 2 bad input or usage, 3 failures seen, none of which failed again in a fresh
process.";

const EXITS_CHECK: &str = "\
Exit codes: 0 linearizable (or, for session, causal and convergence, consistent), 1 not
(with the operations that cannot be ordered, or the anomalies naming the operations
involved), 2 bad input or usage (an unreadable, malformed or empty history file, with file
and line), 3 unknown (--timeout, --max-steps or --max-memory-mib ran out first).";

const EXITS_SHRINK: &str = "\
Exit codes: 0 a smaller failing scenario was written (it failed again in a fresh process),
2 bad input or usage (including a scenario that passes, or an output file that exists),
3 the shrunk scenario did not fail again in a fresh process: nothing written.";

const EXITS_DECODE: &str = "\
Exit codes: 0 the decoded scenario passes in a fresh process (or --no-replay), 1 it fails
there, 2 bad input or usage.";

const EXITS_SIMPLE: &str = "Exit codes: 0 done, 2 bad input or usage.";

const EXITS_HUNT: &str = "\
Exit codes: 0 every campaign found its planted bug, 1 some campaign did not within its
budget, 2 bad input or usage.";

const EXITS_CAP: &str = "\
Exit codes: 0 every store kept the guarantees it claims (an AP store is not linearizable,
and does not claim to be), 1 some store broke one of its own properties, 2 bad input or
usage.";

const EXITS_DETERMINISM: &str = "\
Exit codes: 0 every scenario's trace was the same in every order and process, 1 some
differed, 2 bad input or usage.";

const EXITS_BENCH_SIM: &str = "\
Exit codes: 0 no scenario failed, 1 some scenario failed, 2 bad input or usage.";

const EXITS_BENCH_CHECK: &str = "\
Exit codes: 0 every verdict matched expected.tsv, 2 bad input or a verdict that did not.";

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate one scenario from a seed, run it, print the verdict.
    #[command(after_help = EXITS_RUN)]
    Run(RunArgs),
    /// Run a scenario file.
    #[command(after_help = EXITS_RUN)]
    Replay(ReplayArgs),
    /// Blind random search for a time budget; failures are shrunk and saved.
    #[command(after_help = EXITS_CHAOS)]
    Chaos(chaos::ChaosArgs),
    /// Check a history file: linearizability (kv, register, cas), or a replicated store's
    /// session guarantees, causal consistency or convergence.
    #[command(after_help = EXITS_CHECK)]
    Check(CheckArgs),
    /// Shrink a failing scenario file to a minimal one.
    #[command(after_help = EXITS_SHRINK)]
    Shrink(chaos::ShrinkArgs),
    /// Print the scenario a fuzzer input (e.g. a crash artifact) decodes to.
    #[command(after_help = EXITS_DECODE)]
    Decode(codec::DecodeArgs),
    /// Turn scenario files into fuzzer inputs (to seed the fuzz corpus from corpus/).
    #[command(after_help = EXITS_SIMPLE)]
    Encode(codec::EncodeArgs),
    /// List the planted bugs.
    #[command(after_help = EXITS_SIMPLE)]
    Mutants(hunt::MutantsArgs),
    /// List the properties a system is checked for, each with what it asserts.
    #[command(after_help = EXITS_SIMPLE)]
    Properties(properties::PropertiesArgs),
    /// List the crash points a system's nodes pass, which scenarios can arm.
    #[command(after_help = EXITS_SIMPLE)]
    Points(properties::PointsArgs),
    /// Measure how fast squall finds a planted bug from scratch.
    #[command(after_help = EXITS_HUNT)]
    Hunt(hunt::HuntArgs),
    /// The same partition schedules against a CP and an AP store: what each answered while
    /// split, how fast, and which consistency it kept.
    #[command(after_help = EXITS_CAP)]
    Cap(cap::CapArgs),
    /// Run the same scenarios forward, in reverse and one per fresh process, and compare
    /// their traces byte for byte.
    #[command(after_help = EXITS_DETERMINISM)]
    Determinism(determinism::DeterminismArgs),
    /// Benchmarks (numbers for BENCHMARKS.md).
    #[command(subcommand, after_help = EXITS)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Simulation speed: scenarios per second and simulated seconds per wall second.
    #[command(after_help = EXITS_BENCH_SIM)]
    Sim(bench::SimBenchArgs),
    /// Linearizability checking speed on Porcupine's test data.
    #[command(after_help = EXITS_BENCH_CHECK)]
    Check(bench::CheckBenchArgs),
    /// Replicated-store checking speed (session guarantees, causal consistency,
    /// convergence) on generated histories of 1k to 100k operations.
    #[command(after_help = EXITS_SIMPLE)]
    Eventual(bench::EventualBenchArgs),
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
        Command::Bench(BenchCommand::Eventual(args)) => bench::eventual(&args),
        Command::Chaos(args) => chaos::chaos(catalog, &args),
        Command::Check(args) => run_check(&args),
        Command::Decode(args) => codec::decode(catalog, &args),
        Command::Mutants(args) => hunt::mutants(catalog, &args),
        Command::Properties(args) => properties::properties(catalog, &args),
        Command::Points(args) => properties::points(catalog, &args),
        Command::Hunt(args) => hunt::hunt(catalog, &args),
        Command::Cap(args) => cap::cap(catalog, &args),
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
