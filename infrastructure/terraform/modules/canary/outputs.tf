# The canary's two alarms as [{name, region}] (the console's alarms panel; contracts section 7)
output "alarms" { value = [for a in aws_cloudwatch_metric_alarm.this : { name = a.alarm_name, region = data.aws_region.this.name }] }
# Function and log group (the console reads the EMF records' history from the metrics)
output "function_name" { value = aws_lambda_function.this.function_name }
output "log_group_name" { value = aws_cloudwatch_log_group.this.name }
output "schedule_name" { value = aws_scheduler_schedule.this.name }
