import json

LAMBDA = "arn:aws:lambda:eu-west-1:123456789012:function:app-api"
STREAM_URI = f"arn:aws:apigateway:eu-west-1:lambda:path/2021-11-15/functions/{LAMBDA}/response-streaming-invocations"


def body():
    """The shape infrastructure/terraform/modules/api-gateway/main.tf writes: ANY -> aws_proxy
    (STREAM, 900000 ms), OPTIONS -> mock (CORS preflight), binary media types, a path parameter."""
    stream = {"type": "aws_proxy", "httpMethod": "POST", "passthroughBehavior": "when_no_match", "uri": STREAM_URI,
              "timeoutInMillis": 900000, "responseTransferMode": "STREAM"}
    options = {
        "responses": {"200": {"description": "CORS preflight"}},
        "x-amazon-apigateway-integration": {
            "type": "mock", "contentHandling": "CONVERT_TO_TEXT", "passthroughBehavior": "when_no_match",
            "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {"default": {"statusCode": "200", "responseParameters": {
                "method.response.header.Access-Control-Allow-Origin": "'https://app.example'"}}},
        },
    }
    proxy = [{"name": "proxy", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "openapi": "3.0.1", "info": {"title": "app-api", "version": "1.0"},
        "x-amazon-apigateway-binary-media-types": ["*/*"],
        "paths": {
            "/api": {"x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": stream}, "options": options},
            "/api/{proxy+}": {"x-amazon-apigateway-any-method": {"parameters": proxy, "x-amazon-apigateway-integration": stream},
                              "options": dict(options, parameters=proxy)},
        },
    }


def test_put_rest_api_with_mock_and_any_method(aws):
    apigw = aws("apigateway")
    api = apigw.create_rest_api(name="app-api", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    apigw.put_rest_api(restApiId=api, mode="overwrite", body=json.dumps(body()).encode())

    resources = {r["path"]: r for r in apigw.get_resources(restApiId=api)["items"]}
    assert set(resources) == {"/", "/api", "/api/{proxy+}"}
    for path in ("/api", "/api/{proxy+}"):
        assert set(resources[path]["resourceMethods"]) == {"ANY", "OPTIONS"}
        rid = resources[path]["id"]
        mock = apigw.get_integration(restApiId=api, resourceId=rid, httpMethod="OPTIONS")
        assert mock["type"] == "MOCK"
        assert "uri" not in mock
        assert mock["integrationResponses"]["200"]["responseParameters"] == {
            "method.response.header.Access-Control-Allow-Origin": "'https://app.example'"}
        proxy = apigw.get_integration(restApiId=api, resourceId=rid, httpMethod="ANY")
        assert proxy["type"] == "AWS_PROXY"
        assert proxy["uri"] == STREAM_URI
        assert proxy["httpMethod"] == "POST"
        assert int(proxy["timeoutInMillis"]) == 900000
    assert apigw.get_rest_api(restApiId=api)["binaryMediaTypes"] == ["*/*"]


def test_import_rest_api_takes_the_same_body(aws):
    apigw = aws("apigateway")
    doc = body()
    doc["info"]["description"] = "imported"
    api = apigw.import_rest_api(body=json.dumps(doc).encode())["id"]
    paths = {r["path"] for r in apigw.get_resources(restApiId=api)["items"]}
    assert paths == {"/", "/api", "/api/{proxy+}"}
