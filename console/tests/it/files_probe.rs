//! `opsconsole probe --only files` against moto (issue 30): the config object the function's
//! CONFIG_S3_BUCKET / CONFIG_S3_KEY name, judged; the files bucket's count and size; uploads
//! refused for size from an API Gateway access log group.

use serde_json::{Value, json};

use crate::common::{moto, seed_outputs};
use crate::probe_cli::{Run, codes, config, probe, write};
use opsconsole_testsupport::seed::{SEEDED_FILES, SeedSpec};

const REGION: &str = "eu-west-1";

async fn run(spec: SeedSpec, tweak: impl FnOnce(&mut Value)) -> Run {
    let mut doc = seed_outputs(&spec).await;
    tweak(&mut doc);
    let dir = tempfile::tempdir().expect("tempdir");
    let outputs = write(dir.path(), "outputs.json", &doc.to_string());
    let cfg = write(dir.path(), "config.toml", &config(false));
    tokio::task::spawn_blocking(move || {
        let r = probe(dir.path(), &outputs, &cfg, &["--only", "files"]);
        drop(dir);
        r
    })
    .await
    .expect("probe thread")
}

fn message(r: &Run, code: &str) -> String {
    r.doc["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["code"] == code))
        .and_then(|f| f["message"].as_str())
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librechats_defaults_in_the_config_object_are_two_findings_with_the_fix() {
    let mut spec = SeedSpec::healthy("fdef", REGION, "http://127.0.0.1:9");
    spec.librechat_yaml = Some(
        "version: 1.2.1\nfileStrategy: local\nfileConfig:\n  serverFileSizeLimit: 512\n".into(),
    );
    let r = run(spec, |_| {}).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        codes(&r),
        ["files_strategy_not_s3", "file_size_limit_too_large"]
    );
    let m = message(&r, "files_strategy_not_s3");
    assert!(m.contains("fileStrategy is `local`"), "{m}");
    assert!(m.contains("Fix: set `fileStrategy: s3`"), "{m}");
    let m = message(&r, "file_size_limit_too_large");
    assert!(m.contains("fileConfig.serverFileSizeLimit 512 MB,"), "{m}");
    assert!(m.contains("about 4.4 MB fits"), "{m}");
    assert!(m.contains("serverFileSizeLimit: 4"), "{m}");
    let data = &r.doc["checks"]["files"]["data"];
    assert_eq!(data["config_at"], "s3://fdef-config/librechat.yaml");
    let bytes: usize = SEEDED_FILES.iter().map(|(_, n)| n).sum();
    assert_eq!(
        data["bucket"]["Ok"],
        json!({"bucket": "fdef-files", "objects": SEEDED_FILES.len(), "bytes": bytes, "complete": true}),
        "{data:#}"
    );
    assert!(
        data["rejections"]["not_recorded"]
            .as_str()
            .unwrap_or("")
            .contains("api_gateway_access_log_group"),
        "{data:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_that_fits_gives_none_and_a_missing_one_is_said() {
    // The healthy seed's config (files in S3, 4 MB limits), located through the outputs.
    let r = run(
        SeedSpec::healthy("ffit", REGION, "http://127.0.0.1:9"),
        |d| {
            d["config_s3_bucket"] =
                json!({"value": "ffit-config", "type": "string", "sensitive": false});
            d["config_s3_key"] =
                json!({"value": "librechat.yaml", "type": "string", "sensitive": false});
        },
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(codes(&r).is_empty());
    assert!(
        r.doc["checks"]["files"]["summary"]
            .as_str()
            .unwrap_or("")
            .starts_with("fileStrategy s3 ≤ 4 MB; bucket 2 objects"),
        "{}",
        r.doc["checks"]["files"]
    );
    // No object: never a silent pass.
    let mut spec = SeedSpec::healthy("fnone", REGION, "http://127.0.0.1:9");
    spec.librechat_yaml = None;
    let r = run(spec, |_| {}).await;
    assert_eq!(codes(&r), ["config_unreadable"]);
    assert!(
        message(&r, "config_unreadable")
            .contains("s3://fnone-config/librechat.yaml could not be read"),
        "{}",
        r.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_refused_for_size_in_the_access_log_are_a_finding() {
    let group = "/aws/apigateway/frej-access";
    let c = moto().clients(REGION).await;
    let _ = c.logs.create_log_group().log_group_name(group).send().await;
    c.logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name("s")
        .send()
        .await
        .expect("stream");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let lines = [
        r#"{"requestId":"r1","status":"413","responseType":"REQUEST_TOO_LARGE","integrationStatus":"-","path":"/api/files"}"#,
        r#"{"requestId":"r2","status":"500","responseType":"INTEGRATION_FAILURE","integrationStatus":"413","path":"/api/files"}"#,
        r#"{"requestId":"r3","status":"200","responseType":"-","integrationStatus":"200","path":"/api/files"}"#,
    ];
    let events: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now - 60_000 + i as i64)
                .message(*l)
                .build()
                .expect("event")
        })
        .collect();
    c.logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name("s")
        .set_log_events(Some(events))
        .send()
        .await
        .expect("put");
    let r = run(
        SeedSpec::healthy("frej", REGION, "http://127.0.0.1:9"),
        |d| {
            d["api_gateway_access_log_group"] =
                json!({"value": group, "type": "string", "sensitive": false});
        },
    )
    .await;
    assert_eq!(codes(&r), ["upload_too_large"], "{}", r.stdout);
    let m = message(&r, "upload_too_large");
    assert!(m.contains("2 request(s) in the last"), "{m}");
    assert!(m.contains("1 by API Gateway (413"), "{m}");
    assert!(m.contains("1 by Lambda"), "{m}");
    assert!(m.contains(group), "{m}");
}
