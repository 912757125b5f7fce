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

/// GetMetricData, all pages; (id, values oldest first) per query. The error is the cause as
/// [`crate::aws::failure_cause`] words it (`who` names the endpoint asked).
pub(crate) async fn get_metric_data(
    cw: &aws_sdk_cloudwatch::Client,
    who: &str,
    queries: Vec<MetricDataQuery>,
    start: SystemTime,
    end: SystemTime,
) -> Result<Vec<(String, Vec<f64>)>, String> {
    Ok(get_metric_series(cw, who, queries, start, end)
        .await?
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(|x| x.1).collect()))
        .collect())
}

/// One query's points, `(unix seconds, value)` oldest first.
pub(crate) type Points = Vec<(i64, f64)>;

/// GetMetricData, all pages: per query id, `(unix seconds, value)` oldest first. One request
/// for all queries: one failing query fails them all (see [`get_metric_series_each`]).
pub(crate) async fn get_metric_series(
    cw: &aws_sdk_cloudwatch::Client,
    who: &str,
    queries: Vec<MetricDataQuery>,
    start: SystemTime,
    end: SystemTime,
) -> Result<Vec<(String, Points)>, String> {
    let mut out: BTreeMap<String, Points> = BTreeMap::new();
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
            .map_err(|e| crate::aws::failure_cause(&e, who))?;
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

/// Like [`get_metric_series`], but a failing query does not take the others with it: when the
/// one request for all queries fails, each query is asked for on its own, so every query gets
/// its points or its own failure (in the order of `queries`). On success that is one request,
/// as before; on failure one more per query.
pub(crate) async fn get_metric_series_each(
    cw: &aws_sdk_cloudwatch::Client,
    who: &str,
    queries: Vec<MetricDataQuery>,
    start: SystemTime,
    end: SystemTime,
) -> Vec<(String, Result<Points, String>)> {
    let ids: Vec<String> = queries
        .iter()
        .map(|q| q.id().unwrap_or_default().to_string())
        .collect();
    let take = |got: &mut Vec<(String, Points)>, id: &str| -> Points {
        got.iter_mut()
            .find(|(k, _)| k == id)
            .map(|(_, v)| std::mem::take(v))
            .unwrap_or_default()
    };
    match get_metric_series(cw, who, queries.clone(), start, end).await {
        Ok(mut got) => ids
            .into_iter()
            .map(|id| {
                let v = take(&mut got, &id);
                (id, Ok(v))
            })
            .collect(),
        Err(all) if queries.len() <= 1 => {
            ids.into_iter().map(|id| (id, Err(all.clone()))).collect()
        }
        Err(_) => {
            let each = queries.into_iter().zip(ids).map(|(q, id)| async move {
                let r = get_metric_series(cw, who, vec![q], start, end)
                    .await
                    .map(|mut got| take(&mut got, &id));
                (id, r)
            });
            futures::future::join_all(each).await
        }
    }
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
