//! Times the linearizability checker on Porcupine's test data:
//! `cargo run --release --example bench_check [DATA_DIR] [PASSES] [THREADS]`.

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/porcupine-data").into());
    let passes = args.next().map(|p| p.parse()).transpose()?.unwrap_or(5);
    let threads = args
        .next()
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or_else(squall::check::linearizability::available_threads);
    let dir = std::path::Path::new(&dir);
    let report = squall::check::bench::bench_porcupine_with(dir, passes, threads)?;
    print!("{report}");
    Ok(())
}
