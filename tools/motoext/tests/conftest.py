"""One moto server with the extensions (`python -m motoext.server`) per test session, on a free
loopback port; each test works in its own account (x-moto-account-id) so tests do not see each
other's resources. MOTOEXT_DISABLE=name,... starts it without those extensions (used to check
that each test fails when its extension is missing)."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

PKG_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PKG_ROOT))


def start_server(tmp_path, *extra):
    port_file = tmp_path / f"port-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, PYTHONPATH=str(PKG_ROOT))
    env.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
    disable = os.environ.get("MOTOEXT_DISABLE", "")
    args = [sys.executable, "-m", "motoext.server", "--port", "0", "--port-file", str(port_file), *extra]
    if disable:
        args += ["--disable", disable]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"motoext.server did not start (exit {proc.returncode}): {out}")
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port_file.read_text().strip()}"


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def pkg_root():
    return PKG_ROOT


@pytest.fixture
def launch(tmp_path):
    """launch(*extra_args) -> endpoint of another server, stopped after the test."""
    procs = []

    def start(*extra):
        proc, endpoint = start_server(tmp_path, *extra)
        procs.append(proc)
        return endpoint

    yield start
    for proc in procs:
        stop_server(proc)


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    proc, endpoint = start_server(tmp_path_factory.mktemp("moto"))
    yield endpoint
    stop_server(proc)


@pytest.fixture
def account():
    """A fresh 12-digit account per test."""
    return f"{uuid.uuid4().int % 10**12:012d}"


@pytest.fixture
def aws(moto_endpoint, account):
    """aws(service, region='eu-west-1') -> a boto3 client at the test server, in this test's account,
    one attempt (moto answers unimplemented calls with 500, which SDKs would retry)."""

    def make(service, region="eu-west-1"):
        c = boto3.client(service, endpoint_url=moto_endpoint, region_name=region,
                         aws_access_key_id="test", aws_secret_access_key="test",
                         config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        c.meta.events.register("before-send.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
        return c

    return make
