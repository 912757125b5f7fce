# Offline: mock_provider fakes the AWS API; no image is built (build_image = false, or plan only).
mock_provider "aws" {
  override_data {
    target = data.aws_vpc.this
    values = { cidr_block = "10.20.0.0/16" }
  }
  override_data {
    target = data.aws_region.this
    values = { name = "eu-west-1" }
  }
  override_data {
    target = data.aws_caller_identity.this
    values = { account_id = "123456789012" }
  }
  mock_resource "aws_ecr_repository" {
    defaults = { repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat-test-api" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/librechat-test-api-lambda" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:librechat-test-api" }
  }
}

variables {
  name_prefix             = "librechat-test"
  custom_domain           = "chat.example.com"
  vpc_id                  = "vpc-0123456789abcdef0"
  private_subnet_ids      = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  redis_security_group_id = "sg-0redis0000000000"
  redis_endpoint          = "redis.example.internal"
  files_bucket_name       = "librechat-lambda-files-test"
  files_bucket_arn        = "arn:aws:s3:::librechat-lambda-files-test"
  config_s3_bucket        = "genai-shared-config"
  config_s3_key           = "lambda-test/librechat/librechat.yaml"
  build_image             = false
  docker_context          = "tests/fixtures/ctx"
  image_source_globs      = ["**"]
  environment_variables   = { LITELLM_BASE_URL = "http://litellm.dev-aprochat-core.local:4000/v1" }
  ssm_secrets = {
    JWT_SECRET = "arn:aws:ssm:eu-west-1:123456789012:parameter/ecs/genai/librechat/JWT_SECRET"
    MONGO_URI  = "arn:aws:ssm:eu-west-1:123456789012:parameter/ecs/genai/mongo/DB_URI"
  }
}

run "function_and_repository" {
  assert {
    condition     = aws_lambda_function.api.timeout == 900 && aws_lambda_function.api.package_type == "Image"
    error_message = "The function must be an image function with a 900 s timeout."
  }

  assert {
    condition     = aws_ecr_repository.api.force_delete == true
    error_message = "ECR force_delete must be on so destroy removes images (FR-012, SC-005)."
  }

  assert {
    condition     = startswith(aws_lambda_function.api.image_uri, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/librechat-test-api:src-")
    error_message = "The function must run the image from its ECR repository, tagged by source hash."
  }

  assert {
    condition     = length(terraform_data.image) == 0
    error_message = "build_image = false must not build."
  }

  assert {
    condition     = length(setintersection(keys(aws_lambda_function.api.environment[0].variables), ["JWT_SECRET", "MONGO_URI"])) == 0
    error_message = "Secrets must not be environment variables (only SSM references in SHIM_SSM_SECRETS)."
  }

  assert {
    condition     = aws_lambda_function.api.environment[0].variables["SHIM_SSM_SECRETS"] == "JWT_SECRET=arn:aws:ssm:eu-west-1:123456789012:parameter/ecs/genai/librechat/JWT_SECRET,MONGO_URI=arn:aws:ssm:eu-west-1:123456789012:parameter/ecs/genai/mongo/DB_URI"
    error_message = "SHIM_SSM_SECRETS must list NAME=arn pairs, comma-separated."
  }

  assert {
    condition = (aws_lambda_function.api.environment[0].variables["REDIS_URI"] == "redis://redis.example.internal:6379"
      && aws_lambda_function.api.environment[0].variables["USE_REDIS"] == "true"
      && aws_lambda_function.api.environment[0].variables["AWS_BUCKET_NAME"] == "librechat-lambda-files-test"
      && aws_lambda_function.api.environment[0].variables["CONFIG_S3_KEY"] == "lambda-test/librechat/librechat.yaml"
      && aws_lambda_function.api.environment[0].variables["CONFIG_DOMAIN_TO"] == "chat.example.com"
      && aws_lambda_function.api.environment[0].variables["DOMAIN_SERVER"] == "https://chat.example.com"
      && aws_lambda_function.api.environment[0].variables["LITELLM_BASE_URL"] == "http://litellm.dev-aprochat-core.local:4000/v1"
    && !contains(keys(aws_lambda_function.api.environment[0].variables), "SHIM_DIAGNOSTICS_TOKEN_SSM"))
    error_message = "The function environment misses a required variable (FR-025/026/027/032/039)."
  }

  assert {
    condition = (toset(jsondecode(aws_iam_role_policy.lambda.policy).Statement[0].Resource) == toset([
      "arn:aws:ssm:eu-west-1:123456789012:parameter/ecs/genai/librechat/JWT_SECRET",
      "arn:aws:ssm:eu-west-1:123456789012:parameter/ecs/genai/mongo/DB_URI",
      ]) && jsondecode(aws_iam_role_policy.lambda.policy).Statement[1].Resource == "arn:aws:s3:::genai-shared-config/lambda-test/librechat/librechat.yaml"
    && jsondecode(aws_iam_role_policy.lambda.policy).Statement[2].Resource == "arn:aws:s3:::librechat-lambda-files-test/*")
    error_message = "IAM must grant exactly the listed SSM parameters, the config object and the files bucket."
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : !contains(flatten([s.Resource]), "*") && !contains(flatten([s.Action]), "*")])
    error_message = "No wildcard resource or action in the function's policy."
  }

  assert {
    condition     = aws_vpc_security_group_egress_rule.lambda["redis"].referenced_security_group_id == "sg-0redis0000000000" && aws_vpc_security_group_egress_rule.lambda["redis"].from_port == 6379
    error_message = "The function's group must reach the Redis group on 6379 (FR-040)."
  }

  assert {
    condition     = toset(aws_lambda_function.api.vpc_config[0].subnet_ids) == toset(["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"])
    error_message = "The function must run in the private subnets (FR-020)."
  }
}

run "image_build_planned_and_keyed_on_sources" {
  command = plan
  variables {
    build_image = true
  }

  assert {
    condition     = length(terraform_data.image) == 1 && contains(terraform_data.image[0].triggers_replace, local.image_tag)
    error_message = "With build_image the image is built on apply, keyed on the source hash."
  }
}

run "changed_sources_change_the_tag" {
  variables {
    docker_context = "tests/fixtures/ctx2"
  }

  assert {
    condition     = output.image_uri != run.function_and_repository.image_uri
    error_message = "A changed image source must change the tag (and so rebuild and redeploy)."
  }
}

run "pinned_tag" {
  command = plan
  variables {
    image_tag = "manual-1"
  }

  assert {
    condition     = endswith(aws_lambda_function.api.image_uri, ":manual-1")
    error_message = "image_tag must override the computed tag."
  }
}

run "diagnostics_token_optional" {
  variables {
    diagnostics_token_ssm = "/opsconsole/dev/diagnostics-token"
  }

  assert {
    condition     = aws_lambda_function.api.environment[0].variables["SHIM_DIAGNOSTICS_TOKEN_SSM"] == "/opsconsole/dev/diagnostics-token"
    error_message = "SHIM_DIAGNOSTICS_TOKEN_SSM must carry the parameter name."
  }

  assert {
    condition     = contains(jsondecode(aws_iam_role_policy.lambda.policy).Statement[0].Resource, "arn:aws:ssm:eu-west-1:123456789012:parameter/opsconsole/dev/diagnostics-token")
    error_message = "The function must be allowed to read the diagnostics token parameter."
  }
}

run "secret_in_plain_env_is_refused" {
  command = plan
  variables {
    environment_variables = { JWT_SECRET = "hunter2" }
  }
  expect_failures = [aws_lambda_function.api]
}

run "reserved_env_key_is_refused" {
  command = plan
  variables {
    environment_variables = { AWS_REGION = "eu-west-1" }
  }
  expect_failures = [var.environment_variables]
}
