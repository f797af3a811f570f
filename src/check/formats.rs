//! History file formats: squall's own JSON, Porcupine's KV test histories (EDN lines) and
//! Jepsen's etcd logs (as in Porcupine's test data).
//!
//! Every parser reports malformed input as a [`ParseError`] naming the 1-based line; none
//! panics.
//!
//! * `squall`: either one JSON document `{"events": [...]}` (a serialized
//!   [`History`]), a JSON array of events, or one JSON event per line (JSON lines). Each event
//!   is `{"process": 0, "type": "invoke", "f": "write", "key": "k", "value": 3, "time": 17}`
//!   (`key` optional, `value` defaults to `null`; a cas value is `[old, new]`). Times are
//!   nanoseconds; events with equal times are concurrent.
//! * `porcupine-kv`: one EDN map per line, `{:process 0, :type :invoke, :f :get, :key "3",
//!   :value nil}`; `:f` is `get`/`put`/`append` (or `read`/`write`). Line order is time order.
//! * `porcupine-etcd`: Jepsen log lines `INFO jepsen.util - P :type :f VALUE`; other lines are
//!   ignored. `:fail :cas` is a cas whose comparison failed (it happened, see
//!   [`Outcome::Rejected`]); `:fail :read` and `:info` leave the operation's outcome unknown.

use crate::check::linearizability::{operations, HistoryError, Operation, Outcome, Pairer};
use crate::history::{Event, EventType, Function, History, Value};
use thiserror::Error;

/// The formats `squall check` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// squall's JSON history (document or JSON lines).
    Squall,
    /// Porcupine's KV histories: EDN maps, one per line.
    PorcupineKv,
    /// Jepsen etcd logs, as in Porcupine's test data.
    PorcupineEtcd,
}

impl Format {
    /// The format's name as `--format` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Squall => "squall",
            Format::PorcupineKv => "porcupine-kv",
            Format::PorcupineEtcd => "porcupine-etcd",
        }
    }
}

/// Malformed input.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// A line (or JSON position) that cannot be read.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Events that do not pair up into operations.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// Nothing to check: the input holds no events (an empty file, or one in another format).
    #[error("no events: the history is empty, or not in the {0} format")]
    NoEvents(&'static str),
}

fn syntax(line: usize, message: impl Into<String>) -> ParseError {
    ParseError::Syntax {
        line,
        message: message.into(),
    }
}

/// Parses `text` in `format` into operations ready to check.
///
/// An input without a single event is [`ParseError::NoEvents`]: checking nothing would
/// answer "linearizable" for a file that is empty or in another format.
pub fn parse(format: Format, text: &str) -> Result<Vec<Operation>, ParseError> {
    let no_events = || ParseError::NoEvents(format.name());
    match format {
        Format::Squall => {
            let (history, lines) = parse_squall_with_lines(text)?;
            if history.events.is_empty() {
                return Err(no_events());
            }
            let mut ops = operations(&history)?;
            // Report source lines rather than event positions when we know them.
            if let Some(lines) = lines {
                for op in &mut ops {
                    op.line = lines.get(op.line - 1).copied().unwrap_or(op.line);
                }
            }
            Ok(ops)
        }
        Format::PorcupineKv => {
            let history = parse_porcupine_kv(text)?;
            if history.events.is_empty() {
                return Err(no_events());
            }
            Ok(operations(&history)?)
        }
        Format::PorcupineEtcd => {
            let ops = parse_porcupine_etcd(text)?;
            if ops.is_empty() {
                return Err(no_events());
            }
            Ok(ops)
        }
    }
}

/// Parses a squall history file (JSON document, JSON array or JSON lines).
pub fn parse_squall(text: &str) -> Result<History, ParseError> {
    parse_squall_with_lines(text).map(|(h, _)| h)
}

/// Also returns, for JSON lines, each event's source line.
fn parse_squall_with_lines(text: &str) -> Result<(History, Option<Vec<usize>>), ParseError> {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Ok((History::new(), None));
    }
    let json_err = |e: serde_json::Error| syntax(e.line(), e.to_string());
    if trimmed.starts_with('[') {
        let events: Vec<Event> = serde_json::from_str(text).map_err(json_err)?;
        return Ok((History { events }, None));
    }
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if serde_json::from_str::<Event>(first).is_ok() {
        let mut events = Vec::new();
        let mut lines = Vec::new();
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let e: Event = serde_json::from_str(l).map_err(|e| syntax(i + 1, e.to_string()))?;
            events.push(e);
            lines.push(i + 1);
        }
        return Ok((History { events }, Some(lines)));
    }
    let h: History = serde_json::from_str(text).map_err(json_err)?;
    Ok((h, None))
}

/// An EDN value, as far as the KV histories need.
#[derive(Debug, Clone, PartialEq)]
enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Str(String),
    Keyword(String),
    Vector(Vec<Edn>),
}

/// A tiny EDN reader for one flat map per line.
struct EdnReader<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
}

impl EdnReader<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_whitespace() || self.s[self.pos] == b',')
        {
            self.pos += 1;
        }
    }

    fn err(&self, msg: &str) -> ParseError {
        syntax(self.line, format!("{msg} at column {}", self.pos + 1))
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }

    fn is_delim(b: u8) -> bool {
        b.is_ascii_whitespace() || matches!(b, b',' | b'}' | b']' | b'{' | b'[' | b'"')
    }

    fn atom(&mut self) -> &str {
        let start = self.pos;
        while self.pos < self.s.len() && !Self::is_delim(self.s[self.pos]) {
            self.pos += 1;
        }
        // Split only at ASCII delimiters, so the slice is valid UTF-8.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }

    fn value(&mut self) -> Result<Edn, ParseError> {
        match self.peek() {
            None => Err(self.err("unexpected end of line")),
            Some(b'"') => {
                self.pos += 1;
                let mut out = Vec::new();
                loop {
                    let Some(&b) = self.s.get(self.pos) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += 1;
                    match b {
                        b'"' => break,
                        b'\\' => {
                            let Some(&c) = self.s.get(self.pos) else {
                                return Err(self.err("unterminated string"));
                            };
                            self.pos += 1;
                            out.push(match c {
                                b'n' => b'\n',
                                b't' => b'\t',
                                b'r' => b'\r',
                                other => other,
                            });
                        }
                        _ => out.push(b),
                    }
                }
                String::from_utf8(out)
                    .map(Edn::Str)
                    .map_err(|_| self.err("string is not UTF-8"))
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                while self.peek() != Some(b']') {
                    items.push(self.value()?);
                }
                self.pos += 1;
                Ok(Edn::Vector(items))
            }
            Some(b':') => {
                self.pos += 1;
                let k = self.atom().to_string();
                if k.is_empty() {
                    return Err(self.err("empty keyword"));
                }
                Ok(Edn::Keyword(k))
            }
            Some(b'{' | b'}' | b']') => Err(self.err("unexpected bracket")),
            Some(_) => {
                let a = self.atom().to_string();
                match a.as_str() {
                    "nil" => Ok(Edn::Nil),
                    "true" => Ok(Edn::Bool(true)),
                    "false" => Ok(Edn::Bool(false)),
                    _ => a
                        .parse::<i64>()
                        .map(Edn::Int)
                        .map_err(|_| self.err(&format!("cannot read {a:?}"))),
                }
            }
        }
    }

    /// Reads `{:k v, ...}` and requires the rest of the line to be empty.
    fn map(&mut self) -> Result<Vec<(String, Edn)>, ParseError> {
        if self.peek() != Some(b'{') {
            return Err(self.err("expected '{'"));
        }
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.err("unterminated map")),
                _ => {}
            }
            let Edn::Keyword(k) = self.value()? else {
                return Err(self.err("map key must be a keyword"));
            };
            if self.peek() == Some(b'}') {
                return Err(self.err(&format!("key :{k} has no value")));
            }
            out.push((k, self.value()?));
        }
        if self.peek().is_some() {
            return Err(self.err("trailing text after the map"));
        }
        Ok(out)
    }
}

fn edn_to_value(line: usize, v: &Edn) -> Result<Value, ParseError> {
    Ok(match v {
        Edn::Nil => Value::Nil,
        Edn::Int(i) => Value::Int(*i),
        Edn::Str(s) => Value::Str(s.clone()),
        Edn::Vector(items) if items.len() == 2 => Value::Cas(
            Box::new(edn_to_value(line, &items[0])?),
            Box::new(edn_to_value(line, &items[1])?),
        ),
        other => return Err(syntax(line, format!("unsupported value {other:?}"))),
    })
}

fn function(line: usize, name: &str) -> Result<Function, ParseError> {
    Ok(match name {
        "get" | "read" => Function::Read,
        "put" | "write" => Function::Write,
        "append" => Function::Append,
        "cas" => Function::Cas,
        other => return Err(syntax(line, format!("unknown function :{other}"))),
    })
}

fn event_type(line: usize, name: &str) -> Result<EventType, ParseError> {
    Ok(match name {
        "invoke" => EventType::Invoke,
        "ok" => EventType::Ok,
        "fail" => EventType::Fail,
        "info" => EventType::Info,
        other => return Err(syntax(line, format!("unknown type :{other}"))),
    })
}

/// Parses Porcupine's KV histories (one EDN map per line) into a squall history whose times
/// are line numbers.
pub fn parse_porcupine_kv(text: &str) -> Result<History, ParseError> {
    let mut events = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if l.trim().is_empty() {
            continue;
        }
        let mut r = EdnReader {
            s: l.as_bytes(),
            pos: 0,
            line,
        };
        let (mut process, mut kind, mut f, mut key, mut value) =
            (None, None, None, None, Value::Nil);
        for (k, v) in r.map()? {
            match (k.as_str(), &v) {
                ("process", Edn::Int(p)) if *p >= 0 => process = Some(*p as u64),
                ("type", Edn::Keyword(t)) => kind = Some(event_type(line, t)?),
                ("f", Edn::Keyword(name)) => f = Some(function(line, name)?),
                ("key", Edn::Str(s)) => key = Some(s.clone()),
                ("key", Edn::Int(n)) => key = Some(n.to_string()),
                ("key", Edn::Nil) => key = None,
                ("value", v) => value = edn_to_value(line, v)?,
                ("process" | "type" | "f" | "key", v) => {
                    return Err(syntax(line, format!("bad :{k} {v:?}")));
                }
                _ => {} // other fields (:time, :index, ...) are not needed
            }
        }
        let missing = |what| syntax(line, format!("missing :{what}"));
        events.push(Event {
            process: process.ok_or_else(|| missing("process"))?,
            kind: kind.ok_or_else(|| missing("type"))?,
            f: f.ok_or_else(|| missing("f"))?,
            key,
            value,
            time: line as u64,
        });
    }
    Ok(History { events })
}

/// Parses an integer, `nil` or `[a b]` from Jepsen's etcd log values.
fn etcd_value(line: usize, s: &str) -> Result<Value, ParseError> {
    let s = s.trim();
    if s == "nil" {
        return Ok(Value::Nil);
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let parts: Vec<&str> = inner.split_whitespace().collect();
        if parts.len() != 2 {
            return Err(syntax(line, format!("expected [old new], got {s:?}")));
        }
        return Ok(Value::Cas(
            Box::new(etcd_value(line, parts[0])?),
            Box::new(etcd_value(line, parts[1])?),
        ));
    }
    s.parse::<i64>()
        .map(Value::Int)
        .map_err(|_| syntax(line, format!("cannot read value {s:?}")))
}

/// Parses a Jepsen etcd log (Porcupine's `test_data/jepsen`) into operations; times are line
/// numbers.
pub fn parse_porcupine_etcd(text: &str) -> Result<Vec<Operation>, ParseError> {
    let mut p = Pairer::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        let t: Vec<&str> = l.split_whitespace().collect();
        // INFO jepsen.util - P :type :f VALUE...
        if t.len() < 6 || t[1] != "jepsen.util" || t[2] != "-" || !t[4].starts_with(':') {
            continue; // start-up chatter and other log lines
        }
        let process: u64 = t[3]
            .parse()
            .map_err(|_| syntax(line, format!("bad process id {:?}", t[3])))?;
        let kind = event_type(line, &t[4][1..])?;
        let f = match t[5] {
            ":read" => Function::Read,
            ":write" => Function::Write,
            ":cas" => Function::Cas,
            other => return Err(syntax(line, format!("unknown function {other}"))),
        };
        let raw = t[6..].join(" ");
        let time = line as u64;
        match (kind, f) {
            (EventType::Invoke, _) => {
                let input = if f == Function::Read {
                    Value::Nil
                } else {
                    etcd_value(line, &raw)?
                };
                p.invoke(line, process, f, None, input, time)?;
            }
            (EventType::Ok, _) => {
                let v = etcd_value(line, &raw)?;
                p.complete(line, process, f, Some(Outcome::Ok(v)), time)?;
            }
            (EventType::Fail, Function::Cas) => {
                p.complete(line, process, f, Some(Outcome::Rejected), time)?;
            }
            // A failed read returned nothing: its outcome is unknown (and a read with an
            // unknown outcome constrains nothing).
            (EventType::Fail, _) | (EventType::Info, _) => {
                p.complete(line, process, f, Some(Outcome::Unknown), time)?;
            }
        }
    }
    Ok(p.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edn_line() {
        let h = parse_porcupine_kv(
            "{:process 2, :type :ok, :f :append, :key \"0\", :value \"x 2 0 y\"}\n",
        )
        .unwrap();
        assert_eq!(h.events[0].process, 2);
        assert_eq!(h.events[0].value, Value::Str("x 2 0 y".into()));
    }

    #[test]
    fn edn_errors_name_the_line() {
        let bad = "{:process 0, :type :invoke, :f :get, :key \"3\", :value nil}\n{:process 0, :type :ok, :f :get :key \"3\" :value \"x}\n";
        let e = parse_porcupine_kv(bad).unwrap_err();
        assert!(e.to_string().starts_with("line 2:"), "{e}");
        let e = parse_porcupine_kv("{:process 0, :type :frob, :f :get}").unwrap_err();
        assert!(e.to_string().contains("unknown type"), "{e}");
        let e = parse_porcupine_kv("{:process 0, :type :ok}").unwrap_err();
        assert!(e.to_string().contains("missing :f"), "{e}");
        assert!(parse_porcupine_kv("{:process 0 :type").is_err());
        assert!(parse_porcupine_kv("[").is_err());
    }

    #[test]
    fn a_history_without_events_is_an_error_in_every_format() {
        for format in [Format::Squall, Format::PorcupineKv, Format::PorcupineEtcd] {
            for text in ["", "\n  \n"] {
                assert_eq!(
                    parse(format, text),
                    Err(ParseError::NoEvents(format.name()))
                );
            }
        }
        for text in ["{\"events\": []}", "[]"] {
            assert_eq!(
                parse(Format::Squall, text),
                Err(ParseError::NoEvents("squall"))
            );
        }
        assert!(matches!(
            parse(Format::PorcupineEtcd, "INFO start-up chatter\n"),
            Err(ParseError::NoEvents(_))
        ));
        // Events that leave nothing to check (a failed write) are still a history.
        let failed = r#"[{"process": 0, "type": "invoke", "f": "write", "value": 1, "time": 1},
                         {"process": 0, "type": "fail", "f": "write", "value": 1, "time": 2}]"#;
        assert_eq!(parse(Format::Squall, failed), Ok(Vec::new()));
    }

    #[test]
    fn etcd_lines() {
        let text = "INFO  jepsen.util - 1\t:invoke\t:cas\t[3 0]\nINFO  jepsen.util - 1   :fail   :cas    [3 0]\nnoise\n";
        let ops = parse_porcupine_etcd(text).unwrap();
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].output, Outcome::Rejected);
        let e = parse_porcupine_etcd("INFO  jepsen.util - 1\t:invoke\t:write\tx").unwrap_err();
        assert_eq!(e.to_string(), "line 1: cannot read value \"x\"");
    }

    #[test]
    fn squall_forms() {
        let line = r#"{"process":0,"type":"invoke","f":"write","value":1,"time":0}"#;
        let line2 = r#"{"process":0,"type":"ok","f":"write","value":1,"time":1}"#;
        let jl = parse_squall(&format!("{line}\n\n{line2}\n")).unwrap();
        let doc = parse_squall(&format!("{{\"events\": [{line}, {line2}]}}")).unwrap();
        let arr = parse_squall(&format!("[{line}, {line2}]")).unwrap();
        assert_eq!(jl, doc);
        assert_eq!(jl, arr);
        let e = parse(Format::Squall, &format!("{line}\n{{\"process\": 0}}\n")).unwrap_err();
        assert!(e.to_string().starts_with("line 2:"), "{e}");
        let e = parse(Format::Squall, &format!("{line2}\n")).unwrap_err();
        assert!(e.to_string().contains("never invoked"), "{e}");
    }
}
