//! Time series for the charts view (GetMetricData over the window, about 60 points): Lambda
//! invocations, errors, throttles, duration p95, the shim's cold starts and their total
//! (Init) duration, Redis CPU and memory, API Gateway 5XX and latency. A series the endpoint
//! has no data for stays empty: the chart says "no data". All series go in one request; when it
//! fails, each is asked for on its own, so one failing series (say, a statistic the endpoint
//! cannot answer) is marked with its own error and the others are still drawn.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::Dimension;
use opsconsole_wire::emf::{COLD_START_TOTAL_MS, NAMESPACE};

use crate::context::Context;
use crate::domain::window::Window;

use super::aws::{dim, get_metric_series_each, metric_query};

/// One chart's data.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub title: &'static str,
    /// Unit of the values (`count`, `ms`, `%`).
    pub unit: &'static str,
    /// `(unix seconds, value)`, oldest first.
    pub points: Vec<(f64, f64)>,
    /// Why this series could not be read (one sentence with the next step); `None` when it was.
    pub error: Option<String>,
}

/// Every chart, in the order the view lays them out (most important first).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartsData {
    pub window: Window,
    pub period_s: i32,
    /// Unix seconds of the window's start and end (the x axis).
    pub start: f64,
    pub end: f64,
    pub series: Vec<Series>,
    /// Why some series could not be asked for (e.g. no API Gateway alarm to take dimensions
    /// from).
    pub notes: Vec<String>,
}

/// The dimensions of the alarm of the outputs whose name ends with `suffix` (the monitoring
/// module's own dimensions: API Gateway's `ApiName`/`Stage` are not in the outputs).
async fn alarm_dims(ctx: &Context, suffix: &str) -> Option<Vec<Dimension>> {
    let a = ctx
        .outputs
        .alarms
        .iter()
        .find(|a| a.name.ends_with(suffix))?;
    let out = ctx
        .aws
        .cloudwatch_in(&a.region)
        .describe_alarms()
        .alarm_names(&a.name)
        .send()
        .await
        .ok()?;
    out.metric_alarms()
        .first()
        .map(|m| m.dimensions().to_vec())
        .filter(|d| !d.is_empty())
}

/// The replication group's primary cache cluster (Redis metrics are per cluster).
async fn redis_cluster(ctx: &Context) -> Option<String> {
    let id = &ctx.outputs.redis_replication_group_id;
    let out = ctx
        .aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .ok()?;
    let rg = out.replication_groups().first()?;
    rg.member_clusters().first().cloned()
}

/// The sentence a chart shows when its series could not be read.
pub fn series_failed(title: &str, cause: &str) -> String {
    format!(
        "CloudWatch GetMetricData failed for {title} ({cause}): the other charts are shown; press r to retry"
    )
}

pub async fn charts(ctx: &Context, window: Window) -> Result<ChartsData, String> {
    let end = SystemTime::now();
    let start = end - Duration::from_secs(window.secs());
    let period = window.period_for_points(60);
    let f = &ctx.outputs.lambda_function_name;
    let fdim = || vec![dim("FunctionName", f)];
    let mut notes = Vec::new();
    // (id, title, unit, query)
    let mut q = vec![
        (
            "inv",
            "Lambda invocations",
            "count",
            metric_query("inv", "AWS/Lambda", "Invocations", fdim(), "Sum", period),
        ),
        (
            "err",
            "Lambda errors",
            "count",
            metric_query("err", "AWS/Lambda", "Errors", fdim(), "Sum", period),
        ),
        (
            "thr",
            "Lambda throttles",
            "count",
            metric_query("thr", "AWS/Lambda", "Throttles", fdim(), "Sum", period),
        ),
        (
            "dur",
            "Lambda duration p95",
            "ms",
            metric_query("dur", "AWS/Lambda", "Duration", fdim(), "p95", period),
        ),
        (
            "cold",
            "Cold starts",
            "count",
            metric_query(
                "cold",
                NAMESPACE,
                COLD_START_TOTAL_MS,
                fdim(),
                "SampleCount",
                period,
            ),
        ),
        (
            "init",
            "Init duration (shim total, max)",
            "ms",
            metric_query(
                "init",
                NAMESPACE,
                COLD_START_TOTAL_MS,
                fdim(),
                "Maximum",
                period,
            ),
        ),
    ];
    match redis_cluster(ctx).await {
        Some(c) => {
            let d = || vec![dim("CacheClusterId", &c)];
            q.push((
                "rcpu",
                "Redis engine CPU",
                "%",
                metric_query(
                    "rcpu",
                    "AWS/ElastiCache",
                    "EngineCPUUtilization",
                    d(),
                    "Average",
                    period,
                ),
            ));
            q.push((
                "rmem",
                "Redis memory",
                "%",
                metric_query(
                    "rmem",
                    "AWS/ElastiCache",
                    "DatabaseMemoryUsagePercentage",
                    d(),
                    "Average",
                    period,
                ),
            ));
        }
        None => notes.push("Redis: no cache cluster found".into()),
    }
    match alarm_dims(ctx, "-apigw-5xx").await {
        Some(d) => {
            q.push((
                "a5xx",
                "API Gateway 5XX",
                "count",
                metric_query(
                    "a5xx",
                    "AWS/ApiGateway",
                    "5XXError",
                    d.clone(),
                    "Sum",
                    period,
                ),
            ));
            q.push((
                "alat",
                "API Gateway latency p95",
                "ms",
                metric_query("alat", "AWS/ApiGateway", "Latency", d, "p95", period),
            ));
        }
        None => notes.push("API Gateway: no apigw-5xx alarm to take its dimensions from".into()),
    }
    let queries = q.iter().map(|x| x.3.clone()).collect();
    let who = crate::aws::endpoint_label(&ctx.aws.sdk, "CloudWatch");
    let mut got = get_metric_series_each(&ctx.aws.cloudwatch, &who, queries, start, end).await;
    let secs = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    };
    let series: Vec<Series> = q
        .iter()
        .map(|(id, title, unit, _)| {
            let r = got
                .iter_mut()
                .find(|(k, _)| k.as_str() == *id)
                .map(|(_, r)| std::mem::replace(r, Ok(vec![])))
                .unwrap_or(Ok(vec![]));
            let (points, error) = match r {
                Ok(v) => (v.iter().map(|(t, y)| (*t as f64, *y)).collect(), None),
                Err(cause) => (vec![], Some(series_failed(title, &cause))),
            };
            Series {
                title,
                unit,
                points,
                error,
            }
        })
        .collect();
    if series.len() > 1 && series.iter().all(|s| s.error.is_some()) {
        let cause = got
            .iter()
            .find_map(|(_, r)| r.as_ref().err().cloned())
            .unwrap_or_default();
        return Err(format!(
            "CloudWatch GetMetricData failed for every chart ({cause}); press r to retry"
        ));
    }
    Ok(ChartsData {
        window,
        period_s: period,
        start: secs(start),
        end: secs(end),
        series,
        notes,
    })
}

/// Collects the charts every minute, whenever the window changes and when `refresh` is
/// notified (`r`), until `tx` closes.
pub async fn run(
    ctx: std::sync::Arc<Context>,
    tx: tokio::sync::mpsc::Sender<Result<ChartsData, String>>,
    mut window: tokio::sync::watch::Receiver<Window>,
    refresh: std::sync::Arc<tokio::sync::Notify>,
) {
    loop {
        let w = *window.borrow_and_update();
        let budget = ctx.settings.timeout;
        let r = tokio::time::timeout(budget, charts(&ctx, w))
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "the charts did not load within {} s; press r to retry (or raise --timeout)",
                    budget.as_secs()
                ))
            });
        if tx.send(r).await.is_err() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            r = window.changed() => if r.is_err() { return; },
            _ = refresh.notified() => {}
            _ = tx.closed() => return,
        }
    }
}
