"""Data-quality checks as SQL: the one place that says what a finding is.

Each check is a query returning findings, one row per thing somebody must look at; `defs/checks.py` runs them
as asset checks and writes them to `audit.dq_<check>`, so the UI, analysts and the demo summary read one copy
of each rule. No check holds a step: the finance close decides per business day what publishes, by rules
written once in dbt (docs/finance.md); ERROR marks a rule that holds a day, WARN the rest. A day-scoped check
replaces only its days' findings, so a backfill of some days leaves the others as they were.

The same SQL runs on DuckDB and on Snowflake, over the DB-API connection the warehouse resource gives
(`WarehouseResource.dbapi`); what differs between the two is in `Session`, and nowhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

ERROR, WARN = "ERROR", "WARN"
EXAMPLES = 10


@dataclass(frozen=True)
class Check:
    name: str
    asset: tuple[str, str]  # (schema, table) the finding is about
    severity: str
    description: str
    sql: str  # SELECT of findings; partitioned checks filter with {start} / {end} (dates, end exclusive)
    partitioned: bool = False
    reads: tuple[tuple[str, str], ...] = ()  # other tables the query reads (graph lineage)
    tolerance: float | None = None  # variance checks: a finding only beyond this many cases
    per_source_table: bool = False  # findings carry `source_table`; Dagster shows one check per raw table

    @property
    def table(self) -> str:
        return f"audit.dq_{self.name}"


@dataclass
class Outcome:
    check: Check
    failed_rows: int
    columns: list[str]
    examples: list[tuple]
    scope: str = "all"

    @property
    def passed(self) -> bool:
        return self.failed_rows == 0

    def examples_markdown(self) -> str:
        if not self.examples:
            return "_no findings_"
        head = "| " + " | ".join(self.columns) + " |\n|" + "---|" * len(self.columns) + "\n"
        return head + "\n".join(
            "| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in self.examples
        )

    def examples_json(self) -> list[dict]:
        return [dict(zip(self.columns, row)) for row in json.loads(json.dumps(self.examples, default=str))]


# ---------------------------------------------------------------- the rules

_KNOWN_SKU = "sku IN (SELECT sku FROM staging.stg_wms__items WHERE NOT is_deleted)"

MISSING_SKUS = Check(
    name="missing_skus",
    asset=("canonical", "inventory_events"),
    severity=WARN,
    description="Postings, donation lines, shipment lines and TEFAP lines whose SKU is not in the item master.",
    reads=(
        ("canonical", "donations"),
        ("canonical", "fulfillment_line_items"),
        ("staging", "stg_usda_tefap__receipts"),
        ("staging", "stg_wms__items"),
    ),
    sql=f"""
        SELECT CASE source_system WHEN 'wms' THEN 'wms__inventory_transactions'
                    ELSE 'manual_adjustments__adjustments' END AS source_table,
               source_record_id AS record_id, sku, min(business_date) AS business_date
        FROM canonical.inventory_events WHERE NOT ({_KNOWN_SKU}) AND NOT is_reversal
        GROUP BY ALL
        UNION ALL
        SELECT 'intake__donation_lines', CAST(donation_line_id AS VARCHAR), sku, business_date
        FROM canonical.donations WHERE sku IS NOT NULL AND NOT ({_KNOWN_SKU})
        UNION ALL
        SELECT 'legacy_warehouse__shipments', shipment_line_id, sku, business_date
        FROM canonical.fulfillment_line_items WHERE NOT ({_KNOWN_SKU})
        UNION ALL
        -- an empty TEFAP SKU is an unmapped USDA code, not an unknown SKU: receipts_vs_tefap shows it
        SELECT 'usda_tefap__receipts', bol_number || '-' || line_number, sku, received_date
        FROM staging.stg_usda_tefap__receipts WHERE sku IS NOT NULL AND NOT ({_KNOWN_SKU})
        ORDER BY source_table, record_id
    """,
)

ORPHANED_FULFILLMENT = Check(
    name="orphaned_fulfillment",
    asset=("canonical", "fulfillment_line_items"),
    # The pounds distributed come from the WMS book, and the shipment line names its agency itself;
    # what an orphan loses is the tie to the agency's order (service level), not a finance number.
    severity=WARN,
    description="Shipment lines whose order or order line does not exist in agency ordering.",
    reads=(("canonical", "agency_orders"),),
    sql="""
        SELECT f.business_date, f.shipment_line_id, f.order_id, f.order_line_id, f.agency_id,
               CASE WHEN NOT EXISTS (SELECT 1 FROM canonical.agency_orders o WHERE o.order_id = f.order_id)
                    THEN 'order missing' ELSE 'order line missing' END AS problem
        FROM canonical.fulfillment_line_items f
        WHERE NOT EXISTS (SELECT 1 FROM canonical.agency_orders o
                          WHERE o.order_id = f.order_id AND o.order_line_id = f.order_line_id)
        ORDER BY f.business_date, f.shipment_line_id
    """,
)


def variance_check(reconciliation: str, severity: str, tolerance_cases: float, why: str) -> Check:
    """Rows of a reconciliation whose two sides differ by more than the tolerance (in cases), or
    that exist on one side only."""
    return Check(
        name=f"variance_{reconciliation}",
        asset=("reconciliation", reconciliation),
        severity=severity,
        description=f"{reconciliation}: variances beyond {tolerance_cases} cases, or one side missing. {why}",
        partitioned=True,
        tolerance=tolerance_cases,
        sql=f"""
            SELECT * FROM reconciliation.{reconciliation}
            WHERE status <> 'matched' AND (status LIKE 'missing%' OR abs(coalesce(cases_variance, 0)) > {{tolerance}})
              AND business_date >= {{start}} AND business_date < {{end}}
            ORDER BY business_date, abs(coalesce(cases_variance, 0)) DESC
        """,
    )


VARIANCES = [
    variance_check(
        "book_vs_onhand", WARN, 0.5, "A count difference is settled by an adjustment; until then the book stands."
    ),
    variance_check("shipments_vs_orders", WARN, 0.0, "Short or over shipping is service level, not finance."),
]


def finance_check(rule: str, holds_day: bool, description: str) -> Check:
    """A rule of the finance close, whose findings `marts.finance_exceptions` holds (written in dbt)."""
    return Check(
        name=rule,
        asset=("marts", "finance_exceptions"),
        severity=ERROR if holds_day else WARN,
        description=description,
        partitioned=True,
        sql=f"""
            SELECT business_date, effect, subject, detail, cases, lbs, value_usd
            FROM marts.finance_exceptions
            WHERE finance_rule = '{rule}' AND business_date >= {{start}} AND business_date < {{end}}
            ORDER BY business_date, subject
        """,
    )


FINANCE_RULES = [
    finance_check("roll_forward_break", True, "A position whose day does not roll forward: holds the day."),
    finance_check("missing_onhand_snapshot", True, "No on-hand snapshot loaded for the day: holds the day."),
    finance_check("failed_file", True, "A file of the day could not be read (no good version since): holds the day."),
    finance_check("missing_shipments_file", True, "Shipments files missing in shipping hours: holds the day."),
    finance_check(
        "duplicate_donation_id", False, "Lines of a receipt number on two donations: held out of gifts-in-kind."
    ),
    finance_check("negative_balance", False, "A closing below zero: published, listed with its amount."),
    *(
        finance_check(f"{r}_variance", False, f"{r}: a difference beyond tolerance: published, listed with its amount.")
        for r in ("receipts_vs_intake", "receipts_vs_tefap", "distributions_vs_shipments")
    ),
]

QUARANTINED_ROWS = Check(
    name="quarantined_rows",
    asset=("raw", "*"),
    severity=WARN,
    description="Delivered rows the loader could not read or type; they are kept in audit.quarantine, not in raw.",
    per_source_table=True,
    sql="""
        SELECT source_table, landing_key, file_version, row_number, reason, left(raw_text, 200) AS raw_text
        FROM audit.quarantine ORDER BY source_table, landing_key, row_number
    """,
)

FAILED_FILES = Check(
    name="failed_files",
    asset=("raw", "*"),
    severity=WARN,
    description="File versions that could not be read at all and have not been superseded by good bytes since.",
    per_source_table=True,
    sql="""
        SELECT f.source_table, f.file_identity, f.landing_key, f.version, f.error
        FROM audit.file_ledger f
        WHERE f.status = 'failed'
          AND NOT EXISTS (SELECT 1 FROM audit.file_ledger g WHERE g.file_identity = f.file_identity
                          AND g.status = 'loaded' AND g.version > f.version)
        ORDER BY f.source_table, f.file_identity
    """,
)

CHECKS: list[Check] = [
    MISSING_SKUS,
    ORPHANED_FULFILLMENT,
    *VARIANCES,
    *FINANCE_RULES,
    QUARANTINED_ROWS,
    FAILED_FILES,
]


# ---------------------------------------------------------------- running a check


def literal(value) -> str:
    """A value as SQL text that DuckDB and Snowflake read alike (a parameter as a literal): NULL, a number,
    DATE '…', TIMESTAMP '…' or a quoted string."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def render(check: Check, start: date | None = None, end: date | None = None, tolerance: float | None = None) -> str:
    if not check.partitioned:
        return check.sql
    tolerance = check.tolerance if tolerance is None else tolerance
    return check.sql.format(
        start=literal(start or date(1900, 1, 1)),
        end=literal(end or date(9999, 1, 1)),
        tolerance=tolerance if tolerance is not None else 0,
    )


class Session:
    """The one dialect seam: a DuckDB connection (its own cursor, `?` parameters) or a Snowflake
    connector connection (a cursor, `%s` parameters, upper-case column names, a temporary table only
    under a current schema, DDL committing any open transaction). The checks' SQL is the same on both."""

    def __init__(self, con):
        self.snowflake = not isinstance(con, duckdb.DuckDBPyConnection)
        self.cursor = con.cursor() if self.snowflake else con
        self.placeholder = "%s" if self.snowflake else "?"

    def use_audit(self) -> None:
        """The audit schema, where the findings tables live: on Snowflake the migrations made it, and it
        becomes the session's schema (a temporary table needs one); on DuckDB it is made if missing."""
        if self.snowflake:
            self.execute("USE SCHEMA audit")
        else:
            self.execute("CREATE SCHEMA IF NOT EXISTS audit")

    def execute(self, sql: str):
        return self.cursor.execute(sql)

    def executemany(self, sql: str, rows: list) -> None:
        self.cursor.executemany(sql.replace("?", self.placeholder), rows)

    def columns(self) -> list[str]:
        """The last query's column names as the SQL wrote them (Snowflake upper-cases unquoted ones)."""
        names = [d[0] for d in self.cursor.description]
        return [n.lower() for n in names] if self.snowflake else names

    def rows(self, sql: str) -> tuple[list[str], list[tuple]]:
        rows = [tuple(r) for r in self.execute(sql).fetchall()]
        return self.columns(), rows

    def scalar(self, sql: str):
        return self.execute(sql).fetchone()[0]


def evaluate(
    con, check: Check, start: date | None = None, end: date | None = None, tolerance: float | None = None
) -> Outcome:
    """Run the check, store its findings in `audit.dq_<name>` and return the count and examples.

    A day-scoped check replaces only the findings of [start, end), in one transaction; the others replace
    the whole table in one statement. The findings table is created outside any transaction (Snowflake
    commits DDL implicitly), with the shape of the check's query.
    """
    sql = render(check, start, end, tolerance)
    session = Session(con)
    session.use_audit()
    session.execute(f"CREATE OR REPLACE TEMPORARY TABLE _findings AS {sql}")
    columns, examples = session.rows(f"SELECT * FROM _findings LIMIT {EXAMPLES}")
    if check.partitioned:
        session.execute(f"CREATE TABLE IF NOT EXISTS {check.table} AS SELECT * FROM _findings WHERE 1 = 0")
        names = ", ".join(columns)
        session.execute("BEGIN TRANSACTION")
        try:
            session.execute(
                f"DELETE FROM {check.table} WHERE business_date >= {literal(start or date(1900, 1, 1))} "
                f"AND business_date < {literal(end or date(9999, 1, 1))}"
            )
            session.execute(f"INSERT INTO {check.table} ({names}) SELECT {names} FROM _findings")
            session.execute("COMMIT")
        except BaseException:
            session.execute("ROLLBACK")
            raise
    else:
        session.execute(f"CREATE OR REPLACE TABLE {check.table} AS SELECT * FROM _findings")
    count = session.scalar("SELECT count(*) FROM _findings")
    scope = f"{start}..{end - timedelta(days=1)}" if check.partitioned and start and end else "all"
    return Outcome(check, count, columns, examples, scope)


def findings_where(con, check: Check, column: str, value: str) -> tuple[int, list[tuple]]:
    """The count and first examples of the stored findings whose `column` is `value` (one raw table, one feed)."""
    session = Session(con)
    where = f"FROM {check.table} WHERE {column} = {literal(value)}"
    return session.scalar(f"SELECT count(*) {where}"), session.rows(f"SELECT * {where} LIMIT {EXAMPLES}")[1]


def by_name(name: str) -> Check:
    return next(c for c in CHECKS if c.name == name)


# ---------------------------------------------------------------- files expected but missing
# Absence has no rows to query, so this check is a small calendar: the legacy warehouse drops a
# shipments file every 15 minutes while it ships, and an on-hand snapshot for day D by 03:00 on D+1.
# Times are Pacific wall times, as the file names carry them.

SHIPMENTS_MAX_GAP = timedelta(minutes=45)
SHIPPING_HOURS = (6, 18)  # 06:00-18:00 Pacific: the docks' day
ONHAND_DEADLINE = timedelta(days=1, hours=3)  # snapshot of D due by 03:00 on D+1
LOOKBACK_DAYS = 7

MISSING_FILES_COLUMNS = (
    "feed VARCHAR, business_date DATE, expected_from TIMESTAMP, checked_until TIMESTAMP, minutes_missing BIGINT"
)

MISSING_FILES = Check(
    name="missing_files",
    asset=("raw", "legacy_warehouse__shipments"),
    severity=WARN,
    description="No shipments file for more than 45 minutes in shipping hours; no on-hand snapshot by 03:00.",
    sql="",
    reads=(("raw", "legacy_warehouse__onhand"),),
)


def _named_times(deliveries: list[tuple[str, datetime]], as_of: datetime, pattern: str, fmt: str) -> list[datetime]:
    """Times named by the files delivered (modified) by `as_of`: what the team could have seen then."""
    import re

    out = []
    for name, delivered in deliveries:
        m = re.fullmatch(pattern, name)
        if m and delivered <= as_of:
            out.append(datetime.strptime(m.group(1), fmt))
    return sorted(out)


def shipment_gaps(file_times: list[datetime], as_of: datetime, days: int = LOOKBACK_DAYS) -> list[tuple]:
    """(business_date, gap_from, gap_to, minutes) for every stretch of shipping hours with no file."""
    gaps = []
    for back in range(days, -1, -1):
        day = (as_of - timedelta(days=back)).date()
        opens = datetime.combine(day, datetime.min.time()) + timedelta(hours=SHIPPING_HOURS[0])
        closes = min(datetime.combine(day, datetime.min.time()) + timedelta(hours=SHIPPING_HOURS[1]), as_of)
        if closes <= opens:
            continue
        marks = [opens] + [t for t in file_times if opens < t <= closes] + [closes]
        for a, b in zip(marks, marks[1:]):
            if b - a > SHIPMENTS_MAX_GAP:
                gaps.append(("shipments", day, a, b, int((b - a).total_seconds() // 60)))
    return gaps


def missing_onhand(snapshot_days: list[datetime], as_of: datetime, days: int = LOOKBACK_DAYS) -> list[tuple]:
    have = {d.date() for d in snapshot_days}
    out = []
    for back in range(days, 0, -1):
        day = (as_of - timedelta(days=back)).date()
        due = datetime.combine(day, datetime.min.time()) + ONHAND_DEADLINE
        if due <= as_of and day not in have:
            out.append(("onhand", day, due, as_of, int((as_of - due).total_seconds() // 60)))
    return out


def evaluate_missing_files(
    con, deliveries: list[tuple[str, datetime]], as_of_pacific: datetime, days: int = LOOKBACK_DAYS
) -> Outcome:
    """Findings as of a Pacific wall time (the schedule's tick), over the last `days` days.

    `deliveries`: (file name, Pacific wall time it was delivered) of the legacy warehouse's files.
    """
    shipments = _named_times(deliveries, as_of_pacific, r"shipments_(\d{8}_\d{4})\.csv", "%Y%m%d_%H%M")
    snapshots = _named_times(deliveries, as_of_pacific, r"onhand_(\d{8})\.csv", "%Y%m%d")
    findings = shipment_gaps(shipments, as_of_pacific, days) + missing_onhand(snapshots, as_of_pacific, days)
    columns = ["feed", "business_date", "expected_from", "checked_until", "minutes_missing"]
    session = Session(con)
    session.use_audit()
    session.execute(f"CREATE OR REPLACE TABLE {MISSING_FILES.table} ({MISSING_FILES_COLUMNS})")
    if findings:
        session.executemany(f"INSERT INTO {MISSING_FILES.table} VALUES (?, ?, ?, ?, ?)", findings)
    return Outcome(MISSING_FILES, len(findings), columns, findings[:EXAMPLES], f"as of {as_of_pacific:%Y-%m-%d %H:%M}")
