"""Reliability fixtures: one template world per session, and the full-count switch."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector import logs
from tests.reliability.world import (
    Template,
    build_template,
    salesforce_state,
    store_state,
    trial,
)

FULL = os.environ.get("CONNECTOR_RELIABILITY_FULL") == "1"


def full_only() -> pytest.MarkDecorator:
    """Skip unless CONNECTOR_RELIABILITY_FULL=1 (these tests are also marked slow)."""
    return pytest.mark.skipif(
        not FULL, reason="full trial counts: set CONNECTOR_RELIABILITY_FULL=1"
    )


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """A product database and a provisioned org with Accounts, Leads and CSMs (built once)."""
    return build_template(tmp_path_factory.mktemp("reliability-template"))


@pytest.fixture
def trial_dir(tmp_path: Path) -> Path:
    return tmp_path / "trial"


@pytest.fixture(scope="session")
def baseline(template: Template, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What one uninterrupted, fault-free sync leaves in Salesforce and the store."""
    with trial(template, tmp_path_factory.mktemp("baseline") / "t") as t:
        t.sandbox.reset_counters()
        result = t.sync()
        assert result.code == 0, result.stderr[-3000:]
        engine = t.engine()
        state = {
            "salesforce": salesforce_state(t.sandbox, template.match_field),
            "store": store_state(engine),
            "seconds": result.seconds,
            "calls": dict(t.sandbox.counters()["calls"]),
        }
        engine.dispose()
    assert state["salesforce"]["Task"], "the baseline should open some Tasks"
    return state


@pytest.fixture(autouse=True)
def _logs_to_the_real_stderr() -> Iterator[None]:
    """In-process CLI calls point structlog at pytest's per-test capture stream, closed when
    the test ends; the in-process sandboxes of later tests would log into the closed file."""
    yield
    logs.configure("info", "console", stream=sys.__stderr__)
