//! Reading a replicated-store history file (the format is described in
//! [`crate::check::eventual`]): a JSON document `{"events": [...], "replicas": [...]}`, a JSON
//! array of records, or one record per line (JSON lines). Every error names the line (and,
//! for JSON syntax, the column) and says what is wrong; nothing panics.

use super::history::{Action, Completion, Datum, History, Recorder};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// A malformed history file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Something at a line (and column, when JSON syntax is at fault).
    #[error("line {line}{}: {message}", column.map(|c| format!(", column {c}")).unwrap_or_default())]
    At {
        /// 1-based line.
        line: usize,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// Nothing to check.
    #[error("no events: the history is empty, or not in squall's replicated-store format")]
    NoEvents,
}

fn at(line: usize, message: impl Into<String>) -> ParseError {
    ParseError::At {
        line,
        column: None,
        message: message.into(),
    }
}

/// A serde_json error, placed in the file: `base` is where the parsed text starts.
fn json_error(e: &serde_json::Error, base_line: usize, base_column: usize) -> ParseError {
    let full = e.to_string();
    // serde_json appends " at line L column C" (relative to what it parsed); the position
    // is reported in the file's terms instead.
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    let (line, column) = if e.line() == 0 {
        (base_line, None)
    } else if e.line() == 1 {
        (base_line, Some(base_column + e.column().saturating_sub(1)))
    } else {
        (base_line + e.line() - 1, Some(e.column()))
    };
    ParseError::At {
        line,
        column,
        message,
    }
}

impl<'de> Deserialize<'de> for Datum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DatumVisitor;
        impl Visitor<'_> for DatumVisitor {
            type Value = Datum;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Datum, E> {
                Ok(Datum::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Datum, E> {
                i64::try_from(v)
                    .map(Datum::Int)
                    .map_err(|_| E::custom(format!("integer {v} is too large (at most 2^63-1)")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Datum, E> {
                Ok(Datum::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Datum, E> {
                Ok(Datum::Str(v))
            }
        }
        deserializer.deserialize_any(DatumVisitor)
    }
}

/// One line of the file: an event or a replica's final state. Fields that do not belong to
/// squall's format (a producer's own annotations) are ignored.
#[derive(Debug, Deserialize)]
struct Record {
    session: Option<Datum>,
    #[serde(rename = "type")]
    kind: Option<String>,
    f: Option<String>,
    key: Option<Datum>,
    value: Option<Datum>,
    values: Option<Vec<Datum>>,
    context: Option<Vec<Datum>>,
    version: Option<serde_json::Value>,
    time: Option<u64>,
    replica: Option<Datum>,
}

#[derive(Deserialize)]
struct Document<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    replicas: Option<Vec<&'a RawValue>>,
}

/// Where `part` (a slice of `text`) starts: 1-based line and column.
fn position(text: &str, part: &str) -> (usize, usize) {
    let offset = (part.as_ptr() as usize)
        .saturating_sub(text.as_ptr() as usize)
        .min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// Parses a history file.
pub fn parse(text: &str) -> Result<History, ParseError> {
    let mut reader = Reader::default();
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(ParseError::NoEvents);
    }
    match serde_json::from_str::<&RawValue>(text) {
        Ok(whole) if trimmed.starts_with('[') => {
            let (l, c) = position(text, whole.get());
            let items: Vec<&RawValue> =
                serde_json::from_str(whole.get()).map_err(|e| json_error(&e, l, c))?;
            for item in items {
                let (line, column) = position(text, item.get());
                reader.record(item.get(), line, column)?;
            }
        }
        Ok(whole) => {
            let (l, c) = position(text, whole.get());
            let is_document =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(whole.get())
                    .map(|m| m.contains_key("events"))
                    .unwrap_or(false);
            if is_document {
                let doc: Document<'_> =
                    serde_json::from_str(whole.get()).map_err(|e| json_error(&e, l, c))?;
                for item in doc.events {
                    let (line, column) = position(text, item.get());
                    reader.event_only(item.get(), line, column)?;
                }
                if let Some(replicas) = doc.replicas {
                    reader.recorder.replicas_known();
                    for item in replicas {
                        let (line, column) = position(text, item.get());
                        reader.replica_only(item.get(), line, column)?;
                    }
                }
            } else {
                reader.record(whole.get(), l, c)?;
            }
        }
        Err(whole_error) => {
            // JSON lines, if the first record stands on its own line; otherwise a
            // malformed document, reported where the document went wrong.
            let first = text.lines().position(|l| !l.trim().is_empty()).unwrap_or(0);
            let standalone = text
                .lines()
                .nth(first)
                .is_some_and(|l| serde_json::from_str::<&RawValue>(l).is_ok());
            if !standalone {
                return Err(json_error(&whole_error, 1, 1));
            }
            for (i, l) in text.lines().enumerate() {
                if l.trim().is_empty() {
                    continue;
                }
                reader.record(l, i + 1, 1)?;
            }
        }
    }
    reader.finish()
}

#[derive(Default)]
struct Reader {
    recorder: Recorder,
    events: usize,
}

impl Reader {
    fn decode(text: &str, line: usize, column: usize) -> Result<Record, ParseError> {
        serde_json::from_str(text).map_err(|e| json_error(&e, line, column))
    }

    fn record(&mut self, text: &str, line: usize, column: usize) -> Result<(), ParseError> {
        let r = Self::decode(text, line, column)?;
        if r.replica.is_some() {
            self.replica(r, line)
        } else {
            self.event(r, line)
        }
    }

    fn event_only(&mut self, text: &str, line: usize, column: usize) -> Result<(), ParseError> {
        let r = Self::decode(text, line, column)?;
        if r.replica.is_some() {
            return Err(at(
                line,
                "a replica's final state belongs in \"replicas\", not \"events\"",
            ));
        }
        self.event(r, line)
    }

    fn replica_only(&mut self, text: &str, line: usize, column: usize) -> Result<(), ParseError> {
        let r = Self::decode(text, line, column)?;
        if r.replica.is_none() {
            return Err(at(line, "a replica's final state needs \"replica\""));
        }
        self.replica(r, line)
    }

    fn replica(&mut self, r: Record, line: usize) -> Result<(), ParseError> {
        let stray = [
            ("session", r.session.is_some()),
            ("type", r.kind.is_some()),
            ("value", r.value.is_some()),
            ("context", r.context.is_some()),
        ];
        if let Some((field, _)) = stray.iter().find(|(_, present)| *present) {
            return Err(at(
                line,
                format!(
                    "a replica's final state has no \"{field}\" (it has replica, key and values)"
                ),
            ));
        }
        let replica = r.replica.ok_or_else(|| at(line, "missing \"replica\""))?;
        let key = r.key.ok_or_else(|| at(line, "missing \"key\""))?;
        let values = r.values.ok_or_else(|| {
            at(
                line,
                "missing \"values\" (what the replica holds for the key; [] for nothing)",
            )
        })?;
        self.recorder
            .replica(replica, key, values)
            .map_err(|e| at(line, e.to_string()))?;
        self.recorder.set_line(None, line);
        Ok(())
    }

    fn event(&mut self, r: Record, line: usize) -> Result<(), ParseError> {
        let session = r.session.ok_or_else(|| at(line, "missing \"session\""))?;
        let kind = r
            .kind
            .ok_or_else(|| at(line, "missing \"type\" (invoke, ok, fail or info)"))?;
        let action = match r.f.as_deref() {
            None => None,
            Some("read" | "get") => Some(Action::Read),
            Some("write" | "put") => Some(Action::Write),
            Some("delete") => Some(Action::Delete),
            Some(other) => {
                return Err(at(
                    line,
                    format!("unknown \"f\": {other:?} (read, write or delete)"),
                ))
            }
        };
        // An event without a time happens when the one before it did: the file's order
        // is what orders events.
        let time = r.time.unwrap_or(self.recorder_time());
        self.events += 1;
        let err = |e: super::history::RecordError| at(line, e.to_string());
        match kind.as_str() {
            "invoke" => {
                let action =
                    action.ok_or_else(|| at(line, "missing \"f\" (read, write or delete)"))?;
                let key = r.key.ok_or_else(|| at(line, "missing \"key\""))?;
                if r.values.is_some() {
                    return Err(at(
                        line,
                        "an invocation has no \"values\" (a read's values come with \"ok\")",
                    ));
                }
                let id = self
                    .recorder
                    .invoke(
                        session,
                        action,
                        key,
                        r.value,
                        r.context.unwrap_or_default(),
                        time,
                    )
                    .map_err(err)?;
                self.recorder.set_line(Some(id), line);
                Ok(())
            }
            "ok" | "fail" | "info" => {
                let open = self
                    .recorder
                    .outstanding(&session)
                    .and_then(|id| self.recorder.operation(id))
                    .ok_or_else(|| {
                        at(
                            line,
                            format!("session {session} completes an operation it never invoked"),
                        )
                    })?;
                if let Some(a) = action {
                    if a != open.action {
                        return Err(at(
                            line,
                            format!(
                                "completes a {} but {} is outstanding",
                                a.name(),
                                open.describe()
                            ),
                        ));
                    }
                }
                if let Some(k) = &r.key {
                    if *k != open.key {
                        return Err(at(
                            line,
                            format!("completes key {k} but {} is outstanding", open.describe()),
                        ));
                    }
                }
                if let Some(v) = &r.value {
                    if open.value.as_ref() != Some(v) {
                        return Err(at(
                            line,
                            format!("completes value {v} but {} is outstanding", open.describe()),
                        ));
                    }
                }
                let reads = open.action == Action::Read;
                let completion = match kind.as_str() {
                    "ok" if reads => Completion::Read {
                        values: r.values.ok_or_else(|| {
                            at(line, "a read's \"ok\" needs \"values\" (what it returned; [] for nothing)")
                        })?,
                        context: r.context.unwrap_or_default(),
                    },
                    "ok" => {
                        if r.values.is_some() || r.context.is_some() {
                            return Err(at(line, "a write's \"ok\" has no \"values\" or \"context\" (its context goes on the invocation)"));
                        }
                        Completion::Written { version: r.version }
                    }
                    other => {
                        if r.values.is_some() || r.context.is_some() {
                            return Err(at(
                                line,
                                format!("a \"{other}\" completion carries no \"values\" or \"context\""),
                            ));
                        }
                        if other == "fail" {
                            Completion::Fail
                        } else {
                            Completion::Unknown
                        }
                    }
                };
                self.recorder
                    .complete(&session, completion, time)
                    .map_err(err)?;
                Ok(())
            }
            other => Err(at(
                line,
                format!("unknown \"type\": {other:?} (invoke, ok, fail or info)"),
            )),
        }
    }

    fn recorder_time(&self) -> u64 {
        self.recorder.last_time()
    }

    fn finish(self) -> Result<History, ParseError> {
        if self.events == 0 {
            return Err(ParseError::NoEvents);
        }
        Ok(self.recorder.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::eventual::history::Outcome;

    const LINES: &str = r#"{"session": "c0", "type": "invoke", "f": "write", "key": "k", "value": "a", "time": 1}
{"session": "c0", "type": "ok", "f": "write", "key": "k", "value": "a", "version": {"n1": 1}, "time": 2}

{"session": 1, "type": "invoke", "f": "read", "key": "k", "time": 3}
{"session": 1, "type": "ok", "f": "read", "key": "k", "values": ["a"], "context": [], "time": 4}
{"session": "c0", "type": "invoke", "f": "delete", "key": "k", "value": "d", "context": ["a"]}
{"replica": "n1", "key": "k", "values": []}
"#;

    #[test]
    fn json_lines_documents_and_arrays_read_the_same() {
        let lines = parse(LINES).expect("json lines");
        let records: Vec<&str> = LINES.lines().filter(|l| !l.trim().is_empty()).collect();
        let array = parse(&format!("[\n{}\n]", records.join(",\n"))).expect("array");
        let (events, replicas) = records.split_at(5);
        let doc = format!(
            "{{\"events\": [\n{}\n],\n \"replicas\": [{}]}}",
            events.join(",\n"),
            replicas.join(",")
        );
        let document = parse(&doc).expect("document");
        assert_eq!(lines.operations.len(), 3);
        assert_eq!(lines.operations[2].outcome, Outcome::Unknown);
        assert_eq!(lines.operations[1].session, Datum::Int(1));
        assert_eq!(lines.operations[1].line, 4);
        for other in [&array, &document] {
            let strip = |h: &History| {
                let mut h = h.clone();
                h.operations.iter_mut().for_each(|o| o.line = 0);
                h.replicas.iter_mut().flatten().for_each(|r| r.line = 0);
                h
            };
            assert_eq!(strip(&lines), strip(other));
        }
        // The document's events keep their own lines.
        assert_eq!(document.operations[1].line, 4);
        // And what `to_json` writes reads back.
        assert_eq!(
            parse(&lines.to_json())
                .expect("round trip")
                .operations
                .len(),
            3
        );
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("malformed").to_string()
    }

    #[test]
    fn malformed_input_names_the_line_and_what() {
        let bad_second = "{\"session\": 0, \"type\": \"invoke\", \"f\": \"read\", \"key\": \"k\"}\n{\"session\": 0, \"type\": \"ok\", \"f\": \"read\", \"key\": \"k\", \"values\": [1.5]}\n";
        let e = error(bad_second);
        assert!(e.starts_with("line 2, column"), "{e}");
        assert!(e.contains("a string or an integer"), "{e}");
        let e = error("{\"session\": 0, \"type\": \"invoke\", \"f\": \"read\", \"key\": \"k\"}\n{\"session\": 0, \"type\": \"ok\"}\n");
        assert_eq!(
            e,
            "line 2: a read's \"ok\" needs \"values\" (what it returned; [] for nothing)"
        );
        let e = error("{\"session\": 0, \"type\": \"invoke\", \"f\": \"write\", \"key\": \"k\", \"value\": 1}\n{\"session\": 1, \"type\": \"invoke\", \"f\": \"write\", \"key\": \"k\", \"value\": 1}\n");
        assert!(e.starts_with("line 2: value 1 is written twice"), "{e}");
        let e = error("{\"session\": 0, \"type\": \"ok\", \"f\": \"read\", \"values\": []}\n");
        assert_eq!(
            e,
            "line 1: session 0 completes an operation it never invoked"
        );
        let e = error("{\"session\": 0, \"type\": \"invoke\", \"f\": \"scan\", \"key\": \"k\"}");
        assert!(e.contains("unknown \"f\""), "{e}");
        let e = error("{\"events\": [\n {\"session\": 0, \"type\": \"invoke\", \"f\": \"read\", \"key\": \"k\"},\n {\"session\": 0, \"type\": \"invoke\", \"f\": \"read\", \"key\": \"k\"}\n]}");
        assert!(
            e.starts_with("line 3: session 0 invokes an operation while its 0 #1 read k"),
            "{e}"
        );
        let e = error("{\"events\": [\n {\"session\": 0, \"type\": \"invoke\",\n \"f\": \"read\", \"key\": }\n]}");
        assert!(e.starts_with("line 3, column"), "{e}");
        assert_eq!(
            error("\n \n"),
            "no events: the history is empty, or not in squall's replicated-store format"
        );
        assert_eq!(error("{\"events\": []}"), error(""));
        let e = error("{\"session\": 0, \"type\": \"invoke\", \"f\": \"read\", \"key\": \"k\", \"time\": 5}\n{\"session\": 0, \"type\": \"info\", \"time\": 4}\n");
        assert_eq!(e, "line 2: time goes backwards: 4 after 5");
        let e = error("{\"replica\": \"n1\", \"key\": \"k\"}");
        assert!(e.starts_with("line 1: missing \"values\""), "{e}");
        let e = error("\u{0}\u{1}garbage");
        assert!(e.starts_with("line 1"), "{e}");
    }
}
