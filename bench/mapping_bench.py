"""How much mapping and shaping add to a push, per record, against serialising it for the wire.

Usage:
    PYTHONPATH=. .venv/bin/python bench/mapping_bench.py [records]

Cases over the same synthetic Account results (shipped mapping, a describe with every default
field plus 60 standard text fields, as a real Account describe has):
  baseline   json.dumps of each record's source values: the cost of sending it at all
  map        connector.mapping.record_values (transforms) per record
  shape      RecordShaper.shape (describe-driven wire values) per record
  both       map then shape: what the push pays per record

Ratios are case ÷ baseline (best of 3 runs each).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.config import load_settings
from connector.mapping import RecordShaper, load_mapping_for_org, record_values
from connector.mapping.provision_plan import plan_provision

RUNS = 3


def _describe(mapping: Any) -> dict[str, Any]:
    """The Account describe an org has after `provision`: the planned fields plus standard ones."""
    plan = plan_provision(mapping, {"Account": {"name": "Account", "fields": []}})
    fields: list[dict[str, Any]] = [
        {"name": f"Standard_{i}", "type": "string", "length": 255} for i in range(60)
    ]
    kinds = {"Number": "double", "Percent": "percent", "Text": "string", "DateTime": "datetime",
             "Picklist": "picklist", "MultiselectPicklist": "multipicklist"}  # fmt: skip
    for new in plan.create:
        if new.sobject != "Account":
            continue
        meta = new.metadata
        values = meta.get("valueSet", {}).get("valueSetDefinition", {}).get("value", [])
        fields.append(
            {
                "name": new.field,
                "type": kinds.get(new.type.name, "string"),
                "precision": new.type.precision,
                "scale": new.type.scale,
                "length": new.type.length,
                "picklistValues": [{"value": v["valueName"], "active": True} for v in values],
                "restrictedPicklist": meta.get("valueSet", {}).get("restricted", False),
            }
        )
    return {"name": "Account", "fields": fields}


def _records(n: int) -> list[dict[str, Any]]:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    ranks, trends = ("good", "average", "poor"), ("up", "flat", "down")
    return [
        {
            "account_id": f"acc-{i}",
            "name": f"Account {i}",
            "engagement_score": i % 101,
            "health_rank": ranks[i % 3],
            "health_reason": "Good: used on 2+ days in each of the last two weeks",
            "risk_level": ("green", "yellow", "red")[i % 3],
            "visit_frequency": ("daily", "weekly", "occasionally", "inactive")[i % 4],
            "active_users_14d": i % 40,
            "active_users_30d": i % 55,
            "active_days_14d": i % 15,
            "last_active_at": start - timedelta(minutes=i),
            "license_utilization": (i % 300) / 100,
            "dau_mau": (i % 100) / 100,
            "usage_trend": trends[i % 3],
            "lifecycle_stage": ("onboarding", "mature", "churned")[i % 3],
            "tags": ["at-risk", "dormant"] if i % 2 else ["established"],
        }
        for i in range(n)
    ]


def _best(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(n: int) -> None:
    mapping = load_mapping_for_org(load_settings(None))
    account = mapping.objects["Account"]
    shaper = RecordShaper(_describe(mapping))
    records = _records(n)
    mapped = [record_values(account, r)[0] for r in records]
    rejected = sum(len(shaper.shape(m).rejected) for m in mapped)
    assert rejected == 0, f"{rejected} values rejected: the synthetic describe is wrong"
    cases = {
        "baseline": lambda: [json.dumps(r, default=str) for r in records],
        "map": lambda: [record_values(account, r) for r in records],
        "shape": lambda: [shaper.shape(m) for m in mapped],
        "both": lambda: [shaper.shape(record_values(account, r)[0]) for r in records],
    }
    times = {name: _best(fn) for name, fn in cases.items()}
    base = times["baseline"]
    print(f"{n} Account records, {len(account.fields)} mapped fields, best of {RUNS} runs")
    print(f"{'case':10} {'seconds':>8} {'µs/record':>10} {'÷ baseline':>11}")
    for name, seconds in times.items():
        print(f"{name:10} {seconds:8.3f} {seconds / n * 1e6:10.1f} {seconds / base:11.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
