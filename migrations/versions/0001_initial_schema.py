"""Initial schema: every table the pull, scoring, planning and pushing stages use.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:45:42.806933
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("licenses", sa.Integer(), nullable=True),
        sa.Column("plan", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trial_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trial_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("csm_email", sa.String(length=255), nullable=True),
        sa.Column("company_size", sa.String(length=64), nullable=True),
        sa.Column("salesforce_id", sa.String(length=18), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("parent_account_id", sa.String(length=255), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_index(op.f("ix_accounts_csm_email"), "accounts", ["csm_email"], unique=False)
    op.create_index(op.f("ix_accounts_domain"), "accounts", ["domain"], unique=False)
    op.create_index(op.f("ix_accounts_salesforce_id"), "accounts", ["salesforce_id"], unique=False)
    op.create_index(op.f("ix_accounts_status"), "accounts", ["status"], unique=False)
    op.create_table(
        "lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subject_type", "subject_id", "name", name="uq_milestones_subject"),
    )
    op.create_index(op.f("ix_milestones_reached_on"), "milestones", ["reached_on"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object", sa.String(length=64), nullable=False),
        sa.Column("match_key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("salesforce_id", sa.String(length=18), nullable=True),
        sa.Column("error_code", sa.String(length=128), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("bulk_job_id", sa.String(length=18), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_outbox_run_id"), "outbox", ["run_id"], unique=False)
    op.create_index("ix_outbox_status_object", "outbox", ["status", "object"], unique=False)
    op.create_table(
        "push_state",
        sa.Column("object", sa.String(length=64), nullable=False),
        sa.Column("match_key", sa.String(length=255), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("salesforce_id", sa.String(length=18), nullable=True),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("object", "match_key", "field"),
    )
    op.create_index(
        op.f("ix_push_state_salesforce_id"), "push_state", ["salesforce_id"], unique=False
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("row_key", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stream", "row_key", "reason", name="uq_quarantine_row"),
    )
    op.create_index("ix_quarantine_reason", "quarantine", ["reason"], unique=False)
    op.create_table(
        "record_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object", sa.String(length=64), nullable=False),
        sa.Column("match_key", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_record_errors_match_key"), "record_errors", ["match_key"], unique=False
    )
    op.create_index(op.f("ix_record_errors_run_id"), "record_errors", ["run_id"], unique=False)
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("api_calls", sa.Integer(), nullable=True),
        sa.Column("api_usage", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index("ix_runs_kind_started", "runs", ["kind", "started_at"], unique=False)
    op.create_table(
        "tags",
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject_type", "subject_id", "tag"),
    )
    op.create_table(
        "tasks",
        sa.Column("record_id", sa.String(length=255), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("object", sa.String(length=64), nullable=False),
        sa.Column("salesforce_task_id", sa.String(length=18), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("condition", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("record_id", "rule"),
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index(op.f("ix_users_account_id"), "users", ["account_id"], unique=False)
    op.create_index(op.f("ix_users_email"), "users", ["email"], unique=False)
    op.create_table(
        "watermarks",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("last_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_id", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "stream"),
    )
    op.create_table(
        "event_daily",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("event", sa.String(length=255), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "day", "event"),
    )
    op.create_index("ix_event_daily_day", "event_daily", ["day"], unique=False)
    op.create_table(
        "metric_history",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("engagement_score", sa.Integer(), nullable=True),
        sa.Column("health_rank", sa.String(length=16), nullable=True),
        sa.Column("risk_level", sa.String(length=16), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=32), nullable=True),
        sa.Column("active_users_30d", sa.Integer(), nullable=True),
        sa.Column("values", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "day"),
    )
    op.create_index("ix_metric_history_day", "metric_history", ["day"], unique=False)
    op.create_table(
        "metrics",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("engagement_score", sa.Integer(), nullable=True),
        sa.Column("health_rank", sa.String(length=16), nullable=True),
        sa.Column("health_reason", sa.Text(), nullable=True),
        sa.Column("risk_level", sa.String(length=16), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=32), nullable=True),
        sa.Column("values", sa.JSON(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "usage_daily",
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("module", sa.String(length=128), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "day", "user_id", "module"),
    )
    op.create_index("ix_usage_daily_day", "usage_daily", ["day"], unique=False)
    op.create_table(
        "user_metrics",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("engagement_score", sa.Integer(), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=32), nullable=True),
        sa.Column("values", sa.JSON(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index(
        op.f("ix_user_metrics_account_id"), "user_metrics", ["account_id"], unique=False
    )


def downgrade() -> None:

    op.drop_index(op.f("ix_user_metrics_account_id"), table_name="user_metrics")
    op.drop_table("user_metrics")
    op.drop_index("ix_usage_daily_day", table_name="usage_daily")
    op.drop_table("usage_daily")
    op.drop_table("metrics")
    op.drop_index("ix_metric_history_day", table_name="metric_history")
    op.drop_table("metric_history")
    op.drop_index("ix_event_daily_day", table_name="event_daily")
    op.drop_table("event_daily")
    op.drop_table("watermarks")
    op.drop_index(op.f("ix_users_email"), table_name="users")
    op.drop_index(op.f("ix_users_account_id"), table_name="users")
    op.drop_table("users")
    op.drop_table("tasks")
    op.drop_table("tags")
    op.drop_index("ix_runs_kind_started", table_name="runs")
    op.drop_table("runs")
    op.drop_index(op.f("ix_record_errors_run_id"), table_name="record_errors")
    op.drop_index(op.f("ix_record_errors_match_key"), table_name="record_errors")
    op.drop_table("record_errors")
    op.drop_index("ix_quarantine_reason", table_name="quarantine")
    op.drop_table("quarantine")
    op.drop_index(op.f("ix_push_state_salesforce_id"), table_name="push_state")
    op.drop_table("push_state")
    op.drop_index("ix_outbox_status_object", table_name="outbox")
    op.drop_index(op.f("ix_outbox_run_id"), table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_milestones_reached_on"), table_name="milestones")
    op.drop_table("milestones")
    op.drop_table("lease")
    op.drop_index(op.f("ix_accounts_status"), table_name="accounts")
    op.drop_index(op.f("ix_accounts_salesforce_id"), table_name="accounts")
    op.drop_index(op.f("ix_accounts_domain"), table_name="accounts")
    op.drop_index(op.f("ix_accounts_csm_email"), table_name="accounts")
    op.drop_table("accounts")
