#!/usr/bin/env python3
"""The table that ends a test-all.sh run: each step's time, tests per tier, what was skipped.

Usage: ci_summary.py STEPS_TSV CARGO_TEST_LOG [EXPECT...]
  STEPS_TSV       lines "name<TAB>seconds<TAB>status" (test-all.sh writes them)
  CARGO_TEST_LOG  cargo test's output (stdout and stderr)
  EXPECT          tiers that must have run, e.g. "real LibreChat" or "apply-local": a tier with no
                  test run, or with a test that said it skipped, fails the summary (exit 1)

Tiers: unit (library unit tests), local Lambda (crates/locallambda's tests), browser (integration
tests in a `browser` module: headless Chromium on the real LibreChat's web client), real LibreChat
(integration tests whose name says librechat or web_chat: they run the real LibreChat), sandbox
(the sandbox crate's other tests), moto and peers (every other integration test: moto's server,
cargo-lambda, redis-server, tmux, the stand-ins), apply-local (the step). The crate of an
integration-test binary (`tests/it/main.rs (target/debug/deps/it-HASH)`) is read from its
dep-info file (`it-HASH.d`) beside it. A test that printed "skipped: REASON" is counted as skipped.
"""
import os
import re
import sys
from collections import OrderedDict

TIERS = ["unit", "local Lambda", "moto and peers", "sandbox", "real LibreChat", "browser"]


def crate_of(binary: str) -> str:
    """The crate directory an integration-test binary was built from, from its dep-info file."""
    try:
        with open(binary + ".d") as f:
            first = f.readline()
    except OSError:
        return "?"
    m = re.search(r"(\S+)/tests/it/main\.rs", first)
    return os.path.basename(m.group(1)) if m else "?"


def tier_of(crate: str, test: str) -> str:
    if crate == "unit":
        return "unit"
    if crate == "locallambda":
        return "local Lambda"
    if re.match(r"browser::", test):
        return "browser"
    if re.search(r"librechat|web_chat", test) and "bad_input" not in test:
        return "real LibreChat"
    if crate == "sandbox":
        return "sandbox"
    return "moto and peers"


def parse_tests(text: str, root: str):
    counts = OrderedDict((t, [0, 0, 0]) for t in TIERS)
    skipped = []
    crate, current = "?", None
    for line in text.splitlines():
        m = re.match(r"\s*Running (unittests \S+|tests/it/main\.rs) \((\S+)\)", line)
        if m:
            crate = "unit" if m.group(1).startswith("unittests") else crate_of(
                os.path.join(root, m.group(2)))
            continue
        m = re.match(r"test (\S+) \.\.\. (ok|FAILED|ignored)", line)
        if m:
            current = (crate, m.group(1))
            counts[tier_of(*current)][{"ok": 0, "FAILED": 1, "ignored": 2}[m.group(2)]] += 1
            continue
        m = re.search(r"\bskipped: (.*)", line)
        if m and current is not None:
            skipped.append((current, m.group(1).strip()))
    return counts, skipped


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    steps = []
    with open(argv[1]) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                steps.append((parts[0], int(parts[1]), parts[2]))
    try:
        text = open(argv[2], errors="replace").read()
    except OSError:
        text = ""
    root = os.environ.get("CARGO_TARGET_DIR_PARENT", os.getcwd())
    counts, skipped = parse_tests(text, root)

    width = max([len(s[0]) for s in steps] + [16])
    print("\n== summary")
    print(f"{'step':<{width}}  {'seconds':>7}  status")
    for name, secs, status in steps:
        print(f"{name:<{width}}  {secs:>7}  {status}")
    # A step run beside another ("(beside ...)") overlaps it: not added to the total.
    total = sum(s[1] for s in steps if "(beside " not in s[0])
    print(f"{'total':<{width}}  {total:>7}")
    print()
    print(f"{'tier':<16}  {'passed':>6}  {'failed':>6}  {'ignored':>7}  {'skipped':>7}")
    skipped_by_tier = {}
    for (crate, test), reason in skipped:
        skipped_by_tier.setdefault(tier_of(crate, test), []).append((test, reason))
    for tier, (p, f_, i) in counts.items():
        print(f"{tier:<16}  {p:>6}  {f_:>6}  {i:>7}  {len(skipped_by_tier.get(tier, [])):>7}")
    apply = next((s for s in steps if s[0].startswith("apply-local")), None)
    if apply:
        ok, skip = apply[2] == "ok", apply[2].startswith("skipped")
        print(f"{'apply-local':<16}  {int(ok):>6}  {int(not ok and not skip):>6}  {0:>7}  {int(skip):>7}")
    for tier, items in skipped_by_tier.items():
        for test, reason in items:
            print(f"skipped ({tier}): {test}: {reason}")
    bad = []
    for tier in argv[3:]:
        if tier == "apply-local":
            if not apply or apply[2] != "ok":
                bad.append(f"apply-local should have run and did not ({apply[2] if apply else 'no step'})")
        elif tier not in counts:
            bad.append(f"unknown tier {tier!r}")
        else:
            if counts[tier][0] + counts[tier][1] == 0:
                bad.append(f"no {tier} test ran, and it should have")
            if skipped_by_tier.get(tier):
                bad.append(f"{len(skipped_by_tier[tier])} {tier} tests skipped, and they should have run")
    for b in bad:
        print(f"error: {b}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
