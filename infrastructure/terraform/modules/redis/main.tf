# Single-node Redis, cluster mode disabled (FR-035..038, FR-041).
module "redis" {
  source  = "terraform-aws-modules/elasticache/aws"
  version = "1.10.3"

  replication_group_id = "${var.name_prefix}-redis"
  description          = "LibreChat sessions and cache (${var.name_prefix})"
  cluster_mode_enabled = false
  num_cache_clusters   = 1
  engine_version       = var.engine_version
  node_type            = var.node_type

  vpc_id     = var.vpc_id
  subnet_ids = var.private_subnet_ids

  # The module creates its security group and aws_vpc_security_group_ingress_rule resources from
  # this map; the key is referenced_security_group_id (the seed's source_security_group_id
  # would be silently ignored).
  security_group_rules = {
    ingress_lambda = {
      referenced_security_group_id = var.lambda_security_group_id
      description                  = "LibreChat Lambda"
    }
  }

  # At-rest encryption is the module's default; no TLS because the spec's REDIS_URI is redis://.
  transit_encryption_enabled = false
  apply_immediately          = true
}
