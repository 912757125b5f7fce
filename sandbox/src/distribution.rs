//! The CloudFront distribution's behaviours as the Terraform frontend module declares them
//! (`infrastructure/terraform/modules/frontend/main.tf`), read at start-up so the stand-in
//! cannot drift from it: the default (S3) behaviour with its viewer-request function (the SPA
//! fallback, `spa.js`), the ordered behaviours (`/api/*` to API Gateway), each one's
//! `compress`, and the distribution's `default_root_object`. Pure functions: parsing, path
//! matching, the SPA rewrite, and CloudFront's compression rules.

use std::path::Path;

use serde_json::Value;

/// The frontend module's configuration in a checkout.
pub(crate) fn frontend_main_tf(root: &Path) -> std::path::PathBuf {
    root.join("infrastructure/terraform/modules/frontend/main.tf")
}

/// Why the behaviours could not be read from the Terraform.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DistributionError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("parsing the frontend module's HCL: {0}")]
    Parse(#[from] hcl::Error),
    #[error("the frontend module has no {0}")]
    Missing(String),
}

/// Where a behaviour sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The frontend bucket (`target_origin_id` of an origin with an origin access control).
    S3,
    /// The API Gateway stage (a custom origin with `origin_path`).
    Api,
}

/// One cache behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Behaviour {
    /// `None` for the default behaviour.
    pub path_pattern: Option<String>,
    pub origin: Origin,
    pub compress: bool,
    /// The viewer-request function's file name beside main.tf (e.g. `spa.js`), if any.
    pub viewer_request: Option<String>,
}

/// The distribution's behaviours, ordered behaviours first (CloudFront's order of evaluation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Behaviours {
    pub ordered: Vec<Behaviour>,
    pub default: Behaviour,
    pub default_root_object: Option<String>,
}

/// What the stand-in does with one request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Api,
    /// The S3 key to read (after the viewer-request function and the default root object),
    /// and whether the behaviour compresses.
    S3 {
        key: String,
        compress: bool,
    },
}

fn origin_of(module: &Value, id: &str) -> Result<Origin, DistributionError> {
    let o = &module["origin"][id];
    if o.is_null() {
        return Err(DistributionError::Missing(format!("origin `{id}`")));
    }
    Ok(if o.get("custom_origin_config").is_some() {
        Origin::Api
    } else {
        Origin::S3
    })
}

fn behaviour(
    module: &Value,
    functions: &Value,
    b: &Value,
    path_pattern: Option<String>,
) -> Result<Behaviour, DistributionError> {
    let id = b["target_origin_id"]
        .as_str()
        .ok_or_else(|| DistributionError::Missing("target_origin_id in a behaviour".into()))?;
    let origin = origin_of(module, id)?;
    // The module's default for `compress` is false.
    let compress = b["compress"].as_bool().unwrap_or(false);
    let viewer_request = match b["function_association"]["viewer-request"]["function_arn"].as_str()
    {
        None => None,
        Some(arn) => {
            // "${aws_cloudfront_function.NAME.arn}" -> that resource's `code = file(".../X.js")`
            let name = arn
                .trim_start_matches("${")
                .trim_end_matches('}')
                .strip_prefix("aws_cloudfront_function.")
                .and_then(|r| r.strip_suffix(".arn"))
                .ok_or_else(|| {
                    DistributionError::Missing(format!(
                        "aws_cloudfront_function behind function_arn {arn}"
                    ))
                })?;
            let code = functions[name]["code"].as_str().ok_or_else(|| {
                DistributionError::Missing(format!("aws_cloudfront_function.{name}.code"))
            })?;
            let file = code
                .split("}/")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .filter(|f| !f.is_empty())
                .ok_or_else(|| {
                    DistributionError::Missing(format!(
                        "a file(\"${{path.module}}/...\") in aws_cloudfront_function.{name}.code ({code})"
                    ))
                })?;
            Some(file.to_string())
        }
    };
    Ok(Behaviour {
        path_pattern,
        origin,
        compress,
        viewer_request,
    })
}

impl Behaviours {
    /// Reads the behaviours from the frontend module's `main.tf` text.
    pub(crate) fn from_terraform(main_tf: &str) -> Result<Behaviours, DistributionError> {
        let doc: Value = hcl::from_str(main_tf)?;
        let module = &doc["module"]["cloudfront"];
        if module.is_null() {
            return Err(DistributionError::Missing("module \"cloudfront\"".into()));
        }
        let functions = &doc["resource"]["aws_cloudfront_function"];
        let default = behaviour(module, functions, &module["default_cache_behavior"], None)?;
        let mut ordered = Vec::new();
        for b in module["ordered_cache_behavior"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let pattern = b["path_pattern"]
                .as_str()
                .ok_or_else(|| DistributionError::Missing("path_pattern".into()))?;
            ordered.push(behaviour(module, functions, b, Some(pattern.to_string()))?);
        }
        Ok(Behaviours {
            ordered,
            default,
            default_root_object: module["default_root_object"].as_str().map(str::to_string),
        })
    }

    /// Reads them from the checkout's frontend module.
    pub(crate) fn from_checkout(root: &Path) -> Result<Behaviours, DistributionError> {
        let path = frontend_main_tf(root);
        let text = std::fs::read_to_string(&path).map_err(|source| DistributionError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Behaviours::from_terraform(&text)
    }

    /// The behaviour whose path pattern matches `path` first, else the default.
    pub(crate) fn behaviour_for(&self, path: &str) -> &Behaviour {
        self.ordered
            .iter()
            .find(|b| {
                b.path_pattern
                    .as_deref()
                    .is_some_and(|p| path_matches(p, path))
            })
            .unwrap_or(&self.default)
    }

    /// Where `path` goes: the API, or an S3 key (after the behaviour's viewer-request function,
    /// which the stand-in runs as [`spa_rewrite`] when it is `spa.js`, and the default root
    /// object for `/`).
    pub(crate) fn route(&self, path: &str) -> Route {
        let b = self.behaviour_for(path);
        match b.origin {
            Origin::Api => Route::Api,
            Origin::S3 => {
                let mut uri = path.to_string();
                if uri == "/"
                    && let Some(root) = &self.default_root_object
                {
                    uri = format!("/{root}");
                }
                if b.viewer_request.as_deref() == Some(SPA_FUNCTION) {
                    uri = spa_rewrite(&uri);
                }
                Route::S3 {
                    key: uri.trim_start_matches('/').to_string(),
                    compress: b.compress,
                }
            }
        }
    }
}

/// The viewer-request function the stand-in knows how to run.
pub(crate) const SPA_FUNCTION: &str = "spa.js";

/// `spa.js` (the frontend module's CloudFront Function): a URI whose last segment has no dot
/// is served `/index.html`. The integration test runs spa.js under node on the same URIs and
/// compares.
pub(crate) fn spa_rewrite(uri: &str) -> String {
    let last = uri.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        uri.to_string()
    } else {
        "/index.html".to_string()
    }
}

/// CloudFront's path pattern match: case-sensitive, `*` any run of characters, `?` one.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| m(rest, &s[i..])),
            Some((b'?', rest)) => !s.is_empty() && m(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && m(rest, &s[1..]),
        }
    }
    // A pattern without a leading slash matches as if it had one.
    let pattern = if pattern.starts_with('/') {
        pattern.to_string()
    } else {
        format!("/{pattern}")
    };
    m(pattern.as_bytes(), path.as_bytes())
}

/// The content types CloudFront compresses (its documented list, the ones a web client uses).
const COMPRESSIBLE: &[&str] = &[
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "application/x-javascript",
    "application/xml",
    "font/otf",
    "font/ttf",
    "image/svg+xml",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "text/css",
    "text/html",
    "text/javascript",
    "text/plain",
    "text/xml",
];

/// The encodings CloudFront picks from, in its order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Br,
    Gzip,
}

impl Encoding {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Encoding::Br => "br",
            Encoding::Gzip => "gzip",
        }
    }
}

/// Whether CloudFront compresses a response, and how: the behaviour compresses, the viewer
/// accepts gzip or br (br preferred), the content type is on the list, the object is between
/// 1,000 and 10,000,000 bytes, and the origin did not encode it already.
pub(crate) fn compression(
    behaviour_compresses: bool,
    accept_encoding: &str,
    content_type: &str,
    len: usize,
    already_encoded: bool,
) -> Option<Encoding> {
    if !behaviour_compresses || already_encoded || !(1_000..=10_000_000).contains(&len) {
        return None;
    }
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !COMPRESSIBLE.contains(&mime.as_str()) {
        return None;
    }
    let accepts = |enc: &str| {
        accept_encoding.split(',').any(|part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            let q_zero = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            name.eq_ignore_ascii_case(enc) && !q_zero
        })
    };
    if accepts("br") {
        Some(Encoding::Br)
    } else if accepts("gzip") {
        Some(Encoding::Gzip)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> Behaviours {
        Behaviours::from_checkout(&opsconsole_testsupport::repo_root()).expect("frontend main.tf")
    }

    #[test]
    fn the_frontend_modules_behaviours_are_read_from_its_terraform() {
        let b = repo();
        assert_eq!(b.default.origin, Origin::S3);
        assert!(b.default.compress);
        assert_eq!(b.default.viewer_request.as_deref(), Some("spa.js"));
        assert_eq!(b.ordered.len(), 1);
        assert_eq!(b.ordered[0].path_pattern.as_deref(), Some("/api/*"));
        assert_eq!(b.ordered[0].origin, Origin::Api);
        assert!(!b.ordered[0].compress, "/api/* must not compress (SSE)");
        assert_eq!(b.ordered[0].viewer_request, None);
        assert_eq!(b.default_root_object, None);
    }

    #[test]
    fn a_changed_terraform_changes_the_behaviours() {
        let text = std::fs::read_to_string(frontend_main_tf(&opsconsole_testsupport::repo_root()))
            .expect("main.tf");
        let changed = text
            .replace("compress               = true", "compress = false")
            .replace(
                "path_pattern             = \"/api/*\"",
                "path_pattern = \"/v1/*\"",
            )
            .replace(
                "price_class = var.price_class",
                "price_class = var.price_class\n  default_root_object = \"home.html\"",
            );
        let b = Behaviours::from_terraform(&changed).expect("parsed");
        assert!(!b.default.compress);
        assert_eq!(b.ordered[0].path_pattern.as_deref(), Some("/v1/*"));
        assert_eq!(b.default_root_object.as_deref(), Some("home.html"));
        assert_eq!(
            b.route("/api/config"),
            Route::S3 {
                key: "index.html".into(),
                compress: false
            }
        );
        assert_eq!(b.route("/v1/x"), Route::Api);
        assert!(matches!(
            Behaviours::from_terraform("module \"s3\" {}"),
            Err(DistributionError::Missing(_))
        ));
        assert!(matches!(
            Behaviours::from_terraform("module {"),
            Err(DistributionError::Parse(_))
        ));
    }

    #[test]
    fn routes_follow_the_behaviours() {
        let b = repo();
        assert_eq!(b.route("/api/config"), Route::Api);
        assert_eq!(b.route("/api/agents/chat/stream/x"), Route::Api);
        let s3 = |k: &str| Route::S3 {
            key: k.into(),
            compress: true,
        };
        assert_eq!(b.route("/"), s3("index.html"));
        assert_eq!(b.route("/c/new"), s3("index.html"));
        assert_eq!(b.route("/login"), s3("index.html"));
        assert_eq!(b.route("/assets/index-abc.js"), s3("assets/index-abc.js"));
        assert_eq!(
            b.route("/api"),
            s3("index.html"),
            "/api itself is not /api/*"
        );
    }

    /// The stand-in's rewrite and spa.js itself (run under node, as the module's spa_test.js
    /// does) agree on the same URIs.
    #[test]
    fn spa_rewrite_agrees_with_the_modules_spa_js() {
        let root = opsconsole_testsupport::repo_root();
        let b = repo();
        let file = b
            .default
            .viewer_request
            .clone()
            .expect("a viewer-request function");
        let code =
            std::fs::read_to_string(frontend_main_tf(&root).with_file_name(&file)).expect("spa.js");
        let uris = [
            "/",
            "/c/new",
            "/c/abc/",
            "/login",
            "/register",
            "/index.html",
            "/assets/index.C1VeOx9R.js",
            "/assets/vendor.css",
            "/manifest.webmanifest",
            "/sw.js",
            "/fonts/Inter.woff2",
            "/a.b/c",
            "/v1.2",
            "",
        ];
        let script = format!(
            "{code}\nconst uris = {};\nconsole.log(JSON.stringify(uris.map(u => handler({{request: {{uri: u, method: 'GET', headers: {{}}}}}}).uri)));",
            serde_json::to_string(&uris).expect("json")
        );
        let out = std::process::Command::new("node")
            .arg("-e")
            .arg(&script)
            .output()
            .expect("node runs spa.js");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let node: Vec<String> = serde_json::from_slice(&out.stdout).expect("node's JSON");
        let ours: Vec<String> = uris.iter().map(|u| spa_rewrite(u)).collect();
        assert_eq!(ours, node);
    }

    #[test]
    fn cloudfront_path_patterns() {
        assert!(path_matches("/api/*", "/api/x/y"));
        assert!(path_matches("api/*", "/api/x"));
        assert!(!path_matches("/api/*", "/API/x"));
        assert!(!path_matches("/api/*", "/apix"));
        assert!(path_matches("/images/*.jp?g", "/images/a/b.jpeg"));
        assert!(!path_matches("/images/*.jp?g", "/images/a/b.jpg"));
        assert!(path_matches("*", "/anything"));
    }

    #[test]
    fn compression_follows_cloudfronts_rules() {
        let ae = "gzip, deflate, br, zstd";
        assert_eq!(
            compression(true, ae, "text/javascript; charset=utf-8", 5_000, false),
            Some(Encoding::Br)
        );
        assert_eq!(
            compression(true, "gzip", "text/css", 5_000, false),
            Some(Encoding::Gzip)
        );
        assert_eq!(compression(false, ae, "text/css", 5_000, false), None);
        assert_eq!(compression(true, ae, "text/css", 999, false), None);
        assert_eq!(compression(true, ae, "font/woff2", 50_000, false), None);
        assert_eq!(compression(true, ae, "text/css", 5_000, true), None);
        assert_eq!(
            compression(true, "br;q=0, gzip", "text/css", 5_000, false),
            Some(Encoding::Gzip)
        );
        assert_eq!(
            compression(true, "identity", "text/css", 5_000, false),
            None
        );
    }
}
