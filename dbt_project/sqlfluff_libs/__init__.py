"""What dbt puts in a model's Jinja context beyond sqlfluff's dbt builtins (ref, source, config,
is_incremental, this), so `sqlfluff lint` renders every model without a database or `dbt compile`.

sqlfluff's jinja templater loads this package (`library_path` in `dbt_project/.sqlfluff`) and exposes
its public names to the templates, ahead of its own builtins. Each stand-in renders valid DuckDB SQL of
the same shape as dbt's own macro; the SQL is only parsed and linted, never run.
"""

import datetime as _datetime
import pathlib as _pathlib
from types import SimpleNamespace as _Namespace

import jinja2 as _jinja2
import yaml as _yaml

_PROJECT_VARS = _yaml.safe_load((_pathlib.Path(__file__).parents[1] / "dbt_project.yml").read_text())["vars"]

execute = True
run_started_at = _datetime.datetime(2026, 1, 1, tzinfo=_datetime.UTC)
target = _Namespace(name="local", type="duckdb", schema="staging", database="warehouse", threads=1)


def var(name, default=None):
    """A project var as `dbt run` sees it without `--vars`: dbt_project.yml's value, else the default."""
    return _PROJECT_VARS.get(name, default)


def _concat(fields):
    return "concat(" + ", ".join(fields) + ")"


def _listagg(measure, delimiter_text="','", order_by_clause=None, limit_num=None):
    return f"string_agg({measure}, {delimiter_text}{' ' + order_by_clause if order_by_clause else ''})"


dbt = _Namespace(
    type_string=lambda: "varchar",
    type_timestamp=lambda: "timestamp",
    type_int=lambda: "integer",
    type_bigint=lambda: "bigint",
    dateadd=lambda datepart, interval, from_date_or_timestamp: (
        f"({from_date_or_timestamp} + (({interval}) * interval 1 {datepart}))"
    ),
    datediff=lambda first_date, second_date, datepart: f"date_diff('{datepart}', {first_date}, {second_date})",
    date_trunc=lambda datepart, date: f"date_trunc('{datepart}', {date})",
    split_part=lambda string_text, delimiter_text, part_number: (
        f"split_part({string_text}, {delimiter_text}, {part_number})"
    ),
    right=lambda string_text, length_expression: f"right({string_text}, {length_expression})",
    hash=lambda field: f"md5(cast({field} as varchar))",
    concat=_concat,
    listagg=_listagg,
    generate_series=lambda upper_bound: f"select unnest(range(1, {upper_bound} + 1)) as generated_number",
)


def _columns_in_relation(relation):
    """The DuckDB loader's audit.file_ledger columns (foodbank_platform/ingest/ledger.py)."""
    names = ["source_table", "landing_key", "version", "checksum", "status", "rows_loaded", "load_id", "loaded_at"]
    return [_Namespace(name=name, quoted=f'"{name}"') for name in names]


@_jinja2.pass_context
def _dispatch(context, macro_name, macro_namespace=None):
    """dbt's dispatch on the local target: `duckdb__<name>`, else `default__<name>`."""
    for prefix in ("duckdb__", "default__"):
        if f"{prefix}{macro_name}" in context:
            return context[f"{prefix}{macro_name}"]
    raise LookupError(f"no duckdb__ or default__ implementation of {macro_name}")


adapter = _Namespace(get_columns_in_relation=_columns_in_relation, dispatch=_dispatch)


def load_relation(relation):
    """dbt's load_relation: the relation when it exists; here it always does."""
    return relation


def run_query(sql):
    """dbt's run_query, as an incremental DMS staging model's probe (arrived_since) sees it on a
    built table with no new load generation: a watermark and no full-load rows since."""
    return _Namespace(rows=[("2026-01-01 00:00:00", 0)])


def env_var(name, default=None):
    """dbt's env_var, as a run that sets nothing sees it (FOODBANK_ARRIVED_SINCE unset: tests read everything)."""
    return default
