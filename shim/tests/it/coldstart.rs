//! Integration: cold start against moto (S3 config, SSM secrets), diagnostics endpoints and the
//! Redis PING, with the real bootstrap under cargo-lambda and the Node stand-in as LibreChat.

use crate::support::*;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const BUCKET: &str = "genai-shared-config";
const KEY: &str = "lambda-test/librechat/librechat.yaml";
const YAML: &str = "version: 1.2.1\ninterface:\n  privacyPolicy:\n    externalUrl: 'https://genai.sandbox.data.apro.is/privacy'\nregistration:\n  allowedDomains:\n    - genai.sandbox.data.apro.is\n";
const TOKEN: &str = "diag-token-7f3a9c";
const REDIS_PASSWORD: &str = "redis-pw-4b1d";

/// A redis-server on loopback with extra arguments; its port is the one returned (plain TCP, or
/// TLS when the arguments say `--port 0 --tls-port` themselves).
fn redis_server(dir: &Path, extra: &[&str]) -> (Proc, u16) {
    let port = free_port();
    let port_s = port.to_string();
    let mut cmd = Command::new("redis-server");
    let tls = extra.contains(&"--tls-port");
    let mut args = vec!["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    if tls {
        args.extend(["--port", "0", "--tls-port", &port_s]);
    } else {
        args.extend(["--port", &port_s]);
    }
    args.extend(extra.iter().filter(|a| **a != "--tls-port"));
    cmd.args(&args);
    let p = Proc::spawn(&format!("redis-{port}"), cmd, dir);
    assert!(
        wait_port(port, Duration::from_secs(10)),
        "redis did not start: {}",
        p.output()
    );
    (p, port)
}

/// 12 secrets (more than one GetParameters batch of 10), some given by ARN, some by name.
fn secrets() -> Vec<(String, String, String)> {
    (0..12)
        .map(|i| {
            let name = format!("/ecs/genai/librechat/SECRET_{i}");
            let id = if i % 2 == 0 {
                format!("arn:aws:ssm:eu-west-1:123456789012:parameter{name}")
            } else {
                name.clone()
            };
            (
                format!("SECRET_{i}"),
                id,
                format!("v4lue-{i}-{}", "x".repeat(i)),
            )
        })
        .collect()
}

fn seed(moto: &Moto, dir: &Path, with_secrets: &[(String, String, String)]) {
    let yaml = dir.join("src.yaml");
    std::fs::write(&yaml, YAML).expect("write yaml");
    moto.aws(&["s3", "mb", &format!("s3://{BUCKET}")]);
    moto.aws(&[
        "s3",
        "cp",
        &yaml.display().to_string(),
        &format!("s3://{BUCKET}/{KEY}"),
    ]);
    for (env, id, value) in with_secrets {
        let name = id.split(":parameter").nth(1).unwrap_or(id);
        let _ = env;
        moto.aws(&[
            "ssm",
            "put-parameter",
            "--name",
            name,
            "--type",
            "SecureString",
            "--value",
            value,
        ]);
    }
    moto.aws(&[
        "ssm",
        "put-parameter",
        "--name",
        "/opsconsole/diag",
        "--type",
        "SecureString",
        "--value",
        TOKEN,
    ]);
}

struct Env {
    _cl: Proc,
    boot: Proc,
    invoke_port: u16,
}

fn start(moto: &Moto, dir: &Path, spec: &str, redis_port: Option<u16>) -> Env {
    let (cl, invoke_port) = cargo_lambda(dir);
    let upstream_port = free_port();
    let child_env = dir.join("child.env");
    let mut e: Vec<(String, String)> = vec![
        (
            "SHIM_CHILD_CMD".into(),
            format!(
                "/bin/sh -c 'env > {}; exec node {}'",
                child_env.display(),
                standin_script().display()
            ),
        ),
        ("SHIM_UPSTREAM_PORT".into(), upstream_port.to_string()),
        ("AWS_ENDPOINT_URL".into(), moto.endpoint()),
        ("CONFIG_S3_BUCKET".into(), BUCKET.into()),
        ("CONFIG_S3_KEY".into(), KEY.into()),
        (
            "CONFIG_PATH".into(),
            dir.join("librechat.yaml").display().to_string(),
        ),
        (
            "CONFIG_DOMAIN_FROM".into(),
            "genai.sandbox.data.apro.is".into(),
        ),
        (
            "CONFIG_DOMAIN_TO".into(),
            "lambda-test.sandbox.data.apro.is".into(),
        ),
        ("SHIM_SSM_SECRETS".into(), spec.into()),
        (
            "SHIM_DIAGNOSTICS_TOKEN_SSM".into(),
            "/opsconsole/diag".into(),
        ),
    ];
    if let Some(p) = redis_port {
        e.push(("REDIS_URI".into(), format!("redis://127.0.0.1:{p}")));
    }
    let boot = bootstrap(invoke_port, &e, dir, "bootstrap");
    Env {
        _cl: cl,
        boot,
        invoke_port,
    }
}

fn diag_event(path: &str, token: Option<&str>) -> serde_json::Value {
    let mut ev = v1_event("GET", path);
    if let Some(t) = token {
        ev = with(
            ev,
            "multiValueHeaders",
            json!({"Host": ["lambda-test.example"], "x-opsconsole-token": [t]}),
        );
    }
    ev
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_secrets_and_diagnostics_from_real_peers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let moto = moto(dir.path());
    let mut secrets = secrets();
    // Redis requires a password, which reaches the shim only as a secret (as LibreChat's
    // REDIS_PASSWORD): the status PING succeeds only if the shim uses it.
    secrets.push((
        "REDIS_PASSWORD".into(),
        "/ecs/genai/librechat/REDIS_PASSWORD".into(),
        REDIS_PASSWORD.into(),
    ));
    seed(&moto, dir.path(), &secrets);
    let (_redis, redis_port) = redis_server(dir.path(), &["--requirepass", REDIS_PASSWORD]);

    let spec = secrets
        .iter()
        .map(|(e, id, _)| format!("{e}={id}"))
        .collect::<Vec<_>>()
        .join(",");
    let env = start(&moto, dir.path(), &spec, Some(redis_port));
    let c = http_client();

    // First invocation: the shim's status, cold start.
    let r = invoke(
        &c,
        env.invoke_port,
        &diag_event("/api/__shim/status", Some(TOKEN)),
    )
    .await;
    assert_eq!(r.status, 200, "{}\n{}", r.text(), env.boot.output());
    let st = r.json();
    let written = std::fs::read(dir.path().join("librechat.yaml")).expect("config written");
    assert_eq!(st["cold_start"], true);
    assert_eq!(st["shim_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(st["config_sha256"], hex::encode(Sha256::digest(&written)));
    assert_eq!(st["librechat"]["healthy"], true, "{st}");
    assert_eq!(st["redis"]["ok"], true, "{st}");
    assert!(st["redis"]["rtt_ms"].as_f64().is_some());
    for k in ["config_ms", "secrets_ms", "spawn_to_ready_ms", "total_ms"] {
        assert!(
            st["init"][k].as_f64().is_some_and(|v| v >= 0.0),
            "init.{k}: {st}"
        );
    }
    let instance = st["instance_id"].clone();

    // Config fetched from S3 with every occurrence of the domain replaced.
    let text = String::from_utf8_lossy(&written);
    assert_eq!(
        text,
        YAML.replace(
            "genai.sandbox.data.apro.is",
            "lambda-test.sandbox.data.apro.is"
        )
    );
    assert!(!text.contains("genai.sandbox"));

    // Secrets reached LibreChat's environment; the diagnostics token did not; nothing secret logged.
    let child_env = std::fs::read_to_string(dir.path().join("child.env")).expect("child env");
    for (e, _, v) in &secrets {
        assert!(
            child_env.lines().any(|l| l == format!("{e}={v}")),
            "{e} missing in child env"
        );
    }
    assert!(child_env.lines().any(|l| l.starts_with("HOST=127.0.0.1")));
    assert!(child_env.contains(&format!(
        "CONFIG_PATH={}",
        dir.path().join("librechat.yaml").display()
    )));
    assert!(!child_env.contains(TOKEN) && !child_env.contains("SHIM_SSM_SECRETS"));
    let logs = env.boot.output();
    for (_, _, v) in &secrets {
        assert!(!logs.contains(v.as_str()), "secret value logged");
    }
    assert!(!logs.contains(TOKEN), "token logged");

    // Second invocation: warm, same instance.
    let r = invoke(
        &c,
        env.invoke_port,
        &diag_event("/api/__shim/status", Some(TOKEN)),
    )
    .await;
    let st2 = r.json();
    assert_eq!(st2["cold_start"], false);
    assert_eq!(st2["instance_id"], instance);

    // Without (or with a wrong) token the path goes to LibreChat: nothing revealed.
    for t in [None, Some("wrong")] {
        let r = invoke(&c, env.invoke_port, &diag_event("/api/__shim/status", t)).await;
        assert_eq!(r.status, 404, "{}", r.text());
        assert_eq!(r.json()["message"], "Endpoint not found", "LibreChat's 404");
    }

    // Shim-generated SSE probe: sequence, send times, progressive arrival, done.
    let ev = with(
        diag_event("/api/__shim/sse", Some(TOKEN)),
        "multiValueQueryStringParameters",
        json!({"events": ["4"], "interval_ms": ["250"]}),
    );
    let r = invoke(&c, env.invoke_port, &ev).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/event-stream")
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-cache"));
    let probes = sse_events(&r.chunks, "probe");
    assert_eq!(
        probes
            .iter()
            .map(|p| p.1["seq"].as_u64().unwrap_or(0))
            .collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert!(
        probes
            .iter()
            .all(|p| p.1["total"] == 4 && p.1["sent_at_ms"].as_f64().is_some())
    );
    let done = sse_events(&r.chunks, "done");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].1, json!({"total": 4}));
    let spread = probes[3].0.duration_since(probes[0].0);
    let sent_spread = probes[3].1["sent_at_ms"].as_f64().unwrap_or(0.0)
        - probes[0].1["sent_at_ms"].as_f64().unwrap_or(0.0);
    assert!(
        spread.as_secs_f64() * 1000.0 > sent_spread / 2.0,
        "probe events arrived in a burst"
    );
    assert!(env.boot.output().contains("\"ColdStartSecretsMs\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secret_fails_init_with_503_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let moto = moto(dir.path());
    let secrets = secrets();
    seed(&moto, dir.path(), &secrets[..3]);
    let spec = format!(
        "{},MONGO_URI=arn:aws:ssm:eu-west-1:123456789012:parameter/ecs/genai/mongo/DB_URI",
        secrets[..3]
            .iter()
            .map(|(e, id, _)| format!("{e}={id}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut env = start(&moto, dir.path(), &spec, None);
    let c = http_client();
    let r = invoke(&c, env.invoke_port, &v1_event("GET", "/api/health")).await;
    assert_eq!(r.status, 503, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"], "init_failed");
    let detail = v["detail"].as_str().unwrap_or_default().to_string();
    assert!(detail.contains("MONGO_URI"), "{detail}");
    for (_, _, val) in &secrets[..3] {
        assert!(!detail.contains(val.as_str()) && !env.boot.output().contains(val.as_str()));
    }
    // LibreChat was never started, and the environment is recycled.
    assert!(!dir.path().join("child.env").exists());
    assert_eq!(env.boot.wait_exit(Duration::from_secs(10)), Some(70));
}

/// A CA and a server certificate for 127.0.0.1, made with the openssl CLI.
fn tls_certs(dir: &Path) -> (String, String, String) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("ext");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=opsconsole-test-ca",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    let p = |f: &str| dir.join(f).display().to_string();
    (p("ca.crt"), p("server.crt"), p("server.key"))
}

fn target(uri: String, password: Option<&str>, ca: Option<&str>) -> shim::diag::RedisTarget {
    shim::diag::RedisTarget {
        uri: Some(uri),
        username: None,
        password: password.map(str::to_string),
        ca_file: ca.map(str::to_string),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_ping_speaks_tls_and_auth_like_librechat() {
    use shim::diag::redis_ping;
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = tls_certs(dir.path());
    let (_tls, tls_port) = redis_server(
        dir.path(),
        &[
            "--tls-port",
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
            "--tls-auth-clients",
            "no",
            "--requirepass",
            REDIS_PASSWORD,
        ],
    );
    let t = Duration::from_secs(3);
    let tls_uri = format!("rediss://127.0.0.1:{tls_port}");

    // TLS verified against REDIS_CA, password from REDIS_PASSWORD: PONG.
    let ok = redis_ping(&target(tls_uri.clone(), Some(REDIS_PASSWORD), Some(&ca)), t).await;
    assert!(ok.as_ref().is_ok_and(|ms| *ms >= 0.0), "{ok:?}");
    // The password in the URI works as well (and wins over REDIS_PASSWORD).
    let in_uri = format!("rediss://:{REDIS_PASSWORD}@127.0.0.1:{tls_port}");
    let ok = redis_ping(&target(in_uri, Some("not-this-one"), Some(&ca)), t).await;
    assert!(ok.is_ok(), "{ok:?}");
    // A cluster list (LibreChat's comma-separated REDIS_URI): the first node is PINGed.
    let list = format!("{tls_uri},rediss://127.0.0.1:1");
    let ok = redis_ping(&target(list, Some(REDIS_PASSWORD), Some(&ca)), t).await;
    assert!(ok.is_ok(), "{ok:?}");

    // Without the CA the server's certificate is not trusted (Mozilla's roots only).
    let e = redis_ping(&target(tls_uri.clone(), Some(REDIS_PASSWORD), None), t).await;
    assert!(
        e.as_ref()
            .is_err_and(|e| e.contains("certificate") || e.contains("UnknownIssuer")),
        "{e:?}"
    );
    // A wrong password, or none: the error says so, and never shows the password.
    let e = redis_ping(&target(tls_uri.clone(), Some("wrong-pw"), Some(&ca)), t).await;
    assert!(
        e.as_ref()
            .is_err_and(|e| e.contains("AuthenticationFailed") && !e.contains("wrong-pw")),
        "{e:?}"
    );
    let e = redis_ping(&target(tls_uri, None, Some(&ca)), t).await;
    assert!(e.as_ref().is_err_and(|e| e.contains("NOAUTH")), "{e:?}");
    // Plain redis:// to the TLS port: an error within the timeout, not a hang or a panic.
    let e = redis_ping(
        &target(
            format!("redis://127.0.0.1:{tls_port}"),
            Some(REDIS_PASSWORD),
            None,
        ),
        t,
    )
    .await;
    assert!(e.is_err(), "{e:?}");
}
