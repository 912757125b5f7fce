//! The actions against real peers: CloudFront invalidations and Lambda image updates against
//! moto (seeded through the SDK), terraform plan/apply/cancel with the real terraform binary on
//! a local-only configuration, and the audit log file.

use std::sync::Arc;
use std::time::Duration;

use opsconsole::actions::audit::{self, AuditRecord};
use opsconsole::actions::{self, ActionEnv, ActionEvent, ActionRequest, ActionResult};
use opsconsole_testsupport::moto::MotoServer;
use opsconsole_testsupport::seed::{create_example_distribution, create_image_function};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000_000
    )
}

/// Runs `req` to its end (bounded), returning every event.
async fn run_to_end(
    env: ActionEnv,
    req: ActionRequest,
    cancel: CancellationToken,
    cancel_on_line: Option<&'static str>,
) -> (Vec<ActionEvent>, ActionResult) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = actions::spawn(Arc::new(env), req, tx, cancel.clone());
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the action finished within 120 s")
            .expect("the action reports Finished before closing");
        if let (Some(needle), ActionEvent::Line(l)) = (cancel_on_line, &ev)
            && l.contains(needle)
        {
            cancel.cancel();
        }
        if let ActionEvent::Finished(r) = &ev {
            let r = r.clone();
            events.push(ev);
            handle.await.expect("action task");
            return (events, r);
        }
        events.push(ev);
    }
}

/// Runs `req` to its end without cancelling it.
async fn run(env: ActionEnv, req: ActionRequest) -> (Vec<ActionEvent>, ActionResult) {
    run_to_end(env, req, CancellationToken::new(), None).await
}

/// Whether some output line of the action contains `needle`.
fn has_line(events: &[ActionEvent], needle: &str) -> bool {
    events
        .iter()
        .any(|e| matches!(e, ActionEvent::Line(l) if l.contains(needle)))
}

#[track_caller]
fn assert_ok(result: &ActionResult, events: &[ActionEvent]) {
    assert!(
        matches!(result, ActionResult::Ok(_)),
        "{result:?}\n{events:?}"
    );
}

/// The (summary, plan file, changes) of the plan's `PlanReady` event.
fn plan_ready(events: &[ActionEvent]) -> (String, std::path::PathBuf, bool) {
    events
        .iter()
        .find_map(|e| match e {
            ActionEvent::PlanReady {
                summary,
                plan_file,
                changes,
            } => Some((summary.clone(), plan_file.clone(), *changes)),
            _ => None,
        })
        .expect("PlanReady")
}

/// The invalidations of distribution `dist` in moto.
async fn invalidations(
    cf: &aws_sdk_cloudfront::Client,
    dist: &str,
) -> Vec<aws_sdk_cloudfront::types::InvalidationSummary> {
    cf.list_invalidations()
        .distribution_id(dist)
        .send()
        .await
        .expect("ListInvalidations")
        .invalidation_list()
        .map(|l| l.items().to_vec())
        .unwrap_or_default()
}

const REPO: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/librechat";

/// Creates a uniquely named image function on `REPO:v1` (and its role) and names it in `env`.
async fn seed_image_function(
    env: &mut ActionEnv,
    sdk: &aws_config::SdkConfig,
    tag: &str,
) -> String {
    let function = unique(&format!("tui-fn{tag}"));
    create_image_function(
        sdk,
        &unique(&format!("tui-role{tag}")),
        &function,
        &format!("{REPO}:v1"),
    )
    .await
    .expect("role and function on moto");
    env.function_name = Some(function.clone());
    function
}

/// The image the function runs now.
async fn image_uri(sdk: &aws_config::SdkConfig, function: &str) -> Option<String> {
    aws_sdk_lambda::Client::new(sdk)
        .get_function()
        .function_name(function)
        .send()
        .await
        .expect("GetFunction")
        .code()
        .and_then(|c| c.image_uri())
        .map(str::to_string)
}

async fn seed_distribution(sdk: &aws_config::SdkConfig) -> String {
    let cf = aws_sdk_cloudfront::Client::new(sdk);
    create_example_distribution(&cf, &unique("tui-test"), "tui actions test")
        .await
        .expect("CreateDistribution on moto")
}

async fn moto_env(name: &str) -> (ActionEnv, aws_config::SdkConfig) {
    let moto = MotoServer::shared().expect("moto server");
    let clients = moto.clients("us-east-1").await;
    let mut env = ActionEnv::new(name, std::path::Path::new("."));
    env.cloudfront = Some(clients.cloudfront.clone());
    env.lambda = Some(clients.lambda.clone());
    env.poll_interval = Duration::from_millis(50);
    env.max_polls = 100;
    (env, clients.sdk.clone())
}

#[tokio::test]
async fn invalidation_is_created_and_followed_to_completion_on_moto() {
    let (mut env, sdk) = moto_env("dev").await;
    let dist = seed_distribution(&sdk).await;
    env.distribution_id = Some(dist.clone());
    let paths = vec!["/*".to_string(), "/index.html".to_string()];
    let (events, result) = run(
        env,
        ActionRequest::Invalidate {
            paths: paths.clone(),
        },
    )
    .await;
    let ActionResult::Ok(msg) = &result else {
        panic!("invalidation failed: {result:?}\n{events:?}");
    };
    assert!(msg.contains("completed"), "{msg}");
    assert!(has_line(&events, "created"), "{events:?}");
    // The invalidation exists in CloudFront with our paths.
    let cf = aws_sdk_cloudfront::Client::new(&sdk);
    let items = invalidations(&cf, &dist).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let got = cf
        .get_invalidation()
        .distribution_id(&dist)
        .id(items[0].id())
        .send()
        .await
        .expect("GetInvalidation");
    let inv = got.invalidation().expect("invalidation");
    assert!(actions::invalidate::is_completed(inv.status()));
    let mut got_paths = inv
        .invalidation_batch()
        .and_then(|b| b.paths())
        .map(|p| p.items().to_vec())
        .unwrap_or_default();
    got_paths.sort();
    assert_eq!(got_paths, vec!["/*".to_string(), "/index.html".to_string()]);
}

#[tokio::test]
async fn invalidation_of_an_unknown_distribution_fails_with_the_reason() {
    let (mut env, _) = moto_env("dev").await;
    env.distribution_id = Some("EDOESNOTEXIST".into());
    let (_, result) = run(
        env,
        ActionRequest::Invalidate {
            paths: vec!["/*".into()],
        },
    )
    .await;
    match result {
        ActionResult::Failed(m) => assert!(m.contains("CreateInvalidation"), "{m}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn cancelled_before_creation_creates_nothing() {
    let (mut env, sdk) = moto_env("dev").await;
    let dist = seed_distribution(&sdk).await;
    env.distribution_id = Some(dist.clone());
    let cancel = CancellationToken::new();
    cancel.cancel();
    let (_, result) = run_to_end(
        env,
        ActionRequest::Invalidate {
            paths: vec!["/*".into()],
        },
        cancel,
        None,
    )
    .await;
    assert!(matches!(result, ActionResult::Cancelled(_)), "{result:?}");
    let cf = aws_sdk_cloudfront::Client::new(&sdk);
    assert_eq!(invalidations(&cf, &dist).await.len(), 0);
}

#[tokio::test]
async fn deploy_image_updates_the_function_and_waits_for_successful() {
    let (mut env, sdk) = moto_env("dev").await;
    let function = seed_image_function(&mut env, &sdk, "").await;
    let new_image = format!("{REPO}:v2");
    let (events, result) = run(
        env,
        ActionRequest::DeployImage {
            image: Some(new_image.clone()),
        },
    )
    .await;
    assert_ok(&result, &events);
    assert!(
        has_line(&events, "LastUpdateStatus Successful"),
        "{events:?}"
    );
    assert_eq!(image_uri(&sdk, &function).await, Some(new_image));
}

#[tokio::test]
async fn deploy_image_without_a_function_in_the_outputs_fails_clearly() {
    let (env, _) = moto_env("dev").await;
    let (_, result) = run(
        env,
        ActionRequest::DeployImage {
            image: Some("x:1".into()),
        },
    )
    .await;
    match result {
        ActionResult::Failed(m) => assert!(m.contains("lambda_function_name"), "{m}"),
        other => panic!("{other:?}"),
    }
}

fn terraform_bin() -> Option<std::path::PathBuf> {
    ["/usr/local/bin/terraform", "/usr/bin/terraform"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file())
}

fn tf_env(main_tf: &str) -> Option<(ActionEnv, tempfile::TempDir)> {
    let Some(bin) = terraform_bin() else {
        eprintln!("SKIP: terraform is not installed (see DEVELOPERS.md)");
        return None;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), main_tf).expect("write main.tf");
    let mut env = ActionEnv::new("test", dir.path());
    env.tf_dir = dir.path().to_path_buf();
    env.terraform_bin = bin;
    Some((env, dir))
}

#[tokio::test]
async fn terraform_plan_then_apply_streams_and_summarises() {
    let Some((env, dir)) = tf_env("resource \"terraform_data\" \"x\" {\n  input = \"a\"\n}\n")
    else {
        return;
    };
    let (events, result) = run(env.clone(), ActionRequest::Plan).await;
    assert_ok(&result, &events);
    let (summary, plan_file, changes) = plan_ready(&events);
    assert!(changes);
    assert_eq!(summary, "Plan: 1 to add, 0 to change, 0 to destroy.");
    assert!(
        has_line(&events, "terraform_data.x will be created"),
        "plan output is streamed line by line"
    );
    let (events, result) = run(
        env,
        ActionRequest::Apply {
            plan_file: plan_file.clone(),
        },
    )
    .await;
    match &result {
        ActionResult::Ok(m) => assert!(m.starts_with("Apply complete!"), "{m}"),
        other => panic!("{other:?}\n{events:?}"),
    }
    let state = std::fs::read_to_string(dir.path().join("terraform.tfstate")).expect("state");
    assert!(state.contains("terraform_data"));
    assert!(!plan_file.exists(), "the plan file is removed after apply");
}

#[tokio::test]
async fn terraform_apply_can_be_cancelled() {
    let Some((env, _dir)) = tf_env(
        "resource \"terraform_data\" \"slow\" {\n  provisioner \"local-exec\" {\n    command = \"sleep 60\"\n  }\n}\n",
    ) else {
        return;
    };
    let (events, _) = run(env.clone(), ActionRequest::Plan).await;
    let (_, plan_file, _) = plan_ready(&events);
    let (events, result) = run_to_end(
        env,
        ActionRequest::Apply { plan_file },
        CancellationToken::new(),
        Some("Creating..."),
    )
    .await;
    assert!(
        matches!(result, ActionResult::Cancelled(_)),
        "{result:?}\n{events:?}"
    );
    assert!(has_line(&events, "SIGINT"), "{events:?}");
}

#[test]
fn audit_records_are_json_lines_appended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/audit.jsonl");
    let rec = |result: &str| AuditRecord {
        time: time::macros::datetime!(2026-11-21 03:00:00 UTC),
        identity: "arn:aws:sts::123456789012:assumed-role/oncall/alice".into(),
        account: Some("123456789012".into()),
        environment: "dev".into(),
        action: "invalidate".into(),
        arguments: serde_json::json!({"paths": ["/*"]}),
        result: result.into(),
    };
    audit::append_to(&path, &rec("started")).expect("append");
    audit::append_to(&path, &rec("ok: done")).expect("append");
    let text = std::fs::read_to_string(&path).expect("read");
    assert_eq!(text.lines().count(), 2);
    let first: serde_json::Value =
        serde_json::from_str(text.lines().next().unwrap_or("")).expect("json");
    for field in [
        "time",
        "identity",
        "environment",
        "action",
        "arguments",
        "result",
    ] {
        assert!(first.get(field).is_some(), "missing {field}: {first}");
    }
    assert_eq!(first["time"], "2026-11-21T03:00:00Z");
    let all = audit::read_all(&path).expect("read_all");
    assert_eq!(all, vec![rec("started"), rec("ok: done")]);
}

/// No Docker engine here: a stand-in `docker` script records its command lines, so the build
/// and push steps are checked as commands; the update and the wait run against moto.
#[tokio::test]
async fn deploy_image_builds_pushes_then_updates_with_the_new_tag() {
    let (mut env, sdk) = moto_env("dev").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("docker.log");
    let docker = dir.path().join("docker");
    std::fs::write(
        &docker,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\necho step $1 done\n",
            log.display()
        ),
    )
    .expect("write docker stand-in");
    std::fs::set_permissions(&docker, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let function = seed_image_function(&mut env, &sdk, "-build").await;
    env.ecr_repository_url = Some(REPO.to_string());
    env.docker_bin = docker;
    env.dockerfile = Some("infra/Dockerfile".into());
    env.image_context = dir.path().to_path_buf();
    let (events, result) = run(env, ActionRequest::DeployImage { image: None }).await;
    assert_ok(&result, &events);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ActionEvent::Line(l) if l == "step build done")),
        "docker output is streamed: {events:?}"
    );
    let calls = std::fs::read_to_string(&log).expect("docker was called");
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0].starts_with("build --platform linux/amd64 --provenance=false -t "));
    assert!(calls[0].contains(" -f infra/Dockerfile "), "{}", calls[0]);
    let tag = calls[0].split_whitespace().nth(5).expect("tag").to_string();
    assert!(tag.starts_with(&format!("{REPO}:opsconsole-")), "{tag}");
    assert_eq!(calls[1], format!("push {tag}"));
    assert_eq!(image_uri(&sdk, &function).await, Some(tag));
}

#[tokio::test]
async fn deploy_image_stops_when_the_build_fails() {
    let (mut env, _) = moto_env("dev").await;
    env.function_name = Some("unused".into());
    env.ecr_repository_url = Some("1.dkr.ecr.us-east-1.amazonaws.com/x".into());
    env.docker_bin = "/bin/false".into();
    let (_, result) = run(env, ActionRequest::DeployImage { image: None }).await;
    match result {
        ActionResult::Failed(m) => assert!(m.contains("docker build exited"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn without_a_checkout_the_actions_that_need_it_fail_naming_the_fix() {
    let why = "cannot find the opsconsole checkout (...); pass --repo DIR or set OPSCONSOLE_REPO";
    for req in [
        ActionRequest::Plan,
        ActionRequest::DeployImage { image: None },
    ] {
        let mut env = ActionEnv::new("dev", std::path::Path::new("."));
        env.repo_error = Some(why.into());
        // Would run otherwise: a docker that "succeeds", terraform that does.
        env.docker_bin = "/bin/true".into();
        env.terraform_bin = "/bin/true".into();
        let (events, result) = run(env, req.clone()).await;
        match result {
            ActionResult::Failed(m) => {
                assert!(m.contains("needs the opsconsole checkout"), "{m}");
                assert!(m.contains("--repo DIR"), "{m}");
            }
            other => panic!("{req:?}: {other:?}"),
        }
        assert_eq!(
            events.len(),
            1,
            "nothing ran before the failure: {events:?}"
        );
    }
    // An invalidation and a deploy of a given image need no checkout: they get past that check
    // (and fail later, here for want of a distribution and a function).
    let (mut env, _) = moto_env("dev").await;
    env.repo_error = Some(why.into());
    let (_, result) = run(
        env,
        ActionRequest::DeployImage {
            image: Some("x:1".into()),
        },
    )
    .await;
    match result {
        ActionResult::Failed(m) => assert!(m.contains("lambda_function_name"), "{m}"),
        other => panic!("{other:?}"),
    }
}
