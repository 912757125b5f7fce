//! Benchmark (not a test): the same requests through shim + cargo-lambda and directly against the
//! upstream (the Node stand-in), in one run. Reports added latency p50/p99, added per-event SSE
//! delay p99, large-body throughput, the shim's RSS and its own init time.
//!
//! Run: `cargo bench -p shim --bench overhead` (env `BENCH_REQUESTS`, default 300).

// A benchmark: a failed setup step ends the run with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/support/mod.rs"]
mod support;

use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::*;

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let idx = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
    v[idx.min(v.len() - 1)]
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn rss_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Per-event delay (arrival wall time - server's sent_at_ms) for one SSE response.
async fn sse_direct(c: &reqwest::Client, port: u16, events: u32, interval: u32) -> Vec<f64> {
    use futures::StreamExt;
    let url =
        format!("http://127.0.0.1:{port}/api/__standin/sse?events={events}&interval_ms={interval}");
    let resp = c.post(url).send().await.expect("direct sse");
    let mut s = resp.bytes_stream();
    let mut chunks = Vec::new();
    while let Some(Ok(b)) = s.next().await {
        chunks.push((now_ms(), b.to_vec()));
    }
    delays(&chunks)
}

fn delays(chunks: &[(f64, Vec<u8>)]) -> Vec<f64> {
    let mut out = Vec::new();
    let mut buf = String::new();
    for (at, data) in chunks {
        buf.push_str(&String::from_utf8_lossy(data));
        while let Some(i) = buf.find("\n\n") {
            let block = buf[..i].to_string();
            buf = buf[i + 2..].to_string();
            for line in block.lines() {
                if let Some(d) = line.strip_prefix("data: ")
                    && let Ok(v) = serde_json::from_str::<serde_json::Value>(d)
                    && let Some(sent) = v["sent_at_ms"].as_f64()
                {
                    out.push(at - sent);
                }
            }
        }
    }
    out
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let n: usize = std::env::var("BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let dir = tempfile::tempdir().expect("tempdir");
    let up = free_port();
    let _standin = standin(up, &[], dir.path());
    assert!(
        wait_port(up, Duration::from_secs(20)),
        "stand-in did not start"
    );
    let (_cl, inv) = cargo_lambda(dir.path());
    // The shim proxies the already-running stand-in (no child): init time is the shim's own.
    let spawn_at = Instant::now();
    let boot = bootstrap(
        inv,
        &[
            ("SHIM_CHILD_CMD".to_string(), "none".to_string()),
            ("SHIM_UPSTREAM_PORT".to_string(), up.to_string()),
            ("RUST_LOG".to_string(), "warn,bootstrap=info".to_string()),
            // BENCH_RUNTIME_LOOP=lambda_runtime measures lambda_runtime::run for comparison.
            (
                "SHIM_RUNTIME_LOOP".to_string(),
                std::env::var("BENCH_RUNTIME_LOOP").unwrap_or_default(),
            ),
        ],
        dir.path(),
        "bootstrap",
    );
    // A fresh connection per request, both ways: on a kept-alive connection cargo-lambda's invoke
    // endpoint (the emulator, not the shim) holds most responses ~40 ms (Nagle/delayed ACK).
    let c = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    // Warm-up (also waits for the shim's init).
    let first = invoke(&c, inv, &v1_event("GET", "/api/health")).await;
    assert_eq!(first.status, 200, "{}", boot.output());
    let first_invoke_ms = spawn_at.elapsed().as_secs_f64() * 1000.0;
    // A second shim with glibc's dynamic mmap threshold (SHIM_MMAP_THRESHOLD_KB=0), for the
    // large-body memory comparison; its own emulator, idle until then.
    let dir_dyn = dir.path().join("dynamic-threshold");
    std::fs::create_dir_all(&dir_dyn).expect("dir");
    let (_cl_dyn, inv_dyn) = cargo_lambda(&dir_dyn);
    let boot_dyn = bootstrap(
        inv_dyn,
        &[
            ("SHIM_CHILD_CMD".to_string(), "none".to_string()),
            ("SHIM_UPSTREAM_PORT".to_string(), up.to_string()),
            ("RUST_LOG".to_string(), "warn".to_string()),
            ("SHIM_MMAP_THRESHOLD_KB".to_string(), "0".to_string()),
            (
                "SHIM_RUNTIME_LOOP".to_string(),
                std::env::var("BENCH_RUNTIME_LOOP").unwrap_or_default(),
            ),
        ],
        &dir_dyn,
        "bootstrap",
    );
    let r = invoke(&c, inv_dyn, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}", boot_dyn.output());
    for _ in 0..20 {
        let _ = invoke(&c, inv, &v1_event("GET", "/api/health")).await;
        let _ = c
            .get(format!("http://127.0.0.1:{up}/api/health"))
            .send()
            .await
            .map(|r| r.bytes());
    }

    // 1. Latency, interleaved so both see the same machine state.
    let (mut via, mut direct) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let t = Instant::now();
        let r = invoke(&c, inv, &v1_event("GET", "/api/health")).await;
        via.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.status, 200);
        let t = Instant::now();
        let r = c
            .get(format!("http://127.0.0.1:{up}/api/health"))
            .send()
            .await
            .expect("direct");
        let _ = r.bytes().await;
        direct.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (v50, v99, d50, d99) = (
        pct(&mut via, 50.0),
        pct(&mut via, 99.0),
        pct(&mut direct, 50.0),
        pct(&mut direct, 99.0),
    );

    // 2. Per-event SSE delay: 4 streams x 50 events at 20 ms, each way.
    let (mut ev_via, mut ev_direct) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        let ev = with(
            v1_event("POST", "/api/__standin/sse"),
            "multiValueQueryStringParameters",
            json!({"events": ["50"], "interval_ms": ["20"]}),
        );
        let r = invoke(&c, inv, &ev).await;
        let wall: Vec<(f64, Vec<u8>)> = {
            // Convert Instant arrivals to wall-clock ms.
            let base_i = Instant::now();
            let base_w = now_ms();
            r.chunks
                .iter()
                .map(|ch| {
                    (
                        base_w - base_i.duration_since(ch.at).as_secs_f64() * 1000.0,
                        ch.data.clone(),
                    )
                })
                .collect()
        };
        ev_via.extend(delays(&wall));
        ev_direct.extend(sse_direct(&c, up, 50, 20).await);
    }
    let (e99v, e99d) = (pct(&mut ev_via, 99.0), pct(&mut ev_direct, 99.0));
    let (e50v, e50d) = (pct(&mut ev_via, 50.0), pct(&mut ev_direct, 50.0));

    let rss_small = rss_kb(boot.pid(), "VmRSS:");

    // 3. Large body: 3 MiB request echoed back (~4 MiB JSON response), 5 times each way, and
    //    through the second shim (dynamic mmap threshold), interleaved.
    let big = vec![b'x'; 3 * 1024 * 1024];
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&big)
    };
    let ev = with(
        with(
            with(v1_event("POST", "/api/__standin/echo"), "body", json!(b64)),
            "isBase64Encoded",
            json!(true),
        ),
        "httpMethod",
        json!("POST"),
    );
    let (mut bytes_v, mut secs_v, mut bytes_d, mut secs_d) = (0usize, 0f64, 0usize, 0f64);
    let (mut bytes_dyn, mut secs_dyn) = (0usize, 0f64);
    for _ in 0..5 {
        let t = Instant::now();
        let r = invoke(&c, inv, &ev).await;
        secs_v += t.elapsed().as_secs_f64();
        bytes_v += r.body().len();
        let t = Instant::now();
        let r = invoke(&c, inv_dyn, &ev).await;
        secs_dyn += t.elapsed().as_secs_f64();
        bytes_dyn += r.body().len();
        let t = Instant::now();
        let r = c
            .post(format!("http://127.0.0.1:{up}/api/__standin/echo"))
            .body(big.clone())
            .send()
            .await
            .expect("direct big");
        bytes_d += r.bytes().await.map(|b| b.len()).unwrap_or(0);
        secs_d += t.elapsed().as_secs_f64();
    }
    let mbps = |b: usize, s: f64| b as f64 / (1024.0 * 1024.0) / s;

    // 4. RSS of the shim and its init time (from its own log line).
    let rss = rss_kb(boot.pid(), "VmRSS:");
    let hwm = rss_kb(boot.pid(), "VmHWM:");
    let (rss_dyn, hwm_dyn) = (
        rss_kb(boot_dyn.pid(), "VmRSS:"),
        rss_kb(boot_dyn.pid(), "VmHWM:"),
    );
    let init_ms = boot
        .output()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message"] == "init phase done")
        .and_then(|v| v["init_ms"].as_f64());

    println!(
        "shim overhead benchmark ({n} requests each way, interleaved, fresh connection per request; shim path includes cargo-lambda's emulator)"
    );
    println!(
        "latency ms      via-shim p50 {v50:.3} p99 {v99:.3} | direct p50 {d50:.3} p99 {d99:.3} | added p50 {:.3} p99 {:.3}",
        v50 - d50,
        v99 - d99
    );
    println!(
        "sse event delay via-shim p50 {e50v:.3} p99 {e99v:.3} | direct p50 {e50d:.3} p99 {e99d:.3} | added p99 {:.3} ({} events each way)",
        e99v - e99d,
        ev_via.len()
    );
    println!(
        "large body      via-shim {:.1} MiB/s | direct {:.1} MiB/s ({} bytes per response) | via-shim with glibc's dynamic mmap threshold {:.1} MiB/s",
        mbps(bytes_v, secs_v),
        mbps(bytes_d, secs_d),
        bytes_v / 5,
        mbps(bytes_dyn, secs_dyn)
    );
    let kib = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
    println!(
        "shim memory     VmRSS {} KiB after latency+SSE runs; after the large bodies VmRSS {} KiB, peak VmHWM {} KiB",
        kib(rss_small),
        kib(rss),
        kib(hwm)
    );
    println!(
        "  dynamic mmap threshold (SHIM_MMAP_THRESHOLD_KB=0), same bodies: after them VmRSS {} KiB, peak VmHWM {} KiB",
        kib(rss_dyn),
        kib(hwm_dyn)
    );
    println!(
        "shim init       {} ms (own init, upstream already up); spawn to first response {first_invoke_ms:.1} ms",
        init_ms.map_or("?".into(), |v| format!("{v:.2}"))
    );
}
