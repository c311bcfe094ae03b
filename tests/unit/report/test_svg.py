"""Inline SVG charts: well-formed, self-contained, and drawing what they are given."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

from connector.report import svg
from connector.report.text import sparkline

NS = "{http://www.w3.org/2000/svg}"
D0 = date(2026, 3, 1)


def _parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == f"{NS}svg"
    assert "href" not in markup  # nothing fetched from elsewhere
    return root


def test_bar_chart_draws_one_bar_per_value_with_its_count() -> None:
    root = _parse(svg.bar_chart("t", [("good", 12, svg.GOOD), ("poor", 3, svg.POOR)]))
    bars = root.findall(f"{NS}rect")
    assert len(bars) == 2
    assert float(bars[0].get("height", 0)) == 4 * float(bars[1].get("height", 0))
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "12" in texts
    assert "poor" in texts


def test_line_chart_leaves_gaps_for_days_without_a_value() -> None:
    points = [(D0 + timedelta(days=i), v) for i, v in enumerate([50, 60, None, 70, 80, 90])]
    root = _parse(svg.line_chart("trend", points))
    lines = root.findall(f"{NS}polyline")
    assert [len(p.get("points", "").split()) for p in lines] == [2, 3]
    assert "2026-03-01" in [t.text for t in root.iter(f"{NS}text")]


def test_line_chart_without_history_says_so() -> None:
    root = _parse(svg.line_chart("trend", []))
    assert "no daily history yet" in [t.text for t in root.iter(f"{NS}text")]


def test_stacked_rows_escape_labels_and_split_by_rank() -> None:
    root = _parse(svg.stacked_rows("seg", [("<CSM & co>", 2, 1, 1, 62.5), ("none", 0, 0, 0, None)]))
    coloured = [r for r in root.findall(f"{NS}rect") if r.get("fill") != svg.GRID]
    widths = [float(r.get("width", 0)) for r in coloured]
    assert widths[0] == 2 * widths[1] == 2 * widths[2]
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "<CSM & co>" in texts
    assert "62" in texts or "63" in texts
    assert "—" in texts


def test_sparkline_maps_0_to_100_onto_blocks() -> None:
    assert sparkline([0, None, 100, 50]) == "▁ █▅"


def test_paired_bars_draw_trials_in_progress_paler_and_label_the_decided_share() -> None:
    root = _parse(svg.paired_bars("evals", [("2026-05", 10, 3, 0), ("2026-06", 8, 1, 6)]))
    fills = [r.get("fill") for r in root.findall(f"{NS}rect")]
    assert fills == [svg.MUTED, svg.GOOD, svg.PENDING, svg.MUTED, svg.GOOD]
    heights = [float(r.get("height", 0)) for r in root.findall(f"{NS}rect")]
    assert heights[2] == 4 * heights[3]  # all 8 trials, of which 2 decided
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "3/10" in texts
    assert "1/2" in texts
