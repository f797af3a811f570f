#![allow(dead_code)] // each test binary uses part of it

//! Which openraft release this build of the adapter is pinned to, read from the manifest that
//! built the test (`targets/openraft/Cargo.toml` for the current pin,
//! `targets/openraft/releases/<version>/Cargo.toml` for an older one) and its lockfile.

use std::path::{Path, PathBuf};

/// The directory of the manifest that built this test.
pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The adapter crate's own directory (`targets/openraft`), wherever the manifest is.
pub fn adapter_dir() -> PathBuf {
    let dir = manifest_dir();
    if dir.join("src/compat.rs").exists() {
        dir.to_path_buf()
    } else {
        dir.join("../..")
    }
}

/// The text of the manifest that built this test.
pub fn manifest() -> String {
    let path = manifest_dir().join("Cargo.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lockfile that pins this build: the nearest `Cargo.lock` above the manifest.
pub fn lockfile() -> (PathBuf, String) {
    let path = manifest_dir()
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.exists())
        .expect("a Cargo.lock above the manifest");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, text)
}

/// The exact version `krate` is pinned to in a manifest's dependency line
/// (`krate = { version = "=X", ... }`), or `None` if it has no such line or the
/// requirement is not exact.
pub fn pinned(manifest: &str, krate: &str) -> Option<String> {
    manifest
        .lines()
        .map(str::trim)
        .filter(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == krate))
        .find_map(|l| {
            let (_, rest) = l.split_once("version = \"=")?;
            rest.split_once('"').map(|(v, _)| v.to_string())
        })
}

/// `(name, version)` of every package in a lockfile whose name starts with `prefix`.
pub fn locked(lock: &str, prefix: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut name: Option<&str> = None;
    for line in lock.lines() {
        if line == "[[package]]" {
            name = None;
        } else if let Some(n) = line.strip_prefix("name = \"") {
            name = n.strip_suffix('"');
        } else if let Some(v) = line.strip_prefix("version = \"") {
            if let (Some(n), Some(v)) = (name, v.strip_suffix('"')) {
                if n.starts_with(prefix) {
                    found.push((n.to_string(), v.to_string()));
                }
            }
        }
    }
    found
}

/// The openraft release this build is pinned to.
pub fn release() -> String {
    pinned(&manifest(), "openraft").expect("the manifest pins openraft exactly (`=`)")
}

/// The binary this manifest builds (its first `[[bin]]`, else the package's name), next to
/// the test executable's `deps/` directory.
pub fn binary() -> PathBuf {
    let manifest = manifest();
    let name = manifest
        .split("[[bin]]")
        .nth(1)
        .or_else(|| manifest.split("[package]").nth(1))
        .and_then(|section| {
            section.lines().find_map(|l| {
                let (_, v) = l.trim().strip_prefix("name")?.split_once('"')?;
                v.split_once('"').map(|(n, _)| n.to_string())
            })
        })
        .expect("the manifest names its binary");
    let exe = std::env::current_exe().expect("the test knows where it runs");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Runs this build's binary with `args` in a fresh process: its exit code and stdout.
pub fn fresh_process(args: &[&str]) -> (Option<i32>, String) {
    let bin = binary();
    let out = std::process::Command::new(&bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (build it first: cargo build --release)",
                bin.display()
            )
        });
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// What `replay FILE` in a fresh process ends with: `pass`, or the kind and property it
/// broke (`liveness: progress under faults`).
pub fn replay_verdict(file: &Path) -> String {
    let path = file.to_str().expect("corpus paths are UTF-8");
    let (code, out) = fresh_process(&["replay", path]);
    let broken = out.lines().find_map(|l| {
        let l = l.strip_prefix("  ")?;
        let (kind, rest) = l.split_once(" violation: ")?;
        let property = rest
            .split_once(" at step")
            .or_else(|| rest.split_once(" after the last step"))?
            .0;
        Some(format!("{kind}: {property}"))
    });
    match (code, broken) {
        (Some(0), None) => "pass".to_string(),
        (Some(1), Some(broken)) => broken,
        (code, _) => panic!("{}: replay exited {code:?}:\n{out}", file.display()),
    }
}
