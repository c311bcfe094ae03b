"""How the daemon looks to a person: a start-up banner and a one-screen summary on exit."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url

from connector import __version__
from connector.daemon.jobs import JobDefinition
from connector.daemon.service import Daemon, DaemonSummary


def safe_url(url: str | None) -> str:
    """A database URL with its password masked."""
    if not url:
        return "not configured"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def _when(value: datetime | None, zone_name: str) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") + f" {zone_name}" if value else "—"


def banner(daemon: Daemon) -> RenderableType:
    """Where the daemon reads and writes, its jobs and when they run next, who leads."""
    s = daemon.settings
    keeper = daemon.keeper
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("config", str(daemon.config_path) if daemon.config_path else "embedded defaults")
    head.add_row("source", safe_url(s.source.url) + f" ({s.source.preset})")
    head.add_row("store", safe_url(s.store.url))
    head.add_row("salesforce", f"{s.salesforce.login_url} ({s.salesforce.auth})")
    head.add_row("time zone", s.timezone)
    if daemon.server is not None:
        host, port = daemon.server.address
        head.add_row("health", f"http://{host}:{port}/healthz  http://{host}:{port}/metrics")
    role = (
        Text("leader: this daemon does the work", style="green")
        if keeper and keeper.leader
        else Text(
            "standby: another daemon holds the store lease; this one takes over if it stops",
            style="yellow",
        )
    )
    head.add_row("role", role)
    jobs = Table(title="Jobs", title_justify="left")
    for col in ("job", "stage", "schedule", "next run", "what"):
        jobs.add_column(col)
    next_runs = daemon.next_runs()
    for job in daemon.jobs:
        jobs.add_row(*_job_row(job, next_runs.get(job.name), s.timezone))
    return Group(
        Text(f"connector {__version__} daemon ({daemon.holder})", style="bold"),
        head,
        jobs,
        Text("Stop with Ctrl-C or SIGTERM: the current batch finishes first.", style="dim"),
    )


def _job_row(job: JobDefinition, next_run: datetime | None, zone: str) -> tuple[str, ...]:
    style = "" if job.enabled else "dim"
    return (
        f"[{style}]{job.name}[/]" if style else job.name,
        job.stage,
        job.schedule_text(),
        _when(next_run, zone) if job.enabled else "—",
        job.description,
    )


def exit_summary(summary: DaemonSummary) -> RenderableType:
    """What ran while the daemon was up, on one screen."""
    up = summary.stopped_at - summary.started_at
    hours, rest = divmod(int(up.total_seconds()), 3600)
    title = Text(
        f"connector daemon stopped ({summary.reason}) after {hours}h {rest // 60:02d}m "
        f"{rest % 60:02d}s",
        style="bold",
    )
    table = Table(box=None, pad_edge=False)
    for col in ("job", "runs", "ok", "failed", "other", "last", "last error"):
        table.add_column(
            col, justify="right" if col in ("runs", "ok", "failed", "other") else "left"
        )
    for name, tally in summary.tallies.items():
        runs = sum(tally.statuses.values())
        ok, failed = tally.statuses.get("ok", 0), tally.statuses.get("failed", 0)
        other = ", ".join(
            f"{n} {status}"
            for status, n in tally.statuses.items()
            if status not in ("ok", "failed")
        )
        table.add_row(
            name,
            str(runs),
            str(ok),
            f"[red]{failed}[/]" if failed else "0",
            other or "—",
            tally.last_status or "never ran",
            (tally.last_error or "")[:70],
        )
    parts: list[RenderableType] = [title, table]
    if not summary.was_leader:
        parts.append(Text("This daemon stayed on standby: another one held the store lease."))
    if summary.in_flight_bulk_jobs:
        parts.append(
            Text(
                f"{len(summary.in_flight_bulk_jobs)} Bulk job(s) still in flight "
                f"({', '.join(summary.in_flight_bulk_jobs)}): their results are collected at "
                "the next push instead of sending the records again.",
                style="yellow",
            )
        )
    parts.append(Text("Store lease released; a standby daemon takes over.", style="dim"))
    return Group(*parts)
