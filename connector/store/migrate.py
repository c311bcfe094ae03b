"""Schema migrations of the store (Alembic, configured in code): upgrade, downgrade, current."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from connector.errors import FatalError
from connector.logs import get_logger
from connector.resources import shipped

log = get_logger(__name__)


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration pointing at the shipped migrations folder."""
    cfg = Config()
    cfg.set_main_option("script_location", str(shipped("migrations")))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision this version of the connector ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the store is at (None: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> str | None:
    """Migrate the store up to `revision`; returns the revision it ends at."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    now_at = current_revision(engine)
    log.info("store_upgraded", revision=now_at)
    return now_at


def downgrade(engine: sa.Engine, revision: str = "-1") -> str | None:
    """Migrate the store down to `revision` (`-1`: one step, `base`: empty)."""
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)
    now_at = current_revision(engine)
    log.info("store_downgraded", revision=now_at)
    return now_at


def require_current(engine: sa.Engine) -> None:
    """Refuse to work on a store that is not at the shipped head revision."""
    at = current_revision(engine)
    head = head_revision()
    if at != head:
        where = "has never been migrated" if at is None else f"is at revision {at}"
        raise FatalError(
            f"The store {engine.url.render_as_string(hide_password=True)} {where}, but this "
            f"version of the connector needs revision {head}. Run `connector db upgrade`."
        )
