"""`connector run`: the long-running daemon (scheduled jobs, store lease, health, metrics)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from connector.config import Settings
from connector.daemon import signals
from connector.daemon.service import Daemon, DaemonSummary
from connector.daemon.view import banner, exit_summary


def run_daemon(settings: Settings, config_path: Path | None, console: Console) -> DaemonSummary:
    """Run until SIGTERM or SIGINT, then stop cleanly; prints a banner and an exit summary."""
    daemon = Daemon(settings, config_path)
    stop_signals = signals.StopSignals()
    try:
        daemon.start()
        console.print(banner(daemon))
        daemon.wait(lambda: stop_signals.requested)
    finally:
        summary = daemon.shutdown()
        stop_signals.restore()
    console.print(exit_summary(summary))
    return summary


__all__ = ["Daemon", "DaemonSummary", "run_daemon"]
