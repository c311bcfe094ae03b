"""Content hashes decide whether an account or user row is rewritten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from connector.store.accounts import content_hash
from connector.store.upsert import batched


def test_hash_ignores_bookkeeping_and_key_order() -> None:
    a = {"account_id": "a1", "name": "Acme", "attributes": {"x": 1, "y": [1, 2]}}
    b = {"attributes": {"y": [1, 2], "x": 1}, "name": "Acme", "account_id": "a1"}
    assert content_hash(a) == content_hash(b)
    stamped = {**a, "updated_at": datetime(2026, 1, 1, tzinfo=UTC), "content_hash": "old"}
    assert content_hash(stamped) == content_hash(a)


def test_hash_sees_every_content_change() -> None:
    base = {"account_id": "a1", "licenses": 10, "created_at": datetime(2026, 1, 1, tzinfo=UTC)}
    assert content_hash(base) != content_hash({**base, "licenses": 11})
    later = {**base, "created_at": datetime(2026, 1, 2, tzinfo=UTC)}
    assert content_hash(base) != content_hash(later)
    assert content_hash(base) != content_hash({**base, "attributes": {"tier": "gold"}})


def test_batched_splits_without_losing_rows() -> None:
    chunks = list(batched(range(12), 5))
    assert chunks == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11]]


def test_hash_is_the_one_stored_by_earlier_versions() -> None:
    """A stored row whose content is unchanged must keep its hash across versions: a new
    hash would count every account and user as changed once and rewrite them all."""
    row = {
        "account_id": "a1",
        "name": "Acme",
        "licenses": 10,
        "created_at": datetime(2026, 1, 1, 9, 30, tzinfo=UTC),
        "paid_at": datetime(2026, 2, 1, tzinfo=timezone(timedelta(hours=2))),
        "attributes": {"tier": "gold", "seats": [1, 2]},
        "source_updated_at": None,
        "updated_at": datetime(2026, 3, 1, tzinfo=UTC),
    }
    assert content_hash(row) == "682255161ad83222a4dfb70acb020ac845f5cb1aba06bcf768b48d7075f3c5ab"
