"""Job definitions: the shipped defaults, schedule overrides, and errors that name the line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connector.config import load_settings, settings_from_data
from connector.daemon.jobs import (
    apply_schedule,
    load_job_file,
    parse_job_file,
    resolve_jobs,
    start_times,
)
from connector.errors import ConfigError
from connector.mapping.check import run_check
from connector.yamlfile import parse_yaml

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_shipped_defaults_run_each_stage_every_15_minutes_and_snapshot_daily() -> None:
    jobs = {j.name: j for j in load_job_file()}
    # default.yaml first, then the other shipped files (alerts.yaml) in name order
    assert list(jobs)[:4] == ["pull", "score", "push", "snapshot"]
    assert {"alerts", "digest"} <= set(jobs)
    for name in ("pull", "score", "push"):
        assert jobs[name].stage == name
        assert jobs[name].every_minutes == 15
        assert jobs[name].run_at_start
    assert jobs["snapshot"].cron == "5 0 * * *"
    assert not jobs["snapshot"].run_at_start
    assert jobs["push"].pushes
    assert not jobs["pull"].pushes


def test_snapshot_runs_at_00_05_in_the_configured_zone() -> None:
    snapshot = next(j for j in load_job_file() if j.name == "snapshot")
    berlin = ZoneInfo("Europe/Berlin")
    trigger = snapshot.trigger(berlin, T0)
    fire = trigger.get_next_fire_time(None, T0.astimezone(berlin))
    assert fire is not None
    assert (fire.hour, fire.minute) == (0, 5)
    assert fire.utcoffset() == timedelta(hours=1)


def test_schedule_overrides_interval_cron_and_disabled() -> None:
    settings = settings_from_data(
        {
            "schedule": {
                "pull": {"every_minutes": 5},
                "push": {"cron": "*/30 * * * *"},
                "snapshot": {"enabled": False},
            }
        },
        None,
        {},
    )
    jobs = {j.name: j for j in resolve_jobs(settings)}
    assert jobs["pull"].every_minutes == 5
    assert jobs["pull"].cron is None
    assert jobs["push"].cron == "*/30 * * * *"
    assert jobs["push"].every_minutes is None
    assert not jobs["push"].run_at_start
    assert not jobs["snapshot"].enabled
    assert jobs["snapshot"].schedule_text() == "disabled"
    assert jobs["score"].every_minutes == 15


def test_unknown_job_in_schedule_names_the_config_line(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("timezone: UTC\nschedule:\n  pusj: {every_minutes: 5}\n")
    settings = load_settings(cfg, env={})
    with pytest.raises(ConfigError) as err:
        resolve_jobs(settings)
    text = str(err.value)
    assert f"{cfg}:3 (schedule.pusj)" in text
    assert "no job called 'pusj'" in text
    assert "pull, score, push, snapshot" in text


def test_check_reports_what_run_would_refuse_in_the_schedule(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "schedule:\n  pull: {every_minutes: 5, cron: '* * * * *'}\n  pusj: {every_minutes: 5}\n"
    )
    problems = run_check(load_settings(cfg, env={}), None).problems
    where = {p.where for p in problems}
    assert {f"{cfg}:2 (schedule.pull)", f"{cfg}:3 (schedule.pusj)"} <= where


def test_both_timings_in_the_schedule_are_an_error() -> None:
    settings = settings_from_data(
        {"schedule": {"pull": {"every_minutes": 5, "cron": "* * * * *"}}}, None, {}
    )
    with pytest.raises(ConfigError) as err:
        apply_schedule(load_job_file(), settings)
    assert len(err.value.problems) == 1
    assert "both every_minutes and cron" in err.value.problems[0].message


def test_a_bad_cron_in_a_job_file_names_the_line() -> None:
    doc = parse_yaml("jobs:\n  pull:\n    stage: pull\n    cron: '61 * * * *'\n", "jobs.yaml")
    with pytest.raises(ConfigError) as err:
        parse_job_file(doc)
    (problem,) = err.value.problems
    assert problem.where == "jobs.yaml:2 (jobs.pull)"
    assert "is not a cron expression" in problem.message
    assert "five fields" in problem.fix


def test_duplicate_job_names_across_files_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text("jobs:\n  pull: {stage: pull, every_minutes: 5}\n")
    (tmp_path / "more.yaml").write_text("jobs:\n  pull: {stage: score, every_minutes: 5}\n")
    with pytest.raises(ConfigError) as err:
        load_job_file(tmp_path)
    assert "already defined at" in err.value.problems[0].message
    assert str(tmp_path / "more.yaml") in err.value.problems[0].where


def test_job_file_errors_name_file_line_and_fix() -> None:
    doc = parse_yaml(
        "jobs:\n"
        "  pull:\n"
        "    stage: pul\n"
        "    every_minutes: 15\n"
        "  score:\n"
        "    stage: score\n"
        "    every_minute: 15\n",
        "jobs.yaml",
    )
    with pytest.raises(ConfigError) as err:
        parse_job_file(doc)
    wheres = [p.where for p in err.value.problems]
    assert "jobs.yaml:3 (jobs.pull.stage)" in wheres
    assert "jobs.yaml:7 (jobs.score.every_minute)" in wheres
    assert any("one of pull, score, push" in p.fix for p in err.value.problems)


def test_a_job_without_timing_is_an_error() -> None:
    doc = parse_yaml("jobs:\n  pull:\n    stage: pull\n", "jobs.yaml")
    with pytest.raises(ConfigError) as err:
        parse_job_file(doc)
    assert err.value.problems[0].where == "jobs.yaml:2 (jobs.pull)"
    assert "no timing" in err.value.problems[0].message


def test_jobs_due_together_start_in_file_order() -> None:
    jobs = load_job_file()
    starts = start_times(jobs, T0)
    ordered = sorted(starts, key=starts.__getitem__)
    assert ordered == [j.name for j in jobs]
    pull = jobs[0]
    trigger = pull.trigger(ZoneInfo("UTC"), starts["pull"])
    # the first run is at start-up; later ones keep the same offset, so the order holds
    assert trigger.get_next_fire_time(starts["pull"], starts["pull"]) == starts["pull"] + timedelta(
        minutes=15
    )


def test_interval_job_not_run_at_start_waits_one_interval() -> None:
    doc = parse_yaml(
        "jobs:\n  pull:\n    stage: pull\n    every_minutes: 10\n    run_at_start: false\n",
        "j.yaml",
    )
    (job,) = parse_job_file(doc)
    assert job.first_run(T0) is None
    fire = job.trigger(ZoneInfo("UTC"), T0).get_next_fire_time(None, T0)
    assert fire == T0 + timedelta(minutes=10)
