"""`connector report`: text, --json and a self-contained --html page from a scored store."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from connector import cli, pipeline
from connector.config import load_settings
from connector.demo import DemoSpec, write_demo_db
from connector.store.accounts import iter_accounts
from connector.store.results import load_metrics
from connector.store.rollups import usage_bounds


@pytest.fixture(scope="module")
def scored_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    product = f"sqlite:///{folder / 'product.db'}"
    write_demo_db(product, DemoSpec(accounts=40, days=45))
    config = folder / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"source": {"url": product}, "store": {"url": f"sqlite:///{folder / 'store.db'}"}}
        )
    )
    settings = load_settings(config, env={})
    assert pipeline.run(settings, "pull").status == "ok"
    assert pipeline.run(settings, "score").status == "ok"
    return config


def test_json_report_summarises_health_segments_and_trend(
    scored_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "-c", str(scored_config), "--json", "--days", "30"]) == 0
    data = json.loads(capsys.readouterr().out)
    health = data["health"]
    assert health["ranked"] == health["good"] + health["average"] + health["poor"] > 0
    assert 0 <= health["score"] <= 100
    assert len(data["trend"]) == 30
    assert any(day["ranked"] for day in data["trend"])  # the back-filled history
    assert set(data["by_segment"]) == {"csm_email", "company_size"}
    csm_total = sum(g["ranked"] for g in data["by_segment"]["csm_email"].values())
    assert csm_total == health["ranked"]
    assert data["engaged_evaluations_by_month"]


def test_html_report_is_one_self_contained_page(
    scored_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "health.html"
    assert cli.main(["report", "-c", str(scored_config), "--html", str(out)]) == 0
    assert "HTML report written" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for external in ("<script", "<link", "<img", "src=", "@import", "url("):
        assert external not in page
    urls = set(re.findall(r"https?://[^\"' <]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}
    charts = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(charts) == 5  # distribution, trend, CSM, company size, evaluations
    for chart in charts:
        ET.fromstring(chart)
    for heading in (
        "Health distribution",
        "Health score trend",
        "Health by CSM",
        "Health by company size",
        "Engaged evaluations by month",
    ):
        assert heading in page
    assert "<polyline" in charts[1]


def test_unwritable_html_path_is_an_input_error(scored_config: Path, tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "r.html"
    assert cli.main(["report", "-c", str(scored_config), "--html", str(target)]) == 2


def test_an_empty_store_says_what_to_run_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"store": {"url": f"sqlite:///{tmp_path / 'store.db'}"}}))
    assert cli.main(["report", "-c", str(config)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Nothing to report yet: no account has been scored." in out
    assert "connector pull" in out
    assert "Health by CSM" not in out


def test_only_what_the_usage_data_covers_is_reported(
    scored_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "-c", str(scored_config), "--json", "--days", "90"]) == 0
    data = json.loads(capsys.readouterr().out)
    usage_from = date.fromisoformat(data["usage_from"])
    assert data["health_window_days"] == 14  # the shipped rules: two 7-day windows
    complete_from = usage_from + timedelta(days=13)
    assert data["trend_complete_from"] == complete_from.isoformat()
    days = [date.fromisoformat(d["day"]) for d in data["trend"]]
    # the first days' windows reach back before the data: left out, not shown as poor health
    assert days[0] == complete_from
    assert days == [complete_from + timedelta(days=i) for i in range(len(days))]
    # trials that started before any usage was recorded are not counted as 0 % engaged
    months = [m["month"] for m in data["engaged_evaluations_by_month"]]
    assert months
    assert min(months) >= usage_from.strftime("%Y-%m")
    assert data["trials_before_usage"] > 0


def test_text_and_html_say_why_the_trend_starts_late(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    product = f"sqlite:///{tmp_path / 'product.db'}"
    write_demo_db(product, DemoSpec(accounts=30, days=20))  # fewer days than the trend shows
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"source": {"url": product}, "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"}}
        )
    )
    assert pipeline.run(load_settings(config, env={}), "pull").status == "ok"
    assert cli.main(["report", "-c", str(config), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    complete_from = data["trend_complete_from"]
    assert data["trend"][0]["day"] == complete_from
    assert cli.main(["report", "-c", str(config)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"last {len(data['trend'])} days" in out
    assert f"The health trend starts on {complete_from}" in out
    assert f"the usage data starts on {data['usage_from']}" in out
    if data["trials_before_usage"]:
        assert "started before the usage data" in out
    page = tmp_path / "r.html"
    assert cli.main(["report", "-c", str(config), "--html", str(page)]) == 0
    assert f"The health trend starts on {complete_from}" in page.read_text(encoding="utf-8")


def test_trials_still_in_their_evaluation_period_show_as_in_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    as_of = datetime(2026, 6, 9, 12, tzinfo=UTC)  # June's trials are all under 14 days old
    product = f"sqlite:///{tmp_path / 'product.db'}"
    write_demo_db(product, DemoSpec(accounts=80, days=60, as_of=as_of, dirty_rows=False))
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"source": {"url": product}, "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"}}
        )
    )
    settings = load_settings(config, env={})
    assert pipeline.run(settings, "pull").status == "ok"
    capsys.readouterr()  # the pull's log lines
    args = ["report", "-c", str(config), "--as-of", as_of.isoformat()]
    assert cli.main([*args, "--json"]) == 0
    months = {
        m["month"]: m for m in json.loads(capsys.readouterr().out)["engaged_evaluations_by_month"]
    }

    # which trials are still being evaluated, from the stored accounts and verdicts
    engine = pipeline.open_store(settings)
    verdicts = {a: m.values.get("engaged_evaluation") for a, m in load_metrics(engine).items()}
    usage_from, _ = usage_bounds(engine)
    assert usage_from is not None
    started: dict[str, list[tuple[bool, bool]]] = {}
    for a in iter_accounts(engine):
        start = a.trial_started_at or a.created_at
        if verdicts.get(a.account_id) is None or start is None:
            continue
        day = start.astimezone(UTC).date()
        if day >= usage_from:
            running = (as_of.date() - day).days < 14
            started.setdefault(day.strftime("%Y-%m"), []).append((running, verdicts[a.account_id]))
    june = months["2026-06"]
    assert june["trials"] == june["in_progress"] == len(started["2026-06"]) > 0
    assert any(engaged for _, engaged in started["2026-06"])  # early successes wait too
    assert june["engaged"] == 0
    assert june["ratio"] is None  # not 0 %: nothing has failed yet
    for month, trials in started.items():
        decided = [engaged for running, engaged in trials if not running]
        assert months[month]["in_progress"] == len(trials) - len(decided)
        assert months[month]["engaged"] == sum(decided)
        ratio = months[month]["ratio"]
        assert ratio == (pytest.approx(sum(decided) / len(decided)) if decided else None)
    assert months["2026-05"]["in_progress"] > 0  # the end of May is still being evaluated

    assert cli.main([*args, "--no-score"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "in progress" in out
    assert "In progress: trials still in their first 14 days" in out
    row = re.search(r"│ 2026-06 │ (\d+) │ (\d+) │ (\d+) │ (\S+) │", out)
    assert row is not None
    assert row.groups() == (str(june["trials"]), "0", str(june["in_progress"]), "—")
    page = tmp_path / "r.html"
    assert cli.main([*args, "--no-score", "--html", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "<th>in progress</th>" in html
    assert "In progress: trials still in their first 14 days" in html
    cells = f'<td class="">2026-06</td><td class="n">{june["trials"]}</td><td class="n">0</td>'
    assert f'{cells}<td class="n">{june["in_progress"]}</td><td class="n">—</td>' in html
