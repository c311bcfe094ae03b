"""The pull and run summaries point at `connector quarantine` when rows were set aside."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from connector.pipeline import RunReport
from connector.run_view import summary
from connector.source.pull_view import render_summary
from connector.source.report import PullReport, mostly_quarantined


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


def test_mostly_quarantined_events_are_flagged_with_the_main_reason_and_fix() -> None:
    report = PullReport(run_id="r1", source="generic:x", preset="generic", events_read=100)
    report.quarantined.update({"events.future_timestamp": 45, "events.no_user": 4})
    assert mostly_quarantined(report) is None  # 49 of 100: dirty rows, not a mistake
    report.quarantined["events.unparsable_timestamp"] = 2
    warning = mostly_quarantined(report)
    assert warning is not None
    assert warning.startswith("51 of the 100 events read were quarantined, most for future")
    assert "source.max_future_minutes" in warning  # the reason's own advice
    assert "source.tables.events" in warning
    assert "51 of the 100" in " ".join(str(render_summary(report).caption).split())
    small = PullReport(run_id="r2", source="generic:x", preset="generic", events_read=5)
    small.quarantined["events.no_user"] = 5
    assert mostly_quarantined(small) is None  # too few to say
