"""`connector report`: text, --json and a self-contained --html page from a scored store."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from connector import cli, pipeline
from connector.config import load_settings
from connector.demo import DemoSpec, write_demo_db


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
