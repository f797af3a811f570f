//! `squall decode` and `squall encode`: between fuzzer inputs and readable scenarios.

use super::run::{load_scenario, system_of, write_new};
use super::{Catalog, Visit, EXIT_PASS, EXIT_VIOLATION};
use crate::scenario::Scenario;
use crate::systems::OpOf;
use crate::systems::System;
use crate::workload::Workload;
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
    /// The planted bug the fuzzer ran with (`SQUALL_MUTANT`), for the replay.
    #[arg(long)]
    pub mutant: Option<String>,
    /// Only print the scenario; don't replay it in a fresh process.
    #[arg(long)]
    pub no_replay: bool,
    /// Print the scenario and the replay's verdict as JSON.
    #[arg(long, conflicts_with = "no_replay")]
    pub json: bool,
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
        let args = self.0;
        let bytes = std::fs::read(&args.file)
            .with_context(|| format!("reading {}", args.file.display()))?;
        let mut u = Unstructured::new(&bytes);
        let offer = crate::systems::offer(system);
        let scenario = Scenario::<OpOf<S>>::generate_with(
            system.name(),
            &offer,
            &mut u,
            S::Workload::uniquify,
        )
        .map_err(|e| anyhow::anyhow!("{}: cannot decode: {e}", args.file.display()))?;
        let text = scenario.to_text();
        if args.no_replay {
            print!("{text}");
            return Ok(EXIT_PASS);
        }
        // What the fuzzer saw is only a finding if the decoded scenario fails again, from its
        // text, in a fresh process.
        let scratch = crate::verify::ScratchFile::new("decoded", &text)
            .context("writing the decoded scenario to replay it")?;
        let replay =
            crate::verify::replay_in_fresh_process(scratch.path(), args.mutant.as_deref())?.failure;
        let mutant = crate::chaos::mutant_flag(args.mutant.as_deref());
        if args.json {
            let json = serde_json::json!({
                "system": system.name(),
                "input": args.file.display().to_string(),
                "scenario": text,
                "verdict": if replay.is_some() { "fail" } else { "pass" },
                "failure": replay.as_ref().map(|(kind, property)| serde_json::json!({"kind": kind, "property": property})),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&json).context("encoding the verdict")?
            );
        } else {
            print!("{text}");
            match &replay {
                Some((kind, property)) => println!(
                    "# replayed in a fresh process{mutant}: FAIL, {kind} violation of {property}"
                ),
                None => println!(
                    "# replayed in a fresh process{mutant}: PASS; this input does not reproduce a failure"
                ),
            }
        }
        Ok(if replay.is_some() {
            EXIT_VIOLATION
        } else {
            EXIT_PASS
        })
    }
}

pub(super) fn decode(catalog: &impl Catalog, args: &DecodeArgs) -> Result<u8> {
    catalog
        .visit(&args.system, args.mutant.as_deref(), Decode(args))
        .map_err(anyhow::Error::msg)?
}

struct Encode<'a>(&'a PathBuf, &'a PathBuf);

impl Visit for Encode<'_> {
    type Output = Result<()>;
    fn visit<S: System>(self, system: &S) -> Result<()> {
        let (file, out) = (self.0, self.1);
        let scenario = load_scenario(system, file)?;
        let offer = crate::systems::offer(system);
        let bytes = scenario
            .to_bytes_with(&offer, S::Workload::op_bytes)
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
