"""Small inline SVG charts (no scripts, no external assets), so a report is one file that
opens anywhere, offline, and can be mailed. Pure functions: data in, markup out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

GOOD, AVERAGE, POOR, MUTED, INK, GRID = (
    "#2e7d32",
    "#f9a825",
    "#c62828",
    "#90a4ae",
    "#263238",
    "#e0e0e0",
)
PENDING = "#cfd8dc"  # a paler MUTED: not decided yet
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "middle", fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {FONT}>'
        f"{escape(text)}</text>"
    )


def bar_chart(title: str, bars: Sequence[tuple[str, int, str]], width: int = 360) -> str:
    """Vertical bars: (label, count, colour)."""
    height, top, bottom = 220, 24, 36
    top_value = max((v for _, v, _ in bars), default=0) or 1
    slot = width / max(len(bars), 1)
    body = [
        f'<line x1="0" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="{GRID}"/>'
    ]
    for i, (label, value, colour) in enumerate(bars):
        h = (height - top - bottom) * value / top_value
        x = i * slot + slot * 0.2
        y = height - bottom - h
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{h:.1f}" '
            f'fill="{colour}" rx="2"/>'
        )
        body.append(_text(x + slot * 0.3, y - 6, f"{value:,}"))
        body.append(_text(x + slot * 0.3, height - bottom + 18, label))
    return _svg(width, height, title, body)


def line_chart(
    title: str, points: Sequence[tuple[date, float | None]], width: int = 640, y_max: float = 100
) -> str:
    """A 0–100 line over days; days without a value leave a gap."""
    height, left, right, top, bottom = 240, 40, 12, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    body = []
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / y_max)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 6, y + 4, str(tick), anchor="end", fill=MUTED))
    if not points:
        body.append(_text(width / 2, height / 2, "no daily history yet", fill=MUTED))
        return _svg(width, height, title, body)
    step = plot_w / max(len(points) - 1, 1)
    segments: list[list[str]] = [[]]
    for i, (_, value) in enumerate(points):
        if value is None:
            if segments[-1]:
                segments.append([])
            continue
        x = left + i * step
        y = top + plot_h * (1 - value / y_max)
        segments[-1].append(f"{x:.1f},{y:.1f}")
    for seg in segments:
        if len(seg) == 1:
            x, y = seg[0].split(",")
            body.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{GOOD}"/>')
        elif seg:
            body.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{GOOD}" '
                'stroke-width="2" stroke-linejoin="round"/>'
            )
    for i in sorted({0, len(points) // 2, len(points) - 1}):
        body.append(_text(left + i * step, height - bottom + 18, points[i][0].isoformat()))
    return _svg(width, height, title, body)


def stacked_rows(
    title: str, rows: Sequence[tuple[str, int, int, int, float | None]], width: int = 640
) -> str:
    """One horizontal bar per segment split good / average / poor, with its health score."""
    row_h, label_w, score_w = 26, 220, 70
    height = row_h * max(len(rows), 1) + 8
    bar_w = width - label_w - score_w
    body = []
    for i, (label, good, average, poor, score) in enumerate(rows):
        y = 4 + i * row_h
        total = good + average + poor
        shown = label if len(label) <= 32 else label[:31] + "…"
        body.append(_text(label_w - 8, y + 15, shown, anchor="end"))
        x = float(label_w)
        if total == 0:
            body.append(
                f'<rect x="{x}" y="{y + 3}" width="{bar_w}" height="{row_h - 8}" fill="{GRID}"/>'
            )
        for count, colour in ((good, GOOD), (average, AVERAGE), (poor, POOR)):
            if total == 0 or count == 0:
                continue
            w = bar_w * count / total
            body.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                f'fill="{colour}"><title>{count} {escape(label)}</title></rect>'
            )
            x += w
        body.append(
            _text(width - score_w + 8, y + 15, "—" if score is None else f"{score:.0f}", "start")
        )
    return _svg(width, height, title, body)


def paired_bars(title: str, groups: Sequence[tuple[str, int, int, int]], width: int = 640) -> str:
    """Per group (label, total, part, pending): a total bar with its highlighted part
    (trials and engaged evaluations) and its pending top in a paler shade (trials still in
    their evaluation period); the label above is part / decided (total − pending)."""
    height, top, bottom = 220, 24, 40
    top_value = max((t for _, t, _, _ in groups), default=0) or 1
    slot = width / max(len(groups), 1)
    body = [
        f'<line x1="0" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="{GRID}"/>'
    ]
    for i, (label, total, part, pending) in enumerate(groups):
        x = i * slot + slot * 0.15
        w = slot * 0.7
        decided = total - pending
        bars = [(decided, MUTED), (part, GOOD)]
        if pending:
            bars.insert(0, (total, PENDING))
        for value, colour in bars:
            h = (height - top - bottom) * value / top_value
            body.append(
                f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{w:.1f}" '
                f'height="{h:.1f}" fill="{colour}"/>'
            )
        ratio = f"{part}/{decided}"
        body.append(
            _text(
                x + w / 2, height - bottom - (height - top - bottom) * total / top_value - 6, ratio
            )
        )
        body.append(_text(x + w / 2, height - bottom + 16, label))
    return _svg(width, height, title, body)
