"""One run of the connector: pull → score → plan → push, returning a run report.

`run(settings, "sync")` does all four; the daemon schedules the stages separately
(`pull`, `score`, `push`, `snapshot`). Every run has a run id on every log line and a row in
the store's run table; the push holds the store's lease so two daemons never push at once.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from connector import clock
from connector.config import Settings
from connector.errors import ConfigError, ConnectorError, RetriableError
from connector.logs import bind_run, get_logger, new_run_id
from connector.plan.model import Plan
from connector.push.executor import PushReport
from connector.scoring import ScoreReport, run_scoring
from connector.source.report import PullReport
from connector.store import bookkeeping, lease
from connector.store.engine import make_store_engine
from connector.store.migrate import current_revision, require_current, upgrade
from connector.store.remedies import remedy

log = get_logger(__name__)

Stage = Literal["pull", "score", "push", "sync", "snapshot"]
STAGES: tuple[Stage, ...] = ("pull", "score", "push", "sync", "snapshot")
PUSH_LEASE = "push"
UNMATCHED = "unmatched"
LEASE_TTL_SECONDS = 300.0
Progress = Callable[[str, int, int | None], None]  # (what, done, total)


@dataclass
class RunReport:
    """What one run did, for the summary, `status` and the metrics endpoint."""

    run_id: str
    stage: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"  # ok | failed | stopped | skipped
    pull: PullReport | None = None
    score: ScoreReport | None = None
    plan: Plan | None = None
    push: PushReport | None = None
    api_calls: int = 0
    api_usage: dict[str, int] | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def elapsed_seconds(self) -> float:
        end = self.finished_at or clock.now()
        return (end - self.started_at).total_seconds()

    def counts(self) -> dict[str, Any]:
        """Plain counts for the run row."""
        data: dict[str, Any] = {}
        if self.pull is not None:
            data["pull"] = {
                "events_read": self.pull.events_read,
                "rollup_rows": self.pull.rollup_rows,
                "quarantined": sum(self.pull.quarantined.values()),
            }
        if self.score is not None:
            data["score"] = {
                "accounts": self.score.accounts,
                "leads": self.score.leads,
                "new_milestones": self.score.new_milestones,
            }
        if self.push is not None:
            data["push"] = {
                "sent": dict(self.push.sent),
                "ok": dict(self.push.ok),
                "ok_with_fields_left_out": self.written_with_fields_left_out(),
                # records with no Salesforce record to write to: not failures of the push
                "unmatched": self.unmatched(),
                "failed": self.failed(),
                "retry_later": dict(self.push.retry_later),
                "tasks": dict(self.push.tasks),
                "bulk_jobs": self.push.bulk_jobs,
                "stopped": self.push.stopped,
            }
        notes = list(self.notes)
        unmatched = sum(self.unmatched().values())
        if unmatched:
            notes.append(f"{unmatched} unmatched (no Salesforce record found; not written)")
        if self.plan is not None and self.plan.problems:
            data["field_problems"] = [  # without the record keys: a run row stays small
                {k: v for k, v in p.as_dict().items() if k != "keys"} for p in self.plan.problems
            ]
            notes.append(
                "field problems (`connector plan` shows each with its fix): "
                + ", ".join(
                    f"{p.where} {p.kind.replace('_', ' ')} on {p.count:,}"
                    for p in self.plan.problems
                )
            )
        if notes:
            data["notes"] = notes
        return data

    def unmatched(self) -> dict[str, int]:
        """Per object, records that found no Salesforce record: set aside by the plan (found
        unmatched recently) or looked up by the push and not found."""
        out: Counter[str] = Counter()
        if self.plan is not None:
            out.update(s.sobject for s in self.plan.skipped if s.reason == UNMATCHED)
        if self.push is not None:
            out.update(self.push.unmatched)
        return dict(out)

    def failed(self) -> dict[str, int]:
        """Per object, records Salesforce rejected (unmatched ones are not failures)."""
        if self.push is None:
            return {}
        out = {s: n - self.push.unmatched.get(s, 0) for s, n in self.push.failed.items()}
        return {s: n for s, n in out.items() if n}

    def nothing_matched(self) -> str | None:
        """Why nothing could be written, when every record the push had was unmatched or
        rejected and none was written or already up to date; None otherwise."""
        plan, push = self.plan, self.push
        if plan is None or push is None or push.stopped:
            return None
        if sum(push.ok.values()) or sum(push.retry_later.values()):
            return None
        if any(o.unchanged for o in plan.objects):
            return None
        unmatched, failed = sum(self.unmatched().values()), sum(self.failed().values())
        if not unmatched and not failed:
            return None
        detail = ", ".join(f"{n:,} {s}" for s, n in sorted(self.unmatched().items()))
        text = f"Nothing was written: {unmatched:,} record(s) unmatched" + (
            f" ({detail})" if detail else ""
        )
        if failed:
            text += f" and {failed:,} rejected by Salesforce"
        return (
            f"{text}. Fix: {remedy(None, UNMATCHED)}; `connector status` lists them "
            "with each one's reason."
        )

    def written_with_fields_left_out(self) -> dict[str, int]:
        """Per object, records written this run that went without some mapped field."""
        if self.plan is None or self.push is None:
            return {}
        failed = {(f.sobject, f.match_key) for f in self.push.failures}
        out: dict[str, int] = {}
        for obj in self.plan.objects:
            left_out = self.plan.left_out_keys(obj.sobject)
            n = sum(
                1
                for c in obj.changes
                if c.target.key in left_out and (obj.sobject, c.target.key) not in failed
            )
            if n and self.push.ok.get(obj.sobject):
                out[obj.sobject] = min(n, self.push.ok[obj.sobject])
        return out

    def as_dict(self) -> dict[str, Any]:
        """The run as JSON-ready data: what the summary shows, with every field problem."""
        data: dict[str, Any] = {
            "run_id": self.run_id,
            "stage": self.stage,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "error": self.error,
            "api_calls": self.api_calls,
            "api_usage": self.api_usage,
            **self.counts(),
        }
        if self.plan is not None:
            data["field_problems"] = [p.as_dict() for p in self.plan.problems]
        return data


def open_store(settings: Settings) -> sa.Engine:
    """The store engine; a brand-new SQLite store is created on first use."""
    engine = make_store_engine(settings.store.url)
    if engine.dialect.name == "sqlite" and current_revision(engine) is None:
        upgrade(engine)
    require_current(engine)
    return engine


def holder_name() -> str:
    """Who holds the push lease: host and process, for `status`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _gone(holder: str) -> bool:
    """True when `holder` names a process on this host that no longer runs (killed, crashed)."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def acquire_push_lease(engine: sa.Engine) -> bool:
    """Take the push lease; a lease left by a dead process on this host is taken over at once
    (its run was killed: waiting out the TTL would only delay the resume)."""
    me = holder_name()
    if lease.acquire(engine, PUSH_LEASE, me, LEASE_TTL_SECONDS):
        return True
    holder = lease.current(engine, PUSH_LEASE)
    if holder is not None and _gone(holder.holder):
        log.warning("run.lease_taken_over", previous=holder.holder)
        return lease.take_over(engine, PUSH_LEASE, holder.holder, me, LEASE_TTL_SECONDS)
    return False


def preflight(settings: Settings, stage: Stage) -> None:
    """Every configuration problem the stage would hit, raised before it starts: missing
    credentials or files for a push, broken mapping or rule files for scoring or a push."""
    from connector.config import credential_problems, path_problems
    from connector.mapping.loader import load_with_rules

    problems = path_problems(settings)
    if stage in ("push", "sync"):
        problems += credential_problems(settings)
    if stage in ("score", "push", "sync", "snapshot"):
        problems += load_with_rules(settings)[1]
    if problems:
        raise ConfigError(problems)


def run(
    settings: Settings,
    stage: Stage = "sync",
    *,
    as_of: datetime | None = None,
    run_id: str | None = None,
    store: sa.Engine | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    force: bool = False,
) -> RunReport:
    """Run one stage (or the whole sync) once and record it."""
    run_id = run_id or new_run_id()
    bind_run(run_id, stage=stage)
    preflight(settings, stage)
    engine = store or open_store(settings)
    report = RunReport(run_id=run_id, stage=stage, started_at=clock.now())
    as_of = as_of or clock.now()
    pushing = stage in ("push", "sync")
    if pushing and not acquire_push_lease(engine):
        holder = lease.current(engine, PUSH_LEASE)
        report.status = "skipped"
        report.notes.append(
            f"another connector ({holder.holder if holder else '?'}) is "
            "pushing to this store; this run waits for its lease to end"
        )
        report.finished_at = clock.now()
        log.info("run.skipped", reason=report.notes[-1])
        return report
    bookkeeping.start_run(engine, run_id, stage)
    try:
        if stage in ("pull", "sync"):
            from connector.source.pull import pull

            report.pull = pull(
                settings, engine, run_id=f"{run_id}-pull", progress=_pull_progress(progress)
            )
        if stage in ("score", "sync", "snapshot"):
            score_at = as_of
            if stage == "snapshot":  # finalise yesterday's snapshot in the configured zone
                local = as_of.astimezone(settings.zone)
                start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
                score_at = start_of_day - timedelta(microseconds=1)
            _, report.score = run_scoring(engine, settings, score_at)
        if stage in ("push", "sync"):
            from connector.push.run import push_once

            report.plan, report.push, usage, calls = push_once(
                settings, engine, run_id, as_of=as_of, progress=progress, stop=stop, force=force
            )
            report.api_calls, report.api_usage = calls, usage
            _log_field_problems(report.plan)
        report.status = "ok" if report.push is None or report.push.complete else "stopped"
        nothing = report.nothing_matched()
        if nothing is not None:
            report.status, report.error = "failed", nothing
            log.error("run.nothing_written", error=nothing, unmatched=report.unmatched())
    except ConnectorError as exc:
        report.status = "failed"
        report.error = str(exc)
        log.error("run.failed", error=str(exc), retriable=isinstance(exc, RetriableError))
        raise
    finally:
        if pushing:
            lease.release(engine, PUSH_LEASE, holder_name())
        report.finished_at = clock.now()
        bookkeeping.finish_run(
            engine,
            run_id,
            report.status,
            report.counts(),
            error=report.error,
            api_calls=report.api_calls or None,
            api_usage=report.api_usage,
        )
        log.info("run.finished", status=report.status, elapsed=round(report.elapsed_seconds, 3))
    return report


def _log_field_problems(plan: Plan) -> None:
    """One warning per object, field and kind of problem the push found before sending."""
    for p in plan.problems:
        log.warning(
            "push.field_problem",
            object=p.sobject,
            field=p.field,
            kind=p.kind,
            problem=p.what,
            left_out=p.left_out,
            records=p.count,
            example_record=p.example_key,
            example=p.example,
            fix=p.fix,
        )


def _pull_progress(progress: Progress | None) -> Any:
    if progress is None:
        return None

    def relay(what: str, counts: Any) -> None:
        done = (
            counts
            if isinstance(counts, int)
            else int(getattr(counts, "get", lambda *_: 0)("events_read", 0) or 0)
        )
        progress(f"pull {what}", done, None)

    return relay
