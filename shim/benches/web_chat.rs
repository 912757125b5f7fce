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
//! Issue 26: each of those twice, LibreChat started two ways in the same run, alternating:
//! `before`, as the image did before issue 26 (the system's Node 20, `node api/server/index.js`,
//! `MCP_INIT_FOLLOWER_RETRY_MS` at LibreChat's default 3000), and `after`, as the image does now
//! (support/image.rs: Node 22, the read-only compile cache, `librechat-start`, the Dockerfile's
//! `MCP_INIT_FOLLOWER_RETRY_MS=100`). Spawn to ready is shown for the first environment (a fresh
//! Redis: no leader, so LibreChat waits a random 0-2 s before it elects itself) and the second
//! (the first one leads: a follower's wait). Last in each round, one web chat whose POST lands on
//! a new environment (the third): the first token as a user meets a cold start.
//!
//! Run: `cargo bench -p shim --bench web_chat` as root (cgroups writable) with LibreChat
//! available (`eval "$(scripts/librechat-tier.sh)"`). Under `cargo test` it only says how.
//! `BENCH_WAYS=before,after,after-node20,no-wait` picks the ways (default `before,after`;
//! `after-node20`: the image's start command and settings on Node 20, to tell Node's share from
//! the settings'; `no-wait`: as `after` with `SHIM_PENDING_WAIT_MS=0`, one chat per round: the
//! POST's billed duration without the wait, and whether the chat completes then);
//! `BENCH_SHARES=whole,1024` the CPU (default both).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use support::bench::*;
use support::image;
use support::librechat::*;
use support::webchat::*;
use support::*;

struct Round {
    spawn_to_ready_ms: f64,
    /// The second environment's (started by `warm`).
    second_ready_ms: f64,
    first_ms: f64,
    ttft_ms: Vec<f64>,
    final_ms: Vec<f64>,
    post_billed_ms: Vec<f64>,
    /// Chats whose final event came, of those tried.
    done: usize,
    tried: usize,
    /// A web chat whose POST lands on a new environment: POST sent to the first delta (the
    /// environment's cold start included), and that environment's spawn to ready.
    cold_ttft_ms: f64,
    cold_ready_ms: f64,
}

fn billed(line: &str) -> Option<f64> {
    line.split('\t')
        .find_map(|f| f.strip_prefix("Billed Duration: "))
        .and_then(|v| v.trim_end_matches(" ms").parse().ok())
}

/// Every `spawn_to_ready_ms` of the shim's "LibreChat ready" lines, in order.
fn readies(stack: &Stack) -> Vec<f64> {
    stack
        .logs()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "LibreChat ready")
        .filter_map(|v| v["spawn_to_ready_ms"].as_f64())
        .collect()
}

#[derive(Clone, Copy)]
enum Way {
    Before,
    After,
    AfterNode20,
    /// As `After`, with the shim asking for the next event at once (`SHIM_PENDING_WAIT_MS=0`):
    /// the POST's environment freezes while LibreChat generates (issue 23: the cost of the wait).
    NoWait,
}

async fn round(memory_mb: u32, limits: bool, chats: usize, way: Way) -> Option<Round> {
    let opts = LambdaOpts {
        envs: 4,
        titles: false,
        memory_mb,
        limits,
    };
    let node20 = format!("{} api/server/index.js", image::system_node().display());
    let node20_path = image::system_node().display().to_string();
    let mut env = vec![("SHIM_TITLE_WAIT_MS", "0")];
    match way {
        Way::Before => env.extend([
            ("SHIM_CHILD_CMD", node20.as_str()),
            ("MCP_INIT_FOLLOWER_RETRY_MS", "3000"),
        ]),
        // The image's start command and settings on Node 20 (its cache does not apply).
        Way::AfterNode20 => env.push(("LIBRECHAT_NODE", node20_path.as_str())),
        Way::After => {}
        Way::NoWait => env.push(("SHIM_PENDING_WAIT_MS", "0")),
    }
    let stack = stack_with(&env, opts)?;
    let c = http_client();
    let t0 = Instant::now();
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
    let first_ms = t0.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(r.status, 200, "{}", r.text());
    // The shim's log reaches the file a moment after the answer.
    let t = Instant::now();
    while readies(&stack).is_empty() && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready = readies(&stack).first().copied().unwrap_or(f64::NAN);
    let s = warm(&stack, &c).await;
    let second = readies(&stack).get(1).copied().unwrap_or(f64::NAN);
    let mut out = Round {
        spawn_to_ready_ms: ready,
        second_ready_ms: second,
        first_ms,
        ttft_ms: Vec::new(),
        final_ms: Vec::new(),
        post_billed_ms: Vec::new(),
        done: 0,
        tried: 0,
        cold_ttft_ms: f64::NAN,
        cold_ready_ms: f64::NAN,
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
            // Without the wait the chat stalls while its POST's environment is frozen: 15 s
            // tells a stall from a slow model (5 chunks 300 ms apart).
            Duration::from_secs(if matches!(way, Way::NoWait) { 15 } else { 120 }),
        )
        .await;
        out.tried += 1;
        if st.finished {
            out.done += 1;
        } else if !matches!(way, Way::NoWait) {
            panic!(
                "no final event (GET status {}, {} events)",
                st.status,
                st.events.len()
            );
        }
        if let Some((at, _)) = deltas(&st.events).first() {
            out.ttft_ms
                .push(at.duration_since(sent).as_secs_f64() * 1000.0);
        }
        if let Some((at, _)) = st.events.last() {
            out.final_ms
                .push(at.duration_since(sent).as_secs_f64() * 1000.0);
        }
        let no_wait = matches!(way, Way::NoWait);
        if !no_wait {
            idle_envs(&stack, 2).await;
        }
        // The POST's REPORT: the first one of its environment after the chat started (the
        // environment's log reaches the file a moment after it asks for the next event).
        let t = Instant::now();
        let post = loop {
            let found = stack
                .reports()
                .get(before..)
                .unwrap_or_default()
                .iter()
                .filter(|(e, _)| *e == post_env)
                .find_map(|(_, l)| billed(l));
            if found.is_some() || t.elapsed() > Duration::from_secs(5) {
                break found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        match post {
            Some(ms) => out.post_billed_ms.push(ms),
            None => eprintln!(
                "no REPORT of environment {post_env} after the POST: {:?}",
                stack.reports()
            ),
        }
        if no_wait {
            // One chat: the stalled one stays `running` in LibreChat (one chat per user at a
            // time), and its frozen environment would serve whatever comes next.
            return Some(out);
        }
    }
    // The first web-chat token on a new environment (a cold start), the stream on an idle one.
    idle_envs(&stack, 2).await;
    let known = readies(&stack).len();
    let sent = Instant::now();
    let (post_env, id) = start_chat_routed(
        &stack,
        &c,
        &s,
        None,
        "00000000-0000-0000-0000-000000000000",
        Some("new"),
    )
    .await;
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
    if !st.finished {
        // Reported, not fatal: the round's other figures stand.
        eprintln!(
            "cold chat: no final event (GET status {}, {} events, POST on env {post_env}, GET on \
             env {get_env}); last: {:?}",
            st.status,
            st.events.len(),
            st.events.last().map(|(_, v)| v.to_string())
        );
    }
    out.cold_ttft_ms = deltas(&st.events).first().map_or(f64::NAN, |(at, _)| {
        at.duration_since(sent).as_secs_f64() * 1000.0
    });
    out.cold_ready_ms = readies(&stack).get(known).copied().unwrap_or(f64::NAN);
    Some(out)
}

fn median(v: &[f64]) -> f64 {
    pct(v, 50.0)
}

async fn run() {
    let rounds = env_num("BENCH_ROUNDS", 2).max(1);
    let chats = env_num("BENCH_CHATS", 3).max(1);
    let only = std::env::var("BENCH_WAYS").unwrap_or_default();
    let load_start = loadavg();
    let ways: Vec<(&str, Way)> = [
        ("before", Way::Before),
        ("after", Way::After),
        ("after-node20", Way::AfterNode20),
        ("no-wait", Way::NoWait),
    ]
    .into_iter()
    .filter(|(n, _)| {
        if only.is_empty() {
            !["after-node20", "no-wait"].contains(n)
        } else {
            only.split(',').any(|o| o == *n)
        }
    })
    .collect();
    let share_sel = std::env::var("BENCH_SHARES").unwrap_or_default();
    let shares: Vec<(&str, u32, bool)> = [
        ("whole core", 2048u32, false),
        ("1,024 MB share", 1024, true),
    ]
    .into_iter()
    .filter(|(_, mb, limits)| {
        share_sel.is_empty()
            || share_sel
                .split(',')
                .any(|s| (s == "whole" && !limits) || (*limits && s == mb.to_string()))
    })
    .collect();
    let mut results: Vec<(String, Vec<Round>)> = Vec::new();
    for (w, _) in &ways {
        for (s, _, _) in &shares {
            results.push((format!("{w}, {s}"), Vec::new()));
        }
    }
    for r in 0..rounds {
        for (si, (_, mem, limits)) in shares.iter().enumerate() {
            // Alternating which way goes first from round to round.
            for k in 0..ways.len() {
                let wi = (k + r) % ways.len();
                let Some(out) = round(*mem, *limits, chats, ways[wi].1).await else {
                    eprintln!(
                        "web_chat bench: no LibreChat (eval \"$(scripts/librechat-tier.sh)\")"
                    );
                    return;
                };
                eprintln!(
                    "round {r}: {} ready {:.0} / {:.0} ms (load {})",
                    results[wi * shares.len() + si].0,
                    out.spawn_to_ready_ms,
                    out.second_ready_ms,
                    loadavg()
                );
                results[wi * shares.len() + si].1.push(out);
            }
        }
    }
    println!(
        "web chat on the local Lambda: {rounds} rounds x {chats} chats, load {load_start} -> {}",
        loadavg()
    );
    println!(
        "{:<26} {:>14} {:>14} {:>14} {:>9} {:>10} {:>6} {:>12} {:>14} {:>16}",
        "way, CPU",
        "ready 1st env",
        "ready 2nd env",
        "first answer",
        "TTFT p50",
        "final p50",
        "done",
        "POST billed",
        "ready cold chat",
        "TTFT cold chat"
    );
    for (name, rs) in &results {
        let ready: Vec<f64> = rs.iter().map(|r| r.spawn_to_ready_ms).collect();
        let second: Vec<f64> = rs.iter().map(|r| r.second_ready_ms).collect();
        let first: Vec<f64> = rs.iter().map(|r| r.first_ms).collect();
        let ttft: Vec<f64> = rs.iter().flat_map(|r| r.ttft_ms.clone()).collect();
        let fin: Vec<f64> = rs.iter().flat_map(|r| r.final_ms.clone()).collect();
        let billed: Vec<f64> = rs.iter().flat_map(|r| r.post_billed_ms.clone()).collect();
        let cold_ready: Vec<f64> = rs.iter().map(|r| r.cold_ready_ms).collect();
        let cold_ttft: Vec<f64> = rs.iter().map(|r| r.cold_ttft_ms).collect();
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.0}"))
                .collect::<Vec<_>>()
                .join("/")
        };
        println!(
            "{name:<26} {:>14} {:>14} {:>14} {:>9.0} {:>10.0} {:>6} {:>12} {:>14} {:>16}",
            list(&ready),
            list(&second),
            list(&first),
            median(&ttft),
            median(&fin),
            format!(
                "{}/{}",
                rs.iter().map(|r| r.done).sum::<usize>(),
                rs.iter().map(|r| r.tried).sum::<usize>()
            ),
            list(&billed),
            list(&cold_ready),
            list(&cold_ttft)
        );
        println!(
            "{:<26} TTFT each: {}; final each: {}",
            "",
            list(&ttft),
            list(&fin)
        );
    }
    println!(
        "(ms; ready: the shim's spawn_to_ready_ms, per round; TTFT: POST sent to the first delta; \
         done: chats whose final event came; POST billed: the POST's REPORT, each; cold chat: \
         the POST on a new environment, the third, while the first one leads)"
    );
}

fn main() {
    bench_main("web_chat", run);
}
