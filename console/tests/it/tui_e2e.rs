//! End to end in a real terminal: the real binary in tmux against moto (seeded through the
//! SDK: 10 alarms, a function, a distribution, a replication group) and the local shim
//! stand-in (health + SSE). Keys are sent with `send-keys`, the screen read with
//! `capture-pane`. Each test has its own tmux socket, killed on drop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use opsconsole_testsupport::moto::MotoServer;
use opsconsole_testsupport::seed::{create_example_distribution, create_image_function};
use opsconsole_testsupport::sse::{ShimStandIn, SseMode};

use opsconsole::model::ALARM_SUFFIXES as SUFFIXES;
const TOKEN: &str = "e2e-diag-token";

fn tmux_bin() -> Option<PathBuf> {
    ["/usr/bin/tmux", "/usr/local/bin/tmux"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// A tmux server on its own socket with one 120x40 session running a script.
pub(crate) struct Tmux {
    bin: PathBuf,
    socket: String,
    /// The binary's stderr (shown when a wait fails).
    stderr: PathBuf,
}

impl Tmux {
    fn start(name: &str, script: &Path) -> Tmux {
        Tmux::start_sized(name, script, 120, 40)
    }

    /// The same at `width` x `height`.
    pub(crate) fn start_sized(name: &str, script: &Path, width: u16, height: u16) -> Tmux {
        let bin = tmux_bin().unwrap_or_else(|| {
            // CI bootstraps first; a developer machine may lack it.
            let root = opsconsole_testsupport::repo_root();
            let _ = Command::new("bash")
                .arg(root.join("scripts/bootstrap.sh"))
                .status();
            tmux_bin().expect("tmux is installed (apt package tmux; scripts/bootstrap.sh)")
        });
        let socket = format!("opsconsole-{name}-{}", std::process::id());
        let stderr = script.with_file_name("stderr");
        let t = Tmux {
            bin,
            socket,
            stderr,
        };
        let st = t
            .cmd()
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "main",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg(format!("sh {}", script.display()))
            .status()
            .expect("tmux new-session");
        assert!(st.success(), "tmux new-session failed");
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(["-L", &self.socket]);
        c
    }

    pub(crate) fn send(&self, keys: &[&str]) {
        let st = self
            .cmd()
            .args(["send-keys", "-t", "main"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(st.success());
    }

    /// Types `text` literally (no key-name lookup).
    fn type_text(&self, text: &str) {
        let st = self
            .cmd()
            .args(["send-keys", "-t", "main", "-l", text])
            .status()
            .expect("tmux send-keys -l");
        assert!(st.success());
    }

    pub(crate) fn capture(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "main"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn format(&self, fmt: &str) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "main", fmt])
            .output()
            .expect("tmux display-message");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Polls the screen (every 100 ms, at most `secs`) until every needle is on it.
    pub(crate) fn wait_for(&self, needles: &[&str], secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.capture();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            if Instant::now() > deadline {
                let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
                let tail: String = err
                    .chars()
                    .rev()
                    .take(4000)
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect();
                panic!(
                    "waited {secs}s for {needles:?}; the screen is:\n{screen}\nstderr (tail):\n{tail}"
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Tmux {
    /// Polls until `needle` is no longer on the screen.
    fn wait_gone(&self, needle: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.capture().contains(needle) {
            if Instant::now() > deadline {
                panic!(
                    "{needle:?} still on the screen after {secs}s:\n{}",
                    self.capture()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

struct Seeded {
    distribution_id: String,
    function_name: String,
    prefix: String,
}

async fn seed(moto: &MotoServer, env: &str) -> Seeded {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
    let clients = moto.clients("us-east-1").await;
    let sdk = clients.sdk.clone();
    // One environment name per test: names are unique within the shared moto server.
    let uniq = env;
    let prefix = format!("librechat-{env}");
    for (i, s) in SUFFIXES.iter().enumerate() {
        // The 8th alarm (cloudfront) is left out: the console must mark it missing.
        if i == 7 {
            continue;
        }
        clients
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(format!("{prefix}-{s}"))
            .namespace("AWS/Lambda")
            .metric_name("Errors")
            .statistic(Statistic::Sum)
            .period(60)
            .evaluation_periods(1)
            .threshold(5.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .send()
            .await
            .expect("PutMetricAlarm");
    }
    clients
        .cloudwatch
        .set_alarm_state()
        .alarm_name(format!("{prefix}-lambda-errors"))
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("e2e: forced into ALARM")
        .send()
        .await
        .expect("SetAlarmState");
    // Lambda function (its role must exist in moto's IAM).
    let function_name = format!("{prefix}-api");
    create_image_function(
        &sdk,
        &format!("{prefix}-role"),
        &function_name,
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/librechat:v1",
    )
    .await
    .expect("role and function on moto");
    let _ = clients
        .logs
        .create_log_group()
        .log_group_name(format!("/aws/lambda/{function_name}"))
        .send()
        .await;
    // Redis.
    clients
        .elasticache
        .create_replication_group()
        .replication_group_id(format!("e2e{uniq}"))
        .replication_group_description("e2e")
        .engine("redis")
        .cache_node_type("cache.t4g.micro")
        .num_cache_clusters(1)
        .send()
        .await
        .expect("CreateReplicationGroup");
    // CloudFront.
    let distribution_id =
        create_example_distribution(&clients.cloudfront, &format!("{prefix}-cf"), "e2e")
            .await
            .expect("CreateDistribution");
    Seeded {
        distribution_id,
        function_name,
        prefix,
    }
}

fn outputs_json(s: &Seeded, site_url: &str) -> serde_json::Value {
    let str_out = |v: &str| serde_json::json!({"value": v, "type": "string", "sensitive": false});
    let alarms: Vec<_> = SUFFIXES
        .iter()
        .map(|x| serde_json::json!({"name": format!("{}-{x}", s.prefix), "region": "us-east-1"}))
        .collect();
    let rg = s.prefix.rsplit('-').next().unwrap_or("0");
    serde_json::json!({
        "site_url": str_out(site_url),
        "region": str_out("us-east-1"),
        "cloudfront_distribution_id": str_out(&s.distribution_id),
        "cloudfront_domain_name": str_out("d111.cloudfront.net"),
        "api_gateway_id": str_out("abc123"),
        "api_gateway_stage": str_out("live"),
        "api_gateway_invoke_url": str_out("https://abc123.execute-api.us-east-1.amazonaws.com/live"),
        "lambda_function_name": str_out(&s.function_name),
        "lambda_function_arn": str_out(&format!("arn:aws:lambda:us-east-1:123456789012:function:{}", s.function_name)),
        "lambda_log_group_name": str_out(&format!("/aws/lambda/{}", s.function_name)),
        "ecr_repository_url": str_out("123456789012.dkr.ecr.us-east-1.amazonaws.com/librechat"),
        "redis_replication_group_id": str_out(&format!("e2e{rg}")),
        "redis_endpoint": str_out("redis.example.internal"),
        "redis_port": {"value": 6379, "type": "number", "sensitive": false},
        "frontend_bucket_name": str_out("frontend"),
        "files_bucket_name": str_out("files"),
        "alarms": {"value": alarms, "type": ["list", ["object", {"name": "string", "region": "string"}]], "sensitive": false},
        "dashboard_name": str_out("librechat-e2e"),
        "shim_metrics_namespace": str_out("LibreChat/Shim"),
        "diagnostics_token": {"value": TOKEN, "type": "string", "sensitive": true},
    })
}

struct Fixture {
    _moto: &'static MotoServer,
    _shim: ShimStandIn,
    dir: tempfile::TempDir,
    seeded: Seeded,
    script: PathBuf,
}

fn fixture(env: &str, extra_args: &str) -> Fixture {
    fixture_with(env, extra_args, "", true)
}

/// `extra_env`: `VAR=value ...` for the binary; `stderr_to_file`: else stderr stays the terminal.
fn fixture_with(env: &str, extra_args: &str, extra_env: &str, stderr_to_file: bool) -> Fixture {
    let moto = MotoServer::shared().expect("moto server");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let seeded = rt.block_on(seed(moto, env));
    let shim = ShimStandIn::start(TOKEN, SseMode::Streaming).expect("shim stand-in");
    let dir = tempfile::tempdir().expect("tempdir");
    let outputs = dir.path().join("outputs.json");
    std::fs::write(
        &outputs,
        serde_json::to_vec_pretty(&outputs_json(&seeded, &shim.url())).expect("json"),
    )
    .expect("write outputs");
    let state = dir.path().join("state");
    let script = dir.path().join("run.sh");
    std::fs::write(
        &script,
        format!(
            "cd {dir}\n\
             echo $$ > {dir}/pid\n\
             date +%s%N > {dir}/t0\n\
             env OPSCONSOLE_FIRST_FRAME_FILE={dir}/first_frame OPSCONSOLE_STATE_DIR={state} XDG_CONFIG_HOME={dir}/config \
             AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
             AWS_EC2_METADATA_DISABLED=true OPSCONSOLE_DIAGNOSTICS_TOKEN={TOKEN} \
             OPSCONSOLE_POLL_MS=100 {extra_env} \
             {bin} {env} --outputs {outputs} --endpoint-url {endpoint} {extra_args} {redirect}\n\
             echo EXIT=$?\n\
             stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\{{0,1\\}}icanon' | sed 's/^/TTY:/'\n\
             sleep 120\n",
            dir = dir.path().display(),
            state = state.display(),
            bin = env!("CARGO_BIN_EXE_opsconsole"),
            outputs = outputs.display(),
            endpoint = moto.endpoint_url(),
            redirect = if stderr_to_file {
                format!("2>{}/stderr", dir.path().display())
            } else {
                String::new()
            },
        ),
    )
    .expect("write script");
    Fixture {
        _moto: moto,
        _shim: shim,
        dir,
        seeded,
        script,
    }
}

fn assert_restored(t: &Tmux) {
    let err = std::fs::read_to_string(&t.stderr).unwrap_or_default();
    println!("stderr of the binary:\n{err}");
    let screen = t.wait_for(&["EXIT=0", "TTY:"], 20);
    assert_eq!(
        t.format("#{alternate_on}"),
        "0",
        "alternate screen left on:\n{screen}"
    );
    assert_eq!(t.format("#{cursor_flag}"), "1", "cursor left hidden");
    assert!(
        screen.contains("TTY:icanon"),
        "terminal left in raw mode:\n{screen}"
    );
    assert!(
        !screen.contains("1 Deployment"),
        "the TUI is still on screen:\n{screen}"
    );
}

#[test]
fn e2e_help_confirm_invalidation_and_clean_exit() {
    let fx = fixture("e2e", "");
    let t = Tmux::start("main", &fx.script);
    // The first frame and the outputs (read before any network call).
    let screen = t.wait_for(&["1 Deployment", "env e2e", &fx.seeded.distribution_id], 60);
    assert!(!screen.contains("READ-ONLY"), "{screen}");
    // Help on `?`, closed by any key.
    t.send(&["?"]);
    t.wait_for(&["Help", "show this help", ":invalidate /*"], 10);
    t.send(&["Escape"]);
    // (ESC and the next key sent at once would read as Alt-key: wait for the help to close.)
    t.wait_gone("show this help", 10);
    // Confirm popup naming environment and account.
    t.type_text(":invalidate /*");
    t.send(&["Enter"]);
    t.wait_for(&["Confirm invalidate", "environment: e2e"], 10);
    t.send(&["y"]);
    // Followed to its end.
    let screen = t.wait_for(&["completed"], 60);
    assert!(screen.contains("invalidate CloudFront /* done"), "{screen}");
    // The audit log has the start and the result.
    let audit = std::fs::read_to_string(fx.dir.path().join("state/audit.jsonl"))
        .expect("audit log in OPSCONSOLE_STATE_DIR");
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|r| r["action"] == "invalidate" && r["result"] == "started")
    );
    assert!(lines.iter().any(|r| r["action"] == "invalidate"
        && r["result"].as_str().unwrap_or("").starts_with("ok:")
        && r["environment"] == "e2e"
        && r["arguments"]["paths"][0] == "/*"));
    // The invalidation really exists in moto.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let n = rt.block_on(async {
        let clients = fx._moto.clients("us-east-1").await;
        clients
            .cloudfront
            .list_invalidations()
            .distribution_id(&fx.seeded.distribution_id)
            .send()
            .await
            .ok()
            .and_then(|l| l.invalidation_list().map(|l| l.items().len()))
            .unwrap_or(0)
    });
    assert_eq!(n, 1);
    // Quit: the terminal is restored.
    t.send(&["q"]);
    assert_restored(&t);
}

#[test]
fn e2e_panels_fill_from_moto_and_the_shim() {
    let fx = fixture("e2efill", "");
    let t = Tmux::start("fill", &fx.script);
    t.wait_for(&["1 Deployment"], 60);
    // Identity (STS), alarms (9 seeded, one forced into ALARM, one missing), Lambda, Redis,
    // CloudFront, health and the SSE probe against the shim stand-in.
    t.wait_for(&["acct 123456789012"], 60);
    t.wait_for(
        &["lambda-errors", "ALARM", "MISSING", "1 firing, 1 missing"],
        60,
    );
    t.wait_for(&[fx.seeded.function_name.as_str(), "Active/Successful"], 60);
    t.wait_for(&["available"], 60);
    t.wait_for(&["health: ✔ 200"], 60);
    let screen = t.wait_for(&["STREAMING"], 90);
    assert!(
        !screen.contains("Loading"),
        "a panel is still loading:\n{screen}"
    );
    // Detail view of the first alarm.
    t.send(&["2", "Enter"]);
    t.wait_for(&["alarm ", "state", "condition"], 10);
    t.send(&["Escape"]);
    t.wait_gone("condition", 10);
    // `p` reruns the probe (its timeline refills), `r` refreshes.
    t.send(&["p"]);
    t.wait_for(&["SSE probe started"], 10);
    t.wait_for(&["STREAMING"], 60);
    // The confirm popup names the account once the identity is known.
    t.type_text(":invalidate /*");
    t.send(&["Enter"]);
    t.wait_for(&["Confirm invalidate", "account:     123456789012"], 10);
    t.send(&["n"]);
    t.wait_for(&["not confirmed"], 10);
    t.send(&["q"]);
    assert_restored(&t);
}

#[test]
fn e2e_read_only_refuses_actions() {
    let fx = fixture("e2ero", "--read-only");
    let t = Tmux::start("ro", &fx.script);
    t.wait_for(&["READ-ONLY", "1 Deployment"], 60);
    t.type_text(":invalidate /*");
    t.send(&["Enter"]);
    let screen = t.wait_for(&["read-only", "refused"], 10);
    assert!(!screen.contains("Confirm invalidate"), "{screen}");
    let audit =
        std::fs::read_to_string(fx.dir.path().join("state/audit.jsonl")).expect("audit log");
    assert!(audit.contains("refused: read-only"), "{audit}");
    t.send(&["q"]);
    assert_restored(&t);
}

#[test]
fn e2e_too_small_terminal_asks_to_grow_and_recovers_on_resize() {
    let fx = fixture("e2esmall", "");
    let t = Tmux::start("small", &fx.script);
    t.wait_for(&["1 Deployment"], 60);
    let st = t
        .cmd()
        .args(["resize-window", "-t", "main", "-x", "70", "-y", "20"])
        .status()
        .expect("resize");
    assert!(st.success());
    t.wait_for(&["Make me bigger"], 10);
    let _ = t
        .cmd()
        .args(["resize-window", "-t", "main", "-x", "120", "-y", "40"])
        .status();
    t.wait_for(&["1 Deployment"], 10);
    t.send(&["q"]);
    assert_restored(&t);
}

fn read_num(p: &Path) -> Option<i128> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// /proc/PID/stat utime + stime, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let st = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    st.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Lines per second the bench's writer puts into the function's log group.
const LOG_LINES_PER_SEC: usize = 50;

/// Puts `per_sec` lines a second (one PutLogEvents call of `per_sec` events each second) into
/// `group` on moto for at most `max_secs` or until `stop`; returns (lines put, seconds).
fn spawn_log_writer(
    moto: &'static MotoServer,
    group: String,
    per_sec: usize,
    max_secs: u64,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<(usize, f64)> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async move {
            let c = moto.clients("us-east-1").await;
            let _ = c.logs.create_log_group().log_group_name(&group).send().await;
            let stream = "2026/12/01/[$LATEST]bench-writer";
            let _ = c
                .logs
                .create_log_stream()
                .log_group_name(&group)
                .log_stream_name(stream)
                .send()
                .await;
            let t0 = Instant::now();
            let mut n = 0usize;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            while t0.elapsed() < Duration::from_secs(max_secs)
                && !stop.load(std::sync::atomic::Ordering::Relaxed)
            {
                tick.tick().await;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock")
                    .as_millis() as i64;
                let events: Vec<_> = (0..per_sec)
                    .map(|i| {
                        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                            .timestamp(now + (i * 1000 / per_sec) as i64)
                            .message(format!(
                                "{{\"level\":\"info\",\"msg\":\"bench-writer line {}\",\"requestId\":\"req-{}\"}}",
                                n + i,
                                (n + i) / 10
                            ))
                            .build()
                            .expect("event")
                    })
                    .collect();
                c.logs
                    .put_log_events()
                    .log_group_name(&group)
                    .log_stream_name(stream)
                    .set_log_events(Some(events))
                    .send()
                    .await
                    .expect("PutLogEvents");
                n += per_sec;
            }
            (n, t0.elapsed().as_secs_f64())
        })
    })
}

/// Benchmark, not a test (run by console/benches/tui_bench.sh, ideally with --release):
/// exec-to-first-frame over 5 starts, CPU while idle for `OPSCONSOLE_BENCH_IDLE_SECS`
/// (default 60) with the collectors refreshing and the logs view (`l`) following the function's
/// log group while [`spawn_log_writer`] puts 50 lines/s into it, and peak RSS (VmHWM).
#[test]
#[ignore = "benchmark: console/benches/tui_bench.sh"]
fn bench_tui_first_frame_idle_cpu_rss() {
    let idle_secs: u64 = std::env::var("OPSCONSOLE_BENCH_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let mut first_frames = Vec::new();
    for i in 0..5 {
        let fx = fixture(&format!("bench{i}"), "");
        let t = Tmux::start(&format!("bench{i}"), &fx.script);
        let ff = fx.dir.path().join("first_frame");
        let deadline = Instant::now() + Duration::from_secs(30);
        while read_num(&ff).is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let (Some(t0), Some(t1)) = (read_num(&fx.dir.path().join("t0")), read_num(&ff)) else {
            panic!("no first frame recorded:\n{}", t.capture());
        };
        first_frames.push((t1 - t0) as f64 / 1e6);
        if i < 4 {
            t.send(&["q"]);
            t.wait_for(&["EXIT="], 20);
            continue;
        }
        // The last run stays up: idle CPU and RSS.
        // The script's shell runs the binary as its child (env execs it).
        let sh = read_num(&fx.dir.path().join("pid")).expect("pid") as u32;
        let pid: u32 = std::fs::read_to_string(format!("/proc/{sh}/task/{sh}/children"))
            .ok()
            .and_then(|c| c.split_whitespace().next().and_then(|p| p.parse().ok()))
            .expect("the opsconsole process");
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_eq!(comm.trim(), "opsconsole", "measuring the wrong process");
        t.wait_for(&["1 Deployment"], 30);
        // The logs view, following the function's log group while a writer puts 50 lines/s
        // into it (bounded: it stops after the idle period, or when the bench ends).
        let group = format!("/aws/lambda/{}", fx.seeded.function_name);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = spawn_log_writer(
            fx._moto,
            group.clone(),
            LOG_LINES_PER_SEC,
            idle_secs + 10,
            stop.clone(),
        );
        t.send(&["l"]);
        t.wait_for(&["bench-writer line"], 30);
        std::thread::sleep(Duration::from_secs(5));
        let tck = 100.0; // USER_HZ on Linux
        let c0 = cpu_ticks(pid).expect("cpu ticks");
        let w0 = Instant::now();
        std::thread::sleep(Duration::from_secs(idle_secs));
        let c1 = cpu_ticks(pid).expect("cpu ticks");
        let wall = w0.elapsed().as_secs_f64();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (written, writer_secs) = writer.join().expect("log writer");
        let cpu_pct = (c1 - c0) as f64 / tck / wall * 100.0;
        let rss_mb = vm_hwm_kb(pid).unwrap_or(0) as f64 / 1024.0;
        first_frames.sort_by(|a, b| a.total_cmp(b));
        let screen = t.capture();
        t.send(&["q"]);
        t.wait_for(&["EXIT="], 20);
        println!("--- opsconsole TUI benchmark ---");
        println!(
            "first frame (exec -> drawn), 5 starts: min {:.1} ms, median {:.1} ms, max {:.1} ms (target <= 50 ms)",
            first_frames[0], first_frames[2], first_frames[4]
        );
        println!(
            "log writer: {written} lines into {group} in {writer_secs:.1} s ({:.1} lines/s); the logs view followed them",
            written as f64 / writer_secs.max(0.001)
        );
        println!(
            "idle CPU over {wall:.0} s with refreshes running and the logs view following: {cpu_pct:.2} % of one core (target < 2 %)"
        );
        println!("peak RSS (VmHWM): {rss_mb:.1} MB (target <= 60 MB)");
        println!("screen at the end of the idle period:\n{screen}");
    }
}

#[test]
fn e2e_panic_on_the_ui_thread_restores_the_terminal() {
    let fx = fixture_with("e2epanic", "", "OPSCONSOLE_TEST_PANIC=main", true);
    let t = Tmux::start("panic", &fx.script);
    let screen = t.wait_for(&["EXIT=101", "TTY:"], 60);
    assert_eq!(t.format("#{alternate_on}"), "0", "{screen}");
    assert!(screen.contains("TTY:icanon"), "raw mode left on:\n{screen}");
    let err = std::fs::read_to_string(fx.dir.path().join("stderr")).unwrap_or_default();
    assert!(err.contains("test panic on the UI thread"), "{err}");
}

#[test]
fn e2e_panic_in_a_background_task_keeps_the_screen_and_logs_it() {
    // stderr is the terminal here: the console sends it to STATE_DIR/tui.log while it runs.
    let fx = fixture_with("e2etask", "", "OPSCONSOLE_TEST_PANIC=task", false);
    let t = Tmux::start("taskpanic", &fx.script);
    t.wait_for(&["1 Deployment", "diagnostics go to"], 60);
    let log = fx.dir.path().join("state/tui.log");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("test panic in a background task")
    {
        assert!(
            Instant::now() < deadline,
            "the task's panic is not in {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The UI is still up and undisturbed.
    let screen = t.wait_for(&["1 Deployment"], 5);
    assert!(!screen.contains("panicked"), "{screen}");
    assert_eq!(t.format("#{alternate_on}"), "1");
    t.send(&["?"]);
    t.wait_for(&["show this help"], 10);
    t.send(&["q"]);
    assert_restored(&t);
}

#[test]
fn e2e_deploy_image_updates_the_function_and_verifies() {
    let fx = fixture("e2edeploy", "");
    let t = Tmux::start("deploy", &fx.script);
    t.wait_for(&["1 Deployment", "acct 123456789012"], 60);
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/librechat:v2";
    t.type_text(&format!(":deploy image {image}"));
    t.send(&["Enter"]);
    t.wait_for(&["Confirm deploy-image", "environment: e2edeploy"], 10);
    t.send(&["y"]);
    t.wait_for(&["updated: LastUpd"], 60);
    t.wait_for(&["post-deploy verification PASSED"], 90);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let uri = rt.block_on(async {
        let clients = fx._moto.clients("us-east-1").await;
        clients
            .lambda
            .get_function()
            .function_name(&fx.seeded.function_name)
            .send()
            .await
            .ok()
            .and_then(|f| f.code().and_then(|c| c.image_uri()).map(str::to_string))
    });
    assert_eq!(uri.as_deref(), Some(image));
    let audit = std::fs::read_to_string(fx.dir.path().join("state/audit.jsonl")).expect("audit");
    assert!(audit.contains("\"action\":\"deploy-image\""), "{audit}");
    assert!(
        audit.contains("verification: post-deploy verification PASSED"),
        "{audit}"
    );
    t.send(&["q"]);
    assert_restored(&t);
}

#[test]
fn e2e_env_switch_and_configured_keys() {
    let fx = fixture("e2eenv", "");
    // A second environment on the same moto, named in the config file; keys.toml beside it.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let other = rt.block_on(seed(fx._moto, "e2eenv2"));
    let outputs2 = fx.dir.path().join("outputs2.json");
    std::fs::write(
        &outputs2,
        serde_json::to_vec_pretty(&outputs_json(&other, &fx._shim.url())).expect("json"),
    )
    .expect("write outputs2");
    let cfg_dir = fx.dir.path().join("config/opsconsole");
    std::fs::create_dir_all(&cfg_dir).expect("config dir");
    std::fs::write(
        cfg_dir.join("config.toml"),
        format!("[env.e2eenv2]\noutputs = \"{}\"\n", outputs2.display()),
    )
    .expect("config");
    std::fs::write(cfg_dir.join("keys.toml"), "[keys]\nhelp = \"h\"\n").expect("keys");
    let t = Tmux::start("env", &fx.script);
    t.wait_for(&["1 Deployment", &fx.seeded.distribution_id], 60);
    // The configured key opens the help; `?` no longer does.
    t.send(&["?"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!t.capture().contains("show this help"));
    t.send(&["h"]);
    t.wait_for(&["show this help"], 10);
    t.send(&["Escape"]);
    t.wait_gone("show this help", 10);
    // :env with completion.
    t.type_text(":env e2eenv2");
    t.send(&["Enter"]);
    let screen = t.wait_for(
        &["env e2eenv2", &other.distribution_id, "switched to e2eenv2"],
        60,
    );
    assert!(
        !screen.contains(&fx.seeded.distribution_id),
        "the old environment's data is gone:\n{screen}"
    );
    t.wait_for(&["acct 123456789012", "lambda-errors"], 60);
    t.send(&["q"]);
    assert_restored(&t);
}
