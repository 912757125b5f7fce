//! Benchmark (not a test): the shim's overhead next to aws-lambda-web-adapter's, in one run.
//!
//! Ways to the same Node upstream (tools/librechat-standin), in interleaved rounds:
//! - `direct`: client -> upstream;
//! - `shim`: client -> cargo-lambda's invoke API -> Runtime API -> `bootstrap` (release) -> upstream;
//! - `lwa`: the same with aws-lambda-web-adapter 1.0.0-rc1 (crates.io `lambda_web_adapter`,
//!   built in release by this bench into `target/lwa-runner`, see benches/lwa-runner) in place
//!   of the shim, each with its own cargo-lambda;
//! - `null-fn`: the floor, a function under its own cargo-lambda that proxies nothing and answers
//!   every event at once (this binary in another mode, see `null_function`): what the emulator
//!   and the Runtime API round trip cost by themselves (latency only);
//! - `shim-noqa`: the shim without re-arming `TCP_QUICKACK` (see below).
//!
//! Reports per way: latency p50/p99 of `GET /api/__standin/echo` and what the proxy adds to the
//! direct figure; per-event SSE delay (arrival - the upstream's `sent_at_ms`) for events 50 ms
//! apart; RSS of the shim and of LWA after those runs. Then the same latency with a client that
//! sends the request body 1 ms after its head (the case that made the emulator write `/next` in
//! two pieces), large-body throughput and memory, and the shim's own init time.
//!
//! The client adds no delay of its own: every connection has `TCP_NODELAY` and re-arms
//! `TCP_QUICKACK` before every read (the shim's own connector, `shim::quickack`), so no response
//! waits for the client's delayed ACK; connections are kept alive, as a real client's are.
//!
//! Run: `cargo bench -p shim --bench overhead`. Env: `BENCH_REQUESTS` (1000), `BENCH_WARMUP` (600
//! rounds before them, not counted: the upstream's Node warms up over its first ~450 rounds, and
//! its compiler threads make the others wait for a CPU meanwhile, see shim/README.md),
//! `BENCH_SSE_STREAMS`
//! (4) x `BENCH_SSE_EVENTS` (40) at `BENCH_SSE_INTERVAL_MS` (50), `BENCH_SPLIT_REQUESTS` (100),
//! `BENCH_LWA=0` (leave LWA out, e.g. without crates.io), `BENCH_NOQUICKACK=0` (leave out the
//! `shim-noqa` way: the shim with `SHIM_RUNTIME_QUICKACK=0`, i.e. without src/quickack.rs's
//! re-arming, the A/B of that fix), `BENCH_RUNTIME_LOOP=lambda_runtime` (the shim on
//! `lambda_runtime::run`, for comparison), `BENCH_DUMP=FILE` (every sample per way, JSON),
//! `BENCH_SHIM_B=/ABS/bootstrap` (in the `shim-noqa` slot: that build of the shim, re-arming on,
//! as the way `shim-b`: two builds of the shim, e.g. two profiles, in one run),
//! `BENCH_SHIM_B_ENV="K=V K2=V2"` (the same slot: the shim, or `BENCH_SHIM_B`'s build, with these
//! variables, e.g. `SHIM_WORKER_THREADS=0` for the runtime A/B). `SHIM_WORKER_THREADS` in the
//! bench's own environment is passed to every shim and to `null-fn` (which runs on the runtime it
//! gives), so that the A/B can be swapped.
//! `BENCH_PIN=1`: Lambda's layout on this 2-core machine: the function side (the upstream, every
//! shim, LWA, the null function) on CPU 1, the platform side (this client and every
//! cargo-lambda) on CPU 0, so that a function's hops never wait for a CPU behind the emulator or
//! the client, nor they behind it (on Lambda the Runtime API and the frontend run elsewhere). On
//! the shared default, the tail is such waits (shim/benches/hop_trace.py, shim/README.md).

// A benchmark: a failed setup step ends the run with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/support/mod.rs"]
mod support;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lambda_runtime::streaming::Body;
use serde_json::{Value, json};
use shim::quickack::QuickAckConnector;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::bench::*;
use support::*;

type HttpClient = Client<QuickAckConnector, Body>;

/// The way with no upstream (see `null_function`): latency only, no SSE.
const NULL_WAY: &str = "null-fn";

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// `VmRSS (RssAnon anon + RssFile file)` in MB.
fn rss(pid: u32) -> String {
    let mb = |f| proc_status_kb(pid, f).map_or(f64::NAN, |k| k as f64 / 1000.0);
    format!(
        "{:.1} MB ({:.1} anon + {:.1} file)",
        mb("VmRSS:"),
        mb("RssAnon:"),
        mb("RssFile:")
    )
}

/// A response: status and every body frame with its arrival (monotonic, and wall-clock ms).
struct Resp {
    status: u16,
    frames: Vec<(Instant, f64, Bytes)>,
}

impl Resp {
    fn body(&self) -> Vec<u8> {
        self.frames.iter().flat_map(|f| f.2.to_vec()).collect()
    }
}

/// One request; with `split`, the body is sent 1 ms after the head (own write, own segment).
async fn request(
    c: &HttpClient,
    method: &str,
    url: &str,
    body: Option<Bytes>,
    split: bool,
) -> Resp {
    let mut b = http::Request::builder().method(method).uri(url);
    let body = match body {
        None => Body::empty(),
        Some(data) if split => {
            b = b.header("content-length", data.len());
            let (mut tx, rx) = Body::channel();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                let _ = tx.send_data(data).await;
            });
            rx
        }
        Some(data) => Body::from(data),
    };
    let req = b
        .header("content-type", "application/json")
        .body(body)
        .expect("request");
    let resp = c.request(req).await.expect("request sent");
    let status = resp.status().as_u16();
    let mut body = resp.into_body();
    let mut frames = Vec::new();
    while let Some(f) = body.frame().await {
        let f = f.expect("response body");
        if let Ok(data) = f.into_data() {
            frames.push((Instant::now(), now_ms(), data));
        }
    }
    Resp { status, frames }
}

#[derive(Clone, Copy, PartialEq)]
enum Way {
    Direct(u16),
    /// Through a proxy under cargo-lambda: its invoke port.
    Invoke(u16),
}

/// A REST API (v1) event as API Gateway sends it: `requestContext` also has `httpMethod`,
/// `resourcePath`, `accountId`, `apiId` (lambda_http, hence LWA, does not take the event as an
/// HTTP request without them and posts it to its pass-through path `/events` instead).
fn apigw(mut ev: Value) -> Value {
    let method = ev["httpMethod"].clone();
    let proxy = ev["path"]
        .as_str()
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_string();
    if let Some(rc) = ev["requestContext"].as_object_mut() {
        rc.insert("httpMethod".into(), method);
        rc.insert("resourcePath".into(), json!("/{proxy+}"));
        rc.insert("accountId".into(), json!("123456789012"));
        rc.insert("apiId".into(), json!("bench"));
    }
    with(ev, "pathParameters", json!({ "proxy": proxy }))
}

async fn call(c: &HttpClient, way: Way, ev: &Value, split: bool) -> Resp {
    match way {
        Way::Direct(port) => {
            let path = ev["path"].as_str().unwrap_or("/");
            let q: Vec<String> = ev["multiValueQueryStringParameters"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .flat_map(|(k, vs)| {
                            vs.as_array()
                                .into_iter()
                                .flatten()
                                .map(move |v| format!("{k}={}", v.as_str().unwrap_or("")))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let url = if q.is_empty() {
                format!("http://127.0.0.1:{port}{path}")
            } else {
                format!("http://127.0.0.1:{port}{path}?{}", q.join("&"))
            };
            let body = match (ev["body"].as_str(), ev["isBase64Encoded"].as_bool()) {
                (Some(b), Some(true)) => {
                    use base64::Engine as _;
                    Some(Bytes::from(
                        base64::engine::general_purpose::STANDARD
                            .decode(b)
                            .expect("base64"),
                    ))
                }
                (Some(b), _) => Some(Bytes::from(b.to_string())),
                (None, _) if split => Some(Bytes::from_static(b"{}")),
                (None, _) => None,
            };
            request(
                c,
                ev["httpMethod"].as_str().unwrap_or("GET"),
                &url,
                body,
                split,
            )
            .await
        }
        Way::Invoke(port) => {
            let url = format!("http://127.0.0.1:{port}/2015-03-31/functions/_/invocations");
            let ev = apigw(ev.clone());
            request(c, "POST", &url, Some(Bytes::from(ev.to_string())), split).await
        }
    }
}

/// Per-event delays (arrival wall time - `sent_at_ms`) of a timed SSE response.
fn sse_delays(r: &Resp) -> Vec<f64> {
    let mut out = Vec::new();
    let mut buf = String::new();
    for (_, at, data) in &r.frames {
        buf.push_str(&String::from_utf8_lossy(data));
        while let Some(i) = buf.find("\n\n") {
            let block = buf[..i].to_string();
            buf = buf[i + 2..].to_string();
            for line in block.lines() {
                if let Some(d) = line.strip_prefix("data: ")
                    && let Ok(v) = serde_json::from_str::<Value>(d)
                    && let Some(sent) = v["sent_at_ms"].as_f64()
                {
                    out.push(at - sent);
                }
            }
        }
    }
    out
}

fn elapsed_ms(t: Instant, r: &Resp) -> f64 {
    r.frames
        .last()
        .map_or_else(|| t.elapsed(), |f| f.0.duration_since(t))
        .as_secs_f64()
        * 1000.0
}

/// aws-lambda-web-adapter, built in release from crates.io by `cargo build` (a no-op when
/// fresh): `target/lwa-runner/release/lwa-runner`.
fn lwa_binary() -> Option<PathBuf> {
    if std::env::var("BENCH_LWA").is_ok_and(|v| v == "0") {
        return None;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("lwa-runner");
    let manifest = repo_root().join("shim/benches/lwa-runner/Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!(
        "building aws-lambda-web-adapter 1.0.0-rc1 (release) into {}",
        target.display()
    );
    let ok = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "building {} failed (BENCH_LWA=0 leaves LWA out)",
        manifest.display()
    );
    Some(target.join("release/lwa-runner"))
}

/// With `BENCH_PIN=1`: the CPU of the function side (see the top of this file).
const FUNCTION_CPU: &str = "1";

fn pinned() -> bool {
    std::env::var("BENCH_PIN").as_deref() == Ok("1")
}

/// The wrapper that starts a program on the function side's CPU under `BENCH_PIN=1` (`taskset`
/// execs it: same pid); empty otherwise.
fn function_wrapper() -> Vec<&'static str> {
    if pinned() {
        vec!["taskset", "-c", FUNCTION_CPU]
    } else {
        Vec::new()
    }
}

/// Under `BENCH_PIN=1`, every thread of this process on CPU 0 (the platform side): the
/// cargo-lambdas it spawns afterwards inherit it.
fn pin_self_to_platform_cpu() {
    if !pinned() {
        return;
    }
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    for t in tasks.flatten() {
        let tid = t.file_name().to_string_lossy().to_string();
        let ok = Command::new("taskset")
            .args(["-p", "-c", "0", &tid])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "taskset -p -c 0 {tid} (BENCH_PIN=1 needs util-linux's taskset and 2 CPUs)"
        );
    }
}

fn lwa(bin: &PathBuf, rt_port: u16, upstream: u16, dir: &std::path::Path) -> Proc {
    let mut cmd = wrapped(&function_wrapper(), bin);
    lambda_env(&mut cmd, rt_port)
        .env("AWS_LWA_PORT", upstream.to_string())
        .env("AWS_LWA_READINESS_CHECK_PATH", "/health")
        .env("AWS_LWA_INVOKE_MODE", "response_stream")
        // lambda_http puts the stage in the path unless told not to (the shim does not).
        .env("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true");
    Proc::spawn("lwa", cmd, dir)
}

struct Stats {
    lat: Vec<f64>,
    split: Vec<f64>,
    sse: Vec<f64>,
}

/// The `null-fn` way: this binary, started with `BENCH_NULL_FUNCTION=1` under cargo-lambda, as a
/// function that proxies nothing: the shim's own Runtime API loop (`shim::runtime_loop::run`, the
/// same connector, framing and streaming POST) with a handler that answers every event at once
/// with a fixed `200 {"null":true}`. Its latency is what cargo-lambda's emulator, one Runtime
/// API round trip and the loop cost without the proxying: the floor under `shim` and `lwa`.
async fn null_function() {
    let handler = |_ev| async {
        let (mut tx, rx) = lambda_runtime::streaming::channel();
        tokio::spawn(async move {
            let _ = tx.send_data(Bytes::from_static(br#"{"null":true}"#)).await;
        });
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
        lambda_runtime::StreamResponse {
            metadata_prelude: lambda_runtime::MetadataPrelude {
                status_code: http::StatusCode::OK,
                headers,
                cookies: Vec::new(),
            },
            stream: rx,
        }
    };
    if let Err(e) = shim::runtime_loop::run(handler).await {
        eprintln!("null function: {e}");
    }
}

fn main() {
    if std::env::var_os("BENCH_NULL_FUNCTION").is_some() {
        // The shim's runtime, from the same SHIM_WORKER_THREADS.
        let rt = shim::settings::RuntimeFlavor::from_env()
            .expect("SHIM_WORKER_THREADS")
            .build()
            .expect("runtime");
        rt.block_on(null_function());
        return;
    }
    // In debug under `cargo test --all-targets` it would build LWA in release first: it does not
    // run there.
    bench_main("overhead", run);
}

async fn run() {
    let n = env_num("BENCH_REQUESTS", 1000);
    let n_split = env_num("BENCH_SPLIT_REQUESTS", 100);
    let streams = env_num("BENCH_SSE_STREAMS", 4);
    let events = env_num("BENCH_SSE_EVENTS", 40);
    let interval = env_num("BENCH_SSE_INTERVAL_MS", 50);
    let lwa_bin = lwa_binary();
    pin_self_to_platform_cpu();
    let load_start = loadavg();
    let dir = tempfile::tempdir().expect("tempdir");
    let up = free_port();
    // The Node stand-in (support's `standin`, on the function side's CPU under BENCH_PIN=1).
    let _standin = standin_via(&function_wrapper(), up, &[], dir.path());
    assert!(
        wait_port(up, Duration::from_secs(20)),
        "stand-in did not start"
    );
    let runtime_loop = std::env::var("BENCH_RUNTIME_LOOP").unwrap_or_default();
    let shim_env = |extra: &[(&str, &str)]| {
        let mut e = vec![
            ("SHIM_CHILD_CMD".to_string(), "none".to_string()),
            ("SHIM_UPSTREAM_PORT".to_string(), up.to_string()),
            ("SHIM_RUNTIME_LOOP".to_string(), runtime_loop.clone()),
        ];
        if let Ok(v) = std::env::var("SHIM_WORKER_THREADS") {
            e.push(("SHIM_WORKER_THREADS".to_string(), v));
        }
        e.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        e
    };
    let c: HttpClient = Client::builder(TokioExecutor::new()).build(QuickAckConnector::new());

    // The shim proxies the already-running stand-in (no child): init time is the shim's own.
    let (_cl, inv) = cargo_lambda(dir.path());
    let spawn_at = Instant::now();
    let wrap = function_wrapper();
    let boot = bootstrap_via(&wrap, inv, &shim_env(&[]), dir.path(), "bootstrap");
    let echo = v1_event("GET", "/api/__standin/echo");
    let first = call(&c, Way::Invoke(inv), &echo, false).await;
    assert_eq!(first.status, 200, "{}", boot.output());
    let first_invoke_ms = spawn_at.elapsed().as_secs_f64() * 1000.0;

    let lwa_dir = dir.path().join("lwa");
    std::fs::create_dir_all(&lwa_dir).expect("dir");
    let lwa_proc = lwa_bin.as_ref().map(|bin| {
        let (cl, port) = cargo_lambda(&lwa_dir);
        (cl, port, lwa(bin, port, up, &lwa_dir))
    });
    let mut ways = vec![("direct", Way::Direct(up)), ("shim", Way::Invoke(inv))];
    if let Some((_, port, p)) = &lwa_proc {
        let r = call(&c, Way::Invoke(*port), &echo, false).await;
        assert_eq!(r.status, 200, "LWA: {}", p.output());
        ways.push(("lwa", Way::Invoke(*port)));
    }
    // The shim without TCP_QUICKACK on its Runtime API connection (SHIM_RUNTIME_QUICKACK=0):
    // the A/B of src/quickack.rs in the same run. BENCH_NOQUICKACK=0 leaves it out.
    let noqa_dir = dir.path().join("noquickack");
    std::fs::create_dir_all(&noqa_dir).expect("dir");
    let shim_b = std::env::var("BENCH_SHIM_B").ok();
    let shim_b_env: Vec<(String, String)> = std::env::var("BENCH_SHIM_B_ENV")
        .unwrap_or_default()
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .expect("BENCH_SHIM_B_ENV: K=V pairs separated by spaces");
            (k.to_string(), v.to_string())
        })
        .collect();
    let b_env: Vec<(&str, &str)> = shim_b_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let noqa_way = if shim_b.is_some() || !b_env.is_empty() {
        "shim-b"
    } else {
        "shim-noqa"
    };
    let noqa = (std::env::var("BENCH_NOQUICKACK").as_deref() != Ok("0")).then(|| {
        let (cl, port) = cargo_lambda(&noqa_dir);
        let p = match &shim_b {
            // `sh -c 'exec B'` ignores the bootstrap path the wrapper is given.
            Some(b) => bootstrap_via(
                &[&wrap[..], &["sh", "-c", &format!("exec '{b}'")]].concat(),
                port,
                &shim_env(&b_env),
                &noqa_dir,
                "bootstrap-b",
            ),
            None if !b_env.is_empty() => {
                bootstrap_via(&wrap, port, &shim_env(&b_env), &noqa_dir, "bootstrap-b")
            }
            None => bootstrap_via(
                &wrap,
                port,
                &shim_env(&[("SHIM_RUNTIME_QUICKACK", "0")]),
                &noqa_dir,
                "bootstrap-noquickack",
            ),
        };
        (cl, port, p)
    });
    if let Some((_, port, p)) = &noqa {
        let r = call(&c, Way::Invoke(*port), &echo, false).await;
        assert_eq!(r.status, 200, "{noqa_way}: {}", p.output());
        ways.push((noqa_way, Way::Invoke(*port)));
    }
    // The floor: a function that proxies nothing (`null_function`), its own emulator.
    let null_dir = dir.path().join("null-function");
    std::fs::create_dir_all(&null_dir).expect("dir");
    let (_cl_null, null_port) = cargo_lambda(&null_dir);
    let mut null_cmd = wrapped(
        &function_wrapper(),
        std::env::current_exe().expect("bench binary"),
    );
    lambda_env(&mut null_cmd, null_port).env("BENCH_NULL_FUNCTION", "1");
    if let Ok(v) = std::env::var("SHIM_WORKER_THREADS") {
        null_cmd.env("SHIM_WORKER_THREADS", v);
    }
    let null_proc = Proc::spawn("null-function", null_cmd, &null_dir);
    let r = call(&c, Way::Invoke(null_port), &echo, false).await;
    assert_eq!(r.status, 200, "null function: {}", null_proc.output());
    ways.push((NULL_WAY, Way::Invoke(null_port)));
    // For a packet trace alongside (tcpdump -i lo 'port P'): every port of this run.
    eprintln!(
        "ports: upstream {up}; shim's cargo-lambda (invoke + Runtime API) {inv}; lwa's {}; shim-noqa's {}",
        lwa_proc.as_ref().map_or("-".into(), |l| l.1.to_string()),
        noqa.as_ref().map_or("-".into(), |l| l.1.to_string())
    );
    // (`ways` minus direct and null-fn, in order: shim, lwa, shim-noqa.)
    let pids: Vec<u32> = std::iter::once(boot.pid())
        .chain(lwa_proc.iter().map(|(_, _, p)| p.pid()))
        .chain(noqa.iter().map(|(_, _, p)| p.pid()))
        .collect();
    let rss_idle: Vec<String> = pids.iter().map(|p| rss(*p)).collect();

    // A second shim with glibc's dynamic mmap threshold (SHIM_MMAP_THRESHOLD_KB=0), for the
    // large-body memory comparison; its own emulator, idle until then.
    let dir_dyn = dir.path().join("dynamic-threshold");
    std::fs::create_dir_all(&dir_dyn).expect("dir");
    let (_cl_dyn, inv_dyn) = cargo_lambda(&dir_dyn);
    let boot_dyn = bootstrap_via(
        &wrap,
        inv_dyn,
        &shim_env(&[("SHIM_MMAP_THRESHOLD_KB", "0")]),
        &dir_dyn,
        "bootstrap-dyn",
    );
    let r = call(&c, Way::Invoke(inv_dyn), &echo, false).await;
    assert_eq!(r.status, 200, "{}", boot_dyn.output());

    // Warm-up: BENCH_WARMUP rounds of the latency requests, not counted.
    let warmup = env_num("BENCH_WARMUP", 600);
    for _ in 0..warmup {
        for (_, w) in &ways {
            let _ = call(&c, *w, &echo, false).await;
        }
    }

    let mut stats: Vec<Stats> = ways
        .iter()
        .map(|_| Stats {
            lat: Vec::new(),
            split: Vec::new(),
            sse: Vec::new(),
        })
        .collect();
    // 1. Latency: rounds of one request each way, the order rotated every round.
    for i in 0..n {
        for k in 0..ways.len() {
            let j = (i + k) % ways.len();
            let t = Instant::now();
            let r = call(&c, ways[j].1, &echo, false).await;
            assert_eq!(r.status, 200, "{}", ways[j].0);
            stats[j].lat.push(elapsed_ms(t, &r));
            // The stand-in's echo (JSON), not its SPA page: every way reached the same route.
            assert_eq!(r.body().first(), Some(&b'{'), "{}: not the echo", ways[j].0);
        }
    }
    // 2. SSE: `streams` rounds of one stream each way.
    let sse = with(
        v1_event("POST", "/api/__standin/sse"),
        "multiValueQueryStringParameters",
        json!({"events": [events.to_string()], "interval_ms": [interval.to_string()]}),
    );
    for i in 0..streams {
        for k in 0..ways.len() {
            let j = (i + k) % ways.len();
            if ways[j].0 == NULL_WAY {
                continue;
            }
            let r = call(&c, ways[j].1, &sse, false).await;
            assert_eq!(r.status, 200, "{}", ways[j].0);
            let d = sse_delays(&r);
            assert_eq!(d.len(), events, "{}: events received", ways[j].0);
            stats[j].sse.extend(d);
        }
    }
    let rss_after: Vec<String> = pids.iter().map(|p| rss(*p)).collect();
    // 3. The request body 1 ms after its head.
    let echo_post = with(
        with(v1_event("POST", "/api/__standin/echo"), "body", json!("{}")),
        "httpMethod",
        json!("POST"),
    );
    for i in 0..n_split {
        for k in 0..ways.len() {
            let j = (i + k) % ways.len();
            let t = Instant::now();
            let r = call(&c, ways[j].1, &echo_post, true).await;
            assert_eq!(r.status, 200, "{}", ways[j].0);
            stats[j].split.push(elapsed_ms(t, &r));
        }
    }

    // 4. Large body: 3 MiB request echoed back (~4 MiB JSON response), 5 times each way, and
    //    through the second shim (dynamic mmap threshold), interleaved.
    let big = vec![b'x'; 3 * 1024 * 1024];
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&big)
    };
    let big_ev = with(
        with(echo_post.clone(), "body", json!(b64)),
        "isBase64Encoded",
        json!(true),
    );
    let (mut bytes_v, mut secs_v, mut bytes_d, mut secs_d) = (0usize, 0f64, 0usize, 0f64);
    let (mut bytes_dyn, mut secs_dyn) = (0usize, 0f64);
    for _ in 0..5 {
        for (way, bytes, secs) in [
            (Way::Invoke(inv), &mut bytes_v, &mut secs_v),
            (Way::Invoke(inv_dyn), &mut bytes_dyn, &mut secs_dyn),
            (Way::Direct(up), &mut bytes_d, &mut secs_d),
        ] {
            let t = Instant::now();
            let r = call(&c, way, &big_ev, false).await;
            *secs += t.elapsed().as_secs_f64();
            *bytes += r.body().len();
        }
    }
    let mbps = |b: usize, s: f64| b as f64 / (1024.0 * 1024.0) / s;
    let (rss_big, hwm) = (
        proc_status_kb(boot.pid(), "VmRSS:"),
        proc_status_kb(boot.pid(), "VmHWM:"),
    );
    let (rss_dyn, hwm_dyn) = (
        proc_status_kb(boot_dyn.pid(), "VmRSS:"),
        proc_status_kb(boot_dyn.pid(), "VmHWM:"),
    );
    let init_ms = boot
        .output()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "init phase done")
        .and_then(|v| v["init_ms"].as_f64());

    let load_end = loadavg();
    println!(
        "shim overhead benchmark: {n} requests (after {warmup} rounds of warm-up) and {streams}x{events} SSE events ({interval} ms apart) each way, interleaved; kept-alive connections, TCP_NODELAY + TCP_QUICKACK re-armed before every read; {}; loadavg {load_start} at start, {load_end} at end",
        if pinned() {
            "BENCH_PIN=1: function side on CPU 1, client and emulators on CPU 0"
        } else {
            "all on every CPU"
        }
    );
    println!(
        "{:<9} {:>9} {:>9} {:>10} {:>10} {:>9} {:>9} {:>13}   RSS after the runs (idle after init)",
        "way", "p50 ms", "p99 ms", "added p50", "added p99", "SSE p50", "SSE p99", "SSE added p99"
    );
    let (d50, d99) = (pct(&stats[0].lat, 50.0), pct(&stats[0].lat, 99.0));
    let ds99 = pct(&stats[0].sse, 99.0);
    for (j, (name, _)) in ways.iter().enumerate() {
        let s = &stats[j];
        let (p50, p99, s50, s99) = (
            pct(&s.lat, 50.0),
            pct(&s.lat, 99.0),
            pct(&s.sse, 50.0),
            pct(&s.sse, 99.0),
        );
        let mem = if j == 0 || *name == NULL_WAY {
            String::new()
        } else {
            format!("{} ({})", rss_after[j - 1], rss_idle[j - 1])
        };
        println!(
            "{name:<9} {p50:>9.3} {p99:>9.3} {:>+10.3} {:>+10.3} {s50:>9.3} {s99:>9.3} {:>+13.3}   {mem}",
            p50 - d50,
            p99 - d99,
            s99 - ds99
        );
    }
    println!(
        "(RSS here: the bench's own build of bootstrap, with its dev-dependencies' features, and three shims of one binary sharing pages that MADV_PAGEOUT then keeps: the per-binary figure of the image's build is shim/benches/rss_breakdown.py's)"
    );
    // A proxy's path is the null function's (emulator, Runtime API, the loop) plus the hop to the
    // upstream (direct's): on this harness no proxy can add less than null-fn's whole latency.
    if let Some(z) = ways.iter().position(|(name, _)| *name == NULL_WAY) {
        let z50 = pct(&stats[z].lat, 50.0);
        println!(
            "null-fn: the shim's Runtime API loop answering at once, no upstream (no SSE). The floor for any proxy's 'added' on this harness is null-fn's p50, {z50:.3} ms; own share at p50 (way - null-fn - direct): {}",
            ways.iter()
                .enumerate()
                .filter(|(_, (name, _))| *name != NULL_WAY && *name != "direct")
                .map(|(j, (name, _))| format!(
                    "{name} {:+.3} ms",
                    pct(&stats[j].lat, 50.0) - z50 - d50
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    // BENCH_DUMP=FILE: every sample, per way (JSON), to look at a tail's shape.
    if let Some(path) = std::env::var_os("BENCH_DUMP") {
        let doc: serde_json::Map<String, Value> = ways
            .iter()
            .enumerate()
            .map(|(j, (name, _))| {
                let s = &stats[j];
                (
                    name.to_string(),
                    json!({"lat_ms": s.lat, "split_ms": s.split, "sse_delay_ms": s.sse}),
                )
            })
            .collect();
        std::fs::write(&path, Value::Object(doc).to_string()).expect("write BENCH_DUMP");
    }
    let (sd50, sd99) = (pct(&stats[0].split, 50.0), pct(&stats[0].split, 99.0));
    println!(
        "request body 1 ms after its head ({n_split} each way): {}",
        ways.iter()
            .enumerate()
            .map(|(j, (name, _))| {
                let (p50, p99) = (pct(&stats[j].split, 50.0), pct(&stats[j].split, 99.0));
                format!(
                    "{name} p50 {p50:.3} p99 {p99:.3} (added {:+.3} / {:+.3})",
                    p50 - sd50,
                    p99 - sd99
                )
            })
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!(
        "large body      shim {:.1} MiB/s | direct {:.1} MiB/s ({} bytes per response) | shim with glibc's dynamic mmap threshold {:.1} MiB/s",
        mbps(bytes_v, secs_v),
        mbps(bytes_d, secs_d),
        bytes_v / 5,
        mbps(bytes_dyn, secs_dyn)
    );
    let kib = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
    println!(
        "shim memory     after the large bodies VmRSS {} KiB, peak VmHWM {} KiB; with glibc's dynamic mmap threshold (SHIM_MMAP_THRESHOLD_KB=0): VmRSS {} KiB, peak VmHWM {} KiB",
        kib(rss_big),
        kib(hwm),
        kib(rss_dyn),
        kib(hwm_dyn)
    );
    println!(
        "shim init       {} ms (own init, upstream already up); spawn to first response {first_invoke_ms:.1} ms",
        init_ms.map_or("?".into(), |v| format!("{v:.2}"))
    );
}
