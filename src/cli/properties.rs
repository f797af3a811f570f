//! `squall properties SYSTEM`, and `--property NAME` on run, replay and chaos.

use super::{Catalog, Visit, EXIT_PASS};
use crate::scenario::Scenario;
use crate::systems::property::slug;
use crate::systems::{properties_of, Property, Selection, System};
use anyhow::{Context, Result};

/// Arguments of `squall properties`.
#[derive(clap::Args, Debug)]
pub struct PropertiesArgs {
    /// The system.
    pub system: String,
    /// Print the list as JSON (one document on stdout).
    #[arg(long)]
    pub json: bool,
}

pub(super) fn properties(catalog: &impl Catalog, args: &PropertiesArgs) -> Result<u8> {
    catalog
        .visit(&args.system, None, List { json: args.json })
        .map_err(anyhow::Error::msg)?
}

struct List {
    json: bool,
}

impl Visit for List {
    type Output = Result<u8>;

    fn visit<S: System>(self, system: &S) -> Result<u8> {
        let all = properties_of(system);
        if self.json {
            let list: Vec<_> = all
                .iter()
                .map(|(origin, p)| {
                    serde_json::json!({
                        "name": p.name,
                        "slug": p.slug(),
                        "origin": origin,
                        "kind": p.kind,
                        "statement": p.statement,
                    })
                })
                .collect();
            let text = serde_json::to_string_pretty(&list).context("encoding the list")?;
            println!("{text}");
            return Ok(EXIT_PASS);
        }
        for (origin, p) in &all {
            println!("{}  ({origin}, {})\n    {}", p.slug(), p.kind, p.statement);
        }
        println!(
            "\n{} properties. `--property NAME` (repeatable) on run, replay and chaos checks only \
             those; no panics and no node errors are always checked.",
            all.len()
        );
        Ok(EXIT_PASS)
    }
}

/// The properties `names` (`--property`), checked against what `system` knows and spelled
/// as [`Property::name`] does.
pub(super) fn validate<S: System>(system: &S, names: &[String]) -> Result<Vec<String>> {
    let known: Vec<Property> = properties_of(system).into_iter().map(|(_, p)| p).collect();
    Selection::of(names, &known).map_err(|e| {
        anyhow::anyhow!(
            "--property: {e} (see `squall properties {}`)",
            system.name()
        )
    })?;
    Ok(names.iter().map(|n| slug(n)).collect())
}

/// Narrows `scenario` to the properties `names` (`--property`); no names leaves it as it is
/// (a scenario file may carry its own `check` line).
pub(super) fn select<S: System, Op>(
    system: &S,
    scenario: &mut Scenario<Op>,
    names: &[String],
) -> Result<()> {
    if !names.is_empty() {
        scenario.check = validate(system, names)?;
    }
    Ok(())
}

/// ` --property NAME` for each name, to repeat a selection in a printed command.
pub(super) fn flags(names: &[String]) -> String {
    crate::chaos::property_flags(names)
}

/// Arguments of `squall points`.
#[derive(clap::Args, Debug)]
pub struct PointsArgs {
    /// The system.
    pub system: String,
    /// Print the list as JSON (one document on stdout).
    #[arg(long)]
    pub json: bool,
}

pub(super) fn points(catalog: &impl Catalog, args: &PointsArgs) -> Result<u8> {
    catalog
        .visit(&args.system, None, ListPoints { json: args.json })
        .map_err(anyhow::Error::msg)?
}

struct ListPoints {
    json: bool,
}

impl Visit for ListPoints {
    type Output = Result<u8>;

    fn visit<S: System>(self, system: &S) -> Result<u8> {
        let all = crate::systems::crash_points(system);
        if self.json {
            let text = serde_json::to_string_pretty(&all).context("encoding the list")?;
            println!("{text}");
            return Ok(EXIT_PASS);
        }
        for p in &all {
            println!("{}\n    {}", p.name, p.description);
        }
        println!(
            "\n{} crash points. A scenario arms one with `crash nX at NAME` (or `powerloss nX at \
             NAME`): the node crashes the next time it passes it.",
            all.len()
        );
        Ok(EXIT_PASS)
    }
}
