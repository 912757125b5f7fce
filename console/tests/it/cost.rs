//! `opsconsole cost` against moto (issue 29): the configuration read from the seeded account
//! (memory, node type, retention), the window's usage metrics seeded with PutMetricData and
//! projected to a month, and a window without datapoints that keeps the stated load and says so.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use clap::Parser;

use crate::common::{seeded_ctx, settings};
use opsconsole::cli::{Cli, Command, CostArgs};
use opsconsole::context::Context;
use opsconsole::cost::document;
use opsconsole::domain::cost::Basis;
use opsconsole::domain::prices::PriceTable;
use opsconsole::domain::window::Window;
use opsconsole_testsupport::seed::SeedSpec;

const REGION: &str = "eu-west-1";

fn args(extra: &[&str]) -> CostArgs {
    let mut argv = vec!["opsconsole", "cost", "test"];
    argv.extend_from_slice(extra);
    match Cli::parse_from(argv).command {
        Some(Command::Cost(a)) => a,
        other => panic!("not a cost command: {other:?}"),
    }
}

fn datum(name: &str, dims: Vec<Dimension>, values: Vec<f64>) -> MetricDatum {
    let at = aws_smithy_types::DateTime::from(SystemTime::now() - Duration::from_secs(300));
    MetricDatum::builder()
        .metric_name(name)
        .set_dimensions(Some(dims))
        .set_values(Some(values))
        .timestamp(at)
        .build()
}

fn d(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// An hour's usage: 40 invocations averaging 250 ms, 80 KB of logs, 100 CloudFront requests
/// of 5 KB each (in us-east-1, where CloudFront's metrics live).
async fn put_usage(ctx: &Context) {
    let o = &ctx.outputs;
    let f = || vec![d("FunctionName", &o.lambda_function_name)];
    ctx.aws
        .cloudwatch
        .put_metric_data()
        .namespace("AWS/Lambda")
        .metric_data(datum("Invocations", f(), vec![1.0; 40]))
        .metric_data(datum("Duration", f(), vec![250.0; 40]))
        .send()
        .await
        .expect("lambda metrics");
    ctx.aws
        .cloudwatch
        .put_metric_data()
        .namespace("AWS/Logs")
        .metric_data(datum(
            "IncomingBytes",
            vec![d("LogGroupName", &o.lambda_log_group_name)],
            vec![80_000.0],
        ))
        .send()
        .await
        .expect("logs metrics");
    let cf = || {
        vec![
            d("DistributionId", &o.cloudfront_distribution_id),
            d("Region", "Global"),
        ]
    };
    ctx.aws
        .cloudwatch_in("us-east-1")
        .put_metric_data()
        .namespace("AWS/CloudFront")
        .metric_data(datum("Requests", cf(), vec![100.0]))
        .metric_data(datum("BytesDownloaded", cf(), vec![500_000.0]))
        .send()
        .await
        .expect("cloudfront metrics");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actual_cost_is_the_windows_usage_projected_to_a_month() {
    let spec = SeedSpec::healthy("costu", REGION, "http://127.0.0.1:9");
    let ctx = seeded_ctx(&spec, |_| {}).await;
    put_usage(&ctx).await;
    let table = PriceTable::builtin().expect("table");
    let doc = document(&ctx, &args(&[]), Window::H1, &table)
        .await
        .expect("document");
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);

    // The configuration, read from the seeded account.
    assert_eq!(doc.deployment.lambda_memory_mb.value, 1024);
    assert_eq!(doc.deployment.lambda_memory_mb.basis, Basis::Configured);
    assert_eq!(doc.deployment.redis_node_type.value, "cache.t4g.micro");
    assert_eq!(doc.deployment.redis_node_type.basis, Basis::Configured);
    assert_eq!(doc.deployment.alarms.value, 10);

    let a = doc.actual.expect("actual");
    assert_eq!(a.usage.invocations, Some(40.0));
    assert_eq!(a.usage.duration_avg_ms, Some(250.0));
    assert_eq!(a.load.api_requests_per_day.value, 40.0 * 24.0);
    assert_eq!(a.load.api_requests_per_day.basis, Basis::Measured);
    assert_eq!(a.load.api_duration_ms.value, 250.0);
    assert_eq!(a.load.log_kb_per_request.value, 2.0);
    assert_eq!(a.load.static_requests_per_day.value, 60.0 * 24.0);
    assert_eq!(a.load.static_response_kb.value, 5.0);
    assert!(a.notes.is_empty(), "{:?}", a.notes);

    // The month's Lambda duration by hand: 960/day x 30.4167 x 0.25 s x 1 GB x $0.0000166667.
    let dur = a
        .estimate
        .lines
        .iter()
        .find(|l| l.item.starts_with("API duration"))
        .expect("duration line");
    let by_hand = 960.0 * (730.0 / 24.0) * 0.25 * 0.0000166667;
    assert!(
        (dur.monthly_usd.unwrap_or(-1.0) - by_hand).abs() < 1e-9,
        "{dur:?}"
    );
    assert_eq!(dur.basis, Basis::Measured.max(Basis::Configured));
    // The measured hour is far below the stated 10,000 requests a day.
    assert!(a.estimate.total_usd < doc.estimate.total_usd);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_without_datapoints_keeps_the_stated_load_and_says_so() {
    let spec = SeedSpec::healthy("costn", REGION, "http://127.0.0.1:9");
    let ctx = seeded_ctx(&spec, |_| {}).await;
    let table = PriceTable::builtin().expect("table");
    let doc = document(
        &ctx,
        &args(&["--requests-per-day", "500"]),
        Window::H1,
        &table,
    )
    .await
    .expect("document");
    let a = doc.actual.expect("actual");
    assert_eq!(a.usage.invocations, None);
    assert_eq!(a.load.api_requests_per_day.value, 500.0);
    assert_eq!(a.load.api_requests_per_day.basis, Basis::Assumed);
    assert_eq!(a.load.api_requests_per_day.from, "--requests-per-day");
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("API requests stays at the stated load")),
        "{:?}",
        a.notes
    );
    assert!((a.estimate.total_usd - doc.estimate.total_usd).abs() < 1e-9);
    let _ = settings();
}
