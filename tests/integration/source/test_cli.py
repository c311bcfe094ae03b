"""`connector pull` and `connector status` end to end on SQLite files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from sourcedb import SourceDB, naive

from connector import clock
from connector.cli import main

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_and_restored() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)
    structlog.reset_defaults()  # the CLI pointed structlog at the captured stderr


@pytest.fixture
def config(tmp_path: Path, sqlite_source: SourceDB) -> Path:
    sqlite_source.create_generic()
    sqlite_source.insert("accounts", [{"account_id": "a1", "name": "Acme", "status": "paying"}])
    sqlite_source.insert("users", [{"user_id": "u1", "account_id": "a1"}])
    sqlite_source.insert(
        "events",
        [
            {
                "event_id": f"e{i}",
                "account_id": "a1",
                "user_id": "u1",
                "event": "login",
                "occurred_at": naive(NOW - timedelta(hours=i)),
            }
            for i in range(30)
        ]
        + [{"event_id": "bad", "account_id": "a1", "user_id": None, "occurred_at": naive(NOW)}],
    )
    path = tmp_path / "config.yaml"
    path.write_text(
        f"timezone: Europe/Paris\nsource:\n  url: {sqlite_source.url}\n"
        f"store:\n  url: sqlite:///{tmp_path / 'store.db'}\n",
        encoding="utf-8",
    )
    return path


def test_pull_then_status(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a brand-new SQLite store is created on first use (a PostgreSQL one needs db upgrade)
    assert main(["pull", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "events read (new)" in out
    assert "31 (30)" in out
    assert "events.no_user" in out

    assert main(["pull", "-c", str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["events_new"] == 0
    assert report["mode"] == "pushdown"
    assert report["connections"] == 1  # SQLite is never split
    assert (report["reread"], report["events_read"]) == (False, 0)

    assert main(["status", "-c", str(config), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["counts"]["accounts"] == 1
    assert status["counts"]["usage_daily"] >= 2
    assert [r["kind"] for r in status["runs"]] == ["pull", "pull"]
    # the second pull read nothing: status shows the bad rows of the latest pull that read
    assert status["last_pull_quarantined"] == {"events.no_user": 1}

    assert main(["pull", "-c", str(config)]) == 0
    assert "none (no change since the last pull)" in capsys.readouterr().out
    assert status["quarantined"] == {"events": {"no_user": 1}}
    assert status["watermarks"][0]["stream"] == "events"

    assert main(["status", "-c", str(config)]) == 0
    text = capsys.readouterr().out
    assert "Last runs" in text
    assert "no_user" in text


def test_bad_source_url_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"source:\n  url: nosuchdb://x\nstore:\n  url: sqlite:///{tmp_path / 's.db'}\n",
        encoding="utf-8",
    )
    assert main(["db", "upgrade", "-c", str(path)]) == 0
    assert main(["pull", "-c", str(path)]) == 2
    assert "source.url" in capsys.readouterr().err


def test_a_misspelt_column_rename_is_a_configuration_error_with_its_line(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`duraton_seconds: dur` would otherwise be ignored, leaving every duration NULL."""
    text = config.read_text(encoding="utf-8").replace(
        "\nstore:",
        "\n  tables:\n    events:\n      columns:\n        duraton_seconds: event\nstore:",
    )
    config.write_text(text, encoding="utf-8")
    assert main(["pull", "-c", str(config)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    # (a long path may be folded across lines)
    assert "config.yaml:7(source.tables.events.columns.duraton_seconds)" in err.replace(" ", "")
    assert "'duraton_seconds' is not a column of events" in err
    assert "did you mean 'duration_seconds'?" in err
    assert "event_id, account_id, user_id, event, module, occurred_at, duration_seconds" in err
