"""`connector quarantine`: the kept source rows of a pulled demo database, grouped by reason
with what fixes them, filtered by reason and stream, whole in `--json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from connector import cli, pipeline
from connector.config import load_settings
from connector.demo import DemoSpec, write_demo_db
from connector.store.remedies import quarantine_remedy

DEMO_REASONS = {
    "duplicate_event_id",
    "future_timestamp",
    "negative_duration",
    "no_user",
    "unknown_account",
}


@pytest.fixture(scope="module")
def pulled_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("quarantine")
    product = f"sqlite:///{folder / 'product.db'}"
    write_demo_db(product, DemoSpec(accounts=20, days=10))
    config = folder / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"source": {"url": product}, "store": {"url": f"sqlite:///{folder / 'store.db'}"}}
        )
    )
    assert pipeline.run(load_settings(config, env={}), "pull").status == "ok"
    return config


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:  # type: ignore[type-arg]
    assert cli.main(["quarantine", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_every_kept_row_comes_with_its_reason_raw_row_and_fix(
    pulled_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _json(capsys, "-c", str(pulled_config), "--limit", "100")
    assert set(data["kept"]["events"]) == DEMO_REASONS
    assert len(data["rows"]) == sum(data["kept"]["events"].values())
    for row in data["rows"]:
        assert row["what_to_do"] == quarantine_remedy(row["reason"])
    no_user = [r for r in data["rows"] if r["reason"] == "no_user"]
    assert no_user
    assert all(r["raw"]["user_id"] is None for r in no_user)


def test_filters_by_reason_and_stream(
    pulled_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _json(capsys, "-c", str(pulled_config), "--reason", "unknown_account")
    assert {r["reason"] for r in data["rows"]} == {"unknown_account"}
    assert data["rows"]
    assert _json(capsys, "-c", str(pulled_config), "--stream", "users")["rows"] == []
    limited = _json(capsys, "-c", str(pulled_config), "--limit", "3")
    assert len(limited["rows"]) == 3


def test_text_groups_rows_by_reason_with_the_fix(
    pulled_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["quarantine", "-c", str(pulled_config), "--reason", "no_user"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "events · no_user (" in out
    assert "the event has no user_id and was not counted" in out
    assert "Showing" in out
    assert cli.main(["quarantine", "-c", str(pulled_config), "--reason", "nosuch"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "No kept rows match. Kept: events.duplicate_event_id" in out


def test_an_empty_store_has_nothing_quarantined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"store": {"url": f"sqlite:///{tmp_path / 's.db'}"}}))
    assert cli.main(["quarantine", "-c", str(config)]) == 0
    assert "No source rows are quarantined." in capsys.readouterr().out
