"""A corpus of broken configurations, mappings and rules (bad_config/<case>/): each one makes
`connector check --offline` and `connector sync` exit 2 with a message naming the file, the
line or key, and the fix, and nothing reaches Salesforce.

Every case's config.yaml takes its working parts from REL_* environment variables pointing at
a real product database and a live sandbox, so a case that slipped through would push.
`expect.txt` lists the texts its message must contain.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

import connector.cli as cli
from tests.reliability.world import Template, Trial, run_cli, trial

pytestmark = pytest.mark.sandbox

CORPUS = Path(__file__).parent / "bad_config"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "config.yaml").exists())
WRITE_KINDS = ("collections", "composite", "bulk", "crud", "tooling")


def live_env(t: Trial) -> dict[str, str]:
    """REL_* variables for a working product database and a live sandbox org."""
    sb = t.sandbox
    return {
        "REL_SOURCE_URL": t.template.source_url,
        "REL_STORE_URL": t.store_url,
        "REL_LOGIN_URL": sb.instance_url,
        "REL_CA_BUNDLE": str(sb.ca_file),
        "REL_CLIENT_ID": sb.client_id,
        "REL_CLIENT_SECRET": sb.client_secret,
        "REL_USERNAME": sb.username,
        "REL_PASSWORD": sb.password,
        "REL_SECURITY_TOKEN": sb.security_token,
    }


@pytest.fixture(scope="module")
def live(template: Template, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trial]:
    """One sandbox every case of this module points at."""
    with trial(template, tmp_path_factory.mktemp("bad-config") / "t") as t:
        t.sandbox.reset_counters()
        yield t


def expectations(case: str) -> list[str]:
    return [line for line in (CORPUS / case / "expect.txt").read_text().splitlines() if line]


def run_in_process(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """The CLI entry point in this process, its error console wide enough not to wrap."""
    monkeypatch.setattr(cli, "err_console", Console(stderr=True, width=500))
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25
    kinds = {c.split("_")[0] for c in CASES}
    assert {"mapping", "rule", "missing", "bad"} <= kinds


@pytest.mark.parametrize("case", CASES)
def test_broken_case_exits_2_names_the_place_and_pushes_nothing(
    case: str,
    live: Trial,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in live_env(live).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REL_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.delenv("REL_UNSET_PASSWORD", raising=False)
    config = str(CORPUS / case / "config.yaml")
    for argv in (["check", "--offline", "-c", config], ["sync", "-c", config]):
        code, output = run_in_process(argv, monkeypatch, capsys)
        assert code == 2, f"{case}: `connector {argv[0]}` exited {code}\n{output[-2000:]}"
        for text in expectations(case):
            assert text in output, f"{case}: {argv[0]} output lacks {text!r}:\n{output[-2000:]}"
        assert "Fix:" in output, f"{case}: {argv[0]} gives no fix:\n{output[-2000:]}"
        assert "Traceback" not in output


def test_the_org_saw_no_write(live: Trial) -> None:
    """After every case above ran `sync` against this sandbox, nothing was written to it."""
    calls = live.sandbox.counters()["calls"]
    assert all(calls.get(kind, 0) == 0 for kind in WRITE_KINDS), calls


def test_cases_fail_the_same_in_a_real_process(template: Template, tmp_path: Path) -> None:
    """The same corpus as subprocesses against one sandbox: its write counters stay at zero."""
    with trial(template, tmp_path / "t") as t:
        sb = t.sandbox
        env = live_env(t)
        sb.reset_counters()
        for case in CASES[::12]:  # a spread of cases, through the real `connector` process
            result = run_cli(["sync", "-c", str(CORPUS / case / "config.yaml")], env=env)
            assert result.code == 2, f"{case}: {result.stderr[-1500:]}"
            assert "Fix:" in result.stderr, result.stderr[-1500:]
        calls = sb.counters()["calls"]
        assert all(calls.get(kind, 0) == 0 for kind in WRITE_KINDS), calls
        assert sb.org.count("Task") == 0
