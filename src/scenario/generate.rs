//! Scenarios from bytes, and back.
//!
//! The bounds are chosen so that random bytes give interesting scenarios, not mostly no-ops:
//! every byte string decodes (running out of bytes just ends the scenario), each step costs a
//! few bytes so libFuzzer's mutations map to local changes, faults are drawn only from the
//! scenario's weather, heals and restarts aim at what is actually broken, and waits are
//! spread around the protocols' timeouts (tens to hundreds of milliseconds).
//!
//! Fault kinds that need the system's cooperation ([`FaultKind::Forge`]) are drawn only for a
//! system that supports them ([`Scenario::generate_with`]), and then in one scenario of four:
//! their bit lives in the step-mix byte, whose low two bits pick the mix, so that the bytes of
//! a scenario without them decode as they always did. A forgery suspends a crash-fault-tolerant
//! system's own properties for the rest of its run, so the kind is kept rarer than the others
//! (each on in one scenario of two), which cost no checking.
//!
//! Clock faults ([`FaultKind::Clock`]) are drawn only for a system that reads its clock, and
//! only within the bound it claims ([`Offer::clock`]): a skew or spread of 5 ms to 5 s, a rate
//! 0.9 to 1.1, each clamped to the bound, so that a correct system is never judged on clocks
//! it does not promise to work with.
//!
//! Every decision reads whole bytes and maps them with `%`, so the decoding can be inverted:
//! [`Scenario::to_bytes`] turns a readable scenario (a corpus file) into fuzzer input that
//! decodes back to it — how the fuzz corpus is seeded from `corpus/<system>/*.scn`.

use super::{
    ClockBound, Fault, FaultKind, NodeId, NodeSet, Point, Scenario, Step, Weather, MAX_CLIENTS,
};
use arbitrary::{Arbitrary, Result, Unstructured};

/// Most steps a generated scenario has.
pub const MAX_STEPS: usize = 48;
/// Most simulated time the steps of a generated scenario ask for.
pub const MAX_DURATION_MS: u64 = 6_000;

/// A step byte that ends the scenario (so encoded scenarios end where they should even when
/// the fuzz harness extends inputs with more bytes).
const END: u8 = 255;

const NODE_SIZES: [u8; 10] = [3, 3, 3, 3, 5, 5, 5, 4, 6, 7];
const LOSS: [u8; 6] = [5, 10, 20, 30, 50, 0];
const DUPLICATE: [u8; 5] = [10, 30, 50, 100, 0];
const LATENCY: [u16; 5] = [5, 20, 50, 100, 200];
const DELAY: [u8; 5] = [2, 5, 10, 20, 0];
const CORRUPT: [u8; 5] = [1, 2, 5, 10, 0];
/// Wall-clock offsets, in milliseconds, each drawn ahead or behind: from jitter NTP corrects
/// unnoticed to clocks seconds off, past any lease or timeout a protocol runs on (half of
/// them: a clock bug between nodes shows once the offset outlasts the protocol's timeouts).
const SKEW_MS: [i32; 6] = [5, 50, 300, 1_000, 2_000, 5_000];
/// Clock rates, in parts per million: fast and slow, up to 10 % either way.
const RATE_PPM: [u32; 6] = [1_100_000, 1_050_000, 1_020_000, 980_000, 950_000, 900_000];
/// Step mixes, as percentile thresholds (op below the first, wait below the second, fault
/// above): the usual mix first (what [`Scenario::to_bytes`] encodes), then fault-heavy ones
/// and an op-heavy one.
const MIXES: [(u8, u8); 4] = [(45, 75), (30, 60), (25, 50), (55, 85)];

/// What a system offers the generator: the fault kinds it takes (forgeries and BUGGIFY need
/// its cooperation), the crash points its nodes pass and the clock faults it claims to
/// tolerate.
#[derive(Clone, Debug)]
pub struct Offer {
    /// The fault kinds that may be drawn.
    pub kinds: Weather,
    /// The crash points crash steps may arm.
    pub points: Vec<&'static str>,
    /// How far `skew`, `spread clocks` and `drift` steps may go ([`FaultKind::Clock`], if
    /// `kinds` has it).
    pub clock: ClockBound,
}

impl Default for Offer {
    /// The kinds every system takes ([`Weather::universal`]), no crash points, the widest
    /// clock faults.
    fn default() -> Self {
        Offer {
            kinds: Weather::universal(),
            points: Vec::new(),
            clock: ClockBound::default(),
        }
    }
}

/// What the generator knows of the cluster it is breaking, so heals and restarts hit targets.
#[derive(Default, Clone)]
struct Damage {
    down: Vec<NodeId>,
    held: Vec<(NodeId, NodeId)>,
    cut: Vec<(NodeId, NodeId)>,
    /// A leader was crashed (which node is decided at run time).
    leader_down: bool,
}

fn byte(u: &mut Unstructured<'_>) -> u8 {
    // An exhausted input reads as zeros, like `arbitrary`'s own integers.
    u.bytes(1).map_or(0, |b| b[0])
}

/// The shortest long wait: longer than the steady time the liveness-while-faults-persist
/// checks give a connected majority (2 s), so that they get to judge.
const LONG_WAIT_MS: u32 = 2_200;

fn wait_ms(r: u8) -> u32 {
    // 10..=500 ms, skewed short: most waits are a few heartbeats. One in 32 is long
    // (2.2–2.9 s): without it a fault state almost never stays steady long enough for a
    // liveness bug under persisting faults (no PreVote under a partial partition) to show.
    match r {
        0..192 => 10 * (1 + u32::from(r % 15)),
        192..248 => 10 * (1 + u32::from(r % 50)),
        _ => LONG_WAIT_MS + 100 * u32::from(r - 248),
    }
}

impl<'a, Op: Arbitrary<'a>> Scenario<Op> {
    /// Decodes a scenario for `system` from fuzzer bytes, with the fault kinds every system
    /// takes and no crash points ([`Offer::default`]). `uniquify(op, n)` lets the system make
    /// the n-th operation's written value unique, which makes histories easier to check.
    pub fn generate(
        system: &str,
        u: &mut Unstructured<'a>,
        uniquify: impl FnMut(&mut Op, u32),
    ) -> Result<Self> {
        Self::generate_with(system, &Offer::default(), u, uniquify)
    }

    /// [`Scenario::generate`] for a system that takes the fault kinds and passes the crash
    /// points in `offer` ([`crate::systems::offer`]); nothing outside it is drawn.
    pub fn generate_with(
        system: &str,
        offer: &Offer,
        u: &mut Unstructured<'a>,
        mut uniquify: impl FnMut(&mut Op, u32),
    ) -> Result<Self> {
        let nodes = NODE_SIZES[usize::from(byte(u)) % NODE_SIZES.len()];
        let seed = u64::from_le_bytes(std::array::from_fn(|_| byte(u)));
        // One bit per fault kind: every scenario its own mix (swarm testing).
        let bits = u16::from_le_bytes([byte(u), byte(u)]);
        let weather = FaultKind::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, kind)| bits & (1 << i) != 0 && offer.kinds.allows(*kind))
            .fold(Weather::CALM, |w, (_, kind)| w.with(kind));
        // The step mix is drawn per scenario too: fault-heavy scenarios reach the
        // multi-fault choreographies (Figure 8) that an average mix almost never strings
        // together, op-heavy ones load the protocol between fewer faults.
        let (op_below, wait_below) = MIXES[usize::from(byte(u)) % MIXES.len()];
        let kinds: Vec<FaultKind> = weather.kinds().collect();
        let mut steps = Vec::new();
        let mut damage = Damage::default();
        let mut duration = 0u64;
        let mut ops = 0u32;
        while steps.len() < MAX_STEPS && !u.is_empty() && duration < MAX_DURATION_MS {
            let roll = byte(u);
            if roll == END {
                break;
            }
            let roll = roll % 100;
            let step = if (kinds.is_empty() && roll < 60) || (!kinds.is_empty() && roll < op_below)
            {
                let client = byte(u) % MAX_CLIENTS;
                let mut op = Op::arbitrary(u)?;
                ops += 1;
                uniquify(&mut op, ops);
                Step::Op { client, op }
            } else if roll < wait_below || kinds.is_empty() {
                let ms = wait_ms(byte(u));
                duration += u64::from(ms);
                Step::Wait { ms }
            } else {
                let kind = kinds[usize::from(byte(u)) % kinds.len()];
                Step::Fault(fault(u, kind, nodes, offer, &mut damage))
            };
            steps.push(step);
        }
        Ok(Scenario {
            system: system.to_string(),
            nodes,
            seed,
            weather,
            check: Vec::new(),
            clients_pinned: false,
            steps,
        })
    }
}

fn node(u: &mut Unstructured<'_>, nodes: u8) -> NodeId {
    byte(u) % nodes
}

fn link(u: &mut Unstructured<'_>, nodes: u8) -> (NodeId, NodeId) {
    let a = node(u, nodes);
    let b = (a + 1 + byte(u) % (nodes - 1)) % nodes;
    (a, b)
}

/// The skew byte `r` draws: a magnitude from [`SKEW_MS`], behind for odd sixes, within
/// `bound`.
fn skew_ms(r: u8, bound: ClockBound) -> i32 {
    let ms = SKEW_MS[usize::from(r) % SKEW_MS.len()];
    let signed = if (r / SKEW_MS.len() as u8) % 2 == 1 {
        -ms
    } else {
        ms
    };
    bound.clamp_skew(signed)
}

/// The rate byte `r` draws, within `bound`.
fn rate_ppm(r: u8, bound: ClockBound) -> u32 {
    bound.clamp_rate(RATE_PPM[usize::from(r) % RATE_PPM.len()])
}

/// The byte among the first `n` whose `decode` is nearest to `x`.
fn nearest_byte(n: u8, x: i64, decode: impl Fn(u8) -> i64) -> u8 {
    (0..n).min_by_key(|r| (decode(*r) - x).abs()).unwrap_or(0)
}

fn fault(
    u: &mut Unstructured<'_>,
    kind: FaultKind,
    nodes: u8,
    offer: &Offer,
    damage: &mut Damage,
) -> Fault {
    let points = &offer.points;
    let roll = byte(u) % 10;
    match kind {
        FaultKind::Partition => match roll {
            0..=1 => Fault::Isolate(node(u, nodes)),
            // Partitions that follow the leader: the moves behind the Raft paper's Figure 8
            // (a leader cut off with uncommitted entries, a new one elected, the old one back)
            // take a few of these in a row, rather than a lucky node choice each time.
            // From 4 nodes on, some of them keep followers with the leader (half of them in 4-
            // and 5-node clusters, two thirds in 6 and 7): it goes on taking writes it may not
            // commit (Jepsen's lost-update partition).
            2..=4 => {
                damage.cut.clear();
                match 1 + byte(u) % (nodes / 2) {
                    1 => Fault::IsolateLeader,
                    size => Fault::SplitLeader(size),
                }
            }
            5..=6 => {
                // A minority side, so that a majority remains somewhere.
                let size = 1 + byte(u) % (nodes / 2);
                let mut side = NodeSet::default();
                let mut n = node(u, nodes);
                while side.len() < usize::from(size) {
                    side = side.with(n);
                    n = (n + 1) % nodes;
                }
                Fault::Split(side)
            }
            _ => Fault::HealAll,
        },
        FaultKind::Partial => match roll {
            0..=3 => {
                let (a, b) = link(u, nodes);
                damage.cut.push((a, b));
                Fault::Cut(a, b)
            }
            4..=6 => {
                let (from, to) = link(u, nodes);
                damage.cut.push((from, to));
                Fault::OneWay { from, to }
            }
            _ => match damage.cut.pop() {
                Some((a, b)) => Fault::Heal(a, b),
                None => Fault::HealAll,
            },
        },
        FaultKind::Loss => Fault::Loss(LOSS[usize::from(byte(u)) % LOSS.len()]),
        FaultKind::Duplicate => Fault::Duplicate(DUPLICATE[usize::from(byte(u)) % DUPLICATE.len()]),
        FaultKind::Reorder => match roll {
            0..=3 => {
                let (a, b) = link(u, nodes);
                damage.held.push((a, b));
                Fault::Hold(a, b)
            }
            4..=6 if !damage.held.is_empty() => {
                let i = usize::from(byte(u)) % damage.held.len();
                let (a, b) = damage.held.swap_remove(i);
                Fault::Release(a, b)
            }
            7 => Fault::Delay(DELAY[usize::from(byte(u)) % DELAY.len()]),
            _ => {
                let (a, b) = link(u, nodes);
                Fault::Latency(a, b, LATENCY[usize::from(byte(u)) % LATENCY.len()])
            }
        },
        FaultKind::Crash | FaultKind::PowerLoss => {
            let power_loss = kind == FaultKind::PowerLoss;
            match roll {
                6..=7 if !damage.down.is_empty() => {
                    let i = usize::from(byte(u)) % damage.down.len();
                    Fault::Restart(damage.down.swap_remove(i))
                }
                6..=9 if damage.leader_down || !damage.down.is_empty() => {
                    damage.down.clear();
                    damage.leader_down = false;
                    Fault::RestartAll
                }
                3..=5 => {
                    damage.leader_down = true;
                    Fault::CrashLeader { power_loss }
                }
                // A crash in the middle of what the node is doing, at a point it passes.
                0..=1 if !points.is_empty() => {
                    let n = node(u, nodes);
                    let point = Point(points[usize::from(byte(u)) % points.len()]);
                    if !damage.down.contains(&n) {
                        damage.down.push(n);
                    }
                    Fault::CrashAt {
                        node: n,
                        point,
                        power_loss,
                    }
                }
                _ => {
                    let n = node(u, nodes);
                    if !damage.down.contains(&n) {
                        damage.down.push(n);
                    }
                    if power_loss {
                        Fault::PowerLoss(n)
                    } else {
                        Fault::Crash(n)
                    }
                }
            }
        }
        FaultKind::Garbage => Fault::Garbage(node(u, nodes)),
        FaultKind::Buggify => Fault::Buggify(roll < 7),
        FaultKind::Forge => Fault::Forge(node(u, nodes), byte(u)),
        FaultKind::Corrupt => Fault::Corrupt(CORRUPT[usize::from(byte(u)) % CORRUPT.len()]),
        FaultKind::CorruptDisk => match roll {
            // Half the time a node that is down, whose restart meets the damage at once (a
            // running node only meets it at its next restart).
            0..=4 if !damage.down.is_empty() => {
                Fault::CorruptDisk(damage.down[usize::from(byte(u)) % damage.down.len()])
            }
            _ => Fault::CorruptDisk(node(u, nodes)),
        },
        FaultKind::Nemesis => match roll {
            0..=2 => {
                damage.cut.clear();
                Fault::BounceLeader
            }
            3..=4 => {
                let (a, b) = link(u, nodes);
                Fault::Flap(a, b)
            }
            5..=6 => {
                damage.cut.clear();
                Fault::Bridge
            }
            7 => {
                damage.cut.clear();
                Fault::Ring
            }
            8 => {
                damage.cut.clear();
                Fault::IsolatePrimaries
            }
            _ => Fault::HealAll,
        },
        FaultKind::Clock => match roll {
            0..=2 => Fault::Skew(node(u, nodes), skew_ms(byte(u), offer.clock)),
            // A spread puts some node ahead of whichever leads, and some behind: what clock
            // bugs between nodes (LWW, leases dated by another node's clock) need.
            3..=6 => Fault::SpreadClocks(skew_ms(byte(u), offer.clock).unsigned_abs()),
            7..=8 => Fault::Drift(node(u, nodes), rate_ppm(byte(u), offer.clock)),
            _ => Fault::HealClocks,
        },
    }
}

/// Index of `x` in `table`, as a byte (`table` is short).
fn index_of<T: PartialEq>(table: &[T], x: &T) -> Option<u8> {
    table.iter().position(|t| t == x).map(|i| i as u8)
}

/// Index of the entry of `table` nearest to `x`.
fn nearest<T: Copy + Into<i64>>(table: &[T], x: T) -> u8 {
    let x: i64 = x.into();
    (0..table.len())
        .min_by_key(|i| (table[*i].into() - x).abs())
        .unwrap_or(0) as u8
}

/// The bytes `link` decodes to `(a, b)`.
fn link_bytes(a: NodeId, b: NodeId, nodes: u8) -> [u8; 2] {
    [a, (b + nodes - a - 1) % nodes]
}

impl<Op> Scenario<Op> {
    /// Fuzzer input that [`Scenario::generate`] decodes back into this scenario, given the
    /// bytes each operation comes from (`op_bytes`). Steps the generator cannot express
    /// (a wait that is not a multiple of 10 ms, a heal of a link it does not consider broken,
    /// ...) are approximated or skipped; `None` if the scenario exceeds the generator's bounds
    /// or an operation has no byte form.
    pub fn to_bytes(&self, op_bytes: impl Fn(&Op) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
        self.to_bytes_with(&Offer::default(), op_bytes)
    }

    /// [`Scenario::to_bytes`] for [`Scenario::generate_with`] with `offer` (a crash at a point
    /// not in it is skipped).
    pub fn to_bytes_with(
        &self,
        offer: &Offer,
        op_bytes: impl Fn(&Op) -> Option<Vec<u8>>,
    ) -> Option<Vec<u8>> {
        if self.clients_pinned {
            // The generator never pins clients.
            return None;
        }
        let nodes = self.nodes;
        let mut out = vec![index_of(&NODE_SIZES, &nodes)?];
        out.extend_from_slice(&self.seed.to_le_bytes());
        let weather = self.steps.iter().fold(self.weather, |w, s| match s {
            Step::Fault(f) => f.kind().map_or(w, |k| w.with(k)),
            _ => w,
        });
        let bits = FaultKind::ALL
            .iter()
            .enumerate()
            .filter(|(_, k)| weather.allows(**k))
            .fold(0u16, |b, (i, _)| b | (1 << i));
        out.extend_from_slice(&bits.to_le_bytes());
        let kinds: Vec<FaultKind> = weather.kinds().collect();
        out.push(0); // the usual step mix
        let mut damage = Damage::default();
        let mut count = 0;
        for step in &self.steps {
            let mut bytes = Vec::new();
            match step {
                Step::Op { client, op } => {
                    bytes.push(0);
                    bytes.push(*client);
                    bytes.extend(op_bytes(op)?);
                }
                Step::Wait { ms } => {
                    // One byte if a wait value matches, else split; round to whole 10 ms.
                    let mut left = (*ms).div_ceil(10) * 10;
                    while left > 0 {
                        let exact = (0..=255u8).find(|r| wait_ms(*r) == left);
                        let chunk = if exact.is_some() { left } else { left.min(500) };
                        let r =
                            exact.or_else(|| (0..=255u8).find(|r| wait_ms(*r) == chunk.max(10)))?;
                        out.extend_from_slice(&[if kinds.is_empty() { 60 } else { 50 }, r]);
                        count += 1;
                        left -= chunk;
                    }
                    continue;
                }
                Step::Fault(f) => {
                    let Some(kind) = f.kind().or_else(|| heal_kind(f, &kinds)) else {
                        continue;
                    };
                    let Some(fault_bytes) = fault_bytes(*f, kind, nodes, offer, &mut damage) else {
                        continue;
                    };
                    bytes.push(80);
                    bytes.push(index_of(&kinds, &kind)?);
                    bytes.extend(fault_bytes);
                }
            }
            out.extend(bytes);
            count += 1;
        }
        out.push(END);
        (count <= MAX_STEPS).then_some(out)
    }
}

/// Which weather kind can express a heal or restart.
fn heal_kind(f: &Fault, kinds: &[FaultKind]) -> Option<FaultKind> {
    let wanted: &[FaultKind] = match f {
        // Partition and nemesis decode a heal-all without touching what the generator knows
        // is cut; partial's pops a cut link (a heal-all only if none is left).
        Fault::HealAll => &[FaultKind::Partition, FaultKind::Nemesis, FaultKind::Partial],
        Fault::Heal(..) => &[FaultKind::Partial],
        Fault::Restart(_) | Fault::RestartAll => &[FaultKind::Crash, FaultKind::PowerLoss],
        Fault::Buggify(false) => &[FaultKind::Buggify],
        Fault::HealClocks => &[FaultKind::Clock],
        _ => &[],
    };
    wanted.iter().copied().find(|k| kinds.contains(k))
}

fn fault_bytes(
    f: Fault,
    kind: FaultKind,
    nodes: u8,
    offer: &Offer,
    damage: &mut Damage,
) -> Option<Vec<u8>> {
    let points = &offer.points;
    Some(match (kind, f) {
        (FaultKind::Partition, Fault::Isolate(n)) => vec![0, n],
        (FaultKind::Partition, Fault::IsolateLeader) => {
            damage.cut.clear();
            vec![2, 0]
        }
        (FaultKind::Partition, Fault::SplitLeader(size)) => {
            // A side of one is `isolate leader`.
            if size > nodes / 2 {
                return None;
            }
            damage.cut.clear();
            vec![2, size.max(1) - 1]
        }
        (FaultKind::Partition, Fault::Split(side)) => {
            // The generator builds a side of `size` consecutive nodes from a start node.
            let size = side.len() as u8;
            let start = (0..nodes).find(|s| (0..size).all(|k| side.contains((s + k) % nodes)))?;
            if size == 0 || size > nodes / 2 {
                return None;
            }
            vec![5, size - 1, start]
        }
        (FaultKind::Partition, Fault::HealAll) => vec![7],
        (FaultKind::Partial, Fault::Cut(a, b)) => {
            damage.cut.push((a, b));
            let l = link_bytes(a, b, nodes);
            vec![0, l[0], l[1]]
        }
        (FaultKind::Partial, Fault::OneWay { from, to }) => {
            damage.cut.push((from, to));
            let l = link_bytes(from, to, nodes);
            vec![4, l[0], l[1]]
        }
        (FaultKind::Partial, Fault::Heal(..) | Fault::HealAll) => {
            damage.cut.pop();
            vec![7]
        }
        (FaultKind::Loss, Fault::Loss(p)) => vec![0, nearest(&LOSS, p)],
        (FaultKind::Duplicate, Fault::Duplicate(p)) => vec![0, nearest(&DUPLICATE, p)],
        (FaultKind::Reorder, Fault::Delay(p)) => vec![7, nearest(&DELAY, p)],
        (FaultKind::Reorder, Fault::Hold(a, b)) => {
            damage.held.push((a, b));
            let l = link_bytes(a, b, nodes);
            vec![0, l[0], l[1]]
        }
        (FaultKind::Reorder, Fault::Release(a, b)) => {
            let i = damage
                .held
                .iter()
                .position(|h| *h == (a, b))
                .or_else(|| damage.held.iter().position(|h| *h == (b, a)))?;
            damage.held.swap_remove(i);
            vec![4, i as u8]
        }
        (FaultKind::Reorder, Fault::Latency(a, b, ms)) => {
            let l = link_bytes(a, b, nodes);
            // roll 8 is always a latency, whatever is held.
            vec![8, l[0], l[1], nearest(&LATENCY, ms)]
        }
        (FaultKind::Crash | FaultKind::PowerLoss, Fault::Restart(n)) => {
            let i = damage.down.iter().position(|d| *d == n)?;
            damage.down.swap_remove(i);
            vec![6, i as u8]
        }
        (FaultKind::Crash | FaultKind::PowerLoss, Fault::RestartAll) => {
            if !damage.leader_down && damage.down.is_empty() {
                return None;
            }
            damage.down.clear();
            damage.leader_down = false;
            vec![8]
        }
        (FaultKind::Crash, Fault::CrashLeader { power_loss: false })
        | (FaultKind::PowerLoss, Fault::CrashLeader { power_loss: true }) => {
            damage.leader_down = true;
            vec![3]
        }
        (FaultKind::Crash, Fault::Crash(n)) | (FaultKind::PowerLoss, Fault::PowerLoss(n)) => {
            if !damage.down.contains(&n) {
                damage.down.push(n);
            }
            vec![2, n]
        }
        (
            FaultKind::Crash | FaultKind::PowerLoss,
            Fault::CrashAt {
                node,
                point,
                power_loss,
            },
        ) if power_loss == (kind == FaultKind::PowerLoss) => {
            let i = points.iter().position(|p| *p == point.0)?;
            if !damage.down.contains(&node) {
                damage.down.push(node);
            }
            vec![0, node, i as u8]
        }
        (FaultKind::Garbage, Fault::Garbage(n)) => vec![0, n],
        (FaultKind::Buggify, Fault::Buggify(on)) => vec![if on { 0 } else { 9 }],
        (FaultKind::Forge, Fault::Forge(n, k)) => vec![0, n, k],
        (FaultKind::Corrupt, Fault::Corrupt(p)) => vec![0, nearest(&CORRUPT, p)],
        (FaultKind::CorruptDisk, Fault::CorruptDisk(n)) => {
            match damage.down.iter().position(|d| *d == n) {
                Some(i) => vec![0, i as u8],
                None => vec![5, n],
            }
        }
        (FaultKind::Nemesis, Fault::BounceLeader) => {
            damage.cut.clear();
            vec![0]
        }
        (FaultKind::Nemesis, Fault::Flap(a, b)) => {
            let l = link_bytes(a, b, nodes);
            vec![3, l[0], l[1]]
        }
        (FaultKind::Nemesis, Fault::Bridge) => {
            damage.cut.clear();
            vec![5]
        }
        (FaultKind::Nemesis, Fault::Ring) => {
            damage.cut.clear();
            vec![7]
        }
        (FaultKind::Nemesis, Fault::IsolatePrimaries) => {
            damage.cut.clear();
            vec![8]
        }
        (FaultKind::Nemesis, Fault::HealAll) => vec![9],
        // The nearest skew and rate the generator draws within the offer's bound.
        (FaultKind::Clock, Fault::Skew(n, ms)) => {
            let span = 2 * SKEW_MS.len() as u8;
            let r = nearest_byte(span, i64::from(ms), |r| i64::from(skew_ms(r, offer.clock)));
            vec![0, n, r]
        }
        (FaultKind::Clock, Fault::SpreadClocks(ms)) => {
            // The first six skew bytes draw each magnitude ahead.
            let r = nearest_byte(SKEW_MS.len() as u8, i64::from(ms), |r| {
                i64::from(skew_ms(r, offer.clock).unsigned_abs())
            });
            vec![3, r]
        }
        (FaultKind::Clock, Fault::Drift(n, ppm)) => {
            let r = nearest_byte(RATE_PPM.len() as u8, i64::from(ppm), |r| {
                i64::from(rate_ppm(r, offer.clock))
            });
            vec![7, n, r]
        }
        (FaultKind::Clock, Fault::HealClocks) => vec![9],
        _ => return None,
    })
}

/// The bytes the generator decodes for `squall run SYSTEM --seed N`.
///
/// The generator is xoshiro256++ seeded through SplitMix64 (`rand_xoshiro`'s
/// `Xoshiro256PlusPlus`), a published algorithm with reference outputs, so a seed names the
/// same bytes on every platform and in every squall release that keeps this function. The
/// runner, the transport and the built-in systems derive their randomness the same way. What
/// squall cannot pin: turmoil's own RNG (rand's `SmallRng` inside turmoil `=0.7.2`, which
/// draws message latencies and seeds each host's tokio scheduler). rand documents it as
/// unportable: it is xoshiro256++ on 64-bit targets and another algorithm on 32-bit ones, so
/// a trace is the same across machines only between 64-bit targets.
pub fn seed_bytes(seed: u64) -> Vec<u8> {
    use rand::{RngCore, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut bytes = vec![0u8; 512];
    rng.fill_bytes(&mut bytes);
    bytes
}

impl<Op> Scenario<Op> {
    /// The scenario `squall run SYSTEM --seed N` runs: generated from [`seed_bytes`] with the
    /// workload's operations and what `offer` allows, its own seed set to `seed` so that the
    /// file shows it.
    pub fn from_seed<W: crate::workload::Workload<Op = Op>>(
        system: &str,
        offer: &Offer,
        seed: u64,
    ) -> std::result::Result<Self, String>
    where
        Op: for<'b> Arbitrary<'b>,
    {
        let bytes = seed_bytes(seed);
        let mut u = Unstructured::new(&bytes);
        let mut scenario = Scenario::generate_with(system, offer, &mut u, W::uniquify)
            .map_err(|e| format!("generating a scenario from seed {seed}: {e}"))?;
        scenario.seed = seed;
        Ok(scenario)
    }
}

#[cfg(test)]
mod tests {
    use super::seed_bytes;

    /// A seed names the same scenario everywhere: these bytes are xoshiro256++'s (seeded
    /// through SplitMix64) on every platform, and what squall's seeds decoded to before it
    /// pinned the algorithm (rand 0.9's `SmallRng` on 64-bit targets).
    #[test]
    fn seed_bytes_are_pinned() {
        let hex = |seed| {
            seed_bytes(seed)[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(hex(0), "df230b49615d175307d580c33d6fda61");
        assert_eq!(hex(7), "3d91ae2a001a2c0e149e4efaddc80f2c");
        assert_eq!(hex(u64::MAX), "b2278e94cef8cc56905b5a2e438885e6");
        assert_eq!(seed_bytes(7).len(), 512);
    }
}
