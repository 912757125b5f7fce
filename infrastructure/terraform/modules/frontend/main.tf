module "s3_frontend" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "~> 4.0"

  bucket        = var.bucket_name
  force_destroy = true # SC-005; versioning stays off (FR-002)

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  attach_deny_insecure_transport_policy = true
  attach_policy                         = true
  policy = jsonencode({ Version = "2012-10-17", Statement = [{
    Sid       = "CloudFrontRead", Effect = "Allow", Principal = { Service = "cloudfront.amazonaws.com" }
    Action    = "s3:GetObject", Resource = "arn:aws:s3:::${var.bucket_name}/*"
    Condition = { StringEquals = { "AWS:SourceArn" = module.cloudfront.cloudfront_distribution_arn } }
  }] })

}

resource "aws_cloudfront_origin_access_control" "s3" {
  name                              = "${var.bucket_name}-oac"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_function" "spa" {
  name    = "${var.bucket_name}-spa"
  runtime = "cloudfront-js-2.0"
  comment = "SPA fallback for the S3 behaviour"
  code    = file("${path.module}/spa.js")
  publish = true
}

module "cloudfront" {
  source  = "terraform-aws-modules/cloudfront/aws"
  version = "~> 4.0"

  aliases     = [var.custom_domain]
  comment     = "LibreChat ${var.custom_domain}"
  price_class = var.price_class

  origin = {
    s3 = {
      domain_name              = module.s3_frontend.s3_bucket_bucket_regional_domain_name
      origin_access_control_id = aws_cloudfront_origin_access_control.s3.id
    }
    api = {
      domain_name = var.api_domain_name
      origin_path = "/${var.api_stage_name}"
      custom_origin_config = { http_port = 80, https_port = 443, origin_protocol_policy = "https-only", origin_ssl_protocols = ["TLSv1.2"],
      origin_read_timeout = var.api_origin_read_timeout }
    }
  }

  default_cache_behavior = {
    target_origin_id       = "s3"
    viewer_protocol_policy = "redirect-to-https"
    use_forwarded_values   = false                                  # the module defaults to legacy forwarded_values
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6" # CachingOptimized
    compress               = true
    function_association   = { viewer-request = { function_arn = aws_cloudfront_function.spa.arn } }
  }

  ordered_cache_behavior = [{
    path_pattern             = "/api/*"
    target_origin_id         = "api"
    viewer_protocol_policy   = "https-only"
    allowed_methods          = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    compress                 = false # compression would buffer SSE
    use_forwarded_values     = false
    cache_policy_id          = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" # CachingDisabled
    origin_request_policy_id = "b689b0a8-53d0-40ab-baf2-68738e2966ac" # AllViewerExceptHostHeader
  }]

  viewer_certificate = { acm_certificate_arn = var.acm_certificate_arn, ssl_support_method = "sni-only", minimum_protocol_version = "TLSv1.2_2021" }
}

resource "aws_route53_record" "site" {
  zone_id = var.route53_zone_id
  name    = var.custom_domain
  type    = "A"

  alias {
    name                   = module.cloudfront.cloudfront_distribution_domain_name
    zone_id                = module.cloudfront.cloudfront_distribution_hosted_zone_id
    evaluate_target_health = false
  }
}

locals {
  dist_hash = var.client_dist_dir == null ? "" : sha1(join("", [for f in sort(fileset(var.client_dist_dir, "**")) : filesha1("${var.client_dist_dir}/${f}")]))
}

# FR-001: extract the built client from the LibreChat image (or take a local build) and upload it.
resource "terraform_data" "client" {
  triggers_replace = [module.s3_frontend.s3_bucket_id, var.client_image, var.client_image_dist_path, local.dist_hash]

  provisioner "local-exec" {
    command = "${path.module}/upload.sh"
    environment = {
      BUCKET = module.s3_frontend.s3_bucket_id, DIST_DIR = var.client_dist_dir == null ? "" : abspath(var.client_dist_dir)
      IMAGE  = var.client_image, IMAGE_DIST_PATH = var.client_image_dist_path
    }
  }
}
