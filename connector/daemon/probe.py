"""The container's health probe: asks the daemon's own `/healthz`, on the port its
configuration gives (the file's `server.port`, or CONNECTOR__SERVER__PORT over it).

    python -m connector.daemon.probe /etc/connector/config.yaml

Exit 0 when healthy, or when the configuration turns the endpoint off (nothing to ask);
1 otherwise, with the reason on standard error."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from connector.config import load_settings
from connector.errors import ConnectorError

TIMEOUT_SECONDS = 8


def probe(config: str | None) -> tuple[int, str]:
    """(exit code, what was found)."""
    try:
        server = load_settings(config).server
    except ConnectorError as exc:
        return 1, f"the configuration cannot be read: {exc}"
    if not server.enabled:
        return 0, "server.enabled is false: no health endpoint to ask"
    url = f"http://127.0.0.1:{server.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return 0, f"{url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return 1, f"{url} answered {exc.code}: {exc.read(500).decode(errors='replace')}"
    except OSError as exc:
        return 1, f"{url} did not answer ({exc})"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    code, found = probe(args[0] if args else None)
    print(found, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
