//! The `bank` workload: transfers between accounts and reads of balances, judged by atomicity
//! and conservation (Jepsen's bank test, with transaction ids so that a read names the
//! transfers it saw).
//!
//! [`ACCOUNTS`] accounts `a0`..`a5` start with [`INITIAL_BALANCE`] each. Operations:
//! - `transfer a0 a3 5`: move 5 from `a0` to `a3`, atomically; it fails (certainly did not
//!   happen) if `a0` holds less than 5 or the transaction aborts for any other reason;
//! - `read a2`: one account's committed balance;
//! - `read-all`: every account's balance in one consistent snapshot.
//!
//! **Transaction ids.** The `k`-th operation a client process performs (counting from 1, reads
//! included) has the id `c.k` (`0.3`: client 0's third). The client sends it with the
//! operation; the checks recompute it from the history (the `k`-th invocation by that client's
//! processes), so a failed transfer's id is known although the history records no result.
//!
//! **Read results** name the transfers they saw: `a0=10 a2=7 | 0.3 1.2` — each account read
//! with its balance, then the ids of the committed transfers that touched those accounts.
//!
//! **History checks** ([`PROPERTIES`]), pure functions of the history:
//! - [`CONSERVATION`]: every read-all totals `ACCOUNTS * INITIAL_BALANCE`, no balance negative;
//! - [`NO_ABORTED_READS`]: no read names a transfer that failed (aborted), and every balance
//!   read equals the initial balance plus the effects of exactly the transfers the read names
//!   (so a half-applied, doubly applied or undecided transfer shows);
//! - [`COMMITTED_TRANSFERS_VISIBLE`]: a read invoked after a transfer completed `ok` names it
//!   if it read one of its accounts.

use super::ids::OpIds;
use super::{HistoryOp, Workload};
use crate::check::model::ModelKind;
use crate::check::property::Property;
use crate::check::Violation;
use crate::history::{EventType, Function, History, Value};
use arbitrary::{Arbitrary, Unstructured};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// The `bank` workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bank;

/// Number of accounts (`a0`..`a5`).
pub const ACCOUNTS: u8 = 6;
/// Every account's balance at the start.
pub const INITIAL_BALANCE: i64 = 10;
/// The largest amount one transfer moves.
pub const MAX_AMOUNT: u32 = 1000;

/// A client operation on the bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BankOp {
    /// Move `amount` from account `from` to account `to`.
    Transfer {
        /// Debited account.
        from: u8,
        /// Credited account.
        to: u8,
        /// Amount moved.
        amount: u32,
    },
    /// Read one account.
    Read {
        /// The account.
        account: u8,
    },
    /// Read every account in one snapshot.
    ReadAll,
}

pub use super::ids::TxId;

/// What a read returned: balances by account and the transfers it saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadResult {
    /// Balance of each account read.
    pub balances: BTreeMap<u8, i64>,
    /// The committed transfers that touched the accounts read.
    pub seen: BTreeSet<TxId>,
}

impl fmt::Display for ReadResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (a, b) in &self.balances {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "a{a}={b}")?;
        }
        f.write_str(" |")?;
        for t in &self.seen {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}

impl FromStr for ReadResult {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (balances, seen) = s
            .split_once('|')
            .ok_or_else(|| format!("`{s}` is not a read result"))?;
        let mut out = ReadResult::default();
        for word in balances.split_whitespace() {
            let (a, b) = word
                .split_once('=')
                .ok_or_else(|| format!("`{word}` is not `aN=BALANCE`"))?;
            out.balances.insert(parse_account(a)?, {
                b.parse().map_err(|_| format!("`{b}` is not a balance"))?
            });
        }
        for word in seen.split_whitespace() {
            out.seen.insert(word.parse()?);
        }
        Ok(out)
    }
}

impl fmt::Display for BankOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BankOp::Transfer { from, to, amount } => write!(f, "transfer a{from} a{to} {amount}"),
            BankOp::Read { account } => write!(f, "read a{account}"),
            BankOp::ReadAll => f.write_str("read-all"),
        }
    }
}

fn parse_account(word: &str) -> Result<u8, String> {
    let n = word
        .strip_prefix('a')
        .and_then(|n| n.parse::<u8>().ok())
        .ok_or_else(|| {
            format!(
                "`{word}` is not an account; accounts are a0 to a{}",
                ACCOUNTS - 1
            )
        })?;
    if n >= ACCOUNTS {
        return Err(format!(
            "account `{word}` is out of range; accounts are a0 to a{}",
            ACCOUNTS - 1
        ));
    }
    Ok(n)
}

fn parse_amount(word: &str) -> Result<u32, String> {
    if word.starts_with('-') {
        return Err(format!(
            "amount `{word}` is negative; amounts are 0 to {MAX_AMOUNT}"
        ));
    }
    match word.parse::<u32>() {
        Ok(n) if n <= MAX_AMOUNT => Ok(n),
        _ => Err(format!(
            "`{word}` is not an amount; amounts are whole numbers from 0 to {MAX_AMOUNT}"
        )),
    }
}

impl FromStr for BankOp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        match words.as_slice() {
            ["transfer", from, to, amount] => {
                let (from, to) = (parse_account(from)?, parse_account(to)?);
                if from == to {
                    return Err(format!("`{s}`: a transfer needs two different accounts"));
                }
                Ok(BankOp::Transfer {
                    from,
                    to,
                    amount: parse_amount(amount)?,
                })
            }
            ["read", account] => Ok(BankOp::Read {
                account: parse_account(account)?,
            }),
            ["read-all"] => Ok(BankOp::ReadAll),
            ["transfer", ..] => Err(
                "`transfer` takes two accounts and an amount, as in `transfer a0 a3 5`".to_string(),
            ),
            ["read", ..] => Err("`read` takes one account, as in `read a2`".to_string()),
            ["read-all", ..] => Err("`read-all` takes nothing".to_string()),
            [] => Err("expected an operation: transfer, read or read-all".to_string()),
            [other, ..] => Err(format!(
                "unknown operation `{other}`; expected transfer, read or read-all"
            )),
        }
    }
}

impl<'a> Arbitrary<'a> for BankOp {
    // Whole bytes mapped with `%`, so `op_bytes` can invert it (fuzz corpus seeding).
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let from = u8::arbitrary(u)? % ACCOUNTS;
        let step = 1 + u8::arbitrary(u)? % (ACCOUNTS - 1);
        let amount = u32::from(u8::arbitrary(u)? % 16);
        Ok(match u8::arbitrary(u)? % 10 {
            0..=5 => BankOp::Transfer {
                from,
                to: (from + step) % ACCOUNTS,
                amount,
            },
            6..=7 => BankOp::Read { account: from },
            _ => BankOp::ReadAll,
        })
    }
}

impl BankOp {
    /// The bytes [`Arbitrary`] decodes into this operation (amounts modulo 16).
    pub fn to_bytes(&self) -> Vec<u8> {
        match *self {
            BankOp::Transfer { from, to, amount } => {
                let step = (to + ACCOUNTS - from) % ACCOUNTS;
                vec![from, step.max(1) - 1, (amount % 16) as u8, 0]
            }
            BankOp::Read { account } => vec![account, 0, 0, 6],
            BankOp::ReadAll => vec![0, 0, 0, 8],
        }
    }
}

/// How a transfer appears in the history (`key` "transfer", value "a0 a3 5").
const TRANSFER_KEY: &str = "transfer";
/// How a read-all appears in the history.
const READ_ALL_KEY: &str = "all";

impl Workload for Bank {
    type Op = BankOp;
    const NAME: &'static str = "bank";

    fn history_op(op: &BankOp) -> HistoryOp {
        match *op {
            BankOp::Transfer { from, to, amount } => HistoryOp {
                f: Function::Write,
                key: Some(TRANSFER_KEY.to_string()),
                value: Value::Str(format!("a{from} a{to} {amount}")),
            },
            BankOp::Read { account } => HistoryOp {
                f: Function::Read,
                key: Some(format!("a{account}")),
                value: Value::Nil,
            },
            BankOp::ReadAll => HistoryOp {
                f: Function::Read,
                key: Some(READ_ALL_KEY.to_string()),
                value: Value::Nil,
            },
        }
    }

    fn is_read_only(op: &BankOp) -> bool {
        !matches!(op, BankOp::Transfer { .. })
    }

    fn model() -> Option<ModelKind> {
        None
    }

    fn op_bytes(op: &BankOp) -> Option<Vec<u8>> {
        Some(op.to_bytes())
    }

    fn simpler_ops(op: &BankOp) -> Vec<BankOp> {
        match *op {
            BankOp::Transfer { from, to, amount } => {
                let mut simpler = vec![BankOp::ReadAll];
                if amount > 1 {
                    simpler.push(BankOp::Transfer {
                        from,
                        to,
                        amount: 1,
                    });
                }
                simpler
            }
            BankOp::Read { .. } => vec![BankOp::ReadAll],
            BankOp::ReadAll => Vec::new(),
        }
    }

    fn liveness_probe(client: u8) -> Option<BankOp> {
        (client == 0).then_some(BankOp::ReadAll)
    }

    fn history_properties() -> Vec<Property> {
        PROPERTIES.to_vec()
    }

    fn check_history(history: &History, selected: &dyn Fn(&Property) -> bool) -> Option<Violation> {
        check(history, selected)
    }
}

/// Every read-all totals the initial total; no balance goes negative.
pub const CONSERVATION: Property = Property::consistency(
    "money is conserved",
    "every read-all totals the initial total, and no balance read is negative",
);
/// No read sees an aborted, half-applied or undecided transfer.
pub const NO_ABORTED_READS: Property = Property::consistency(
    "no read observes an aborted or undecided transfer",
    "no read names a transfer that aborted, and every balance read is the initial balance plus exactly the transfers the read names",
);
/// A read after a committed transfer sees it.
pub const COMMITTED_TRANSFERS_VISIBLE: Property = Property::consistency(
    "committed transfers are applied everywhere",
    "a read invoked after a transfer completed ok names it, on every account of the transfer that it reads",
);
/// The bank's history checks.
pub const PROPERTIES: [Property; 3] = [CONSERVATION, NO_ABORTED_READS, COMMITTED_TRANSFERS_VISIBLE];

/// A transfer as the history shows it.
#[derive(Clone, Copy, Debug)]
struct Transfer {
    from: u8,
    to: u8,
    amount: i64,
    outcome: Option<EventType>,
    /// Index of the completion event, if any.
    completed_at: Option<usize>,
}

fn parse_transfer(value: &Value) -> Option<(u8, u8, i64)> {
    let Value::Str(s) = value else { return None };
    let words: Vec<&str> = s.split_whitespace().collect();
    let [from, to, amount] = words.as_slice() else {
        return None;
    };
    Some((
        parse_account(from).ok()?,
        parse_account(to).ok()?,
        amount.parse().ok()?,
    ))
}

/// Checks a bank history: the first violation of a `selected` property.
pub fn check(history: &History, selected: &dyn Fn(&Property) -> bool) -> Option<Violation> {
    let mut ids = OpIds::default();
    let mut transfers: BTreeMap<TxId, Transfer> = BTreeMap::new();
    // Reads that completed ok: (id, invoke index, result).
    let mut reads: Vec<(TxId, usize, ReadResult, bool)> = Vec::new();
    for (i, e) in history.events.iter().enumerate() {
        match e.kind {
            EventType::Invoke => {
                let id = ids.invoke(e.process, i);
                if e.key.as_deref() == Some(TRANSFER_KEY) {
                    if let Some((from, to, amount)) = parse_transfer(&e.value) {
                        transfers.insert(
                            id,
                            Transfer {
                                from,
                                to,
                                amount,
                                outcome: None,
                                completed_at: None,
                            },
                        );
                    }
                }
            }
            kind => {
                let Some((id, invoked)) = ids.complete(e.process) else {
                    continue;
                };
                if let Some(t) = transfers.get_mut(&id) {
                    t.outcome = Some(kind);
                    t.completed_at = Some(i);
                } else if kind == EventType::Ok {
                    if let Value::Str(s) = &e.value {
                        let all = e.key.as_deref() == Some(READ_ALL_KEY);
                        match s.parse::<ReadResult>() {
                            Ok(r) => reads.push((id, invoked, r, all)),
                            Err(why) => {
                                return Some(Violation::new(
                                    "well-formed history",
                                    format!("read {id} returned `{s}`: {why}"),
                                ))
                            }
                        }
                    }
                }
            }
        }
    }
    let total = i64::from(ACCOUNTS) * INITIAL_BALANCE;
    for (id, invoked, r, all) in &reads {
        if selected(&CONSERVATION) {
            if let Some((a, b)) = r.balances.iter().find(|(_, b)| **b < 0) {
                return Some(CONSERVATION.violated(format!("read {id} saw a{a}={b}: {r}")));
            }
            let sum: i64 = r.balances.values().sum();
            if *all && sum != total {
                return Some(
                    CONSERVATION.violated(format!("read-all {id} totals {sum}, not {total}: {r}")),
                );
            }
        }
        if selected(&NO_ABORTED_READS) {
            let mut expected: BTreeMap<u8, i64> =
                r.balances.keys().map(|a| (*a, INITIAL_BALANCE)).collect();
            for t in &r.seen {
                let Some(tr) = transfers.get(t) else {
                    return Some(
                        NO_ABORTED_READS
                            .violated(format!("read {id} names {t}, which is no transfer: {r}")),
                    );
                };
                if tr.outcome == Some(EventType::Fail) {
                    return Some(NO_ABORTED_READS.violated(format!(
                        "read {id} saw transfer {t} (a{} a{} {}), which aborted: {r}",
                        tr.from, tr.to, tr.amount
                    )));
                }
                if let Some(b) = expected.get_mut(&tr.from) {
                    *b -= tr.amount;
                }
                if let Some(b) = expected.get_mut(&tr.to) {
                    *b += tr.amount;
                }
            }
            if expected != r.balances {
                return Some(NO_ABORTED_READS.violated(format!(
                    "read {id} saw {r}, but the transfers it names give {}",
                    ReadResult {
                        balances: expected,
                        seen: BTreeSet::new()
                    }
                )));
            }
        }
        if selected(&COMMITTED_TRANSFERS_VISIBLE) {
            for (t, tr) in &transfers {
                let done_before = tr.outcome == Some(EventType::Ok)
                    && tr.completed_at.is_some_and(|c| c < *invoked);
                let touches = r.balances.contains_key(&tr.from) || r.balances.contains_key(&tr.to);
                if done_before && touches && !r.seen.contains(t) {
                    return Some(COMMITTED_TRANSFERS_VISIBLE.violated(format!(
                        "read {id} does not see transfer {t} (a{} a{} {}), which committed before it began: {r}",
                        tr.from, tr.to, tr.amount
                    )));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::MAX_CLIENTS;
    use crate::workload::ids::HistoryBuilder;

    #[test]
    fn bank_ops_round_trip_through_text_and_reject_bad_input() {
        for text in [
            "transfer a0 a3 5",
            "read a2",
            "read-all",
            "transfer a5 a1 0",
        ] {
            let op: BankOp = text.parse().expect("parses");
            assert_eq!(op.to_string(), text);
        }
        for (bad, says) in [
            ("", "expected an operation"),
            ("transfer a0 a9 5", "out of range"),
            ("transfer a0 a1 -5", "negative"),
            ("transfer a0 a0 5", "two different accounts"),
            ("transfer a0 a1", "takes two accounts"),
            ("read a6", "out of range"),
            ("read x", "not an account"),
            ("read-all a1", "takes nothing"),
            ("deposit a1 5", "unknown operation"),
        ] {
            let err = bad.parse::<BankOp>().expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn op_bytes_decode_back_to_the_op() {
        let mut ops = vec![BankOp::ReadAll];
        for from in 0..ACCOUNTS {
            ops.push(BankOp::Read { account: from });
            for to in (0..ACCOUNTS).filter(|t| *t != from) {
                ops.push(BankOp::Transfer {
                    from,
                    to,
                    amount: 7,
                });
            }
        }
        for op in ops {
            let bytes = Bank::op_bytes(&op).expect("encodable");
            let mut u = Unstructured::new(&bytes);
            assert_eq!(BankOp::arbitrary(&mut u).expect("decodes"), op);
        }
    }

    #[test]
    fn read_results_round_trip() {
        for text in ["a0=10 a2=7 | 0.3 1.2", "a1=10 |"] {
            let r: ReadResult = text.parse().expect("parses");
            assert_eq!(r.to_string(), text);
        }
    }

    fn all(_: &Property) -> bool {
        true
    }

    #[test]
    fn a_correct_history_passes() {
        let mut h = HistoryBuilder::<Bank>::new();
        h.invoke(0, "transfer a0 a1 5")
            .done(0, EventType::Ok, "")
            .invoke(1, "transfer a2 a3 50")
            .done(1, EventType::Fail, "")
            .invoke(0, "read a1")
            .done(0, EventType::Ok, "a1=15 | 0.1")
            .invoke(1, "read-all")
            .done(1, EventType::Ok, "a0=5 a1=15 a2=10 a3=10 a4=10 a5=10 | 0.1");
        assert_eq!(check(&h.history, &all), None);
    }

    #[test]
    fn a_read_all_that_does_not_add_up_is_caught() {
        let mut h = HistoryBuilder::<Bank>::new();
        h.invoke(0, "transfer a0 a1 5")
            .done(0, EventType::Info, "")
            .invoke(1, "read-all")
            .done(1, EventType::Ok, "a0=5 a1=10 a2=10 a3=10 a4=10 a5=10 | 0.1");
        let v = check(&h.history, &all).expect("caught");
        assert_eq!(v.property, CONSERVATION.name, "{v}");
    }

    #[test]
    fn a_read_of_an_aborted_transfer_is_caught() {
        let mut h = HistoryBuilder::<Bank>::new();
        h.invoke(0, "transfer a0 a1 5")
            .invoke(1, "read a1")
            .done(1, EventType::Ok, "a1=15 | 0.1")
            .done(0, EventType::Fail, "");
        let v = check(&h.history, &all).expect("caught");
        assert_eq!(v.property, NO_ABORTED_READS.name, "{v}");
        assert!(v.detail.contains("aborted"), "{v}");
    }

    #[test]
    fn a_doubly_applied_transfer_is_caught() {
        let mut h = HistoryBuilder::<Bank>::new();
        h.invoke(0, "transfer a0 a1 5")
            .done(0, EventType::Ok, "")
            .invoke(1, "read a1")
            .done(1, EventType::Ok, "a1=20 | 0.1");
        let v = check(&h.history, &all).expect("caught");
        assert_eq!(v.property, NO_ABORTED_READS.name, "{v}");
    }

    #[test]
    fn a_read_missing_a_committed_transfer_is_caught() {
        let mut h = HistoryBuilder::<Bank>::new();
        h.invoke(0, "transfer a0 a1 5")
            .done(0, EventType::Ok, "")
            .invoke(0, "read a0")
            .done(0, EventType::Ok, "a0=10 |");
        let v = check(&h.history, &all).expect("caught");
        assert_eq!(v.property, COMMITTED_TRANSFERS_VISIBLE.name, "{v}");
        // Not selected: not reported.
        assert_eq!(
            check(&h.history, &|p| p.name != COMMITTED_TRANSFERS_VISIBLE.name),
            None
        );
    }

    #[test]
    fn ids_follow_each_clients_invocations_across_new_processes() {
        // Client 0's second operation runs under process 0 + MAX_CLIENTS after an info.
        let p = u64::from(MAX_CLIENTS);
        let mut h = HistoryBuilder::<Bank>::new();
        h.invoke(0, "read a5")
            .done(0, EventType::Info, "")
            .invoke(p, "transfer a0 a1 5")
            .done(p, EventType::Fail, "")
            .invoke(1, "read a0")
            .done(1, EventType::Ok, "a0=5 | 0.2");
        let v = check(&h.history, &all).expect("caught");
        assert!(v.detail.contains("0.2"), "{v}");
    }
}
