"""alerts.yaml: the shipped file loads; every mistake is reported at once with file, line, fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.alerts.rules import load_alert_rules
from connector.errors import ConfigError

MILESTONES = ["activated", "first_value"]


def _load(tmp_path: Path, text: str, webhooks: list[str] | None = None) -> list[str]:
    (tmp_path / "alerts.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_alert_rules(tmp_path, milestones=MILESTONES, webhooks=webhooks or [])
    return [str(p) for p in caught.value.problems]


def test_the_shipped_file_loads_with_a_trigger_per_rule() -> None:
    rules = load_alert_rules(None, milestones=MILESTONES, webhooks=[])
    assert {r.trigger for r in rules.rules} == {"condition", "milestone", "tag_added", "changed"}
    assert rules.csm_book is True
    assert rules.segment("at-risk") is not None


def test_a_folder_without_the_file_falls_back_to_the_shipped_one(tmp_path: Path) -> None:
    rules = load_alert_rules(tmp_path, milestones=MILESTONES, webhooks=[])
    assert rules.path.endswith("mappings/alerts.yaml")


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    problems = _load(
        tmp_path,
        """\
segments:
  busy: {when: 'first_seen("login") == null'}
follows:
  people:
    - email: lead@example.com
      segments: [nowhere]
alerts:
  - name: two-triggers
    when: health_rank == "poor"
    tag_added: at-risk
  - name: typo
    wen: health_rank == "poor"
  - name: bad-channel
    milestone: first_valu
    channels: [pager]
    webhooks: [ops]
  - name: bad-condition
    when: health_rank == "terrible"
""",
    )
    text = "\n".join(problems)
    assert "alerts.yaml:2 (segments.busy.when): first_seen() needs every account's whole" in text
    assert "alerts.yaml:6 (follows.people.0.segments.0): there is no segment 'nowhere'" in text
    assert (
        "alerts.yaml:8 (alerts.0): an alert needs exactly one trigger (found when, tag_added)"
        in text
    )
    assert "alerts.yaml:12 (alerts.1.wen): unknown key 'wen'" in text
    assert "alerts.yaml:15 (alerts.2.channels.0): 'pager' is not a channel" in text
    assert "alerts.yaml:16 (alerts.2.webhooks.0): no webhook is configured as 'ops'" in text
    assert "alerts.yaml:14 (alerts.2.milestone): there is no milestone 'first_valu'" in text
    assert "alerts.yaml:18 (alerts.3.when)" in text
    assert all("Fix:" in p for p in problems)


def test_names_must_be_unique_and_recipients_addresses(tmp_path: Path) -> None:
    problems = _load(
        tmp_path,
        """\
alerts:
  - name: churn
    when: status == "cancelled"
    to: [not-an-address]
  - name: churn
    when: status == "cancelled"
""",
    )
    text = "\n".join(problems)
    assert "(alerts.0.to.0): 'not-an-address' is not an email address" in text
    assert "(alerts.1.name): the alert 'churn' is defined twice" in text


def test_changed_names_a_known_value(tmp_path: Path) -> None:
    problems = _load(tmp_path, "alerts:\n  - {name: p, changed: plna}\n")
    assert problems == [
        f"{tmp_path / 'alerts.yaml'}:2 (alerts.0.changed): 'plna' is not a metric, result, "
        "account field or attribute. Fix: did you mean 'plan'? Write e.g. changed: plan, "
        "changed: engagement_score or changed: attributes.region."
    ]
