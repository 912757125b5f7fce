#!/usr/bin/env python3
"""Copy a Terraform tree and replace every registry module call with a local stub.

Usage: stub_registry_modules.py SRC_TERRAFORM_DIR DEST_DIR

Registry modules (terraform-aws-modules/...) cannot be downloaded offline. The stub of a call
declares one `variable` (type any) per argument the call passes and one `output` per attribute
the calling directory reads (module.NAME.ATTR), so `terraform validate` of the copy checks
everything of ours - variables, local module interfaces, references between modules, types of
native resources - but not the argument names of the registry modules themselves. Each stub
also has an output `stub_inputs` with the arguments it received, which the tests in
`tests-stubbed/` assert on (they run only in the stubbed copy).
"""
import re
import shutil
import sys
from pathlib import Path

META = {"source", "version", "providers", "count", "for_each", "depends_on"}
MODULE_RE = re.compile(r'^module\s+"([^"]+)"\s*\{\s*$')
SOURCE_RE = re.compile(r'^\s*source\s*=\s*"([^"]+)"')
ARG_RE = re.compile(r"^  ([A-Za-z_][A-Za-z0-9_-]*)\s*=")


def module_blocks(text):
    """Yield (name, source, args, start, end) of each top-level module block (fmt layout)."""
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        m = MODULE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("}"):
            j += 1
        body = lines[i + 1 : j]
        source = next((SOURCE_RE.match(l).group(1) for l in body if SOURCE_RE.match(l)), "")
        args = [ARG_RE.match(l).group(1) for l in body if ARG_RE.match(l)]
        yield m.group(1), source, [a for a in args if a not in META], i, j
        i = j + 1


def stub_dir(tf_dir: Path):
    texts = {p: p.read_text() for p in sorted(tf_dir.glob("*.tf"))}
    all_text = "".join(texts.values())
    for path, text in texts.items():
        lines = text.splitlines(keepends=True)
        for name, source, args, start, end in reversed(list(module_blocks(text))):
            if source.startswith("./") or source.startswith("../") or not source:
                continue
            stub = tf_dir / ".stubs" / name
            stub.mkdir(parents=True, exist_ok=True)
            attrs = sorted(set(re.findall(r"module\." + re.escape(name) + r"\.([A-Za-z0-9_]+)", all_text)))
            out = ['resource "terraform_data" "stub" {}\n']
            out += [f'variable "{a}" {{\n  type    = any\n  default = null\n}}\n' for a in args]
            out += [f'output "{a}" {{\n  value = terraform_data.stub.id # unknown until apply\n}}\n' for a in attrs]
            # The arguments as received, for tests-stubbed/ (what we pass to the registry module).
            out.append('output "stub_inputs" {\n  value = {\n' + "".join(f"    {a} = var.{a}\n" for a in args) + "  }\n}\n")
            version = next((re.sub(r'^\s*version\s*=\s*"([^"]*)".*\n?', r"\1", l) for l in lines[start + 1 : end] if re.match(r"^\s*version\s*=", l)), "")
            out.append(f'output "stub_source" {{\n  value = {{ source = "{source}", version = "{version}" }}\n}}\n')
            (stub / "main.tf").write_text("".join(out))
            body = [
                f'  source = "./.stubs/{name}" # stub of {source}\n'
                if SOURCE_RE.match(l)
                else l
                for l in lines[start + 1 : end]
                if not re.match(r"^\s*version\s*=", l)
            ]
            lines[start + 1 : end] = body
            print(f"stub: {tf_dir.name}: module.{name} ({source}) args={len(args)} outputs={len(attrs)}")
        path.write_text("".join(lines))


def main():
    src, dest = Path(sys.argv[1]), Path(sys.argv[2])
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl"))
    for tf_dir in sorted({p.parent for p in dest.rglob("*.tf")}):
        if ".stubs" not in tf_dir.parts:
            stub_dir(tf_dir)


if __name__ == "__main__":
    main()
