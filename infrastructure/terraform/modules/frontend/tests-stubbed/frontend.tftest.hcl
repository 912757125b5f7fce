# Runs only in the copy scripts/check.sh makes with the registry modules stubbed: each stub
# outputs the arguments it received (stub_inputs) and its pinned source (stub_source), so this
# asserts what we pass to the cloudfront and s3-bucket modules. Plan only: no upload runs.
mock_provider "aws" {
  override_during = plan
  mock_resource "aws_cloudfront_function" {
    defaults = { arn = "arn:aws:cloudfront::123456789012:function/librechat-frontend-test-spa" }
  }
}

variables {
  bucket_name         = "librechat-frontend-test"
  custom_domain       = "chat.example.com"
  acm_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
  route53_zone_id     = "Z123EXAMPLE"
  api_domain_name     = "abc123.execute-api.eu-west-1.amazonaws.com"
  api_stage_name      = "prod"
}

run "cloudfront_and_bucket" {
  command = plan

  assert {
    condition     = module.cloudfront.stub_source.version == "~> 4.0" && module.s3_frontend.stub_source.version == "~> 4.0"
    error_message = "FR-004/005: terraform-aws-modules cloudfront and s3-bucket pinned ~> 4.0."
  }

  assert {
    condition = (length(module.cloudfront.stub_inputs.ordered_cache_behavior) == 1
      && module.cloudfront.stub_inputs.ordered_cache_behavior[0].path_pattern == "/api/*"
      && module.cloudfront.stub_inputs.ordered_cache_behavior[0].target_origin_id == "api"
      && module.cloudfront.stub_inputs.default_cache_behavior.target_origin_id == "s3"
    && module.cloudfront.stub_inputs.origin.api.domain_name == "abc123.execute-api.eu-west-1.amazonaws.com")
    error_message = "FR-013/014: /api/* to the API Gateway origin, everything else to S3."
  }

  assert {
    condition = (module.cloudfront.stub_inputs.ordered_cache_behavior[0].cache_policy_id == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
      && module.cloudfront.stub_inputs.ordered_cache_behavior[0].origin_request_policy_id == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
      && module.cloudfront.stub_inputs.ordered_cache_behavior[0].compress == false
      && length(module.cloudfront.stub_inputs.ordered_cache_behavior[0].allowed_methods) == 7
    && module.cloudfront.stub_inputs.ordered_cache_behavior[0].use_forwarded_values == false)
    error_message = "FR-015: /api/* is CachingDisabled + AllViewerExceptHostHeader, all methods, no compression, no forwarded_values."
  }

  assert {
    condition = (module.cloudfront.stub_inputs.origin.api.origin_path == "/prod"
    && module.cloudfront.stub_inputs.origin.api.custom_origin_config.origin_read_timeout == 60)
    error_message = "The API origin carries the stage as origin_path and waits 60 s for a cold start."
  }

  assert {
    condition = (module.cloudfront.stub_inputs.default_cache_behavior.function_association["viewer-request"].function_arn == aws_cloudfront_function.spa.arn
      && !can(module.cloudfront.stub_inputs.ordered_cache_behavior[0].function_association)
    && !contains(keys(module.cloudfront.stub_inputs), "custom_error_response"))
    error_message = "FR-003: SPA fallback on the S3 behaviour only; no distribution-wide custom error responses."
  }

  assert {
    condition     = aws_cloudfront_function.spa.runtime == "cloudfront-js-2.0" && aws_cloudfront_function.spa.code == file("${path.module}/spa.js")
    error_message = "The SPA function runs spa.js."
  }

  assert {
    condition     = module.cloudfront.stub_inputs.aliases == ["chat.example.com"] && module.cloudfront.stub_inputs.viewer_certificate.acm_certificate_arn == "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    error_message = "FR-021/023: custom domain with the existing certificate."
  }

  assert {
    condition = (module.s3_frontend.stub_inputs.force_destroy == true && !contains(keys(module.s3_frontend.stub_inputs), "versioning")
      && module.s3_frontend.stub_inputs.attach_policy == true && module.s3_frontend.stub_inputs.attach_deny_insecure_transport_policy == true
    && module.s3_frontend.stub_inputs.restrict_public_buckets == true)
    error_message = "FR-002: private bucket, force_destroy, no versioning, with the CloudFront-read and TLS-only policies."
  }

  assert {
    condition     = aws_route53_record.site.type == "A" && aws_route53_record.site.name == "chat.example.com"
    error_message = "FR-022: alias A record for the custom domain."
  }

  assert {
    condition     = contains(terraform_data.client.triggers_replace, "ghcr.io/danny-avila/librechat-api:v0.8.2-rc1")
    error_message = "FR-001: the client is uploaded again when the source image changes."
  }
}
