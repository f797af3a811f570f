//! Scenarios from bytes, with `arbitrary`.
//!
//! The bounds are chosen so that random bytes give interesting scenarios, not mostly no-ops:
//! every byte string decodes (running out of bytes just ends the scenario), each step costs a
//! few bytes so libFuzzer's mutations map to local changes, faults are drawn only from the
//! scenario's weather, heals and restarts aim at what is actually broken, and waits are
//! spread around the protocols' timeouts (tens to hundreds of milliseconds).

use super::{Fault, FaultKind, NodeId, NodeSet, Scenario, Step, Weather, MAX_CLIENTS};
use arbitrary::{Arbitrary, Result, Unstructured};

/// Most steps a generated scenario has.
pub const MAX_STEPS: usize = 48;
/// Most simulated time the steps of a generated scenario ask for.
pub const MAX_DURATION_MS: u64 = 6_000;

/// What the generator knows of the cluster it is breaking, so heals and restarts hit targets.
#[derive(Default)]
struct Damage {
    down: NodeSet,
    held: Vec<(NodeId, NodeId)>,
    cut: Vec<(NodeId, NodeId)>,
}

impl<'a, Op: Arbitrary<'a>> Scenario<Op> {
    /// Decodes a scenario for `system` from fuzzer bytes. `uniquify(op, n)` lets the system make
    /// the n-th operation's written value unique, which makes histories easier to check.
    pub fn generate(
        system: &str,
        u: &mut Unstructured<'a>,
        mut uniquify: impl FnMut(&mut Op, u32),
    ) -> Result<Self> {
        let nodes = *u.choose(&[3u8, 3, 3, 3, 5, 5, 5, 4, 6, 7])?;
        let seed = u64::arbitrary(u)?;
        // One bit per fault kind: every scenario its own mix (swarm testing).
        let bits = u8::arbitrary(u)?;
        let weather = FaultKind::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .fold(Weather::CALM, |w, (_, kind)| w.with(kind));
        let kinds: Vec<FaultKind> = weather.kinds().collect();
        let mut steps = Vec::new();
        let mut damage = Damage::default();
        let mut duration = 0u64;
        let mut ops = 0u32;
        while steps.len() < MAX_STEPS && !u.is_empty() && duration < MAX_DURATION_MS {
            let roll = u8::arbitrary(u)? % 100;
            let step = if roll < 45 || (kinds.is_empty() && roll < 60) {
                let client = u8::arbitrary(u)? % MAX_CLIENTS;
                let mut op = Op::arbitrary(u)?;
                ops += 1;
                uniquify(&mut op, ops);
                Step::Op { client, op }
            } else if roll < 75 || kinds.is_empty() {
                // 10..=500 ms, skewed short: most waits are a few heartbeats.
                let r = u8::arbitrary(u)?;
                let ms = if r < 192 {
                    10 * (1 + u32::from(r % 15))
                } else {
                    10 * (1 + u32::from(r % 50))
                };
                duration += u64::from(ms);
                Step::Wait { ms }
            } else {
                let kind = *u.choose(&kinds)?;
                Step::Fault(fault(u, kind, nodes, &mut damage)?)
            };
            steps.push(step);
        }
        Ok(Scenario {
            system: system.to_string(),
            nodes,
            seed,
            weather,
            steps,
        })
    }
}

fn node(u: &mut Unstructured<'_>, nodes: u8) -> Result<NodeId> {
    Ok(u8::arbitrary(u)? % nodes)
}

fn link(u: &mut Unstructured<'_>, nodes: u8) -> Result<(NodeId, NodeId)> {
    let a = node(u, nodes)?;
    let b = (a + 1 + u8::arbitrary(u)? % (nodes - 1)) % nodes;
    Ok((a, b))
}

fn fault(
    u: &mut Unstructured<'_>,
    kind: FaultKind,
    nodes: u8,
    damage: &mut Damage,
) -> Result<Fault> {
    let roll = u8::arbitrary(u)? % 10;
    Ok(match kind {
        FaultKind::Partition => match roll {
            0..=3 => Fault::Isolate(node(u, nodes)?),
            4..=6 => {
                // A minority side, so that a majority remains somewhere.
                let size = 1 + u8::arbitrary(u)? % (nodes / 2);
                let mut side = NodeSet::default();
                let mut n = node(u, nodes)?;
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
                let (a, b) = link(u, nodes)?;
                damage.cut.push((a, b));
                Fault::Cut(a, b)
            }
            4..=6 => {
                let (from, to) = link(u, nodes)?;
                damage.cut.push((from, to));
                Fault::OneWay { from, to }
            }
            _ => match damage.cut.pop() {
                Some((a, b)) => Fault::Heal(a, b),
                None => Fault::HealAll,
            },
        },
        FaultKind::Loss => Fault::Loss(*u.choose(&[5u8, 10, 20, 30, 50, 0])?),
        FaultKind::Duplicate => Fault::Duplicate(*u.choose(&[10u8, 30, 50, 100, 0])?),
        FaultKind::Reorder => match roll {
            0..=3 => {
                let (a, b) = link(u, nodes)?;
                damage.held.push((a, b));
                Fault::Hold(a, b)
            }
            4..=7 if !damage.held.is_empty() => {
                let i = usize::from(u8::arbitrary(u)?) % damage.held.len();
                let (a, b) = damage.held.swap_remove(i);
                Fault::Release(a, b)
            }
            _ => {
                let (a, b) = link(u, nodes)?;
                Fault::Latency(a, b, *u.choose(&[5u16, 20, 50, 100, 200])?)
            }
        },
        FaultKind::Crash | FaultKind::PowerLoss => {
            let down: Vec<NodeId> = damage.down.iter().collect();
            if roll >= 6 && !down.is_empty() {
                let n = *u.choose(&down)?;
                damage.down = NodeSet(damage.down.0 & !(1 << n));
                Fault::Restart(n)
            } else {
                let n = node(u, nodes)?;
                damage.down = damage.down.with(n);
                if kind == FaultKind::Crash {
                    Fault::Crash(n)
                } else {
                    Fault::PowerLoss(n)
                }
            }
        }
        FaultKind::Garbage => Fault::Garbage(node(u, nodes)?),
    })
}
