"""How fast the demo product database is written, and that memory stays flat at 10M events.

Usage:
    PYTHONPATH=. .venv/bin/python bench/demo_data_bench.py [--big EVENTS] [--skip-big]
        [--postgres URL]

Cases, each in a fresh process so its peak memory is its own:
  generate   the 1,000 × 90 events drawn but not written (the generator's own cost)
  baseline   the same events through SQLAlchemy Core insert() executemany: the obvious way
  fast       write_demo_db as shipped (SQLite executemany of tuples, PostgreSQL COPY)
  big        write_demo_db with events_target=--big (default 10,000,000)

Ratios are baseline ÷ fast (speed-up) and big peak memory ÷ fast peak memory (streaming: close
to 1 means the 10M write holds no more than the 1M one). PostgreSQL cases run when --postgres or
CONNECTOR_TEST_POSTGRES_URL names a server; each uses a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from peak_rss import peak_rss_mb

AS_OF = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ACCOUNTS, DAYS = 1_000, 90


def _case(kind: str, url: str, events_target: int | None, out: Any) -> None:
    """Run one case in this (child) process and send back (seconds, events, peak MB)."""
    from connector import logs
    from connector.demo import DemoSpec, build, product_db, write_demo_db, writers
    from connector.demo.activity import generate_days, scale_for_target

    logs.configure("warning")
    spec = DemoSpec(accounts=ACCOUNTS, days=DAYS, seed=7, as_of=AS_OF, events_target=events_target)
    started = time.perf_counter()
    if kind == "generate":
        pop = build(spec)
        scale = scale_for_target(pop, spec.events_target)
        events = sum(len(chunk) for _, chunk in generate_days(pop, spec.seed, scale))
    else:
        if kind == "baseline":
            product_db.event_sink = writers.EventSink  # type: ignore[assignment]
        events = write_demo_db(url, spec).events
    out.put((time.perf_counter() - started, events, peak_rss_mb()))


def _run(kind: str, url: str, events_target: int | None = None) -> tuple[float, int, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_case, args=(kind, url, events_target, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _postgres_schema(server: str) -> tuple[str, Any]:
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def _fresh(target: Any, kind: str, events_target: int | None = None) -> tuple[float, int, float]:
    """Run a case against a new, empty database, so no case pays for dropping another's rows."""
    url, drop = target()
    try:
        return _run(kind, url, events_target)
    finally:
        if drop is not None:
            drop()


def _line(name: str, result: tuple[float, int, float], extra: str = "") -> None:
    seconds, events, peak = result
    rate = events / seconds / 1000 if seconds else 0.0
    print(f"{name:<28}{seconds:>9.2f}{events:>12,}{rate:>10.0f}{peak:>9.0f}  {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=10_000_000, help="events in the large write")
    parser.add_argument("--skip-big", action="store_true", help="skip the large writes")
    parser.add_argument("--postgres", default=os.environ.get("CONNECTOR_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="demo-bench-"))
    print(f"{ACCOUNTS:,} accounts x {DAYS} days; as-of {AS_OF.isoformat()}")
    print(f"{'case':<28}{'seconds':>9}{'events':>12}{'k ev/s':>10}{'peak MB':>9}")
    _line("generate only", _run("generate", ""))
    backends = [("sqlite", lambda: (f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}", None))]
    if args.postgres:
        backends.append(("postgres", lambda: _postgres_schema(args.postgres)))
    for name, target in backends:
        baseline = _fresh(target, "baseline")
        fast = _fresh(target, "fast")
        _line(f"{name} baseline (Core insert)", baseline)
        _line(f"{name} fast", fast, f"speed-up x{baseline[0] / fast[0]:.1f}")
        if not args.skip_big:
            big = _fresh(target, "fast", args.big)
            per_event = (big[0] / big[1]) / (fast[0] / fast[1])
            _line(
                f"{name} {args.big / 1e6:g}M events",
                big,
                f"time/event x{per_event:.2f} of 1k x 90, peak mem x{big[2] / fast[2]:.2f}",
            )
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
