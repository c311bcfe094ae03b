"""Source-row hashes: stable, sensitive to every value and to how the rows are read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from connector.source import fingerprint
from connector.source.fingerprint import RowHasher

SQL = "SELECT accounts.account_id, accounts.name FROM accounts"


def test_the_same_row_read_the_same_way_hashes_the_same_in_any_hasher() -> None:
    row = ("a1", "Acme", 10, Decimal("2.50"), datetime(2026, 11, 2, 9, 30), None)
    digest = RowHasher(SQL, ("tier",))(row)
    assert digest == RowHasher(SQL, ("tier",))(list(row))
    assert len(digest) == 32
    assert int(digest, 16) >= 0


def test_any_changed_value_or_type_changes_the_hash() -> None:
    hasher = RowHasher(SQL, ())
    base = hasher(("a1", "Acme", 10))
    assert hasher(("a1", "Acme", 11)) != base
    assert hasher(("a1", "Acme", "10")) != base  # a value of another type
    assert hasher(("a1", "Acme ", 10)) != base
    assert hasher(("a1", None, 10)) != base
    assert hasher(("a1", "Acme", 10, None)) != base


def test_how_rows_are_read_is_part_of_the_hash() -> None:
    row = ("a1", "Acme")
    base = RowHasher(SQL, ())(row)
    assert RowHasher(SQL.replace("name", "company"), ())(row) != base
    assert RowHasher(SQL, ("tier",))(row) != base


def test_the_parsing_code_is_part_of_the_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    row = ("a1", "Acme")
    base = RowHasher(SQL, ())(row)
    monkeypatch.setattr(fingerprint, "_parsing_code", lambda: "edited")
    assert RowHasher(SQL, ())(row) != base
    monkeypatch.undo()
    assert fingerprint._parsing_code()  # the installed package ships its source
    assert RowHasher(SQL, ())(row) == base
