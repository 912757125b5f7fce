variable "name_prefix" {
  description = "Prefix of resource names; the replication group is <prefix>-redis."
  type        = string
}

variable "vpc_id" {
  description = "Existing VPC (FR-038)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets of the cache subnet group (FR-038)."
  type        = list(string)
}

variable "lambda_security_group_id" {
  description = "Security group of the Lambda function; admitted on 6379 (FR-041)."
  type        = string
}

variable "node_type" {
  description = "Cache node type (small, FR-037)."
  type        = string
  default     = "cache.t4g.micro"
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
}
