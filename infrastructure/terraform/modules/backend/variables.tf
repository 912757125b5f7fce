variable "name_prefix" {
  description = "Prefix of resource names, e.g. librechat-dev (function <prefix>-api, ECR repository <prefix>-api)."
  type        = string
}

variable "custom_domain" {
  description = "Public domain of the deployment (DOMAIN_SERVER/DOMAIN_CLIENT, CONFIG_DOMAIN_TO)."
  type        = string
}

variable "vpc_id" {
  description = "Existing VPC the function joins (FR-020)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets of the function (need a NAT route for HTTPS egress)."
  type        = list(string)
}

variable "additional_security_group_ids" {
  description = "Existing security groups added to the function (e.g. the shared-services group that DocumentDB admits)."
  type        = list(string)
  default     = []
}

variable "redis_security_group_id" {
  description = "Security group of the Redis cluster; the function's group gets an egress rule to it on the Redis port (FR-040)."
  type        = string
}

variable "redis_endpoint" {
  description = "Redis primary endpoint host (REDIS_URI=redis://host:port, FR-039)."
  type        = string
}

variable "redis_port" {
  description = "Redis port."
  type        = number
  default     = 6379
}

variable "files_bucket_name" {
  description = "Bucket for user uploads (AWS_BUCKET_NAME, FR-030..033); created by the caller with the s3-bucket registry module."
  type        = string
}

variable "files_bucket_arn" {
  description = "ARN of the uploads bucket (read/write for the function)."
  type        = string
}

variable "config_s3_bucket" {
  description = "Bucket holding librechat.yaml (read at cold start, FR-026)."
  type        = string
}

variable "config_s3_key" {
  description = "Key of librechat.yaml in config_s3_bucket; the function may read exactly this object."
  type        = string
}

variable "config_domain_from" {
  description = "Domain replaced in librechat.yaml by custom_domain at cold start (FR-027)."
  type        = string
  default     = "genai.sandbox.data.apro.is"
}

variable "environment_variables" {
  description = "Plain (non-secret) environment of the function, from the aprochat-api task definition (FR-025). Lambda-reserved keys are refused."
  type        = map(string)
  default     = {}
  validation {
    condition = alltrue([for k in keys(var.environment_variables) :
      !contains(["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_EXECUTION_ENV", "AWS_LAMBDA_RUNTIME_API", "_HANDLER", "_X_AMZN_TRACE_ID", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"], k)
      && !startswith(k, "AWS_LAMBDA_")
    ])
    error_message = "environment_variables contains a key Lambda reserves (AWS_REGION and friends are set by Lambda itself)."
  }
}

variable "ssm_secrets" {
  description = "Secrets as NAME => SSM parameter ARN (FR-024). Passed to the shim as SHIM_SSM_SECRETS (NAME=arn,...) and resolved at cold start; values never enter env or state."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for v in values(var.ssm_secrets) : can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/", v))])
    error_message = "ssm_secrets values must be SSM parameter ARNs."
  }
}

variable "diagnostics_token_ssm" {
  description = "Optional SSM parameter (name or ARN) holding the shim's diagnostics token (SHIM_DIAGNOSTICS_TOKEN_SSM); null disables diagnostics."
  type        = string
  default     = null
}

variable "memory_size" {
  description = "Function memory in MB."
  type        = number
  default     = 1024
}

variable "architecture" {
  description = "Function architecture; must match the image (x86_64 or arm64)."
  type        = string
  default     = "x86_64"
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 30
}

variable "build_image" {
  description = "Build and push the image with the local docker CLI during apply (FR-016). false: push it yourself (task deploy:image) under image_tag."
  type        = bool
  default     = true
}

variable "docker_context" {
  description = "Docker build context; null = the repository root (the image compiles the Rust shim of the workspace)."
  type        = string
  default     = null
}

variable "dockerfile" {
  description = "Dockerfile path; null = <module>/docker/Dockerfile."
  type        = string
  default     = null
}

variable "image_source_globs" {
  description = "Globs (relative to docker_context) whose content is hashed into the image tag: a change rebuilds and redeploys."
  type        = list(string)
  default     = ["Cargo.toml", "Cargo.lock", "shim/**", "crates/proc/**", "crates/wire/**", "infrastructure/terraform/modules/backend/docker/**"]
}

variable "librechat_version" {
  description = "LibreChat image tag the Lambda image is built on (e.g. v0.8.6); null = the Dockerfile's ARG LIBRECHAT_VERSION, the version the real-LibreChat tests run."
  type        = string
  default     = null
}

variable "image_tag" {
  description = "Image tag override; null = src-<hash of image_source_globs>."
  type        = string
  default     = null
}
