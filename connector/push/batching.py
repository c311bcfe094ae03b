"""A batch size that adapts to the org: halve on row locks or Apex CPU errors, then grow back."""

from __future__ import annotations

from dataclasses import dataclass

GROW_AFTER_SUCCESSES = 2


@dataclass
class AdaptiveBatch:
    """The current records-per-call for one object's writes."""

    max_size: int
    size: int = 0
    min_size: int = 1
    _successes: int = 0

    def __post_init__(self) -> None:
        if self.size <= 0:
            self.size = self.max_size

    def shrink(self) -> None:
        """Halve after a batch failed because it was too big for the org's triggers or locks."""
        self.size = max(self.min_size, self.size // 2)
        self._successes = 0

    def succeeded(self) -> None:
        """Grow back (doubling) after consecutive clean calls."""
        self._successes += 1
        if self._successes >= GROW_AFTER_SUCCESSES and self.size < self.max_size:
            self.size = min(self.max_size, self.size * 2)
            self._successes = 0
