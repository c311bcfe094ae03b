"""The `connector` command: parse arguments, call the library, one error boundary.

Exit codes: 0 success, 2 bad input or configuration, 1 any other failure.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console

from connector.errors import ConnectorError, InputError

app = typer.Typer(
    name="connector",
    help="Sync product-usage intelligence (engagement, health, lifecycle, tags, milestones) "
    "into Salesforce.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the connector's own store.", no_args_is_help=True)
app.add_typer(db_app, name="db")

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Configuration YAML (default: embedded defaults).",
        exists=False,
        dir_okay=False,
    ),
]


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8787,
    data: Annotated[
        Path,
        typer.Option(
            help="SQLite file the org persists to; its TLS certificates are kept beside it."
        ),
    ] = Path(".sandbox/org.db"),
    seed: Annotated[
        int | None,
        typer.Option(help="Seed for ids, faults and generated credentials, for reproducible runs."),
    ] = None,
    fls: Annotated[
        bool,
        typer.Option(
            "--fls/--no-fls",
            help="New custom fields stay hidden until a permission set grants them.",
        ),
    ] = False,
    faults: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="A fault switch NAME=VALUE, e.g. error_503_rate=0.1, "
            "lock_rate=0.05, latency_ms=50, session_expire_calls=50, daily_limit=15000, "
            "apex_cpu_batch=100. Repeatable.",
        ),
    ] = None,
) -> None:
    """Serve the local Salesforce API emulator over HTTPS."""
    from connector.sandbox.server import serve

    serve(host=host, port=port, data=data, seed=seed, fls=fls, faults=faults or [])


def _parse_as_of(text: str | None) -> datetime | None:
    """An ISO 8601 timestamp; one without an offset is taken as UTC."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--as-of {text!r} is not a timestamp. Fix: use ISO 8601, e.g. 2026-03-01T12:00:00Z."
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _database_url(out: str) -> str:
    """A database URL as given, or a plain file path as an SQLite URL."""
    return out if "://" in out else f"sqlite:///{Path(out).expanduser()}"


@app.command("demo-data")
def demo_data(
    out: Annotated[
        str,
        typer.Option(
            "--out",
            help="Database to write: an SQLAlchemy URL (sqlite:///demo.db, "
            "postgresql+psycopg://…, mysql+pymysql://…) or an SQLite file path. Its accounts, "
            "users and events tables are dropped and recreated.",
        ),
    ],
    accounts: Annotated[int, typer.Option(help="Number of customer accounts.")] = 200,
    days: Annotated[
        int, typer.Option(help="Days of usage history, the last one ending at as-of.")
    ] = 90,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed and as-of give the same rows.")
    ] = 7,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="End of the last day, ISO 8601 (default: now, to the hour)."),
    ] = None,
    events_target: Annotated[
        int | None,
        typer.Option(help="Stretch activity so the database holds about this many events."),
    ] = None,
    dirty_rows: Annotated[
        bool,
        typer.Option(
            "--dirty-rows/--no-dirty-rows",
            help="Add a few broken events (no user, unknown account, negative duration, "
            "far-future time, duplicated id), as real product databases have.",
        ),
    ] = True,
    config: ConfigOption = None,
) -> None:
    """Write a realistic demo product database (accounts, users, events) to try the connector on."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from connector import logs
    from connector.config import load_settings
    from connector.demo import DemoSpec, resolve_as_of, write_demo_db

    settings = load_settings(config)
    logs.configure(settings.logging.level, settings.logging.format)
    spec = DemoSpec(
        accounts=accounts,
        days=days,
        seed=seed,
        as_of=resolve_as_of(_parse_as_of(as_of)),
        dirty_rows=dirty_rows,
        events_target=events_target,
    )
    with Progress(
        TextColumn("writing days"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("days", total=spec.days)
        summary = write_demo_db(
            _database_url(out), spec, progress=lambda done, _: bar.update(task, completed=done)
        )
    table = Table(title=f"Demo product database: {summary.url}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for status, count in summary.accounts_by_status.items():
        table.add_row(f"{status} accounts", f"{count:,}")
    table.add_row("users", f"{summary.users:,}")
    table.add_row("events", f"{summary.events:,}")
    for kind, count in summary.dirty_rows.items():
        table.add_row(f"dirty: {kind.replace('_', ' ')}", f"{count:,}")
    table.add_row("as of", spec.as_of.isoformat() if spec.as_of else "")
    table.add_row("seconds", f"{summary.elapsed_seconds:.1f}")
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn errors into exit codes and readable messages."""
    try:
        app(args=argv, standalone_mode=False)
    except ConnectorError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 1
    except click.ClickException as exc:
        exc.show()
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
