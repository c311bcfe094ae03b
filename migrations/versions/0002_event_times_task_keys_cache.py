"""Rollup event times, Task keys and descriptions, and the Salesforce cache.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("usage_daily") as batch:
        batch.add_column(sa.Column("first_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("event_daily") as batch:
        batch.add_column(sa.Column("first_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("task_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))
    op.create_table(
        "salesforce_cache",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("salesforce_cache")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("description")
        batch.drop_column("task_key")
    with op.batch_alter_table("event_daily") as batch:
        batch.drop_column("first_at")
    with op.batch_alter_table("usage_daily") as batch:
        batch.drop_column("last_at")
        batch.drop_column("first_at")
