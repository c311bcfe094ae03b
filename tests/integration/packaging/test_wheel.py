"""A plain, non-editable install works from any directory, shipped folders included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            str(ROOT),
            "-w",
            str(out),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = out.glob("engagement_connector-*.whl")
    target = out / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    return target


def test_the_wheel_carries_the_shipped_folders_inside_the_package(installed: Path) -> None:
    shipped = installed / "connector" / "_shipped"
    assert (shipped / "mappings" / "salesforce.yaml").is_file()
    assert (shipped / "mappings" / "health.yaml").is_file()
    assert any((shipped / "jobs").glob("*.yaml"))
    assert (shipped / "migrations" / "env.py").is_file()
    # no second generic import name
    top_level = {p.name for p in installed.iterdir() if not p.name.endswith(".dist-info")}
    assert top_level <= {"connector", "bin"}


def test_the_command_runs_from_any_directory(installed: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "salesforce:\n  auth: password\n  username: u@example.com\n"
        "  password: ${SF_PASSWORD}\n  security_token: ''\n"
    )
    env = {**os.environ, "PYTHONPATH": str(installed), "SF_PASSWORD": "not-used-offline"}
    cwd = tmp_path  # not the source tree: only the installed package is importable
    result = subprocess.run(
        [sys.executable, "-m", "connector.cli", "check", "--offline", "-c", str(config)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    probe = subprocess.run(
        [sys.executable, "-c", "import connector; print(connector.__file__)"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip().startswith(str(installed))


def test_a_fresh_sqlite_store_migrates_from_the_installed_package(
    installed: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(installed),
        "CONNECTOR__STORE__URL": f"sqlite:///{tmp_path / 'store.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "connector.cli", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    from connector.store.migrate import head_revision

    assert f"store is at revision {head_revision()}" in result.stdout
