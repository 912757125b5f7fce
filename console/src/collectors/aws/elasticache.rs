//! ElastiCache: the replication group, its nodes and the primary's CloudWatch metrics, plus
//! the shim's PING of Redis.

use std::time::{Duration, SystemTime};

use crate::context::Context;
use crate::domain::window::Window;
use crate::model::{CollectorError, ErrorKind, RedisData, RedisNode};

use super::err;
use super::metric_data::{agg, avg, dim, get_metric_data, metric_query};

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
        if let Ok(m) = get_metric_data(
            &ctx.aws.cloudwatch,
            &crate::aws::endpoint_label(&ctx.aws.sdk, "CloudWatch"),
            queries,
            start,
            end,
        )
        .await
        {
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
    let (ping, database, shim_status_error) =
        match crate::collectors::http::shim_redis_ping(ctx).await {
            crate::collectors::http::ShimPing::NotAsked => (None, None, None),
            crate::collectors::http::ShimPing::Answered(p, db) => (Some(p), db, None),
            crate::collectors::http::ShimPing::NoAnswer(why) => (None, None, Some(why)),
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
        database,
    })
}
