"""S3 bucket policies: a statement applies only when its condition is met.

moto 5.2.5 evaluates a bucket's policy on object requests (PutObject, GetObject, ...) without
any request context, and its condition check (made for role trust policies) supports only
StringEquals and treats every other operator, and every key it has no value for, as met. So a
conditional statement counts as unconditional: the usual deny-insecure-transport statement
(`Deny`, `Bool aws:SecureTransport false`; the s3-bucket module's
`attach_deny_insecure_transport_policy`) denies everything, and the bucket owner's own PutObject
gets 403.

AWS applies a statement only when its condition is met, and a condition on a key the request
does not carry is not met (`...IfExists` operators are met then, `Null: true` is met, `Null:
false` is not). moto supplies no keys for S3, so here each conditional statement is evaluated
that way against an empty context: one that cannot be met is left out, one that is met (only
IfExists / Null conditions) keeps applying without its condition; the rest of the policy is
evaluated by moto as before (an unconditional Deny still denies, an Allow still allows).
"""

import json

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket


def condition_met_without_context(condition: dict) -> bool:
    """Whether a policy Condition block holds for a request that carries no condition keys."""
    for operator, keys in condition.items():
        for _key, expected in keys.items():
            if operator == "Null":
                values = expected if isinstance(expected, list) else [expected]
                if str(values[0]).lower() != "true":  # Null: false wants the key present
                    return False
            elif not operator.endswith("IfExists"):
                return False
    return True


def applicable_statements(policy: dict) -> dict:
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = []
    for st in statements:
        if "Condition" in st:
            if not condition_met_without_context(st["Condition"]):
                continue
            st = {k: v for k, v in st.items() if k != "Condition"}
        kept.append(st)
    return dict(policy, Statement=kept)


def get_permission(self: FakeBucket, action: str, resource: str):
    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = applicable_statements(json.loads(self.policy.decode()))
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)


def install() -> None:
    FakeBucket.get_permission = get_permission
