"""The clock: the nightly close at 03:15 Pacific (after the on-hand snapshot is due at 03:00, with time
for retries before the 06:00 SLA), the 10-minute path's tests over the whole history at 02:45 (its
10-minute runs test only what arrived), the missing-files check every 15 minutes at the tick's time, and
retention on the 1st of the month at 07:00, after the 06:00 deadline of the close."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, schedule

from ..business_day import PACIFIC
from .assets.dbt import FULL_TESTS
from .assets.retention import AS_OF_TAG
from .jobs import expected_files, nightly_close, operations_refresh, retention


def pacific_schedule(job, cron: str, description: str):
    """Every schedule of the platform: on Pacific wall time (the business day's clock, DST included) and
    running as soon as the code location loads."""
    return schedule(
        job=job,
        cron_schedule=cron,
        execution_timezone=PACIFIC,
        default_status=DefaultScheduleStatus.RUNNING,
        description=description,
    )


@pacific_schedule(
    nightly_close, "15 3 * * *", "03:15 Pacific: close the previous business day (reconciliations, then finance)."
)
def nightly_close_schedule(context: ScheduleEvaluationContext):
    yesterday = (context.scheduled_execution_time.astimezone(ZoneInfo(PACIFIC)).date() - timedelta(days=1)).isoformat()
    return RunRequest(run_key=f"nightly-{yesterday}", partition_key=yesterday)


@pacific_schedule(
    operations_refresh,
    "45 2 * * *",
    "02:45 Pacific: the 10-minute path with its dbt tests over the whole history (uniqueness of keys included), "
    "before the close; the 10-minute runs test the rows that arrived.",
)
def operations_full_tests_schedule(context: ScheduleEvaluationContext):
    day = context.scheduled_execution_time.astimezone(ZoneInfo(PACIFIC)).date().isoformat()
    return RunRequest(run_key=f"operations-full-tests-{day}", tags=FULL_TESTS)


@pacific_schedule(
    expected_files, "*/15 * * * *", "Every 15 minutes: evaluate the missing-files check at the tick's time."
)
def expected_files_schedule(context: ScheduleEvaluationContext):
    tick = context.scheduled_execution_time.isoformat()
    return RunRequest(run_key=f"expected-files-{tick}", tags={"foodbank/as_of": tick})


@pacific_schedule(
    retention,
    "0 7 1 * *",
    "07:00 Pacific on the 1st: raw partitions older than 36 months are exported, verified and only then deleted.",
)
def retention_schedule(context: ScheduleEvaluationContext):
    day = context.scheduled_execution_time.astimezone(ZoneInfo(PACIFIC)).date().isoformat()
    return RunRequest(run_key=f"retention-{day}", tags={AS_OF_TAG: day})
