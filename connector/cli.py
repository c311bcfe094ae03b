"""The `connector` command: parse arguments, call the library, one error boundary.

Exit codes: 0 success, 2 bad input or configuration, 1 any other failure.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console

from connector.errors import ConnectorError

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
