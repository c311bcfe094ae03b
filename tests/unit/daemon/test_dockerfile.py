"""The Dockerfile (Docker cannot run here, so its properties are checked by reading it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SECRET_NAMES = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE|API_KEY|CREDENTIAL", re.I)


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        logical.append(current)
        current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in logical]


def _final_stage() -> list[tuple[str, str]]:
    steps = _instructions((REPO / "Dockerfile").read_text())
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def test_runtime_is_slim_python_311_as_a_non_root_user() -> None:
    stage = _final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim")
    users = [args for op, args in stage if op == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    ops = [op for op, _ in stage]
    assert ops.index("USER") < ops.index("ENTRYPOINT")


def test_installs_the_project_with_pip() -> None:
    steps = _instructions((REPO / "Dockerfile").read_text())
    runs = " ".join(args for op, args in steps if op == "RUN")
    assert "pip wheel" in runs
    assert "--wheel-dir /dist ." in runs
    assert "pip install /tmp/*.whl" in runs
    for op, args in steps:
        if op == "COPY" and "--from" not in args:
            for source in args.split()[:-1]:
                assert (REPO / source).exists(), f"COPY {source}: no such path in the repository"


def test_healthcheck_entrypoint_and_command() -> None:
    stage = dict(_final_stage())
    assert "connector.daemon.probe" in stage["HEALTHCHECK"]
    assert stage["HEALTHCHECK"].split("CMD", 1)[0].count("--start-period") == 1
    assert json.loads(stage["ENTRYPOINT"]) == ["connector"]
    assert json.loads(stage["CMD"]) == ["run", "-c", "/etc/connector/config.yaml"]
    assert stage["STOPSIGNAL"] == "SIGTERM"


def test_no_secret_is_baked_into_the_image() -> None:
    steps = _instructions((REPO / "Dockerfile").read_text())
    for op, args in steps:
        if op in ("ENV", "ARG", "LABEL"):
            assert not SECRET_NAMES.search(args), f"{op} {args} looks like a secret"
        if op in ("COPY", "ADD"):
            for name in ("config.yaml", ".env", ".pem", ".key", ".db"):
                assert name not in args, f"{op} {args} copies local configuration or keys"


def test_dockerignore_keeps_local_state_and_keys_out_of_the_build() -> None:
    ignored = set((REPO / ".dockerignore").read_text().split())
    for pattern in (".git", ".venv", "*.db", "*.pem", ".env", "config.yaml", "tests"):
        assert pattern in ignored
