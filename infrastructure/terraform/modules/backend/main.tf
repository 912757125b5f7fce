data "aws_vpc" "this" { id = var.vpc_id }
data "aws_region" "this" {}
data "aws_caller_identity" "this" {}

locals {
  name       = "${var.name_prefix}-api"
  context    = abspath(coalesce(var.docker_context, "${path.module}/../../../.."))
  dockerfile = abspath(coalesce(var.dockerfile, "${path.module}/docker/Dockerfile"))
  sources    = sort(distinct(flatten([for g in var.image_source_globs : tolist(fileset(local.context, g))])))
  image_tag  = coalesce(var.image_tag, "src-${substr(sha1(join("", concat([coalesce(var.librechat_version, "-")], [for f in local.sources : filesha1("${local.context}/${f}")]))), 0, 16)}")

  diag_arn = try(startswith(var.diagnostics_token_ssm, "arn:") ? var.diagnostics_token_ssm : "arn:aws:ssm:${data.aws_region.this.name}:${data.aws_caller_identity.this.account_id}:parameter/${trimprefix(var.diagnostics_token_ssm, "/")}", null)
  ssm_arns = compact(concat(values(var.ssm_secrets), [local.diag_arn]))

  # Secrets are passed by reference only: the shim resolves SHIM_SSM_SECRETS at cold start.
  environment = merge(var.environment_variables, {
    DOMAIN_SERVER      = "https://${var.custom_domain}"
    DOMAIN_CLIENT      = "https://${var.custom_domain}"
    CONFIG_PATH        = "/tmp/librechat.yaml"
    CONFIG_S3_BUCKET   = var.config_s3_bucket
    CONFIG_S3_KEY      = var.config_s3_key
    CONFIG_DOMAIN_FROM = var.config_domain_from
    CONFIG_DOMAIN_TO   = var.custom_domain
    USE_REDIS          = "true"
    REDIS_URI          = "redis://${var.redis_endpoint}:${var.redis_port}"
    AWS_BUCKET_NAME    = var.files_bucket_name
    SHIM_SSM_SECRETS   = join(",", [for k in sort(keys(var.ssm_secrets)) : "${k}=${var.ssm_secrets[k]}"])
  }, var.diagnostics_token_ssm == null ? {} : { SHIM_DIAGNOSTICS_TOKEN_SSM = var.diagnostics_token_ssm })

  # Separate rule resources (FR-019): no cycle with the Redis group, removed before the groups.
  egress = {
    redis = { sg = var.redis_security_group_id, cidr = null, from = var.redis_port, to = var.redis_port, what = "ElastiCache Redis (FR-040)" }
    vpc   = { sg = null, cidr = data.aws_vpc.this.cidr_block, from = 0, to = 65535, what = "DocumentDB and Cloud Map services in the VPC" }
    https = { sg = null, cidr = "0.0.0.0/0", from = 443, to = 443, what = "HTTPS to AWS APIs (S3, SSM) and LLM providers" }
  }
}

resource "aws_ecr_repository" "api" {
  name         = local.name
  force_delete = true # SC-005: destroy removes the images too
  image_scanning_configuration { scan_on_push = true }
}

resource "aws_ecr_lifecycle_policy" "api" {
  repository = aws_ecr_repository.api.name
  policy = jsonencode({ rules = [{ rulePriority = 1, description = "Keep the last 5 images", action = { type = "expire" },
  selection = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 5 } }] })
}

# Build and push on apply whenever the image sources change (the tag is their hash).
resource "terraform_data" "image" {
  count            = var.build_image ? 1 : 0
  triggers_replace = [aws_ecr_repository.api.repository_url, local.image_tag]
  provisioner "local-exec" {
    command = "${path.module}/build-image.sh"
    environment = { REPO = aws_ecr_repository.api.repository_url, TAG = local.image_tag, REGION = data.aws_region.this.name,
      CONTEXT = local.context, DOCKERFILE = local.dockerfile, PLATFORM = var.architecture == "arm64" ? "linux/arm64" : "linux/amd64",
    LIBRECHAT_VERSION = coalesce(var.librechat_version, "") }
  }
}

resource "aws_cloudwatch_log_group" "api" {
  name              = "/aws/lambda/${local.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_iam_role" "lambda" {
  name               = "${local.name}-lambda"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }] })
}

resource "aws_iam_role_policy_attachment" "vpc" {
  role       = aws_iam_role.lambda.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

# Least privilege: the listed SSM parameters, the one config object, the uploads bucket.
resource "aws_iam_role_policy" "lambda" {
  name = "${local.name}-access"
  role = aws_iam_role.lambda.id
  policy = jsonencode({ Version = "2012-10-17", Statement = concat(
    length(local.ssm_arns) == 0 ? [] : [{ Sid = "Secrets", Effect = "Allow", Action = ["ssm:GetParameter", "ssm:GetParameters"], Resource = local.ssm_arns }], [
      { Sid = "Config", Effect = "Allow", Action = ["s3:GetObject"], Resource = "arn:aws:s3:::${var.config_s3_bucket}/${var.config_s3_key}" },
      { Sid = "FilesRW", Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource = "${var.files_bucket_arn}/*" },
      { Sid = "FilesList", Effect = "Allow", Action = ["s3:ListBucket"], Resource = var.files_bucket_arn },
  ]) })
}

resource "aws_security_group" "lambda" {
  name        = "${local.name}-lambda"
  description = "LibreChat Lambda: egress to Redis, VPC services and HTTPS"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "lambda" {
  for_each                     = local.egress
  security_group_id            = aws_security_group.lambda.id
  referenced_security_group_id = each.value.sg
  cidr_ipv4                    = each.value.cidr
  ip_protocol                  = "tcp"
  from_port                    = each.value.from
  to_port                      = each.value.to
  description                  = each.value.what
}

resource "aws_lambda_function" "api" {
  function_name = local.name
  role          = aws_iam_role.lambda.arn
  package_type  = "Image"
  image_uri     = "${aws_ecr_repository.api.repository_url}:${local.image_tag}"
  architectures = [var.architecture]
  memory_size   = var.memory_size
  timeout       = 900 # the streaming integration waits up to 900000 ms
  environment { variables = local.environment }
  vpc_config {
    subnet_ids         = var.private_subnet_ids
    security_group_ids = concat([aws_security_group.lambda.id], var.additional_security_group_ids)
  }
  lifecycle {
    precondition {
      condition     = length(setintersection(keys(var.environment_variables), keys(var.ssm_secrets))) == 0
      error_message = "A secret name is also in environment_variables: secrets go only through ssm_secrets."
    }
  }
  depends_on = [aws_cloudwatch_log_group.api, aws_iam_role_policy_attachment.vpc, aws_iam_role_policy.lambda, terraform_data.image]
}
