"""Benchmark: one alert pass (detect what changed, plan deliveries) over N scored accounts.

    .venv/bin/python bench/alerts_bench.py            # 10k and 50k accounts
    .venv/bin/python bench/alerts_bench.py 10000

A SQLite store gets N accounts (50 CSMs) with current metrics and tags, a baseline pass is
recorded, then 10 % of the accounts change (health, engagement, a tag) and the pass is timed
(`connector.alerts.dispatch.evaluate`, nothing sent). Baseline, same run and store: reading
what any pass must read anyway (current metrics, tags and accounts through the store's own
readers). Reported: both times (best of 3), their ratio, occurrences and planned deliveries.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from connector import clock
from connector.alerts.dispatch import evaluate
from connector.config import settings_from_data
from connector.store import alertlog, migrate
from connector.store import results as store_results
from connector.store.accounts import iter_accounts, sync_accounts
from connector.store.engine import make_store_engine

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _store(folder: Path, n: int) -> tuple[object, object]:
    url = f"sqlite:///{folder / 'store.db'}"
    engine = make_store_engine(url)
    migrate.upgrade(engine)
    rows = [
        {
            "account_id": f"acc{i:07d}",
            "name": f"Account {i}",
            "status": "paying" if i % 5 else "trial",
            "licenses": 20,
            "plan": "pro",
            "created_at": None, "trial_started_at": None, "trial_ends_at": None,
            "paid_at": None, "cancelled_at": None,
            "csm_email": f"csm{i % 50}@vendor.example",
            "company_size": "mid", "salesforce_id": f"001{i:015d}", "domain": None,
            "parent_account_id": None, "attributes": {"region": "emea"}, "source_updated_at": None,
        }
        for i in range(n)
    ]  # fmt: skip
    with engine.begin() as conn:
        sync_accounts(conn, rows)
    settings = settings_from_data(
        {"store": {"url": url}, "alerts": {"smtp": {"host": "mail.invalid"}}}, None, {}
    )
    return engine, settings


def _score(engine: object, n: int, changed: bool) -> None:
    metrics, tags = {}, {}
    for i in range(n):
        moved = changed and i % 10 == 0
        metrics[f"acc{i:07d}"] = {
            "status": "paying" if i % 5 else "trial",
            "health_rank": "poor" if moved else "good",
            "risk_level": "green",
            "engagement_score": 40 if moved else 70,
            "active_users_30d": 10,
            "events_30d": 300,
        }
        tags[f"acc{i:07d}"] = {"hot-prospect"} if moved and i % 5 == 0 else set()
    store_results.write_metrics(engine, NOW, metrics)  # type: ignore[arg-type]
    store_results.set_tags(engine, "account", tags)  # type: ignore[arg-type]


def _best(fn: object, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def run(n: int) -> None:
    clock.freeze(NOW)
    with tempfile.TemporaryDirectory() as folder:
        engine, settings = _store(Path(folder), n)
        _score(engine, n, changed=False)
        first = evaluate(settings, engine, NOW)  # type: ignore[arg-type]
        alertlog.record_pass(engine, first.detection.seen, [])  # type: ignore[arg-type]
        _score(engine, n, changed=True)

        def baseline() -> None:
            store_results.load_metrics(engine)  # type: ignore[arg-type]
            store_results.load_tags(engine)  # type: ignore[arg-type]
            list(iter_accounts(engine))  # type: ignore[arg-type]

        base = _best(baseline)
        found = evaluate(settings, engine, NOW)  # type: ignore[arg-type]
        took = _best(lambda: evaluate(settings, engine, NOW))  # type: ignore[arg-type]
        print(
            f"{n:>8,} accounts  pass {took:6.2f} s  baseline {base:6.2f} s  "
            f"ratio {took / base:4.1f}  occurrences {len(found.detection.occurrences):,}  "
            f"deliveries {len(found.deliveries):,}"
        )


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 50_000]
    for size in sizes:
        run(size)
