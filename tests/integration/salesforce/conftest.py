"""A sandbox per test module for the Salesforce client tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.sandbox.harness import RunningSandbox, running_sandbox


@pytest.fixture(scope="module")
def sbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    path: Path = tmp_path_factory.mktemp("sandbox")
    with running_sandbox(path, seed=11) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _no_faults(sbx: RunningSandbox) -> Iterator[None]:
    sbx.clear_faults()
    yield
    sbx.clear_faults()
