//! CloudWatch GetMetricData: the queries and the paged call that the panels and the charts
//! share.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_smithy_types::DateTime;

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
pub(super) fn agg(results: &[(String, Vec<f64>)], id: &str, max: bool) -> Option<f64> {
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

pub(super) fn avg(results: &[(String, Vec<f64>)], id: &str) -> Option<f64> {
    let v = &results.iter().find(|(k, _)| k == id)?.1;
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}
