"""Secrets never leak: not in a log line, an error message, `status` output or any store row."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from daemon_procs import REPO, DaemonProcess, count, fast_config, write_config
from sqlalchemy.engine import make_url

from connector.demo import DemoSpec, write_demo_db
from connector.sandbox.client_settings import salesforce_section
from connector.sandbox.harness import RunningSandbox
from connector.store.engine import make_store_engine
from connector.store.models import metadata

SOURCE_PASSWORD = "SrcPw-7781-quartz"


@pytest.fixture
def source_schema(postgres_url: str) -> Iterator[str]:
    """A schema of its own in the test PostgreSQL for the demo product tables."""
    schema = f"daemon_src_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _source_url(postgres_url: str, schema: str, password: str) -> str:
    u = make_url(postgres_url)
    return (
        f"{u.drivername}://{u.username}:{password}@{u.host}:{u.port or 5432}/{u.database}"
        f"?options=-csearch_path%3D{schema}"
    )


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connector.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_no_secret_in_logs_errors_status_or_store(
    tmp_path: Path,
    postgres_url: str,
    source_schema: str,
    sandbox: RunningSandbox,
    start_daemon: Callable[..., DaemonProcess],
) -> None:
    write_demo_db(
        _source_url(postgres_url, source_schema, SOURCE_PASSWORD), DemoSpec(accounts=20, days=20)
    )
    secrets = {
        "SOURCE_PASSWORD": SOURCE_PASSWORD,
        "SF_PASSWORD": sandbox.password,
        "SF_CLIENT_SECRET": sandbox.client_secret,
        "SF_SECURITY_TOKEN": sandbox.security_token,
    }
    assert all(len(v) >= 4 for v in secrets.values())
    salesforce = salesforce_section(sandbox, "password")
    salesforce.update(
        password="${SF_PASSWORD}",
        client_secret="${SF_CLIENT_SECRET}",
        security_token="${SF_SECURITY_TOKEN}",
    )
    store_path = tmp_path / "store.db"
    data = fast_config(
        _source_url(postgres_url, source_schema, "${SOURCE_PASSWORD}"),
        store_path,
        salesforce=salesforce,
        logging={"level": "debug"},
    )
    data["schedule"]["push"] = {"every_minutes": 1 / 60}
    data["source"]["schema"] = source_schema
    config = write_config(tmp_path, data)
    assert not any(v in config.read_text() for v in secrets.values())

    daemon = start_daemon(config, env=secrets)
    daemon.wait_for(
        "a push to end",
        lambda ev: (
            count(ev, "job.finished", job="push")
            + count(ev, "job.crashed", job="push")
            + count(ev, "run.failed", stage="push")
            >= 1
        ),
        timeout=60,
    )
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=30) == 0
    env = {**os.environ, "PYTHONPATH": str(REPO), **secrets}
    outputs = {
        "daemon stdout": daemon.stdout.read_text(),
        "daemon stderr": daemon.stderr.read_text(),
    }
    for args in (["status", "-c", str(config)], ["status", "--json", "-c", str(config)]):
        done = _cli(args, env, tmp_path)
        assert done.returncode == 0, done.stderr
        outputs[" ".join(args[:2])] = done.stdout + done.stderr
    # an error path: a source that refuses the connection
    broken = dict(data, source={"url": "postgresql+psycopg://u:${SOURCE_PASSWORD}@127.0.0.1:1/x"})
    (tmp_path / "broken").mkdir()
    failing = _cli(["pull", "-c", str(write_config(tmp_path / "broken", broken))], env, tmp_path)
    assert failing.returncode != 0
    outputs["failing pull"] = failing.stdout + failing.stderr

    # the run did real work with the secrets: pulled from PostgreSQL, logged in to Salesforce
    events = daemon.events()
    assert count(events, "job.finished", job="pull", status="ok") >= 1
    assert "postgres:***@" in outputs["daemon stdout"]  # the banner shows the masked URL
    assert "Last runs" in outputs["status -c"]
    engine = make_store_engine(f"sqlite:///{store_path}")
    try:
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                rows = conn.execute(sa.select(table)).all()
                outputs[f"table {table.name}"] = repr(rows)
        assert "push" in outputs["table runs"]
    finally:
        engine.dispose()
    for where, text in outputs.items():
        for name, value in secrets.items():
            assert value not in text, f"{name} appears in {where}"
