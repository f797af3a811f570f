//! What the HTML report draws: every frame between nodes and clients (sent, delivered,
//! dropped and why), the node states the system publishes, the faults in force, and the
//! steps. Recorded only when asked for (`run --html`, `replay --html`, `shrink --html`, and a
//! chaos finding's report): the chaos and fuzz hot paths hold no [`Recorder`] at all, so
//! what they pay is one `Option` check per frame.
//!
//! Frames are matched to their deliveries by sender, receiver and a hash of their bytes, in
//! the order they were sent: copies with identical bytes on one link are indistinguishable to
//! the receiver too, so first-sent, first-matched is as good as any order.

use super::trace::hash;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

/// Most frames a recording keeps one by one; those after it are counted only (the page says
/// so). About 150 bytes each in the page: a 60-second run of five nodes stays well under it.
pub const MAX_FRAMES: usize = 30_000;

/// Longest message summary kept, in characters.
pub const MAX_SUMMARY: usize = 160;

/// One frame a transport sent: put on the wire, or dropped by a cut link or message loss.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameRecord {
    /// Sending lane (an index into [`Recording::lanes`]).
    pub from: u16,
    /// Receiving lane.
    pub to: u16,
    /// When the sender sent it, in simulated microseconds.
    pub sent: u64,
    /// When the receiver read each copy of it (two for a duplicated frame), in simulated
    /// microseconds.
    pub delivered: Vec<u64>,
    /// Why it was not delivered, if the transport knows: `partition`, `loss`; a frame with
    /// neither a delivery nor a reason was lost in flight (its link cut, its receiver down
    /// or restarted before reading it).
    pub dropped: Option<String>,
    /// Sent twice (message duplication).
    pub duplicated: bool,
    /// Held back by its sender for this many milliseconds (message delay).
    pub delay_ms: u64,
    /// A bit was flipped in it on the wire.
    pub corrupted: bool,
    /// The message's kind (its enum variant's name), or `frame` for raw frames.
    pub kind: String,
    /// A short rendering of the message.
    pub summary: String,
    /// Whether it looks like a heartbeat (an append with no entries, or a kind named so).
    pub heartbeat: bool,
    /// Frame length in bytes.
    pub bytes: u32,
}

/// A node's published state changed (or the node went down or came back).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRecord {
    /// Simulated microseconds.
    pub at: u64,
    /// The node.
    pub node: u8,
    /// What it publishes now ("leader t3 commit 5", "down"; empty: nothing).
    pub state: String,
}

/// The network faults in force from a moment on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRecord {
    /// Simulated microseconds.
    pub at: u64,
    /// Directed node pairs `[from, to]` whose frames do not get through (cut or held).
    pub cut: Vec<[u8; 2]>,
    /// Node pairs on a slow link (a latency fault).
    pub slow: Vec<[u8; 2]>,
    /// Nodes down.
    pub down: Vec<u8>,
    /// Message loss percent.
    pub loss: u8,
    /// Duplication percent.
    pub duplicate: u8,
    /// Delay percent.
    pub delay: u8,
    /// Corruption percent.
    pub corrupt: u8,
}

impl FaultRecord {
    /// Whether nothing is in force.
    pub fn is_calm(&self) -> bool {
        self.cut.is_empty()
            && self.slow.is_empty()
            && self.down.is_empty()
            && self.loss == 0
            && self.duplicate == 0
            && self.delay == 0
            && self.corrupt == 0
    }
}

/// A scenario step as it began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1-based step number.
    pub step: usize,
    /// Simulated microseconds.
    pub at: u64,
    /// The step's text.
    pub text: String,
}

/// The cluster's protocol phase changed (what fault coverage is tabulated by).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// Simulated microseconds.
    pub at: u64,
    /// The phase's name.
    pub phase: String,
}

/// One operation of a linearizability explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainedOp {
    /// The client process.
    pub process: u64,
    /// The operation as text (`process 0: write(3) -> 3`).
    pub text: String,
    /// Invocation time (the history's unit: nanoseconds in squall's histories).
    pub call: u64,
    /// Completion time, if it completed.
    pub ret: Option<u64>,
    /// The invocation's 1-based line or event number.
    pub line: usize,
}

/// Why a history is not linearizable, as the page shows it: the longest linearizable
/// prefix the search found and the operations that cannot go after it (Porcupine's and
/// Jepsen's picture).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explained {
    /// The model checked against.
    pub model: String,
    /// The partition (key) that failed.
    pub partition: Option<String>,
    /// Operations in that partition.
    pub partition_ops: usize,
    /// The longest linearizable prefix, in linearization order.
    pub prefix: Vec<ExplainedOp>,
    /// The model's state after it.
    pub state: String,
    /// The operations that cannot go next, each with the reason.
    pub stuck: Vec<(ExplainedOp, String)>,
}

impl From<&crate::check::linearizability::Explanation> for Explained {
    fn from(e: &crate::check::linearizability::Explanation) -> Self {
        let op = |o: &crate::check::linearizability::Operation| ExplainedOp {
            process: o.process,
            text: o.to_string(),
            call: o.call,
            ret: o.ret,
            line: o.line,
        };
        Explained {
            model: e.model.to_string(),
            partition: e.partition.clone(),
            partition_ops: e.partition_ops,
            prefix: e.prefix.iter().map(op).collect(),
            state: e.state.clone(),
            stuck: e
                .stuck
                .iter()
                .map(|s| (op(&s.op), s.reason.clone()))
                .collect(),
        }
    }
}

/// Everything recorded of one run, for the HTML report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    /// Lane names: the nodes (`n0`..), then the clients (`c0`..), then `harness` (garbage
    /// and forged frames).
    pub lanes: Vec<String>,
    /// Frames, in the order they were sent.
    pub frames: Vec<FrameRecord>,
    /// Frames sent after [`MAX_FRAMES`], counted only.
    pub frames_omitted: u64,
    /// Node state changes.
    pub states: Vec<StateRecord>,
    /// Protocol phase changes.
    pub phases: Vec<PhaseRecord>,
    /// Network fault changes.
    pub faults: Vec<FaultRecord>,
    /// Steps as they began.
    pub steps: Vec<StepRecord>,
    /// When the liveness phase began (everything healed), in simulated microseconds.
    pub liveness_at: Option<u64>,
    /// The linearizability explanation, when the history check failed.
    pub explained: Option<Explained>,
}

/// Which lane an address is: a node by IP (any port), a client by IP and port.
#[derive(Clone, Debug)]
pub struct LaneAddr {
    /// The address.
    pub addr: SocketAddr,
    /// Whether the port must match too.
    pub by_port: bool,
    /// The lane.
    pub lane: u16,
}

/// Records a run as it goes. Shared (`Rc<RefCell<_>>`) by the runner and every simulated
/// transport of the run.
#[derive(Debug, Default)]
pub struct Recorder {
    recording: Recording,
    addrs: Vec<LaneAddr>,
    /// The lane of unknown senders (the harness's).
    other: u16,
    /// Frames on the wire not yet read: (from, to, hash of bytes) → frame indices, in
    /// sending order.
    pending: BTreeMap<(u16, u16, u64), VecDeque<usize>>,
    /// Last state published per node, last phase and last fault record, to record changes
    /// only.
    last_states: Vec<String>,
    last_phase: String,
}

/// Simulated time in microseconds.
pub fn micros(at: Duration) -> u64 {
    at.as_micros() as u64
}

impl Recorder {
    /// A recorder for these lanes; an address matching none of `addrs` is the last lane.
    pub fn new(lanes: Vec<String>, addrs: Vec<LaneAddr>) -> Self {
        let other = lanes.len().saturating_sub(1) as u16;
        Recorder {
            recording: Recording {
                lanes,
                ..Recording::default()
            },
            addrs,
            other,
            ..Recorder::default()
        }
    }

    fn lane(&self, addr: SocketAddr) -> u16 {
        self.addrs
            .iter()
            .find(|a| a.addr.ip() == addr.ip() && (!a.by_port || a.addr.port() == addr.port()))
            .map_or(self.other, |a| a.lane)
    }

    /// A frame left `from` for `to` at `at`: `copies` of it go on the wire (0: lost),
    /// `cut`: its link drops it, after `delay` if held back. Returns its index, to describe
    /// its message ([`Recorder::describe`]) and report a later drop ([`Recorder::dropped`]).
    #[allow(clippy::too_many_arguments)]
    pub fn sent(
        &mut self,
        at: Duration,
        from: SocketAddr,
        to: SocketAddr,
        bytes: &[u8],
        copies: usize,
        cut: bool,
        delay: Option<Duration>,
        corrupted: bool,
    ) -> Option<usize> {
        if self.recording.frames.len() >= MAX_FRAMES {
            self.recording.frames_omitted += 1;
            return None;
        }
        let (from, to) = (self.lane(from), self.lane(to));
        let index = self.recording.frames.len();
        self.recording.frames.push(FrameRecord {
            from,
            to,
            sent: micros(at),
            delivered: Vec::new(),
            dropped: if cut {
                Some("partition".to_string())
            } else if copies == 0 {
                Some("loss".to_string())
            } else {
                None
            },
            duplicated: copies > 1,
            delay_ms: delay.map_or(0, |d| d.as_millis() as u64),
            corrupted,
            kind: "frame".to_string(),
            summary: format!("{} bytes", bytes.len()),
            heartbeat: false,
            bytes: bytes.len() as u32,
        });
        if !cut {
            let queue = self
                .pending
                .entry((from, to, hash_bytes(bytes)))
                .or_default();
            for _ in 0..copies {
                queue.push_back(index);
            }
        }
        Some(index)
    }

    /// Frame `index` carries a message of this kind, so summarized, a heartbeat or not
    /// ([`summarize`]).
    pub fn describe(&mut self, index: usize, (kind, summary, heartbeat): (String, String, bool)) {
        if let Some(f) = self.recording.frames.get_mut(index) {
            f.kind = kind;
            f.summary = summary;
            f.heartbeat = heartbeat;
        }
    }

    /// Frame `index`, held back by its sender, met a cut link when it went out.
    pub fn dropped(&mut self, index: usize, why: &str) {
        if let Some(f) = self.recording.frames.get_mut(index) {
            f.dropped = Some(why.to_string());
        }
        for queue in self.pending.values_mut() {
            queue.retain(|i| *i != index);
        }
    }

    /// `to` read a frame from `from` at `at`.
    pub fn received(&mut self, at: Duration, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        let key = (self.lane(from), self.lane(to), hash_bytes(bytes));
        let Some(queue) = self.pending.get_mut(&key) else {
            return;
        };
        if let Some(index) = queue.pop_front() {
            // Each host runs a whole tick on its own clock, one host after another: a frame
            // sent late in a tick can be read by a host polled after the sender at an earlier
            // instant of the same tick. Drawn as read when sent, not before.
            let frame = &mut self.recording.frames[index];
            frame.delivered.push(micros(at).max(frame.sent));
        }
        if queue.is_empty() {
            self.pending.remove(&key);
        }
    }

    /// Node `node` publishes `state` at `at` (recorded if it changed).
    pub fn state(&mut self, at: Duration, node: u8, state: String) {
        let i = usize::from(node);
        if self.last_states.len() <= i {
            self.last_states.resize(i + 1, String::new());
        }
        if self.last_states[i] != state {
            self.last_states[i].clone_from(&state);
            self.recording.states.push(StateRecord {
                at: micros(at),
                node,
                state,
            });
        }
    }

    /// The cluster is in protocol phase `phase` at `at` (recorded if it changed).
    pub fn phase(&mut self, at: Duration, phase: &str) {
        if self.last_phase != phase {
            self.last_phase = phase.to_string();
            self.recording.phases.push(PhaseRecord {
                at: micros(at),
                phase: phase.to_string(),
            });
        }
    }

    /// The network faults in force from `faults.at` on (recorded if they changed).
    pub fn faults(&mut self, faults: FaultRecord) {
        let same = self.recording.faults.last().is_some_and(|last| {
            FaultRecord {
                at: faults.at,
                ..last.clone()
            } == faults
        });
        let first_calm = self.recording.faults.is_empty() && faults.is_calm();
        if !same && !first_calm {
            self.recording.faults.push(faults);
        }
    }

    /// Step `step` (1-based), `text`, begins at `at`.
    pub fn step(&mut self, at: Duration, step: usize, text: String) {
        self.recording.steps.push(StepRecord {
            step,
            at: micros(at),
            text,
        });
    }

    /// The liveness phase begins at `at`.
    pub fn liveness(&mut self, at: Duration) {
        self.recording.liveness_at = Some(micros(at));
    }

    /// The explanation of a failed history check.
    pub fn explained(&mut self, explained: Explained) {
        self.recording.explained = Some(explained);
    }

    /// What was recorded, with a reason for each frame that was never read where the
    /// states and faults recorded tell one.
    pub fn finish(mut self) -> Recording {
        explain_losses(&mut self.recording);
        self.recording
    }
}

/// How long after a frame is sent its receiver going down, or its link being cut, still
/// explains why it was never read: the simulator's largest default latency and then some.
const IN_FLIGHT_US: u64 = 50_000;

/// Gives each frame that was never read and has no reason yet the one the recording shows:
/// its receiver (a node) was down when it arrived, its sender went down while holding it
/// back, or its link was cut or held while it was in flight. Others stay unexplained (read by
/// no one: a receiver that restarted and rebound, a host that stopped reading).
fn explain_losses(rec: &mut Recording) {
    let is_node = |lane: u16| {
        rec.lanes
            .get(usize::from(lane))
            .is_some_and(|l| l.starts_with('n') && l[1..].parse::<u8>().is_ok())
    };
    let node_lanes: Vec<bool> = (0..rec.lanes.len() as u16).map(is_node).collect();
    // A node's state at `t`: the last record at or before it.
    let state_at = |node: u16, t: u64| {
        rec.states
            .iter()
            .rev()
            .find(|s| u16::from(s.node) == node && s.at <= t)
            .map(|s| s.state.as_str())
    };
    let cut_at = |from: u16, to: u16, t: u64| {
        rec.faults
            .iter()
            .rev()
            .find(|f| f.at <= t)
            .is_some_and(|f| {
                f.cut
                    .iter()
                    .any(|c| u16::from(c[0]) == from && u16::from(c[1]) == to)
            })
    };
    let node = |lane: u16| node_lanes.get(usize::from(lane)).copied().unwrap_or(false);
    let mut reasons = Vec::new();
    for (i, f) in rec.frames.iter().enumerate() {
        if !f.delivered.is_empty() || f.dropped.is_some() {
            continue;
        }
        let arrives = f.sent + f.delay_ms * 1000;
        let down = |lane: u16, t: u64| node(lane) && state_at(lane, t) == Some("down");
        let reason = if down(f.to, arrives) || down(f.to, arrives + IN_FLIGHT_US) {
            Some("receiver down")
        } else if f.delay_ms > 0 && down(f.from, arrives) {
            Some("sender down while holding it back")
        } else if node(f.from)
            && node(f.to)
            && (cut_at(f.from, f.to, arrives) || cut_at(f.from, f.to, arrives + IN_FLIGHT_US))
        {
            Some("link cut or held while in flight")
        } else {
            None
        };
        if let Some(r) = reason {
            reasons.push((i, r));
        }
    }
    for (i, r) in reasons {
        rec.frames[i].dropped = Some(r.to_string());
    }
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    // The trace's FNV-1a over the bytes (not over text, but the same function).
    bytes.iter().fold(hash(""), |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A short rendering of a message for the report: its kind (the enum variant's name, or the
/// type's shape), a summary in a compact JSON-like form cut at [`MAX_SUMMARY`] characters, and
/// whether it looks like a heartbeat. Only called while recording.
pub fn summarize<M: Serialize + ?Sized>(msg: &M) -> (String, String, bool) {
    let value = match serde_json::to_value(msg) {
        Ok(v) => v,
        Err(_) => {
            return (
                "message".to_string(),
                "(not summarizable)".to_string(),
                false,
            )
        }
    };
    let kind = match &value {
        serde_json::Value::Object(map) if map.len() == 1 => {
            map.keys().next().cloned().unwrap_or_default()
        }
        serde_json::Value::String(s) => s.clone(),
        _ => "message".to_string(),
    };
    let mut summary = String::new();
    compact(&value, &mut summary);
    if summary.chars().count() > MAX_SUMMARY {
        summary = summary.chars().take(MAX_SUMMARY - 1).collect::<String>() + "…";
    }
    let heartbeat = kind.to_ascii_lowercase().contains("heartbeat")
        || kind.to_ascii_lowercase().contains("ping")
        || empty_entries(&value);
    (kind, summary, heartbeat)
}

/// An append that carries no entries: a heartbeat, in Raft and its kin.
fn empty_entries(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| {
            (k == "entries" && v.as_array().is_some_and(Vec::is_empty))
                || (map.len() == 1 && empty_entries(v))
        }),
        _ => false,
    }
}

/// `{"A":{"x":1,"ys":[..]}}` as `A{x:1 ys:[..]}` (fields in serde_json's order: by name); long
/// arrays (a payload's bytes) by length.
fn compact(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    if out.len() > MAX_SUMMARY * 2 {
        return;
    }
    match value {
        Value::Null => out.push('-'),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            if items.len() > 8 && items.iter().all(Value::is_number) {
                out.push_str(&format!("[{} numbers]", items.len()));
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                compact(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            if map.len() == 1 {
                let (k, v) = map.iter().next().expect("one entry");
                if v.is_object() {
                    out.push_str(k);
                    compact(v, out);
                    return;
                }
            }
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                compact(v, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    #[derive(Serialize)]
    enum Msg {
        Append { term: u64, entries: Vec<u8> },
        Vote { term: u64 },
    }

    fn addr(last: u8, port: u16) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), port)
    }

    #[test]
    fn summaries_name_the_kind_and_spot_heartbeats() {
        let (kind, summary, hb) = summarize(&Msg::Append {
            term: 3,
            entries: vec![],
        });
        assert_eq!(
            (kind.as_str(), summary.as_str(), hb),
            ("Append", "Append{entries:[] term:3}", true)
        );
        let (kind, _, hb) = summarize(&Msg::Vote { term: 1 });
        assert_eq!((kind.as_str(), hb), ("Vote", false));
        let (_, long, _) = summarize(&vec!["x".repeat(400)]);
        assert_eq!(long.chars().count(), MAX_SUMMARY);
    }

    /// A recorder of nodes n0 and n1 (and the harness), with their addresses.
    fn two_nodes() -> (Recorder, SocketAddr, SocketAddr) {
        let lanes = vec!["n0".into(), "n1".into(), "harness".into()];
        let addrs = (0..2)
            .map(|i| LaneAddr {
                addr: addr(i + 1, 0),
                by_port: false,
                lane: u16::from(i),
            })
            .collect();
        (Recorder::new(lanes, addrs), addr(1, 7000), addr(2, 7000))
    }

    #[test]
    fn deliveries_match_their_frames_in_sending_order_and_drops_keep_their_reason() {
        let (mut r, a, b) = two_nodes();
        let ms = Duration::from_millis;
        r.sent(ms(1), a, b, b"x", 2, false, None, false);
        r.sent(ms(2), a, b, b"x", 1, false, None, false);
        r.sent(ms(3), a, b, b"y", 0, false, None, false);
        r.sent(ms(4), b, a, b"z", 1, true, None, false);
        for t in [5, 6, 7] {
            r.received(ms(t), a, b, b"x");
        }
        let rec = r.finish();
        assert_eq!(rec.frames[0].delivered, vec![5000, 6000]);
        assert!(rec.frames[0].duplicated);
        assert_eq!(rec.frames[1].delivered, vec![7000]);
        assert_eq!(rec.frames[2].dropped.as_deref(), Some("loss"));
        assert_eq!(rec.frames[3].dropped.as_deref(), Some("partition"));
        assert_eq!(rec.frames[3].to, 0);
    }

    #[test]
    fn a_frame_never_read_is_explained_by_its_receiver_going_down() {
        let (mut r, a, b) = two_nodes();
        let ms = Duration::from_millis;
        r.state(ms(0), 1, "follower".into());
        r.sent(ms(10), a, b, b"x", 1, false, None, false);
        r.state(ms(12), 1, "down".into());
        r.sent(ms(20), b, a, b"y", 1, false, None, false);
        let rec = r.finish();
        assert_eq!(rec.frames[0].dropped.as_deref(), Some("receiver down"));
        assert_eq!(rec.frames[1].dropped, None);
    }
}
