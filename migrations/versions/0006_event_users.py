"""Users per event name on the newest day read, so new events are added to that day's
rollups instead of the whole day being re-read; the earliest day read with events of
unknown accounts, re-read when new accounts arrive.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_users",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("event", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "day", "event", "user_id"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("watermarks") as batch:
        batch.add_column(sa.Column("users_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("unknown_day", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("watermarks") as batch:
        batch.drop_column("unknown_day")
        batch.drop_column("users_day")
    op.drop_table("event_users")
