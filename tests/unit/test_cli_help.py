"""The command lists of `connector --help`: one summary per command, as its docstring says."""

from __future__ import annotations

import inspect

import pytest
import typer
from typer.testing import CliRunner

from connector.cli import alerts_app, app, db_app


@pytest.mark.parametrize(("argv", "group"), [([], app), (["db"], db_app), (["alerts"], alerts_app)])
def test_each_command_is_listed_with_its_whole_summary_on_one_row(
    argv: list[str], group: typer.Typer
) -> None:
    result = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()
    for info in group.registered_commands:
        name = info.name or info.callback.__name__.replace("_", "-")  # type: ignore[union-attr]
        paragraph = (inspect.getdoc(info.callback) or "").split("\n\n")[0]
        summary = " ".join(paragraph.split())
        assert any(name in row and summary in row for row in rows), (name, summary)
