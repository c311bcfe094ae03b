"""Every reason a pull can set a source row aside for has its own advice."""

from __future__ import annotations

import re
from pathlib import Path

import connector
from connector.store.remedies import quarantine_remedy

SOURCE = Path(connector.__file__).parent / "source"
#: Reasons are written as quoted snake_case words in the pull's code, these shapes only.
REASON = re.compile(
    r"""["'](no_[a-z_]+|unknown_(?:account|status)|unparsable_timestamp|future_timestamp|"""
    r"""negative_duration|duplicate_[a-z_]+|bad_[a-z_]+)["']"""
)


def test_each_reason_in_the_pull_has_specific_advice() -> None:
    reasons = {m for p in SOURCE.glob("*.py") for m in REASON.findall(p.read_text())}
    assert {"no_user", "unknown_account", "bad_salesforce_id", "no_user_id"} <= reasons
    assert {"duplicate_event_id", "duplicate_account_id", "duplicate_user_id"} <= reasons
    fallback = quarantine_remedy("something-new")
    missing = sorted(r for r in reasons if quarantine_remedy(r) == fallback)
    assert missing == []
