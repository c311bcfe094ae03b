"""The account profile on one screen."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from connector.profile import LATEST, AccountProfile


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def render(p: AccountProfile) -> RenderableType:
    head = Text(
        f"{p.name or p.account_id} ({p.account_id}) — {p.status or '?'}"
        f"{', ' + p.plan if p.plan else ''}"
        f"{f', {p.licenses} licences' if p.licenses else ''}",
        style="bold",
    )
    health = Text(
        f"Health: {_fmt(p.health_rank)} — {_fmt(p.health_reason)}"
        f"  [{', '.join(p.health_decided_by)}]"
        if p.health_decided_by
        else f"Health: {_fmt(p.health_rank)} — {_fmt(p.health_reason)}"
        if p.health_reason or p.scores_from == LATEST
        else f"Health: {_fmt(p.health_rank)}"
    )
    facts = Text(
        f"Risk {_fmt(p.risk_level)} · stage {_fmt(p.lifecycle_stage)} · CSM {_fmt(p.csm_email)}"
    )
    latest = p.scores_from == LATEST
    scores = Text(
        f"Scores: {p.scores_note or 'scored as of ' + _fmt(p.as_of)}"
        + ("" if latest else f"; usage counted to {_fmt(p.usage_as_of)}"),
        style="" if latest else "yellow",
    )
    kpis = Table(
        box=None,
        show_header=False,
        pad_edge=False,
        title="Key figures",
        title_justify="left",
        title_style="bold",
    )
    kpis.add_column(style="bold")
    kpis.add_column()
    for k, v in p.kpis.items():
        kpis.add_row(k, _fmt(v))
    usage = Table(
        box=None, header_style="bold", title="Usage", title_justify="left", title_style="bold"
    )
    usage.add_column("period")
    columns = sorted({k for v in p.usage.values() for k in v})
    for c in columns:
        usage.add_column(c)
    for period, values in p.usage.items():
        usage.add_row(period, *(_fmt(values.get(c)) for c in columns))
    users = Table(
        box=None,
        header_style="bold",
        title=f"Users ({len(p.users)})",
        title_justify="left",
        title_style="bold",
    )
    user_cols = [c for c in (p.users[0] if p.users else {}) if c != "user_id"]
    for c in user_cols:
        users.add_column(c)
    for u in p.users[:10]:
        users.add_row(*(_fmt(u.get(c)) for c in user_cols))
    parts: list[RenderableType] = [head, scores, health, facts, kpis, usage, users]
    parts.append(
        Text(
            "Milestones: "
            + (", ".join(f"{m['label']} ({m['reached_on']})" for m in p.milestones) or "none")
        )
    )
    if p.tags is None:
        parts.append(Text("Tags: not kept day by day, so unknown for that time"))
    else:
        parts.append(Text("Tags: " + (", ".join(p.tags) or "none")))
    sync = (
        f"Salesforce{'' if latest else ' (now)'} {p.salesforce_id or 'not matched yet'}; "
        f"last pushed {_fmt(p.pushed_at)}; {len(p.open_tasks)} open Task(s)"
    )
    parts.append(Text(sync))
    for e in p.errors:
        parts.append(Text(f"  {e['reason']}: {_fmt(e['code'])} {_fmt(e['message'])}", "yellow"))
    return Group(*parts)
