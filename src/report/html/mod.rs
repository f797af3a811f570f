//! The self-contained HTML report: one file, inline CSS and JavaScript, no network, no
//! build step. The page's script (`report.js`) draws the timeline from the run's data,
//! embedded as JSON: a lane per node and per client, every frame as an arrow in time (a
//! Lamport diagram), node states (who led when), the faults as shaded spans, each client
//! operation as a bar with its result, the step where a property broke highlighted and, for
//! linearizability, the longest linearizable prefix and the operations that cannot follow it.
//! The banner at the top (the verdict, the failing property and its explanation) is written
//! here, so it reads the same without the script.
//!
//! Pages are functions of their data: the same run gives the same bytes (no generation
//! time, no hashed-collection order).
//!
//! Three pages: [`run_page`] (`run`, `replay`, `shrink --html`, and each chaos finding),
//! [`history_page`] (`squall check --html` on a history file) and [`chaos_page`] (the
//! summary of a chaos campaign, `OUT/summary.html`).

use super::{Explained, Recording, Report};
use crate::history::{EventType, Function, History, Value};
use crate::scenario::FaultKind;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// What a run's page shows besides the [`Report`].
#[derive(Clone, Debug)]
pub struct RunPage<'a> {
    /// The system's name.
    pub system: &'a str,
    /// The planted bug the system ran with.
    pub mutant: Option<&'a str>,
    /// The scenario's seed and cluster size.
    pub seed: u64,
    /// Nodes in the cluster.
    pub nodes: u8,
    /// The scenario's text form.
    pub scenario: &'a str,
    /// Where it came from (a file, a seed), for the title.
    pub source: &'a str,
    /// The command that replays it.
    pub replay: &'a str,
}

/// One client operation as the page draws it.
#[derive(Serialize)]
struct OpBar {
    /// Lane (client index, or process for external histories).
    lane: u64,
    process: u64,
    /// The key, for key-value histories: operations on other keys than a failed
    /// linearizability check's are drawn faded.
    key: Option<String>,
    text: String,
    call: u64,
    ret: Option<u64>,
    /// ok, fail, info, pending.
    result: &'static str,
    value: String,
}

#[derive(Serialize)]
struct FailureData<'a> {
    kind: String,
    property: &'a str,
    detail: &'a str,
    step: Option<usize>,
    at: u64,
}

#[derive(Serialize)]
struct RunData<'a> {
    page: &'static str,
    unit: &'static str,
    system: &'a str,
    mutant: Option<&'a str>,
    seed: u64,
    nodes: u8,
    end: u64,
    failure: Option<FailureData<'a>>,
    lanes: Vec<String>,
    /// Frames as arrays: `[from, to, sent, [delivered..], dropped, flags, kind, summary]`,
    /// `flags` bit 0 duplicated, bit 1 corrupted, bit 2 heartbeat; `kind` indexes `kinds`.
    frames: Vec<serde_json::Value>,
    kinds: Vec<String>,
    delays: Vec<(usize, u64)>,
    frames_omitted: u64,
    states: &'a [super::StateRecord],
    phases: &'a [super::PhaseRecord],
    faults: &'a [super::FaultRecord],
    steps: &'a [super::StepRecord],
    liveness_at: Option<u64>,
    ops: Vec<OpBar>,
    explained: Option<&'a Explained>,
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that can sit inside a `<script>` element.
fn script_json<T: Serialize>(data: &T) -> String {
    // Serializing plain data into a String cannot fail.
    serde_json::to_string(data)
        .unwrap_or_else(|_| "null".to_string())
        .replace("</", "<\\/")
        .replace("<!--", "<\\!--")
}

/// The words an operation is drawn with: `write k0 3`, `read k1`.
fn op_text(f: Function, key: &Option<String>, value: &Value) -> String {
    let name = match f {
        Function::Read => "read",
        Function::Write => "write",
        Function::Cas => "cas",
        Function::Append => "append",
    };
    let mut text = name.to_string();
    if let Some(k) = key {
        let _ = write!(text, " {k}");
    }
    if *value != Value::Nil {
        let _ = write!(text, " {value}");
    }
    text
}

/// A history's operations as bars: each invocation with its completion (the process's next
/// event); times divided by `scale`; the lane is the process modulo `lanes` (0: the process).
fn op_bars(history: &History, scale: u64, lanes: u64) -> Vec<OpBar> {
    let mut open: BTreeMap<u64, usize> = BTreeMap::new();
    let mut bars: Vec<OpBar> = Vec::new();
    for e in &history.events {
        match e.kind {
            EventType::Invoke => {
                open.insert(e.process, bars.len());
                bars.push(OpBar {
                    lane: if lanes == 0 {
                        e.process
                    } else {
                        e.process % lanes
                    },
                    process: e.process,
                    key: e.key.clone(),
                    text: op_text(e.f, &e.key, &e.value),
                    call: e.time / scale,
                    ret: None,
                    result: "pending",
                    value: String::new(),
                });
            }
            kind => {
                if let Some(i) = open.remove(&e.process) {
                    let bar = &mut bars[i];
                    bar.ret = Some(e.time / scale);
                    bar.result = match kind {
                        EventType::Ok => "ok",
                        EventType::Fail => "fail",
                        _ => "info",
                    };
                    if kind == EventType::Ok && e.f != Function::Write {
                        bar.value = e.value.to_string();
                    }
                }
            }
        }
    }
    bars
}

/// The banner: the verdict, and for a failure the property, where it broke and why.
fn banner(failure: Option<(String, &str, &str, String)>, pass: &str) -> String {
    banner_linked(failure, pass, true)
}

/// [`banner`], with or without the link to the moment it broke (a summary has none).
fn banner_linked(failure: Option<(String, &str, &str, String)>, pass: &str, link: bool) -> String {
    let jump = if link {
        " <a id=\"jump\" href=\"#violation\">show the moment it broke</a>"
    } else {
        ""
    };
    match failure {
        None => format!(
            "<div id=\"banner\" class=\"banner pass\" data-verdict=\"pass\"><div class=\"verdict\">PASS</div><div class=\"headline\">{}</div></div>",
            escape(pass)
        ),
        Some((kind, property, detail, at)) => format!(
            "<div id=\"banner\" class=\"banner fail\" data-verdict=\"fail\" data-property=\"{p}\"><div class=\"verdict\">FAIL</div><div class=\"headline\">{k} violation of <span id=\"failing-property\" class=\"property\">{p}</span> {at}{jump}</div><pre id=\"explanation-text\" class=\"detail\">{d}</pre></div>",
            k = escape(&kind),
            p = escape(property),
            d = escape(detail),
            at = escape(&at),
        ),
    }
}

fn page(title: &str, banner: &str, body: &str, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + CSS.len() + JS.len() + body.len() + 2048);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n{banner}\n{body}\n<div id=\"js-errors\"></div>\n<script type=\"application/json\" id=\"squall-data\">{data}</script>\n<script>\n{JS}</script>\n</body>\n</html>\n",
        escape(title)
    );
    out
}

/// The report of one run. `report.recording` should be set (run with
/// `RunConfig::record`); without it the page shows the verdict, the operations and the
/// trace, but no frames or states.
pub fn run_page(info: &RunPage<'_>, report: &Report) -> String {
    let empty = Recording::default();
    let rec = report.recording.as_ref().unwrap_or(&empty);
    let end = super::micros(report.sim_time);
    // In name order (a set), so that each kind keeps its colour from run to run.
    let kinds: Vec<String> = rec
        .frames
        .iter()
        .map(|f| f.kind.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let kind_index: BTreeMap<&str, usize> = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let frames = rec
        .frames
        .iter()
        .map(|f| {
            let flags = u8::from(f.duplicated)
                | (u8::from(f.corrupted) << 1)
                | (u8::from(f.heartbeat) << 2);
            serde_json::json!([
                f.from,
                f.to,
                f.sent,
                f.delivered,
                f.dropped,
                flags,
                kind_index.get(f.kind.as_str()).copied().unwrap_or(0),
                f.summary
            ])
        })
        .collect();
    let delays = rec
        .frames
        .iter()
        .enumerate()
        .filter(|(_, f)| f.delay_ms > 0)
        .map(|(i, f)| (i, f.delay_ms))
        .collect();
    let failure = report.failure();
    let lanes = if rec.lanes.is_empty() {
        let mut lanes: Vec<String> = (0..info.nodes).map(|x| format!("n{x}")).collect();
        lanes.extend((0..crate::history::MAX_CLIENTS).map(|c| format!("c{c}")));
        lanes.push("harness".to_string());
        lanes
    } else {
        rec.lanes.clone()
    };
    let data = RunData {
        page: "run",
        unit: "us",
        system: info.system,
        mutant: info.mutant,
        seed: info.seed,
        nodes: info.nodes,
        end,
        failure: failure.map(|f| FailureData {
            kind: f.kind.to_string(),
            property: &f.property,
            detail: &f.detail,
            step: f.step,
            at: super::micros(f.at),
        }),
        lanes,
        frames,
        kinds,
        delays,
        frames_omitted: rec.frames_omitted,
        states: &rec.states,
        phases: &rec.phases,
        faults: &rec.faults,
        steps: &rec.steps,
        liveness_at: rec.liveness_at,
        // Nanoseconds to microseconds; a client's processes share its lane.
        ops: op_bars(
            &report.history,
            1000,
            u64::from(crate::history::MAX_CLIENTS),
        ),
        explained: rec.explained.as_ref(),
    };
    let mutant = info
        .mutant
        .map(|m| format!(" with planted bug {m}"))
        .unwrap_or_default();
    let title = format!(
        "squall {} {}: {}{mutant}",
        if report.passed() { "PASS" } else { "FAIL" },
        info.system,
        info.source
    );
    let ops = report.ops;
    let pass = format!(
        "every property held: {} on {} nodes{mutant}, {} operations (ok {}, fail {}, info {}), {:.3} simulated seconds",
        info.system,
        info.nodes,
        ops.ok + ops.fail + ops.info,
        ops.ok,
        ops.fail,
        ops.info,
        report.sim_time.as_secs_f64()
    );
    let banner = banner(
        failure.map(|f| {
            let at = match f.step {
                Some(step) => format!("at step {step} ({:.3} s)", f.at.as_secs_f64()),
                None => format!("after the last step ({:.3} s)", f.at.as_secs_f64()),
            };
            (
                f.kind.to_string(),
                f.property.as_str(),
                f.detail.as_str(),
                at,
            )
        }),
        &pass,
    );
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header class=\"meta\"><span><b>{}</b>{}</span> <span>seed {} · {} nodes · {:.3} s simulated</span> <span>faults: {}</span> <span>replay: <code>{}</code></span></header>",
        escape(info.system),
        escape(&mutant),
        info.seed,
        info.nodes,
        report.sim_time.as_secs_f64(),
        escape(&report.effects.to_string()),
        escape(info.replay)
    );
    body.push_str(TIMELINE);
    let _ = write!(
        body,
        "<details id=\"scenario\" open><summary>Scenario ({})</summary><pre>{}</pre></details>\n<details id=\"trace\"><summary>Trace</summary><pre>{}</pre></details>\n",
        escape(info.source),
        escape(info.scenario),
        escape(&report.trace)
    );
    page(&title, &banner, &body, &script_json(&data))
}

/// The timeline's frame: controls, the SVG the script draws into, the tooltip and the
/// explanation panel.
const TIMELINE: &str = "<div id=\"controls\"><button id=\"fit\">fit</button> <button id=\"zoom-in\">+</button> <button id=\"zoom-out\">&minus;</button> <button id=\"to-violation\">violation</button> <label><input type=\"checkbox\" id=\"hide-heartbeats\"> hide heartbeats</label> <span id=\"kinds\"></span> <span id=\"view\"></span></div>\n<div id=\"timeline\"><svg id=\"svg\" xmlns=\"http://www.w3.org/2000/svg\"></svg></div>\n<div id=\"legend\"></div>\n<div id=\"tooltip\" hidden></div>\n<section id=\"explanation\"></section>\n<details id=\"messages\"><summary>Messages in view</summary><table><thead><tr><th>sent</th><th>from → to</th><th>message</th><th>fate</th></tr></thead><tbody></tbody></table></details>\n<noscript><p>The timeline needs JavaScript; the verdict, scenario and trace are above and below.</p></noscript>\n";

/// What `squall check --html` shows of a history file.
#[derive(Clone, Debug)]
pub struct HistoryPage<'a> {
    /// The file.
    pub file: &'a str,
    /// Its format's name.
    pub format: &'a str,
    /// The model checked against.
    pub model: &'a str,
    /// The verdict in words (`linearizable`, `not linearizable`, `unknown: ...`).
    pub verdict: &'a str,
    /// Whether the verdict is a violation.
    pub failed: bool,
    /// The explanation's text.
    pub detail: &'a str,
    /// The explanation as data.
    pub explained: Option<&'a Explained>,
}

#[derive(Serialize)]
struct HistoryData<'a> {
    page: &'static str,
    unit: &'static str,
    end: u64,
    failure: Option<FailureData<'a>>,
    lanes: Vec<String>,
    frames: Vec<serde_json::Value>,
    kinds: Vec<String>,
    ops: Vec<OpBar>,
    explained: Option<&'a Explained>,
}

/// An operation of a checked history, for [`history_page`].
#[derive(Clone, Debug)]
pub struct HistoryOp {
    /// The process.
    pub process: u64,
    /// The key, for key-value histories.
    pub key: Option<String>,
    /// The operation in words.
    pub text: String,
    /// Invocation time.
    pub call: u64,
    /// Completion time (`None`: unknown outcome).
    pub ret: Option<u64>,
    /// `ok`, `fail`, `info`.
    pub result: &'static str,
    /// What it returned.
    pub value: String,
}

/// The page of a history checked from a file: the operations as bars per process and, when
/// it is not linearizable, the explanation (Porcupine's visualization).
pub fn history_page(info: &HistoryPage<'_>, ops: &[HistoryOp]) -> String {
    let processes: BTreeSet<u64> = ops.iter().map(|o| o.process).collect();
    let lane_of: BTreeMap<u64, u64> = processes
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, i as u64))
        .collect();
    let end = ops
        .iter()
        .map(|o| o.ret.unwrap_or(o.call))
        .max()
        .unwrap_or(0);
    let end = end + end / 50 + 1;
    let bars = ops
        .iter()
        .map(|o| OpBar {
            lane: lane_of[&o.process],
            process: o.process,
            key: o.key.clone(),
            text: o.text.clone(),
            call: o.call,
            ret: o.ret,
            result: o.result,
            value: o.value.clone(),
        })
        .collect();
    let data = HistoryData {
        page: "history",
        unit: "t",
        end,
        failure: info.failed.then(|| FailureData {
            kind: "consistency".to_string(),
            property: "linearizability",
            detail: info.detail,
            step: None,
            at: end,
        }),
        lanes: processes.iter().map(|p| format!("p{p}")).collect(),
        frames: Vec::new(),
        kinds: Vec::new(),
        ops: bars,
        explained: info.explained,
    };
    let banner = banner(
        info.failed.then(|| {
            (
                "consistency".to_string(),
                "linearizability",
                info.detail,
                format!("(model {})", info.model),
            )
        }),
        &format!("{} (model {})", info.verdict, info.model),
    );
    let body = format!(
        "<header class=\"meta\"><span><b>{}</b></span> <span>{} format · {} operations · {} processes</span></header>\n{TIMELINE}",
        escape(info.file),
        escape(info.format),
        ops.len(),
        processes.len()
    );
    page(
        &format!("squall check {}: {}", info.file, info.verdict),
        &banner,
        &body,
        &script_json(&data),
    )
}

/// A finding of a chaos campaign, for [`chaos_page`].
#[derive(Clone, Debug)]
pub struct ChaosFinding {
    /// safety / liveness / consistency.
    pub kind: String,
    /// The property.
    pub property: String,
    /// The first failure's detail.
    pub detail: String,
    /// Scenarios that failed this way.
    pub count: u64,
    /// Steps before and after shrinking.
    pub steps: (usize, usize),
    /// Its scenario file and report, relative to the page.
    pub file: Option<String>,
    /// Its report, relative to the page.
    pub report: Option<String>,
}

/// A chaos campaign's summary.
#[derive(Clone, Debug)]
pub struct ChaosPage<'a> {
    /// The system.
    pub system: &'a str,
    /// The planted bug.
    pub mutant: Option<&'a str>,
    /// Campaign seed.
    pub seed: u64,
    /// Scenarios run.
    pub execs: u64,
    /// Wall seconds.
    pub seconds: f64,
    /// Simulated seconds.
    pub simulated: f64,
    /// Scenarios that failed.
    pub violations: u64,
    /// Verified findings.
    pub found: Vec<ChaosFinding>,
    /// Fault effects summed.
    pub effects: &'a super::Effects,
    /// Faults applied by kind and the protocol phase they hit.
    pub coverage: &'a BTreeMap<(FaultKind, &'static str), u64>,
    /// Kinds scheduled that never took effect.
    pub ineffective: &'a [FaultKind],
}

/// The summary page of a chaos campaign: scenarios, violations with links to their reports,
/// effect counts per fault kind, and the fault × protocol-phase coverage as a heatmap. Plain
/// HTML: it needs no script.
pub fn chaos_page(info: &ChaosPage<'_>) -> String {
    let mut body = String::new();
    let mutant = info
        .mutant
        .map(|m| format!(" with planted bug {m}"))
        .unwrap_or_default();
    let _ = write!(
        body,
        "<header class=\"meta\"><span><b>squall chaos {}</b>{}</span> <span>campaign seed {}</span></header>\n<section class=\"summary\"><table class=\"numbers\"><tr><th>scenarios run</th><td id=\"execs\">{}</td></tr><tr><th>wall seconds</th><td>{:.1}</td></tr><tr><th>simulated seconds</th><td>{:.0}</td></tr><tr><th>scenarios that failed</th><td id=\"violations\">{}</td></tr><tr><th>distinct findings</th><td>{}</td></tr></table>\n",
        escape(info.system),
        escape(&mutant),
        info.seed,
        info.execs,
        info.seconds,
        info.simulated,
        info.violations,
        info.found.len()
    );
    if !info.found.is_empty() {
        body.push_str("<h2>Findings</h2><table class=\"findings\"><tr><th>kind</th><th>property</th><th>scenarios</th><th>steps (shrunk)</th><th>report</th><th>scenario</th><th>detail</th></tr>\n");
        for f in &info.found {
            let link = |p: &Option<String>, label: &str| match p {
                Some(p) => format!("<a href=\"{}\">{label}</a>", escape(p)),
                None => "—".to_string(),
            };
            let _ = writeln!(
                body,
                "<tr><td>{}</td><td class=\"property\">{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
                escape(&f.kind),
                escape(&f.property),
                f.count,
                f.steps.0,
                f.steps.1,
                link(&f.report, "report"),
                link(&f.file, "scenario"),
                escape(&f.detail)
            );
        }
        body.push_str("</table>\n");
    }
    if !info.ineffective.is_empty() {
        let names: Vec<&str> = info.ineffective.iter().map(|k| k.name()).collect();
        let _ = writeln!(
            body,
            "<p class=\"warning\">Faults that never took effect: {} — this run proves nothing about them.</p>",
            escape(&names.join(", "))
        );
    }
    body.push_str(&heatmap(info.coverage));
    body.push_str("<h2>What each fault kind did</h2><table id=\"effects\" class=\"effects\"><tr><th>fault kind</th><th>applied</th><th>effects</th></tr>\n");
    for kind in FaultKind::ALL {
        let applied: u64 = info
            .coverage
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, n)| n)
            .sum();
        let effects = effects_of(kind, info.effects);
        if applied == 0 && effects.iter().all(|(_, n)| *n == 0) {
            continue;
        }
        let listed: Vec<String> = effects
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        let never = if info.ineffective.contains(&kind) {
            " class=\"warning\""
        } else {
            ""
        };
        let _ = writeln!(
            body,
            "<tr><th>{}</th><td>{applied}</td><td{never}>{}</td></tr>",
            kind.name(),
            escape(&listed.join(", "))
        );
    }
    body.push_str("</table>\n");
    body.push_str("</section>\n");
    let verdict = if info.found.is_empty() {
        None
    } else {
        Some(
            info.found
                .iter()
                .map(|f| f.property.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    let banner = match &verdict {
        None => banner(
            None,
            &format!(
                "{} scenarios of {}{mutant}, no violation",
                info.execs, info.system
            ),
        ),
        Some(properties) => banner_linked(
            Some((
                "chaos".to_string(),
                properties,
                "see the findings below: each links to its report",
                format!("in {} of {} scenarios", info.violations, info.execs),
            )),
            "",
            false,
        ),
    };
    page(
        &format!("squall chaos {}: {} scenarios", info.system, info.execs),
        &banner,
        &body,
        "{\"page\":\"chaos\"}",
    )
}

/// The effect counters that show what a fault kind did (those chaos reads to tell whether
/// the kind took effect, and the ones beside them).
fn effects_of(kind: FaultKind, e: &super::Effects) -> Vec<(&'static str, u64)> {
    match kind {
        FaultKind::Partition | FaultKind::Partial => vec![
            ("frames dropped by a cut link", e.dropped_by_partition),
            ("in flight when cut", e.dropped_in_flight),
        ],
        FaultKind::Loss => vec![("frames lost", e.dropped_by_loss)],
        FaultKind::Duplicate => vec![("frames duplicated", e.duplicated)],
        FaultKind::Reorder => vec![
            ("frames held", e.held),
            ("delayed", e.delayed),
            ("reordered", e.reordered),
        ],
        FaultKind::Crash => vec![
            ("crashes", e.crashes),
            ("restarts", e.restarts),
            ("node-down ms", e.node_down_ms),
            ("crash points armed", e.points_armed),
            ("fired", e.points_fired),
        ],
        FaultKind::PowerLoss => vec![
            ("power losses", e.power_losses),
            ("unsynced writes lost", e.lost_writes),
            ("torn tails", e.torn_tails),
        ],
        FaultKind::Garbage => vec![("garbage frames", e.garbage)],
        FaultKind::Buggify => vec![("buggify! returned true", e.buggified)],
        FaultKind::Forge => vec![("forged messages delivered", e.forged)],
        FaultKind::Corrupt => vec![
            ("frames corrupted", e.corrupted),
            ("frames rejected", e.rejected),
        ],
        FaultKind::CorruptDisk => vec![("disk corruptions", e.disk_corruptions)],
        FaultKind::Nemesis => vec![("nemesis moves", e.nemesis_moves), ("bounced", e.bounced)],
        FaultKind::Clock => vec![
            ("clock changes", e.clock_changes),
            ("faulty clock reads", e.clock_faulty_reads),
            ("widest divergence ms", e.clock_divergence_ms),
        ],
    }
}

/// The fault × phase coverage matrix as a table whose cells darken with their count (on a
/// log scale).
fn heatmap(coverage: &BTreeMap<(FaultKind, &'static str), u64>) -> String {
    let phases: BTreeSet<&str> = coverage.keys().map(|(_, p)| *p).collect();
    let mut out =
        String::from("<h2>Fault coverage: faults applied, by the protocol phase they hit</h2>\n");
    if phases.is_empty() {
        out.push_str("<p>No fault was applied.</p>\n");
        return out;
    }
    let max = coverage.values().copied().max().unwrap_or(1).max(1) as f64;
    out.push_str("<table id=\"heatmap\" class=\"heatmap\"><tr><th></th>");
    for p in &phases {
        let _ = write!(out, "<th>{}</th>", escape(p));
    }
    out.push_str("</tr>\n");
    for kind in FaultKind::ALL {
        if !coverage.keys().any(|(k, _)| *k == kind) {
            continue;
        }
        let _ = write!(out, "<tr><th>{}</th>", kind.name());
        for p in &phases {
            let n = coverage.get(&(kind, *p)).copied().unwrap_or(0);
            let level = if n == 0 {
                0.0
            } else {
                (1.0 + n as f64).ln() / (1.0 + max).ln()
            };
            let _ = write!(
                out,
                "<td class=\"cell{}\" style=\"background: rgba(200, 40, 30, {:.2})\" title=\"{} × {}: {n}\">{n}</td>",
                if n == 0 { " empty" } else { "" },
                0.08 + 0.8 * level,
                kind.name(),
                escape(p)
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_script_json_cannot_close_its_element() {
        assert_eq!(
            escape("<a href='x'>&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(script_json(&"</script>"), "\"<\\/script>\"");
    }
}
