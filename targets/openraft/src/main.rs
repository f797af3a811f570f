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
            // openraft has no planted bugs; its "mutants" are its own defaults that squall
            // found unsafe.
            "openraft" => OpenRaft::variants()
                .into_iter()
                .map(|v| MutantInfo {
                    name: v.name,
                    description: v.description,
                    caught_by: v.caught_by,
                })
                .collect(),
            _ => BuiltIn.mutants(system),
        }
    }

    fn visit<V: Visit>(
        &self,
        name: &str,
        mutant: Option<&str>,
        visit: V,
    ) -> Result<V::Output, String> {
        match name {
            "openraft" => Ok(visit.visit(&OpenRaft::variant(mutant)?)),
            _ => BuiltIn.visit(name, mutant, visit),
        }
    }
}

fn main() -> ExitCode {
    squall::cli::main_with(&WithOpenRaft)
}
