# REST API (v1) defined by an OpenAPI body: provider 5.x has no response_transfer_mode argument
# and caps timeout_milliseconds at 300000, but the OpenAPI extension accepts both (FR-009/010).
locals {
  # InvokeWithResponseStream: API version 2021-11-15, action response-streaming-invocations.
  stream = {
    type            = "aws_proxy", httpMethod = "POST", passthroughBehavior = "when_no_match"
    uri             = "arn:aws:apigateway:${var.region}:lambda:path/2021-11-15/functions/${var.lambda_function_arn}/response-streaming-invocations"
    timeoutInMillis = var.integration_timeout_ms, responseTransferMode = "STREAM"
  }
  cors = {
    "Access-Control-Allow-Origin"  = "'${var.cors_allowed_origin}'"
    "Access-Control-Allow-Methods" = "'DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT'"
    "Access-Control-Allow-Headers" = "'Authorization,Content-Type,X-Requested-With,x-opsconsole-token'"
  }
  # CORS preflight answered by API Gateway itself with a MOCK integration (FR-042).
  options = {
    responses = { "200" = { description = "CORS preflight", headers = { for h in keys(local.cors) : h => { schema = { type = "string" } } } } }
    x-amazon-apigateway-integration = {
      type      = "mock", contentHandling = "CONVERT_TO_TEXT", passthroughBehavior = "when_no_match", requestTemplates = { "application/json" = "{\"statusCode\": 200}" }
      responses = { default = { statusCode = "200", responseParameters = { for h, v in local.cors : "method.response.header.${h}" => v } } }
    }
  }
  proxy = [{ name = "proxy", "in" = "path", required = true, schema = { type = "string" } }]
  body = jsonencode({
    openapi = "3.0.1", info = { title = var.name, version = "1.0" }
    # Request bodies (file uploads) reach Lambda base64-encoded instead of mangled as text.
    x-amazon-apigateway-binary-media-types = ["*/*"]
    paths = {
      "/api"          = { x-amazon-apigateway-any-method = { x-amazon-apigateway-integration = local.stream }, options = local.options }
      "/api/{proxy+}" = { x-amazon-apigateway-any-method = { parameters = local.proxy, x-amazon-apigateway-integration = local.stream }, options = merge(local.options, { parameters = local.proxy }) }
    }
  })
}

resource "aws_api_gateway_rest_api" "this" {
  name        = var.name
  description = "LibreChat API (response streaming to Lambda)"
  body        = local.body
  endpoint_configuration { types = ["REGIONAL"] }
  lifecycle { create_before_destroy = true }
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  triggers    = { body = sha1(local.body) } # redeploy whenever the OpenAPI body changes
  lifecycle { create_before_destroy = true }
}

resource "aws_api_gateway_stage" "this" {
  rest_api_id   = aws_api_gateway_rest_api.this.id
  deployment_id = aws_api_gateway_deployment.this.id
  stage_name    = var.stage_name
}

# InvokeWithResponseStream is authorised by lambda:InvokeFunction; there is no
# lambda:InvokeFunctionWithResponseStreaming action (the seed's T019 example).
resource "aws_lambda_permission" "apigw" {
  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_function_arn
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/*"
}
