"""Record ids: the checksum suffix (reference test vectors) and 15/18-character normalisation."""

from __future__ import annotations

import pytest

from connector.sandbox import ids

VECTORS = [
    ("001D000000IRFma", "IAH"),
    ("003RO0000035WQg", "YAM"),
    ("0018a00001rBqb8", "AAC"),
    ("a0RE000000IJmcN", "MAT"),
    ("aaaaaaaaaaaaaaa", "AAA"),
    ("AbCdEfGhIjKlMnO", "VKV"),
    ("aBcDEfgHIJKLMNO", "025"),
]


@pytest.mark.parametrize(("id15", "suffix"), VECTORS)
def test_checksum_matches_reference_vectors(id15: str, suffix: str) -> None:
    assert ids.checksum(id15) == suffix
    assert ids.to18(id15) == id15 + suffix


@pytest.mark.parametrize(("id15", "suffix"), VECTORS)
def test_18_character_ids_work_in_any_letter_case(id15: str, suffix: str) -> None:
    assert ids.normalize((id15 + suffix).lower()) == id15 + suffix
    assert ids.normalize((id15 + suffix).upper()) == id15 + suffix


@pytest.mark.parametrize(
    "bad", ["", "foo", "001D000000IRFm", "001D000000IRFma!!!", "001-00000IRFmaAAA"]
)
def test_malformed_ids_are_rejected(bad: str) -> None:
    assert ids.normalize(bad) is None
    assert not ids.is_valid(bad)


def test_made_ids_carry_prefix_and_valid_checksum() -> None:
    made = ids.make_id("00Q", "5g", 123456)
    assert made.startswith("00Q5g0")
    assert len(made) == 18
    assert ids.normalize(made[:15]) == made
    assert ids.make_id("00Q", "5g", 123457) != made


def test_counter_overflow_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        ids.base62(62**9, 9)
