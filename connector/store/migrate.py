"""Schema migrations of the store (Alembic, configured in code): upgrade, downgrade, current."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from connector.errors import FatalError, InputError
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


def shipped_revisions() -> list[str]:
    """The revisions this version ships, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _revision_error(exc: CommandError, revision: str, at: str | None, verb: str) -> InputError:
    """Alembic's refusal as a sentence with what to type instead."""
    shipped = shipped_revisions()
    where = "has never been migrated" if at is None else f"is at revision {at}"
    return InputError(
        f"Cannot {verb} the store to {revision!r}: {exc}. The store {where}; this version "
        f"ships revisions {', '.join(shipped)} (also: head, base, or -N / +N steps). "
        "`connector db current` shows where the store is."
    )


def upgrade(engine: sa.Engine, revision: str = "head") -> str | None:
    """Migrate the store up to `revision`; returns the revision it ends at. A revision older
    than the store's is refused (Alembic would do nothing): that is a downgrade."""
    at = current_revision(engine)
    shipped = shipped_revisions()
    if at in shipped and revision in shipped and shipped.index(revision) < shipped.index(at):
        raise InputError(
            f"The store is at revision {at}, newer than {revision}: upgrading cannot go back. "
            f"Run `connector db downgrade --revision {revision}` to go back to it."
        )
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), revision)
    except CommandError as exc:
        raise _revision_error(exc, revision, at, "upgrade") from None
    now_at = current_revision(engine)
    log.info("store_upgraded", revision=now_at)
    return now_at


def downgrade(engine: sa.Engine, revision: str = "-1") -> str | None:
    """Migrate the store down to `revision` (`-1`: one step, `base`: empty)."""
    at = current_revision(engine)
    if at is None:
        raise InputError(
            "The store has never been migrated: there is nothing to downgrade. "
            "`connector db upgrade` creates its tables."
        )
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), revision)
    except CommandError as exc:
        raise _revision_error(exc, revision, at, "downgrade") from None
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
