//! The adapter on the openraft release this build pins: the shared corpus (`corpus/*.scn`,
//! written against the current pin) passes, and every directed scenario in
//! `corpus/<release>/` ends as its `# expect:` line says — the kind and property it breaks on
//! that release (`# expect: liveness: progress under faults`), or `pass`. Scenarios land in
//! `corpus/<release>/` only once they replay deterministically in a fresh process.

mod support;

use squall::scenario::Scenario;
use squall::sim::runner::{run, RunConfig};
use squall_openraft::OpenRaft;
use std::path::{Path, PathBuf};

fn scenarios(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> (String, Scenario<squall_openraft::KvOp>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let scenario = Scenario::from_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (text, scenario)
}

/// The kind and property of what a run breaks (`liveness: progress under faults`), or `pass`.
fn verdict(scenario: &Scenario<squall_openraft::KvOp>) -> String {
    let report = run(&OpenRaft::default(), scenario, &RunConfig::default())
        .expect("corpus scenario is valid");
    report.failure().map_or_else(
        || "pass".to_string(),
        |f| format!("{}: {}", f.kind, f.property),
    )
}

#[test]
fn the_shared_corpus_passes_on_this_release() {
    let files = scenarios(&support::adapter_dir().join("corpus"));
    assert!(!files.is_empty(), "no shared corpus");
    for file in files {
        let (_, scenario) = read(&file);
        assert_eq!(
            verdict(&scenario),
            "pass",
            "{} on openraft {}",
            file.display(),
            support::release()
        );
    }
}

#[test]
fn this_releases_scenarios_end_as_they_say() {
    let release = support::release();
    let dir = support::adapter_dir().join("corpus").join(&release);
    if !dir.exists() {
        // Only releases with a finding have scenarios of their own.
        return;
    }
    let files = scenarios(&dir);
    assert!(!files.is_empty(), "{} is empty", dir.display());
    for file in files {
        let (text, scenario) = read(&file);
        let expected = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect:"))
            .map(str::trim)
            .unwrap_or_else(|| panic!("{}: no `# expect:` line", file.display()));
        assert_eq!(
            verdict(&scenario),
            expected,
            "{} on openraft {release}",
            file.display()
        );
    }
}
