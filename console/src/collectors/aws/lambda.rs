//! Lambda: the function's configuration, its CloudWatch metrics and the REPORT / cold-start
//! lines of its log group.

use std::time::{Duration, SystemTime};

use opsconsole_wire::emf::COLD_START_TOTAL_MS;
use time::OffsetDateTime;

use crate::context::Context;
use crate::domain::window::Window;
use crate::domain::{logs, stats};
use crate::model::{CollectorError, ErrorKind, LambdaData};

use super::err;
use super::metric_data::{agg, dim, get_metric_data, metric_query};

/// Most log pages read per scan.
pub(crate) const MAX_LOG_PAGES: u32 = 200;

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
    let metrics = get_metric_data(
        &ctx.aws.cloudwatch,
        &crate::aws::endpoint_label(&ctx.aws.sdk, "CloudWatch"),
        queries,
        start,
        end,
    )
    .await;
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
    let ms = crate::collectors::logs::ms;
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
