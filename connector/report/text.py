"""`connector report` on a terminal: the population report as rich tables."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from connector.metrics.engine import ENGAGED_ACTIVE_DAYS, ENGAGED_TRIAL_DAYS
from connector.metrics.reports import HealthSummary
from connector.report.data import SEGMENT_TITLES, PopulationReport

SPARK = "▁▂▃▄▅▆▇█"
TREND_DAYS_SHOWN = 30


def _score(h: HealthSummary) -> str:
    return "—" if h.score is None else f"{h.score:.0f}"


def trend_note(report: PopulationReport) -> str:
    """Why the health trend starts where it does."""
    return (
        f"The health trend starts on {report.trend_complete_from}: a health rank looks at "
        f"{report.health_window_days} days of usage, and the usage data starts on "
        f"{report.usage_from}, so earlier days were judged on part of that and are left out."
    )


def evaluations_note(report: PopulationReport) -> str:
    """Which trials the engaged evaluations leave out."""
    n = report.trials_before_usage
    return (
        f"{n} trial{'s' if n != 1 else ''} that started before the usage data "
        f"(from {report.usage_from}) {'are' if n != 1 else 'is'} left out: no usage was "
        "recorded for their first days."
    )


def in_progress_note() -> str:
    """What "in progress" means in the engaged evaluations."""
    return (
        f"In progress: trials still in their first {ENGAGED_TRIAL_DAYS} days (an engaged "
        f"evaluation has {ENGAGED_ACTIVE_DAYS} active days in them). They count towards "
        "engaged and the share once that period ends, not before."
    )


def sparkline(values: list[float | None]) -> str:
    """0–100 values as block characters; a gap is a space."""
    return "".join(
        " " if v is None else SPARK[min(int(v / 100 * len(SPARK)), len(SPARK) - 1)] for v in values
    )


def render_report(report: PopulationReport) -> RenderableType:
    """Health now, its trend, by segment, engaged evaluations by month, distributions."""
    if report.accounts == 0:
        return Text(
            "Nothing to report yet: no account has been scored. Run `connector pull` to read "
            "usage from the product database (or `connector sync` for the whole cycle), then "
            "`connector report` again."
        )
    h = report.health
    as_of = report.as_of.strftime("%Y-%m-%d %H:%M UTC") if report.as_of else "never scored"
    parts: list[RenderableType] = [
        Text(f"Customer health as of {as_of}", style="bold"),
        Text(
            f"health score {_score(h)}: {h.good} good, {h.average} average, {h.poor} poor "
            f"of {h.ranked} paying accounts ({report.accounts} accounts scored)"
        ),
    ]
    recent = [s.score for _, s in report.trend[-TREND_DAYS_SHOWN:]]
    if any(v is not None for v in recent):
        parts.append(Text(f"last {len(recent)} days  {sparkline(recent)}"))
    if report.trend_cut and len(recent) < TREND_DAYS_SHOWN:
        parts.append(Text(trend_note(report), style="dim"))
    for by, groups in report.by_segment.items():
        title = SEGMENT_TITLES.get(by, f"Health by {by.replace('_', ' ')}")
        table = Table(title=title, title_justify="left")
        for col in ("segment", "good", "average", "poor", "score"):
            table.add_column(col, justify="left" if col == "segment" else "right")
        for key, g in groups.items():
            table.add_row(key, str(g.good), str(g.average), str(g.poor), _score(g))
        parts.append(table)
    if report.evaluations:
        table = Table(title="Engaged evaluations by month of trial start", title_justify="left")
        for col in ("month", "trials", "engaged", "in progress", "share"):
            table.add_column(col, justify="left" if col == "month" else "right")
        for m in report.evaluations:
            share = "—" if m.ratio is None else f"{m.ratio:.0%}"
            table.add_row(m.month, str(m.trials), str(m.engaged), str(m.in_progress), share)
        parts.append(table)
        if any(m.in_progress for m in report.evaluations):
            parts.append(Text(in_progress_note(), style="dim"))
    if report.trials_before_usage:
        parts.append(Text(evaluations_note(report), style="dim"))
    for name, counts in report.distributions.items():
        line = ", ".join(f"{n} {k}" for k, n in counts.items())
        parts.append(Text(f"{name.replace('_', ' ')}: {line}"))
    return Group(*parts)
