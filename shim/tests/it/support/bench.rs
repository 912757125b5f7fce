//! What the shim's two benchmarks (benches/overhead.rs, benches/real_librechat.rs) share: their
//! entry point, settings from the environment, percentiles and /proc readings.

use std::future::Future;

/// A benchmark's `main`: `cargo test --all-targets` runs bench binaries too (in debug): only
/// `cargo bench`, which passes `--bench`, runs `run`, on a 2-worker runtime.
pub fn bench_main<F: Future<Output = ()>>(name: &str, run: impl FnOnce() -> F) {
    if !std::env::args().any(|a| a == "--bench") {
        println!("{name}: a benchmark; run `cargo bench -p shim --bench {name}`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

/// A count from the environment, `default` when unset or not a number.
pub fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p`th percentile (nearest rank on a sorted copy); NaN when empty.
pub fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let idx = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
    v[idx.min(v.len() - 1)]
}

/// A `kB` field of `/proc/PID/status` (`VmRSS:`, `VmHWM:`, `RssAnon:` ...).
pub fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The 1, 5 and 15 minute load averages, as printed with every benchmark's figures.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
