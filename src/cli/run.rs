//! `squall run` and `squall replay`.

use super::{Catalog, Visit, EXIT_PASS, EXIT_VIOLATION};
use crate::report::Report;
use crate::scenario::Scenario;
use crate::sim::isolate::run_isolated;
use crate::sim::runner::RunConfig;
use crate::systems::Isolation;
use crate::systems::OpOf;
use crate::systems::System;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Arguments of `squall run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The system to test (e.g. `raft`).
    pub system: String,
    /// Seed the scenario is generated from.
    #[arg(long)]
    pub seed: u64,
    /// Activate a planted bug (see `squall mutants`).
    #[arg(long)]
    pub mutant: Option<String>,
    /// Check only this property (repeatable; `squall properties SYSTEM` lists them). No
    /// panics and no node errors are always checked.
    #[arg(long = "property", value_name = "NAME")]
    pub properties: Vec<String>,
    /// Print the step-by-step trace.
    #[arg(long)]
    pub trace: bool,
    /// Write the generated scenario's text form to this file (refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Print the generated scenario before running it.
    #[arg(long)]
    pub show: bool,
    /// Print the verdict as JSON (one document on stdout).
    #[arg(long, conflicts_with_all = ["trace", "show"])]
    pub json: bool,
    /// Write the client history to this file in squall's JSON history format, one event
    /// per line (`squall check FILE` reads it back; refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Write a self-contained HTML report of the run to this file: a timeline of every
    /// message between nodes, the node states, faults and client operations, with the
    /// failing property and where it broke (refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Arguments of `squall replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Activate a planted bug (see `squall mutants`).
    #[arg(long)]
    pub mutant: Option<String>,
    /// Check only this property (repeatable; `squall properties SYSTEM` lists them),
    /// instead of what the file's `check` line says (every property if it has none).
    #[arg(long = "property", value_name = "NAME")]
    pub properties: Vec<String>,
    /// Print the step-by-step trace.
    #[arg(long)]
    pub trace: bool,
    /// Print the verdict as JSON (one document on stdout).
    #[arg(long, conflicts_with = "trace")]
    pub json: bool,
    /// Write the client history to this file in squall's JSON history format, one event
    /// per line (`squall check FILE` reads it back; refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Write a self-contained HTML report of the run to this file: a timeline of every
    /// message between nodes, the node states, faults and client operations, with the
    /// failing property and where it broke (refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Generates the scenario `squall run SYSTEM --seed N` runs.
pub fn scenario_from_seed<S: System>(system: &S, seed: u64) -> Result<Scenario<OpOf<S>>> {
    let offer = crate::systems::offer(system);
    Scenario::from_seed::<S::Workload>(system.name(), &offer, seed).map_err(anyhow::Error::msg)
}

/// Reads and parses a scenario file for `system`, naming the file in any error, and the line
/// and column of a crash point `system`'s nodes never pass (which only the system knows, so
/// the parser cannot check it).
pub fn load_scenario<S: System>(system: &S, path: &Path) -> Result<Scenario<OpOf<S>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let scenario = Scenario::from_text(&text).with_context(|| format!("{}", path.display()))?;
    let points = crate::systems::crash_point_names(system);
    for (i, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        let words: Vec<(usize, &str)> = content
            .split_whitespace()
            .map(|w| (w.as_ptr() as usize - content.as_ptr() as usize, w))
            .collect();
        let [(_, "crash" | "powerloss"), _, (_, "at"), (at, point)] = words[..] else {
            continue;
        };
        if !points.contains(&point) {
            bail!(
                "{}: line {}, column {}: unknown crash point `{point}` for `{}`; known: {}",
                path.display(),
                i + 1,
                content[..at].chars().count() + 1,
                system.name(),
                points.join(", ")
            );
        }
    }
    Ok(scenario)
}

/// The system a scenario file names, read from its `system` line.
pub(super) fn system_of(path: &Path) -> Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split('#').next().unwrap_or("").split_whitespace();
        if words.next() == Some("system") {
            return match words.next() {
                Some(name) => Ok(name.to_string()),
                None => bail!(
                    "{}: line {}, column 7: missing system name",
                    path.display(),
                    i + 1
                ),
            };
        }
    }
    bail!("{}: missing `system` line", path.display())
}

/// The verdict as one JSON document: what `--json` prints and what a verification reads
/// back from a fresh process ([`crate::verify`]).
pub fn report_json<Op>(scenario: &Scenario<Op>, report: &Report) -> serde_json::Value {
    serde_json::json!({
        "system": scenario.system,
        "seed": scenario.seed,
        "nodes": scenario.nodes,
        "steps": scenario.steps.len(),
        "properties": if scenario.check.is_empty() { serde_json::json!("all") } else { serde_json::json!(scenario.check) },
        "verdict": if report.passed() { "pass" } else { "fail" },
        "failure": report.failure(),
        "ops": report.ops,
        "effects": report.effects,
        "sim_seconds": report.sim_time.as_secs_f64(),
        "trace_hash": format!("{:016x}", crate::report::trace_hash(&report.trace)),
    })
}

/// Prints the verdict as JSON; returns the exit code.
fn print_json<Op>(scenario: &Scenario<Op>, report: &Report) -> Result<u8> {
    println!(
        "{}",
        serde_json::to_string_pretty(&report_json(scenario, report))
            .context("encoding the verdict")?
    );
    Ok(if report.passed() {
        EXIT_PASS
    } else {
        EXIT_VIOLATION
    })
}

/// Prints the verdict line and the fault-effect summary; returns the exit code.
pub fn print_report<Op>(scenario: &Scenario<Op>, report: &Report, trace: bool) -> u8 {
    if trace {
        print!("{}", report.trace);
    }
    let ops = report.ops;
    let head = format!(
        "{} seed={} nodes={} steps={} ops={} (ok {}, fail {}, info {}) sim={:.2}s",
        scenario.system,
        scenario.seed,
        scenario.nodes,
        scenario.steps.len(),
        ops.ok + ops.fail + ops.info,
        ops.ok,
        ops.fail,
        ops.info,
        report.sim_time.as_secs_f64()
    );
    match report.failure() {
        None => println!("PASS {head}"),
        Some(f) => println!("FAIL {head}\n  {f}"),
    }
    println!("  faults[{}]: {}", scenario.weather, report.effects);
    if !scenario.weather.is_calm() && !report.effects.any() {
        println!("  warning: the scenario's faults never took effect");
    }
    if report.passed() {
        EXIT_PASS
    } else {
        EXIT_VIOLATION
    }
}

/// The commands that look closer at a failure: its trace, and a shrink of its file.
fn look_closer(replay: &str, shrink: &str) {
    println!("  look closer: {replay} --trace");
    println!("  shrink it:   {shrink}");
}

/// An output file created before the run (so that an existing or unwritable one stops it
/// early), to receive what the run produced afterwards.
pub(super) struct NewFile {
    path: PathBuf,
    file: std::fs::File,
}

impl NewFile {
    /// Creates `path` if given; an error if it exists or cannot be created.
    pub(super) fn create(path: &Option<PathBuf>) -> Result<Option<NewFile>> {
        path.as_ref()
            .map(|path| {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .with_context(|| {
                        format!("creating {} (it must not exist yet)", path.display())
                    })?;
                Ok(NewFile {
                    path: path.clone(),
                    file,
                })
            })
            .transpose()
    }

    /// Writes `text` into the file; tells where on stderr, as `what`.
    pub(super) fn write_text(self, text: &str, what: &str) -> Result<()> {
        use std::io::Write;
        let mut file = self.file;
        file.write_all(text.as_bytes())
            .with_context(|| format!("writing {}", self.path.display()))?;
        eprintln!(
            "wrote {what} ({} KiB) to {}",
            text.len().div_ceil(1024),
            self.path.display()
        );
        Ok(())
    }

    /// Writes the history as JSON lines (one event per line, so that `squall check` names
    /// the line of an operation it cannot place); tells where on stderr.
    fn write_history<S: System>(self, report: &Report) -> Result<()> {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(self.file);
        for event in &report.history.events {
            serde_json::to_writer(&mut out, event).context("encoding the history")?;
            out.write_all(b"\n")
                .with_context(|| format!("writing {}", self.path.display()))?;
        }
        out.flush()
            .with_context(|| format!("writing {}", self.path.display()))?;
        let model = <S::Workload as crate::workload::Workload>::model()
            .and_then(|m| clap::ValueEnum::to_possible_value(&m))
            .map(|m| format!(" --model {}", m.get_name()))
            .unwrap_or_default();
        eprintln!(
            "wrote the client history ({} events) to {}; check it: {} check {}{model}",
            report.history.events.len(),
            self.path.display(),
            super::program(),
            super::shell_word(&self.path.display().to_string()),
        );
        Ok(())
    }
}

struct RunVisit<'a> {
    args: &'a RunArgs,
}

impl Visit for RunVisit<'_> {
    type Output = Result<u8>;

    fn visit<S: System>(self, system: &S) -> Result<u8> {
        let args = self.args;
        let mut scenario = scenario_from_seed(system, args.seed)?;
        super::properties::select(system, &mut scenario, &args.properties)?;
        if let Some(path) = &args.save {
            write_new(path, &scenario.to_text())?;
        }
        if args.show {
            print!("{}", scenario.to_text());
        }
        let history = NewFile::create(&args.history)?;
        let html = NewFile::create(&args.html)?;
        let (report, code) =
            run_and_print(system, &scenario, args.trace, args.json, html.is_some())?;
        let program = super::program();
        let mutant = crate::chaos::mutant_flag(args.mutant.as_deref());
        // The saved file carries the selection (its `check` line); the seed does not.
        let run = format!(
            "{program} run {} --seed {}{mutant}{}",
            system.name(),
            args.seed,
            super::properties::flags(&args.properties)
        );
        if let Some(html) = html {
            let source = format!("seed {}", args.seed);
            write_report(
                html,
                system,
                &scenario,
                &report,
                args.mutant.as_deref(),
                &source,
                &run,
            )?;
        }
        if !report.passed() && !args.json {
            let shrink = match &args.save {
                Some(file) => format!(
                    "{program} shrink {}{mutant}",
                    super::shell_word(&file.display().to_string())
                ),
                None => {
                    let file = format!("{}-seed{}.scn", system.name(), args.seed);
                    format!("{run} --save {file} && {program} shrink {file}{mutant}")
                }
            };
            look_closer(&run, &shrink);
        }
        if let Some(history) = history {
            history.write_history::<S>(&report)?;
        }
        Ok(code)
    }
}

/// Writes the HTML report of a recorded run into `file`.
pub(super) fn write_report<S: System>(
    file: NewFile,
    system: &S,
    scenario: &Scenario<OpOf<S>>,
    report: &Report,
    mutant: Option<&str>,
    source: &str,
    replay: &str,
) -> Result<()> {
    let page = crate::report::html::run_page(
        &crate::report::html::RunPage {
            system: system.name(),
            mutant,
            seed: scenario.seed,
            nodes: scenario.nodes,
            scenario: &scenario.to_text(),
            source,
            replay,
        },
        report,
    );
    file.write_text(&page, "the HTML report")
}

/// Runs a scenario as `run` and `replay` do, on a fresh thread of this fresh process (the
/// environment a forked scenario gets), and prints its verdict; returns it and the exit code.
/// `record`: record what the HTML report draws.
fn run_and_print<S: System>(
    system: &S,
    scenario: &Scenario<OpOf<S>>,
    trace: bool,
    json: bool,
    record: bool,
) -> Result<(Report, u8)> {
    let config = RunConfig {
        // The hash of the trace is part of the JSON verdict.
        trace: trace || json,
        record,
        ..RunConfig::default()
    };
    let report = run_isolated(system, scenario, &config, Isolation::Thread)?;
    let code = if json {
        print_json(scenario, &report)?
    } else {
        print_report(scenario, &report, trace)
    };
    Ok((report, code))
}

/// Writes a new file; never overwrites what a user wrote.
pub fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

pub(super) fn run(catalog: &impl Catalog, args: &RunArgs) -> Result<u8> {
    catalog
        .visit(&args.system, args.mutant.as_deref(), RunVisit { args })
        .map_err(anyhow::Error::msg)?
}

struct ReplayVisit<'a> {
    args: &'a ReplayArgs,
}

impl Visit for ReplayVisit<'_> {
    type Output = Result<u8>;

    fn visit<S: System>(self, system: &S) -> Result<u8> {
        let args = self.args;
        let mut scenario = load_scenario(system, &args.file)?;
        super::properties::select(system, &mut scenario, &args.properties)?;
        let history = NewFile::create(&args.history)?;
        let html = NewFile::create(&args.html)?;
        let (report, code) =
            run_and_print(system, &scenario, args.trace, args.json, html.is_some())?;
        let program = super::program();
        let mutant = crate::chaos::mutant_flag(args.mutant.as_deref());
        let props = super::properties::flags(&args.properties);
        let file = super::shell_word(&args.file.display().to_string());
        let replay = format!("{program} replay {file}{mutant}{props}");
        if let Some(html) = html {
            let source = args.file.display().to_string();
            write_report(
                html,
                system,
                &scenario,
                &report,
                args.mutant.as_deref(),
                &source,
                &replay,
            )?;
        }
        if !report.passed() && !args.json {
            look_closer(&replay, &format!("{program} shrink {file}{mutant}{props}"));
        }
        if let Some(history) = history {
            history.write_history::<S>(&report)?;
        }
        Ok(code)
    }
}

pub(super) fn replay(catalog: &impl Catalog, args: &ReplayArgs) -> Result<u8> {
    let system = system_of(&args.file)?;
    catalog
        .visit(&system, args.mutant.as_deref(), ReplayVisit { args })
        .map_err(anyhow::Error::msg)?
}
