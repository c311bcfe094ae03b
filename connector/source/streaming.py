"""The fallback for engines we cannot push SQL into: raw events streamed and rolled up here.

Rows come from a server-side cursor in chunks of `source.chunk_size`; memory grows with the
number of distinct (account, user, day, module) keys in the window, never with the number
of events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from connector.source.durations import classify_duration
from connector.source.events import (
    COUNTED_REASONS,
    EARLIEST_EVENT,
    FUTURE_REASON,
    LATEST_EVENT,
    SAMPLE_ROWS,
    SAMPLE_UNKNOWN_ACCOUNTS,
    UNPARSABLE_REASON,
    EventSink,
    EventsRead,
    UsageGroup,
    UsageSink,
    Window,
    as_key,
    one_relation,
    time_filter,
    unique_events,
)
from connector.source.normalize import parse_instant
from connector.source.relations import ARRIVAL, Relation
from connector.source.timezones import DayBucketer, local_day

_SIDE = "time_side_"  # -1 before `EARLIEST_EVENT`, 1 after `LATEST_EVENT`, else NULL
_TEXT = "time_text_"  # such a time as the source's text, for the quarantine


def _guarded(ev: sa.Subquery, bucketer: DayBucketer) -> list[Any]:
    """The streamed columns, with times no Python date holds (a year past 9999, `infinity`,
    years BC) sent as NULL plus their side and text, so the driver never has to load them."""
    t = bucketer.value(ev.c.occurred_at)
    side = sa.case((t < bucketer.param(EARLIEST_EVENT), -1), (t > bucketer.param(LATEST_EVENT), 1))
    out = side.is_not(None)

    def time(col: Any) -> Any:
        return sa.case((out, sa.null()), else_=col)

    cols = [time(c).label(c.name) if c.name in ("occurred_at", ARRIVAL) else c for c in ev.c]
    text = sa.case((out, sa.cast(ev.c.occurred_at, sa.String)))
    return [*cols, side.label(_SIDE), text.label(_TEXT)]


def _reason(row: Any, future_limit: datetime) -> tuple[str | None, datetime | None, float | None]:
    """The row's bad-row reason (None for a good row), its time and the seconds to count."""
    reason, at = _time_reason(row, future_limit)
    if reason is not None:
        return reason, at, None
    seconds, duration_reason = classify_duration(row.duration_seconds)
    return duration_reason, at, seconds


def _time_reason(row: Any, future_limit: datetime) -> tuple[str | None, datetime | None]:
    if row.user_id is None or str(row.user_id).strip() == "":
        return "no_user", None  # anonymous: first, as it usually also lacks the account
    if row.account_id is None or str(row.account_id).strip() == "":
        return "no_account", None
    side = row._mapping[_SIDE]
    if side is not None:
        return (FUTURE_REASON if side > 0 else UNPARSABLE_REASON), None
    if row.occurred_at is None:
        return "no_timestamp", None
    try:
        at = parse_instant(row.occurred_at)
    except ValueError:
        return UNPARSABLE_REASON, None
    assert at is not None
    if at > future_limit:
        return FUTURE_REASON, at
    return None, at


def _sample(row: Any, reason: str) -> tuple[str, str, dict[str, Any]]:
    """A streamed row as the quarantine keeps it (a time no Python date holds as its text)."""
    raw = {k: v for k, v in row._mapping.items() if k not in (ARRIVAL, _SIDE, _TEXT)}
    if row._mapping[_TEXT] is not None:
        raw["occurred_at"] = row._mapping[_TEXT]
    key = raw.get("event_id") or f"{raw['account_id']}|{raw['user_id']}|{raw['occurred_at']}"
    return str(key), reason, raw


def _instant(value: Any) -> datetime | None:
    """A bad row's time where it has a readable one, else None."""
    try:
        return parse_instant(value)
    except (ValueError, TypeError):
        return None


def read_streaming(
    conn: sa.Connection,
    rel: Relation,
    bucketer: DayBucketer,
    zone: ZoneInfo,
    window: Window,
    usage_sink: UsageSink,
    event_sink: EventSink,
    chunk_size: int,
) -> EventsRead:
    """Stream raw events in chunks and aggregate them here (for engines we cannot push to)."""
    read = EventsRead()
    ev = one_relation(unique_events(conn, rel, bucketer, window, read))
    query = sa.select(*_guarded(ev, bucketer)).where(time_filter(ev, bucketer, window))
    # Keyed by account, user, day, module and reason (None, or one of `COUNTED_REASONS`).
    usage: dict[tuple[str, str, date, str, str | None], list[Any]] = {}
    named: dict[tuple[str, date, str], tuple[list[int], set[str]]] = {}
    samples: Counter[str] = Counter()
    max_arrival: datetime | None = None
    last_id: str | None = None
    new_after = window.new_after
    result = conn.execution_options(stream_results=True, yield_per=chunk_size).execute(query)
    # Bad rows by reason and local day, with the newest arrival among them: they are counted
    # per day and move the watermark like good rows (except those dated in the future).
    bad: dict[tuple[str, date | None], list[Any]] = {}
    for row in result:
        reason, at, seconds = _reason(row, window.future_limit)
        if reason in COUNTED_REASONS and samples[reason] < SAMPLE_ROWS:
            samples[reason] += 1
            read.samples.append(_sample(row, reason))
        if reason is not None and reason not in COUNTED_REASONS:
            read.bad[reason] += 1
            when = at if at is not None else _instant(row.occurred_at)
            slot = bad.setdefault(
                (reason, None if when is None else local_day(when, zone)), [0, None]
            )
            slot[0] += 1
            arrival = _instant(row._mapping[ARRIVAL]) or when
            if reason != FUTURE_REASON and arrival is not None:
                if slot[1] is None or arrival > slot[1]:
                    slot[1] = arrival
                if max_arrival is None or arrival > max_arrival:
                    max_arrival = arrival
                    last_id = None if row.event_id is None else str(row.event_id)
            if samples[reason] < SAMPLE_ROWS:
                samples[reason] += 1
                read.samples.append(_sample(row, reason))
            continue
        assert at is not None
        try:
            arrival = parse_instant(row._mapping[ARRIVAL]) or at
        except ValueError:
            arrival = at
        account, user = str(row.account_id), str(row.user_id)
        day = local_day(at, zone)
        module = "" if row.module is None else str(row.module)
        event = "" if row.event is None else str(row.event)
        slot = usage.get((account, user, day, module, reason))
        if slot is None:
            slot = usage[(account, user, day, module, reason)] = [0, None, 0, arrival, at, at]
        slot[0] += 1
        if at < slot[4]:
            slot[4] = at
        if at > slot[5]:
            slot[5] = at
        if seconds is not None:
            slot[1] = (slot[1] or 0.0) + seconds
        if new_after is None or arrival > new_after:
            slot[2] += 1
        if arrival > slot[3]:
            slot[3] = arrival
        counts, users = named.setdefault((account, day, event), ([0, at], set()))
        counts[0] += 1
        if at < counts[1]:
            counts[1] = at
        users.add(user)
        event_id = None if row.event_id is None else str(row.event_id)
        if max_arrival is None or arrival > max_arrival:
            max_arrival, last_id = arrival, event_id
        elif (
            arrival == max_arrival
            and event_id is not None
            and (last_id is None or event_id > last_id)
        ):
            last_id = event_id
    bad_groups = [
        UsageGroup(reason, None, None, day, "", n, None, newest, 0)
        for (reason, day), (n, newest) in bad.items()
    ]
    read.bad.clear()

    def groups() -> Iterator[UsageGroup]:
        yield from bad_groups
        for (account, user, day, module, reason), (
            events,
            seconds,
            new,
            newest,
            first,
            last,
        ) in usage.items():
            yield UsageGroup(
                reason, account, user, day, module, events, seconds, newest, new, first, last
            )

    unknown = usage_sink(groups())
    usage.clear()
    event_sink(
        (account, day, event, counts[0], len(users), counts[1])
        for (account, day, event), (counts, users) in named.items()
    )
    if unknown:
        some = sorted(unknown)[:SAMPLE_UNKNOWN_ACCOUNTS]
        rows = conn.execute(
            sa.select(ev).where(as_key(ev.c.account_id).in_(some)).limit(SAMPLE_ROWS)
        ).mappings()
        for row in rows:
            raw = {k: v for k, v in row.items() if k != ARRIVAL}
            read.samples.append((str(raw.get("event_id")), "unknown_account", raw))
    read.last_id = last_id
    return read
