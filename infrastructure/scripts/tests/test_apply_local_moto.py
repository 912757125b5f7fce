"""apply_local.py against a real moto (the motoext launcher on a free loopback port): the
prerequisites it creates, and the leftover checks that make "0 left" mean something."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import apply_local

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    port_file = tmp_path_factory.mktemp("moto") / "port"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tools" / "motoext"), AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t")
    proc = subprocess.Popen([sys.executable, "-m", "motoext.server", "--port", "0", "--port-file", str(port_file)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while not port_file.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "motoext.server did not start"
        time.sleep(0.05)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "t")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "t")
    yield f"http://127.0.0.1:{port_file.read_text().strip()}"
    proc.terminate()
    proc.wait(timeout=10)


def test_prereqs_exist_and_are_tagged(endpoint, tmp_path):
    base = json.loads((ROOT / "infrastructure/terraform/environments/dev/terraform.tfvars.json").read_text())
    created = apply_local.create_prereqs(endpoint, base, tmp_path / "dist")
    ec2 = apply_local.client("ec2", endpoint, "eu-west-1")
    vpc = ec2.describe_vpcs(VpcIds=[created["vpc_id"]])["Vpcs"][0]
    assert {"Key": "apply-local", "Value": "prerequisite"} in vpc["Tags"]
    assert len(ec2.describe_subnets(SubnetIds=created["private_subnet_ids"])["Subnets"]) == 3
    assert set(created["security_group_ids"]) == set(base["security_group_ids"])
    ssm = apply_local.client("ssm", endpoint, "eu-west-1")
    names = [apply_local.ssm_name(a) for a in created["ssm_secrets"].values()]
    assert len(ssm.get_parameters(Names=names[:10])["Parameters"]) == min(10, len(names))
    s3 = apply_local.client("s3", endpoint, "eu-west-1")
    assert s3.get_object(Bucket=base["config_s3_bucket"], Key=base["config_s3_key"])["Body"].read()
    acm = apply_local.client("acm", endpoint, "us-east-1")
    assert acm.describe_certificate(CertificateArn=created["acm_certificate_arn"])["Certificate"]["DomainName"] == base["custom_domain"]
    assert (tmp_path / "dist" / "index.html").is_file()
    # the prerequisites are not leftovers
    assert apply_local.tagged_leftovers(endpoint, {"eu-west-1", "us-east-1"}) == []


def resource(type_, values, region=None):
    return {"address": f"{type_}.x", "type": type_, "module": "", "id": values.get("id"), "arn": values.get("arn"),
            "name": values.get("name"), "region": region, "values": values}


def test_still_exists_sees_what_is_there_and_not_what_is_gone(endpoint):
    s3 = apply_local.client("s3", endpoint, "eu-west-1")
    s3.create_bucket(Bucket="left-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    cw = apply_local.client("cloudwatch", endpoint, "us-east-1")
    cw.put_metric_alarm(AlarmName="left-alarm", MetricName="m", Namespace="n", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    bucket = resource("aws_s3_bucket", {"id": "left-bucket", "bucket": "left-bucket"})
    policy = resource("aws_s3_bucket_policy", {"id": "left-bucket", "bucket": "left-bucket"})
    alarm = resource("aws_cloudwatch_metric_alarm", {"id": "left-alarm", "alarm_name": "left-alarm"}, region="us-east-1")
    assert apply_local.still_exists(endpoint, bucket, "eu-west-1") is True
    assert apply_local.still_exists(endpoint, policy, "eu-west-1") is True
    assert apply_local.still_exists(endpoint, alarm, "eu-west-1") is True
    # the alarm lives in us-east-1 only: looked up in eu-west-1 it is not there
    assert apply_local.still_exists(endpoint, dict(alarm, region=None), "eu-west-1") is False
    s3.delete_bucket(Bucket="left-bucket")
    cw.delete_alarms(AlarmNames=["left-alarm"])
    assert apply_local.still_exists(endpoint, bucket, "eu-west-1") is False
    assert apply_local.still_exists(endpoint, alarm, "eu-west-1") is False
    assert apply_local.still_exists(endpoint, resource("terraform_data", {"id": "x"}), "eu-west-1") is None
    with pytest.raises(KeyError, match="no leftover check for resource type aws_new_thing"):
        apply_local.still_exists(endpoint, resource("aws_new_thing", {"id": "x"}), "eu-west-1")


def test_tagged_leftovers_lists_what_is_not_a_prerequisite(endpoint):
    logs = apply_local.client("logs", endpoint, "eu-west-1")
    logs.create_log_group(logGroupName="/aws/lambda/left", tags={"ManagedBy": "terraform"})
    try:
        left = apply_local.tagged_leftovers(endpoint, {"eu-west-1"})
        assert any("log-group:/aws/lambda/left" in item for item in left), left
    finally:
        logs.delete_log_group(logGroupName="/aws/lambda/left")
    assert not any("/aws/lambda/left" in item for item in apply_local.tagged_leftovers(endpoint, {"eu-west-1"}))


def test_shape_reads_what_exists_and_gives_null_for_what_does_not(endpoint):
    outputs = {k: {"value": v, "type": "string", "sensitive": False} for k, v in {
        "region": "eu-west-1", "lambda_function_name": "shape-t-api", "lambda_log_group_name": "/aws/lambda/shape-t-api",
        "frontend_bucket_name": "librechat-frontend-t", "files_bucket_name": "librechat-lambda-files-t",
        "redis_replication_group_id": "shape-t-redis", "dashboard_name": "shape-t"}.items()}
    logs = apply_local.client("logs", endpoint, "eu-west-1")
    logs.create_log_group(logGroupName="/aws/lambda/shape-t-api")
    logs.put_retention_policy(logGroupName="/aws/lambda/shape-t-api", retentionInDays=30)
    s3 = apply_local.client("s3", endpoint, "eu-west-1")
    s3.create_bucket(Bucket="librechat-frontend-t", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    cw = apply_local.client("cloudwatch", endpoint, "us-east-1")
    cw.put_metric_alarm(AlarmName="shape-t-cloudfront-5xx-rate", MetricName="5xxErrorRate", Namespace="AWS/CloudFront",
                        Statistic="Average", Period=300, EvaluationPeriods=1, Threshold=5,
                        ComparisonOperator="GreaterThanThreshold", Dimensions=[{"Name": "Region", "Value": "Global"}])
    names = apply_local.read_names(endpoint, outputs)
    assert names == {"lambda_function": None, "lambda_log_group": {"name": "/aws/lambda/shape-t-api", "retention_in_days": 30},
                     "frontend_bucket": "librechat-frontend-t", "files_bucket": None, "redis_replication_group": None,
                     "dashboard": None}
    alarms = apply_local.all_alarms(endpoint, {"eu-west-1", "us-east-1"})
    shape = apply_local.build_shape(outputs, alarms, names, "shape-t", "t")
    assert shape["names"]["lambda_log_group"]["name"] == "/aws/lambda/{prefix}-api"
    assert shape["names"]["frontend_bucket"] == "librechat-frontend-{env}"
    assert shape["alarms"]["{prefix}-cloudfront-5xx-rate"]["region"] == "us-east-1"
    assert shape["alarms"]["{prefix}-cloudfront-5xx-rate"]["dimensions"] == {"Region": "Global"}
    cw.delete_alarms(AlarmNames=["shape-t-cloudfront-5xx-rate"])
    s3.delete_bucket(Bucket="librechat-frontend-t")
    logs.delete_log_group(logGroupName="/aws/lambda/shape-t-api")
