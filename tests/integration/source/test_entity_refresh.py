"""Accounts and users read unchanged are skipped unparsed (by the hash of the source row),
and everything that could make a skipped row stale makes it parsed again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB

from connector import clock
from connector.source import fingerprint
from connector.source import pull as source_pull
from connector.source.pull import pull
from connector.store import accounts as store_accounts

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
ACCOUNTS = [
    {"account_id": "a1", "name": "Acme", "status": "paying", "licenses": 10, "tier": "gold"},
    {"account_id": "a2", "name": "Beta", "status": "trial", "licenses": None, "tier": "free"},
    # An unknown status: kept without it, and reported on every run.
    {"account_id": "a3", "name": "Gamma", "status": "vip", "licenses": 3, "tier": None},
]
USERS = [
    {"user_id": f"u{i}", "account_id": f"a{1 + i % 3}", "email": f"U{i}@Example.com"}
    for i in range(6)
]


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def hashes(store: sa.Engine, table: str) -> dict[str, str | None]:
    key = "account_id" if table == "accounts" else "user_id"
    with store.connect() as conn:
        return dict(conn.execute(sa.text(f"SELECT {key}, source_hash FROM {table}")).all())


def name_of(store: sa.Engine, account_id: str) -> str | None:
    account = store_accounts.get_account(store, account_id)
    assert account is not None
    return account.name


def seeded(db: SourceDB) -> None:
    db.create_generic()
    db.insert("accounts", ACCOUNTS)
    db.insert("users", USERS)


def test_unchanged_rows_are_skipped_and_changes_are_written(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    seeded(source_db)
    settings = source_db.settings()
    first = pull(settings, sqlite_store)
    assert (first.accounts_changed, first.users_changed) == (3, 6)
    stored = hashes(sqlite_store, "accounts")
    # A row with a problem keeps no hash, so it is parsed (and reported) again next time.
    assert stored["a3"] is None
    assert stored["a1"]
    assert stored["a2"]
    assert stored["a1"] != stored["a2"]
    assert all(hashes(sqlite_store, "users").values())

    again = pull(settings, sqlite_store)
    assert (again.accounts_read, again.users_read) == (3, 6)
    assert (again.accounts_changed, again.users_changed) == (0, 0)
    assert again.quarantined == {"accounts.unknown_status": 1}
    assert hashes(sqlite_store, "accounts") == stored

    source_db.update("accounts", "account_id", "a2", licenses=25)
    # The same email once lower-cased: a new source row, but not new content.
    source_db.update("users", "user_id", "u1", email="u1@EXAMPLE.COM")
    users_before = hashes(sqlite_store, "users")
    third = pull(settings, sqlite_store)
    assert (third.accounts_changed, third.users_changed) == (1, 0)
    beta = store_accounts.get_account(sqlite_store, "a2")
    assert beta is not None
    assert beta.licenses == 25
    users_after = hashes(sqlite_store, "users")
    assert users_after["u1"] != users_before["u1"]
    assert {k: v for k, v in users_after.items() if k != "u1"} == {
        k: v for k, v in users_before.items() if k != "u1"
    }
    user = next(u for u in store_accounts.iter_users(sqlite_store) if u.user_id == "u1")
    assert user.email == "u1@example.com"


def test_rows_written_by_anything_else_are_parsed_again(
    sqlite_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    seeded(sqlite_source)
    settings = sqlite_source.settings()
    pull(settings, sqlite_store)
    acme = store_accounts.get_account(sqlite_store, "a1")
    assert acme is not None
    row = acme.model_dump(exclude={"content_hash", "source_hash", "first_seen", "updated_at"})
    with sqlite_store.begin() as conn:
        store_accounts.sync_accounts(conn, [{**row, "name": "Renamed elsewhere"}])
    assert hashes(sqlite_store, "accounts")["a1"] is None

    report = pull(settings, sqlite_store)
    assert report.accounts_changed == 1
    assert name_of(sqlite_store, "a1") == "Acme"


def test_a_full_pull_parses_every_row_again(
    sqlite_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    seeded(sqlite_source)
    settings = sqlite_source.settings()
    pull(settings, sqlite_store)
    with sqlite_store.begin() as conn:  # edited behind the connector's back, hashes kept
        conn.execute(
            sa.text(
                "UPDATE accounts SET name = 'Edited', content_hash = 'edited'"
                " WHERE account_id = 'a1'"
            )
        )

    assert pull(settings, sqlite_store).accounts_changed == 0  # the source row is unchanged
    full = pull(settings, sqlite_store, full=True)
    assert full.accounts_changed == 1
    assert name_of(sqlite_store, "a1") == "Acme"


def test_a_new_way_of_parsing_or_reading_makes_every_row_new_once(
    sqlite_source: SourceDB, sqlite_store: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(sqlite_source)
    pull(sqlite_source.settings(), sqlite_store)
    before = hashes(sqlite_store, "accounts")

    monkeypatch.setattr(fingerprint, "PARSING_VERSION", "next")
    report = pull(sqlite_source.settings(), sqlite_store)
    assert report.accounts_changed == 0  # parsed again: the same content
    after = hashes(sqlite_store, "accounts")
    assert after["a1"] != before["a1"]
    assert after["a2"] != before["a2"]

    # Reading the accounts through other columns changes what a row becomes.
    renamed = sqlite_source.settings(tables={"accounts": {"columns": {"name": "tier"}}})
    report = pull(renamed, sqlite_store)
    assert report.accounts_changed == 3
    assert name_of(sqlite_store, "a1") == "gold"


def test_an_id_read_twice_is_reported_on_every_run(
    sqlite_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    seeded(sqlite_source)
    settings = sqlite_source.settings(
        tables={
            "accounts": {
                "select": "SELECT * FROM accounts UNION ALL"
                " SELECT * FROM accounts WHERE account_id = 'a1'"
            }
        }
    )
    for _ in range(3):
        report = pull(settings, sqlite_store)
        assert report.quarantined["accounts.duplicate_account_id"] == 1


def quarantined(store: sa.Engine, reason: str) -> dict[str, dict[str, object]]:
    with store.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT row_key, raw FROM quarantine WHERE reason = :r"), {"r": reason}
        )
        return {key: json.loads(raw) if isinstance(raw, str) else raw for key, raw in rows}


@pytest.mark.parametrize("batch", [2, 5_000], ids=["later-batch", "same-batch"])
def test_a_repeated_id_keeps_the_first_row_read_and_sets_the_copy_aside(
    source_db: SourceDB, sqlite_store: sa.Engine, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """With a batch of 2 rows, the copies come in a later batch than the rows they repeat."""
    monkeypatch.setattr(source_pull, "_ENTITY_BATCH", batch)
    seeded(source_db)
    accounts = "accounts" if source_db.schema is None else f"{source_db.schema}.accounts"
    users = "users" if source_db.schema is None else f"{source_db.schema}.users"
    settings = source_db.settings(
        tables={
            "accounts": {
                "select": f"SELECT account_id, name, status, licenses, tier FROM {accounts}"
                " UNION ALL SELECT account_id, 'Impostor', status, licenses, tier"
                f" FROM {accounts} WHERE account_id = 'a1'"
            },
            "users": {
                "select": f"SELECT user_id, account_id, email FROM {users}"
                f" UNION ALL SELECT user_id, 'a2', 'copy@example.com' FROM {users}"
                " WHERE user_id = 'u0'"
            },
        }
    )
    for _ in range(2):  # the second time the first copy is skipped unchanged, the copy still not
        report = pull(settings, sqlite_store)
        assert report.quarantined["accounts.duplicate_account_id"] == 1
        assert report.quarantined["users.duplicate_user_id"] == 1
        assert name_of(sqlite_store, "a1") == "Acme"
        user = next(u for u in store_accounts.iter_users(sqlite_store) if u.user_id == "u0")
        assert (user.account_id, user.email) == ("a1", "u0@example.com")
    kept = quarantined(sqlite_store, "duplicate_account_id")
    assert list(kept) == ["a1"]
    assert kept["a1"]["name"] == "Impostor"
    assert quarantined(sqlite_store, "duplicate_user_id")["u0"]["email"] == "copy@example.com"


def test_a_row_without_an_id_is_named_by_its_own_values_in_the_quarantine(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    seeded(source_db)
    source_db.insert("accounts", [{"account_id": " ", "name": "Nameless", "domain": "n.io"}])
    source_db.insert("users", [{"user_id": "", "account_id": "a1", "email": "x@example.com"}])

    report = pull(source_db.settings(), sqlite_store)

    assert report.quarantined["accounts.no_account_id"] == 1
    assert report.quarantined["users.no_user_id"] == 1
    accounts = quarantined(sqlite_store, "no_account_id")
    assert list(accounts) == ["Nameless|n.io|"]
    assert accounts["Nameless|n.io|"]["name"] == "Nameless"
    assert list(quarantined(sqlite_store, "no_user_id")) == ["a1|x@example.com|"]
