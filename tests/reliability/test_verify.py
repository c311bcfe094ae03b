"""`connector verify`: read back what was pushed, report drift, repair just the drifted fields."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connector.cli import main
from connector.config import load_settings
from connector.pipeline import open_store, run
from connector.push import verify as verify_mod
from connector.push.verify import choose_method, normalise, verify
from connector.salesforce.client import SalesforceClient
from tests.reliability.world import AS_OF, Template, Trial, trial

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def synced(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trial]:
    """A trial world after one complete sync (run in-process)."""
    with trial(template, tmp_path_factory.mktemp("verify") / "t") as t:
        settings = load_settings(t.config)
        engine = open_store(settings)
        assert run(settings, "sync", as_of=AS_OF, store=engine).status == "ok"
        engine.dispose()
        yield t


def rest_update(t: Trial, sobject: str, record_id: str, values: dict[str, Any]) -> None:
    """Change a record behind the connector's back, as a user or a trigger would."""
    response = httpx.patch(
        f"{t.sandbox.instance_url}/services/data/v62.0/sobjects/{sobject}/{record_id}",
        json=values,
        headers={"Authorization": f"Bearer {t.sandbox.access_token()}"},
        verify=ssl.create_default_context(cafile=str(t.sandbox.ca_file)),
        timeout=10.0,
    )
    assert response.status_code == 204, response.text


# accounts other tests change behind the connector's back
TOUCHED = {"acc_00001", "acc_00002", "acc_00003", "acc_00004", "acc_00006"}


def pushed_account(t: Trial, key: str = "acc_00001") -> str:
    return next(r["Id"] for r in t.sandbox.org.rows("Account") if r.get(t.template.match_field)
                == key)  # fmt: skip


def check(t: Trial, **kwargs: Any) -> verify_mod.VerifyReport:
    settings = load_settings(t.config)
    engine = open_store(settings)
    try:
        with SalesforceClient(settings) as client:
            return verify(settings, engine, client, sleep=lambda s: None, **kwargs)
    finally:
        engine.dispose()


def test_a_fresh_sync_verifies_clean(synced: Trial) -> None:
    report = check(synced)
    assert report.clean, report.as_dict()
    assert report.records["Account"] >= 20
    assert report.records["Lead"] >= 10
    assert report.fields["Account"] >= report.records["Account"] * 10
    assert report.methods == {"Account": "soql", "Lead": "soql"}
    assert report.api_calls <= 6  # two describes, one query per object (and a login)


def test_manual_edit_is_reported_repaired_and_then_clean(synced: Trial) -> None:
    account_id = pushed_account(synced)
    rest_update(synced, "Account", account_id, {"Engagement_Score__c": 3, "Health_Rank__c": "Poor"})
    report = check(synced)
    drift = {(d.sobject, d.key, d.field): (d.expected, d.actual) for d in report.drift}
    assert set(drift) == {
        ("Account", "acc_00001", "Engagement_Score__c"),
        ("Account", "acc_00001", "Health_Rank__c"),
    }
    assert drift[("Account", "acc_00001", "Health_Rank__c")][1] == "Poor"
    before = synced.sandbox.counters()["calls"].get("collections", 0)
    repaired = check(synced, repair=True)
    assert repaired.repair is not None
    assert repaired.repaired == 1
    assert synced.sandbox.counters()["calls"].get("collections", 0) == before + 1
    record = synced.sandbox.org.record(account_id)
    assert record is not None
    fields = record[1]
    assert fields["Health_Rank__c"] == drift[("Account", "acc_00001", "Health_Rank__c")][0]
    assert (
        fields["Engagement_Score__c"] == drift[("Account", "acc_00001", "Engagement_Score__c")][0]
    )
    assert check(synced).clean


def test_repair_sends_only_the_drifted_fields(synced: Trial) -> None:
    lead = next(r for r in synced.sandbox.org.rows("Lead") if r.get("Lifecycle_Stage__c"))
    rest_update(synced, "Lead", lead["Id"], {"Lifecycle_Stage__c": "Churned"})
    report = check(synced)
    plan = verify_mod.repair_plan(report.drift, bulk_threshold=2_000)
    (obj,) = plan.objects
    (change,) = obj.changes
    assert change.values == {"Lifecycle_Stage__c": lead["Lifecycle_Stage__c"]}
    check(synced, repair=True)
    assert check(synced).clean


def test_bulk_query_reads_the_same_as_soql(synced: Trial) -> None:
    account_id = pushed_account(synced, "acc_00002")
    rest_update(synced, "Account", account_id, {"Product_Tags__c": "at-risk", "DAU_MAU__c": 1.5})
    by_soql = check(synced, method="soql")
    by_bulk = check(synced, method="bulk")
    assert by_bulk.methods == {"Account": "bulk", "Lead": "bulk"}
    assert by_bulk.records == by_soql.records
    assert [(d.key, d.field) for d in by_bulk.drift] == [(d.key, d.field) for d in by_soql.drift]
    assert {d.field for d in by_soql.drift} == {"Product_Tags__c", "DAU_MAU__c"}
    check(synced, repair=True)
    assert check(synced, method="bulk").clean


def test_tags_set_by_hand_are_not_drift_and_a_repair_keeps_them(synced: Trial) -> None:
    # tags_mode: merge (the default): a person may add their own values to the tags field
    row = next(
        r
        for r in sorted(synced.sandbox.org.rows("Account"), key=lambda r: str(r.get("Id")))
        if r.get(synced.template.match_field)
        and r.get("Product_Tags__c")
        and r[synced.template.match_field] not in TOUCHED
    )
    account_id, key = row["Id"], row[synced.template.match_field]
    ours = [v for v in row["Product_Tags__c"].split(";") if v]
    rest_update(synced, "Account", account_id, {"Product_Tags__c": ";".join([*ours, "vip"])})
    report = check(synced)
    assert not [d for d in report.drift if d.key == key], report.as_dict()
    assert main(["verify", "-c", str(synced.config)]) == 0
    # one of the connector's tags removed by hand is drift; the repair puts it back and keeps
    # the value set by hand
    rest_update(synced, "Account", account_id, {"Product_Tags__c": ";".join([*ours[1:], "vip"])})
    report = check(synced)
    assert [(d.key, d.field) for d in report.drift] == [(key, "Product_Tags__c")]
    check(synced, repair=True)
    record = synced.sandbox.org.record(account_id)
    assert record is not None
    assert set(record[1]["Product_Tags__c"].split(";")) == {*ours, "vip"}
    assert check(synced).clean
    # a connector tag the account does not carry, added by hand, is drift too
    stray = next(t for t in ("at-risk", "dormant", "onboarding") if t not in ours)
    rest_update(synced, "Account", account_id, {"Product_Tags__c": ";".join([*ours, "vip", stray])})
    assert [(d.key, d.field) for d in check(synced).drift] == [(key, "Product_Tags__c")]
    check(synced, repair=True)
    record = synced.sandbox.org.record(account_id)
    assert record is not None
    assert set(record[1]["Product_Tags__c"].split(";")) == {*ours, "vip"}


def test_a_deleted_record_is_reported_missing(synced: Trial) -> None:
    account_id = pushed_account(synced, "acc_00003")
    synced.sandbox.org.delete("Account", account_id, user_id=synced.sandbox.user_id)
    report = check(synced)
    assert [(m.sobject, m.key) for m in report.missing] == [("Account", "acc_00003")]


def open_task_rules(t: Trial, key: str) -> list[str]:
    engine = open_store(load_settings(t.config))
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT rule FROM tasks WHERE record_id = ? AND state = 'open'", (key,)
            )
            return [r[0] for r in rows]
    finally:
        engine.dispose()


def account_with_an_open_task(t: Trial) -> str:
    engine = open_store(load_settings(t.config))
    try:
        with engine.connect() as conn:
            keys = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT record_id FROM tasks WHERE object = 'Account' AND state = 'open' "
                    "ORDER BY record_id"
                )
            ]
    finally:
        engine.dispose()
    return next(k for k in keys if k not in TOUCHED)


def test_a_deleted_record_is_forgotten_so_the_next_push_looks_it_up_again(
    synced: Trial, capsys: Any
) -> None:
    key = account_with_an_open_task(synced)
    account_id = pushed_account(synced, key)
    synced.sandbox.org.delete("Account", account_id, user_id=synced.sandbox.user_id)
    config = str(synced.config)
    assert main(["verify", "-c", config]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert f"missing: Account {key}" in out
    assert "the next sync looks it up again and sends every field" in out
    # the record's open Task went with it
    assert open_task_rules(synced, key) == []
    # the next push does not think Salesforce still holds the values: it looks the record up
    # (by its External ID) and, finding none, reports it unmatched
    settings = load_settings(synced.config)
    engine = open_store(settings)
    try:
        report = run(settings, "push", as_of=AS_OF, store=engine)
    finally:
        engine.dispose()
    assert report.push is not None
    assert key in [f.match_key for f in report.push.failures if f.reason == "unmatched"]
    # and verify no longer reports it missing: it is unmatched, as the push said
    assert key not in {m.key for m in check(synced).missing}


def test_repair_re_sends_a_deleted_record_once_it_can_be_matched_again(
    synced: Trial, capsys: Any
) -> None:
    key = "acc_00006"
    old_id = pushed_account(synced, key)
    before = synced.sandbox.org.record(old_id)
    assert before is not None
    # merged away in Salesforce: the surviving record carries the External ID, none of our fields
    synced.sandbox.org.delete("Account", old_id, user_id=synced.sandbox.user_id)
    survivor = synced.sandbox.org.create(
        "Account",
        {"Name": "Survivor", synced.template.match_field: key},
        user_id=synced.sandbox.user_id,
    )
    assert main(["verify", "-c", str(synced.config), "--repair"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"missing: Account {key}" in out
    assert f"matched again as {survivor.id}" in out
    record = synced.sandbox.org.record(survivor.id)
    assert record is not None
    for name in ("Engagement_Score__c", "Lifecycle_Stage__c", "Last_Active__c"):
        assert record[1].get(name) == before[1].get(name), name
    report = check(synced)
    assert key not in {m.key for m in report.missing}
    assert not [d for d in report.drift if d.key == key]


def test_cli_exits_1_on_drift_and_0_after_repair(synced: Trial, capsys: Any) -> None:
    account_id = pushed_account(synced, "acc_00004")
    synced.sandbox.org.update(
        "Account", account_id, {"Risk_Level__c": "Yellow"}, user_id=synced.sandbox.user_id
    )
    config = str(synced.config)
    missing_before = len(check(synced).missing)
    code = main(["verify", "-c", config, "--json"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Risk_Level__c" in out
    main(["verify", "-c", config, "--repair"])
    out = capsys.readouterr().out
    assert "re-sent" in out
    report = check(synced)
    assert not report.drift
    assert len(report.missing) == missing_before


def test_the_cheaper_read_is_chosen() -> None:
    assert choose_method(1) == "soql"
    assert choose_method(3_000) == "soql"
    assert choose_method(20_000) == "bulk"


@pytest.mark.parametrize(
    ("pushed", "held", "ftype", "scale"),
    [
        (45, 45.0, "double", 0),
        (21.11, "21.11", "percent", 2),
        ("2026-02-27T00:00:00.000+0000", "2026-02-27T00:00:00.000Z", "datetime", None),
        ("a;b", "b;a", "multipicklist", None),
        (True, "true", "boolean", None),
        (None, "", "string", None),
    ],
)
def test_equal_values_in_different_shapes_are_not_drift(
    pushed: Any, held: Any, ftype: str, scale: int | None
) -> None:
    assert normalise(pushed, ftype, scale) == normalise(held, ftype, scale)


def test_different_values_are_drift() -> None:
    assert normalise(45, "double", 0) != normalise(46, "double", 0)
    assert normalise("a;b", "multipicklist") != normalise("a", "multipicklist")
    assert normalise(True, "boolean") != normalise(False, "boolean")
