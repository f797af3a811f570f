//! Coverage for fault × phase reports and coverage-guided fuzzing: the saga phase the cluster
//! is in, and an abstract protocol state (per saga in flight, its step and direction, with
//! the liveness of the nodes it involves), hashed.

use super::invariants::Checker;
use super::node::{service_node, ORCHESTRATOR};
use super::observer::{Observer, Stage};
use crate::workload::orders::Service;

/// The saga phase: `orchestrator-down` (sagas unfinished while the orchestrator is down),
/// `compensating` (some saga is undoing its steps), `booking`, `charging` or `reserving` (the
/// furthest forward step in flight), or `idle`.
pub fn phase(checker: &Checker, observer: &Observer) -> &'static str {
    let reg = observer.0.borrow();
    let orchestrator_up = reg
        .up
        .get(usize::from(ORCHESTRATOR))
        .copied()
        .unwrap_or(false);
    if !orchestrator_up && checker.unfinished() > 0 {
        return "orchestrator-down";
    }
    if reg
        .active
        .values()
        .any(|s| matches!(s, Stage::Compensating(_)))
    {
        return "compensating";
    }
    let furthest = reg
        .active
        .values()
        .filter_map(|s| match s {
            Stage::Forward(k) => Some(*k),
            Stage::Compensating(_) => None,
        })
        .max();
    match furthest.and_then(Service::of_step) {
        Some(Service::Stock) => "reserving",
        Some(Service::Payment) => "charging",
        Some(Service::Shipping) => "booking",
        None => "idle",
    }
}

/// The sagas in flight as a sorted multiset of (direction, step, whether the step's service
/// is up), with the orchestrator's liveness and whether empty compensations and refused
/// hanging steps happened yet; hashed with FNV-1a (saga ids left out, so equal situations
/// hash equal).
pub fn abstract_state(checker: &Checker, observer: &Observer) -> u64 {
    let reg = observer.0.borrow();
    let nodes = reg.up.len() as u8;
    let up = |n: u8| reg.up.get(usize::from(n)).copied().unwrap_or(false);
    let mut sagas: Vec<u8> = reg
        .active
        .values()
        .map(|stage| {
            let (direction, step) = match stage {
                Stage::Forward(k) => (0, *k),
                Stage::Compensating(k) => (1, *k),
            };
            let service_up = Service::of_step(step).is_some_and(|s| up(service_node(s, nodes)));
            direction << 4 | step << 1 | u8::from(service_up)
        })
        .collect();
    sagas.sort_unstable();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(u8::from(up(ORCHESTRATOR)));
    feed(checker.unfinished().min(4) as u8);
    feed(u8::from(checker.empty_compensations > 0));
    feed(u8::from(checker.hanging_refused > 0));
    for s in sagas {
        feed(s);
    }
    h
}
