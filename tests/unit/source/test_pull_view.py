"""The pull summary points at `connector quarantine` only when rows were set aside."""

from __future__ import annotations

from connector.source.pull_view import render_summary
from connector.source.report import PullReport


def test_quarantined_rows_point_at_the_quarantine_command() -> None:
    report = PullReport(run_id="r1", source="generic:x", preset="generic", mode="pushdown")
    assert render_summary(report).caption is None
    report.quarantined["events.no_user"] = 3
    assert "`connector quarantine`" in str(render_summary(report).caption)
