"""The S3 landing store against a real S3 API server on loopback (moto's server mode).

What matters: the same keys and behaviour as the local folder (the loader cannot tell them apart),
contract-layout keys kept verbatim, large files uploaded multipart, and nothing half-written visible.
"""

from __future__ import annotations

import hashlib
import os

import boto3
import pytest
from boto3.s3.transfer import TransferConfig

from foodbank_platform.landing.s3 import S3Store, split_s3_uri
from foodbank_platform.landing.store import LocalStore
from foodbank_platform.landing.uri import open_store

CONTRACT_KEYS = [
    "dms/wms/wms/inventory_transactions/LOAD00000001.csv",
    "dms/wms/wms/inventory_transactions/LOAD0000000A.csv",
    "dms/wms/wms/inventory_transactions/2026/11/02/20261102-091503123.csv",
    "dms/intake/intake/donations/2026/11/02/20261102-170001004.csv",
    "sftp/legacy_warehouse/shipments/shipments_20261102_1015.csv",
    "sftp/manual_adjustments/Nov counts (final).csv",
]


def test_split_s3_uri():
    assert split_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b")
    assert split_s3_uri("s3://bucket") == ("bucket", "")
    with pytest.raises(ValueError):
        split_s3_uri("file:///tmp/x")


def test_open_store_uses_the_endpoint_from_the_environment(s3_bucket, s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    store = open_store(f"s3://{s3_bucket}/landing")
    assert isinstance(store, S3Store)
    store.write_bytes("dms/x.csv", b"a\n")
    assert store.read_bytes("dms/x.csv") == b"a\n"


def test_same_listing_as_a_local_folder(s3_bucket, s3_endpoint, tmp_path):
    s3 = S3Store.from_uri(f"s3://{s3_bucket}/prod/landing", endpoint_url=s3_endpoint)
    local = LocalStore(tmp_path)
    for i, key in enumerate(CONTRACT_KEYS):
        for store in (s3, local):
            store.write_bytes(key, f"row {i}\n".encode())

    def listing(store, prefix="", pattern="*"):
        return [(f.key, f.size) for f in store.list(prefix, pattern)]

    assert listing(s3) == listing(local)
    assert [k for k, _ in listing(s3)] == sorted(CONTRACT_KEYS)
    assert listing(s3, "dms/wms/wms/inventory_transactions", "LOAD*.csv") == listing(
        local, "dms/wms/wms/inventory_transactions", "LOAD*.csv"
    )
    # A prefix is a folder: "dms/wms/wms/inventory" must not match "inventory_transactions".
    assert s3.list("dms/wms/wms/inventory") == []
    # The object keys in the bucket are exactly the contract's layout under the store's prefix.
    raw = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert sorted(o["Key"] for o in raw) == sorted(f"prod/landing/{k}" for k in CONTRACT_KEYS)
    assert s3.exists(CONTRACT_KEYS[0]) and not s3.exists("dms/nope.csv")


def test_scratch_objects_are_not_listed(s3_bucket, s3_endpoint):
    s3 = S3Store(s3_bucket, "", endpoint_url=s3_endpoint)
    s3.write_bytes("sftp/usda_tefap/.tmp-abc", b"partial")
    s3.write_bytes("sftp/usda_tefap/tefap_receipts_20261102.txt", b"whole\n")
    assert [f.key for f in s3.list("sftp")] == ["sftp/usda_tefap/tefap_receipts_20261102.txt"]


def test_large_file_goes_multipart_and_round_trips(s3_bucket, s3_endpoint, tmp_path):
    # S3 (and moto) require parts of at least 5 MiB; 11 MiB at 5 MiB parts is three parts.
    five_mib = 5 * 1024 * 1024
    store = S3Store(
        s3_bucket,
        "landing",
        endpoint_url=s3_endpoint,
        transfer=TransferConfig(multipart_threshold=five_mib, multipart_chunksize=five_mib),
    )
    big = tmp_path / "LOAD00000001.csv"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    key = "dms/wms/wms/inventory_transactions/LOAD00000001.csv"
    store.put_file(key, big)

    head = store.client.head_object(Bucket=s3_bucket, Key=f"landing/{key}")
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # a completed 3-part upload
    with store.local_copy(key) as copy:
        assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    assert store.list("dms", "LOAD*.csv")[0].size == big.stat().st_size
    # write_bytes takes the same multipart path above the threshold.
    store.write_bytes("dms/big2.csv", big.read_bytes())
    assert store.client.head_object(Bucket=s3_bucket, Key="landing/dms/big2.csv")["ETag"].strip('"').endswith("-3")


def test_local_copy_is_removed_afterwards(s3_bucket, s3_endpoint):
    store = S3Store(s3_bucket, "", endpoint_url=s3_endpoint)
    store.write_bytes("a/b.csv", b"x\n")
    with store.local_copy("a/b.csv") as path:
        assert path.read_bytes() == b"x\n"
    assert not path.exists()
