//! The `orders` workload: customers order items from a shop whose stock, payments and shipping
//! are three separate services, and read balances and stock. Each order is a saga (Garcia-Molina
//! & Salem, "Sagas", SIGMOD 1987): reserve stock, charge the customer, book shipping, each
//! undone by a compensation if a later step fails. It is judged by semantic atomicity and
//! conservation, not by isolation: a read may see an order half done while it runs.
//!
//! **The shop.** Customers `u0`..`u2` start with [`INITIAL_BALANCE`] each and the merchant `m`
//! with nothing (payments service); items `i0`..`i2` start with [`INITIAL_STOCK`] units each,
//! item `iN` costing `N + 1` (stock service); the courier has [`SHIPPING_CAPACITY`] free units
//! (`ship`, shipping service). Orders compete for all three, so some fail for business
//! reasons (out of stock, insufficient funds, no shipping capacity) and are compensated.
//!
//! Operations:
//! - `order u1 i2 3`: customer `u1` buys 3 of item `i2` (3 units of stock, 9 money from `u1`
//!   to `m`, 3 units of shipping); `ok` if every step took effect, `fail` if the order was
//!   compensated;
//! - `read u1` (or `m`, `i2`, `ship`): one value, from the service that owns it;
//! - `read-all`: every value, one service at a time (each service's answer is consistent in
//!   itself, the three are not a snapshot);
//! - `audit`: reads every service between two questions to the orchestrator (which sagas
//!   are in flight, which were ever begun), preferably when none is in flight; a saga in
//!   flight at either, or begun between them, is listed as unsettled (it may have been read
//!   half done). Every other saga it names had ended before the reads: a quiescent snapshot
//!   of them (the liveness probe).
//!
//! **Saga ids.** The `k`-th operation a client process performs (from 1, reads included) has
//! the id `c.k` ([`TxId`], as in the [`bank`](super::bank) workload): the client sends it with
//! the order, and the checks recompute it from the history.
//!
//! **Read results** name, per service read, the orders whose effect stands there (applied and
//! not compensated): `u1=11 m=9 | payment: 0.1` — values, then `service: ids` for each
//! service read, and for an audit `unsettled: ids` if any.
//!
//! **History checks** ([`PROPERTIES`]), pure functions of the history:
//! - [`CONSERVATION`]: no value read is negative; every read-all and audit finds the
//!   initial money, stock and shipping capacity, counting the units held by the orders it
//!   names;
//! - [`READS_MATCH_ORDERS`]: every value read is its initial value changed by exactly the
//!   orders the read names at that service, each once (a doubly applied step, a compensation
//!   applied twice or without its step all show);
//! - [`ORDERS_AS_TOLD`]: a read invoked after an order completed `ok` names it at every service
//!   it read that the order touches; after an order `fail`ed, names it nowhere;
//! - [`ALL_OR_NOTHING`]: an audit finds every settled order at all three services or at
//!   none.

pub use super::ids::TxId;

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

/// The `orders` workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct Orders;

/// Number of customers (`u0`..`u2`).
pub const CUSTOMERS: u8 = 3;
/// Number of items (`i0`..`i2`).
pub const ITEMS: u8 = 3;
/// Every customer's balance at the start.
pub const INITIAL_BALANCE: i64 = 20;
/// Every item's stock at the start.
pub const INITIAL_STOCK: i64 = 8;
/// The courier's free units at the start.
pub const SHIPPING_CAPACITY: i64 = 12;
/// The most units one order asks for.
pub const MAX_QUANTITY: u8 = 9;
/// All the money there is (customers and merchant together).
pub const TOTAL_MONEY: i64 = CUSTOMERS as i64 * INITIAL_BALANCE;

/// The price of one unit of `item`.
pub fn price(item: u8) -> i64 {
    i64::from(item) + 1
}

/// The three services of the shop, in saga step order: step `k` runs at service `k`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum Service {
    /// Holds the items' stock; step 1 reserves, its compensation releases.
    #[default]
    Stock,
    /// Holds the customers' and the merchant's money; step 2 charges, its compensation
    /// refunds.
    Payment,
    /// Holds the courier's capacity; step 3 books, its compensation cancels.
    Shipping,
}

impl Service {
    /// Every service, in step order.
    pub const ALL: [Service; 3] = [Service::Stock, Service::Payment, Service::Shipping];

    /// The service of saga step `step` (0-based), if there is one.
    pub fn of_step(step: u8) -> Option<Service> {
        Service::ALL.get(usize::from(step)).copied()
    }

    /// Its step (0-based).
    pub fn step(self) -> u8 {
        self as u8
    }

    /// Its name in read results.
    pub fn name(self) -> &'static str {
        match self {
            Service::Stock => "stock",
            Service::Payment => "payment",
            Service::Shipping => "shipping",
        }
    }

    /// The keys it owns, with their initial values.
    pub fn initial(self) -> BTreeMap<Key, i64> {
        match self {
            Service::Stock => (0..ITEMS).map(|i| (Key::Item(i), INITIAL_STOCK)).collect(),
            Service::Payment => (0..CUSTOMERS)
                .map(|c| (Key::Customer(c), INITIAL_BALANCE))
                .chain([(Key::Merchant, 0)])
                .collect(),
            Service::Shipping => [(Key::Shipping, SHIPPING_CAPACITY)].into_iter().collect(),
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Service {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Service::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| format!("`{s}` is not a service (stock, payment, shipping)"))
    }
}

/// A value the shop keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Key {
    /// An item's stock.
    Item(u8),
    /// A customer's balance.
    Customer(u8),
    /// The merchant's takings.
    Merchant,
    /// The courier's free capacity.
    Shipping,
}

impl Key {
    /// Every key, in the order [`Arbitrary`] numbers them for reads.
    pub fn all() -> Vec<Key> {
        (0..CUSTOMERS)
            .map(Key::Customer)
            .chain([Key::Merchant])
            .chain((0..ITEMS).map(Key::Item))
            .chain([Key::Shipping])
            .collect()
    }

    /// The service that owns it.
    pub fn service(self) -> Service {
        match self {
            Key::Item(_) => Service::Stock,
            Key::Customer(_) | Key::Merchant => Service::Payment,
            Key::Shipping => Service::Shipping,
        }
    }

    /// Whether it exists.
    pub fn is_valid(self) -> bool {
        match self {
            Key::Item(i) => i < ITEMS,
            Key::Customer(c) => c < CUSTOMERS,
            Key::Merchant | Key::Shipping => true,
        }
    }

    /// Its value before any order.
    pub fn initial(self) -> i64 {
        match self {
            Key::Item(_) => INITIAL_STOCK,
            Key::Customer(_) => INITIAL_BALANCE,
            Key::Merchant => 0,
            Key::Shipping => SHIPPING_CAPACITY,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Item(i) => write!(f, "i{i}"),
            Key::Customer(c) => write!(f, "u{c}"),
            Key::Merchant => f.write_str("m"),
            Key::Shipping => f.write_str("ship"),
        }
    }
}

impl FromStr for Key {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let numbered = |prefix: &str, limit: u8, what: &str| -> Option<Result<u8, String>> {
            let n = s.strip_prefix(prefix)?;
            Some(match n.parse::<u8>() {
                Ok(n) if n < limit => Ok(n),
                _ => Err(format!(
                    "{what} `{s}` is out of range; {what}s are {prefix}0 to {prefix}{}",
                    limit - 1
                )),
            })
        };
        match s {
            "m" => Ok(Key::Merchant),
            "ship" => Ok(Key::Shipping),
            _ => {
                if let Some(c) = numbered("u", CUSTOMERS, "customer") {
                    return c.map(Key::Customer);
                }
                if let Some(i) = numbered("i", ITEMS, "item") {
                    return i.map(Key::Item);
                }
                Err(format!(
                    "`{s}` is not a key; keys are u0 to u{}, m, i0 to i{} and ship",
                    CUSTOMERS - 1,
                    ITEMS - 1
                ))
            }
        }
    }
}

/// What one order asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Order {
    /// The paying customer.
    pub customer: u8,
    /// The item.
    pub item: u8,
    /// Units of it.
    pub quantity: u8,
}

/// A change of the shop's values: (key, signed amount).
pub type Delta = Vec<(Key, i64)>;

impl Order {
    /// Whether the order names a customer and an item that exist and at least one unit.
    pub fn is_valid(&self) -> bool {
        self.customer < CUSTOMERS
            && self.item < ITEMS
            && (1..=MAX_QUANTITY).contains(&self.quantity)
    }

    /// What saga step `step` changes, at its service (empty for a step that does not exist).
    pub fn delta(&self, step: u8) -> Delta {
        let units = i64::from(self.quantity);
        let cost = units * price(self.item);
        match Service::of_step(step) {
            Some(Service::Stock) => vec![(Key::Item(self.item), -units)],
            Some(Service::Payment) => {
                vec![(Key::Customer(self.customer), -cost), (Key::Merchant, cost)]
            }
            Some(Service::Shipping) => vec![(Key::Shipping, -units)],
            None => Vec::new(),
        }
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "u{} i{} {}", self.customer, self.item, self.quantity)
    }
}

impl FromStr for Order {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let [customer, item, quantity] = words.as_slice() else {
            return Err(
                "`order` takes a customer, an item and a quantity, as in `order u1 i2 3`"
                    .to_string(),
            );
        };
        let customer = match customer.parse::<Key>()? {
            Key::Customer(c) => c,
            other => {
                return Err(format!(
                    "`{other}` is not a customer (u0 to u{})",
                    CUSTOMERS - 1
                ))
            }
        };
        let item = match item.parse::<Key>()? {
            Key::Item(i) => i,
            other => return Err(format!("`{other}` is not an item (i0 to i{})", ITEMS - 1)),
        };
        let quantity = match quantity.parse::<u8>() {
            Ok(q) if (1..=MAX_QUANTITY).contains(&q) => q,
            _ => {
                return Err(format!(
                    "`{quantity}` is not a quantity; quantities are whole numbers from 1 to {MAX_QUANTITY}"
                ))
            }
        };
        Ok(Order {
            customer,
            item,
            quantity,
        })
    }
}

/// A client operation on the shop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderOp {
    /// Run an order saga.
    Order(Order),
    /// Read one value.
    Read(Key),
    /// Read every value, one service at a time.
    ReadAll,
    /// Wait for quiescence, then read every value.
    Audit,
}

impl fmt::Display for OrderOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderOp::Order(o) => write!(f, "order {o}"),
            OrderOp::Read(k) => write!(f, "read {k}"),
            OrderOp::ReadAll => f.write_str("read-all"),
            OrderOp::Audit => f.write_str("audit"),
        }
    }
}

impl FromStr for OrderOp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (word, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
        let rest = rest.trim();
        match word {
            "order" => rest.parse().map(OrderOp::Order),
            "read" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
                [key] => key.parse().map(OrderOp::Read),
                _ => Err("`read` takes one key, as in `read u1` or `read i2`".to_string()),
            },
            "read-all" | "audit" if !rest.is_empty() => Err(format!("`{word}` takes nothing")),
            "read-all" => Ok(OrderOp::ReadAll),
            "audit" => Ok(OrderOp::Audit),
            "" => Err("expected an operation: order, read, read-all or audit".to_string()),
            other => Err(format!(
                "unknown operation `{other}`; expected order, read, read-all or audit"
            )),
        }
    }
}

impl<'a> Arbitrary<'a> for OrderOp {
    // Whole bytes mapped with `%`, so `op_bytes` can invert it (fuzz corpus seeding).
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let a = u8::arbitrary(u)?;
        let b = u8::arbitrary(u)?;
        let c = u8::arbitrary(u)?;
        let keys = Key::all();
        Ok(match u8::arbitrary(u)? % 20 {
            0..=13 => OrderOp::Order(Order {
                customer: a % CUSTOMERS,
                item: b % ITEMS,
                // Mostly small orders, so that several fit before stock, money or shipping
                // capacity run out, and some large ones that fail on their own.
                quantity: 1 + c % 4 + if c >= 224 { 4 } else { 0 },
            }),
            14..=16 => OrderOp::Read(keys[usize::from(a) % keys.len()]),
            17..=18 => OrderOp::ReadAll,
            _ => OrderOp::Audit,
        })
    }
}

impl OrderOp {
    /// The bytes [`Arbitrary`] decodes into this operation (quantities above 8 become 8).
    pub fn to_bytes(&self) -> Vec<u8> {
        match *self {
            OrderOp::Order(o) => {
                let q = o.quantity.clamp(1, 8) - 1;
                let c = if q >= 4 { 224 + q - 4 } else { q };
                vec![o.customer, o.item, c, 0]
            }
            OrderOp::Read(key) => {
                let i = Key::all().iter().position(|k| *k == key).unwrap_or(0) as u8;
                vec![i, 0, 0, 14]
            }
            OrderOp::ReadAll => vec![0, 0, 0, 17],
            OrderOp::Audit => vec![0, 0, 0, 19],
        }
    }
}

/// What a read returned: values, and per service read the orders standing there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadResult {
    /// Each value read.
    pub values: BTreeMap<Key, i64>,
    /// Per service read: the orders whose effect stands there (applied, not compensated)
    /// among those touching the keys read.
    pub seen: BTreeMap<Service, BTreeSet<TxId>>,
    /// For an audit: the orders that may have been in flight while it read.
    pub unsettled: BTreeSet<TxId>,
}

impl fmt::Display for ReadResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<String> = self
            .values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        f.write_str(&values.join(" "))?;
        for (service, ids) in &self.seen {
            write!(f, " | {service}:")?;
            for id in ids {
                write!(f, " {id}")?;
            }
        }
        if !self.unsettled.is_empty() {
            f.write_str(" | unsettled:")?;
            for id in &self.unsettled {
                write!(f, " {id}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for ReadResult {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split('|');
        let mut out = ReadResult::default();
        for word in parts.next().unwrap_or_default().split_whitespace() {
            let (k, v) = word
                .split_once('=')
                .ok_or_else(|| format!("`{word}` is not `KEY=VALUE`"))?;
            let v = v.parse().map_err(|_| format!("`{v}` is not a value"))?;
            out.values.insert(k.parse()?, v);
        }
        for part in parts {
            let (service, ids) = part
                .split_once(':')
                .ok_or_else(|| format!("`{part}` is not `SERVICE: IDS`"))?;
            let ids = ids
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<BTreeSet<TxId>, String>>()?;
            match service.trim() {
                "unsettled" => out.unsettled = ids,
                service => {
                    out.seen.insert(service.parse()?, ids);
                }
            }
        }
        Ok(out)
    }
}

/// How an order appears in the history (`key` "order", value "u1 i2 3").
const ORDER_KEY: &str = "order";
/// How a read-all appears in the history.
const READ_ALL_KEY: &str = "all";
/// How an audit appears in the history.
const AUDIT_KEY: &str = "audit";

impl Workload for Orders {
    type Op = OrderOp;
    const NAME: &'static str = "orders";

    fn history_op(op: &OrderOp) -> HistoryOp {
        let read = |key: String| HistoryOp {
            f: Function::Read,
            key: Some(key),
            value: Value::Nil,
        };
        match op {
            OrderOp::Order(o) => HistoryOp {
                f: Function::Write,
                key: Some(ORDER_KEY.to_string()),
                value: Value::Str(o.to_string()),
            },
            OrderOp::Read(k) => read(k.to_string()),
            OrderOp::ReadAll => read(READ_ALL_KEY.to_string()),
            OrderOp::Audit => read(AUDIT_KEY.to_string()),
        }
    }

    fn is_read_only(op: &OrderOp) -> bool {
        !matches!(op, OrderOp::Order(_))
    }

    fn model() -> Option<ModelKind> {
        None
    }

    fn op_bytes(op: &OrderOp) -> Option<Vec<u8>> {
        Some(op.to_bytes())
    }

    fn simpler_ops(op: &OrderOp) -> Vec<OrderOp> {
        match *op {
            OrderOp::Order(o) => {
                let mut simpler = vec![OrderOp::ReadAll];
                if o.quantity > 1 {
                    simpler.push(OrderOp::Order(Order { quantity: 1, ..o }));
                }
                simpler
            }
            OrderOp::Read(_) | OrderOp::Audit => vec![OrderOp::ReadAll],
            OrderOp::ReadAll => Vec::new(),
        }
    }

    fn liveness_probe(client: u8) -> Option<OrderOp> {
        (client == 0).then_some(OrderOp::Audit)
    }

    fn history_properties() -> Vec<Property> {
        PROPERTIES.to_vec()
    }

    fn check_history(history: &History, selected: &dyn Fn(&Property) -> bool) -> Option<Violation> {
        check(history, selected)
    }
}

/// No value is negative; money, stock and shipping capacity are conserved.
pub const CONSERVATION: Property = Property::consistency(
    "money and stock are conserved",
    "no value read is negative, and every read-all or audit finds all the money, stock and shipping capacity there was, counting the units held by the orders it names",
);
/// Values are the initial values changed by exactly the orders named.
pub const READS_MATCH_ORDERS: Property = Property::consistency(
    "reads match the orders they name",
    "every value read is its initial value changed by exactly the orders the read names at its service, each once",
);
/// Reads after an order's outcome agree with it.
pub const ORDERS_AS_TOLD: Property = Property::consistency(
    "orders stand as their clients were told",
    "a read invoked after an order completed ok names it at every service read that the order touches; after an order failed, at none",
);
/// A quiescent audit finds each order everywhere or nowhere.
pub const ALL_OR_NOTHING: Property = Property::consistency(
    "audits find orders all or nothing",
    "an audit (a read of every service between two answers of the orchestrator) finds every order that had ended before it at all three services or at none",
);
/// The orders workload's history checks.
pub const PROPERTIES: [Property; 4] = [
    CONSERVATION,
    READS_MATCH_ORDERS,
    ORDERS_AS_TOLD,
    ALL_OR_NOTHING,
];

/// An order as the history shows it.
#[derive(Clone, Copy, Debug)]
struct Placed {
    order: Order,
    outcome: Option<EventType>,
    /// Index of the completion event, if any.
    completed_at: Option<usize>,
}

/// A read that completed ok.
struct Read {
    id: TxId,
    invoked: usize,
    result: ReadResult,
    kind: ReadKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ReadKind {
    One,
    All,
    Audit,
}

/// Checks an orders history: the first violation of a `selected` property.
pub fn check(history: &History, selected: &dyn Fn(&Property) -> bool) -> Option<Violation> {
    let mut ids = OpIds::default();
    let mut orders: BTreeMap<TxId, Placed> = BTreeMap::new();
    let mut reads: Vec<Read> = Vec::new();
    for (i, e) in history.events.iter().enumerate() {
        if e.kind == EventType::Invoke {
            let id = ids.invoke(e.process, i);
            if e.key.as_deref() == Some(ORDER_KEY) {
                if let Value::Str(s) = &e.value {
                    if let Ok(order) = s.parse::<Order>() {
                        let placed = Placed {
                            order,
                            outcome: None,
                            completed_at: None,
                        };
                        orders.insert(id, placed);
                    }
                }
            }
            continue;
        }
        let Some((id, invoked)) = ids.complete(e.process) else {
            continue;
        };
        if let Some(o) = orders.get_mut(&id) {
            o.outcome = Some(e.kind);
            o.completed_at = Some(i);
            continue;
        }
        let (EventType::Ok, Value::Str(s)) = (e.kind, &e.value) else {
            continue;
        };
        let kind = match e.key.as_deref() {
            Some(READ_ALL_KEY) => ReadKind::All,
            Some(AUDIT_KEY) => ReadKind::Audit,
            _ => ReadKind::One,
        };
        match s.parse::<ReadResult>() {
            Ok(result) => reads.push(Read {
                id,
                invoked,
                result,
                kind,
            }),
            Err(why) => {
                return Some(Violation::new(
                    "well-formed history",
                    format!("read {id} returned `{s}`: {why}"),
                ))
            }
        }
    }
    reads.iter().find_map(|r| check_read(r, &orders, selected))
}

fn check_read(
    read: &Read,
    orders: &BTreeMap<TxId, Placed>,
    selected: &dyn Fn(&Property) -> bool,
) -> Option<Violation> {
    let Read {
        id,
        result: r,
        kind,
        ..
    } = read;
    let whole = *kind != ReadKind::One;
    // What the orders a read names at each service add up to, by key.
    let mut expected: BTreeMap<Key, i64> = r.values.keys().map(|k| (*k, k.initial())).collect();
    let mut held: BTreeMap<Service, i64> = BTreeMap::new();
    for (service, ids) in &r.seen {
        for o in ids {
            let Some(placed) = orders.get(o) else {
                return selected(&READS_MATCH_ORDERS).then(|| {
                    READS_MATCH_ORDERS
                        .violated(format!("read {id} names {o}, which is no order: {r}"))
                });
            };
            for (key, delta) in placed.order.delta(service.step()) {
                if let Some(v) = expected.get_mut(&key) {
                    *v += delta;
                }
                if key != Key::Merchant {
                    *held.entry(*service).or_default() -= delta;
                }
            }
        }
    }
    if selected(&CONSERVATION) {
        if let Some((k, v)) = r.values.iter().find(|(_, v)| **v < 0) {
            return Some(CONSERVATION.violated(format!("read {id} saw {k}={v}: {r}")));
        }
        if whole {
            for service in r.seen.keys() {
                let initial: i64 = service
                    .initial()
                    .iter()
                    .filter(|(k, _)| **k != Key::Merchant)
                    .map(|(_, v)| v)
                    .sum();
                let now: i64 = r
                    .values
                    .iter()
                    .filter(|(k, _)| k.service() == *service)
                    .map(|(_, v)| v)
                    .sum();
                let (what, total, found) = match service {
                    // The merchant's takings are money that moved, not money held by orders.
                    Service::Payment => ("money", TOTAL_MONEY, now),
                    Service::Stock => ("stock", initial, now + held.get(service).unwrap_or(&0)),
                    Service::Shipping => (
                        "shipping capacity",
                        initial,
                        now + held.get(service).unwrap_or(&0),
                    ),
                };
                if found != total {
                    return Some(CONSERVATION.violated(format!(
                        "read {id} finds {found} of {what} (counting the orders it names), not {total}: {r}"
                    )));
                }
            }
        }
    }
    if selected(&READS_MATCH_ORDERS) && expected != r.values {
        let expected = ReadResult {
            values: expected,
            ..ReadResult::default()
        };
        return Some(READS_MATCH_ORDERS.violated(format!(
            "read {id} saw {r}, but the orders it names give {expected}"
        )));
    }
    if selected(&ORDERS_AS_TOLD) {
        for (o, placed) in orders {
            let before = placed.completed_at.is_some_and(|c| c < read.invoked);
            let told = match placed.outcome {
                Some(EventType::Ok) if before => true,
                Some(EventType::Fail) if before => false,
                _ => continue,
            };
            for (service, ids) in &r.seen {
                let touches = placed
                    .order
                    .delta(service.step())
                    .iter()
                    .any(|(k, _)| r.values.contains_key(k));
                if touches && ids.contains(o) != told {
                    return Some(ORDERS_AS_TOLD.violated(format!(
                        "read {id} {} order {o} ({}) at {service}, which {} before the read began: {r}",
                        if told { "misses" } else { "sees" },
                        placed.order,
                        if told { "completed" } else { "failed" },
                    )));
                }
            }
        }
    }
    if selected(&ALL_OR_NOTHING) && *kind == ReadKind::Audit {
        let all: BTreeSet<TxId> = r.seen.values().flatten().copied().collect();
        for o in all.difference(&r.unsettled) {
            let missing: Vec<&str> = Service::ALL
                .iter()
                .filter(|s| !r.seen.get(s).is_some_and(|ids| ids.contains(o)))
                .map(|s| s.name())
                .collect();
            if !missing.is_empty() {
                return Some(ALL_OR_NOTHING.violated(format!(
                    "audit {id} finds order {o} applied in part: not at {}: {r}",
                    missing.join(", ")
                )));
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
    fn operations_round_trip_through_text_and_reject_bad_input() {
        for text in [
            "order u1 i2 3",
            "read u0",
            "read m",
            "read i2",
            "read ship",
            "read-all",
            "audit",
        ] {
            let op: OrderOp = text.parse().expect("parses");
            assert_eq!(op.to_string(), text);
        }
        for (bad, says) in [
            ("", "expected an operation"),
            ("order u3 i0 1", "out of range"),
            ("order u0 i0 0", "not a quantity"),
            ("order u0 i0 10", "not a quantity"),
            ("order i0 u0 1", "not a customer"),
            ("order u0 m 1", "not an item"),
            ("order u0 i1", "takes a customer"),
            ("read", "takes one key"),
            ("read x", "not a key"),
            ("read-all u1", "takes nothing"),
            ("audit now", "takes nothing"),
            ("refund u1", "unknown operation"),
        ] {
            let err = bad.parse::<OrderOp>().expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn op_bytes_decode_back_to_the_op() {
        let mut ops = vec![OrderOp::ReadAll, OrderOp::Audit];
        ops.extend(Key::all().into_iter().map(OrderOp::Read));
        for customer in 0..CUSTOMERS {
            for item in 0..ITEMS {
                for quantity in 1..=8 {
                    ops.push(OrderOp::Order(Order {
                        customer,
                        item,
                        quantity,
                    }));
                }
            }
        }
        for op in ops {
            let bytes = Orders::op_bytes(&op).expect("encodable");
            let mut u = Unstructured::new(&bytes);
            assert_eq!(OrderOp::arbitrary(&mut u).expect("decodes"), op);
        }
    }

    #[test]
    fn read_results_round_trip() {
        for text in [
            "u1=11 m=9 | payment: 0.1",
            "i0=8 | stock:",
            "i0=5 u0=20 ship=9 | stock: 0.1 1.2 | payment: | shipping: 0.1",
            "i0=7 | stock: 0.1 | unsettled: 0.1 2.3",
        ] {
            let r: ReadResult = text.parse().expect("parses");
            assert_eq!(r.to_string(), text);
        }
        assert!("u1=x".parse::<ReadResult>().is_err());
        assert!("u1=1 | nowhere: 0.1".parse::<ReadResult>().is_err());
    }

    fn all(_: &Property) -> bool {
        true
    }

    const EVERYTHING_AFTER_0_1: &str =
        "i0=8 i1=6 i2=8 u0=20 u1=16 u2=20 m=4 ship=10 | stock: 0.1 | payment: 0.1 | shipping: 0.1";

    #[test]
    fn a_correct_history_passes() {
        let mut h = HistoryBuilder::<Orders>::new();
        h.invoke(0, "order u1 i1 2")
            .done(0, EventType::Ok, "")
            .invoke(1, "order u2 i0 9")
            .done(1, EventType::Fail, "")
            .invoke(0, "read u1")
            .done(0, EventType::Ok, "u1=16 | payment: 0.1")
            .invoke(1, "read-all")
            .done(1, EventType::Ok, EVERYTHING_AFTER_0_1)
            .invoke(2, "audit")
            .done(2, EventType::Ok, EVERYTHING_AFTER_0_1);
        assert_eq!(check(&h.history, &all), None);
    }

    #[test]
    fn a_negative_value_or_missing_money_is_caught() {
        let mut h = HistoryBuilder::<Orders>::new();
        h.invoke(0, "read u0")
            .done(0, EventType::Ok, "u0=-1 | payment:");
        let v = check(&h.history, &all).expect("caught");
        assert_eq!(v.property, CONSERVATION.name, "{v}");
        let mut h = HistoryBuilder::<Orders>::new();
        h.invoke(0, "read-all").done(
            0,
            EventType::Ok,
            "i0=8 i1=8 i2=8 u0=20 u1=20 u2=20 m=1 ship=12 | stock: | payment: | shipping:",
        );
        let v = check(&h.history, &all).expect("caught");
        assert_eq!(v.property, CONSERVATION.name, "{v}");
        assert!(v.detail.contains("61 of money"), "{v}");
    }

    #[test]
    fn a_charge_that_no_named_order_explains_is_caught_though_money_adds_up() {
        // u0 paid 4 for order 1.1, which failed, and u1 got 4 back for 0.1, which stands:
        // the money adds up to 60, the balances do not match the orders named.
        let mut h = HistoryBuilder::<Orders>::new();
        h.invoke(0, "order u1 i1 2")
            .done(0, EventType::Ok, "")
            .invoke(1, "order u0 i1 2")
            .done(1, EventType::Fail, "")
            .invoke(0, "read-all")
            .done(
                0,
                EventType::Ok,
                "i0=8 i1=6 i2=8 u0=16 u1=20 u2=20 m=4 ship=10 | stock: 0.1 | payment: 0.1 | shipping: 0.1",
            );
        let v = check(&h.history, &all).expect("caught");
        assert_eq!(v.property, READS_MATCH_ORDERS.name, "{v}");
    }

    #[test]
    fn a_read_contradicting_an_orders_outcome_is_caught() {
        let mut h = HistoryBuilder::<Orders>::new();
        h.invoke(0, "order u1 i1 2")
            .done(0, EventType::Fail, "")
            .invoke(0, "read i1")
            .done(0, EventType::Ok, "i1=6 | stock: 0.1");
        let v = check(&h.history, &all).expect("caught");
        assert_eq!(v.property, ORDERS_AS_TOLD.name, "{v}");
        let mut h = HistoryBuilder::<Orders>::new();
        h.invoke(0, "order u1 i1 2")
            .done(0, EventType::Ok, "")
            .invoke(0, "read ship")
            .done(0, EventType::Ok, "ship=12 | shipping:");
        let v = check(&h.history, &all).expect("caught");
        assert_eq!(v.property, ORDERS_AS_TOLD.name, "{v}");
        // Not selected: not reported.
        assert_eq!(check(&h.history, &|p| p.name != ORDERS_AS_TOLD.name), None);
    }

    #[test]
    fn an_audit_finding_a_settled_order_in_part_is_caught_and_a_read_all_is_not_judged_so() {
        let half =
            "i0=8 i1=6 i2=8 u0=20 u1=20 u2=20 m=0 ship=12 | stock: 0.1 | payment: | shipping:";
        let mut h = HistoryBuilder::<Orders>::new();
        h.invoke(0, "order u1 i1 2")
            .done(0, EventType::Info, "")
            .invoke(1, "read-all")
            .done(1, EventType::Ok, half);
        assert_eq!(check(&h.history, &all), None);
        h.invoke(2, "audit")
            .done(2, EventType::Ok, &format!("{half} | unsettled: 0.1"));
        assert_eq!(
            check(&h.history, &all),
            None,
            "an unsettled order is not judged"
        );
        h.invoke(2, "audit").done(2, EventType::Ok, half);
        let v = check(&h.history, &all).expect("caught");
        assert_eq!(v.property, ALL_OR_NOTHING.name, "{v}");
        assert!(v.detail.contains("not at payment, shipping"), "{v}");
    }

    #[test]
    fn ids_follow_each_clients_invocations_across_new_processes() {
        // Client 0's second operation runs under process 0 + MAX_CLIENTS after an info.
        let p = u64::from(MAX_CLIENTS);
        let mut h = HistoryBuilder::<Orders>::new();
        h.invoke(0, "read u0")
            .done(0, EventType::Info, "")
            .invoke(p, "order u0 i0 1")
            .done(p, EventType::Fail, "")
            .invoke(1, "read i0")
            .done(1, EventType::Ok, "i0=7 | stock: 0.2");
        let v = check(&h.history, &all).expect("caught");
        assert!(v.detail.contains("0.2"), "{v}");
    }
}
