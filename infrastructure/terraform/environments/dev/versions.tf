# State in S3 with DynamoDB locking, as the seeds' T002. Another account: override with
# `terraform init -backend-config=backend.hcl` (bucket, region, dynamodb_table); see README.
terraform {
  required_version = ">= 1.7"

  backend "s3" {
    bucket         = "terraform-state-bucket"
    key            = "librechat-lambda/dev/terraform.tfstate"
    region         = "eu-west-1"
    encrypt        = true
    dynamodb_table = "terraform-locks"
  }

  required_providers { aws = { source = "hashicorp/aws", version = "~> 5.0" } }
}

provider "aws" {
  region = var.region
  default_tags { tags = local.tags }
}

# CloudFront's metrics and alarms live in us-east-1 (so does its ACM certificate).
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
  default_tags { tags = local.tags }
}
