"""scripts/ci_summary.py on a synthesized run: tiers, skips, and the skips that fail the run."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "ci_summary.py")


def run(tmp_path, log, expect, steps_text="bootstrap\t3\tok\napply-local: terraform\t20\tskipped\ncargo test\t40\tok\n"):
    deps = tmp_path / "target" / "debug" / "deps"
    deps.mkdir(parents=True, exist_ok=True)
    for h, crate in [("aaa", "shim"), ("bbb", "crates/locallambda"), ("ccc", "sandbox")]:
        (deps / f"it-{h}.d").write_text(f"/r/target/debug/deps/it-{h}: /r/{crate}/tests/it/main.rs /r/x.rs\n")
    steps = tmp_path / "steps.tsv"
    steps.write_text(steps_text)
    test_log = tmp_path / "test.log"
    test_log.write_text(log)
    return subprocess.run([sys.executable, SCRIPT, str(steps), str(test_log), *expect],
                          cwd=tmp_path, capture_output=True, text=True)


LOG = """
     Running unittests src/lib.rs (target/debug/deps/shim-123)
test pending::tests::x ... ok
     Running tests/it/main.rs (target/debug/deps/it-aaa)
test proxy::streams ... ok
test web_chat::a_web_chat_completes ... ok
skipped: real LibreChat not available
test real_librechat::cold_start ... ok
     Running tests/it/main.rs (target/debug/deps/it-bbb)
test an_idle_environment_is_frozen ... ok
     Running tests/it/main.rs (target/debug/deps/it-ccc)
test sandbox_faults::baseline ... FAILED
test browser::browser_registers_logs_in ... ok
"""


def test_tiers_and_skips_are_counted(tmp_path):
    r = run(tmp_path, LOG, [])
    assert r.returncode == 0, r.stdout
    rows = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^([A-Za-z][A-Za-z -]*?)\s{2,}(\d.*)$", line)
        if m:
            rows[m.group(1)] = m.group(2).split()
    assert rows["unit"][:2] == ["1", "0"]
    assert rows["local Lambda"][:2] == ["1", "0"]
    assert rows["real LibreChat"][:4] == ["2", "0", "0", "1"]  # passed, failed, ignored, skipped
    assert rows["moto and peers"][0] == "1"  # proxy::streams
    assert rows["sandbox"][:2] == ["0", "1"]
    assert rows["browser"][:4] == ["1", "0", "0", "0"]
    assert rows["apply-local"][:4] == ["0", "0", "0", "1"]
    assert "skipped (real LibreChat): web_chat::a_web_chat_completes: real LibreChat not available" in r.stdout
    assert "bootstrap" in r.stdout and "total" in r.stdout


def test_a_tier_that_should_have_run_fails_the_run(tmp_path):
    r = run(tmp_path, LOG, ["real LibreChat"])
    assert r.returncode == 1
    assert "1 real LibreChat tests skipped, and they should have run" in r.stdout
    r = run(tmp_path, LOG.replace("skipped: real LibreChat not available\n", ""), ["real LibreChat", "browser"])
    assert "error" not in r.stdout and r.returncode == 0, r.stdout
    r = run(tmp_path, LOG.replace("test browser::browser_registers_logs_in ... ok\n", ""), ["browser"])
    assert r.returncode == 1 and "no browser test ran, and it should have" in r.stdout
    r = run(tmp_path, LOG, ["nope"])
    assert "unknown tier 'nope'" in r.stdout
    r = run(tmp_path, LOG, ["apply-local"])
    assert r.returncode == 1 and "apply-local should have run" in r.stdout


def test_a_step_run_beside_another_is_not_added_to_the_total(tmp_path):
    steps = "bootstrap\t3\tok\napply-local: x (beside cargo test)\t20\tok\ncargo test\t40\tok\n"
    r = run(tmp_path, LOG, [], steps)
    assert re.search(r"^total\s+43$", r.stdout, re.M), r.stdout
    assert re.search(r"^apply-local\s+1\s+0", r.stdout, re.M), r.stdout
