//! Times `derive_endpoints` on a `kubectl get -o json` list: `cargo run --release --example
//! derive_bench -- FILE [ROUNDS]`.
use std::time::Instant;

use llmops_console::cluster::{GroupingConfig, Snapshot, derive_endpoints};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: derive_bench FILE [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(20);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let snap = match serde_json::from_str(&text)
        .map_err(|e| e.to_string())
        .and_then(|v| Snapshot::from_list_json(&v).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let cfg = GroupingConfig::default();
    let now = jiff::Timestamp::now();
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..rounds {
        n = derive_endpoints(&snap, &cfg, now).len();
    }
    println!("{n} endpoints: {:?} per derivation", t.elapsed() / rounds);
}
