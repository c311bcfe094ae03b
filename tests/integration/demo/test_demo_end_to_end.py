"""`connector demo` end to end: generated data, the sandbox, provisioning, a sync, Tasks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connector.cli import main
from connector.demo.tour import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return run_demo(tmp_path_factory.mktemp("demo") / "connector-demo", accounts=60, days=60)


def test_values_land_on_accounts_and_leads(demo) -> None:
    report = demo.report
    assert report.status == "ok"
    assert report.push is not None
    assert report.push.ok["Account"] == demo.seeded.accounts
    assert report.push.ok["Lead"] >= 1
    assert report.push.failed.get("Lead", 0) == 0
    assert demo.accounts
    assert all(isinstance(a["Engagement_Score__c"], int | float) for a in demo.accounts)
    assert {a["Health_Rank__c"] for a in demo.accounts} <= {"Good", "Average", "Poor", None}


def test_tasks_are_opened_and_assigned(demo) -> None:
    assert demo.task_total >= 1
    assert all(t["Subject"] for t in demo.tasks)
    assert all(t["Owner"]["Email"] for t in demo.tasks)


def test_accounts_left_out_of_the_org_are_reported_unmatched(demo) -> None:
    assert demo.report.push.unmatched.get("Account", 0) == demo.seeded.left_out


def test_the_written_config_drives_the_other_commands(demo, capsys) -> None:
    config = demo.config_file
    assert config is not None
    assert config.exists()
    assert main(["status", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "sync" in out


def test_the_demo_command_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo-data", "--out", "sqlite:///product.db", "--accounts", "40"]) == 0
    code = main(["demo", "--dir", "d", "--source", "sqlite:///product.db"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Demo finished" in out
    assert "Tasks for the success team" in out
    said = " ".join(out.split())
    assert re.search(r"Unmatched: \d+ Accounts? ha(s|ve) no record in the org", said), said
    assert re.search(r"\d+ trial users? ha(s|ve) no open Lead", said), said
    # The config it wrote names its files absolutely: it works from any other folder.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    written = (tmp_path / "d" / "config.yaml").read_text(encoding="utf-8")
    assert f"sqlite:///{tmp_path / 'product.db'}" in written
    assert main(["status", "-c", str(tmp_path / "d" / "config.yaml")]) == 0
    assert "sync" in capsys.readouterr().out
    assert not list(elsewhere.iterdir())  # no store or database created here


def test_account_profile_from_the_demo_store(demo, capsys) -> None:
    import json

    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{demo.folder / 'store.db'}")
    with engine.connect() as conn:
        account_id, name = conn.execute(
            sa.text(
                "SELECT a.account_id, a.name FROM accounts a JOIN metrics m USING (account_id) "
                "WHERE a.status = 'paying' ORDER BY m.engagement_score DESC LIMIT 1"
            )
        ).one()
    engine.dispose()
    capsys.readouterr()
    assert main(["account", account_id, "-c", str(demo.config_file), "--json"]) == 0
    profile = json.loads(capsys.readouterr().out)
    assert profile["name"] == name
    assert profile["health_rank"] in ("good", "average", "poor")
    assert profile["health_reason"]
    assert set(profile["usage"]) == {"today", "yesterday", "3d", "7d", "14d", "30d"}
    assert profile["usage"]["30d"]["events"] >= profile["usage"]["7d"]["events"]
    assert profile["salesforce_id"].startswith("001")
    assert profile["pushed"]["Engagement_Score__c"] == profile["kpis"]["engagement_score"]
    assert main(["account", "no-such-account", "-c", str(demo.config_file)]) == 2


def test_the_demo_previews_your_own_database_without_touching_it(tmp_path: Path, capsys) -> None:
    import hashlib

    from connector.demo import DemoSpec, write_demo_db

    product = tmp_path / "mine.db"
    write_demo_db(f"sqlite:///{product}", DemoSpec(accounts=30, days=30, seed=11))
    digest = hashlib.sha256(product.read_bytes()).hexdigest()
    code = main(
        [
            "demo",
            "--dir",
            str(tmp_path / "d"),
            "--source",
            f"sqlite:///{product}",
            "--as-of",
            "2026-11-20T12:00:00Z",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Demo finished" in out
    assert hashlib.sha256(product.read_bytes()).hexdigest() == digest  # read, never written
    assert not (tmp_path / "d" / "product.db").exists()
