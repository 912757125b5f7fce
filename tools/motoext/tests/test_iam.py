import json

import pytest
from botocore.exceptions import ClientError

ACTIONS = ["iam:CreateRole", "lambda:CreateFunction", "s3:CreateBucket", "ec2:CreateSecurityGroup"]


def policy(iam, name, statements):
    doc = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return iam.create_policy(PolicyName=name, PolicyDocument=doc)["Policy"]["Arn"]


def decisions(iam, arn, actions=ACTIONS):
    r = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions)
    assert r["IsTruncated"] is False
    return {e["EvalActionName"]: e["EvalDecision"] for e in r["EvaluationResults"]}


def test_a_users_attached_inline_and_group_policies_decide(aws):
    iam = aws("iam", "us-east-1")
    arn = iam.create_user(UserName="deployer")["User"]["Arn"]
    iam.attach_user_policy(UserName="deployer", PolicyArn=policy(iam, "lambda", [
        {"Effect": "Allow", "Action": ["lambda:*", "s3:CreateBucket"], "Resource": "*"}]))
    iam.put_user_policy(UserName="deployer", PolicyName="no-buckets", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:CreateBucket", "Resource": "*"}]}))
    iam.create_group(GroupName="net")
    iam.add_user_to_group(GroupName="net", UserName="deployer")
    iam.put_group_policy(GroupName="net", PolicyName="ec2", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Create*", "Resource": "*"}]}))
    assert decisions(iam, arn) == {
        "iam:CreateRole": "implicitDeny",
        "lambda:CreateFunction": "allowed",
        "s3:CreateBucket": "explicitDeny",
        "ec2:CreateSecurityGroup": "allowed",
    }


def test_a_roles_policies_decide(aws):
    iam = aws("iam", "us-east-1")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    arn = iam.create_role(RoleName="ci", Path="/deploy/", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.attach_role_policy(RoleName="ci", PolicyArn=policy(iam, "admin", [{"Effect": "Allow", "Action": "*", "Resource": "*"}]))
    assert set(decisions(iam, arn).values()) == {"allowed"}


def test_an_unknown_principal_is_no_such_entity(aws):
    iam = aws("iam", "us-east-1")
    with pytest.raises(ClientError) as e:
        iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::123456789012:user/nobody", ActionNames=ACTIONS)
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"
