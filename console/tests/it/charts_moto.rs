//! The charts' series against moto (issue 27): a percentile query over existing points is
//! answered through the project's moto extension, and when a query fails (plain moto answers
//! it with HTTP 500 and an empty body) only that chart says so, in a sentence; the others
//! keep their points.

use std::time::{Duration, SystemTime};

use crate::common::{moto, seed_outputs, settings};
use opsconsole::cli::GlobalOpts;
use opsconsole::collectors::series::{ChartsData, charts};
use opsconsole::context::Context;
use opsconsole::domain::window::Window;
use opsconsole::outputs::Outputs;
use opsconsole_testsupport::moto::MotoServer;
use opsconsole_testsupport::seed::{SeedSpec, seed};

const REGION: &str = "eu-west-1";

async fn ctx_on(m: &MotoServer, doc: serde_json::Value) -> Context {
    let outputs = Outputs::from_json(&doc.to_string()).expect("outputs parse");
    let clients = m.clients(REGION).await;
    Context::from_parts("test", &GlobalOpts::default(), settings(), outputs, clients).await
}

/// Invocations and Duration data points of the function, a few minutes ago.
async fn put_lambda_points(ctx: &Context) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let f = &ctx.outputs.lambda_function_name;
    let at = aws_smithy_types::DateTime::from(SystemTime::now() - Duration::from_secs(300));
    let datum = |name: &str, values: Vec<f64>| {
        MetricDatum::builder()
            .metric_name(name)
            .dimensions(Dimension::builder().name("FunctionName").value(f).build())
            .set_values(Some(values))
            .timestamp(at)
            .build()
    };
    ctx.aws
        .cloudwatch
        .put_metric_data()
        .namespace("AWS/Lambda")
        .metric_data(datum("Invocations", vec![1.0; 20]))
        .metric_data(datum("Duration", (1..=20).map(f64::from).collect()))
        .send()
        .await
        .expect("put metric data");
}

fn series<'a>(d: &'a ChartsData, title: &str) -> &'a opsconsole::collectors::series::Series {
    d.series
        .iter()
        .find(|s| s.title == title)
        .unwrap_or_else(|| panic!("no series {title}: {d:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p95_over_existing_points_is_charted() {
    let doc = seed_outputs(&SeedSpec::healthy("chrt", REGION, "http://127.0.0.1:9")).await;
    let ctx = ctx_on(moto(), doc).await;
    put_lambda_points(&ctx).await;
    let d = charts(&ctx, Window::H1).await.expect("charts");
    let dur = series(&d, "Lambda duration p95");
    assert_eq!(dur.error, None, "{d:?}");
    // Nearest rank over 1..=20 ms: the 19th value.
    assert_eq!(dur.points.iter().map(|p| p.1).collect::<Vec<_>>(), [19.0]);
    let inv = series(&d, "Lambda invocations");
    assert_eq!(inv.points.iter().map(|p| p.1).sum::<f64>(), 20.0);
    assert!(d.series.iter().all(|s| s.error.is_none()), "{d:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_series_does_not_blank_the_others() {
    // Plain moto, without the extension: GetMetricData with p95 over points is a 500.
    let m = MotoServer::start_with_env(&[("OPSCONSOLE_MOTOEXT", "")]).expect("plain moto");
    let clients = m.clients(REGION).await;
    let spec = SeedSpec::healthy("chrtfail", REGION, "http://127.0.0.1:9");
    let doc = seed(&m, &clients, &spec).await.expect("seed");
    let ctx = ctx_on(&m, doc).await;
    put_lambda_points(&ctx).await;
    let d = charts(&ctx, Window::H1)
        .await
        .expect("charts, not one error for all");
    let inv = series(&d, "Lambda invocations");
    assert_eq!(inv.error, None);
    assert_eq!(inv.points.iter().map(|p| p.1).sum::<f64>(), 20.0);
    let dur = series(&d, "Lambda duration p95");
    let e = dur
        .error
        .as_deref()
        .expect("the p95 series fails on plain moto");
    assert!(
        e.starts_with("CloudWatch GetMetricData failed for Lambda duration p95 (HTTP 500")
            && e.contains(m.endpoint_url())
            && e.ends_with("press r to retry"),
        "{e}"
    );
    for dump in [
        "ServiceError",
        "unhandled error",
        "service error",
        "{",
        "raw:",
    ] {
        assert!(!e.contains(dump), "debug text {dump:?} in {e}");
    }
    // Only the percentile series fail; count series are drawn.
    let failed: Vec<&str> = d
        .series
        .iter()
        .filter(|s| s.error.is_some())
        .map(|s| s.title)
        .collect();
    assert_eq!(failed, ["Lambda duration p95"], "{d:?}");
}
