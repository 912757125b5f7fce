//! Integration: every failure of point 4 of issue 2 ends cleanly (real bootstrap under
//! cargo-lambda, the Node stand-in and httpbin as LibreChat).

use crate::support::*;
use opsconsole_locallambda::EnvPhase;
use serde_json::json;
use std::process::Command;
use std::time::Duration;

struct Shim {
    _dir: tempfile::TempDir,
    _cl: Proc,
    boot: Proc,
    invoke_port: u16,
}

fn start(child_cmd: String, extra: &[(&str, String)]) -> (Shim, u16) {
    let upstream_port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (cl, invoke_port) = cargo_lambda(dir.path());
    let mut e: Vec<(String, String)> = vec![
        ("SHIM_CHILD_CMD".into(), child_cmd),
        ("SHIM_UPSTREAM_PORT".into(), upstream_port.to_string()),
    ];
    e.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let boot = bootstrap(invoke_port, &e, dir.path(), "bootstrap");
    (
        Shim {
            _dir: dir,
            _cl: cl,
            boot,
            invoke_port,
        },
        upstream_port,
    )
}

fn standin_cmd() -> String {
    format!("node {}", standin_script().display())
}

/// The child's pid from the shim's "LibreChat spawned" log line (bounded wait).
fn child_pid(shim: &Shim) -> u32 {
    for _ in 0..500 {
        for line in shim.boot.output().lines() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line)
                && v["message"] == "LibreChat spawned"
                && let Some(pid) = v["pid"].as_u64()
            {
                return pid as u32;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no spawn line: {}", shim.boot.output());
}

/// The shim with the Node stand-in, answering: the shim and LibreChat's pid.
async fn serving_shim(c: &reqwest::Client) -> (Shim, u32) {
    // A generous shutdown grace: on a loaded machine Node may need more than the default 300 ms
    // to stop, and this test is about the graceful path (the SIGKILL path is a unit test).
    let (shim, _) = start(
        standin_cmd(),
        &[("SHIM_SHUTDOWN_GRACE_MS", "5000".to_string())],
    );
    let r = invoke(c, shim.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}", shim.boot.output());
    let pid = child_pid(&shim);
    (shim, pid)
}

fn send_signal(sig: &str, pid: u32) {
    let sent = Command::new("kill").args([sig, &pid.to_string()]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill {sig} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashed_librechat_gives_502_and_recycles() {
    let c = http_client();
    let (mut shim, pid) = serving_shim(&c).await;
    send_signal("-KILL", pid);
    // Let the shim notice the exit (bounded).
    for _ in 0..200 {
        if shim.boot.output().contains("LibreChat process exited") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let r = invoke(&c, shim.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 502, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"], "upstream_unavailable");
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("LibreChat exited")),
        "{v}"
    );
    // Environment recycled: the process exits so the next invocation gets a fresh init.
    assert_eq!(
        shim.boot.wait_exit(Duration::from_secs(10)),
        Some(70),
        "{}",
        shim.boot.output()
    );
    let logs = shim.boot.output();
    assert!(
        logs.contains("\"ProxyErrors\"") && logs.contains("\"reason\":\"upstream_exited\""),
        "{logs}"
    );
}

/// The recycle on Lambda's execution model (the local Lambda, environments frozen while they wait
/// for an event): the shim must exit before it asks for the next event. A timer started with the
/// 502 only runs when the next request thaws the frozen environment, and then kills that
/// request instead (seen in the MongoDB drills on the real LibreChat: an unrelated status
/// request answered 502). Two environments at most, so that the next request goes to the
/// recycled one if it is still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recycled_environment_exits_before_the_next_event_on_lambdas_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = opsconsole_locallambda::FunctionConfig::new(
        "_",
        env!("CARGO_BIN_EXE_bootstrap"),
        dir.path().join("lambda"),
    );
    cfg.env = vec![
        ("SHIM_INIT_BIN".into(), init_bin().display().to_string()),
        ("SHIM_CHILD_CMD".into(), standin_cmd()),
        ("RUST_LOG".into(), "info".into()),
    ];
    cfg.env_port_vars = vec!["SHIM_UPSTREAM_PORT".into()];
    cfg.max_concurrency = 2;
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u32, String)>::new()));
    let sink = lines.clone();
    cfg.log_sink = Some(std::sync::Arc::new(move |r| {
        if let Ok(mut l) = sink.lock() {
            l.push((r.env, r.line));
        }
    }));
    let lambda = opsconsole_locallambda::LocalLambda::start(cfg)
        .await
        .expect("the local Lambda");
    let logs = || format!("{:?}", lines.lock().map(|l| l.clone()).unwrap_or_default());
    let c = http_client();
    let r = invoke(&c, lambda.port(), &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), logs());
    let pid = lines
        .lock()
        .map(|l| {
            l.iter().find_map(|(_, line)| {
                let v: serde_json::Value = serde_json::from_str(line).ok()?;
                (v["message"] == "LibreChat spawned")
                    .then(|| v["pid"].as_u64())
                    .flatten()
            })
        })
        .ok()
        .flatten()
        .expect("the shim's spawn line");
    // LibreChat dies while its environment is frozen; the next request thaws it and gets 502.
    send_signal("-KILL", pid as u32);
    let r = invoke(&c, lambda.port(), &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 502, "{}\n{}", r.text(), logs());
    assert_eq!(r.json()["error"], "upstream_unavailable");
    // Until the recycled environment has either asked for the next event (the defect: it waits,
    // frozen, with its exit timer armed) or exited: the response can arrive before either.
    let settled = |l: &opsconsole_locallambda::LocalLambda| {
        l.environments()
            .iter()
            .all(|e| e.id != 1 || matches!(e.phase, EnvPhase::Idle | EnvPhase::Dead))
    };
    for _ in 0..250 {
        if settled(&lambda) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(settled(&lambda), "{:?}", lambda.environments());
    // The request after it is answered by a fresh environment, not cut by the old one's exit.
    let r = invoke(&c, lambda.port(), &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failure_mid_stream_ends_with_sse_error() {
    let (shim, _) = start(standin_cmd(), &[]);
    let c = http_client();
    let ev = with(
        v1_event("POST", "/api/__standin/sse"),
        "multiValueQueryStringParameters",
        json!({"events": ["5"], "interval_ms": ["50"], "fail_after": ["2"]}),
    );
    let r = invoke(&c, shim.invoke_port, &ev).await;
    assert_eq!(r.status, 200, "{}", shim.boot.output());
    assert_eq!(sse_events(&r.chunks, "message").len(), 2, "{}", r.text());
    let errors = sse_events(&r.chunks, "error");
    assert_eq!(errors.len(), 1, "no final error event: {}", r.text());
    assert_eq!(errors[0].1["error"], "upstream_error");
    assert!(
        r.text().trim_end().ends_with('}'),
        "error event is not last: {}",
        r.text()
    );
    assert!(
        r.body_error.is_none(),
        "stream did not end cleanly: {:?}",
        r.body_error
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_deadline_ends_sse_with_error_event() {
    // cargo-lambda gives each invocation 600000 ms; a margin of 597000 ms puts the cut ~3 s in.
    let (shim, _) = start(
        standin_cmd(),
        &[("SHIM_DEADLINE_MARGIN_MS", "597000".into())],
    );
    let c = http_client();
    let ev = with(
        v1_event("POST", "/api/__standin/sse"),
        "multiValueQueryStringParameters",
        json!({"events": ["100"], "interval_ms": ["200"]}),
    );
    let r = invoke(&c, shim.invoke_port, &ev).await;
    assert_eq!(r.status, 200, "{}", shim.boot.output());
    let got = sse_events(&r.chunks, "message").len();
    assert!(
        got > 0 && got < 100,
        "expected a cut stream, got {got} events"
    );
    let errors = sse_events(&r.chunks, "error");
    assert_eq!(errors.len(), 1, "{}", r.text());
    assert_eq!(errors[0].1, json!({"error": "lambda_deadline"}));
    assert!(!r.text().contains("event: done"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_deadline_cuts_other_responses_with_logged_reason() {
    let (shim, _) = start(
        httpbin_cmd("$PORT"),
        &[
            ("SHIM_HEALTH_PATH", "/status/200".into()),
            ("SHIM_READY_PATH", "/status/200".into()),
            ("SHIM_DEADLINE_MARGIN_MS", "597000".into()),
        ],
    );
    let c = http_client();
    let ev = with(
        v1_event("GET", "/drip"),
        "multiValueQueryStringParameters",
        json!({"duration": ["20"], "numbytes": ["20"], "delay": ["0"]}),
    );
    let r = invoke(&c, shim.invoke_port, &ev).await;
    assert_eq!(r.status, 200, "{}", shim.boot.output());
    let n = r.body().len();
    assert!(n > 0 && n < 20, "expected a cut body, got {n} bytes");
    let logs = shim.boot.output();
    assert!(
        logs.contains("Lambda deadline near: response cut"),
        "{logs}"
    );
    assert!(logs.contains("\"reason\":\"lambda_deadline\""), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_get_400_json_and_the_shim_keeps_serving() {
    let (mut shim, _) = start(standin_cmd(), &[("SHIM_MAX_HEADER_BYTES", "64".into())]);
    let c = http_client();
    let cases = [
        (
            with(
                v1_event("POST", "/api/__standin/echo"),
                "isBase64Encoded",
                json!(true),
            ),
            "bad_base64",
        ),
        (json!(["not", "an", "object"]), "malformed_event"),
        (json!({"hello": "world"}), "malformed_event"),
        (
            with(
                v1_event("GET", "/api/__standin/echo"),
                "multiValueHeaders",
                json!({"x-big": ["y".repeat(100)]}),
            ),
            "header_too_large",
        ),
        (
            with(
                v1_event("GET", "/api/__standin/echo"),
                "multiValueHeaders",
                json!({"bad header": ["x"]}),
            ),
            "invalid_header",
        ),
        (
            with(
                v1_event("GET", "/api/__standin/echo"),
                "httpMethod",
                json!(42),
            ),
            "malformed_event",
        ),
    ];
    for (i, (ev, code)) in cases.iter().enumerate() {
        let ev = if i == 0 {
            with(ev.clone(), "body", json!("%%% not base64"))
        } else {
            ev.clone()
        };
        let r = invoke(&c, shim.invoke_port, &ev).await;
        assert_eq!(r.status, 400, "case {i}: {}", r.text());
        assert_eq!(r.json()["error"], *code, "case {i}");
    }
    // A payload that is not JSON at all.
    let raw = c
        .post(format!(
            "http://127.0.0.1:{}/2015-03-31/functions/_/invocations",
            shim.invoke_port
        ))
        .body("this is not json")
        .send()
        .await
        .expect("raw invoke");
    assert_eq!(raw.status().as_u16(), 400);
    let v: serde_json::Value = raw.json().await.expect("json error body");
    assert_eq!(v["error"], "malformed_event");
    // Still alive and serving after all of them.
    let r = invoke(&c, shim.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200);
    assert!(shim.boot.is_running());
    assert!(!shim.boot.output().contains("panicked"));
}

#[test]
fn a_bad_worker_thread_count_is_named_and_nothing_is_spawned() {
    let (mut shim, _) = start(standin_cmd(), &[("SHIM_WORKER_THREADS", "two".into())]);
    assert_eq!(
        shim.boot.wait_exit(Duration::from_secs(10)),
        Some(1),
        "{}",
        shim.boot.output()
    );
    let logs = shim.boot.output();
    assert!(
        logs.contains("environment variable SHIM_WORKER_THREADS: `two` is not a number"),
        "{logs}"
    );
    assert!(!logs.contains("LibreChat spawned"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_budget_exhausted_gives_503_and_recycles() {
    let (mut shim, _) = start(
        standin_cmd(),
        &[
            ("STANDIN_HEALTH_STATUS", "503".into()),
            // A 3 s budget: Node must get to listen within it on a loaded machine too (the
            // number of checks then depends on when it did).
            ("SHIM_READY_ATTEMPTS", "4".into()),
            ("SHIM_READY_INTERVAL_MS", "750".into()),
        ],
    );
    let c = http_client();
    let r = invoke(&c, shim.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 503, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"], "librechat_not_ready");
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains(" health checks in ") && d.contains("HTTP 503")),
        "{v}"
    );
    assert_eq!(shim.boot.wait_exit(Duration::from_secs(10)), Some(70));
    let logs = shim.boot.output();
    assert!(logs.contains("\"ReadinessTimeouts\""), "{logs}");
    // LibreChat's last log lines are in the shim's log.
    assert!(
        logs.contains("librechat_last_lines") && logs.contains("standin listening"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_librechat_gracefully_and_the_shim_exits_0() {
    let c = http_client();
    let (mut shim, pid) = serving_shim(&c).await;
    send_signal("-TERM", shim.boot.pid());
    assert_eq!(
        shim.boot.wait_exit(Duration::from_secs(10)),
        Some(0),
        "{}",
        shim.boot.output()
    );
    let logs = shim.boot.output();
    // LibreChat saw SIGTERM itself (its own log line, forwarded) and exited 0: not the kernel's
    // SIGKILL that PR_SET_PDEATHSIG would give it if the shim just died.
    assert!(logs.contains("standin stopping on SIGTERM"), "{logs}");
    assert!(
        logs.lines()
            .any(|l| l.contains("shutting down: LibreChat stopped")
                && l.contains("\"signal\":\"SIGTERM\"")
                && l.contains("exit status: 0")),
        "{logs}"
    );
    let alive = Command::new("kill").args(["-0", &pid.to_string()]).status();
    assert!(
        alive.is_ok_and(|s| !s.success()),
        "LibreChat {pid} still running"
    );
}

/// Reads one HTTP/1.1 request (head, and a chunked or sized body) from a connection.
async fn read_request(s: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let chunked = head.contains("transfer-encoding: chunked");
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    loop {
        let body = &buf[head_end..];
        let done = if chunked {
            // The last chunk, with or without trailers after it.
            body.ends_with(b"0\r\n\r\n")
                || (body.ends_with(b"\r\n\r\n") && body.windows(5).any(|w| w == b"\r\n0\r\n"))
        } else {
            body.len() >= length
        };
        if done {
            return Some((
                String::from_utf8_lossy(&buf[..head_end]).into_owned(),
                body.to_vec(),
            ));
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A Runtime API that drops the first `/next` connection without answering (what a peer that
/// closes a kept-alive connection does to the next request on it), then serves one invocation:
/// the shim retries `/next` instead of exiting, and answers the invocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_api_dropping_a_next_connection_is_retried() {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let boot = bootstrap(
        port,
        &[
            ("SHIM_CHILD_CMD".into(), "none".into()),
            // Nothing listens upstream: do not wait for it in init.
            ("SHIM_INIT_WAIT_MS".into(), "0".into()),
        ],
        dir.path(),
        "bootstrap",
    );
    let accept = || async {
        tokio::time::timeout(Duration::from_secs(15), listener.accept())
            .await
            .unwrap_or_else(|_| panic!("no connection from the shim: {}", boot.output()))
            .expect("accept")
            .0
    };
    // First /next: read it, then close the connection without a response.
    let mut first = accept().await;
    let (head, _) = read_request(&mut first).await.expect("a request");
    assert!(
        head.starts_with("GET /.rt/2018-06-01/runtime/invocation/next"),
        "{head}"
    );
    drop(first);
    // The retried /next gets an invocation (a payload that is no API Gateway event: a 400).
    let mut conn = accept().await;
    let (head, _) = read_request(&mut conn).await.expect("the retried /next");
    assert!(
        head.starts_with("GET /.rt/2018-06-01/runtime/invocation/next"),
        "{head}"
    );
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 60_000)
        .unwrap_or(0);
    let payload = "{\"not\":\"an event\"}";
    let answer = format!(
        "HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: req-1\r\nlambda-runtime-deadline-ms: {deadline}\r\nlambda-runtime-invoked-function-arn: arn:aws:lambda:eu-west-1:123456789012:function:_\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{payload}",
        payload.len()
    );
    conn.write_all(answer.as_bytes()).await.expect("write");
    // The response comes back on this connection or a new one.
    let (head, body) = match read_request(&mut conn).await {
        Some(r) => r,
        None => read_request(&mut accept().await)
            .await
            .expect("the response"),
    };
    assert!(
        head.starts_with("POST /.rt/2018-06-01/runtime/invocation/req-1/response"),
        "{head}"
    );
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("\"statusCode\":400"), "{body}");
    assert!(
        boot.output().contains("runtime API /next failed; retrying"),
        "{}",
        boot.output()
    );
}
