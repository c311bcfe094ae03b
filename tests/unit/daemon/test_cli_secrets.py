"""Every command that reads a configuration sets up logging and registers its secrets, so no
command can log a password before redaction knows it."""

from __future__ import annotations

import inspect

import typer

from connector import cli

SETS_UP_LOGGING = ("_settings(", "_store_engine(", "_alerts_store(", "add_secrets(")


def _commands(app: typer.Typer) -> list[tuple[str, object]]:
    found = []
    for info in app.registered_commands:
        found.append((info.name or info.callback.__name__, info.callback))  # type: ignore[union-attr]
    for group in app.registered_groups:
        found += _commands(group.typer_instance)  # type: ignore[arg-type]
    return found


def test_every_configured_command_registers_secrets() -> None:
    commands = _commands(cli.app)
    assert len(commands) > 10
    configured = [
        (name, fn)
        for name, fn in commands
        if "config" in inspect.signature(fn).parameters  # type: ignore[arg-type]
    ]
    assert {"run", "sync", "pull", "status", "report"} <= {name for name, _ in configured}
    missing = [
        name
        for name, fn in configured
        if not any(call in inspect.getsource(fn) for call in SETS_UP_LOGGING)  # type: ignore[arg-type]
    ]
    assert missing == []
