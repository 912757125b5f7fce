//! `opsconsole-sandbox --librechat DIR`: the operator's own LibreChat tree as the shim's child,
//! instead of the stand-in. What it needs besides the tree: a MongoDB (nx-27017 started here,
//! or `--mongo-uri`), the fake model (tools/librechat-local/fake-llm.mjs), LibreChat's config
//! in the config bucket and its secrets in SSM, the image's environment (the Dockerfile's
//! `ENV`), and a user, an agent and an API key made through LibreChat's own API, which the
//! console's chat probe then uses (docs/sandbox.md).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

/// Where LibreChat's database comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mongo {
    /// nx-27017 (MongoDB wire protocol on SQLite), started by the sandbox.
    Nx(PathBuf),
    /// A running MongoDB.
    Uri(String),
}

/// A checked `--librechat DIR` (see [`check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibreChatSpec {
    pub dir: PathBuf,
    pub mongo: Mongo,
}

/// A usage error of `--librechat`: the cause and the fix (exit code 3).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{cause}\n  fix: {fix}")]
pub struct UsageError {
    pub cause: String,
    pub fix: String,
}

fn usage(cause: impl Into<String>, fix: impl Into<String>) -> UsageError {
    UsageError {
        cause: cause.into(),
        fix: fix.into(),
    }
}

/// What `--librechat DIR [--nx PATH | --mongo-uri URI]` needs, checked before anything starts:
/// the tree (`api/server/index.js`, `node_modules`, `client/dist/index.html`), `node` on PATH,
/// and a MongoDB (`--mongo-uri`, else nx-27017 from `--nx`, `LIBRECHAT_NX` or
/// `<DIR>/../nx-venv/bin/nx-27017`).
pub fn check(
    dir: &Path,
    nx: Option<&Path>,
    env_nx: Option<&Path>,
    mongo_uri: Option<&str>,
    node_on_path: bool,
) -> Result<LibreChatSpec, UsageError> {
    if !dir.is_dir() {
        return Err(usage(
            format!("--librechat {}: no such directory", dir.display()),
            "pass the directory of a LibreChat tree (the one holding api/ and package.json), e.g. .tools/librechat/librechat-v0.8.6 (scripts/librechat-tier.sh sets one up)",
        ));
    }
    // Absolute: the shim runs LibreChat in it, and nx-27017 is looked up beside it.
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let dir = canonical.as_path();
    if !dir.join("api/server/index.js").is_file() {
        return Err(usage(
            format!(
                "--librechat {}: not a LibreChat tree (no api/server/index.js)",
                dir.display()
            ),
            "pass the root of a LibreChat checkout (the directory holding api/ and package.json)",
        ));
    }
    if !dir.join("node_modules").is_dir() {
        return Err(usage(
            format!(
                "--librechat {}: no node_modules (LibreChat's dependencies are not installed)",
                dir.display()
            ),
            format!(
                "run `npm ci` in {} (or ../shared/librechat/setup.sh, which installs the server's workspaces)",
                dir.display()
            ),
        ));
    }
    if !dir.join("client/dist/index.html").is_file() {
        return Err(usage(
            format!(
                "--librechat {}: no client/dist/index.html (LibreChat reads it at boot and exits without it)",
                dir.display()
            ),
            "build the client (`npm run frontend`) or create a placeholder client/dist/index.html",
        ));
    }
    if !node_on_path {
        return Err(usage(
            "node is not on PATH (LibreChat and the fake model run on Node.js)",
            "install Node.js >= 20 and put it on PATH",
        ));
    }
    if let Some(uri) = mongo_uri {
        if !(uri.starts_with("mongodb://") || uri.starts_with("mongodb+srv://")) {
            return Err(usage(
                format!("--mongo-uri {uri}: not a MongoDB connection string"),
                "pass mongodb://HOST:PORT/DB (or mongodb+srv://...)",
            ));
        }
        return Ok(LibreChatSpec {
            dir: dir.to_path_buf(),
            mongo: Mongo::Uri(uri.to_string()),
        });
    }
    let beside = dir.parent().map(|p| p.join("nx-venv/bin/nx-27017"));
    let (bin, from) = match (nx, env_nx, beside) {
        (Some(p), _, _) => (p.to_path_buf(), "--nx"),
        (None, Some(p), _) => (p.to_path_buf(), "LIBRECHAT_NX"),
        (None, None, Some(p)) => (p, "beside the tree"),
        (None, None, None) => (PathBuf::new(), "beside the tree"),
    };
    let bin = std::path::absolute(&bin).unwrap_or(bin);
    if !bin.is_file() {
        return Err(usage(
            format!(
                "no MongoDB for LibreChat: no nx-27017 at {} ({from}) and no --mongo-uri",
                bin.display()
            ),
            "pass --mongo-uri mongodb://HOST:PORT/DB for a running MongoDB, or --nx PATH to an nx-27017 (../shared/librechat/setup.sh installs a patched one into <DIR>/../nx-venv)",
        ));
    }
    Ok(LibreChatSpec {
        dir: dir.to_path_buf(),
        mongo: Mongo::Nx(bin),
    })
}

/// `host:port` of a plain `mongodb://` URI (the first host), for a reachability check.
pub fn mongo_host_port(uri: &str) -> Option<(String, u16)> {
    let rest = uri.strip_prefix("mongodb://")?;
    let hosts = rest.split(['/', '?']).next()?;
    let hosts = hosts.rsplit('@').next()?;
    let first = hosts.split(',').next()?;
    match first.rsplit_once(':') {
        Some((h, p)) => Some((h.trim_matches(['[', ']']).to_string(), p.parse().ok()?)),
        None => Some((first.to_string(), 27017)),
    }
}

/// Why LibreChat did not get ready, from the last lines of the shim's log (which carries
/// LibreChat's output): the cause and the fix.
pub fn diagnose(last_lines: &[String], mongo: &str) -> (String, String) {
    let text = last_lines.join("\n");
    let has = |s: &str| text.contains(s);
    if has("MongooseServerSelectionError")
        || has("MongoServerSelectionError")
        || has("MongoNetworkError")
        || (has("ECONNREFUSED") && (has("27017") || has("mongo") || has("Mongo")))
    {
        return (
            format!("LibreChat could not connect to MongoDB at {mongo}"),
            "start that MongoDB (or fix --mongo-uri), or leave --mongo-uri out to let the sandbox start nx-27017".into(),
        );
    }
    if has("index.html") && has("ENOENT") {
        return (
            "LibreChat exited at boot: client/dist/index.html is missing".into(),
            "build the client or create a placeholder client/dist/index.html in the tree".into(),
        );
    }
    if has("Cannot find module") {
        return (
            "LibreChat exited at boot: a module is missing (Cannot find module)".into(),
            "install the tree's dependencies (`npm ci` in the LibreChat directory)".into(),
        );
    }
    if has("exited before it was ready") || has("LibreChat exited") {
        return (
            "LibreChat exited at boot (see its last lines below)".into(),
            "check LibreChat's environment: tools/librechat-local/librechat.env and the Dockerfile's ENV are applied; the lines below name what it missed".into(),
        );
    }
    if has("not ready after") {
        return (
            "LibreChat did not get ready within the shim's readiness budget (still loading its modules, or waiting for MongoDB)".into(),
            "on a loaded machine its boot takes up to a minute: retry when the load is lower; check that MongoDB answers (nx-27017's log in the sandbox's logs/)".into(),
        );
    }
    (
        "LibreChat did not get ready".into(),
        "see the shim's log (LibreChat's output is in it)".into(),
    )
}

/// The seeded user (throw-away credentials; the sandbox is loopback only).
pub const USER_EMAIL: &str = "sandbox@example.com";
pub const USER_PASSWORD: &str = "Sandbox-Passw0rd!";
/// The prompt the sandbox's chat probe sends: the fake model's directive (10 chunks, 200 ms apart).
pub const CHAT_PROMPT: &str = "Hello from the opsconsole sandbox [fake chunks=10 delay_ms=200]";

/// The sandbox's cold-start threshold with the real LibreChat: its boot is part of the shim's
/// cold start (3-6 s on an idle machine, up to a minute on a loaded one), which the default
/// (5000 ms) would report as `cold_start_p95_high`.
pub const COLD_START_P95_MS: f64 = 180_000.0;

/// What [`seed_user`] made.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub agent_id: String,
    pub api_key: String,
}

async fn post(
    c: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    body: &Value,
) -> anyhow::Result<(u16, Value, String)> {
    let mut r = c
        .post(url)
        .header("user-agent", opsconsole::collectors::sse::BROWSER_UA)
        .json(body);
    if let Some(b) = bearer {
        r = r.bearer_auth(b);
    }
    let resp = r.send().await.with_context(|| format!("POST {url}"))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok((status, v, text))
}

/// A user, an agent on the fake model and an API key, through LibreChat's own API at `site_url`
/// (the gateway): register, login, `POST /api/agents` (a browser's User-Agent: LibreChat's
/// uaParser), `POST /api/api-keys`.
pub async fn seed_user(site_url: &str) -> anyhow::Result<Seeded> {
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .no_proxy()
        .build()
        .context("HTTP client")?;
    let user = json!({"name": "Sandbox User", "username": "sandbox", "email": USER_EMAIL,
                      "password": USER_PASSWORD, "confirm_password": USER_PASSWORD});
    let (st, _, text) = post(&c, &format!("{site_url}/api/auth/register"), None, &user).await?;
    if st != 200 {
        bail!("LibreChat's register answered {st}: {text}");
    }
    let login = json!({"email": USER_EMAIL, "password": USER_PASSWORD});
    let (st, v, text) = post(&c, &format!("{site_url}/api/auth/login"), None, &login).await?;
    let token = match v["token"].as_str() {
        Some(t) if st == 200 => t.to_string(),
        _ => bail!("LibreChat's login answered {st}: {text}"),
    };
    let agent = json!({"name": "Sandbox agent", "provider": "fake", "model": "fake-model",
                       "instructions": "be brief", "tools": []});
    let (st, v, text) = post(&c, &format!("{site_url}/api/agents"), Some(&token), &agent).await?;
    let agent_id = match v["id"].as_str() {
        Some(id) if st == 201 => id.to_string(),
        _ => bail!("LibreChat's POST /api/agents answered {st}: {text}"),
    };
    let (st, v, _) = post(
        &c,
        &format!("{site_url}/api/api-keys"),
        Some(&token),
        &json!({"name": "opsconsole-sandbox probe"}),
    )
    .await?;
    let api_key = match v["key"].as_str() {
        Some(k) if st == 201 => k.to_string(),
        // The answer holds the key: never print it.
        _ => bail!("LibreChat's POST /api/api-keys answered {st}"),
    };
    Ok(Seeded { agent_id, api_key })
}

/// The console's config for the sandbox in this mode: the web mode (the path browsers take:
/// login as the seeded user, its password from SSM in moto, POST the chat, GET its stream) on
/// the seeded agent; the chat mode (API key from SSM) configured beside it, used when the `web_`
/// lines are removed.
pub fn console_config(
    env: &str,
    agent_id: &str,
    key_parameter: &str,
    password_parameter: &str,
) -> String {
    format!(
        "# written by opsconsole-sandbox --librechat: the SSE probe streams a real chat as the web UI\n# does (web_*); without the web_ lines, through the OpenAI-compatible API with a key (chat_*)\n[env.{env}.probe]\nweb_agent = \"{agent_id}\"\nweb_email = \"{USER_EMAIL}\"\nweb_password_ssm = \"{password_parameter}\"\nweb_prompt = \"{CHAT_PROMPT}\"\nchat_agent = \"{agent_id}\"\nchat_key_ssm = \"{key_parameter}\"\nchat_prompt = \"{CHAT_PROMPT}\"\n\n# the real LibreChat boots in the cold start (5-60 s here, no Lambda snapshot): not a finding\n[env.{env}.thresholds]\ncold_start_p95_ms = {COLD_START_P95_MS:.1}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(with: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        for f in with {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            if f.ends_with('/') {
                std::fs::create_dir_all(&p).expect("mkdir");
            } else {
                std::fs::write(&p, "").expect("write");
            }
        }
        d
    }

    const FULL: &[&str] = &[
        "lc/api/server/index.js",
        "lc/node_modules/",
        "lc/client/dist/index.html",
        "nx-venv/bin/nx-27017",
    ];

    #[test]
    fn a_complete_tree_with_nx_beside_it_is_accepted() {
        let d = tree(FULL);
        let s = check(&d.path().join("lc"), None, None, None, true).expect("ok");
        assert_eq!(s.mongo, Mongo::Nx(d.path().join("nx-venv/bin/nx-27017")));
        let s = check(
            &d.path().join("lc"),
            None,
            None,
            Some("mongodb://127.0.0.1:1/x"),
            true,
        )
        .expect("ok");
        assert_eq!(s.mongo, Mongo::Uri("mongodb://127.0.0.1:1/x".into()));
    }

    #[test]
    fn each_missing_piece_names_cause_and_fix() {
        let cases: [(&[&str], &str, &str); 4] = [
            (&FULL[1..], "no api/server/index.js", "root of a LibreChat"),
            (&[FULL[0], FULL[2], FULL[3]], "no node_modules", "npm ci"),
            (
                &[FULL[0], FULL[1], FULL[3]],
                "client/dist/index.html",
                "placeholder",
            ),
            (&FULL[..3], "no MongoDB", "--mongo-uri"),
        ];
        for (files, cause, fix) in cases {
            let d = tree(files);
            let e = check(&d.path().join("lc"), None, None, None, true).expect_err(cause);
            assert!(e.cause.contains(cause), "{e}");
            assert!(e.fix.contains(fix), "{e}");
        }
        let d = tree(FULL);
        let e = check(&d.path().join("nope"), None, None, None, true).expect_err("no dir");
        assert!(e.cause.contains("no such directory"), "{e}");
        let e = check(&d.path().join("lc"), None, None, None, false).expect_err("no node");
        assert!(e.cause.contains("node is not on PATH"), "{e}");
        let e = check(&d.path().join("lc"), None, None, Some("http://x"), true).expect_err("uri");
        assert!(e.cause.contains("not a MongoDB"), "{e}");
        let e = check(
            &d.path().join("lc"),
            Some(Path::new("/nonexistent/nx")),
            None,
            None,
            true,
        )
        .expect_err("--nx wins and is missing");
        assert!(e.cause.contains("/nonexistent/nx (--nx)"), "{e}");
    }

    #[test]
    fn mongo_uris_and_diagnoses() {
        assert_eq!(
            mongo_host_port("mongodb://u:p@db.example:27018,b:1/LibreChat?x=1"),
            Some(("db.example".into(), 27018))
        );
        assert_eq!(
            mongo_host_port("mongodb://localhost/x"),
            Some(("localhost".into(), 27017))
        );
        assert_eq!(mongo_host_port("mongodb+srv://c.example/x"), None);
        let lines = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
        let (cause, fix) = diagnose(
            &lines("x\nMongooseServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017"),
            "mongodb://127.0.0.1:27017/x",
        );
        assert!(cause.contains("could not connect to MongoDB at mongodb://127.0.0.1:27017/x"));
        assert!(fix.contains("--mongo-uri"));
        let (cause, _) = diagnose(
            &lines("{\"message\":\"LibreChat exited before it was ready: exit status: 1\"}"),
            "m",
        );
        assert!(cause.contains("exited at boot"), "{cause}");
        assert!(diagnose(&[], "m").0.contains("did not get ready"));
        let (cause, _) = diagnose(
            &lines("{\"cause\":\"LibreChat not ready after 0 health checks in 60009 ms\"}"),
            "m",
        );
        assert!(cause.contains("readiness budget"), "{cause}");
    }
}
