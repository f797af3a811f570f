//! Replicated-store histories through the command line: `squall check --model session`,
//! `causal` and `convergence` give a verdict that names the operations involved, exit 1 on
//! a violation, and exit 2 with file, line and what on malformed input — never a panic.

use std::path::{Path, PathBuf};
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

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("squall-eventual-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

fn check(file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["check", file.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    squall(&args)
}

/// c0 writes a; c1 reads it and overwrites it with b; c0 reads b (which reflects a).
const GOOD: &str = r#"{"events": [
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
const BAD: &str = r#"{"session": "c0", "type": "invoke", "f": "write", "key": "k", "value": "a"}
{"session": "c0", "type": "ok"}
{"session": "c0", "type": "invoke", "f": "read", "key": "k"}
{"session": "c0", "type": "ok", "values": []}
{"replica": "n1", "key": "k", "values": ["a"]}
{"replica": "n2", "key": "k", "values": []}
"#;

#[test]
fn a_consistent_history_exits_0_under_every_model() {
    let file = temp_file("good.json", GOOD.as_bytes());
    for model in ["session", "causal", "convergence"] {
        let out = check(&file, &["--model", model]);
        assert_eq!(out.status.code(), Some(0), "{model}: {}", text(&out));
        assert!(text(&out).starts_with("consistent ("), "{}", text(&out));
    }
}

#[test]
fn a_violation_exits_1_and_names_the_operations_and_lines() {
    let file = temp_file("bad.jsonl", BAD.as_bytes());
    let out = check(&file, &["--model", "session"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.starts_with("not consistent: 1 anomaly"), "{t}");
    assert!(
        t.contains("read your writes: key k: c0 #2 read k → {} [line 3] does not reflect the session's own c0 #1 write k = a [line 1]"),
        "{t}"
    );
    let out = check(&file, &["--model", "convergence"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(
            "convergence: key k: the replicas disagree: replica n1 holds {a}, replica n2 holds {}"
        ),
        "{}",
        text(&out)
    );
    // Causal consistency includes read-your-writes.
    assert_eq!(check(&file, &["--model", "causal"]).status.code(), Some(1));
}

#[test]
fn json_lists_every_anomaly_with_its_operations() {
    let file = temp_file("bad-json.jsonl", BAD.as_bytes());
    let out = check(&file, &["--model", "session", "--json"]);
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
fn property_selects_within_the_model() {
    let file = temp_file("bad-select.jsonl", BAD.as_bytes());
    let out = check(
        &file,
        &["--model", "session", "--property", "monotonic-reads"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(text(&out).trim(), "consistent (monotonic reads)");
    let out = check(
        &file,
        &["--model", "session", "--property", "read your writes"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = check(&file, &["--model", "causal", "--property", "convergence"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("unknown property `convergence` for this model; known: valid-observations, causal-consistency"),
        "{}",
        text(&out)
    );
    let out = check(&file, &["--model", "kv", "--property", "read-your-writes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn malformed_input_exits_2_with_file_line_and_what() {
    let cases: [(&str, &[u8], &str); 7] = [
        (
            "unpaired.jsonl",
            b"{\"session\": 0, \"type\": \"invoke\", \"f\": \"read\", \"key\": \"k\"}\n\n{\"session\": 1, \"type\": \"ok\", \"values\": []}\n",
            "line 3: session 1 completes an operation it never invoked",
        ),
        (
            "syntax.json",
            b"{\"events\": [\n  {\"session\": 0, \"type\": \"invoke\", \"f\": \"read\", \"key\": \"k\"},\n  {\"session\": 0 \"type\": \"ok\"}\n]}\n",
            "line 3, column 17:",
        ),
        (
            "value.jsonl",
            b"{\"session\": 0, \"type\": \"invoke\", \"f\": \"write\", \"key\": \"k\", \"value\": [1]}\n",
            "line 1, column",
        ),
        (
            "twice.jsonl",
            b"{\"session\": 0, \"type\": \"invoke\", \"f\": \"write\", \"key\": \"k\", \"value\": 1}\n{\"session\": 0, \"type\": \"ok\"}\n{\"session\": 0, \"type\": \"invoke\", \"f\": \"delete\", \"key\": \"k\", \"value\": 1}\n",
            "line 3: value 1 is written twice",
        ),
        ("empty.json", b"", "no events"),
        ("garbage.bin", b"\x00\xff\xfe garbage \x80", "cannot read"),
        ("words.txt", b"hello world\n", "line 1, column 1:"),
    ];
    for (name, contents, what) in cases {
        let file = temp_file(name, contents);
        for model in ["session", "causal", "convergence"] {
            let out = check(&file, &["--model", model]);
            let t = text(&out);
            assert_eq!(out.status.code(), Some(2), "{name} --model {model}: {t}");
            assert!(t.contains(name) && t.contains(what), "{name}: {t}");
            assert!(!t.contains("panicked"), "{name}: {t}");
        }
    }
}

#[test]
fn convergence_without_final_states_is_a_usage_error() {
    let no_replicas: String = GOOD
        .split(",\n\"replicas\"")
        .next()
        .unwrap_or("")
        .to_string()
        + "}";
    let file = temp_file("no-replicas.json", no_replicas.as_bytes());
    assert_eq!(check(&file, &["--model", "session"]).status.code(), Some(0));
    let out = check(&file, &["--model", "convergence"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("convergence needs the replicas' final states"),
        "{}",
        text(&out)
    );
    let out = check(&file, &["--model", "session", "--format", "porcupine-kv"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--format porcupine-kv does not apply"),
        "{}",
        text(&out)
    );
}
