//! `squall decode` and `squall encode`: between fuzzer inputs and readable scenarios.

use super::run::{load_scenario, system_of, write_new};
use super::{Catalog, Visit, EXIT_PASS};
use crate::scenario::Scenario;
use crate::systems::System;
use anyhow::{Context, Result};
use arbitrary::Unstructured;
use std::path::PathBuf;

/// Arguments of `squall decode`.
#[derive(clap::Args, Debug)]
pub struct DecodeArgs {
    /// The system the input is for.
    pub system: String,
    /// A fuzzer input (e.g. a crash artifact from fuzz/artifacts/).
    pub file: PathBuf,
}

/// Arguments of `squall encode`.
#[derive(clap::Args, Debug)]
pub struct EncodeArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Directory for the fuzzer inputs (one per scenario, named after it).
    #[arg(long)]
    pub out: PathBuf,
}

struct Decode<'a>(&'a DecodeArgs);

impl Visit for Decode<'_> {
    type Output = Result<u8>;
    fn visit<S: System>(self, system: &S) -> Result<u8> {
        let bytes = std::fs::read(&self.0.file)
            .with_context(|| format!("reading {}", self.0.file.display()))?;
        let mut u = Unstructured::new(&bytes);
        let scenario =
            Scenario::<S::Op>::generate(system.name(), &mut u, |op, n| system.uniquify(op, n))
                .map_err(|e| anyhow::anyhow!("{}: cannot decode: {e}", self.0.file.display()))?;
        print!("{}", scenario.to_text());
        Ok(EXIT_PASS)
    }
}

pub(super) fn decode(catalog: &impl Catalog, args: &DecodeArgs) -> Result<u8> {
    catalog
        .visit(&args.system, None, Decode(args))
        .map_err(anyhow::Error::msg)?
}

struct Encode<'a>(&'a PathBuf, &'a PathBuf);

impl Visit for Encode<'_> {
    type Output = Result<()>;
    fn visit<S: System>(self, system: &S) -> Result<()> {
        let (file, out) = (self.0, self.1);
        let scenario = load_scenario::<S>(file)?;
        let bytes = scenario
            .to_bytes(|op| system.op_bytes(op))
            .with_context(|| {
                format!("{}: this scenario has no fuzzer-input form", file.display())
            })?;
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        let target = out.join(name);
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        if target.exists() && std::fs::read(&target).ok().as_deref() == Some(&bytes[..]) {
            return Ok(());
        }
        write_new(&target, "")?;
        std::fs::write(&target, &bytes).with_context(|| format!("writing {}", target.display()))
    }
}

pub(super) fn encode(catalog: &impl Catalog, args: &EncodeArgs) -> Result<u8> {
    for file in &args.files {
        let system = system_of(file)?;
        catalog
            .visit(&system, None, Encode(file, &args.out))
            .map_err(anyhow::Error::msg)??;
    }
    println!(
        "encoded {} scenario(s) into {}",
        args.files.len(),
        args.out.display()
    );
    Ok(EXIT_PASS)
}
