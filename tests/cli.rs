//! The command-line contract: exit codes 0 pass, 1 violation, 2 bad input or usage, and
//! errors that say what and where.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/cli.rs"]
mod cli_support;
use cli_support::{squall, text};

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["frobnicate"][..],
        &["run"][..],
        &["run", "raft"][..],
        &["run", "raft", "--seed", "minus-one"][..],
        &["run", "raft", "--seed", "1", "--bogus"][..],
        &["chaos", "raft", "--time", "soon"][..],
        &["chaos", "raft", "--shard", "3/2"][..],
    ] {
        let out = squall(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
}

#[test]
fn an_unknown_system_is_named() {
    let out = squall(&["run", "paxos", "--seed", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("unknown system `paxos`"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_missing_scenario_file_is_named() {
    let out = squall(&["replay", "/nonexistent/x.scn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("/nonexistent/x.scn"), "{}", text(&out));
}

#[test]
fn a_malformed_scenario_file_gives_file_line_and_column() {
    let path = temp_file(
        "bad.scn",
        "system raft\nnodes 3\nseed 1\nwait 10ms\ncrash n9\n",
    );
    let out = squall(&["replay", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("bad.scn") && t.contains("line 5, column 7"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");
}

/// The 2PC store's bad input: a node outside the cluster, an account outside the bank, a
/// negative amount, and transfers the bank refuses, each named by file, line and column.
#[test]
fn bad_twopc_scenarios_name_what_and_where() {
    let head = "system twopc\nnodes 3\nseed 1\nc0 transfer a0 a1 5\n";
    for (name, line, expected) in [
        (
            "node",
            "crash n7",
            "line 5, column 7: node n7 does not exist",
        ),
        (
            "account",
            "c1 transfer a0 a99 5",
            "line 5, column 4: account `a99` is out of range",
        ),
        (
            "negative",
            "c1 transfer a0 a1 -5",
            "line 5, column 4: amount `-5` is negative",
        ),
        (
            "same",
            "c1 transfer a2 a2 5",
            "a transfer needs two different accounts",
        ),
        (
            "read",
            "c2 read a6",
            "line 5, column 4: account `a6` is out of range",
        ),
    ] {
        let path = temp_file(&format!("twopc-{name}.scn"), &format!("{head}{line}\n"));
        let out = squall(&["replay", path.to_str().expect("utf-8 path")]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {t}");
        assert!(t.contains(&format!("twopc-{name}.scn")), "{name}: {t}");
        assert!(t.contains(expected), "{name}: {t}");
        assert!(!t.contains("panicked"), "{name}: {t}");
    }
}

/// The dynamo store's bad input — an `append` (a `kv` operation it does not take), a key out of
/// range, a delete with a value — named by file, line and column; its listings name what it
/// has, and a `kv` scenario's gets and puts read as its own.
#[test]
fn dynamo_scenarios_read_kv_gets_and_puts_and_name_bad_input() {
    let head = "system dynamo\nnodes 5\nseed 1\nc0 put k1 5\nc1 get k1\n";
    for (name, line, expected) in [
        (
            "append",
            "c0 append k1 6",
            "line 6, column 4: `append` is not an operation",
        ),
        (
            "key",
            "c1 get k9",
            "line 6, column 4: key `k9` does not exist",
        ),
        ("delete", "c2 delete k1 3", "`delete` takes one key"),
    ] {
        let path = temp_file(&format!("dynamo-{name}.scn"), &format!("{head}{line}\n"));
        let out = squall(&["replay", path.to_str().expect("utf-8 path")]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {t}");
        assert!(t.contains(expected), "{name}: {t}");
        assert!(!t.contains("panicked"), "{name}: {t}");
    }
    let path = temp_file("dynamo-ok.scn", &format!("{head}wait 300ms\n"));
    let out = squall(&["replay", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for (args, expected) in [
        (&["mutants", "dynamo"][..], "session-lost-on-failover"),
        (&["properties", "dynamo"][..], "read-your-writes"),
        (&["properties", "dynamo-lww"][..], "lww-causality"),
        (&["points", "dynamo"][..], "after-hint-stored"),
    ] {
        let out = squall(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(expected), "{args:?}: {}", text(&out));
    }
}

#[test]
fn binary_garbage_as_a_scenario_file_is_an_error_not_a_panic() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("garbage.scn");
    std::fs::write(&path, [0xffu8, 0xfe, 0, 1, 2, 3, 0x80]).expect("write");
    let out = squall(&["replay", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
}

#[test]
fn chaos_reports_verified_findings_with_every_failing_seed_and_the_mutant_in_the_repro() {
    let out_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-cli-chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = squall(&[
        "chaos",
        "raft",
        "--mutant",
        "local-reads",
        // A campaign whose first 150 scenarios hit the stale reads (which ones do changes
        // whenever a fault kind is added: new weather bits decode into other scenarios).
        "--seed",
        "5",
        "--time",
        "60s",
        "--max-execs",
        "150",
        "--json",
        "--out",
        out_dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let found = json["found"].as_array().expect("found");
    let f = found
        .iter()
        .find(|f| f["property"] == "linearizability")
        .expect("the stale reads are found");
    let seeds = f["seeds"].as_array().expect("seeds");
    assert_eq!(seeds.len() as u64, f["count"].as_u64().expect("count"));
    assert_eq!(seeds[0]["verified"], true, "{f}");
    assert!(json["not_reproducible"]
        .as_array()
        .expect("list")
        .is_empty());
    let file = f["file"].as_str().expect("written");
    let scn = std::fs::read_to_string(file).expect("reads the finding");
    assert!(scn.contains("--mutant local-reads"), "{scn}");
    // Its HTML report beside it, and the campaign's summary page with the coverage heatmap.
    let report = f["report"].as_str().expect("a report");
    assert!(
        report.ends_with(".html") && Path::new(report).exists(),
        "{report}"
    );
    let html = std::fs::read_to_string(report).expect("reads the report");
    assert!(html.contains("data-property=\"linearizability\""));
    let summary = std::fs::read_to_string(out_dir.join("summary.html")).expect("a summary page");
    assert!(
        summary.contains("id=\"heatmap\"") && summary.contains("id=\"effects\""),
        "{summary}"
    );
    let name = Path::new(report)
        .file_name()
        .and_then(|n| n.to_str())
        .expect("name");
    assert!(summary.contains(&format!("href=\"{name}\"")), "{summary}");
    // The saved file fails again here too.
    let replay = squall(&["replay", file, "--mutant", "local-reads", "--json"]);
    assert_eq!(replay.status.code(), Some(1), "{}", text(&replay));
    let verdict: serde_json::Value = serde_json::from_slice(&replay.stdout).expect("JSON verdict");
    assert_eq!(verdict["failure"]["property"], "linearizability");
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn replay_json_names_the_verdict_and_the_trace_hash() {
    let path = temp_file(
        "calm.scn",
        "system raft\nnodes 3\nseed 1\nc0 put k1 1\nwait 500ms\n",
    );
    let path = path.to_str().expect("utf-8 path");
    let first = squall(&["replay", path, "--json"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let a: serde_json::Value = serde_json::from_slice(&first.stdout).expect("JSON");
    assert_eq!(a["verdict"], "pass");
    assert!(a["failure"].is_null());
    let b: serde_json::Value =
        serde_json::from_slice(&squall(&["replay", path, "--json"]).stdout).expect("JSON");
    assert_eq!(a["trace_hash"], b["trace_hash"]);
    assert_eq!(a["trace_hash"].as_str().map(str::len), Some(16));
}

#[test]
fn decode_replays_the_input_in_a_fresh_process() {
    let path = temp_file("input.bin", "any bytes decode to some scenario");
    let out = squall(&["decode", "raft", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(t.starts_with("system raft"), "{t}");
    assert!(t.contains("# replayed in a fresh process: PASS"), "{t}");
}

#[test]
fn the_determinism_gate_compares_orders_and_processes() {
    let out = squall(&["determinism", "raft", "--scenarios", "20", "--seed", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).starts_with("SAME raft: 20 scenarios"),
        "{}",
        text(&out)
    );
    let bad = squall(&["determinism", "raft", "--scenarios", "0"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}

const PORCUPINE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/porcupine-data");

/// Runs squall; returns its exit code, its stdout and its peak resident memory in bytes.
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)] // reaped by wait4, which also reports its peak memory
fn squall_with_peak_memory(args: &[&str]) -> (Option<i32>, String, u64) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("squall runs");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child we spawned, writing into locals that outlive the call.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .expect("stdout");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, stdout, usage.ru_maxrss as u64 * 1024)
}

/// The memory budget is a cap on the process: a search that needs more answers `unknown`
/// before it gets there; one that needs less is not cut short by it.
#[test]
#[cfg(target_os = "linux")]
fn the_memory_budget_caps_the_process() {
    let c50 = format!("{PORCUPINE}/kv/c50-bad.txt");
    let c10 = format!("{PORCUPINE}/kv/c10-ok.txt");
    for cap in ["200", "512"] {
        let whole = [
            "--model",
            "kv",
            "--format",
            "porcupine-kv",
            "--no-partition",
            "--max-memory-mib",
            cap,
        ];
        let args: Vec<&str> = ["check", c50.as_str()].into_iter().chain(whole).collect();
        let (code, out, peak) = squall_with_peak_memory(&args);
        assert_eq!(code, Some(3), "{out}");
        assert!(out.contains("memory budget"), "{out}");
        let cap_bytes = cap.parse::<u64>().expect("a number") << 20;
        assert!(
            peak <= cap_bytes,
            "cap {cap} MiB, peak {} MiB: {out}",
            peak >> 20
        );
        // The same cap leaves room for a history that needs less.
        let args: Vec<&str> = ["check", c10.as_str()].into_iter().chain(whole).collect();
        let (code, out, _) = squall_with_peak_memory(&args);
        assert_eq!(code, Some(0), "{out}");
    }
}

#[test]
fn checking_an_empty_history_is_a_usage_error_naming_the_file() {
    for (name, contents) in [("empty.json", ""), ("no-events.json", "{\"events\": []}")] {
        let path = temp_file(name, contents);
        let out = squall(&["check", path.to_str().expect("utf-8 path")]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains(name) && text(&out).contains("no events"),
            "{}",
            text(&out)
        );
    }
}

#[test]
fn check_json_gives_the_verdict_and_the_explanation() {
    let ok = format!("{PORCUPINE}/kv/c10-ok.txt");
    let bad = format!("{PORCUPINE}/kv/c10-bad.txt");
    for (file, code, verdict) in [(&ok, 0, "linearizable"), (&bad, 1, "not linearizable")] {
        let out = squall(&["check", file, "--format", "porcupine-kv", "--json"]);
        assert_eq!(out.status.code(), Some(code), "{}", text(&out));
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("one JSON document");
        assert_eq!(json["verdict"], verdict);
        assert_eq!(json["explanation"].is_null(), code == 0, "{json}");
    }
    let out = squall(&[
        "check",
        &bad,
        "--format",
        "porcupine-kv",
        "--json",
        "--max-steps",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["verdict"], "unknown");
    assert!(
        json["reason"].as_str().is_some_and(|r| r.contains("step")),
        "{json}"
    );
}

#[test]
fn every_duration_flag_takes_bare_seconds_and_units() {
    let history = format!("{PORCUPINE}/kv/c01-ok.txt");
    for timeout in ["30", "30s", "1m", "1m30s", "500ms"] {
        let out = squall(&[
            "check",
            &history,
            "--format",
            "porcupine-kv",
            "--timeout",
            timeout,
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "--timeout {timeout}: {}",
            text(&out)
        );
    }
    for args in [
        &["check", &history, "--timeout", "soon"][..],
        &["chaos", "raft", "--time", "1m30"][..],
        &["hunt", "raft", "--mutant", "x", "--budget", "2 weeks"][..],
    ] {
        let out = squall(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("invalid duration"),
            "{args:?}: {}",
            text(&out)
        );
    }
}

/// The commands `squall --help` lists (and `squall bench --help`, as `bench sim`...).
fn commands_in_help(args: &[&str]) -> Vec<String> {
    let out = squall(args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    let list = help
        .split("Commands:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap_or_else(|| panic!("no command list in {args:?}: {help}"));
    list.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(String::from)
        .collect()
}

#[test]
fn the_readme_table_lists_every_command_and_help_states_exit_codes() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let rows: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("| `squall "))
        .collect();
    let mut commands = commands_in_help(&["--help"]);
    assert!(commands.len() >= 10, "{commands:?}");
    for sub in commands_in_help(&["bench", "--help"]) {
        commands.push(format!("bench {sub}"));
    }
    commands.retain(|c| c != "bench");
    for command in &commands {
        let named = format!("`squall {command} ");
        let also = format!("`squall {command}`");
        assert!(
            rows.iter().any(|r| r.contains(&named) || r.contains(&also)),
            "README's command table lacks `squall {command}`"
        );
        let args: Vec<&str> = command.split(' ').chain(["--help"]).collect();
        let help = squall(&args);
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("Exit codes: 0 "),
            "squall {command} --help states no exit codes"
        );
    }
    // And the table names no command that does not exist.
    for row in &rows {
        let name = row
            .trim_start_matches("| `squall ")
            .split([' ', '`'])
            .next()
            .unwrap_or("");
        assert!(
            commands.iter().any(|c| c.split(' ').next() == Some(name)),
            "README's table names `squall {name}`, which --help does not list"
        );
    }
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// `--history` writes what `squall check` reads: a passing run's history checks
/// linearizable, a stale-read mutant's does not.
#[test]
fn run_and_replay_write_histories_that_check_reads_back() {
    let passing = temp_path("passing-history.json");
    let passing = passing.to_str().expect("utf-8 path");
    let out = squall(&["run", "raft", "--seed", "7", "--history", passing]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("check it: squall check"),
        "{}",
        text(&out)
    );
    let check = squall(&["check", passing, "--model", "kv"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    // Never overwritten.
    let again = squall(&["run", "raft", "--seed", "7", "--history", passing]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));

    let stale = temp_path("stale-history.json");
    let stale = stale.to_str().expect("utf-8 path");
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/raft/mutants/local-reads.scn"
    );
    let out = squall(&[
        "replay",
        scenario,
        "--mutant",
        "local-reads",
        "--json",
        "--history",
        stale,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let verdict: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(verdict["failure"]["property"], "linearizability");
    let check = squall(&["check", stale, "--model", "kv"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    // One event per line: the explanation names lines of the file.
    assert!(text(&check).contains("(line "), "{}", text(&check));
}

#[test]
fn a_failure_ends_with_the_commands_to_look_closer() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/raft/mutants/local-reads.scn"
    );
    let out = squall(&["replay", scenario, "--mutant", "local-reads"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!(
            "look closer: squall replay {scenario} --mutant local-reads --trace"
        )),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "shrink it:   squall shrink {scenario} --mutant local-reads"
        )),
        "{t}"
    );
    // A pass prints no such lines.
    let out = squall(&["replay", scenario]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("look closer"), "{}", text(&out));
}

#[test]
fn shrink_exits_0_when_it_wrote_the_smaller_scenario() {
    let scenario = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/raft/mutants/local-reads.scn"
    );
    let small = temp_path("local-reads.min.scn");
    let small = small.to_str().expect("utf-8 path");
    let out = squall(&[
        "shrink",
        scenario,
        "--mutant",
        "local-reads",
        "-o",
        small,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["output"], small, "{json}");
    assert_eq!(json["failure"]["property"], "linearizability");
    assert!(json["steps_after"].as_u64() <= json["steps_before"].as_u64());
    let replay = squall(&["replay", small, "--mutant", "local-reads"]);
    assert_eq!(replay.status.code(), Some(1), "{}", text(&replay));
    // The output exists now: never overwritten.
    let again = squall(&["shrink", scenario, "--mutant", "local-reads", "-o", small]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    // A scenario that passes has nothing to shrink.
    let passes = squall(&["shrink", scenario, "-o", &format!("{small}.2")]);
    assert_eq!(passes.status.code(), Some(2), "{}", text(&passes));
    assert!(
        text(&passes).contains("nothing to shrink"),
        "{}",
        text(&passes)
    );
}

#[test]
fn hunt_bench_and_mutants_print_json() {
    let out = squall(&[
        "hunt",
        "raft",
        "--mutant",
        "local-reads",
        "--budget",
        "60",
        "--runs",
        "1",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(
        out.status.code(),
        Some(if json["results"][0]["found"] == 1 {
            0
        } else {
            1
        }),
        "{json}"
    );
    assert_eq!(json["results"][0]["mutant"], "local-reads", "{json}");
    let out = squall(&[
        "bench",
        "sim",
        "raft",
        "--scenarios",
        "3",
        "--passes",
        "1",
        "--duration",
        "0.5",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["duration_ms"], 500, "{json}");
    assert_eq!(json["passes"].as_array().map(Vec::len), Some(1), "{json}");
    let out = squall(&["mutants", "raft", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert!(
        json.as_array()
            .is_some_and(|l| l.iter().any(|m| m["name"] == "local-reads")),
        "{json}"
    );
}

/// A finding that cannot be saved is reported, with its scenario, never dropped.
#[test]
fn chaos_reports_a_finding_it_cannot_save() {
    let blocker = temp_file("not-a-directory", "a file where chaos wants a directory");
    let out_dir = blocker.join("out");
    let out = squall(&[
        "chaos",
        "raft",
        "--mutant",
        "local-reads",
        // A campaign whose first 150 scenarios hit the stale reads (which ones do changes
        // whenever a fault kind is added: new weather bits decode into other scenarios).
        "--seed",
        "5",
        "--time",
        "60",
        "--max-execs",
        "150",
        "--stop-at-first",
        "--out",
        out_dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("FOUND"), "{t}");
    assert!(t.contains("is not saved: creating"), "{t}");
    assert!(
        t.contains("not saved; its scenario:\n    # found by squall chaos"),
        "{t}"
    );
}

#[test]
fn properties_are_listed_and_an_unknown_one_is_a_usage_error() {
    let out = squall(&["properties", "raft"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    for name in ["no-panics", "election-safety", "linearizability"] {
        assert!(listed.contains(name), "{listed}");
    }
    assert!(listed.contains("at most one leader per term"), "{listed}");
    let out = squall(&["properties", "raft", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(list.as_array().is_some_and(|l| l.len() >= 19), "{list}");

    for command in [
        &["run", "raft", "--seed", "1", "--property", "no-such-thing"][..],
        &[
            "chaos",
            "raft",
            "--time",
            "1s",
            "--property",
            "no-such-thing",
        ][..],
    ] {
        let out = squall(command);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("unknown property `no-such-thing`"), "{err}");
        assert!(err.contains("election-safety"), "{err}");
    }
}

#[test]
fn a_selection_reaches_the_verdict_and_the_repro_commands() {
    // local-reads breaks linearizability only: checking election safety alone passes.
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/raft/mutants/local-reads.scn"
    );
    let replay = |extra: &[&str]| {
        let mut args = vec!["replay", file, "--mutant", "local-reads", "--json"];
        args.extend(extra);
        let out = squall(&args);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON")
    };
    let all = replay(&[]);
    assert_eq!(
        (&all["verdict"], &all["properties"]),
        (&"fail".into(), &"all".into()),
        "{all}"
    );
    let only = replay(&["--property", "election-safety"]);
    assert_eq!(only["verdict"], "pass", "{only}");
    assert_eq!(
        only["properties"],
        serde_json::json!(["election-safety"]),
        "{only}"
    );
    // A failing run under a selection prints commands that keep it.
    let out = squall(&[
        "replay",
        file,
        "--mutant",
        "local-reads",
        "--property",
        "linearizability",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("--mutant local-reads --property linearizability --trace"),
        "{printed}"
    );
}

#[test]
fn crash_points_are_listed_with_squall_s_own_first() {
    let out = squall(&["points", "raft"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let first = listed.find("disk-write").expect("disk-write");
    let raft = listed.find("after-vote-persist").expect("the store's own");
    assert!(first < raft, "{listed}");
    let out = squall(&["points", "raft", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(list.as_array().is_some_and(|l| l.len() >= 7), "{list}");
}

// ---------------------------------------------------------------------------------------------
// `squall check --model session|causal|convergence` on replicated-store histories: a verdict
// that names the operations involved, exit 1 on a violation, exit 2 with file, line and what
// on malformed input — never a panic.

fn check_store(file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["check", file.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    squall(&args)
}

/// c0 writes a; c1 reads it and overwrites it with b; c0 reads b (which reflects a).
const STORE_GOOD: &str = r#"{"events": [
  {"session": "c0", "type": "invoke", "f": "write", "key": "k", "value": "a", "time": 1},
  {"session": "c0", "type": "ok", "f": "write", "key": "k", "value": "a", "version": {"n1": 1}, "time": 2},
  {"session": "c1", "type": "invoke", "f": "read", "key": "k", "time": 3},
  {"session": "c1", "type": "ok", "f": "read", "key": "k", "values": ["a"], "time": 4},
  {"session": "c1", "type": "invoke", "f": "write", "key": "k", "value": "b", "context": ["a"], "time": 5},
  {"session": "c1", "type": "ok", "f": "write", "key": "k", "value": "b", "time": 6},
  {"session": "c0", "type": "invoke", "f": "read", "key": "k", "time": 7},
  {"session": "c0", "type": "ok", "f": "read", "key": "k", "values": ["b"], "time": 8}
],
"replicas": [
  {"replica": "n1", "key": "k", "values": ["b"]},
  {"replica": "n2", "key": "k", "values": ["b"]}
]}
"#;

/// As JSON lines: c0 writes a, then reads nothing (its own write is missing); replica n2
/// never got a.
const STORE_BAD: &str = r#"{"session": "c0", "type": "invoke", "f": "write", "key": "k", "value": "a"}
{"session": "c0", "type": "ok"}
{"session": "c0", "type": "invoke", "f": "read", "key": "k"}
{"session": "c0", "type": "ok", "values": []}
{"replica": "n1", "key": "k", "values": ["a"]}
{"replica": "n2", "key": "k", "values": []}
"#;

#[test]
fn a_consistent_store_history_exits_0_under_every_store_model() {
    let file = temp_file("store-good.json", STORE_GOOD);
    for model in ["session", "causal", "convergence"] {
        let out = check_store(&file, &["--model", model]);
        assert_eq!(out.status.code(), Some(0), "{model}: {}", text(&out));
        assert!(text(&out).starts_with("consistent ("), "{}", text(&out));
    }
}

#[test]
fn a_store_violation_exits_1_and_names_the_operations_and_lines() {
    let file = temp_file("store-bad.jsonl", STORE_BAD);
    let out = check_store(&file, &["--model", "session"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.starts_with("not consistent: 1 anomaly"), "{t}");
    assert!(
        t.contains("read your writes: key k: c0 #2 read k → {} [line 3] does not reflect the session's own c0 #1 write k = a [line 1]"),
        "{t}"
    );
    let out = check_store(&file, &["--model", "convergence"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(
            "convergence: key k: the replicas disagree: replica n1 holds {a}, replica n2 holds {}"
        ),
        "{}",
        text(&out)
    );
    // Causal consistency includes read-your-writes.
    assert_eq!(
        check_store(&file, &["--model", "causal"]).status.code(),
        Some(1)
    );
}

#[test]
fn store_check_json_lists_every_anomaly_with_its_operations() {
    let file = temp_file("store-bad-json.jsonl", STORE_BAD);
    let out = check_store(&file, &["--model", "session", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(json["verdict"], "not consistent");
    assert_eq!(json["operations"], 2);
    let anomaly = &json["anomalies"][0];
    assert_eq!(anomaly["property"], "read your writes");
    assert_eq!(anomaly["key"], "k");
    assert_eq!(anomaly["operations"][0]["session"], "c0");
    assert_eq!(anomaly["operations"][0]["number"], 2);
    assert_eq!(anomaly["operations"][0]["line"], 3);
    assert_eq!(anomaly["operations"][1]["line"], 1);
    let counts: Vec<(String, u64)> = json["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("").to_string(),
                p["anomalies"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    assert!(
        counts.contains(&("read your writes".to_string(), 1)),
        "{counts:?}"
    );
    assert!(
        counts.contains(&("monotonic reads".to_string(), 0)),
        "{counts:?}"
    );
}

#[test]
fn store_check_property_selects_within_the_model() {
    let file = temp_file("store-bad-select.jsonl", STORE_BAD);
    let out = check_store(
        &file,
        &["--model", "session", "--property", "monotonic-reads"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(text(&out).trim(), "consistent (monotonic reads)");
    let out = check_store(
        &file,
        &["--model", "session", "--property", "read your writes"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = check_store(&file, &["--model", "causal", "--property", "convergence"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("unknown property `convergence` for this model; known: valid-observations, causal-consistency"),
        "{}",
        text(&out)
    );
    let out = check_store(&file, &["--model", "kv", "--property", "read-your-writes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_malformed_store_history_exits_2_with_file_line_and_what() {
    let cases: [(&str, &[u8], &str); 7] = [
        (
            "store-unpaired.jsonl",
            b"{\"session\": 0, \"type\": \"invoke\", \"f\": \"read\", \"key\": \"k\"}\n\n{\"session\": 1, \"type\": \"ok\", \"values\": []}\n",
            "line 3: session 1 completes an operation it never invoked",
        ),
        (
            "store-syntax.json",
            b"{\"events\": [\n  {\"session\": 0, \"type\": \"invoke\", \"f\": \"read\", \"key\": \"k\"},\n  {\"session\": 0 \"type\": \"ok\"}\n]}\n",
            "line 3, column 17:",
        ),
        (
            "store-value.jsonl",
            b"{\"session\": 0, \"type\": \"invoke\", \"f\": \"write\", \"key\": \"k\", \"value\": [1]}\n",
            "line 1, column",
        ),
        (
            "store-twice.jsonl",
            b"{\"session\": 0, \"type\": \"invoke\", \"f\": \"write\", \"key\": \"k\", \"value\": 1}\n{\"session\": 0, \"type\": \"ok\"}\n{\"session\": 0, \"type\": \"invoke\", \"f\": \"delete\", \"key\": \"k\", \"value\": 1}\n",
            "line 3: value 1 is written twice",
        ),
        ("store-empty.json", b"", "no events"),
        ("store-garbage.bin", b"\x00\xff\xfe garbage \x80", "cannot read"),
        ("store-words.txt", b"hello world\n", "line 1, column 1:"),
    ];
    for (name, contents, what) in cases {
        let file = temp_path(name);
        std::fs::write(&file, contents).expect("write temp file");
        for model in ["session", "causal", "convergence"] {
            let out = check_store(&file, &["--model", model]);
            let t = text(&out);
            assert_eq!(out.status.code(), Some(2), "{name} --model {model}: {t}");
            assert!(t.contains(name) && t.contains(what), "{name}: {t}");
            assert!(!t.contains("panicked"), "{name}: {t}");
        }
    }
}

#[test]
fn store_convergence_without_final_states_is_a_usage_error() {
    let no_replicas: String = STORE_GOOD
        .split(",\n\"replicas\"")
        .next()
        .unwrap_or("")
        .to_string()
        + "}";
    let file = temp_file("store-no-replicas.json", &no_replicas);
    assert_eq!(
        check_store(&file, &["--model", "session"]).status.code(),
        Some(0)
    );
    let out = check_store(&file, &["--model", "convergence"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("convergence needs the replicas' final states"),
        "{}",
        text(&out)
    );
    let out = check_store(&file, &["--model", "session", "--format", "porcupine-kv"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--format porcupine-kv does not apply"),
        "{}",
        text(&out)
    );
}

#[test]
fn cap_compares_stores_and_rejects_bad_arguments() {
    let out = squall(&["cap", "--system", "raft", "--schedules", "3", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(report["schedules"], 3);
    assert_eq!(report["stores"][0]["system"], "raft");
    assert_eq!(report["stores"][0]["not_linearizable"], 0);
    assert!(report["stores"][0]["minority"]["invoked"].as_u64() > Some(0));

    let svg = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-cap-{}.svg", std::process::id()));
    let out = squall(&[
        "cap",
        "--system",
        "raft",
        "--schedules",
        "2",
        "--svg",
        svg.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let chart = std::fs::read_to_string(&svg).expect("the chart is written");
    let _ = std::fs::remove_file(&svg);
    assert!(
        chart.starts_with("<svg") && chart.contains("raft"),
        "{chart}"
    );

    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-cap-out-{}", std::process::id()));
    let out = squall(&[
        "cap",
        "--system",
        "dynamo",
        "--schedules",
        "2",
        "--out",
        dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let saved = dir.join("dynamo-not-linearizable-0.scn");
    let scenario =
        std::fs::read_to_string(&saved).expect("the first non-linearizable schedule is saved");
    assert!(
        scenario.starts_with("system dynamo\n") && scenario.contains("clients pinned"),
        "{scenario}"
    );
    let out = squall(&["replay", saved.to_str().expect("utf-8")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "it keeps what dynamo claims: {}",
        text(&out)
    );

    for (args, says) in [
        (&["cap", "--system", "paxos"][..], "unknown system `paxos`"),
        (
            &["cap", "--system", "raft", "--schedules", "0"][..],
            "--schedules",
        ),
        (
            &["cap", "--system", "raft", "--mutant", "local-reads"][..],
            "SYSTEM:MUTANT",
        ),
        (
            &["cap", "--system", "raft", "--mutant", "twopc:x"][..],
            "not one of the stores",
        ),
        (
            &["cap", "--system", "raft", "--mutant", "raft:no-such-bug"][..],
            "no-such-bug",
        ),
        (
            &[
                "cap",
                "--system",
                "raft",
                "--svg",
                "/nonexistent/dir/cap.svg",
            ][..],
            "/nonexistent/dir/cap.svg",
        ),
        (
            &["cap", "--system", "twopc", "--schedules", "1"][..],
            "not a scenario for `twopc`",
        ),
    ] {
        let out = squall(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
    }
}
