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
