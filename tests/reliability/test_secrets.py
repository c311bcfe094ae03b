"""Secrets never leak: with known secret values configured (Salesforce password, security
token and client secret from the environment, a source database password in its URL), no log
line, error message, `status` output or store row contains them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connector.demo.product_db import DemoSpec, write_demo_db
from tests.reliability.world import AS_OF, SEED, Template, Trial, run_cli, trial

pytestmark = [pytest.mark.sandbox, pytest.mark.postgres]

PASSWORD = "Pw-Sekr1t-q8Zt4"
TOKEN = "Tok3n-Hush-77aQ"
CLIENT_SECRET = "ClientS3cret-Xy91"
DB_PASSWORD = "DbPa55-Zq-42kk"
SECRETS = (PASSWORD, TOKEN, CLIENT_SECRET, DB_PASSWORD)
DATABASE = "connector_reliability_secrets"


@pytest.fixture(scope="module")
def source_with_password(postgres_url: str) -> str:
    """A demo product database on PostgreSQL, reached with a password in its URL (the local
    server trusts loopback, so any password is accepted, and the URL carries one anyway)."""
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": DATABASE}
        ).first()
        if not exists:
            conn.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    url = sa.engine.make_url(postgres_url).set(database=DATABASE, password=DB_PASSWORD)
    rendered = url.render_as_string(hide_password=False)
    write_demo_db(rendered, DemoSpec(accounts=12, days=20, seed=SEED, as_of=AS_OF))
    return rendered


@pytest.fixture(scope="module")
def secret_trial(
    template: Template, tmp_path_factory: pytest.TempPathFactory, source_with_password: str
) -> Iterator[Trial]:
    env = {
        "SANDBOX_PASSWORD": PASSWORD,
        "SANDBOX_SECURITY_TOKEN": TOKEN,
        "SANDBOX_CLIENT_SECRET": CLIENT_SECRET,
    }
    with trial(template, tmp_path_factory.mktemp("secrets") / "t", env=env) as t:
        t.write_config(
            source_url="${REL_SOURCE_URL}",
            password="${REL_SF_PASSWORD}",
            security_token="${REL_SF_TOKEN}",
            client_secret="${REL_SF_CLIENT_SECRET}",
        )
        t.env = {
            "REL_SOURCE_URL": source_with_password,
            "REL_SF_PASSWORD": PASSWORD,
            "REL_SF_TOKEN": TOKEN,
            "REL_SF_CLIENT_SECRET": CLIENT_SECRET,
        }
        yield t


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_sync_logs_and_summary_hold_no_secret(secret_trial: Trial) -> None:
    secret_trial.sandbox.set_faults(session_expire_calls=4, error_503_rate=0.2)
    try:
        result = secret_trial.sync()
    finally:
        secret_trial.sandbox.clear_faults()
    assert result.code == 0, result.stderr[-3000:]
    assert '"event": "salesforce.relogin"' in result.stderr  # the session expired and logged in
    assert '"event": "salesforce.retry"' in result.stderr
    assert result.stderr.count("\n") > 10
    assert leaks(result.stderr + result.stdout) == []


def test_status_output_holds_no_secret(secret_trial: Trial) -> None:
    for args in (["status", "-c", str(secret_trial.config)],
                 ["status", "--json", "-c", str(secret_trial.config)]):  # fmt: skip
        result = run_cli(args, env=secret_trial.env)
        assert result.code == 0, result.stderr[-2000:]
        assert "sync" in result.stdout
        assert leaks(result.stdout + result.stderr) == []


def test_failed_login_message_holds_no_secret(secret_trial: Trial) -> None:
    env = dict(secret_trial.env, REL_SF_TOKEN=TOKEN[::-1])  # a wrong token: login refused
    result = run_cli(["verify", "-c", str(secret_trial.config)], env=env)  # always logs in
    assert result.code == 1
    assert "error" in result.stderr.lower()
    assert leaks(result.stderr + result.stdout) == []
    assert TOKEN[::-1] not in result.stderr  # the wrong value is a secret too


def test_unreachable_source_message_holds_no_secret(secret_trial: Trial, tmp_path: Path) -> None:
    bad_source = secret_trial.env["REL_SOURCE_URL"].replace(":5432/", ":1/")
    env = dict(secret_trial.env, REL_SOURCE_URL=bad_source)
    result = run_cli(["pull", "-c", str(secret_trial.config)], env=env)
    assert result.code != 0
    assert DB_PASSWORD not in result.stdout + result.stderr
    assert leaks(result.stdout + result.stderr) == []


def test_no_store_row_holds_a_secret(secret_trial: Trial) -> None:
    engine = secret_trial.engine()
    found: list[str] = []
    scanned = 0
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(sa.select(table)):
                scanned += 1
                for column, value in zip(table.columns, row, strict=True):
                    if value is not None and leaks(str(value)):
                        found.append(f"{table.name}.{column.name}")
    engine.dispose()
    assert scanned > 1_000
    assert found == []
