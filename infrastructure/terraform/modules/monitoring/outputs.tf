output "alarms" {
  description = "The 10 alarms as [{name, region}] (CloudFront's in us-east-1); docs/contracts.md section 1."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.regional : { name = a.alarm_name, region = data.aws_region.this.name }],
    [for a in aws_cloudwatch_metric_alarm.us_east_1 : { name = a.alarm_name, region = data.aws_region.us_east_1.name }],
  )
}

output "alarm_suffixes" {
  description = "The alarm name suffixes (keys of locals.alarms), sorted."
  value       = sort(keys(local.alarms))
}

output "dashboard_name" {
  description = "CloudWatch dashboard name (in the deployment region)."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "sns_topic_arns" {
  description = "SNS topics receiving alarm notifications ([] unless create_sns_topic)."
  value       = concat(aws_sns_topic.regional[*].arn, aws_sns_topic.us_east_1[*].arn)
}
