"""Columnar inputs as the store builds them, the account profile, lifecycle overrides."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from metrics_builders import AS_OF, T, ago, at, one, shipped_rules, use

from connector.metrics import (
    AccountFacts,
    EventTable,
    ScoringInput,
    UsageTable,
    load_rules,
    score,
    usage_periods,
    user_activity,
)
from connector.metrics.facts import local_days
from connector.metrics.inputs import day_number
from connector.resources import shipped

ACCOUNTS = [AccountFacts("x", status="paying", licenses=2), AccountFacts("y", status="trial")]


def cursor_rows() -> dict[str, list]:
    return {
        "account": ["x", "x", "y", "nobody"],
        "user": ["u1", "u2", "u1", "u9"],
        "day": [ago(0), ago(3), ago(1), ago(1)],
        "module": ["core", None, "api", "core"],
        "events": [3, 2, 5, 1],
        "duration_seconds": [120.0, None, 60.0, 10.0],
        "first_at": [at(0, 8), at(3, 9), None, None],
        "last_at": [at(0, 9), at(3, 10), None, None],
    }


def test_columns_from_a_cursor_score_like_rows() -> None:
    usage = UsageTable.from_columns(**cursor_rows())
    events = EventTable.from_columns(["x"], [day_number(ago(2))], ["invite_sent"], [1], [1])
    out = score(
        ScoringInput(accounts=ACCOUNTS, usage=usage, events=events, as_of=AS_OF),
        shipped_rules(),
    ).by_id()
    assert out["x"].metrics["events_7d"] == 5
    assert out["x"].metrics["active_users_7d"] == 2
    assert out["x"].metrics["time_spent_7d_minutes"] == pytest.approx(2.0)
    assert out["x"].metrics["last_active_at"] == at(0, 9)
    assert out["x"].metrics["license_utilization"] == pytest.approx(1.0)
    assert out["x"].milestones["invited_collaborators"] == ago(2)
    assert out["y"].metrics["events_7d"] == 5


def test_known_account_positions_give_the_same_result_as_ids() -> None:
    cols = cursor_rows()
    by_id = UsageTable.from_columns(**cols)
    by_index = UsageTable.from_columns(**cols, account_index=[0, 0, 1, -1])
    a = score(ScoringInput(accounts=ACCOUNTS, usage=by_id, as_of=AS_OF), shipped_rules())
    b = score(ScoringInput(accounts=ACCOUNTS, usage=by_index, as_of=AS_OF), shipped_rules())
    assert [r.metrics for r in a.accounts] == [r.metrics for r in b.accounts]


def test_numpy_day_and_integer_user_columns() -> None:
    usage = UsageTable.from_columns(
        account=np.array(["x", "x"], dtype=object),
        user=np.array([7, 8]),
        day=np.array([str(ago(1)), str(ago(9))], dtype="datetime64[D]"),
        module=np.array(["core", "core"]),
        events=np.array([1, 1]),
    )
    r = score(ScoringInput(accounts=ACCOUNTS[:1], usage=usage, as_of=AS_OF), shipped_rules())
    assert r.accounts[0].metrics["active_users_14d"] == 2
    assert r.accounts[0].metrics["active_users_7d"] == 1


def test_local_days_follow_the_zone_offset_of_each_instant() -> None:
    zone = ZoneInfo("Europe/Berlin")
    instants = [
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 00:30 CET on 03-29
        datetime(2026, 3, 29, 22, 30, tzinfo=UTC),  # 00:30 CEST on 03-30
        datetime(2026, 3, 29, 21, 30, tzinfo=UTC),  # 23:30 CEST on 03-29
    ]
    days = local_days(np.array([t.timestamp() for t in instants] + [np.nan]), zone)
    expected = [day_number(t.astimezone(zone).date()) for t in instants]
    assert days[:3].tolist() == expected
    assert np.isnan(days[3])


def test_usage_periods_for_the_account_profile() -> None:
    rows = [use("a", "u1", 0, events=2, duration=60.0), use("a", "u2", 1, events=3)]
    rows += [use("a", "u1", 5, events=4), use("a", "u1", 20, events=1)]
    p = usage_periods(rows, AS_OF, ZoneInfo("UTC"))
    assert p["today"] == {"events": 2, "active_users": 1, "active_days": 1, "minutes": 1.0}
    assert p["yesterday"]["events"] == 3
    assert p["yesterday"]["minutes"] is None
    assert p["7d"]["events"] == 9
    assert p["30d"]["active_days"] == 4


def test_lifecycle_overrides_come_first(tmp_path: Path) -> None:
    for f in shipped("mappings").glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "lifecycle.yaml").write_text(
        "onboarding_days: 30\nfirst_value_milestone: first_value\noverrides:\n"
        "  - name: internal\n    stage: lead\n    when: attributes.internal == true\n"
    )
    rules = load_rules(tmp_path)
    internal = AccountFacts("a", status="paying", attributes={"internal": True})
    assert one([internal], [use("a", "u", 1)], rules=rules).lifecycle_stage == "lead"
    paid = AccountFacts("b", status="paying", paid_at=at(40))
    assert one([paid], [use("b", "u", 1)], rules=rules).lifecycle_stage == "mature"
    assert AS_OF.date() == T


def test_no_accounts_and_no_usage() -> None:
    out = score(ScoringInput(accounts=[], usage=UsageTable.empty(), as_of=AS_OF), shipped_rules())
    assert out.accounts == ()
    assert out.evaluation_day == T
    lonely = score(
        ScoringInput(accounts=ACCOUNTS, usage=UsageTable.empty(), as_of=AS_OF),
        shipped_rules(),
        snapshot_from=ago(3),
    )
    assert [r.metrics["events_30d"] for r in lonely.accounts] == [0, 0]
    assert lonely.history is not None
    assert lonely.history.days == 4


def test_user_activity_lists_the_busiest_users_first() -> None:
    rows = [use("a", "u1", 1, events=2), use("a", "u2", 2, events=5), use("a", "u2", 3)]
    rows += [use("a", "u3", 40, events=9)]
    users = user_activity(rows, AS_OF, ZoneInfo("UTC"))
    assert [u["user_id"] for u in users] == ["u2", "u1", "u3"]
    assert users[0]["events_30d"] == 6
    assert users[0]["active_days_30d"] == 2
    assert users[2]["events_30d"] == 0
    assert users[2]["last_active_at"] == datetime(2026, 10, 11, tzinfo=UTC)
