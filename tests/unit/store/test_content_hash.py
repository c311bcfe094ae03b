"""Content hashes decide whether an account or user row is rewritten."""

from __future__ import annotations

from datetime import UTC, datetime

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
