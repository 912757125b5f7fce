# The 10 alarms as [{name, region}] (CloudFront's in us-east-1); docs/contracts.md section 1
output "alarms" {
  value = concat([for a in aws_cloudwatch_metric_alarm.regional : { name = a.alarm_name, region = data.aws_region.this.name }],
  [for a in aws_cloudwatch_metric_alarm.us_east_1 : { name = a.alarm_name, region = data.aws_region.us_east_1.name }])
}
# CloudWatch dashboard name (in the deployment region)
output "dashboard_name" { value = aws_cloudwatch_dashboard.this.dashboard_name }
# The regional alarm topic (create_sns_topic), or null: the canary module reuses it
output "alarm_topic_arn" { value = one(aws_sns_topic.this[*].arn) }
