//! `squall check FILE`: checks a history file for linearizability.

use super::duration::parse_duration;
use crate::check::formats::{parse, Format};
use crate::check::linearizability::{
    available_threads, check_operations_with, resident_bytes, Budget, CheckOptions, Explanation,
    Verdict,
};
use crate::check::model::ModelKind;
use anyhow::Context;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of `squall check`.
#[derive(Clone, Debug, clap::Args)]
pub struct CheckArgs {
    /// The history file.
    pub file: PathBuf,
    /// The sequential model to check against.
    #[arg(long, value_enum, default_value = "kv")]
    pub model: ModelKind,
    /// The file's format.
    #[arg(long, value_enum, default_value = "squall")]
    pub format: Format,
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
}

/// Runs `squall check`: prints `linearizable`, `not linearizable` with the explanation, or
/// `unknown` with the reason, and returns the exit code 0, 1 or 3. Unreadable, malformed or
/// empty files are errors (the caller exits 2).
pub fn run_check(args: &CheckArgs) -> anyhow::Result<u8> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
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
    let verdict = check_operations_with(args.model, &ops, &opts)
        .with_context(|| format!("{}", args.file.display()))?;
    if args.json {
        let json = serde_json::json!({
            "file": args.file.display().to_string(),
            "model": clap::ValueEnum::to_possible_value(&args.model).map(|v| v.get_name().to_string()),
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
