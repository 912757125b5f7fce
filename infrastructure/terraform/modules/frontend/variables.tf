variable "bucket_name" {
  description = "Name of the frontend bucket, e.g. librechat-frontend-dev."
  type        = string
}

variable "custom_domain" {
  description = "Public domain served by CloudFront (FR-021)."
  type        = string
}

variable "acm_certificate_arn" {
  description = "Existing ACM certificate in us-east-1 covering custom_domain (FR-023)."
  type        = string
}

variable "route53_zone_id" {
  description = "Existing hosted zone where the alias A record is created (FR-022)."
  type        = string
}

variable "api_domain_name" {
  description = "Host of the REST API ({id}.execute-api.{region}.amazonaws.com), origin of /api/* (FR-013)."
  type        = string
}

variable "api_stage_name" {
  description = "REST API stage, carried as the API origin's origin_path so public paths stay /api/*."
  type        = string
}

variable "api_origin_read_timeout" {
  description = "Seconds CloudFront waits for the first byte (and between bytes) from the API: a cold start plus the first SSE byte. 60 is the maximum without a quota increase."
  type        = number
  default     = 60
}

variable "client_image" {
  description = "Image the built LibreChat client is extracted from (FR-001); its /app/client/dist is the SPA."
  type        = string
  default     = "ghcr.io/danny-avila/librechat-api:v0.8.2-rc1"
}

variable "client_image_dist_path" {
  description = "Path of the built client inside client_image."
  type        = string
  default     = "/app/client/dist"
}

variable "client_dist_dir" {
  description = "Optional local directory with an already built client (npm run build); when set it is uploaded instead of extracting client_image."
  type        = string
  default     = null
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"
}
