data "aws_region" "this" {}
data "aws_region" "us_east_1" { provider = aws.us_east_1 }

locals {
  fn    = { FunctionName = var.lambda_function_name }
  api   = { ApiName = var.api_name, Stage = var.api_stage }
  cf    = { DistributionId = var.cloudfront_distribution_id, Region = "Global" }
  redis = { CacheClusterId = var.redis_cache_cluster_id }

  # The 10 alarms, keyed by name suffix (docs/contracts.md section 4; the sandbox seeds the same
  # keys and a test compares them). Rationales: README.md. stat p95 -> extended_statistic.
  alarms = {
    "lambda-errors"         = { ns = "AWS/Lambda", metric = "Errors", stat = "Sum", threshold = 5, period = 300, dims = local.fn }
    "lambda-throttles"      = { ns = "AWS/Lambda", metric = "Throttles", stat = "Sum", threshold = 0, period = 300, dims = local.fn }
    "lambda-duration-p95"   = { ns = "AWS/Lambda", metric = "Duration", stat = "p95", threshold = 600000, period = 300, dims = local.fn }
    "lambda-concurrency"    = { ns = "AWS/Lambda", metric = "ConcurrentExecutions", stat = "Maximum", threshold = 80, period = 60, dims = local.fn }
    "lambda-cold-start-p95" = { ns = var.shim_metrics_namespace, metric = "ColdStartTotalMs", stat = "p95", threshold = 20000, period = 900, dims = local.fn }
    "apigw-5xx"             = { ns = "AWS/ApiGateway", metric = "5XXError", stat = "Sum", threshold = 5, period = 300, dims = local.api }
    "apigw-latency-p95"     = { ns = "AWS/ApiGateway", metric = "Latency", stat = "p95", threshold = 10000, period = 300, dims = local.api }
    "cloudfront-5xx-rate"   = { ns = "AWS/CloudFront", metric = "5xxErrorRate", stat = "Average", threshold = 5, period = 300, dims = local.cf, us_east_1 = true }
    "redis-cpu"             = { ns = "AWS/ElastiCache", metric = "EngineCPUUtilization", stat = "Average", threshold = 80, period = 300, dims = local.redis }
    "redis-memory"          = { ns = "AWS/ElastiCache", metric = "DatabaseMemoryUsagePercentage", stat = "Average", threshold = 80, period = 300, dims = local.redis }
  }
  regional = { for k, v in local.alarms : k => v if !try(v.us_east_1, false) }
  global   = { for k, v in local.alarms : k => v if try(v.us_east_1, false) }
}

resource "aws_sns_topic" "regional" {
  count             = var.create_sns_topic ? 1 : 0
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = "alias/aws/sns"
  tags              = var.tags
}

resource "aws_sns_topic" "us_east_1" {
  count             = var.create_sns_topic ? 1 : 0
  provider          = aws.us_east_1
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = "alias/aws/sns"
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "regional" {
  count     = var.create_sns_topic && var.alarm_email != null ? 1 : 0
  topic_arn = aws_sns_topic.regional[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_sns_topic_subscription" "us_east_1" {
  count     = var.create_sns_topic && var.alarm_email != null ? 1 : 0
  provider  = aws.us_east_1
  topic_arn = aws_sns_topic.us_east_1[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "regional" {
  for_each            = local.regional
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "${each.value.metric} ${each.value.stat} > threshold (see modules/monitoring/README.md)"
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
  alarm_actions       = aws_sns_topic.regional[*].arn
  ok_actions          = aws_sns_topic.regional[*].arn
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "us_east_1" {
  for_each            = local.global
  provider            = aws.us_east_1
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "${each.value.metric} ${each.value.stat} > threshold (see modules/monitoring/README.md)"
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
  ok_actions          = aws_sns_topic.us_east_1[*].arn
  tags                = var.tags
}

locals {
  # Dashboard: one graph per alarm (its threshold as annotation) plus Redis connections/evictions.
  extra = {
    "redis-connections" = { ns = "AWS/ElastiCache", metric = "CurrConnections", stat = "Maximum", period = 300, dims = local.redis }
    "redis-evictions"   = { ns = "AWS/ElastiCache", metric = "Evictions", stat = "Sum", period = 300, dims = local.redis }
  }
  widgets = [for k, v in merge(local.alarms, local.extra) : {
    type = "metric", width = 8, height = 6
    properties = {
      title       = k, view = "timeSeries", stat = v.stat, period = v.period
      region      = try(v.us_east_1, false) ? data.aws_region.us_east_1.name : data.aws_region.this.name
      metrics     = [concat([v.ns, v.metric], flatten([for dk, dv in v.dims : [dk, dv]]))]
      annotations = { horizontal = [for t in [lookup(var.thresholds, k, try(v.threshold, null))] : { label = "alarm", value = t } if t != null] }
    }
  }]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = local.widgets })
}
