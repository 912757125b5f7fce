//! The real-LibreChat tier: the real LibreChat API server (v0.8.6, `../shared/librechat` or
//! `LIBRECHAT_DIR`) as the child of the real `bootstrap` under cargo-lambda, with default shim
//! settings and the image's environment (support/librechat.rs). Skipped, saying why, when no
//! LibreChat is available; `scripts/test-all.sh` sets one up and requires it.

use crate::support::librechat::*;
use crate::support::*;
use opsconsole::domain::sse::{SseRule, StreamEnd, fill_gaps, verdict};
use opsconsole::model::{SseEventObs, Verdict};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The console's BUFFERED rule over a chat stream's content deltas, with the model's send times
/// (the last `deltas.len()` the model logged).
fn stream_verdict(stack: &Stack, r: &Invoked) -> (Verdict, String, usize) {
    let frames = data_frames(&r.chunks);
    let deltas = content_deltas(&frames);
    let sent = model_send_times(stack);
    let sent = &sent[sent.len().saturating_sub(deltas.len())..];
    let mut events: Vec<SseEventObs> = deltas
        .iter()
        .zip(sent)
        .enumerate()
        .map(|(i, ((at, _), s))| SseEventObs {
            seq: i as u64 + 1,
            arrived_ms: at.duration_since(r.sent).as_secs_f64() * 1000.0,
            sent_at_ms: Some(*s),
            gap_ms: None,
            sent_gap_ms: None,
        })
        .collect();
    fill_gaps(&mut events);
    let done = frames.last().is_some_and(|(_, d)| d == "[DONE]");
    let end = if done {
        StreamEnd::Done
    } else {
        StreamEnd::Dropped(format!("no [DONE]; body error {:?}", r.body_error))
    };
    let (v, why) = verdict(
        &events,
        Some(deltas.len() as u64),
        &end,
        &SseRule::default(),
    );
    (v, why, deltas.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_login_and_chats_that_stream_even_with_a_browsers_headers() {
    let Some(tree) = tree() else { return };
    let stack = Stack::start(&tree, StackOpts::default());
    let c = http_client();

    // Cold start with default settings, then the deployment's health route (the shim's own).
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    assert_eq!(r.json()["status"], "ok");
    assert_eq!(r.json()["librechat"]["status"], 200);
    let logs = stack.logs();
    assert!(logs.contains("\"LibreChat ready\""), "{logs}");
    assert!(logs.contains("\"secrets resolved\""), "{logs}");

    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/config")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["appTitle"].is_string(), "{}", r.text());

    // Register, log in (the refresh token arrives as Set-Cookie), an agent and an API key.
    let s = seed(&c, stack.invoke_port).await;
    assert!(
        s.refresh_cookie.contains("HttpOnly"),
        "{}",
        s.refresh_cookie
    );

    // A streamed chat: 5 chunks sent 200 ms apart arrive apart, without and with the
    // Accept-Encoding a browser sends (LibreChat would brotli-encode and buffer the stream).
    for ae in [None, Some(BROWSER_ACCEPT_ENCODING)] {
        let r = chat_stream(
            &c,
            stack.invoke_port,
            &s,
            "[fake chunks=5 delay_ms=200]",
            ae,
        )
        .await;
        assert_eq!(r.status, 200, "{ae:?}: {}", r.text());
        assert_eq!(r.header("content-encoding"), None, "{ae:?}");
        assert!(
            r.header("content-type")
                .is_some_and(|t| t.starts_with("text/event-stream")),
            "{:?}",
            r.headers
        );
        let (v, why, n) = stream_verdict(&stack, &r);
        assert_eq!(n, 5, "{ae:?}: {}", r.text());
        assert_eq!(v, Verdict::Streaming, "{ae:?}: {why}\n{}", r.text());
    }

    // The model dies after 2 chunks: the stream still ends (no hang), and the shim serves on.
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        chat_stream(
            &c,
            stack.invoke_port,
            &s,
            "[fake chunks=5 delay_ms=100 die_after=2]",
            None,
        ),
    )
    .await
    .expect("the stream did not end after the model died");
    assert_eq!(r.status, 200, "{}", r.text());
    let frames = data_frames(&r.chunks);
    let deltas = content_deltas(&frames);
    let model_chunks = deltas
        .iter()
        .filter(|(_, t)| t.starts_with("Chunk "))
        .count();
    assert_eq!(
        model_chunks,
        2,
        "chunks before the model died: {}",
        r.text()
    );
    // LibreChat ends the stream itself: an error text as the last delta, then [DONE].
    assert!(
        deltas.last().is_some_and(|(_, t)| t.contains("Error")),
        "{}",
        r.text()
    );
    assert_eq!(frames.last().map(|(_, d)| d.as_str()), Some("[DONE]"));
    assert!(r.body_error.is_none(), "{:?}", r.body_error);
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librechat_killed_gives_502_and_the_next_environment_cold_starts() {
    let Some(tree) = tree() else { return };
    let mut stack = Stack::start(&tree, StackOpts::default());
    let c = http_client();
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    let pid = stack
        .librechat_pid()
        .expect("LibreChat's pid in the shim's log");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let t = Instant::now();
    while !stack.logs().contains("LibreChat process exited")
        && t.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/config")).await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.json()["error"], "upstream_unavailable");
    // Recycled: the environment exits so that the next invocation gets a fresh one.
    assert_eq!(
        stack
            .boot
            .as_mut()
            .expect("cargo-lambda stack")
            .wait_exit(Duration::from_secs(10)),
        Some(70)
    );
    stack.restart_shim(2);
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/config")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    assert!(stack.logs().contains("\"LibreChat ready\""));
}

/// Files owned by `uid` under `/` (this filesystem, /tmp included), changed after `since`.
/// Held by the tests that run LibreChat as uid 65534: [`files_written_by`] looks at the whole
/// filesystem, so another such test running beside it would count its files as this one's (the
/// CI run that first had both at once failed the read-only-tree test that way).
static AS_NOBODY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn files_written_by(uid: u32, since: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new("find")
        .args(["/", "-xdev", "-path", "/proc", "-prune", "-o"])
        .args(["-user", &uid.to_string(), "-newer"])
        .arg(since)
        .arg("-print")
        .output()
        .expect("find");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambdas_filesystem_read_only_tree_non_root_writes_nothing_but_the_config() {
    let Some(tree) = tree() else { return };
    // uid 65534 needs root to switch to; the tree must then be read-only to that user.
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            std::env::var(REQUIRE_ENV).is_err(),
            "needs root to run LibreChat as uid 65534"
        );
        eprintln!("skipped: needs root to run LibreChat as uid 65534 with setpriv");
        return;
    }
    let _alone = AS_NOBODY.lock().await;
    let writable = std::process::Command::new(NOBODY[0])
        .args(&NOBODY[1..])
        .args(["test", "-w"])
        .arg(&tree.dir)
        .status()
        .expect("setpriv test -w");
    assert!(
        !writable.success(),
        "{} is writable by uid 65534: not Lambda's read-only tree",
        tree.dir.display()
    );
    let marker = tempfile::NamedTempFile::new().expect("marker");
    let stack = Stack::start(
        &tree,
        StackOpts {
            as_nobody: true,
            ..Default::default()
        },
    );
    let c = http_client();
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    let s = seed(&c, stack.invoke_port).await;
    let r = chat_stream(
        &c,
        stack.invoke_port,
        &s,
        "[fake chunks=4 delay_ms=150]",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let (v, why, n) = stream_verdict(&stack, &r);
    assert_eq!((v, n), (Verdict::Streaming, 4), "{why}");
    // Only the shim's copy of the config: LibreChat itself writes no file at all (no log files
    // filling Lambda's 512 MB /tmp either: LOG_TO_FILE=false in the image).
    // And the image's start command's link to the compile cache (issue 26): a directory and one
    // symlink in Node's cache directory under /tmp, nothing in the cache itself.
    let mut written = files_written_by(65534, marker.path());
    written.sort();
    let env = |name: &str| {
        // The last setting of it wins, as in the shim's environment.
        stack
            .shim_env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name}"))
    };
    let cache_dir = env("NODE_COMPILE_CACHE");
    let mut expected = vec![env("CONFIG_PATH"), cache_dir.clone()];
    expected.extend(cache_links(&cache_dir));
    expected.sort();
    assert_eq!(written, expected, "files written as uid 65534");
}

/// What `librechat-start` linked into Node's compile cache directory.
fn cache_links(dir: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
                .map(|e| e.path().display().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Names, sizes and modification times of every file under `dir`.
fn tree_state(dir: &std::path::Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).expect("metadata");
            if m.is_dir() {
                stack.push(p.clone());
            }
            out.push((
                p.display().to_string(),
                m.len(),
                m.modified().expect("mtime"),
            ));
        }
    }
    out.sort();
    out
}

/// Status, media type and body of one direct request.
async fn direct(
    c: &reqwest::Client,
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String, Option<String>, String) {
    let mut rb = c.request(
        method.parse().expect("method"),
        format!("http://127.0.0.1:{port}{path}"),
    );
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    if let Some(b) = body {
        rb = rb.json(b);
    }
    let resp = rb.send().await.expect("direct request");
    let status = resp.status().as_u16();
    let media = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let enc = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    (
        status,
        media,
        enc,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// The shape of an OpenAI-style chat stream: `role`, `content`, `stop` and `[DONE]` frames.
fn stream_shape(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|block| block.strip_prefix("data: "))
        .map(|d| {
            if d == "[DONE]" {
                return "[DONE]".to_string();
            }
            let v: Value = serde_json::from_str(d).unwrap_or(Value::Null);
            let ch = &v["choices"][0];
            if v["object"] != "chat.completion.chunk" {
                format!("not a chunk: {d}")
            } else if ch["delta"]["role"] == "assistant" {
                "role".into()
            } else if ch["finish_reason"] == "stop" {
                "stop".into()
            } else if let Some(t) = ch["delta"]["content"].as_str() {
                format!("content:{t}")
            } else {
                format!("other: {d}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standin_agrees_with_the_real_server_on_every_route_it_imitates() {
    let Some(tree) = tree() else { return };
    let stack = Stack::start(&tree, StackOpts::default());
    let c = http_client();
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    let s = seed(&c, stack.invoke_port).await;
    let standin_port = free_port();
    let _standin = standin(
        standin_port,
        &[("STANDIN_API_KEY", s.api_key.as_str())],
        stack.dir.path(),
    );
    assert!(wait_port(standin_port, Duration::from_secs(10)));
    let real = stack.upstream_port;

    let key = format!("Bearer {}", s.api_key);
    let chat = |ae: Option<&'static str>| {
        let mut h = vec![("Authorization", key.clone())];
        if let Some(a) = ae {
            h.push(("Accept-Encoding", a.to_string()));
        }
        h
    };
    let chat_body = json!({"model": s.agent_id, "stream": true,
        "messages": [{"role": "user", "content": "hi [fake chunks=3 delay_ms=50]"}]});
    let no_key = json!({"model": "x", "messages": []});
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, String)>, Option<&'a Value>);
    let cases: Vec<Case> = vec![
        ("GET", "/health", vec![], None),
        ("GET", "/livez", vec![], None),
        ("GET", "/readyz", vec![], None),
        ("GET", "/api/health", vec![], None),
        ("GET", "/api/no-such-route", vec![], None),
        ("GET", "/c/new", vec![], None),
        ("GET", "/api/config", vec![], None),
        (
            "POST",
            "/api/agents/v1/chat/completions",
            vec![],
            Some(&no_key),
        ),
        (
            "POST",
            "/api/agents/v1/chat/completions",
            vec![("Authorization", "Bearer sk-wrong".to_string())],
            Some(&no_key),
        ),
        (
            "POST",
            "/api/agents/v1/chat/completions",
            chat(None),
            Some(&chat_body),
        ),
        (
            "POST",
            "/api/agents/v1/chat/completions",
            chat(Some(BROWSER_ACCEPT_ENCODING)),
            Some(&chat_body),
        ),
    ];
    for (method, path, headers, body) in cases {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = direct(&c, real, method, path, &h, body).await;
        let b = direct(&c, standin_port, method, path, &h, body).await;
        let what = format!("{method} {path} {h:?}\n real:    {a:?}\n standin: {b:?}");
        assert_eq!(a.0, b.0, "status differs: {what}");
        assert_eq!(a.1, b.1, "media type differs: {what}");
        assert_eq!(a.2, b.2, "content-encoding differs: {what}");
        if a.2.is_some() {
            continue; // compressed: the encoding is the point, the bytes are not compared
        }
        match (a.1.as_str(), a.0) {
            ("text/event-stream", _) => {
                assert_eq!(stream_shape(&a.3), stream_shape(&b.3), "framing: {what}")
            }
            ("application/json", 404) | ("application/json", 401) => {
                let (ja, jb): (Value, Value) = (
                    serde_json::from_str(&a.3).expect("real JSON"),
                    serde_json::from_str(&b.3).expect("standin JSON"),
                );
                assert_eq!(ja, jb, "error body: {what}");
            }
            ("application/json", _) => {
                let (ja, jb): (Value, Value) = (
                    serde_json::from_str(&a.3).expect("real JSON"),
                    serde_json::from_str(&b.3).expect("standin JSON"),
                );
                for k in [
                    "appTitle",
                    "serverDomain",
                    "emailLoginEnabled",
                    "registrationEnabled",
                    "socialLogins",
                ] {
                    assert!(
                        ja.get(k).is_some() && jb.get(k).is_some(),
                        "{k} missing: {what}"
                    );
                }
            }
            ("text/html", 200) if path != "/c/new" => assert_eq!(a.3, b.3, "body: {what}"),
            _ => {}
        }
    }
}

#[test]
fn the_image_deploys_the_version_the_tests_run() {
    let Some(tree) = tree() else { return };
    assert_eq!(
        dockerfile_librechat_version(),
        tree.version,
        "the Dockerfile's ARG LIBRECHAT_VERSION must be the LibreChat version tested"
    );
}

/// Issue 26: LibreChat runs as the image runs it: the Dockerfile's Node (22), started by the
/// image's `librechat-start`, as a uid that is not root, on a tree it cannot write, with the
/// compile cache filled as the image build fills it (no database) and read-only. Node accepts
/// the cache's entries (its own debug output, `NODE_DEBUG_NATIVE=COMPILE_CACHE`, on a load of
/// LibreChat's largest packages started the same way: on the whole server it is ~22,000 lines
/// that slowed the boot through the shim's log to minutes), LibreChat's own Node finds the
/// cache linked for its uid, writes nothing into it, is ready and serves a streamed chat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_on_the_images_node_with_its_read_only_compile_cache_and_serves_a_chat() {
    use crate::support::image::*;
    let Some(tree) = tree() else { return };
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            std::env::var(REQUIRE_ENV).is_err(),
            "needs root to run LibreChat as uid 65534"
        );
        eprintln!("skipped: needs root to run LibreChat as uid 65534 with setpriv");
        return;
    }
    let img = image_node(&tree.dir);
    assert!(
        img.entries > 5000,
        "the fill wrote {} cache entries",
        img.entries
    );
    let before = tree_state(&img.cache_src);
    let probe = probe_cache_use(&tree.dir, &["mongoose", "express", "zod"]);
    assert_eq!(probe.unreadable, 0, "unreadable entries:\n{}", probe.output);
    // mongoose alone is ~430 modules.
    assert!(
        probe.accepted > 400,
        "{} entries accepted:\n{}",
        probe.accepted,
        probe.output
    );

    let _alone = AS_NOBODY.lock().await;
    let stack = Stack::start(
        &tree,
        StackOpts {
            as_nobody: true,
            ..Default::default()
        },
    );
    let c = http_client();
    let r = invoke(&c, stack.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), stack.logs());
    let pid = stack.librechat_pid().expect("LibreChat's pid");
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("LibreChat's executable");
    assert_eq!(
        exe,
        std::fs::canonicalize(image_node_bin()).expect("the image's node"),
        "LibreChat does not run on the image's Node"
    );
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    assert!(
        status.lines().any(|l| l.starts_with("Uid:\t65534\t")),
        "{status}"
    );
    // Node's cache directory for uid 65534 is the image's cache.
    let cache_dir = stack
        .shim_env
        .iter()
        .rev()
        .find(|(k, _)| k == "NODE_COMPILE_CACHE")
        .map(|(_, v)| v.clone())
        .expect("NODE_COMPILE_CACHE");
    let links: Vec<_> = cache_links(&cache_dir)
        .into_iter()
        .filter(|l| l.ends_with("-65534"))
        .filter_map(|l| std::fs::read_link(l).ok())
        .collect();
    assert!(
        !links.is_empty() && links.iter().all(|t| t.starts_with(&img.cache_src)),
        "{links:?}"
    );
    let s = seed(&c, stack.invoke_port).await;
    let r = chat_stream(
        &c,
        stack.invoke_port,
        &s,
        "[fake chunks=4 delay_ms=150]",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let (v, why, n) = stream_verdict(&stack, &r);
    assert_eq!((v, n), (Verdict::Streaming, 4), "{why}");
    assert_eq!(
        tree_state(&img.cache_src),
        before,
        "the image's cache changed at run time"
    );
}
