"""The project's extensions of moto 5.2.5: the calls `terraform apply`/`destroy` of
infrastructure/ need and moto lacks (or gets wrong). Each one is small, documented in
tools/motoext/README.md and tested in tools/motoext/tests/.

`install()` applies them all to the moto imported in this process; it must run before the first
request reaches a backend (the server launcher, `python -m motoext.server`, calls it first).
Managed IAM policies are not an extension of ours: moto loads them itself when
MOTO_IAM_LOAD_MANAGED_POLICIES=true, which the launcher sets unless told otherwise.
"""

import moto

from . import apigateway, auth, cloudfront, cloudwatch, elasticache, iam, pricing, s3

SUPPORTED_MOTO = "5.2.5"

EXTENSIONS = {
    "cloudfront.publish_function": cloudfront.install,
    "elasticache.replication_group_members": elasticache.install_members,
    "elasticache.delete_cache_subnet_group": elasticache.install_delete_subnet_group,
    "apigateway.openapi_import": apigateway.install,
    "s3.bucket_policy_conditions": s3.install,
    "cloudwatch.percentile_statistics": cloudwatch.install,
    "auth.session_token": auth.install,
    "iam.simulate_principal_policy": iam.install,
    "pricing.get_products": pricing.install,
}

_installed: list[str] = []


class UnsupportedMoto(RuntimeError):
    pass


def install(only=None) -> list[str]:
    """Apply the extensions (all, or the names in `only`); idempotent. Returns the names applied."""
    if moto.__version__ != SUPPORTED_MOTO:
        raise UnsupportedMoto(
            f"motoext was written against moto {SUPPORTED_MOTO}, this is moto {moto.__version__}: "
            "re-check each extension against the new moto (tools/motoext/README.md) and update SUPPORTED_MOTO")
    for name, fn in EXTENSIONS.items():
        if (only is None or name in only) and name not in _installed:
            fn()
            _installed.append(name)
    return list(_installed)
