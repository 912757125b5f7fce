# REST API id
output "rest_api_id" { value = aws_api_gateway_rest_api.this.id }
# REST API name (ApiName dimension of AWS/ApiGateway metrics)
output "rest_api_name" { value = aws_api_gateway_rest_api.this.name }
# Stage name (CloudFront origin_path is /<stage_name>)
output "stage_name" { value = aws_api_gateway_stage.this.stage_name }
# https://{id}.execute-api.{region}.amazonaws.com/{stage}
output "invoke_url" { value = aws_api_gateway_stage.this.invoke_url }
# Host name of the API endpoint, for the CloudFront origin
output "domain_name" { value = "${aws_api_gateway_rest_api.this.id}.execute-api.${var.region}.amazonaws.com" }
