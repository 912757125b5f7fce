locals {
  name_prefix = coalesce(var.name_prefix, "librechat-${var.environment}")
  tags        = merge({ Project = "librechat", Environment = var.environment, ManagedBy = "terraform" }, var.tags)
}

# Uploads bucket (FR-030/031/034). Here rather than in modules/backend so that the backend
# module stays native-only and its terraform test runs offline.
module "files_bucket" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "~> 4.0"

  bucket        = "librechat-lambda-files-${var.environment}"
  force_destroy = true

  block_public_acls                     = true
  block_public_policy                   = true
  ignore_public_acls                    = true
  restrict_public_buckets               = true
  attach_deny_insecure_transport_policy = true

  cors_rule = [{ allowed_headers = ["*"], allowed_methods = ["GET", "PUT", "POST"], allowed_origins = ["https://${var.custom_domain}"],
  expose_headers = ["ETag"], max_age_seconds = 3600 }]
}

module "redis" {
  source = "../../modules/redis"

  name_prefix              = local.name_prefix
  vpc_id                   = var.vpc_id
  private_subnet_ids       = var.private_subnet_ids
  lambda_security_group_id = module.backend.security_group_id
}

module "backend" {
  source = "../../modules/backend"

  name_prefix                   = local.name_prefix
  custom_domain                 = var.custom_domain
  vpc_id                        = var.vpc_id
  private_subnet_ids            = var.private_subnet_ids
  additional_security_group_ids = values(var.security_group_ids)
  redis_security_group_id       = module.redis.security_group_id
  redis_endpoint                = module.redis.primary_endpoint_address
  redis_port                    = module.redis.port
  files_bucket_name             = module.files_bucket.s3_bucket_id
  files_bucket_arn              = module.files_bucket.s3_bucket_arn
  config_s3_bucket              = var.config_s3_bucket
  config_s3_key                 = var.config_s3_key
  environment_variables         = var.lambda_environment
  ssm_secrets                   = var.ssm_secrets
  diagnostics_token_ssm         = var.diagnostics_token_ssm
  build_image                   = var.build_image
  image_tag                     = var.image_tag
  librechat_version             = var.librechat_version
}

module "api_gateway" {
  source = "../../modules/api-gateway"

  name                = "${local.name_prefix}-api"
  region              = var.region
  lambda_function_arn = module.backend.function_arn
  cors_allowed_origin = "https://${var.custom_domain}"
}

module "frontend" {
  source = "../../modules/frontend"

  bucket_name         = "librechat-frontend-${var.environment}"
  custom_domain       = var.custom_domain
  acm_certificate_arn = var.acm_certificate_arn
  route53_zone_id     = var.route53_zone_id
  api_domain_name     = module.api_gateway.domain_name
  api_stage_name      = module.api_gateway.stage_name
  client_dist_dir     = var.client_dist_dir
}

module "monitoring" {
  source    = "../../modules/monitoring"
  providers = { aws = aws, aws.us_east_1 = aws.us_east_1 }

  name_prefix                = local.name_prefix
  lambda_function_name       = module.backend.function_name
  api_name                   = module.api_gateway.rest_api_name
  api_stage                  = module.api_gateway.stage_name
  cloudfront_distribution_id = module.frontend.distribution_id
  redis_cache_cluster_id     = module.redis.primary_cache_cluster_id
  create_sns_topic           = var.create_alarm_topic
}
