"""Helpers for daemons as real processes: `python -m connector.cli run`, logs read back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
Event = dict[str, Any]


@dataclass
class DaemonProcess:
    """A running `connector run` whose JSON log lines land in a file."""

    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def events(self) -> list[Event]:
        found = []
        for line in self.stderr.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:  # a line still being written
                    continue
        return found

    def named(self, event: str) -> list[Event]:
        return [e for e in self.events() if e.get("event") == event]

    def wait_for(
        self, what: str, predicate: Callable[[list[Event]], bool], timeout: float = 20
    ) -> list[Event]:
        """Wait (bounded) until `predicate(events)` holds; fail with the log otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            if predicate(events):
                return events
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(
            f"timed out waiting for {what}; exit code {self.proc.poll()}; log:\n"
            + self.stderr.read_text(errors="replace")[-4000:]
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def count(events: list[Event], name: str, **fields: Any) -> int:
    return sum(
        1
        for e in events
        if e.get("event") == name and all(e.get(k) == v for k, v in fields.items())
    )


def write_config(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def fast_config(product_url: str, store_path: Path, **overrides: Any) -> dict[str, Any]:
    """Pull and score every second, nothing pushed, a 2-second lease, any free port."""
    data: dict[str, Any] = {
        "source": {"url": product_url},
        "store": {"url": f"sqlite:///{store_path}"},
        "schedule": {
            "pull": {"every_minutes": 1 / 60},
            "score": {"every_minutes": 1 / 60},
            "push": {"enabled": False},
            "snapshot": {"enabled": False},
            "alerts": {"enabled": False},
            "digest": {"enabled": False},
        },
        "server": {"port": 0},
        "daemon": {"lease_seconds": 2},
        "logging": {"format": "json"},
    }
    for key, value in overrides.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return data


def launch(
    config: Path, folder: Path, name: str, env: dict[str, str] | None = None
) -> DaemonProcess:
    """Start `connector run -c config` with its output in `folder/name.{out,err}`."""
    out, err = folder / f"{name}.out", folder / f"{name}.err"
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR__")},
        "PYTHONPATH": str(REPO),
        "COLUMNS": "160",
        **(env or {}),
    }
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            [sys.executable, "-m", "connector.cli", "run", "-c", str(config)],
            stdout=o,
            stderr=e,
            env=environment,
            cwd=folder,
        )
    return DaemonProcess(proc, out, err)
