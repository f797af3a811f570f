//! The per-step safety properties of the saga store and its liveness condition. Incremental:
//! each step drains the events nodes published and updates a ledger per (service, saga) and a
//! record per saga; the end-of-saga checks run when a saga ends and again whenever one of its
//! effects changes afterwards (a late step, a lost effect), so "every saga ends completed or
//! compensated" holds at quiescence, not only at the moment the orchestrator says so.

use super::messages::Kind;
use super::observer::{Effect, Event, Observer, Progress, Registry};
use crate::check::Violation;
use crate::systems::{Liveness, Property, StepContext};
use crate::workload::orders::TxId;
use crate::workload::orders::{Delta, Key, Order, Service, TOTAL_MONEY};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// An effect applies at most once per idempotency key.
pub const AT_MOST_ONCE: Property = Property::safety(
    "effects at most once per key",
    "a service applies a saga step's forward effect at most once, and its compensation at most once, however often either arrives",
);
/// A compensation undoes exactly a forward effect that happened.
pub const COMPENSATION_MATCHES: Property = Property::safety(
    "compensation undoes only what happened",
    "a compensation takes effect only for a step whose forward effect landed, and then undoes exactly that effect; an empty compensation is a no-op",
);
/// No forward effect after its compensation.
pub const NO_FORWARD_AFTER_COMPENSATION: Property = Property::safety(
    "no forward effect after its compensation",
    "once a step's compensation was recorded (applied, or an empty compensation's tombstone), its forward effect never lands",
);
/// The saga log only moves forward.
pub const LOG_MONOTONE: Property = Property::safety(
    "saga log never moves backwards",
    "a saga's progress as the orchestrator acts on it never goes back, and a restarted orchestrator recovers every saga at least where it acted on it",
);
/// Compensations run in reverse order.
pub const REVERSE_ORDER: Property = Property::safety(
    "compensations in reverse order",
    "a step's compensation (applied or empty) is never recorded after the compensation of an earlier step of the same saga",
);
/// Every ended saga is all done or all undone.
pub const SEMANTIC_ATOMICITY: Property = Property::safety(
    "sagas end completed or compensated",
    "once a saga has ended, and from then on, either every step's forward effect stands or none does",
);
/// Business invariants.
pub const CONSERVATION: Property = Property::safety(
    "business invariants hold at every step",
    "no stock, balance or shipping capacity is negative, the customers and the merchant hold all the money, and every service's values are its initial values plus the effects it recorded",
);
/// Clients are told the truth.
pub const CLIENT_OUTCOME: Property = Property::safety(
    "clients are told the truth",
    "when the orchestrator tells a client its saga completed, every step's effect stands; when it says compensated, none does; and either only once its log says so",
);
/// Every saga finishes once faults heal.
pub const SAGAS_FINISH: Property = Property::liveness(
    "sagas finish after heal",
    "once every node is up and every link healthy, each saga ends (completed or compensated) within 5 s",
);
/// The saga store's properties.
pub const PROPERTIES: [Property; 9] = [
    AT_MOST_ONCE,
    COMPENSATION_MATCHES,
    NO_FORWARD_AFTER_COMPENSATION,
    LOG_MONOTONE,
    REVERSE_ORDER,
    SEMANTIC_ATOMICITY,
    CONSERVATION,
    CLIENT_OUTCOME,
    SAGAS_FINISH,
];

/// How long a healthy cluster may take to finish a saga.
pub const FINISH_BOUND: Duration = Duration::from_secs(5);

/// What one service did for one saga's step.
#[derive(Clone, Debug, Default)]
struct StepLedger {
    /// Forward effects applied.
    forward: u32,
    /// What the (first) forward effect changed.
    forward_delta: Delta,
    /// Compensation effects applied.
    compensated: u32,
    /// Empty compensations recorded (tombstones).
    tombstones: u32,
    /// Whether a compensation (or tombstone) was ever recorded, even if a restart of the
    /// service lost it since: the forward effect must not land after it either way.
    ever_compensated: bool,
}

impl StepLedger {
    /// Whether the step's forward effect stands.
    fn stands(&self) -> bool {
        self.forward > self.compensated
    }
}

/// What the checker knows of a saga.
#[derive(Clone, Debug)]
struct SagaCheck {
    order: Order,
    /// The furthest progress the orchestrator acted on.
    acted: Progress,
    /// When the checker first heard of it.
    seen_at: Duration,
}

/// The incremental checker state.
#[derive(Default)]
pub struct Checker {
    events: Vec<Event>,
    sagas: BTreeMap<TxId, SagaCheck>,
    /// Sagas begun and not ended.
    unfinished: BTreeSet<TxId>,
    ledger: BTreeMap<(Service, TxId), StepLedger>,
    /// Each service's values as its recorded effects say they are.
    expected: BTreeMap<Service, BTreeMap<Key, i64>>,
    /// Since when every node is up and every link healthy (`None`: not now).
    calm_since: Option<Duration>,
    /// Lines for the trace, written after the step's events are checked.
    notes: Vec<String>,
    /// Empty compensations recorded (a "sometimes" count: the path was taken).
    pub empty_compensations: u64,
    /// Forward steps refused because their compensation came first.
    pub hanging_refused: u64,
    /// Sagas that ended compensated.
    pub compensated: u64,
}

fn negated(delta: &Delta) -> Delta {
    delta.iter().map(|(k, d)| (*k, -d)).collect()
}

fn step_name(service: Service) -> &'static str {
    match service {
        Service::Stock => "reserve",
        Service::Payment => "charge",
        Service::Shipping => "shipping",
    }
}

impl Checker {
    /// Fresh state.
    pub fn new() -> Self {
        Checker {
            expected: Service::ALL.iter().map(|s| (*s, s.initial())).collect(),
            ..Checker::default()
        }
    }

    /// Sagas begun and not ended, as far as the checker knows.
    pub fn unfinished(&self) -> usize {
        self.unfinished.len()
    }

    /// Checks the properties after a step.
    pub fn check(
        &mut self,
        observer: &Observer,
        ctx: &mut StepContext<'_>,
    ) -> Result<(), Violation> {
        let mut events = std::mem::take(&mut self.events);
        observer.drain_into(&mut events);
        let result = events.iter().try_for_each(|e| self.on_event(e, ctx));
        self.events = events;
        for note in self.notes.drain(..) {
            ctx.trace.line(ctx.now, format_args!("{note}"));
        }
        result?;
        if ctx.checks(&CONSERVATION) {
            self.conservation(&observer.0.borrow())?;
        }
        if ctx.checks(&SAGAS_FINISH) {
            self.finish(ctx)?;
        }
        Ok(())
    }

    fn on_event(&mut self, e: &Event, ctx: &StepContext<'_>) -> Result<(), Violation> {
        match e {
            Event::Took { service, effect } => self.took(*service, effect, ctx),
            Event::RefusedHanging { service, saga } => {
                self.hanging_refused += 1;
                self.notes.push(format!(
                    "saga {saga}: {service} refused a forward step that came after its compensation"
                ));
                Ok(())
            }
            Event::ServiceRecovered { service, ledger } => {
                self.service_recovered(*service, ledger, ctx)
            }
            Event::Progress {
                saga,
                order,
                progress,
            } => self.progress(*saga, *order, *progress, ctx),
            Event::Replied { saga, completed } => self.replied(*saga, *completed, ctx),
            Event::OrchestratorRecovered { sagas } => self.orchestrator_recovered(sagas, ctx),
        }
    }

    fn took(
        &mut self,
        service: Service,
        effect: &Effect,
        ctx: &StepContext<'_>,
    ) -> Result<(), Violation> {
        let saga = effect.saga;
        let step = step_name(service);
        let earlier_compensated = Service::ALL
            .iter()
            .filter(|s| s.step() < service.step())
            .find(|s| {
                self.ledger
                    .get(&(**s, saga))
                    .is_some_and(|l| l.ever_compensated)
            });
        let l = self.ledger.entry((service, saga)).or_default();
        match effect.kind {
            Kind::Forward => {
                if !effect.applied {
                    return Ok(());
                }
                if l.ever_compensated && ctx.checks(&NO_FORWARD_AFTER_COMPENSATION) {
                    return Err(NO_FORWARD_AFTER_COMPENSATION.violated(format!(
                        "saga {saga}'s {step} step took effect at {service} after its compensation was recorded there"
                    )));
                }
                if l.forward > 0 && ctx.checks(&AT_MOST_ONCE) {
                    return Err(AT_MOST_ONCE.violated(format!(
                        "saga {saga}'s {step} step took effect at {service} {} times",
                        l.forward + 1
                    )));
                }
                l.forward += 1;
                if l.forward == 1 {
                    l.forward_delta.clone_from(&effect.delta);
                }
            }
            Kind::Compensation => {
                if !effect.applied {
                    l.tombstones += 1;
                    self.empty_compensations += 1;
                    self.notes.push(format!(
                        "saga {saga}: empty compensation of its {step} step at {service} (a tombstone)"
                    ));
                } else {
                    if l.compensated > 0 && ctx.checks(&AT_MOST_ONCE) {
                        return Err(AT_MOST_ONCE.violated(format!(
                            "the compensation of saga {saga}'s {step} step took effect at {service} {} times",
                            l.compensated + 1
                        )));
                    }
                    if ctx.checks(&COMPENSATION_MATCHES) {
                        if l.forward == 0 {
                            return Err(COMPENSATION_MATCHES.violated(format!(
                                "the compensation of saga {saga}'s {step} step changed {} at {service}, but the step never took effect there",
                                show(&effect.delta)
                            )));
                        }
                        if effect.delta != negated(&l.forward_delta) {
                            return Err(COMPENSATION_MATCHES.violated(format!(
                                "the compensation of saga {saga}'s {step} step changed {} at {service}, but the step changed {}",
                                show(&effect.delta),
                                show(&l.forward_delta)
                            )));
                        }
                    }
                    l.compensated += 1;
                }
                if !l.ever_compensated && ctx.checks(&REVERSE_ORDER) {
                    if let Some(earlier) = earlier_compensated {
                        return Err(REVERSE_ORDER.violated(format!(
                            "saga {saga}'s {step} step was compensated after its {} step",
                            step_name(*earlier)
                        )));
                    }
                }
                l.ever_compensated = true;
            }
        }
        if effect.applied {
            let values = self.expected.entry(service).or_default();
            for (k, d) in &effect.delta {
                *values.entry(*k).or_default() += d;
            }
        }
        self.recheck(saga, ctx)
    }

    fn service_recovered(
        &mut self,
        service: Service,
        ledger: &[Effect],
        ctx: &StepContext<'_>,
    ) -> Result<(), Violation> {
        // Effects the log holds that the checker never heard of (their service crashed at a
        // crash point after writing them) count as taking effect now; effects it heard of
        // that the log lost are taken back.
        let mut in_log: BTreeMap<(TxId, Kind, bool), u32> = BTreeMap::new();
        for effect in ledger {
            let n = in_log
                .entry((effect.saga, effect.kind, effect.applied))
                .or_default();
            *n += 1;
            let known = self.ledger.get(&(service, effect.saga)).map_or(0, |l| {
                match (effect.kind, effect.applied) {
                    (Kind::Forward, _) => l.forward,
                    (Kind::Compensation, true) => l.compensated,
                    (Kind::Compensation, false) => l.tombstones,
                }
            });
            if *n > known {
                self.took(service, effect, ctx)?;
            }
        }
        let lost: Vec<TxId> = self
            .ledger
            .iter_mut()
            .filter(|((s, _), _)| *s == service)
            .filter_map(|((_, saga), l)| {
                let count =
                    |kind, applied| in_log.get(&(*saga, kind, applied)).copied().unwrap_or(0);
                let before = (l.forward, l.compensated, l.tombstones);
                l.forward = l.forward.min(count(Kind::Forward, true));
                l.compensated = l.compensated.min(count(Kind::Compensation, true));
                l.tombstones = l.tombstones.min(count(Kind::Compensation, false));
                (before != (l.forward, l.compensated, l.tombstones)).then_some(*saga)
            })
            .collect();
        if !lost.is_empty() {
            // The service's values are what its log says; so is the expectation.
            let mut values = service.initial();
            for effect in ledger.iter().filter(|e| e.applied) {
                for (k, d) in &effect.delta {
                    *values.entry(*k).or_default() += d;
                }
            }
            self.expected.insert(service, values);
        }
        for saga in lost {
            self.recheck(saga, ctx)?;
        }
        Ok(())
    }

    fn progress(
        &mut self,
        saga: TxId,
        order: Order,
        progress: Progress,
        ctx: &StepContext<'_>,
    ) -> Result<(), Violation> {
        let now = ctx.now;
        let entry = self.sagas.entry(saga).or_insert(SagaCheck {
            order,
            acted: progress,
            seen_at: now,
        });
        let before = entry.acted;
        if ctx.checks(&LOG_MONOTONE) && backwards(before, progress) {
            return Err(LOG_MONOTONE.violated(format!(
                "the orchestrator acted on saga {saga} as {progress} after acting on it as {before}"
            )));
        }
        entry.acted = entry.acted.max(progress);
        self.mark(saga, progress);
        self.recheck(saga, ctx)
    }

    fn orchestrator_recovered(
        &mut self,
        sagas: &[(TxId, Order, Progress)],
        ctx: &StepContext<'_>,
    ) -> Result<(), Violation> {
        let recovered: BTreeMap<TxId, (Order, Progress)> =
            sagas.iter().map(|(s, o, p)| (*s, (*o, *p))).collect();
        if ctx.checks(&LOG_MONOTONE) {
            for (saga, known) in &self.sagas {
                match recovered.get(saga) {
                    None => {
                        return Err(LOG_MONOTONE.violated(format!(
                            "the orchestrator restarted without saga {saga} in its log, after acting on it as {}",
                            known.acted
                        )))
                    }
                    Some((_, p)) if backwards(known.acted, *p) => {
                        return Err(LOG_MONOTONE.violated(format!(
                            "the orchestrator restarted with saga {saga} {p} in its log, after acting on it as {}",
                            known.acted
                        )))
                    }
                    Some(_) => {}
                }
            }
        }
        // Progress logged by an incarnation that crashed before it said so.
        for (saga, (order, progress)) in recovered {
            self.progress(saga, order, progress, ctx)?;
        }
        Ok(())
    }

    fn mark(&mut self, saga: TxId, progress: Progress) {
        match progress {
            Progress::Ended(completed) => {
                if self.unfinished.remove(&saga) {
                    self.compensated += u64::from(!completed);
                    self.notes.push(format!(
                        "saga {saga} ended {}",
                        if completed {
                            "completed"
                        } else {
                            "compensated"
                        }
                    ));
                }
            }
            _ => {
                self.unfinished.insert(saga);
            }
        }
    }

    /// Whether each step of `saga` stands (by service, in step order).
    fn standing(&self, saga: TxId) -> [bool; 3] {
        Service::ALL.map(|s| self.ledger.get(&(s, saga)).is_some_and(StepLedger::stands))
    }

    /// The end-of-saga check, for a saga that has ended.
    fn recheck(&self, saga: TxId, ctx: &StepContext<'_>) -> Result<(), Violation> {
        let Some(Progress::Ended(completed)) = self.sagas.get(&saga).map(|s| s.acted) else {
            return Ok(());
        };
        if !ctx.checks(&SEMANTIC_ATOMICITY) {
            return Ok(());
        }
        match self.partial(saga, completed) {
            Some(why) => Err(SEMANTIC_ATOMICITY.violated(format!(
                "saga {saga} ended {} but {why}",
                if completed {
                    "completed"
                } else {
                    "compensated"
                }
            ))),
            None => Ok(()),
        }
    }

    /// Why `saga` is not fully completed (or fully compensated), if it is not.
    fn partial(&self, saga: TxId, completed: bool) -> Option<String> {
        let standing = self.standing(saga);
        Service::ALL
            .iter()
            .zip(standing)
            .find(|(_, stands)| *stands != completed)
            .map(|(s, _)| {
                format!(
                    "its {} step {} at {s}",
                    step_name(*s),
                    if completed {
                        "does not stand"
                    } else {
                        "still stands"
                    }
                )
            })
    }

    fn replied(
        &mut self,
        saga: TxId,
        completed: bool,
        ctx: &StepContext<'_>,
    ) -> Result<(), Violation> {
        if !ctx.checks(&CLIENT_OUTCOME) {
            return Ok(());
        }
        let word = if completed {
            "completed"
        } else {
            "compensated"
        };
        let logged = self.sagas.get(&saga).map(|s| s.acted);
        if logged != Some(Progress::Ended(completed)) {
            return Err(CLIENT_OUTCOME.violated(format!(
                "a client was told saga {saga} {word} while the orchestrator's log says {}",
                logged.map_or("nothing".to_string(), |p| p.to_string())
            )));
        }
        if let Some(why) = self.partial(saga, completed) {
            return Err(
                CLIENT_OUTCOME.violated(format!("a client was told saga {saga} {word}, but {why}"))
            );
        }
        Ok(())
    }

    fn conservation(&self, registry: &Registry) -> Result<(), Violation> {
        for service in Service::ALL {
            let values = &registry.services[usize::from(service.step())].values;
            if values.is_empty() {
                // Not started yet.
                continue;
            }
            if let Some((k, v)) = values.iter().find(|(_, v)| **v < 0) {
                return Err(CONSERVATION.violated(format!("{service} holds {k}={v}")));
            }
            if service == Service::Payment {
                let total: i64 = values.values().sum();
                if total != TOTAL_MONEY {
                    return Err(CONSERVATION.violated(format!(
                        "the customers and the merchant hold {total}, not {TOTAL_MONEY}: {}",
                        show_values(values)
                    )));
                }
            }
            if let Some(expected) = self.expected.get(&service) {
                if expected != values {
                    return Err(CONSERVATION.violated(format!(
                        "{service} holds {} but the effects it recorded give {}",
                        show_values(values),
                        show_values(expected)
                    )));
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, ctx: &StepContext<'_>) -> Result<(), Violation> {
        let f = ctx.faults;
        let healthy = |m: &Vec<Vec<bool>>| {
            m.iter()
                .enumerate()
                .all(|(a, row)| row.iter().enumerate().all(|(b, ok)| a == b || *ok))
        };
        let calm = f.up.iter().all(|u| *u)
            && healthy(&f.links)
            && f.loss_percent == 0
            && f.duplicate_percent == 0
            && f.delay_percent == 0;
        if !calm {
            self.calm_since = None;
            return Ok(());
        }
        let since = *self.calm_since.get_or_insert(f.since);
        for saga in &self.unfinished {
            let Some(s) = self.sagas.get(saga) else {
                continue;
            };
            let from = since.max(s.seen_at);
            if ctx.now.saturating_sub(from) > FINISH_BOUND {
                return Err(SAGAS_FINISH.violated(format!(
                    "saga {saga} ({}) is still {} {:.1} s after the cluster was last healthy and it was known",
                    s.order,
                    s.acted,
                    ctx.now.saturating_sub(from).as_secs_f64()
                )));
            }
        }
        Ok(())
    }

    /// The liveness condition (every node is up during the liveness phase): no saga in
    /// flight at the orchestrator, and none the checker saw begin that has not ended (a saga
    /// the orchestrator forgot is not finished).
    pub fn liveness(&self, observer: &Observer) -> Liveness {
        let registry = observer.0.borrow();
        if let Some(i) = registry.up.iter().position(|u| !u) {
            return Liveness::Waiting(format!("n{i} is down"));
        }
        if let Some((saga, stage)) = registry.active.iter().next() {
            return Liveness::Waiting(format!(
                "the orchestrator has {} saga(s) in flight, first {saga} at {stage:?}",
                registry.active.len()
            ));
        }
        if let Some(saga) = self.unfinished.iter().next() {
            return Liveness::Waiting(format!(
                "saga {saga} began and never ended (the orchestrator no longer drives it)"
            ));
        }
        Liveness::Live
    }
}

/// Whether moving a saga from `before` to `after` goes back (or changes its end).
fn backwards(before: Progress, after: Progress) -> bool {
    after < before || (matches!(before, Progress::Ended(_)) && after != before)
}

fn show(delta: &Delta) -> String {
    let parts: Vec<String> = delta.iter().map(|(k, d)| format!("{k}{d:+}")).collect();
    parts.join(" ")
}

fn show_values(values: &BTreeMap<Key, i64>) -> String {
    let parts: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Trace;
    use crate::systems::{Faults, Selection};

    const SAGA: TxId = TxId { client: 0, seq: 1 };
    const ORDER: Order = Order {
        customer: 1,
        item: 1,
        quantity: 2,
    };

    /// A checker fed hand-made events, one simulation step at a time.
    struct Bench {
        checker: Checker,
        observer: Observer,
        trace: Trace,
        faults: Faults,
        now: Duration,
    }

    impl Bench {
        fn new() -> Self {
            let n = 4;
            Bench {
                checker: Checker::new(),
                observer: Observer::new(n as u8),
                trace: Trace::new(false),
                faults: Faults {
                    up: vec![true; n],
                    links: vec![vec![true; n]; n],
                    reach: vec![vec![true; n]; n],
                    ..Faults::default()
                },
                now: Duration::ZERO,
            }
        }

        /// Publishes `events` and checks a step 10 ms later.
        fn step(&mut self, events: Vec<Event>) -> Result<(), Violation> {
            for e in events {
                self.observer.push(e);
            }
            self.now += Duration::from_millis(10);
            let selection = Selection::all();
            let mut ctx = StepContext {
                step: 0,
                now: self.now,
                trace: &mut self.trace,
                faults: &self.faults,
                selection: &selection,
            };
            self.checker.check(&self.observer, &mut ctx)
        }

        /// Steps, expecting a violation of `property`.
        fn caught(&mut self, events: Vec<Event>, property: &Property) -> Violation {
            let v = self.step(events).expect_err("a violation");
            assert_eq!(v.property, property.name, "{v}");
            v
        }
    }

    fn took(service: Service, kind: Kind, applied: bool) -> Event {
        let forward = ORDER.delta(service.step());
        let delta = match (kind, applied) {
            (_, false) => Vec::new(),
            (Kind::Forward, true) => forward,
            (Kind::Compensation, true) => negated(&forward),
        };
        Event::Took {
            service,
            effect: Effect {
                saga: SAGA,
                kind,
                applied,
                delta,
            },
        }
    }

    fn progress(progress: Progress) -> Event {
        Event::Progress {
            saga: SAGA,
            order: ORDER,
            progress,
        }
    }

    /// The events of a saga whose charge is refused: stock reserved, then released.
    fn compensated_saga() -> Vec<Event> {
        vec![
            progress(Progress::Forward(0)),
            took(Service::Stock, Kind::Forward, true),
            progress(Progress::Forward(1)),
            progress(Progress::Compensating {
                compensate: 1,
                done: 0,
            }),
            took(Service::Stock, Kind::Compensation, true),
            progress(Progress::Compensating {
                compensate: 1,
                done: 1,
            }),
            progress(Progress::Ended(false)),
            Event::Replied {
                saga: SAGA,
                completed: false,
            },
        ]
    }

    fn completed_saga() -> Vec<Event> {
        let mut events = vec![progress(Progress::Forward(0))];
        for (k, s) in Service::ALL.into_iter().enumerate() {
            events.push(took(s, Kind::Forward, true));
            events.push(progress(Progress::Forward(k as u8 + 1)));
        }
        events.push(progress(Progress::Ended(true)));
        events.push(Event::Replied {
            saga: SAGA,
            completed: true,
        });
        events
    }

    #[test]
    fn correct_sagas_pass() {
        let mut b = Bench::new();
        b.step(completed_saga()).expect("completed saga passes");
        let mut b = Bench::new();
        b.step(compensated_saga()).expect("compensated saga passes");
        // An empty compensation, then the late step refused.
        let mut b = Bench::new();
        b.step(vec![
            progress(Progress::Forward(0)),
            progress(Progress::Compensating {
                compensate: 1,
                done: 0,
            }),
            took(Service::Stock, Kind::Compensation, false),
            Event::RefusedHanging {
                service: Service::Stock,
                saga: SAGA,
            },
            progress(Progress::Ended(false)),
        ])
        .expect("empty compensation passes");
        assert_eq!(
            (b.checker.empty_compensations, b.checker.hanging_refused),
            (1, 1)
        );
    }

    #[test]
    fn an_effect_applied_twice_is_caught_also_when_a_restart_reveals_it() {
        let mut b = Bench::new();
        b.step(vec![took(Service::Stock, Kind::Forward, true)])
            .expect("once");
        b.caught(
            vec![took(Service::Stock, Kind::Forward, true)],
            &AT_MOST_ONCE,
        );
        // The service crashed after writing the first effect, unseen; its restart shows it,
        // and the retry applies it again.
        let mut b = Bench::new();
        let Event::Took { effect, .. } = took(Service::Stock, Kind::Forward, true) else {
            unreachable!()
        };
        b.step(vec![Event::ServiceRecovered {
            service: Service::Stock,
            ledger: vec![effect],
        }])
        .expect("first seen at recovery");
        b.caught(
            vec![took(Service::Stock, Kind::Forward, true)],
            &AT_MOST_ONCE,
        );
    }

    #[test]
    fn a_compensation_without_its_step_or_undoing_something_else_is_caught() {
        let mut b = Bench::new();
        b.caught(
            vec![took(Service::Payment, Kind::Compensation, true)],
            &COMPENSATION_MATCHES,
        );
        let mut b = Bench::new();
        let wrong = Event::Took {
            service: Service::Payment,
            effect: Effect {
                saga: SAGA,
                kind: Kind::Compensation,
                applied: true,
                delta: vec![(Key::Customer(1), 9), (Key::Merchant, -9)],
            },
        };
        b.step(vec![took(Service::Payment, Kind::Forward, true)])
            .expect("charged");
        let v = b.caught(vec![wrong], &COMPENSATION_MATCHES);
        assert!(v.detail.contains("the step changed u1-4 m+4"), "{v}");
    }

    #[test]
    fn a_step_after_its_compensation_is_caught_even_if_a_restart_forgot_the_tombstone() {
        let mut b = Bench::new();
        b.step(vec![
            took(Service::Payment, Kind::Compensation, false),
            Event::ServiceRecovered {
                service: Service::Payment,
                ledger: Vec::new(),
            },
        ])
        .expect("tombstone");
        b.caught(
            vec![took(Service::Payment, Kind::Forward, true)],
            &NO_FORWARD_AFTER_COMPENSATION,
        );
    }

    #[test]
    fn a_saga_log_moving_back_or_forgotten_after_a_restart_is_caught() {
        let mut b = Bench::new();
        b.step(vec![progress(Progress::Forward(2))]).expect("ok");
        b.caught(vec![progress(Progress::Forward(1))], &LOG_MONOTONE);
        let mut b = Bench::new();
        b.step(vec![progress(Progress::Forward(1))]).expect("ok");
        b.step(vec![Event::OrchestratorRecovered {
            sagas: vec![(SAGA, ORDER, Progress::Forward(2))],
        }])
        .expect("recovered further along: fine");
        let v = b.caught(
            vec![Event::OrchestratorRecovered { sagas: Vec::new() }],
            &LOG_MONOTONE,
        );
        assert!(v.detail.contains("without saga 0.1"), "{v}");
        let mut b = Bench::new();
        b.step(vec![progress(Progress::Ended(false))]).expect("ok");
        b.caught(vec![progress(Progress::Ended(true))], &LOG_MONOTONE);
    }

    #[test]
    fn compensations_out_of_order_are_caught() {
        let mut b = Bench::new();
        b.step(vec![
            took(Service::Stock, Kind::Forward, true),
            took(Service::Payment, Kind::Forward, true),
            took(Service::Stock, Kind::Compensation, true),
        ])
        .expect("so far in order");
        b.caught(
            vec![took(Service::Payment, Kind::Compensation, true)],
            &REVERSE_ORDER,
        );
    }

    #[test]
    fn a_saga_ended_half_done_is_caught_then_or_later() {
        let mut b = Bench::new();
        let mut events = compensated_saga();
        events.retain(|e| e != &took(Service::Stock, Kind::Compensation, true));
        events.retain(|e| !matches!(e, Event::Replied { .. }));
        let v = b.caught(events, &SEMANTIC_ATOMICITY);
        assert!(
            v.detail.contains("reserve step still stands at stock"),
            "{v}"
        );
        // Completed, then a power loss takes an effect back.
        let mut b = Bench::new();
        b.step(completed_saga()).expect("completed");
        b.caught(
            vec![Event::ServiceRecovered {
                service: Service::Shipping,
                ledger: Vec::new(),
            }],
            &SEMANTIC_ATOMICITY,
        );
    }

    #[test]
    fn a_client_told_before_the_log_says_so_is_caught() {
        let mut b = Bench::new();
        b.caught(
            vec![
                progress(Progress::Forward(0)),
                Event::Replied {
                    saga: SAGA,
                    completed: true,
                },
            ],
            &CLIENT_OUTCOME,
        );
    }

    #[test]
    fn negative_values_missing_money_and_unrecorded_changes_are_caught() {
        let set = |b: &Bench, service: Service, key: Key, value: i64| {
            b.observer.update(|r| {
                let values = &mut r.services[usize::from(service.step())].values;
                if values.is_empty() {
                    *values = service.initial();
                }
                values.insert(key, value);
            });
        };
        let mut b = Bench::new();
        set(&b, Service::Stock, Key::Item(0), 8);
        b.step(Vec::new()).expect("initial values");
        set(&b, Service::Stock, Key::Item(0), -1);
        b.caught(Vec::new(), &CONSERVATION);
        let mut b = Bench::new();
        set(&b, Service::Payment, Key::Merchant, 5);
        let v = b.caught(Vec::new(), &CONSERVATION);
        assert!(v.detail.contains("hold 65"), "{v}");
        let mut b = Bench::new();
        set(&b, Service::Shipping, Key::Shipping, 10);
        let v = b.caught(Vec::new(), &CONSERVATION);
        assert!(
            v.detail.contains("the effects it recorded give ship=12"),
            "{v}"
        );
    }

    #[test]
    fn a_saga_unfinished_long_after_the_heal_is_caught_but_not_while_faults_last() {
        let mut b = Bench::new();
        b.faults.up[2] = false;
        b.step(vec![progress(Progress::Forward(1))]).expect("begun");
        for _ in 0..600 {
            b.step(Vec::new()).expect("faults last: not judged");
        }
        b.faults.up[2] = true;
        b.faults.since = b.now;
        for _ in 0..500 {
            b.step(Vec::new()).expect("within the bound");
        }
        let v = b.caught(Vec::new(), &SAGAS_FINISH);
        assert!(v.liveness, "{v}");
        assert!(
            matches!(b.checker.liveness(&b.observer), Liveness::Waiting(_)),
            "the liveness condition waits for it too"
        );
    }
}
