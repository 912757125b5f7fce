data "aws_region" "this" {}
data "aws_caller_identity" "this" {}

locals {
  name  = "${var.name_prefix}-canary"
  image = var.image_uri != ""
  # A missing zip (offline tests, plan before `cargo lambda build`) gives no hash.
  zip_hash = !local.image && fileexists(var.package_path) ? filebase64sha256(var.package_path) : null
  dims     = { Environment = var.environment }
  assume   = { for svc in ["lambda", "scheduler"] : svc => jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "${svc}.amazonaws.com" } }] }) }
  token_arn = var.token_ssm_parameter == null ? null : (startswith(var.token_ssm_parameter, "arn:") ? var.token_ssm_parameter
  : "arn:aws:ssm:${data.aws_region.this.name}:${data.aws_caller_identity.this.account_id}:parameter/${trimprefix(var.token_ssm_parameter, "/")}")
  web_password_arn = var.web_probe == null ? null : (startswith(var.web_probe.password_ssm_parameter, "arn:") ? var.web_probe.password_ssm_parameter
  : "arn:aws:ssm:${data.aws_region.this.name}:${data.aws_caller_identity.this.account_id}:parameter/${trimprefix(var.web_probe.password_ssm_parameter, "/")}")
  # The web mode's variables (canary/src/lib.rs), all or none.
  web_env = var.web_probe == null ? {} : merge({
    OPSCONSOLE_CANARY_WEB_AGENT        = var.web_probe.agent_id
    OPSCONSOLE_CANARY_WEB_EMAIL        = var.web_probe.email
    OPSCONSOLE_CANARY_WEB_PASSWORD_SSM = var.web_probe.password_ssm_parameter
  }, var.web_probe.prompt == null ? {} : { OPSCONSOLE_CANARY_WEB_PROMPT = var.web_probe.prompt })
  # The canary's two alarms (contracts section 7): not healthy twice in a row (no run at all
  # counts: missing data breaches); the SSE verdict BUFFERED or worse twice in a row.
  alarms = {
    "probe-unhealthy" = { metric = "Healthy", stat = "Minimum", op = "LessThanThreshold", threshold = 1, missing = "breaching" }
    "sse-buffered"    = { metric = "SseVerdict", stat = "Minimum", op = "GreaterThanOrEqualToThreshold", threshold = 1, missing = "notBreaching" }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${local.name}"
  retention_in_days = var.log_retention_days
}



resource "aws_iam_role" "this" {
  name               = local.name
  assume_role_policy = local.assume["lambda"]
}

# Least privilege: its own log group, the token parameter and the web probe user's password
# parameter; nothing else (checks health,sse).
resource "aws_iam_role_policy" "this" {
  role = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = concat(
    [{ Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "${aws_cloudwatch_log_group.this.arn}:*" }],
    local.token_arn == null ? [] : [{ Effect = "Allow", Action = "ssm:GetParameter", Resource = local.token_arn }],
  local.web_password_arn == null ? [] : [{ Effect = "Allow", Action = "ssm:GetParameter", Resource = local.web_password_arn }]) })
}

resource "aws_lambda_function" "this" {
  function_name    = local.name
  role             = aws_iam_role.this.arn
  package_type     = local.image ? "Image" : "Zip"
  image_uri        = local.image ? var.image_uri : null
  filename         = local.image ? null : var.package_path
  source_code_hash = local.zip_hash
  runtime          = local.image ? null : "provided.al2023"
  handler          = local.image ? null : "bootstrap"
  architectures    = ["x86_64"]
  memory_size      = var.memory_size
  timeout          = var.timeout
  environment {
    variables = merge({ OPSCONSOLE_CANARY_ENV = var.environment, OPSCONSOLE_CANARY_OUTPUTS = var.outputs_json },
    var.token_ssm_parameter == null ? {} : { OPSCONSOLE_CANARY_TOKEN_SSM = var.token_ssm_parameter }, local.web_env)
  }
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}



resource "aws_iam_role" "scheduler" {
  name               = "${local.name}-scheduler"
  assume_role_policy = local.assume["scheduler"]
}

resource "aws_iam_role_policy" "scheduler" {
  role   = aws_iam_role.scheduler.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "lambda:InvokeFunction", Resource = aws_lambda_function.this.arn }] })
}

resource "aws_scheduler_schedule" "this" {
  name                = local.name
  schedule_expression = var.schedule_expression
  flexible_time_window { mode = "OFF" }
  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler.arn
    # The event the canary receives (canary/tests/it: the same shape).
    input = jsonencode({ source = "aws.scheduler", schedule_arn = "<aws.scheduler.schedule-arn>", scheduled_time = "<aws.scheduler.scheduled-time>", execution_id = "<aws.scheduler.execution-id>", attempt_number = "<aws.scheduler.attempt-number>" })
    retry_policy { maximum_retry_attempts = 0 }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "LibreChat/Probe ${each.value.metric} from the scheduled canary; see modules/canary/README.md"
  namespace           = "LibreChat/Probe"
  metric_name         = each.value.metric
  dimensions          = local.dims
  statistic           = each.value.stat
  period              = 300
  evaluation_periods  = 2
  threshold           = each.value.threshold
  comparison_operator = each.value.op
  treat_missing_data  = each.value.missing
  alarm_actions       = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
}
