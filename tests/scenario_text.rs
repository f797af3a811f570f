//! The scenario text form: round trips, readable errors with line and column, and a
//! generator that makes interesting scenarios out of random bytes.

#[path = "support/register.rs"]
#[allow(dead_code)]
mod register;

use register::RegOp;
use squall::scenario::generate::Offer;
use squall::scenario::text::ParseError;
use squall::scenario::{Fault, FaultKind, Scenario, Step};

fn parse(text: &str) -> Result<Scenario<RegOp>, ParseError> {
    Scenario::from_text(text)
}

const EVERY_STEP: &str = "system register
nodes 5
seed 18446744073709551615
weather partition partial loss duplicate reorder crash powerloss garbage buggify
c0 write 5
c3 read
wait 1s
wait 1500ms
isolate n0
split n1 n2
cut n0 n2
oneway n3 n4
heal n0 n2
heal all
loss 20%
duplicate 100%
delay 5%
hold n0 n1
release n0 n1
latency n2 n3 40ms
crash n1
powerloss n2
restart n1
garbage n4
isolate leader
split leader 2
crash leader
powerloss leader
restart all
crash n3 at disk-write
powerloss n4 at after-vote-persist
buggify on
buggify off
";

/// What the generator may draw in these tests: every fault kind, and these crash points.
fn points() -> Offer {
    Offer {
        kinds: squall::scenario::Weather::all(),
        points: vec!["disk-write", "disk-sync", "net-send", "after-vote-persist"],
        clock: Default::default(),
    }
}

#[test]
fn every_step_round_trips_exactly() {
    let s = parse(EVERY_STEP).expect("parses");
    assert_eq!(s.to_text(), EVERY_STEP);
    assert_eq!(parse(&s.to_text()).expect("reparses"), s);
    assert_eq!(s.steps.len(), 29);
    assert_eq!(s.duration_ms(), 2500);
}

#[test]
fn comments_and_blank_lines_are_ignored_and_weather_is_inferred() {
    let s = parse(
        "# a comment\nsystem register\n\nnodes 3 # trailing\nseed 1\ncrash n0 # why\nc1 read\n",
    )
    .expect("parses");
    assert_eq!(s.steps[0], Step::Fault(Fault::Crash(0)));
    assert!(s.weather.allows(FaultKind::Crash));
    assert!(!s.weather.allows(FaultKind::Loss));
}

#[test]
fn pinned_clients_round_trip_and_only_pinned_is_a_placement() {
    let text = "system register\nnodes 3\nseed 1\nweather calm\nclients pinned\nc0 read\n";
    let s = parse(text).expect("parses");
    assert!(s.clients_pinned);
    assert_eq!(s.to_text(), text);
    assert!(
        !parse("system register\nnodes 3\nseed 1\nc0 read\n")
            .expect("parses")
            .clients_pinned
    );
    // The generator never pins clients, so such a scenario is no fuzzer input.
    assert_eq!(s.to_bytes(|_| Some(vec![0])), None);
    let e = error("system register\nnodes 3\nseed 1\nclients free\n");
    assert_eq!((e.line, e.column), (4, 9), "{e}");
    assert!(e.message.contains("`pinned`"), "{e}");
    let e = error("system register\nnodes 3\nseed 1\nc0 read\nclients pinned\n");
    assert!(e.message.contains("before the first step"), "{e}");
}

fn error(text: &str) -> ParseError {
    parse(text).expect_err("must not parse")
}

#[test]
fn errors_name_line_and_column() {
    let head = "system register\nnodes 3\nseed 1\n";
    let e = error(&format!("{head}crash n7\n"));
    assert_eq!((e.line, e.column), (4, 7), "{e}");
    assert!(e.message.contains("n7 does not exist"), "{e}");

    let e = error(&format!("{head}wait 10 ms\n"));
    assert_eq!((e.line, e.column), (4, 6), "{e}");

    let e = error(&format!("{head}  explode n1\n"));
    assert_eq!((e.line, e.column), (4, 3), "{e}");
    assert!(e.message.contains("unknown step `explode`"), "{e}");

    let e = error(&format!("{head}c0 write banana\n"));
    assert_eq!((e.line, e.column), (4, 4), "{e}");
    assert!(e.message.contains("banana"), "{e}");

    let e = error(&format!("{head}c9 read\n"));
    assert_eq!((e.line, e.column), (4, 1), "{e}");

    let e = error(&format!("{head}loss 101%\n"));
    assert_eq!((e.line, e.column), (4, 6), "{e}");

    let e = error(&format!("{head}cut n1 n1\n"));
    assert!(e.message.contains("two different nodes"), "{e}");

    let e = error(&format!("{head}split n0 n1 n2\n"));
    assert!(e.message.contains("other side"), "{e}");

    let e = error(&format!("{head}heal n0 n1 n2\n"));
    assert_eq!((e.line, e.column), (4, 12), "{e}");

    let e = error(&format!("{head}crash leader n1\n"));
    assert_eq!((e.line, e.column), (4, 14), "{e}");

    let e = error(&format!("{head}split leader 3\n"));
    assert_eq!((e.line, e.column), (4, 14), "{e}");
    assert!(e.message.contains("1 to 2"), "{e}");

    let e = error(&format!("{head}delay 200%\n"));
    assert_eq!((e.line, e.column), (4, 7), "{e}");

    let e = error(&format!("{head}isolate boss\n"));
    assert_eq!((e.line, e.column), (4, 9), "{e}");

    let e = error("system register\nnodes 9\nseed 1\n");
    assert_eq!((e.line, e.column), (2, 7), "{e}");

    let e = error("system register\nseed 1\nc0 read\n");
    assert!(e.message.contains("`nodes` must come before"), "{e}");

    let e = error("system register\nnodes 3\nc0 read\n");
    assert!(e.message.contains("missing `seed`"), "{e}");

    let e = error(&format!("{head}c0 read\nnodes 4\n"));
    assert_eq!(e.line, 5, "{e}");

    let e = error(&format!("{head}weather loss\ncrash n0\n"));
    assert_eq!(e.line, 5, "{e}");
    assert!(e.message.contains("`crash` fault"), "{e}");

    let e = error(&format!("{head}weather hail\n"));
    assert!(e.message.contains("unknown fault kind `hail`"), "{e}");
}

#[test]
fn garbage_text_is_an_error_not_a_panic() {
    let mut rng = 0x1234_5678_9abc_def0u64;
    let alphabet: Vec<char> =
        "system nodes seed weather wait crash n0 n1 c0 write read 5 % ms s \n#\t\u{e9}\u{1F300}"
            .chars()
            .collect();
    for _ in 0..2000 {
        let len = (rng % 80) as usize;
        let text: String = (0..len)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                alphabet[(rng % alphabet.len() as u64) as usize]
            })
            .collect();
        let _ = parse(&text);
        let _ = parse(&format!("system register\nnodes 3\nseed 1\n{text}"));
    }
}

#[test]
fn random_bytes_make_varied_scenarios_that_round_trip() {
    let (mut with_faults, mut with_ops, mut with_waits, mut aimed_at_leader) = (0, 0, 0, 0);
    let mut crash_points = 0;
    let mut sizes = std::collections::BTreeSet::new();
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 0..500u64 {
        let bytes = squall::scenario::generate::seed_bytes(seed);
        let mut u = arbitrary::Unstructured::new(&bytes);
        let s: Scenario<RegOp> =
            Scenario::generate_with("register", &points(), &mut u, |_, _| {}).expect("generates");
        s.validate().expect("generated scenarios are valid");
        assert_eq!(parse(&s.to_text()).expect("reparses"), s);
        crash_points += s
            .steps
            .iter()
            .filter(|st| matches!(st, Step::Fault(Fault::CrashAt { .. })))
            .count();
        sizes.insert(s.nodes);
        let faults: Vec<&Fault> = s
            .steps
            .iter()
            .filter_map(|st| {
                if let Step::Fault(f) = st {
                    Some(f)
                } else {
                    None
                }
            })
            .collect();
        for f in &faults {
            if let Some(k) = f.kind() {
                assert!(
                    s.weather.allows(k),
                    "fault {f} outside weather {}",
                    s.weather
                );
                kinds.insert(k);
            }
        }
        aimed_at_leader += faults
            .iter()
            .filter(|f| {
                matches!(
                    f,
                    Fault::IsolateLeader | Fault::SplitLeader(_) | Fault::CrashLeader { .. }
                )
            })
            .count();
        with_faults += usize::from(!faults.is_empty());
        with_ops += usize::from(s.op_count() >= 3);
        with_waits += usize::from(s.duration_ms() >= 300);
    }
    assert_eq!(sizes.into_iter().collect::<Vec<_>>(), vec![3, 4, 5, 6, 7]);
    assert_eq!(kinds.len(), FaultKind::ALL.len());
    assert!(with_faults > 400, "{with_faults}/500 have faults");
    assert!(
        aimed_at_leader > 100,
        "{aimed_at_leader} faults aimed at the leader"
    );
    assert!(with_ops > 450, "{with_ops}/500 have 3+ ops");
    assert!(crash_points > 50, "{crash_points} crashes at a point");
    assert!(with_waits > 450, "{with_waits}/500 run 300ms+");
}

#[test]
fn empty_or_short_input_still_decodes() {
    for bytes in [&[][..], &[0u8; 3][..], &[255u8; 7][..]] {
        let mut u = arbitrary::Unstructured::new(bytes);
        let s: Scenario<RegOp> =
            Scenario::generate("register", &mut u, |_, _| {}).expect("generates");
        s.validate().expect("valid");
    }
}

/// The bytes `RegOp`'s derived `Arbitrary` decodes: a u32 variant selector, then the value.
#[test]
fn generated_scenarios_encode_back_to_the_bytes_that_make_them() {
    for seed in 0..500u64 {
        let bytes = squall::scenario::generate::seed_bytes(seed);
        let mut u = arbitrary::Unstructured::new(&bytes);
        let s: Scenario<RegOp> =
            Scenario::generate_with("register", &points(), &mut u, |_, _| {}).expect("generates");
        let encoded = s
            .to_bytes_with(&points(), register::op_bytes)
            .expect("encodable");
        let mut u = arbitrary::Unstructured::new(&encoded);
        let back: Scenario<RegOp> =
            Scenario::generate_with("register", &points(), &mut u, |_, _| {}).expect("generates");
        assert_eq!(back, s, "seed {seed}");
    }
}

#[test]
fn a_hand_written_scenario_encodes_to_fuzzer_input() {
    let s = parse(EVERY_STEP).expect("parses");
    let encoded = s
        .to_bytes_with(&points(), register::op_bytes)
        .expect("encodable");
    let mut u = arbitrary::Unstructured::new(&encoded);
    let back: Scenario<RegOp> =
        Scenario::generate_with("register", &points(), &mut u, |_, _| {}).expect("generates");
    // The long waits are split into 500 ms pieces; everything else survives.
    assert_eq!(back.duration_ms(), s.duration_ms());
    assert_eq!(back.seed, s.seed);
    let faults = |s: &Scenario<RegOp>| {
        s.steps
            .iter()
            .filter(|st| matches!(st, Step::Fault(_)))
            .count()
    };
    assert_eq!(faults(&back), faults(&s), "{}", back.to_text());
}

#[test]
fn forge_steps_round_trip_and_bad_ones_are_errors() {
    let text =
        "system register\nnodes 3\nseed 1\nweather forge\nforge n1\nforge n2 7\nforge n0 255\n";
    let s = parse(text).expect("parses");
    assert_eq!(s.to_text(), text);
    assert_eq!(
        s.steps,
        vec![
            Step::Fault(Fault::Forge(1, 0)),
            Step::Fault(Fault::Forge(2, 7)),
            Step::Fault(Fault::Forge(0, 255)),
        ]
    );
    assert_eq!(
        parse("system register\nnodes 3\nseed 1\nforge n1 0\n")
            .expect("parses")
            .to_text(),
        "system register\nnodes 3\nseed 1\nweather forge\nforge n1\n"
    );
    let head = "system register\nnodes 3\nseed 1\n";
    let e = error(&format!("{head}forge n3\n"));
    assert_eq!((e.line, e.column), (4, 7), "{e}");
    let e = error(&format!("{head}forge n1 256\n"));
    assert_eq!((e.line, e.column), (4, 10), "{e}");
    assert!(e.message.contains("which forgery, 0 to 255"), "{e}");
    let e = error(&format!("{head}forge n1 2 3\n"));
    assert_eq!((e.line, e.column), (4, 12), "{e}");
    let e = error(&format!("{head}forge\n"));
    assert!(e.message.contains("missing node"), "{e}");
    let e = error(&format!("{head}weather garbage\nforge n0\n"));
    assert!(e.message.contains("`forge` fault"), "{e}");
}

#[test]
fn forgeries_are_generated_only_for_systems_that_take_them_and_encode_back() {
    let with_forge = squall::scenario::Weather::universal().with(FaultKind::Forge);
    let mut forging = 0;
    for seed in 0..500u64 {
        let bytes = squall::scenario::generate::seed_bytes(seed);
        let generate = |bytes: &[u8], supported| {
            let mut u = arbitrary::Unstructured::new(bytes);
            Scenario::<RegOp>::generate_with(
                "register",
                &Offer {
                    kinds: supported,
                    points: Vec::new(),
                    clock: Default::default(),
                },
                &mut u,
                |_, _| {},
            )
            .expect("generates")
        };
        let plain = generate(&bytes, squall::scenario::Weather::universal());
        let s = generate(&bytes, with_forge);
        // Without forgeries in its weather, a scenario decodes as it always did.
        if !s.weather.allows(FaultKind::Forge) {
            assert_eq!(s, plain, "seed {seed}");
            continue;
        }
        forging += 1;
        assert!(!plain.weather.allows(FaultKind::Forge));
        let encoded = s.to_bytes(register::op_bytes).expect("encodable");
        assert_eq!(generate(&encoded, with_forge), s, "seed {seed}");
    }
    // One bit of the weather: about half.
    assert!(
        (175..325).contains(&forging),
        "{forging} of 500 scenarios forge"
    );
}
