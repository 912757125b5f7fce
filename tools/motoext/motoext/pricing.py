"""`pricing.get_products`: the AWS Price List Query API's GetProducts (moto 5.2.5 has no `pricing`).

`opsconsole cost --refresh-prices` asks the Price List API (`AWSPriceListService.GetProducts`,
JSON 1.1, signing name `pricing`) for each price of its table. moto has no such service, so this
answers it from product documents a test puts in first:

    POST /moto-api/motoext/pricing/products  {"products": [<product document>, ...],
                                              "deny": false}

replaces the products (and `deny: true` answers every GetProducts with 400
`AccessDeniedException`, as AWS does for a caller without `pricing:GetProducts`). A product
matches a request when its `serviceCode` is the request's `ServiceCode` and every `TERM_MATCH`
filter holds: `ServiceCode`, `productFamily` and `sku` against the product, any other field
against `product.attributes` (compared case-insensitively, as AWS does). The answer is
`{"FormatVersion": "aws_v1", "PriceList": [<document as a JSON string>, ...]}`, `MaxResults`
per page (default 100) with a `NextToken`. Other filter types, a missing `ServiceCode` or a bad
token: 400 `InvalidParameterException`. Products are kept per server, not per account.

Installed by wrapping the server app's `__call__` (like `auth.session_token`): requests whose
`X-Amz-Target` starts with `AWSPriceListService.` and the control path never reach moto.
"""

import json
import threading

TARGET_PREFIX = "AWSPriceListService."
CONTROL_PATH = "/moto-api/motoext/pricing/products"

_lock = threading.Lock()
_state = {"products": [], "deny": False}


def set_products(products, deny=False):
    with _lock:
        _state["products"] = list(products)
        _state["deny"] = bool(deny)


class InvalidParameter(Exception):
    pass


def _field(product: dict, field: str):
    p = product.get("product", {})
    if field == "ServiceCode":
        return product.get("serviceCode")
    if field in ("productFamily", "sku"):
        return p.get(field)
    return p.get("attributes", {}).get(field)


def matches(product: dict, service_code: str, filters: list) -> bool:
    if product.get("serviceCode") != service_code:
        return False
    for f in filters:
        if f.get("Type") != "TERM_MATCH":
            raise InvalidParameter(f"filter type {f.get('Type')!r} is not supported here (TERM_MATCH only)")
        value = _field(product, f.get("Field", ""))
        if value is None or str(value).lower() != str(f.get("Value", "")).lower():
            return False
    return True


def get_products(request: dict) -> dict:
    """The GetProducts answer for a request body (pure over the stored products)."""
    service_code = request.get("ServiceCode")
    if not service_code:
        raise InvalidParameter("ServiceCode is required here")
    filters = request.get("Filters") or []
    with _lock:
        products = list(_state["products"])
    found = [p for p in products if matches(p, service_code, filters)]
    size = int(request.get("MaxResults") or 100)
    token = request.get("NextToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise InvalidParameter(f"NextToken {token!r} is not one of ours") from None
    page = found[start:start + size]
    out = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(p) for p in page]}
    if start + size < len(found):
        out["NextToken"] = str(start + size)
    return out


def _answer(start_response, status: str, doc: dict, error_type: str | None = None):
    body = json.dumps(doc).encode()
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    start_response(status, headers)
    return [body]


def _read_body(environ) -> bytes:
    try:
        n = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        n = 0
    return environ["wsgi.input"].read(n) if n else b""


def handle(environ, start_response):
    """Answers the control path and Price List requests; None for anything else."""
    if environ.get("PATH_INFO") == CONTROL_PATH and environ.get("REQUEST_METHOD") == "POST":
        doc = json.loads(_read_body(environ) or b"{}")
        set_products(doc.get("products", []), doc.get("deny", False))
        return _answer(start_response, "201 Created", {"products": len(doc.get("products", []))})
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if not target.startswith(TARGET_PREFIX):
        return None
    action = target[len(TARGET_PREFIX):]
    if _state["deny"]:
        return _answer(start_response, "400 Bad Request", {
            "__type": "AccessDeniedException",
            "message": f"User is not authorized to perform: pricing:{action}"}, "AccessDeniedException")
    if action != "GetProducts":
        return _answer(start_response, "400 Bad Request", {
            "__type": "InvalidParameterException", "message": f"{action} is not answered by motoext"},
            "InvalidParameterException")
    try:
        return _answer(start_response, "200 OK", get_products(json.loads(_read_body(environ) or b"{}")))
    except (InvalidParameter, ValueError) as e:
        return _answer(start_response, "400 Bad Request", {"__type": "InvalidParameterException", "message": str(e)},
                       "InvalidParameterException")


def install():
    from moto.moto_server import werkzeug_app

    app = werkzeug_app.DomainDispatcherApplication
    if getattr(app.__call__, "_motoext_pricing", False):
        return
    original = app.__call__

    def __call__(self, environ, start_response):
        answered = handle(environ, start_response)
        if answered is not None:
            return answered
        return original(self, environ, start_response)

    __call__._motoext_pricing = True
    app.__call__ = __call__
