"""The `generic` preset: tables (or views, or a custom SELECT) named accounts, users, events.

`source.tables.<name>.columns` maps our column to theirs (`{account_id: org_id}`); any other
column of the accounts or users table is kept as an attribute, usable in rules and mappings.
A key there must name one of the table's columns; on accounts and users another key names
an attribute (`{region: sales_region}`), unless it looks like a misspelt column, which is
rejected rather than read as an attribute while the column it meant stays unmapped.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import sqlalchemy as sa

from connector.config import Settings, SourceTable, where_is
from connector.errors import ConfigError, Problem
from connector.source.durations import duration_is_text
from connector.source.epoch import DIALECTS as EPOCH_DIALECTS
from connector.source.epoch import epoch_timestamp
from connector.source.relations import (
    ARRIVAL,
    ATTR_PREFIX,
    GENERIC_COLUMNS,
    REQUIRED,
    TIME_COLUMNS,
    UPDATED_COLUMN,
    Relation,
    SourceRelations,
    source_key,
)

_TYPED_NULLS: dict[str, Any] = {"duration_seconds": sa.Float, "licenses": sa.Integer}
#: How like a column of accounts or users (difflib's ratio) a rename key may be and still
#: name an attribute: `licences` (0.88), `acount_id` (0.95) are misspellings, `created_by`
#: (0.80), `plan_name` (0.62) attributes. One slip of a letter is a misspelling too.
_MISSPELT = 0.85


def typed_null(name: str) -> Any:
    """A NULL of the column's type (untyped NULLs break aggregates on PostgreSQL)."""
    return sa.cast(sa.null(), _TYPED_NULLS.get(name, sa.String)).label(name)


def discover_columns(
    conn: sa.Connection, base: sa.FromClause, what: str, where: str, fix: str | None = None
) -> list[str]:
    """The column names of a table or SELECT, found by running it with no rows. `fix` is
    what to do when it cannot be read (by default, what fixes a table's name)."""
    try:
        result = conn.execute(sa.select(sa.text("*")).select_from(base).where(sa.false()))
        return list(result.keys())
    except sa.exc.DBAPIError as exc:
        conn.rollback()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(
            [
                Problem(
                    where,
                    f"{what} cannot be read ({reason}).",
                    fix
                    or "check the table name, source.schema and the reader's permissions, or "
                    "set source.tables.<name>.table / .select.",
                )
            ]
        ) from None


def select_text(select: str) -> str:
    """A custom SELECT as it can be wrapped in a subquery: without the `;` (and whitespace)
    that ends it, as written for the database's own client. A SELECT not ending in `;` is
    kept exactly as written, so the relation it reads (and the rollups built through it,
    `connector.source.rollup_basis`) stays the same."""
    if not select.rstrip().endswith(";"):
        return select
    return re.sub(r"[\s;]+\Z", "", select)


def _base(
    conn: sa.Connection, settings: Settings, name: str
) -> tuple[sa.FromClause, list[str], str, SourceTable]:
    spec = settings.source.tables.get(name) or SourceTable()  # type: ignore[call-overload]
    where = where_is(settings, "source", "tables", name)
    if spec.select:
        select = select_text(spec.select)
        probe = sa.text(select).columns().subquery(f"{name}_probe")
        described = f"the custom SELECT for {name}"
        key = f"source.tables.{name}.select"
        fix = (
            f"run the SELECT of {key} in the database's own client first, connected as the "
            "user of source.url, and correct it there until it runs; then copy it back. "
            "source.schema does not apply to a custom SELECT: name each table with its "
            "schema where it needs one."
        )
        cols = discover_columns(conn, probe, described, where_is(settings, *key.split(".")), fix)
        base = sa.text(select).columns(*[sa.column(c) for c in cols]).subquery(f"{name}_src")
        return base, cols, described, spec
    table_name = spec.table or name
    schema = settings.source.db_schema
    described = f"table {schema + '.' if schema else ''}{table_name}"
    probe_table = sa.table(table_name, schema=schema)
    cols = discover_columns(conn, probe_table, described, where)
    return sa.table(table_name, *[sa.column(c) for c in cols], schema=schema), cols, described, spec


def _epoch_problems(
    settings: Settings, name: str, spec: SourceTable, dialect: str
) -> list[Problem]:
    """Epoch settings that name no time column of the table, or an engine without the SQL."""
    problems = []
    for ours in spec.epoch:
        if ours not in TIME_COLUMNS[name]:
            problems.append(
                Problem(
                    where_is(settings, "source", "tables", name, "epoch", ours),
                    f"{ours} is not a time column of {name}.",
                    f"name one of {', '.join(TIME_COLUMNS[name])}.",
                )
            )
    if spec.epoch and dialect not in EPOCH_DIALECTS:
        problems.append(
            Problem(
                where_is(settings, "source", "tables", name, "epoch"),
                f"epoch columns are converted on PostgreSQL, MySQL / MariaDB and SQLite, not on "
                f"{dialect}.",
                f"convert them in a custom SELECT (source.tables.{name}.select) instead.",
            )
        )
    return problems


def _event_id_unique(conn: sa.Connection, settings: Settings, column: str) -> bool:
    spec = settings.source.tables.get("events")  # type: ignore[call-overload]
    if spec is not None and spec.select:
        return False
    table_name = (spec.table if spec else None) or "events"
    schema = settings.source.db_schema
    try:
        insp = sa.inspect(conn)
        if insp.get_pk_constraint(table_name, schema=schema).get("constrained_columns") == [column]:
            return True
        for uc in insp.get_unique_constraints(table_name, schema=schema):
            if uc.get("column_names") == [column]:
                return True
        for ix in insp.get_indexes(table_name, schema=schema):
            if ix.get("unique") and ix.get("column_names") == [column]:
                return True
    except (sa.exc.DBAPIError, NotImplementedError):
        return False  # a view, or a dialect without reflection: check for duplicates instead
    return False


def renamable_columns(name: str) -> tuple[str, ...]:
    """The keys `source.tables.<name>.columns` may rename: the table's generic columns, and
    `updated_at` on accounts and users."""
    generic = GENERIC_COLUMNS[name]
    return generic if name == "events" else (*generic, UPDATED_COLUMN)


def _misspelt(key: str, known: tuple[str, ...]) -> str | None:
    """The column `key` looks like a misspelling of (case, separators or one slip), or None."""

    def bare(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    for column in known:
        if bare(column) == bare(key) or _one_slip(key.lower(), column):
            return column
    close = difflib.get_close_matches(key.lower(), known, n=1, cutoff=_MISSPELT)
    return close[0] if close else None


def _one_slip(typed: str, meant: str) -> bool:
    """Whether `typed` is `meant` with one letter missing, added, changed or swapped with its
    neighbour (difflib's ratio undervalues a swap: `emial` scores 0.8 against `email`)."""
    if len(typed) < 4 or typed == meant or abs(len(typed) - len(meant)) > 1:
        return False
    if len(typed) != len(meant):
        short, long = sorted((typed, meant), key=len)
        return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
    differ = [i for i, (a, b) in enumerate(zip(typed, meant, strict=True)) if a != b]
    if len(differ) == 1:
        return True
    first = differ[0]
    return (
        differ == [first, first + 1]
        and typed[first] == meant[first + 1]
        and typed[first + 1] == meant[first]
    )


def column_key_problems(settings: Settings, name: str) -> list[Problem]:
    """Keys of `source.tables.<name>.columns` that name no column of the table: on events any
    such key; on accounts and users (where other keys name attributes) one that looks like a
    misspelt column. Needs no database."""
    spec = settings.source.tables.get(name)  # type: ignore[call-overload]
    if spec is None:
        return []
    known = renamable_columns(name)
    listed = ", ".join(known)
    problems = []
    for key in spec.columns:
        if key in known:
            continue
        where = where_is(settings, "source", "tables", name, "columns", key)
        if name == "events":
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                Problem(
                    where,
                    f"{key!r} is not a column of events: the rename would be ignored.",
                    f"{hint}The events columns that can be renamed are: {listed}.",
                )
            )
            continue
        meant = _misspelt(key, known)
        if meant is not None:
            problems.append(
                Problem(
                    where,
                    f"{key!r} is not a column of {name} but looks like {meant!r}: as written "
                    f"it would name an attribute and leave {meant} unmapped.",
                    f"did you mean {meant!r}? The {name} columns that can be renamed are: "
                    f"{listed}; to name an attribute, choose a name less like {meant!r}.",
                )
            )
    return problems


def resolve_relation(conn: sa.Connection, settings: Settings, name: str) -> Relation:
    """One generic relation, with renames applied and extra columns kept as attributes."""
    base, cols, described, spec = _base(conn, settings, name)
    generic = GENERIC_COLUMNS[name]
    problems = [
        Problem(
            where_is(settings, "source", "tables", name, "columns", ours),
            f"column {theirs!r} is not in {described} (it has: {', '.join(cols)}).",
            "name an existing column, or remove the rename.",
        )
        for ours, theirs in spec.columns.items()
        if theirs not in cols
    ]
    used: dict[str, str] = {}
    for ours in generic:
        theirs = spec.columns.get(ours, ours)
        if theirs in cols:
            used[ours] = theirs
        elif ours in REQUIRED[name]:
            problems.append(
                Problem(
                    where_is(settings, "source", "tables", name),
                    f"{described} has no column {theirs!r} for {ours} (it has: {', '.join(cols)}).",
                    f"rename it with source.tables.{name}.columns: {{{ours}: <their column>}}.",
                )
            )
    problems += column_key_problems(settings, name)
    problems += _epoch_problems(settings, name, spec, conn.dialect.name)
    if problems:
        raise ConfigError(problems)

    def source_column(ours: str, theirs: str) -> Any:
        unit = spec.epoch.get(ours)
        column = base.c[theirs]
        return column if unit is None else epoch_timestamp(column, unit, conn.dialect.name)

    selected = [source_column(g, used[g]).label(g) if g in used else typed_null(g) for g in generic]
    extras: tuple[str, ...] = ()
    has_updated = False
    if name in ("accounts", "users"):
        taken = set(used.values())
        updated_source = spec.columns.get(UPDATED_COLUMN, UPDATED_COLUMN)
        if updated_source in cols:
            has_updated = True
            taken.add(updated_source)
            selected.append(source_column(UPDATED_COLUMN, updated_source).label(UPDATED_COLUMN))
        renamed_extras = {
            theirs: ours for ours, theirs in spec.columns.items() if ours not in generic
        }
        extras = tuple(renamed_extras.get(c, c) for c in cols if c not in taken)
        selected += [
            base.c[c].label(ATTR_PREFIX + renamed_extras.get(c, c)) for c in cols if c not in taken
        ]
    unique_ids = False
    if name == "events":
        selected.append(source_column("occurred_at", used["occurred_at"]).label(ARRIVAL))
        if "event_id" in used:
            unique_ids = _event_id_unique(conn, settings, used["event_id"])
    query = sa.select(*selected).select_from(base).subquery(name)
    return Relation(
        name=name,
        query=query,
        described=described,
        extras=extras,
        has_updated=has_updated,
        unique_ids=unique_ids,
        duration_text=name == "events"
        and "duration_seconds" in used
        and duration_is_text(conn, query),
    )


def resolve_generic(engine: sa.Engine, settings: Settings) -> SourceRelations:
    """The accounts, users and events relations of a generic-schema source."""
    with engine.connect() as conn:
        accounts = resolve_relation(conn, settings, "accounts")
        users = resolve_relation(conn, settings, "users")
        events = resolve_relation(conn, settings, "events")
    return SourceRelations(source_key("generic", engine.url), accounts, users, events)
