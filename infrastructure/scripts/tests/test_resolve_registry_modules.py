"""resolve_registry_modules.py: version constraints, rewriting the calls, dropping random."""

import os
from pathlib import Path

import pytest

from resolve_registry_modules import ResolveError, resolve, satisfies

SHARED = Path(os.environ.get("TF_MODULES_DIR", Path(__file__).resolve().parents[4] / "shared" / "terraform-modules"))


@pytest.mark.parametrize("version,constraint,ok", [
    ("v4.11.0", "~> 4.0", True),
    ("v5.0.0", "~> 4.0", False),
    ("v3.9.0", "~> 4.0", False),
    ("v1.10.3", "1.10.3", True),
    ("v1.10.4", "1.10.3", False),
    ("v1.10.9", "~> 1.10.3", True),
    ("v1.11.0", "~> 1.10.3", False),
    ("v4.2.0", ">= 4.0, < 5", True),
    ("v5.0.0", ">= 4.0, < 5", False),
])
def test_satisfies(version, constraint, ok):
    assert satisfies(version, constraint) is ok


RANDOM_MODULE_MAIN = '''resource "aws_x" "y" {}

resource "random_id" "this" {
  count = var.create && var.create_parameter_group ? 1 : 0

  byte_length = 8
}

locals {
  name = "${var.id}-${try(random_id.this[0].hex, "")}"
}
'''
RANDOM_MODULE_VERSIONS = '''terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.93"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.0"
    }
  }
}
'''


def tree(tmp_path, call_extra="", version="1.10.3", module_version="v1.10.3", main=RANDOM_MODULE_MAIN):
    src = tmp_path / "src"
    (src / "modules" / "redis").mkdir(parents=True)
    (src / "modules" / "redis" / "main.tf").write_text(
        'module "redis" {\n  source  = "terraform-aws-modules/elasticache/aws"\n'
        f'  version = "{version}"\n\n  replication_group_id = "x"\n{call_extra}}}\n\n'
        'module "local" {\n  source = "../other"\n}\n')
    mods = tmp_path / "mods" / "elasticache"
    mods.mkdir(parents=True)
    (mods / "VERSION").write_text(module_version + "\n")
    (mods / "main.tf").write_text(main)
    (mods / "versions.tf").write_text(RANDOM_MODULE_VERSIONS)
    return src, tmp_path / "dest", tmp_path / "mods"


def test_calls_point_at_the_copy_and_random_is_dropped(tmp_path):
    src, dest, mods = tree(tmp_path)
    resolve(src, dest, mods)
    call = (dest / "modules" / "redis" / "main.tf").read_text()
    assert 'source  = "../../.registry/elasticache" # terraform-aws-modules/elasticache/aws' in call
    assert "version" not in call
    assert 'source = "../other"' in call  # local calls untouched
    main = (dest / ".registry" / "elasticache" / "main.tf").read_text()
    assert "random_id" not in main and '"${var.id}-${""}"' in main
    versions = (dest / ".registry" / "elasticache" / "versions.tf").read_text()
    assert "random" not in versions and "hashicorp/aws" in versions
    assert "random_id" in (mods / "elasticache" / "main.tf").read_text()


def test_a_call_that_creates_the_parameter_group_is_refused(tmp_path):
    src, dest, mods = tree(tmp_path, call_extra="  create_parameter_group = true\n")
    with pytest.raises(ResolveError, match="create_parameter_group.*hashicorp/random"):
        resolve(src, dest, mods)


def test_other_uses_of_random_are_refused(tmp_path):
    src, dest, mods = tree(tmp_path, main=RANDOM_MODULE_MAIN + 'resource "random_password" "p" {}\n')
    with pytest.raises(ResolveError, match="random"):
        resolve(src, dest, mods)


def test_a_copy_outside_the_constraint_is_refused(tmp_path):
    src, dest, mods = tree(tmp_path, version="~> 2.0")
    with pytest.raises(ResolveError, match=r"wants terraform-aws-modules/elasticache/aws ~> 2.0, but .* is v1.10.3"):
        resolve(src, dest, mods)


def test_a_missing_copy_is_named(tmp_path):
    src, dest, mods = tree(tmp_path)
    (mods / "elasticache" / "VERSION").unlink()
    with pytest.raises(ResolveError, match="no such pinned module"):
        resolve(src, dest, mods)


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"TF_MODULES_DIR not found ({SHARED})")
def test_the_project_resolves_with_the_shared_copies(tmp_path):
    tf = Path(__file__).resolve().parents[2] / "terraform"
    resolve(tf, tmp_path / "tf", SHARED)
    texts = "".join(p.read_text() for p in (tmp_path / "tf").rglob("*.tf") if ".registry" not in p.parts)
    assert "terraform-aws-modules/" in texts  # as comments only
    assert 'source  = "terraform-aws-modules' not in texts
    assert not any("hashicorp/random" in p.read_text() for p in (tmp_path / "tf" / ".registry").rglob("*.tf"))
