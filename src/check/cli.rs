//! `squall check FILE`: checks a history file for linearizability.

use crate::check::formats::{parse, Format};
use crate::check::linearizability::{
    available_threads, check_operations_with, Budget, CheckOptions, Verdict,
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
    /// Give up (verdict `unknown`) after this long, e.g. `500ms`, `10s`, `2m`.
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Give up (verdict `unknown`) when the search holds more than this many MiB.
    #[arg(long, default_value_t = 2048)]
    pub max_memory_mib: usize,
    /// Threads checking partitions in parallel (default: the machine's cores). With more
    /// than one, when several keys fail, which one is explained may vary between runs.
    #[arg(long, default_value_t = available_threads())]
    pub threads: usize,
}

/// Parses `250ms`, `10s`, `1.5s`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (try 10s, 500ms, 2m)"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        u => return Err(format!("unknown unit {u:?} in {s:?} (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("invalid duration {s:?}: {e}"))
}

/// Runs `squall check`: prints `linearizable`, `not linearizable` with the explanation, or
/// `unknown` with the reason, and returns the exit code 0, 1 or 3. Unreadable or malformed
/// files are errors (the caller exits 2).
pub fn run_check(args: &CheckArgs) -> anyhow::Result<i32> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let ops = parse(args.format, &text).with_context(|| format!("{}", args.file.display()))?;
    let opts = CheckOptions {
        partition: !args.no_partition,
        budget: Budget {
            max_steps: args.max_steps,
            deadline: args.timeout.map(|t| Instant::now() + t),
            max_memory: args.max_memory_mib.saturating_mul(1 << 20),
        },
        threads: args.threads,
    };
    let verdict = check_operations_with(args.model, &ops, &opts)
        .with_context(|| format!("{}", args.file.display()))?;
    match &verdict {
        Verdict::Linearizable => println!("linearizable"),
        Verdict::NotLinearizable(e) => print!("not linearizable\n{e}"),
        Verdict::Unknown(r) => println!("unknown\n{r}"),
    }
    Ok(verdict.exit_code())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("3 weeks").is_err());
    }
}
