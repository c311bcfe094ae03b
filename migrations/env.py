"""Alembic environment for the store, configured in code by `connector.store.migrate`.

The caller passes the engine's connection in `config.attributes["connection"]`, so no
alembic.ini and no URL in a file are needed.
"""

from __future__ import annotations

from alembic import context

from connector.store.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through `connector db upgrade` (connector.store.migrate), "
        "which supplies the store's connection."
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
