"""`connector follow`, `unfollow` and `alerts preview` from the command line."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from connector import cli, logs
from connector.cli import main
from connector.config import load_settings
from connector.pipeline import open_store
from connector.store import alertlog
from tests.unit.alerts.alert_store import add_account, score


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    """The commands point logging at the captured stderr; put it back on a stream that stays
    open, so later tests do not log into a closed capture."""
    logs.configure("warning", "json", stream=io.StringIO())
    yield
    structlog.reset_defaults()
    logs.configure("warning", "json", stream=io.StringIO())


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"store:\n  url: sqlite:///{tmp_path / 'store.db'}\n"
        "alerts:\n  smtp: {host: mail.invalid}\n"
    )
    engine = open_store(load_settings(path, env={}))
    add_account(engine, "a1", name="Acme")
    score(engine, {"a1": {}})
    return path


def _follows(config: Path) -> set[tuple[str, str, str, str]]:
    engine = open_store(load_settings(config, env={}))
    return {(f.email, f.kind, f.target, f.mode) for f in alertlog.load_follows(engine)}


def test_follow_and_unfollow_store_follows_and_mutes(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["follow", "Head@Example.com", "at-risk", "-c", str(config)]) == 0
    assert main(["follow", "head@example.com", "a1", "-c", str(config)]) == 0
    assert "head@example.com now follows account a1." in capsys.readouterr().out
    assert main(["unfollow", "head@example.com", "at-risk", "-c", str(config)]) == 0
    assert "(removed)" in capsys.readouterr().out
    # a CSM's own book comes from the default: unfollowing it mutes it
    assert main(["unfollow", "alice@example.com", "csm:alice@example.com", "-c", str(config)]) == 0
    assert "(muted)" in capsys.readouterr().out
    assert _follows(config) == {
        ("head@example.com", "account", "a1", "follow"),
        ("alice@example.com", "csm", "alice@example.com", "mute"),
    }


def test_an_unknown_target_is_a_clear_input_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["follow", "head@example.com", "nope", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert "No account 'nope' is in the store" in err
    assert "Fix:" in err
    assert main(["follow", "not-an-email", "a1", "-c", str(config)]) == 2


def test_preview_prints_what_would_go_out_without_recording(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["alerts", "preview", "-c", str(config)]) == 0
    assert "First pass" in capsys.readouterr().out
    assert main(["alerts", "run", "-c", str(config), "--as-of", "2026-03-10T12:00:00Z"]) == 0
    engine = open_store(load_settings(config, env={}))
    score(engine, {"a1": {"health_rank": "poor"}})
    capsys.readouterr()
    assert main(["alerts", "preview", "-c", str(config), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(a["rule"], a["channel"], a["recipient"]) for a in shown["alerts"]] == [
        ("health-turned-poor", "email", "alice@example.com")
    ]
    assert shown["skipped"]["chatter: the account has no Salesforce record yet"] == 1
    assert alertlog.deliveries(engine, ["pending", "sent", "failed"]) == []
    assert main(["alerts", "preview", "-c", str(config)]) == 0
    assert "Alerts that would go out (1, 1 deliveries)" in capsys.readouterr().out


def test_follows_lists_books_follows_and_mutes(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.console, "width", 160)  # one table row per line
    assert main(["follow", "head@example.com", "a1", "-c", str(config)]) == 0
    assert main(["unfollow", "alice@example.com", "a1", "-c", str(config)]) == 0
    capsys.readouterr()
    assert main(["alerts", "follows", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "csm alice@example.com" in out
    assert "account a1" in out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "@" in line}
    assert lines["alice@example.com"].rstrip("│ ").endswith("0")  # muted her only account
    assert lines["head@example.com"].rstrip("│ ").endswith("1")
