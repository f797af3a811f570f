//! Runs the scenarios `squall-openraft bench sim openraft` runs and prints any that fail, as
//! scenario text ready to replay: `cargo run --release --example bench_failures -- 5 6000 50`.

use squall::bench::bench_scenario;
use squall::sim::runner::{run, RunConfig};
use squall_openraft::OpenRaft;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (nodes, duration, count) = match args.as_slice() {
        [n, d, c] => (*n as u8, *d, *c as usize),
        _ => (5, 1000, 200),
    };
    let system = OpenRaft::default();
    let scenarios = (0..)
        .filter_map(|seed| bench_scenario(&system, seed, nodes, duration))
        .take(count);
    for s in scenarios {
        match run(&system, &s, &RunConfig::default()) {
            Ok(r) if r.passed() => {}
            Ok(r) => println!("# {:?}\n{}", r.failure(), s.to_text()),
            Err(e) => println!("# seed {}: {e}", s.seed),
        }
    }
}
