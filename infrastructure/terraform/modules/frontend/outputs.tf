# CloudFront distribution id
output "distribution_id" { value = module.cloudfront.cloudfront_distribution_id }
# CloudFront domain (dxxxx.cloudfront.net)
output "distribution_domain_name" { value = module.cloudfront.cloudfront_distribution_domain_name }
# Frontend bucket name
output "bucket_name" { value = module.s3_frontend.s3_bucket_id }
# Public URL (no trailing slash)
output "site_url" { value = "https://${var.custom_domain}" }
