"""`connector report --html FILE`: the population report as one self-contained HTML page
(inline CSS and SVG; no scripts, fonts or images from anywhere else)."""

from __future__ import annotations

from html import escape

from connector.metrics.engine import ENGAGED_ACTIVE_DAYS, ENGAGED_TRIAL_DAYS
from connector.metrics.reports import HealthSummary
from connector.report import svg
from connector.report.data import SEGMENT_TITLES, PopulationReport
from connector.report.text import evaluations_note, in_progress_note, trend_note

MAX_MONTHS = 18

_CSS = """
body{font-family:system-ui,sans-serif;color:#263238;margin:2rem auto;max-width:60rem;
padding:0 1rem;line-height:1.4}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #e0e0e0}
.muted{color:#78909c}.kpis{display:flex;gap:2rem;flex-wrap:wrap;margin:1rem 0}
.kpi b{display:block;font-size:2rem}table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.2rem .8rem;text-align:left;border-bottom:1px solid #eceff1}
td.n{text-align:right}.legend span{margin-right:1rem}
.sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
"""


def _score(h: HealthSummary) -> str:
    return "—" if h.score is None else f"{h.score:.0f}"


def _legend() -> str:
    items = (("good", svg.GOOD), ("average", svg.AVERAGE), ("poor", svg.POOR))
    return (
        '<p class="legend">'
        + "".join(f'<span><i class="sw" style="background:{c}"></i>{n}</span>' for n, c in items)
        + "</p>"
    )


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]], numeric: int = 1) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if i >= numeric else ""}">{escape(v)}</td>' for i, v in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: PopulationReport, title: str = "Customer health report") -> str:
    """The whole page."""
    h = report.health
    as_of = report.as_of.strftime("%Y-%m-%d %H:%M UTC") if report.as_of else "never scored"
    parts = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">As of the last scoring run: {escape(as_of)}</p>',
        '<div class="kpis">',
        f'<div class="kpi"><b>{_score(h)}</b>health score (0–100)</div>',
        f'<div class="kpi"><b>{h.ranked:,}</b>paying accounts ranked</div>',
        f'<div class="kpi"><b>{report.accounts:,}</b>accounts scored</div>',
        "</div>",
        "<h2>Health distribution</h2>",
        svg.bar_chart(
            "Paying accounts by health rank",
            [
                ("good", h.good, svg.GOOD),
                ("average", h.average, svg.AVERAGE),
                ("poor", h.poor, svg.POOR),
            ],
        ),
        '<p class="muted">Health score = 100 × (good + ½ average) ÷ ranked accounts.</p>',
        "<h2>Health score trend</h2>",
    ]
    trend = [(d, s.score) for d, s in report.trend]
    while trend and trend[0][1] is None:  # start where the history starts
        trend.pop(0)
    parts.append(svg.line_chart("Daily health score", trend))
    if report.trend_cut:
        parts.append(f'<p class="muted">{escape(trend_note(report))}</p>')
    for by, groups in report.by_segment.items():
        name = SEGMENT_TITLES.get(by, f"Health by {by}")
        rows = [(k, g.good, g.average, g.poor, g.score) for k, g in groups.items()]
        parts += [f"<h2>{escape(name)}</h2>", _legend(), svg.stacked_rows(name, rows)]
        parts.append(
            _table(
                ("segment", "good", "average", "poor", "score"),
                [
                    (k, str(g.good), str(g.average), str(g.poor), _score(g))
                    for k, g in groups.items()
                ],
            )
        )
    months = report.evaluations[-MAX_MONTHS:]
    parts.append("<h2>Engaged evaluations by month of trial start</h2>")
    if months:
        parts.append(
            svg.paired_bars(
                "Trials and engaged evaluations by month",
                [(m.month, m.trials, m.engaged, m.in_progress) for m in months],
            )
        )
        parts.append(
            _table(
                ("month", "trials", "engaged", "in progress", "share"),
                [
                    (
                        m.month,
                        str(m.trials),
                        str(m.engaged),
                        str(m.in_progress),
                        "—" if m.ratio is None else f"{m.ratio:.0%}",
                    )
                    for m in months
                ],
            )
        )
        parts.append(
            f'<p class="muted">An engaged evaluation: at least {ENGAGED_ACTIVE_DAYS} active '
            f"days in the first {ENGAGED_TRIAL_DAYS}.</p>"
        )
        if any(m.in_progress for m in months):
            note = f"{in_progress_note()} They are the pale top of a month's bar."
            parts.append(f'<p class="muted">{escape(note)}</p>')
    else:
        parts.append('<p class="muted">No trials yet.</p>')
    if report.trials_before_usage:
        parts.append(f'<p class="muted">{escape(evaluations_note(report))}</p>')
    for name, counts in report.distributions.items():
        label = name.replace("_", " ")
        parts += [
            f"<h2>Accounts by {escape(label)}</h2>",
            _table((label, "accounts"), [(k, f"{n:,}") for k, n in counts.items()]),
        ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )
