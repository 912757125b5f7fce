"""`iam.simulate_principal_policy`: IAM policy simulation of a user or role (moto 5.2.5 has none).

`opsconsole init` asks IAM whether its caller may run the actions `terraform apply` needs
(SimulatePrincipalPolicy). moto answers "not implemented"; this evaluates the principal's
identity-based policies with moto's own policy evaluator (`moto.iam.access_control.IAMPolicy`,
the one moto uses when it enforces IAM): the user's inline and attached policies and its
groups', or the role's. Per action: any explicit Deny -> `explicitDeny`, else any Allow ->
`allowed`, else `implicitDeny`. Resources are `*` (ResourceArns is not modelled), conditions
and context entries are not evaluated, nor permissions boundaries, SCPs or resource policies.
"""

from moto.core.responses import ActionResult
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.responses import IamResponse


def principal_policies(backend, arn: str) -> list:
    """The identity-based policies of the user or role `arn` (NoSuchEntity when unknown)."""
    kind, _, name = arn.split(":", 5)[5].partition("/")
    name = name.rsplit("/", 1)[-1]
    docs = []
    if kind == "user":
        backend.get_user(name)  # NoSuchEntity
        docs += [backend.get_user_policy(name, p) for p in backend.list_user_policies(name)]
        docs += backend.list_attached_user_policies(name)[0]
        for group in backend.get_groups_for_user(name):
            docs += [backend.get_group_policy(group.name, p) for p in backend.list_group_policies(group.name)]
            docs += backend.list_attached_group_policies(group.name)[0]
    elif kind == "role":
        backend.get_role(name)
        docs += [backend.get_role_policy(name, p)[1] for p in backend.list_role_policies(name)]
        docs += backend.list_attached_role_policies(name)[0]
    else:
        from moto.iam.exceptions import IAMNotFoundException

        raise IAMNotFoundException(f"PolicySourceArn {arn} is not a user or a role")
    return docs


def decide(policies: list, action: str) -> str:
    results = [IAMPolicy(p).is_action_permitted(action) for p in policies]
    if PermissionResult.DENIED in results:
        return "explicitDeny"
    if PermissionResult.PERMITTED in results:
        return "allowed"
    return "implicitDeny"


def _simulate_principal_policy(self: IamResponse) -> ActionResult:
    source = self._get_param("PolicySourceArn")
    actions = self._get_param("ActionNames", [])
    policies = principal_policies(self.backend, source)
    return ActionResult({
        "EvaluationResults": [
            {"EvalActionName": a, "EvalResourceName": "*", "EvalDecision": decide(policies, a)} for a in actions
        ],
        "IsTruncated": False,
    })


def install():
    IamResponse.simulate_principal_policy = _simulate_principal_policy
