"""`connector sandbox` as a user runs it: a process that prints how to connect, keeps its CA."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.sandbox
ROOT = Path(__file__).resolve().parents[3]  # run from the source tree, wherever pytest runs


def _start(data: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector.cli", "sandbox", "--port", "0", "--seed", "3",
         "--data", str(data), "--fault", "daily_limit=50"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )  # fmt: skip
    info: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.match(r"\s+(instance URL|CA certificate|org id|password)\s+(\S+)", line)
        if m:
            info[m.group(1)] = m.group(2)
        if line.strip().startswith("inspect"):
            break
    return proc, info


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)


def test_cli_serves_https_and_reuses_its_ca_and_org(tmp_path: Path) -> None:
    data = tmp_path / "org" / "org.db"
    proc, first = _start(data)
    try:
        session = requests.Session()
        session.trust_env = False
        session.verify = first["CA certificate"]
        versions = session.get(f"{first['instance URL']}/services/data/")
        assert versions.status_code == 200
        faults = session.get(f"{first['instance URL']}/__sandbox/faults").json()
        assert faults["daily_limit"] == 50
        ca_bytes = Path(first["CA certificate"]).read_bytes()
    finally:
        _stop(proc)
    proc, second = _start(data)
    try:
        assert second["org id"] == first["org id"]
        assert second["password"] == first["password"]  # same seed, same credentials
        assert Path(second["CA certificate"]).read_bytes() == ca_bytes
    finally:
        _stop(proc)


def test_cli_rejects_an_unknown_fault(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "connector.cli", "sandbox", "--data", str(tmp_path / "o.db"),
         "--fault", "bogus=1"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Unknown fault switch 'bogus'" in result.stderr
