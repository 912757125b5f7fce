# Runs only in the copy scripts/check.sh makes with the registry modules stubbed (see
# modules/frontend/tests-stubbed): asserts what we pass to terraform-aws-modules/elasticache.
mock_provider "aws" {}

variables {
  name_prefix              = "librechat-test"
  vpc_id                   = "vpc-0123456789abcdef0"
  private_subnet_ids       = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  lambda_security_group_id = "sg-0lambda000000000"
}

run "redis_replication_group" {
  command = plan

  assert {
    condition     = module.redis.stub_source.source == "terraform-aws-modules/elasticache/aws" && module.redis.stub_source.version == "1.10.3"
    error_message = "FR-036: terraform-aws-modules/elasticache/aws 1.10.3."
  }

  assert {
    condition     = module.redis.stub_inputs.cluster_mode_enabled == false && module.redis.stub_inputs.num_cache_clusters == 1
    error_message = "FR-037: cluster mode disabled, a single node."
  }

  assert {
    condition     = module.redis.stub_inputs.subnet_ids == tolist(["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]) && module.redis.stub_inputs.vpc_id == "vpc-0123456789abcdef0"
    error_message = "FR-038: private subnets of the existing VPC."
  }

  assert {
    condition     = module.redis.stub_inputs.security_group_rules.ingress_lambda.referenced_security_group_id == "sg-0lambda000000000"
    error_message = "FR-041: the Redis group admits the Lambda group (key referenced_security_group_id, which the module reads)."
  }

  assert {
    condition     = module.redis.stub_inputs.transit_encryption_enabled == false
    error_message = "REDIS_URI is redis:// (no TLS); the module's default would enable transit encryption."
  }
}
