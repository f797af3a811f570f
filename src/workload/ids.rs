//! Operation ids, for workloads whose clients name each operation (the bank's transfers, the
//! orders workload's sagas): the `k`-th operation a client process performs, counting from 1,
//! is `c.k`. The client sends the id with the operation; a history check recomputes it from
//! the history (`OpIds`), so an operation that failed or timed out is known by its id
//! although the history records no result for it.

use crate::history::MAX_CLIENTS;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// An operation's id: (client index, the client's operation counter from 1).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct TxId {
    /// The client's index.
    pub client: u8,
    /// Its operation counter.
    pub seq: u32,
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.client, self.seq)
    }
}

impl FromStr for TxId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (c, k) = s
            .split_once('.')
            .ok_or_else(|| format!("`{s}` is not a transaction id"))?;
        Ok(TxId {
            client: c.parse().map_err(|_| format!("`{s}`: bad client"))?,
            seq: k
                .parse()
                .map_err(|_| format!("`{s}`: bad sequence number"))?,
        })
    }
}

/// Recomputes operation ids while a check walks a history: a client's processes are
/// `client + MAX_CLIENTS * k`, and each invocation by any of them is the client's next
/// operation.
#[derive(Default)]
pub(crate) struct OpIds {
    counters: BTreeMap<u64, u32>,
    /// The operation each open process is performing: its id and its invoke event.
    open: BTreeMap<u64, (TxId, usize)>,
}

impl OpIds {
    /// `process` invokes an operation at event `at`: its id.
    pub(crate) fn invoke(&mut self, process: u64, at: usize) -> TxId {
        let client = process % u64::from(MAX_CLIENTS);
        let k = self.counters.entry(client).or_default();
        *k += 1;
        let id = TxId {
            client: client as u8,
            seq: *k,
        };
        self.open.insert(process, (id, at));
        id
    }

    /// `process` completes its operation: the operation's id and invoke event, if it had one
    /// open.
    pub(crate) fn complete(&mut self, process: u64) -> Option<(TxId, usize)> {
        self.open.remove(&process)
    }
}

/// Histories for the workloads' unit tests: `invoke(client, op)`, then `done(client, kind,
/// value)` (an empty value repeats the invocation's).
#[cfg(test)]
pub(crate) struct HistoryBuilder<W> {
    pub(crate) history: crate::history::History,
    time: u64,
    workload: std::marker::PhantomData<W>,
}

#[cfg(test)]
impl<W: super::Workload> HistoryBuilder<W> {
    pub(crate) fn new() -> Self {
        HistoryBuilder {
            history: crate::history::History::new(),
            time: 0,
            workload: std::marker::PhantomData,
        }
    }

    pub(crate) fn invoke(&mut self, process: u64, op: &str) -> &mut Self {
        use crate::history::{Event, EventType};
        let op: W::Op = op.parse().expect("op");
        let h = W::history_op(&op);
        self.time += 1;
        self.history.push(Event {
            process,
            kind: EventType::Invoke,
            f: h.f,
            key: h.key,
            value: h.value,
            time: self.time,
        });
        self
    }

    pub(crate) fn done(
        &mut self,
        process: u64,
        kind: crate::history::EventType,
        value: &str,
    ) -> &mut Self {
        use crate::history::{Event, EventType, Value};
        let invoke = self
            .history
            .events
            .iter()
            .rev()
            .find(|e| e.process == process && e.kind == EventType::Invoke)
            .expect("invoked")
            .clone();
        self.time += 1;
        let value = if value.is_empty() {
            invoke.value.clone()
        } else {
            Value::Str(value.to_string())
        };
        self.history.push(Event {
            kind,
            value,
            time: self.time,
            ..invoke
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_each_clients_invocations_across_its_processes() {
        let mut ids = OpIds::default();
        let p = u64::from(MAX_CLIENTS);
        assert_eq!(ids.invoke(0, 0).to_string(), "0.1");
        assert_eq!(ids.invoke(1, 1).to_string(), "1.1");
        assert_eq!(ids.complete(0), Some((TxId { client: 0, seq: 1 }, 0)));
        assert_eq!(ids.complete(0), None);
        // Client 0's next process, after an indeterminate operation.
        assert_eq!(ids.invoke(p, 4).to_string(), "0.2");
        assert_eq!("0.2".parse::<TxId>(), Ok(TxId { client: 0, seq: 2 }));
        assert!("0-2".parse::<TxId>().is_err());
    }
}
