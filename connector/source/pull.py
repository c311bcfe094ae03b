"""One incremental pull: accounts and users refreshed, events rolled up into the store.

The watermark of the events stream is the newest arrival time read (the event time for the
generic preset, `received_at` for the segment preset) plus the id of the newest event at that
time. The late window runs from the start of the day `late_window_days` before the
watermark's day; its events are counted per day first (`connector.source.changed_days`), and
the run re-reads from the first day whose count changed since it was last read (with
`late_window_reread: all`, from the window's start): those days' rollups are deleted and
rebuilt from the source in the same store transaction that moves the watermark and keeps the
new counts. Re-running therefore never double counts, late events inside the window are
picked up, and a crash leaves the previous rollups, counts and watermark in place. When
events carry an arrival time distinct from their event time, the re-read starts at the day
of the earliest event that arrived since the watermark minus the window, however old that
event is.

When nothing up to the watermark changed, the events past it are new: where the read keeps
the newest day's users per event name (`event_users`; see `_Puller._keeps_users`), they are
added to the rollups (counts summed, distinct users counted against the users already
kept), so a run costs what its new events cost, however much of the day came before them.
Elsewhere the watermark's day is rebuilt whole.

Events of an account the store does not know (yet) are quarantined, not rolled up; if the
account appears later than the late window, `pull --full` (or `connector pull --full`)
rebuilds every rollup from the whole source. A pull rebuilds them all by itself when the time
zone or the events relation changed since they were built (`connector.source.rollup_basis`).

Accounts and users are read in full each run (or, where the source has an `updated_at`
column, only rows updated since its own watermark minus the window, and those whose
`updated_at` is not set). A row read exactly as last time (by the hash of its values,
`connector.source.fingerprint`) is skipped unparsed; the others are parsed and written only
when their content hash changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from connector.clock import monotonic, now
from connector.config import Settings, where_is
from connector.errors import ConfigError, Problem
from connector.logs import get_logger, new_run_id
from connector.source import changed_days
from connector.source.changed_days import FUTURE_DAY, MAX_COUNTED_DAYS
from connector.source.engine import connect_check, make_source_engine
from connector.source.events import (
    COUNTED_REASONS,
    FUTURE_REASON,
    EventsRead,
    EventUserTuple,
    UsageGroup,
    Window,
)
from connector.source.fingerprint import RowHasher
from connector.source.generic import resolve_generic
from connector.source.normalize import account_row, clean_text, user_row
from connector.source.pushdown import read_pushdown
from connector.source.relations import (
    ARRIVAL,
    ATTR_PREFIX,
    TIME_COLUMNS,
    UPDATED_COLUMN,
    Relation,
    SourceRelations,
)
from connector.source.report import PullReport, mostly_quarantined
from connector.source.rollup_basis import Basis, basis_of, rebuild_reason, recorded
from connector.source.segment import resolve_segment
from connector.source.streaming import read_streaming
from connector.source.timezones import (
    DayBucketer,
    as_utc,
    day_start,
    is_fixed_utc,
    local_day,
)
from connector.store import accounts as store_accounts
from connector.store import bookkeeping, rollups
from connector.store.migrate import require_current

log = get_logger(__name__)

#: Called with a phase name and the counts so far, for progress displays.
ProgressFn = Callable[[str, dict[str, int]], None]
#: Account / user rows compared and written per store round trip.
_ENTITY_BATCH = 5_000
#: Rollup groups between two progress callbacks.
_PROGRESS_EVERY = 50_000
PUSHDOWN_DIALECTS = ("postgresql", "mysql", "sqlite")
#: Quarantine reasons of an account or user row whose id was read before in the same pull.
DUPLICATE_ACCOUNT = "duplicate_account_id"
DUPLICATE_USER = "duplicate_user_id"


def _family(engine: sa.Engine) -> str:
    name = engine.dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def mysql_has_zone(engine: sa.Engine, zone: str) -> bool:
    """Whether a MySQL / MariaDB server can CONVERT_TZ to `zone` (its tz tables are loaded)."""
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT CONVERT_TZ('2000-01-01 00:00:00', '+00:00', :zone)"), {"zone": zone}
        ).scalar()
    return value is not None


PG_NAIVE_TIMESTAMP_OID = 1114


def pg_naive_event_times(engine: sa.Engine, events: Relation) -> bool:
    """Whether a PostgreSQL events relation's `occurred_at` is `timestamp without time zone`
    (told by the result's type, so no row needs to exist), which lets the local day come
    from interval arithmetic rather than a per-row time-zone conversion."""
    query = sa.select(events.query.c.occurred_at).where(sa.false())
    with engine.connect() as conn:
        description = conn.execute(query).cursor.description
    return bool(description) and description[0][1] == PG_NAIVE_TIMESTAMP_OID


def choose_mode(
    engine: sa.Engine, settings: Settings, events: Relation | None = None
) -> tuple[str, DayBucketer]:
    """`pushdown` or `streaming` for this source and setting, and the SQL day bucketer."""
    family = _family(engine)
    zone = settings.timezone
    pushable = family in PUSHDOWN_DIALECTS
    tz_tables = family == "mysql" and not is_fixed_utc(zone) and mysql_has_zone(engine, zone)
    naive = family == "postgresql" and events is not None and pg_naive_event_times(engine, events)
    bucketer = DayBucketer(family if pushable else "generic", zone, tz_tables, naive)
    setting = settings.source.pushdown
    if not pushable and setting == "always":
        raise ConfigError(
            [
                Problem(
                    where_is(settings, "source", "pushdown"),
                    f"the rollup cannot be pushed down into a {engine.dialect.name} database "
                    f"(supported: {', '.join(PUSHDOWN_DIALECTS)}).",
                    "set source.pushdown to auto (stream where pushdown is impossible).",
                )
            ]
        )
    if setting == "never" or not pushable:
        return "streaming", bucketer
    return "pushdown", bucketer


def resolve(engine: sa.Engine, settings: Settings) -> SourceRelations:
    """The relations of the configured preset."""
    if settings.source.preset == "segment":
        return resolve_segment(engine, settings)
    return resolve_generic(engine, settings)


def _entity_columns(rel: Relation, dialect: str) -> list[Any]:
    """An account or user relation's columns as read. On PostgreSQL the time columns come as
    text: a sentinel such as `infinity` (a trial that never ends) or a year past 9999 is
    valid there but no Python datetime, and would stop the read; as text it is parsed like
    any other value and, when it is no time, reported with the row kept."""
    if dialect != "postgresql":
        return list(rel.query.c)
    times = set(TIME_COLUMNS[rel.name])
    return [sa.cast(c, sa.Text).label(c.name) if c.name in times else c for c in rel.query.c]


class _Puller:
    """The state of one pull; methods are its phases."""

    def __init__(
        self,
        settings: Settings,
        store: sa.Engine,
        source: sa.Engine,
        relations: SourceRelations,
        bucketer: DayBucketer,
        report: PullReport,
        full: bool,
        progress: ProgressFn | None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.source = source
        self.relations = relations
        self.bucketer = bucketer
        self.report = report
        self.full = full
        self.progress = progress or (lambda _phase, _counts: None)
        self.late = timedelta(days=settings.source.late_window_days)
        # Whether the late window is counted per day (one CASE branch per day: not too many).
        self.counting = (
            settings.source.late_window_reread == "changed"
            and settings.source.late_window_days < MAX_COUNTED_DAYS
        )
        self.zone = settings.zone
        self.chunk = settings.source.chunk_size

    def _counts(self) -> dict[str, int]:
        r = self.report
        return {
            "accounts": r.accounts_read,
            "users": r.users_read,
            "events": r.events_read,
            "rollup_rows": r.rollup_rows,
        }

    # --- accounts and users ------------------------------------------------------------------

    def entities(self, rel: Relation) -> None:
        is_accounts = rel.name == "accounts"
        id_col = "account_id" if is_accounts else "user_id"
        to_row = account_row if is_accounts else user_row
        duplicate = DUPLICATE_ACCOUNT if is_accounts else DUPLICATE_USER
        sync = store_accounts.sync_accounts if is_accounts else store_accounts.sync_users
        key = self.relations.source_key
        query = sa.select(*_entity_columns(rel, self.source.dialect.name))
        with self.store.begin() as sconn, self.source.connect() as src:
            mark = bookkeeping.get_mark(sconn, key, rel.name)
            if rel.has_updated and mark is not None and mark.time is not None and not self.full:
                # A row whose updated_at is not set is read every time (it cannot say when it
                # changed; a new one would otherwise never be read): unchanged, its hash skips it.
                updated = rel.query.c[UPDATED_COLUMN]
                query = query.where(
                    sa.or_(
                        updated.is_(None), self.bucketer.at_or_after(updated, mark.time - self.late)
                    )
                )
            newest: datetime | None = mark.time if mark else None
            hasher = RowHasher(str(rel.query.compile(src)), rel.extras)
            result = src.execution_options(stream_results=True, yield_per=self.chunk).execute(query)
            columns = tuple(result.keys())
            id_at = columns.index(id_col)
            # Ids read so far in this run (tens of bytes each), so that a later copy of one is
            # left out wherever it comes, as the quarantine says.
            seen: set[str] = set()
            for chunk in result.partitions(_ENTITY_BATCH):
                todo, copies = self._triage(sconn, rel, chunk, id_at, hasher, seen)
                rows: dict[str, dict[str, Any]] = {}
                bad: list[tuple[str, str, dict[str, Any]]] = []
                for row_id, values in copies:
                    raw = dict(zip(columns, values, strict=True))
                    bad.append((row_id, duplicate, _plain(raw)))
                for values, source_hash in todo:
                    raw = dict(zip(columns, values, strict=True))  # faster to read than a Row
                    row, issues = to_row(raw, rel.extras)
                    if row is None or issues:
                        plain = _plain(raw)
                        row_key = str(row[id_col]) if row else _unnamed_key(rel.name, plain)
                        for reason, detail in issues:
                            bad.append((row_key, reason, {**plain, "problem": detail}))
                    if row is None:
                        continue
                    # A row with problems is parsed again every run, so they are reported
                    # again; a clean one is skipped while its source row stays the same.
                    row["source_hash"] = None if issues else source_hash
                    rows[row[id_col]] = row
                    updated = row.get("source_updated_at")
                    if updated is not None and (newest is None or updated > newest):
                        newest = updated
                written = sync(sconn, list(rows.values()))
                bookkeeping.quarantine(sconn, self.report.run_id, rel.name, bad)
                for _key, reason, _raw in bad:
                    self.report.quarantined[f"{rel.name}.{reason}"] += 1
                if is_accounts:
                    self.report.accounts_read += len(chunk)
                    self.report.accounts_changed += written.changed
                    self.report.accounts_added += written.added
                else:
                    self.report.users_read += len(chunk)
                    self.report.users_changed += written.changed
                self.progress(rel.name, self._counts())
            if rel.has_updated and newest is not None:
                bookkeeping.set_mark(sconn, key, rel.name, bookkeeping.Mark(newest))

    def _triage(
        self,
        sconn: sa.Connection,
        rel: Relation,
        chunk: Sequence[sa.Row[Any]],
        id_at: int,
        hasher: RowHasher,
        seen: set[str],
    ) -> tuple[list[tuple[sa.Row[Any], str]], list[tuple[str, sa.Row[Any]]]]:
        """The rows of `chunk` to parse, each with its hash, and the later copies of ids read
        before in this run (in this chunk or an earlier one), which are left out: the first
        row read for an id is the one kept, as for events. A row whose hash is the one
        stored for its id is not parsed again (except by `pull --full`); `seen` gains the
        chunk's ids."""
        hashes = [hasher(values) for values in chunk]
        ids = [clean_text(values[id_at]) for values in chunk]
        firsts: list[tuple[int, str | None]] = []  # rows without an id or with a new one
        copies: list[tuple[str, sa.Row[Any]]] = []
        for at, row_id in enumerate(ids):
            if row_id is not None and row_id in seen:
                copies.append((row_id, chunk[at]))
                continue
            if row_id is not None:
                seen.add(row_id)
            firsts.append((at, row_id))
        stored: dict[str, str] = {}
        if not self.full:
            named = [row_id for _, row_id in firsts if row_id is not None]
            stored = store_accounts.source_hashes(sconn, rel.name, named)
        todo = [
            (chunk[at], hashes[at])
            for at, row_id in firsts
            if self.full or row_id is None or stored.get(row_id) != hashes[at]
        ]
        return todo, copies

    # --- events --------------------------------------------------------------------------------

    def _plan(
        self,
        sconn: sa.Connection,
        src: sa.Connection,
        mode: str,
        mark: bookkeeping.Mark | None,
        basis: Basis,
    ) -> _ReadPlan | None:
        """What this run reads; None when nothing can have changed since the last pull."""
        future_limit = now() + timedelta(minutes=self.settings.source.max_future_minutes)
        rel = self.relations.events
        users = "last_day" if self._keeps_users(mode) else None
        rebuild = None if self.full else rebuild_reason(mark, basis)
        if rebuild is not None:
            self.report.rebuilt = rebuild
            log.info(
                "pull_rebuilding",
                run_id=self.report.run_id,
                message=f"{rebuild}: rebuilding all days",
            )
        if self.full or rebuild is not None or mark is None or mark.time is None:
            return _ReadPlan(Window(None, future_limit, None), None, users=users)
        if rel.arrival_is_event_time and self.counting:
            return self._plan_to_mark(sconn, src, mark, mark.time, future_limit, users)
        if rel.arrival_is_event_time:
            first_day: date = local_day(mark.time, self.zone) - self.late
        else:
            ev = rel.query
            b = self.bucketer
            earliest = src.execute(
                sa.select(sa.func.min(b.value(ev.c.occurred_at))).where(
                    b.at_or_after(ev.c[ARRIVAL], mark.time - self.late),
                    b.value(ev.c.occurred_at) <= b.param(future_limit),
                )
            ).scalar()
            earliest_at = b.to_datetime(earliest)
            if earliest_at is None:
                return None
            first_day = local_day(earliest_at, self.zone)
        counted: dict[date, int] | None = None
        last = local_day(future_limit, self.zone)
        if self.counting and first_day <= last and (last - first_day).days < MAX_COUNTED_DAYS:
            counted = changed_days.count_days(src, rel, self.bucketer, self.zone, first_day, last)
            before = bookkeeping.get_day_counts(sconn, self.relations.source_key)
            changed = _earlier(
                changed_days.first_changed(before, counted), self._unknown_from(mark, first_day)
            )
            if changed is None:
                self.report.unchanged_days = len(counted)
                return None
            self.report.unchanged_days = (changed - first_day).days
            first_day = changed
        window = Window(day_start(first_day, self.zone), future_limit, mark.time)
        return _ReadPlan(window, first_day, counted=counted, users=users)

    def _plan_to_mark(
        self,
        sconn: sa.Connection,
        src: sa.Connection,
        mark: bookkeeping.Mark,
        mark_time: datetime,
        future_limit: datetime,
        users: str | None,
    ) -> _ReadPlan | None:
        """Where the event time is the arrival time: count up to the watermark, then re-read
        from the first changed day, or add the rows past the watermark, or do nothing."""
        rel = self.relations.events
        b = self.bucketer
        mark_day = local_day(mark_time, self.zone)
        first_day = mark_day - self.late
        counted = changed_days.count_days(
            src, rel, b, self.zone, first_day, mark_day, until=mark_time
        )
        counted[FUTURE_DAY] = changed_days.count_future(src, rel, b, future_limit)
        before = bookkeeping.get_day_counts(sconn, self.relations.source_key)
        changed = _earlier(
            changed_days.first_changed(before, counted), self._unknown_from(mark, first_day)
        )
        if changed is not None and changed != FUTURE_DAY:
            self.report.unchanged_days = (changed - first_day).days
            window = Window(day_start(changed, self.zone), future_limit, mark_time)
            return _ReadPlan(window, changed, counted=counted, users=users)
        self.report.unchanged_days = len(counted) - 1
        if changed is None and not changed_days.any_between(src, rel, b, mark_time, future_limit):
            return None
        since = day_start(mark_day, self.zone)
        if users is not None and mark.users_day == mark_day:
            window = Window(since, future_limit, mark_time, after=mark_time)
            return _ReadPlan(window, mark_day, counted=counted, users="only", added=True)
        return _ReadPlan(Window(since, future_limit, mark_time), mark_day, counted, users)

    def _unknown_from(self, mark: bookkeeping.Mark, first_day: date) -> date | None:
        """Where to re-read from so that events of accounts unknown when they were read are
        counted, now that new accounts arrived (None: no need). Days before the late window
        are left to `pull --full`."""
        if not self.report.accounts_added or mark.unknown_day is None:
            return None
        return max(mark.unknown_day, first_day)

    def _keeps_users(self, mode: str) -> bool:
        """Whether reads keep the newest day's users per event name, so that later pulls add
        new events to the rollups instead of re-reading that day. This needs the pushdown
        (whose reads count exactly the rows up to the watermark they leave), the event time
        as arrival time (new rows are exactly those past the watermark), event ids unique by
        constraint (a new row cannot repeat a counted one), and the day counts (which tell
        that nothing up to the watermark changed)."""
        rel = self.relations.events
        return mode == "pushdown" and rel.arrival_is_event_time and rel.unique_ids and self.counting

    def events(self, mode: str) -> None:
        rel = self.relations.events
        key = self.relations.source_key
        report = self.report
        with self.store.begin() as sconn, self.source.connect() as src:
            mark = bookkeeping.get_mark(sconn, key, "events")
            report.watermark = mark.time if mark is not None else None
            basis = basis_of(self.settings.timezone, rel, self.source.dialect)
            plan = self._plan(sconn, src, mode, mark, basis)
            if plan is None:
                report.reread = False
                if mark is not None and not recorded(mark, basis):  # kept none before
                    built = replace(
                        mark, timezone=basis.timezone, relation_hash=basis.relation_hash
                    )
                    bookkeeping.set_mark(sconn, key, "events", built)
                return
            window, first_day = plan.window, plan.first_day
            if plan.added:
                report.added_after = window.after
            else:
                report.replaced_from = first_day
                if first_day is None:
                    rollups.delete_all(sconn)
                else:
                    rollups.delete_days(sconn, [(first_day, None)])
            known = store_accounts.known_account_ids(sconn)
            newest: list[datetime] = []
            # Rows read per local day and dated beyond the future limit: the counts kept.
            read_days: dict[date, int] = {}
            future: list[int] = [0]
            unknown_days: set[date] = set()  # days read with events of unknown accounts

            def usage_sink(groups: Iterator[UsageGroup]) -> Counter[str]:
                unknown: Counter[str] = Counter()
                quarantined = report.quarantined

                def good() -> Iterator[rollups.UsageTuple]:
                    # Counters are kept in locals and added to the report in blocks: this loop
                    # runs once per rollup row, hundreds of thousands of times on a first pull.
                    read = new = 0
                    for n, g in enumerate(groups, 1):
                        reason, account, user, day, module, events = g[:6]
                        read += events
                        if n % _PROGRESS_EVERY == 0:
                            report.events_read += read
                            report.events_new += new
                            read = new = 0
                            self.progress("events", self._counts())
                        if reason == FUTURE_REASON:
                            quarantined[f"events.{reason}"] += events
                            future[0] += events
                            continue
                        if day is not None:
                            read_days[day] = read_days.get(day, 0) + events
                        arrival = g[7]
                        if arrival is not None and (not newest or arrival > newest[0]):
                            newest[:] = [arrival]
                        if reason is not None and reason not in COUNTED_REASONS:
                            quarantined[f"events.{reason}"] += events
                            continue
                        if account not in known:
                            unknown[str(account)] += events
                            unknown_days.add(day)
                            quarantined["events.unknown_account"] += events
                            continue
                        new += g[8]
                        if reason is not None:  # counted, without their durations
                            quarantined[f"events.{reason}"] += events
                            without.append((account, user, day, module, events, None, g[9], g[10]))
                            continue
                        yield (account, user, day, module, events, g[6], g[9], g[10])
                    report.events_read += read
                    report.events_new += new

                # Events counted without their durations come in groups of their own, which
                # may share a key with a group of good events: they are added to those rows.
                without: list[rollups.UsageTuple] = []
                write = rollups.add_usage if plan.added else rollups.insert_usage
                report.rollup_rows += write(sconn, good())
                if without:
                    report.rollup_rows += rollups.add_usage(sconn, without)
                return unknown

            def event_sink(rows: Iterator[tuple[str, date, str, int, int, Any]]) -> None:
                report.event_rollup_rows += rollups.insert_events(
                    sconn, (r for r in rows if r[0] in known)
                )

            def users_sink(rows: Iterator[EventUserTuple]) -> None:
                mine = (r for r in rows if r[0] in known)
                if plan.added:
                    report.event_rollup_rows += rollups.add_event_users(sconn, mine)
                else:
                    rollups.insert_event_users(sconn, mine)

            read: EventsRead
            if mode == "pushdown":
                read = read_pushdown(
                    src,
                    rel,
                    self.bucketer,
                    window,
                    usage_sink,
                    event_sink,
                    self.chunk,
                    users_sink,
                    plan.users,
                    self.settings.source.parallel_reads,
                )
            else:
                read = read_streaming(
                    src, rel, self.bucketer, self.zone, window, usage_sink, event_sink, self.chunk
                )
            report.connections = read.connections
            new_time = as_utc(newest[0]) if newest else (mark.time if mark else None)
            self._keep_counts(sconn, plan, read, read_days, future[0], new_time)
            # The read kept the users of its newest day (with rows of it, that of the watermark).
            users_day = None
            if plan.users is not None and new_time is not None:
                users_day = local_day(new_time, self.zone)
            rollups.keep_event_users(sconn, users_day)
            if read.duplicates:
                report.quarantined["events.duplicate_event_id"] += read.duplicates
                report.events_read += read.duplicates
            bookkeeping.quarantine(sconn, report.run_id, "events", read.samples)
            # Unknown accounts' events seen before, on days this read did not cover, remain
            # while they are in the late window (older ones are left to `pull --full`).
            unknown_day = min(unknown_days, default=None)
            earlier = mark.unknown_day if mark is not None else None
            if (
                earlier is not None
                and first_day is not None
                and (plan.added or earlier < first_day)
            ):
                unknown_day = _earlier(unknown_day, earlier)
            if new_time is not None:
                oldest = local_day(new_time, self.zone) - self.late
                if unknown_day is not None and unknown_day < oldest:
                    unknown_day = None
                last_id = read.last_id if newest else (mark.last_id if mark else None)
                new_mark = bookkeeping.Mark(
                    new_time,
                    last_id,
                    users_day,
                    unknown_day,
                    basis.timezone,
                    basis.relation_hash,
                )
                bookkeeping.set_mark(sconn, key, "events", new_mark)
                report.watermark = new_mark.time
            self.progress("events", self._counts())

    def _keep_counts(
        self,
        sconn: sa.Connection,
        plan: _ReadPlan,
        read: EventsRead,
        read_days: dict[date, int],
        future: int,
        new_time: datetime | None,
    ) -> None:
        """Store the day counts that describe the rollups now stored (see `changed_days`)."""
        key = self.relations.source_key
        if not self.counting:
            bookkeeping.set_day_counts(sconn, key, {})  # days read without counts forget theirs
            return
        if not self.relations.events.arrival_is_event_time:
            bookkeeping.set_day_counts(sconn, key, plan.counted or {})  # taken before the read
            return
        counted = plan.counted or {}
        if new_time is None:
            bookkeeping.set_day_counts(sconn, key, {})
            return
        end = local_day(new_time, self.zone)
        start = plan.first_day if plan.first_day is not None else end - self.late
        if read.duplicates:
            # The read left the extra copies out, so its own counts would never match the
            # table's: keep those taken before it (days it saw past them are read again).
            kept = counted
        else:
            kept = changed_days.counts_after_read(
                counted, read_days, future, start, end, plan.added
            )
        bookkeeping.set_day_counts(sconn, key, kept)


def _plain(raw: dict[str, Any]) -> dict[str, Any]:
    """A source row as the quarantine keeps it: attribute columns under their own names."""
    return {k.removeprefix(ATTR_PREFIX): v for k, v in raw.items()}


#: What names an account or user row without an id in the quarantine, joined with `|` (as an
#: event without an id is named by its account, user and time).
_NAMED_BY = {"accounts": ("name", "domain", "created_at"), "users": ("account_id", "email", "name")}


def _unnamed_key(table: str, plain: dict[str, Any]) -> str:
    """The quarantine's key of an account or user row that has no id."""
    return "|".join(clean_text(plain.get(column)) or "" for column in _NAMED_BY[table])


def _earlier(a: date | None, b: date | None) -> date | None:
    """The earlier of two days, either of which may be missing."""
    if a is None or b is None:
        return a if b is None else b
    return min(a, b)


@dataclass(frozen=True)
class _ReadPlan:
    """What one pull reads, and how the rollups take it."""

    window: Window
    first_day: date | None  # rollups replaced from this day (None: all), or added to
    counted: dict[date, int] | None = None  # the day counts taken before the read
    users: str | None = None  # event names per user: see `single_pass_query`
    added: bool = False  # the rows past the watermark are added to the rollups


def pull(
    settings: Settings,
    store: sa.Engine,
    *,
    full: bool = False,
    run_id: str | None = None,
    progress: ProgressFn | None = None,
    source: sa.Engine | None = None,
) -> PullReport:
    """Pull once from the product database into the store; returns what was done.

    `full` ignores the watermarks and rebuilds every rollup from the whole source.
    """
    require_current(store)
    started = monotonic()
    run_id = run_id or new_run_id()
    engine = source or make_source_engine(settings)
    connect_check(engine)
    relations = resolve(engine, settings)
    mode, bucketer = choose_mode(engine, settings, relations.events)
    report = PullReport(
        run_id=run_id,
        source=relations.source_key,
        preset=settings.source.preset,
        mode=mode,
        full=full,
    )
    log.info("pull_started", run_id=run_id, source=relations.source_key, mode=mode, full=full)
    bookkeeping.start_run(store, run_id, "pull")
    puller = _Puller(settings, store, engine, relations, bucketer, report, full, progress)
    try:
        puller.entities(relations.accounts)
        puller.entities(relations.users)
        puller.events(mode)
    except Exception as exc:
        report.elapsed_seconds = monotonic() - started
        bookkeeping.finish_run(store, run_id, "failed", report.as_dict(), error=str(exc))
        log.error("pull_failed", run_id=run_id, error=str(exc))
        raise
    finally:
        if source is None:
            engine.dispose()
    report.elapsed_seconds = monotonic() - started
    bookkeeping.finish_run(store, run_id, "ok", report.as_dict())
    log.info("pull_finished", **report.as_dict())
    warning = mostly_quarantined(report)
    if warning:
        log.warning("pull_mostly_quarantined", run_id=run_id, message=warning)
    return report
