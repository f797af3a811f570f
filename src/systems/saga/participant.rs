//! One participant service of the saga store (stock, payment or shipping): its values, its
//! dedup table keyed by (saga, forward step | compensation), and its log.
//!
//! Every decision is one synced log record holding both the dedup entry and the effect
//! ([`Entry::Step`]), written before the decision is applied in memory or answered: a crash
//! at any point leaves both or neither, so a retry after a restart finds the recorded outcome
//! and never applies the effect twice (exactly-once effects under at-least-once delivery).
//!
//! The two orderings a network makes possible (Seata's "empty compensation" and
//! "suspension"):
//! - a compensation may arrive before its forward step, or without it (the forward request
//!   was lost or is late, and the orchestrator timed it out): there is nothing to undo, so the
//!   service records a tombstone ([`Outcome::NoOp`]) and changes nothing;
//! - a forward step may arrive after its compensation (delayed past the orchestrator's
//!   timeout): the tombstone makes the service refuse it, and the refusal is recorded so that
//!   every later copy gets the same answer.

use super::messages::{Entry, Kind, Outcome};
use super::mutants::Mutant;
use super::observer::{Effect, Event, Observer};
use crate::node::disk::Disk;
use crate::node::records::{encode_record, recover};
use crate::workload::orders::TxId;
use crate::workload::orders::{Delta, Key, Service};
use std::collections::BTreeMap;

/// One service.
pub struct Participant {
    service: Service,
    file: String,
    disk: Disk,
    observer: Observer,
    mutant: Option<Mutant>,
    values: BTreeMap<Key, i64>,
    /// The dedup table: each idempotency key's recorded outcome.
    table: BTreeMap<(TxId, Kind), Outcome>,
    /// What each forward step that took effect changed, to undo it.
    forward: BTreeMap<TxId, Delta>,
    /// Per saga: forward effects minus compensation effects (1: its effect stands).
    net: BTreeMap<TxId, i32>,
}

fn negated(delta: &Delta) -> Delta {
    delta.iter().map(|(k, d)| (*k, -d)).collect()
}

impl Participant {
    /// Recovers the service from its log on `disk`.
    pub fn new(
        service: Service,
        disk: Disk,
        observer: Observer,
        mutant: Option<Mutant>,
    ) -> Participant {
        let mut p = Participant {
            service,
            file: format!("{}.wal", service.name()),
            disk,
            observer,
            mutant,
            values: service.initial(),
            table: BTreeMap::new(),
            forward: BTreeMap::new(),
            net: BTreeMap::new(),
        };
        let mut ledger = Vec::new();
        for entry in recover::<Entry>(&p.disk, &p.file) {
            match entry {
                Entry::Step {
                    saga,
                    kind,
                    outcome,
                    delta,
                } => {
                    p.table.insert((saga, kind), outcome);
                    if outcome != Outcome::Refused {
                        ledger.push(p.apply(saga, kind, outcome == Outcome::Applied, delta));
                    }
                }
                Entry::Effect { saga, kind, delta } => {
                    ledger.push(p.apply(saga, kind, true, delta))
                }
                Entry::Dedup {
                    saga,
                    kind,
                    outcome,
                } => {
                    p.table.insert((saga, kind), outcome);
                }
            }
        }
        p.observer.push(Event::ServiceRecovered { service, ledger });
        p.publish();
        p
    }

    fn is(&self, m: Mutant) -> bool {
        self.mutant == Some(m)
    }

    /// Its service.
    pub fn service(&self) -> Service {
        self.service
    }

    /// Applies an effect in memory (after its record is durable); returns it as a ledger
    /// entry.
    fn apply(&mut self, saga: TxId, kind: Kind, applied: bool, delta: Delta) -> Effect {
        if applied {
            for (k, d) in &delta {
                *self.values.entry(*k).or_default() += d;
            }
            *self.net.entry(saga).or_default() += match kind {
                Kind::Forward => 1,
                Kind::Compensation => -1,
            };
            if kind == Kind::Forward {
                self.forward.insert(saga, delta.clone());
            }
        }
        Effect {
            saga,
            kind,
            applied,
            delta,
        }
    }

    /// Records a decision durably, then applies and publishes it. One synced record holds
    /// the dedup entry and the effect (under planted bug S5, two).
    fn decide(&mut self, saga: TxId, kind: Kind, outcome: Outcome, delta: Delta) {
        if self.is(Mutant::DedupNotAtomic) && outcome == Outcome::Applied {
            let effect = Entry::Effect {
                saga,
                kind,
                delta: delta.clone(),
            };
            self.disk.append(&self.file, &encode_record(&effect));
            self.disk.sync(&self.file);
            crate::crash_point!("participant-after-effect-sync");
            let dedup = Entry::Dedup {
                saga,
                kind,
                outcome,
            };
            self.disk.append(&self.file, &encode_record(&dedup));
            self.disk.sync(&self.file);
        } else {
            let step = Entry::Step {
                saga,
                kind,
                outcome,
                delta: delta.clone(),
            };
            self.disk.append(&self.file, &encode_record(&step));
            self.disk.sync(&self.file);
            crate::crash_point!("participant-after-effect-sync");
        }
        self.table.insert((saga, kind), outcome);
        if outcome != Outcome::Refused {
            let effect = self.apply(saga, kind, outcome == Outcome::Applied, delta);
            self.observer.push(Event::Took {
                service: self.service,
                effect,
            });
        }
    }

    fn owns(&self, delta: &Delta) -> bool {
        delta
            .iter()
            .all(|(k, _)| k.is_valid() && k.service() == self.service)
    }

    /// Handles a forward step; the answer (applied or not), or `None` for a request that is
    /// not for this service.
    pub fn on_forward(&mut self, saga: TxId, delta: Delta) -> Option<bool> {
        if !self.owns(&delta) {
            return None;
        }
        if !self.is(Mutant::ForwardWithoutDedup) {
            if let Some(outcome) = self.table.get(&(saga, Kind::Forward)) {
                // A retry or a duplicate: the recorded answer, nothing applied again.
                return Some(*outcome == Outcome::Applied);
            }
        }
        if self.table.contains_key(&(saga, Kind::Compensation)) && !self.is(Mutant::HangingForward)
        {
            // A hanging request: its compensation came first. Refused, and recorded so.
            self.decide(saga, Kind::Forward, Outcome::Refused, Vec::new());
            self.observer.push(Event::RefusedHanging {
                service: self.service,
                saga,
            });
            self.publish();
            return Some(false);
        }
        let feasible = delta
            .iter()
            .all(|(k, d)| self.values.get(k).is_some_and(|v| v + d >= 0));
        // BUGGIFY: a service may refuse any step for a reason of its own (a fraud check, a
        // warehouse closing), which the saga must compensate like any refusal.
        let outcome = if feasible && !crate::buggify!() {
            Outcome::Applied
        } else {
            Outcome::Refused
        };
        let delta = if outcome == Outcome::Applied {
            delta
        } else {
            Vec::new()
        };
        self.decide(saga, Kind::Forward, outcome, delta);
        self.publish();
        Some(outcome == Outcome::Applied)
    }

    /// Handles a compensation: undoes what the forward step recorded, or records a tombstone
    /// if it never took effect. `carried` is what the orchestrator says the step did, which
    /// a correct service does not trust. `false` for a request that is not for this service.
    pub fn on_compensate(&mut self, saga: TxId, carried: Delta) -> bool {
        if !self.owns(&carried) {
            return false;
        }
        if !self.is(Mutant::CompensationWithoutDedup)
            && self.table.contains_key(&(saga, Kind::Compensation))
        {
            return true;
        }
        let forward_applied = self.table.get(&(saga, Kind::Forward)) == Some(&Outcome::Applied)
            || self.net.get(&saga).is_some_and(|n| *n > 0);
        let (outcome, delta) = match self.forward.get(&saga) {
            Some(done) if forward_applied => (Outcome::Applied, negated(done)),
            // Planted bug S1: nothing to undo, and it undoes what the request says.
            _ if self.is(Mutant::EmptyCompensation) => (Outcome::Applied, negated(&carried)),
            // An empty compensation: a tombstone, no effect.
            _ => (Outcome::NoOp, Vec::new()),
        };
        self.decide(saga, Kind::Compensation, outcome, delta);
        self.publish();
        true
    }

    /// `keys` (all of the service's when empty) with their values, and the sagas whose
    /// effect stands on them.
    pub fn read(&self, keys: &[Key]) -> (Vec<(Key, i64)>, Vec<TxId>) {
        let keys: Vec<Key> = if keys.is_empty() {
            self.values.keys().copied().collect()
        } else {
            keys.iter()
                .filter(|k| self.values.contains_key(k))
                .copied()
                .collect()
        };
        let values = keys.iter().map(|k| (*k, self.values[k])).collect();
        let standing = self
            .net
            .iter()
            .filter(|(saga, n)| {
                **n > 0
                    && self
                        .forward
                        .get(saga)
                        .is_some_and(|d| d.iter().any(|(k, _)| keys.contains(k)))
            })
            .map(|(saga, _)| *saga)
            .collect();
        (values, standing)
    }

    fn publish(&self) {
        let values = self.values.clone();
        let i = usize::from(self.service.step());
        self.observer.update(|r| r.services[i].values = values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::orders::Order;

    const SAGA: TxId = TxId { client: 2, seq: 1 };

    fn charge() -> Delta {
        Order {
            customer: 1,
            item: 2,
            quantity: 2,
        }
        .delta(Service::Payment.step())
    }

    fn payment(disk: &Disk) -> Participant {
        Participant::new(Service::Payment, disk.clone(), Observer::new(4), None)
    }

    #[test]
    fn a_retried_step_is_answered_from_the_dedup_table_and_survives_a_restart() {
        let disk = Disk::new();
        let mut p = payment(&disk);
        assert_eq!(p.on_forward(SAGA, charge()), Some(true));
        assert_eq!(p.on_forward(SAGA, charge()), Some(true));
        assert_eq!(p.read(&[Key::Customer(1)]).0, vec![(Key::Customer(1), 14)]);
        let mut p = payment(&disk);
        assert_eq!(p.on_forward(SAGA, charge()), Some(true));
        assert_eq!(p.read(&[]).1, vec![SAGA]);
        assert!(p.on_compensate(SAGA, charge()));
        assert!(p.on_compensate(SAGA, charge()));
        assert_eq!(
            p.read(&[Key::Customer(1)]),
            (vec![(Key::Customer(1), 20)], vec![])
        );
    }

    #[test]
    fn an_empty_compensation_is_a_tombstone_that_refuses_the_late_step() {
        let disk = Disk::new();
        let mut p = payment(&disk);
        assert!(p.on_compensate(SAGA, charge()));
        assert_eq!(p.read(&[Key::Customer(1)]).0, vec![(Key::Customer(1), 20)]);
        assert_eq!(p.on_forward(SAGA, charge()), Some(false));
        // Also after a restart, and for every later copy.
        let mut p = payment(&disk);
        assert_eq!(p.on_forward(SAGA, charge()), Some(false));
        assert_eq!(p.read(&[]).0.iter().map(|(_, v)| v).sum::<i64>(), 60);
    }

    #[test]
    fn a_step_for_another_service_or_an_unknown_key_is_ignored() {
        let mut p = payment(&Disk::new());
        assert_eq!(p.on_forward(SAGA, vec![(Key::Item(0), -1)]), None);
        assert_eq!(p.on_forward(SAGA, vec![(Key::Customer(9), -1)]), None);
        assert!(!p.on_compensate(SAGA, vec![(Key::Shipping, 1)]));
    }
}
