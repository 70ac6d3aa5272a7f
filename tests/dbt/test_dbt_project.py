"""The dbt project held to its own standard, read from the prepared manifest (`make manifest`)."""

from __future__ import annotations

import json
from pathlib import Path

from foodbank_platform.dbt_runtime import manifest_path


def _project_macros() -> list[dict]:
    manifest = json.loads(manifest_path().read_text())
    return [m for m in manifest["macros"].values() if m["package_name"] == "foodbank"]


def test_every_macro_lives_in_a_file_named_after_it_and_is_described():
    macros = _project_macros()
    assert len(macros) > 20
    for macro in macros:
        stem = Path(macro["original_file_path"]).stem
        assert stem == macro["name"].removeprefix("test_"), (macro["name"], macro["original_file_path"])
        assert macro["description"].strip(), f"{macro['name']} has no description in macros/_macros.yml"
        signature = macro["macro_sql"].split("(", 1)[1].split(")", 1)[0]
        params = [p.split("=")[0].strip() for p in signature.split(",") if p.strip()]
        assert [a["name"] for a in macro["arguments"]] == params, f"{macro['name']}: arguments in the YAML"
