"""The row rules of the feeds people type by hand, as pandera schemas: the inventory-control team's
adjustments spreadsheet and the state agency's TEFAP bill-of-lading lines (docs/source_contracts.md,
feeds 5 and 6).

The loader types every row first (a value that does not parse, or an empty key, is quarantined
there); the typed rows of these two feeds are then validated here, and a row that breaks a rule goes
to `audit.quarantine` with the names of the rules it breaks as its reason, while the rest of its file
loads. Each rule is one named pandera check, so its name is what an operator reads.
"""

from __future__ import annotations

import os
import re

import pandas as pd

# Importing pandera sets SPARK_LOCAL_IP and PYARROW_IGNORE_TIMEZONE in os.environ (for pyspark, which is
# not used here); importing the code location writes no environment (tests/test_dbt_runtime.py), so
# whatever pandera set is taken back.
_BEFORE_PANDERA = {name: os.environ.get(name) for name in ("SPARK_LOCAL_IP", "PYARROW_IGNORE_TIMEZONE")}
import pandera.pandas as pa  # noqa: E402

for _name, _value in _BEFORE_PANDERA.items():
    if _value is None:
        os.environ.pop(_name, None)

ADJUSTMENT_TYPES = ("CYCLE_COUNT", "SPOILAGE", "DAMAGE", "RECALL", "CORRECTION")
USDA_PROGRAMS = ("TEFAP", "CSFP")
# The food bank's SKUs are upper-case words joined by dashes (`CAN-VEG-0412`): a typed SKU with spaces,
# lower case or punctuation is a keying mistake, not a new item.
SKU_SHAPE = re.compile(r"[A-Z0-9]+(-[A-Z0-9]+)*")
# Dates people type: a year outside this century is a slip of the keyboard (0226, 2062 is let through).
FIRST_DATE, LAST_DATE = pd.Timestamp("2000-01-01"), pd.Timestamp("2099-12-31")
# An adjustment or a BOL line larger than this is a typo (a warehouse holds a few thousand pallets).
MAX_CASES, MAX_LBS, MAX_USD_PER_CASE = 10_000, 500_000, 1_000


def _kept(mask: pd.Series) -> pd.Series:
    """A rule's verdict per row: a comparison with a null (an empty or unparsed value) breaks the rule."""
    return mask.fillna(False).astype(bool)


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip()


def _blank(values: pd.Series) -> pd.Series:
    return _text(values).fillna("").eq("")


def _sku_shaped(values: pd.Series) -> pd.Series:
    return _kept(_text(values).fillna("").map(lambda s: SKU_SHAPE.fullmatch(s) is not None))


def _dated(values: pd.Series) -> pd.Series:
    dates = pd.to_datetime(values, errors="coerce")
    return _kept(dates.between(FIRST_DATE, LAST_DATE))


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


def rule(name: str, test) -> pa.Check:
    """A named check; `test` takes the column (column rules) or the frame (row rules) and returns one
    boolean per row, True where the row keeps the rule. Nulls are the rule's to judge."""
    return pa.Check(test, name=name, ignore_na=False, error=name)


def _column(*checks: pa.Check) -> pa.Column:
    return pa.Column(checks=list(checks), nullable=True, required=True)


ADJUSTMENTS = pa.DataFrameSchema(
    name="manual_adjustments__adjustments",
    columns={
        "adjustment_id": _column(rule("adjustment_id_shape", lambda s: _kept(_text(s).str.fullmatch(r"ADJ-[0-9]+")))),
        "business_date": _column(rule("business_date_plausible", _dated)),
        "sku": _column(rule("sku_shape", _sku_shaped)),
        "adjustment_type": _column(
            rule("adjustment_type_allowed", lambda s: _kept(_text(s).str.upper().isin(ADJUSTMENT_TYPES)))
        ),
        "reason": _column(rule("reason_given", lambda s: ~_blank(s))),
    },
    checks=[
        # The sign says the direction (negative removes stock); cases and pounds must agree on it.
        rule(
            "cases_and_lbs_same_sign",
            lambda df: _kept(_number(df["cases"]) * _number(df["lbs"]) > 0),
        ),
        rule(
            "quantity_in_range",
            lambda df: _kept((_number(df["cases"]).abs() <= MAX_CASES) & (_number(df["lbs"]).abs() <= MAX_LBS)),
        ),
        # An approval is a second person's: approved_by is empty (not yet approved) or someone else
        # (a row without entered_by cannot be judged, and is let through).
        rule(
            "approved_by_someone_else",
            lambda df: (
                _blank(df["approved_by"])
                | (_text(df["approved_by"]).str.lower() != _text(df["entered_by"]).str.lower()).fillna(True)
            ),
        ),
    ],
)

TEFAP_RECEIPTS = pa.DataFrameSchema(
    name="usda_tefap__receipts",
    columns={
        "line_number": _column(rule("line_number_positive", lambda s: _kept(_number(s) >= 1))),
        "usda_material_code": _column(
            rule("usda_material_code_shape", lambda s: _kept(_text(s).str.fullmatch(r"[0-9]{6}")))
        ),
        # The SKU may be empty (the mapping is not known yet), never malformed.
        "sku": _column(rule("sku_shape", lambda s: _blank(s) | _sku_shaped(s))),
        "cases": _column(rule("cases_positive", lambda s: _kept((_number(s) > 0) & (_number(s) <= MAX_CASES)))),
        "net_lbs": _column(rule("net_lbs_positive", lambda s: _kept((_number(s) > 0) & (_number(s) <= MAX_LBS)))),
        "received_date": _column(rule("received_date_plausible", _dated)),
        "program": _column(rule("program_allowed", lambda s: _kept(_text(s).str.upper().isin(USDA_PROGRAMS)))),
        "unit_value_usd": _column(
            rule(
                "unit_value_in_range",
                lambda s: _kept((_number(s) > 0) & (_number(s) <= MAX_USD_PER_CASE)),
            )
        ),
    },
)

SCHEMAS: dict[str, pa.DataFrameSchema] = {s.name: s for s in (ADJUSTMENTS, TEFAP_RECEIPTS)}


def broken_rules(schema: pa.DataFrameSchema, rows: pd.DataFrame) -> pd.Series:
    """The rows of `rows` that break a rule of `schema`: index -> the names of the rules broken, in the
    schema's order, joined by '; '. Rows that keep every rule are absent."""
    try:
        schema.validate(rows, lazy=True)
    except pa.errors.SchemaErrors as e:
        cases = e.failure_cases
    else:
        return pd.Series(dtype="object")
    order = {name: i for i, name in enumerate(_rule_names(schema))}
    unknown = cases.loc[cases["index"].isna() | ~cases["check"].isin(list(order))]
    if len(unknown):  # a failure not tied to a row (a missing column, say) is the file's, not a row's
        raise ValueError(f"{schema.name}: {unknown[['column', 'check']].drop_duplicates().to_dict('records')}")
    cases = cases.assign(_order=cases["check"].map(order)).drop_duplicates(["index", "check"])
    cases = cases.sort_values(["index", "_order"])
    return cases.groupby("index", sort=True)["check"].agg("; ".join)


def _rule_names(schema: pa.DataFrameSchema) -> list[str]:
    names = [c.name for column in schema.columns.values() for c in column.checks]
    return names + [c.name for c in schema.checks]
