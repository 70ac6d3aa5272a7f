"""CDK entry point: `cdk synth` / `cdk deploy` from deploy/infra (see deploy/README.md).

`build_app()` is what the tests synthesize in-process; `cdk` runs `python -m deploy.infra.app` from
the repo root (cdk.json), so the package imports resolve and CDK_OUTDIR tells the app where to write.
"""

from __future__ import annotations

import os

import aws_cdk as cdk

from deploy.infra.stacks.platform import FoodbankPlatformStack

STACK_NAME = "FoodbankPlatform"
# Behaviour flags the stack relies on (also in cdk.json): access-log delivery through a bucket
# policy rather than the legacy LogDeliveryWrite ACL.
FEATURE_FLAGS = {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}


def build_app(context: dict | None = None, outdir: str | None = None) -> tuple[cdk.App, FoodbankPlatformStack]:
    app = cdk.App(context={**FEATURE_FLAGS, **(context or {})}, outdir=outdir)
    env = None
    if os.environ.get("CDK_DEFAULT_ACCOUNT"):
        env = cdk.Environment(account=os.environ["CDK_DEFAULT_ACCOUNT"], region=os.environ.get("CDK_DEFAULT_REGION"))
    stack = FoodbankPlatformStack(
        app, STACK_NAME, env=env, description="foodbank_platform: DMS, landing/archive, Dagster on ECS, alarms"
    )
    cdk.Tags.of(app).add("project", "foodbank_platform")
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
