"""An admin changes a health threshold in YAML and sees the effect with `connector report`."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector.cli import main
from connector.demo import DemoSpec, write_demo_db
from connector.resources import shipped

AS_OF = "2026-06-15T12:00:00+00:00"


def report(config: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["report", "-c", str(config), "--json", "--as-of", AS_OF]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_stricter_good_rule_moves_accounts_from_good(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = f"sqlite:///{tmp_path / 'product.db'}"
    write_demo_db(
        source,
        DemoSpec(
            accounts=80,
            days=45,
            dirty_rows=False,
            as_of=datetime.fromisoformat(AS_OF).astimezone(UTC),
        ),
    )
    rules = tmp_path / "rules"
    shutil.copytree(shipped("mappings"), rules)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"source:\n  url: {source}\nstore:\n  url: sqlite:///{tmp_path}/s.db\nmappings: {rules}\n"
    )
    assert main(["pull", "-c", str(config)]) == 0
    before = report(config, capsys)["health"]
    assert before["good"] > 0

    health = rules / "health.yaml"
    text = health.read_text()
    old = "when: active_days(7) >= 2 and active_days(7, 7) >= 2"
    assert old in text
    health.write_text(text.replace(old, "when: active_days(7) >= 6 and active_days(7, 7) >= 6"))
    after = report(config, capsys)["health"]
    assert after["good"] < before["good"]
    assert after["good"] + after["average"] + after["poor"] == before["ranked"]
