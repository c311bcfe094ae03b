"""The pull and run summaries point at `connector quarantine` when rows were set aside."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from connector.pipeline import RunReport
from connector.run_view import summary
from connector.source.pull_view import render_summary
from connector.source.report import PullReport


def test_quarantined_rows_point_at_the_quarantine_command() -> None:
    report = PullReport(run_id="r1", source="generic:x", preset="generic", mode="pushdown")
    assert render_summary(report).caption is None
    report.quarantined["events.no_user"] = 3
    assert "`connector quarantine`" in str(render_summary(report).caption)


def test_the_run_summary_points_there_too() -> None:
    pull = PullReport(run_id="r1", source="generic:x", preset="generic")
    pull.quarantined["events.no_user"] = 2
    report = RunReport(run_id="r1", stage="sync", started_at=datetime(2026, 1, 1, tzinfo=UTC))
    report.pull = pull
    console = Console(record=True, width=200)
    console.print(summary(report))
    assert "2 rows quarantined (`connector quarantine` shows them)" in console.export_text()
