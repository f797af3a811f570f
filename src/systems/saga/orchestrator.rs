//! The saga orchestrator (on node 0): drives each order's steps T1..T3 and, when one fails,
//! the compensations of the steps before it in reverse order (Garcia-Molina & Salem, "Sagas",
//! SIGMOD 1987, §5 backward recovery; the orchestration style of Richardson, "Microservices
//! Patterns", §4.2).
//!
//! **Log first.** Every transition is a synced record of `saga.wal` before the orchestrator
//! acts on it: `Begin` before step 1 is issued, `StepDone` before the next step, `Abort`
//! before the first compensation, `Compensated` before the next one, `End` before the client
//! hears. A restarted orchestrator therefore finds each saga at least where it acted, and
//! resumes every one that has not ended.
//!
//! **Idempotency keys.** A step is sent as (saga, step) and resent under the same key with
//! exponential backoff until answered, so a service applies it at most once however many
//! copies arrive. A forward step that stays unanswered past [`STEP_TIMEOUT`] has an unknown
//! outcome (the request or the reply was lost, or is late): the saga aborts and compensates
//! that step too — its compensation is empty if the step never ran, and its tombstone refuses
//! the step if it runs late. A refused step changed nothing: only the steps before it are
//! compensated. Compensations are retried until acknowledged, without limit: a compensation
//! cannot fail for a business reason, only be delayed.

use super::messages::{Message, SagaRecord};
use super::mutants::Mutant;
use super::node::service_node;
use super::observer::{Event, Observer, Progress, Stage};
use crate::node::disk::Disk;
use crate::node::records::{encode_record, recover};
use crate::workload::orders::TxId;
use crate::workload::orders::{Order, Service};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// The orchestrator's log file.
pub const SAGA_LOG: &str = "saga.wal";
/// Steps in a saga (one per service).
pub const STEPS: u8 = 3;
/// The first retry's wait; each later one waits twice as long, up to [`RETRY_MAX`].
pub const RETRY_BASE: Duration = Duration::from_millis(40);
/// The longest wait between two retries.
pub const RETRY_MAX: Duration = Duration::from_millis(320);
/// How long a forward step may stay unanswered before its outcome counts as unknown.
pub const STEP_TIMEOUT: Duration = Duration::from_millis(600);
/// Attempts at a compensation before planted bug S8 gives up.
pub const COMPENSATION_ATTEMPTS: u32 = 3;

/// The wait before attempt `attempt + 1` (the first attempt is 1).
pub fn backoff(attempt: u32) -> Duration {
    RETRY_BASE
        .saturating_mul(1 << attempt.saturating_sub(1).min(8))
        .min(RETRY_MAX)
}

/// A saga the orchestrator knows.
struct Saga {
    order: Order,
    client: Option<SocketAddr>,
    progress: Progress,
    /// Attempts at the current step or compensation.
    attempt: u32,
    retry_at: Instant,
    /// When the current forward step's outcome counts as unknown.
    deadline: Instant,
}

impl Saga {
    /// What it waits for, if it has not ended.
    fn stage(&self) -> Option<Stage> {
        match self.progress {
            Progress::Forward(k) => Some(Stage::Forward(k)),
            Progress::Compensating { compensate, done } if done < compensate => {
                Some(Stage::Compensating(compensate - 1 - done))
            }
            Progress::Compensating { .. } | Progress::Ended(_) => None,
        }
    }
}

/// The orchestrator.
pub struct Orchestrator {
    peers: Vec<SocketAddr>,
    disk: Disk,
    observer: Observer,
    mutant: Option<Mutant>,
    sagas: BTreeMap<TxId, Saga>,
    /// Records planted bug S6 has not written yet.
    deferred: Vec<SagaRecord>,
}

impl Orchestrator {
    /// Recovers the orchestrator from its log and resumes every saga that has not ended;
    /// what it sends goes to `out`.
    pub fn new(
        peers: Vec<SocketAddr>,
        disk: Disk,
        observer: Observer,
        mutant: Option<Mutant>,
        now: Instant,
        out: &mut Vec<(SocketAddr, Message)>,
    ) -> Orchestrator {
        let mut o = Orchestrator {
            peers,
            disk,
            observer,
            mutant,
            sagas: BTreeMap::new(),
            deferred: Vec::new(),
        };
        for record in recover::<SagaRecord>(&o.disk, SAGA_LOG) {
            o.replay(record, now);
        }
        o.observer.push(Event::OrchestratorRecovered {
            sagas: o
                .sagas
                .iter()
                .map(|(id, s)| (*id, s.order, s.progress))
                .collect(),
        });
        let unfinished: Vec<TxId> = o
            .sagas
            .iter()
            .filter(|(_, s)| !matches!(s.progress, Progress::Ended(_)))
            .map(|(id, _)| *id)
            .collect();
        for saga in unfinished {
            o.resume(saga, now, out);
        }
        o.publish();
        o
    }

    fn replay(&mut self, record: SagaRecord, now: Instant) {
        let saga = record_saga(&record);
        if let SagaRecord::Begin { order, .. } = record {
            self.sagas.insert(
                saga,
                Saga {
                    order,
                    client: None,
                    progress: Progress::Forward(0),
                    attempt: 0,
                    retry_at: now,
                    deadline: now,
                },
            );
            return;
        }
        // A record of a saga whose `Begin` is not in the log (planted bug S6) is ignored.
        let Some(s) = self.sagas.get_mut(&saga) else {
            return;
        };
        s.progress = match (record, s.progress) {
            (SagaRecord::StepDone { step, .. }, _) => Progress::Forward(step.saturating_add(1)),
            (SagaRecord::Abort { compensate, .. }, _) => Progress::Compensating {
                compensate,
                done: 0,
            },
            (SagaRecord::Compensated { step, .. }, Progress::Compensating { compensate, .. }) => {
                Progress::Compensating {
                    compensate,
                    done: compensate.saturating_sub(step),
                }
            }
            (SagaRecord::End { completed, .. }, _) => Progress::Ended(completed),
            (_, unchanged) => unchanged,
        };
    }

    fn is(&self, m: Mutant) -> bool {
        self.mutant == Some(m)
    }

    /// Writes and syncs a record (planted bug S6 holds forward progress back until the
    /// saga's next other record).
    fn log(&mut self, record: SagaRecord) {
        if self.is(Mutant::UnloggedSteps) {
            if matches!(
                record,
                SagaRecord::Begin { .. } | SagaRecord::StepDone { .. }
            ) {
                self.deferred.push(record);
                return;
            }
            let saga = record_saga(&record);
            let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut self.deferred)
                .into_iter()
                .partition(|r| record_saga(r) == saga);
            self.deferred = others;
            for r in mine {
                self.disk.append(SAGA_LOG, &encode_record(&r));
            }
        }
        self.disk.append(SAGA_LOG, &encode_record(&record));
        self.disk.sync(SAGA_LOG);
    }

    /// Sets a saga's progress (already logged) and tells the observer, before acting on it.
    fn advance(&mut self, saga: TxId, progress: Progress) {
        let Some(s) = self.sagas.get_mut(&saga) else {
            return;
        };
        s.progress = progress;
        s.attempt = 0;
        let order = s.order;
        self.observer.push(Event::Progress {
            saga,
            order,
            progress,
        });
    }

    fn send_to(&self, service: Service, msg: Message, out: &mut Vec<(SocketAddr, Message)>) {
        let node = service_node(service, self.peers.len() as u8);
        if let Some(addr) = self.peers.get(usize::from(node)) {
            out.push((*addr, msg));
        }
    }

    /// Sends what the saga waits for (again), and schedules the next retry.
    fn issue(&mut self, saga: TxId, now: Instant, out: &mut Vec<(SocketAddr, Message)>) {
        let Some(s) = self.sagas.get_mut(&saga) else {
            return;
        };
        let Some(stage) = s.stage() else {
            return;
        };
        s.attempt += 1;
        s.retry_at = now + backoff(s.attempt);
        // BUGGIFY: a spurious timeout, so the retry (a duplicate) goes out at once.
        if crate::buggify!() {
            s.retry_at = now + Duration::from_millis(1);
        }
        let (step, msg) = match stage {
            Stage::Forward(step) => (
                step,
                Message::Forward {
                    saga,
                    step,
                    delta: s.order.delta(step),
                },
            ),
            Stage::Compensating(step) => (
                step,
                Message::Compensate {
                    saga,
                    step,
                    delta: s.order.delta(step),
                },
            ),
        };
        if let Some(service) = Service::of_step(step) {
            self.send_to(service, msg, out);
        }
    }

    /// Starts the next forward step (fresh attempts and deadline).
    fn start_step(&mut self, saga: TxId, now: Instant, out: &mut Vec<(SocketAddr, Message)>) {
        if let Some(s) = self.sagas.get_mut(&saga) {
            s.attempt = 0;
            s.deadline = now + STEP_TIMEOUT;
        }
        self.issue(saga, now, out);
    }

    /// Picks a saga up where its log left it (after a restart).
    fn resume(&mut self, saga: TxId, now: Instant, out: &mut Vec<(SocketAddr, Message)>) {
        let Some(s) = self.sagas.get(&saga) else {
            return;
        };
        match (s.progress, s.stage()) {
            (Progress::Forward(k), _) if k >= STEPS => self.end(saga, true, out),
            (_, Some(Stage::Forward(_))) => self.start_step(saga, now, out),
            (_, Some(Stage::Compensating(_))) => self.issue(saga, now, out),
            (Progress::Compensating { .. }, None) => self.end(saga, false, out),
            _ => {}
        }
    }

    /// A client asks for `saga`.
    pub fn on_begin(
        &mut self,
        saga: TxId,
        order: Order,
        client: SocketAddr,
        now: Instant,
        out: &mut Vec<(SocketAddr, Message)>,
    ) {
        if let Some(s) = self.sagas.get_mut(&saga) {
            s.client = Some(client);
            if let Progress::Ended(completed) = s.progress {
                self.reply(saga, completed, out);
            }
            return;
        }
        if !order.is_valid() {
            out.push((
                client,
                Message::Outcome {
                    saga,
                    completed: false,
                },
            ));
            return;
        }
        self.log(SagaRecord::Begin { saga, order });
        self.sagas.insert(
            saga,
            Saga {
                order,
                client: Some(client),
                progress: Progress::Forward(0),
                attempt: 0,
                retry_at: now,
                deadline: now,
            },
        );
        self.advance(saga, Progress::Forward(0));
        crate::crash_point!("orchestrator-after-begin-sync");
        self.start_step(saga, now, out);
        self.publish();
    }

    /// A service answers forward step `step` of `saga`.
    pub fn on_forward_reply(
        &mut self,
        saga: TxId,
        step: u8,
        applied: bool,
        now: Instant,
        out: &mut Vec<(SocketAddr, Message)>,
    ) {
        let Some(s) = self.sagas.get(&saga) else {
            return;
        };
        if s.stage() != Some(Stage::Forward(step)) {
            // Late or duplicated: the saga has moved on.
            return;
        }
        if !applied {
            // Refused: nothing changed at that service, undo the steps before it.
            self.abort(saga, step, now, out);
        } else if step + 1 >= STEPS {
            self.end(saga, true, out);
        } else {
            self.log(SagaRecord::StepDone { saga, step });
            self.advance(saga, Progress::Forward(step + 1));
            crate::crash_point!("orchestrator-after-step-sync");
            self.start_step(saga, now, out);
        }
        self.publish();
    }

    /// A service acknowledges the compensation of step `step` of `saga`.
    pub fn on_compensate_reply(
        &mut self,
        saga: TxId,
        step: u8,
        now: Instant,
        out: &mut Vec<(SocketAddr, Message)>,
    ) {
        let Some(s) = self.sagas.get(&saga) else {
            return;
        };
        if s.stage() != Some(Stage::Compensating(step)) {
            return;
        }
        self.compensated(saga, step, now, out);
        self.publish();
    }

    fn compensated(
        &mut self,
        saga: TxId,
        step: u8,
        now: Instant,
        out: &mut Vec<(SocketAddr, Message)>,
    ) {
        let Some(Progress::Compensating { compensate, done }) =
            self.sagas.get(&saga).map(|s| s.progress)
        else {
            return;
        };
        self.log(SagaRecord::Compensated { saga, step });
        let progress = Progress::Compensating {
            compensate,
            done: done + 1,
        };
        self.advance(saga, progress);
        crate::crash_point!("orchestrator-after-compensation-sync");
        if step == 0 {
            self.end(saga, false, out);
        } else {
            self.issue(saga, now, out);
        }
    }

    /// Aborts `saga`, compensating steps `compensate - 1` down to 0.
    fn abort(
        &mut self,
        saga: TxId,
        compensate: u8,
        now: Instant,
        out: &mut Vec<(SocketAddr, Message)>,
    ) {
        self.log(SagaRecord::Abort { saga, compensate });
        self.advance(
            saga,
            Progress::Compensating {
                compensate,
                done: 0,
            },
        );
        crate::crash_point!("orchestrator-after-abort-sync");
        if compensate == 0 {
            self.end(saga, false, out);
        } else {
            self.issue(saga, now, out);
        }
    }

    fn end(&mut self, saga: TxId, completed: bool, out: &mut Vec<(SocketAddr, Message)>) {
        self.log(SagaRecord::End { saga, completed });
        self.advance(saga, Progress::Ended(completed));
        crate::crash_point!("orchestrator-before-client-reply");
        self.reply(saga, completed, out);
    }

    fn reply(&mut self, saga: TxId, completed: bool, out: &mut Vec<(SocketAddr, Message)>) {
        let Some(client) = self.sagas.get(&saga).and_then(|s| s.client) else {
            return;
        };
        out.push((client, Message::Outcome { saga, completed }));
        self.observer.push(Event::Replied { saga, completed });
    }

    /// An audit asks whether any saga is in flight.
    pub fn on_quiet(&self, attempt: u32, client: SocketAddr, out: &mut Vec<(SocketAddr, Message)>) {
        let active = self
            .sagas
            .iter()
            .filter(|(_, s)| !matches!(s.progress, Progress::Ended(_)))
            .map(|(id, _)| *id)
            .collect();
        out.push((
            client,
            Message::QuietReply {
                attempt,
                active,
                begun: self.sagas.keys().copied().collect(),
            },
        ));
    }

    /// The next time a saga needs a retry or times out.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.sagas
            .values()
            .filter(|s| s.stage().is_some())
            .map(|s| s.retry_at)
            .min()
    }

    /// Retries what is due; a forward step past its deadline is aborted as unknown.
    pub fn on_timer(&mut self, now: Instant, out: &mut Vec<(SocketAddr, Message)>) {
        let due: Vec<(TxId, Stage)> = self
            .sagas
            .iter()
            .filter(|(_, s)| s.retry_at <= now)
            .filter_map(|(id, s)| s.stage().map(|st| (*id, st)))
            .collect();
        for (saga, stage) in due {
            let Some(s) = self.sagas.get(&saga) else {
                continue;
            };
            match stage {
                // BUGGIFY: the step's deadline comes early, so its outcome is unknown.
                Stage::Forward(step) if now >= s.deadline || crate::buggify!() => {
                    // Unknown outcome: the step may have run, so it is compensated too
                    // (planted bug S7 assumes it did not).
                    let compensate = if self.is(Mutant::AmbiguousNotCompensated) {
                        step
                    } else {
                        step + 1
                    };
                    self.abort(saga, compensate, now, out);
                }
                Stage::Compensating(step)
                    if self.is(Mutant::CompensationGivesUp)
                        && s.attempt >= COMPENSATION_ATTEMPTS =>
                {
                    // Planted bug S8: no answer after a few tries counts as done.
                    self.compensated(saga, step, now, out);
                }
                _ => self.issue(saga, now, out),
            }
        }
        self.publish();
    }

    fn publish(&self) {
        let active: BTreeMap<TxId, Stage> = self
            .sagas
            .iter()
            .filter_map(|(id, s)| s.stage().map(|st| (*id, st)))
            .collect();
        self.observer.update(|r| r.active = active);
    }
}

fn record_saga(record: &SagaRecord) -> TxId {
    match record {
        SagaRecord::Begin { saga, .. }
        | SagaRecord::StepDone { saga, .. }
        | SagaRecord::Abort { saga, .. }
        | SagaRecord::Compensated { saga, .. }
        | SagaRecord::End { saga, .. } => *saga,
    }
}
