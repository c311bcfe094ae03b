"""The score stage on a real store: back-fill on the first run, cheap daily runs after."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from connector.config import Settings, settings_from_data
from connector.demo import DemoSpec, write_demo_db
from connector.pipeline import open_store
from connector.scoring import run_scoring
from connector.source.pull import pull
from connector.store import results, rollups
from connector.store.models import UserMetric

AS_OF = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def test_first_run_backfills_and_later_runs_keep_what_was_reached(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'product.db'}"
    write_demo_db(source, DemoSpec(accounts=40, days=60, as_of=AS_OF, dirty_rows=False))
    settings = settings_from_data(
        {"source": {"url": source}, "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"}},
        None,
        env={},
    )
    engine: sa.Engine = open_store(settings)
    pull(settings, engine)

    first_output, first = run_scoring(engine, settings, AS_OF - timedelta(days=1))
    assert first.backfilled_from is not None
    assert first.history_rows >= 40 * 50  # one snapshot per account and day of history
    milestones = results.load_milestones(engine, "account")
    assert milestones
    evaluation_day = (AS_OF - timedelta(days=1)).date()
    assert any(m.reached_on < evaluation_day - timedelta(days=7) for m in milestones)
    assert all(r.health_rank is None for r in first_output.accounts if r.status != "paying")

    _, second = run_scoring(engine, settings, AS_OF)
    assert second.backfilled_from is None
    assert second.history_rows == 40  # today's snapshot only
    again = {
        (m.subject_id, m.name): m.reached_on for m in results.load_milestones(engine, "account")
    }
    assert all(again[(m.subject_id, m.name)] == m.reached_on for m in milestones)
    stored = results.load_metrics(engine)
    assert len(stored) == 40
    assert all(m.as_of == AS_OF for m in stored.values())
    scores = [m.engagement_score for m in stored.values()]
    assert all(0 <= s <= 100 for s in scores if s is not None)


def _scored_store(tmp_path: Path, name: str, source: str) -> tuple[sa.Engine, Settings]:
    settings = settings_from_data(
        {"source": {"url": source}, "store": {"url": f"sqlite:///{tmp_path / name}"}},
        None,
        env={},
    )
    engine: sa.Engine = open_store(settings)
    pull(settings, engine)
    return engine, settings


def test_leads_scored_incrementally_match_a_full_rescoring(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'product.db'}"
    write_demo_db(source, DemoSpec(accounts=60, days=120, as_of=AS_OF, dirty_rows=False))
    engine, settings = _scored_store(tmp_path, "store.db", source)
    _, first = run_scoring(engine, settings, AS_OF)
    assert first.backfilled_from is not None
    later = AS_OF + timedelta(days=20)
    incremental, second = run_scoring(engine, settings, later)
    assert second.backfilled_from is None  # reads only the last weeks of rollups

    fresh, fresh_settings = _scored_store(tmp_path, "fresh.db", source)
    full, _ = run_scoring(fresh, fresh_settings, later)
    assert incremental.leads == full.leads
    # the case that went wrong: leads whose only activity is older than the rollups read
    window_start = later - timedelta(days=63)
    old = [
        lead
        for lead in full.leads
        if lead.last_active_at is not None and lead.last_active_at < window_start
    ]
    assert old
    assert all(lead.lifecycle_stage == "evaluating" for lead in old)
    assert any(lead.engaged_evaluation for lead in old)
    table = UserMetric.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        stored = {r.user_id: r["values"] for r in conn.execute(sa.select(table)).mappings()}
    for lead in old:
        assert stored[lead.user_id]["last_active_at"] == lead.last_active_at.isoformat()


def _stored_results(engine: sa.Engine, skip_day: date) -> dict[str, object]:
    """Everything scoring stores, without the bookkeeping times of the run that wrote it
    (and without the history snapshot of `skip_day`)."""
    tags = {k: sorted(t.tag for t in v) for k, v in results.load_tags(engine).items()}
    user_table = UserMetric.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        leads = {r.user_id: r["values"] for r in conn.execute(sa.select(user_table)).mappings()}
    history = {
        (h.account_id, h.day): h.model_dump(exclude={"account_id", "day"})
        for h in results.load_history(engine, date(2000, 1, 1), date(2100, 1, 1))
        if h.day != skip_day
    }
    return {
        "metrics": {a: m.values for a, m in results.load_metrics(engine).items()},
        "milestones": {
            (m.subject_type, m.subject_id, m.name): m.reached_on
            for m in results.load_milestones(engine)
        },
        "tags": {k: v for k, v in tags.items() if v},
        "leads": leads,
        "history": history,
    }


def _without_recent_rollups(engine: sa.Engine, first_removed: date) -> None:
    with engine.begin() as conn:
        rollups.delete_days(conn, [(first_removed, None)])


def test_scoring_after_a_long_pause_matches_a_full_rescoring(tmp_path: Path) -> None:
    """Two runs 90 days apart, with activity only in the pause outside the usual window:
    the second run sees all of it, as a fresh store scoring once would."""
    source = f"sqlite:///{tmp_path / 'product.db'}"
    write_demo_db(source, DemoSpec(accounts=60, days=220, as_of=AS_OF, dirty_rows=False))
    first_run = AS_OF - timedelta(days=90)
    quiet_from = (AS_OF - timedelta(days=64)).date()  # the usual window reads from ~63 days
    engine, settings = _scored_store(tmp_path, "store.db", source)
    _without_recent_rollups(engine, quiet_from)
    _, first = run_scoring(engine, settings, first_run)
    assert first.backfilled_from is not None
    incremental, second = run_scoring(engine, settings, AS_OF)
    assert second.backfilled_from is None
    assert second.history_rows == 60 * 90  # the snapshots of every day since the first run

    fresh, fresh_settings = _scored_store(tmp_path, "fresh.db", source)
    _without_recent_rollups(fresh, quiet_from)
    full, _ = run_scoring(fresh, fresh_settings, AS_OF)

    # the pause holds activity the usual window no longer reaches
    gap_active = [
        r
        for r in full.accounts
        if r.metrics["last_active_at"] is not None
        and first_run < r.metrics["last_active_at"] < AS_OF - timedelta(days=63)
    ]
    assert len(gap_active) >= 5
    reached_in_gap = [
        (r.account_id, name)
        for r in full.accounts
        for name, day in r.milestones.items()
        if first_run.date() < day < quiet_from
    ]
    assert reached_in_gap
    assert incremental.leads == full.leads
    # the first run's own day was snapshotted at noon, with half of that day's activity
    partial_day = first_run.date()
    assert _stored_results(engine, partial_day) == _stored_results(fresh, partial_day)
