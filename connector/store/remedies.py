"""What an operator should do about a record Salesforce rejected or the push left out, and
about a source row the pull set aside.

Push: keyed by Salesforce's error code first (the most specific), then by the push's own
verdict (`fix the mapping`, `fix the data`, `retry`, …) or the reason a record was skipped.
Pull: keyed by the quarantine's reason.
"""

from __future__ import annotations

_BY_CODE = {
    "INVALID_FIELD": "a mapped field is missing or hidden from the integration user: run "
    "`connector check`, then `connector provision --apply`, or correct the mapping",
    "INVALID_FIELD_FOR_INSERT_UPDATE": "the integration user may not edit this field: grant "
    "edit access in its permission set, or take the field out of the mapping",
    "INSUFFICIENT_ACCESS_OR_READONLY": "the integration user may not edit this record: check "
    "its profile, permission sets and the sharing rules for the record's owner",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": "the value is not one of the picklist's: run "
    "`connector provision --apply` to add it, or map to an existing value",
    "STRING_TOO_LONG": "the value is longer than the field allows: lengthen the field in "
    "Salesforce or shorten the value in the mapping",
    "NUMBER_OUTSIDE_VALID_RANGE": "the number does not fit the field's precision: widen the "
    "field in Salesforce or round the value in the mapping",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "a validation rule in the org rejected the record: let "
    "the rule skip the integration user, or correct the record in Salesforce",
    "REQUIRED_FIELD_MISSING": "the record needs a field the mapping does not set: map it or "
    "give it a default",
    "ENTITY_IS_DELETED": "the record was deleted in Salesforce: restore it from the recycle "
    "bin, or let the next run match a new one",
    "INVALID_CROSS_REFERENCE_KEY": "a referenced record (owner, account) does not exist or is "
    "inactive: check the CSM's Salesforce user and the record's owner",
    "DUPLICATE_VALUE": "another record already has this external ID: merge the duplicates in "
    "Salesforce",
    "DUPLICATES_DETECTED": "a duplicate rule blocked the write: merge the duplicates or let "
    "the rule allow the integration user",
    "CANNOT_UPDATE_CONVERTED_LEAD": "the Lead was converted: set salesforce.converted_leads: "
    "follow to update its Contact instead",
    "UNABLE_TO_LOCK_ROW": "another process was editing the record: it is retried next run",
    "REQUEST_LIMIT_EXCEEDED": "the org's daily API allocation ran out: the rest is sent after "
    "it resets",
    "NOT_FOUND": "the record no longer exists in Salesforce: it is matched again next run",
}

_BY_REASON = {
    "fix the mapping": "correct the mapping (`connector check` shows what is wrong)",
    "fix the data": "correct the value in the product database or the mapping's transform",
    "wait for the API limit": "nothing: the rest is sent after the org's allocation resets",
    "retry": "nothing: it is retried next run",
    "unmatched": "give the Salesforce record the product account id in its external ID "
    "field (or enable salesforce.create_leads for Leads); re-checked daily",
    "converted": "set salesforce.converted_leads: follow to update the converted Contact",
    "duplicate": "merge the duplicate records in Salesforce",
    "collision": "several product accounts claim one Salesforce record: correct the external "
    "IDs or domains so each record has one owner",
}


def remedy(code: str | None, reason: str | None) -> str:
    """One sentence on what to do about a failed or skipped record."""
    if code and code in _BY_CODE:
        return _BY_CODE[code]
    if reason and reason in _BY_REASON:
        return _BY_REASON[reason]
    if code:
        return f"look up {code} in Salesforce's API error codes, fix the record, and sync again"
    return "see the message; the record is tried again next run"


def is_skip(code: str | None, reason: str) -> bool:
    """A record the push left out on purpose or found no Salesforce record for (unmatched,
    whether the plan set it aside or the push looked it up), rather than one Salesforce
    rejected."""
    if reason == "unmatched":
        return True
    return code is None and reason not in ("fix the mapping", "fix the data", "retry", "failed")


#: What each quarantine reason means for the row, and what fixes it at the source.
_BY_QUARANTINE_REASON = {
    "no_user": "the event has no user_id and was not counted: fill it in the product database, "
    "or map the right column with source.tables.events.columns.user_id",
    "no_account": "the event has no account_id and was not counted: fill it in, or map the "
    "right column with source.tables.events.columns.account_id",
    "unknown_account": "the event's account_id is not in accounts: add the account (its "
    "events are counted once it appears), or correct the id",
    "no_timestamp": "the event has no occurred_at and was not counted: fill it in (with "
    "source.tables.events.epoch, a number out of range reads as none: check the unit)",
    "unparsable_timestamp": "the time is not a timestamp: store a timestamp type or ISO 8601 "
    "text; Unix epoch numbers are read with source.tables.<table>.epoch",
    "future_timestamp": "the event is later than now plus source.max_future_minutes and was "
    "not counted: check the clock and time zone of what writes the events",
    "negative_duration": "duration_seconds is negative and the event was not counted: correct "
    "the value (null if unknown)",
    "bad_duration": "duration_seconds is not a number of seconds, or is longer than one day "
    "(86,400 s) for a single event: the event was counted without a duration, so it adds "
    "nothing to time spent; correct the value (null if unknown), map a numeric column with "
    "source.tables.events.columns.duration_seconds, or convert milliseconds to seconds in a "
    "custom select (source.tables.events.select)",
    "duplicate_event_id": "the event id is stored more than once: the earliest copy was "
    "counted and the others left out; nothing to do unless the copies are different events",
    "no_account_id": "the account row has no account_id and was left out: fill it in",
    "no_user_id": "the user row has no user_id and was left out: fill it in",
    "duplicate_account_id": "another account row with this account_id was read first and "
    "kept; this copy was left out: make account_id unique in the accounts table, or in the "
    "custom SELECT (source.tables.accounts.select), e.g. by removing the UNION ALL or JOIN "
    "that repeats it",
    "duplicate_user_id": "another user row with this user_id was read first and kept; this "
    "copy was left out: make user_id unique in the users table, or in the custom SELECT "
    "(source.tables.users.select), e.g. by removing the UNION ALL or JOIN that repeats it",
    "unknown_status": "the status is none of free, trial, paying, cancelled (or a known "
    "synonym): the account was kept without one; correct the value or map the column",
    "bad_licenses": "licenses is not a whole number of 0 or more: the account was kept "
    "without one; correct the value",
    "bad_salesforce_id": "salesforce_id is not a 15- or 18-character Salesforce id: the "
    "account was kept without one and is matched another way; correct the value",
}


def quarantine_remedy(reason: str) -> str:
    """One sentence on a quarantined source row: what happened to it and what fixes it."""
    return _BY_QUARANTINE_REASON.get(
        reason, "see the raw row; it is read again on the next pull that covers it"
    )
