"""Which landing store a `FOODBANK_LANDING_URI` names: a local folder (the embedded default) or S3.

Apart from `store.py` because the S3 store builds on its types: both kinds are imported here, and
neither imports the other's opener.
"""

from __future__ import annotations

from ..settings import uri_to_path
from .s3 import S3Store
from .store import LandingStore, LocalStore


def open_store(uri: str) -> LandingStore:
    """`file:///…`, a bare path, or `s3://bucket/prefix`."""
    if uri.startswith("s3://"):
        return S3Store.from_uri(uri)
    return LocalStore(uri_to_path(uri))
