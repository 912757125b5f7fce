output "rest_api_id" {
  description = "REST API id."
  value       = aws_api_gateway_rest_api.this.id
}

output "rest_api_name" {
  description = "REST API name (the ApiName dimension of AWS/ApiGateway metrics)."
  value       = aws_api_gateway_rest_api.this.name
}

output "stage_name" {
  description = "Stage name (CloudFront origin_path is /<stage_name>)."
  value       = aws_api_gateway_stage.this.stage_name
}

output "invoke_url" {
  description = "https://{id}.execute-api.{region}.amazonaws.com/{stage}"
  value       = aws_api_gateway_stage.this.invoke_url
}

output "domain_name" {
  description = "Host name of the API endpoint, for the CloudFront origin."
  value       = "${aws_api_gateway_rest_api.this.id}.execute-api.${var.region}.amazonaws.com"
}

output "openapi_body" {
  description = "The OpenAPI document the API is defined by (JSON)."
  value       = local.body
}
