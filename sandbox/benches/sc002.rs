//! SC-002 ("the frontend loads in a browser within 3 seconds via the CloudFront URL"), measured
//! through the sandbox's CloudFront stand-in with LibreChat's real web client (uploaded by the
//! frontend module's upload.sh) and headless Chromium:
//! - navigation start to the login form interactive (`#email` and the login button present and
//!   enabled; recorded in the page by a MutationObserver installed before any script runs, on
//!   the page's own clock), and the bytes transferred by then (the Resource Timing entries'
//!   `transferSize`, navigation included), for a first visit (new profile) and repeat visits
//!   (same profile: the HTTP cache and the app's service worker);
//! - the first API call after a cold start: `GET /api/config` through the stand-in on a new
//!   execution environment (the local Lambda's `x-locallambda-environment: new`), request to
//!   the end of the answer, LibreChat's boot behind the shim included.
//!
//! Run: `cargo bench -p opsconsole-sandbox --bench sc002` (needs chromium and a LibreChat tree
//! with its web client: LIBRECHAT_DIR or .tools/librechat; RUNS=N repeat visits, default 5).
//! Prints figures; asserts nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/chromium.rs"]
#[allow(dead_code)]
mod chromium;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chromium::{Chromium, eval, wait_for};

/// Installed before the page's scripts: the moment the login form becomes usable.
const READY_PROBE: &str = r#"
(() => {
  const check = () => {
    const e = document.querySelector('#email');
    const b = document.querySelector('[data-testid=login-button]');
    if (e && b && !e.disabled && !b.disabled && window.__loginReadyMs === undefined) {
      window.__loginReadyMs = performance.now();
      const n = performance.getEntriesByType('navigation')[0];
      const r = performance.getEntriesByType('resource');
      window.__bytes = (n ? n.transferSize : 0) + r.reduce((a, x) => a + (x.transferSize || 0), 0);
      window.__requests = 1 + r.length;
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true });
})();
"#;

fn tree() -> PathBuf {
    std::env::var_os("LIBRECHAT_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let tools = opsconsole_testsupport::repo_root().join(".tools/librechat");
            std::fs::read_dir(tools).ok().and_then(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| p.join("api/server/index.js").is_file())
            })
        })
        .expect("a LibreChat tree: LIBRECHAT_DIR or scripts/librechat-tier.sh")
}

async fn visit(chrome: &Chromium, site: &str) -> (f64, u64, u64) {
    let page = chrome.browser.new_page("about:blank").await.expect("page");
    page.evaluate_on_new_document(READY_PROBE)
        .await
        .expect("install the probe");
    page.goto(format!("{site}/")).await.expect("navigate");
    wait_for(
        &page,
        "window.__loginReadyMs !== undefined",
        Duration::from_secs(120),
        "the login form",
    )
    .await;
    let ms = eval(&page, "window.__loginReadyMs")
        .await
        .as_f64()
        .unwrap_or(-1.0);
    let bytes = eval(&page, "window.__bytes").await.as_u64().unwrap_or(0);
    let reqs = eval(&page, "window.__requests").await.as_u64().unwrap_or(0);
    let _ = page.close().await;
    (ms, bytes, reqs)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let exe = chromium::chromium().expect("chromium (apt-get install chromium)");
    let root = opsconsole_testsupport::repo_root();
    let env_nx = std::env::var_os("LIBRECHAT_NX").map(PathBuf::from);
    let spec = opsconsole_sandbox::librechat::check(&tree(), None, env_nx.as_deref(), None, true)
        .unwrap_or_else(|e| panic!("{e}"));
    let settings = opsconsole_sandbox::LambdaSettings {
        envs: usize::from(opsconsole_sandbox::BROWSER_CONCURRENCY),
        ..Default::default()
    };
    let sandbox = opsconsole_sandbox::start_lambda(&root, None, Some(&spec), settings)
        .await
        .unwrap_or_else(|e| panic!("the sandbox did not start: {e:#}"));
    assert!(sandbox.info.web_client.is_some(), "no web client uploaded");
    let site = sandbox.info.site_url.clone();

    // The first API call after a cold start (before the browser warms anything).
    let c = reqwest::Client::new();
    let t = Instant::now();
    let r = c
        .get(format!("{site}/api/config"))
        .header(opsconsole_locallambda::ROUTE_HEADER, "new")
        .send()
        .await
        .expect("GET /api/config");
    let status = r.status();
    let _ = r.bytes().await;
    let cold = t.elapsed();
    let t = Instant::now();
    let _ = c
        .get(format!("{site}/api/config"))
        .send()
        .await
        .expect("warm");
    let warm = t.elapsed();
    println!(
        "first API call after a cold start: GET /api/config on a new environment: {:.0} ms ({status}); the same call warm: {:.0} ms",
        cold.as_secs_f64() * 1000.0,
        warm.as_secs_f64() * 1000.0
    );
    sandbox
        .prewarm(
            usize::from(opsconsole_sandbox::BROWSER_CONNECTIONS),
            Duration::from_secs(300),
        )
        .await;

    for round in 0..2 {
        // A new profile each round: round 0's first visit is a cold browser, as is round 1's.
        let chrome = Chromium::launch(&exe).await;
        let (ms, bytes, reqs) = visit(&chrome, &site).await;
        println!(
            "round {round}: first visit: navigation start -> login form interactive {ms:.0} ms, {bytes} bytes in {reqs} requests"
        );
        let mut repeat = Vec::new();
        for _ in 0..runs {
            repeat.push(visit(&chrome, &site).await);
        }
        let mut times: Vec<f64> = repeat.iter().map(|r| r.0).collect();
        times.sort_by(f64::total_cmp);
        println!(
            "round {round}: repeat visits ({runs}): {:.0} / {:.0} / {:.0} ms (min / median / max), bytes {:?}",
            times.first().copied().unwrap_or(0.0),
            times.get(times.len() / 2).copied().unwrap_or(0.0),
            times.last().copied().unwrap_or(0.0),
            repeat.iter().map(|r| r.1).collect::<Vec<_>>()
        );
        chrome.close().await;
    }
    println!("SC-002 target: 3000 ms");
    drop(sandbox);
}
