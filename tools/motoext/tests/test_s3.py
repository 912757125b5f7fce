"""Bucket policies with conditions (the s3-bucket module's deny-insecure-transport statement)."""

import json

import pytest
from botocore.exceptions import ClientError


def deny_insecure(bucket):
    return {"Sid": "denyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def cloudfront_read(bucket):
    return {"Sid": "CloudFrontRead", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}}}


def bucket_with(s3, name, *statements):
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def test_conditional_statements_do_not_block_the_owner(aws):
    s3 = aws("s3")
    bucket_with(s3, "site", deny_insecure("site"), cloudfront_read("site"))
    s3.put_object(Bucket="site", Key="index.html", Body=b"<html>")
    assert s3.get_object(Bucket="site", Key="index.html")["Body"].read() == b"<html>"
    s3.delete_object(Bucket="site", Key="index.html")


def test_an_unconditional_deny_still_denies(aws):
    s3 = aws("s3")
    bucket_with(s3, "locked", {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::locked/*"})
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="locked", Key="k", Body=b"x")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_ifexists_and_null_conditions_hold_without_the_key(aws):
    s3 = aws("s3")
    bucket_with(s3, "strict", {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::strict/*",
                               "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}})
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="strict", Key="k", Body=b"x")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
