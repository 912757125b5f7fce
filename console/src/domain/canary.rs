//! The scheduled canary's history (docs/contracts.md section 7) from its metrics: how many runs
//! the window holds, how many were unhealthy, buffered or failed, and when the last of each was;
//! and the one line the SSE panel and `probe --json` show.

use time::OffsetDateTime;

use crate::model::CanaryHistory;
use opsconsole_wire::canary::{VERDICT_BUFFERED, VERDICT_FAILED};

/// One series point: (unix seconds, value).
pub(crate) type Point = (i64, f64);

fn at(secs: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

/// The newest timestamp of the points matching `keep`.
fn last(points: &[Point], keep: impl Fn(f64) -> bool) -> Option<OffsetDateTime> {
    points
        .iter()
        .filter(|(_, v)| keep(*v))
        .map(|(t, _)| *t)
        .max()
        .and_then(at)
}

fn count(points: &[Point], keep: impl Fn(f64) -> bool) -> u32 {
    u32::try_from(points.iter().filter(|(_, v)| keep(*v)).count()).unwrap_or(u32::MAX)
}

/// The history from three series over the same periods: `Healthy` sample count (runs per
/// period) and minimum, and `SseVerdict` maximum.
pub(crate) fn history(
    healthy_count: &[Point],
    healthy_min: &[Point],
    verdict_max: &[Point],
) -> CanaryHistory {
    let runs: f64 = healthy_count.iter().map(|(_, n)| n.max(0.0)).sum();
    CanaryHistory {
        runs: runs.round().clamp(0.0, f64::from(u32::MAX)) as u32,
        unhealthy: count(healthy_min, |v| v < 1.0),
        streaming: count(verdict_max, |v| v < VERDICT_BUFFERED),
        buffered: count(verdict_max, |v| {
            (VERDICT_BUFFERED..VERDICT_FAILED).contains(&v)
        }),
        failed: count(verdict_max, |v| v >= VERDICT_FAILED),
        last_run: last(healthy_count, |n| n > 0.0),
        last_unhealthy: last(healthy_min, |v| v < 1.0),
        last_buffered: last(verdict_max, |v| {
            (VERDICT_BUFFERED..VERDICT_FAILED).contains(&v)
        }),
        last_failed: last(verdict_max, |v| v >= VERDICT_FAILED),
    }
}

/// `03:10 UTC` on `now`'s day, `11-28 03:10 UTC` before it.
pub(crate) fn clock(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let hm = format!("{:02}:{:02} UTC", t.hour(), t.minute());
    if t.date() == now.to_offset(time::UtcOffset::UTC).date() {
        hm
    } else {
        format!("{:02}-{:02} {hm}", u8::from(t.month()), t.day())
    }
}

/// Whether the history is worth a look: no run in the window, or a run that was unhealthy,
/// buffered or failed.
pub fn needs_attention(h: &CanaryHistory) -> bool {
    h.runs == 0 || h.unhealthy > 0 || h.buffered > 0 || h.failed > 0
}

/// One line: "SSE buffered in 3 of the last 288 runs, last at 03:10 UTC", each kind of bad run
/// named with its count; else "streaming and healthy in all 12 runs of the last 1h, last run at
/// 03:10 UTC"; "no canary run in the last 1h" when there was none.
pub fn summary(h: &CanaryHistory, window: &str, now: OffsetDateTime) -> String {
    if h.runs == 0 {
        return format!(
            "no canary run in the last {window} (the probe-unhealthy alarm treats that as breaching)"
        );
    }
    let of = |what: &str, n: u32, when: Option<OffsetDateTime>| {
        let last = when.map(|t| format!(", last at {}", clock(t, now)));
        format!(
            "{what} in {n} of the last {} runs{}",
            h.runs,
            last.unwrap_or_default()
        )
    };
    let mut parts = Vec::new();
    if h.buffered > 0 {
        parts.push(of("SSE buffered", h.buffered, h.last_buffered));
    }
    if h.failed > 0 {
        parts.push(of("SSE failed", h.failed, h.last_failed));
    }
    if h.unhealthy > 0 {
        parts.push(of("unhealthy", h.unhealthy, h.last_unhealthy));
    }
    if parts.is_empty() {
        let last = h
            .last_run
            .map(|t| format!(", last run at {}", clock(t, now)))
            .unwrap_or_default();
        let what = if h.streaming > 0 {
            "healthy and streaming"
        } else {
            "healthy (no SSE check)"
        };
        return format!("{what} in all {} runs of the last {window}{last}", h.runs);
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-01 03:30:00 UTC);

    fn ts(t: OffsetDateTime) -> i64 {
        t.unix_timestamp()
    }

    /// `n` runs 5 minutes apart ending at 03:25, with the verdicts given (newest last).
    fn runs(verdicts: &[f64]) -> (Vec<Point>, Vec<Point>, Vec<Point>) {
        let n = verdicts.len() as i64;
        let t0 = ts(datetime!(2026-12-01 03:25:00 UTC)) - (n - 1) * 300;
        let count = (0..n).map(|i| (t0 + i * 300, 1.0)).collect();
        let min = verdicts
            .iter()
            .enumerate()
            .map(|(i, v)| (t0 + i as i64 * 300, if *v == 0.0 { 1.0 } else { 0.0 }))
            .collect();
        let max = verdicts
            .iter()
            .enumerate()
            .map(|(i, v)| (t0 + i as i64 * 300, *v))
            .collect();
        (count, min, max)
    }

    #[test]
    fn counts_each_kind_and_the_last_of_each() {
        let mut v = vec![0.0; 288];
        v[10] = 1.0;
        v[200] = 1.0;
        v[280] = 1.0; // 03:25 - 7 * 5 min = 02:50
        v[100] = 2.0;
        let (c, m, x) = runs(&v);
        let h = history(&c, &m, &x);
        assert_eq!(h.runs, 288);
        assert_eq!((h.streaming, h.buffered, h.failed), (284, 3, 1));
        assert_eq!(h.unhealthy, 4);
        assert_eq!(h.last_buffered, Some(datetime!(2026-12-01 02:50:00 UTC)));
        assert_eq!(h.last_run, Some(datetime!(2026-12-01 03:25:00 UTC)));
        let s = summary(&h, "24h", NOW);
        assert!(
            s.starts_with("SSE buffered in 3 of the last 288 runs, last at 02:50 UTC"),
            "{s}"
        );
        assert!(
            s.contains("SSE failed in 1 of the last 288 runs, last at 11-30"),
            "{s}"
        );
        assert!(s.contains("unhealthy in 4 of the last 288 runs"), "{s}");
        assert!(needs_attention(&h));
    }

    #[test]
    fn all_good_no_runs_and_no_sse_check_read_differently() {
        let (c, m, x) = runs(&[0.0; 12]);
        let h = history(&c, &m, &x);
        assert!(!needs_attention(&h));
        assert_eq!(
            summary(&h, "1h", NOW),
            "healthy and streaming in all 12 runs of the last 1h, last run at 03:25 UTC"
        );
        let none = history(&[], &[], &[]);
        assert_eq!(none.runs, 0);
        assert!(needs_attention(&none));
        assert!(summary(&none, "15m", NOW).starts_with("no canary run in the last 15m"));
        // A canary without a token emits no SseVerdict.
        let h = history(&c, &m, &[]);
        assert!(summary(&h, "1h", NOW).starts_with("healthy (no SSE check) in all 12 runs"));
    }

    #[test]
    fn runs_are_the_sample_counts_not_the_periods() {
        // Two runs landed in one period (a retry): both count.
        let h = history(&[(0, 2.0), (60, 1.0)], &[(0, 1.0), (60, 1.0)], &[]);
        assert_eq!(h.runs, 3);
    }
}
