//! Acceptance and property tests of the linearizability checker.

use squall::check::formats::{parse, Format};
use squall::check::linearizability::brute::{arbitrary_history, brute_force_with, cross_check};
use squall::check::linearizability::{
    check_history_with, check_operations_with, operations, Budget, CheckOptions, Verdict,
};
use squall::check::model::ModelKind;
use squall::cli::{run_check, CheckArgs};
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
        ..CheckOptions::default()
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
            failures.push(format!(
                "{file} partition={partition}: expected {expected}, got {v}"
            ));
        }
        eprintln!("{file} {partition}: {:?}", start.elapsed());
        checked += 1;
    }
    assert_eq!(checked, 112);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Hand-written histories.

/// A tiny history builder: `inv`/`ok`/`info`/`fail` append events with increasing times.
#[derive(Default)]
struct H {
    events: Vec<Event>,
    t: u64,
}

impl H {
    fn ev(
        &mut self,
        p: u64,
        kind: EventType,
        f: Function,
        key: Option<&str>,
        v: Value,
    ) -> &mut Self {
        self.t += 1;
        self.events.push(Event {
            process: p,
            kind,
            f,
            key: key.map(str::to_string),
            value: v,
            time: self.t,
        });
        self
    }
    fn inv(&mut self, p: u64, f: Function, v: Value) -> &mut Self {
        self.ev(p, EventType::Invoke, f, None, v)
    }
    fn ok(&mut self, p: u64, f: Function, v: Value) -> &mut Self {
        self.ev(p, EventType::Ok, f, None, v)
    }
    fn info(&mut self, p: u64, f: Function) -> &mut Self {
        self.ev(p, EventType::Info, f, None, Value::Nil)
    }
    fn fail(&mut self, p: u64, f: Function) -> &mut Self {
        self.ev(p, EventType::Fail, f, None, Value::Nil)
    }
    fn kinv(&mut self, p: u64, f: Function, k: &str, v: &str) -> &mut Self {
        let v = if f == Function::Read {
            Value::Nil
        } else {
            Value::Str(v.into())
        };
        self.ev(p, EventType::Invoke, f, Some(k), v)
    }
    fn kok(&mut self, p: u64, f: Function, k: &str, v: &str) -> &mut Self {
        self.ev(p, EventType::Ok, f, Some(k), Value::Str(v.into()))
    }
    fn history(&self) -> History {
        History {
            events: self.events.clone(),
        }
    }
}

use Function::{Append, Cas, Read, Write};

fn int(i: i64) -> Value {
    Value::Int(i)
}

fn cas(a: Value, b: Value) -> Value {
    Value::Cas(Box::new(a), Box::new(b))
}

fn verdict(kind: ModelKind, h: &H) -> Verdict {
    let v = check_history_with(kind, &h.history(), &CheckOptions::default()).expect("check");
    // Partitioning must never change a verdict.
    let whole = check_history_with(kind, &h.history(), &opts(false)).expect("check");
    assert_eq!(
        v.exit_code(),
        whole.exit_code(),
        "partitioned {v} vs whole {whole}"
    );
    // Nor may the brute force disagree (these histories are small).
    let ops = operations(&h.history()).expect("ops");
    if ops.len() <= 10 {
        let truth = brute_force_with(kind, &ops).expect("brute");
        assert_eq!(
            truth,
            v == Verdict::Linearizable,
            "brute force disagrees with {v}"
        );
    }
    v
}

fn assert_lin(kind: ModelKind, h: &H) {
    let v = verdict(kind, h);
    assert_eq!(v, Verdict::Linearizable, "{v}");
}

fn assert_not_lin(kind: ModelKind, h: &H) -> String {
    match verdict(kind, h) {
        Verdict::NotLinearizable(e) => e.to_string(),
        v => panic!("expected not linearizable, got {v}"),
    }
}

#[test]
fn register_concurrent_read_may_see_either_value() {
    let mut h = H::default();
    h.inv(0, Write, int(1)).ok(0, Write, int(1));
    h.inv(0, Write, int(2))
        .inv(1, Read, Value::Nil)
        .ok(1, Read, int(1))
        .ok(0, Write, int(2));
    h.inv(1, Read, Value::Nil).ok(1, Read, int(2));
    assert_lin(ModelKind::Register, &h);
}

#[test]
fn register_stale_read_is_caught() {
    let mut h = H::default();
    h.inv(0, Write, int(1)).ok(0, Write, int(1));
    h.inv(0, Write, int(2)).ok(0, Write, int(2));
    h.inv(1, Read, Value::Nil).ok(1, Read, int(1));
    let text = assert_not_lin(ModelKind::Register, &h);
    assert!(text.contains("process 1: read() -> 1"), "{text}");
    assert!(text.contains("state 2"), "{text}");
}

#[test]
fn info_write_may_take_effect_late() {
    // The write's outcome is unknown; it can still take effect after the first read.
    let mut h = H::default();
    h.inv(0, Write, int(1)).info(0, Write);
    h.inv(1, Read, Value::Nil).ok(1, Read, Value::Nil);
    h.inv(1, Read, Value::Nil).ok(1, Read, int(1));
    assert_lin(ModelKind::Register, &h);
}

#[test]
fn info_write_may_never_take_effect() {
    let mut h = H::default();
    h.inv(0, Write, int(1)).info(0, Write);
    h.inv(1, Read, Value::Nil).ok(1, Read, Value::Nil);
    h.inv(1, Read, Value::Nil).ok(1, Read, Value::Nil);
    assert_lin(ModelKind::Register, &h);
}

#[test]
fn info_write_cannot_take_effect_before_its_invocation() {
    let mut h = H::default();
    h.inv(1, Read, Value::Nil).ok(1, Read, int(1));
    h.inv(0, Write, int(1)).info(0, Write);
    assert_not_lin(ModelKind::Register, &h);
}

#[test]
fn info_write_cannot_take_effect_twice() {
    // Seen, then unseen, then seen again: only one write of 1 exists.
    let mut h = H::default();
    h.inv(0, Write, int(1)).info(0, Write);
    h.inv(1, Read, Value::Nil).ok(1, Read, int(1));
    h.inv(2, Write, int(2)).ok(2, Write, int(2));
    h.inv(1, Read, Value::Nil).ok(1, Read, int(1));
    assert_not_lin(ModelKind::Register, &h);
}

#[test]
fn failed_ops_did_not_happen() {
    let mut h = H::default();
    h.inv(0, Write, int(1)).fail(0, Write);
    h.inv(1, Read, Value::Nil).ok(1, Read, int(1));
    assert_not_lin(ModelKind::Register, &h);
    let mut h = H::default();
    h.inv(0, Write, int(1)).fail(0, Write);
    h.inv(1, Read, Value::Nil).ok(1, Read, Value::Nil);
    assert_lin(ModelKind::Register, &h);
}

#[test]
fn cas_register_passes_and_catches() {
    let mut h = H::default();
    h.inv(0, Read, Value::Nil).ok(0, Read, Value::Nil); // absent at first
    h.inv(0, Write, int(1)).ok(0, Write, int(1));
    h.inv(1, Cas, cas(int(1), int(2)))
        .ok(1, Cas, cas(int(1), int(2)));
    h.inv(0, Read, Value::Nil).ok(0, Read, int(2));
    assert_lin(ModelKind::Cas, &h);

    // A cas that succeeded although the value was not its `old`.
    let mut h = H::default();
    h.inv(0, Write, int(1)).ok(0, Write, int(1));
    h.inv(1, Cas, cas(int(3), int(2)))
        .ok(1, Cas, cas(int(3), int(2)));
    let text = assert_not_lin(ModelKind::Cas, &h);
    assert!(text.contains("cas(3, 2)"), "{text}");
}

#[test]
fn cas_with_unknown_outcome_constrains_nothing() {
    let mut h = H::default();
    h.inv(0, Write, int(1)).ok(0, Write, int(1));
    h.inv(1, Cas, cas(int(1), int(2))).info(1, Cas);
    h.inv(0, Read, Value::Nil).ok(0, Read, int(1));
    h.inv(0, Read, Value::Nil).ok(0, Read, int(2));
    assert_lin(ModelKind::Cas, &h);
    // ... but a pending cas whose `old` never holds cannot produce its `new`.
    let mut h = H::default();
    h.inv(0, Write, int(1)).ok(0, Write, int(1));
    h.inv(1, Cas, cas(int(5), int(2))).info(1, Cas);
    h.inv(0, Read, Value::Nil).ok(0, Read, int(2));
    assert_not_lin(ModelKind::Cas, &h);
}

#[test]
fn etcd_failed_cas_happened() {
    // A `:fail :cas` is a cas whose comparison failed: it says the value was not 1.
    let log = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
               INFO  jepsen.util - 0\t:ok\t:write\t1\n\
               INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\n\
               INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]\n";
    let ops = parse(Format::PorcupineEtcd, log).expect("parse");
    let v = check_operations_with(ModelKind::Cas, &ops, &CheckOptions::default()).expect("check");
    assert!(matches!(v, Verdict::NotLinearizable(_)), "{v}");
    let ok = log.replace("[1 2]", "[3 2]");
    let ops = parse(Format::PorcupineEtcd, &ok).expect("parse");
    let v = check_operations_with(ModelKind::Cas, &ops, &CheckOptions::default()).expect("check");
    assert_eq!(v, Verdict::Linearizable);
}

#[test]
fn kv_appends_and_reads() {
    let mut h = H::default();
    h.kinv(0, Read, "a", "").kok(0, Read, "a", ""); // absent key reads ""
    h.kinv(0, Append, "a", "x").kinv(1, Append, "a", "y");
    h.kok(1, Append, "a", "y").kok(0, Append, "a", "x");
    h.kinv(2, Read, "a", "").kok(2, Read, "a", "yx");
    h.kinv(2, Write, "b", "z").kok(2, Write, "b", "z");
    h.kinv(1, Read, "b", "").kok(1, Read, "b", "z");
    assert_lin(ModelKind::Kv, &h);
}

#[test]
fn kv_stale_read_is_caught_on_its_key() {
    let mut h = H::default();
    h.kinv(0, Write, "b", "1").kok(0, Write, "b", "1");
    h.kinv(0, Append, "a", "x").kok(0, Append, "a", "x");
    h.kinv(1, Append, "a", "y").kok(1, Append, "a", "y");
    h.kinv(2, Read, "a", "").kok(2, Read, "a", "x"); // misses the completed "y"
    let text = assert_not_lin(ModelKind::Kv, &h);
    assert!(text.contains("key \"a\""), "{text}");
    assert!(text.contains("read(\"a\") -> \"x\""), "{text}");
}

#[test]
fn kv_info_append_placed_late_or_never() {
    let mut h = H::default();
    h.kinv(0, Append, "a", "x").info(0, Append);
    h.kinv(1, Read, "a", "").kok(1, Read, "a", "");
    h.kinv(1, Read, "a", "").kok(1, Read, "a", "x");
    h.kinv(1, Append, "a", "y").kok(1, Append, "a", "y");
    h.kinv(1, Read, "a", "").kok(1, Read, "a", "xy");
    assert_lin(ModelKind::Kv, &h);
    h.kinv(1, Read, "a", "").kok(1, Read, "a", "y");
    assert_not_lin(ModelKind::Kv, &h);
}

#[test]
fn model_errors_name_the_line() {
    let mut h = H::default();
    h.inv(0, Cas, cas(int(1), int(2)))
        .ok(0, Cas, cas(int(1), int(2)));
    let e = check_history_with(ModelKind::Register, &h.history(), &CheckOptions::default())
        .expect_err("register has no cas");
    assert!(e.to_string().starts_with("line 1:"), "{e}");
    let mut h = H::default();
    h.inv(0, Cas, int(1)).ok(0, Cas, int(1));
    assert!(check_history_with(ModelKind::Cas, &h.history(), &CheckOptions::default()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Cross-check against brute force.

#[test]
fn search_agrees_with_brute_force_on_random_histories() {
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5eed);
    for kind in [ModelKind::Register, ModelKind::Cas, ModelKind::Kv] {
        let (mut yes, mut no) = (0, 0);
        for case in 0..3000 {
            let mut bytes = [0u8; 256];
            rng.fill(&mut bytes[..]);
            let mut u = arbitrary::Unstructured::new(&bytes);
            let h = arbitrary_history(&mut u, kind, 7).expect("generate");
            match cross_check(kind, &h) {
                Ok(true) => yes += 1,
                Ok(false) => no += 1,
                Err(e) => panic!("{kind:?} case {case}: {e}"),
            }
        }
        eprintln!("{kind:?}: {yes} linearizable, {no} not");
        assert!(
            yes > 200 && no > 200,
            "{kind:?}: {yes} linearizable, {no} not"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Budgets.

/// 40 concurrent writes of distinct values, then a read of a value nobody wrote: the search
/// must try every subset of the writes before giving up.
fn explosive() -> History {
    let mut h = H::default();
    for p in 0..40 {
        h.inv(p, Write, int(p as i64));
    }
    for p in 0..40 {
        h.ok(p, Write, int(p as i64));
    }
    h.inv(100, Read, Value::Nil).ok(100, Read, int(-1));
    h.history()
}

#[test]
fn step_budget_gives_unknown() {
    let o = CheckOptions {
        partition: true,
        budget: Budget {
            max_steps: Some(200_000),
            ..Budget::default()
        },
        ..CheckOptions::default()
    };
    let v = check_history_with(ModelKind::Register, &explosive(), &o).expect("check");
    assert!(
        matches!(&v, Verdict::Unknown(r) if r.contains("step")),
        "{v}"
    );
}

#[test]
fn deadline_gives_unknown_in_time() {
    let start = Instant::now();
    let o = CheckOptions {
        partition: true,
        budget: Budget {
            deadline: Some(start + Duration::from_millis(300)),
            ..Budget::default()
        },
        ..CheckOptions::default()
    };
    let v = check_history_with(ModelKind::Register, &explosive(), &o).expect("check");
    assert!(
        matches!(&v, Verdict::Unknown(r) if r.contains("deadline")),
        "{v}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn memory_budget_gives_unknown() {
    let o = CheckOptions {
        partition: true,
        budget: Budget {
            max_memory: 8 << 20,
            ..Budget::default()
        },
        ..CheckOptions::default()
    };
    let v = check_history_with(ModelKind::Register, &explosive(), &o).expect("check");
    assert!(
        matches!(&v, Verdict::Unknown(r) if r.contains("memory")),
        "{v}"
    );
}

/// A failing key is reported although another key would search for a very long time.
#[test]
fn fast_failure_on_one_key_is_not_stuck_behind_a_hard_key() {
    let mut h = H::default();
    // Key "a": the explosive pattern.
    for p in 0..40 {
        h.kinv(p, Write, "a", &p.to_string());
    }
    for p in 0..40 {
        h.kok(p, Write, "a", &p.to_string());
    }
    h.kinv(100, Read, "a", "")
        .kok(100, Read, "a", "nobody wrote this");
    // Key "b": a plain stale read.
    h.kinv(200, Write, "b", "1").kok(200, Write, "b", "1");
    h.kinv(201, Read, "b", "").kok(201, Read, "b", "");
    let o = CheckOptions {
        partition: true,
        budget: Budget {
            max_steps: Some(10_000_000),
            ..Budget::default()
        },
        ..CheckOptions::default()
    };
    for threads in [1, 2] {
        let o = CheckOptions { threads, ..o };
        let v = check_history_with(ModelKind::Kv, &h.history(), &o).expect("check");
        match v {
            Verdict::NotLinearizable(e) => assert_eq!(e.partition.as_deref(), Some("b")),
            v => panic!("{v}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The `squall check` entry point.

fn cli(
    file: &str,
    model: ModelKind,
    format: Format,
    extra: impl FnOnce(&mut CheckArgs),
) -> anyhow::Result<u8> {
    let mut args = CheckArgs {
        file: file.into(),
        model: model.into(),
        format,
        properties: Vec::new(),
        no_partition: false,
        max_steps: None,
        timeout: None,
        max_memory_mib: 2048,
        threads: 1,
        json: false,
        html: None,
    };
    extra(&mut args);
    run_check(&args)
}

#[test]
fn run_check_exit_codes() {
    let d = DATA;
    let kv = ModelKind::Kv;
    let pkv = Format::PorcupineKv;
    assert_eq!(
        cli(&format!("{d}/kv/c10-ok.txt"), kv, pkv, |_| ()).unwrap(),
        0
    );
    assert_eq!(
        cli(&format!("{d}/kv/c10-bad.txt"), kv, pkv, |_| ()).unwrap(),
        1
    );
    let etcd = format!("{d}/jepsen/etcd_002.log");
    let r = cli(&etcd, ModelKind::Cas, Format::PorcupineEtcd, |a| {
        a.max_steps = Some(1000)
    });
    assert_eq!(r.unwrap(), 3);
    // Malformed input and missing files are errors naming the problem.
    let e = cli(&etcd, kv, pkv, |_| ()).unwrap_err();
    assert!(format!("{e:#}").contains("line 1:"), "{e:#}");
    let e = cli(&format!("{d}/no-such-file"), kv, pkv, |_| ()).unwrap_err();
    assert!(format!("{e:#}").contains("no-such-file"), "{e:#}");
}

#[test]
fn run_check_reads_squall_json() {
    let mut h = H::default();
    h.inv(0, Write, int(1)).ok(0, Write, int(1));
    h.inv(1, Read, Value::Nil).ok(1, Read, Value::Nil);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-lin-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let doc = dir.join("h.json");
    std::fs::write(&doc, serde_json::to_string(&h.history()).unwrap()).unwrap();
    let r = cli(
        doc.to_str().unwrap(),
        ModelKind::Register,
        Format::Squall,
        |_| (),
    );
    assert_eq!(r.unwrap(), 1);
    let lines: Vec<String> = h
        .events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let jl = dir.join("h.jsonl");
    std::fs::write(&jl, lines[..2].join("\n")).unwrap();
    let r = cli(
        jl.to_str().unwrap(),
        ModelKind::Register,
        Format::Squall,
        |_| (),
    );
    assert_eq!(r.unwrap(), 0);
    std::fs::remove_dir_all(&dir).ok();
}

/// Garbage and truncated lines give errors, never panics.
#[test]
fn parsers_never_panic() {
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let samples = [
        "{:process 0, :type :invoke, :f :append, :key \"0\", :value \"x 0 0 y\"}\n",
        "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\nINFO  jepsen.util - 2\t:ok\t:cas\t[3 0]\n",
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"cas\",\"value\":[1,2],\"time\":0}\n",
    ];
    for _ in 0..3000 {
        let base = samples[rng.random_range(0..samples.len())].as_bytes();
        let mut bytes = base.to_vec();
        for _ in 0..rng.random_range(1..4) {
            let i = rng.random_range(0..bytes.len());
            match rng.random_range(0..3) {
                0 => bytes.truncate(i),
                1 => {
                    let pool = b"{}[]\":, \t\n\\-0x";
                    bytes[i] = pool[rng.random_range(0..pool.len())];
                }
                _ => bytes.insert(i, rng.random()),
            }
            if bytes.is_empty() {
                break;
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        for format in [Format::Squall, Format::PorcupineKv, Format::PorcupineEtcd] {
            if let Ok(ops) = parse(format, &text) {
                for kind in [ModelKind::Kv, ModelKind::Register, ModelKind::Cas] {
                    let _ = check_operations_with(kind, &ops, &CheckOptions::default());
                }
            }
        }
    }
}
