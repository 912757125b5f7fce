variable "name" {
  description = "Name of the REST API (e.g. librechat-dev-api)."
  type        = string
}

variable "region" {
  description = "Region of the REST API and of the Lambda function it invokes."
  type        = string
}

variable "lambda_function_arn" {
  description = "ARN of the Lambda function (unqualified) that serves /api and /api/{proxy+}."
  type        = string
}

variable "stage_name" {
  description = "Stage name. REST APIs cannot serve from the root; CloudFront carries it as origin_path so public paths stay /api/*."
  type        = string
  default     = "prod"
}

variable "integration_timeout_ms" {
  description = "Integration timeout (timeoutInMillis). Streaming integrations may use up to 900000 (15 min)."
  type        = number
  default     = 900000
  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 900000
    error_message = "integration_timeout_ms must be between 50 and 900000."
  }
}

variable "cors_allowed_origin" {
  description = "Value of Access-Control-Allow-Origin in the OPTIONS (mock) preflight response, e.g. https://lambda-test.sandbox.data.apro.is."
  type        = string
}
