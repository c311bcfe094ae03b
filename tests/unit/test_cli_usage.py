"""Wrong usage of `connector` ends with the library's message and exit code 2, never a
traceback, whichever copy of click the installed typer uses."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from connector.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["pull", "--bogus"], "No such option: --bogus"),
        (["demo-data"], "Missing option '--out'"),
        (["quarantine", "--limit", "0"], "Invalid value for '--limit'"),
        (["quarantine", "--stream", "bogus"], "Invalid value for '--stream'"),
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


def test_nothing_is_logged_to_standard_output_before_the_configuration_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("source:\n  url: sqlite:///${NOT_SET_ANYWHERE}/p.db\n", encoding="utf-8")
    structlog.reset_defaults()
    try:
        assert main(["check", "--offline", "-c", str(config)]) == 2
    finally:
        structlog.reset_defaults()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "NOT_SET_ANYWHERE" in captured.err


def test_a_port_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--port", "70000"]) == 2
    assert "Invalid value for '--port'" in " ".join(capsys.readouterr().err.split())


def test_a_path_that_cannot_be_used_is_named_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("", encoding="utf-8")
    out = blocker / "sub" / "demo.db"
    assert main(["demo-data", "--out", f"sqlite:///{out}", "--accounts", "3", "--days", "2"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"error: Not a directory: {blocker}" in err
    assert "Traceback" not in err
