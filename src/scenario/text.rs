//! The scenario text form: one step per line, readable, writable by hand, diffable.
//!
//! ```text
//! # leader cut off while clients write
//! system raft
//! nodes 3
//! seed 7
//! weather partition
//! c0 put k1 1
//! wait 300ms
//! isolate n0
//! c1 append k1 2
//! wait 1s
//! heal all
//! ```
//!
//! `forge n1` delivers a forged message to n1 (`forge n1 7`: the 7th of the scenario's
//! forgeries for n1; see [`Fault::Forge`]).
//!
//! Clocks: `skew n2 +300ms` (n2's wall clock reads 300 ms ahead of true time from now on;
//! `-50ms` behind), `spread clocks 1s` (every wall clock off at once, evenly from n0 1 s
//! behind to the highest node 1 s ahead), `drift n2 1.05` (n2's clocks run 5 % fast; up to six
//! decimals, 0.1 to 10), `heal clocks` (every clock true again). See [`crate::node::clock`].
//!
//! Header lines (`system`, `nodes`, `seed`, `weather`) come first; `weather` may be left out,
//! and is then the set of fault kinds the steps use. `#` starts a comment. Printing a parsed
//! scenario and parsing it again gives the same scenario.

use super::{
    Fault, FaultKind, NodeId, NodeSet, Scenario, Step, Weather, MAX_NODES, MAX_RATE_PPM,
    MAX_SKEW_MS, MIN_RATE_PPM, TRUE_RATE_PPM,
};
use std::fmt;
use std::str::FromStr;

/// Where and why a scenario text failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Fault::Isolate(n) => write!(f, "isolate n{n}"),
            Fault::Split(side) => write!(f, "split {side}"),
            Fault::Cut(a, b) => write!(f, "cut n{a} n{b}"),
            Fault::OneWay { from, to } => write!(f, "oneway n{from} n{to}"),
            Fault::Heal(a, b) => write!(f, "heal n{a} n{b}"),
            Fault::HealAll => write!(f, "heal all"),
            Fault::Loss(p) => write!(f, "loss {p}%"),
            Fault::Duplicate(p) => write!(f, "duplicate {p}%"),
            Fault::Delay(p) => write!(f, "delay {p}%"),
            Fault::Hold(a, b) => write!(f, "hold n{a} n{b}"),
            Fault::Release(a, b) => write!(f, "release n{a} n{b}"),
            Fault::Latency(a, b, ms) => write!(f, "latency n{a} n{b} {ms}ms"),
            Fault::Crash(n) => write!(f, "crash n{n}"),
            Fault::PowerLoss(n) => write!(f, "powerloss n{n}"),
            Fault::Restart(n) => write!(f, "restart n{n}"),
            Fault::Garbage(n) => write!(f, "garbage n{n}"),
            Fault::Forge(n, 0) => write!(f, "forge n{n}"),
            Fault::Forge(n, k) => write!(f, "forge n{n} {k}"),
            Fault::IsolateLeader => write!(f, "isolate leader"),
            Fault::SplitLeader(size) => write!(f, "split leader {size}"),
            Fault::CrashLeader { power_loss: false } => write!(f, "crash leader"),
            Fault::CrashLeader { power_loss: true } => write!(f, "powerloss leader"),
            Fault::RestartAll => write!(f, "restart all"),
            Fault::CrashAt {
                node,
                point,
                power_loss,
            } => {
                let what = if power_loss { "powerloss" } else { "crash" };
                write!(f, "{what} n{node} at {}", point.0)
            }
            Fault::Buggify(on) => write!(f, "buggify {}", if on { "on" } else { "off" }),
            Fault::Corrupt(p) => write!(f, "corrupt {p}%"),
            Fault::CorruptDisk(n) => write!(f, "corrupt-disk n{n}"),
            Fault::BounceLeader => write!(f, "bounce leader"),
            Fault::Flap(a, b) => write!(f, "flap n{a} n{b}"),
            Fault::Bridge => write!(f, "bridge"),
            Fault::Ring => write!(f, "ring"),
            Fault::IsolatePrimaries => write!(f, "isolate primaries"),
            Fault::Skew(n, ms) => {
                let sign = if ms < 0 { '-' } else { '+' };
                write!(f, "skew n{n} {sign}{}", Millis(ms.unsigned_abs()))
            }
            Fault::SpreadClocks(ms) => write!(f, "spread clocks {}", Millis(ms)),
            Fault::Drift(n, ppm) => write!(f, "drift n{n} {}", Rate(ppm)),
            Fault::HealClocks => write!(f, "heal clocks"),
        }
    }
}

/// A clock rate in parts per million, printed as the decimal people write: `1.05`, `1`,
/// `0.999999`.
struct Rate(u32);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / TRUE_RATE_PPM, self.0 % TRUE_RATE_PPM);
        if frac == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{frac:06}");
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl<Op: fmt::Display> fmt::Display for Step<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Op { client, op } => write!(f, "c{client} {op}"),
            Step::Fault(fault) => fault.fmt(f),
            Step::Wait { ms } => write!(f, "wait {}", Millis(*ms)),
        }
    }
}

impl fmt::Display for Weather {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_calm() {
            return f.write_str("calm");
        }
        let mut first = true;
        for kind in self.kinds() {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(kind.name())?;
        }
        Ok(())
    }
}

/// Milliseconds printed the way people write them: `1s`, `1500ms`, `40ms`.
struct Millis(u32);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 >= 1000 && self.0 % 1000 == 0 {
            write!(f, "{}s", self.0 / 1000)
        } else {
            write!(f, "{}ms", self.0)
        }
    }
}

impl<Op: fmt::Display> Scenario<Op> {
    /// The scenario's text form (ends with a newline).
    pub fn to_text(&self) -> String {
        use fmt::Write;
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = writeln!(out, "system {}", self.system);
        let _ = writeln!(out, "nodes {}", self.nodes);
        let _ = writeln!(out, "seed {}", self.seed);
        let _ = writeln!(out, "weather {}", self.weather);
        if !self.check.is_empty() {
            let _ = writeln!(out, "check {}", self.check.join(" "));
        }
        if self.clients_pinned {
            let _ = writeln!(out, "clients pinned");
        }
        for step in &self.steps {
            let _ = writeln!(out, "{step}");
        }
        out
    }
}

/// Words of one line with their 1-based columns.
struct Words<'a> {
    line: usize,
    words: Vec<(usize, &'a str)>,
    /// Column just past the end of the line's content, for "missing ..." errors.
    end: usize,
}

impl<'a> Words<'a> {
    fn split(line_no: usize, line: &'a str) -> Self {
        let content = line.split('#').next().unwrap_or("");
        let mut words = Vec::new();
        let mut start = None;
        for (i, c) in content.char_indices() {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    words.push((s, &content[s..i]));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = start {
            words.push((s, &content[s..]));
        }
        let col = |byte: usize| content[..byte].chars().count() + 1;
        Words {
            line: line_no,
            words: words.into_iter().map(|(b, w)| (col(b), w)).collect(),
            end: col(content.trim_end().len()),
        }
    }

    /// Whether word `i` is `word` (`heal all`, `isolate leader`, ...).
    fn is(&self, i: usize, word: &str) -> bool {
        self.words.get(i).is_some_and(|x| x.1 == word)
    }

    fn err(&self, column: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            column,
            message: message.into(),
        }
    }

    fn get(&self, i: usize, what: &str) -> Result<(usize, &'a str), ParseError> {
        self.words
            .get(i)
            .copied()
            .ok_or_else(|| self.err(self.end + 1, format!("missing {what}")))
    }

    fn expect_len(&self, n: usize) -> Result<(), ParseError> {
        match self.words.get(n) {
            Some((col, word)) => Err(self.err(*col, format!("unexpected `{word}` at end of line"))),
            None => Ok(()),
        }
    }

    fn node(&self, i: usize, nodes: u8) -> Result<NodeId, ParseError> {
        let (col, word) = self.get(i, "node (n0, n1, ...)")?;
        let n = word
            .strip_prefix('n')
            .and_then(|d| d.parse::<u8>().ok())
            .ok_or_else(|| self.err(col, format!("expected a node like n0, found `{word}`")))?;
        if n >= nodes {
            return Err(self.err(
                col,
                format!("node n{n} does not exist in a {nodes}-node cluster"),
            ));
        }
        Ok(n)
    }

    fn link(&self, nodes: u8) -> Result<(NodeId, NodeId), ParseError> {
        let a = self.node(1, nodes)?;
        let b = self.node(2, nodes)?;
        if a == b {
            return Err(self.err(self.words[2].0, "a link needs two different nodes"));
        }
        self.expect_len(3)?;
        Ok((a, b))
    }

    fn percent(&self, i: usize) -> Result<u8, ParseError> {
        let (col, word) = self.get(i, "percentage like 20%")?;
        word.strip_suffix('%')
            .and_then(|d| d.parse::<u8>().ok())
            .filter(|p| *p <= 100)
            .ok_or_else(|| {
                self.err(
                    col,
                    format!("expected a percentage 0%..100%, found `{word}`"),
                )
            })
    }

    fn millis(&self, i: usize, max: u32) -> Result<u32, ParseError> {
        let (col, word) = self.get(i, "duration like 100ms or 2s")?;
        match parse_millis(word) {
            Some(ms) if ms <= max => Ok(ms),
            Some(ms) => Err(self.err(col, format!("{ms}ms is longer than the limit of {max}ms"))),
            None => Err(self.err(
                col,
                format!("expected a duration like 100ms or 2s, found `{word}`"),
            )),
        }
    }

    /// A signed offset like `+300ms`, `-2s` or `50ms`, at most `max` either way.
    fn offset(&self, i: usize, max: i32) -> Result<i32, ParseError> {
        let (col, word) = self.get(i, "offset like +300ms or -2s")?;
        let (negative, magnitude) = match word.as_bytes().first() {
            Some(b'-') => (true, &word[1..]),
            Some(b'+') => (false, &word[1..]),
            _ => (false, word),
        };
        // One sign at most (`str::parse` would take a second `+`).
        let unsigned = magnitude.starts_with(|c: char| c.is_ascii_digit());
        let parsed = parse_millis(magnitude).filter(|_| unsigned);
        match parsed.and_then(|ms| i32::try_from(ms).ok()) {
            Some(ms) if ms <= max => Ok(if negative { -ms } else { ms }),
            Some(_) => Err(self.err(
                col,
                format!("`{word}` is beyond the limit of {max}ms either way"),
            )),
            None => Err(self.err(
                col,
                format!("expected an offset like +300ms or -2s, found `{word}`"),
            )),
        }
    }

    /// A clock rate like `1.05` (at most six decimals), within the scenario limits, in parts
    /// per million.
    fn rate(&self, i: usize) -> Result<u32, ParseError> {
        let (col, word) = self.get(i, "clock rate like 1.05")?;
        let bad = || {
            self.err(
                col,
                format!("expected a clock rate like 1.05 (at most six decimals), found `{word}`"),
            )
        };
        let (whole, frac) = word.split_once('.').unwrap_or((word, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 6 {
            return Err(bad());
        }
        let whole = whole.parse::<u64>().map_err(|_| bad())?;
        let frac = format!("{frac:0<6}").parse::<u64>().map_err(|_| bad())?;
        let ppm = whole
            .checked_mul(u64::from(TRUE_RATE_PPM))
            .and_then(|w| w.checked_add(frac));
        match ppm.and_then(|p| u32::try_from(p).ok()) {
            Some(p) if (MIN_RATE_PPM..=MAX_RATE_PPM).contains(&p) => Ok(p),
            _ => Err(self.err(
                col,
                format!(
                    "a clock rate must be {} to {}, found `{word}`",
                    Rate(MIN_RATE_PPM),
                    Rate(MAX_RATE_PPM)
                ),
            )),
        }
    }
}

/// `100ms` or `2s` as milliseconds.
fn parse_millis(word: &str) -> Option<u32> {
    if let Some(ms) = word.strip_suffix("ms") {
        ms.parse::<u32>().ok()
    } else if let Some(s) = word.strip_suffix('s') {
        s.parse::<u32>().ok().and_then(|s| s.checked_mul(1000))
    } else {
        None
    }
}

/// Longest single wait a scenario may ask for.
pub const MAX_WAIT_MS: u32 = 60_000;

impl<Op: FromStr<Err = String>> Scenario<Op> {
    /// Parses the text form. Errors name the line and column.
    pub fn from_text(text: &str) -> Result<Self, ParseError> {
        let mut system = None;
        let mut nodes = None;
        let mut seed = None;
        let mut weather: Option<(Weather, usize)> = None;
        let mut check: Vec<String> = Vec::new();
        let mut clients_pinned = false;
        let mut steps = Vec::new();
        let mut step_lines = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let w = Words::split(i + 1, raw);
            let Some(&(col, head)) = w.words.first() else {
                continue;
            };
            let header = matches!(
                head,
                "system" | "nodes" | "seed" | "weather" | "check" | "clients"
            );
            if header && !steps.is_empty() {
                return Err(w.err(col, format!("`{head}` must come before the first step")));
            }
            match head {
                "system" => {
                    system = Some(w.get(1, "system name")?.1.to_string());
                    w.expect_len(2)?;
                }
                "nodes" => {
                    let (c, word) = w.get(1, "cluster size")?;
                    let n = word
                        .parse::<u8>()
                        .ok()
                        .filter(|n| (3..=MAX_NODES).contains(n));
                    nodes = Some(n.ok_or_else(|| {
                        w.err(
                            c,
                            format!("cluster size must be 3..={MAX_NODES}, found `{word}`"),
                        )
                    })?);
                    w.expect_len(2)?;
                }
                "seed" => {
                    let (c, word) = w.get(1, "seed")?;
                    seed = Some(word.parse::<u64>().map_err(|_| {
                        w.err(
                            c,
                            format!("seed must be an unsigned 64-bit integer, found `{word}`"),
                        )
                    })?);
                    w.expect_len(2)?;
                }
                "check" => {
                    if w.words.len() < 2 {
                        return Err(w.err(
                            w.end + 1,
                            "missing property names (`squall properties SYSTEM` lists them)",
                        ));
                    }
                    // Which names exist depends on the system: the runner checks them.
                    check.extend(w.words[1..].iter().map(|(_, name)| name.to_string()));
                }
                "clients" => {
                    let (c, word) = w.get(1, "where clients live (`pinned`)")?;
                    if word != "pinned" {
                        return Err(w.err(
                            c,
                            format!("`clients` takes `pinned` (each client beside a node), found `{word}`"),
                        ));
                    }
                    w.expect_len(2)?;
                    clients_pinned = true;
                }
                "weather" => {
                    let mut set = Weather::CALM;
                    if w.words.len() < 2 {
                        return Err(w.err(w.end + 1, "missing fault kinds (or `calm`)"));
                    }
                    for &(c, word) in &w.words[1..] {
                        if word == "calm" {
                            continue;
                        }
                        let kind = FaultKind::from_name(word).ok_or_else(|| {
                            let names: Vec<_> = FaultKind::ALL.iter().map(|k| k.name()).collect();
                            w.err(
                                c,
                                format!(
                                    "unknown fault kind `{word}`; known: calm {}",
                                    names.join(" ")
                                ),
                            )
                        })?;
                        set = set.with(kind);
                    }
                    weather = Some((set, i + 1));
                }
                _ => {
                    let n = nodes
                        .ok_or_else(|| w.err(col, "`nodes` must come before the first step"))?;
                    steps.push(parse_step(&w, raw, n)?);
                    step_lines.push(w.line);
                }
            }
        }
        let missing = |what: &str| ParseError {
            line: text.lines().count().max(1),
            column: 1,
            message: format!("missing `{what}` line"),
        };
        let system = system.ok_or_else(|| missing("system"))?;
        let nodes = nodes.ok_or_else(|| missing("nodes"))?;
        let seed = seed.ok_or_else(|| missing("seed"))?;
        let used = steps.iter().fold(Weather::CALM, |w, s| match s {
            Step::Fault(f) => f.kind().map_or(w, |k| w.with(k)),
            _ => w,
        });
        let weather = match weather {
            None => used,
            Some((declared, line)) => {
                if let Some(kind) = used.kinds().find(|k| !declared.allows(*k)) {
                    let at = steps
                        .iter()
                        .position(|s| matches!(s, Step::Fault(f) if f.kind() == Some(kind)))
                        .map_or(line, |i| step_lines[i]);
                    return Err(ParseError {
                        line: at,
                        column: 1,
                        message: format!(
                            "this step is a `{}` fault, which the weather on line {line} does not allow",
                            kind.name()
                        ),
                    });
                }
                declared
            }
        };
        Ok(Scenario {
            system,
            nodes,
            seed,
            weather,
            check,
            clients_pinned,
            steps,
        })
    }
}

fn parse_step<Op: FromStr<Err = String>>(
    w: &Words<'_>,
    raw: &str,
    nodes: u8,
) -> Result<Step<Op>, ParseError> {
    let (col, head) = w.words[0];
    let one = |w: &Words<'_>| -> Result<NodeId, ParseError> {
        let n = w.node(1, nodes)?;
        w.expect_len(2)?;
        Ok(n)
    };
    let fault = match head {
        "wait" => {
            let ms = w.millis(1, MAX_WAIT_MS)?;
            w.expect_len(2)?;
            return Ok(Step::Wait { ms });
        }
        "isolate" if w.is(1, "primaries") => {
            w.expect_len(2)?;
            Fault::IsolatePrimaries
        }
        "bounce" => {
            let (col, word) = w.get(1, "`leader`")?;
            if word != "leader" {
                return Err(w.err(col, format!("expected `bounce leader`, found `{word}`")));
            }
            w.expect_len(2)?;
            Fault::BounceLeader
        }
        "bridge" | "ring" => {
            w.expect_len(1)?;
            if head == "bridge" {
                Fault::Bridge
            } else {
                Fault::Ring
            }
        }
        "flap" => {
            let (a, b) = w.link(nodes)?;
            Fault::Flap(a, b)
        }
        "corrupt" => {
            let p = w.percent(1)?;
            w.expect_len(2)?;
            Fault::Corrupt(p)
        }
        "corrupt-disk" => Fault::CorruptDisk(one(w)?),
        "isolate" | "crash" | "powerloss" if w.is(1, "leader") => {
            w.expect_len(2)?;
            match head {
                "isolate" => Fault::IsolateLeader,
                _ => Fault::CrashLeader {
                    power_loss: head == "powerloss",
                },
            }
        }
        "split" if w.is(1, "leader") => {
            let (col, word) = w.get(2, "size of the leader's side")?;
            let size = word
                .parse::<u8>()
                .ok()
                .filter(|s| *s >= 1 && *s < nodes)
                .ok_or_else(|| {
                    w.err(
                        col,
                        format!(
                            "expected the size of the leader's side, 1 to {}, found `{word}`",
                            nodes.saturating_sub(1)
                        ),
                    )
                })?;
            w.expect_len(3)?;
            Fault::SplitLeader(size)
        }
        "restart" if w.is(1, "all") => {
            w.expect_len(2)?;
            Fault::RestartAll
        }
        "crash" | "powerloss" if w.is(2, "at") => {
            let node = w.node(1, nodes)?;
            let (col, name) = w.get(3, "crash point name (`squall points SYSTEM` lists them)")?;
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':')
            {
                return Err(w.err(col, format!("`{name}` is not a crash point name")));
            }
            w.expect_len(4)?;
            Fault::CrashAt {
                node,
                point: crate::scenario::Point::named(name),
                power_loss: head == "powerloss",
            }
        }
        "buggify" => {
            let (col, word) = w.get(1, "`on` or `off`")?;
            let on = match word {
                "on" => true,
                "off" => false,
                _ => return Err(w.err(col, format!("expected `on` or `off`, found `{word}`"))),
            };
            w.expect_len(2)?;
            Fault::Buggify(on)
        }
        "isolate" => Fault::Isolate(one(w)?),
        "crash" => Fault::Crash(one(w)?),
        "powerloss" => Fault::PowerLoss(one(w)?),
        "restart" => Fault::Restart(one(w)?),
        "garbage" => Fault::Garbage(one(w)?),
        "forge" => {
            let n = w.node(1, nodes)?;
            let k = match w.words.get(2) {
                None => 0,
                Some(&(col, word)) => word.parse::<u8>().map_err(|_| {
                    w.err(
                        col,
                        format!("expected which forgery, 0 to 255, found `{word}`"),
                    )
                })?,
            };
            w.expect_len(3)?;
            Fault::Forge(n, k)
        }
        "split" => {
            let mut side = NodeSet::default();
            for i in 1..w.words.len().max(2) {
                let n = w.node(i, nodes)?;
                if side.contains(n) {
                    return Err(w.err(w.words[i].0, format!("n{n} is named twice")));
                }
                side = side.with(n);
            }
            if side.len() >= nodes.into() {
                return Err(w.err(w.words[1].0, "a split must leave at least one node on the other side"));
            }
            Fault::Split(side)
        }
        "cut" => {
            let (a, b) = w.link(nodes)?;
            Fault::Cut(a, b)
        }
        "oneway" => {
            let (from, to) = w.link(nodes)?;
            Fault::OneWay { from, to }
        }
        "heal" if w.is(1, "clocks") => {
            w.expect_len(2)?;
            Fault::HealClocks
        }
        "skew" => {
            let n = w.node(1, nodes)?;
            let ms = w.offset(2, MAX_SKEW_MS)?;
            w.expect_len(3)?;
            Fault::Skew(n, ms)
        }
        "spread" => {
            let (col, word) = w.get(1, "`clocks`")?;
            if word != "clocks" {
                return Err(w.err(col, format!("expected `spread clocks`, found `{word}`")));
            }
            let ms = w.millis(2, MAX_SKEW_MS.unsigned_abs())?;
            w.expect_len(3)?;
            Fault::SpreadClocks(ms)
        }
        "drift" => {
            let n = w.node(1, nodes)?;
            let ppm = w.rate(2)?;
            w.expect_len(3)?;
            Fault::Drift(n, ppm)
        }
        "heal" => {
            if w.is(1, "all") {
                w.expect_len(2)?;
                Fault::HealAll
            } else {
                let (a, b) = w.link(nodes)?;
                Fault::Heal(a, b)
            }
        }
        "hold" => {
            let (a, b) = w.link(nodes)?;
            Fault::Hold(a, b)
        }
        "release" => {
            let (a, b) = w.link(nodes)?;
            Fault::Release(a, b)
        }
        "latency" => {
            let a = w.node(1, nodes)?;
            let b = w.node(2, nodes)?;
            if a == b {
                return Err(w.err(w.words[2].0, "a link needs two different nodes"));
            }
            let ms = w.millis(3, u32::from(u16::MAX))?;
            w.expect_len(4)?;
            // millis() bounded it by u16::MAX.
            Fault::Latency(a, b, ms as u16)
        }
        "loss" => {
            let p = w.percent(1)?;
            w.expect_len(2)?;
            Fault::Loss(p)
        }
        "duplicate" => {
            let p = w.percent(1)?;
            w.expect_len(2)?;
            Fault::Duplicate(p)
        }
        "delay" => {
            let p = w.percent(1)?;
            w.expect_len(2)?;
            Fault::Delay(p)
        }
        client if client.starts_with('c') && client[1..].chars().all(|c| c.is_ascii_digit()) && client.len() > 1 => {
            let c = client[1..]
                .parse::<u8>()
                .ok()
                .filter(|c| *c < super::MAX_CLIENTS)
                .ok_or_else(|| w.err(col, format!("client must be c0..c{}", super::MAX_CLIENTS - 1)))?;
            let (op_col, _) = w.get(1, "client operation")?;
            // The operation is the rest of the line (minus any comment), parsed by the system.
            let content = raw.split('#').next().unwrap_or("");
            let op_text: String = content.chars().skip(op_col - 1).collect();
            let op = op_text.trim().parse::<Op>().map_err(|e| w.err(op_col, e))?;
            return Ok(Step::Op { client: c, op });
        }
        other => {
            return Err(w.err(
                col,
                format!(
                    "unknown step `{other}`; expected wait, cN <op>, isolate, split, cut, oneway, heal, \
                     loss, duplicate, delay, hold, release, latency, crash, powerloss, restart, garbage, \
                     forge, buggify, corrupt, corrupt-disk, bounce, flap, bridge, ring, skew, spread or drift"
                ),
            ))
        }
    };
    Ok(Step::Fault(fault))
}
