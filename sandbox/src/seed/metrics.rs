//! CloudWatch metric data: 90 minutes of the series the sparklines, charts and alarms read,
//! and the canary's runs.

use anyhow::Context as _;
use aws_config::SdkConfig;
use aws_smithy_types::DateTime;
use opsconsole_wire::emf;

use super::cloudwatch::dims;
use super::{Lcg, Names, now_ms};
use crate::alarms::{CANARY_NAMESPACE, Dims};

pub(super) async fn seed_metrics(
    sdk: &SdkConfig,
    east: &SdkConfig,
    n: &Names,
    dist: &str,
    storm: bool,
) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::types::{MetricDatum, StandardUnit};
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let cw_east = aws_sdk_cloudwatch::Client::new(east);
    let now_s = now_ms() / 1000;
    let mut rng = Lcg(3);
    // (namespace, metric, dims, unit, generator(minute) -> value, in us-east-1)
    type Gen = Box<dyn Fn(&mut Lcg, i64) -> f64>;
    let wave = |m: i64| ((m as f64) / 6.0).sin();
    let series: Vec<(&str, &str, Dims, StandardUnit, Gen, bool)> = vec![
        (
            "AWS/Lambda",
            "Invocations",
            Dims::Function,
            StandardUnit::Count,
            Box::new(move |r, m| (12.0 + 8.0 * wave(m) + r.range(0.0, 4.0)).round()),
            false,
        ),
        (
            "AWS/Lambda",
            "Errors",
            Dims::Function,
            StandardUnit::Count,
            Box::new(|r, _| if r.next() > 0.9 { 1.0 } else { 0.0 }),
            false,
        ),
        (
            "AWS/Lambda",
            "Throttles",
            Dims::Function,
            StandardUnit::Count,
            Box::new(|_, _| 0.0),
            false,
        ),
        (
            "AWS/Lambda",
            "Duration",
            Dims::Function,
            StandardUnit::Milliseconds,
            Box::new(move |r, m| 220.0 + 90.0 * wave(m) + r.range(0.0, 60.0)),
            false,
        ),
        (
            "AWS/Lambda",
            "ConcurrentExecutions",
            Dims::Function,
            StandardUnit::Count,
            Box::new(move |r, m| (3.0 + 2.0 * wave(m) + r.range(0.0, 2.0)).round()),
            false,
        ),
        (
            emf::NAMESPACE,
            emf::COLD_START_TOTAL_MS,
            Dims::Function,
            StandardUnit::Milliseconds,
            Box::new(move |r, _| {
                if storm {
                    r.range(7_000.0, 14_000.0)
                } else {
                    r.range(800.0, 1_900.0)
                }
            }),
            false,
        ),
        (
            "AWS/ApiGateway",
            "Count",
            Dims::Api,
            StandardUnit::Count,
            Box::new(move |r, m| (14.0 + 8.0 * wave(m) + r.range(0.0, 4.0)).round()),
            false,
        ),
        (
            "AWS/ApiGateway",
            "5XXError",
            Dims::Api,
            StandardUnit::Count,
            Box::new(|_, _| 0.0),
            false,
        ),
        (
            "AWS/ApiGateway",
            "Latency",
            Dims::Api,
            StandardUnit::Milliseconds,
            Box::new(move |r, m| 260.0 + 90.0 * wave(m) + r.range(0.0, 80.0)),
            false,
        ),
        (
            "AWS/ElastiCache",
            "EngineCPUUtilization",
            Dims::Redis,
            StandardUnit::Percent,
            Box::new(move |r, m| 4.0 + 2.0 * wave(m) + r.range(0.0, 1.5)),
            false,
        ),
        (
            "AWS/ElastiCache",
            "DatabaseMemoryUsagePercentage",
            Dims::Redis,
            StandardUnit::Percent,
            Box::new(move |r, m| 12.0 + 0.05 * m as f64 + r.range(0.0, 0.5)),
            false,
        ),
        (
            "AWS/ElastiCache",
            "CurrConnections",
            Dims::Redis,
            StandardUnit::Count,
            Box::new(move |r, m| (6.0 + 3.0 * wave(m) + r.range(0.0, 2.0)).round()),
            false,
        ),
        (
            "AWS/ElastiCache",
            "Evictions",
            Dims::Redis,
            StandardUnit::Count,
            Box::new(|_, _| 0.0),
            false,
        ),
        (
            "AWS/ElastiCache",
            "CacheHits",
            Dims::Redis,
            StandardUnit::Count,
            Box::new(move |r, m| (90.0 + 30.0 * wave(m) + r.range(0.0, 10.0)).round()),
            false,
        ),
        (
            "AWS/ElastiCache",
            "CacheMisses",
            Dims::Redis,
            StandardUnit::Count,
            Box::new(|r, _| r.range(2.0, 9.0).round()),
            false,
        ),
        (
            "AWS/CloudFront",
            "Requests",
            Dims::Distribution,
            StandardUnit::None,
            Box::new(move |r, m| (40.0 + 20.0 * wave(m) + r.range(0.0, 8.0)).round()),
            true,
        ),
        (
            "AWS/CloudFront",
            "5xxErrorRate",
            Dims::Distribution,
            StandardUnit::Percent,
            Box::new(|r, _| r.range(0.0, 0.4)),
            true,
        ),
    ];
    let minutes = 90i64;
    for (ns, metric, d, unit, generator, in_east) in &series {
        let mut data = Vec::new();
        for m in 0..minutes {
            let ts = now_s - (minutes - m) * 60;
            data.push(
                MetricDatum::builder()
                    .metric_name(*metric)
                    .set_dimensions(Some(dims(n, *d, dist)))
                    .timestamp(DateTime::from_secs(ts))
                    .value(generator(&mut rng, m))
                    .unit(unit.clone())
                    .build(),
            );
        }
        let client = if *in_east { &cw_east } else { &cw };
        client
            .put_metric_data()
            .namespace(*ns)
            .set_metric_data(Some(data))
            .send()
            .await
            .with_context(|| format!("CloudWatch PutMetricData {ns} {metric}"))?;
    }
    Ok(())
}

/// The canary's EMF metrics of the last 90 minutes, one run every 5 minutes, all healthy and
/// streaming (namespace `LibreChat/Probe`, dimension `Environment`; contracts section 7).
pub(super) async fn seed_canary_metrics(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    use opsconsole_wire::canary;
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let dim = Dimension::builder()
        .name(canary::DIMENSION)
        .value(&n.env)
        .build();
    let now_s = now_ms() / 1000;
    let mut rng = Lcg(11);
    let mut data = Vec::new();
    for run in 0..18i64 {
        let ts = DateTime::from_secs(now_s - (18 - run) * 300);
        let metrics = [
            (canary::HEALTHY, 1.0),
            (canary::SSE_VERDICT, canary::VERDICT_STREAMING),
            (canary::SSE_FIRST_EVENT_MS, rng.range(40.0, 120.0)),
            (canary::SSE_WORST_GAP_RATIO, rng.range(0.85, 1.0)),
            (canary::HEALTH_LATENCY_MS, rng.range(8.0, 40.0)),
            (canary::FINDINGS, 0.0),
        ];
        for (metric, value) in metrics {
            data.push(
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(dim.clone())
                    .timestamp(ts)
                    .value(value)
                    .unit(StandardUnit::from(canary::unit(metric)))
                    .build(),
            );
        }
    }
    cw.put_metric_data()
        .namespace(CANARY_NAMESPACE)
        .set_metric_data(Some(data))
        .send()
        .await
        .with_context(|| format!("CloudWatch PutMetricData {CANARY_NAMESPACE}"))?;
    Ok(())
}
