//! `squall check FILE`: checks a history file for linearizability (`--model kv`, `register`,
//! `cas`), or a replicated store's history for the guarantees it may claim (`--model
//! session`, `causal`, `convergence`; see [`crate::check::eventual`]).

use super::duration::parse_duration;
use super::{EXIT_PASS, EXIT_VIOLATION};
use crate::check::eventual;
use crate::check::formats::{parse, Format};
use crate::check::linearizability::{
    available_threads, check_operations_with, resident_bytes, Budget, CheckOptions, Explanation,
    Verdict,
};
use crate::check::model::ModelKind;
use crate::check::property::{slug, Property};
use anyhow::Context;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of `squall check`.
#[derive(Clone, Debug, clap::Args)]
pub struct CheckArgs {
    /// The history file.
    pub file: PathBuf,
    /// What to check against: a sequential model (linearizability), or a replicated store's
    /// guarantees (squall's replicated-store history format).
    #[arg(long, value_enum, default_value = "kv")]
    pub model: CheckModel,
    /// The file's format (linearizability models; the replicated-store models read squall's
    /// replicated-store format only).
    #[arg(long, value_enum, default_value = "squall")]
    pub format: Format,
    /// With `--model session`, `causal` or `convergence`: check only this property (by name or
    /// slug, e.g. `read-your-writes`; repeatable). Default: every property of the model.
    #[arg(long = "property", value_name = "NAME")]
    pub properties: Vec<String>,
    /// Check the whole history as one state instead of each key on its own.
    #[arg(long)]
    pub no_partition: bool,
    /// Give up (verdict `unknown`) after this many search steps.
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// Give up (verdict `unknown`) after this long, e.g. `30` (seconds), `500ms`, `2m`.
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Give up (verdict `unknown`) before the process holds more than this many MiB
    /// (resident memory, on Linux; elsewhere what the search's tables hold).
    #[arg(long, default_value_t = 2048)]
    pub max_memory_mib: usize,
    /// Threads checking partitions in parallel (default: the machine's cores). With more
    /// than one, when several keys fail, which one is explained may vary between runs.
    #[arg(long, default_value_t = available_threads())]
    pub threads: usize,
    /// Print the verdict as JSON (one document on stdout).
    #[arg(long)]
    pub json: bool,
    /// Write a self-contained HTML page of the history to this file: the operations as bars
    /// per process and, when it is not linearizable, the longest linearizable prefix and the
    /// operations that cannot follow it (linearizability models; refuses to overwrite).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// What `squall check --model` checks against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckModel {
    /// Linearizability: key-value store, get (read) / put (write) / append on string values.
    Kv,
    /// Linearizability: read/write register.
    Register,
    /// Linearizability: compare-and-set register (the etcd model).
    Cas,
    /// A replicated store's session guarantees: read-your-writes, monotonic reads, monotonic
    /// writes, writes-follow-reads (and valid observations, no dropped siblings).
    Session,
    /// A replicated store's causal consistency (and valid observations).
    Causal,
    /// A replicated store's convergence and no lost writes (needs the replicas' final
    /// states).
    Convergence,
}

impl From<ModelKind> for CheckModel {
    fn from(kind: ModelKind) -> Self {
        match kind {
            ModelKind::Kv => CheckModel::Kv,
            ModelKind::Register => CheckModel::Register,
            ModelKind::Cas => CheckModel::Cas,
        }
    }
}

impl CheckModel {
    /// The sequential model, for linearizability; else the replicated-store model.
    fn split(self) -> Result<ModelKind, eventual::Model> {
        match self {
            CheckModel::Kv => Ok(ModelKind::Kv),
            CheckModel::Register => Ok(ModelKind::Register),
            CheckModel::Cas => Ok(ModelKind::Cas),
            CheckModel::Session => Err(eventual::Model::Session),
            CheckModel::Causal => Err(eventual::Model::Causal),
            CheckModel::Convergence => Err(eventual::Model::Convergence),
        }
    }

    /// The replicated-store model, if this is one.
    pub(crate) fn store(self) -> Option<eventual::Model> {
        self.split().err()
    }

    fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

/// Runs `squall check`: prints `linearizable`, `not linearizable` with the explanation, or
/// `unknown` with the reason, and returns the exit code 0, 1 or 3 (for a replicated-store
/// model: `consistent` or `not consistent` with the anomalies, 0 or 1). Unreadable,
/// malformed or empty files are errors (the caller exits 2).
pub fn run_check(args: &CheckArgs) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let model = match args.model.split() {
        Ok(model) => model,
        Err(store) => return check_store(args, store, &text),
    };
    anyhow::ensure!(
        args.properties.is_empty(),
        "--property applies to --model session, causal and convergence"
    );
    let html = super::run::NewFile::create(&args.html)?;
    let ops = parse(args.format, &text).with_context(|| format!("{}", args.file.display()))?;
    drop(text);
    // The cap is on the whole process: what it holds already (the binary, the parsed
    // history) comes off the search's share.
    let cap = args.max_memory_mib.saturating_mul(1 << 20);
    let held = resident_bytes().unwrap_or(0);
    let opts = CheckOptions {
        partition: !args.no_partition,
        budget: Budget {
            max_steps: args.max_steps,
            deadline: args.timeout.map(|t| Instant::now() + t),
            max_memory: cap.saturating_sub(held),
        },
        threads: args.threads,
    };
    let started = Instant::now();
    let verdict = check_operations_with(model, &ops, &opts)
        .with_context(|| format!("{}", args.file.display()))?;
    if let Some(html) = html {
        write_history_page(html, args, &ops, &verdict)?;
    }
    if args.json {
        let json = serde_json::json!({
            "file": args.file.display().to_string(),
            "model": args.model.name(),
            "format": args.format.name(),
            "partitioned": !args.no_partition,
            "operations": ops.len(),
            "seconds": started.elapsed().as_secs_f64(),
            "verdict": match &verdict {
                Verdict::Linearizable => "linearizable",
                Verdict::NotLinearizable(_) => "not linearizable",
                Verdict::Unknown(_) => "unknown",
            },
            "explanation": match &verdict {
                Verdict::NotLinearizable(e) => explanation_json(e),
                _ => serde_json::Value::Null,
            },
            "reason": match &verdict {
                Verdict::Unknown(r) => serde_json::Value::from(format!("{r}{}", memory_note(r, held))),
                _ => serde_json::Value::Null,
            },
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&json).context("encoding the verdict")?
        );
    } else {
        match &verdict {
            Verdict::Linearizable => println!("linearizable"),
            Verdict::NotLinearizable(e) => print!("not linearizable\n{e}"),
            Verdict::Unknown(r) => println!("unknown\n{r}{}", memory_note(r, held)),
        }
    }
    Ok(verdict.exit_code() as u8)
}

/// Writes the HTML page of a checked history ([`crate::report::html::history_page`]).
fn write_history_page(
    file: super::run::NewFile,
    args: &CheckArgs,
    ops: &[crate::check::linearizability::Operation],
    verdict: &Verdict,
) -> anyhow::Result<()> {
    use crate::check::linearizability::Outcome;
    let bars: Vec<crate::report::html::HistoryOp> = ops
        .iter()
        .map(|o| {
            let text = o.to_string();
            // `process 3: write(1) -> 1` reads `write(1)` in its process's lane.
            let text = text
                .split_once(": ")
                .map_or(text.clone(), |(_, t)| t.to_string());
            let text = text.split(" -> ").next().unwrap_or(&text).to_string();
            let (result, value) = match &o.output {
                Outcome::Ok(v) => ("ok", v.to_string()),
                Outcome::Rejected => ("ok", "failed".to_string()),
                Outcome::Unknown => ("info", String::new()),
            };
            crate::report::html::HistoryOp {
                process: o.process,
                key: o.key.clone(),
                text,
                call: o.call,
                ret: o.ret,
                result,
                value,
            }
        })
        .collect();
    let explained = match verdict {
        Verdict::NotLinearizable(e) => Some(crate::report::Explained::from(&**e)),
        _ => None,
    };
    let words = match verdict {
        Verdict::Linearizable => "linearizable".to_string(),
        Verdict::NotLinearizable(_) => "not linearizable".to_string(),
        Verdict::Unknown(r) => format!("unknown: {r}"),
    };
    let detail = match verdict {
        Verdict::NotLinearizable(e) => e.to_string(),
        _ => String::new(),
    };
    let file_name = args.file.display().to_string();
    let page = crate::report::html::history_page(
        &crate::report::html::HistoryPage {
            file: &file_name,
            format: args.format.name(),
            model: &args.model.name(),
            verdict: &words,
            failed: matches!(verdict, Verdict::NotLinearizable(_)),
            detail: &detail,
            explained: explained.as_ref(),
        },
        &bars,
    );
    file.write_text(&page, "the HTML page")
}

/// The memory budget the search got is `--max-memory-mib` less what the process held before
/// it began; an unknown verdict for memory says so.
fn memory_note(reason: &str, held: usize) -> String {
    if reason.starts_with("memory budget") && held > 0 {
        format!(
            " (--max-memory-mib less the {} MiB the process held before the search)",
            held >> 20
        )
    } else {
        String::new()
    }
}

/// Why a history is not linearizable, as JSON: the partition, the longest linearizable
/// prefix, and the operations that cannot go next, each with its source line.
fn explanation_json(e: &Explanation) -> serde_json::Value {
    let op = |o: &crate::check::linearizability::Operation| serde_json::json!({"line": o.line, "operation": o.to_string()});
    serde_json::json!({
        "model": e.model,
        "key": e.partition,
        "partition_operations": e.partition_ops,
        "prefix": e.prefix.iter().map(op).collect::<Vec<_>>(),
        "state": e.state,
        "stuck": e.stuck.iter().map(|s| {
            let mut v = op(&s.op);
            v["reason"] = serde_json::Value::from(s.reason.as_str());
            v
        }).collect::<Vec<_>>(),
    })
}

/// How many anomalies of each property the text verdict lists (`--json` lists every one).
const LISTED: usize = 10;

/// `squall check --model session|causal|convergence`.
fn check_store(args: &CheckArgs, model: eventual::Model, text: &str) -> anyhow::Result<u8> {
    let file = args.file.display();
    anyhow::ensure!(
        args.format == Format::Squall,
        "--model {} reads squall's replicated-store history format; --format {} does not apply",
        args.model.name(),
        args.format.name()
    );
    anyhow::ensure!(
        args.html.is_none(),
        "--html draws linearizability checks (--model kv, register or cas), not --model {}",
        args.model.name()
    );
    let properties = select(model, &args.properties)?;
    let history = eventual::parse(text).with_context(|| format!("{file}"))?;
    let anomalies = eventual::check(&history, &properties).with_context(|| format!("{file}"))?;
    let consistent = anomalies.is_empty();
    if args.json {
        let json = serde_json::json!({
            "file": file.to_string(),
            "model": args.model.name(),
            "operations": history.operations.len(),
            "verdict": if consistent { "consistent" } else { "not consistent" },
            "properties": properties.iter().map(|p| serde_json::json!({
                "name": p.name,
                "anomalies": anomalies.iter().filter(|a| a.property == p.name).count(),
            })).collect::<Vec<_>>(),
            "anomalies": anomalies,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&json).context("encoding the verdict")?
        );
    } else if consistent {
        let names: Vec<&str> = properties.iter().map(|p| p.name).collect();
        println!("consistent ({})", names.join(", "));
    } else {
        let n = anomalies.len();
        println!(
            "not consistent: {n} {}",
            if n == 1 { "anomaly" } else { "anomalies" }
        );
        for p in &properties {
            let mine: Vec<&eventual::Anomaly> =
                anomalies.iter().filter(|a| a.property == p.name).collect();
            for a in mine.iter().take(LISTED) {
                println!("{a}");
            }
            if mine.len() > LISTED {
                println!(
                    "{}: ... and {} more (--json lists every one)",
                    p.name,
                    mine.len() - LISTED
                );
            }
        }
    }
    Ok(if consistent {
        EXIT_PASS
    } else {
        EXIT_VIOLATION
    })
}

/// The properties of `model` that `names` select (all of them if none).
fn select(model: eventual::Model, names: &[String]) -> anyhow::Result<Vec<Property>> {
    let known = model.properties();
    if names.is_empty() {
        return Ok(known.to_vec());
    }
    let mut out: Vec<Property> = Vec::new();
    for name in names {
        let found = known
            .iter()
            .find(|p| p.slug() == slug(name))
            .ok_or_else(|| {
                let slugs: Vec<String> = known.iter().map(Property::slug).collect();
                anyhow::anyhow!(
                    "unknown property `{name}` for this model; known: {}",
                    slugs.join(", ")
                )
            })?;
        if !out.contains(found) {
            out.push(*found);
        }
    }
    Ok(out)
}
