"""The landing zone on S3, behind the same `LandingStore` interface as the local folder.

Production lands files in S3; locally and in CI an S3 API server on loopback (moto) plays S3, and only the URI
(`s3://bucket/prefix`) and the endpoint (`AWS_ENDPOINT_URL`, or `endpoint_url=`) differ, so the loader runs
production's code path. Reading while writers run is safe: an object is visible only once its PUT or multipart
upload completes. Multipart and retries: docs/real_sources.md, "How the pieces behave".
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import posixpath
import tempfile
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from .store import StoredFile

# S3 parts must be >= 5 MiB (except the last); 16 MiB keeps a 1 GB full load at ~64 parts.
DEFAULT_TRANSFER = TransferConfig(multipart_threshold=16 * 1024 * 1024, multipart_chunksize=16 * 1024 * 1024)
RETRIES = Config(retries={"max_attempts": 10, "mode": "adaptive"})


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` -> ("bucket", "some/prefix") ; the prefix has no edge slashes."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3://bucket/prefix URI: {uri}")
    return parsed.netloc, parsed.path.strip("/")


def is_temporary(name: str) -> bool:
    # Same convention as the local store: writers' scratch names are never listed.
    return name.startswith(".tmp-")


class S3Store:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        client=None,
        endpoint_url: str | None = None,
        transfer: TransferConfig = DEFAULT_TRANSFER,
    ):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.uri = f"s3://{bucket}/{self.prefix}".rstrip("/")
        # A client can be handed in (e.g. from dagster-aws's S3Resource.get_client()).
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url or os.environ.get("AWS_ENDPOINT_URL"), config=RETRIES
        )
        self.transfer = transfer

    @classmethod
    def from_uri(cls, uri: str, **kwargs) -> "S3Store":
        bucket, prefix = split_s3_uri(uri)
        return cls(bucket, prefix, **kwargs)

    def _object_key(self, key: str) -> str:
        return posixpath.join(self.prefix, key) if self.prefix else key

    def _relative(self, object_key: str) -> str:
        return object_key[len(self.prefix) + 1 :] if self.prefix else object_key

    def list(self, prefix: str = "", pattern: str = "*") -> list[StoredFile]:
        # A prefix names a folder, as on the local store: "dms/wms" must not match "dms/wms2".
        folder = "/".join(p for p in (self.prefix, prefix.strip("/")) if p)
        folder = f"{folder}/" if folder else ""
        out = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=folder):
            for obj in page.get("Contents", []):
                name = posixpath.basename(obj["Key"])
                if is_temporary(name) or not fnmatch.fnmatch(name, pattern):
                    continue
                out.append(StoredFile(self._relative(obj["Key"]), obj["Size"], obj["LastModified"].timestamp()))
        return sorted(out, key=lambda f: f.key)

    def read_bytes(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self._object_key(key))["Body"].read()

    def write_bytes(self, key: str, data: bytes) -> None:
        if len(data) >= self.transfer.multipart_threshold:
            with tempfile.NamedTemporaryFile(prefix="foodbank-s3-") as tmp:
                tmp.write(data)
                tmp.flush()
                self.put_file(key, Path(tmp.name))
            return
        self.client.put_object(Bucket=self.bucket, Key=self._object_key(key), Body=data)

    def put_file(self, key: str, local_path: Path) -> None:
        self.client.upload_file(str(local_path), self.bucket, self._object_key(key), Config=self.transfer)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def local_path(self, key: str) -> None:
        return None  # nothing to read in place: readers use local_copy

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="foodbank-s3-") as tmp:
            path = Path(tmp) / posixpath.basename(key)
            self.client.download_file(self.bucket, self._object_key(key), str(path), Config=self.transfer)
            yield path
