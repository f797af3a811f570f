//! `squall-openraft`: squall's command line with openraft added to its systems.

use squall::cli::{BuiltIn, Catalog, Visit};
use squall::mutants::MutantInfo;
use squall_openraft::OpenRaft;
use std::process::ExitCode;

/// squall's built-in systems plus `openraft`.
struct WithOpenRaft;

impl Catalog for WithOpenRaft {
    fn names(&self) -> Vec<&'static str> {
        let mut names = vec!["openraft"];
        names.extend(BuiltIn.names());
        names
    }

    fn mutants(&self, system: &str) -> Vec<MutantInfo> {
        match system {
            // openraft is tested as published: no planted bugs.
            "openraft" => Vec::new(),
            _ => BuiltIn.mutants(system),
        }
    }

    fn visit<V: Visit>(
        &self,
        name: &str,
        mutant: Option<&str>,
        visit: V,
    ) -> Result<V::Output, String> {
        match (name, mutant) {
            ("openraft", None) => Ok(visit.visit(&OpenRaft)),
            ("openraft", Some(m)) => Err(format!(
                "openraft has no planted bugs (asked for `{m}`): it is tested as published"
            )),
            _ => BuiltIn.visit(name, mutant, visit),
        }
    }
}

fn main() -> ExitCode {
    squall::cli::main_with(&WithOpenRaft)
}
