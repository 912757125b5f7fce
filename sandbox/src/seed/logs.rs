//! CloudWatch Logs: the function's log group with REPORT lines, cold and warm, and the shim's
//! EMF cold-start lines.

use anyhow::Context as _;
use aws_config::SdkConfig;
use opsconsole_wire::emf;

use opsconsole_locallambda::platform::report_line;

use super::{Lcg, MEMORY_MB, Names, now_ms};

/// The log group's retention (modules/backend `log_retention_days`' default).
const LOG_RETENTION_DAYS: i32 = 30;

/// The shim's EMF cold-start line (docs/contracts.md section 3), as the shim prints it.
pub(crate) fn emf_cold_start_line(
    function: &str,
    ts_ms: i64,
    config: f64,
    secrets: f64,
    ready: f64,
) -> String {
    let total = config + secrets + ready;
    let ts = u64::try_from(ts_ms).unwrap_or(0);
    emf::cold_start_line(function, config, secrets, ready, total, ts).to_string()
}

/// One seeded invocation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeedInvocation {
    pub ts_ms: i64,
    pub duration_ms: f64,
    pub init_ms: Option<f64>,
}

/// The invocation history of the last ~30 minutes: a few cold starts with a normal Init
/// Duration (baseline), or mostly cold starts with a long one (`cold-start-storm`).
pub(crate) fn invocation_history(storm: bool, now_ms: i64) -> Vec<SeedInvocation> {
    let mut rng = Lcg(if storm { 7 } else { 42 });
    let count = 40;
    (0..count)
        .map(|i| {
            let ts_ms = now_ms - (count - i) as i64 * 45_000;
            let cold = if storm { i % 5 != 4 } else { i % 9 == 0 };
            let init_ms = cold.then(|| {
                if storm {
                    rng.range(7_000.0, 14_000.0)
                } else {
                    rng.range(800.0, 1_900.0)
                }
            });
            SeedInvocation {
                ts_ms,
                duration_ms: rng.range(15.0, 900.0),
                init_ms,
            }
        })
        .collect()
}

pub(super) async fn seed_logs(sdk: &SdkConfig, n: &Names, storm: bool) -> anyhow::Result<()> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    logs.create_log_group()
        .log_group_name(&n.log_group)
        .send()
        .await
        .context("Logs CreateLogGroup")?;
    logs.put_retention_policy()
        .log_group_name(&n.log_group)
        .retention_in_days(LOG_RETENTION_DAYS)
        .send()
        .await
        .context("Logs PutRetentionPolicy")?;
    let today = time::OffsetDateTime::now_utc().date();
    let stream = format!(
        "{:04}/{:02}/{:02}/[$LATEST]sandbox0seed",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    let stream = stream.as_str();
    logs.create_log_stream()
        .log_group_name(&n.log_group)
        .log_stream_name(stream)
        .send()
        .await
        .context("Logs CreateLogStream")?;
    let mut events = Vec::new();
    let mut rng = Lcg(99);
    for (i, inv) in invocation_history(storm, now_ms()).iter().enumerate() {
        let rid = format!("5eed{:04x}-0000-4000-8000-{:012x}", i, i * 7919);
        if let Some(init) = inv.init_ms {
            let config = rng.range(20.0, 80.0);
            let secrets = rng.range(30.0, 120.0);
            let ready = (init - config - secrets).max(10.0);
            events.push((
                inv.ts_ms,
                emf_cold_start_line(&n.function, inv.ts_ms, config, secrets, ready),
            ));
        }
        events.push((
            inv.ts_ms + 1,
            format!("START RequestId: {rid} Version: $LATEST"),
        ));
        let end = inv.ts_ms + inv.duration_ms as i64 + 2;
        events.push((end, format!("END RequestId: {rid}")));
        let used = 280 + (rng.range(0.0, 120.0) as u32);
        events.push((
            end,
            report_line(
                &rid,
                inv.duration_ms,
                MEMORY_MB,
                u64::from(used),
                inv.init_ms,
                false,
            ),
        ));
    }
    events.sort_by_key(|e| e.0);
    let input: Vec<_> = events
        .into_iter()
        .map(|(ts, message)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(ts)
                .message(message)
                .build()
        })
        .collect::<Result<_, _>>()
        .context("building log events")?;
    logs.put_log_events()
        .log_group_name(&n.log_group)
        .log_stream_name(stream)
        .set_log_events(Some(input))
        .send()
        .await
        .context("Logs PutLogEvents")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storm_history_has_mostly_long_cold_starts_and_baseline_few_short_ones() {
        let p95 = |h: &[SeedInvocation]| {
            let mut v: Vec<f64> = h.iter().filter_map(|i| i.init_ms).collect();
            v.sort_by(f64::total_cmp);
            v[((v.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)]
        };
        let base = invocation_history(false, 1_000_000_000);
        let storm = invocation_history(true, 1_000_000_000);
        let cold = |h: &[SeedInvocation]| h.iter().filter(|i| i.init_ms.is_some()).count();
        assert!(
            cold(&base) >= 3 && cold(&base) <= 6,
            "baseline cold starts: {}",
            cold(&base)
        );
        assert!(cold(&storm) >= 30);
        assert!(p95(&base) < 5000.0, "baseline p95 {}", p95(&base));
        assert!(p95(&storm) > 5000.0, "storm p95 {}", p95(&storm));
        // Oldest first, all in the past half hour.
        assert!(base.windows(2).all(|w| w[0].ts_ms < w[1].ts_ms));
        assert!(base[0].ts_ms >= 1_000_000_000 - 31 * 60_000);
    }

    #[test]
    fn emf_line_is_found_by_the_plain_term_and_parses() {
        let line = emf_cold_start_line("f", 5, 1.0, 2.0, 3.0);
        assert!(line.contains("ColdStartTotalMs"));
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["ColdStartTotalMs"], 6.0);
        assert_eq!(v["event"], "cold_start");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "LibreChat/Shim"
        );
    }
}
