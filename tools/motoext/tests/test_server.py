"""The launcher: managed IAM policies on by default, a free port, gone with its parent."""

import os
import subprocess
import sys
import time

import boto3
import pytest
from botocore.exceptions import ClientError

VPC_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


def iam(endpoint):
    return boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="t", aws_secret_access_key="t")


def test_managed_policies_are_loaded_by_default(moto_endpoint):
    c = iam(moto_endpoint)
    assert c.get_policy(PolicyArn=VPC_POLICY)["Policy"]["PolicyName"] == "AWSLambdaVPCAccessExecutionRole"
    c.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")
    c.attach_role_policy(RoleName="fn", PolicyArn=VPC_POLICY)
    assert [p["PolicyArn"] for p in c.list_attached_role_policies(RoleName="fn")["AttachedPolicies"]] == [VPC_POLICY]


def test_without_managed_policies_the_attachment_fails(launch):
    endpoint = launch("--no-managed-policies")
    with pytest.raises(ClientError) as e:
        iam(endpoint).get_policy(PolicyArn=VPC_POLICY)
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_unknown_extension_name_is_refused(pkg_root):
    r = subprocess.run([sys.executable, "-m", "motoext.server", "--disable", "nope"], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(pkg_root)), timeout=60)
    assert r.returncode == 2
    assert "unknown extension(s) ['nope']" in r.stderr


def alive(pid):
    """Running (a zombie that nobody reaped yet has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_server_stops_when_its_parent_dies(tmp_path, pkg_root):
    """A parent that starts the server and dies at once: the server must not stay behind."""
    port_file = tmp_path / "port"
    pid_file = tmp_path / "pid"
    parent = (
        "import subprocess, sys, time, pathlib\n"
        f"p = subprocess.Popen([sys.executable, '-m', 'motoext.server', '--port-file', {str(port_file)!r}])\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid))\n"
        f"while not pathlib.Path({str(port_file)!r}).exists(): time.sleep(0.05)\n"
    )
    subprocess.run([sys.executable, "-c", parent], env=dict(os.environ, PYTHONPATH=str(pkg_root)), timeout=60, check=True)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.1)
    os.kill(pid, 9)
    pytest.fail(f"motoext.server {pid} still running 10 s after its parent exited")
