//! Valid observations and no dropped siblings: what a single read may return at all.

use super::causality::Analysis;
use super::properties::{NO_DROPPED_SIBLINGS, VALID_OBSERVATIONS};
use super::Anomaly;

/// Reports observations that name no real write, and reads that return a value together
/// with a write whose context overwrote it.
pub(crate) fn valid_observations(a: &Analysis<'_>, out: &mut Vec<Anomaly>) {
    for bad in &a.invalid {
        let op = a.op(bad.op);
        let what = if op.action.writes() {
            "names in its context"
        } else {
            "observes"
        };
        let mut ops = vec![bad.op];
        ops.extend(bad.writer);
        out.push(Anomaly::new(
            &VALID_OBSERVATIONS,
            a,
            &ops,
            format!("{} {what} {}, but {}", op.describe(), bad.value, bad.why),
        ));
    }
    for r in a.ok_reads() {
        let observed = &a.observed[r as usize];
        let t = a.contexts.targets(observed.iter().copied());
        for &v in &a.returned[r as usize] {
            if !a.contexts.precedes_any(&a.contexts, v, &t) {
                continue;
            }
            let o = a
                .first_after(&a.contexts, v, observed)
                .expect("a write after v among the observed");
            out.push(Anomaly::new(
                &VALID_OBSERVATIONS,
                a,
                &[r, v, o],
                format!(
                    "{} returns {} together with {}, which overwrote it: the context passed with {} covers {}",
                    a.describe(r),
                    a.values(&[v]),
                    a.values(&[o]),
                    a.describe(o),
                    a.values(&[v]),
                ),
            ));
        }
    }
}

/// Reports reads whose context names a live write that they neither return nor show
/// overwritten by another write they observed (per-key happens-before).
pub(crate) fn no_dropped_siblings(a: &Analysis<'_>, out: &mut Vec<Anomaly>) {
    for r in a.ok_reads() {
        let observed = &a.observed[r as usize];
        let returned = &a.returned[r as usize];
        let t = a.key_hb.targets(observed.iter().copied());
        for &e in observed {
            if !a.is_live(e) || returned.binary_search(&e).is_ok() {
                continue;
            }
            if a.key_hb.precedes_any(&a.contexts, e, &t) {
                continue;
            }
            out.push(Anomaly::new(
                &NO_DROPPED_SIBLINGS,
                a,
                &[r, e],
                format!(
                    "{} names {} in its context but neither returns it nor observed any write after it: a sibling was dropped ({})",
                    a.describe(r),
                    a.values(&[e]),
                    a.describe(e),
                ),
            ));
        }
    }
}
