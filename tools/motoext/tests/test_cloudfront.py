import pytest
from botocore.exceptions import ClientError

CODE = b"function handler(event) { return event.request; }"


def create(cf, name="spa"):
    r = cf.create_function(Name=name, FunctionConfig={"Comment": "t", "Runtime": "cloudfront-js-2.0"}, FunctionCode=CODE)
    return r["ETag"]


def test_publish_function_makes_a_live_stage(aws):
    cf = aws("cloudfront", "us-east-1")
    etag = create(cf)
    with pytest.raises(ClientError) as before:
        cf.describe_function(Name="spa", Stage="LIVE")
    assert before.value.response["Error"]["Code"] == "NoSuchFunctionExists"

    summary = cf.publish_function(Name="spa", IfMatch=etag)["FunctionSummary"]
    assert summary["Name"] == "spa"
    assert summary["Status"] == "UNASSOCIATED"
    assert summary["FunctionMetadata"]["Stage"] == "LIVE"
    assert summary["FunctionMetadata"]["FunctionARN"].endswith(":function/spa")

    live = cf.describe_function(Name="spa", Stage="LIVE")
    assert live["FunctionSummary"]["FunctionMetadata"]["Stage"] == "LIVE"
    dev = cf.describe_function(Name="spa", Stage="DEVELOPMENT")
    assert dev["FunctionSummary"]["FunctionMetadata"]["Stage"] == "DEVELOPMENT"


def test_publish_function_checks_the_etag_and_the_name(aws):
    cf = aws("cloudfront", "us-east-1")
    create(cf)
    with pytest.raises(ClientError) as stale:
        cf.publish_function(Name="spa", IfMatch="not-the-etag")
    assert stale.value.response["Error"]["Code"] == "PreconditionFailed"
    assert stale.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as unknown:
        cf.publish_function(Name="nope", IfMatch="x")
    assert unknown.value.response["Error"]["Code"] == "NoSuchFunctionExists"
    # a failed publish leaves no LIVE stage
    with pytest.raises(ClientError):
        cf.describe_function(Name="spa", Stage="LIVE")


def test_published_function_can_be_deleted(aws):
    cf = aws("cloudfront", "us-east-1")
    etag = create(cf)
    cf.publish_function(Name="spa", IfMatch=etag)
    cf.delete_function(Name="spa", IfMatch=etag)
    with pytest.raises(ClientError) as gone:
        cf.describe_function(Name="spa", Stage="LIVE")
    assert gone.value.response["Error"]["Code"] == "NoSuchFunctionExists"
