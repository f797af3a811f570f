//! `squall chaos` and `squall shrink`.

use super::{Catalog, Visit, EXIT_PASS, EXIT_UNKNOWN, EXIT_VIOLATION};
use crate::chaos::{work, Campaign, ChaosPlan};
use crate::cli::run::{load_scenario, write_new};
use crate::scenario::FaultKind;
use crate::shrink::{shrink, ShrinkBudget};
use crate::sim::isolate::run_isolated;
use crate::sim::runner::RunConfig;
use crate::systems::property::slug;
use crate::systems::Isolation;
use crate::systems::System;
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Arguments of `squall chaos`.
#[derive(clap::Args, Debug)]
pub struct ChaosArgs {
    /// The system to test.
    pub system: String,
    /// How long to search, e.g. `60` (seconds), `90s`, `10m`, `1h30m`.
    #[arg(long, value_parser = super::duration::parse_duration, default_value = "60s")]
    pub time: Duration,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    pub jobs: u64,
    /// Campaign seed (default: from the clock; printed so the campaign can be repeated).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run shard I of N (e.g. `2/8`): disjoint scenario seeds for CI matrices.
    #[arg(long, value_parser = parse_shard, default_value = "0/1")]
    pub shard: (u64, u64),
    /// Directory for shrunk failing scenarios, their traces and HTML reports, and the
    /// campaign's summary page (`summary.html`).
    #[arg(long, default_value = "chaos-out")]
    pub out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Activate a planted bug.
    #[arg(long)]
    pub mutant: Option<String>,
    /// Check only this property (repeatable; `squall properties SYSTEM` lists them). No
    /// panics and no node errors are always checked.
    #[arg(long = "property", value_name = "NAME")]
    pub properties: Vec<String>,
    /// Stop after this many scenarios.
    #[arg(long)]
    pub max_execs: Option<u64>,
    /// Stop at the first violation.
    #[arg(long)]
    pub stop_at_first: bool,
    /// Don't shrink failures (report their seeds only).
    #[arg(long)]
    pub no_shrink: bool,
    /// Where each scenario runs: `process` (a forked process per scenario, so none depends
    /// on the ones before it) or `thread` (a fresh thread; faster, for systems whose code
    /// keeps no per-process state). Default: what the system declares.
    #[arg(long)]
    pub isolation: Option<Isolation>,
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected I/N like 0/4, found `{s}`"))?;
    let i: u64 = i
        .parse()
        .map_err(|_| format!("shard index `{i}` is not a number"))?;
    let n: u64 = n
        .parse()
        .map_err(|_| format!("shard count `{n}` is not a number"))?;
    if n == 0 || i >= n {
        return Err(format!("shard {i}/{n}: need 0 <= I < N"));
    }
    Ok((i, n))
}

struct Worker<'a> {
    plan: &'a ChaosPlan,
    job: u64,
    campaign: &'a Campaign,
    started: Instant,
}

impl Visit for Worker<'_> {
    type Output = ();
    fn visit<S: System>(self, system: &S) {
        work(system, self.plan, self.job, self.campaign, self.started);
    }
}

pub(super) fn chaos(catalog: &(impl Catalog + Sync), args: &ChaosArgs) -> Result<u8> {
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    // Fail fast on an unknown system, mutant or property, before starting threads.
    struct Probe<'a>(&'a [String]);
    impl Visit for Probe<'_> {
        type Output = Result<()>;
        fn visit<S: System>(self, system: &S) -> Result<()> {
            super::properties::validate(system, self.0).map(drop)
        }
    }
    catalog
        .visit(
            &args.system,
            args.mutant.as_deref(),
            Probe(&args.properties),
        )
        .map_err(anyhow::Error::msg)??;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let started = Instant::now();
    let plan = ChaosPlan {
        seed,
        shard: args.shard,
        jobs: args.jobs,
        deadline: started + args.time,
        max_execs: args.max_execs,
        stop_at_first: args.stop_at_first,
        shrink: !args.no_shrink,
        out: Some(args.out.clone()),
        mutant: args.mutant.clone(),
        isolation: args.isolation,
        check: args.properties.iter().map(|n| slug(n)).collect(),
    };
    let campaign = Campaign::default();
    if !args.json {
        eprintln!(
            "squall chaos {} seed={seed} shard={}/{} jobs={} time={}{}",
            args.system,
            args.shard.0,
            args.shard.1,
            args.jobs,
            super::duration::format_duration(args.time),
            args.mutant
                .as_ref()
                .map(|m| format!(" mutant={m}"))
                .unwrap_or_default()
        );
    }
    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(args.time.as_secs().max(1));
        bar.set_style(
            indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    };
    std::thread::scope(|scope| {
        for job in 0..args.jobs {
            let (plan, campaign, name, mutant) =
                (&plan, &campaign, &args.system, args.mutant.as_deref());
            scope.spawn(move || {
                let _ = catalog.visit(
                    name,
                    mutant,
                    Worker {
                        plan,
                        job,
                        campaign,
                        started,
                    },
                );
            });
        }
        loop {
            std::thread::sleep(Duration::from_millis(200));
            let execs = campaign.execs.load(Ordering::Relaxed);
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            let kinds = campaign.coverage.lock().map(|c| c.len()).unwrap_or(0);
            bar.set_position(started.elapsed().as_secs());
            bar.set_message(format!(
                "execs {execs}  {:.0}/s  violations {}  fault×phase cells {kinds}",
                execs as f64 / secs,
                campaign.violations.load(Ordering::Relaxed)
            ));
            let done = Instant::now() >= plan.deadline
                || campaign.stop.load(Ordering::Relaxed)
                || plan.max_execs.is_some_and(|m| execs >= m);
            if done {
                break;
            }
        }
    });
    bar.finish_and_clear();
    summarize(&campaign, &plan, args, started.elapsed())
}

/// What a campaign found and did, read once for the summary and its page.
struct Totals {
    execs: u64,
    violations: u64,
    sim_s: f64,
    found: BTreeMap<(String, String), crate::chaos::Found>,
    effects: crate::report::Effects,
    coverage: BTreeMap<(FaultKind, &'static str), u64>,
    ineffective: Vec<FaultKind>,
}

impl Totals {
    fn of(campaign: &Campaign) -> Totals {
        // One lock at a time: a guard held across the statement would deadlock
        // `ineffective_kinds`, which takes the effects and coverage locks itself.
        let found = campaign
            .found
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let effects = *campaign.effects.lock().unwrap_or_else(|p| p.into_inner());
        let coverage = campaign
            .coverage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let ineffective = campaign.ineffective_kinds();
        Totals {
            execs: campaign.execs.load(Ordering::Relaxed),
            violations: campaign.violations.load(Ordering::Relaxed),
            sim_s: campaign.sim_ms.load(Ordering::Relaxed) as f64 / 1000.0,
            found,
            effects,
            coverage,
            ineffective,
        }
    }
}

/// Writes `OUT/summary.html`: scenarios, violations with links to their reports, effects
/// per fault kind and the fault × phase coverage heatmap. A failure to write it is said on
/// stderr and does not change the verdict.
fn write_summary_page(totals: &Totals, plan: &ChaosPlan, args: &ChaosArgs, secs: f64) {
    let Some(dir) = &plan.out else {
        return;
    };
    // Links relative to the page, which sits in the same directory.
    let relative = |p: &Option<String>| {
        p.as_ref().map(|p| {
            std::path::Path::new(p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.clone())
        })
    };
    let page = crate::report::html::chaos_page(&crate::report::html::ChaosPage {
        system: &args.system,
        mutant: args.mutant.as_deref(),
        seed: plan.seed,
        execs: totals.execs,
        seconds: secs,
        simulated: totals.sim_s,
        violations: totals.violations,
        found: totals
            .found
            .values()
            .map(|f| crate::report::html::ChaosFinding {
                kind: f.kind.clone(),
                property: f.property.clone(),
                detail: f.detail.clone(),
                count: f.count,
                steps: f.steps,
                file: relative(&f.file),
                report: relative(&f.report),
            })
            .collect(),
        effects: &totals.effects,
        coverage: &totals.coverage,
        ineffective: &totals.ineffective,
    });
    let path = dir.join("summary.html");
    let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, page));
    match written {
        Ok(()) if !args.json => eprintln!("summary: {}", path.display()),
        Ok(()) => {}
        Err(e) => eprintln!("error: writing {}: {e}", path.display()),
    }
}

fn summarize(
    campaign: &Campaign,
    plan: &ChaosPlan,
    args: &ChaosArgs,
    elapsed: Duration,
) -> Result<u8> {
    let totals = Totals::of(campaign);
    let secs = elapsed.as_secs_f64().max(1e-3);
    write_summary_page(&totals, plan, args, secs);
    let Totals {
        execs,
        violations,
        sim_s,
        found,
        effects,
        coverage,
        ineffective,
    } = totals;
    let errors = campaign
        .harness_errors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let unreproduced = campaign
        .not_reproducible
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if args.json {
        let json = serde_json::json!({
            "system": args.system,
            "seed": plan.seed,
            "shard": [args.shard.0, args.shard.1],
            "jobs": args.jobs,
            "mutant": args.mutant,
            "seconds": secs,
            "execs": execs,
            "execs_per_second": execs as f64 / secs,
            "simulated_seconds": sim_s,
            "isolation": args.isolation.map(Isolation::name).unwrap_or("the system's"),
            "violations": violations,
            "found": found.values().collect::<Vec<_>>(),
            "not_reproducible": unreproduced,
            "effects": effects.to_string(),
            "coverage": coverage.iter().map(|((k, p), n)| serde_json::json!({"fault": k.name(), "phase": p, "count": n})).collect::<Vec<_>>(),
            "ineffective_fault_kinds": ineffective.iter().map(|k| k.name()).collect::<Vec<_>>(),
            "harness_errors": errors,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&json).context("encoding the summary")?
        );
    } else {
        println!(
            "chaos {}: {execs} scenarios in {secs:.1}s ({:.1}/s), {sim_s:.0} simulated seconds ({:.0}x real time), {violations} violation(s)",
            args.system,
            execs as f64 / secs,
            sim_s / secs
        );
        println!("faults: {effects}");
        print_coverage(&coverage);
        for f in found.values() {
            println!(
                "FOUND {} violation of {} ({} scenario(s); first after {} execs, {:.1}s; seed {})",
                f.kind, f.property, f.count, f.execs_at_first, f.seconds_at_first, f.seed
            );
            println!("  {}", f.detail);
            let verified = f.seeds.iter().filter(|s| s.verified == Some(true)).count();
            println!(
                "  shrunk {} -> {} steps, verified in a fresh process ({verified} seed(s) replayed)",
                f.steps.0, f.steps.1,
            );
            let mutant = crate::chaos::mutant_flag(args.mutant.as_deref());
            match &f.file {
                Some(p) => {
                    println!(
                        "  look closer: {} replay {}{mutant} --trace",
                        super::program(),
                        super::shell_word(p)
                    );
                    if let Some(report) = &f.report {
                        println!("  report: {report}");
                    }
                }
                // Not saved (see the harness errors): the scenario itself, so it is not lost.
                None if plan.out.is_some() && plan.shrink => {
                    println!("  not saved; its scenario:");
                    for line in f.scenario.lines() {
                        println!("    {line}");
                    }
                }
                None => {}
            }
            // A planted bug can fail thousands of scenarios: the first few, and the count.
            const SHOWN: usize = 8;
            let shown: Vec<String> = f
                .seeds
                .iter()
                .take(SHOWN)
                .map(|s| s.seed.to_string())
                .collect();
            let more = match f.seeds.len().saturating_sub(SHOWN) {
                0 => String::new(),
                n => format!(" and {n} more (--json lists every one)"),
            };
            println!(
                "  {} failing seed(s): {}{more}",
                f.seeds.len(),
                shown.join(" ")
            );
        }
        for u in &unreproduced {
            println!(
                "NOT REPRODUCIBLE {} violation of {} (campaign seed {}, worker {}, position {}; seed {}): {}",
                u.kind, u.property, u.campaign_seed, u.job, u.position, u.seed, u.replay
            );
            println!("  {}", u.detail);
            if let Some(file) = &u.file {
                println!("  kept for inspection (not a finding): {file}");
            }
        }
        for e in &errors {
            println!("harness error (not a protocol bug): {e}");
        }
        if !ineffective.is_empty() {
            let names: Vec<_> = ineffective.iter().map(|k| k.name()).collect();
            println!(
                "FAULTS NEVER TOOK EFFECT: {} — this run proves nothing about them",
                names.join(", ")
            );
        }
    }
    // Only verified findings are violations; failures that did not replay leave the
    // verdict undecided.
    Ok(
        if !found.is_empty() || !ineffective.is_empty() || execs == 0 {
            EXIT_VIOLATION
        } else if !unreproduced.is_empty() || violations > 0 {
            EXIT_UNKNOWN
        } else {
            EXIT_PASS
        },
    )
}

fn print_coverage(coverage: &std::collections::BTreeMap<(FaultKind, &'static str), u64>) {
    let phases: BTreeSet<&str> = coverage.keys().map(|(_, p)| *p).collect();
    if phases.is_empty() {
        return;
    }
    print!(
        "fault coverage (faults applied, by the protocol phase they hit)\n{:<12}",
        ""
    );
    for p in &phases {
        print!(" {p:>12}");
    }
    println!();
    for kind in FaultKind::ALL {
        if !coverage.keys().any(|(k, _)| *k == kind) {
            continue;
        }
        print!("{:<12}", kind.name());
        for p in &phases {
            print!(" {:>12}", coverage.get(&(kind, *p)).copied().unwrap_or(0));
        }
        println!();
    }
}

/// Arguments of `squall shrink`.
#[derive(clap::Args, Debug)]
pub struct ShrinkArgs {
    /// A failing scenario file.
    pub file: PathBuf,
    /// Where to write the shrunk scenario (default: FILE with `.min.scn`; never overwritten).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Activate a planted bug.
    #[arg(long)]
    pub mutant: Option<String>,
    /// Check only this property (repeatable), instead of what the file's `check` line says.
    #[arg(long = "property", value_name = "NAME")]
    pub properties: Vec<String>,
    /// Most candidate runs.
    #[arg(long, default_value_t = 5000)]
    pub max_runs: usize,
    /// Where each candidate runs: `process` (a forked process each) or `thread`. Default:
    /// what the system declares.
    #[arg(long)]
    pub isolation: Option<Isolation>,
    /// Print the result as JSON (one document on stdout).
    #[arg(long)]
    pub json: bool,
    /// Write a self-contained HTML report of the shrunk scenario's run to this file
    /// (refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

struct ShrinkVisit<'a>(&'a ShrinkArgs);

impl Visit for ShrinkVisit<'_> {
    type Output = Result<u8>;
    fn visit<S: System>(self, system: &S) -> Result<u8> {
        let args = self.0;
        let mut scenario = load_scenario(system, &args.file)?;
        super::properties::select(system, &mut scenario, &args.properties)?;
        let isolation = args.isolation.unwrap_or_else(|| system.isolation());
        let config = RunConfig {
            quiet_panics: true,
            ..RunConfig::default()
        };
        let out = args
            .output
            .clone()
            .unwrap_or_else(|| args.file.with_extension("min.scn"));
        if out.exists() {
            bail!(
                "{} exists already; shrink never overwrites a file (choose another with -o)",
                out.display()
            );
        }
        let html = super::run::NewFile::create(&args.html)?;
        let report = run_isolated(system, &scenario, &config, isolation)?;
        let Some(failure) = report.failure() else {
            bail!(
                "{} passes{}: nothing to shrink",
                args.file.display(),
                crate::chaos::mutant_flag(args.mutant.as_deref())
                    .replace(" --mutant ", " with the planted bug ")
            );
        };
        if !args.json {
            println!("shrinking: {failure}");
        }
        let shrunk = shrink(
            system,
            &scenario,
            failure,
            &config,
            ShrinkBudget {
                max_runs: args.max_runs,
                isolation,
                ..ShrinkBudget::default()
            },
        );
        let text = format!(
            "# shrunk by squall from {} ({} -> {} steps): {} violation of {}\n{}",
            args.file.display(),
            shrunk.steps_before,
            shrunk.scenario.steps.len(),
            shrunk.failure.kind,
            shrunk.failure.property,
            shrunk.scenario.to_text()
        );
        // The shrunk scenario is a new claim: it is written only once it has failed again,
        // from its own text, in a fresh process.
        let scratch = crate::verify::ScratchFile::new("shrunk", &text)
            .context("writing the shrunk scenario to replay it")?;
        let verdict = crate::verify::verify_file(
            system,
            scratch.path(),
            args.mutant.as_deref(),
            &shrunk.failure,
        );
        let written = if verdict.reproduced() {
            write_new(&out, &text)?;
            true
        } else {
            false
        };
        if let Some(html) = html {
            let recorded = RunConfig {
                record: true,
                ..config.clone()
            };
            let report = run_isolated(system, &shrunk.scenario, &recorded, Isolation::Thread)?;
            let mutant = crate::chaos::mutant_flag(args.mutant.as_deref());
            let source = if written {
                out.display().to_string()
            } else {
                format!("shrunk from {}", args.file.display())
            };
            let replay = format!(
                "{} replay {}{mutant}",
                super::program(),
                super::shell_word(&out.display().to_string())
            );
            super::run::write_report(
                html,
                system,
                &shrunk.scenario,
                &report,
                args.mutant.as_deref(),
                &source,
                &replay,
            )?;
        }
        if args.json {
            let json = serde_json::json!({
                "file": args.file.display().to_string(),
                "mutant": args.mutant,
                "failure": shrunk.failure,
                "steps_before": shrunk.steps_before,
                "steps_after": shrunk.scenario.steps.len(),
                "runs": shrunk.runs,
                "complete": shrunk.complete,
                "reproduced": verdict.reproduced(),
                "replay": verdict.describe(),
                "output": written.then(|| out.display().to_string()),
                "scenario": shrunk.scenario.to_text(),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&json).context("encoding the result")?
            );
        } else if !written {
            println!(
                "the shrunk scenario ({} steps) did not fail again in a fresh process ({}); nothing written",
                shrunk.scenario.steps.len(),
                verdict.describe()
            );
            print!("{}", shrunk.scenario.to_text());
        } else {
            println!(
                "{} -> {} steps in {} runs{}; still fails: {}",
                shrunk.steps_before,
                shrunk.scenario.steps.len(),
                shrunk.runs,
                if shrunk.complete {
                    " (1-minimal)"
                } else {
                    " (budget ran out before the fixpoint)"
                },
                shrunk.failure
            );
            print!("{}", shrunk.scenario.to_text());
            println!("wrote {}", out.display());
            println!(
                "  look closer: {} replay {}{} --trace",
                super::program(),
                super::shell_word(&out.display().to_string()),
                crate::chaos::mutant_flag(args.mutant.as_deref())
            );
        }
        // 0: a smaller failing scenario is written; 3: the shrunk one did not fail again in
        // a fresh process, so nothing was.
        Ok(if written { EXIT_PASS } else { EXIT_UNKNOWN })
    }
}

pub(super) fn shrink_file(catalog: &impl Catalog, args: &ShrinkArgs) -> Result<u8> {
    let system = super::run::system_of(&args.file)?;
    catalog
        .visit(&system, args.mutant.as_deref(), ShrinkVisit(args))
        .map_err(anyhow::Error::msg)?
}
