"""The Snowflake migrations, in order, as statements: what schemachange applies in production.

schemachange (deploy.yml) is the production runner. This module exists for the places that have no
Snowflake: the tests and CI apply the same files to the emulator (fakesnow), which has no
warehouses, roles, grants, storage integrations or masking policies. Those statements are skipped
by name (EMULATOR_GAPS), never silently: `apply` returns them so callers can still parse them.

    python -m deploy.snowflake.migrate --emulator-port 8085   # before `dbt compile` on the emulator
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import jinja2

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Placeholder values for the emulator and the tests; production passes real ones (deploy.yml).
EXAMPLE_VARS = {
    "database": "FOODBANK",
    "landing_bucket": "foodbank-landing",
    "archive_bucket": "foodbank-archive",
    "storage_role_arn": "arn:aws:iam::123456789012:role/foodbank-snowflake-storage",
}
EMULATOR_GAPS = re.compile(
    r"^(GRANT\b|(CREATE|ALTER) (WAREHOUSE|RESOURCE MONITOR|ROLE|STORAGE INTEGRATION|MASKING POLICY)\b"
    r"|ALTER DATABASE \S+ SET\b|ALTER TABLE \S+ MODIFY COLUMN \S+ SET MASKING POLICY\b)",
    re.IGNORECASE,
)


def version(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.match(r"V([\d.]+)__", path.name).group(1).split("."))


def migrations(folder: Path = MIGRATIONS) -> list[Path]:
    return sorted(folder.glob("V*.sql"), key=version)


def statements(path: Path, variables: dict[str, str] | None = None) -> list[str]:
    """The file rendered like schemachange renders it (Jinja vars), split into statements, comments dropped."""
    text = jinja2.Template(path.read_text()).render(**(variables or EXAMPLE_VARS))
    out = []
    for chunk in re.split(r";\s*(?:\n|$)", text):
        body = "\n".join(line for line in chunk.splitlines() if not line.strip().startswith("--")).strip()
        if body:
            out.append(body)
    return out


def apply_to_emulator(cursor, variables: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """Run every migration statement the emulator supports; return (ran, skipped as emulator gaps)."""
    ran, skipped = [], []
    for path in migrations():
        for statement in statements(path, variables):
            if EMULATOR_GAPS.match(statement):
                skipped.append(statement)
            else:
                cursor.execute(statement)
                ran.append(statement)
    return ran, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emulator-port", type=int, required=True, help="port of `python -m fakesnow -s`")
    args = parser.parse_args()
    import snowflake.connector

    connection = snowflake.connector.connect(
        account="fakesnow", user="fake", password="snow", host="localhost", port=args.emulator_port, protocol="http"
    )
    ran, skipped = apply_to_emulator(connection.cursor())
    print(f"applied {len(ran)} statements; {len(skipped)} account-level statements are emulator gaps")


if __name__ == "__main__":
    main()
