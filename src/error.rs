//! squall's one error type.
//!
//! Every fallible function of the library that does not have a narrower error of its own
//! returns [`Error`]; the narrower ones (a scenario's [`ParseError`](crate::scenario::text::ParseError),
//! a history file's [`formats::ParseError`](crate::check::formats::ParseError), a check's
//! [`CheckError`], the runner's [`RunError`]) convert into it with `?`, so a caller needs one
//! type to handle them all. Every message says what went wrong and where (a file and line,
//! or the command that failed). `anyhow` is used only by the command-line front end
//! ([`crate::cli`]).

use crate::check::linearizability::{CheckError, ModelError};
use crate::sim::runner::RunError;
use std::path::{Path, PathBuf};

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What squall was doing: `reading`, `writing`, `creating`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS's error.
        #[source]
        source: std::io::Error,
    },
    /// A scenario text is malformed.
    #[error("{}{source}", in_file(path.as_deref()))]
    Scenario {
        /// The file it came from, if any.
        path: Option<PathBuf>,
        /// Where and what.
        #[source]
        source: crate::scenario::text::ParseError,
    },
    /// A history file is malformed (or holds no events).
    #[error("{}{source}", in_file(path.as_deref()))]
    History {
        /// The file it came from, if any.
        path: Option<PathBuf>,
        /// Where and what.
        #[source]
        source: crate::check::formats::ParseError,
    },
    /// A history cannot be checked: its events do not pair up, or the model cannot
    /// interpret an operation.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// The runner could not run a scenario (never evidence about the system).
    #[error(transparent)]
    Run(#[from] RunError),
    /// A command squall runs (a fresh replay, `cargo fuzz`, a fuzz target) could not run, or
    /// said something squall cannot read.
    #[error("{command}: {detail}")]
    Command {
        /// The command, as a person would type it.
        command: String,
        /// What went wrong.
        detail: String,
    },
    /// Data squall reads that is not a scenario or a history (a benchmark's expectations,
    /// a fuzzer's crash artifact) is not what it should be.
    #[error("{}{message}", in_file(path.as_deref()))]
    Data {
        /// The file, if any.
        path: Option<PathBuf>,
        /// What is wrong, with the line where there is one.
        message: String,
    },
}

/// `Result` with squall's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn in_file(path: Option<&Path>) -> String {
    path.map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

impl Error {
    /// An I/O error on `path` while doing `action` (`reading`, `writing`, `creating`).
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A failed command.
    pub fn command(command: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::Command {
            command: command.into(),
            detail: detail.into(),
        }
    }

    /// Bad data in `path` (or in no file).
    pub fn data(path: Option<&Path>, message: impl Into<String>) -> Error {
        Error::Data {
            path: path.map(Path::to_path_buf),
            message: message.into(),
        }
    }
}

impl From<crate::scenario::text::ParseError> for Error {
    fn from(source: crate::scenario::text::ParseError) -> Error {
        Error::Scenario { path: None, source }
    }
}

impl From<crate::check::formats::ParseError> for Error {
    fn from(source: crate::check::formats::ParseError) -> Error {
        Error::History { path: None, source }
    }
}

impl From<ModelError> for Error {
    fn from(e: ModelError) -> Error {
        Error::Check(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_and_where() {
        let e = Error::io(
            "reading",
            "/x/h.json",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert!(e.to_string().starts_with("reading /x/h.json: "), "{e}");
        let e = Error::History {
            path: Some("h.json".into()),
            source: crate::check::formats::ParseError::NoEvents("squall"),
        };
        assert_eq!(
            e.to_string(),
            "h.json: no events: the history is empty, or not in the squall format"
        );
        let e: Error = crate::scenario::text::ParseError {
            line: 3,
            column: 7,
            message: "unknown node".into(),
        }
        .into();
        assert_eq!(e.to_string(), "line 3, column 7: unknown node");
        let e = Error::data(
            Some(Path::new("expected.tsv")),
            "line 2: expected 4 columns",
        );
        assert_eq!(e.to_string(), "expected.tsv: line 2: expected 4 columns");
    }
}
