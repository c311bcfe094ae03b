"""The product database as `connector check` sees it: reachable, and every table it reads
there readable with the columns the preset needs, all problems reported at once."""

from __future__ import annotations

import sqlalchemy as sa

from connector.config import Settings, where_is
from connector.errors import ConfigError, Problem
from connector.source.engine import make_source_engine, unreachable
from connector.source.generic import resolve_relation
from connector.source.relations import GENERIC_COLUMNS
from connector.source.segment import resolve_segment


def source_problems(settings: Settings) -> tuple[list[Problem], str]:
    """The problems found, and (when there are none) a short line of what was checked."""
    try:
        engine = make_source_engine(settings)
    except ConfigError as exc:
        return list(exc.problems), ""
    try:
        why = unreachable(engine)
        if why is not None:
            return [
                Problem(
                    where_is(settings, "source", "url"),
                    why,
                    "check source.url, the network and the reader's credentials.",
                )
            ], ""
        problems = _relation_problems(engine, settings)
    finally:
        engine.dispose()
    if problems:
        return problems, ""
    segment = settings.source.preset == "segment"
    tables = "groups, identifies and tracks" if segment else "accounts, users and events"
    return [], f"product database: {tables} readable"


def _relation_problems(engine: sa.Engine, settings: Settings) -> list[Problem]:
    if settings.source.preset == "segment":
        try:
            resolve_segment(engine, settings)
        except ConfigError as exc:
            return list(exc.problems)
        return []
    problems: list[Problem] = []
    with engine.connect() as conn:
        for name in GENERIC_COLUMNS:
            try:
                resolve_relation(conn, settings, name)
            except ConfigError as exc:
                problems += exc.problems
    return problems
