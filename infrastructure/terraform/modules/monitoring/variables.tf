variable "name_prefix" {
  description = "Prefix of every alarm name and of the dashboard, e.g. librechat-dev (alarm = <prefix>-<suffix>)."
  type        = string
}

variable "lambda_function_name" {
  description = "Lambda function to watch (AWS/Lambda and LibreChat/Shim FunctionName dimension)."
  type        = string
}

variable "api_name" {
  description = "REST API name (AWS/ApiGateway ApiName dimension)."
  type        = string
}

variable "api_stage" {
  description = "REST API stage (AWS/ApiGateway Stage dimension)."
  type        = string
}

variable "cloudfront_distribution_id" {
  description = "CloudFront distribution id (AWS/CloudFront, us-east-1)."
  type        = string
}

variable "redis_cache_cluster_id" {
  description = "ElastiCache node id of the Redis primary (AWS/ElastiCache CacheClusterId dimension), e.g. <replication-group-id>-001."
  type        = string
}

variable "shim_metrics_namespace" {
  description = "Namespace of the shim's EMF metrics (docs/contracts.md section 3)."
  type        = string
  default     = "LibreChat/Shim"
}

variable "thresholds" {
  description = "Overrides of alarm thresholds, keyed by alarm suffix (see locals.alarms in main.tf for the defaults and units)."
  type        = map(number)
  default     = {}
}

variable "create_sns_topic" {
  description = "Create an SNS topic per alarm region (<prefix>-alarms, in the region and in us-east-1) as the alarms' action; subscribe to both (README)."
  type        = bool
  default     = false
}
