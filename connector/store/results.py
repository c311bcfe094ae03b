"""Scoring's output: current metrics, daily history, user metrics, milestones and tags, in bulk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from connector.clock import now
from connector.store.models import Metric, MetricHistory, Milestone, Tag, UserMetric
from connector.store.upsert import batched, insert_ignore, upsert

METRICS = Metric.__table__  # type: ignore[attr-defined]
HISTORY = MetricHistory.__table__  # type: ignore[attr-defined]
USER_METRICS = UserMetric.__table__  # type: ignore[attr-defined]
MILESTONES = Milestone.__table__  # type: ignore[attr-defined]
TAGS = Tag.__table__  # type: ignore[attr-defined]

_METRIC_COLUMNS = (
    "engagement_score",
    "health_rank",
    "health_reason",
    "risk_level",
    "lifecycle_stage",
)
_HISTORY_COLUMNS = (
    "engagement_score",
    "health_rank",
    "risk_level",
    "lifecycle_stage",
    "active_users_30d",
)


def _split(values: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """Promote the well-known values to columns; everything goes in the JSON too."""
    row = {c: values.get(c) for c in columns}
    row["values"] = dict(values)
    return row


def write_metrics(
    engine: sa.Engine, as_of: datetime, metrics: Mapping[str, Mapping[str, Any]]
) -> int:
    """Replace the current metric values of the given accounts ({account id: values})."""
    at = now()
    rows = [
        {"account_id": a, "as_of": as_of, "computed_at": at, **_split(v, _METRIC_COLUMNS)}
        for a, v in metrics.items()
    ]
    with engine.begin() as conn:
        upsert(conn, METRICS, rows, ["account_id"])
    return len(rows)


def load_metrics(engine: sa.Engine, account_ids: Sequence[str] | None = None) -> dict[str, Metric]:
    """Current metric rows by account id."""
    query = sa.select(METRICS)
    if account_ids is not None:
        query = query.where(METRICS.c.account_id.in_(list(account_ids)))
    with engine.connect() as conn:
        return {
            r["account_id"]: Metric.model_validate(dict(r)) for r in conn.execute(query).mappings()
        }


def write_history(engine: sa.Engine, day: date, snapshots: Mapping[str, Mapping[str, Any]]) -> int:
    """Record (or overwrite) each account's snapshot for one local day."""
    rows = [
        {"account_id": a, "day": day, **_split(v, _HISTORY_COLUMNS)} for a, v in snapshots.items()
    ]
    with engine.begin() as conn:
        upsert(conn, HISTORY, rows, ["account_id", "day"])
    return len(rows)


def load_history(
    engine: sa.Engine, since_day: date, until_day: date, account_id: str | None = None
) -> list[MetricHistory]:
    """History snapshots in a day window, ordered by account then day."""
    query = (
        sa.select(HISTORY)
        .where(HISTORY.c.day >= since_day, HISTORY.c.day <= until_day)
        .order_by(HISTORY.c.account_id, HISTORY.c.day)
    )
    if account_id is not None:
        query = query.where(HISTORY.c.account_id == account_id)
    with engine.connect() as conn:
        return [MetricHistory.model_validate(dict(r)) for r in conn.execute(query).mappings()]


def write_user_metrics(
    engine: sa.Engine, as_of: datetime, metrics: Mapping[str, Mapping[str, Any]]
) -> int:
    """Replace the current metric values of the given users ({user id: values})."""
    at = now()
    rows = [
        {
            "user_id": u,
            "account_id": v.get("account_id"),
            "as_of": as_of,
            "computed_at": at,
            **_split(v, ("engagement_score", "lifecycle_stage")),
        }
        for u, v in metrics.items()
    ]
    with engine.begin() as conn:
        upsert(conn, USER_METRICS, rows, ["user_id"])
    return len(rows)


@dataclass(frozen=True)
class NewMilestone:
    """A milestone a subject reached, to be recorded if it is the first time."""

    subject_type: str  # account | user
    subject_id: str
    name: str
    reached_on: date
    detail: dict[str, Any] | None = None


def add_milestones(engine: sa.Engine, milestones: Iterable[NewMilestone]) -> int:
    """Record milestones not reached before (existing ones keep their date); returns new ones."""
    at = now()
    rows = [
        {
            "subject_type": m.subject_type,
            "subject_id": m.subject_id,
            "name": m.name,
            "reached_on": m.reached_on,
            "detail": m.detail,
            "recorded_at": at,
        }
        for m in milestones
    ]
    added = 0
    with engine.begin() as conn:
        for chunk in batched(rows):
            added += insert_ignore(conn, MILESTONES, chunk, ["subject_type", "subject_id", "name"])
    return added


def load_milestones(
    engine: sa.Engine, subject_type: str | None = None, subject_id: str | None = None
) -> list[Milestone]:
    """Milestones reached, ordered by subject then date."""
    query = sa.select(MILESTONES).order_by(
        MILESTONES.c.subject_type, MILESTONES.c.subject_id, MILESTONES.c.reached_on
    )
    if subject_type is not None:
        query = query.where(MILESTONES.c.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(MILESTONES.c.subject_id == subject_id)
    with engine.connect() as conn:
        return [Milestone.model_validate(dict(r)) for r in conn.execute(query).mappings()]


@dataclass
class TagChanges:
    """What `set_tags` did: tags added and removed per subject id."""

    added: dict[str, set[str]] = field(default_factory=dict)
    removed: dict[str, set[str]] = field(default_factory=dict)


def set_tags(engine: sa.Engine, subject_type: str, tags: Mapping[str, set[str]]) -> TagChanges:
    """Make each listed subject carry exactly the given tags; unlisted subjects are untouched.

    A tag kept keeps its `since`; the changes are returned so pushes can say what moved.
    """
    changes = TagChanges()
    at = now()
    with engine.begin() as conn:
        current: dict[str, set[str]] = {}
        for chunk in batched(list(tags), 1_000):
            rows = conn.execute(
                sa.select(TAGS.c.subject_id, TAGS.c.tag).where(
                    TAGS.c.subject_type == subject_type, TAGS.c.subject_id.in_(chunk)
                )
            )
            for subject_id, tag in rows:
                current.setdefault(subject_id, set()).add(tag)
        inserts = []
        for subject_id, wanted in tags.items():
            have = current.get(subject_id, set())
            if add := wanted - have:
                changes.added[subject_id] = add
                inserts += [
                    {"subject_type": subject_type, "subject_id": subject_id, "tag": t, "since": at}
                    for t in sorted(add)
                ]
            if drop := have - wanted:
                changes.removed[subject_id] = drop
                conn.execute(
                    sa.delete(TAGS).where(
                        TAGS.c.subject_type == subject_type,
                        TAGS.c.subject_id == subject_id,
                        TAGS.c.tag.in_(sorted(drop)),
                    )
                )
        for chunk in batched(inserts):
            conn.execute(sa.insert(TAGS), chunk)
    return changes


def load_tags(engine: sa.Engine, subject_type: str = "account") -> dict[str, list[Tag]]:
    """Current tags by subject id."""
    out: dict[str, list[Tag]] = {}
    query = sa.select(TAGS).where(TAGS.c.subject_type == subject_type).order_by(TAGS.c.tag)
    with engine.connect() as conn:
        for r in conn.execute(query).mappings():
            out.setdefault(r["subject_id"], []).append(Tag.model_validate(dict(r)))
    return out
