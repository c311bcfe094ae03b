"""`connector account ID --as-of T`: the scores as they were at T, never today's mixed in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from connector import clock
from connector.cli import main
from connector.config import Settings, settings_from_data
from connector.demo import DemoSpec, write_demo_db
from connector.errors import InputError
from connector.pipeline import open_store
from connector.profile import LATEST, NOT_SCORED, SNAPSHOT, account_profile
from connector.scoring import run_scoring
from connector.source.pull import pull
from connector.store import results

AS_OF = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
NOW = AS_OF + timedelta(hours=1)


@pytest.fixture
def scored(tmp_path: Path) -> Iterator[tuple[sa.Engine, Settings, Path, str]]:
    source = f"sqlite:///{tmp_path / 'product.db'}"
    store = f"sqlite:///{tmp_path / 'store.db'}"
    write_demo_db(source, DemoSpec(accounts=20, days=60, as_of=AS_OF, dirty_rows=False))
    config = tmp_path / "config.yaml"
    config.write_text(f"source:\n  url: {source}\nstore:\n  url: {store}\n")
    settings = settings_from_data({"source": {"url": source}, "store": {"url": store}}, None, {})
    engine = open_store(settings)
    pull(settings, engine)
    run_scoring(engine, settings, AS_OF)
    paying = [m for m in results.load_metrics(engine).values() if m.values["status"] == "paying"]
    clock.freeze(NOW)
    yield engine, settings, config, paying[0].account_id
    clock.freeze(None)


def test_the_latest_scores_when_they_were_taken_by_then(scored) -> None:
    engine, settings, _, account_id = scored
    metric = results.load_metrics(engine, [account_id])[account_id]
    profile = account_profile(engine, settings, account_id, NOW)
    assert profile.scores_from == LATEST
    assert profile.as_of == metric.as_of.isoformat()
    assert profile.kpis["engagement_score"] == metric.engagement_score
    assert profile.health_reason
    assert profile.tags is not None


def test_a_past_time_shows_the_daily_snapshot_of_the_last_day_ended_by_then(scored) -> None:
    engine, settings, _, account_id = scored
    asked = AS_OF - timedelta(days=10)  # noon on 06-05: the last day ended is 06-04
    day = (asked - timedelta(days=1)).date()
    snapshot = results.load_history(engine, day, day, account_id)[0]
    profile = account_profile(engine, settings, account_id, asked)
    assert profile.scores_from == SNAPSHOT
    assert profile.scored_day == day.isoformat()
    assert profile.as_of is None  # not the last run's time
    assert profile.usage_as_of == asked.isoformat()
    assert f"daily snapshot of {day.isoformat()}" in (profile.scores_note or "")
    assert profile.kpis["engagement_score"] == snapshot.engagement_score
    assert profile.kpis["active_users_30d"] == snapshot.active_users_30d
    assert "events_7d" not in profile.kpis  # not kept in snapshots: left out, not today's
    assert profile.health_rank == snapshot.health_rank
    assert profile.risk_level == snapshot.risk_level
    assert profile.lifecycle_stage == snapshot.lifecycle_stage
    assert profile.health_reason is None
    assert profile.tags is None
    assert all(m["reached_on"] <= day.isoformat() for m in profile.milestones)


def test_a_time_before_anything_was_scored_says_so(scored) -> None:
    engine, settings, _, account_id = scored
    profile = account_profile(engine, settings, account_id, AS_OF - timedelta(days=400))
    assert profile.scores_from == NOT_SCORED
    assert profile.kpis == {}
    assert profile.health_rank is None
    assert profile.lifecycle_stage is None
    assert "nothing was scored" in (profile.scores_note or "")
    assert profile.milestones == []


def test_a_time_in_the_future_is_refused(scored) -> None:
    engine, settings, _, account_id = scored
    with pytest.raises(InputError, match="in the future"):
        account_profile(engine, settings, account_id, NOW + timedelta(days=1))


def test_the_command_says_which_scores_it_shows(scored, capsys) -> None:
    _, _, config, account_id = scored
    asked = (AS_OF - timedelta(days=10)).isoformat()
    assert main(["account", account_id, "-c", str(config), "--as-of", asked, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["scores_from"] == SNAPSHOT
    assert main(["account", account_id, "-c", str(config), "--as-of", asked]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "daily snapshot of 2026-06-04" in out
    assert "scored as of" not in out
    future = (NOW + timedelta(days=2)).isoformat()
    assert main(["account", account_id, "-c", str(config), "--as-of", future]) == 2
