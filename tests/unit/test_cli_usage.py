"""Wrong usage of `connector` ends with the library's message and exit code 2, never a
traceback, whichever copy of click the installed typer uses."""

from __future__ import annotations

import pytest

from connector.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["pull", "--bogus"], "No such option: --bogus"),
        (["demo-data"], "Missing option '--out'"),
        (["quarantine", "--limit", "0"], "Invalid value for '--limit'"),
        (["status", "--runs", "abc"], "Invalid value for '--runs'"),
        (["account"], "Missing argument"),
    ],
)
def test_usage_errors_are_reported_with_exit_code_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split()), err
    assert "Traceback" not in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "Usage: connector" in capsys.readouterr().out
