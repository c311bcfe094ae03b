"""SIGTERM and SIGINT: the first asks for a clean stop, a second one forces the exit."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from types import FrameType

from connector.logs import get_logger

log = get_logger(__name__)

FORCED_EXIT_CODE = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install(request_stop: Callable[[str], None]) -> Callable[[], None]:
    """Route stop signals to `request_stop(signal name)`; returns a function restoring the
    previous handlers. Must be called from the main thread."""
    received: list[str] = []
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if received:
            # the operator insists: leave now; the store lease expires on its own
            log.warning("daemon.forced_exit", signal=name)
            os._exit(FORCED_EXIT_CODE)
        received.append(name)
        request_stop(name)

    for sig in STOP_SIGNALS:
        signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
