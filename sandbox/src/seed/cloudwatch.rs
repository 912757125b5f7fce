//! CloudWatch alarms and the dashboard: the monitoring module's 10 alarms and the canary
//! module's 2, and the dashboard.

use anyhow::Context as _;
use aws_config::SdkConfig;
use serde_json::json;

use super::Names;
use crate::alarms::{ALARMS, CANARY_ALARMS, CANARY_NAMESPACE, Dims};

pub(super) fn dims(
    n: &Names,
    d: Dims,
    distribution_id: &str,
) -> Vec<aws_sdk_cloudwatch::types::Dimension> {
    let pairs: Vec<(&str, String)> = match d {
        Dims::Function => vec![("FunctionName", n.function.clone())],
        Dims::Api => vec![
            ("ApiName", format!("{}-api", n.prefix)),
            ("Stage", n.stage.clone()),
        ],
        Dims::Distribution => vec![
            ("DistributionId", distribution_id.to_string()),
            ("Region", "Global".into()),
        ],
        Dims::Redis => vec![("CacheClusterId", n.redis_cluster.clone())],
    };
    pairs
        .into_iter()
        .map(|(k, v)| {
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name(k)
                .value(v)
                .build()
        })
        .collect()
}

pub(super) async fn seed_alarms(
    sdk: &SdkConfig,
    east: &SdkConfig,
    n: &Names,
    dist: &str,
    firing: bool,
) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let cw_east = aws_sdk_cloudwatch::Client::new(east);
    for a in ALARMS.iter() {
        let client = if a.us_east_1 { &cw_east } else { &cw };
        let name = n.alarm_name(a.suffix);
        let ns = a.namespace.unwrap_or(n.shim_namespace.as_str());
        let mut req = client
            .put_metric_alarm()
            .alarm_name(&name)
            .alarm_description(format!(
                "{ns} {} {} above threshold; see modules/monitoring/README.md",
                a.metric, a.stat
            ))
            .namespace(ns)
            .metric_name(a.metric)
            .set_dimensions(Some(dims(n, a.dims, dist)))
            .period(a.period)
            .evaluation_periods(1)
            .threshold(a.threshold)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .treat_missing_data("notBreaching");
        req = if a.stat.starts_with('p') {
            req.extended_statistic(a.stat)
        } else {
            req.statistic(Statistic::from(a.stat))
        };
        req.send()
            .await
            .with_context(|| format!("CloudWatch PutMetricAlarm {name}"))?;
    }
    if firing {
        let name = n.alarm_name("lambda-errors");
        cw.set_alarm_state()
            .alarm_name(&name)
            .state_value(StateValue::Alarm)
            .state_reason("sandbox fault `alarm`: Threshold Crossed: 1 datapoint [9.0] was greater than the threshold (5.0).")
            .send()
            .await
            .with_context(|| format!("CloudWatch SetAlarmState {name}"))?;
    }
    Ok(())
}

/// The canary's two alarms (modules/canary, contracts section 7), in the home region.
pub(super) async fn seed_canary_alarms(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
    use aws_sdk_cloudwatch::types::{Dimension, Statistic};
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    for a in CANARY_ALARMS.iter() {
        let name = n.alarm_name(a.suffix);
        cw.put_metric_alarm()
            .alarm_name(&name)
            .alarm_description(format!(
                "{CANARY_NAMESPACE} {} from the scheduled canary; see modules/canary/README.md",
                a.metric
            ))
            .namespace(CANARY_NAMESPACE)
            .metric_name(a.metric)
            .dimensions(
                Dimension::builder()
                    .name(opsconsole_wire::canary::DIMENSION)
                    .value(&n.env)
                    .build(),
            )
            .statistic(Statistic::from(a.stat))
            .period(a.period)
            .evaluation_periods(a.evaluation_periods)
            .threshold(a.threshold)
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::from(
                a.comparison,
            ))
            .treat_missing_data(a.treat_missing_data)
            .send()
            .await
            .with_context(|| format!("CloudWatch PutMetricAlarm {name}"))?;
    }
    Ok(())
}

/// The monitoring module's dashboard (by name; one text widget: the sandbox's console is the
/// view that matters here).
pub(super) async fn seed_dashboard(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
    let body = json!({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 24, "height": 2,
        "properties": {"markdown": format!("LibreChat {} (opsconsole sandbox)", n.env)}}]});
    aws_sdk_cloudwatch::Client::new(sdk)
        .put_dashboard()
        .dashboard_name(&n.dashboard)
        .dashboard_body(body.to_string())
        .send()
        .await
        .with_context(|| format!("CloudWatch PutDashboard {}", n.dashboard))?;
    Ok(())
}
