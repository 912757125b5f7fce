//! Integration: the real `bootstrap` binary under cargo-lambda's Runtime API, with the Node
//! LibreChat stand-in and httpbin as the child process (real servers on loopback).

use crate::support::*;
use serde_json::json;
use std::time::Duration;

/// A running shim: cargo-lambda + bootstrap (which spawns the child given in `env`).
struct Shim {
    _dir: tempfile::TempDir,
    cl: Proc,
    boot: Proc,
    invoke_port: u16,
}

fn env(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Start cargo-lambda and the shim with the stand-in as its child.
fn shim_with_standin(extra: &[(&str, String)]) -> Shim {
    let upstream_port = free_port();
    let mut e = vec![
        (
            "SHIM_CHILD_CMD",
            format!("node {}", standin_script().display()),
        ),
        ("SHIM_UPSTREAM_PORT", upstream_port.to_string()),
    ];
    e.extend(extra.iter().cloned());
    start_shim(&e, upstream_port)
}

fn start_shim(e: &[(&str, String)], _upstream_port: u16) -> Shim {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cl, invoke_port) = cargo_lambda(dir.path());
    let boot = bootstrap(invoke_port, &env(e), dir.path(), "bootstrap");
    Shim {
        _dir: dir,
        cl,
        boot,
        invoke_port,
    }
}

impl Shim {
    fn logs(&self) -> String {
        self.boot.output()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_reaches_the_client_progressively() {
    sse_progressive(&[], "CurrentThread", 1).await;
}

/// The same on a work-stealing runtime (`SHIM_WORKER_THREADS=2`, `#[tokio::main]`'s kind): the
/// default is one thread, the other stays a working choice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_reaches_the_client_progressively_on_two_worker_threads() {
    sse_progressive(&[("SHIM_WORKER_THREADS", "2".into())], "MultiThread(2)", 3).await;
}

/// `threads`: what the bootstrap process runs on (`/proc/PID/task`): the runtime it logs must be
/// the one it built (the shim starts no thread of its own: no blocking pool, no log writer).
async fn sse_progressive(extra: &[(&str, String)], runtime: &str, threads: usize) {
    let shim = shim_with_standin(extra);
    let c = http_client();
    let ev = with(
        v1_event("POST", "/api/__standin/sse"),
        "multiValueQueryStringParameters",
        json!({"events": ["6"], "interval_ms": ["300"]}),
    );
    let r = invoke(&c, shim.invoke_port, &ev).await;
    assert_eq!(
        r.status,
        200,
        "{}\n--- bootstrap\n{}\n--- cargo-lambda\n{}",
        r.text(),
        shim.logs(),
        shim.cl.output()
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/event-stream")
    );
    let events = sse_events(&r.chunks, "message");
    assert_eq!(events.len(), 6, "body: {}", r.text());
    assert!(
        r.text().contains("event: done"),
        "stream ended without done: {}",
        r.text()
    );
    assert!(r.body_error.is_none(), "{:?}", r.body_error);
    // Arrival gaps follow the server's send gaps: each event is delivered when it is sent,
    // not in one burst at the end. Compare each arrival gap with its send gap (same run).
    let mut followed = 0;
    for w in events.windows(2) {
        let arrival_gap = w[1].0.duration_since(w[0].0).as_secs_f64() * 1000.0;
        let send_gap = w[1].1["sent_at_ms"].as_f64().unwrap_or(0.0)
            - w[0].1["sent_at_ms"].as_f64().unwrap_or(0.0);
        assert!(send_gap > 200.0, "stand-in spacing: {send_gap}");
        if arrival_gap > send_gap / 2.0 {
            followed += 1;
        }
    }
    assert!(
        followed >= 4,
        "events arrived in a burst: only {followed}/5 gaps followed the server's"
    );
    let started = shim
        .logs()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message"] == "shim starting")
        .map(|v| v["runtime"].clone());
    assert_eq!(started, Some(json!(runtime)), "{}", shim.logs());
    let tasks = std::fs::read_dir(format!("/proc/{}/task", shim.boot.pid()))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(tasks, threads, "threads of bootstrap ({runtime})");
    drop(shim.cl);
}

/// The number in `"key":<number>` of the first log line holding it.
fn logged_number(logs: &str, key: &str) -> Option<f64> {
    let at = logs.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &logs[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_request_waits_for_readyz_not_just_health() {
    // LibreChat answers /health as soon as it listens, but /readyz only after its post-listen
    // init (MCP servers, migrations, stream services). The stand-in imitates that with a 1.5 s
    // window of /readyz 503 while /health is already 200: the first request must not be let
    // through during that window.
    let shim = shim_with_standin(&[("STANDIN_READY_DELAY_MS", "1500".into())]);
    let c = http_client();
    let r = invoke(
        &c,
        shim.invoke_port,
        &v1_event("GET", "/api/__standin/echo"),
    )
    .await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), shim.logs());
    let logs = shim.logs();
    let ready_ms = logged_number(&logs, "spawn_to_ready_ms").expect("ready log line");
    assert!(
        ready_ms >= 1500.0,
        "ready {ready_ms} ms after spawn: before /readyz could answer 200\n{logs}"
    );
    // And /api/health, answered by the shim, reports LibreChat's /health.
    let r = invoke(&c, shim.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(r.json()["librechat"]["status"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_health_is_503_when_librechats_health_fails() {
    // Ready (readiness polls /status/200) but LibreChat's liveness route answers 500: the shim's
    // /api/health says so instead of passing LibreChat's answer through.
    let upstream_port = free_port();
    let shim = start_shim(
        &[
            ("SHIM_CHILD_CMD", httpbin_cmd(&upstream_port.to_string())),
            ("SHIM_UPSTREAM_PORT", upstream_port.to_string()),
            ("SHIM_READY_PATH", "/status/200".into()),
            ("SHIM_HEALTH_PATH", "/status/500".into()),
        ],
        upstream_port,
    );
    let c = http_client();
    let r = invoke(&c, shim.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 503, "{}\n{}", r.text(), shim.logs());
    let v = r.json();
    assert_eq!(v["status"], "unhealthy");
    assert_eq!(v["librechat"]["status"], 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_waits_for_readiness_beyond_init() {
    // LibreChat (stand-in) takes 2 s to listen; init waits only 200 ms, so the first invocation
    // must wait for the rest of the readiness budget instead of failing.
    let upstream_port = free_port();
    let shim = start_shim(
        &[
            (
                "SHIM_CHILD_CMD",
                format!("node {}", standin_script().display()),
            ),
            ("SHIM_UPSTREAM_PORT", upstream_port.to_string()),
            ("SHIM_INIT_WAIT_MS", "200".into()),
            ("STANDIN_BOOT_DELAY_MS", "2000".into()),
        ],
        upstream_port,
    );
    let c = http_client();
    let r = invoke(&c, shim.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), shim.logs());
    assert_eq!(
        r.json()["status"],
        "ok",
        "answered by the shim from LibreChat's /health"
    );
    let logs = shim.logs();
    assert!(logs.contains("first invocation waits"), "{logs}");
    // Readiness came after the init phase ended, and produced the cold-start EMF line.
    let init_done = logs.find("init phase done").expect("init log");
    let ready = logs.find("LibreChat ready").expect("ready log");
    assert!(init_done < ready, "{logs}");
    assert!(
        logs.contains("\"ColdStartTotalMs\"") && logs.contains("\"event\":\"cold_start\""),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_translation_is_faithful() {
    let shim = shim_with_standin(&[]);
    let c = http_client();
    let ev = json!({
        "resource": "/{proxy+}", "path": "/api/__standin/echo", "httpMethod": "PUT",
        "multiValueHeaders": {"Host": ["lambda-test.example"], "X-Multi": ["one", "two"],
                              "Connection": ["close"], "Content-Type": ["application/octet-stream"]},
        "multiValueQueryStringParameters": {"q": ["a b&c", "é"], "x": ["1"]},
        "requestContext": {"stage": "prod", "path": "/prod/api/__standin/echo", "identity": {"sourceIp": "203.0.113.7"}},
        "body": "AAEC/w==", "isBase64Encoded": true
    });
    let r = invoke(&c, shim.invoke_port, &ev).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), shim.logs());
    let v = r.json();
    assert_eq!(v["method"], "PUT");
    assert_eq!(v["path"], "/api/__standin/echo");
    assert_eq!(v["query"], "q=a%20b%26c&q=%C3%A9&x=1");
    assert_eq!(v["body_base64"], "AAEC/w==");
    let headers: Vec<(String, String)> = v["headers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let get = |n: &str| {
        headers
            .iter()
            .filter(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(get("x-multi"), vec!["one", "two"]);
    assert_eq!(get("host"), vec!["lambda-test.example"]);
    assert_eq!(get("x-forwarded-for"), vec!["203.0.113.7"]);
    assert_eq!(get("x-forwarded-proto"), vec!["https"]);
    assert_eq!(get("x-forwarded-host"), vec!["lambda-test.example"]);
    assert_eq!(get("content-length"), vec!["4"]);
    assert!(
        get("connection").iter().all(|v| v != "close"),
        "hop-by-hop header forwarded: {headers:?}"
    );

    // HTTP API v2 event with a named stage in rawPath.
    let ev2 = json!({
        "version": "2.0", "rawPath": "/dev/api/__standin/echo", "rawQueryString": "a=1&a=2",
        "cookies": ["s=1", "t=2"], "headers": {"host": "h.example"},
        "requestContext": {"stage": "dev", "http": {"method": "POST", "sourceIp": "198.51.100.1"}},
        "body": "hello", "isBase64Encoded": false
    });
    let r = invoke(&c, shim.invoke_port, &ev2).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["path"], "/api/__standin/echo");
    assert_eq!(v["query"], "a=1&a=2");
    assert_eq!(v["body_base64"], "aGVsbG8=");
    assert!(
        v["headers"].to_string().contains("\"cookie\",\"s=1; t=2\""),
        "{}",
        v["headers"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_url_v2_events_from_cargo_lambda_stream_too() {
    // cargo-lambda's /lambda-url/NAME/... builds an HTTP API v2 event from a plain request.
    let shim = shim_with_standin(&[]);
    let c = http_client();
    let r = c
        .post(format!(
            "http://127.0.0.1:{}/lambda-url/_/api/__standin/echo?a=1&b=x%20y",
            shim.invoke_port
        ))
        .header("x-test", "v2")
        .body("payload")
        .send()
        .await
        .expect("function url request");
    assert_eq!(r.status().as_u16(), 200, "{}", shim.logs());
    let v: serde_json::Value = r.json().await.expect("echo json");
    assert_eq!(v["method"], "POST");
    assert_eq!(v["path"], "/api/__standin/echo");
    assert_eq!(v["query"], "a=1&b=x%20y");
    assert_eq!(v["body_base64"], "cGF5bG9hZA==");
    assert!(
        v["headers"].to_string().contains("\"x-test\",\"v2\""),
        "{}",
        v["headers"]
    );

    let r = c
        .post(format!(
            "http://127.0.0.1:{}/lambda-url/_/api/__standin/sse?events=3&interval_ms=200",
            shim.invoke_port
        ))
        .send()
        .await
        .expect("function url sse");
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let text = r.text().await.expect("sse body");
    assert_eq!(text.matches("event: message").count(), 3, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn httpbin_cookies_binary_empty_gzip_drip() {
    let upstream_port = free_port();
    let shim = start_shim(
        &[
            ("SHIM_CHILD_CMD", httpbin_cmd("$PORT")),
            ("SHIM_UPSTREAM_PORT", upstream_port.to_string()),
            ("SHIM_HEALTH_PATH", "/status/200".into()),
            ("SHIM_READY_PATH", "/status/200".into()),
        ],
        upstream_port,
    );
    let c = http_client();
    // Repeated Set-Cookie: each one reaches the client as its own header.
    let ev = with(
        v1_event("GET", "/cookies/set"),
        "multiValueQueryStringParameters",
        json!({"alpha": ["1"], "beta": ["2"]}),
    );
    let r = invoke(&c, shim.invoke_port, &ev).await;
    assert_eq!(r.status, 302, "{}\n{}", r.text(), shim.logs());
    let cookies = r.header_all("set-cookie");
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(
        cookies.iter().any(|c| c.starts_with("alpha=1"))
            && cookies.iter().any(|c| c.starts_with("beta=2"))
    );

    // Binary body, byte for byte.
    let r = invoke(&c, shim.invoke_port, &v1_event("GET", "/image/png")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("image/png"));
    let body = r.body();
    assert!(
        body.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG: {:?}",
        &body[..body.len().min(16)]
    );
    let direct = c
        .get(format!("http://127.0.0.1:{upstream_port}/image/png"))
        .send()
        .await
        .expect("direct request")
        .bytes()
        .await
        .expect("direct body");
    assert_eq!(body, direct.to_vec(), "binary body changed on the way");

    // Empty body: the stream still ends (the LWA #499 failure would hang here until the timeout).
    let r = invoke(&c, shim.invoke_port, &v1_event("GET", "/status/204")).await;
    assert_eq!(r.status, 204);
    assert!(r.body().is_empty());
    assert!(r.body_error.is_none(), "{:?}", r.body_error);

    // gzip passes through untouched (no re-compression, no decoding).
    let r = invoke(&c, shim.invoke_port, &v1_event("GET", "/gzip")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding").as_deref(), Some("gzip"));
    assert!(
        r.body().starts_with(&[0x1f, 0x8b]),
        "body is not gzip bytes"
    );

    // /drip: 4 bytes over 2 s arrive in more than one piece.
    let ev = with(
        v1_event("GET", "/drip"),
        "multiValueQueryStringParameters",
        json!({"duration": ["2"], "numbytes": ["4"], "delay": ["0"]}),
    );
    let r = invoke(&c, shim.invoke_port, &ev).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body().len(), 4);
    let first = r.chunks.first().map(|c| c.at).expect("chunks");
    let last = r.chunks.last().map(|c| c.at).expect("chunks");
    assert!(r.chunks.len() >= 2, "drip arrived in one piece");
    assert!(
        last.duration_since(first) > Duration::from_millis(700),
        "drip bytes arrived together"
    );
}

/// After init the shim hands back its binary's clean pages (src/memory.rs) and says so;
/// `SHIM_RELEASE_INIT_MEMORY=false` turns it off. Requests are served either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_memory_is_released_unless_turned_off() {
    let c = http_client();
    let ev = v1_event("GET", "/api/__standin/echo");
    let on = shim_with_standin(&[]);
    let r = invoke(&c, on.invoke_port, &ev).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), on.logs());
    let logs = on.logs();
    assert!(
        logs.contains("init memory released"),
        "no release logged: {logs}"
    );
    let kb = logged_number(&logs, "paged_out_kb").unwrap_or(0.0);
    assert!(kb > 0.0, "nothing paged out: {logs}");
    assert!(!logs.contains("\"skipped\":\""), "release skipped: {logs}");

    let off = shim_with_standin(&[("SHIM_RELEASE_INIT_MEMORY", "false".into())]);
    let r = invoke(&c, off.invoke_port, &ev).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), off.logs());
    assert!(
        !off.logs().contains("init memory released"),
        "released although turned off: {}",
        off.logs()
    );
    drop((on.cl, off.cl));
}
