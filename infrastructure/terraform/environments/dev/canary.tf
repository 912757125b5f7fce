# The optional scheduled SSE canary (issue 14): all of it in this file and modules/canary, which
# infrastructure/scripts/check.sh counts apart from SC-006's budget for the seeds' deployment.
# The scheduled SSE canary (optional; issue 14). Its outputs document is the console's contract
# (docs/contracts.md section 1) built from the same values as outputs.tf.
module "canary" {
  source = "../../modules/canary"
  count  = var.enable_canary ? 1 : 0

  name_prefix         = local.name_prefix
  environment         = var.environment
  token_ssm_parameter = var.diagnostics_token_ssm
  web_probe           = var.canary_web_probe
  package_path        = var.canary_package_path
  alarm_topic_arn     = module.monitoring.alarm_topic_arn
  outputs_json = jsonencode({ for k, v in {
    site_url                   = module.frontend.site_url, region = var.region, cloudfront_distribution_id = module.frontend.distribution_id,
    lambda_function_name       = module.backend.function_name, lambda_log_group_name = module.backend.log_group_name,
    redis_replication_group_id = module.redis.replication_group_id, alarms = module.monitoring.alarms
  } : k => { value = v } })
}

# The canary's 2 alarms as [{name, region}] when modules/canary is enabled, else [] (contracts section 7)
output "canary_alarms" { value = flatten(module.canary[*].alarms) }

variable "enable_canary" {
  description = "Deploy the scheduled SSE canary (modules/canary); it judges SSE when diagnostics_token_ssm is set, else checks health only."
  type        = bool
  default     = true
}

variable "canary_web_probe" {
  description = "The canary's web mode (modules/canary's web_probe): a probe user's email, the SSM parameter of its password and an agent's id; null: the API-key chat mode. The web mode takes the path browsers take (issue 23)."
  type = object({
    agent_id               = string
    email                  = string
    password_ssm_parameter = string
    prompt                 = optional(string)
  })
  default = null
}

variable "canary_package_path" {
  description = "The canary's zip (`cargo lambda build --release -p canary --output-format zip`), relative to this directory."
  type        = string
  default     = "../../../../target/lambda/canary/bootstrap.zip"
}
