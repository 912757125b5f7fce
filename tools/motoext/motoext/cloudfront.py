"""CloudFront Functions: PublishFunction, and DescribeFunction by stage.

moto 5.2.5 implements CreateFunction/DescribeFunction/DeleteFunction but not PublishFunction
(`aws_cloudfront_function` with `publish = true` calls it), and DescribeFunction ignores its
`Stage` parameter. AWS keeps two stages: DEVELOPMENT (what Create/Update write) and LIVE (a copy
made by PublishFunction, which distributions run). Here:
- PublishFunction(Name, If-Match): 404 NoSuchFunctionExists for an unknown name, 412
  PreconditionFailed when If-Match is not the function's current ETag (InvalidIfMatchVersion when
  missing); otherwise the LIVE stage is created (status UNASSOCIATED) and its summary returned.
- DescribeFunction(Stage=LIVE) of a function never published: 404 NoSuchFunctionExists, as AWS.
Registered through moto's own routing: a URL pattern in `moto.cloudfront.urls.url_paths` and a
`publish_function` action on `CloudFrontResponse` (moto resolves the action from botocore's
service model), a `publish_function` method on the backend.
"""

import copy

from moto.cloudfront import urls
from moto.cloudfront.exceptions import CloudFrontException, InvalidIfMatchVersion, NoSuchFunctionExists
from moto.cloudfront.models import CloudFrontBackend, CloudFrontFunction
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.responses import ActionResult

PUBLISH_PATH = "{0}/2020-05-31/function/(?P<function_name>[^/]+)/publish$"


class PreconditionFailed(CloudFrontException):
    code = "PreconditionFailed"

    def __init__(self, name: str) -> None:
        super().__init__(f"The If-Match version does not match the current version (ETag) of function {name}.")


def _summary(function: CloudFrontFunction, stage: str) -> dict:
    summary = copy.deepcopy(function.function_summary)
    summary["FunctionMetadata"]["Stage"] = stage
    if stage == "LIVE":
        summary["Status"] = "UNASSOCIATED"
    return summary


def publish_function(self: CloudFrontBackend, name: str, if_match: str | None) -> CloudFrontFunction:
    function = self.describe_function(name)
    if not if_match:
        raise InvalidIfMatchVersion
    if if_match != function.etag:
        raise PreconditionFailed(name)
    function.live = {"code": function.code, "config": copy.deepcopy(function.config)}
    return function


def _publish_function_response(self: CloudFrontResponse) -> ActionResult:
    name = self._get_param("Name")
    function = self.backend.publish_function(name=name, if_match=self._get_param("IfMatch"))
    return ActionResult({"FunctionSummary": _summary(function, "LIVE")})


_original_describe_response = CloudFrontResponse.describe_function


def _describe_function_response(self: CloudFrontResponse) -> ActionResult:
    stage = self._get_param("Stage") or "DEVELOPMENT"
    if stage != "LIVE":
        return _original_describe_response(self)
    name = self._get_param("Name")
    function = self.backend.describe_function(name=name)
    if getattr(function, "live", None) is None:
        raise NoSuchFunctionExists(name)
    return ActionResult({"FunctionSummary": _summary(function, "LIVE"), "ETag": function.etag})


def install() -> None:
    if PUBLISH_PATH not in urls.url_paths:
        urls.url_paths[PUBLISH_PATH] = CloudFrontResponse.dispatch
    CloudFrontBackend.publish_function = publish_function
    CloudFrontResponse.publish_function = _publish_function_response
    CloudFrontResponse.describe_function = _describe_function_response
