//! The HTML report (`--html`): every corpus mutant's report names its failing property in
//! the banner at the top; a report is byte-identical across runs; recording leaves the run
//! as it was; bad output paths are clear errors; `squall check --html` draws external
//! histories; and — in a real headless Chromium — the reports of a passing and a failing
//! scenario have their lanes, arrows, banner and highlighted violation, with no JavaScript
//! error.
//!
//! The browser test needs `chromium` (or `chromium-browser`, `google-chrome`). Without one it
//! says so loudly and passes — except under `CI=1` or `SQUALL_REQUIRE_BROWSER=1`, where it
//! fails, so that CI cannot skip it silently (`.ci/run` installs Chromium).

use squall::scenario::Scenario;
use squall::sim::runner::{run, RunConfig};
use squall::systems::raft::RaftKv;
use squall::workload::kv::KvOp;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/cli.rs"]
mod cli_support;
use cli_support::{squall, text};

/// A fresh directory for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("html-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn corpus(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(rel)
        .display()
        .to_string()
}

const FAILING: &str = "raft/mutants/commit-previous-term.scn";
const PASSING: &str = "raft/leader-cut-off-while-clients-write.scn";

/// Replays a corpus file (with the mutant its name names, if under `mutants/`) and writes
/// its report to `out`; returns the JSON verdict.
fn report_of(rel: &str, out: &Path) -> serde_json::Value {
    let file = corpus(rel);
    let mut args = vec!["replay", &file, "--json", "--html"];
    let out_s = out.display().to_string();
    args.push(&out_s);
    let mutant = Path::new(rel)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if rel.contains("/mutants/") {
        args.extend(["--mutant", mutant.as_str()]);
    }
    let result = squall(&args);
    assert!(
        matches!(result.status.code(), Some(0 | 1)),
        "{rel}: {}",
        text(&result)
    );
    serde_json::from_slice(&result.stdout).expect("a JSON verdict")
}

/// `text` as HTML escapes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// HTML text as it reads (a browser serializes attributes with fewer escapes than squall
/// writes).
fn unescaped(text: &str) -> String {
    text.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The banner is the first thing in the page's body, and names the failing property.
fn assert_banner_names(html: &str, property: &str, what: &str) {
    let body = html.split("<body>\n").nth(1).expect("a body");
    assert!(
        body.starts_with("<div id=\"banner\" class=\"banner fail\""),
        "{what}: the banner does not open the page"
    );
    let banner = body.split("</div>").take(3).collect::<String>();
    assert!(
        banner.contains(&format!("data-property=\"{}\"", escaped(property)))
            && banner.contains(&format!(
                "<span id=\"failing-property\" class=\"property\">{}</span>",
                escaped(property)
            )),
        "{what}: the banner does not name `{property}`:\n{banner}"
    );
}

/// Every corpus mutant scenario, as `SYSTEM/mutants/NAME.scn`.
fn mutant_files() -> Vec<String> {
    let mut all = Vec::new();
    for system in ["raft", "twopc", "saga"] {
        let mut names: Vec<String> = std::fs::read_dir(corpus(&format!("{system}/mutants")))
            .expect("a mutants folder")
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| n.ends_with(".scn"))
            .collect();
        names.sort();
        all.extend(names.into_iter().map(|n| format!("{system}/mutants/{n}")));
    }
    all
}

#[test]
fn every_corpus_mutant_report_names_the_failing_property_in_its_banner() {
    let dir = scratch("mutants");
    let mut checked = 0;
    for rel in mutant_files() {
        let out = dir.join(format!("{}.html", rel.replace('/', "-")));
        let verdict = report_of(&rel, &out);
        assert_eq!(verdict["verdict"], "fail", "{rel}: {verdict}");
        let property = verdict["failure"]["property"].as_str().expect("property");
        let html = std::fs::read_to_string(&out).expect("the report is written");
        assert_banner_names(&html, property, &rel);
        assert!(html.len() < 5 << 20, "{rel}: {} bytes", html.len());
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} mutant scenarios");
}

#[test]
fn the_report_of_a_scenario_is_byte_identical_across_runs() {
    let dir = scratch("determinism");
    for (i, rel) in [FAILING, PASSING].iter().enumerate() {
        let (a, b) = (
            dir.join(format!("{i}-a.html")),
            dir.join(format!("{i}-b.html")),
        );
        report_of(rel, &a);
        report_of(rel, &b);
        let (a, b) = (
            std::fs::read(&a).expect("first"),
            std::fs::read(&b).expect("second"),
        );
        assert!(a == b, "{rel}: two reports differ");
    }
}

#[test]
fn recording_a_report_leaves_the_run_as_it_was() {
    for rel in [FAILING, PASSING] {
        let text = std::fs::read_to_string(corpus(rel)).expect("corpus file");
        let scenario: Scenario<KvOp> = Scenario::from_text(&text).expect("parses");
        let mutant = rel
            .contains("/mutants/")
            .then(|| Path::new(rel).file_stem().and_then(|s| s.to_str()))
            .flatten();
        let system = RaftKv::named(&scenario.system, mutant).expect("system");
        let traced = RunConfig {
            trace: true,
            ..RunConfig::default()
        };
        let recorded = RunConfig {
            record: true,
            ..traced.clone()
        };
        let plain = run(&system, &scenario, &traced).expect("runs");
        let with = run(&system, &scenario, &recorded).expect("runs");
        assert_eq!(plain.trace, with.trace, "{rel}: recording changed the run");
        assert_eq!(plain.outcome, with.outcome, "{rel}");
        assert!(plain.recording.is_none());
        let rec = with.recording.expect("a recording");
        assert!(!rec.frames.is_empty() && !rec.states.is_empty(), "{rel}");
        // Every delivered frame was delivered after it was sent, to a lane that exists.
        for f in &rec.frames {
            assert!(f.delivered.iter().all(|d| *d >= f.sent), "{f:?}");
            assert!(usize::from(f.to) < rec.lanes.len(), "{f:?}");
        }
        assert!(rec.frames.iter().any(|f| !f.delivered.is_empty()), "{rel}");
    }
}

#[test]
fn html_to_an_unwritable_or_existing_path_is_a_clear_error() {
    let dir = scratch("unwritable");
    let missing = dir.join("no-such-dir").join("r.html");
    let existing = dir.join("exists.html");
    std::fs::write(&existing, "mine").expect("write");
    let failing = corpus(FAILING);
    for out in [&missing, &existing] {
        let out_s = out.display().to_string();
        for args in [
            vec!["replay", &failing, "--html", &out_s],
            vec!["run", "raft", "--seed", "1", "--html", &out_s],
        ] {
            let result = squall(&args);
            let t = text(&result);
            assert_eq!(result.status.code(), Some(2), "{args:?}: {t}");
            assert!(t.contains(&format!("creating {out_s}")), "{t}");
            assert!(!t.contains("panicked"), "{t}");
        }
    }
    assert_eq!(std::fs::read_to_string(&existing).expect("kept"), "mine");
}

#[test]
fn check_html_draws_porcupine_and_squall_histories() {
    let dir = scratch("check");
    let bad = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/porcupine-data/kv/c10-bad.txt"
    );
    let page = dir.join("c10-bad.html");
    let out = squall(&[
        "check",
        bad,
        "--format",
        "porcupine-kv",
        "--html",
        page.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let html = std::fs::read_to_string(&page).expect("written");
    assert_banner_names(&html, "linearizability", "c10-bad");
    assert!(
        html.contains("\"explained\":{\"model\":\"kv\""),
        "no explanation"
    );
    // squall's own format, from a run.
    let history = dir.join("h.jsonl");
    let out = squall(&[
        "run",
        "raft",
        "--seed",
        "3",
        "--history",
        history.to_str().expect("utf-8"),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let page = dir.join("h.html");
    let out = squall(&[
        "check",
        history.to_str().expect("utf-8"),
        "--html",
        page.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let html = std::fs::read_to_string(&page).expect("written");
    assert!(html.contains("<div id=\"banner\" class=\"banner pass\""));
    // A replicated-store model is not drawn: a usage error, not a silent no-op.
    let out = squall(&[
        "check",
        history.to_str().expect("utf-8"),
        "--model",
        "session",
        "--html",
        dir.join("s.html").to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn shrink_html_reports_the_shrunk_scenario() {
    let dir = scratch("shrink");
    let file = dir.join("local-reads.scn");
    std::fs::copy(corpus("raft/mutants/local-reads.scn"), &file).expect("copy");
    let page = dir.join("shrunk.html");
    let out = squall(&[
        "shrink",
        file.to_str().expect("utf-8"),
        "--mutant",
        "local-reads",
        "--html",
        page.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let html = std::fs::read_to_string(&page).expect("the report is written");
    assert_banner_names(&html, "linearizability", "the shrunk local-reads");
    let shrunk = std::fs::read_to_string(dir.join("local-reads.min.scn")).expect("shrunk");
    let last = shrunk.lines().last().expect("a step");
    assert!(
        html.contains(&escaped(last)),
        "the report is not of the shrunk scenario"
    );
}

/// A 60-second simulated run of five nodes with clients and faults throughout.
fn long_scenario() -> String {
    let mut s = String::from("system raft\nnodes 5\nseed 60\nweather partition loss\n");
    for i in 0..60 {
        s.push_str(&format!("c0 put k{} {i}\nc1 get k{}\n", i % 3, i % 3));
        match i % 10 {
            3 => s.push_str("isolate leader\n"),
            6 => s.push_str("loss 10%\n"),
            8 => s.push_str("heal all\nloss 0%\n"),
            _ => {}
        }
        s.push_str("wait 1s\n");
    }
    s
}

#[test]
fn the_report_of_a_60_second_run_stays_under_5_mb() {
    let dir = scratch("long");
    let scn = dir.join("long.scn");
    std::fs::write(&scn, long_scenario()).expect("write");
    let page = dir.join("long.html");
    let out = squall(&[
        "replay",
        scn.to_str().expect("utf-8"),
        "--html",
        page.to_str().expect("utf-8"),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let size = std::fs::metadata(&page).expect("written").len();
    assert!(size < 5 << 20, "{size} bytes");
}

/// The Chromium on this machine, if any.
fn chromium() -> Option<PathBuf> {
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| {
        let out = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .ok()?;
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
    })
}

fn required() -> bool {
    ["CI", "SQUALL_REQUIRE_BROWSER"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|x| !x.is_empty() && x != "0" && x != "false"))
}

/// Runs headless Chromium on `page`: the DOM after the script ran, and the browser's log.
fn browse(browser: &Path, page: &Path, extra: &[&str], profile: &Path) -> (String, String) {
    // Bounded: a browser that hangs fails the test rather than the whole run.
    let out = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,1000",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The DOM without the contents of its `<script>` elements (the page's own source
/// mentions the elements it draws).
fn without_scripts(dom: &str) -> String {
    let mut out = String::new();
    let mut rest = dom;
    while let Some(start) = rest.find("<script") {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find("</script>") {
            Some(end) => &rest[start + end + "</script>".len()..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// The value of attribute `name` on the first element whose tag starts with `open`.
fn attr(dom: &str, open: &str, name: &str) -> Option<String> {
    let start = dom.find(open)?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(tag[at..at + tag[at..].find('"')?].to_string())
}

/// Chromium, or `None` after saying loudly that there is none (a failure where CI requires
/// it).
fn browser_or_say_so() -> Option<PathBuf> {
    let browser = chromium();
    if browser.is_none() {
        let msg = "NO BROWSER: chromium (or chromium-browser, google-chrome) is not installed, \
                   so the HTML reports were NOT checked in a browser; `.ci/run` installs it \
                   (apt-get install chromium)";
        assert!(
            !required(),
            "{msg} — and CI=1 or SQUALL_REQUIRE_BROWSER=1 requires it"
        );
        eprintln!("\n********\n{msg}\n********\n");
    }
    browser
}

/// Opens `page` in the browser and checks what every report must show: the script ran to
/// its end without error, the banner sits at the top of the window, and for a failure
/// (`property`) the banner names it and the step where it broke is highlighted within the
/// first screen. Returns the DOM without its scripts.
fn check_page(browser: &Path, page: &Path, profile: &Path, property: Option<&str>) -> String {
    let (dom, log) = browse(browser, page, &["--dump-dom"], profile);
    let dom = without_scripts(&dom);
    let what = format!("{} in {}", page.display(), browser.display());
    assert_eq!(
        attr(&dom, "<body", "data-ready").as_deref(),
        Some("1"),
        "{what}: the script did not finish\n{log}"
    );
    assert_eq!(attr(&dom, "<body", "data-js-errors"), None, "{what}: {dom}");
    assert!(dom.contains("<div id=\"js-errors\"></div>"), "{what}");
    assert!(!log.contains("Uncaught"), "{what}: {log}");
    assert_eq!(
        attr(&dom, "<div id=\"banner\"", "data-top").as_deref(),
        Some("0"),
        "{what}"
    );
    assert_eq!(
        attr(&dom, "<div id=\"banner\"", "data-visible").as_deref(),
        Some("true"),
        "{what}"
    );
    match property {
        Some(property) => {
            assert_eq!(
                attr(&dom, "<div id=\"banner\"", "data-property").map(|p| unescaped(&p)),
                Some(property.to_string()),
                "{what}"
            );
            assert!(
                dom.contains("id=\"violation-step\""),
                "{what}: no highlighted step"
            );
            assert_eq!(
                attr(&dom, "<body", "data-violation-visible").as_deref(),
                Some("true"),
                "{what}: the moment it broke is not in the first screen"
            );
        }
        None => {
            assert_eq!(
                attr(&dom, "<div id=\"banner\"", "data-verdict").as_deref(),
                Some("pass"),
                "{what}"
            );
            assert!(!dom.contains("id=\"violation-step\""), "{what}");
        }
    }
    dom
}

#[test]
fn reports_open_in_a_real_browser_with_lanes_arrows_and_the_violation() {
    let Some(browser) = browser_or_say_so() else {
        return;
    };
    let dir = scratch("browser");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    for (name, rel) in [("failing", FAILING), ("passing", PASSING)] {
        let page = dir.join(format!("{name}.html"));
        let verdict = report_of(rel, &page);
        let nodes = verdict["nodes"].as_u64().expect("nodes");
        let profile = dir.join(format!("profile-{name}"));
        let property = verdict["failure"]["property"].as_str();
        let dom = check_page(&browser, &page, &profile, property);
        let what = format!("{rel} in {}", browser.display());
        for n in 0..nodes {
            assert!(
                dom.contains(&format!("class=\"lane lane-node\" data-lane=\"n{n}\"")),
                "{what}: no lane for n{n}"
            );
        }
        assert!(dom.contains("data-lane=\"c0\""), "{what}: no client lane");
        let arrows: u64 = attr(&dom, "<svg id=\"svg\"", "data-arrows")
            .and_then(|a| a.parse().ok())
            .unwrap_or(0);
        assert!(arrows > 10, "{what}: {arrows} arrows");
        assert!(
            dom.contains("<line class=\"msg\""),
            "{what}: no message arrow"
        );
        assert!(
            dom.contains("class=\"state leader\""),
            "{what}: no leader drawn"
        );
        assert!(
            dom.contains("class=\"op ok\""),
            "{what}: no client operation"
        );
        if property.is_some() {
            assert!(
                dom.contains("id=\"violation-line\""),
                "{what}: no violation line"
            );
        }
        let shot = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        let arg = format!("--screenshot={}", shot.display());
        let (_, log) = browse(&browser, &page, &[&arg], &profile);
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{what}: no screenshot ({size} bytes)\n{log}");
        eprintln!("screenshot of {rel}: {}", shot.display());
    }
}

#[test]
fn every_corpus_mutant_report_shows_where_it_broke_in_the_first_screen_of_a_browser() {
    let Some(browser) = browser_or_say_so() else {
        return;
    };
    let dir = scratch("browser-mutants");
    let profile = dir.join("profile");
    let mut checked = 0;
    for rel in mutant_files() {
        let page = dir.join(format!("{}.html", rel.replace('/', "-")));
        let verdict = report_of(&rel, &page);
        let property = verdict["failure"]["property"].as_str().expect("a failure");
        check_page(&browser, &page, &profile, Some(property));
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} mutant scenarios");
}
