# Runs only in the copy scripts/check.sh makes with the registry modules stubbed (see
# modules/frontend/tests-stubbed): asserts what we pass to the s3-bucket module for uploads.
mock_provider "aws" {
  override_data {
    target = module.backend.data.aws_vpc.this
    values = { cidr_block = "10.20.0.0/16" }
  }
}

mock_provider "aws" {
  alias = "us_east_1"
}

run "files_bucket" {
  command = plan

  assert {
    condition = (module.files_bucket.stub_source.source == "terraform-aws-modules/s3-bucket/aws"
      && module.files_bucket.stub_inputs.bucket == "librechat-lambda-files-dev"
    && module.files_bucket.stub_inputs.force_destroy == true)
    error_message = "FR-031/034: librechat-lambda-files-<env> with the s3-bucket module and force_destroy."
  }

  assert {
    condition     = module.files_bucket.stub_inputs.cors_rule[0].allowed_origins == ["https://lambda-test.sandbox.data.apro.is"]
    error_message = "Uploads CORS admits the site's origin."
  }
}
