#!/usr/bin/env python3
"""Copy a Terraform tree and point every registry module call at a local pinned copy.

Usage: resolve_registry_modules.py SRC_TERRAFORM_DIR DEST_DIR MODULES_DIR

MODULES_DIR holds the terraform-aws-modules copies by short name (`s3-bucket/`, `cloudfront/`,
`elasticache/`, each with a VERSION file such as `v4.11.0`); on this machine that is
`../shared/terraform-modules` (TF_MODULES_DIR). For each call `source = "terraform-aws-modules/NAME/aws"`
the script checks that the copy's VERSION satisfies the call's `version` constraint, copies the
module to DEST_DIR/.registry/NAME and rewrites the call to that local path (a local source takes
no `version`). Nothing else changes, so what is validated, tested or applied is our configuration
with the real registry modules.

The `hashicorp/random` provider (documented in infrastructure/README.md, "Local apply and
destroy"): elasticache 1.10.3 declares `random >= 3.0` for one `random_id.this`, whose count is
`var.create && var.create_parameter_group ? 1 : 0`. The provider is not in the offline mirror,
so `terraform init` would fail. Because no call of ours sets `create_parameter_group` (checked
here: a call that sets it stops the script), that resource has count 0, and the only reference
to it is `try(random_id.this[0].hex, "")`, which is then "". The copy therefore drops the
resource, replaces that expression by "" and removes `random` from the module's
required_providers: the same plan, without the provider. Any other use of random in a copied
module is an error that names the module and the fix.
"""
import re
import shutil
import sys
from pathlib import Path

REGISTRY_RE = re.compile(r'^(\s*source\s*=\s*)"terraform-aws-modules/([a-z0-9-]+)/aws"(.*)$')
MODULE_RE = re.compile(r'^module\s+"([^"]+)"\s*\{\s*$')
VERSION_RE = re.compile(r'^\s*version\s*=\s*"([^"]*)"')


class ResolveError(Exception):
    pass


def parse_version(text):
    """'v4.11.0' / '4.11' -> (4, 11, 0)."""
    parts = text.strip().lstrip("v").split(".")
    if not all(p.isdigit() for p in parts) or not 1 <= len(parts) <= 3:
        raise ResolveError(f"not a version: {text!r}")
    nums = [int(p) for p in parts]
    return tuple(nums + [0] * (3 - len(nums))), len(parts)


def satisfies(version, constraint):
    """True when version (e.g. 'v4.11.0') meets a Terraform constraint ('~> 4.0', '1.10.3', '>= 3.0, < 5')."""
    have, _ = parse_version(version)
    for clause in [c.strip() for c in constraint.split(",") if c.strip()]:
        m = re.match(r"^(~>|>=|<=|!=|=|>|<)?\s*(.+)$", clause)
        op, want_text = (m.group(1) or "="), m.group(2)
        want, precision = parse_version(want_text)
        if op == "~>":
            # ~> 4.0 allows 4.x (>= 4.0); ~> 1.10.3 allows 1.10.x (>= 1.10.3)
            upper = list(want[: precision - 1])
            if not upper:
                raise ResolveError(f"constraint {clause!r}: ~> needs at least two parts")
            ok = have >= want and list(have[: len(upper)]) == upper
        else:
            ok = {"=": have == want, "!=": have != want, ">": have > want, ">=": have >= want,
                  "<": have < want, "<=": have <= want}[op]
        if not ok:
            return False
    return True


def registry_calls(tf_dir):
    """[(file, module_name, registry_name, version_constraint)] of the .tf files in tf_dir."""
    calls = []
    for path in sorted(tf_dir.glob("*.tf")):
        current = None
        for line in path.read_text().splitlines():
            m = MODULE_RE.match(line)
            if m:
                current = {"file": path, "module": m.group(1), "name": None, "version": None}
                calls.append(current)
                continue
            if current is None:
                continue
            if line.startswith("}"):
                current = None
                continue
            s = REGISTRY_RE.match(line)
            if s:
                current["name"] = s.group(2)
            v = VERSION_RE.match(line)
            if v:
                current["version"] = v.group(1)
    return [c for c in calls if c["name"]]


def rewrite_calls(tf_dir, registry_root):
    """Point each registry call in tf_dir at registry_root/NAME and drop its `version` line."""
    for path in sorted(tf_dir.glob("*.tf")):
        out, in_registry_call, block = [], False, []
        for line in path.read_text().splitlines(keepends=True):
            if MODULE_RE.match(line):
                block = [line]
                in_registry_call = None  # decided at the end of the block
                continue
            if in_registry_call is None:
                block.append(line)
                if line.startswith("}"):
                    is_registry = any(REGISTRY_RE.match(l) for l in block)
                    for l in block:
                        s = REGISTRY_RE.match(l)
                        if s:
                            depth = len(tf_dir.relative_to(registry_root.parent).parts)
                            rel = "/".join([".."] * depth or ["."]) + f"/{registry_root.name}/{s.group(2)}"
                            l = f'{s.group(1)}"{rel}"{s.group(3)} # terraform-aws-modules/{s.group(2)}/aws\n'
                        elif is_registry and VERSION_RE.match(l):
                            continue
                        out.append(l)
                    in_registry_call = False
                continue
            out.append(line)
        path.write_text("".join(out))


RANDOM_REQ_RE = re.compile(r'\n\s*random\s*=\s*\{\s*\n\s*source\s*=\s*"hashicorp/random"\s*\n\s*version\s*=\s*"[^"]*"\s*\n\s*\}')
RANDOM_ID_RE = re.compile(
    r'resource "random_id" "this" \{\n\s*count = var\.create && var\.create_parameter_group \? 1 : 0\n\n\s*byte_length = 8\n\}\n')
RANDOM_REF = 'try(random_id.this[0].hex, "")'


def drop_random(module_dir, name, calls):
    """Remove the hashicorp/random requirement from a copied module when it is provably unused."""
    tf_files = sorted(module_dir.rglob("*.tf"))
    if not any("hashicorp/random" in p.read_text() for p in tf_files):
        return False
    for c in calls:
        if re.search(r"^\s*create_parameter_group\s*=", c["text"], re.M):
            raise ResolveError(
                f"module.{c['module']} ({c['file']}) sets create_parameter_group: then {name}'s random_id is "
                "created and needs hashicorp/random, which the offline mirror lacks. Remove the argument, or "
                "add hashicorp/random to the mirror and drop the random handling in resolve_registry_modules.py.")
    versions, main = module_dir / "versions.tf", module_dir / "main.tf"
    vtext, mtext = versions.read_text(), main.read_text()
    vnew, n_req = RANDOM_REQ_RE.subn("", vtext)
    mnew, n_res = RANDOM_ID_RE.subn("", mtext)
    n_ref = mnew.count(RANDOM_REF)
    mnew = mnew.replace(RANDOM_REF, '""')
    if (n_req, n_res, n_ref) != (1, 1, 1):
        raise ResolveError(
            f"{name}: expected exactly one random requirement, one random_id.this (count 0 unless "
            f"create_parameter_group) and one {RANDOM_REF}; found {n_req}, {n_res}, {n_ref}. The pinned "
            "module changed: update drop_random() in infrastructure/scripts/resolve_registry_modules.py.")
    versions.write_text(vnew)
    main.write_text(mnew)
    left = [str(p.relative_to(module_dir)) for p in tf_files if re.search(r"\brandom[_/]", p.read_text())]
    if left:
        raise ResolveError(f"{name}: random is still used in {', '.join(left)} after dropping random_id.this")
    return True


def resolve(src, dest, modules_dir):
    if not modules_dir.is_dir():
        raise ResolveError(f"modules directory {modules_dir} not found (TF_MODULES_DIR)")
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", ".stubs"))
    registry_root = dest / ".registry"
    tf_dirs = sorted({p.parent for p in dest.rglob("*.tf")} - {p.parent for p in registry_root.rglob("*.tf")})
    by_name = {}
    for tf_dir in tf_dirs:
        for c in registry_calls(tf_dir):
            c["text"] = module_block_text(c["file"], c["module"])
            by_name.setdefault(c["name"], []).append(c)
    for name, calls in sorted(by_name.items()):
        copy = modules_dir / name
        version_file = copy / "VERSION"
        if not version_file.is_file():
            raise ResolveError(f"{copy}: no such pinned module (terraform-aws-modules/{name}/aws); expected a copy with a VERSION file")
        version = version_file.read_text().strip()
        for c in calls:
            if c["version"] and not satisfies(version, c["version"]):
                raise ResolveError(
                    f"module.{c['module']} in {c['file'].relative_to(dest)} wants terraform-aws-modules/{name}/aws "
                    f"{c['version']}, but {copy} is {version}")
        shutil.copytree(copy, registry_root / name, ignore=shutil.ignore_patterns("examples", "wrappers", ".terraform"))
        make_writable(registry_root / name)  # CI's ../shared has no write bits
        dropped = drop_random(registry_root / name, name, calls)
        print(f"resolve: terraform-aws-modules/{name}/aws {version} for "
              f"{', '.join(sorted({str(c['file'].parent.relative_to(dest)) + ':' + c['module'] for c in calls}))}"
              f"{' (hashicorp/random dropped: random_id count 0)' if dropped else ''}")
    for tf_dir in tf_dirs:
        rewrite_calls(tf_dir, registry_root)


def make_writable(root):
    for p in [root, *root.rglob("*")]:
        p.chmod(p.stat().st_mode | 0o200)


def module_block_text(path, module):
    text = path.read_text()
    m = re.search(r'^module\s+"' + re.escape(module) + r'"\s*\{\s*\n(.*?)^\}', text, re.M | re.S)
    return m.group(1) if m else ""


def main(argv):
    if len(argv) != 4:
        print(__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        resolve(Path(argv[1]).resolve(), Path(argv[2]).resolve(), Path(argv[3]).resolve())
    except ResolveError as e:
        print(f"resolve_registry_modules: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
