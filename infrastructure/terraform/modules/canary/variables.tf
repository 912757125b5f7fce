variable "name_prefix" {
  description = "Prefix of every name, e.g. librechat-dev (function <prefix>-canary, alarms <prefix>-probe-unhealthy and <prefix>-sse-buffered)."
  type        = string
}

variable "environment" {
  description = "The environment's name: the canary's metric dimension (LibreChat/Probe, Environment)."
  type        = string
}

variable "outputs_json" {
  description = "The deployment's outputs in the `terraform output -json` shape (docs/contracts.md section 1), given to the canary as OPSCONSOLE_CANARY_OUTPUTS."
  type        = string
}

variable "token_ssm_parameter" {
  description = "Name or ARN of the SSM parameter holding the shim's diagnostics token (the canary reads it with ssm:GetParameter); null: no SSE check, SseVerdict not emitted."
  type        = string
  default     = null
}

variable "web_probe" {
  description = "The web mode (the path browsers take: log in, POST the chat, GET its stream): the agent's id, the probe user's email and the SSM parameter (name or ARN) of its password, which the canary reads with ssm:GetParameter; prompt optional. null: the API-key chat mode."
  type = object({
    agent_id               = string
    email                  = string
    password_ssm_parameter = string
    prompt                 = optional(string)
  })
  default = null
}

variable "package_path" {
  description = "The canary's zip from `cargo lambda build --release -p canary --output-format zip` (target/lambda/canary/bootstrap.zip). Used when image_uri is empty."
  type        = string
  default     = ""
}

variable "image_uri" {
  description = "Instead of a zip: an image of the project's ECR repository whose command runs the canary binary."
  type        = string
  default     = ""
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression of the runs."
  type        = string
  default     = "rate(5 minutes)"
}

variable "memory_size" {
  description = "Function memory in MB (README: the measured peak and the cost at this size)."
  type        = number
  default     = 128
}

variable "timeout" {
  description = "Function timeout in seconds; the probe's own budget is OPSCONSOLE_CANARY_TIMEOUT_SECS (20)."
  type        = number
  default     = 60
}

variable "log_retention_days" {
  description = "Retention of the canary's log group (its EMF records and reports); a year, as CKV_AWS_338 asks (about 0.05 GB a year, README)."
  type        = number
  default     = 365
}

variable "alarm_topic_arn" {
  description = "SNS topic of the two alarms (monitoring's alarm_topic_arn); null: no action."
  type        = string
  default     = null
}
