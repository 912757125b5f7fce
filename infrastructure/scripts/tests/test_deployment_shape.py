"""The deployment shape (apply_local.py shape): normalization, building and comparison, pure."""

import json
from pathlib import Path

from apply_local import (VARIES, alarm_shape, build_shape, normalize_dimension, normalize_name, output_refs,
                         outputs_shape, shape_differences)

ROOT = Path(__file__).resolve().parents[3]


def test_normalize_name_replaces_the_prefix_then_the_environment_as_a_word():
    assert normalize_name("librechat-dev-lambda-errors", "librechat-dev", "dev") == "{prefix}-lambda-errors"
    assert normalize_name("/aws/lambda/librechat-dev-api", "librechat-dev", "dev") == "/aws/lambda/{prefix}-api"
    assert normalize_name("librechat-lambda-files-dev", "librechat-dev", "dev") == "librechat-lambda-files-{env}"
    assert normalize_name("librechat-frontend-sandbox", "librechat-sandbox", "sandbox") == "librechat-frontend-{env}"
    # only whole words: "devices", "undev" and "dev2" stay
    assert normalize_name("devices undev dev2 dev", "p", "dev") == "devices undev dev2 {env}"
    assert normalize_name(5, "p", "dev") == 5 and normalize_name(None, "p", "dev") is None


def test_both_environments_normalize_to_the_same_names():
    dev = ["librechat-dev-api", "arn:aws:lambda:eu-west-1:123456789012:function:librechat-dev-api", "librechat-frontend-dev"]
    sbx = ["librechat-sandbox-api", "arn:aws:lambda:eu-west-1:123456789012:function:librechat-sandbox-api",
           "librechat-frontend-sandbox"]
    assert [normalize_name(v, "librechat-dev", "dev") for v in dev] == \
        [normalize_name(v, "librechat-sandbox", "sandbox") for v in sbx]


def test_dimension_values_are_named_by_the_output_that_carries_them():
    outputs = {"cloudfront_distribution_id": {"value": "E2ABC"}, "api_gateway_stage": {"value": "prod"},
               "lambda_function_name": {"value": "librechat-dev-api"}, "redis_port": {"value": 6379}}
    refs = output_refs(outputs)
    assert normalize_dimension("E2ABC", "librechat-dev", "dev", refs) == "{outputs.cloudfront_distribution_id}"
    assert normalize_dimension("prod", "librechat-dev", "dev", refs) == "{outputs.api_gateway_stage}"
    # a name rule wins over the output reference (ApiName equals the function's name here)
    assert normalize_dimension("librechat-dev-api", "librechat-dev", "dev", refs) == "{prefix}-api"
    assert normalize_dimension("Global", "librechat-dev", "dev", refs) == "Global"
    assert normalize_dimension("dev", "librechat-dev", "dev", refs) == "{env}"


def metric_alarm(**over):
    a = {"AlarmName": "librechat-dev-lambda-errors", "AlarmDescription": "AWS/Lambda Errors Sum above threshold",
         "Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1,
         "Threshold": 5, "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
         "Dimensions": [{"Name": "FunctionName", "Value": "librechat-dev-api"}], "AlarmActions": [],
         "StateValue": "OK", "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:librechat-dev-lambda-errors"}
    a.update(over)
    return a


def test_alarm_shape_keeps_the_definition_and_drops_state_and_ids():
    name, d = alarm_shape(metric_alarm(), "eu-west-1", "librechat-dev", "dev", {})
    assert name == "{prefix}-lambda-errors"
    assert d == {"region": "eu-west-1", "description": "AWS/Lambda Errors Sum above threshold", "namespace": "AWS/Lambda",
                 "metric_name": "Errors", "statistic": "Sum", "extended_statistic": None, "period": 300,
                 "evaluation_periods": 1, "datapoints_to_alarm": None, "threshold": 5.0,
                 "comparison_operator": "GreaterThanThreshold", "treat_missing_data": "notBreaching",
                 "dimensions": {"FunctionName": "{prefix}-api"}, "has_alarm_actions": False}
    _, d = alarm_shape(metric_alarm(StateValue="ALARM", AlarmActions=["arn:aws:sns:eu-west-1:1:t"],
                                    Dimensions=[{"Name": "Stage", "Value": "prod"}, {"Name": "ApiName", "Value": "librechat-dev-api"}]),
                       "eu-west-1", "librechat-dev", "dev", {"prod": "{outputs.api_gateway_stage}"})
    assert d["has_alarm_actions"] is True
    assert list(d["dimensions"].items()) == [("ApiName", "{prefix}-api"), ("Stage", "{outputs.api_gateway_stage}")]


def test_outputs_shape_compares_types_everywhere_and_values_only_where_they_do_not_vary():
    o = outputs_shape({"site_url": {"value": "https://x", "type": "string", "sensitive": False},
                       "alarms": {"value": [{"name": "librechat-dev-a", "region": "us-east-1"}],
                                  "type": ["list", ["object", {"name": "string", "region": "string"}]]}},
                      "librechat-dev", "dev")
    assert o["site_url"] == {"type": "string", "sensitive": False, "value": VARIES}
    assert o["alarms"]["value"] == [{"name": "{prefix}-a", "region": "us-east-1"}]
    assert o["alarms"]["sensitive"] is False


def shape_of(prefix, env, threshold=5, extra=()):
    outputs = {"region": {"value": "eu-west-1", "type": "string", "sensitive": False},
               "lambda_function_name": {"value": f"{prefix}-api", "type": "string", "sensitive": False}}
    alarms = {"eu-west-1": [metric_alarm(AlarmName=f"{prefix}-lambda-errors", Threshold=threshold,
                                         Dimensions=[{"Name": "FunctionName", "Value": f"{prefix}-api"}])]}
    alarms["eu-west-1"] += [metric_alarm(AlarmName=f"{prefix}-{x}") for x in extra]
    return build_shape(outputs, alarms, {"lambda_function": {"name": f"{prefix}-api"}}, prefix, env)


def test_two_environments_of_one_configuration_have_one_shape():
    assert shape_differences(shape_of("librechat-dev", "dev"), shape_of("librechat-sandbox", "sandbox")) == []


def test_differences_name_the_alarm_and_the_field():
    diffs = shape_differences(shape_of("librechat-dev", "dev"), shape_of("librechat-sandbox", "sandbox", threshold=6,
                                                                          extra=["probe-unhealthy"]))
    assert diffs == [
        "alarms.{prefix}-lambda-errors.threshold: expected 5.0, found 6.0",
        'alarms.{prefix}-probe-unhealthy: unexpected (found {"comparison_operator": "GreaterThanThreshold", '
        '"datapoints_to_alarm": null, "description": "AWS/Lambda Errors Sum above threshold", "dimensions": '
        '{"FunctionName": "librechat-dev-api"}, "evaluation_periods": 1, "extended_statistic": null, '
        '"has_alarm_actions": false, "metric_name": "Errors", "namespace": "AWS/Lambda", "period": 300, '
        '"region": "eu-west-1", "statistic": "Sum", "threshold": 5.0, "treat_missing_data": "notBreaching"})',
    ]
    missing = shape_differences(shape_of("p", "e", extra=["sse-buffered"]), shape_of("p", "e"))
    assert len(missing) == 1 and missing[0].startswith("alarms.{prefix}-sse-buffered: missing (expected {")


def test_the_committed_shape_is_the_current_format_and_names_the_twelve_alarms():
    shape = json.loads((ROOT / "infrastructure/deployment-shape.json").read_text())
    assert shape["format"] == 1
    assert len(shape["alarms"]) == 12
    assert all(name.startswith("{prefix}-") for name in shape["alarms"])
    listed = [a["name"] for k in ("alarms", "canary_alarms") for a in shape["outputs"][k]["value"]]
    assert sorted(listed) == sorted(shape["alarms"])
