"""How fast the sandbox SOQL engine filters, orders and shapes 100,000 rows.

Each query is timed against a baseline measured in the same run: a hand-written Python
comprehension doing the same filtering over the same rows (no parsing, no shaping). The
ratio says what the engine's generality costs; the absolute time shows it stays well under
a second per query at sandbox sizes.

    PYTHONPATH=. .venv/bin/python bench/bench_soql.py [rows]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.sandbox.soql import FieldInfo, execute

NOW = datetime(2024, 3, 6, tzinfo=UTC)
INDUSTRIES = ["Technology", "Retail", "Finance", "Health", None]
FIELDS = {
    "User": [FieldInfo("Id", "id"), FieldInfo("Email", "email")],
    "Account": [
        FieldInfo("Id", "id"),
        FieldInfo("Name", "string"),
        FieldInfo("Industry", "picklist"),
        FieldInfo("NumberOfEmployees", "int"),
        FieldInfo("OwnerId", "reference", ("User",), "Owner"),
        FieldInfo("SystemModstamp", "datetime"),
    ],
}


class BenchCatalog:
    def __init__(self, count: int) -> None:
        rng = random.Random(7)
        self.users = [
            {"Id": f"0058a{i:010d}AAA", "Email": f"user{i}@example.com"} for i in range(100)
        ]
        start = datetime(2024, 1, 1, tzinfo=UTC)
        self.accounts = [
            {
                "Id": f"0018a{i:010d}AAA",
                "Name": f"Account {i}",
                "Industry": rng.choice(INDUSTRIES),
                "NumberOfEmployees": rng.randint(1, 5000),
                "OwnerId": self.users[i % 100]["Id"],
                "SystemModstamp": (start + timedelta(seconds=rng.randint(0, 90 * 86400))).strftime(
                    "%Y-%m-%dT%H:%M:%S.000+0000"
                ),
            }
            for i in range(count)
        ]
        self._by_id = {row["Id"][:15]: ("User", row) for row in self.users}

    def object_name(self, name: str) -> str | None:
        return next((o for o in FIELDS if o.lower() == name.lower()), None)

    def fields(self, sobject: str) -> list[FieldInfo]:
        return FIELDS[sobject]

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        return self.accounts if sobject == "Account" else self.users

    def get(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        return self._by_id.get(record_id[:15])


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    catalog = BenchCatalog(count)
    rows = catalog.accounts
    lo, hi = "2024-02-01T00:00:00.000+0000", "2024-02-15T00:00:00.000+0000"
    users = {u["Id"]: u for u in catalog.users}
    cases: list[tuple[str, str, Callable[[], object]]] = [
        (
            "WHERE Industry = 'technology' (ids only)",
            "SELECT Id FROM Account WHERE Industry = 'technology'",
            lambda: [
                r["Id"] for r in rows if r["Industry"] and r["Industry"].casefold() == "technology"
            ],
        ),
        (
            "WHERE NumberOfEmployees > 2500 AND Industry != null",
            "SELECT Id FROM Account WHERE NumberOfEmployees > 2500 AND Industry != null",
            lambda: [
                r["Id"] for r in rows if r["NumberOfEmployees"] > 2500 and r["Industry"] is not None
            ],
        ),
        (
            "SystemModstamp window ORDER BY SystemModstamp (tap-salesforce)",
            "SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp >= "
            "2024-02-01T00:00:00Z AND SystemModstamp < 2024-02-15T00:00:00Z "
            "ORDER BY SystemModstamp ASC",
            lambda: sorted(
                (r for r in rows if lo <= r["SystemModstamp"] < hi),
                key=lambda r: r["SystemModstamp"],
            ),
        ),
        (
            "WHERE Owner.Email = … (parent lookup per row)",
            "SELECT Id FROM Account WHERE Owner.Email = 'user7@example.com'",
            lambda: [r["Id"] for r in rows if users[r["OwnerId"]]["Email"] == "user7@example.com"],
        ),
        (
            "SELECT COUNT() WHERE Name LIKE 'account 1%'",
            "SELECT COUNT() FROM Account WHERE Name LIKE 'account 1%'",
            lambda: sum(1 for r in rows if r["Name"].lower().startswith("account 1")),
        ),
    ]
    print(f"{count} rows, best of 5 runs")
    print(f"{'query':62} {'engine s':>9} {'baseline s':>10} {'ratio':>6}")
    ratios = []
    for label, soql, baseline in cases:
        engine = best_of(5, lambda s=soql: execute(s, catalog, now=NOW, api_version="59.0"))
        base = best_of(5, baseline)
        ratios.append(engine / base)
        print(f"{label:62} {engine:9.3f} {base:10.3f} {engine / base:6.1f}")
    print(f"median ratio {statistics.median(ratios):.1f}")


if __name__ == "__main__":
    main()
