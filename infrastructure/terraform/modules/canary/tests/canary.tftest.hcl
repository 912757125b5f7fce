# Offline: the mock provider fakes the AWS API.
mock_provider "aws" {
  override_data {
    target = data.aws_region.this
    values = { name = "eu-west-1" }
  }
  override_data {
    target = data.aws_caller_identity.this
    values = { account_id = "123456789012" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:librechat-test-canary" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/librechat-test-canary" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/librechat-test-canary" }
  }
}

variables {
  name_prefix         = "librechat-test"
  environment         = "test"
  outputs_json        = "{}"
  token_ssm_parameter = "/librechat-test/shim-diagnostics-token"
  package_path        = "does-not-exist.zip"
  alarm_topic_arn     = "arn:aws:sns:eu-west-1:123456789012:librechat-test-alarms"
}

run "two_alarms_on_the_canary_metrics" {
  assert {
    condition     = toset([for a in output.alarms : a.name]) == toset(["librechat-test-probe-unhealthy", "librechat-test-sse-buffered"])
    error_message = "The canary's alarms are <prefix>-probe-unhealthy and <prefix>-sse-buffered (contracts section 7)."
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.namespace == "LibreChat/Probe" && a.dimensions.Environment == "test"])
    error_message = "Alarms watch LibreChat/Probe with dimension Environment."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["sse-buffered"].metric_name == "SseVerdict" && aws_cloudwatch_metric_alarm.this["probe-unhealthy"].treat_missing_data == "breaching"
    error_message = "sse-buffered on SseVerdict; no run at all is unhealthy."
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:librechat-test-alarms"])])
    error_message = "Both alarms notify the monitoring module's topic."
  }
}

run "scheduled_every_5_minutes_with_the_event_the_canary_expects" {
  assert {
    condition     = aws_scheduler_schedule.this.schedule_expression == "rate(5 minutes)" && aws_scheduler_schedule.this.target[0].arn == aws_lambda_function.this.arn
    error_message = "Default schedule: every 5 minutes, target the canary."
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.this.target[0].input).source == "aws.scheduler"
    error_message = "The scheduler's input is the event shape of canary/tests/it."
  }
}

run "zip_function_with_its_environment_and_a_retained_log_group" {
  assert {
    condition     = aws_lambda_function.this.package_type == "Zip" && aws_lambda_function.this.runtime == "provided.al2023" && local.zip_hash == null
    error_message = "A zip on provided.al2023; no hash while the zip is not built."
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables.OPSCONSOLE_CANARY_TOKEN_SSM == "/librechat-test/shim-diagnostics-token" && aws_lambda_function.this.environment[0].variables.OPSCONSOLE_CANARY_ENV == "test"
    error_message = "The canary's environment names the token parameter and the environment."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/librechat-test-canary" && aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "Log group of the function, a year."
  }
}

run "least_privilege_policy" {
  assert {
    condition     = jsondecode(aws_iam_role_policy.this.policy).Statement[1].Resource == "arn:aws:ssm:eu-west-1:123456789012:parameter/librechat-test/shim-diagnostics-token" && length(jsondecode(aws_iam_role_policy.this.policy).Statement) == 2
    error_message = "The canary may write its logs and read the token parameter, nothing else."
  }
}

run "without_a_token_no_ssm_access_and_no_token_variable" {
  variables {
    token_ssm_parameter = null
  }
  assert {
    condition     = length(jsondecode(aws_iam_role_policy.this.policy).Statement) == 1 && !contains(keys(aws_lambda_function.this.environment[0].variables), "OPSCONSOLE_CANARY_TOKEN_SSM")
    error_message = "Without a token parameter: no ssm:GetParameter, no OPSCONSOLE_CANARY_TOKEN_SSM."
  }
}

run "image_from_the_project_repository" {
  variables {
    image_uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat-test-api:canary"
  }
  assert {
    condition     = aws_lambda_function.this.package_type == "Image" && aws_lambda_function.this.runtime == null
    error_message = "With image_uri the function is an image."
  }
}

run "web_mode_sets_its_three_variables_and_may_read_the_password_parameter" {
  variables {
    web_probe = { agent_id = "agent_abc", email = "probe@example.org", password_ssm_parameter = "/librechat-test/probe-password" }
  }
  assert {
    condition = (aws_lambda_function.this.environment[0].variables.OPSCONSOLE_CANARY_WEB_AGENT == "agent_abc"
      && aws_lambda_function.this.environment[0].variables.OPSCONSOLE_CANARY_WEB_EMAIL == "probe@example.org"
      && aws_lambda_function.this.environment[0].variables.OPSCONSOLE_CANARY_WEB_PASSWORD_SSM == "/librechat-test/probe-password"
    && !contains(keys(aws_lambda_function.this.environment[0].variables), "OPSCONSOLE_CANARY_WEB_PROMPT"))
    error_message = "The web mode's agent, email and password parameter reach the canary (canary/src/lib.rs); no prompt unless set."
  }
  assert {
    condition     = length(jsondecode(aws_iam_role_policy.this.policy).Statement) == 3 && jsondecode(aws_iam_role_policy.this.policy).Statement[2].Resource == "arn:aws:ssm:eu-west-1:123456789012:parameter/librechat-test/probe-password"
    error_message = "The canary may read the probe user's password parameter, and only it besides the token."
  }
}

run "without_the_web_mode_no_web_variables" {
  assert {
    condition     = length([for k in keys(aws_lambda_function.this.environment[0].variables) : k if startswith(k, "OPSCONSOLE_CANARY_WEB_")]) == 0
    error_message = "Without web_probe the canary runs the API-key chat mode."
  }
}
