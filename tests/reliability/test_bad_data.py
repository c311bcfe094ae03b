"""Bad data in the product database: malformed, duplicated, late, far-future and huge events;
unicode and SQL / SOQL metacharacters in names and emails. Pull quarantines or stores each row
correctly, sync never crashes, and Lead lookups by email are escaped and never widen a query.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from connector.config import load_settings
from connector.salesforce import lookups
from connector.salesforce.client import SalesforceClient
from tests.reliability.world import AS_OF, Template, Trial, trial

pytestmark = pytest.mark.sandbox

ACCOUNT = "acc_weird"
ACCOUNT_NAME = 'O\'Brien & "Sons" 100% _under_ back\\slash 🎉 Ünïcødé; DROP TABLE accounts;--'
EMAILS = (
    "o'brien@example.com",
    "%@example.com",
    "a_b@example.com",
    "back\\slash@example.com",
    '"quoted"@example.com',
    "emoji🎉@example.com",
)
DECOYS = ("alice@example.com", "axb@example.com", "zed@example.com")  # LIKE-style widening bait
LATE_EVENTS = 7
T = AS_OF - timedelta(hours=3)


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def add_bad_rows(url: str) -> dict[str, int]:
    """Weird account, users and events added to a copy of the demo product database."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        top = conn.execute(sa.text("SELECT max(event_id) FROM events")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO accounts (account_id, name, status, licenses, created_at, "
                "trial_started_at, trial_ends_at) VALUES (:a, :n, 'trial', 5, :c, :c, :e)"
            ),
            {"a": ACCOUNT, "n": ACCOUNT_NAME, "c": _when(AS_OF - timedelta(days=5)),
             "e": _when(AS_OF + timedelta(days=9))},
        )  # fmt: skip
        for i, email in enumerate(EMAILS):
            conn.execute(
                sa.text(
                    "INSERT INTO users (user_id, account_id, email, name, created_at) "
                    "VALUES (:u, :a, :e, :n, :c)"
                ),
                {"u": f"weird_{i}", "a": ACCOUNT, "e": email, "n": f"Zoë {email[:6]} ☃",
                 "c": _when(AS_OF - timedelta(days=5))},
            )  # fmt: skip
        rows: list[dict[str, Any]] = []

        def event(**kw: Any) -> None:
            base = {"id": top + 1 + len(rows), "a": ACCOUNT, "u": "weird_0", "e": "login",
                    "m": "core", "t": _when(T), "d": 30}  # fmt: skip
            rows.append(base | kw)

        for i in range(len(EMAILS)):
            event(u=f"weird_{i}")  # one good event per user
        event(e="x" * 5_000, m="m" * 3_000, d=10**12)  # huge
        event(t="not-a-date")  # malformed time
        event(t=_when(AS_OF.replace(year=2999)))  # far future
        event(a="acc_missing")  # unknown account
        event(e="", u=None)  # no user, no event name
        event(d=-50)  # negative duration
        dup = top + 1  # the first good event's id, again
        rows.append(rows[0] | {"id": dup})
        conn.execute(
            sa.text(
                "INSERT INTO events (event_id, account_id, user_id, event, module, "
                "occurred_at, duration_seconds) VALUES (:id, :a, :u, :e, :m, :t, :d)"
            ),
            rows,
        )
    engine.dispose()
    return {"good": len(EMAILS), "top": top + len(rows) + 10}


def add_late_events(url: str, first_id: int) -> None:
    """Events arriving after a sync, dated a day back (inside the late-arrival window)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO events (event_id, account_id, user_id, event, module, "
                "occurred_at, duration_seconds) VALUES (:id, :a, 'weird_1', 'late_login', "
                "'core', :t, 5)"
            ),
            [{"id": first_id + i, "a": ACCOUNT, "t": _when(T - timedelta(days=1))}
             for i in range(LATE_EVENTS)],
        )  # fmt: skip
    engine.dispose()


@pytest.fixture(scope="module")
def world(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trial]:
    folder = tmp_path_factory.mktemp("bad-data")
    shutil.copy(template.folder / "product.db", folder / "product.db")
    source = f"sqlite:///{folder / 'product.db'}"
    ids = add_bad_rows(source)
    with trial(template, folder / "t") as t:
        sb = t.sandbox
        refused = []
        for email in EMAILS + DECOYS:
            saved = sb.org.create(
                "Lead", {"LastName": "Lead", "Company": "Weird Co", "Email": email},
                user_id=sb.user_id,
            )  # fmt: skip
            if not saved.success:
                refused.append(email)
        # Salesforce's email validation refuses some of these: they have no Lead to match
        assert set(refused) < set(EMAILS), refused
        assert {"o'brien@example.com", "%@example.com", "a_b@example.com"}.isdisjoint(refused)
        t.write_config(source_url=source)
        t.env = {"_source": source, "_late_id": str(ids["top"]), "_refused": "\n".join(refused)}
        yield t


def store_rows(t: Trial, sql: str) -> list[Any]:
    engine = t.engine()
    with engine.connect() as conn:
        rows = list(conn.execute(sa.text(sql)))
    engine.dispose()
    return rows


def leads(t: Trial) -> dict[str, dict[str, Any]]:
    return {
        str(r["Email"]): r for r in t.sandbox.org.rows("Lead") if r.get("Company") == "Weird Co"
    }


def test_sync_with_bad_rows_succeeds_and_quarantines_them(world: Trial) -> None:
    result = world.sync()
    assert result.code == 0, result.stderr[-3000:]
    reasons = {r[0] for r in store_rows(world, "SELECT reason FROM quarantine")}
    assert {"future_timestamp", "unknown_account", "duplicate_event_id"} <= reasons, reasons
    assert reasons & {"bad_timestamp", "invalid_timestamp", "malformed", "bad_time"} or any(
        "time" in r for r in reasons - {"future_timestamp"}
    ), reasons


def test_unicode_and_metacharacters_are_stored_exactly(world: Trial) -> None:
    (name,) = store_rows(world, f"SELECT name FROM accounts WHERE account_id = '{ACCOUNT}'")[0]
    assert name == ACCOUNT_NAME
    emails = {
        r[0] for r in store_rows(world, "SELECT email FROM users WHERE user_id LIKE 'weird%'")
    }
    assert {e.lower() for e in emails} == {e.lower() for e in EMAILS}


def test_each_weird_email_reaches_exactly_its_own_lead(world: Trial) -> None:
    held = leads(world)
    refused = set(world.env["_refused"].split("\n"))
    assert not refused & set(held)
    for email in set(EMAILS) - refused:
        assert held[email].get("Lifecycle_Stage__c") == "Evaluating", (email, held[email])
    for decoy in DECOYS:
        assert held[decoy].get("Lifecycle_Stage__c") is None, decoy
        assert held[decoy].get("Engagement_Score__c") is None, decoy


def test_lead_lookup_is_escaped_and_never_widens(world: Trial) -> None:
    settings = load_settings(world.config)
    with SalesforceClient(settings) as client:
        refused = set(world.env["_refused"].split("\n"))
        for email in EMAILS:
            found = lookups.leads_by_email(client, [email])
            expected = [] if email in refused else [email.lower()]
            assert list(found) == expected, (email, found)
            assert all(len(m.ids) == 1 for m in found.values())
        assert lookups.leads_by_email(client, ["%", "_@example.com", "*@example.com"]) == {}


def test_late_events_are_counted_once(world: Trial) -> None:
    day = (T - timedelta(days=1)).date().isoformat()
    query = (
        f"SELECT coalesce(sum(events), 0) FROM event_daily WHERE account_id = '{ACCOUNT}' "
        f"AND day = '{day}'"
    )
    before = store_rows(world, query)[0][0]
    add_late_events(world.env["_source"], int(world.env["_late_id"]))
    for _ in range(2):  # a second run re-reads the late window: nothing is counted twice
        result = world.sync()
        assert result.code == 0, result.stderr[-3000:]
        assert store_rows(world, query)[0][0] == before + LATE_EVENTS
