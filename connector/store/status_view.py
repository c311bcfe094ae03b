"""`connector status` on a terminal: the plain status data as rich tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

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
        summary: Any = run_summary(run["kind"], run["counts"])
        if run["error"]:
            summary = Text(run["error"][:80], style="red")
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
    parts += _stages(status)
    parts += _push_problems(status.push_problems)
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
        for col in ("stream", "reason", "in last read", "kept (samples)"):
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
        parts.append(Text("`connector quarantine` shows the kept rows and what fixes them."))
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
        problems = Table(title="Alert deliveries that failed or wait", title_justify="left")
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


def run_summary(kind: str, counts: dict[str, Any]) -> str:
    """A run's counts in words: events pulled, accounts scored, records written."""
    if kind == "pull" and "events_read" in counts:  # the pull's own row
        counts = {"pull": counts}
    words = []
    pull = counts.get("pull")
    if pull:
        words.append(
            f"{pull.get('events_read', 0):,} events → {pull.get('rollup_rows', 0):,} rollup rows"
            + (f", {q} quarantined" if (q := _total(pull.get("quarantined"))) else "")
        )
    score = counts.get("score")
    if score:
        words.append(
            f"{score.get('accounts', 0):,} accounts, {score.get('leads', 0):,} leads scored, "
            f"{score.get('new_milestones', 0)} new milestones"
        )
    push = counts.get("push")
    if push:
        ok, failed = push.get("ok", {}), push.get("failed", {})
        written = ", ".join(f"{n:,} {obj}" for obj, n in ok.items()) or "nothing"
        words.append(
            f"wrote {written}"
            + (f"; {sum(failed.values())} failed" if failed else "")
            + (f"; stopped: {push['stopped']}" if push.get("stopped") else "")
        )
    words += counts.get("notes", [])
    return "; ".join(words) or ", ".join(
        f"{k}={v}" for k, v in counts.items() if isinstance(v, int)
    )


def _total(value: Any) -> int:
    if isinstance(value, dict):
        return sum(int(v) for v in value.values())
    return int(value or 0)


def _stages(status: StoreStatus) -> list[Any]:
    """The latest run of each stage, API usage of the last push, and who holds the leases."""
    parts: list[Any] = []
    if status.last_by_stage:
        table = Table(title="By stage", title_justify="left")
        for col in ("stage", "last run", "status", "last success", "what it did / error"):
            table.add_column(col, overflow="fold")
        for stage, run in status.last_by_stage.items():
            style = {"ok": "green", "failed": "red"}.get(run["status"], "yellow")
            detail: Any = run_summary(run["kind"], run["counts"])
            if run["error"]:
                detail = Text(run["error"][:200], style="red")
            table.add_row(
                stage,
                _when(run["started_at"]),
                Text(run["status"], style=style),
                _when(run["last_ok_at"]),
                detail,
            )
        parts.append(table)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    usage = status.api_usage
    if usage:
        allocation = (
            f"; {usage['used']:,} of {usage['limit']:,} daily calls used "
            f"({usage['limit'] - usage['used']:,} left)"
            if usage.get("used") is not None and usage.get("limit")
            else ""
        )
        facts.add_row(
            "API usage",
            f"{usage['calls']} calls in the last push ({_when(usage['at'])}){allocation}",
        )
    if status.leases:
        for held in status.leases:
            facts.add_row(
                f"{held['name']} lease",
                f"held by {held['holder']} until {_when(held['expires_at'])}",
            )
    else:
        facts.add_row("leases", "none held: no daemon is working on this store right now")
    parts.append(facts)
    return parts


def _push_problems(problems: dict[str, Any]) -> list[Any]:
    """Records Salesforce rejected (with its code and what to do) and records left out."""
    if not problems:
        return []
    parts: list[Any] = []
    run = f"run {problems['run_id']}, {_when(problems['at'])}"
    if problems["failures"]:
        table = Table(title=f"Push failures ({run})", title_justify="left")
        for col in ("object", "record", "Salesforce error", "what to do"):
            table.add_column(col, overflow="fold")
        for f in problems["failures"][:20]:
            table.add_row(
                f["object"],
                f["record"],
                Text(f"{f['code'] or f['reason']}: {f['message'] or ''}".strip(": ")),
                f["what_to_do"],
            )
        parts.append(table)
        if len(problems["failures"]) > 20:
            parts.append(
                f"… and {len(problems['failures']) - 20} more (`connector status --json`)."
            )
    if problems["skipped"]:
        table = Table(title=f"Left out of the push ({run})", title_justify="left")
        for col in ("reason", "records", "for example", "what to do"):
            table.add_column(col, overflow="fold", justify="right" if col == "records" else "left")
        for reason, n in problems["skipped"].items():
            examples = problems["skipped_examples"].get(reason, [])
            sample = "; ".join(
                f"{e['object']} {e['record']}" + (f" ({e['message']})" if e["message"] else "")
                for e in examples[:2]
            )
            what = examples[0]["what_to_do"] if examples else ""
            table.add_row(reason, f"{n:,}", Text(sample), what)
        parts.append(table)
    return parts


def print_status(status: StoreStatus, console: Console) -> None:
    """Print the status tables."""
    console.print(render_status(status))
