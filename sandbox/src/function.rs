//! The function: the real shim `bootstrap` on the local Lambda (`opsconsole-locallambda`), with
//! the environment Terraform gives it (and, with `--librechat`, the image's and LibreChat's), its
//! output and the platform's log lines forwarded to the log group.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use opsconsole_locallambda::{FunctionConfig, LocalLambda};

use crate::librechat::LibreChatSpec;
use crate::{ENV, FAKE_LLM_KEY, Fault, LambdaSettings, REGION, logs, seed};

/// `--librechat`: the tree, the fake model's port, LibreChat's plain environment.
pub(crate) struct LibreChatRun<'a> {
    pub spec: &'a LibreChatSpec,
    pub llm_port: u16,
    pub plain: Vec<(String, String)>,
}

pub(crate) struct Spec<'a> {
    pub root: &'a Path,
    pub dir: &'a Path,
    pub names: &'a seed::Names,
    pub site_url: &'a str,
    pub moto_url: &'a str,
    pub redis_uri: &'a str,
    pub fault: Option<Fault>,
    pub node: &'a Path,
    pub bootstrap: &'a Path,
    pub librechat: Option<LibreChatRun<'a>>,
    pub settings: LambdaSettings,
    pub log_tx: logs::LogTx,
}

/// The function's environment variables (what Lambda adds itself is the local Lambda's).
fn environment(s: &Spec<'_>) -> anyhow::Result<Vec<(String, String)>> {
    let names = s.names;
    let secrets: Vec<String> = names
        .secret_parameters()
        .iter()
        .map(|(k, p)| format!("{k}={p}"))
        .collect();
    let mut env: Vec<(String, String)> = vec![
        ("AWS_REGION".into(), REGION.into()),
        ("AWS_DEFAULT_REGION".into(), REGION.into()),
        ("AWS_ENDPOINT_URL".into(), s.moto_url.to_string()),
        // The role's credentials are the local Lambda's: temporary, with a session token.
        ("CONFIG_S3_BUCKET".into(), names.config_bucket.clone()),
        ("CONFIG_S3_KEY".into(), names.config_key.clone()),
        (
            "CONFIG_PATH".into(),
            s.dir.join("librechat.yaml").display().to_string(),
        ),
        ("SHIM_SSM_SECRETS".into(), secrets.join(",")),
        ("SHIM_DIAGNOSTICS_TOKEN_SSM".into(), names.token_parameter()),
        // As the backend module sets them (infrastructure/terraform/modules/backend/main.tf):
        // LibreChat keeps its resumable streams and caches in Redis, so another environment can
        // serve a chat's stream.
        ("USE_REDIS".into(), "true".into()),
        ("REDIS_URI".into(), s.redis_uri.to_string()),
        (
            "SHIM_CHILD_CMD".into(),
            format!("{} tools/librechat-standin/server.mjs", s.node.display()),
        ),
        ("SHIM_CHILD_CWD".into(), s.root.display().to_string()),
        // As in dev (genai.* -> lambda-test.*): the config's domain becomes the gateway's.
        (
            "CONFIG_DOMAIN_FROM".into(),
            format!("genai.{ENV}.data.apro.is"),
        ),
        (
            "CONFIG_DOMAIN_TO".into(),
            s.site_url.trim_start_matches("http://").to_string(),
        ),
        ("HOST".into(), "127.0.0.1".into()),
        ("SHIM_READY_INTERVAL_MS".into(), "250".into()),
    ];
    if let Some(LibreChatRun {
        spec,
        llm_port,
        plain,
    }) = &s.librechat
    {
        // The image's environment (the Dockerfile's ENV, with its in-image paths left out),
        // then LibreChat's (librechat.env, secrets via SSM), then the sandbox's.
        let image = opsconsole_testsupport::librechat::dockerfile_env(s.root)
            .context("reading the image's Dockerfile (its ENV lines)")?;
        let mut all: Vec<(String, String)> = image
            .into_iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "SHIM_CHILD_CWD" | "SHIM_UPSTREAM_PORT" | "CONFIG_PATH"
                )
            })
            .collect();
        all.extend(plain.iter().cloned());
        env.retain(|(k, _)| k != "SHIM_CHILD_CMD" && k != "SHIM_CHILD_CWD");
        all.extend(env);
        all.extend([
            ("SHIM_CHILD_CWD".to_string(), spec.dir.display().to_string()),
            ("DOMAIN_CLIENT".into(), s.site_url.to_string()),
            ("DOMAIN_SERVER".into(), s.site_url.to_string()),
            (
                "FAKE_LLM_BASE_URL".into(),
                format!("http://127.0.0.1:{llm_port}/v1"),
            ),
            ("FAKE_LLM_API_KEY".into(), FAKE_LLM_KEY.into()),
            // Files in the files bucket (issue 30; the config's `fileStrategy: s3`, added by
            // peers::librechat_yaml): as the backend module sets it, and path-style for moto.
            ("AWS_BUCKET_NAME".into(), names.files_bucket.clone()),
            ("AWS_FORCE_PATH_STYLE".into(), "true".into()),
            // LibreChat boots in 3-6 s, up to a minute on a loaded machine: 180 s of readiness.
            ("SHIM_READY_ATTEMPTS".into(), "720".into()),
            // tools/librechat-local/librechat.yaml has titles off (`titleConvo: false`): no title
            // to wait for after a web chat (shim/README.md, "LibreChat's work after the response").
            ("SHIM_TITLE_WAIT_MS".into(), "0".into()),
        ]);
        // The image starts LibreChat with `librechat-start` (Node 22 and its compile cache,
        // issue 26): here the checkout's script, on the `node` on PATH, without a cache.
        for (k, v) in all.iter_mut() {
            if k == "SHIM_CHILD_CMD" {
                *v = opsconsole_testsupport::librechat::local_child_cmd(s.root, v);
            }
        }
        env = all;
    } else if s.fault == Some(Fault::LibrechatDown) {
        env.push(("STANDIN_HEALTH_STATUS".into(), "503".into()));
        env.push(("SHIM_READY_ATTEMPTS".into(), "6".into()));
        env.push(("SHIM_INIT_WAIT_MS".into(), "2000".into()));
    } else {
        env.push(("SHIM_READY_ATTEMPTS".into(), "80".into()));
    }
    for (k, v) in &s.settings.extra_env {
        env.retain(|(e, _)| e != k);
        env.push((k.clone(), v.clone()));
    }
    Ok(env)
}

/// Starts the local Lambda for the function (no environment runs until the first request).
pub(crate) async fn start(s: Spec<'_>) -> anyhow::Result<LocalLambda> {
    let env = environment(&s)?;
    let mut cfg = FunctionConfig::new(&s.names.function, s.bootstrap, s.dir.join("lambda"));
    cfg.env = env;
    cfg.cwd = s.root.to_path_buf();
    cfg.memory_mb = seed::MEMORY_MB;
    // As the backend module sets it (the streaming integration waits up to 900 s).
    cfg.timeout = Duration::from_secs(900);
    cfg.max_concurrency = s.settings.envs;
    cfg.limits = s.settings.limits;
    cfg.idle_timeout = Some(Duration::from_secs(600));
    // Each environment's LibreChat (or stand-in) on a port of its own.
    cfg.env_port_vars = vec!["SHIM_UPSTREAM_PORT".into(), "PORT".into()];
    let tx = s.log_tx.clone();
    cfg.log_sink = Some(std::sync::Arc::new(move |r| {
        let _ = tx.send(logs::LogMsg::Line {
            stream: r.log_stream,
            ts_ms: r.ts_ms,
            line: r.line,
        });
    }));
    LocalLambda::start(cfg)
        .await
        .context("starting the local Lambda")
}
