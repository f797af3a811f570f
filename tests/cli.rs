//! The command-line contract: exit codes 0 pass, 1 violation, 2 bad input or usage, and
//! errors that say what and where.

use std::path::PathBuf;
use std::process::{Command, Output};

fn squall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        .output()
        .expect("squall runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("squall-cli-{}", std::process::id()));
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

#[test]
fn binary_garbage_as_a_scenario_file_is_an_error_not_a_panic() {
    let dir = std::env::temp_dir().join(format!("squall-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("garbage.scn");
    std::fs::write(&path, [0xffu8, 0xfe, 0, 1, 2, 3, 0x80]).expect("write");
    let out = squall(&["replay", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
}
