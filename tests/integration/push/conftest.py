"""The sandbox org of a module's `demo` (each module makes its own demo, sized for it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.demo.tour import DEMO_SEED, DemoResult
from connector.sandbox.harness import RunningSandbox, running_sandbox


@pytest.fixture
def org(demo: DemoResult) -> Iterator[RunningSandbox]:
    """The demo's org served again, as the demo left it (changes persist to its file)."""
    with running_sandbox(demo.folder / "sandbox", seed=DEMO_SEED) as sb:
        yield sb
