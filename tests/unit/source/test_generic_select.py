"""A custom SELECT is wrapped in a subquery: what it ends with must not break the wrapping."""

from __future__ import annotations

import pytest

from connector.source.generic import select_text


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("SELECT 1 AS x;", "SELECT 1 AS x"),
        ("SELECT 1 AS x ;\n", "SELECT 1 AS x"),
        ("SELECT 1 AS x;; \n\t", "SELECT 1 AS x"),
        ("SELECT ';' AS x;", "SELECT ';' AS x"),
    ],
)
def test_trailing_semicolons_are_dropped(written: str, read: str) -> None:
    assert select_text(written) == read


@pytest.mark.parametrize("written", ["SELECT 1 AS x", "SELECT 1 AS x\n", "SELECT ';' AS x"])
def test_a_select_without_one_is_kept_as_written(written: str) -> None:
    # Unchanged, so rollups built through it are not rebuilt for a difference of whitespace.
    assert select_text(written) == written
