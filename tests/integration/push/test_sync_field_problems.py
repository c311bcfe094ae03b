"""A sync whose mapping names a missing field, a label the picklist does not allow and a value
too large for its field says so: in its summary, its JSON, the log and the run's record."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import pytest
from rich.console import Console

from connector import logs
from connector.demo.tour import DEMO_SEED, DemoResult, run_demo
from connector.pipeline import open_store, run
from connector.resources import shipped
from connector.run_view import summary
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import running_sandbox
from connector.store import bookkeeping


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("problems") / "demo", accounts=30, days=40)


def broken_mappings(folder: Path) -> Path:
    """The shipped mappings with three mistakes on Account."""
    shutil.copytree(shipped("mappings"), folder)
    path = folder / "salesforce.yaml"
    text = path.read_text()
    text = text.replace("picklist: {good: Good,", "picklist: {good: Great,", 1)
    text = text.replace(
        '    Active_Days_14d__c: {source: active_days_14d, type: "Number(3,0)"}\n',
        '    Active_Days_14d__c: {source: events_30d, transform: percent, type: "Number(3,0)"}\n'
        '    Not_A_Field__c: {source: active_days_14d, type: "Number(3,0)"}\n',
        1,
    )
    path.write_text(text)
    return folder


def test_sync_reports_field_problems_per_field_and_kind(
    demo: DemoResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = demo.folder
    with running_sandbox(folder / "sandbox", seed=DEMO_SEED) as sb:
        settings = settings_for(
            sb,
            source={"url": demo.source_url},
            store={"url": f"sqlite:///{folder / 'store.db'}"},
            mappings=str(broken_mappings(tmp_path / "mappings")),
        )
        err = io.StringIO()
        monkeypatch.setattr(sys, "stderr", err)
        logs.configure("info", "json")
        report = run(settings, "sync")
    assert report.status == "ok"
    assert report.plan is not None
    assert report.push is not None
    kinds = {(p.field, p.kind): p for p in report.plan.problems}
    assert set(kinds) == {
        ("Health_Rank__c", "not_in_picklist"),
        ("Active_Days_14d__c", "too_large"),
        ("Not_A_Field__c", "missing_field"),
    }
    assert report.push.ok["Account"] > 0
    assert kinds[("Not_A_Field__c", "missing_field")].count >= report.push.ok["Account"]

    # the summary: one entry per problem with its count, example and fix, and written
    # records that went without a field are said to
    console = Console(width=200, record=True)
    console.print(summary(report))
    text = console.export_text()
    assert text.count("field problem") == 3
    assert "'Great' is not a value of this restricted picklist" in text
    assert "Account.Not_A_Field__c: the field does not exist" in text
    written = report.push.ok["Account"]
    assert f"{written:,} written ({written:,} with field(s) left out)" in text

    # the JSON
    data = json.loads(json.dumps(report.as_dict(), default=str))
    assert {p["kind"] for p in data["field_problems"]} == {
        "not_in_picklist",
        "too_large",
        "missing_field",
    }
    assert all(p["fix"] and p["example"]["record"] for p in data["field_problems"])
    assert data["push"]["ok_with_fields_left_out"] == {"Account": written}

    # the log: one structured event per problem kind
    events = [json.loads(line) for line in err.getvalue().splitlines() if line.startswith("{")]
    problems = [e for e in events if e["event"] == "push.field_problem"]
    assert sorted(e["kind"] for e in problems) == ["missing_field", "not_in_picklist", "too_large"]
    assert all(e["level"] == "warning" and e["records"] >= 1 and e["fix"] for e in problems)

    # the run's record, which `connector status` shows
    engine = open_store(settings)
    (row,) = [r for r in bookkeeping.recent_runs(engine, 5) if r.run_id == report.run_id]
    assert len(row.counts["field_problems"]) == 3
    assert any("Account.Health_Rank__c not in picklist" in n for n in row.counts["notes"])
