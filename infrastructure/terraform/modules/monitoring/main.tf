data "aws_region" "this" {}
data "aws_region" "us_east_1" { provider = aws.us_east_1 }

locals {
  fn    = { FunctionName = var.lambda_function_name }
  api   = { ApiName = var.api_name, Stage = var.api_stage }
  cf    = { DistributionId = var.cloudfront_distribution_id, Region = "Global" }
  redis = { CacheClusterId = var.redis_cache_cluster_id }

  # The 10 alarms, keyed by name suffix (docs/contracts.md section 4; the sandbox seeds the same
  # keys and a test compares them; keep one entry per line, other programs extract the keys).
  # Rationales: README.md. A stat pNN is an extended_statistic.
  alarms = {
    "lambda-errors"         = { ns = "AWS/Lambda", metric = "Errors", stat = "Sum", threshold = 5, period = 300, dims = local.fn }
    "lambda-throttles"      = { ns = "AWS/Lambda", metric = "Throttles", stat = "Sum", threshold = 0, period = 300, dims = local.fn }
    "lambda-duration-p95"   = { ns = "AWS/Lambda", metric = "Duration", stat = "p95", threshold = 600000, period = 300, dims = local.fn }
    "lambda-concurrency"    = { ns = "AWS/Lambda", metric = "ConcurrentExecutions", stat = "Maximum", threshold = 80, period = 60, dims = local.fn }
    "lambda-cold-start-p95" = { ns = var.shim_metrics_namespace, metric = "ColdStartTotalMs", stat = "p95", threshold = 20000, period = 900, dims = local.fn }
    "apigw-5xx"             = { ns = "AWS/ApiGateway", metric = "5XXError", stat = "Sum", threshold = 5, period = 300, dims = local.api }
    "apigw-latency-p95"     = { ns = "AWS/ApiGateway", metric = "Latency", stat = "p95", threshold = 10000, period = 300, dims = local.api }
    "cloudfront-5xx-rate"   = { ns = "AWS/CloudFront", metric = "5xxErrorRate", stat = "Average", threshold = 5, period = 300, dims = local.cf }
    "redis-cpu"             = { ns = "AWS/ElastiCache", metric = "EngineCPUUtilization", stat = "Average", threshold = 80, period = 300, dims = local.redis }
    "redis-memory"          = { ns = "AWS/ElastiCache", metric = "DatabaseMemoryUsagePercentage", stat = "Average", threshold = 80, period = 300, dims = local.redis }
  }
  in_us_east_1 = ["cloudfront-5xx-rate"] # CloudFront publishes its metrics in us-east-1 only
}

# No SSE with the AWS-managed aws/sns key: CloudWatch cannot use it, alarms would not be delivered.
resource "aws_sns_topic" "this" {
  count = var.create_sns_topic ? 1 : 0
  name  = "${var.name_prefix}-alarms"
}

resource "aws_sns_topic" "us_east_1" {
  count    = var.create_sns_topic ? 1 : 0
  provider = aws.us_east_1
  name     = "${var.name_prefix}-alarms"
}

resource "aws_cloudwatch_metric_alarm" "regional" {
  for_each            = { for k, v in local.alarms : k => v if !contains(local.in_us_east_1, k) }
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "${each.value.ns} ${each.value.metric} ${each.value.stat} above threshold; see modules/monitoring/README.md"
  namespace           = each.value.ns
  metric_name         = each.value.metric
  dimensions          = each.value.dims
  statistic           = startswith(each.value.stat, "p") ? null : each.value.stat
  extended_statistic  = startswith(each.value.stat, "p") ? each.value.stat : null
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = lookup(var.thresholds, each.key, each.value.threshold)
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = aws_sns_topic.this[*].arn
}

resource "aws_cloudwatch_metric_alarm" "us_east_1" {
  for_each            = { for k, v in local.alarms : k => v if contains(local.in_us_east_1, k) }
  provider            = aws.us_east_1
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "${each.value.ns} ${each.value.metric} ${each.value.stat} above threshold; see modules/monitoring/README.md"
  namespace           = each.value.ns
  metric_name         = each.value.metric
  dimensions          = each.value.dims
  statistic           = each.value.stat
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = lookup(var.thresholds, each.key, each.value.threshold)
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = aws_sns_topic.us_east_1[*].arn
}

# Dashboard: one graph per alarm (threshold as annotation) plus Redis connections and evictions.
resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = [for k, v in merge(local.alarms, {
    "redis-connections" = { ns = "AWS/ElastiCache", metric = "CurrConnections", stat = "Maximum", period = 300, dims = local.redis }
    "redis-evictions"   = { ns = "AWS/ElastiCache", metric = "Evictions", stat = "Sum", period = 300, dims = local.redis }
    }) : { type = "metric", width = 8, height = 6, properties = {
    title       = k, view = "timeSeries", stat = v.stat, period = v.period, metrics = [concat([v.ns, v.metric], flatten([for dk, dv in v.dims : [dk, dv]]))]
    region      = contains(local.in_us_east_1, k) ? data.aws_region.us_east_1.name : data.aws_region.this.name
    annotations = { horizontal = [for t in [try(var.thresholds[k], v.threshold, null)] : { label = "alarm", value = t } if t != null] }
  } }] })
}
