//! The local Lambda against a small runtime (`runtime.py`, stdlib Python): freezing, routing,
//! concurrency, streaming, the platform's limits and log lines, cleanup.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opsconsole_locallambda::{
    EnvPhase, FreezeMethod, FunctionConfig, LocalLambda, LogRecord, ROUTE_HEADER, SERVED_BY_HEADER,
};
use serde_json::{Value, json};

fn runtime() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/runtime.py")
}

struct Rig {
    lambda: LocalLambda,
    logs: Arc<Mutex<Vec<LogRecord>>>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Rig {
    async fn start(f: impl FnOnce(&mut FunctionConfig, &Path)) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let mut cfg = FunctionConfig::new("fn", runtime(), dir.path().join("work"));
        cfg.timeout = Duration::from_secs(20);
        cfg.limits = false;
        let sink = logs.clone();
        cfg.log_sink = Some(Arc::new(move |r| sink.lock().unwrap().push(r)));
        f(&mut cfg, dir.path());
        let lambda = LocalLambda::start(cfg).await.unwrap();
        Rig {
            lambda,
            logs,
            dir,
            http: reqwest::Client::new(),
        }
    }

    async fn invoke_via(&self, ev: Value, route: Option<&str>) -> reqwest::Response {
        let mut rb = self.http.post(self.lambda.invoke_url()).json(&ev);
        if let Some(r) = route {
            rb = rb.header(ROUTE_HEADER, r);
        }
        rb.send().await.unwrap()
    }

    /// Invokes, returns (served-by environment, JSON body).
    async fn invoke(&self, ev: Value) -> (u32, Value) {
        let r = self.invoke_via(ev, None).await;
        served(&r, r.status().as_u16(), r.headers().clone()).await;
        let env = r.headers()[SERVED_BY_HEADER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        (env, r.json().await.unwrap())
    }

    fn lines(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.line.clone())
            .collect()
    }

    /// Waits (bounded) until every environment has asked for its next event.
    async fn settle(&self) {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if self
                .lambda
                .environments()
                .iter()
                .all(|e| e.phase == EnvPhase::Idle)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "environments did not settle: {:?}",
            self.lambda.environments()
        );
    }
}

async fn served(_r: &reqwest::Response, status: u16, headers: reqwest::header::HeaderMap) {
    assert_eq!(status, 200, "headers {headers:?}");
}

/// Alive and not a zombie (a zombie whose parent was the runtime waits for init to reap it).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// Whether `pid` is gone within 5 s (a killed environment's processes are stopped in the
/// background, after its invocation was answered).
async fn gone(pid: i32) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    !alive(pid)
}

fn ticks(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_environment_is_frozen_with_every_process_it_started() {
    let rig = Rig::start(|cfg, dir| {
        cfg.env
            .push(("TICK_FILE".into(), dir.join("ticks").display().to_string()));
    })
    .await;
    eprintln!("{}", rig.lambda.describe());
    let tickf = rig.dir.path().join("ticks");
    rig.invoke(json!({})).await;
    rig.settle().await;
    let envs = rig.lambda.environments();
    assert_eq!(envs.len(), 1);
    assert!(envs[0].frozen, "{envs:?}");
    assert!(
        envs[0].pids.len() >= 2,
        "the runtime and its ticker: {envs:?}"
    );
    // Frozen: the ticker child does not advance.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a = ticks(&tickf);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let b = ticks(&tickf);
    assert_eq!(
        a, b,
        "the ticker ran while its environment was idle (frozen?)"
    );
    if rig.lambda.freeze_method() == FreezeMethod::Signals {
        for p in &envs[0].pids {
            assert_eq!(opsconsole_locallambda::isolation::proc_state(*p), Some('T'));
        }
    }
    // An invocation thaws it: the ticker runs while the invocation does.
    rig.invoke(json!({"sleep_ms": 300})).await;
    assert!(
        ticks(&tickf) > b,
        "the ticker did not run during the invocation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_freezing_the_idle_environment_keeps_running() {
    // The control for the test above: the same ticker advances when freezing is off.
    let rig = Rig::start(|cfg, dir| {
        cfg.freeze = false;
        cfg.env
            .push(("TICK_FILE".into(), dir.join("ticks").display().to_string()));
    })
    .await;
    let tickf = rig.dir.path().join("ticks");
    rig.invoke(json!({})).await;
    rig.settle().await;
    assert_eq!(rig.lambda.freeze_method(), FreezeMethod::Off);
    let a = ticks(&tickf);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(ticks(&tickf) > a);
}

#[tokio::test(flavor = "multi_thread")]
async fn busy_environments_make_new_ones_up_to_the_limit_then_throttle() {
    let rig = Rig::start(|cfg, _| cfg.max_concurrency = 2).await;
    let slow = json!({"sleep_ms": 1500});
    let (a, b, c) = tokio::join!(
        rig.invoke_via(slow.clone(), None),
        rig.invoke_via(slow.clone(), None),
        async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            rig.invoke_via(json!({}), None).await
        }
    );
    assert_eq!(a.status(), 200);
    assert_eq!(b.status(), 200);
    assert_eq!(c.status(), 429);
    assert_eq!(c.headers()["x-amzn-errortype"], "TooManyRequestsException");
    let body: Value = c.json().await.unwrap();
    assert_eq!(
        body["Reason"],
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    );
    let ea = a.headers()[SERVED_BY_HEADER].to_str().unwrap().to_string();
    let eb = b.headers()[SERVED_BY_HEADER].to_str().unwrap().to_string();
    assert_ne!(ea, eb, "two concurrent invocations on one environment");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_environments_are_chosen_at_random_and_routes_are_obeyed() {
    let rig = Rig::start(|_, _| {}).await;
    let (e1, _) = rig.invoke(json!({})).await;
    rig.settle().await;
    let r = rig.invoke_via(json!({}), Some("new")).await;
    assert_eq!(r.status(), 200);
    let e2: u32 = r.headers()[SERVED_BY_HEADER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(e1, e2, "route `new` reused an environment");
    rig.settle().await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let (e, _) = rig.invoke(json!({})).await;
        seen.insert(e);
        rig.settle().await;
    }
    assert_eq!(
        seen.len(),
        2,
        "12 sequential invocations all went to {seen:?}"
    );
    assert_eq!(rig.lambda.environments().len(), 2);
    let r = rig.invoke_via(json!({}), Some(&e1.to_string())).await;
    assert_eq!(
        r.headers()[SERVED_BY_HEADER].to_str().unwrap(),
        e1.to_string()
    );
    let r = rig.invoke_via(json!({}), Some("99")).await;
    assert_eq!(r.status(), 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streamed_http_response_reaches_the_client_as_it_is_written() {
    let rig = Rig::start(|_, _| {}).await;
    let gate = rig.dir.path().join("gate");
    let r = rig
        .invoke_via(
            json!({"stream": ["one ", "two ", "three"], "status": 201, "gate": gate}),
            None,
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.headers()["set-cookie"], "a=1; Path=/");
    let mut r = r;
    let mut got = String::new();
    // The last chunk is only written once the gate exists: what we read before creating it was
    // streamed, not buffered until the end.
    while !got.contains("two") {
        let c = r.chunk().await.unwrap().expect("stream ended early");
        got.push_str(std::str::from_utf8(&c).unwrap());
    }
    assert!(!got.contains("three"));
    std::fs::write(&gate, "").unwrap();
    while let Some(c) = r.chunk().await.unwrap() {
        got.push_str(std::str::from_utf8(&c).unwrap());
    }
    assert_eq!(got, "one two three");
}

#[tokio::test(flavor = "multi_thread")]
async fn start_end_report_lines_with_init_duration_on_the_cold_start_only() {
    let rig = Rig::start(|_, _| {}).await;
    rig.invoke(json!({})).await;
    rig.settle().await;
    rig.invoke(json!({})).await;
    rig.settle().await;
    let lines = rig.lines();
    let reports: Vec<&String> = lines.iter().filter(|l| l.starts_with("REPORT")).collect();
    assert_eq!(reports.len(), 2, "{lines:#?}");
    assert!(reports[0].contains("Init Duration: "), "{}", reports[0]);
    assert!(!reports[1].contains("Init Duration"), "{}", reports[1]);
    for r in &reports {
        assert!(r.contains("\tBilled Duration: ") && r.contains("\tMemory Size: 1024 MB"));
        assert!(r.contains("\tMax Memory Used: "));
    }
    assert_eq!(lines.iter().filter(|l| l.starts_with("START ")).count(), 2);
    assert_eq!(lines.iter().filter(|l| l.starts_with("END ")).count(), 2);
    assert!(lines.iter().any(|l| l.starts_with("runtime starting")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_invocation_is_reported_and_its_environment_replaced() {
    let rig = Rig::start(|cfg, _| cfg.timeout = Duration::from_secs(1)).await;
    let (first, _) = rig.invoke(json!({})).await;
    rig.settle().await;
    let pids = rig.lambda.environments()[0].pids.clone();
    let r = rig.invoke_via(json!({"sleep_ms": 5000}), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-amz-function-error"], "Unhandled");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errorType"], "Sandbox.Timedout");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Task timed out after 1.00 seconds")
    );
    let lines = rig.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("Task timed out after 1.00 seconds"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("REPORT") && l.ends_with("Status: timeout\t"))
    );
    for p in pids {
        assert!(gone(p).await, "pid {p} of the timed-out environment lives");
    }
    let (next, _) = rig.invoke(json!({})).await;
    assert_ne!(next, first, "the timed-out environment served again");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_init_past_its_limit_is_retried_inside_the_first_invocation() {
    let rig = Rig::start(|cfg, dir| {
        // (2 s: the runtime must get to its marker before the limit even on a loaded machine.)
        cfg.init_timeout = Duration::from_secs(2);
        cfg.env.push((
            "INIT_MARKER".into(),
            dir.join("marker").display().to_string(),
        ));
        cfg.env.push(("INIT_SLEEP_MS".into(), "8000".into()));
    })
    .await;
    let (_, body) = rig.invoke(json!({"x": 1})).await;
    assert_eq!(body["echo"]["x"], 1, "{body}");
    let lines = rig.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INIT_REPORT Init Duration: ") && l.ends_with("Status: timeout")),
        "{lines:#?}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("runtime starting"))
            .count(),
        2,
        "{lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn function_errors_and_a_runtime_that_exits() {
    let rig = Rig::start(|_, _| {}).await;
    let r = rig.invoke_via(json!({"error": "boom"}), None).await;
    assert_eq!(r.headers()["x-amz-function-error"], "Unhandled");
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["errorType"].as_str(), v["errorMessage"].as_str()),
        (Some("Test.Error"), Some("boom"))
    );
    rig.settle().await;
    let r = rig.invoke_via(json!({"exit": 3}), None).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errorType"], "Runtime.ExitError", "{v}");
    // The next invocation gets a new environment.
    let (_, body) = rig.invoke(json!({"y": 2})).await;
    assert_eq!(body["echo"]["y"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn tmp_is_per_environment_and_payloads_are_bounded() {
    let rig = Rig::start(|_, _| {}).await;
    let (_, a) = rig.invoke(json!({"tmp": true})).await;
    rig.settle().await;
    let r = rig.invoke_via(json!({"tmp": true}), Some("new")).await;
    let b: Value = r.json().await.unwrap();
    assert_ne!(a["tmp"], b["tmp"]);
    let big = "x".repeat(opsconsole_locallambda::MAX_SYNC_PAYLOAD + 10);
    let r = rig
        .http
        .post(rig.lambda.invoke_url())
        .body(format!("\"{big}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.headers()["x-amzn-errortype"], "RequestTooLargeException");
    rig.settle().await;
    let r = rig
        .invoke_via(
            json!({"big": opsconsole_locallambda::MAX_BUFFERED_RESPONSE + 1}),
            None,
        )
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errorType"], "Function.ResponseSizeTooLarge");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_environments_are_reaped_and_nothing_outlives_the_lambda() {
    let rig = Rig::start(|cfg, dir| {
        cfg.idle_timeout = Some(Duration::from_millis(400));
        cfg.env
            .push(("TICK_FILE".into(), dir.join("ticks").display().to_string()));
    })
    .await;
    rig.invoke(json!({})).await;
    rig.settle().await;
    let pids = rig.lambda.environments()[0].pids.clone();
    let until = Instant::now() + Duration::from_secs(5);
    while !rig.lambda.environments().is_empty() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rig.lambda.environments().is_empty(), "not reaped");
    for p in &pids {
        assert!(gone(*p).await, "pid {p} of a reaped environment lives");
    }
    // A frozen environment at drop time goes too.
    rig.invoke(json!({})).await;
    rig.settle().await;
    let pids = rig.lambda.environments()[0].pids.clone();
    drop(rig.lambda);
    for p in &pids {
        assert!(!alive(*p), "pid {p} outlived the local Lambda");
    }
}
