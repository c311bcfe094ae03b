"""Diff metrics against what Salesforce last received into an immutable Plan; explain it."""
