"""A small, reproducible world for reliability trials: a product database, a provisioned and
seeded sandbox org (saved once as a template), a connector config, and the ways to run `sync`
in a subprocess, kill it, and compare what Salesforce and the store hold afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

import connector
from connector.demo.org_seed import seed_org
from connector.demo.product_db import DemoSpec, write_demo_db
from connector.mapping import load_mapping
from connector.mapping.provision import provision
from connector.pipeline import open_store, run
from connector.salesforce.client import SalesforceClient
from connector.sandbox.client_settings import salesforce_section, settings_for
from connector.sandbox.harness import RunningSandbox, running_sandbox

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
SEED = 11
REPO = Path(connector.__file__).resolve().parents[1]
SYNC_TIMEOUT_SECONDS = 120.0
TASK_KEY = "Connector_Task_Key__c"
# store columns that record when something happened, not what: left out of comparisons
VOLATILE = {
    "recorded_at", "since", "computed_at", "first_seen", "updated_at", "seen_at", "run_id",
    "id", "source_updated_at", "created_at_store",
}  # fmt: skip
COMPARED_TABLES = ("event_daily", "usage_daily", "milestones", "metrics", "tags", "accounts")


@dataclass(frozen=True)
class Template:
    """A product database and a provisioned, seeded org file, copied for each trial."""

    folder: Path
    source_url: str
    match_field: str


def build_template(folder: Path, *, accounts: int = 30, days: int = 40) -> Template:
    """Write the product DB, provision the org and fill it with Accounts, Leads and CSMs."""
    folder.mkdir(parents=True, exist_ok=True)
    source = f"sqlite:///{folder / 'product.db'}"
    write_demo_db(source, DemoSpec(accounts=accounts, days=days, seed=SEED, as_of=AS_OF))
    with running_sandbox(folder / "org", seed=SEED) as sb:
        settings = settings_for(
            sb, source={"url": source}, store={"url": f"sqlite:///{folder / 'seed-store.db'}"}
        )
        with SalesforceClient(settings) as client:
            provision(settings, client, apply=True)
        engine = open_store(settings)
        run(settings, "pull", as_of=AS_OF, store=engine)
        account = load_mapping(settings).get("Account")
        match_field = (account.match.external_id if account else None) or "Id"
        seed_org(sb.org, sb.user_id, engine, match_field=match_field, seed=SEED)
        engine.dispose()
    return Template(folder, source, match_field)


@dataclass
class SyncResult:
    """How one `connector sync` subprocess ended."""

    code: int
    killed: bool
    stdout: str
    stderr: str
    seconds: float
    kill_reason: str = ""


@dataclass
class Trial:
    """One copy of the template: its own org, store and config file."""

    folder: Path
    sandbox: RunningSandbox
    config: Path
    template: Template
    env: dict[str, str] = field(default_factory=dict)

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.folder / 'store.db'}"

    def write_config(self, *, source_url: str | None = None, **salesforce_extra: Any) -> Path:
        section = salesforce_section(self.sandbox, "password")
        section.update(salesforce_extra)
        data = {
            "source": {"url": source_url or self.template.source_url},
            "store": {"url": self.store_url},
            "salesforce": section,
            "logging": {"format": "json", "level": "debug"},
        }
        self.config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return self.config

    def sync(
        self,
        kill: Callable[[list[str], RunningSandbox], str | None] | None = None,
        *,
        args: tuple[str, ...] = (),
        command: str = "sync",
    ) -> SyncResult:
        """Run `connector <command>` in a subprocess; `kill` decides when to SIGKILL it."""
        return run_cli(
            [command, "-c", str(self.config), "--as-of", AS_OF.isoformat(), *args],
            kill=kill,
            sandbox=self.sandbox,
            env=self.env,
        )

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.store_url)


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR__")}
    env["PYTHONPATH"] = str(REPO)
    env["COLUMNS"] = "200"
    env.update(extra or {})
    return env


def run_cli(
    argv: list[str],
    *,
    kill: Callable[[list[str], RunningSandbox], str | None] | None = None,
    sandbox: RunningSandbox | None = None,
    env: dict[str, str] | None = None,
) -> SyncResult:
    """`python -m connector.cli …` in a subprocess, watching its log lines for a kill point."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(env),
        cwd=str(REPO),
    )
    lines: list[str] = []
    out: list[str] = []

    def pump_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)

    def pump_out() -> None:
        assert proc.stdout is not None
        out.append(proc.stdout.read())

    readers = [threading.Thread(target=pump_err), threading.Thread(target=pump_out)]
    for r in readers:
        r.start()
    reason = ""
    while proc.poll() is None:
        if time.monotonic() - started > SYNC_TIMEOUT_SECONDS:
            proc.kill()
            raise AssertionError(f"`connector {' '.join(argv)}` hung:\n{''.join(lines)[-3000:]}")
        if kill is not None and sandbox is not None:
            why = kill(lines, sandbox)
            if why:
                os.kill(proc.pid, signal.SIGKILL)
                reason = why
                break
        time.sleep(0.002)
    code = proc.wait()
    for r in readers:
        r.join()
    return SyncResult(code, bool(reason), "".join(out), "".join(lines), time.monotonic() - started,
                      reason)  # fmt: skip


@contextmanager
def trial(
    template: Template, folder: Path, *, env: dict[str, str] | None = None, **faults: Any
) -> Iterator[Trial]:
    """A fresh copy of the template org and an empty store, with a sandbox serving it
    (`env`: the sandbox's own SANDBOX_* credential variables)."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(template.folder / "org", folder / "org")
    with running_sandbox(folder / "org", seed=SEED, faults=faults, env=env) as sb:
        t = Trial(folder, sb, folder / "config.yaml", template)
        t.write_config()
        yield t


def log_events(stderr: str) -> list[dict[str, Any]]:
    """The JSON log lines of a subprocess's stderr (other lines ignored)."""
    events = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


# -- what Salesforce holds ------------------------------------------------------------------
def _custom(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if k.endswith("__c") and k != TASK_KEY}


def salesforce_state(sb: RunningSandbox, match_field: str) -> dict[str, Any]:
    """Every custom field of every Account and Lead, keyed by product key; Tasks by record."""
    org = sb.org
    accounts = {str(r.get(match_field)): _custom(r) for r in org.rows("Account")}
    leads = {str(r.get("Email")).lower(): _custom(r) for r in org.rows("Lead")}
    names = {r["Id"]: f"Account:{r.get(match_field)}" for r in org.rows("Account")}
    names.update({r["Id"]: f"Lead:{str(r.get('Email')).lower()}" for r in org.rows("Lead")})
    tasks = sorted(
        (
            names.get(str(r.get("WhatId") or r.get("WhoId")), "?"),
            str(r.get("Subject")),
            str(r.get("Status")),
            str(r.get("Priority")),
            str(r.get("ActivityDate")),
        )
        for r in org.rows("Task")
    )
    return {"Account": accounts, "Lead": leads, "Task": tasks}


def duplicate_tasks(sb: RunningSandbox) -> list[str]:
    """Task keys held by more than one Task, and records with two open Tasks for one subject."""
    rows = list(sb.org.rows("Task"))
    by_key = Counter(str(r.get(TASK_KEY)) for r in rows if r.get(TASK_KEY))
    open_ones = Counter(
        (str(r.get("WhatId") or r.get("WhoId")), str(r.get("Subject")))
        for r in rows
        if r.get("Status") != "Completed"
    )
    return [f"key {k} ×{n}" for k, n in by_key.items() if n > 1] + [
        f"open {k} ×{n}" for k, n in open_ones.items() if n > 1
    ]


# -- what the store holds -------------------------------------------------------------------
def store_state(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Rollups, milestones, metrics, tags and accounts, without bookkeeping columns."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    meta = sa.MetaData()
    meta.reflect(engine, only=list(COMPARED_TABLES))
    with engine.connect() as conn:
        for name in COMPARED_TABLES:
            table = meta.tables[name]
            cols = [c for c in table.columns if c.name not in VOLATILE]
            out[name] = sorted(
                (tuple(str(v) for v in row) for row in conn.execute(sa.select(*cols))),
            )
    return out


def diff_states(expected: dict[str, Any], actual: dict[str, Any], limit: int = 8) -> list[str]:
    """Human-readable differences between two state snapshots (empty when equal)."""
    problems: list[str] = []
    for part in sorted(set(expected) | set(actual)):
        e, a = expected.get(part), actual.get(part)
        if e == a:
            continue
        if isinstance(e, dict) and isinstance(a, dict):
            for key in sorted(set(e) | set(a)):
                ev, av = e.get(key), a.get(key)
                if ev == av:
                    continue
                if isinstance(ev, dict) and isinstance(av, dict):
                    problems += [
                        f"{part} {key}.{f}: expected {ev.get(f)!r} got {av.get(f)!r}"
                        for f in sorted(set(ev) | set(av))
                        if ev.get(f) != av.get(f)
                    ]
                else:
                    problems.append(f"{part} {key}: expected {ev!r} got {av!r}")
        else:
            es, as_ = set(e or []), set(a or [])
            problems += [f"{part} missing {x}" for x in sorted(es - as_, key=str)[:limit]]
            problems += [f"{part} extra {x}" for x in sorted(as_ - es, key=str)[:limit]]
            if not es ^ as_:
                problems.append(f"{part}: same rows, different multiplicity")
    return problems[: limit * 4]
