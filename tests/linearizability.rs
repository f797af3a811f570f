//! Acceptance and property tests of the linearizability checker.

use squall::check::formats::{parse, Format};
use squall::check::linearizability::brute::{arbitrary_history, brute_force_with, cross_check};
use squall::check::linearizability::{
    check_history_with, check_operations_with, operations, Budget, CheckOptions, Verdict,
};
use squall::check::model::ModelKind;
use squall::history::{Event, EventType, Function, History, Value};
use std::time::{Duration, Instant};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/porcupine-data");

fn opts(partition: bool) -> CheckOptions {
    CheckOptions {
        partition,
        budget: Budget {
            // Generous: only a runaway search hits it, and then the test fails clearly.
            deadline: Some(Instant::now() + Duration::from_secs(120)),
            ..Budget::default()
        },
    }
}

/// Every file in expected.tsv gets Porcupine's verdict, partitioned and not as listed.
#[test]
fn porcupine_expected_verdicts() {
    let tsv = std::fs::read_to_string(format!("{DATA}/expected.tsv")).expect("expected.tsv");
    let mut checked = 0;
    let mut failures = Vec::new();
    for row in tsv.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let [file, model, partition, expected] = cols[..] else {
            panic!("bad TSV row {row:?}");
        };
        let (format, kind) = match model {
            "cas-register" => (Format::PorcupineEtcd, ModelKind::Cas),
            "kv" => (Format::PorcupineKv, ModelKind::Kv),
            other => panic!("unknown model {other}"),
        };
        let want = match expected {
            "linearizable" => true,
            "not-linearizable" => false,
            _ => continue, // not an expectation Porcupine's suite enforces
        };
        let text = std::fs::read_to_string(format!("{DATA}/{file}")).expect("data file");
        let ops = parse(format, &text).expect("parse");
        let start = Instant::now();
        let v = check_operations_with(kind, &ops, &opts(partition != "no")).expect("check");
        let got = match &v {
            Verdict::Linearizable => Some(true),
            Verdict::NotLinearizable(_) => Some(false),
            Verdict::Unknown(_) => None,
        };
        if got != Some(want) {
            failures.push(format!("{file} partition={partition}: expected {expected}, got {v}"));
        }
        eprintln!("{file} {partition}: {:?}", start.elapsed());
        checked += 1;
    }
    assert_eq!(checked, 112);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
