"""SIGTERM and SIGINT: the first asks for a clean stop, a second one forces the exit.

The handler only records the signal: it runs in the main thread between any two bytecodes,
possibly while that thread holds the log writer's lock, so logging or taking a lock there
could deadlock. The daemon's main loop notices the request and stops.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

FORCED_EXIT_CODE = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """Installs the handlers (main thread only); `requested` names the first signal."""

    def __init__(self) -> None:
        self._received: list[str] = []
        self._previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)

    @property
    def requested(self) -> str | None:
        return self._received[0] if self._received else None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self._received:
            # the operator insists: leave now; the store lease expires on its own
            os.write(2, b"connector: second stop signal, exiting at once\n")
            os._exit(FORCED_EXIT_CODE)
        self._received.append(signal.Signals(signum).name)

    def restore(self) -> None:
        """Put the previous handlers back."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
