"""Everything one running sandbox holds: the org, auth, faults, usage and open query cursors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.sandbox.auth import Auth
from connector.sandbox.faults import Faults
from connector.sandbox.org import Org
from connector.sandbox.usage import ApiUsage


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

    @property
    def instance_url(self) -> str:
        return self.auth.instance_url
