"""Records with no Salesforce record are 'unmatched' everywhere (plan, sync, status), never
counted as writes or push failures; a sync where nothing matched fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector.cli import main
from connector.config import load_settings
from connector.demo.tour import DEMO_SEED, DemoResult, run_demo
from connector.pipeline import open_store
from connector.sandbox.client_settings import salesforce_section
from connector.sandbox.harness import RunningSandbox, running_sandbox
from connector.store.status import store_status


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("unmatched") / "demo", accounts=30, days=40)


def config_file(demo: DemoResult, sb: RunningSandbox, folder: Path) -> Path:
    """A config for the demo's product database, a new store and the given sandbox."""
    path = folder / "config.yaml"
    data = {
        "source": {"url": demo.source_url},
        "store": {"url": f"sqlite:///{folder / 'store.db'}"},
        "salesforce": salesforce_section(sb),
    }
    path.write_text(yaml.safe_dump(data))
    return path


def plain(text: str) -> str:
    return " ".join(text.split())


def test_plan_says_records_never_matched_are_looked_up_when_pushed(
    demo: DemoResult, tmp_path: Path, capsys: Any
) -> None:
    shutil.copytree(demo.folder / "sandbox", tmp_path / "sandbox")
    with running_sandbox(tmp_path / "sandbox", seed=DEMO_SEED) as sb:
        config = str(config_file(demo, sb, tmp_path))
        assert main(["pull", "-c", config]) == 0
        capsys.readouterr()
        assert main(["plan", "-c", config, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert main(["plan", "-c", config]) == 0
        text = plain(capsys.readouterr().out)
    (account,) = [o for o in data["objects"] if o["object"] == "Account"]
    waiting = account["not_matched_yet"]
    assert waiting, "a first plan has accounts only an External ID can find"
    assert account["looked_up_by"] == ["Product_Account_Id__c"]
    written = account["changed_records"] - waiting
    assert (
        f"Account: {written} record(s) to write via sObject Collections; {waiting} not "
        "matched yet: looked up by Product_Account_Id__c when pushed" in text
    )


def test_a_sync_where_nothing_matched_fails_and_calls_them_unmatched(
    demo: DemoResult, tmp_path: Path, capsys: Any
) -> None:
    shutil.copytree(demo.folder / "sandbox", tmp_path / "sandbox")
    with running_sandbox(tmp_path / "sandbox", seed=DEMO_SEED) as sb:
        # an org with none of the product's accounts and trial users
        for sobject in ("Lead", "Account"):
            for row in list(sb.org.rows(sobject)):
                sb.org.delete(sobject, row["Id"], user_id=sb.user_id)
        config = config_file(demo, sb, tmp_path)
        code = main(["sync", "-c", str(config)])
        out = plain(capsys.readouterr().out)
        assert code == 1
        assert "Nothing was written" in out
        assert "0 written, 30 unmatched, 0 failed" in out
        assert "record(s) found no Salesforce record and were not written" in out
        assert "external ID" in out  # the fix
        assert "failure " not in out
        engine = open_store(load_settings(config))
        status = store_status(engine)
        engine.dispose()
    problems = status.push_problems
    assert problems["failures"] == []
    assert problems["skipped"]["unmatched"] >= 30
