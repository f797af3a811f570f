//! The layout's rules, checked: no library module imports the command line, and the folders
//! of `src/` import each other in one direction only (no cycle). Comments and test code are
//! not imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("reads src")
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file that is not a comment and not test code.
fn code(path: &Path) -> String {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    let text = std::fs::read_to_string(path).expect("reads a source file");
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `crate::NAME` references in a file's code.
fn references(code: &str) -> BTreeSet<String> {
    code.match_indices("crate::")
        .map(|(i, m)| {
            code[i + m.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

fn sources() -> Vec<(String, BTreeSet<String>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .map(|f| {
            let module = f
                .strip_prefix(&src)
                .expect("under src")
                .components()
                .next()
                .map(|c| {
                    c.as_os_str()
                        .to_string_lossy()
                        .trim_end_matches(".rs")
                        .to_string()
                })
                .expect("a module");
            (module, references(&code(&f)))
        })
        .collect()
}

#[test]
fn no_library_module_imports_the_command_line() {
    let offenders: Vec<String> = sources()
        .into_iter()
        // The crate root declares the CLI and its `main!` macro expands to a call of it.
        .filter(|(module, refs)| {
            !["cli", "main", "lib"].contains(&module.as_str()) && refs.contains("cli")
        })
        .map(|(module, _)| module)
        .collect();
    assert!(
        offenders.is_empty(),
        "modules importing crate::cli: {offenders:?}"
    );
}

#[test]
fn the_folders_of_src_import_each_other_without_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let folders: BTreeSet<String> = std::fs::read_dir(&src)
        .expect("reads src")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, refs) in sources() {
        if !folders.contains(&module) {
            continue;
        }
        for r in refs {
            if folders.contains(&r) && r != module {
                edges.entry(module.clone()).or_default().insert(r);
            }
        }
    }
    // Depth-first search for a back edge.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for folder in &folders {
        if let Some(cycle) = visit(folder, &edges, &mut Vec::new(), &mut done) {
            panic!(
                "import cycle between folders of src/: {}\nedges: {edges:#?}",
                cycle.join(" -> ")
            );
        }
    }
    // The rule has teeth: the simulator does import the systems' contract.
    assert!(
        edges.get("sim").is_some_and(|e| e.contains("systems")),
        "{edges:#?}"
    );
}
