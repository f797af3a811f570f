//! The `squall` binary: the CLI over the built-in systems.

fn main() -> std::process::ExitCode {
    squall::cli::main_with(&squall::cli::BuiltIn)
}
