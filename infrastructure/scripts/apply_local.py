#!/usr/bin/env python3
"""The AWS side of infrastructure/scripts/apply-local.sh (boto3 against the local moto).

Subcommands (all take --endpoint URL; credentials and region come from the environment):
  prereqs TFVARS_IN TFVARS_OUT --dist DIR   create what an operator's account has before
        `apply` (VPC, private subnets, security groups, ACM certificate in us-east-1, Route53
        zone, SSM parameters, the config object) from the committed terraform.tfvars.json, and
        write the variables that point at them; DIR gets a small built client (index.html, an
        asset) for upload.sh
  check-probe PROBE_JSON OUTPUTS_JSON   the probe found the 10 alarms and nothing MISSING
  fill OUTPUTS_JSON        put an object into each bucket and an image into the ECR repository,
        so that destroy must remove non-empty buckets and repositories (SC-005)
  export STATE_JSON OUTPUTS_JSON DIR    write resources.json, outputs.json, alarms.json
  shape OUTPUTS_JSON --env ENV [--prefix P] (--check FILE | --write FILE)   the deployment's
        normalized shape (outputs, alarms, the names the sandbox imitates; format:
        infrastructure/README.md "The deployment shape") read from the moto at --endpoint, and
        compared with FILE (one line per difference, exit 1) or written to it. apply-local.sh
        runs it on what `terraform apply` created; the sandbox's drift test on what it seeds.
  leftovers STATE_JSON PREREQS_JSON     what the applied state owned and still exists, plus
        every tagged resource that is not a prerequisite (Resource Groups Tagging API)
  tf-errors LOG            "resource: cause" for each error in a terraform log
Pure parts (resources_from_state, probe verdict, error extraction, ...) are unit-tested in
infrastructure/scripts/tests/.
"""

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path

PREREQ_TAG = {"Key": "apply-local", "Value": "prerequisite"}
ACCOUNT = "123456789012"  # moto's default account


# ---------------------------------------------------------------------------------------------
# Pure functions


# The attribute that names a resource, by preference (the first one a resource has).
NAME_KEYS = ("name", "function_name", "bucket", "alarm_name", "dashboard_name", "replication_group_id", "stage_name",
             "statement_id", "repository", "fqdn")


def _index(key):
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f'["{key}"]'


def resources_from_state(state: dict) -> list[dict]:
    """Managed resource instances of a state file (format version 4, the terraform.tfstate that
    `terraform apply` writes) as [{address, type, module, id, arn, name, region, values}], sorted
    by address. Read from the file, not `terraform show -json`: that would start the provider
    (several seconds here) for the same information."""
    if state.get("version") != 4:
        raise ValueError(f"state format version {state.get('version')}, expected 4 (Terraform >= 0.12)")
    out = []
    for r in state.get("resources", []):
        if r.get("mode") != "managed":
            continue
        alias = r.get("provider", "").rsplit("].", 1)[1] if "]." in r.get("provider", "") else None
        for inst in r.get("instances", []):
            v = inst.get("attributes") or {}
            arn = v.get("arn") if isinstance(v.get("arn"), str) else None
            module = r.get("module", "")
            out.append({
                "address": f"{module + '.' if module else ''}{r['type']}.{r['name']}{_index(inst.get('index_key'))}",
                "type": r["type"],
                "module": module,
                "id": v.get("id"),
                "arn": arn,
                "name": next((v[k] for k in NAME_KEYS if isinstance(v.get(k), str) and v[k]), None),
                "region": region_of(arn) or ("us-east-1" if alias == "us_east_1" else None),
                "values": v,
            })
    return sorted(out, key=lambda r: r["address"])


def region_of(arn):
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":")
    return parts[3] or None if len(parts) > 3 else None


def public_resource(r: dict) -> dict:
    """resources.json entry: what a consumer compares (no full attribute dump)."""
    return {k: r[k] for k in ("address", "type", "module", "id", "arn", "name", "region")}


def probe_verdict(probe: dict, outputs: dict) -> list[str]:
    """Problems in an `opsconsole probe --json` document, given the outputs it probed; [] = fine."""
    problems = []
    base = [(a["name"], a["region"]) for a in outputs.get("alarms", {}).get("value", [])]
    if len(base) != 10:
        problems.append(f"outputs: {len(base)} alarms in the `alarms` output, expected 10")
    # The console reads the canary's alarms (`canary_alarms`, 2 when modules/canary is on) with the ten.
    canary = [(a["name"], a["region"]) for a in (outputs.get("canary_alarms", {}).get("value") or [])]
    if len(canary) not in (0, 2):
        problems.append(f"outputs: {len(canary)} alarms in the `canary_alarms` output, expected 2 (or none)")
    expected = sorted(base + canary)
    checks = probe.get("checks") or {}
    for name in ("alarms", "lambda", "redis", "cloudfront"):
        c = checks.get(name)
        if c is None:
            problems.append(f"probe: check {name} absent")
        elif c.get("status") != "ok":
            err = c.get("error") or {}
            problems.append(f"probe: check {name} is {c.get('status')}: {err.get('message') or c.get('reason')}")
    alarms = ((checks.get("alarms") or {}).get("data") or {}).get("alarms") or []
    found = sorted((a.get("name"), a.get("region")) for a in alarms)
    missing = [f"{a.get('name')} ({a.get('region')})" for a in alarms if a.get("state") == "MISSING"]
    if missing:
        problems.append(f"probe: alarms MISSING in CloudWatch: {', '.join(missing)}")
    if expected and found != expected:
        problems.append(f"probe: alarms {found} differ from the outputs' {expected}")
    for f in probe.get("findings") or []:
        problems.append(f"probe finding {f.get('code')} ({f.get('check')}): {f.get('message')}")
    return problems


ERROR_RE = re.compile(r"^[│|]?\s*Error:\s*(.+)$")
WITH_RE = re.compile(r"^[│|]?\s*with\s+([^,]+),")
STARTED_RE = re.compile(r"^(\S+): (?:Creating|Destroying|Modifying)\.\.\.(?: \[id=([^\]]*)\])?")
DONE_RE = re.compile(r"^(\S+): (?:Creation|Destruction|Modifications) complete")


def tf_errors(log: str) -> list[str]:
    """'resource: cause' for each `Error:` block of a terraform log. The resource is the `with`
    line's address; without one (destroy errors have none) the resources that were started, not
    completed, and whose id the message names; '-' when there is none."""
    out, lines = [], log.splitlines()
    pending = {}
    for line in lines:
        m = STARTED_RE.match(line)
        if m:
            pending[m.group(1)] = m.group(2) or ""
        m = DONE_RE.match(line)
        if m:
            pending.pop(m.group(1), None)
    for i, line in enumerate(lines):
        m = ERROR_RE.match(line)
        if not m:
            continue
        resource = None
        detail = []
        for follow in lines[i + 1 : i + 12]:
            w = WITH_RE.match(follow)
            if w:
                resource = w.group(1).strip()
                continue
            if ERROR_RE.match(follow) or follow.startswith("╵"):
                break
            text = follow.lstrip("│| ").strip()
            if text and not text.startswith("on ") and not re.match(r"^\d+:", text):
                detail.append(text)
        cause = m.group(1).strip()
        if resource is None:
            named = [a for a, rid in pending.items() if rid and rid in cause]
            resource = ", ".join(named) or "-"
        extra = " ".join(d for d in detail if d not in cause)[:400]
        out.append(f"{resource}: {cause}{' - ' + extra if extra else ''}")
    return out


def tfvars_for_moto(base: dict, created: dict) -> dict:
    """The committed tfvars with the operator's ids replaced by the ones created in moto."""
    v = dict(base)
    v.update({
        "vpc_id": created["vpc_id"],
        "private_subnet_ids": created["private_subnet_ids"],
        "security_group_ids": created["security_group_ids"],
        "route53_zone_id": created["route53_zone_id"],
        "acm_certificate_arn": created["acm_certificate_arn"],
        "ssm_secrets": created["ssm_secrets"],
    })
    return v


def ssm_name(arn: str) -> str:
    """arn:aws:ssm:REGION:ACCOUNT:parameter/a/b -> /a/b."""
    return "/" + arn.split(":parameter/", 1)[1].lstrip("/")


def moto_arn(arn: str) -> str:
    """The same ARN in moto's account."""
    parts = arn.split(":")
    parts[4] = ACCOUNT
    return ":".join(parts)


def parent_zone(domain: str) -> str:
    return domain.split(".", 1)[1]


# The deployment shape (infrastructure/deployment-shape.json): what the Terraform creates, in a
# form that does not depend on the environment's name or on ids that differ on every apply.

SHAPE_FORMAT = 1
# Outputs whose values differ from one deployment to the next (ids, endpoints, the local ports of
# the sandbox's stand-ins): only their type and sensitivity are compared.
VARYING_OUTPUTS = frozenset({"site_url", "cloudfront_distribution_id", "cloudfront_domain_name", "api_gateway_id",
                             "api_gateway_invoke_url", "redis_endpoint", "redis_port"})
VARIES = "(varies)"


def normalize_name(value, prefix: str, env: str):
    """`value` with the name prefix replaced by `{prefix}` and then the environment's name, where
    it stands as a whole word (between non-alphanumerics), by `{env}`; non-strings unchanged."""
    if not isinstance(value, str):
        return value
    s = value.replace(prefix, "{prefix}") if prefix else value
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(env)}(?![A-Za-z0-9])", "{env}", s) if env else s


def normalize_value(value, prefix: str, env: str):
    """normalize_name over every string of a JSON value (dicts, lists)."""
    if isinstance(value, dict):
        return {k: normalize_value(v, prefix, env) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize_value(v, prefix, env) for v in value]
    return normalize_name(value, prefix, env)


def output_refs(outputs: dict) -> dict:
    """{value: "{outputs.NAME}"} for the string outputs (first name in sorted order wins), to name
    ids such as a distribution id by the output that carries them."""
    refs = {}
    for k in sorted(outputs):
        v = outputs[k].get("value")
        if isinstance(v, str) and v and v not in refs:
            refs[v] = f"{{outputs.{k}}}"
    return refs


def normalize_dimension(value, prefix: str, env: str, refs: dict):
    """A dimension value: names normalized; a value no name rule applies to that is an output's
    value becomes `{outputs.NAME}` (the distribution id, the stage)."""
    n = normalize_name(value, prefix, env)
    return refs.get(value, n) if n == value else n


def alarm_shape(alarm: dict, region: str, prefix: str, env: str, refs: dict) -> tuple[str, dict]:
    """(normalized name, definition) of one DescribeAlarms MetricAlarm."""
    stat = alarm.get("Statistic")
    return normalize_name(alarm["AlarmName"], prefix, env), {
        "region": region,
        "description": normalize_name(alarm.get("AlarmDescription"), prefix, env),
        "namespace": normalize_name(alarm.get("Namespace"), prefix, env),
        "metric_name": alarm.get("MetricName"),
        "statistic": stat,
        "extended_statistic": alarm.get("ExtendedStatistic"),
        "period": alarm.get("Period"),
        "evaluation_periods": alarm.get("EvaluationPeriods"),
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm"),
        "threshold": float(alarm["Threshold"]) if alarm.get("Threshold") is not None else None,
        "comparison_operator": alarm.get("ComparisonOperator"),
        "treat_missing_data": alarm.get("TreatMissingData"),
        "dimensions": {d["Name"]: normalize_dimension(d["Value"], prefix, env, refs)
                       for d in sorted(alarm.get("Dimensions") or [], key=lambda d: d["Name"])},
        "has_alarm_actions": bool(alarm.get("AlarmActions")),
    }


def outputs_shape(outputs: dict, prefix: str, env: str) -> dict:
    """{name: {type, sensitive, value}}: values normalized, VARIES for VARYING_OUTPUTS."""
    return {k: {"type": o.get("type"), "sensitive": bool(o.get("sensitive")),
                "value": VARIES if k in VARYING_OUTPUTS else normalize_value(o.get("value"), prefix, env)}
            for k, o in sorted(outputs.items())}


def build_shape(outputs: dict, alarms_by_region: dict, names: dict, prefix: str, env: str) -> dict:
    """The shape document from `terraform output -json`, DescribeAlarms' MetricAlarms per region
    and the looked-up names (`read_names`)."""
    refs = output_refs(outputs)
    alarms = {}
    for region, items in sorted(alarms_by_region.items()):
        for a in items:
            name, definition = alarm_shape(a, region, prefix, env, refs)
            alarms[name] = definition
    return {
        "format": SHAPE_FORMAT,
        "placeholders": {"{prefix}": "the name prefix (librechat-<environment>)", "{env}": "the environment's name",
                         "{outputs.NAME}": "the value of output NAME", VARIES: "differs per deployment: not compared"},
        "outputs": outputs_shape(outputs, prefix, env),
        "alarms": dict(sorted(alarms.items())),
        "names": normalize_value(names, prefix, env),
    }


def shape_differences(expected, actual, path="") -> list[str]:
    """One line per difference between two shape documents: `path: expected X, found Y`, or
    `path: missing` / `path: unexpected`."""
    out = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in sorted(set(expected) | set(actual), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in actual:
                out.append(f"{p}: missing (expected {json.dumps(expected[k], sort_keys=True)})")
            elif k not in expected:
                out.append(f"{p}: unexpected (found {json.dumps(actual[k], sort_keys=True)})")
            else:
                out += shape_differences(expected[k], actual[k], p)
    elif expected != actual:
        out.append(f"{path}: expected {json.dumps(expected, sort_keys=True)}, found {json.dumps(actual, sort_keys=True)}")
    return out


# ---------------------------------------------------------------------------------------------
# AWS (moto) adapters


_clients = {}


def client(service, endpoint, region=None):
    """One boto3 client per (service, endpoint, region): creating one costs ~0.3 s."""
    key = (service, endpoint, region)
    if key not in _clients:
        import boto3
        from botocore.config import Config

        cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, s3={"addressing_style": "path"})
        _clients[key] = boto3.client(service, endpoint_url=endpoint, region_name=region, config=cfg)
    return _clients[key]


def immediate_cloudfront(endpoint):
    """moto's state manager: distributions are Deployed at once after a change (default: the first
    read after an update says InProgress, which costs the provider's waiter another 15 s poll)."""
    import urllib.request

    body = json.dumps({"model_name": "cloudfront::distribution", "transition": {"progression": "immediate"}}).encode()
    req = urllib.request.Request(f"{endpoint}/moto-api/state-manager/set-transition", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def create_prereqs(endpoint, base, dist: Path):
    region = base["region"]
    immediate_cloudfront(endpoint)
    ec2 = client("ec2", endpoint, region)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = []
    for i, az in enumerate("abc"):
        subnets.append(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"])
    groups = {}
    for role in base.get("security_group_ids", {}):
        groups[role] = ec2.create_security_group(GroupName=role, Description=f"existing group {role}", VpcId=vpc)["GroupId"]
    ec2.create_tags(Resources=[vpc, *subnets, *groups.values()], Tags=[PREREQ_TAG])

    acm = client("acm", endpoint, "us-east-1")
    cert = acm.request_certificate(DomainName=base["custom_domain"], ValidationMethod="DNS",
                                   Tags=[PREREQ_TAG])["CertificateArn"]

    r53 = client("route53", endpoint, region)
    zone = r53.create_hosted_zone(Name=parent_zone(base["custom_domain"]), CallerReference="apply-local")["HostedZone"]["Id"]
    zone = zone.split("/")[-1]

    ssm = client("ssm", endpoint, region)
    secrets = {}
    for name, arn in sorted(base.get("ssm_secrets", {}).items()):
        ssm.put_parameter(Name=ssm_name(arn), Value=f"local-{name.lower()}", Type="SecureString", Tags=[PREREQ_TAG])
        secrets[name] = moto_arn(arn)

    s3 = client("s3", endpoint, region)
    s3.create_bucket(Bucket=base["config_s3_bucket"], CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_tagging(Bucket=base["config_s3_bucket"], Tagging={"TagSet": [PREREQ_TAG]})
    s3.put_object(Bucket=base["config_s3_bucket"], Key=base["config_s3_key"],
                  Body=b"version: 1.2.1\ncache: true\n# apply-local: stand-in librechat.yaml\n"
                  + (Path(__file__).resolve().parents[1] / "librechat-files.yaml").read_bytes())

    (dist / "assets").mkdir(parents=True, exist_ok=True)
    (dist / "index.html").write_text("<!doctype html><title>LibreChat (apply-local)</title>\n")
    (dist / "assets" / "index-0a1b2c3d.js").write_text("console.log('apply-local');\n")

    created = {"vpc_id": vpc, "private_subnet_ids": subnets, "security_group_ids": groups,
               "route53_zone_id": zone, "acm_certificate_arn": cert, "ssm_secrets": secrets,
               "config_bucket": base["config_s3_bucket"], "region": region}
    return created


def fill(endpoint, outputs):
    region = outputs["region"]["value"]
    s3 = client("s3", endpoint, region)
    for key in ("frontend_bucket_name", "files_bucket_name"):
        bucket = outputs[key]["value"]
        s3.put_object(Bucket=bucket, Key="apply-local/sc-005.txt", Body=b"destroy must remove this bucket with me\n")
    repo_url = outputs["ecr_repository_url"]["value"]
    repo = repo_url.split("/", 1)[1]
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                   "digest": "sha256:" + "4" * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2,
                    "digest": "sha256:" + "5" * 64}],
    }
    ecr = client("ecr", endpoint, region)
    ecr.put_image(repositoryName=repo, imageManifest=json.dumps(manifest), imageTag="apply-local")
    n = len(ecr.list_images(repositoryName=repo)["imageIds"])
    return [outputs["frontend_bucket_name"]["value"], outputs["files_bucket_name"]["value"], f"{repo} ({n} image)"]


def describe_alarms(endpoint, names_by_region):
    out = {}
    for region, names in sorted(names_by_region.items()):
        cw = client("cloudwatch", endpoint, region)
        alarms = []
        for i in range(0, len(names), 100):
            alarms += cw.describe_alarms(AlarmNames=names[i : i + 100])["MetricAlarms"]
        out[region] = sorted(alarms, key=lambda a: a["AlarmName"])
    return out


def all_alarms(endpoint, regions):
    """{region: [MetricAlarm, ...]} of every alarm in each region (paginated)."""
    out = {}
    for region in sorted(regions):
        pages = client("cloudwatch", endpoint, region).get_paginator("describe_alarms").paginate()
        out[region] = sorted((a for p in pages for a in p.get("MetricAlarms", [])), key=lambda a: a["AlarmName"])
    return out


def read_names(endpoint, outputs):
    """The resources the sandbox imitates, looked up by the names the outputs give (a lookup that
    finds nothing gives null): the function (package type, memory, timeout, architectures, role),
    its log group (retention), the two buckets, the replication group (members, node type,
    failover) and the dashboard."""
    from botocore.exceptions import ClientError

    region = outputs["region"]["value"]
    val = lambda k: (outputs.get(k) or {}).get("value")  # noqa: E731

    def lookup(fn):
        try:
            return fn()
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404 or "NotFound" in code or "NoSuch" in code:
                return None
            raise

    def function():
        f = client("lambda", endpoint, region).get_function(FunctionName=val("lambda_function_name"))["Configuration"]
        return {"name": f["FunctionName"], "package_type": f.get("PackageType"), "memory_size": f.get("MemorySize"),
                "timeout": f.get("Timeout"), "architectures": f.get("Architectures"),
                "role": f.get("Role", "").rsplit("/", 1)[-1]}

    def log_group():
        name = val("lambda_log_group_name")
        groups = client("logs", endpoint, region).describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        g = next((g for g in groups if g["logGroupName"] == name), None)
        return g and {"name": g["logGroupName"], "retention_in_days": g.get("retentionInDays")}

    def bucket(key):
        client("s3", endpoint, region).head_bucket(Bucket=val(key))
        return val(key)

    def redis():
        g = client("elasticache", endpoint, region).describe_replication_groups(
            ReplicationGroupId=val("redis_replication_group_id"))["ReplicationGroups"][0]
        return {"id": g["ReplicationGroupId"], "member_clusters": sorted(g.get("MemberClusters") or []),
                "cache_node_type": g.get("CacheNodeType"), "automatic_failover": g.get("AutomaticFailover")}

    def dashboard():
        return client("cloudwatch", endpoint, region).get_dashboard(DashboardName=val("dashboard_name"))["DashboardName"]

    return {
        "lambda_function": lookup(function),
        "lambda_log_group": lookup(log_group),
        "frontend_bucket": lookup(lambda: bucket("frontend_bucket_name")),
        "files_bucket": lookup(lambda: bucket("files_bucket_name")),
        "redis_replication_group": lookup(redis),
        "dashboard": lookup(dashboard),
    }


def _gone(fn, *codes):
    from botocore.exceptions import ClientError

    try:
        return not fn()
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in codes or status == 404 or "NotFound" in code or "NoSuch" in code:
            return True
        raise


def still_exists(endpoint, r, default_region):
    """True when the AWS object behind state resource r still exists; None when r is not an AWS object."""
    t, v = r["type"], r["values"]
    region = r["region"] or default_region
    c = lambda s: client(s, endpoint, region)  # noqa: E731
    if t == "terraform_data":
        return None
    if t == "aws_s3_bucket" or (t.startswith("aws_s3_bucket_") and v.get("bucket")):
        bucket = v["bucket"]
        return not _gone(lambda: c("s3").head_bucket(Bucket=bucket), "404", "NoSuchBucket")
    if t in ("aws_ecr_repository", "aws_ecr_lifecycle_policy"):
        name = v.get("name") or v.get("repository")
        return not _gone(lambda: c("ecr").describe_repositories(repositoryNames=[name])["repositories"], "RepositoryNotFoundException")
    if t == "aws_cloudwatch_log_group":
        return any(g["logGroupName"] == v["name"] for g in c("logs").describe_log_groups(logGroupNamePrefix=v["name"])["logGroups"])
    if t == "aws_iam_role":
        return not _gone(lambda: c("iam").get_role(RoleName=v["name"]), "NoSuchEntity")
    if t == "aws_iam_role_policy":
        return not _gone(lambda: c("iam").get_role_policy(RoleName=v["role"], PolicyName=v["name"]), "NoSuchEntity")
    if t == "aws_iam_role_policy_attachment":
        def attached():
            return [p for p in c("iam").list_attached_role_policies(RoleName=v["role"])["AttachedPolicies"] if p["PolicyArn"] == v["policy_arn"]]
        return not _gone(attached, "NoSuchEntity")
    if t == "aws_security_group":
        return not _gone(lambda: c("ec2").describe_security_groups(GroupIds=[v["id"]])["SecurityGroups"], "InvalidGroup.NotFound")
    if t in ("aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule"):
        return not _gone(lambda: c("ec2").describe_security_group_rules(SecurityGroupRuleIds=[v["id"]])["SecurityGroupRules"],
                         "InvalidSecurityGroupRuleId.NotFound", "InvalidGroup.NotFound")
    if t == "aws_lambda_function":
        return not _gone(lambda: c("lambda").get_function(FunctionName=v["function_name"]), "ResourceNotFoundException")
    if t == "aws_lambda_permission":
        def policy():
            doc = json.loads(c("lambda").get_policy(FunctionName=v["function_name"])["Policy"])
            return [s for s in doc.get("Statement", []) if s.get("Sid") == v["statement_id"]]
        return not _gone(policy, "ResourceNotFoundException")
    if t == "aws_api_gateway_rest_api":
        return not _gone(lambda: c("apigateway").get_rest_api(restApiId=v["id"]), "NotFoundException")
    if t == "aws_api_gateway_deployment":
        return not _gone(lambda: c("apigateway").get_deployment(restApiId=v["rest_api_id"], deploymentId=v["id"]), "NotFoundException")
    if t == "aws_api_gateway_stage":
        return not _gone(lambda: c("apigateway").get_stage(restApiId=v["rest_api_id"], stageName=v["stage_name"]), "NotFoundException")
    if t == "aws_cloudfront_origin_access_control":
        return not _gone(lambda: c("cloudfront").get_origin_access_control(Id=v["id"]), "NoSuchOriginAccessControl")
    if t == "aws_cloudfront_function":
        return not _gone(lambda: c("cloudfront").describe_function(Name=v["name"]), "NoSuchFunctionExists")
    if t == "aws_cloudfront_distribution":
        return not _gone(lambda: c("cloudfront").get_distribution(Id=v["id"]), "NoSuchDistribution")
    if t == "aws_route53_record":
        name = v["fqdn"].rstrip(".") + "."
        sets = c("route53").list_resource_record_sets(HostedZoneId=v["zone_id"])["ResourceRecordSets"]
        return any(s["Name"] == name and s["Type"] == v["type"] for s in sets)
    if t == "aws_elasticache_replication_group":
        ec = c("elasticache")
        group_gone = _gone(lambda: ec.describe_replication_groups(ReplicationGroupId=v["id"]), "ReplicationGroupNotFoundFault")
        members = [m for m in ec.describe_cache_clusters()["CacheClusters"] if m.get("ReplicationGroupId") == v["id"]]
        return not group_gone or bool(members)
    if t == "aws_elasticache_subnet_group":
        return not _gone(lambda: c("elasticache").describe_cache_subnet_groups(CacheSubnetGroupName=v["name"]), "CacheSubnetGroupNotFoundFault")
    if t == "aws_cloudwatch_metric_alarm":
        return bool(c("cloudwatch").describe_alarms(AlarmNames=[v["alarm_name"]])["MetricAlarms"])
    if t == "aws_cloudwatch_dashboard":
        return not _gone(lambda: c("cloudwatch").get_dashboard(DashboardName=v["dashboard_name"]), "ResourceNotFound")
    if t == "aws_scheduler_schedule":
        return not _gone(lambda: c("scheduler").get_schedule(Name=v["name"], GroupName=v.get("group_name") or "default"),
                         "ResourceNotFoundException")
    if t == "aws_sns_topic":
        return not _gone(lambda: c("sns").get_topic_attributes(TopicArn=v["arn"]), "NotFound")
    raise KeyError(f"no leftover check for resource type {t} ({r['address']}): add one to still_exists() "
                   "in infrastructure/scripts/apply_local.py")


def tagged_leftovers(endpoint, regions):
    """Tagged resources (Resource Groups Tagging API) that are not prerequisites."""
    out = []
    for region in sorted(regions):
        rg = client("resourcegroupstaggingapi", endpoint, region)
        token = ""
        while True:
            page = rg.get_resources(PaginationToken=token) if token else rg.get_resources()
            for m in page.get("ResourceTagMappingList", []):
                tags = {t["Key"]: t["Value"] for t in m.get("Tags", [])}
                if tags.get(PREREQ_TAG["Key"]) != PREREQ_TAG["Value"]:
                    out.append(f"{m['ResourceARN']} (tags {tags})")
            token = page.get("PaginationToken") or ""
            if not token:
                break
    return out


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_prereqs(a):
    base = json.loads(Path(a.tfvars_in).read_text())
    created = create_prereqs(a.endpoint, base, Path(a.dist))
    tfvars = tfvars_for_moto(base, created)
    tfvars.update({"build_image": False, "client_dist_dir": str(Path(a.dist).resolve())})
    # modules/canary needs its zip at plan time; moto never runs it: a stand-in bootstrap.
    canary_zip = Path(a.dist).resolve().parent / "canary-bootstrap.zip"
    with zipfile.ZipFile(canary_zip, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\nexit 0\n")
    tfvars["canary_package_path"] = str(canary_zip)
    Path(a.tfvars_out).write_text(json.dumps(tfvars, indent=2) + "\n")
    Path(a.tfvars_out).with_suffix(".prereqs.json").write_text(json.dumps(created, indent=2) + "\n")
    print(f"prereqs: VPC {created['vpc_id']}, {len(created['private_subnet_ids'])} private subnets, "
          f"{len(created['security_group_ids'])} security group(s), certificate, zone {created['route53_zone_id']}, "
          f"{len(created['ssm_secrets'])} SSM parameters, s3://{base['config_s3_bucket']}/{base['config_s3_key']}")
    return 0


def cmd_check_probe(a):
    probe = json.loads(Path(a.probe).read_text())
    outputs = json.loads(Path(a.outputs).read_text())
    problems = probe_verdict(probe, outputs)
    for p in problems:
        print(f"apply-local: {p}", file=sys.stderr)
    if not problems:
        s = probe["checks"]["alarms"]["summary"]
        print(f"probe: {len(probe['checks']['alarms']['data']['alarms'])} alarms (missing {s.get('missing')}), "
              f"lambda, redis, cloudfront ok; status {probe.get('status')}")
    return 1 if problems else 0


def cmd_fill(a):
    outputs = json.loads(Path(a.outputs).read_text())
    print("fill: one object in " + ", ".join(fill(a.endpoint, outputs)))
    return 0


def _json_default(o):
    return o.isoformat() if hasattr(o, "isoformat") else str(o)


def cmd_export(a):
    state = json.loads(Path(a.state).read_text())
    outputs = json.loads(Path(a.outputs).read_text())
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    resources = resources_from_state(state)
    names = {}
    for al in outputs["alarms"]["value"]:
        names.setdefault(al["region"], []).append(al["name"])
    alarms = describe_alarms(a.endpoint, names)
    region = outputs["region"]["value"]
    entries = [dict(public_resource(r), region=r["region"] or region) for r in resources]
    (d / "resources.json").write_text(json.dumps(entries, indent=2) + "\n")
    (d / "outputs.json").write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n")
    (d / "alarms.json").write_text(json.dumps(alarms, indent=2, default=_json_default) + "\n")
    print(f"export: {len(resources)} resources, {len(outputs)} outputs, "
          f"{sum(len(v) for v in alarms.values())} alarms -> {d}")
    return 0


def cmd_shape(a):
    outputs = json.loads(Path(a.outputs).read_text())
    prefix = a.prefix or f"librechat-{a.env}"
    region = outputs["region"]["value"]
    shape = build_shape(outputs, all_alarms(a.endpoint, {region, "us-east-1"}), read_names(a.endpoint, outputs), prefix, a.env)
    text = json.dumps(shape, indent=2, sort_keys=False) + "\n"
    if a.write:
        Path(a.write).write_text(text)
        print(f"shape: {len(shape['outputs'])} outputs, {len(shape['alarms'])} alarms, {len(shape['names'])} names -> {a.write}")
        return 0
    try:
        expected = json.loads(Path(a.check).read_text())
    except (OSError, ValueError) as e:
        print(f"apply-local: shape: cannot read {a.check}: {e}; fix: regenerate it with "
              "infrastructure/scripts/apply-local.sh --write-shape", file=sys.stderr)
        return 1
    if a.actual:
        Path(a.actual).write_text(text)
    diffs = shape_differences(expected, shape)
    for d in diffs:
        print(f"apply-local: shape differs: {d}", file=sys.stderr)
    if diffs:
        print(f"apply-local: {len(diffs)} difference(s) between {a.check} (expected) and what moto at "
              f"{a.endpoint} holds (env {a.env}, prefix {prefix}). The file is what `terraform apply` of "
              "environments/dev creates: when the Terraform changed on purpose, regenerate it with "
              "infrastructure/scripts/apply-local.sh --write-shape and make the sandbox's seed match; "
              "otherwise fix what drifted.", file=sys.stderr)
        return 1
    print(f"shape: {len(shape['outputs'])} outputs, {len(shape['alarms'])} alarms, {len(shape['names'])} names "
          f"match {Path(a.check).name}")
    return 0


def cmd_count(a):
    print(len(resources_from_state(json.loads(Path(a.state).read_text()))))
    return 0


def cmd_leftovers(a):
    state = json.loads(Path(a.state).read_text())
    prereqs = json.loads(Path(a.prereqs).read_text())
    default_region = prereqs["region"]
    left, checked, not_aws = [], 0, 0
    for r in resources_from_state(state):
        try:
            exists = still_exists(a.endpoint, r, default_region)
        except KeyError as e:
            left.append(f"{r['address']}: {e.args[0]}")
            continue
        if exists is None:
            not_aws += 1
            continue
        checked += 1
        if exists:
            left.append(f"{r['address']} ({r['type']} {r['id']}): still exists after destroy")
    tagged = tagged_leftovers(a.endpoint, {default_region, "us-east-1"})
    left += [f"tagged resource not destroyed: {t}" for t in tagged]
    for item in left:
        print(f"apply-local: left: {item}", file=sys.stderr)
    print(f"leftovers: {checked} AWS resources of the state checked gone ({not_aws} not AWS objects), "
          f"tagging API: {len(tagged)} non-prerequisite tagged resources; {len(left)} left")
    if a.count_file:
        Path(a.count_file).write_text(f"{len(left)}\n")
    return 1 if left else 0


def cmd_tf_errors(a):
    for line in tf_errors(Path(a.log).read_text(errors="replace")):
        print(line)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name, fn, *args, endpoint=True):
        s = sub.add_parser(name)
        if endpoint:
            s.add_argument("--endpoint", required=True)
        for arg in args:
            s.add_argument(arg)
        s.set_defaults(fn=fn)
        return s

    add("prereqs", cmd_prereqs, "tfvars_in", "tfvars_out").add_argument("--dist", required=True)
    add("check-probe", cmd_check_probe, "probe", "outputs", endpoint=False)
    add("fill", cmd_fill, "outputs")
    add("export", cmd_export, "state", "outputs", "dir")
    shape = add("shape", cmd_shape, "outputs")
    shape.add_argument("--env", required=True, help="the environment's name (dev; the sandbox: sandbox)")
    shape.add_argument("--prefix", help="the name prefix (default librechat-ENV)")
    how = shape.add_mutually_exclusive_group(required=True)
    how.add_argument("--check", metavar="FILE", help="compare with FILE: one line per difference, exit 1")
    how.add_argument("--write", metavar="FILE", help="write the shape to FILE")
    shape.add_argument("--actual", metavar="FILE", help="with --check: also write what was found to FILE")
    add("count", cmd_count, "state", endpoint=False)
    add("leftovers", cmd_leftovers, "state", "prereqs").add_argument("--count-file")
    add("tf-errors", cmd_tf_errors, "log", endpoint=False)
    a = p.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
