//! Replays every directed scenario in `corpus/` and pins its outcome and trace with an
//! `insta` snapshot. A changed outcome (a new violation, or a different path through the
//! simulation after an openraft upgrade) shows up as a snapshot diff to review.

use squall::scenario::Scenario;
use squall::sim::runner::{run, RunConfig};
use squall_openraft::OpenRaft;
use std::path::Path;

fn outcome(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("corpus file is readable");
    let scenario = Scenario::from_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let config = RunConfig {
        trace: true,
        ..RunConfig::default()
    };
    let report = run(&OpenRaft::default(), &scenario, &config).expect("corpus scenario is valid");
    let verdict = match report.failure() {
        None => "PASS".to_string(),
        Some(f) => format!("FAIL {f}"),
    };
    format!(
        "{verdict}\nops: {:?}\nfaults: {}\n\n{}",
        report.ops, report.effects, report.trace
    )
}

#[test]
fn corpus_outcomes_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus directory exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    for file in files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("corpus file names are UTF-8")
            .to_string();
        insta::assert_snapshot!(name, outcome(&file));
    }
}
