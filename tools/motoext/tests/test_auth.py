"""Temporary credentials without their session token are refused (auth.session_token)."""

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def s3(endpoint, account, key, token=None):
    c = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id=key,
                     aws_secret_access_key="secret", aws_session_token=token,
                     config=Config(retries={"max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"}))
    c.meta.events.register("before-send.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    return c


def test_a_temporary_key_without_its_token_is_refused_as_on_aws(moto_endpoint, account):
    with pytest.raises(ClientError) as e:
        s3(moto_endpoint, account, "ASIAEXAMPLEEXAMPLE01").list_buckets()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_a_temporary_key_with_its_token_and_long_term_keys_work(moto_endpoint, account):
    s3(moto_endpoint, account, "ASIAEXAMPLEEXAMPLE01", token="IQoJb3JpZ2luX2VjEXAMPLE").create_bucket(
        Bucket="tok", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert [b["Name"] for b in s3(moto_endpoint, account, "testing").list_buckets()["Buckets"]] == ["tok"]


def test_a_presigned_url_carries_the_token_in_its_query(moto_endpoint, account):
    from motoext.auth import missing_token
    assert missing_token({"QUERY_STRING": "X-Amz-Credential=ASIAX%2F20261207%2Feu-west-1%2Fs3%2Faws4_request"}) == "ASIAX"
    assert missing_token({"QUERY_STRING": "X-Amz-Credential=ASIAX%2Fx&X-Amz-Security-Token=t"}) is None
    assert missing_token({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKIAX/20261207/eu-west-1/s3/aws4_request"}) is None
