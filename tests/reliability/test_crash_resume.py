"""Crash and resume: `connector sync` killed with SIGKILL at seeded random points, then run again.

Kill points are spread over the pull, scoring, the push's preparation and outbox write, the
middle of sObject Collections calls and the middle of a Bulk API 2.0 job (a low
`bulk_threshold` routes records through Bulk). After the resumed run, Salesforce must hold
exactly what an uninterrupted run leaves, with no duplicate Task, and the store the same
rollups (no event counted twice) and milestones (none lost).
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connector.config import settings_from_data
from connector.pipeline import PUSH_LEASE, acquire_push_lease, open_store
from connector.store import lease
from tests.reliability.conftest import FULL, full_only
from tests.reliability.world import (
    Template,
    diff_states,
    duplicate_tasks,
    salesforce_state,
    store_state,
    trial,
)

pytestmark = pytest.mark.sandbox

PHASES = ("pull", "score", "outbox", "collections", "bulk", "tasks")
DEFAULT_TRIALS = 6  # one per phase
FULL_TRIALS = 30


@dataclass(frozen=True)
class KillPoint:
    """Where a trial kills the sync, and the settings that make that phase observable."""

    phase: str
    after_event: str | None = None  # a log event that starts the clock…
    delay: float = 0.0  # …and the seconds after it
    call_kind: str | None = None  # or: the sandbox call counter to watch…
    calls: int = 0  # …and how many calls of that kind to let through
    salesforce: tuple[tuple[str, Any], ...] = ()
    latency_ms: float = 0.0

    def describe(self) -> str:
        if self.call_kind:
            return f"{self.phase}: after {self.calls} {self.call_kind} call(s)"
        return f"{self.phase}: {self.delay:.3f} s after {self.after_event}"


def kill_points(count: int, seed: int, task_call: int = 3) -> list[KillPoint]:
    """`count` kill points cycling through the phases, the exact moment drawn from `seed`
    (`task_call`: the sObject Collections call that upserts the Tasks, the push's last)."""
    rng = random.Random(seed)
    points = []
    for i in range(count):
        phase = PHASES[i % len(PHASES)]
        if phase == "pull":
            points.append(KillPoint(phase, "pull_started", rng.uniform(0.0, 0.6)))
        elif phase == "score":
            points.append(KillPoint(phase, "pull_finished", rng.uniform(0.0, 0.3)))
        elif phase == "outbox":
            points.append(KillPoint(phase, "push.prepared", rng.uniform(0.0, 0.02), latency_ms=30))
        elif phase == "collections":
            points.append(
                KillPoint(
                    phase,
                    call_kind="collections",
                    calls=rng.randint(1, 12),
                    salesforce=(("batch_size", 5),),
                    latency_ms=20,
                )
            )
        elif phase == "tasks":  # the Task upsert reached Salesforce, its result never recorded
            points.append(KillPoint(phase, call_kind="collections", calls=task_call))
        else:
            points.append(
                KillPoint(
                    phase,
                    call_kind="bulk",
                    calls=rng.randint(1, 9),
                    salesforce=(("bulk_threshold", 5),),
                    latency_ms=20,
                )
            )
    return points


def killer(point: KillPoint, sandbox_calls: dict[str, int]) -> Any:
    """The kill decision for `run_cli`: a log event plus a delay, or a number of API calls."""
    seen: dict[str, float] = {}

    def decide(lines: list[str], sb: Any) -> str | None:
        if point.call_kind:
            made = sb.counters()["calls"].get(point.call_kind, 0) - sandbox_calls.get(
                point.call_kind, 0
            )
            return point.describe() if made >= point.calls else None
        if "at" not in seen:
            needle = f'"event": "{point.after_event}"'
            if any(needle in line for line in lines):
                seen["at"] = time.monotonic()
            return None
        return point.describe() if time.monotonic() - seen["at"] >= point.delay else None

    return decide


def run_trial(
    template: Template, folder: Path, point: KillPoint, baseline: dict[str, Any]
) -> tuple[str, bool]:
    """Kill one sync at `point`, resume it, compare with the baseline: (problems, killed)."""
    with trial(template, folder, latency_ms=point.latency_ms) as t:
        t.write_config(**dict(point.salesforce))
        before = dict(t.sandbox.counters()["calls"])
        first = t.sync(kill=killer(point, before))
        t.sandbox.clear_faults()
        second = t.sync()
        assert second.code == 0, f"{point.describe()}: resume failed\n{second.stderr[-3000:]}"
        dupes = duplicate_tasks(t.sandbox)
        engine = t.engine()
        problems = diff_states(
            baseline["salesforce"], salesforce_state(t.sandbox, template.match_field)
        )
        problems += diff_states(baseline["store"], store_state(engine))
        engine.dispose()
    killed = "killed" if first.killed else f"finished before the kill point (exit {first.code})"
    report = [f"{point.describe()} ({killed})"] if (problems or dupes) else []
    return "\n".join(report + dupes + problems), first.killed


def _trials(count: int, seed: int, template: Template, tmp: Path, baseline: dict[str, Any]) -> None:
    failures = []
    killed: dict[str, int] = {}
    task_call = baseline["calls"].get("collections", 3)
    for i, point in enumerate(kill_points(count, seed, task_call)):
        failure, was_killed = run_trial(template, tmp / f"trial-{i}", point, baseline)
        if failure:
            failures.append(failure)
        killed[point.phase] = killed.get(point.phase, 0) + int(was_killed)
    print(f"crash trials: {count}, killed per phase: {killed}, failures: {len(failures)}")
    assert not failures, "\n\n".join(failures)
    # a kill point the sync finished before tests nothing: most must land
    assert sum(killed.values()) >= count * 0.8, killed


def test_kill_points_cover_every_phase() -> None:
    points = kill_points(FULL_TRIALS, seed=2026)
    assert {p.phase for p in points} == set(PHASES)
    assert len(points) >= 30
    assert any(dict(p.salesforce).get("bulk_threshold") for p in points)


@pytest.mark.skipif(FULL, reason="the full run replaces the default trials")
def test_sync_killed_in_each_phase_resumes_to_the_same_state(
    template: Template, tmp_path: Path, baseline: dict[str, Any]
) -> None:
    _trials(DEFAULT_TRIALS, 7, template, tmp_path, baseline)


@pytest.mark.slow
@full_only()
def test_thirty_kills_resume_to_the_same_state(
    template: Template, tmp_path: Path, baseline: dict[str, Any]
) -> None:
    _trials(FULL_TRIALS, 2026, template, tmp_path, baseline)


def test_a_lease_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    """The push lease of a process that no longer runs on this host does not block the resume;
    a live holder's lease does."""
    engine = open_store(settings_from_data({"store": {"url": f"sqlite:///{tmp_path / 's.db'}"}},
                                           None, env={}))  # fmt: skip
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = f"{socket.gethostname()}:{child.pid}"
        assert lease.acquire(engine, PUSH_LEASE, live, 300)
        assert not acquire_push_lease(engine)  # alive: wait for it
    finally:
        child.kill()
        child.wait()
    assert acquire_push_lease(engine)  # killed: taken over at once
    assert lease.current(engine, PUSH_LEASE).holder != live  # type: ignore[union-attr]
    engine.dispose()
