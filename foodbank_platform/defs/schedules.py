"""The clock: the nightly close at 03:15 Pacific (after the on-hand snapshot is due at 03:00, with time
for retries before the 06:00 SLA) and the missing-files check every 15 minutes at the tick's time."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, schedule

from ..business_day import PACIFIC
from .jobs import expected_files, nightly_close


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
    expected_files, "*/15 * * * *", "Every 15 minutes: evaluate the missing-files check at the tick's time."
)
def expected_files_schedule(context: ScheduleEvaluationContext):
    tick = context.scheduled_execution_time.isoformat()
    return RunRequest(run_key=f"expected-files-{tick}", tags={"foodbank/as_of": tick})
