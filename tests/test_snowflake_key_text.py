"""Production's key-pair login: the foodbank/snowflake secret gives the ECS tasks the key as PEM text in
SNOWFLAKE_PRIVATE_KEY (deploy/infra/stacks/orchestration.py), not a file. Settings read it, hand the connector
(snowflake_warehouse.connect, `foodbank sql`) its DER bytes and dagster-snowflake's resource the text, and keep
it out of their repr. The emulator ignores authentication, so no test here logs in with the key: they show what
reaches the connector, not that Snowflake accepts it."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from foodbank_platform import settings


@pytest.fixture(scope="module")
def key():
    """(PEM text, the DER bytes the connector takes) of a fresh, unencrypted RSA key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, der


def _environ(pem: str, tmp_path) -> dict[str, str]:
    """What an ECS task has: the secret's fields and the stack's environment, no key file."""
    return {
        "FOODBANK_HOME": str(tmp_path),
        "FOODBANK_WAREHOUSE": "snowflake",
        "SNOWFLAKE_ACCOUNT": "acct",
        "SNOWFLAKE_USER": "foodbank_runner",
        "SNOWFLAKE_PRIVATE_KEY": pem,
        "SNOWFLAKE_ROLE": "RUNNER",
        "SNOWFLAKE_WAREHOUSE": "OPS_WH",
        "SNOWFLAKE_DATABASE": "FOODBANK",
    }


def test_the_key_text_reaches_the_connector_as_der_and_never_a_repr(key, tmp_path):
    pem, der = key
    s = settings.load(_environ(pem, tmp_path))
    assert s.snowflake.private_key == pem and s.snowflake.private_key_path is None
    assert s.snowflake.connect_args() == {
        "account": "acct",
        "user": "foodbank_runner",
        "private_key": der,
        "role": "RUNNER",
        "warehouse": "OPS_WH",
        "database": "FOODBANK",
    }
    body = pem.splitlines()[1]
    assert body not in repr(s) and body not in repr(s.snowflake) and body not in s.snowflake.where()


def test_the_code_location_builds_its_snowflake_resource_from_the_key_text(key, tmp_path):
    """Without a password or key file, dagster-snowflake's resource refused to be built at all (no login method):
    with the text it is built, and opens connections with the same DER the connector gets without Dagster."""
    from foodbank_platform.defs.resources import build_resources

    pem, der = key
    resources = build_resources(settings.load(_environ(pem, tmp_path)))
    snowflake = resources["warehouse"].snowflake
    assert snowflake.private_key == pem and snowflake.private_key_path is None and snowflake.password is None
    assert snowflake._connection_args["private_key"] == der
    assert snowflake._connection_args["role"] == "RUNNER"
