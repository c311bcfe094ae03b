"""The `segment` preset: a Segment / RudderStack warehouse (`tracks`, `identifies`, `groups`).

- accounts: the latest `groups` row per `group_id` (group traits are columns: name, status,
  licenses by the configured trait names; plan, domain, … when such columns exist; every
  other non-standard column is an attribute);
- users: the latest `identifies` row per `user_id`, their account being the latest group
  they joined;
- events: `tracks` (anonymous rows, with no `user_id`, are counted as bad rows), the account
  from `context_group_id` when the app sends it, else the user's latest group. The watermark
  follows `received_at` (the ingestion time), so late-loaded events are found whatever their
  event time; the event time is `timestamp` (clock-skew corrected).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from connector.config import Settings, where_is
from connector.errors import ConfigError, Problem
from connector.source.generic import discover_columns, typed_null
from connector.source.relations import (
    ACCOUNT_COLUMNS,
    ARRIVAL,
    ATTR_PREFIX,
    USER_COLUMNS,
    Relation,
    SourceRelations,
    source_key,
)

#: Columns Segment / RudderStack add to every table; never account or user attributes.
STANDARD = {
    "id",
    "anonymous_id",
    "user_id",
    "group_id",
    "timestamp",
    "original_timestamp",
    "sent_at",
    "received_at",
    "uuid_ts",
    "loaded_at",
    "event",
    "event_text",
    "context_library_name",
    "context_library_version",
}


def _table(
    conn: sa.Connection, settings: Settings, key: str
) -> tuple[sa.TableClause, list[str], str]:
    name = getattr(settings.source.segment, key)
    schema = settings.source.db_schema
    described = f"table {schema + '.' if schema else ''}{name}"
    where = where_is(settings, "source", "segment", key)
    cols = discover_columns(conn, sa.table(name, schema=schema), described, where)
    return sa.table(name, *[sa.column(c) for c in cols], schema=schema), cols, described


def _need(settings: Settings, key: str, described: str, cols: list[str], *names: str) -> None:
    missing = [n for n in names if n not in cols]
    if missing:
        raise ConfigError(
            [
                Problem(
                    where_is(settings, "source", "segment", key),
                    f"{described} lacks the column(s) {', '.join(missing)} the segment preset "
                    "reads.",
                    "point source.segment.<table> at the warehouse's table of that kind, or use "
                    "the generic preset with a custom SELECT.",
                )
            ]
        )


def _latest(table: sa.TableClause, partition: str, name: str) -> sa.Subquery:
    """The newest row (by `timestamp`) per value of `partition`."""
    ranked = (
        sa.select(
            table,
            sa.func.row_number()
            .over(partition_by=table.c[partition], order_by=table.c.timestamp.desc())
            .label("rn_"),
        )
        .where(table.c[partition].is_not(None))
        .subquery(f"{name}_ranked")
    )
    return sa.select(ranked).where(ranked.c.rn_ == 1).subquery(name)


def _attributes(
    sub: sa.Subquery, cols: list[str], taken: set[str]
) -> tuple[list[Any], tuple[str, ...]]:
    extras = tuple(
        c for c in cols if c not in taken and c not in STANDARD and not c.startswith("context_")
    )
    return [sub.c[c].label(ATTR_PREFIX + c) for c in extras], extras


def resolve_segment(engine: sa.Engine, settings: Settings) -> SourceRelations:
    """The accounts, users and events relations read from a Segment-style warehouse."""
    seg = settings.source.segment
    with engine.connect() as conn:
        groups, group_cols, groups_desc = _table(conn, settings, "groups")
        identifies, ident_cols, ident_desc = _table(conn, settings, "identifies")
        tracks, track_cols, tracks_desc = _table(conn, settings, "tracks")
    _need(settings, "groups", groups_desc, group_cols, "group_id", "timestamp")
    _need(settings, "identifies", ident_desc, ident_cols, "user_id", "timestamp")
    _need(settings, "tracks", tracks_desc, track_cols, "user_id", "timestamp")

    # Accounts: latest group call per group.
    latest_group = _latest(groups, "group_id", "latest_group")
    traits = {
        "name": seg.account_name_trait,
        "status": seg.status_trait,
        "licenses": seg.licenses_trait,
    }
    account_cols: list[Any] = []
    taken = {"group_id"}
    for col in ACCOUNT_COLUMNS:
        if col == "account_id":
            account_cols.append(latest_group.c.group_id.label("account_id"))
            continue
        source_col = traits.get(col, col)
        if source_col in group_cols:
            account_cols.append(latest_group.c[source_col].label(col))
            taken.add(source_col)
        else:
            account_cols.append(typed_null(col))
    attrs, account_extras = _attributes(latest_group, group_cols, taken)
    accounts = Relation(
        "accounts",
        sa.select(*account_cols, *attrs).subquery("accounts"),
        groups_desc,
        extras=account_extras,
    )

    # Each user's latest group.
    member_of: Any = _latest(groups, "user_id", "membership") if "user_id" in group_cols else None

    # Users: latest identify per user.
    latest_ident = _latest(identifies, "user_id", "latest_identify")
    user_cols: list[Any] = []
    taken = {"user_id"}
    for col in USER_COLUMNS:
        if col == "user_id":
            user_cols.append(latest_ident.c.user_id.label("user_id"))
        elif col == "account_id":
            user_cols.append(
                member_of.c.group_id.label("account_id")
                if member_of is not None
                else typed_null(col)
            )
        elif col in ident_cols:
            user_cols.append(latest_ident.c[col].label(col))
            taken.add(col)
        else:
            user_cols.append(typed_null(col))
    attrs, user_extras = _attributes(latest_ident, ident_cols, taken)
    users_from: Any = latest_ident
    if member_of is not None:
        users_from = latest_ident.outerjoin(
            member_of, member_of.c.user_id == latest_ident.c.user_id
        )
    users = Relation(
        "users",
        sa.select(*user_cols, *attrs).select_from(users_from).subquery("users"),
        ident_desc,
        extras=user_extras,
    )

    # Events: tracks, the account from context_group_id or the user's latest group.
    events_from: Any = tracks
    account_parts = []
    if "context_group_id" in track_cols:
        account_parts.append(tracks.c.context_group_id)
    if member_of is not None:
        events_from = tracks.outerjoin(member_of, member_of.c.user_id == tracks.c.user_id)
        account_parts.append(member_of.c.group_id)
    account_expr: Any = (
        sa.func.coalesce(*account_parts) if len(account_parts) > 1 else (account_parts or [None])[0]
    )
    names = [tracks.c[c] for c in ("event_text", "event") if c in track_cols]
    module_col = seg.module_column
    if module_col and module_col not in track_cols:
        raise ConfigError(
            [
                Problem(
                    where_is(settings, "source", "segment", "module_column"),
                    f"{tracks_desc} has no column {module_col!r}.",
                    "name a column of the tracks table (e.g. context_page_path), or remove it.",
                )
            ]
        )
    arrival = tracks.c.received_at if "received_at" in track_cols else tracks.c.timestamp
    event_cols = [
        tracks.c.id.label("event_id") if "id" in track_cols else typed_null("event_id"),
        account_expr.label("account_id") if account_expr is not None else typed_null("account_id"),
        tracks.c.user_id.label("user_id"),
        (sa.func.coalesce(*names) if len(names) > 1 else names[0]).label("event")
        if names
        else typed_null("event"),
        tracks.c[module_col].label("module") if module_col else typed_null("module"),
        tracks.c.timestamp.label("occurred_at"),
        typed_null("duration_seconds"),
        arrival.label(ARRIVAL),
    ]
    events = Relation(
        "events",
        sa.select(*event_cols).select_from(events_from).subquery("events"),
        tracks_desc,
        arrival_is_event_time="received_at" not in track_cols,
    )
    return SourceRelations(source_key("segment", engine.url), accounts, users, events)
