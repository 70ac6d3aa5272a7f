"""Small helpers that keep every S3/KMS grant explicit.

CDK's `bucket.grant_read()` and friends emit wildcard actions (`s3:GetObject*`, `s3:List*`); the
platform's rule is that no role gets a wildcard action on a data bucket, so every grant here names
its actions and its prefixes.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3


def object_access(bucket: s3.IBucket, actions: list[str], prefixes: list[str]) -> iam.PolicyStatement:
    """Object-level actions under the given prefixes only."""
    return iam.PolicyStatement(actions=actions, resources=[bucket.arn_for_objects(f"{p}*") for p in prefixes])


def list_under(bucket: s3.IBucket, prefixes: list[str]) -> iam.PolicyStatement:
    """ListBucket restricted to the prefixes a role works in."""
    return iam.PolicyStatement(
        actions=["s3:ListBucket"],
        resources=[bucket.bucket_arn],
        conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes] + [p.rstrip("/") for p in prefixes]}},
    )


def use_key(key: kms.IKey, encrypt: bool = True) -> iam.PolicyStatement:
    actions = ["kms:Decrypt", "kms:DescribeKey"] + (["kms:GenerateDataKey"] if encrypt else [])
    return iam.PolicyStatement(actions=actions, resources=[key.key_arn])


def attach(role: iam.IRole, statements: list[iam.PolicyStatement]) -> None:
    for statement in statements:
        role.add_to_principal_policy(statement)
