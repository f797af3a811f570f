//! The `squall` binary: the CLI over the built-in systems.

fn main() -> std::process::ExitCode {
    // Like other Unix tools, stop quietly when the reader of our output goes away
    // (`squall run ... | head`), instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    squall::cli::main_with(&squall::cli::BuiltIn)
}
