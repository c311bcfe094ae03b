"""`connector quarantine`: the source rows a pull set aside, grouped by why, each group with
what happened to its rows and what fixes them at the source."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from connector.store.bookkeeping import QuarantineEntry
from connector.store.remedies import quarantine_remedy

#: Characters of a raw row shown in a table cell (`--json` has it whole).
RAW_SHOWN = 240


def entry_dict(entry: QuarantineEntry) -> dict[str, Any]:
    """One kept row, JSON-ready, with what to do about it."""
    return {
        "stream": entry.stream,
        "reason": entry.reason,
        "row_key": entry.row_key,
        "raw": entry.raw,
        "run_id": entry.run_id,
        "seen_at": entry.seen_at.isoformat(),
        "what_to_do": quarantine_remedy(entry.reason),
    }


def _raw_text(raw: dict[str, Any] | None) -> str:
    text = json.dumps(raw, default=str, ensure_ascii=False) if raw is not None else "—"
    return text if len(text) <= RAW_SHOWN else text[: RAW_SHOWN - 1] + "…"


def render_quarantine(
    entries: Sequence[QuarantineEntry], kept: dict[str, dict[str, int]]
) -> RenderableType:
    """A table per (stream, reason), newest rows first, then how many are kept in all."""
    total = sum(n for reasons in kept.values() for n in reasons.values())
    if total == 0:
        return Text("No source rows are quarantined.")
    if not entries:
        reasons = ", ".join(f"{s}.{r}" for s, rs in sorted(kept.items()) for r in sorted(rs))
        return Text(f"No kept rows match. Kept: {reasons}.")
    groups: dict[tuple[str, str], list[QuarantineEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.stream, entry.reason), []).append(entry)
    parts: list[RenderableType] = []
    for (stream, reason), rows in groups.items():
        count = kept.get(stream, {}).get(reason, len(rows))
        table = Table(
            title=f"{stream} · {reason} ({count:,} kept)",
            caption=quarantine_remedy(reason),
            title_justify="left",
            caption_justify="left",
        )
        for col in ("row", "last seen", "raw row"):
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(row.row_key, row.seen_at.strftime("%Y-%m-%d %H:%M"), _raw_text(row.raw))
        parts.append(table)
    parts.append(
        Text(
            f"Showing {len(entries):,} of {total:,} kept rows (newest first); "
            "--reason, --stream and --limit choose others, --json gives them whole."
        )
    )
    return Group(*parts)
