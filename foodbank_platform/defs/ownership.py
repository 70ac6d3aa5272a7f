"""Who owns the assets, and where their code and docs are, as the Dagster UI shows them.

Every asset belongs to the data team; each one links to the code that builds it (the Python factory,
or the dbt model's SQL), and in production those links point into the git repository instead of the
image's files. dbt models also link to their page in the generated dbt docs (`foodbank docs`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from dagster import AnchorBasedFilePathMapping, link_code_references_to_git, with_source_code_references

OWNERS = ["team:data-engineering"]

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def with_code_references(assets: Sequence) -> Sequence:
    """Source-code references on every asset; linked to `FOODBANK_GIT_URL` at `FOODBANK_GIT_REF` when
    set (the production image), else to the local files."""
    assets = with_source_code_references(assets)
    git_url = os.environ.get("FOODBANK_GIT_URL")
    if not git_url:
        return assets
    return link_code_references_to_git(
        assets,
        git_url=git_url,
        git_branch=os.environ.get("FOODBANK_GIT_REF", "main"),
        file_path_mapping=AnchorBasedFilePathMapping(
            local_file_anchor=PACKAGE_DIR.parent, file_anchor_path_in_repository=""
        ),
    )


def dbt_docs_url(unique_id: str) -> str:
    """The model's page in the dbt docs site (`foodbank docs` serves it locally)."""
    base = os.environ.get("FOODBANK_DBT_DOCS_URL", "http://127.0.0.1:8580").rstrip("/")
    return f"{base}/#!/{unique_id.split('.')[0]}/{unique_id}"
