//! `squall cap`: what each side of CAP gives up, measured on the same partitions.
//!
//! A *schedule* is a scenario of partitions and client operations: five nodes, clients
//! pinned beside nodes ([`Scenario::clients_pinned`], so a partition cuts a client off
//! with its node, as it would a client in that node's data centre), two episodes in which the
//! cluster splits into two nodes and three, with every client writing and reading throughout,
//! and a heal after each. The schedules are generated from a seed as text, so each store gets
//! the very same one: [`schedules`] writes them, [`measure`] runs them against one store.
//!
//! For each store the measurement counts, per operation invoked while the cluster was split,
//! whether it was answered (`ok`), refused (`fail`) or timed out (`info`), on which side of the
//! split its client was, and how long the answered ones took; and per schedule whether the
//! history is linearizable (the key-value model, whatever the store claims) and whether the
//! run kept the guarantees the store *claims* (its own properties: for Raft that includes
//! linearizability, for an AP store the session guarantees and convergence). A CP store
//! refuses or times out on the minority side and stays linearizable; an AP store answers on
//! both sides and is not linearizable, but keeps what it claims.

use crate::check::linearizability::{check_history_with, CheckOptions, Verdict};
use crate::check::model::ModelKind;
use crate::history::{EventType, History, MAX_CLIENTS};
use crate::report::Report;
use crate::scenario::Scenario;
use crate::sim::isolate::run_isolated;
use crate::sim::runner::RunConfig;
use crate::systems::{OpOf, System};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;
use std::fmt::Write as _;

/// Nodes in every schedule: a split into two and three leaves a real minority.
pub const NODES: u8 = 5;

/// Keys the clients share.
const KEYS: u32 = 3;

/// One schedule's text for `system`, the `index`-th of the campaign seeded `seed`.
///
/// Values written are unique within the schedule (1, 2, ...), so that a read names the
/// write it saw.
pub fn schedule(system: &str, seed: u64, index: u32) -> String {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ (u64::from(index) << 32));
    let mut out = String::new();
    let run_seed = seed.wrapping_mul(1_000_003).wrapping_add(u64::from(index));
    let _ = writeln!(out, "system {system}");
    let _ = writeln!(out, "nodes {NODES}");
    let _ = writeln!(out, "seed {run_seed}");
    let _ = writeln!(out, "weather partition");
    let _ = writeln!(out, "clients pinned");
    // Time to elect a leader, for a store that needs one.
    let _ = writeln!(out, "wait 1500ms");
    let mut value = 0u32;
    let mut ops = |out: &mut String, rng: &mut Xoshiro256PlusPlus| {
        for client in 0..MAX_CLIENTS {
            let key = rng.random_range(0..KEYS);
            if rng.random_bool(0.5) {
                value += 1;
                let _ = writeln!(out, "c{client} put k{key} {value}");
            } else {
                let _ = writeln!(out, "c{client} get k{key}");
            }
        }
    };
    for _episode in 0..2 {
        ops(&mut out, &mut rng);
        let _ = writeln!(out, "wait {}ms", rng.random_range(300..800));
        // Two nodes on one side, three on the other.
        let a = rng.random_range(0..NODES);
        let b = (a + rng.random_range(1..NODES)) % NODES;
        let _ = writeln!(out, "split n{} n{}", a.min(b), a.max(b));
        for _round in 0..rng.random_range(3..6) {
            ops(&mut out, &mut rng);
            let _ = writeln!(out, "wait {}ms", rng.random_range(400..1200));
        }
        let _ = writeln!(out, "heal all");
        let _ = writeln!(out, "wait 1s");
    }
    ops(&mut out, &mut rng);
    let _ = writeln!(out, "wait 2s");
    out
}

/// The campaign's `count` schedules for `system`.
pub fn schedules(system: &str, seed: u64, count: u32) -> Vec<String> {
    (0..count).map(|i| schedule(system, seed, i)).collect()
}

/// How the operations of one group went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Answered {
    /// Operations invoked.
    pub invoked: u64,
    /// Answered: the store says it took effect (a read returned a value).
    pub ok: u64,
    /// Refused: the store says it did not take effect.
    pub fail: u64,
    /// No answer in time, or an unknown outcome.
    pub info: u64,
    /// Answered, but only after the partition it was invoked in had healed (counted apart
    /// from `ok`: it was not answered while the cluster was split).
    pub late: u64,
}

impl Answered {
    /// The fraction answered (1.0 when nothing was invoked).
    pub fn availability(&self) -> f64 {
        if self.invoked == 0 {
            1.0
        } else {
            self.ok as f64 / self.invoked as f64
        }
    }

    fn add(&mut self, kind: EventType, late: bool) {
        self.invoked += 1;
        match kind {
            EventType::Ok if late => self.late += 1,
            EventType::Ok => self.ok += 1,
            EventType::Fail => self.fail += 1,
            EventType::Info | EventType::Invoke => self.info += 1,
        }
    }
}

/// Latency of answered operations, in milliseconds of simulated time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Latency {
    fn of(mut nanos: Vec<u64>) -> Latency {
        if nanos.is_empty() {
            return Latency::default();
        }
        nanos.sort_unstable();
        let at = |q: f64| {
            let i = ((nanos.len() - 1) as f64 * q).round() as usize;
            nanos[i] as f64 / 1e6
        };
        Latency {
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

/// One store's results over every schedule.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StoreResult {
    /// The system's name.
    pub system: String,
    /// Schedules run.
    pub schedules: u32,
    /// Operations invoked while the cluster was whole (before, between and after splits).
    pub healthy: Answered,
    /// Operations invoked while it was split, by clients beside a node of the smaller side.
    pub minority: Answered,
    /// ... and of the larger side.
    pub majority: Answered,
    /// Answered operations invoked while split.
    pub latency_split: Latency,
    /// Answered operations invoked while whole.
    pub latency_healthy: Latency,
    /// Schedules whose history is not linearizable (key-value model).
    pub not_linearizable: u32,
    /// Schedules whose linearizability check ran out of budget.
    pub linearizability_unknown: u32,
    /// Schedules in which the store broke a property it claims.
    pub claimed_violations: u32,
    /// The properties the store claims (its own, by name).
    pub claims: Vec<String>,
    /// The first schedule (by index) of each kind of violation, to replay.
    pub first_not_linearizable: Option<u32>,
    /// The first schedule breaking a claimed property, and the property.
    pub first_claimed_violation: Option<(u32, String)>,
}

impl StoreResult {
    /// Every operation invoked while split.
    pub fn split(&self) -> Answered {
        Answered {
            invoked: self.minority.invoked + self.majority.invoked,
            ok: self.minority.ok + self.majority.ok,
            fail: self.minority.fail + self.majority.fail,
            info: self.minority.info + self.majority.info,
            late: self.minority.late + self.majority.late,
        }
    }
}

/// Why a store could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum CapError {
    /// A schedule did not parse for this store (its workload lacks `put`/`get`).
    #[error("schedule {index} is not a scenario for `{system}`: {message}")]
    Schedule {
        /// The store.
        system: String,
        /// The schedule.
        index: u32,
        /// What the parser said.
        message: String,
    },
    /// The run itself failed to start or finish.
    #[error("schedule {index} on `{system}`: {message}")]
    Run {
        /// The store.
        system: String,
        /// The schedule.
        index: u32,
        /// What went wrong.
        message: String,
    },
}

/// The split windows of a schedule, in nanoseconds of simulated time, with the nodes on the
/// smaller side; read off its steps (steps take no time, waits do).
fn split_windows<Op>(scenario: &Scenario<Op>) -> Vec<(u64, u64, Vec<u8>)> {
    use crate::scenario::{Fault, Step};
    let mut now = 0u64;
    let mut open: Option<(u64, Vec<u8>)> = None;
    let mut windows = Vec::new();
    for step in &scenario.steps {
        match step {
            Step::Wait { ms } => now += u64::from(*ms) * 1_000_000,
            Step::Fault(Fault::Split(side)) => {
                let inside: Vec<u8> = (0..scenario.nodes).filter(|n| side.contains(*n)).collect();
                let outside: Vec<u8> = (0..scenario.nodes).filter(|n| !side.contains(*n)).collect();
                let minority = if inside.len() <= outside.len() {
                    inside
                } else {
                    outside
                };
                if let Some((start, m)) = open.take() {
                    windows.push((start, now, m));
                }
                open = Some((now, minority));
            }
            Step::Fault(Fault::HealAll) => {
                if let Some((start, m)) = open.take() {
                    windows.push((start, now, m));
                }
            }
            _ => {}
        }
    }
    if let Some((start, m)) = open {
        windows.push((start, u64::MAX, m));
    }
    windows
}

/// Folds one run into the store's results, and the latencies of its answered operations
/// (while split, while whole) into the samples.
fn tally(
    result: &mut StoreResult,
    index: u32,
    report: &Report,
    windows: &[(u64, u64, Vec<u8>)],
    nodes: u8,
    (split, healthy): (&mut Vec<u64>, &mut Vec<u64>),
) {
    let mut pending: [Option<u64>; MAX_CLIENTS as usize] = [None; MAX_CLIENTS as usize];
    let History { events } = &report.history;
    for e in events {
        // After an unknown outcome the runner gives the client a new process id, as Jepsen
        // does: `client + MAX_CLIENTS * n`.
        let client = e.process % u64::from(MAX_CLIENTS);
        let Some(slot) = pending.get_mut(client as usize) else {
            continue;
        };
        if e.kind == EventType::Invoke {
            *slot = Some(e.time);
            continue;
        }
        let Some(start) = slot.take() else {
            continue;
        };
        let home = (client % u64::from(nodes)) as u8;
        let window = windows
            .iter()
            .find(|(s, end, _)| *s <= start && start < *end);
        let group = match window {
            None => &mut result.healthy,
            Some((_, _, minority)) if minority.contains(&home) => &mut result.minority,
            Some(_) => &mut result.majority,
        };
        let late = window.is_some_and(|(_, end, _)| e.time >= *end);
        group.add(e.kind, late);
        if e.kind == EventType::Ok && !late {
            let took = e.time.saturating_sub(start);
            if window.is_some() {
                split.push(took);
            } else {
                healthy.push(took);
            }
        }
    }
    match check_history_with(ModelKind::Kv, &report.history, &CheckOptions::default()) {
        Ok(Verdict::Linearizable) => {}
        Ok(Verdict::NotLinearizable(_)) => {
            result.not_linearizable += 1;
            result.first_not_linearizable.get_or_insert(index);
        }
        Ok(Verdict::Unknown(_)) | Err(_) => result.linearizability_unknown += 1,
    }
    if let Some(failure) = report.failure() {
        result.claimed_violations += 1;
        result
            .first_claimed_violation
            .get_or_insert_with(|| (index, failure.property.clone()));
    }
}

/// Runs every schedule against `system` and tallies what it answered and what it broke.
pub fn measure<S: System>(
    system: &S,
    schedules: &[String],
    mut progress: impl FnMut(u32),
) -> Result<StoreResult, CapError> {
    let mut result = StoreResult {
        system: system.name().to_string(),
        claims: crate::systems::properties_of(system)
            .into_iter()
            .map(|(_, p)| p.name.to_string())
            .collect(),
        ..StoreResult::default()
    };
    let config = RunConfig {
        quiet_panics: true,
        ..RunConfig::default()
    };
    let (mut split_lat, mut healthy_lat) = (Vec::new(), Vec::new());
    for (i, text) in schedules.iter().enumerate() {
        let index = u32::try_from(i).unwrap_or(u32::MAX);
        let text = retarget(text, system.name());
        let scenario = Scenario::<OpOf<S>>::from_text(&text).map_err(|e| CapError::Schedule {
            system: system.name().to_string(),
            index,
            message: e.to_string(),
        })?;
        let report = run_isolated(system, &scenario, &config, system.isolation()).map_err(|e| {
            CapError::Run {
                system: system.name().to_string(),
                index,
                message: e.to_string(),
            }
        })?;
        let windows = split_windows(&scenario);
        tally(
            &mut result,
            index,
            &report,
            &windows,
            scenario.nodes,
            (&mut split_lat, &mut healthy_lat),
        );
        result.schedules += 1;
        progress(index + 1);
    }
    result.latency_split = Latency::of(split_lat);
    result.latency_healthy = Latency::of(healthy_lat);
    Ok(result)
}

/// `text` with its `system` line naming `system`.
pub fn retarget(text: &str, system: &str) -> String {
    let mut out = String::with_capacity(text.len() + system.len());
    for line in text.lines() {
        if line.starts_with("system ") {
            let _ = writeln!(out, "system {system}");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A whole comparison: the campaign and each store's results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CapReport {
    /// The campaign's seed.
    pub seed: u64,
    /// Schedules per store.
    pub schedules: u32,
    /// Each store, in the order given.
    pub stores: Vec<StoreResult>,
}

fn percent(a: &Answered) -> String {
    if a.invoked == 0 {
        "-".to_string()
    } else {
        format!("{:.1} %", 100.0 * a.availability())
    }
}

impl CapReport {
    /// The terminal table: one column per store.
    pub fn table(&self) -> String {
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        let mut row = |name: &str, f: &dyn Fn(&StoreResult) -> String| {
            rows.push((name.to_string(), self.stores.iter().map(f).collect()));
        };
        row("store", &|s| s.system.clone());
        row("ops while whole: answered", &|s| percent(&s.healthy));
        row("ops while split: answered", &|s| percent(&s.split()));
        row("  minority side: answered", &|s| percent(&s.minority));
        row("  minority side: refused / timed out / late", &|s| {
            format!(
                "{} / {} / {}",
                s.minority.fail, s.minority.info, s.minority.late
            )
        });
        row("  majority side: answered", &|s| percent(&s.majority));
        row("latency while split (p50 / p99 ms)", &|s| {
            format!(
                "{:.0} / {:.0}",
                s.latency_split.p50_ms, s.latency_split.p99_ms
            )
        });
        row("latency while whole (p50 / p99 ms)", &|s| {
            format!(
                "{:.0} / {:.0}",
                s.latency_healthy.p50_ms, s.latency_healthy.p99_ms
            )
        });
        row("schedules not linearizable", &|s| {
            let unknown = if s.linearizability_unknown > 0 {
                format!(" (+{} unknown)", s.linearizability_unknown)
            } else {
                String::new()
            };
            format!("{} of {}{unknown}", s.not_linearizable, s.schedules)
        });
        row("schedules breaking what it claims", &|s| {
            format!("{} of {}", s.claimed_violations, s.schedules)
        });
        let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let cols: Vec<usize> = (0..self.stores.len())
            .map(|i| {
                rows.iter()
                    .map(|(_, v)| v[i].len())
                    .max()
                    .unwrap_or(0)
                    .max(8)
            })
            .collect();
        let mut out = String::new();
        for (name, values) in &rows {
            let _ = write!(out, "{name:<width$}");
            for (v, w) in values.iter().zip(&cols) {
                let _ = write!(out, "  {v:>w$}");
            }
            out.push('\n');
        }
        for s in &self.stores {
            let _ = writeln!(out, "\n{} claims: {}", s.system, s.claims.join(", "));
            if let Some(i) = s.first_not_linearizable {
                let _ = writeln!(out, "  first non-linearizable schedule: {i}");
            }
            if let Some((i, p)) = &s.first_claimed_violation {
                let _ = writeln!(
                    out,
                    "  first claimed property broken: `{p}` in schedule {i}"
                );
            }
        }
        out
    }

    /// A bar chart as a standalone SVG: per store, the share of operations answered while
    /// split (minority and majority side) and whole, and the schedules with violations
    /// under linearizability and under the store's claims.
    pub fn svg(&self) -> String {
        type Bar = (&'static str, fn(&StoreResult) -> f64);
        let bars: [Bar; 5] = [
            ("answered, minority side", |s| s.minority.availability()),
            ("answered, majority side", |s| s.majority.availability()),
            ("answered, whole", |s| s.healthy.availability()),
            ("not linearizable", |s| {
                f64::from(s.not_linearizable) / f64::from(s.schedules.max(1))
            }),
            ("broke its claims", |s| {
                f64::from(s.claimed_violations) / f64::from(s.schedules.max(1))
            }),
        ];
        let colors = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#b279a2"];
        let (group_w, bar_w, top, height, left) = (260.0, 40.0, 60.0, 240.0, 60.0);
        let width = left + group_w * self.stores.len() as f64 + 220.0;
        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{}" font-family="sans-serif" font-size="12">"#,
            top + height + 60.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{left}" y="24" font-size="15">squall cap: {} partition schedules, seed {} (share of operations / of schedules)</text>"#,
            self.schedules, self.seed
        );
        for tick in 0..=4 {
            let y = top + height - height * f64::from(tick) / 4.0;
            let _ = writeln!(
                out,
                r##"<line x1="{left}" x2="{}" y1="{y}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}%</text>"##,
                width - 220.0,
                left - 6.0,
                y + 4.0,
                tick * 25
            );
        }
        for (i, s) in self.stores.iter().enumerate() {
            let x0 = left + 20.0 + group_w * i as f64;
            for (j, (name, f)) in bars.iter().enumerate() {
                let v = f(s).clamp(0.0, 1.0);
                let h = height * v;
                let x = x0 + bar_w * j as f64;
                let _ = writeln!(
                    out,
                    r#"<rect x="{x}" y="{}" width="{}" height="{h}" fill="{}"><title>{}: {name}: {:.1}%</title></rect>"#,
                    top + height - h,
                    bar_w - 4.0,
                    colors[j],
                    s.system,
                    100.0 * v
                );
                let _ = writeln!(
                    out,
                    r#"<text x="{}" y="{}" text-anchor="middle" font-size="10">{:.0}</text>"#,
                    x + (bar_w - 4.0) / 2.0,
                    top + height - h - 3.0,
                    100.0 * v
                );
            }
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle" font-size="14">{}</text>"#,
                x0 + bar_w * 2.5,
                top + height + 22.0,
                s.system
            );
        }
        for (j, (name, _)) in bars.iter().enumerate() {
            let y = top + 20.0 * j as f64;
            let x = width - 200.0;
            let _ = writeln!(
                out,
                r#"<rect x="{x}" y="{y}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{name}</text>"#,
                colors[j],
                x + 18.0,
                y + 10.0
            );
        }
        out.push_str("</svg>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Event, Function, Value};
    use crate::report::Outcome;
    use crate::workload::kv::KvOp as Op;

    #[test]
    fn schedules_are_scenarios_with_pinned_clients_and_two_splits() {
        for i in 0..20 {
            let text = schedule("raft", 7, i);
            let s = Scenario::<Op>::from_text(&text).expect("a schedule parses");
            assert!(s.clients_pinned);
            assert_eq!(s.nodes, NODES);
            let windows = split_windows(&s);
            assert_eq!(windows.len(), 2, "{text}");
            for (start, end, minority) in &windows {
                assert!(start < end);
                assert_eq!(minority.len(), 2, "{text}");
            }
        }
        assert_eq!(schedule("raft", 7, 3), schedule("raft", 7, 3));
        assert_ne!(schedule("raft", 7, 3), schedule("raft", 7, 4));
    }

    #[test]
    fn retarget_renames_only_the_system_line() {
        let text = schedule("raft", 1, 0);
        let other = retarget(&text, "dynamo");
        assert!(other.starts_with("system dynamo\n"));
        assert_eq!(text.lines().count(), other.lines().count());
        assert_eq!(
            text.lines().skip(1).collect::<Vec<_>>(),
            other.lines().skip(1).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_cp_store_refuses_the_minority_and_stays_linearizable() {
        let texts = schedules("raft", 3, 12);
        let raft = crate::systems::raft::RaftKv::default();
        let r = measure(&raft, &texts, |_| {}).expect("runs");
        assert_eq!(r.schedules, 12);
        assert_eq!(r.not_linearizable, 0, "{r:?}");
        assert_eq!(r.claimed_violations, 0, "{r:?}");
        assert!(r.minority.invoked > 0 && r.majority.invoked > 0, "{r:?}");
        assert!(r.minority.availability() < 0.2, "{r:?}");
        assert!(r.majority.availability() > 0.9, "{r:?}");
        assert!(r.latency_split.p50_ms > 0.0);
    }

    #[test]
    fn an_ap_store_answers_the_minority_and_is_not_linearizable_but_keeps_its_claims() {
        let texts = schedules("raft", 3, 6);
        let dynamo = crate::systems::dynamo::Dynamo::default();
        let r = measure(&dynamo, &texts, |_| {}).expect("runs");
        assert!(r.not_linearizable > 0, "{r:?}");
        assert_eq!(r.claimed_violations, 0, "{r:?}");
        // Sloppy reads and writes, and the session's own copy: both sides answer.
        assert!(r.minority.availability() >= 0.99, "{r:?}");
        assert!(r.majority.availability() >= 0.99, "{r:?}");
        assert!(r.claims.iter().any(|c| c == "read your writes"), "{r:?}");
    }

    #[test]
    fn an_ap_store_that_claims_coverage_it_lacks_breaks_its_claims() {
        // Schedule 4 of seed 1 reads on a side whose replicas missed the session's writes.
        let texts = schedules("dynamo", 1, 6);
        let buggy = crate::systems::dynamo::Dynamo::from_mutant_name(Some("trust-quorum"))
            .expect("a planted bug");
        let r = measure(&buggy, &texts, |_| {}).expect("runs");
        assert!(r.claimed_violations > 0, "{r:?}");
        let correct = crate::systems::dynamo::Dynamo::default();
        let r = measure(&correct, &texts, |_| {}).expect("runs");
        assert_eq!(r.claimed_violations, 0, "{r:?}");
    }

    fn event(process: u64, kind: EventType, f: Function, value: &str, ms: u64) -> Event {
        Event {
            process,
            kind,
            f,
            key: Some("k0".into()),
            value: if value.is_empty() {
                Value::Nil
            } else {
                Value::Str(value.into())
            },
            time: ms * 1_000_000,
        }
    }

    fn report(events: Vec<Event>, outcome: Outcome) -> Report {
        Report {
            outcome,
            trace: String::new(),
            history: History { events },
            effects: Default::default(),
            ops: Default::default(),
            sim_time: std::time::Duration::from_secs(10),
            ticks: 0,
            fault_phases: Vec::new(),
            abstract_transitions: Vec::new(),
            history_unknown: false,
            recording: None,
        }
    }

    #[test]
    fn a_stale_read_on_the_minority_side_counts_as_answered_and_not_linearizable() {
        use EventType::*;
        use Function::*;
        // Split from 1 s to 5 s with n0, n1 on the smaller side; c0 lives on n0, c2 on n2.
        let windows = vec![(1_000_000_000, 5_000_000_000, vec![0, 1])];
        let stale = report(
            vec![
                event(2, Invoke, Write, "1", 1_100),
                event(2, Ok, Write, "1", 1_150),
                event(0, Invoke, Read, "", 1_200),
                event(0, Ok, Read, "", 1_230),
                event(0, Invoke, Read, "", 4_900),
                event(0, Ok, Read, "1", 5_100),
            ],
            Outcome::Pass,
        );
        let mut r = StoreResult::default();
        let (mut split, mut healthy) = (Vec::new(), Vec::new());
        tally(&mut r, 7, &stale, &windows, 5, (&mut split, &mut healthy));
        assert_eq!(r.not_linearizable, 1);
        assert_eq!(r.first_not_linearizable, Some(7));
        assert_eq!(
            (r.minority.invoked, r.minority.ok, r.minority.late),
            (2, 1, 1)
        );
        assert_eq!((r.majority.invoked, r.majority.ok), (1, 1));
        assert_eq!(split.len(), 2, "the late answer is no latency sample");
        assert_eq!(
            r.claimed_violations, 0,
            "the store claimed nothing it broke"
        );

        // The same history, read fresh: linearizable.
        let fresh = report(
            vec![
                event(2, Invoke, Write, "1", 1_100),
                event(2, Ok, Write, "1", 1_150),
                event(0, Invoke, Read, "", 1_200),
                event(0, Ok, Read, "1", 1_230),
            ],
            Outcome::Pass,
        );
        let mut r = StoreResult::default();
        tally(&mut r, 0, &fresh, &windows, 5, (&mut split, &mut healthy));
        assert_eq!(r.not_linearizable, 0);
        assert_eq!(r.minority.availability(), 1.0);
    }

    #[test]
    fn the_table_and_the_chart_show_each_store() {
        let texts = schedules("raft", 5, 2);
        let raft = crate::systems::raft::RaftKv::default();
        let r = measure(&raft, &texts, |_| {}).expect("runs");
        let report = CapReport {
            seed: 5,
            schedules: 2,
            stores: vec![
                r.clone(),
                StoreResult {
                    system: "other".into(),
                    ..r
                },
            ],
        };
        let table = report.table();
        assert!(table.contains("raft") && table.contains("other"), "{table}");
        assert!(table.contains("minority side: answered"), "{table}");
        let svg = report.svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(
            svg.matches("<rect").count(),
            2 * 5 + 5,
            "five bars a store, five keys"
        );
    }
}
