# The console's contract (docs/contracts.md section 1): every output exists with its type.
# Runs (plan only, mock providers) in the copy scripts/check.sh makes with the registry modules
# stubbed, because those cannot be downloaded offline. Values of stubbed modules are unknown.
mock_provider "aws" {
  override_during = plan
  override_data {
    target = module.backend.data.aws_vpc.this
    values = { cidr_block = "10.20.0.0/16" }
  }
  override_data {
    target = module.monitoring.data.aws_region.this
    values = { name = "eu-west-1" }
  }
  mock_resource "aws_api_gateway_rest_api" {
    defaults = { id = "abc123", execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123" }
  }
  mock_resource "aws_api_gateway_stage" {
    defaults = { invoke_url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:librechat-dev-api" }
  }
  mock_resource "aws_ecr_repository" {
    defaults = { repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat-dev-api" }
  }
}

mock_provider "aws" {
  alias           = "us_east_1"
  override_during = plan
  override_data {
    target = module.monitoring.data.aws_region.us_east_1
    values = { name = "us-east-1" }
  }
}

# Registry modules (stubbed offline) answer with plausible outputs.
override_module {
  target  = module.files_bucket
  outputs = { s3_bucket_id = "librechat-lambda-files-dev", s3_bucket_arn = "arn:aws:s3:::librechat-lambda-files-dev" }
}

override_module {
  target  = module.frontend.module.s3_frontend
  outputs = { s3_bucket_id = "librechat-frontend-dev", s3_bucket_bucket_regional_domain_name = "librechat-frontend-dev.s3.eu-west-1.amazonaws.com" }
}

override_module {
  target = module.frontend.module.cloudfront
  outputs = {
    cloudfront_distribution_id             = "E2EXAMPLE"
    cloudfront_distribution_arn            = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"
    cloudfront_distribution_domain_name    = "d111111abcdef8.cloudfront.net"
    cloudfront_distribution_hosted_zone_id = "Z2FDTNDATAQYW2"
  }
}

override_module {
  target = module.redis.module.redis
  outputs = {
    replication_group_id                       = "librechat-dev-redis"
    replication_group_primary_endpoint_address = "librechat-dev-redis.abc123.ng.0001.euw1.cache.amazonaws.com"
    replication_group_port                     = 6379
    security_group_id                          = "sg-0123456789abcdef0"
  }
}

run "contract_outputs" {
  command = plan

  assert {
    condition     = output.site_url == "https://lambda-test.sandbox.data.apro.is" && output.region == "eu-west-1"
    error_message = "site_url must be https://<custom_domain> without a trailing slash; region the deployment region."
  }

  assert {
    condition     = output.lambda_log_group_name == "/aws/lambda/${output.lambda_function_name}" && output.lambda_function_name == "librechat-dev-api"
    error_message = "lambda_log_group_name must be /aws/lambda/<function>."
  }

  assert {
    condition     = output.api_gateway_stage == "prod" && output.shim_metrics_namespace == "LibreChat/Shim" && output.dashboard_name == "librechat-dev"
    error_message = "api_gateway_stage, shim_metrics_namespace or dashboard_name differ from the contract."
  }

  assert {
    condition = length(output.alarms) == 10 && alltrue([for a in output.alarms : startswith(a.name, "librechat-dev-") && contains(["eu-west-1", "us-east-1"], a.region)]) && [
      for a in output.alarms : a.region if a.name == "librechat-dev-cloudfront-5xx-rate"
    ] == ["us-east-1"]
    error_message = "alarms must be the 10 {name, region} objects, CloudFront's in us-east-1."
  }

  assert {
    condition = (output.files_bucket_name == "librechat-lambda-files-dev" && output.frontend_bucket_name == "librechat-frontend-dev"
      && output.cloudfront_distribution_id == "E2EXAMPLE" && output.cloudfront_domain_name == "d111111abcdef8.cloudfront.net"
      && output.redis_replication_group_id == "librechat-dev-redis" && output.redis_port == 6379
    && output.redis_endpoint == "librechat-dev-redis.abc123.ng.0001.euw1.cache.amazonaws.com")
    error_message = "Bucket, CloudFront or Redis outputs are not wired to their modules."
  }

  assert {
    condition = (output.api_gateway_id == "abc123" && output.api_gateway_invoke_url == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
      && output.lambda_function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:librechat-dev-api"
    && output.ecr_repository_url == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat-dev-api")
    error_message = "API Gateway, Lambda or ECR outputs are not wired to their resources."
  }
}
