//! `opsconsole leftovers` end to end: the built binary against moto, with resources a destroy
//! commonly leaves behind created through the SDK (by-name checks) and a tagged one (tagging
//! API), and the outputs a deployment saved before its destroy.

use std::path::Path;
use std::process::Command;

use crate::common::moto;
use serde_json::{Value, json};

const REGION: &str = "eu-west-1";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn doc(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// The outputs a deployment named `p` saved before its destroy.
fn outputs(p: &str) -> Value {
    let s = |v: &str| json!({ "value": v, "type": "string", "sensitive": false });
    json!({
        "site_url": s(&format!("https://{p}.example.com")),
        "region": s(REGION),
        "cloudfront_distribution_id": s(&format!("E{}", p.to_uppercase())),
        "api_gateway_id": s(&format!("{p}api")),
        "lambda_function_name": s(&format!("{p}-api")),
        "lambda_log_group_name": s(&format!("/aws/lambda/{p}-api")),
        "ecr_repository_url": s(&format!("123456789012.dkr.ecr.{REGION}.amazonaws.com/{p}-api")),
        "redis_replication_group_id": s(&format!("{p}-redis")),
        "frontend_bucket_name": s(&format!("{p}-frontend")),
        "files_bucket_name": s(&format!("{p}-files")),
        "alarms": { "value": [ { "name": format!("{p}-lambda-errors"), "region": REGION } ] },
        "dashboard_name": s(&format!("{p}-dashboard")),
        "shim_metrics_namespace": s("LibreChat/Shim"),
    })
}

fn leftovers(dir: &Path, endpoint: &str, env: &str, outputs: &Path, extra: &[&str]) -> Run {
    // An empty config file: nothing from the machine's own.
    std::fs::write(dir.join("no-config.toml"), "").expect("config file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsconsole"));
    cmd.args([
        "leftovers",
        env,
        "--endpoint-url",
        endpoint,
        "--timeout",
        "30",
    ])
    .arg("--outputs")
    .arg(outputs)
    .arg("--config")
    .arg(dir.join("no-config.toml"))
    .args(extra);
    crate::common::isolated_env(&mut cmd, dir);
    let out = cmd.output().expect("running opsconsole leftovers");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

fn write_outputs(dir: &Path, p: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{p}-outputs.json"));
    std::fs::write(&path, outputs(p).to_string()).expect("writing outputs");
    path
}

fn tag(k: &str, v: &str) -> aws_sdk_s3::types::Tag {
    aws_sdk_s3::types::Tag::builder()
        .key(k)
        .value(v)
        .build()
        .expect("tag")
}

/// Creates in moto what a destroy of deployment `p` (environment `env`) left behind.
async fn leave_behind(p: &str, env: &str) {
    let m = moto();
    let c = m.clients(REGION).await;
    // Log groups: the function's (Lambda makes it itself) and API Gateway's execution logs.
    for g in [
        format!("/aws/lambda/{p}-api"),
        format!("API-Gateway-Execution-Logs_{p}api/dev"),
    ] {
        c.logs
            .create_log_group()
            .log_group_name(&g)
            .send()
            .await
            .expect("log group");
    }
    // ECR: the repository with one image.
    let ecr = aws_sdk_ecr::Client::new(&c.sdk);
    ecr.create_repository()
        .repository_name(format!("{p}-api"))
        .send()
        .await
        .expect("ecr repository");
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
                   "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},
        "layers": []
    });
    ecr.put_image()
        .repository_name(format!("{p}-api"))
        .image_manifest(manifest.to_string())
        .image_tag("v1")
        .send()
        .await
        .expect("ecr image");
    // The frontend bucket: versioned, an object written twice; tagged like the deployment.
    let bucket = format!("{p}-frontend");
    c.s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("bucket");
    c.s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("versioning");
    for body in ["<html>1</html>", "<html>2</html>"] {
        c.s3.put_object()
            .bucket(&bucket)
            .key("index.html")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .expect("object");
    }
    // A bucket the outputs do not name, found only by its tags; and the frontend bucket tagged
    // too (listed once).
    let other = format!("{p}-other");
    c.s3.create_bucket()
        .bucket(&other)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("bucket");
    for b in [&other, &bucket] {
        c.s3.put_bucket_tagging()
            .bucket(b)
            .tagging(
                aws_sdk_s3::types::Tagging::builder()
                    .tag_set(tag("Project", "librechat"))
                    .tag_set(tag("Environment", env))
                    .build()
                    .expect("tagging"),
            )
            .send()
            .await
            .expect("bucket tags");
    }
    // CloudFront: the SPA function and the origin access control, named after the bucket.
    c.cloudfront
        .create_function()
        .name(format!("{bucket}-spa"))
        .function_config(
            aws_sdk_cloudfront::types::FunctionConfig::builder()
                .comment("spa")
                .runtime(aws_sdk_cloudfront::types::FunctionRuntime::CloudfrontJs20)
                .build()
                .expect("function config"),
        )
        .function_code(aws_smithy_types::Blob::new(
            "function handler(e){return e.request}",
        ))
        .send()
        .await
        .expect("cloudfront function");
    c.cloudfront
        .create_origin_access_control()
        .origin_access_control_config(
            aws_sdk_cloudfront::types::OriginAccessControlConfig::builder()
                .name(format!("{bucket}-oac"))
                .origin_access_control_origin_type(
                    aws_sdk_cloudfront::types::OriginAccessControlOriginTypes::S3,
                )
                .signing_behavior(
                    aws_sdk_cloudfront::types::OriginAccessControlSigningBehaviors::Always,
                )
                .signing_protocol(
                    aws_sdk_cloudfront::types::OriginAccessControlSigningProtocols::Sigv4,
                )
                .build()
                .expect("oac config"),
        )
        .send()
        .await
        .expect("oac");
    // The ENI Lambda left in the VPC, and one of a function whose name extends this one's.
    let ec2 = aws_sdk_ec2::Client::new(&c.sdk);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .expect("vpc");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.9.1.0/24")
        .send()
        .await
        .expect("subnet");
    let subnet_id = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_string();
    for d in [
        format!("AWS Lambda VPC ENI-{p}-api-0f1e2d3c-aaaa"),
        format!("AWS Lambda VPC ENI-{p}-api2-0f1e2d3c-bbbb"),
    ] {
        ec2.create_network_interface()
            .subnet_id(&subnet_id)
            .description(d)
            .send()
            .await
            .expect("eni");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_destroy_left_is_listed_once_each_and_exits_1() {
    leave_behind("lo1", "lo1env").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = write_outputs(dir.path(), "lo1");
    let endpoint = moto().endpoint_url().to_string();
    let dirp = dir.path().to_path_buf();
    let r = tokio::task::spawn_blocking(move || {
        leftovers(&dirp, &endpoint, "lo1env", &out, &["--json"])
    })
    .await
    .expect("thread");
    let doc = r.doc();
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(doc["status"], "leftovers");
    assert_eq!(doc["errors"], json!([]), "{}", r.stdout);
    let mut found: Vec<(String, String)> = doc["leftovers"]
        .as_array()
        .expect("leftovers")
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_string(),
                l["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The ENI's id is moto's: keep the kind only.
    let enis = found
        .iter()
        .filter(|(k, _)| k == "network_interface")
        .count();
    assert_eq!(enis, 1, "only the function's own ENI: {found:?}");
    found.retain(|(k, _)| k != "network_interface");
    found.sort();
    let expect: Vec<(String, String)> = [
        ("cloudfront_function", "lo1-frontend-spa"),
        ("ecr_repository", "lo1-api"),
        ("log_group", "/aws/lambda/lo1-api"),
        ("log_group", "API-Gateway-Execution-Logs_lo1api/dev"),
        ("origin_access_control", "lo1-frontend-oac"),
        ("s3_bucket", "lo1-frontend"),
        ("tagged", "arn:aws:s3:::lo1-other"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(found, expect, "{}", r.stdout);
    let detail = |kind: &str| {
        doc["leftovers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["kind"] == kind)
            .map(|l| l["detail"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(detail("ecr_repository"), "1 images");
    assert!(
        detail("s3_bucket").starts_with("2 object versions"),
        "{}",
        detail("s3_bucket")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_destroy_exits_0_and_a_human_report_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = write_outputs(dir.path(), "lo2");
    let endpoint = moto().endpoint_url().to_string();
    let dirp = dir.path().to_path_buf();
    let (json_run, human_run) = tokio::task::spawn_blocking(move || {
        (
            leftovers(&dirp, &endpoint, "lo2env", &out, &["--json"]),
            leftovers(&dirp, &endpoint, "lo2env", &out, &[]),
        )
    })
    .await
    .expect("thread");
    assert_eq!(json_run.code, 0, "{}\n{}", json_run.stdout, json_run.stderr);
    let doc = json_run.doc();
    assert_eq!(doc["status"], "clean");
    assert_eq!(doc["leftovers"], json!([]));
    assert!(
        doc["checked"].as_array().unwrap().len() >= 10,
        "{}",
        json_run.stdout
    );
    assert_eq!(human_run.code, 0);
    assert!(
        human_run.stdout.contains("lo2env: nothing left"),
        "{}",
        human_run.stdout
    );
}

#[test]
fn checks_that_cannot_run_are_not_a_clean_bill() {
    // Nothing listens there: every check fails, nothing is found, exit 2.
    let port = opsconsole_testsupport::free_port().expect("port");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = write_outputs(dir.path(), "lo3");
    let r = leftovers(
        dir.path(),
        &format!("http://127.0.0.1:{port}"),
        "lo3env",
        &out,
        &["--json"],
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    let doc = r.doc();
    assert_eq!(doc["status"], "incomplete");
    assert!(!doc["errors"].as_array().unwrap().is_empty());
}

#[test]
fn bad_input_is_a_usage_error_with_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = write_outputs(dir.path(), "lo4");
    let endpoint = "http://127.0.0.1:9";
    let r = leftovers(
        dir.path(),
        endpoint,
        "lo4env",
        &out,
        &["--json", "--tag", "Environment"],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("expected KEY=VALUE"), "{}", r.stderr);
    assert_eq!(r.doc()["status"], "error");
    let missing = dir.path().join("missing.json");
    let r = leftovers(dir.path(), endpoint, "lo4env", &missing, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("missing.json"), "{}", r.stderr);
}
