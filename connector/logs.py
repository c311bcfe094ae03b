"""Structured logging: one event per line, a run id on every line, secrets masked.

JSON lines when stderr is not a terminal (daemons, CI), readable colour output on a terminal.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterable
from typing import Any

import structlog

_secrets: list[str] = []
MASK = "***"


def add_secrets(values: Iterable[str]) -> None:
    """Register secret values that must never appear in a log line."""
    for v in values:
        if v and v not in _secrets:
            _secrets.append(v)
    _secrets.sort(key=len, reverse=True)


def redact(text: str) -> str:
    """Mask every registered secret in `text`."""
    for s in _secrets:
        if s in text:
            text = text.replace(s, MASK)
    return text


def _redact_processor(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    if not _secrets:
        return event
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = redact(value)
        elif value is not None and not isinstance(value, int | float | bool):
            event[key] = redact(str(value))
    return event


def new_run_id() -> str:
    """A short unique id for one run, bound to every log line while it lasts."""
    return uuid.uuid4().hex[:12]


def bind_run(run_id: str, **fields: Any) -> None:
    """Bind the run id (and other fields) to every following log line in this context."""
    structlog.contextvars.bind_contextvars(run_id=run_id, **fields)


class _StderrProxy:
    """Writes to whatever `sys.stderr` is at the time of writing, so a stream replaced later
    (by a test runner's capture, by a daemon's redirect) never leaves a closed file behind."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())


def configure(level: str = "info", fmt: str = "auto", stream: Any = None) -> None:
    """Set up structlog (and the stdlib root logger, for libraries) once per process.

    Without `stream` (or with `sys.stderr` itself) logs go to the current standard error.
    """
    if stream is None or stream is sys.stderr:
        stream = _StderrProxy()
    as_json = fmt == "json" or (fmt == "auto" and not getattr(stream, "isatty", lambda: False)())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=getattr(stream, "isatty", bool)())
    )
    numeric = getattr(logging, level.upper(), logging.INFO)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_processor,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=stream, force=True)


def get_logger(name: str) -> Any:
    """A structlog logger carrying the module name."""
    return structlog.get_logger(name)
