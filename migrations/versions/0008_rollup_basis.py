"""What the stored rollups were built with, kept beside the events watermark: the time zone
of their days and a digest of the events relation read, so a pull that finds either changed
rebuilds every rollup.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watermarks") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("relation_hash", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("watermarks") as batch:
        batch.drop_column("relation_hash")
        batch.drop_column("timezone")
