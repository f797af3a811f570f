//! The adapter on the openraft release this build pins: the shared corpus (`corpus/*.scn`,
//! written against the current pin) passes, and every directed scenario in
//! `corpus/<release>/` ends as its `# expect:` line says — the kind and property it breaks on
//! that release (`# expect: liveness: progress under faults`), or `pass`.
//!
//! Each scenario is replayed by this build's binary in a fresh process, as a user replays a
//! finding: releases up to alpha.36 pick `select!` branches with a thread-local PRNG, so in
//! one process a scenario's outcome can depend on what ran before it on that thread.

mod support;

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

#[test]
fn the_shared_corpus_passes_on_this_release() {
    let files = scenarios(&support::adapter_dir().join("corpus"));
    assert!(!files.is_empty(), "no shared corpus");
    for file in files {
        assert_eq!(
            support::replay_verdict(&file),
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
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let expected = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect:"))
            .map(str::trim)
            .unwrap_or_else(|| panic!("{}: no `# expect:` line", file.display()));
        assert_eq!(
            support::replay_verdict(&file),
            expected,
            "{} on openraft {release}",
            file.display()
        );
    }
}

#[test]
fn a_generated_scenario_replays_byte_for_byte_in_fresh_processes() {
    // One seed per cluster size 3..=7 (seeds 0..=9 cover them with the current generator).
    let mut sizes = std::collections::BTreeSet::new();
    for seed in 0..40u64 {
        let seed = seed.to_string();
        let (_, first) = support::fresh_process(&["run", "openraft", "--seed", &seed, "--trace"]);
        let nodes = first
            .lines()
            .find_map(|l| {
                l.split_once(" nodes=")?
                    .1
                    .split(' ')
                    .next()?
                    .parse::<u8>()
                    .ok()
            })
            .unwrap_or_else(|| panic!("seed {seed}: no verdict line:\n{first}"));
        if !sizes.insert(nodes) {
            continue;
        }
        let (_, second) = support::fresh_process(&["run", "openraft", "--seed", &seed, "--trace"]);
        assert!(
            first.lines().count() > 20,
            "seed {seed}: short trace:\n{first}"
        );
        assert_eq!(first, second, "seed {seed} ({nodes} nodes): traces differ");
        if sizes.len() == 5 {
            return;
        }
    }
    panic!("seeds 0..40 cover only cluster sizes {sizes:?}");
}
