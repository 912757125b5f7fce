//! ElastiCache: the Redis replication group.

use anyhow::Context as _;
use aws_config::SdkConfig;

use super::Names;

pub(super) async fn seed_redis(sdk: &SdkConfig, n: &Names) -> anyhow::Result<()> {
    let ec = aws_sdk_elasticache::Client::new(sdk);
    ec.create_replication_group()
        .replication_group_id(&n.redis_group)
        .replication_group_description(format!("LibreChat sessions and cache ({})", n.prefix))
        .engine("redis")
        .engine_version("7.1")
        .cache_node_type("cache.t4g.micro")
        // modules/redis: one node, so no automatic failover.
        .num_cache_clusters(1)
        .automatic_failover_enabled(false)
        .send()
        .await
        .context("ElastiCache CreateReplicationGroup")?;
    Ok(())
}
