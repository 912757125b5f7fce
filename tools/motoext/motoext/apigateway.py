"""API Gateway (REST): importing an OpenAPI body (PutRestApi / ImportRestApi).

moto 5.2.5 turns each `x-amazon-apigateway-integration` into a put_integration() call, which
requires `uri` and `integration_method`. A `mock` integration (infrastructure's CORS preflight,
FR-042) has neither, so the import raises TypeError: HTTP 500, which the AWS provider retries for
minutes. The import also takes every key under a path as an HTTP method, so
`x-amazon-apigateway-any-method` becomes a method named "X-AMAZON-APIGATEWAY-ANY-METHOD" (AWS:
ANY) and a path-level `parameters` list a method "PARAMETERS"; integration types keep the
body's lower case (AWS: MOCK, AWS_PROXY); `x-amazon-apigateway-binary-media-types` is ignored.

Here, as AWS imports it:
- a `mock` (or any) integration without `uri`/`httpMethod` is accepted;
- `x-amazon-apigateway-any-method` is the method ANY, keys that are not methods are skipped;
- integration types are upper case;
- the API's binaryMediaTypes come from `x-amazon-apigateway-binary-media-types`.
"""

import copy

from moto.apigateway.models import APIGatewayBackend

HTTP_METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"}
ANY_METHOD_KEY = "x-amazon-apigateway-any-method"
BINARY_TYPES_KEY = "x-amazon-apigateway-binary-media-types"

_original_put_integration = APIGatewayBackend.put_integration
_original_build_args = APIGatewayBackend._build_integration_args
_original_put_rest_api = APIGatewayBackend.put_rest_api


def put_integration(self, function_id, resource_id, method_type, integration_type, uri=None,
                    integration_method=None, **kwargs):
    return _original_put_integration(self, function_id, resource_id, method_type, integration_type, uri,
                                     integration_method, **kwargs)


def _build_integration_args(self, integration):
    args = _original_build_args(self, integration)
    if args.get("integration_type"):
        args["integration_type"] = args["integration_type"].upper()
    return args


def normalise_paths(api_doc: dict) -> dict:
    """The body with `x-amazon-apigateway-any-method` as ANY and only HTTP methods under each path."""
    doc = copy.deepcopy(api_doc)
    paths = {}
    for path, item in (doc.get("paths") or {}).items():
        methods = {}
        for key, method in (item or {}).items():
            name = "ANY" if key.lower() == ANY_METHOD_KEY else key.upper()
            if name in HTTP_METHODS:
                methods[name] = method
        paths[path] = methods
    doc["paths"] = paths
    return doc


def put_rest_api(self, function_id, api_doc, fail_on_warnings, mode="merge"):
    api = _original_put_rest_api(self, function_id, normalise_paths(api_doc), fail_on_warnings, mode)
    if BINARY_TYPES_KEY in api_doc:
        api.binaryMediaTypes = list(api_doc[BINARY_TYPES_KEY])
    return api


def install() -> None:
    APIGatewayBackend.put_integration = put_integration
    APIGatewayBackend._build_integration_args = _build_integration_args
    APIGatewayBackend.put_rest_api = put_rest_api
