#!/usr/bin/env python3
"""Runs the workspace's test executables as `cargo test --workspace --all-targets --no-fail-fast`
does, in two lanes side by side: the sandbox crate's executables (one whole deployment at a time,
waiting on its processes most of the time) in one, everything else one after another in the
other. Same executables, same arguments (none), same working directory (the package's) and the
variables cargo sets for them; the output keeps cargo's `Running ...` headers, so
scripts/ci_summary.py reads it as it reads cargo's.

    scripts/test_lanes.py LOG [CARGO_ARGS...]

The other lane's output is printed live; the sandbox lane's when it ends (each is written whole to
LOG, the other lane first). Exits 1 if any executable failed, 2 if the build did.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# The lane of its own: its tests start whole deployments one at a time (sandbox/tests/it/main.rs,
# one_sandbox_at_a_time) and so does its SC-002 bench in test mode.
SOLO_PACKAGE = "opsconsole-sandbox"


@dataclass
class Exe:
    desc: str  # what cargo says it runs: "unittests src/lib.rs", "tests/it/main.rs"
    path: str  # as cargo prints it (relative to the workspace)
    package: str
    version: str
    manifest: Path
    kind: str = "lib"


KIND_ORDER = {"lib": 0, "bin": 1, "test": 2, "example": 3, "bench": 4}


def parse_build(stdout: str) -> list[Exe]:
    """The test executables `cargo test --no-run --message-format=json` built (its artifacts
    with `profile.test`), described and ordered as `cargo test` runs them: by package, then unit
    tests of the library, the binaries, the integration tests, examples, benches."""
    out = []
    for line in stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg.get("profile", {}).get("test"):
            continue
        target = msg["target"]
        kind = target["kind"][0]
        manifest = Path(msg["manifest_path"])
        # package_id: "path+file:///work/main/console#opsconsole@0.1.0", or "...#0.1.0" when the
        # package is named as its directory
        tail = msg["package_id"].rsplit("#", 1)[-1]
        name, _, version = tail.rpartition("@")
        if not name:
            name, version = manifest.parent.name, tail
        src = os.path.relpath(target["src_path"], manifest.parent)
        desc = f"unittests {src}" if kind in ("lib", "bin", "example") else src
        out.append(Exe(desc, os.path.relpath(msg["executable"]), name, version, manifest, kind))
    out.sort(key=lambda e: (e.package, KIND_ORDER.get(e.kind, 9), e.desc))
    return out


def lanes(exes: list[Exe]) -> tuple[list[Exe], list[Exe]]:
    solo = [e for e in exes if e.package == SOLO_PACKAGE]
    rest = [e for e in exes if e.package != SOLO_PACKAGE]
    return solo, rest


RUNNING: set[subprocess.Popen] = set()


def stop_running(signum, _frame) -> None:
    """Interrupted: the test executables go too (each stops what it started)."""
    for p in list(RUNNING):
        p.terminate()
    raise SystemExit(128 + signum)


def run_lane(exes: list[Exe], sink, failed: list[str], cargo: str) -> None:
    for e in exes:
        sink.write(f"     Running {e.desc} ({e.path})\n")
        sink.flush()
        env = dict(os.environ)
        env.update(
            CARGO=cargo,
            CARGO_MANIFEST_DIR=str(e.manifest.parent),
            CARGO_MANIFEST_PATH=str(e.manifest),
            CARGO_PKG_NAME=e.package,
            CARGO_PKG_VERSION=e.version,
        )
        p = subprocess.Popen(
            [os.path.abspath(e.path)],
            cwd=e.manifest.parent,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        RUNNING.add(p)
        assert p.stdout is not None
        for line in p.stdout:
            sink.write(line)
            sink.flush()
        rc = p.wait()
        RUNNING.discard(p)
        if rc != 0:
            sink.write(f"error: test failed, to rerun pass `-p {e.package}` ({e.desc}: exit {rc})\n")
            failed.append(f"{e.package} {e.desc}")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    log = Path(argv[1])
    signal.signal(signal.SIGTERM, stop_running)
    signal.signal(signal.SIGINT, stop_running)
    cargo = os.environ.get("CARGO") or shutil.which("cargo") or "cargo"
    build = subprocess.run(
        [cargo, "test", "--workspace", "--all-targets", "--no-run", "--message-format=json", *argv[2:]],
        stdout=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    if build.returncode != 0:
        return 2
    solo, rest = lanes(parse_build(build.stdout))
    failed: list[str] = []
    solo_log = log.with_name(log.name + ".solo")
    t0 = time.monotonic()
    with open(solo_log, "w") as solo_sink:
        th = threading.Thread(target=run_lane, args=(solo, solo_sink, failed, cargo))
        th.start()

        class Tee:
            def __init__(self, f):
                self.f = f

            def write(self, s):
                sys.stdout.write(s)
                self.f.write(s)

            def flush(self):
                sys.stdout.flush()
                self.f.flush()

        with open(log, "w") as rest_sink:
            run_lane(rest, Tee(rest_sink), failed, cargo)
        rest_secs = time.monotonic() - t0
        th.join()
    solo_secs = time.monotonic() - t0
    text = solo_log.read_text()
    sys.stdout.write(text)
    with open(log, "a") as f:
        f.write(text)
    solo_log.unlink()
    print(
        f"\ntest lanes: {SOLO_PACKAGE} {solo_secs:.0f} s beside the other {len(rest)} executables "
        f"{rest_secs:.0f} s"
    )
    if failed:
        print("failed: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
