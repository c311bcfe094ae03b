"""The connector's error tree, grouped by what the runtime should do next.

    ConnectorError                 root; `exit_code` is what the CLI exits with
    ├── ConfigError                bad configuration, mappings or rules (exit 2): fix the file
    │     (carries every problem found, each with its file, line or key, and the fix)
    ├── InputError                 bad command-line input (exit 2)
    ├── FatalError                 cannot go on this run (exit 1)
    │   └── AuthError              Salesforce rejected the credentials
    ├── RetriableError             transient: retry with backoff (timeouts, 5xx, row locks)
    │   └── LimitReachedError      API allocation reserve reached: stop cleanly, resume next run
    └── SkippableError             one record is bad; record it and go on with the rest

Messages are full sentences that name the thing (file and line, object and record, field)
and say what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class ConnectorError(Exception):
    """Root of every error the connector raises on purpose."""

    exit_code: int = 1


@dataclass(frozen=True)
class Problem:
    """One configuration problem: where it is, what is wrong, how to fix it."""

    where: str  # "config.yaml:12 (salesforce.auth)" or "mappings/account.yaml:4"
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class ConfigError(ConnectorError):
    """Configuration, mapping or rule files are invalid; carries every problem found."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(where="configuration", message=problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(ConnectorError):
    """A command-line argument is invalid."""

    exit_code = 2


class FatalError(ConnectorError):
    """The run cannot continue; a human must look."""

    exit_code = 1


class AuthError(FatalError):
    """Salesforce refused the credentials or the token request."""


class RetriableError(ConnectorError):
    """A transient failure; the same call may succeed later."""

    exit_code = 1


class LimitReachedError(RetriableError):
    """The org's API allocation (or our configured reserve of it) is used up."""


class SkippableError(ConnectorError):
    """One record cannot be processed; the rest go on."""

    exit_code = 1
