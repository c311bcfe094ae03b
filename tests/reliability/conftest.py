"""Reliability fixtures: one template world per session, and the full-count switch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability.world import Template, build_template

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
