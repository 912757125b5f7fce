# Offline: mock providers (one per region) fake the AWS API.
mock_provider "aws" {
  override_data {
    target = data.aws_region.this
    values = { name = "eu-west-1" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:librechat-test-alarms" }
  }
}

mock_provider "aws" {
  alias = "us_east_1"
  override_data {
    target = data.aws_region.us_east_1
    values = { name = "us-east-1" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:us-east-1:123456789012:librechat-test-alarms" }
  }
}

variables {
  name_prefix                = "librechat-test"
  lambda_function_name       = "librechat-test-api"
  api_name                   = "librechat-test-api"
  api_stage                  = "prod"
  cloudfront_distribution_id = "E123EXAMPLE"
  redis_cache_cluster_id     = "librechat-test-redis-001"
}

run "ten_alarms_with_prefix" {
  assert {
    condition     = length(output.alarms) == 10
    error_message = "Exactly 10 alarms are required."
  }

  assert {
    condition     = alltrue([for a in output.alarms : startswith(a.name, "librechat-test-")])
    error_message = "Every alarm name must start with the name prefix."
  }

  assert {
    # docs/contracts.md section 4: the console and the sandbox rely on these exact names.
    condition = toset([for a in output.alarms : trimprefix(a.name, "librechat-test-")]) == toset([
      "lambda-errors", "lambda-throttles", "lambda-duration-p95", "lambda-concurrency",
      "lambda-cold-start-p95", "apigw-5xx", "apigw-latency-p95", "cloudfront-5xx-rate",
      "redis-cpu", "redis-memory",
    ])
    error_message = "Alarm suffixes differ from docs/contracts.md section 4."
  }

  assert {
    condition     = [for a in output.alarms : a.region if endswith(a.name, "cloudfront-5xx-rate")] == ["us-east-1"] && length([for a in output.alarms : a if a.region == "eu-west-1"]) == 9
    error_message = "The CloudFront alarm must live in us-east-1, the other nine in the deployment region."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.regional["lambda-cold-start-p95"].namespace == "LibreChat/Shim" && aws_cloudwatch_metric_alarm.regional["lambda-cold-start-p95"].metric_name == "ColdStartTotalMs" && aws_cloudwatch_metric_alarm.regional["lambda-cold-start-p95"].extended_statistic == "p95"
    error_message = "The cold-start alarm must watch the shim's EMF metric LibreChat/Shim ColdStartTotalMs (p95)."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.us_east_1["cloudfront-5xx-rate"].dimensions["Region"] == "Global"
    error_message = "CloudFront metrics need the Region=Global dimension."
  }

  assert {
    condition     = length(aws_sns_topic.this) + length(aws_sns_topic.us_east_1) == 0 && alltrue([for a in aws_cloudwatch_metric_alarm.regional : length(a.alarm_actions) == 0])
    error_message = "Without create_sns_topic there is no topic and no alarm action."
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 12 && output.dashboard_name == "librechat-test"
    error_message = "The dashboard shows the 10 alarm signals plus Redis connections and evictions."
  }
}

run "optional_sns_topic" {
  variables {
    create_sns_topic = true
    thresholds       = { "lambda-errors" = 1 }
  }

  assert {
    condition     = length(aws_sns_topic.this) + length(aws_sns_topic.us_east_1) == 2 && alltrue([for a in aws_cloudwatch_metric_alarm.regional : length(a.alarm_actions) == 1]) && length(aws_cloudwatch_metric_alarm.us_east_1["cloudfront-5xx-rate"].alarm_actions) == 1
    error_message = "With create_sns_topic every alarm notifies the topic of its own region."
  }

  assert {
    condition     = aws_sns_topic.this[0].kms_master_key_id == null && aws_sns_topic.us_east_1[0].kms_master_key_id == null
    error_message = "CloudWatch cannot publish to a topic encrypted with the AWS-managed aws/sns key."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.regional["lambda-errors"].threshold == 1
    error_message = "thresholds overrides must apply."
  }
}
