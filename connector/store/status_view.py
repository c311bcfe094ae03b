"""`connector status` on a terminal: the plain status data as rich tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table

from connector.store.status import StoreStatus


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "—"


def render_status(status: StoreStatus) -> Group:
    """Tables for runs, watermarks, counts and quarantine."""
    parts: list[Any] = []
    head = Table.grid(padding=(0, 2))
    head.add_row("store", status.store)
    revision = status.revision or "never migrated"
    head.add_row(
        "schema",
        revision if status.migrated else f"{revision} (needs {status.head}: connector db upgrade)",
    )
    parts.append(head)
    if not status.migrated:
        return Group(*parts)
    runs = Table(title="Last runs", title_justify="left")
    for col in ("run", "kind", "status", "started", "finished", "summary"):
        runs.add_column(col)
    for run in status.runs:
        counts = run["counts"]
        summary = (
            f"{counts.get('events_read', 0):,} events, {counts.get('rollup_rows', 0):,} rollup rows"
            if run["kind"] == "pull"
            else ", ".join(f"{k}={v}" for k, v in counts.items() if isinstance(v, int))
        )
        if run["error"]:
            summary = f"[red]{run['error'][:80]}[/]"
        style = {"ok": "green", "failed": "red"}.get(run["status"], "yellow")
        runs.add_row(
            run["run_id"],
            run["kind"],
            f"[{style}]{run['status']}[/]",
            _when(run["started_at"]),
            _when(run["finished_at"]),
            summary,
        )
    parts.append(runs if status.runs else "No runs yet: try `connector pull`.")
    marks = Table(title="Watermarks", title_justify="left")
    for col in ("source", "stream", "last event time", "last id", "updated"):
        marks.add_column(col)
    for w in status.watermarks:
        marks.add_row(
            w["source"],
            w["stream"],
            _when(w["last_time"]),
            w["last_id"] or "—",
            _when(w["updated_at"]),
        )
    if status.watermarks:
        parts.append(marks)
    counts = Table(title="Store contents", title_justify="left")
    counts.add_column("what")
    counts.add_column("rows", justify="right")
    for name, n in status.counts.items():
        counts.add_row(name, f"{n:,}")
    for name, n in sorted(status.accounts_by_status.items()):
        counts.add_row(f"  accounts {name}", f"{n:,}")
    first, last = status.usage_days
    if first is not None:
        counts.add_row("usage days", f"{first} → {last}")
    parts.append(counts)
    if status.quarantined or status.last_pull_quarantined:
        quarantine = Table(title="Quarantined rows", title_justify="left")
        for col in ("stream", "reason", "in last pull", "kept (samples)"):
            quarantine.add_column(col, justify="right" if col[0] in "ik" else "left")
        keys = {tuple(k.split(".", 1)) for k in status.last_pull_quarantined}
        keys |= {(s, r) for s, reasons in status.quarantined.items() for r in reasons}
        for stream, reason in sorted(keys):
            quarantine.add_row(
                stream,
                reason,
                f"{status.last_pull_quarantined.get(f'{stream}.{reason}', 0):,}",
                f"{status.quarantined.get(stream, {}).get(reason, 0):,}",
            )
        parts.append(quarantine)
    parts += _alerts(status.alerts)
    return Group(*parts)


def _alerts(summary: dict[str, Any]) -> list[Any]:
    """Alert and digest deliveries by channel, and the latest that failed or went unconfirmed."""
    if not summary.get("by_channel"):
        return []
    table = Table(title="Alerts and digests", title_justify="left")
    for col in ("channel", "sent", "pending", "failed", "unconfirmed"):
        table.add_column(col, justify="left" if col == "channel" else "right")
    for channel, counts in summary["by_channel"].items():
        failed = counts.get("failed", 0)
        table.add_row(
            channel,
            f"{counts.get('sent', 0):,}",
            f"{counts.get('pending', 0) + counts.get('sending', 0):,}",
            f"[red]{failed:,}[/]" if failed else "0",
            f"{counts.get('unconfirmed', 0):,}",
        )
    parts: list[Any] = [table]
    if summary.get("problems"):
        problems = Table(title="Alert deliveries that failed", title_justify="left")
        for col in ("when", "channel", "to", "alert", "account", "status", "error"):
            problems.add_column(col, overflow="fold")
        for p in summary["problems"]:
            problems.add_row(
                _when(p["at"]),
                p["channel"],
                p["recipient"],
                p["rule"],
                p["account_id"] or "—",
                p["status"],
                p["error"] or "",
            )
        parts.append(problems)
    return parts


def print_status(status: StoreStatus, console: Console) -> None:
    """Print the status tables."""
    console.print(render_status(status))
