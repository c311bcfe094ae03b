"""Logging: one JSON event per line with the run id, secrets masked, stderr followed."""

from __future__ import annotations

import io
import json
import sys

import pytest

from connector import logs


def test_logs_follow_a_replaced_stderr_and_mask_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logs.configure("info", "json")
    logs.add_secrets(["hunter2-secret"])
    first.close()  # a stream that was current when logging was set up goes away
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logs.bind_run("run-123")
    logs.get_logger("test").info("login", detail="password=hunter2-secret")
    (line,) = second.getvalue().splitlines()
    event = json.loads(line)
    assert event["event"] == "login"
    assert event["run_id"] == "run-123"
    assert "hunter2-secret" not in line
    assert event["detail"] == "password=***"
