"""The hash of each account's and user's source row as last read, so a pull of a source
without `updated_at` skips unchanged rows without parsing them again.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("accounts", "users"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("source_hash", sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table in ("users", "accounts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("source_hash")
