"""Fixtures for daemon tests: a demo product database and daemons started as real processes."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from daemon_procs import DaemonProcess, launch

from connector.demo import DemoSpec, write_demo_db


@pytest.fixture
def product_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'product.db'}"
    write_demo_db(url, DemoSpec(accounts=30, days=30))
    return url


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    """Start `connector run -c config` processes; every one still running is killed at the end."""
    started: list[DaemonProcess] = []

    def start(
        config: Path, name: str = "daemon", env: dict[str, str] | None = None
    ) -> DaemonProcess:
        daemon = launch(config, tmp_path, name, env)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.send_signal(signal.SIGKILL)
            daemon.proc.wait(timeout=10)
