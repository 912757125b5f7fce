"""scripts/test_lanes.py: what it runs, in which lane, with what, and what it says."""
import json
import os
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import test_lanes  # noqa: E402

SCRIPT = os.path.join(HERE, "..", "test_lanes.py")


def artifact(root, pkg_dir, pkg_id_tail, kind, name, src, exe, test=True):
    return json.dumps({
        "reason": "compiler-artifact",
        "package_id": f"path+file://{root}/{pkg_dir}#{pkg_id_tail}",
        "manifest_path": f"{root}/{pkg_dir}/Cargo.toml",
        "target": {"kind": [kind], "name": name, "src_path": f"{root}/{pkg_dir}/{src}"},
        "profile": {"test": test},
        "executable": exe,
    })


def build_output(root, exes):
    return "\n".join([
        '{"reason":"build-script-executed"}',
        artifact(root, "sandbox", "opsconsole-sandbox@0.1.0", "test", "it", "tests/it/main.rs", exes["sandbox_it"]),
        artifact(root, "shim", "0.1.0", "bench", "overhead", "benches/overhead.rs", exes["bench"]),
        artifact(root, "shim", "0.1.0", "lib", "shim", "src/lib.rs", exes["shim_lib"]),
        # the plain binary (not a test executable): not run
        artifact(root, "shim", "0.1.0", "bin", "bootstrap", "src/bin/bootstrap.rs", exes["plain"], test=False),
        artifact(root, "sandbox", "opsconsole-sandbox@0.1.0", "bench", "sc002", "benches/sc002.rs", exes["sc002"]),
        "not json",
    ])


def test_described_and_ordered_as_cargo_runs_them_and_the_sandbox_alone(tmp_path):
    exes = {k: str(tmp_path / k) for k in ["sandbox_it", "bench", "shim_lib", "plain", "sc002"]}
    got = test_lanes.parse_build(build_output(tmp_path, exes))
    assert [(e.package, e.desc) for e in got] == [
        ("opsconsole-sandbox", "tests/it/main.rs"),
        ("opsconsole-sandbox", "benches/sc002.rs"),
        ("shim", "unittests src/lib.rs"),
        ("shim", "benches/overhead.rs"),
    ]
    solo, rest = test_lanes.lanes(got)
    assert [e.desc for e in solo] == ["tests/it/main.rs", "benches/sc002.rs"]
    assert [e.desc for e in rest] == ["unittests src/lib.rs", "benches/overhead.rs"]


def script(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_runs_both_lanes_side_by_side_in_each_packages_directory_and_reports_failures(tmp_path):
    root = tmp_path / "ws"
    for d in ["sandbox", "shim"]:
        (root / d).mkdir(parents=True)
    # Each executable says where and as what it runs. The sandbox's and the library's each wait
    # for the other to have started: only side by side do both pass (bounded: 10 s each).
    a, b = tmp_path / "sandbox-started", tmp_path / "rest-started"

    def wait_for(flag):
        return (f'i=0; while [ ! -e {flag} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n'
                f'[ -e {flag} ] || {{ echo "{flag.name} never came"; exit 9; }}\n')
    exes = {
        "sandbox_it": script(tmp_path / "sandbox_it", f"touch {a}\n" + wait_for(b)
                             + 'echo "test sandbox ... ok in $PWD as $CARGO_PKG_NAME"\n'),
        "sc002": script(tmp_path / "sc002", 'echo "sc002: args [$*]"\n'),
        "shim_lib": script(tmp_path / "shim_lib", f"touch {b}\n" + wait_for(a)
                           + 'echo "test lib ... ok in $PWD as $CARGO_PKG_NAME $CARGO_PKG_VERSION"\n'),
        "bench": script(tmp_path / "bench", 'echo "test bench ... FAILED"; exit 101\n'),
        "plain": script(tmp_path / "plain", "echo plain binary ran; exit 1\n"),
    }
    fake_cargo = script(tmp_path / "cargo", f"cat <<'EOF'\n{build_output(root, exes)}\nEOF\n")
    log = tmp_path / "test.log"
    r = subprocess.run([sys.executable, SCRIPT, str(log)], env={**os.environ, "CARGO": fake_cargo},
                       cwd=root, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    text = log.read_text()
    assert f"test lib ... ok in {root}/shim as shim 0.1.0" in text
    assert f"test sandbox ... ok in {root}/sandbox as opsconsole-sandbox" in text
    assert "sc002: args []" in text
    assert "plain binary ran" not in text
    # cargo's headers, the other lane first, the sandbox's after it
    heads = [line.strip() for line in text.splitlines() if line.strip().startswith("Running ")]
    assert heads == [
        f"Running unittests src/lib.rs ({os.path.relpath(exes['shim_lib'], root)})",
        f"Running benches/overhead.rs ({os.path.relpath(exes['bench'], root)})",
        f"Running tests/it/main.rs ({os.path.relpath(exes['sandbox_it'], root)})",
        f"Running benches/sc002.rs ({os.path.relpath(exes['sc002'], root)})",
    ]
    assert "failed: shim benches/overhead.rs" in r.stdout
    assert r.stdout.count("test lib ... ok") == 1  # printed once, live


def test_a_failed_build_exits_2_and_runs_nothing(tmp_path):
    fake_cargo = script(tmp_path / "cargo", "echo 'error: could not compile' >&2; exit 101\n")
    r = subprocess.run([sys.executable, SCRIPT, str(tmp_path / "log")],
                       env={**os.environ, "CARGO": fake_cargo}, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "could not compile" in r.stderr
