"""`connector pull` on a terminal: a live progress line, then a one-screen summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from connector.source.report import PullReport, mostly_quarantined

_PHASES = {"accounts": "Reading accounts", "users": "Reading users", "events": "Rolling up events"}


@contextmanager
def pull_progress(console: Console) -> Iterator[Callable[[str, dict[str, int]], None]]:
    """A progress callback for `pull()` that redraws one status line."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("Connecting to the product database", total=None)

        def update(phase: str, counts: dict[str, int]) -> None:
            text = (
                f"{_PHASES.get(phase, phase)}: {counts.get('accounts', 0):,} accounts, "
                f"{counts.get('users', 0):,} users, {counts.get('events', 0):,} events, "
                f"{counts.get('rollup_rows', 0):,} rollup rows"
            )
            progress.update(task, description=text)

        yield update


def render_summary(report: PullReport) -> Table:
    """The pull's outcome on one screen."""
    how = report.mode
    if report.connections > 1:
        how += f", split across {report.connections} source connections"
    table = Table(title=f"Pull {report.run_id} ({how})", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rate = report.events_read / report.elapsed_seconds if report.elapsed_seconds else 0.0
    rows = [
        ("accounts read / changed", _accounts(report)),
        ("users read / changed", f"{report.users_read:,} / {report.users_changed:,}"),
        ("events read (new)", f"{report.events_read:,} ({report.events_new:,})"),
        ("usage rollup rows written", f"{report.rollup_rows:,}"),
        ("event-name rollup rows written", f"{report.event_rollup_rows:,}"),
        ("days replaced", _replaced(report)),
        ("watermark", report.watermark.isoformat() if report.watermark else "—"),
        ("elapsed", f"{report.elapsed_seconds:.2f} s ({rate:,.0f} events/s)"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    for reason, count in sorted(report.quarantined.items()):
        table.add_row(f"[yellow]quarantined: {reason}[/]", f"[yellow]{count:,}[/]")
    if report.quarantined:
        warning = mostly_quarantined(report)
        table.caption = (
            f"[yellow]{warning}[/]"
            if warning
            else "`connector quarantine` shows these rows and what fixes them."
        )
        table.caption_justify = "left"
    return table


def _accounts(report: PullReport) -> str:
    text = f"{report.accounts_read:,} / {report.accounts_changed:,}"
    return text + (f" ({report.accounts_added:,} new)" if report.accounts_added else "")


def _replaced(report: PullReport) -> str:
    if not report.reread:
        return "none (no change since the last pull)"
    if report.added_after is not None:
        return "none (new events added to the rollups)"
    if report.replaced_from is None:
        return (
            f"all ({report.rebuilt}: rebuilding all days)" if report.rebuilt else "all (full pull)"
        )
    unchanged = f" ({report.unchanged_days} unchanged before it)" if report.unchanged_days else ""
    return f"from {report.replaced_from}{unchanged}"
