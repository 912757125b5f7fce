# Replication group id
output "replication_group_id" { value = module.redis.replication_group_id }
# Primary endpoint host (no scheme, no port)
output "primary_endpoint_address" { value = module.redis.replication_group_primary_endpoint_address }
# Redis port (number)
output "port" { value = coalesce(module.redis.replication_group_port, 6379) }
# Node id of the single member (CacheClusterId metric dimension)
output "primary_cache_cluster_id" { value = "${module.redis.replication_group_id}-001" }
# Security group of the cache (the Lambda group's egress rule targets it)
output "security_group_id" { value = module.redis.security_group_id }
