"""Everything one running sandbox holds: the org, auth, faults, usage and open query cursors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connector.sandbox.auth import Auth
from connector.sandbox.faults import Faults
from connector.sandbox.org import Org
from connector.sandbox.usage import ApiUsage

T = TypeVar("T")


@dataclass
class SandboxState:
    """Shared by every handler; `extensions` is where Bulk and Tooling keep their own state."""

    org: Org
    auth: Auth
    faults: Faults
    usage: ApiUsage
    cursors: Any = None  # connector.sandbox.query.Cursors, set by the app
    router: Any = None  # connector.sandbox.routing.Router, set by the app
    extensions: dict[str, Any] = field(default_factory=dict)
    _extension_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def extension(self, name: str, create: Callable[[], T]) -> T:
        """The state kept under `name`, created once even when first requests race for it."""
        existing = self.extensions.get(name)
        if existing is None:
            with self._extension_lock:
                existing = self.extensions.get(name)
                if existing is None:
                    existing = self.extensions[name] = create()
        return existing  # type: ignore[no-any-return]

    @property
    def instance_url(self) -> str:
        return self.auth.instance_url
