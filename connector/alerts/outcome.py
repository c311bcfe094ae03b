"""How a channel reports a failed delivery: permanent (give up) or worth another try."""

from __future__ import annotations

from connector.errors import SkippableError


class DeliveryFailed(SkippableError):
    """One delivery failed; the others go on. `permanent`: retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent
