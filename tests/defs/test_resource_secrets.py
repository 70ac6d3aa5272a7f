"""The code location hands the webserver a snapshot of its resources' configured values, which the UI's
resource page shows. The alert webhook's URL (its credential) and the Snowflake password or key text reach
the resources as the environment variables they came from, so the snapshot names the variables and holds none
of the values, while the resources still open with the values. (Dagster 1.13 leaves a nested resource such
as the warehouse's `SnowflakeResource` out of the snapshot; the webhook URL, a top-level resource's field, was
in it before, which this test catches.)"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dagster import Definitions
from dagster import build_resources as open_resources
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._serdes import serialize_value

from foodbank_platform import settings
from foodbank_platform.defs.resources import build_resources

PASSWORD = "pw-7f3c2a9e1d"
WEBHOOK = "https://hooks.example.org/services/T000/B000/token-5e8d1c"


@pytest.fixture
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(params=["SNOWFLAKE_PASSWORD", "SNOWFLAKE_PRIVATE_KEY"])
def environment(request, monkeypatch, tmp_path, pem):
    """A run task's environment: the foodbank/snowflake secret's fields (a password or the key text: the
    resource takes one login) and the alert webhook."""
    secret = {"SNOWFLAKE_PASSWORD": PASSWORD, "SNOWFLAKE_PRIVATE_KEY": pem}
    values = {
        "FOODBANK_HOME": str(tmp_path),
        "FOODBANK_WAREHOUSE": "snowflake",
        "SNOWFLAKE_ACCOUNT": "acct",
        "SNOWFLAKE_USER": "foodbank_runner",
        request.param: secret[request.param],
        "SNOWFLAKE_ROLE": "RUNNER",
        "FOODBANK_ALERT_WEBHOOK_URL": WEBHOOK,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(
        "SNOWFLAKE_PASSWORD" if request.param != "SNOWFLAKE_PASSWORD" else "SNOWFLAKE_PRIVATE_KEY", raising=False
    )
    return request.param, secret[request.param]


def test_the_ui_snapshot_names_the_secrets_variables_and_holds_none_of_their_values(environment):
    name, value = environment
    resources = build_resources(settings.load())
    snapshot = serialize_value(RepositorySnap.from_def(Definitions(resources=resources).get_repository_def()))
    # A PEM's first line is its header: its second is the key.
    assert value.splitlines()[min(1, len(value.splitlines()) - 1)] not in snapshot
    assert WEBHOOK not in snapshot
    assert name in snapshot and "FOODBANK_ALERT_WEBHOOK_URL" in snapshot
    # What is not secret is still shown as a value.
    assert "foodbank_runner" in snapshot


def test_the_resources_still_open_with_the_values(environment):
    name, value = environment
    resources = build_resources(settings.load())
    with open_resources({"warehouse": resources["warehouse"], "alerting": resources["alerting"]}) as opened:
        field = {"SNOWFLAKE_PASSWORD": "password", "SNOWFLAKE_PRIVATE_KEY": "private_key"}[name]
        assert getattr(opened.warehouse.snowflake, field) == value
        assert opened.alerting.webhook_url == WEBHOOK
