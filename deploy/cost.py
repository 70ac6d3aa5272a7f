"""Monthly cost of the production platform, from the brief's volumes and published unit prices.

The budget ceiling is $18,000 a month of incremental infrastructure. This model is how we show we
are under it and which levers matter: every line is quantity x unit price, the quantities derive from
the brief's volumes (8M inventory, 1.2M donation and 400K fulfillment rows a month, 3 years hot in
Snowflake, 7 years archived in S3) and the schedules in deploy/ (10-minute and nightly paths), and
the prices are on-demand list prices for us-east-1 and Snowflake Enterprise on AWS us-east-1 (needed
for masking policies). Prices change: check them against the providers' pricing pages before
budgeting; a price we could not confirm is set conservatively and says so.

    python -m deploy.cost        # or: python deploy/cost.py
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOURS_PER_MONTH = 730
DAYS_PER_MONTH = 30.4
GB = 1024**3


@dataclass(frozen=True)
class Volumes:
    inventory_rows: float = 8_000_000  # per month (brief)
    donation_rows: float = 1_200_000
    fulfillment_rows: float = 400_000
    other_rows: float = 300_000  # orders, order lines (~150K, contract), donors, items, adjustments, TEFAP
    hot_months: int = 36  # 3 years hot in Snowflake
    archive_months: int = 84  # 7 years in S3
    landing_months: int = 13  # deploy/infra/stacks/storage.py LANDING_DAYS
    csv_bytes_per_row: int = 250  # DMS CSV row incl. meta columns, measured on the contract samples ~230
    snowflake_bytes_per_row: int = 60  # compressed columnar, ~4-5x smaller than CSV
    snowflake_layer_factor: float = 2.5  # raw + canonical + reconciliation/marts over raw alone
    dms_tables: int = 9  # each writes at most one CDC file a minute
    sftp_files_per_month: int = 96 * 31 + 31 + 60  # shipments every 15 min, nightly on-hand, adjustments/TEFAP

    @property
    def rows_per_month(self) -> float:
        return self.inventory_rows + self.donation_rows + self.fulfillment_rows + self.other_rows


@dataclass(frozen=True)
class Schedule:
    """How the warehouses are used; the seconds are our estimates of each run's busy time."""

    ops_runs_per_day: int = 144  # the 10-minute path
    ops_interval_s: int = 600
    # Busy time = fixed overhead (COPY round trips, dbt start, incremental model queries) + rows / throughput.
    ops_overhead_s: float = 85  # X-Small, per 10-minute run
    ops_rows_per_s: float = 500  # rows landed and modelled per second on X-Small
    ops_credits_per_hour: float = 1  # X-Small
    nightly_overhead_s: float = 30 * 60  # reconciliations, marts, retention on Small
    nightly_rows_per_s: float = 250  # the day's rows through the roll-forward and the three-way matches
    nightly_credits_per_hour: float = 2  # Small
    auto_suspend_s: int = 60  # V1.2__warehouses.sql
    bi_hours_per_day: float = 12  # dashboards keep BI_WH (X-Small) awake during the working day
    bi_credits_per_hour: float = 1
    run_task_minutes: float = 4  # Fargate run task incl. image pull and start
    nightly_task_minutes: float = 90


PRICES = {
    # AWS DMS Serverless, per DCU-hour. Not confirmed at the time of writing: set at the top of the range
    # quoted for the large regions ($0.20-0.25) so the model errs high.
    "dms_dcu_hour": 0.25,
    "fargate_vcpu_hour": 0.04048,
    "fargate_gb_hour": 0.004445,
    "rds_t4g_small_multi_az_hour": 0.064,
    "rds_gp3_multi_az_gb_month": 0.23,
    "s3_standard_gb_month": 0.023,
    "s3_standard_ia_gb_month": 0.0125,
    "s3_deep_archive_gb_month": 0.00099,
    "s3_put_per_1000": 0.005,
    "s3_get_per_1000": 0.0004,
    "s3_transition_deep_archive_per_1000": 0.05,
    "nat_gateway_hour": 0.045,
    "nat_gb": 0.045,
    "interface_endpoint_az_hour": 0.01,
    "cloudwatch_logs_ingest_gb": 0.50,
    "cloudwatch_logs_storage_gb_month": 0.03,
    "cloudwatch_alarm_month": 0.10,
    "cloudwatch_custom_metric_month": 0.30,
    "secrets_manager_secret_month": 0.40,
    "kms_key_month": 1.00,
    "kms_per_10000_requests": 0.03,
    "ecr_gb_month": 0.10,
    "snowflake_credit_enterprise": 3.00,
    "snowflake_storage_tb_month": 40.00,  # on-demand; capacity contracts are ~$23
}


@dataclass(frozen=True)
class Line:
    area: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    note: str = field(default="", compare=False)

    @property
    def cost(self) -> float:
        return self.quantity * self.unit_price


def billed_seconds_per_run(active_s: float, auto_suspend_s: float, interval_s: float | None) -> float:
    """Snowflake bills a resumed warehouse per second, at least 60 s, until auto-suspend fires.

    If the next run starts before the warehouse suspends, it simply stays up: a run never costs
    more than the interval between runs.
    """
    billed = max(60.0, active_s + auto_suspend_s)
    return min(billed, interval_s) if interval_s else billed


def snowflake_lines(v: Volumes, s: Schedule, p: dict) -> list[Line]:
    credit = p["snowflake_credit_enterprise"]
    rows_per_day = v.rows_per_month / DAYS_PER_MONTH
    ops_billed = billed_seconds_per_run(
        s.ops_overhead_s + rows_per_day / s.ops_runs_per_day / s.ops_rows_per_s, s.auto_suspend_s, s.ops_interval_s
    )
    nightly_active = s.nightly_overhead_s + rows_per_day / s.nightly_rows_per_s
    ops_hours = s.ops_runs_per_day * DAYS_PER_MONTH * ops_billed / 3600
    nightly_hours = DAYS_PER_MONTH * billed_seconds_per_run(nightly_active, s.auto_suspend_s, None) / 3600
    hot_tb = (
        v.hot_months * v.rows_per_month * v.snowflake_bytes_per_row * v.snowflake_layer_factor * 1.10
    ) / 1024**4  # +10% time travel and fail-safe
    return [
        Line(
            "Snowflake",
            "OPS_WH X-Small, 10-minute path",
            ops_hours * s.ops_credits_per_hour,
            "credits",
            credit,
            f"{s.ops_runs_per_day}/day x {ops_billed:.0f} s billed",
        ),
        Line(
            "Snowflake",
            "NIGHTLY_WH Small, nightly path",
            nightly_hours * s.nightly_credits_per_hour,
            "credits",
            credit,
            f"{nightly_active / 60:.0f} min/night + auto-suspend",
        ),
        Line(
            "Snowflake",
            "BI_WH X-Small, dashboards and analysts",
            s.bi_hours_per_day * DAYS_PER_MONTH * s.bi_credits_per_hour,
            "credits",
            credit,
            f"{s.bi_hours_per_day:g} h/day awake",
        ),
        Line(
            "Snowflake",
            "storage, 3 years hot",
            hot_tb,
            "TB-month",
            p["snowflake_storage_tb_month"],
            f"{v.hot_months} months x {v.rows_per_month / 1e6:.1f}M rows, all layers",
        ),
    ]


def aws_lines(v: Volumes, s: Schedule, p: dict) -> list[Line]:
    monthly_gb = v.rows_per_month * v.csv_bytes_per_row / GB
    landing_files = v.dms_tables * 60 * 24 * DAYS_PER_MONTH + v.sftp_files_per_month
    export_gb = monthly_gb * 0.25  # retention exports are Parquet, ~4x smaller than CSV
    run_hours = (
        s.ops_runs_per_day * DAYS_PER_MONTH * s.run_task_minutes / 60 + DAYS_PER_MONTH * s.nightly_task_minutes / 60
    )
    vcpu_gb = {"webserver": (0.5, 1, HOURS_PER_MONTH), "daemon": (0.5, 2, HOURS_PER_MONTH), "runs": (1, 4, run_hours)}
    fargate = [
        Line(
            "ECS Fargate",
            f"{name} ({cpu:g} vCPU, {mem:g} GB)",
            hours,
            "task-hours",
            cpu * p["fargate_vcpu_hour"] + mem * p["fargate_gb_hour"],
        )
        for name, (cpu, mem, hours) in vcpu_gb.items()
    ]
    return [
        Line(
            "DMS",
            "Serverless, 3 replications at 1 DCU (min)",
            3 * HOURS_PER_MONTH,
            "DCU-hours",
            p["dms_dcu_hour"],
            "steady CDC; ingestion.py MIN_DCU",
        ),
        Line("DMS", "reload bursts (2 a month, 4 DCU, 6 h)", 2 * 4 * 6, "DCU-hours", p["dms_dcu_hour"]),
        *fargate,
        Line(
            "RDS",
            "PostgreSQL db.t4g.small Multi-AZ (Dagster storage)",
            HOURS_PER_MONTH,
            "hours",
            p["rds_t4g_small_multi_az_hour"],
        ),
        Line("RDS", "gp3 storage Multi-AZ", 20, "GB-month", p["rds_gp3_multi_az_gb_month"]),
        Line("S3", "landing, first month Standard", monthly_gb, "GB-month", p["s3_standard_gb_month"]),
        Line(
            "S3",
            "landing, Standard-IA to 13 months",
            monthly_gb * (v.landing_months - 1),
            "GB-month",
            p["s3_standard_ia_gb_month"],
        ),
        Line(
            "S3",
            "archive, Glacier Deep Archive (7 years, steady state)",
            (monthly_gb + export_gb) * v.archive_months,
            "GB-month",
            p["s3_deep_archive_gb_month"],
        ),
        Line(
            "S3",
            "PUT: landing files + their replicas",
            2 * landing_files / 1000,
            "1000 requests",
            p["s3_put_per_1000"],
            f"{landing_files:,.0f} files/month",
        ),
        Line(
            "S3",
            "GET + LIST: loads, sensors",
            (landing_files + 13 * s.ops_runs_per_day * DAYS_PER_MONTH) / 1000,
            "1000 requests",
            p["s3_get_per_1000"],
        ),
        Line(
            "S3",
            "lifecycle transitions to Deep Archive",
            landing_files / 1000,
            "1000 requests",
            p["s3_transition_deep_archive_per_1000"],
            "small files make this the largest S3 line",
        ),
        Line("Network", "NAT gateway (one)", HOURS_PER_MONTH, "hours", p["nat_gateway_hour"]),
        Line("Network", "NAT data (Snowflake API, SFTP)", 20, "GB", p["nat_gb"]),
        Line(
            "Network",
            "VPC interface endpoints (4 services x 2 AZ)",
            8 * HOURS_PER_MONTH,
            "endpoint-AZ-hours",
            p["interface_endpoint_az_hour"],
            "keep image pulls off the NAT",
        ),
        Line("CloudWatch", "log ingestion", 12, "GB", p["cloudwatch_logs_ingest_gb"]),
        Line("CloudWatch", "log storage (1 year)", 72, "GB-month", p["cloudwatch_logs_storage_gb_month"]),
        Line("CloudWatch", "alarms", 3, "alarms", p["cloudwatch_alarm_month"]),
        Line("CloudWatch", "custom metrics", 4, "metrics", p["cloudwatch_custom_metric_month"]),
        Line("Security", "Secrets Manager secrets", 6, "secrets", p["secrets_manager_secret_month"]),
        Line("Security", "KMS key", 1, "keys", p["kms_key_month"]),
        Line("Security", "KMS requests (bucket keys on)", 100, "10000 requests", p["kms_per_10000_requests"]),
        Line("ECR", "image storage", 30, "GB-month", p["ecr_gb_month"]),
    ]


def lines(volumes: Volumes | None = None, schedule: Schedule | None = None, prices: dict | None = None) -> list[Line]:
    v, s, p = volumes or Volumes(), schedule or Schedule(), {**PRICES, **(prices or {})}
    return aws_lines(v, s, p) + snowflake_lines(v, s, p)


def total(items: list[Line]) -> float:
    return round(sum(round(line.cost, 2) for line in items), 2)


def largest(items: list[Line], n: int = 3) -> list[Line]:
    return sorted(items, key=lambda line: line.cost, reverse=True)[:n]


def render(items: list[Line]) -> str:
    head = (
        f"| {'area':<11} | {'item':<54} | {'quantity':>12} | {'unit':<17} | {'unit price':>10} | "
        f"{'$/month':>10} | note |"
    )
    rule = "|" + "|".join("-" * (len(cell)) for cell in head.split("|")[1:-1]) + "|"
    rows = [
        f"| {i.area:<11} | {i.item:<54} | {i.quantity:>12,.6g} | {i.unit:<17} | {i.unit_price:>10.5g} | "
        f"{i.cost:>10,.2f} | {i.note} |"
        for i in items
    ]
    foot = f"| {'TOTAL':<11} | {'':<54} | {'':>12} | {'':<17} | {'':>10} | {total(items):>10,.2f} | |"
    return "\n".join([head, rule, *rows, foot])


def main() -> None:
    items = lines()
    print(render(items))
    print(f"\nMonthly total: ${total(items):,.2f} (ceiling $18,000)")
    print("Largest lines: " + "; ".join(f"{i.item} ${i.cost:,.0f}" for i in largest(items)))


if __name__ == "__main__":
    main()
