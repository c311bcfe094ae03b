"""Per-record outcomes of a write, whichever API carried it."""

from __future__ import annotations

from dataclasses import dataclass

from connector.salesforce.errors import Action, RecordError


@dataclass(frozen=True)
class RecordResult:
    """What Salesforce said about one record of a write."""

    ok: bool
    salesforce_id: str | None = None
    created: bool = False
    errors: tuple[RecordError, ...] = ()

    @property
    def action(self) -> Action | None:
        """What to do next about a failure (None on success): the first error decides."""
        return self.errors[0].action if self.errors else None

    @property
    def code(self) -> str | None:
        return self.errors[0].code if self.errors else None

    @property
    def message(self) -> str:
        return "; ".join(str(e) for e in self.errors)
