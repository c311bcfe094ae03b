"""Job definitions: which pipeline stage runs when, read from a YAML file and the config.

The shipped `jobs/default.yaml` (or `daemon.jobs`) lists the jobs with their default timing;
the configuration's `schedule:` section overrides a job's timing or turns it off. Every
problem is reported at once with its file, line and fix, like the configuration itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connector.config import Settings, where_is
from connector.errors import ConfigError, Problem
from connector.resources import shipped
from connector.yamlfile import YamlDocument, load_yaml

JobStage = Literal["pull", "score", "push", "sync", "snapshot", "alerts", "digest"]
PUSHING_STAGES = frozenset({"push", "sync"})
# jobs due at the same moment start this far apart, so they run in the file's order
_TIE_BREAK = timedelta(milliseconds=1)


class _JobSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: JobStage
    every_minutes: float | None = Field(default=None, gt=0)
    cron: str | None = None
    run_at_start: bool | None = None
    enabled: bool = True
    description: str = ""


class _JobFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jobs: dict[str, _JobSpec]


@dataclass(frozen=True)
class JobDefinition:
    """One scheduled job: a pipeline stage and when it runs."""

    name: str
    stage: JobStage
    every_minutes: float | None = None
    cron: str | None = None
    run_at_start: bool = True
    enabled: bool = True
    description: str = ""

    @property
    def pushes(self) -> bool:
        """Whether the job writes to Salesforce (and so takes the push lease)."""
        return self.stage in PUSHING_STAGES

    def schedule_text(self) -> str:
        """`every 15 min` or `cron 5 0 * * *`, for banners and status."""
        if not self.enabled:
            return "disabled"
        if self.cron is not None:
            return f"cron {self.cron}"
        minutes = self.every_minutes or 0
        return f"every {minutes:g} min" if minutes >= 1 else f"every {minutes * 60:g} s"

    def trigger(self, zone: ZoneInfo, start: datetime) -> BaseTrigger:
        """The APScheduler trigger; interval jobs count from `start`."""
        if self.cron is not None:
            return CronTrigger.from_crontab(self.cron, timezone=zone)
        interval = timedelta(minutes=self.every_minutes or 0)
        first = start if self.run_at_start else start + interval
        return IntervalTrigger(seconds=interval.total_seconds(), start_date=first, timezone=zone)

    def first_run(self, start: datetime) -> datetime | None:
        """When to run first if right at start-up, else None (the trigger decides)."""
        return start if self.run_at_start else None


def _cron_problem(expr: str) -> str | None:
    try:
        CronTrigger.from_crontab(expr, timezone=ZoneInfo("UTC"))
    except ValueError as exc:
        return f"{expr!r} is not a cron expression ({exc})."
    return None


_CRON_FIX = 'use five fields "minute hour day month weekday", e.g. "5 0 * * *" for 00:05 daily.'


def _timing_problems(where: str, every: float | None, cron: str | None) -> list[Problem]:
    problems = []
    if every is not None and cron is not None:
        problems.append(
            Problem(where, "both every_minutes and cron are set.", "keep only one of them.")
        )
    if cron is not None and (message := _cron_problem(cron)):
        problems.append(Problem(where, message, _CRON_FIX))
    return problems


def parse_job_file(doc: YamlDocument) -> list[JobDefinition]:
    """Validate a parsed job file into definitions, reporting every problem at once."""
    try:
        parsed = _JobFile.model_validate(doc.data if doc.data is not None else {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            if error["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}."
                fix = "use stage, every_minutes, cron, run_at_start, enabled, description."
            elif error["type"] == "literal_error":
                message = f"{error['input']!r} is not a stage."
                fix = "use one of pull, score, push, sync, snapshot, alerts, digest."
            else:
                message = str(error["msg"]).removeprefix("Value error, ") + "."
                fix = "see the comments at the top of jobs/default.yaml for the expected form."
            problems.append(Problem(doc.where(loc), message, fix))
        raise ConfigError(problems) from None
    problems = []
    definitions = []
    for name, spec in parsed.jobs.items():
        where = doc.where(("jobs", name))
        problems += _timing_problems(where, spec.every_minutes, spec.cron)
        if spec.every_minutes is None and spec.cron is None:
            problems.append(
                Problem(where, "the job has no timing.", "add every_minutes: N or cron: '…'.")
            )
        definitions.append(
            JobDefinition(
                name=name,
                stage=spec.stage,
                every_minutes=spec.every_minutes,
                cron=spec.cron,
                run_at_start=(
                    spec.run_at_start if spec.run_at_start is not None else spec.cron is None
                ),
                enabled=spec.enabled,
                description=spec.description,
            )
        )
    if problems:
        raise ConfigError(problems)
    return definitions


def job_files(path: Path | None = None) -> list[Path]:
    """The job files to read: `path` itself, every YAML file of a folder (default.yaml
    first), or the shipped folder when None."""
    folder = path if path is not None else shipped("jobs")
    if not folder.is_dir():
        return [folder]
    files = sorted(folder.glob("*.yaml"), key=lambda f: (f.name != "default.yaml", f.name))
    if not files:
        raise ConfigError(
            [Problem(str(folder), "the folder holds no job files.", "add a jobs YAML file.")]
        )
    return files


def load_job_file(path: Path | None = None) -> list[JobDefinition]:
    """The job definitions in a file or folder (the shipped ones when None); a job name
    defined twice is an error."""
    found: dict[str, JobDefinition] = {}
    where: dict[str, str] = {}
    problems: list[Problem] = []
    for file in job_files(path):
        doc = load_yaml(file)
        for job in parse_job_file(doc):
            here = doc.where(("jobs", job.name))
            if job.name in found:
                problems.append(
                    Problem(
                        here,
                        f"the job {job.name!r} is already defined at {where[job.name]}.",
                        "rename one of them or remove the duplicate.",
                    )
                )
                continue
            found[job.name], where[job.name] = job, here
    if problems:
        raise ConfigError(problems)
    return list(found.values())


def apply_schedule(definitions: list[JobDefinition], settings: Settings) -> list[JobDefinition]:
    """The definitions with the configuration's `schedule:` overrides applied."""
    by_name = {d.name: d for d in definitions}
    problems: list[Problem] = []
    for name, override in settings.schedule.items():
        where = where_is(settings, "schedule", name)
        job = by_name.get(name)
        if job is None:
            known = ", ".join(by_name) or "none"
            problems.append(
                Problem(
                    where,
                    f"there is no job called {name!r}.",
                    f"use one of the defined jobs ({known}), or add it to the job file.",
                )
            )
            continue
        problems += _timing_problems(where, override.every_minutes, override.cron)
        changes: dict[str, Any] = {"enabled": override.enabled}
        if override.every_minutes is not None:
            start_too = job.run_at_start if job.cron is None else True
            changes.update(every_minutes=override.every_minutes, cron=None, run_at_start=start_too)
        elif override.cron is not None:
            changes.update(cron=override.cron, every_minutes=None, run_at_start=False)
        by_name[name] = replace(job, **changes)
    if problems:
        raise ConfigError(problems)
    return list(by_name.values())


def resolve_jobs(settings: Settings) -> list[JobDefinition]:
    """Every job the daemon knows, with its effective timing (disabled ones included)."""
    return apply_schedule(load_job_file(settings.daemon.jobs), settings)


def start_times(definitions: list[JobDefinition], start: datetime) -> dict[str, datetime]:
    """Per job, the start-up instant it counts from: a millisecond apart in file order, so
    jobs due together run in the order the file lists them."""
    return {d.name: start + i * _TIE_BREAK for i, d in enumerate(definitions)}
