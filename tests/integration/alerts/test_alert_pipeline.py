"""Alerts on what the real pipeline stores: a demo product database is pulled and scored at
two times, and every alert between them matches a change the scores really show."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.alerts.dispatch import evaluate, run_alerts
from connector.config import settings_from_data
from connector.demo import DemoSpec, write_demo_db
from connector.pipeline import open_store, run
from connector.store import alertlog

FIRST = datetime(2026, 2, 20, tzinfo=UTC)
LATER = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.slow
def test_alerts_between_two_scorings_match_what_changed(tmp_path: Path) -> None:
    product = f"sqlite:///{tmp_path / 'product.db'}"
    write_demo_db(product, DemoSpec(accounts=60, days=60, as_of=LATER, seed=3))
    settings = settings_from_data(
        {
            "source": {"url": product},
            "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"},
            "alerts": {"smtp": {"host": "mail.invalid"}, "chatter": False},
        },
        None,
        {},
    )
    engine = open_store(settings)
    assert run(settings, "pull", as_of=FIRST, store=engine).status == "ok"
    assert run(settings, "score", as_of=FIRST, store=engine).status == "ok"
    assert run_alerts(settings, engine, FIRST).baseline
    before = alertlog.load_state(engine)
    assert run(settings, "score", as_of=LATER, store=engine).status == "ok"
    found = evaluate(settings, engine, LATER)
    assert found.detection.occurrences, "nine days of demo usage change something"
    for o in found.detection.occurrences:
        was = before[o.view.account_id]
        if o.rule.name == "health-turned-poor":
            assert o.view.values["health_rank"] == "poor"
            assert was["values"]["health_rank"] != "poor"
        elif o.rule.trigger == "milestone":
            assert o.detail
            assert o.day > FIRST.date()
            assert all(m != o.key.split("|")[-1] for m in was["milestones"])
        elif o.rule.trigger == "tag_added":
            assert o.detail in o.view.tags
            assert o.detail not in was["tags"]
    for d in found.deliveries:
        assert d.message["text"].startswith(f"{d.message['title']}: {d.message['account_name']}")
    again = evaluate(settings, engine, LATER)
    assert len(again.detection.occurrences) == len(found.detection.occurrences)  # not recorded
