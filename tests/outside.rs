//! squall as an outside user meets it: a crate outside squall's workspace
//! (tests/fixtures/outside) depends on squall by path and, from an ordinary #[test], catches
//! the planted stale read of the example register system; the replay command it prints
//! reproduces the failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn cargo_test(args: &[&str], regressions: &Path, replay: Option<&str>) -> Output {
    let fixture = root().join("tests/fixtures/outside");
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .arg("test")
        .args(args)
        .current_dir(&fixture)
        // Its own target directory: the outer cargo holds the workspace's.
        .env("CARGO_TARGET_DIR", root().join("target/outside"))
        .env("OUTSIDE_REGRESSIONS", regressions)
        .env_remove("SQUALL_SEED")
        .env_remove("SQUALL_SCENARIOS");
    match replay {
        Some(file) => command.env("SQUALL_REPLAY", file),
        None => command.env_remove("SQUALL_REPLAY"),
    };
    command.output().expect("cargo runs")
}

#[test]
fn an_outside_crate_catches_the_stale_read_and_prints_a_replay_command_that_reproduces_it() {
    let fixture = root().join("tests/fixtures/outside");
    // The same dependency versions as squall's own build.
    std::fs::copy(root().join("Cargo.lock"), fixture.join("Cargo.lock")).expect("copies the lock");
    let regressions: PathBuf = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("squall-outside-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&regressions);

    let caught = cargo_test(
        &[
            "--release",
            "--test",
            "stale_read",
            "--",
            "--exact",
            "the_stale_read_is_caught",
        ],
        &regressions,
        None,
    );
    let output = text(&caught);
    assert!(!caught.status.success(), "{output}");
    assert!(output.contains("linearizability"), "{output}");
    let replay = output
        .lines()
        .find_map(|l| l.strip_prefix("--- replay: "))
        .unwrap_or_else(|| panic!("no replay command printed:\n{output}"));
    // `SQUALL_REPLAY=FILE cargo test --release --manifest-path M TEST -- --exact`
    let (assignment, command) = replay
        .split_once(' ')
        .expect("an assignment, then a command");
    let file = assignment
        .strip_prefix("SQUALL_REPLAY=")
        .expect("the replay names its file");
    assert!(Path::new(file).exists(), "{file}");
    assert!(
        file.starts_with(regressions.to_str().expect("utf-8")),
        "{file}"
    );
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(&args[..2], ["cargo", "test"], "{replay}");

    let replayed = cargo_test(&args[2..], &regressions, Some(file));
    let output = text(&replayed);
    assert!(!replayed.status.success(), "the replay passed:\n{output}");
    assert!(
        output.contains("replayed: consistency violation: linearizability"),
        "{output}"
    );

    let correct = cargo_test(
        &[
            "--release",
            "--test",
            "stale_read",
            "--",
            "--exact",
            "the_correct_register_passes",
        ],
        &regressions,
        None,
    );
    assert!(correct.status.success(), "{}", text(&correct));
    let _ = std::fs::remove_dir_all(&regressions);
    let _ = std::fs::remove_dir_all(format!("{}-correct", regressions.display()));
}
