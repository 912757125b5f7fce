//! Where the outputs come from (the S3 backend's state object, `terraform output -json`), the
//! overall time budget, deployments in progress, and missing credentials: the built binary or
//! the collectors against real moto servers.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TOKEN, moto, seed_outputs};
use opsconsole_testsupport::moto::MotoServer;
use opsconsole_testsupport::seed::{SeedSpec, seed};
use opsconsole_testsupport::sse::{ShimStandIn, SseMode};
use serde_json::{Value, json};

const REGION: &str = "eu-west-1";

/// A directory that looks like the repository to the binary (`OPSCONSOLE_REPO`).
fn fake_repo(env: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let scripts = dir.path().join("scripts");
    let envdir = dir
        .path()
        .join("infrastructure/terraform/environments")
        .join(env);
    std::fs::create_dir_all(&scripts).expect("mkdir");
    std::fs::create_dir_all(&envdir).expect("mkdir");
    std::fs::write(scripts.join("bootstrap.sh"), "#!/bin/sh\n").expect("write");
    (dir, envdir)
}

fn run(repo: &Path, endpoint: &str, args: &[&str], cfg: Option<&Path>) -> (i32, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsconsole"));
    cmd.args(args).args(["--json", "--endpoint-url", endpoint]);
    if let Some(c) = cfg {
        cmd.arg("--config").arg(c);
    }
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k == "OPSCONSOLE_DIAGNOSTICS_TOKEN" {
            cmd.env_remove(k);
        }
    }
    cmd.env("OPSCONSOLE_REPO", repo)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", repo.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", repo.join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", repo)
        .env("XDG_CONFIG_HOME", repo);
    let out = cmd.output().expect("run opsconsole");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    (out.status.code().unwrap_or(-1), doc, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_from_the_s3_backend_state() {
    let outputs = seed_outputs(&SeedSpec::healthy("ss3", REGION, "http://127.0.0.1:9")).await;
    let state = json!({"version": 4, "terraform_version": "1.11.0", "serial": 3, "lineage": "x",
        "outputs": outputs, "resources": []});
    let c = moto().clients(REGION).await;
    c.s3.create_bucket()
        .bucket("ss3-tfstate")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("bucket");
    c.s3.put_object()
        .bucket("ss3-tfstate")
        .key("librechat/ss3/terraform.tfstate")
        .body(state.to_string().into_bytes().into())
        .send()
        .await
        .expect("state object");
    let (repo, envdir) = fake_repo("ss3");
    std::fs::write(
        envdir.join("versions.tf"),
        "terraform {\n  backend \"s3\" {\n    bucket = \"ss3-tfstate\"\n    key    = \"librechat/ss3/terraform.tfstate\"\n    region = \"eu-west-1\"\n  }\n}\n",
    )
    .expect("backend");
    let ep = moto().endpoint_url().to_string();
    let (code, doc, stderr) = tokio::task::spawn_blocking(move || {
        let r = run(
            repo.path(),
            &ep,
            &["probe", "ss3", "--only", "alarms,lambda,cloudfront"],
            None,
        );
        drop(repo);
        r
    })
    .await
    .expect("join");
    assert_eq!(code, 0, "{doc}\n{stderr}");
    assert_eq!(doc["outputs_origin"]["kind"], "s3_state");
    assert_eq!(doc["outputs_origin"]["bucket"], "ss3-tfstate");
    assert_eq!(doc["checks"]["lambda"]["data"]["function_name"], "ss3-api");
    assert_eq!(doc["outputs"]["redis_auth_token"], "(sensitive)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_from_terraform_output_in_an_initialised_dir() {
    let outputs = seed_outputs(&SeedSpec::healthy("stf", REGION, "http://127.0.0.1:9")).await;
    let (repo, envdir) = fake_repo("stf");
    std::fs::create_dir_all(envdir.join(".terraform")).expect(".terraform");
    std::fs::write(envdir.join("main.tf"), "# outputs come from the state\n").expect("main.tf");
    let state = json!({"version": 4, "terraform_version": "1.11.0", "serial": 1, "lineage": "x",
        "outputs": outputs, "resources": [], "check_results": null});
    std::fs::write(envdir.join("terraform.tfstate"), state.to_string()).expect("state");
    let ep = moto().endpoint_url().to_string();
    let (code, doc, stderr) = tokio::task::spawn_blocking(move || {
        let r = run(repo.path(), &ep, &["probe", "stf", "--only", "redis"], None);
        drop(repo);
        r
    })
    .await
    .expect("join");
    assert_eq!(code, 0, "{doc}\n{stderr}");
    assert_eq!(doc["outputs_origin"]["kind"], "terraform");
    assert_eq!(
        doc["checks"]["redis"]["data"]["replication_group_id"],
        "stf-redis"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_environment_is_a_configuration_error() {
    let (repo, _) = fake_repo("known");
    let ep = moto().endpoint_url().to_string();
    let (code, doc, _) = run(repo.path(), &ep, &["probe", "nope"], None);
    assert_eq!(code, 3);
    assert!(
        doc["error"]
            .as_str()
            .unwrap_or("")
            .contains("unknown environment `nope`"),
        "{doc}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_budget_bounds_a_stalled_stream() {
    let shim = ShimStandIn::start(TOKEN, SseMode::Stall).expect("shim");
    let mut spec = SeedSpec::healthy("stime", REGION, &shim.url());
    spec.site_url = shim.url();
    let outputs = seed_outputs(&spec).await;
    let (repo, _) = fake_repo("unused");
    let out_path = repo.path().join("outputs.json");
    std::fs::write(&out_path, outputs.to_string()).expect("outputs");
    let cfg = repo.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!("[env.test.probe]\ntoken = \"{TOKEN}\"\nsse_events = 6\nsse_interval_ms = 2000\n"),
    )
    .expect("cfg");
    let ep = moto().endpoint_url().to_string();
    let (code, doc, stderr) = tokio::task::spawn_blocking(move || {
        let o = out_path.to_string_lossy().to_string();
        let r = run(
            repo.path(),
            &ep,
            &[
                "probe",
                "test",
                "--only",
                "sse,health",
                "--timeout",
                "2",
                "--outputs",
                &o,
            ],
            Some(&cfg),
        );
        drop(repo);
        r
    })
    .await
    .expect("join");
    // The stall detector would wait 10 s (5 x 2000 ms); the stream's own budget (90 % of the
    // 2 s --timeout) ends it first, so the check still has its verdict and its events.
    assert_eq!(code, 2, "{doc}\n{stderr}");
    let sse = &doc["checks"]["sse"];
    assert_eq!(sse["status"], "ok", "{doc}");
    assert_eq!(sse["data"]["verdict"], "FAILED", "{doc}");
    assert!(
        sse["data"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("time budget ran out after")),
        "{doc}"
    );
    assert_eq!(doc["checks"]["health"]["status"], "ok");
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, ["sse_failed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distribution_in_progress_is_a_deploy_in_progress() {
    // Its own moto: the state-manager setting is server-wide.
    let own = MotoServer::start().expect("moto");
    own.control(
        "/moto-api/state-manager/set-transition",
        r#"{"model_name":"cloudfront::distribution","transition":{"progression":"manual","times":1000}}"#,
    )
    .expect("set-transition");
    let clients = own.clients(REGION).await;
    let doc = seed(
        &own,
        &clients,
        &SeedSpec::healthy("sdep", REGION, "http://127.0.0.1:9"),
    )
    .await
    .expect("seed");
    let outputs = opsconsole::outputs::Outputs::from_json(&doc.to_string()).expect("outputs");
    let ctx = opsconsole::context::Context::from_parts(
        "test",
        &Default::default(),
        crate::common::settings(),
        outputs,
        clients,
    )
    .await;
    let cf = opsconsole::collectors::aws::cloudfront(&ctx)
        .await
        .expect("cloudfront");
    assert_eq!(cf.status.as_deref(), Some("InProgress"));
    let f = opsconsole::domain::findings::findings(
        &opsconsole::domain::findings::ProbeResults {
            cloudfront: Some(Ok(cf)),
            ..Default::default()
        },
        &opsconsole::domain::findings::Thresholds {
            cold_start_p95_ms: 5000.0,
        },
    );
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].check.as_str(), f[0].code.as_str()),
        ("cloudfront", "deploy_in_progress")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_is_classified_with_the_login_fix() {
    let outputs = seed_outputs(&SeedSpec::healthy("scred", REGION, "http://127.0.0.1:9")).await;
    let outputs = opsconsole::outputs::Outputs::from_json(&outputs.to_string()).expect("outputs");
    // An SDK config with a region and an endpoint but no credentials provider at all.
    let sdk = aws_config::SdkConfig::builder()
        .region(aws_config::Region::new(REGION))
        .endpoint_url(moto().endpoint_url())
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let clients = opsconsole::aws::AwsClients::from_sdk(sdk, Some("librechat-dev".into()));
    let ctx = opsconsole::context::Context::from_parts(
        "dev",
        &Default::default(),
        crate::common::settings(),
        outputs,
        clients,
    )
    .await;
    let e = opsconsole::collectors::aws::identity(&ctx)
        .await
        .expect_err("no credentials");
    assert_eq!(e.kind, opsconsole::model::ErrorKind::NoCredentials, "{e}");
    assert!(
        e.fix.unwrap_or_default().contains("task login"),
        "fix names the login task"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_and_unknown_keys_are_classified() {
    // moto enforcing IAM after two unauthenticated actions: a user without policies, its keys.
    let (own, ctx) = crate::common::denied_context("dev", "readonly", REGION).await;
    let outputs = ctx.outputs.clone();
    // (ElastiCache: with IAM enforced, moto's signature check rejects every signed Lambda
    // request, boto3's too, with SignatureDoesNotMatch.)
    let e = opsconsole::collectors::aws::redis(&ctx, opsconsole::domain::window::Window::H1)
        .await
        .expect_err("denied");
    assert_eq!(e.kind, opsconsole::model::ErrorKind::AccessDenied, "{e}");
    // Keys moto has never issued.
    let mut opts = own.aws_options(REGION);
    opts.static_credentials = Some(("AKIAUNKNOWN000000000".into(), "nope".into()));
    let ctx = opsconsole::context::Context::from_parts(
        "dev",
        &Default::default(),
        crate::common::settings(),
        outputs,
        opsconsole::aws::AwsClients::load(&opts).await,
    )
    .await;
    let e = opsconsole::collectors::aws::redis(&ctx, opsconsole::domain::window::Window::H1)
        .await
        .expect_err("unknown keys");
    assert_eq!(e.kind, opsconsole::model::ErrorKind::NoCredentials, "{e}");
    assert!(e.fix.unwrap_or_default().contains("task login"));
}
