//! How much of the process a scenario shares with the scenarios run before it.
//!
//! [`super::runner::run`] runs a scenario on the calling thread with its OS randomness
//! seeded (`sim::entropy`). [`Isolation::Thread`] adds a fresh thread, which resets
//! thread-local state (std's `RandomState` keys, `rand`'s thread RNG), but not state a
//! third-party crate keeps per process: a global counter its thread-local PRNG is seeded
//! from (`futures::select!` does exactly this), a lazily initialised static, a cache. Such
//! state makes a scenario's outcome depend on the scenarios before it in the same process,
//! so a failure found deep in a chaos campaign would not replay on its own.
//!
//! [`Isolation::Process`] runs each scenario in a child process forked from the caller, on a
//! fresh thread there (the forking thread's thread-locals are the parent's). The child starts
//! from the parent's memory as it is, which scenarios never touch, so every scenario starts
//! from the same state however many ran before. The child sends its [`Report`] back
//! as JSON over a pipe. A child that dies of a signal (an abort, a stack overflow in node
//! code) is a failed run, as a panic is; a child that outlives [`CHILD_WALL_LIMIT`] is killed
//! and reported as a harness error.

use super::runner::{run, RunConfig, RunError};
use crate::report::{Failure, FailureKind, OpCounts, Outcome, Report};
use crate::scenario::Scenario;
use crate::systems::{Isolation, OpOf, System};
use std::time::Duration;

/// Wall time a forked scenario may take before it is killed (a scenario takes milliseconds;
/// the slowest history checks take seconds).
pub const CHILD_WALL_LIMIT: Duration = Duration::from_secs(600);

/// Runs one scenario with the given isolation.
pub fn run_isolated<S: System>(
    system: &S,
    scenario: &Scenario<OpOf<S>>,
    config: &RunConfig,
    isolation: Isolation,
) -> Result<Report, RunError> {
    match isolation {
        Isolation::Shared => run(system, scenario, config),
        Isolation::Thread => on_fresh_thread(system, scenario, config),
        #[cfg(unix)]
        Isolation::Process => forked::run(system, scenario, config),
        #[cfg(not(unix))]
        Isolation::Process => on_fresh_thread(system, scenario, config),
    }
}

/// The stack of a scenario's thread, as large as a main thread's: the history checkers
/// recurse (virtual memory; only what is touched is committed).
const SCENARIO_STACK: usize = 8 << 20;

/// Runs the scenario on a thread of its own, so that thread-local state of code squall does
/// not control starts anew.
fn on_fresh_thread<S: System>(
    system: &S,
    scenario: &Scenario<OpOf<S>>,
    config: &RunConfig,
) -> Result<Report, RunError> {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name(format!("squall-{}-seed{}", scenario.system, scenario.seed))
            .stack_size(SCENARIO_STACK)
            .spawn_scoped(scope, || run(system, scenario, config))
            .map_err(|e| RunError::Harness(format!("starting the scenario's thread: {e}")))?;
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// What a child sends back.
#[derive(serde::Serialize, serde::Deserialize)]
enum FromChild {
    Report(Box<Report>),
    Refused(String),
    Panicked(String),
}

/// The report of a run whose process died of `signal` before it could report.
fn died(signal: i32) -> Report {
    let name = match signal {
        6 => " (SIGABRT: an abort, or a panic while panicking)",
        9 => " (SIGKILL: killed from outside, perhaps out of memory)",
        11 => " (SIGSEGV: a stack overflow or memory fault)",
        _ => "",
    };
    Report {
        outcome: Outcome::Fail(Failure {
            kind: FailureKind::Safety,
            property: "no panics".to_string(),
            detail: format!("the scenario's process died of signal {signal}{name}"),
            step: None,
            at: Duration::ZERO,
        }),
        trace: String::new(),
        history: Default::default(),
        effects: Default::default(),
        ops: OpCounts::default(),
        sim_time: Duration::ZERO,
        ticks: 0,
        fault_phases: Vec::new(),
        abstract_transitions: Vec::new(),
        history_unknown: false,
        recording: None,
    }
}

#[cfg(unix)]
mod forked {
    use super::*;
    use std::fs::File;
    use std::io::{Read, Write};
    use std::os::fd::FromRawFd;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::time::Instant;

    fn errno() -> std::io::Error {
        std::io::Error::last_os_error()
    }

    pub(super) fn run<S: System>(
        system: &S,
        scenario: &Scenario<OpOf<S>>,
        config: &RunConfig,
    ) -> Result<Report, RunError> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(RunError::Harness(format!("creating a pipe: {}", errno())));
        }
        // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
        let (reader, writer) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
        // SAFETY: the child only runs the scenario on a thread of its own and leaves through
        // `_exit`, never returning into the parent's stack frames or running its destructors.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(RunError::Harness(format!("fork: {}", errno())));
        }
        if pid == 0 {
            drop(reader);
            child(system, scenario, config, writer);
        }
        drop(writer);
        let bytes = read_child(reader, pid)?;
        let status = reap(pid)?;
        if bytes.is_empty() {
            if libc::WIFSIGNALED(status) {
                return Ok(died(libc::WTERMSIG(status)));
            }
            return Err(RunError::Harness(format!(
                "the scenario's process exited with status {} without a report",
                libc::WEXITSTATUS(status)
            )));
        }
        match serde_json::from_slice::<FromChild>(&bytes) {
            Ok(FromChild::Report(report)) => Ok(*report),
            Ok(FromChild::Refused(e)) => Err(RunError::Scenario(e)),
            Ok(FromChild::Panicked(e)) => Err(RunError::Harness(format!(
                "the harness panicked running the scenario: {e}"
            ))),
            Err(e) => Err(RunError::Harness(format!(
                "decoding the scenario's report from its process: {e}"
            ))),
        }
    }

    fn child<S: System>(
        system: &S,
        scenario: &Scenario<OpOf<S>>,
        config: &RunConfig,
        mut writer: File,
    ) -> ! {
        let message = match catch_unwind(AssertUnwindSafe(|| {
            on_fresh_thread(system, scenario, config)
        })) {
            Ok(Ok(report)) => FromChild::Report(Box::new(report)),
            Ok(Err(RunError::Scenario(e))) => FromChild::Refused(e),
            Ok(Err(e)) => FromChild::Panicked(e.to_string()),
            Err(panic) => FromChild::Panicked(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".to_string()),
            ),
        };
        let code = match serde_json::to_vec(&message) {
            Ok(bytes) if writer.write_all(&bytes).is_ok() => 0,
            _ => 3,
        };
        // SAFETY: `_exit` ends the child without running the parent's atexit handlers or
        // flushing stdio buffers it inherited.
        unsafe { libc::_exit(code) }
    }

    fn read_child(mut reader: File, pid: libc::pid_t) -> Result<Vec<u8>, RunError> {
        use std::os::fd::AsRawFd;
        let deadline = Instant::now() + CHILD_WALL_LIMIT;
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 1 << 16];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // SAFETY: `pid` is our own unreaped child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                let _ = reap(pid);
                return Err(RunError::Harness(format!(
                    "the scenario's process ran longer than {}s of wall time and was killed \
                     (a node that never yields stops simulated time)",
                    CHILD_WALL_LIMIT.as_secs()
                )));
            }
            let mut poll = libc::pollfd {
                fd: reader.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd.
            let ready = unsafe { libc::poll(&mut poll, 1, ms) };
            if ready < 0 {
                let e = errno();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(RunError::Harness(format!("waiting for the scenario: {e}")));
            }
            if ready == 0 {
                continue;
            }
            match reader.read(&mut chunk) {
                Ok(0) => return Ok(bytes),
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(RunError::Harness(format!(
                        "reading the scenario's report: {e}"
                    )))
                }
            }
        }
    }

    fn reap(pid: libc::pid_t) -> Result<i32, RunError> {
        let mut status = 0;
        loop {
            // SAFETY: `pid` is our own child; `status` is a valid out pointer.
            let r = unsafe { libc::waitpid(pid, &mut status, 0) };
            if r == pid {
                return Ok(status);
            }
            let e = errno();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(RunError::Harness(format!("waiting for the scenario: {e}")));
            }
        }
    }
}
