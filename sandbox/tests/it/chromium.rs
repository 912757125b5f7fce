//! Headless Chromium over the DevTools protocol (chromiumoxide) for the browser tests
//! (`browser.rs`) and the SC-002 bench (`benches/sc002.rs`, which includes this file).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::page::Page;
use futures::StreamExt as _;
use serde_json::Value;

/// Chromium: `CHROMIUM`, else `chromium` or `chromium-browser` on PATH.
pub(crate) fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM").map(PathBuf::from) {
        return Some(p);
    }
    let paths = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// A headless Chromium with its own profile; its DevTools handler runs on a task.
pub(crate) struct Chromium {
    pub browser: Browser,
    handler: tokio::task::JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Chromium {
    pub(crate) async fn launch(exe: &Path) -> Chromium {
        let profile = tempfile::tempdir().expect("profile dir");
        let config = BrowserConfig::builder()
            .chrome_executable(exe)
            .user_data_dir(profile.path())
            .no_sandbox()
            .window_size(1280, 800)
            .viewport(None)
            .arg("--disable-gpu")
            .arg("--disable-dev-shm-usage")
            .arg("--no-first-run")
            .arg("--disable-background-networking")
            .request_timeout(Duration::from_secs(60))
            .build()
            .expect("browser config");
        let (browser, mut handler) = Browser::launch(config)
            .await
            .unwrap_or_else(|e| panic!("launching {}: {e}", exe.display()));
        // Events this crate's protocol types do not know come out as errors: keep going.
        let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Chromium {
            browser,
            handler,
            _profile: profile,
        }
    }

    /// Closes the browser and waits for its process (no process left behind).
    pub(crate) async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = tokio::time::timeout(Duration::from_secs(20), self.browser.wait()).await;
        let _ = self.browser.kill().await;
        self.handler.abort();
    }
}

/// Evaluates `js` (an expression) in the page.
pub(crate) async fn eval(page: &Page, js: &str) -> Value {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("evaluating `{js}`: {e}"))
        .into_value::<Value>()
        .unwrap_or(Value::Null)
}

/// Polls `js` until it is truthy (every 100 ms, at most `within`); its value.
pub(crate) async fn wait_for(page: &Page, js: &str, within: Duration, what: &str) -> Value {
    let until = Instant::now() + within;
    // A DOM node does not serialise: it counts as `true`.
    let expr = format!("(() => {{ const v = ({js}); return (v instanceof Node) ? true : v; }})()");
    loop {
        let v = page
            .evaluate(expr.as_str())
            .await
            .ok()
            .and_then(|r| r.into_value::<Value>().ok())
            .unwrap_or(Value::Null);
        let truthy = match &v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::String(s) => !s.is_empty(),
            Value::Number(n) => n.as_f64() != Some(0.0),
            _ => true,
        };
        if truthy {
            return v;
        }
        if Instant::now() >= until {
            let body = eval(
                page,
                "document.body ? document.body.innerText.slice(0, 1500) : ''",
            )
            .await;
            let url = eval(page, "location.href").await;
            // The API calls the page made: status and duration (a failed or hanging one is
            // the usual cause).
            let calls = eval(page, "performance.getEntriesByType('resource').filter(e => e.name.includes('/api/')).map(e => `${e.responseStatus} ${Math.round(e.duration)}ms ${e.name.replace(location.origin, '')}`).join('\\n')").await;
            panic!(
                "{what}: not within {within:?} (`{js}`); at {url}, the page says:\n{body}\nits API calls:\n{}",
                calls.as_str().unwrap_or("")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Types `text` into the element `selector` (clicked first).
pub(crate) async fn type_into(page: &Page, selector: &str, text: &str) {
    page.find_element(selector)
        .await
        .unwrap_or_else(|e| panic!("no {selector}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {selector}: {e}"))
        .type_str(text)
        .await
        .unwrap_or_else(|e| panic!("typing into {selector}: {e}"));
}

pub(crate) async fn click(page: &Page, selector: &str) {
    page.find_element(selector)
        .await
        .unwrap_or_else(|e| panic!("no {selector}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {selector}: {e}"));
}

/// Navigates inside the single-page app (React Router listens to `popstate`), without a
/// reload.
pub(crate) async fn navigate_in_app(page: &Page, path: &str) {
    let js = format!(
        "history.pushState({{}}, '', {}); dispatchEvent(new PopStateEvent('popstate')); true",
        serde_json::to_string(path).unwrap_or_default()
    );
    eval(page, &js).await;
}

/// Where the tests put their screenshots (the README shows one).
pub(crate) fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| opsconsole_testsupport::repo_root().join("target"));
    let dir = target.join("browser-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Puts `path` into the page's file input `selector` as a person's file picker does (DevTools'
/// `DOM.setFileInputFiles`, which fires the input's `change`).
pub(crate) async fn choose_file(page: &Page, selector: &str, path: &std::path::Path) {
    use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
    let input = page
        .find_element(selector)
        .await
        .unwrap_or_else(|e| panic!("no {selector}: {e}"));
    let params = SetFileInputFilesParams::builder()
        .file(path.display().to_string())
        .backend_node_id(input.backend_node_id)
        .build()
        .unwrap_or_else(|e| panic!("file input params: {e}"));
    page.execute(params)
        .await
        .unwrap_or_else(|e| panic!("choosing {} in {selector}: {e}", path.display()));
}
