"""What finance reads of a business day's close: its status, its exceptions and the roll-forward.

The numbers are `marts.finance_close`, `marts.finance_exceptions` and `marts.finance_rollforward_daily`
(dbt decides them; docs/finance.md says how). This module only reads and lays them out, once for the
Dagster UI (markdown metadata on `marts/finance_close`) and once for the terminal (`foodbank close DATE`),
so both show the same table. The queries are the same SQL on DuckDB and Snowflake (`quality.Session`), over
whichever connection the caller has: the warehouse resource's `dbapi()` or `query.connect`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from .quality import Session, literal

# Columns of the roll-forward, in the order finance signs it: opening + received − distributed − spoiled
# ± adjustments (and transfers between warehouses) = closing.
FLOWS = [
    ("transfers", "transfers (net)", 1),
    ("adjustments", "adjustments", 1),
    ("spoilage", "spoiled", -1),
    ("distributions", "distributed", -1),
]
CHART_DAYS = 30
BAR = 40  # characters of the longest bar in the text chart


@dataclass
class CloseDay:
    business_date: date
    status: str
    findings_by_rule: str | None
    publication_version: int
    published_by_run: str | None
    is_restated: bool
    restated_by_run: str | None
    previous: dict[str, float | None]
    current: dict[str, float | None]


@dataclass
class RollForward:
    """Per warehouse (and `total`), pounds and dollars: opening, received by program, flows, closing."""

    first: date
    last: date
    programs: list[str]
    rows: dict[str, dict[str, float]] = field(default_factory=dict)

    def closes(self, unit: str) -> bool:
        """Opening + movements = closing for every warehouse, to the cent and the pound."""
        return all(abs(self.residual(r, unit)) < 0.005 for r in self.rows.values())

    @staticmethod
    def residual(row: dict[str, float], unit: str) -> float:
        moved = sum(v for k, v in row.items() if k.startswith("received:") and k.endswith(unit))
        moved += sum(sign * row[f"{name}_{unit}"] for name, _, sign in FLOWS)
        return round(row[f"opening_{unit}"] + moved - row[f"closing_{unit}"], 2)


def close_day(con, day: date) -> CloseDay | None:
    row = (
        Session(con)
        .execute(
            "SELECT business_date, status, findings_by_rule, publication_version, published_by_run, is_restated, "
            "restated_by_run, previous_receipts_lbs, previous_distributions_lbs, previous_closing_lbs, "
            f"receipts_lbs, distributions_lbs, closing_lbs FROM marts.finance_close WHERE business_date = {literal(day)}"
        )
        .fetchone()
    )
    if row is None:
        return None
    names = ("receipts_lbs", "distributions_lbs", "closing_lbs")
    return CloseDay(
        *row[:7], previous=dict(zip(names, _floats(row[7:10]))), current=dict(zip(names, _floats(row[10:13])))
    )


def _floats(values) -> list[float | None]:
    return [None if v is None else float(v) for v in values]


def exceptions(con, day: date) -> list[tuple]:
    """(finance_rule, effect, subject, detail, cases, lbs, value_usd) of the day, holds first."""
    rows = Session(con).execute(
        "SELECT finance_rule, effect, subject, detail, cases, lbs, value_usd FROM marts.finance_exceptions "
        f"WHERE business_date = {literal(day)} "
        "ORDER BY CASE effect WHEN 'holds_day' THEN 0 WHEN 'holds_lines' THEN 1 ELSE 2 END, finance_rule, subject"
    )
    return [tuple(r) for r in rows.fetchall()]


def roll_forward(con, first: date, last: date) -> RollForward:
    """The roll-forward over the published days in [first, last]: the opening of the first published day,
    the movements of every published day, the closing of the last."""
    session = Session(con)
    between = f"business_date BETWEEN {literal(first)} AND {literal(last)}"
    days = [
        d
        for (d,) in session.execute(
            f"SELECT DISTINCT business_date FROM marts.finance_rollforward_daily WHERE {between} ORDER BY 1"
        ).fetchall()
    ]
    result = RollForward(first, last, [])
    if not days:
        return result
    measures = ["receipts"] + [name for name, _, _ in FLOWS if name != "transfers"]
    sums = ", ".join(f"sum({m}_{u})" for m in measures for u in ("lbs", "usd"))
    opening, closing = literal(days[0]), literal(days[-1])
    rows = session.execute(
        f"SELECT warehouse_code, source_program, "
        f"sum(CASE WHEN business_date = {opening} THEN opening_lbs ELSE 0 END), "
        f"sum(CASE WHEN business_date = {opening} THEN opening_usd ELSE 0 END), "
        f"sum(CASE WHEN business_date = {closing} THEN closing_lbs ELSE 0 END), "
        f"sum(CASE WHEN business_date = {closing} THEN closing_usd ELSE 0 END), "
        f"sum(transfers_in_lbs - transfers_out_lbs), sum(transfers_in_usd - transfers_out_usd), {sums} "
        f"FROM marts.finance_rollforward_daily WHERE {between} GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    programs = set()
    for warehouse, program, *values in rows:
        values = [float(v or 0) for v in values]
        named = dict(
            zip(
                ["opening_lbs", "opening_usd", "closing_lbs", "closing_usd", "transfers_lbs", "transfers_usd"]
                + [f"{m}_{u}" for m in measures for u in ("lbs", "usd")],
                values,
            )
        )
        programs.add(program)
        for target in (warehouse, "total"):
            row = result.rows.setdefault(target, {})
            for k, v in named.items():
                key = f"received:{program}:{k.split('_')[-1]}" if k.startswith("receipts_") else k
                row[key] = round(row.get(key, 0.0) + v, 2)
    result.programs = sorted(programs)
    for row in result.rows.values():
        for program in result.programs:
            for unit in ("lbs", "usd"):
                row.setdefault(f"received:{program}:{unit}", 0.0)
    result.rows = dict(sorted(result.rows.items(), key=lambda kv: (kv[0] == "total", kv[0])))
    return result


def _columns(rf: RollForward) -> list[tuple[str, str]]:
    return (
        [("opening", "opening")]
        + [(f"received:{p}", f"+ received {p}") for p in rf.programs]
        + [(name, f"{'+' if sign > 0 else '−'} {label}") for name, label, sign in FLOWS]
        + [("closing", "= closing")]
    )


def _cell(row: dict[str, float], column: str, unit: str) -> float:
    return row[f"{column}:{unit}"] if column.startswith("received:") else row[f"{column}_{unit}"]


def rollforward_markdown(rf: RollForward) -> str:
    if not rf.rows:
        return "_no published day in this period_"
    cols = _columns(rf)
    lines = [
        "| warehouse | unit | " + " | ".join(label for _, label in cols) + " |",
        "|---|---|" + "---:|" * len(cols),
    ]
    for warehouse, row in rf.rows.items():
        for unit, fmt in (("lbs", "{:,.2f}"), ("usd", "${:,.2f}")):
            cells = [fmt.format(_cell(row, c, unit)) for c, _ in cols]
            name = f"**{warehouse}**" if warehouse == "total" else warehouse
            lines.append(f"| {name} | {unit} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rollforward_text(rf: RollForward) -> str:
    if not rf.rows:
        return "  (no published day in this period)"
    cols = _columns(rf)
    header = ["warehouse", "unit"] + [label for _, label in cols]
    body = [
        [warehouse, unit] + [("{:,.2f}" if unit == "lbs" else "${:,.2f}").format(_cell(row, c, unit)) for c, _ in cols]
        for warehouse, row in rf.rows.items()
        for unit in ("lbs", "usd")
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    fmt = "  " + "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*r) for r in [header, *body])


def flows_by_program(con, last: date, days: int = CHART_DAYS) -> list[tuple[date, str, float, float]]:
    """(day, program, received lbs, distributed lbs) of the published days in the `days` up to `last`."""
    rows = (
        Session(con)
        .execute(
            "SELECT business_date, source_program, sum(receipts_lbs), sum(distributions_lbs) "
            f"FROM marts.finance_rollforward_daily WHERE business_date > {literal(last - timedelta(days=days))} "
            f"AND business_date <= {literal(last)} GROUP BY 1, 2 ORDER BY 1, 2"
        )
        .fetchall()
    )
    return [(d, p, float(r or 0), float(x or 0)) for d, p, r, x in rows]


def chart_text(flows: list[tuple[date, str, float, float]]) -> str:
    """Received and distributed pounds per day and program as bars (a chart that renders anywhere)."""
    if not flows:
        return "(no published day in the last 30 days)"
    top = max(max(r, x) for _, _, r, x in flows) or 1.0
    lines = []
    for day, program, received, distributed in flows:
        lines.append(
            f"{day} {program:<10} received    {'█' * round(BAR * received / top):<{BAR}} {received:>12,.0f} lb"
        )
        lines.append(
            f"{'':10} {'':<10} distributed {'▒' * round(BAR * distributed / top):<{BAR}} {distributed:>12,.0f} lb"
        )
    return "\n".join(lines)


def by_rule(rows: list[tuple]) -> dict[tuple[str, str], list[float]]:
    """(rule, effect) -> [findings, lbs at stake, $ at stake], in the order of `exceptions`."""
    counts: dict[tuple[str, str], list[float]] = {}
    for rule, effect, _subject, _detail, _cases, lbs, usd in rows:
        c = counts.setdefault((rule, effect), [0, 0.0, 0.0])
        c[0] += 1
        c[1] += abs(float(lbs or 0))
        c[2] += abs(float(usd or 0))
    return counts


def findings_markdown(rows: list[tuple]) -> str:
    if not rows:
        return "_no findings: published_"
    lines = ["| rule | what it does | findings | lbs at stake | $ at stake |", "|---|---|---:|---:|---:|"]
    for (rule, effect), (n, lbs, usd) in by_rule(rows).items():
        lines.append(f"| {rule} | {EFFECTS[effect]} | {n} | {lbs:,.2f} | ${usd:,.2f} |")
    return "\n".join(lines)


def findings_line(rows: list[tuple]) -> str:
    """One line: `rule count (what it does)` per rule, holds first."""
    return ", ".join(f"{rule} {n} ({EFFECTS[effect]})" for (rule, effect), (n, _, _) in by_rule(rows).items())


EFFECTS = {
    "holds_day": "holds the day",
    "holds_lines": "holds these lines",
    "published": "published, listed",
}


def month_start(day: date) -> date:
    return day.replace(day=1)
