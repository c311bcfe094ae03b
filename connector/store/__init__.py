"""The connector's own database: SQLModel tables and the only modules that query them.

- `models`: the tables (`metadata` is what the Alembic revisions build);
- `engine.make_store_engine(url)`: SQLite (WAL, foreign keys) or PostgreSQL (psycopg);
- `migrate`: `upgrade`, `downgrade`, `current_revision`, `require_current`;
- `accounts`: accounts and users written only when their content hash changes;
- `rollups`: the daily rollups (`iter_usage(engine, since_day, until_day)` streams them
  ordered by account; `usage_by_account` groups them; `iter_event_daily` for event names);
- `results`: scoring output in bulk (`write_metrics`, `write_history`, `write_user_metrics`,
  `add_milestones`, `set_tags`) and its readers;
- `bookkeeping`: runs, watermarks and the quarantine; `pushlog`: the outbox and push state;
  `lease`: which daemon may work;
- `status.store_status(engine)`: the store at a glance, as plain data.
"""
