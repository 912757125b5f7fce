variable "region" {
  description = "Region of the deployment (Lambda, API Gateway, Redis, buckets)."
  type        = string
  default     = "eu-west-1"
}

variable "environment" {
  description = "Environment name; used in bucket names and the default name prefix."
  type        = string
  default     = "dev"
}

variable "name_prefix" {
  description = "Prefix of resource and alarm names; null = librechat-<environment>."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "Existing VPC (referenced, not created)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Existing private subnets (with NAT) for Lambda and Redis."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Existing security groups by role; all are attached to the Lambda function (e.g. shared_services, which DocumentDB admits)."
  type        = map(string)
  default     = {}
}

variable "database_endpoints" {
  description = "Existing databases, for reference (the function gets MONGO_URI from SSM)."
  type        = map(string)
  default     = {}
}

variable "route53_zone_id" {
  description = "Existing hosted zone of custom_domain."
  type        = string
}

variable "acm_certificate_arn" {
  description = "Existing ACM certificate (us-east-1) for custom_domain."
  type        = string
}

variable "custom_domain" {
  description = "Public domain, e.g. lambda-test.sandbox.data.apro.is."
  type        = string
}

variable "config_s3_bucket" {
  description = "Bucket of librechat.yaml (may be in another account; its bucket policy must admit the function's role)."
  type        = string
}

variable "config_s3_key" {
  description = "Key of librechat.yaml."
  type        = string
}

variable "lambda_environment" {
  description = "Plain environment of the function (aprochat-api task definition, without secrets and without HOST/PORT/TRUST_PROXY/ASSETS_URL)."
  type        = map(string)
  default     = {}
}

variable "ssm_secrets" {
  description = "Secrets as NAME => SSM parameter ARN; resolved by the shim at cold start."
  type        = map(string)
  default     = {}
}

variable "diagnostics_token_ssm" {
  description = "Optional SSM parameter (name or ARN) with the shim's diagnostics token; null disables /api/__shim/*."
  type        = string
  default     = null
}

variable "build_image" {
  description = "Build and push the Lambda image with the local docker CLI during apply."
  type        = bool
  default     = true
}

variable "librechat_version" {
  description = "LibreChat image tag the Lambda image is built on; null = the Dockerfile's ARG LIBRECHAT_VERSION (the version the tests run)."
  type        = string
  default     = null
}

variable "image_tag" {
  description = "Pin the image tag (e.g. one pushed by task deploy:image); null = hash of the image sources."
  type        = string
  default     = null
}

variable "client_dist_dir" {
  description = "Optional local build of the LibreChat client to upload instead of extracting it from the image."
  type        = string
  default     = null
}

variable "create_alarm_topic" {
  description = "Create SNS topics for alarm notifications."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
