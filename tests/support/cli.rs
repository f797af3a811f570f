//! Running the `squall` binary from a test: its output, and both streams as one text.

use std::process::{Command, Output};

/// Runs `squall` with `args`.
pub fn squall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_squall"))
        .args(args)
        .output()
        .expect("squall runs")
}

/// stdout, then stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
