"""The pure parts of apply_local.py."""

import pytest

from apply_local import moto_arn, parent_zone, probe_verdict, resources_from_state, ssm_name, tf_errors, tfvars_for_moto


def state(resources):
    return {"version": 4, "terraform_version": "1.11.4", "resources": resources}


def test_resources_from_state_addresses_regions_and_data_sources():
    s = state([
        {"module": "module.monitoring", "mode": "managed", "type": "aws_cloudwatch_metric_alarm", "name": "us_east_1",
         "provider": 'provider["registry.terraform.io/hashicorp/aws"].us_east_1',
         "instances": [{"index_key": "cloudfront-5xx-rate", "attributes": {"id": "a", "alarm_name": "p-cloudfront-5xx-rate",
                                                                            "arn": "arn:aws:cloudwatch:us-east-1:1:alarm:p-cloudfront-5xx-rate"}}]},
        {"module": "module.backend", "mode": "data", "type": "aws_vpc", "name": "this", "provider": "p", "instances": [{"attributes": {"id": "vpc-1"}}]},
        {"module": "module.redis.module.redis", "mode": "managed", "type": "aws_security_group", "name": "this",
         "provider": 'provider["registry.terraform.io/hashicorp/aws"]', "instances": [{"index_key": 0, "attributes": {"id": "sg-1", "name": "r"}}]},
        {"mode": "managed", "type": "aws_vpc_security_group_egress_rule", "name": "x", "provider": 'provider["registry.terraform.io/hashicorp/aws"].us_east_1',
         "instances": [{"attributes": {"id": "sgr-1"}}]},
    ])
    rs = resources_from_state(s)
    assert [r["address"] for r in rs] == [
        "aws_vpc_security_group_egress_rule.x",
        'module.monitoring.aws_cloudwatch_metric_alarm.us_east_1["cloudfront-5xx-rate"]',
        "module.redis.module.redis.aws_security_group.this[0]",
    ]
    assert [r["region"] for r in rs] == ["us-east-1", "us-east-1", None]
    assert rs[1]["name"] == "p-cloudfront-5xx-rate"


def test_resources_from_state_refuses_other_formats():
    with pytest.raises(ValueError, match="version 3"):
        resources_from_state({"version": 3})


def outputs(n=10):
    return {"alarms": {"value": [{"name": f"p-a{i}", "region": "us-east-1" if i == 0 else "eu-west-1"} for i in range(n)]}}


def probe(alarms=None, findings=(), **checks):
    alarms = alarms if alarms is not None else [{"name": a["name"], "region": a["region"], "state": "OK"} for a in outputs()["alarms"]["value"]]
    doc = {"status": "healthy", "findings": list(findings), "checks": {
        "alarms": {"status": "ok", "data": {"alarms": alarms}, "summary": {"missing": 0}},
        "lambda": {"status": "ok"}, "redis": {"status": "ok"}, "cloudfront": {"status": "ok"}}}
    doc["checks"].update(checks)
    return doc


def test_probe_verdict_accepts_ten_present_alarms():
    assert probe_verdict(probe(), outputs()) == []


def test_probe_verdict_names_missing_alarms_failed_checks_and_findings():
    alarms = probe()["checks"]["alarms"]["data"]["alarms"]
    alarms[3]["state"] = "MISSING"
    problems = probe_verdict(probe(alarms=alarms, findings=[{"code": "alarm_missing", "check": "alarms", "message": "p-a3 missing"}],
                                   redis={"status": "error", "error": {"message": "replication group not found"}}), outputs())
    assert "probe: alarms MISSING in CloudWatch: p-a3 (eu-west-1)" in problems
    assert "probe: check redis is error: replication group not found" in problems
    assert "probe finding alarm_missing (alarms): p-a3 missing" in problems


def test_probe_verdict_counts_the_canary_alarms_with_the_ten():
    out = outputs()
    out["canary_alarms"] = {"value": [{"name": "p-probe-unhealthy", "region": "eu-west-1"},
                                      {"name": "p-sse-buffered", "region": "eu-west-1"}]}
    ten = probe()["checks"]["alarms"]["data"]["alarms"]
    twelve = ten + [{"name": a["name"], "region": a["region"], "state": "OK"} for a in out["canary_alarms"]["value"]]
    assert probe_verdict(probe(alarms=twelve), out) == []
    assert any("differ from the outputs'" in p for p in probe_verdict(probe(alarms=ten), out))
    out["canary_alarms"]["value"].pop()
    assert "outputs: 1 alarms in the `canary_alarms` output, expected 2 (or none)" in probe_verdict(probe(alarms=twelve[:-1]), out)


def test_probe_verdict_wants_ten_alarms_and_all_checks():
    assert "outputs: 9 alarms in the `alarms` output, expected 10" in probe_verdict(probe(alarms=[]), outputs(9))
    doc = probe()
    del doc["checks"]["cloudfront"]
    assert probe_verdict(doc, outputs()) == ["probe: check cloudfront absent"]
    doc = probe(alarms=probe()["checks"]["alarms"]["data"]["alarms"][1:])
    assert any("differ from the outputs'" in p for p in probe_verdict(doc, outputs()))


LOG = """module.frontend.aws_cloudfront_function.spa: Creating...
╷
│ Error: publishing CloudFront Function (librechat-frontend-dev-spa): operation error CloudFront: PublishFunction, https response error StatusCode: 404
│
│   with module.frontend.aws_cloudfront_function.spa,
│   on ../../modules/frontend/main.tf line 29, in resource "aws_cloudfront_function" "spa":
│   29: resource "aws_cloudfront_function" "spa" {
│
╵
╷
│ Error: Backend initialization required
│
│ Run "terraform init".
╵
"""


def test_tf_errors_names_resource_and_cause():
    assert tf_errors(LOG) == [
        "module.frontend.aws_cloudfront_function.spa: publishing CloudFront Function (librechat-frontend-dev-spa): "
        "operation error CloudFront: PublishFunction, https response error StatusCode: 404",
        '-: Backend initialization required - Run "terraform init".',
    ]


DESTROY_LOG = """module.files_bucket.aws_s3_bucket.this[0]: Destroying... [id=librechat-lambda-files-dev]
module.frontend.module.s3_frontend.aws_s3_bucket.this[0]: Destroying... [id=librechat-frontend-dev]
module.frontend.module.s3_frontend.aws_s3_bucket.this[0]: Destruction complete after 1s
module.backend.aws_ecr_repository.api: Destroying... [id=librechat-dev-api]

Error: deleting S3 Bucket (librechat-lambda-files-dev): operation error S3: DeleteBucket, api error BucketNotEmpty: The bucket you tried to delete is not empty

Error: something without an id
"""


def test_tf_errors_without_with_line_names_the_pending_resource():
    assert tf_errors(DESTROY_LOG) == [
        "module.files_bucket.aws_s3_bucket.this[0]: deleting S3 Bucket (librechat-lambda-files-dev): operation error S3: "
        "DeleteBucket, api error BucketNotEmpty: The bucket you tried to delete is not empty",
        "-: something without an id",
    ]


def test_tfvars_for_moto_and_helpers():
    base = {"region": "eu-west-1", "vpc_id": "vpc-real", "custom_domain": "a.b.example", "lambda_environment": {"X": "1"},
            "ssm_secrets": {"K": "arn:aws:ssm:eu-west-1:515966504419:parameter/ecs/k"}}
    created = {"vpc_id": "vpc-m", "private_subnet_ids": ["s"], "security_group_ids": {"shared": "sg"}, "route53_zone_id": "Z",
               "acm_certificate_arn": "arn:c", "ssm_secrets": {"K": "arn:aws:ssm:eu-west-1:123456789012:parameter/ecs/k"}}
    v = tfvars_for_moto(base, created)
    assert v["vpc_id"] == "vpc-m" and v["lambda_environment"] == {"X": "1"} and v["custom_domain"] == "a.b.example"
    assert base["vpc_id"] == "vpc-real"
    assert ssm_name("arn:aws:ssm:eu-west-1:515966504419:parameter/ecs/genai/x") == "/ecs/genai/x"
    assert moto_arn("arn:aws:ssm:eu-west-1:515966504419:parameter/x") == "arn:aws:ssm:eu-west-1:123456789012:parameter/x"
    assert parent_zone("lambda-test.sandbox.data.apro.is") == "sandbox.data.apro.is"
