"""What to do about a failed or skipped record: by Salesforce code, then by reason."""

from __future__ import annotations

from connector.store.remedies import is_skip, remedy


def test_specific_code_wins_over_the_generic_reason() -> None:
    assert "permission set" in remedy("INVALID_FIELD_FOR_INSERT_UPDATE", "fix the mapping")
    assert remedy(None, "fix the mapping").startswith("correct the mapping")


def test_unknown_code_still_says_what_to_do() -> None:
    text = remedy("SOME_NEW_CODE", None)
    assert "SOME_NEW_CODE" in text
    assert "sync again" in text


def test_skips_are_told_apart_from_rejections() -> None:
    assert is_skip(None, "unmatched")
    assert not is_skip("INVALID_FIELD", "fix the mapping")
    assert not is_skip(None, "retry")
