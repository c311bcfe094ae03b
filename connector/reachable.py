"""Whether a database answers, told in a sentence that names it without its password.

The product database and the store are both reached through an SQLAlchemy URL; a wrong host,
port, database name or password shows up as the driver's `OperationalError` on the first
connection, which a user should read as one line, not as a traceback."""

from __future__ import annotations

import sqlalchemy as sa


def unreachable(engine: sa.Engine, name: str) -> str | None:
    """Why the database `name` ("the store", "the product database") cannot be reached,
    its URL shown without the password; None when it answers."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return f"{name} {shown} cannot be reached ({reason})."
    return None
