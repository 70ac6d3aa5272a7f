"""What a person sees while `foodbank run` and `foodbank demo` work.

Dagster's event log and dbt's own output are for a log file, whose path is printed first (`--verbose`
streams them as well). The terminal shows the stages of a run as they finish (pull, load, dbt, checks,
nightly close by day), with live bars when it is a terminal, and a failed step by its name and the
first line of its error. The stages are read from the run's Dagster events, through a logger
attached to the job for this one execution, so the UI, schedules and sensors are unaffected.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Iterator

from dagster import DagsterEventType, JobDefinition, LoggerDefinition
from dagster._core.log_manager import LOG_RECORD_EVENT_ATTR
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

LOG_FORMAT = "%(asctime)s - %(levelname)s - %(message)s"
CLOSE_KEY = ("marts", "finance_close")  # recorded per day with its status (defs/assets/dbt.py)


class _Tee:
    """A text stream writing to several others (the log file, and the terminal with --verbose)."""

    def __init__(self, *streams: IO[str]):
        self.streams = streams

    def write(self, text: str) -> int:
        for s in self.streams:
            s.write(text)
        return len(text)

    def flush(self) -> None:
        for s in self.streams:
            s.flush()

    def isatty(self) -> bool:
        return False


@dataclass
class Stage:
    name: str
    total: int
    done: int = 0
    figures: Counter = field(default_factory=Counter)
    printed: bool = False


@dataclass
class Outcome:
    """How one job execution ended, for the command's exit code and last lines."""

    label: str
    run_id: str
    status: str  # ok | held (the run succeeded and the finance close held a day) | failed
    seconds: float
    held_days: list[str]
    failure: str | None  # "step: first error line" of the first failed step


class RunConsole:
    """One command's terminal and log file. Use as a context manager around the whole command."""

    def __init__(self, log_path: Path, verbose: bool = False, terminal: IO[str] | None = None):
        self.log_path = log_path
        self.verbose = verbose
        self._terminal = terminal or sys.stdout
        self.console = Console(file=self._terminal, highlight=False, soft_wrap=True)
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "RunConsole":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self._stack.enter_context(self.log_path.open("a", encoding="utf-8", buffering=1))
        stream = _Tee(self._log, self._terminal) if self.verbose else self._log
        # dbt's lines (re-emitted by dagster-dbt on stdout), Python warnings and stray prints: the log.
        self._stack.enter_context(contextlib.redirect_stdout(stream))
        self._stack.enter_context(contextlib.redirect_stderr(stream))
        self.say(f"full log: {self.log_path}" + ("" if self.verbose else "  (--verbose streams it here)"))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def say(self, text: str) -> None:
        self.console.print(text)
        self._log.write(text + "\n")

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        """A stage outside Dagster (simulating, preparing): one line when it ends."""
        started = time.perf_counter()
        with self.console.status(label, spinner="dots") if self.console.is_terminal else contextlib.nullcontext():
            yield
        self.say(f"{label}  done in {time.perf_counter() - started:.1f}s")

    def execute(self, job: JobDefinition, instance, tags: dict, label: str, days: list[str] = ()) -> Outcome:
        """Run the job in this process; `days` are the business days of a partitioned run."""
        watcher = _RunWatcher(self, job, label, list(days))
        logger = logging.Logger(f"foodbank.{job.name}", level=logging.DEBUG)
        to_file = logging.StreamHandler(self._log)
        to_file.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(to_file)
        if self.verbose:
            to_terminal = logging.StreamHandler(self._terminal)
            to_terminal.setFormatter(logging.Formatter(LOG_FORMAT))
            logger.addHandler(to_terminal)
        logger.addHandler(watcher)
        # The job's own console logger is replaced for this execution only (Dagster uses a job's
        # loggers when the run config names them).
        job = job.with_logger_defs({"foodbank": LoggerDefinition(lambda _: logger, description="foodbank run")})
        started = time.perf_counter()
        with watcher.live():
            result = job.execute_in_process(
                run_config={"loggers": {"foodbank": {}}}, instance=instance, tags=tags, raise_on_error=False
            )
        return watcher.finish(result, time.perf_counter() - started)


def stage_of(key) -> str:
    return {"landing": "pull", "raw": "load"}.get(key.path[0], "dbt")


class _RunWatcher(logging.Handler):
    """Turns the Dagster events of one run into stage tallies and the lines that report them."""

    def __init__(self, out: RunConsole, job: JobDefinition, label: str, days: list[str]):
        super().__init__(level=logging.DEBUG)
        self.out = out
        self.label = label
        keys = job.asset_layer.selected_asset_keys
        self.partitioned = job.partitions_def is not None
        names = Counter("close" if self.partitioned else stage_of(k) for k in keys)
        self.stages = {n: Stage(n, names[n]) for n in ("pull", "load", "dbt", "close") if names[n]}
        self.stages["checks"] = Stage("checks", sum(len(d.assets_def.check_keys) for d in job.asset_layer.data))
        self.by_day: dict[str, Counter] = defaultdict(Counter)
        self.days = days
        # The nightly close has two steps (reconciliations, then finance); a day is told by both.
        self.part_of = {
            k: d.assets_def.node_def.name.removeprefix("dbt_")
            for d in job.asset_layer.data
            for k in d.assets_def.keys
            if self.partitioned
        }
        self.per_part = Counter(self.part_of.values())
        self.day_close: dict[str, tuple[str, str]] = {}  # day -> (status, what the findings do)
        if self.partitioned:
            self.stages["close"].total *= max(len(days), 1)
        self.failures: list[tuple[str, str, str]] = []  # step, error class, first line
        self.current = ""
        self.progress = Progress(
            TextColumn("  {task.description:<8}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=out.console,
            transient=True,
            disable=not out.console.is_terminal,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.tasks = {n: self.progress.add_task(n, total=s.total or None, detail="") for n, s in self.stages.items()}

    @contextlib.contextmanager
    def live(self) -> Iterator[None]:
        self.out.say(f"{self.label}")
        with self.progress:
            yield

    # ------------------------------------------------------------------ events

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, LOG_RECORD_EVENT_ATTR, None)
        if event is None:
            return
        kind = event.event_type
        if kind == DagsterEventType.ASSET_MATERIALIZATION:
            self._materialized(event)
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            self._checked(event.event_specific_data)
        elif kind == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error
            # Dagster wraps the error raised by the step; the person wants the one at the bottom.
            root = error
            while root is not None and root.cause is not None:
                root = root.cause
            message = (root.message if root else event.message or "").strip().splitlines()
            self.failures.append((event.step_key, error.cls_name if error else "", message[0] if message else ""))
        elif kind == DagsterEventType.STEP_START:
            self.current = event.step_key

    def _materialized(self, event) -> None:
        materialization = event.event_specific_data.materialization
        key = materialization.asset_key
        values = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        name = "close" if self.partitioned else stage_of(key)
        stage = self.stages[name]
        if self.partitioned:
            day = materialization.partition or "?"
            self.by_day[day][self.part_of.get(key, key.path[0])] += 1
            if tuple(key.path) == CLOSE_KEY and "status" in values:
                self.day_close[day] = (values["status"], values.get("exceptions") or "")
            stage.figures["model_days"] += 1
        else:
            stage.done += 1
            for figure in (
                "files_pulled",
                "files_loaded",
                "files_redelivered",
                "files_failed",
                "rows_loaded",
                "rows_quarantined",
            ):
                if isinstance(values.get(figure), int):
                    stage.figures[figure] += values[figure]
        self._update(name)

    def _checked(self, evaluation) -> None:
        stage = self.stages["checks"]
        stage.done += 1
        severity = getattr(evaluation.severity, "value", str(evaluation.severity))
        outcome = "passed" if evaluation.passed else ("failed" if severity == "ERROR" else "warned")
        stage.figures[outcome] += 1
        self._update("checks")

    def _update(self, name: str) -> None:
        stage = self.stages[name]
        done = stage.figures["model_days"] if name == "close" else stage.done
        self.progress.update(self.tasks[name], completed=done, detail=self._detail(stage))
        if name in ("pull", "load", "dbt") and stage.total and stage.done >= stage.total and not stage.printed:
            self._print(stage)

    def _detail(self, stage: Stage) -> str:
        f = stage.figures
        if stage.name == "pull":
            return f"{stage.total} SFTP feed(s), {f['files_pulled']:,} new file(s) copied into landing"
        if stage.name == "load":
            text = (
                f"{stage.total} raw table(s), {f['files_loaded']:,} new file(s), {f['rows_loaded']:,} rows, "
                f"{f['rows_quarantined']:,} quarantined, {f['files_failed']:,} failed file(s)"
            )
            if f["files_redelivered"]:
                text += f"; {f['files_redelivered']:,} re-delivered file(s) already loaded (reused)"
            return text
        if stage.name == "dbt":
            return "models, seeds and snapshots built"
        if stage.name == "checks":
            return f"evaluated: {f['passed']} passed, {f['warned']} warned, {f['failed']} failed"
        return f"{len(self.days)} business day(s)"

    def _print(self, stage: Stage) -> None:
        stage.printed = True
        if stage.name == "close":
            return
        count = (
            f"{stage.done}/{stage.total}"
            if stage.name == "dbt"
            else (f"{stage.done}" if stage.name == "checks" else "")
        )
        self.out.say(f"  {stage.name:<7} {count + ' ' if count else ''}{self._detail(stage)}")

    # ------------------------------------------------------------------ the end

    def finish(self, result, seconds: float) -> Outcome:
        for stage in self.stages.values():
            if not stage.printed and stage.name != "close" and (stage.total or stage.done):
                self._print(stage)
        if self.partitioned:
            self._print_days()
        held = sorted(day for day, (status, _) in self.day_close.items() if status == "held")
        status = "failed" if not result.success else "held" if held else "ok"
        failure = f"{self.failures[0][0]}: {self.failures[0][2]}" if self.failures else None
        if status == "failed" and not failure:
            failure = f"run {result.run_id} failed (see the log)"
        line = f"  → {status.upper()} in {seconds:.1f}s (run {result.run_id[:8]})"
        self.out.say(line)
        if status == "held":
            self.out.say(f"  finance close held {len(held)} day(s): {', '.join(held)} (`foodbank close DAY` says why)")
        if failure:
            self.out.say(f"  FAILED at step {failure}")
        return Outcome(self.label, result.run_id, status, seconds, held, failure)

    def _print_days(self) -> None:
        for day in self.days:
            built = self.by_day.get(day, Counter())
            parts = [f"{part} {built[part]}/{total}" for part, total in sorted(self.per_part.items(), key=_step_order)]
            status, exceptions = self.day_close.get(day, ("not closed", ""))
            self.out.say(
                f"  close   {day}  {status}{': ' + exceptions if exceptions else ''}  (built: {', '.join(parts)})"
            )


def _step_order(item: tuple[str, int]) -> tuple[bool, str]:
    return item[0] != "reconciliation", item[0]


def log_file(home: Path, command: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return home / "logs" / f"{command}-{stamp}.log"
