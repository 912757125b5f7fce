//! The AWS collectors: thin adapters from SDK calls to the model.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_smithy_types::DateTime;
use opsconsole_wire::emf::COLD_START_TOTAL_MS;
use time::OffsetDateTime;

use crate::aws::classify;
use crate::context::Context;
use crate::domain::window::Window;
use crate::domain::{alarms::parse_state, canary, logs, stats};
use crate::model::{AlarmHistory, AlarmHistoryItem, MAX_ALARM_HISTORY};
use crate::model::{
    AlarmInfo, AlarmState, AlarmsData, CanaryData, CanaryHistory, CloudFrontData, CollectorError,
    ErrorKind, Identity, Invalidation, LambdaData, RedisData, RedisNode,
};

/// The alarms' series: the alarms' own period (5 min) up to 3 h, then about 36 points over the
/// window.
pub(crate) const ALARM_PERIOD_SECONDS: u32 = 300;

pub(crate) fn alarm_period(window: Window) -> i32 {
    window
        .period_for_points(36)
        .max(i32::try_from(ALARM_PERIOD_SECONDS).unwrap_or(300))
        .min(window.period_for_points(3))
}
/// Most invalidations listed (newest first); more is reported as truncated.
pub(crate) const MAX_INVALIDATIONS: i32 = 10;
/// Most log pages read per scan.
pub(crate) const MAX_LOG_PAGES: u32 = 200;

pub(crate) fn to_odt(dt: &DateTime) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(dt.as_nanos()).ok()
}

fn err<E, R>(ctx: &Context, what: &str, e: &aws_sdk_sts::error::SdkError<E, R>) -> CollectorError
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + crate::aws::HasStatus + 'static,
{
    let mut ce = classify(e, what, &ctx.env, ctx.aws.profile.as_deref());
    if matches!(
        ce.kind,
        ErrorKind::NoCredentials | ErrorKind::ExpiredCredentials
    ) {
        ce.fix = Some(format!("run `{}`", ctx.settings.login_hint));
    }
    ce
}

pub async fn identity(ctx: &Context) -> Result<Identity, CollectorError> {
    let out = ctx
        .aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| err(ctx, "sts:GetCallerIdentity", &e))?;
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        user_id: out.user_id().unwrap_or_default().to_string(),
        region: ctx.aws.region().unwrap_or_default(),
        profile: ctx.aws.profile.clone(),
    })
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
    let series = get_metric_series(
        &cw,
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
    match get_metric_data(&cw, queries, start, end).await {
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

pub(crate) fn metric_query(
    id: &str,
    namespace: &str,
    name: &str,
    dims: Vec<Dimension>,
    stat: &str,
    period: i32,
) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(namespace)
                        .metric_name(name)
                        .set_dimensions(Some(dims))
                        .build(),
                )
                .period(period)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

pub(crate) fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// GetMetricData, all pages; (id, values oldest first) per query.
pub(crate) async fn get_metric_data(
    cw: &aws_sdk_cloudwatch::Client,
    queries: Vec<MetricDataQuery>,
    start: SystemTime,
    end: SystemTime,
) -> Result<Vec<(String, Vec<f64>)>, String> {
    Ok(get_metric_series(cw, queries, start, end)
        .await?
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(|x| x.1).collect()))
        .collect())
}

/// GetMetricData, all pages: per query id, `(unix seconds, value)` oldest first.
pub(crate) async fn get_metric_series(
    cw: &aws_sdk_cloudwatch::Client,
    queries: Vec<MetricDataQuery>,
    start: SystemTime,
    end: SystemTime,
) -> Result<Vec<(String, Vec<(i64, f64)>)>, String> {
    let mut out: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    let mut token: Option<String> = None;
    for _ in 0..50 {
        let resp = cw
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| format!("{}", aws_sdk_cloudwatch::error::DisplayErrorContext(&e)))?;
        for r in resp.metric_data_results() {
            let e = out
                .entry(r.id().unwrap_or_default().to_string())
                .or_default();
            for (t, v) in r.timestamps().iter().zip(r.values()) {
                e.push((t.secs(), *v));
            }
        }
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(out
        .into_iter()
        .map(|(k, mut v)| {
            v.sort_by_key(|x| x.0);
            (k, v)
        })
        .collect())
}

/// Sum (or max) of one query's values.
fn agg(results: &[(String, Vec<f64>)], id: &str, max: bool) -> Option<f64> {
    let v = &results.iter().find(|(k, _)| k == id)?.1;
    if v.is_empty() {
        return None;
    }
    Some(if max {
        v.iter().copied().fold(f64::MIN, f64::max)
    } else {
        v.iter().sum()
    })
}

fn avg(results: &[(String, Vec<f64>)], id: &str) -> Option<f64> {
    let v = &results.iter().find(|(k, _)| k == id)?.1;
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

pub async fn lambda(ctx: &Context, w: Window) -> Result<LambdaData, CollectorError> {
    let name = &ctx.outputs.lambda_function_name;
    let window = w.minutes();
    let f = ctx
        .aws
        .lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .map_err(|e| err(ctx, &format!("lambda:GetFunction {name}"), &e))?;
    let conf = f.configuration();
    let end = SystemTime::now();
    let start = end - Duration::from_secs(u64::from(window) * 60);
    let period = i32::try_from(window * 60).unwrap_or(3600);
    let d = || vec![dim("FunctionName", name)];
    let queries = vec![
        metric_query("inv", "AWS/Lambda", "Invocations", d(), "Sum", period),
        metric_query("err", "AWS/Lambda", "Errors", d(), "Sum", period),
        metric_query("thr", "AWS/Lambda", "Throttles", d(), "Sum", period),
        metric_query(
            "conc",
            "AWS/Lambda",
            "ConcurrentExecutions",
            d(),
            "Maximum",
            period,
        ),
    ];
    let metrics = get_metric_data(&ctx.aws.cloudwatch, queries, start, end).await;
    let metrics = match metrics {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!("lambda metrics: {e}");
            vec![]
        }
    };
    let scan = scan_logs(ctx, start, end).await?;
    let cold = stats::cold_start_stats(&scan.reports);
    let keep = 50usize;
    let mut reports = scan.reports;
    let mut truncated = scan.truncated;
    if reports.len() > keep {
        let dropped = reports.len() - keep;
        reports.drain(..dropped);
        let note = format!(
            "showing the newest {keep} of {} REPORT lines",
            keep + dropped
        );
        truncated = Some(match truncated {
            Some(t) => format!("{t}; {note}"),
            None => note,
        });
    }
    Ok(LambdaData {
        function_name: name.clone(),
        state: conf.and_then(|c| c.state()).map(|s| s.as_str().to_string()),
        last_update_status: conf
            .and_then(|c| c.last_update_status())
            .map(|s| s.as_str().to_string()),
        image_uri: f.code().and_then(|c| c.image_uri()).map(str::to_string),
        memory_mb: conf.and_then(|c| c.memory_size()),
        timeout_s: conf.and_then(|c| c.timeout()),
        invocations: agg(&metrics, "inv", false),
        errors: agg(&metrics, "err", false),
        throttles: agg(&metrics, "thr", false),
        max_concurrency: agg(&metrics, "conc", true),
        window_minutes: window,
        cold_starts: cold,
        shim_phases: logs::average_phases(&scan.shim),
        reports,
        truncated,
    })
}

struct LogScan {
    reports: Vec<crate::model::ReportLine>,
    shim: Vec<logs::ShimColdStart>,
    truncated: Option<String>,
}

/// FilterLogEvents over the window, all pages up to the configured event bound; parses REPORT
/// lines and the shim's EMF cold-start lines. (Real CloudWatch honours the OR pattern; moto
/// returns every event, which the parsers then sort out.)
async fn scan_logs(
    ctx: &Context,
    start: SystemTime,
    end: SystemTime,
) -> Result<LogScan, CollectorError> {
    let group = &ctx.outputs.lambda_log_group_name;
    let ms = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    };
    let max_events = ctx.settings.max_log_events as usize;
    let mut scan = LogScan {
        reports: vec![],
        shim: vec![],
        truncated: None,
    };
    let mut token: Option<String> = None;
    let mut seen = 0usize;
    let mut pages = 0u32;
    loop {
        let out = ctx
            .aws
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(ms(start))
            .end_time(ms(end))
            .filter_pattern(format!("?\"REPORT RequestId\" ?{COLD_START_TOTAL_MS}"))
            .limit(i32::try_from(ctx.settings.log_page_size.clamp(1, 10_000)).unwrap_or(10_000))
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| err(ctx, &format!("logs:FilterLogEvents {group}"), &e));
        let out = match out {
            Ok(o) => o,
            // A function never invoked has no log group yet: no REPORT lines, said so.
            Err(e) if e.kind == ErrorKind::NotFound && pages == 0 => {
                scan.truncated = Some(format!(
                    "log group {group} does not exist (nothing logged yet): no REPORT lines"
                ));
                return Ok(scan);
            }
            Err(e) => return Err(e),
        };
        pages += 1;
        for ev in out.events() {
            seen += 1;
            let msg = ev.message().unwrap_or_default();
            let ts = ev.timestamp().and_then(|t| {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(t) * 1_000_000).ok()
            });
            if let Some(r) = logs::parse_report(msg, ts) {
                scan.reports.push(r);
            } else if let Some(c) = logs::parse_emf_cold_start(msg) {
                scan.shim.push(c);
            }
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
        if seen >= max_events || pages >= MAX_LOG_PAGES {
            scan.truncated = Some(format!(
                "log scan stopped after {seen} events in {pages} pages (limit {max_events} events / {MAX_LOG_PAGES} pages); statistics cover those"
            ));
            break;
        }
    }
    scan.reports.sort_by_key(|r| r.timestamp);
    Ok(scan)
}

pub async fn redis(ctx: &Context, window: Window) -> Result<RedisData, CollectorError> {
    let id = &ctx.outputs.redis_replication_group_id;
    let out = ctx
        .aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .map_err(|e| {
            err(
                ctx,
                &format!("elasticache:DescribeReplicationGroups {id}"),
                &e,
            )
        })?;
    let rg = out
        .replication_groups()
        .first()
        .ok_or_else(|| CollectorError {
            kind: ErrorKind::NotFound,
            message: format!("replication group {id} not found"),
            fix: Some("check the Terraform outputs against the account and region".into()),
        })?;
    let mut nodes = Vec::new();
    let mut endpoint = None;
    for ng in rg.node_groups() {
        if endpoint.is_none() {
            endpoint = ng
                .primary_endpoint()
                .and_then(|e| e.address())
                .map(str::to_string);
        }
        for m in ng.node_group_members() {
            nodes.push(RedisNode {
                id: m.cache_cluster_id().unwrap_or_default().to_string(),
                role: m.current_role().map(str::to_string),
                status: ng.status().map(str::to_string),
                az: m.preferred_availability_zone().map(str::to_string),
            });
        }
    }
    if endpoint.is_none() {
        endpoint = rg
            .configuration_endpoint()
            .and_then(|e| e.address())
            .map(str::to_string)
            .or_else(|| ctx.outputs.redis_endpoint.clone());
    }
    // Metrics are per cache cluster: the primary's, else the first member's.
    let member = nodes
        .iter()
        .find(|n| n.role.as_deref() == Some("primary"))
        .map(|n| n.id.clone())
        .or_else(|| rg.member_clusters().first().cloned());
    let (mut cpu, mut mem, mut conns, mut evictions, mut hit_rate) = (None, None, None, None, None);
    if let Some(cluster) = member {
        let end = SystemTime::now();
        let start = end - Duration::from_secs(window.secs());
        let period = window.period_for_points(12);
        let d = || vec![dim("CacheClusterId", &cluster)];
        let q = |id: &str, name: &str, stat: &str| {
            metric_query(id, "AWS/ElastiCache", name, d(), stat, period)
        };
        let queries = vec![
            q("cpu", "EngineCPUUtilization", "Average"),
            q("mem", "DatabaseMemoryUsagePercentage", "Average"),
            q("conn", "CurrConnections", "Average"),
            q("evi", "Evictions", "Sum"),
            q("hits", "CacheHits", "Sum"),
            q("miss", "CacheMisses", "Sum"),
        ];
        if let Ok(m) = get_metric_data(&ctx.aws.cloudwatch, queries, start, end).await {
            cpu = avg(&m, "cpu");
            mem = avg(&m, "mem");
            conns = avg(&m, "conn");
            evictions = agg(&m, "evi", false);
            let hits = agg(&m, "hits", false);
            let miss = agg(&m, "miss", false);
            hit_rate = match (hits, miss) {
                (Some(h), Some(m)) if h + m > 0.0 => Some(h / (h + m)),
                (Some(h), None) if h > 0.0 => Some(1.0),
                _ => None,
            };
        }
    }
    let (ping, shim_status_error) = match super::http::shim_redis_ping(ctx).await {
        super::http::ShimPing::NotAsked => (None, None),
        super::http::ShimPing::Answered(p) => (Some(p), None),
        super::http::ShimPing::NoAnswer(why) => (None, Some(why)),
    };
    Ok(RedisData {
        replication_group_id: id.clone(),
        status: rg.status().map(str::to_string),
        engine: rg.engine().map(str::to_string),
        engine_version: None,
        endpoint,
        nodes,
        cpu_percent: cpu,
        memory_percent: mem,
        connections: conns,
        evictions,
        hit_rate,
        ping,
        shim_status_error,
    })
}

pub async fn cloudfront(ctx: &Context) -> Result<CloudFrontData, CollectorError> {
    let id = &ctx.outputs.cloudfront_distribution_id;
    let cf = &ctx.aws.cloudfront;
    let d = cf
        .get_distribution()
        .id(id)
        .send()
        .await
        .map_err(|e| err(ctx, &format!("cloudfront:GetDistribution {id}"), &e))?;
    let dist = d.distribution();
    let list = cf
        .list_invalidations()
        .distribution_id(id)
        .max_items(MAX_INVALIDATIONS)
        .send()
        .await
        .map_err(|e| err(ctx, &format!("cloudfront:ListInvalidations {id}"), &e))?;
    let mut invalidations = Vec::new();
    let mut truncated = None;
    if let Some(l) = list.invalidation_list() {
        let mut items: Vec<_> = l.items().to_vec();
        items.sort_by_key(|i| std::cmp::Reverse(i.create_time().secs()));
        for s in &items {
            let paths = match cf
                .get_invalidation()
                .distribution_id(id)
                .id(s.id())
                .send()
                .await
            {
                Ok(g) => g
                    .invalidation()
                    .and_then(|i| i.invalidation_batch())
                    .and_then(|b| b.paths())
                    .map(|p| p.items().to_vec())
                    .unwrap_or_default(),
                Err(_) => vec![],
            };
            invalidations.push(Invalidation {
                id: s.id().to_string(),
                status: s.status().to_string(),
                created: to_odt(s.create_time()),
                paths,
            });
        }
        if l.is_truncated() {
            truncated = Some(format!(
                "showing the newest {MAX_INVALIDATIONS} invalidations; there are more"
            ));
        }
    }
    Ok(CloudFrontData {
        distribution_id: id.clone(),
        domain_name: dist
            .map(|x| x.domain_name().to_string())
            .or_else(|| ctx.outputs.cloudfront_domain_name.clone()),
        status: dist.map(|x| x.status().to_string()),
        enabled: dist
            .and_then(|x| x.distribution_config())
            .map(|c| c.enabled()),
        aliases: dist
            .and_then(|x| x.distribution_config())
            .and_then(|c| c.aliases())
            .map(|a| a.items().to_vec())
            .unwrap_or_default(),
        invalidations,
        truncated,
    })
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
