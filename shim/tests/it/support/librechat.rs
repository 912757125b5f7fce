//! The real LibreChat API server behind the real shim (the real-LibreChat tier).
//!
//! [`tree`] finds a LibreChat tree: `LIBRECHAT_DIR` (an operator's own, with `node_modules`), else
//! `.tools/librechat/librechat-v*` as `scripts/test-all.sh` sets it up from `../shared/librechat`.
//! Without one the tests say why and pass as skipped, unless `OPSCONSOLE_REQUIRE_LIBRECHAT=1`
//! (set by test-all.sh once it has set LibreChat up): then a missing tree is a failure.
//! MongoDB: `LIBRECHAT_MONGO_URI` (a real one), else nx-27017 from `LIBRECHAT_NX` or the
//! `nx-venv` beside the tree (what the setup script installs), one fresh database per stack.
//!
//! [`Stack::start`] runs, on loopback: MongoDB, the fake model (tools/librechat-local), moto
//! with LibreChat's config in S3 and its secrets (and `MONGO_URI`) in SSM, cargo-lambda's Runtime
//! API, and the real `bootstrap` with the image's environment (the Dockerfile's `ENV` lines)
//! and otherwise default settings, which spawns LibreChat in the tree as the image does:
//! `librechat-start api/server/index.js` on the image's Node with its compile cache (image.rs).

use super::*;
use serde_json::{Value, json};

pub const REQUIRE_ENV: &str = "OPSCONSOLE_REQUIRE_LIBRECHAT";
/// A browser's User-Agent (LibreChat's `uaParser` rejects others on JWT routes).
pub const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";
/// What a browser sends.
pub const BROWSER_ACCEPT_ENCODING: &str = "gzip, deflate, br";
/// Secrets that reach LibreChat through SSM, as in a deployment.
const SECRETS: &[&str] = &[
    "CREDS_KEY",
    "CREDS_IV",
    "JWT_SECRET",
    "JWT_REFRESH_SECRET",
    "MONGO_URI",
];
const BUCKET: &str = "lc-config";
const KEY: &str = "librechat/librechat.yaml";
pub const LLM_KEY: &str = "sk-fake-llm-not-a-secret";

pub enum Mongo {
    Nx(PathBuf),
    Uri(String),
}

pub struct Tree {
    pub dir: PathBuf,
    pub mongo: Mongo,
    /// `version` of the tree's package.json, e.g. `v0.8.6`.
    pub version: String,
}

fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// The LibreChat tree to test against, or `None` (skipped, with the reason on stderr).
pub fn tree() -> Option<Tree> {
    let dir = match std::env::var_os("LIBRECHAT_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let tools = repo_root().join(".tools/librechat");
            let found = std::fs::read_dir(&tools).ok().and_then(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| p.join("api/server/index.js").is_file())
            });
            match found {
                Some(d) => d,
                None => {
                    let why = "real LibreChat not available: set LIBRECHAT_DIR to a LibreChat \
                               tree with node_modules (scripts/test-all.sh sets one up from \
                               ../shared/librechat into .tools/librechat)";
                    assert!(!required(), "{REQUIRE_ENV}=1 but {why}");
                    eprintln!("skipped: {why}");
                    return None;
                }
            }
        }
    };
    assert!(
        dir.join("api/server/index.js").is_file(),
        "{} is not a LibreChat tree (no api/server/index.js)",
        dir.display()
    );
    assert!(
        dir.join("node_modules").is_dir(),
        "{} has no node_modules: run `npm ci` there (or ../shared/librechat/setup.sh)",
        dir.display()
    );
    let pkg: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("package.json")).expect("LibreChat's package.json"),
    )
    .expect("package.json is JSON");
    let version = pkg["version"].as_str().unwrap_or("?").to_string();
    let mongo = if let Ok(uri) = std::env::var("LIBRECHAT_MONGO_URI") {
        Mongo::Uri(uri)
    } else {
        let nx = std::env::var_os("LIBRECHAT_NX")
            .map(PathBuf::from)
            .or_else(|| {
                dir.parent()
                    .map(|p| p.join("nx-venv/bin/nx-27017"))
                    .filter(|p| p.is_file())
            })
            .unwrap_or_else(|| {
                panic!(
                    "no MongoDB for LibreChat: set LIBRECHAT_MONGO_URI, or LIBRECHAT_NX to an \
                     nx-27017 (../shared/librechat/setup.sh installs one beside the tree)"
                )
            });
        Mongo::Nx(nx)
    };
    Some(Tree {
        dir,
        mongo,
        version,
    })
}

pub fn local_dir() -> PathBuf {
    repo_root().join("tools/librechat-local")
}

/// `KEY=value` lines of tools/librechat-local/librechat.env.
pub fn librechat_env() -> Vec<(String, String)> {
    opsconsole_testsupport::librechat::librechat_env(&repo_root()).expect("librechat.env")
}

#[derive(Default)]
pub struct StackOpts {
    /// Run the shim (and so LibreChat) as uid/gid 65534 with `setpriv`, as Lambda runs an image
    /// as a non-root user: the root-owned tree is then read-only to it.
    pub as_nobody: bool,
    pub extra_env: Vec<(String, String)>,
    /// Run the function on the local Lambda (crates/locallambda: environments frozen while
    /// idle, several of them) instead of one bootstrap under cargo-lambda, with a redis-server
    /// and `USE_REDIS`/`REDIS_URI` as Terraform sets them.
    pub lambda: Option<LambdaOpts>,
    /// Files in S3 (issue 30): this bucket is created in moto, infrastructure/librechat-files.yaml
    /// (`fileStrategy: s3`, size limits that fit Lambda) goes into the
    /// uploaded librechat.yaml, and LibreChat gets `AWS_BUCKET_NAME` and path-style addressing.
    pub files_bucket: Option<&'static str>,
}

/// How the local Lambda runs the function.
pub struct LambdaOpts {
    /// Concurrent environments at most.
    pub envs: usize,
    /// Titles on for the fake endpoint (`titleConvo: true` in the uploaded librechat.yaml).
    pub titles: bool,
    pub memory_mb: u32,
    /// CPU share and memory limit from `memory_mb` (cgroups).
    pub limits: bool,
}

impl Default for LambdaOpts {
    fn default() -> Self {
        LambdaOpts {
            envs: 3,
            titles: true,
            memory_mb: 2048,
            limits: false,
        }
    }
}

pub struct Stack {
    pub dir: tempfile::TempDir,
    pub moto: Moto,
    pub nx: Option<Proc>,
    pub llm: Proc,
    pub llm_port: u16,
    /// cargo-lambda and the one bootstrap (without [`StackOpts::lambda`]).
    pub cl: Option<Proc>,
    pub boot: Option<Proc>,
    /// The local Lambda (with [`StackOpts::lambda`]); dropped before Redis and the database.
    pub lambda: Option<opsconsole_locallambda::LocalLambda>,
    pub redis: Option<Proc>,
    pub invoke_port: u16,
    pub upstream_port: u16,
    pub mongo_uri: String,
    /// The environment the shim was started with (to start it again: [`Stack::restart_shim`]).
    pub shim_env: Vec<(String, String)>,
    wrapper: Vec<&'static str>,
}

pub const NOBODY: &[&str] = &[
    "setpriv",
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
];

impl Stack {
    pub fn start(tree: &Tree, opts: StackOpts) -> Stack {
        let dir = tempfile::tempdir().expect("tempdir");
        let logs = dir.path();
        // Writable for uid 65534 too (Lambda's /tmp): the config file and the shim's temp files.
        let tmp = logs.join("tmp");
        std::fs::create_dir_all(&tmp).expect("tmp dir");
        if opts.as_nobody {
            use std::os::unix::fs::PermissionsExt;
            for p in [logs, tmp.as_path()] {
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).expect("chmod");
            }
        }
        let moto = moto(logs);
        let (nx, mongo_uri) = match &tree.mongo {
            Mongo::Nx(bin) => {
                let port = free_port();
                let data = logs.join("nx-data");
                std::fs::create_dir_all(&data).expect("nx data dir");
                let mut cmd = Command::new(bin);
                cmd.args(["--host", "127.0.0.1", "-p", &port.to_string(), "--data-dir"])
                    .arg(&data)
                    .arg("--log-file")
                    .arg(logs.join("nx.log"))
                    // Its default pid file is global: a second instance would refuse to start.
                    .arg("--pid-file")
                    .arg(logs.join("nx.pid"));
                let p = Proc::spawn("nx-27017", cmd, logs);
                assert!(
                    wait_port(port, Duration::from_secs(30)),
                    "nx-27017 did not start: {}",
                    p.output()
                );
                (Some(p), format!("mongodb://127.0.0.1:{port}/LibreChat"))
            }
            Mongo::Uri(uri) => {
                // One fresh database per stack: the first user registered is the admin.
                let db = format!("opsconsole_{}", free_port());
                let base = uri.trim_end_matches('/');
                (None, format!("{base}/{db}"))
            }
        };
        let port_file = logs.join("llm.port");
        let mut cmd = Command::new("node");
        cmd.arg(local_dir().join("fake-llm.mjs"))
            .env("FAKE_LLM_PORT", "0")
            .env("FAKE_LLM_PORT_FILE", &port_file)
            .env("FAKE_LLM_API_KEY", LLM_KEY);
        let llm = Proc::spawn("fake-llm", cmd, logs);
        let llm_port = wait_port_file(&port_file, &llm);

        // Config in S3, secrets in SSM (as a deployment has them).
        let mut yaml = local_dir().join("librechat.yaml");
        let titles = opts.lambda.as_ref().is_some_and(|l| l.titles);
        if titles || opts.files_bucket.is_some() {
            let mut text = std::fs::read_to_string(&yaml).expect("librechat.yaml");
            if titles {
                assert!(text.contains("titleConvo: false"), "{text}");
                text = text.replace("titleConvo: false", "titleConvo: true");
            }
            if let Some(b) = opts.files_bucket {
                // The deployment's documented files config (fileStrategy s3, limits that fit).
                text.push_str(include_str!(
                    "../../../../infrastructure/librechat-files.yaml"
                ));
                moto.aws(&["s3", "mb", &format!("s3://{b}")]);
            }
            yaml = logs.join("librechat-test.yaml");
            std::fs::write(&yaml, text).expect("write librechat-test.yaml");
        }
        moto.aws(&["s3", "mb", &format!("s3://{BUCKET}")]);
        moto.aws(&[
            "s3",
            "cp",
            &yaml.display().to_string(),
            &format!("s3://{BUCKET}/{KEY}"),
        ]);
        let mut plain = librechat_env();
        plain.retain(|(k, _)| k != "MONGO_URI");
        plain.push(("MONGO_URI".into(), mongo_uri.clone()));
        let mut refs = Vec::new();
        for name in SECRETS {
            let value = plain
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{name} not in librechat.env"));
            let param = format!("/opsconsole-test/librechat/{name}");
            moto.aws(&[
                "ssm",
                "put-parameter",
                "--name",
                &param,
                "--type",
                "SecureString",
                "--value",
                &value,
            ]);
            refs.push(format!("{name}={param}"));
        }
        plain.retain(|(k, _)| !SECRETS.contains(&k.as_str()));

        let upstream_port = free_port();
        let origin = format!("http://127.0.0.1:{upstream_port}");
        let mut env: Vec<(String, String)> = support_env_overrides(super::dockerfile_env());
        // The image's Node, compile cache and start command (`SHIM_CHILD_CMD`'s librechat-start).
        env.extend(super::image::image_node_env(&tree.dir, &tmp));
        env.extend(plain);
        if let Some(b) = opts.files_bucket {
            env.extend([
                ("AWS_BUCKET_NAME".to_string(), b.to_string()),
                ("AWS_FORCE_PATH_STYLE".into(), "true".into()),
            ]);
        }
        env.extend([
            ("SHIM_CHILD_CWD".to_string(), tree.dir.display().to_string()),
            ("SHIM_UPSTREAM_PORT".into(), upstream_port.to_string()),
            (
                "CONFIG_PATH".into(),
                tmp.join("librechat.yaml").display().to_string(),
            ),
            ("CONFIG_S3_BUCKET".into(), BUCKET.into()),
            ("CONFIG_S3_KEY".into(), KEY.into()),
            ("SHIM_SSM_SECRETS".into(), refs.join(",")),
            ("AWS_ENDPOINT_URL".into(), moto.endpoint()),
            ("DOMAIN_CLIENT".into(), origin.clone()),
            ("DOMAIN_SERVER".into(), origin),
            (
                "FAKE_LLM_BASE_URL".into(),
                format!("http://127.0.0.1:{llm_port}/v1"),
            ),
            ("FAKE_LLM_API_KEY".into(), LLM_KEY.into()),
            ("TMPDIR".into(), tmp.display().to_string()),
            // Readiness budget 180 s instead of the default 30 s: these tests are about behaviour,
            // not boot time (that is a benchmark's), and LibreChat's module loading alone took
            // 22 s on this 2-core machine with other builds running (~3 s when it is quiet).
            ("SHIM_READY_ATTEMPTS".into(), "360".into()),
        ]);
        let wrapper: Vec<&'static str> = if opts.as_nobody {
            NOBODY.to_vec()
        } else {
            Vec::new()
        };
        let (mut cl, mut boot, mut lambda, mut redis) = (None, None, None, None);
        let invoke_port = if let Some(l) = &opts.lambda {
            let port = free_port();
            let mut cmd = Command::new("redis-server");
            cmd.args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
            ])
            .args(["--appendonly", "no"]);
            let p = Proc::spawn("redis-server", cmd, logs);
            assert!(
                wait_port(port, Duration::from_secs(20)),
                "redis: {}",
                p.output()
            );
            redis = Some(p);
            // As the backend module sets them (infrastructure/terraform/modules/backend/main.tf).
            env.push(("USE_REDIS".into(), "true".into()));
            env.push(("REDIS_URI".into(), format!("redis://127.0.0.1:{port}")));
            env.extend(opts.extra_env);
            let ll = start_local_lambda(logs, &env, &wrapper, l);
            let p = ll.port();
            lambda = Some(ll);
            p
        } else {
            env.extend(opts.extra_env);
            let (c, p) = cargo_lambda(logs);
            cl = Some(c);
            boot = Some(bootstrap_via(&wrapper, p, &env, logs, "bootstrap-1"));
            p
        };
        Stack {
            dir,
            moto,
            nx,
            llm,
            llm_port,
            cl,
            boot,
            lambda,
            redis,
            invoke_port,
            upstream_port,
            mongo_uri,
            shim_env: env,
            wrapper,
        }
    }

    /// Start a new shim process (a new execution environment, as Lambda would after an exit).
    pub fn restart_shim(&mut self, generation: u32) {
        self.boot = Some(bootstrap_via(
            &self.wrapper,
            self.invoke_port,
            &self.shim_env,
            self.dir.path(),
            &format!("bootstrap-{generation}"),
        ));
    }

    /// The function's output: the bootstrap's, or every local Lambda environment's.
    pub fn logs(&self) -> String {
        if let Some(b) = &self.boot {
            return b.output();
        }
        let mut out = String::new();
        for i in 1..100 {
            let f = self.dir.path().join(format!("lambda/env-{i}/output.log"));
            if let Ok(t) = std::fs::read_to_string(&f) {
                out.push_str(&format!("--- environment {i}\n{t}"));
            }
        }
        out
    }

    /// The local Lambda's `REPORT` lines so far: (environment, line).
    pub fn reports(&self) -> Vec<(u32, String)> {
        std::fs::read_to_string(self.dir.path().join("platform.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (env, line) = l.split_once('\t')?;
                let env = env.parse().ok()?;
                line.starts_with("REPORT").then(|| (env, line.to_string()))
            })
            .collect()
    }

    pub fn lambda(&self) -> &opsconsole_locallambda::LocalLambda {
        self.lambda.as_ref().expect("a stack on the local Lambda")
    }

    /// LibreChat's pid: the child the shim logged as spawned.
    pub fn librechat_pid(&self) -> Option<u32> {
        self.logs().lines().rev().find_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v["message"] == "LibreChat spawned")
                .then(|| v["pid"].as_u64())
                .flatten()
                .map(|p| p as u32)
        })
    }
}

/// The function on the local Lambda: the real `bootstrap` (and `shim-init`) with `env`, named `_`
/// as the invoke helpers expect, its environments' files under `<logs>/lambda`.
fn start_local_lambda(
    logs: &Path,
    env: &[(String, String)],
    wrapper: &[&str],
    l: &LambdaOpts,
) -> opsconsole_locallambda::LocalLambda {
    let mut cfg = opsconsole_locallambda::FunctionConfig::new(
        "_",
        env!("CARGO_BIN_EXE_bootstrap"),
        logs.join("lambda"),
    );
    cfg.wrapper = wrapper.iter().map(|s| s.to_string()).collect();
    cfg.env = vec![
        ("SHIM_INIT_BIN".into(), init_bin().display().to_string()),
        // The role's credentials are the local Lambda's (temporary, with a session token).
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("AWS_REGION".into(), "eu-west-1".into()),
        ("RUST_LOG".into(), "info".into()),
    ];
    cfg.env.extend(env.iter().cloned());
    // Each environment's LibreChat on a port of its own (they share the host's loopback).
    cfg.env_port_vars = vec!["SHIM_UPSTREAM_PORT".into()];
    cfg.memory_mb = l.memory_mb;
    cfg.limits = l.limits;
    cfg.max_concurrency = l.envs;
    cfg.timeout = Duration::from_secs(300);
    // The platform's lines (START/END/REPORT) to `<logs>/lambda/platform.log`, "env<TAB>line".
    let platform = std::sync::Mutex::new(
        std::fs::File::create(logs.join("platform.log")).expect("platform.log"),
    );
    cfg.log_sink = Some(std::sync::Arc::new(move |r| {
        if r.platform {
            use std::io::Write;
            if let Ok(mut f) = platform.lock() {
                let _ = writeln!(f, "{}\t{}", r.env, r.line);
            }
        }
    }));
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(opsconsole_locallambda::LocalLambda::start(cfg))
    })
    .expect("the local Lambda")
}

/// The image's environment with the paths that only make sense inside the image left out (the
/// tests set their own tree, port and config path).
fn support_env_overrides(image: Vec<(String, String)>) -> Vec<(String, String)> {
    image
        .into_iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "SHIM_CHILD_CWD" | "SHIM_UPSTREAM_PORT" | "CONFIG_PATH"
            )
        })
        .collect()
}

fn wait_port_file(file: &Path, p: &Proc) -> u16 {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Some(port) = std::fs::read_to_string(file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return port;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} wrote no port: {}", p.name, p.output());
}

/// A REST API (v1) event with headers and an optional JSON body.
pub fn event(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Value {
    let mut h = serde_json::Map::new();
    let mut mh = serde_json::Map::new();
    for (k, v) in headers
        .iter()
        .chain(&[("Host", "lambda-test.example"), ("Accept", "*/*")])
    {
        if h.keys().any(|e| e.eq_ignore_ascii_case(k)) {
            continue;
        }
        h.insert((*k).to_string(), json!(v));
        mh.insert((*k).to_string(), json!([v]));
    }
    if body.is_some() {
        h.insert("Content-Type".into(), json!("application/json"));
        mh.insert("Content-Type".into(), json!(["application/json"]));
    }
    // API Gateway gives the query string apart from the path, decoded, as (multi) maps.
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let (mut q, mut mq) = (serde_json::Map::new(), serde_json::Map::new());
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        q.insert(k.to_string(), json!(v));
        if let Some(a) = mq
            .entry(k.to_string())
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            a.push(json!(v));
        }
    }
    let (q, mq) = if q.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (Value::Object(q), Value::Object(mq))
    };
    json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": h,
        "multiValueHeaders": mh,
        "queryStringParameters": q,
        "multiValueQueryStringParameters": mq,
        "requestContext": {"stage": "prod", "path": format!("/prod{path}"),
                           "identity": {"sourceIp": "203.0.113.7"}, "requestId": "real"},
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
}

/// A user, an agent on the fake model and an API key, made through LibreChat's own API.
pub struct Seeded {
    pub token: String,
    pub refresh_cookie: String,
    pub agent_id: String,
    pub api_key: String,
}

/// [`invoke`], again while the function throttles it (up to 5 s): a client's retry of
/// `TooManyRequestsException`, as the AWS SDK retries it. On one environment the response of the
/// previous step can reach the client before that environment's runtime has asked for the next
/// event, so the next step finds it busy (seen in CI: the login right after the register, 429).
pub async fn invoke_unthrottled(c: &reqwest::Client, invoke_port: u16, ev: &Value) -> Invoked {
    let mut tries = 0;
    loop {
        let r = invoke(c, invoke_port, ev).await;
        tries += 1;
        if r.status != 429 || tries >= 50 {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

pub async fn seed(c: &reqwest::Client, invoke_port: u16) -> Seeded {
    let user = json!({"name": "Test User", "username": "tester", "email": "tester@example.com",
                      "password": "Passw0rd!Passw0rd", "confirm_password": "Passw0rd!Passw0rd"});
    let r = invoke_unthrottled(
        c,
        invoke_port,
        &event("POST", "/api/auth/register", &[], Some(&user)),
    )
    .await;
    assert_eq!(r.status, 200, "register: {}", r.text());
    let login = json!({"email": "tester@example.com", "password": "Passw0rd!Passw0rd"});
    let r = invoke_unthrottled(
        c,
        invoke_port,
        &event("POST", "/api/auth/login", &[], Some(&login)),
    )
    .await;
    assert_eq!(r.status, 200, "login: {}", r.text());
    let refresh_cookie = r
        .header_all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("refreshToken="))
        .unwrap_or_else(|| panic!("no refreshToken cookie: {:?}", r.headers));
    let token = r.json()["token"].as_str().expect("token").to_string();
    let bearer = format!("Bearer {token}");
    let agent = json!({"name": "Test agent", "provider": "fake", "model": "fake-model",
                       "instructions": "be brief", "tools": []});
    let r = invoke_unthrottled(
        c,
        invoke_port,
        &event(
            "POST",
            "/api/agents",
            &[("Authorization", &bearer), ("User-Agent", BROWSER_UA)],
            Some(&agent),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "create agent: {}", r.text());
    let agent_id = r.json()["id"].as_str().expect("agent id").to_string();
    let r = invoke_unthrottled(
        c,
        invoke_port,
        &event(
            "POST",
            "/api/api-keys",
            &[("Authorization", &bearer)],
            Some(&json!({"name": "test"})),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "create API key: {}", r.text());
    let api_key = r.json()["key"].as_str().expect("key").to_string();
    Seeded {
        token,
        refresh_cookie,
        agent_id,
        api_key,
    }
}

/// A streamed chat through the agents API; `directive` goes into the user message (see
/// tools/librechat-local/README.md), `accept_encoding` is sent when given.
pub async fn chat_stream(
    c: &reqwest::Client,
    invoke_port: u16,
    s: &Seeded,
    directive: &str,
    accept_encoding: Option<&str>,
) -> Invoked {
    let body = json!({"model": s.agent_id, "stream": true,
                      "messages": [{"role": "user", "content": format!("hi {directive}")}]});
    let bearer = format!("Bearer {}", s.api_key);
    let mut headers = vec![
        ("Authorization", bearer.as_str()),
        ("User-Agent", BROWSER_UA),
    ];
    if let Some(ae) = accept_encoding {
        headers.push(("Accept-Encoding", ae));
    }
    invoke(
        c,
        invoke_port,
        &event(
            "POST",
            "/api/agents/v1/chat/completions",
            &headers,
            Some(&body),
        ),
    )
    .await
}

/// The `data:` payloads of an OpenAI-style event stream (`opsconsole_wire::sse::Frames`), each
/// with the arrival time of the chunk that completed it (`[DONE]` included as the string).
pub fn data_frames(chunks: &[Chunk]) -> Vec<(Instant, String)> {
    let mut frames = opsconsole_wire::sse::Frames::new();
    let mut out = Vec::new();
    for c in chunks {
        for f in frames.push(&String::from_utf8_lossy(&c.data)) {
            if !f.data.is_empty() {
                out.push((c.at, f.data));
            }
        }
    }
    out
}

/// The content deltas among the frames, with their arrival times.
pub fn content_deltas(frames: &[(Instant, String)]) -> Vec<(Instant, String)> {
    frames
        .iter()
        .filter_map(|(at, d)| {
            let v: Value = serde_json::from_str(d).ok()?;
            let text = v["choices"][0]["delta"]["content"].as_str()?;
            (!text.is_empty()).then(|| (*at, text.to_string()))
        })
        .collect()
}

/// The send times the fake model logged for its content chunks, in order.
pub fn model_send_times(stack: &Stack) -> Vec<f64> {
    stack
        .llm
        .output()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["msg"] == "chunk")
        .filter_map(|v| v["sent_at_ms"].as_f64())
        .collect()
}
