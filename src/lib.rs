//! squall: model-based fuzzing and chaos for distributed-protocol code.
pub mod bench;
pub mod chaos;
pub mod check;
pub mod cli;
pub mod determinism;
pub mod fuzzing;
pub mod history;
pub mod hunt;
pub mod mutants;
pub mod node;
pub mod report;
pub mod scenario;
pub mod shrink;
pub mod sim;
pub mod systems;
pub mod verify;
pub mod workload;

/// A `main` for a binary that is squall's command line with your system added beside the
/// built-in ones: `squall::main!(MySystem::default());` gives `run`, `replay`, `chaos`,
/// `shrink`, `hunt`, `determinism`, `properties` and the rest for it.
#[macro_export]
macro_rules! main {
    ($system:expr) => {
        fn main() -> ::std::process::ExitCode {
            $crate::cli::main_with(&$crate::cli::With($system))
        }
    };
}
