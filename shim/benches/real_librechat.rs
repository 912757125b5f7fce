//! Benchmark (not a test): the real LibreChat v0.8.6 behind the shim (issue 9, item 7).
//!
//! The real-LibreChat tier's stack (tests/it/support/librechat.rs: moto with the config in S3
//! and the secrets in SSM, nx-27017, the fake model, cargo-lambda's Runtime API, the real
//! `bootstrap` built by this bench's profile, LibreChat as its child with the image's ENV), then:
//! - cold start: the shim's own `spawn_to_ready_ms` / `total_ms` ("LibreChat ready") and the first
//!   invocation end to end (`GET /api/health`, measured by the client from the shim's spawn),
//!   for `BENCH_COLD` (2) fresh stacks;
//! - RSS of LibreChat and of the shim after the chats (`VmRSS`);
//! - per streamed chunk: arrival at the client minus the model's `sent_at_ms` (same clock), for
//!   chats streamed through the shim (client -> cargo-lambda -> shim -> LibreChat) and directly
//!   to LibreChat's port, interleaved, `BENCH_CHATS` (6) of each with `BENCH_CHUNKS` (10) chunks
//!   `BENCH_CHUNK_MS` (100) ms apart; the shim's added latency is the difference.
//!
//! The client: reqwest (TCP_NODELAY on by default), one connection pool; the chunks are 100 ms
//! apart, so a sender never holds a small segment for the client's delayed ACK between two of
//! them (Nagle holds one only while an earlier one is unacknowledged; 100 ms exceeds the ~40 ms
//! delayed-ACK timer). The same client serves both ways.
//!
//! Run: `cargo bench -p shim --bench real_librechat` with LibreChat available (LIBRECHAT_DIR or
//! `eval "$(scripts/librechat-tier.sh)"`). Under `cargo test` it only says how to run it.

// A benchmark: a failed setup step ends the run with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/support/mod.rs"]
mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::bench::*;
use support::librechat::*;
use support::*;

/// A clock pair turning `Instant`s into epoch milliseconds (the fake model logs epoch ms).
struct Clock {
    at: Instant,
    epoch_ms: f64,
}

impl Clock {
    fn now() -> Clock {
        let epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0);
        Clock {
            at: Instant::now(),
            epoch_ms,
        }
    }
    fn ms(&self, t: Instant) -> f64 {
        if t >= self.at {
            self.epoch_ms + t.duration_since(self.at).as_secs_f64() * 1000.0
        } else {
            self.epoch_ms - self.at.duration_since(t).as_secs_f64() * 1000.0
        }
    }
}

/// The last log line of the shim with this message, as JSON.
fn shim_line(stack: &Stack, message: &str) -> Value {
    stack
        .logs()
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == message)
        .unwrap_or(Value::Null)
}

/// A streamed chat sent straight to LibreChat's port (no gateway, no cargo-lambda, no shim).
async fn chat_direct(c: &reqwest::Client, port: u16, s: &Seeded, directive: &str) -> Vec<Chunk> {
    use futures::StreamExt;
    let body = json!({"model": s.agent_id, "stream": true,
                      "messages": [{"role": "user", "content": format!("hi {directive}")}]});
    let r = c
        .post(format!(
            "http://127.0.0.1:{port}/api/agents/v1/chat/completions"
        ))
        .header("Authorization", format!("Bearer {}", s.api_key))
        .header("User-Agent", BROWSER_UA)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("direct chat");
    assert_eq!(r.status().as_u16(), 200, "direct chat status");
    let mut out = Vec::new();
    let mut stream = r.bytes_stream();
    while let Some(b) = stream.next().await {
        let b = b.expect("direct chat body");
        out.push(Chunk {
            at: Instant::now(),
            data: b.to_vec(),
        });
    }
    out
}

/// Per-chunk delay (arrival - the model's send time) of one chat's content deltas.
fn delays(stack: &Stack, clock: &Clock, chunks: &[Chunk], expect: usize) -> Vec<f64> {
    let deltas = content_deltas(&data_frames(chunks));
    assert_eq!(deltas.len(), expect, "content deltas of a chat");
    let sent = model_send_times(stack);
    let sent = &sent[sent.len().saturating_sub(deltas.len())..];
    deltas
        .iter()
        .zip(sent)
        .map(|((at, _), s)| clock.ms(*at) - s)
        .collect()
}

async fn run() {
    let Some(tree) = tree() else {
        eprintln!(
            "real_librechat bench: no LibreChat (set LIBRECHAT_DIR, or eval \"$(scripts/librechat-tier.sh)\")"
        );
        return;
    };
    let cold_rounds = env_num("BENCH_COLD", 2).max(1);
    let chats = env_num("BENCH_CHATS", 6);
    let chunks = env_num("BENCH_CHUNKS", 10);
    let chunk_ms = env_num("BENCH_CHUNK_MS", 100);
    let load_start = loadavg();
    let c = http_client();
    let clock = Clock::now();

    let mut cold: Vec<(f64, f64, f64)> = Vec::new();
    let mut last = None;
    for round in 0..cold_rounds {
        if let Some(old) = last.take() {
            drop(old);
        }
        // Stack::start spawns the shim last (after moto, nx-27017, the model, cargo-lambda): the
        // clock starts when it returns, i.e. at the shim's spawn, as Lambda's init does.
        let stack = Stack::start(&tree, StackOpts::default());
        let t0 = Instant::now();
        let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
        let first_ms = t0.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(
            r.status,
            200,
            "cold start {round}: {}\n{}",
            r.text(),
            stack.logs()
        );
        let ready = shim_line(&stack, "LibreChat ready");
        cold.push((
            ready["spawn_to_ready_ms"].as_f64().unwrap_or(f64::NAN),
            ready["total_ms"].as_f64().unwrap_or(f64::NAN),
            first_ms,
        ));
        last = Some(stack);
    }
    let stack = last.expect("a stack");

    let s = seed(&c, stack.invoke_port).await;
    let directive = format!("[fake chunks={chunks} delay_ms={chunk_ms}]");
    let (mut via_shim, mut direct) = (Vec::new(), Vec::new());
    for _ in 0..chats {
        let r = chat_stream(&c, stack.invoke_port, &s, &directive, None).await;
        assert_eq!(r.status, 200, "{}", r.text());
        via_shim.extend(delays(&stack, &clock, &r.chunks, chunks));
        let d = chat_direct(&c, stack.upstream_port, &s, &directive).await;
        direct.extend(delays(&stack, &clock, &d, chunks));
    }
    let lc_rss = stack
        .librechat_pid()
        .and_then(|p| proc_status_kb(p, "VmRSS:"));
    let shim_rss = stack
        .boot
        .as_ref()
        .and_then(|b| proc_status_kb(b.pid(), "VmRSS:"));
    let load_end = loadavg();

    println!(
        "real LibreChat ({}) behind the shim, {}",
        tree.version,
        env!("CARGO_PKG_NAME")
    );
    println!("load average at start: {load_start}; at end: {load_end}");
    println!();
    println!(
        "| cold start | spawn to ready (shim) | init total (shim) | first invocation end to end |"
    );
    println!("| --- | --- | --- | --- |");
    for (i, (ready, total, first)) in cold.iter().enumerate() {
        println!(
            "| {} | {:.0} ms | {:.0} ms | {:.0} ms |",
            i + 1,
            ready,
            total,
            first
        );
    }
    println!();
    let (dp50, dp99) = (pct(&direct, 50.0), pct(&direct, 99.0));
    let (sp50, sp99) = (pct(&via_shim, 50.0), pct(&via_shim, 99.0));
    println!(
        "| per chunk ({} chats x {chunks} chunks, {chunk_ms} ms apart) | p50 | p99 | max |",
        chats
    );
    println!("| --- | --- | --- | --- |");
    println!(
        "| direct to LibreChat | {dp50:.2} ms | {dp99:.2} ms | {:.2} ms |",
        pct(&direct, 100.0)
    );
    println!(
        "| through cargo-lambda + shim | {sp50:.2} ms | {sp99:.2} ms | {:.2} ms |",
        pct(&via_shim, 100.0)
    );
    println!(
        "| added by the shim path | {:+.2} ms | {:+.2} ms | |",
        sp50 - dp50,
        sp99 - dp99
    );
    println!();
    println!(
        "RSS after the chats: LibreChat {} MB, shim {} MB",
        lc_rss.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        shim_rss.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
    );
    drop(stack);
    tokio::time::sleep(Duration::from_millis(10)).await;
}

fn main() {
    bench_main("real_librechat", run);
}
