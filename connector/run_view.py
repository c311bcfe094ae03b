"""How a run looks to a person: a live progress display and a one-screen summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from connector.pipeline import Progress as ProgressFn
from connector.pipeline import RunReport
from connector.source.report import mostly_quarantined
from connector.store.remedies import remedy


@contextmanager
def run_progress(console: Console) -> Iterator[ProgressFn]:
    """A progress callback for `pipeline.run` that draws one bar per stage."""
    progress = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, int] = {}

    def update(what: str, done: int, total: int | None) -> None:
        stage = what.split(" ", 1)[0]
        if stage not in tasks:
            tasks[stage] = progress.add_task(what, total=total)
        progress.update(tasks[stage], description=what, completed=done, total=total)

    with progress:
        yield update


def summary(report: RunReport) -> RenderableType:
    """What the run did, on one screen."""
    colour = {"ok": "green", "stopped": "yellow", "skipped": "yellow"}.get(report.status, "red")
    rows: list[RenderableType] = [
        Text(
            f"{report.stage} {report.status} in {report.elapsed_seconds:.1f} s "
            f"(run {report.run_id})",
            style=f"bold {colour}",
        )
    ]
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    if report.pull is not None:
        p = report.pull
        quarantined = sum(p.quarantined.values())
        table.add_row(
            "pulled",
            f"{p.events_read:,} events → {p.rollup_rows:,} rollup rows; "
            f"{p.accounts_changed} accounts and {p.users_changed} users changed"
            + (
                f"; {quarantined} rows quarantined (`connector quarantine` shows them)"
                if quarantined
                else ""
            ),
        )
    if report.score is not None:
        s = report.score
        h = s.health
        table.add_row(
            "scored",
            f"{s.accounts:,} accounts, {s.leads:,} trial users; "
            f"{s.new_milestones} new milestones, {s.tags_added} tags added, "
            f"{s.tags_removed} removed",
        )
        table.add_row(
            "health",
            f"score {h.score:.0f}: {h.good} good, {h.average} average, {h.poor} poor"
            if h.score is not None
            else "no paying accounts ranked",
        )
        if s.backfilled_from:
            table.add_row("history", f"back-filled from {s.backfilled_from}")
    if report.plan is not None and report.push is not None:
        pr, pu = report.plan, report.push
        partial = report.written_with_fields_left_out()
        unmatched, failed = report.unmatched(), report.failed()
        for obj in pr.objects:
            left_out = partial.get(obj.sobject, 0)
            table.add_row(
                obj.sobject,
                f"{pu.ok.get(obj.sobject, 0):,} written"
                + (f" ({left_out:,} with field(s) left out)" if left_out else "")
                + f", {unmatched.get(obj.sobject, 0):,} unmatched"
                + f", {failed.get(obj.sobject, 0):,} failed, "
                f"{pu.retry_later.get(obj.sobject, 0)} to retry, "
                f"{obj.unchanged:,} unchanged" + (" (Bulk API 2.0)" if obj.use_bulk else ""),
            )
        if pu.tasks or pr.tasks:
            waiting = len(pu.skipped_tasks)
            table.add_row(
                "Tasks",
                (", ".join(f"{n} {op}d" for op, n in pu.tasks.items()) or "none written")
                + (f"; {waiting} not opened: their record is unmatched" if waiting else ""),
            )
        if unmatched:
            table.add_row(
                "[yellow]unmatched[/]",
                f"{sum(unmatched.values()):,} record(s) found no Salesforce record and were not "
                f"written ({', '.join(f'{n:,} {s}' for s, n in sorted(unmatched.items()))}). "
                f"Fix: {remedy(None, 'unmatched')}; `connector status` lists them.",
            )
        others = Counter(s.reason for s in pr.skipped if s.reason != "unmatched")
        if others:
            table.add_row(
                "left out",
                ", ".join(f"{n:,} {r}" for r, n in others.items())
                + " (`connector status` says what to do)",
            )
        if pr.collisions:
            table.add_row(
                "collisions",
                f"{len(pr.collisions)} Salesforce records claimed by "
                "several product records (not written)",
            )
        for p in pr.problems:
            table.add_row("[yellow]field problem[/]", Text("\n".join(p.lines())))
        usage = report.api_usage
        table.add_row(
            "API calls",
            f"{report.api_calls}"
            + (f" ({usage['used']:,} of {usage['limit']:,} used today)" if usage else ""),
        )
        if pu.stopped:
            table.add_row("stopped", pu.stopped)
        rejected = [f for f in pu.failures if f.reason != "unmatched"]
        for f in rejected[:5]:
            table.add_row(
                "failure", f"{f.sobject} {f.match_key}: {f.code} {f.message or ''} → {f.reason}"
            )
    if report.error:
        # when nothing matched, the unmatched row above already says what fixes it
        shown = report.error.split(". Fix:")[0] + "." if report.unmatched() else report.error
        table.add_row("[red]error[/]", Text(shown))
    warning = mostly_quarantined(report.pull) if report.pull is not None else None
    if warning:
        table.add_row("[yellow]warning[/]", f"[yellow]{warning}[/]")
    for note in report.notes:
        table.add_row("note", note)
    rows.append(table)
    return Group(*rows)
