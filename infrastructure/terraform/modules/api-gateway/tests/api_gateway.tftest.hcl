# Offline: mock_provider fakes the AWS API; the assertions read the configuration Terraform
# would send. Run: terraform test (after terraform init -backend=false).
mock_provider "aws" {
  mock_resource "aws_api_gateway_rest_api" {
    defaults = {
      id            = "abc123"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
    }
  }
}

variables {
  name                = "librechat-test-api"
  region              = "eu-west-1"
  lambda_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:librechat-test-api"
  cors_allowed_origin = "https://chat.example.com"
}

run "streaming_integration" {
  command = apply

  assert {
    condition     = aws_api_gateway_rest_api.this.endpoint_configuration[0].types == tolist(["REGIONAL"])
    error_message = "REST API must be REGIONAL (v1)."
  }

  assert {
    condition = alltrue([for p in ["/api", "/api/{proxy+}"] :
      jsondecode(aws_api_gateway_rest_api.this.body).paths[p]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"].responseTransferMode == "STREAM"
    ])
    error_message = "Both /api and /api/{proxy+} must use responseTransferMode STREAM (FR-010)."
  }

  assert {
    condition = alltrue([for p in ["/api", "/api/{proxy+}"] :
      jsondecode(aws_api_gateway_rest_api.this.body).paths[p]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"].timeoutInMillis == 900000
    ])
    error_message = "timeoutInMillis must be 900000 (15 minutes) on the streaming integrations."
  }

  assert {
    condition = alltrue([for p in ["/api", "/api/{proxy+}"] :
      jsondecode(aws_api_gateway_rest_api.this.body).paths[p]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"].uri ==
      "arn:aws:apigateway:eu-west-1:lambda:path/2021-11-15/functions/arn:aws:lambda:eu-west-1:123456789012:function:librechat-test-api/response-streaming-invocations"
    ])
    error_message = "Integration URI must be the 2021-11-15 .../response-streaming-invocations URI of the function."
  }

  assert {
    condition = alltrue([for p in ["/api", "/api/{proxy+}"] :
      upper(jsondecode(aws_api_gateway_rest_api.this.body).paths[p]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"].type) == "AWS_PROXY"
    ])
    error_message = "ANY /api and /api/{proxy+} must be Lambda proxy (aws_proxy) integrations."
  }

  assert {
    condition = alltrue([for p in ["/api", "/api/{proxy+}"] :
      lower(jsondecode(aws_api_gateway_rest_api.this.body).paths[p].options["x-amazon-apigateway-integration"].type) == "mock" &&
      jsondecode(aws_api_gateway_rest_api.this.body).paths[p].options["x-amazon-apigateway-integration"].responses.default.responseParameters["method.response.header.Access-Control-Allow-Origin"] == "'https://chat.example.com'"
    ])
    error_message = "OPTIONS must be a MOCK integration answering the CORS preflight (FR-042)."
  }

  assert {
    condition     = aws_lambda_permission.apigw.action == "lambda:InvokeFunction" && aws_lambda_permission.apigw.principal == "apigateway.amazonaws.com"
    error_message = "API Gateway needs lambda:InvokeFunction (it authorises InvokeWithResponseStream)."
  }

  assert {
    condition     = aws_api_gateway_deployment.this.triggers.body == sha1(aws_api_gateway_rest_api.this.body)
    error_message = "The deployment must be keyed on the body, so a changed body redeploys."
  }

  assert {
    condition     = aws_api_gateway_stage.this.stage_name == "prod" && output.stage_name == "prod"
    error_message = "Default stage is prod (CloudFront origin_path /prod)."
  }
}

run "timeout_is_bounded" {
  command = plan

  variables {
    integration_timeout_ms = 900001
  }

  expect_failures = [var.integration_timeout_ms]
}
