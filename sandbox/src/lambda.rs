//! Starting the deployment on the local Lambda: moto seeded as Terraform leaves it, Redis, the
//! function's environments running the shim, the CloudFront/API Gateway stand-in, and the
//! waits until it answers through the whole path.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context as _, bail};
use opsconsole_proc::child::Proc;
use opsconsole_testsupport::moto::MotoServer;

use crate::peers::{seed_librechat_config, start_librechat_peers};
use crate::tools::{ensure_tools, free_port, random_token, wait_for_port};
use crate::{
    ENV, Fault, LibreChatInfo, REGION, Sandbox, SandboxInfo, distribution, frontend, function,
    gateway, last_lines, librechat, logs, outputs, reaper, seed,
};

/// How the local Lambda runs the function (`--lambda-envs`, `--lambda-limits`).
#[derive(Debug, Clone)]
pub struct LambdaSettings {
    /// Concurrent environments at most (the function's reserved concurrency).
    pub envs: usize,
    /// CPU share and memory limit from the function's memory, where cgroups allow.
    pub limits: bool,
    /// Extra function environment, set last (wins), for tests: e.g. `SHIM_PENDING_WAIT_MS=0`
    /// to bring back the stall of a web chat on a frozen environment.
    pub extra_env: Vec<(String, String)>,
    /// With the real LibreChat: conversation titles on for the fake endpoint (`titleConvo: true`
    /// in the uploaded librechat.yaml), as a person using the web client expects.
    pub titles: bool,
}

impl Default for LambdaSettings {
    fn default() -> Self {
        LambdaSettings {
            envs: 4,
            limits: false,
            extra_env: vec![],
            titles: false,
        }
    }
}

/// [`start_with`] with the local Lambda's settings.
pub async fn start_lambda(
    root: &Path,
    fault: Option<Fault>,
    librechat: Option<&librechat::LibreChatSpec>,
    lambda_settings: LambdaSettings,
) -> anyhow::Result<Sandbox> {
    let root = root.to_path_buf();
    let tools = ensure_tools(&root)?;
    static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = STARTED.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "opsconsole-sandbox-{}{}",
        std::process::id(),
        if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        }
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let keep_dir = std::env::var_os("OPSCONSOLE_SANDBOX_KEEP").is_some();
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let names = seed::Names::new(ENV, REGION);
    let token = random_token();
    let mut peers: Vec<reaper::Watched> = Vec::new();
    let lc_peers = match librechat {
        Some(spec) => {
            Some(start_librechat_peers(&root, &dir, &logs, spec, &tools.node, &mut peers).await?)
        }
        None => None,
    };

    eprintln!("opsconsole-sandbox: starting moto");
    let moto = tokio::task::block_in_place(MotoServer::start)?;
    set_cloudfront_transition(&moto, fault)?;

    // Redis (or, for `redis-down`, a port where nothing listens).
    let redis_port = free_port()?;
    let redis = if fault == Some(Fault::RedisDown) {
        None
    } else {
        let mut cmd = Command::new(&tools.redis_server);
        cmd.args([
            "--bind",
            "127.0.0.1",
            "--port",
            &redis_port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(&dir);
        let mut p = Proc::spawn("redis-server", cmd, &logs.join("redis.log"))?;
        wait_for_port(&mut p, redis_port, Duration::from_secs(20)).await?;
        Some(p)
    };
    let redis_uri = format!("redis://127.0.0.1:{redis_port}");

    // The function's log lines (its output and the platform's START/END/REPORT), to the log
    // group in moto.
    let (log_tx, log_rx) = tokio::sync::mpsc::unbounded_channel();
    // The gateway's port first: the function's environment names the site's URL.
    let gw_port = free_port()?;
    let site_url = format!("http://127.0.0.1:{gw_port}");

    eprintln!("opsconsole-sandbox: seeding moto");
    let (sdk, seeded) = seed_moto(&moto, &names, fault, &token).await?;
    let lc_plain_env = match &lc_peers {
        Some(p) => Some(
            seed_librechat_config(&sdk, &names, &root, &p.mongo_uri, lambda_settings.titles)
                .await?,
        ),
        None => None,
    };
    let log_forwarder = tokio::spawn(logs::forward(
        aws_sdk_cloudwatchlogs::Client::new(&sdk),
        names.log_group.clone(),
        log_rx,
    ));

    // The function on the local Lambda (crates/locallambda): environments started on demand,
    // frozen while idle, as Lambda runs them.
    eprintln!("opsconsole-sandbox: starting the local Lambda (the shim in each environment)");
    let lambda = function::start(function::Spec {
        root: &root,
        dir: &dir,
        names: &names,
        site_url: &site_url,
        moto_url: moto.endpoint_url(),
        redis_uri: &redis_uri,
        fault,
        node: &tools.node,
        bootstrap: &tools.bootstrap,
        librechat: match (librechat, &lc_peers, lc_plain_env) {
            (Some(spec), Some(p), Some(plain)) => Some(function::LibreChatRun {
                spec,
                llm_port: p.llm_port,
                plain,
            }),
            _ => None,
        },
        settings: lambda_settings,
        log_tx,
    })
    .await?;
    eprintln!("opsconsole-sandbox: {}", lambda.describe());
    let invoke_url = lambda.invoke_url();

    // The frontend as the Terraform deploys it: the distribution's behaviours from the frontend
    // module, and with `--librechat` and an installed web client, the module's upload.sh into
    // the frontend bucket (otherwise the bucket keeps the seeded placeholder index.html).
    let behaviours = distribution::Behaviours::from_checkout(&root)
        .context("the CloudFront stand-in reads the distribution's behaviours")?;
    let web_client = librechat.and_then(|s| frontend::client_dist(&s.dir));
    if let Some(dist) = &web_client {
        eprintln!(
            "opsconsole-sandbox: uploading the web client {} to s3://{} (upload.sh)",
            dist.display(),
            names.frontend_bucket
        );
        frontend::upload(
            &root,
            dist,
            &names.frontend_bucket,
            moto.endpoint_url(),
            REGION,
            &logs.join("frontend-upload.log"),
        )
        .await?;
    }
    let frontend_origin = gateway::FrontendOrigin::new(
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        ),
        names.frontend_bucket.clone(),
        behaviours,
    );

    // The CloudFront/API Gateway stand-in, with the API's binary media types as the
    // api-gateway module sets them (every body base64-encoded with `*/*`).
    let api_tf = gateway::api_main_tf(&root);
    let binary_media_types = std::fs::read_to_string(&api_tf)
        .ok()
        .and_then(|t| gateway::binary_media_types(&t))
        .with_context(|| {
            format!(
                "reading x-amazon-apigateway-binary-media-types from {}",
                api_tf.display()
            )
        })?;
    let gw = gateway::start(
        gateway::GatewayConfig {
            invoke_url: invoke_url.clone(),
            api: gateway::ApiInfo {
                api_id: names.api_id.clone(),
                stage: names.stage.clone(),
                account_id: names.account.clone(),
                domain_name: "127.0.0.1".into(),
                binary_media_types,
            },
            buffering: fault == Some(Fault::Buffering),
            frontend: Some(std::sync::Arc::new(frontend_origin)),
        },
        gw_port,
    )
    .await?;

    let outputs_path = dir.join("outputs.json");
    let doc = outputs::outputs_json(
        &names,
        &outputs::Endpoints {
            site_url: site_url.clone(),
            distribution_id: seeded.distribution_id.clone(),
            distribution_domain: seeded.distribution_domain.clone(),
            redis_host: "127.0.0.1".into(),
            redis_port,
        },
    );
    std::fs::write(&outputs_path, serde_json::to_vec_pretty(&doc)?)
        .with_context(|| format!("writing {}", outputs_path.display()))?;

    let info = SandboxInfo {
        dir: dir.clone(),
        outputs: outputs_path,
        site_url: site_url.clone(),
        moto_url: moto.endpoint_url().to_string(),
        invoke_url,
        redis_uri,
        diagnostics_token: token,
        fault,
        librechat: None,
        web_client,
        frontend_bucket: names.frontend_bucket.clone(),
    };
    // Redis last: stopped after the shim, LibreChat and the other peers.
    peers.extend(redis.map(|proc| reaper::Watched {
        proc,
        log: logs.join("redis.log"),
        reported: false,
    }));
    let children: reaper::Children = std::sync::Arc::new(std::sync::Mutex::new(peers));
    let (death_tx, deaths) = tokio::sync::mpsc::unbounded_channel();
    let reaper = reaper::watch(std::sync::Arc::downgrade(&children), death_tx);
    let mut sandbox = Sandbox {
        info,
        lambda: Some(lambda),
        children,
        _gateway: gw,
        _moto: moto,
        log_forwarder,
        reaper,
        deaths: Some(deaths),
        keep_dir,
    };
    if let (Some(spec), Some(p)) = (librechat, lc_peers) {
        eprintln!(
            "opsconsole-sandbox: waiting for LibreChat ({}) to get ready behind the shim",
            spec.dir.display()
        );
        wait_librechat(&site_url, &dir.join("lambda"), &p.mongo_uri).await?;
        eprintln!(
            "opsconsole-sandbox: seeding a user, an agent and an API key through LibreChat's API"
        );
        let seeded = librechat::seed_user(&site_url).await?;
        let key_parameter = format!("{}/probe-chat-api-key", names.ssm_prefix);
        aws_sdk_ssm::Client::new(&sdk)
            .put_parameter()
            .name(&key_parameter)
            .value(&seeded.api_key)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .with_context(|| format!("SSM PutParameter {key_parameter}"))?;
        // The web mode's probe user: the seeded user, its password from SSM as on AWS.
        let password_parameter = format!("{}/probe-web-password", names.ssm_prefix);
        aws_sdk_ssm::Client::new(&sdk)
            .put_parameter()
            .name(&password_parameter)
            .value(librechat::USER_PASSWORD)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .with_context(|| format!("SSM PutParameter {password_parameter}"))?;
        let console_config = dir.join("console.toml");
        std::fs::write(
            &console_config,
            librechat::console_config(ENV, &seeded.agent_id, &key_parameter, &password_parameter),
        )
        .with_context(|| format!("writing {}", console_config.display()))?;
        sandbox.info.librechat = Some(LibreChatInfo {
            dir: spec.dir.clone(),
            mongo: p.mongo,
            mongo_uri: p.mongo_uri,
            fake_model: p.fake_model,
            agent_id: seeded.agent_id,
            key_parameter,
            password_parameter,
            console_config,
        });
    } else if fault != Some(Fault::LibrechatDown) {
        wait_healthy(&site_url, &logs).await?;
    }
    Ok(sandbox)
}

/// moto's state manager for CloudFront distributions: `Deployed` at once, or held `InProgress`
/// for the `deploy-in-progress` fault.
pub(crate) fn set_cloudfront_transition(
    moto: &MotoServer,
    fault: Option<Fault>,
) -> anyhow::Result<()> {
    let transition = if fault == Some(Fault::DeployInProgress) {
        r#"{"model_name":"cloudfront::distribution","transition":{"progression":"manual","times":1000000}}"#
    } else {
        r#"{"model_name":"cloudfront::distribution","transition":{"progression":"immediate"}}"#
    };
    tokio::task::block_in_place(|| {
        moto.control("/moto-api/state-manager/set-transition", transition)
    })
    .context("moto state manager: set-transition for cloudfront::distribution")?;
    Ok(())
}

/// Seeds `moto` (SDK configuration for the home region, and us-east-1 for CloudFront's alarm).
pub(crate) async fn seed_moto(
    moto: &MotoServer,
    names: &seed::Names,
    fault: Option<Fault>,
    token: &str,
) -> anyhow::Result<(aws_config::SdkConfig, seed::Seeded)> {
    let opts = moto.aws_options(REGION);
    let sdk = opsconsole::aws::load_sdk_config(&opsconsole::aws::AwsOptions {
        max_attempts: Some(2),
        ..opts.clone()
    })
    .await;
    let east = opsconsole::aws::load_sdk_config(&opsconsole::aws::AwsOptions {
        region: Some("us-east-1".into()),
        max_attempts: Some(2),
        ..opts
    })
    .await;
    let seeded = seed::seed(&sdk, &east, names, fault, "127.0.0.1", token).await?;
    Ok((sdk, seeded))
}

/// Seeds `moto` exactly as [`start`] does (no fault), without starting anything else, and
/// returns the outputs document the sandbox would write (its stand-ins' endpoints replaced by
/// unused local ones). For `sandbox/tests/it/deployment_shape.rs`, which compares both with
/// `infrastructure/deployment-shape.json` (what `terraform apply` of environments/dev creates).
/// Needs a multi-threaded tokio runtime.
pub async fn seed_only(moto: &MotoServer) -> anyhow::Result<serde_json::Value> {
    let names = seed::Names::new(ENV, REGION);
    set_cloudfront_transition(moto, None)?;
    let (_, seeded) = seed_moto(moto, &names, None, &random_token()).await?;
    Ok(outputs::outputs_json(
        &names,
        &outputs::Endpoints {
            site_url: "http://127.0.0.1:9".into(),
            distribution_id: seeded.distribution_id,
            distribution_domain: seeded.distribution_domain,
            redis_host: "127.0.0.1".into(),
            redis_port: 9,
        },
    ))
}

/// `--librechat`: waits (bounded, 240 s) until `/api/health` answers 200 through the whole
/// path. When the first execution environment exits (LibreChat exited at boot, or never got
/// ready), says why from the last lines of its log.
pub(crate) async fn wait_librechat(
    site_url: &str,
    logs: &Path,
    mongo_uri: &str,
) -> anyhow::Result<()> {
    // One request waits for the whole boot (the shim holds the first invocation until LibreChat
    // is ready, up to its 180 s budget here). A shorter client timeout gave up on a booting
    // environment, still busy with that invocation, so the next request started a second one,
    // read below as "the first one exited" (seen in CI when a loaded machine made the boot
    // last over 18 s: 8 s of init wait, then the 10 s timeout this had).
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(240))
        .no_proxy()
        .build()
        .context("HTTP client")?;
    let url = format!("{site_url}/api/health");
    let until = std::time::Instant::now() + Duration::from_secs(240);
    // Only health requests, one at a time, run meanwhile, each until it is answered: a second
    // execution environment means that the first one exited.
    let first_log = logs.join("env-1/output.log");
    loop {
        if logs.join("env-2").exists() {
            let lines = last_lines(&first_log, 40);
            let (cause, fix) = librechat::diagnose(&lines, mongo_uri);
            let tail: Vec<&String> = lines.iter().rev().take(8).rev().collect();
            bail!(
                "{cause}\n  fix: {fix}\n  the last lines of {}:\n    {}",
                first_log.display(),
                tail.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n    ")
            );
        }
        let last = match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => e.to_string(),
        };
        if std::time::Instant::now() >= until {
            bail!(
                "{url} did not answer 200 within 240 s (last: {last}); see the logs in {}",
                logs.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits (bounded) until `/api/health` answers 200 through the gateway, the local Lambda and the shim.
pub(crate) async fn wait_healthy(site_url: &str, logs: &Path) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .context("HTTP client")?;
    let url = format!("{site_url}/api/health");
    let mut last = String::new();
    for _ in 0..60 {
        match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!(
        "{url} did not answer 200 (last: {last}); see the logs in {}",
        logs.display()
    )
}
