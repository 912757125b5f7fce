//! Shared helpers of the console's integration tests: one moto per test binary, seeded
//! deployments with distinct prefixes, contexts pointed at them. (Not every module uses all.)
#![allow(dead_code)]

use opsconsole::cli::GlobalOpts;
use opsconsole::config::{ConfigFile, Settings, TokenSource};
use opsconsole::context::Context;
use opsconsole::outputs::Outputs;
use opsconsole_testsupport::moto::MotoServer;
use opsconsole_testsupport::seed::{SeedSpec, seed};

pub const TOKEN: &str = "test-diagnostics-token";

pub fn moto() -> &'static MotoServer {
    match MotoServer::shared() {
        Ok(m) => m,
        Err(e) => panic!("cannot start moto: {e:#}"),
    }
}

/// Default settings for tests: 30 s budget, the test token, a short SSE probe.
pub fn settings() -> Settings {
    let flags = GlobalOpts {
        timeout: Some(30),
        ..GlobalOpts::default()
    };
    let mut s = ConfigFile::default().resolve("test", &flags);
    s.token = Some(TokenSource::Literal(TOKEN.into()));
    s.sse_events = 6;
    s.sse_interval_ms = 80;
    s
}

/// Seeds `spec` into the shared moto and returns its outputs document.
pub async fn seed_outputs(spec: &SeedSpec) -> serde_json::Value {
    let m = moto();
    let clients = m.clients(&spec.region).await;
    match seed(m, &clients, spec).await {
        Ok(v) => v,
        Err(e) => panic!("seeding {}: {e:#}", spec.prefix),
    }
}

/// A context on the shared moto for a freshly seeded `spec`.
pub async fn seeded_ctx(spec: &SeedSpec, tweak: impl FnOnce(&mut Settings)) -> Context {
    let doc = seed_outputs(spec).await;
    let outputs = match Outputs::from_json(&doc.to_string()) {
        Ok(o) => o,
        Err(e) => panic!("seeded outputs do not parse: {e}"),
    };
    let mut s = settings();
    tweak(&mut s);
    let clients = moto().clients(&spec.region).await;
    Context::from_parts("test", &GlobalOpts::default(), s, outputs, clients).await
}

/// The operator's binary run in isolation: no AWS or token variables of the caller's, moto's test
/// credentials, no AWS config or credentials files, one attempt, and `dir` as HOME and
/// XDG_CONFIG_HOME (so no user config file is read).
pub fn isolated_env(cmd: &mut std::process::Command, dir: &std::path::Path) {
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k == "OPSCONSOLE_DIAGNOSTICS_TOKEN" {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir);
}

/// moto enforcing IAM (after two unauthenticated actions) with a user `user` that has no
/// policies, and a context for `env` signed with that user's keys: every call it makes is
/// refused (AccessDenied), as for an operator whose role lacks the permission.
pub async fn denied_context(env: &str, user: &str, region: &str) -> (MotoServer, Context) {
    let own = MotoServer::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "2")]).expect("moto");
    let iam = |body: &str| {
        own.raw_request(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
                ),
            ],
            body,
        )
        .expect("iam call")
    };
    iam(&format!(
        "Action=CreateUser&Version=2010-05-08&UserName={user}"
    ));
    let keys = iam(&format!(
        "Action=CreateAccessKey&Version=2010-05-08&UserName={user}"
    ));
    let mut opts = own.aws_options(region);
    opts.static_credentials = Some((
        xml_field(&keys, "AccessKeyId"),
        xml_field(&keys, "SecretAccessKey"),
    ));
    let outputs = Outputs::from_json(
        &serde_json::json!({
            "site_url": {"value": "http://127.0.0.1:9"}, "region": {"value": region},
            "cloudfront_distribution_id": {"value": "E1"}, "lambda_function_name": {"value": "fn"},
            "lambda_log_group_name": {"value": "/aws/lambda/fn"},
            "redis_replication_group_id": {"value": "rg"}, "alarms": {"value": []}
        })
        .to_string(),
    )
    .expect("outputs");
    let ctx = Context::from_parts(
        env,
        &Default::default(),
        settings(),
        outputs,
        opsconsole::aws::AwsClients::load(&opts).await,
    )
    .await;
    (own, ctx)
}

/// The text of `<tag>` in an XML answer (moto's IAM).
pub fn xml_field(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&close))
        .map(|(v, _)| v.to_string())
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
}
