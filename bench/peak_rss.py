"""Peak resident memory of a benchmark's child process."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak RSS in MB since it started its program.

    Linux reports `VmHWM` per process image, so a spawned child sees only its own peak;
    `getrusage`'s `ru_maxrss` keeps the peak from before `exec`, which in a spawned child is
    the parent's size at the spawn. Elsewhere `ru_maxrss` is the best there is."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
