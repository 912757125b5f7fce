"""`auth.session_token`: temporary credentials need their session token, as on AWS.

moto accepts any signature. AWS does not: a request signed with a temporary access key (an
`ASIA...` key id: what STS, and so a Lambda function's execution role, hands out) but without
its session token (`X-Amz-Security-Token`, header or presigned query) is refused, S3 answering
403 `InvalidAccessKeyId`. A client that drops the token (LibreChat's S3 client does when it is
given `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` and ignores `AWS_SESSION_TOKEN`) therefore
works against plain moto and fails on AWS; with this extension it fails here too.

Installed by wrapping the server app's `__call__` (every service): only requests whose key id
starts with `ASIA` are checked, so the tests' long-term style keys (`testing`, `AKIA...`) are
untouched. The answer is S3's error document for every service (other services answer
`UnrecognizedClientException`/`InvalidClientTokenId` in their own protocol: not modelled).
"""

import re
from urllib.parse import parse_qs

_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/")


def missing_token(environ) -> str | None:
    """The temporary key id of a request that lacks its session token, else None."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    m = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    key = m.group(1) if m else query.get("X-Amz-Credential", [""])[0].split("/")[0]
    if not key.startswith("ASIA"):
        return None
    if environ.get("HTTP_X_AMZ_SECURITY_TOKEN") or query.get("X-Amz-Security-Token"):
        return None
    return key


def error_body(key: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidAccessKeyId</Code>'
        "<Message>The AWS Access Key Id you provided does not exist in our records.</Message>"
        f"<AWSAccessKeyId>{key}</AWSAccessKeyId><RequestId>motoext</RequestId></Error>"
    ).encode()


def install():
    from moto.moto_server import werkzeug_app

    app = werkzeug_app.DomainDispatcherApplication
    if getattr(app.__call__, "_motoext_session_token", False):
        return
    original = app.__call__

    def __call__(self, environ, start_response):
        key = missing_token(environ)
        if key is not None:
            body = error_body(key)
            start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
            return [body]
        return original(self, environ, start_response)

    __call__._motoext_session_token = True
    app.__call__ = __call__
