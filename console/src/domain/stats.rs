//! Percentiles and cold-start statistics.

use crate::model::{ColdStartStats, ReportLine};

/// Nearest-rank percentile (`p` in 0..=100) of `values`; `None` when empty. NaNs are ignored.
/// Rank = ceil(p/100 * n), clamped to 1..=n, of the ascending values.
pub(crate) fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let rank = ((p.clamp(0.0, 100.0) / 100.0) * n as f64).ceil() as usize;
    Some(v[rank.clamp(1, n) - 1])
}

/// Cold-start statistics of REPORT lines: a line with `Init Duration` is a cold start.
pub(crate) fn cold_start_stats(reports: &[ReportLine]) -> ColdStartStats {
    let inits: Vec<f64> = reports.iter().filter_map(|r| r.init_duration_ms).collect();
    let invocations = u32::try_from(reports.len()).unwrap_or(u32::MAX);
    let cold = u32::try_from(inits.len()).unwrap_or(u32::MAX);
    ColdStartStats {
        invocations,
        cold,
        cold_ratio: if invocations == 0 {
            0.0
        } else {
            f64::from(cold) / f64::from(invocations)
        },
        init_p50_ms: percentile(&inits, 50.0),
        init_p95_ms: percentile(&inits, 95.0),
        init_max_ms: inits.iter().copied().reduce(f64::max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(10.0));
        assert_eq!(percentile(&v, 95.0), Some(19.0));
        assert_eq!(percentile(&v, 100.0), Some(20.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[3.0, f64::NAN, 1.0], 100.0), Some(3.0));
    }

    #[test]
    fn cold_stats_count_init_lines() {
        let mk = |init: Option<f64>| ReportLine {
            request_id: "r".into(),
            timestamp: None,
            duration_ms: 1.0,
            billed_duration_ms: 1.0,
            memory_size_mb: 128,
            max_memory_used_mb: 10,
            init_duration_ms: init,
        };
        let s = cold_start_stats(&[mk(None), mk(Some(100.0)), mk(None), mk(Some(300.0))]);
        assert_eq!((s.invocations, s.cold), (4, 2));
        assert_eq!(s.cold_ratio, 0.5);
        assert_eq!(s.init_max_ms, Some(300.0));
        assert_eq!(s.init_p95_ms, Some(300.0));
        assert_eq!(cold_start_stats(&[]).cold_ratio, 0.0);
    }
}
