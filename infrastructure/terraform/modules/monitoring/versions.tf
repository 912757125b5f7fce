terraform {
  # CloudFront's metrics and alarms live in us-east-1: the caller passes aws.us_east_1.
  required_providers { aws = { source = "hashicorp/aws", version = "~> 5.0", configuration_aliases = [aws.us_east_1] } }
}
