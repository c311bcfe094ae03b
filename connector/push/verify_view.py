"""How `connector verify` shows a read-back: per object counts, then each drifted field."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from connector.push.verify import VerifyReport

MAX_ROWS = 50  # drift rows shown; `--json` lists them all


def _shown(value: object) -> str:
    return "(empty)" if value is None or value == "" else str(value)


def render(report: VerifyReport) -> RenderableType:
    """A one-screen summary: what was read back, how, and what differs."""
    summary = Table(title="Read-back from Salesforce", show_header=True)
    for column in ("object", "records", "fields", "read with", "drifted fields", "missing"):
        summary.add_column(column, justify="left" if column == "object" else "right")
    for sobject in sorted(set(report.methods) | set(report.records)):
        summary.add_row(
            sobject,
            f"{report.records.get(sobject, 0):,}",
            f"{report.fields.get(sobject, 0):,}",
            report.methods.get(sobject, ""),
            f"{sum(1 for d in report.drift if d.sobject == sobject):,}",
            f"{sum(1 for m in report.missing if m.sobject == sobject):,}",
        )
    parts: list[RenderableType] = [summary]
    if report.drift:
        table = Table(title="Drift (Salesforce differs from what was pushed)")
        for column in ("object", "record", "field", "pushed", "Salesforce holds"):
            table.add_column(column, overflow="fold")
        for d in report.drift[:MAX_ROWS]:
            table.add_row(d.sobject, d.key, d.field, _shown(d.expected), _shown(d.actual))
        parts.append(table)
        if len(report.drift) > MAX_ROWS:
            parts.append(Text(f"… and {len(report.drift) - MAX_ROWS:,} more (see --json)."))
    again = {(m.sobject, m.key): m.salesforce_id for m in report.rematched}
    for m in report.missing:
        line = (
            f"missing: {m.sobject} {m.key} ({m.salesforce_id}) is no longer in Salesforce "
            "(deleted or merged)"
        )
        if report.resend is None:
            line += (
                "; what was pushed to it is forgotten, so the next sync looks it up again and "
                "sends every field, or reports it unmatched."
            )
        elif (m.sobject, m.key) in again:
            line += f"; matched again as {again[(m.sobject, m.key)]} and every field re-sent."
        else:
            line += (
                "; looked up again and not found: it is reported unmatched (`connector status` "
                "says how to match it)."
            )
        parts.append(Text(line, style="yellow"))
    if report.tasks_dropped:
        parts.append(
            Text(
                f"{report.tasks_dropped} open Task(s) of missing records went with them and "
                "are no longer counted open."
            )
        )
    if report.missing and report.resend is None:
        parts.append(Text("Run `connector verify --repair` to look them up and re-send them now."))
    for sobject, names in report.unknown_fields.items():
        parts.append(Text(f"not checked: {sobject} has no field {', '.join(names)} any more."))
    if report.repair is not None:
        failed = sum(report.repair.failed.values()) + sum(report.repair.retry_later.values())
        parts.append(Text(f"repair: {report.repaired:,} records re-sent, {failed:,} failed."))
    elif report.drift:
        parts.append(Text("Run `connector verify --repair` to write the pushed values back."))
    if report.clean:
        parts.append(Text("Salesforce holds everything the connector pushed.", style="green"))
    parts.append(Text(f"API calls: {report.api_calls:,}"))
    return Group(*parts)
