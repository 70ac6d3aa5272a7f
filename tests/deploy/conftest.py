"""Shared for the deploy tests: the CDK app synthesized once per session, and the tool locations.

Synthesizing starts a Node.js process (jsii) and takes ~20 s, so every template assertion, cfn-lint
and checkov share one synthesis. Missing Node or checkov is a failure, not a skip: the infrastructure
checks are part of `make test`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest
from deploy_tools import ROOT

if str(ROOT) not in sys.path:  # `deploy/` is a folder at the repo root, not an installed package
    sys.path.insert(0, str(ROOT))
# jsii prints a banner about Node 20's end of life on every start; the machine's Node is what we have.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory):
    """(template dict, path of the template file) of the FoodbankPlatform stack."""
    assert shutil.which("node"), "Node.js is required to synthesize the CDK app (jsii); install nodejs"
    from deploy.infra.app import STACK_NAME, build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, _ = build_app(outdir=str(outdir))
    assembly = app.synth()
    template = assembly.get_stack_by_name(STACK_NAME).template
    path = outdir / f"{STACK_NAME}.template.json"
    assert json.loads(path.read_text()) == template
    return template, path
