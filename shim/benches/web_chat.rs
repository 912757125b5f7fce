//! Benchmark (not a test): the real LibreChat's cold start and the web chat's time to first token
//! on the local Lambda (crates/locallambda), at the CPU share of a 1,024 MB function (0.579 vCPU,
//! cgroup `cpu.cfs_quota_us`) and with a whole core, interleaved in one run (issue 23, item 5).
//!
//! For each share, `BENCH_ROUNDS` (2) times: a fresh stack (moto, nx-27017, the fake model,
//! redis-server, the local Lambda with the real `bootstrap`; support/librechat.rs), then
//! - cold start: the shim's `spawn_to_ready_ms` ("LibreChat ready") and the first invocation
//!   (`GET /api/health`) as the client saw it, from the invocation to its answer;
//! - a second environment started warm, a user and an agent;
//! - `BENCH_CHATS` (3) web chats as the browser makes them (POST, then the stream's GET on the
//!   other environment), the model sending 5 chunks 300 ms apart: time to first token (POST sent
//!   to the first message delta), time to the final event, and the POST's invocation as Lambda
//!   bills it (its `REPORT` line: the shim waits for LibreChat's work before the next event).
//!
//! The client is reqwest (TCP_NODELAY on); the chunks are 300 ms apart, far beyond a delayed
//! ACK's ~40 ms, so no sender waits for the client's ACK between two of them.
//!
//! Run: `cargo bench -p shim --bench web_chat` as root (cgroups writable) with LibreChat
//! available (`eval "$(scripts/librechat-tier.sh)"`). Under `cargo test` it only says how.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use support::bench::*;
use support::librechat::*;
use support::webchat::*;
use support::*;

struct Round {
    spawn_to_ready_ms: f64,
    first_ms: f64,
    ttft_ms: Vec<f64>,
    final_ms: Vec<f64>,
    post_billed_ms: Vec<f64>,
}

fn billed(line: &str) -> Option<f64> {
    line.split('\t')
        .find_map(|f| f.strip_prefix("Billed Duration: "))
        .and_then(|v| v.trim_end_matches(" ms").parse().ok())
}

async fn round(memory_mb: u32, limits: bool, chats: usize) -> Option<Round> {
    let opts = LambdaOpts {
        envs: 3,
        titles: false,
        memory_mb,
        limits,
    };
    let stack = stack_with(&[("SHIM_TITLE_WAIT_MS", "0")], opts)?;
    let c = http_client();
    let t0 = Instant::now();
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
    let first_ms = t0.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(r.status, 200, "{}", r.text());
    let ready = stack
        .logs()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message"] == "LibreChat ready")
        .and_then(|v| v["spawn_to_ready_ms"].as_f64())
        .unwrap_or(f64::NAN);
    let s = warm(&stack, &c).await;
    let mut out = Round {
        spawn_to_ready_ms: ready,
        first_ms,
        ttft_ms: Vec::new(),
        final_ms: Vec::new(),
        post_billed_ms: Vec::new(),
    };
    for _ in 0..chats {
        idle_envs(&stack, 2).await;
        let before = stack.reports().len();
        let sent = Instant::now();
        let (post_env, id) =
            start_chat(&stack, &c, &s, None, "00000000-0000-0000-0000-000000000000").await;
        let get_env = other_idle(&stack, post_env).await;
        let st = read_stream(
            &stack,
            &c,
            &s,
            &id,
            &get_env.to_string(),
            Duration::from_secs(120),
        )
        .await;
        assert!(st.finished, "no final event");
        if let Some((at, _)) = deltas(&st.events).first() {
            out.ttft_ms
                .push(at.duration_since(sent).as_secs_f64() * 1000.0);
        }
        if let Some((at, _)) = st.events.last() {
            out.final_ms
                .push(at.duration_since(sent).as_secs_f64() * 1000.0);
        }
        idle_envs(&stack, 2).await;
        let post = stack.reports()[before..]
            .iter()
            .filter(|(e, _)| *e == post_env)
            .filter_map(|(_, l)| billed(l))
            .fold(f64::NAN, f64::max);
        out.post_billed_ms.push(post);
    }
    Some(out)
}

fn median(v: &[f64]) -> f64 {
    pct(v, 50.0)
}

async fn run() {
    let rounds = env_num("BENCH_ROUNDS", 2).max(1);
    let chats = env_num("BENCH_CHATS", 3).max(1);
    let load_start = loadavg();
    let shares = [
        ("whole core", 2048u32, false),
        ("1,024 MB share", 1024, true),
    ];
    let mut results: Vec<(&str, Vec<Round>)> = shares.iter().map(|s| (s.0, Vec::new())).collect();
    for _ in 0..rounds {
        for (i, (_, mem, limits)) in shares.iter().enumerate() {
            let Some(r) = round(*mem, *limits, chats).await else {
                eprintln!("web_chat bench: no LibreChat (eval \"$(scripts/librechat-tier.sh)\")");
                return;
            };
            results[i].1.push(r);
        }
    }
    println!(
        "web chat on the local Lambda: {rounds} rounds x {chats} chats, load {load_start} -> {}",
        loadavg()
    );
    println!(
        "{:<16} {:>20} {:>18} {:>12} {:>14} {:>16}",
        "CPU",
        "spawn->ready ms",
        "first answer ms",
        "TTFT ms p50",
        "final ms p50",
        "POST billed ms"
    );
    for (name, rs) in &results {
        let ready: Vec<f64> = rs.iter().map(|r| r.spawn_to_ready_ms).collect();
        let first: Vec<f64> = rs.iter().map(|r| r.first_ms).collect();
        let ttft: Vec<f64> = rs.iter().flat_map(|r| r.ttft_ms.clone()).collect();
        let fin: Vec<f64> = rs.iter().flat_map(|r| r.final_ms.clone()).collect();
        let billed: Vec<f64> = rs.iter().flat_map(|r| r.post_billed_ms.clone()).collect();
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.0}"))
                .collect::<Vec<_>>()
                .join("/")
        };
        println!(
            "{name:<16} {:>20} {:>18} {:>12.0} {:>14.0} {:>16.0}",
            list(&ready),
            list(&first),
            median(&ttft),
            median(&fin),
            median(&billed)
        );
    }
}

fn main() {
    bench_main("web_chat", run);
}
