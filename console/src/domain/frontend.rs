//! The frontend check (issue 24 item 4), pure: what `index.html` references, the content type
//! each asset must have, and the judgement of what the site served. The collector
//! (`collectors::frontend`) fetches; this decides.
//!
//! What it catches: a broken or partial upload (an asset `index.html` names is missing: the
//! app stays blank), a stale CloudFront cache or invalidation (an old `index.html` naming
//! assets the new deploy replaced), assets served with the wrong content type (a module
//! script that is not JavaScript is refused by the browser), and an `index.html` that browsers
//! may cache (the frontend module uploads it with `Cache-Control: no-cache`, hashed assets
//! `immutable`).

use serde::{Deserialize, Serialize};

/// What the site answered for `/`.
#[derive(Debug, Clone, PartialEq)]
pub struct PageObs {
    pub url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub body: String,
    pub latency_ms: f64,
}

/// What the site answered for one asset (`status` `None`: no answer, `error` says why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetObs {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One thing wrong with the frontend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FrontendProblem {
    /// `/` did not answer 200.
    IndexStatus { status: u16 },
    /// `/` answered something that is not HTML (e.g. an S3 or CloudFront error document).
    IndexNotHtml { content_type: String },
    /// `index.html` may be cached by browsers and CloudFront.
    IndexCacheable { cache_control: String },
    /// An asset `index.html` references answered an error status.
    AssetMissing { path: String, status: u16 },
    /// An asset could not be fetched at all.
    AssetUnreachable { path: String, error: String },
    /// An asset answered with another content type than its kind needs.
    AssetWrongType {
        path: String,
        got: String,
        want: String,
        /// Whether the browser refuses it (scripts, stylesheets) rather than only showing it
        /// wrong (an icon).
        breaks_app: bool,
    },
}

impl FrontendProblem {
    /// Whether the problem is an asset's (not the index page's).
    pub fn is_asset(&self) -> bool {
        matches!(
            self,
            FrontendProblem::AssetMissing { .. }
                | FrontendProblem::AssetUnreachable { .. }
                | FrontendProblem::AssetWrongType { .. }
        )
    }
}

/// The frontend check's result (docs/contracts.md, the probe's `checks.frontend.data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontendData {
    pub url: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    pub latency_ms: f64,
    /// The same-site assets `index.html` references, each as fetched.
    pub assets: Vec<AssetObs>,
    pub problems: Vec<FrontendProblem>,
    /// One line, e.g. "index.html 200 no-cache, 28 assets ok".
    pub summary: String,
}

impl FrontendData {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// One line for the TUI: the summary, and the first problem when there is one.
    pub fn headline(&self) -> String {
        let first = self.problems.first().map(|p| match p {
            FrontendProblem::IndexStatus { .. } => "the app does not load".to_string(),
            FrontendProblem::IndexNotHtml { content_type } => format!("served as {content_type}"),
            FrontendProblem::IndexCacheable { .. } => "index.html cacheable".to_string(),
            FrontendProblem::AssetMissing { path, status } => format!("{path} {status}"),
            FrontendProblem::AssetUnreachable { path, .. } => format!("{path} unreachable"),
            FrontendProblem::AssetWrongType { path, got, .. } => format!("{path} as {got}"),
        });
        let broken = self.problems.iter().filter(|p| p.is_asset()).count();
        // The broken thing first: the line is cut to the panel's width.
        match (first, broken) {
            (Some(f), 0) => format!("{f}; {}", self.summary),
            (Some(f), n) => format!("{f}; {n} of {} assets broken", self.assets.len()),
            (None, _) => format!(
                "{} assets ok, index.html {}",
                self.assets.len(),
                self.cache_control.as_deref().unwrap_or("no Cache-Control")
            ),
        }
    }
}

/// The same-site assets `html` loads: `<script src>`, and `<link href>` of the kinds a page
/// needs (stylesheet, modulepreload, icon, apple-touch-icon, manifest), as absolute paths
/// (relative ones resolved against `<base href>` or `/`), in order, each once. Other sites'
/// URLs, `data:` URIs and protocol-relative URLs are left out: they are not the upload's.
pub fn referenced_assets(html: &str) -> Vec<String> {
    let base = tags(html, "base")
        .into_iter()
        .find_map(|t| attr(t, "href"))
        .unwrap_or_else(|| "/".into());
    let mut out: Vec<String> = Vec::new();
    let mut push = |raw: String| {
        if let Some(p) = resolve(&base, &raw)
            && !out.contains(&p)
        {
            out.push(p);
        }
    };
    // In document order: scripts and links interleaved as they appear.
    let mut found: Vec<(usize, String)> = Vec::new();
    for (pos, t) in tag_positions(html, "script") {
        if let Some(src) = attr(t, "src") {
            found.push((pos, src));
        }
    }
    for (pos, t) in tag_positions(html, "link") {
        let rel = attr(t, "rel").unwrap_or_default().to_ascii_lowercase();
        let wanted = rel.split_whitespace().any(|r| {
            matches!(
                r,
                "stylesheet" | "modulepreload" | "icon" | "apple-touch-icon" | "manifest"
            )
        });
        if wanted && let Some(href) = attr(t, "href") {
            found.push((pos, href));
        }
    }
    found.sort_by_key(|(p, _)| *p);
    for (_, raw) in found {
        push(raw);
    }
    out
}

/// The content type an asset must be served with, by its extension: `(what the type must
/// contain, whether a wrong one breaks the app)`. `None`: any type will do.
pub fn expected_type(path: &str) -> Option<(&'static str, bool)> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    Some(match ext.as_str() {
        // Module scripts are refused with anything but a JavaScript MIME type.
        "js" | "mjs" => ("javascript", true),
        "css" => ("text/css", true),
        "webmanifest" => ("json", false),
        "json" => ("json", false),
        "png" => ("image/png", false),
        "svg" => ("image/svg+xml", false),
        "ico" => ("image/", false),
        "woff2" => ("font/woff2", false),
        "html" => ("text/html", true),
        _ => return None,
    })
}

/// Whether `Cache-Control` keeps browsers and CloudFront from serving an old `index.html`
/// (`no-cache`, `no-store` or `max-age=0`).
pub fn index_not_cached(cache_control: Option<&str>) -> bool {
    let Some(cc) = cache_control else {
        return false;
    };
    cc.split(',')
        .map(|d| d.trim().to_ascii_lowercase())
        .any(|d| d == "no-cache" || d == "no-store" || d == "max-age=0" || d == "s-maxage=0")
}

/// Judges what the site served: the page and each asset it references (fetched or not).
pub fn judge(page: &PageObs, assets: Vec<AssetObs>) -> FrontendData {
    let mut problems = Vec::new();
    if page.status != 200 {
        problems.push(FrontendProblem::IndexStatus {
            status: page.status,
        });
    } else {
        let ct = page.content_type.clone().unwrap_or_default();
        if !ct.to_ascii_lowercase().contains("text/html") {
            problems.push(FrontendProblem::IndexNotHtml { content_type: ct });
        } else if !index_not_cached(page.cache_control.as_deref()) {
            problems.push(FrontendProblem::IndexCacheable {
                cache_control: page
                    .cache_control
                    .clone()
                    .unwrap_or_else(|| "(none)".into()),
            });
        }
    }
    for a in &assets {
        match (a.status, &a.error) {
            (None, e) => problems.push(FrontendProblem::AssetUnreachable {
                path: a.path.clone(),
                error: e.clone().unwrap_or_else(|| "no answer".into()),
            }),
            (Some(s), _) if !(200..300).contains(&s) => {
                problems.push(FrontendProblem::AssetMissing {
                    path: a.path.clone(),
                    status: s,
                })
            }
            (Some(_), _) => {
                if let Some((want, breaks_app)) = expected_type(&a.path) {
                    let got = a.content_type.clone().unwrap_or_default();
                    if !got.to_ascii_lowercase().contains(want) {
                        problems.push(FrontendProblem::AssetWrongType {
                            path: a.path.clone(),
                            got: if got.is_empty() { "(none)".into() } else { got },
                            want: want.into(),
                            breaks_app,
                        });
                    }
                }
            }
        }
    }
    let summary = summary(page, &assets, &problems);
    FrontendData {
        url: page.url.clone(),
        status: page.status,
        cache_control: page.cache_control.clone(),
        latency_ms: page.latency_ms,
        assets,
        problems,
        summary,
    }
}

fn summary(page: &PageObs, assets: &[AssetObs], problems: &[FrontendProblem]) -> String {
    let cc = page.cache_control.as_deref().unwrap_or("no Cache-Control");
    let bad = problems.iter().filter(|p| p.is_asset()).count();
    if page.status != 200 {
        return format!("index.html answered {}", page.status);
    }
    if bad == 0 {
        format!("index.html 200 ({cc}), {} assets ok", assets.len())
    } else {
        format!(
            "index.html 200 ({cc}), {bad} of {} assets broken",
            assets.len()
        )
    }
}

/// `(byte offset, the tag's inside)` of each `<name ...>` in `html`, case-insensitive.
fn tag_positions<'a>(html: &'a str, name: &str) -> Vec<(usize, &'a str)> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&open) {
        let start = from + i;
        let after = start + open.len();
        // `<scripts` is not `<script`.
        let next = lower.as_bytes().get(after).copied().unwrap_or(b'>');
        if !(next.is_ascii_whitespace() || next == b'>' || next == b'/') {
            from = after;
            continue;
        }
        let Some(end) = lower[after..].find('>') else {
            break;
        };
        out.push((start, &html[after..after + end]));
        from = after + end + 1;
    }
    out
}

fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    tag_positions(html, name)
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

/// The value of attribute `name` inside a tag (quoted with `"` or `'`, or bare).
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[at + name.len()..].trim_start();
        if before_ok && rest.starts_with('=') {
            let off = tag.len() - rest.len() + 1;
            let v = tag[off..].trim_start();
            return Some(match v.chars().next() {
                Some(q @ ('"' | '\'')) => v[1..].split(q).next().unwrap_or("").to_string(),
                _ => v.split_ascii_whitespace().next().unwrap_or("").to_string(),
            });
        }
        from = at + name.len();
    }
    None
}

/// `raw` as an absolute path on this site, resolved against `base`; `None` for other sites,
/// `data:` and the like.
fn resolve(base: &str, raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.starts_with("//") || raw.contains("://") || raw.contains(':') {
        return None;
    }
    let joined = if raw.starts_with('/') {
        raw.to_string()
    } else {
        let dir = match base.rfind('/') {
            Some(i) => &base[..=i],
            None => "/",
        };
        let dir = if dir.starts_with('/') {
            dir.to_string()
        } else {
            format!("/{dir}")
        };
        format!("{dir}{raw}")
    };
    // Remove `.` and resolve `..` segments.
    let mut segs: Vec<&str> = Vec::new();
    for s in joined.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            s => segs.push(s),
        }
    }
    Some(format!("/{}", segs.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIBRECHAT_HEAD: &str = r#"<!DOCTYPE html><html><head><base href="/" />
    <link rel="icon" type="image/png" sizes="32x32" href="assets/favicon-32x32.png" />
    <link rel="apple-touch-icon" href="assets/apple-touch-icon-180x180.png" />
    <meta name="viewport" content="width=device-width">
    <script>const theme = localStorage.getItem('color-theme');</script>
    <script type="module" crossorigin src="./assets/vendor.CFTORYSF.js"></script>
    <script type="module" crossorigin src="./assets/index.C1VeOx9R.js"></script>
    <link rel="stylesheet" crossorigin href="./assets/index.C4UbfB90.css">
    <link rel="preconnect" href="https://fonts.example.com">
    <SCRIPT SRC='https://cdn.example.com/x.js'></SCRIPT>
    <link rel="manifest" href="./manifest.webmanifest" crossorigin="use-credentials"><script id="vite-plugin-pwa:register-sw" src="./registerSW.js"></script></head>"#;

    #[test]
    fn the_assets_librechats_index_references_in_document_order() {
        assert_eq!(
            referenced_assets(LIBRECHAT_HEAD),
            [
                "/assets/favicon-32x32.png",
                "/assets/apple-touch-icon-180x180.png",
                "/assets/vendor.CFTORYSF.js",
                "/assets/index.C1VeOx9R.js",
                "/assets/index.C4UbfB90.css",
                "/manifest.webmanifest",
                "/registerSW.js",
            ]
        );
    }

    #[test]
    fn paths_resolve_against_the_base_and_other_sites_are_left_out() {
        assert_eq!(resolve("/", "./a/b.js").as_deref(), Some("/a/b.js"));
        assert_eq!(resolve("/app/", "b.js").as_deref(), Some("/app/b.js"));
        assert_eq!(resolve("/app/x.html", "../b.js").as_deref(), Some("/b.js"));
        assert_eq!(resolve("/", "/c.css").as_deref(), Some("/c.css"));
        assert_eq!(resolve("/", "https://x.example/c.css"), None);
        assert_eq!(resolve("/", "//x.example/c.css"), None);
        assert_eq!(resolve("/", "data:image/png;base64,AAAA"), None);
        let html = r#"<scripts src="/no.js"><script src=/bare.js></script>"#;
        assert_eq!(referenced_assets(html), ["/bare.js"]);
    }

    #[test]
    fn index_cache_headers_that_keep_an_old_index_out() {
        assert!(index_not_cached(Some("no-cache")));
        assert!(index_not_cached(Some("public, max-age=0")));
        assert!(index_not_cached(Some("No-Store")));
        assert!(!index_not_cached(Some(
            "public, max-age=31536000, immutable"
        )));
        assert!(!index_not_cached(None));
    }

    fn page(status: u16, ct: &str, cc: Option<&str>) -> PageObs {
        PageObs {
            url: "https://chat.example.com/".into(),
            status,
            content_type: Some(ct.into()),
            cache_control: cc.map(str::to_string),
            body: String::new(),
            latency_ms: 12.0,
        }
    }

    fn asset(path: &str, status: Option<u16>, ct: Option<&str>) -> AssetObs {
        AssetObs {
            path: path.into(),
            status,
            content_type: ct.map(str::to_string),
            error: status.is_none().then(|| "connection reset".to_string()),
        }
    }

    #[test]
    fn a_whole_upload_is_ok() {
        let d = judge(
            &page(200, "text/html", Some("no-cache")),
            vec![
                asset("/assets/a.js", Some(200), Some("application/javascript")),
                asset("/assets/a.css", Some(200), Some("text/css; charset=utf-8")),
                asset(
                    "/manifest.webmanifest",
                    Some(200),
                    Some("application/manifest+json"),
                ),
                asset("/assets/f.png", Some(200), Some("image/png")),
            ],
        );
        assert!(d.ok(), "{:?}", d.problems);
        assert_eq!(d.summary, "index.html 200 (no-cache), 4 assets ok");
    }

    #[test]
    fn each_broken_thing_is_named() {
        let d = judge(
            &page(200, "text/html", Some("public, max-age=86400")),
            vec![
                asset("/assets/gone.js", Some(404), Some("application/xml")),
                asset("/assets/odd.js", Some(200), Some("binary/octet-stream")),
                asset("/assets/f.png", Some(200), Some("text/plain")),
                asset("/assets/cut.css", None, None),
            ],
        );
        assert_eq!(
            d.problems,
            [
                FrontendProblem::IndexCacheable {
                    cache_control: "public, max-age=86400".into()
                },
                FrontendProblem::AssetMissing {
                    path: "/assets/gone.js".into(),
                    status: 404
                },
                FrontendProblem::AssetWrongType {
                    path: "/assets/odd.js".into(),
                    got: "binary/octet-stream".into(),
                    want: "javascript".into(),
                    breaks_app: true
                },
                FrontendProblem::AssetWrongType {
                    path: "/assets/f.png".into(),
                    got: "text/plain".into(),
                    want: "image/png".into(),
                    breaks_app: false
                },
                FrontendProblem::AssetUnreachable {
                    path: "/assets/cut.css".into(),
                    error: "connection reset".into()
                },
            ]
        );
        assert_eq!(
            d.summary,
            "index.html 200 (public, max-age=86400), 4 of 4 assets broken"
        );
    }

    #[test]
    fn an_error_page_instead_of_the_index() {
        let d = judge(&page(403, "application/xml", None), vec![]);
        assert_eq!(d.problems, [FrontendProblem::IndexStatus { status: 403 }]);
        let d = judge(&page(200, "application/xml", Some("no-cache")), vec![]);
        assert_eq!(
            d.problems,
            [FrontendProblem::IndexNotHtml {
                content_type: "application/xml".into()
            }]
        );
    }
}
