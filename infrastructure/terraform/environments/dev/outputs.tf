# The console's contract: docs/contracts.md section 1 and infrastructure/README.md "Outputs".

# Public URL, no trailing slash
output "site_url" { value = module.frontend.site_url }
# Region of Lambda, API Gateway, Redis and the buckets
output "region" { value = var.region }
# CloudFront distribution id and domain (dxxxx.cloudfront.net)
output "cloudfront_distribution_id" { value = module.frontend.distribution_id }
output "cloudfront_domain_name" { value = module.frontend.distribution_domain_name }
# REST API id, stage (CloudFront origin_path) and https://{id}.execute-api.{region}.amazonaws.com/{stage}
output "api_gateway_id" { value = module.api_gateway.rest_api_id }
output "api_gateway_stage" { value = module.api_gateway.stage_name }
output "api_gateway_invoke_url" { value = module.api_gateway.invoke_url }
# Lambda function, its ARN and log group (/aws/lambda/{function})
output "lambda_function_name" { value = module.backend.function_name }
output "lambda_function_arn" { value = module.backend.function_arn }
output "lambda_log_group_name" { value = module.backend.log_group_name }
# ECR repository of the Lambda image
output "ecr_repository_url" { value = module.backend.ecr_repository_url }
# ElastiCache replication group, primary endpoint host (no scheme, no port) and port (number)
output "redis_replication_group_id" { value = module.redis.replication_group_id }
output "redis_endpoint" { value = module.redis.primary_endpoint_address }
output "redis_port" { value = module.redis.port }
# Buckets of the SPA and of user uploads
output "frontend_bucket_name" { value = module.frontend.bucket_name }
output "files_bucket_name" { value = module.files_bucket.s3_bucket_id }
# The 10 alarms as [{name, region}] (CloudFront's in us-east-1) and the dashboard (in region)
output "alarms" { value = module.monitoring.alarms }
output "dashboard_name" { value = module.monitoring.dashboard_name }
# Namespace of the shim's EMF metrics (docs/contracts.md section 3)
output "shim_metrics_namespace" { value = "LibreChat/Shim" }
