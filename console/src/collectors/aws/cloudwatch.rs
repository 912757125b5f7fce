//! CloudWatch alarms: their state and sparklines, their history, and the scheduled canary's
//! metrics.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::{Dimension, MetricDataQuery, ScanBy};

use crate::context::Context;
use crate::domain::window::Window;
use crate::domain::{alarms::parse_state, canary};
use crate::model::{AlarmHistory, AlarmHistoryItem, MAX_ALARM_HISTORY};
use crate::model::{
    AlarmInfo, AlarmState, AlarmsData, CanaryData, CanaryHistory, CollectorError, ErrorKind,
};
use time::OffsetDateTime;

use super::metric_data::{get_metric_data, get_metric_series, metric_query};
use super::{err, to_odt};

/// The alarms' series: the alarms' own period (5 min) up to 3 h, then about 36 points over the
/// window.
pub(crate) const ALARM_PERIOD_SECONDS: u32 = 300;

pub(crate) fn alarm_period(window: Window) -> i32 {
    window
        .period_for_points(36)
        .max(i32::try_from(ALARM_PERIOD_SECONDS).unwrap_or(300))
        .min(window.period_for_points(3))
}
/// DescribeAlarms for the alarms of the outputs, region by region, names in chunks of 100,
/// following NextToken; then each alarm's metric over the last 3 h.
pub async fn alarms(ctx: &Context, window: Window) -> Result<AlarmsData, CollectorError> {
    // The ten of the base deployment, then the canary's two when it is deployed.
    let refs = || ctx.outputs.alarms.iter().chain(&ctx.outputs.canary_alarms);
    let mut by_region: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in refs() {
        by_region
            .entry(a.region.as_str())
            .or_default()
            .push(a.name.as_str());
    }
    let mut found: BTreeMap<(String, String), aws_sdk_cloudwatch::types::MetricAlarm> =
        BTreeMap::new();
    for (region, names) in &by_region {
        let cw = ctx.aws.cloudwatch_in(region);
        for chunk in names.chunks(100) {
            let mut token: Option<String> = None;
            for _page in 0..100 {
                let out = cw
                    .describe_alarms()
                    .set_alarm_names(Some(chunk.iter().map(|s| s.to_string()).collect()))
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .map_err(|e| err(ctx, &format!("cloudwatch:DescribeAlarms ({region})"), &e))?;
                for m in out.metric_alarms() {
                    if let Some(n) = m.alarm_name() {
                        found.insert((region.to_string(), n.to_string()), m.clone());
                    }
                }
                token = out.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
        }
    }
    let end = SystemTime::now();
    let start = end - Duration::from_secs(window.secs());
    let period = alarm_period(window);
    let futs = refs().map(|a| {
        let m = found.get(&(a.region.clone(), a.name.clone())).cloned();
        async move {
            let Some(m) = m else {
                return AlarmInfo {
                    reason: Some("not found in CloudWatch".into()),
                    ..AlarmInfo::bare(&a.name, &a.region, AlarmState::Missing)
                };
            };
            let series = alarm_series(ctx, &a.region, &m, start, end, period).await;
            AlarmInfo {
                name: a.name.clone(),
                region: a.region.clone(),
                state: m
                    .state_value()
                    .map_or(AlarmState::InsufficientData, |s| parse_state(s.as_str())),
                reason: m.state_reason().map(str::to_string),
                namespace: m.namespace().map(str::to_string),
                metric_name: m.metric_name().map(str::to_string),
                statistic: m
                    .statistic()
                    .map(|s| s.as_str().to_string())
                    .or_else(|| m.extended_statistic().map(str::to_string)),
                comparison: m.comparison_operator().map(|c| c.as_str().to_string()),
                threshold: m.threshold(),
                state_updated: m.state_updated_timestamp().and_then(to_odt),
                series,
            }
        }
    });
    let alarms = futures::future::join_all(futs).await;
    Ok(AlarmsData {
        alarms,
        window_minutes: window.minutes(),
        period_seconds: u32::try_from(period).unwrap_or(ALARM_PERIOD_SECONDS),
    })
}

/// The canary's metrics are read at one-minute periods: one run per period at the fastest
/// schedule EventBridge Scheduler's `rate()` allows.
pub(crate) const CANARY_PERIOD_SECONDS: i32 = 60;

/// The scheduled canary's history over the window (docs/contracts.md section 7): its
/// `Environment` dimension from its first alarm's definition (the console's environment name
/// when that alarm has none), then `Healthy` sample count and minimum and `SseVerdict` maximum
/// per minute. Not deployed (no `canary_alarms` output) is data, not an error.
pub async fn canary(ctx: &Context, window: Window) -> Result<CanaryData, CollectorError> {
    use opsconsole_wire::canary as wire;
    let now = OffsetDateTime::now_utc();
    let Some(first) = ctx.outputs.canary_alarms.first() else {
        return Ok(CanaryData {
            deployed: false,
            environment: None,
            region: None,
            window_minutes: window.minutes(),
            period_seconds: CANARY_PERIOD_SECONDS.unsigned_abs(),
            history: CanaryHistory::default(),
            summary: "not deployed (no canary_alarms output; modules/canary, enable_canary)".into(),
        });
    };
    let cw = ctx.aws.cloudwatch_in(&first.region);
    let out = cw
        .describe_alarms()
        .alarm_names(first.name.clone())
        .send()
        .await
        .map_err(|e| {
            err(
                ctx,
                &format!("cloudwatch:DescribeAlarms ({})", first.region),
                &e,
            )
        })?;
    let environment = out
        .metric_alarms()
        .iter()
        .flat_map(|m| m.dimensions())
        .find(|d| d.name() == Some(wire::DIMENSION))
        .and_then(|d| d.value())
        .map_or_else(|| ctx.env.clone(), str::to_string);
    let dims = vec![
        Dimension::builder()
            .name(wire::DIMENSION)
            .value(&environment)
            .build(),
    ];
    let q = |id: &str, metric: &str, stat: &str| {
        metric_query(
            id,
            wire::NAMESPACE,
            metric,
            dims.clone(),
            stat,
            CANARY_PERIOD_SECONDS,
        )
    };
    let end = SystemTime::now();
    let start = end - Duration::from_secs(window.secs());
    let who = crate::aws::endpoint_label(&ctx.aws.sdk, &format!("CloudWatch ({})", first.region));
    let series = get_metric_series(
        &cw,
        &who,
        vec![
            q("runs", wire::HEALTHY, "SampleCount"),
            q("healthy", wire::HEALTHY, "Minimum"),
            q("verdict", wire::SSE_VERDICT, "Maximum"),
        ],
        start,
        end,
    )
    .await
    .map_err(|e| CollectorError {
        kind: ErrorKind::ServiceUnavailable,
        message: format!(
            "cloudwatch:GetMetricData ({}) for {}: {e}",
            first.region,
            wire::NAMESPACE
        ),
        fix: None,
    })?;
    let get = |id: &str| {
        series
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    };
    let history = canary::history(get("runs"), get("healthy"), get("verdict"));
    let summary = canary::summary(&history, window.label(), now);
    Ok(CanaryData {
        deployed: true,
        environment: Some(environment),
        region: Some(first.region.clone()),
        window_minutes: window.minutes(),
        period_seconds: CANARY_PERIOD_SECONDS.unsigned_abs(),
        history,
        summary,
    })
}

/// The alarm's metric (or its metric-math queries) over the window; empty when unavailable
/// (the sparkline is best effort: the alarm state is what counts).
async fn alarm_series(
    ctx: &Context,
    region: &str,
    m: &aws_sdk_cloudwatch::types::MetricAlarm,
    start: SystemTime,
    end: SystemTime,
    period: i32,
) -> Vec<f64> {
    let queries: Vec<MetricDataQuery> = if !m.metrics().is_empty() {
        m.metrics().to_vec()
    } else {
        let (Some(ns), Some(name)) = (m.namespace(), m.metric_name()) else {
            return vec![];
        };
        let stat = m
            .statistic()
            .map(|s| s.as_str().to_string())
            .or_else(|| m.extended_statistic().map(str::to_string))
            .unwrap_or_else(|| "Average".into());
        vec![metric_query(
            "m0",
            ns,
            name,
            m.dimensions().to_vec(),
            &stat,
            period,
        )]
    };
    let cw = ctx.aws.cloudwatch_in(region);
    let ret_id = queries
        .iter()
        .find(|q| q.return_data() != Some(false))
        .map(|q| q.id().unwrap_or_default().to_string());
    let who = crate::aws::endpoint_label(&ctx.aws.sdk, &format!("CloudWatch ({region})"));
    match get_metric_data(&cw, &who, queries, start, end).await {
        Ok(results) => ret_id
            .and_then(|id| results.into_iter().find(|(k, _)| *k == id))
            .map(|(_, v)| v)
            .unwrap_or_default(),
        Err(e) => {
            tracing::debug!("sparkline of {:?}: {e}", m.alarm_name());
            vec![]
        }
    }
}

/// The history of one alarm (CloudWatch `DescribeAlarmHistory` in the alarm's region), newest
/// first, at most [`MAX_ALARM_HISTORY`] items; `truncated` when the API has more. Bounded by
/// the context's timeout. Errors are classified like the other collectors' (moto, for one,
/// does not implement the call: that comes back as an error, not as an empty history).
pub async fn alarm_history(
    ctx: &Context,
    alarm: &str,
    region: &str,
) -> Result<AlarmHistory, CollectorError> {
    let what = format!("cloudwatch:DescribeAlarmHistory ({region})");
    let cw = ctx.aws.cloudwatch_in(region);
    let call = cw
        .describe_alarm_history()
        .alarm_name(alarm)
        .scan_by(ScanBy::TimestampDescending)
        .max_records(MAX_ALARM_HISTORY as i32)
        .send();
    let budget = ctx.settings.timeout;
    let out = match tokio::time::timeout(budget, call).await {
        Ok(r) => r.map_err(|e| history_err(ctx, &what, &e))?,
        Err(_) => {
            return Err(CollectorError {
                kind: ErrorKind::Timeout,
                message: format!("{what} did not finish within {} s", budget.as_secs()),
                fix: Some("raise --timeout, or check the network / endpoint".into()),
            });
        }
    };
    Ok(history_from_items(
        alarm,
        region,
        out.alarm_history_items(),
        out.next_token().is_some_and(|t| !t.is_empty()),
    ))
}

/// Like [`err`], but an endpoint that does not implement the call (HTTP 501, a body saying
/// "not implemented", or an HTML error page as moto's server gives) is named as such: the view then says why there is no
/// history instead of echoing a parse error.
fn history_err<E, R>(
    ctx: &Context,
    what: &str,
    e: &aws_sdk_sts::error::SdkError<E, R>,
) -> CollectorError
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + crate::aws::HasStatus + 'static,
{
    let mut ce = err(ctx, what, e);
    let Some(raw) = e.raw_response() else {
        return ce;
    };
    let status = raw.status_code();
    let body = raw.body_text().unwrap_or_default();
    let lower = body.trim_start().to_lowercase();
    let message = if status == 501
        || lower.contains("not been implemented")
        || lower.contains("notimplemented")
        || lower.contains("not implemented")
    {
        format!("{what}: not implemented by this endpoint (HTTP {status})")
    } else if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        // moto raises NotImplementedError for this call, which its server turns into a bare
        // HTML 500 page; real CloudWatch always answers in its own XML.
        format!(
            "{what}: HTTP {status} with an HTML error page, not a CloudWatch answer \
             (an endpoint without this call, such as moto)"
        )
    } else {
        return ce;
    };
    ce.kind = ErrorKind::ServiceUnavailable;
    ce.message = message;
    ce.fix = Some(
        "none here: alarm history needs real CloudWatch (local stand-ins such as moto lack it)"
            .into(),
    );
    ce
}

/// The model of one `DescribeAlarmHistory` page: newest first whatever order the API used,
/// cut to [`MAX_ALARM_HISTORY`] (then truncated).
pub(crate) fn history_from_items(
    alarm: &str,
    region: &str,
    items: &[aws_sdk_cloudwatch::types::AlarmHistoryItem],
    more: bool,
) -> AlarmHistory {
    let mut items: Vec<AlarmHistoryItem> = items
        .iter()
        .map(|i| AlarmHistoryItem {
            timestamp: i.timestamp().and_then(to_odt),
            item_type: i
                .history_item_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_else(|| "-".into()),
            summary: i.history_summary().unwrap_or_default().to_string(),
        })
        .collect();
    // Newest first; items without a time last.
    items.sort_by_key(|i| std::cmp::Reverse(i.timestamp));
    let truncated = more || items.len() > MAX_ALARM_HISTORY;
    items.truncate(MAX_ALARM_HISTORY);
    AlarmHistory {
        alarm: alarm.to_string(),
        region: region.to_string(),
        items,
        truncated,
    }
}

#[cfg(test)]
mod history_tests {
    use super::*;
    use aws_sdk_cloudwatch::types::{AlarmHistoryItem as SdkItem, HistoryItemType};
    use aws_smithy_types::DateTime;

    fn item(secs: i64, summary: &str) -> SdkItem {
        SdkItem::builder()
            .timestamp(DateTime::from_secs(secs))
            .history_item_type(HistoryItemType::StateUpdate)
            .history_summary(summary)
            .build()
    }

    #[test]
    fn history_is_newest_first_and_bounded() {
        let items: Vec<SdkItem> = (0..25)
            .map(|i| item(1_700_000_000 + i * 60, &format!("s{i}")))
            .collect();
        let h = history_from_items("a", "eu-west-1", &items, false);
        assert_eq!(h.items.len(), MAX_ALARM_HISTORY);
        assert!(h.truncated);
        assert_eq!(h.items[0].summary, "s24");
        assert_eq!(h.items[0].item_type, "StateUpdate");
        assert!(h.items.windows(2).all(|w| w[0].timestamp >= w[1].timestamp));
        let short = history_from_items("a", "eu-west-1", &items[..3], false);
        assert!(!short.truncated);
        assert_eq!(short.items.len(), 3);
        assert!(history_from_items("a", "r", &items[..3], true).truncated);
    }
}
