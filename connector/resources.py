"""Where the shipped folders (mappings, jobs, migrations) live, installed or from source."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """The shipped folder `name` (`mappings`, `jobs` or `migrations`).

    An installed wheel carries it as `connector/_shipped/<name>`; a source checkout has it at
    the repository root.
    """
    installed = _PACKAGE_DIR / "_shipped" / name
    if installed.is_dir():
        return installed
    source = _PACKAGE_DIR.parent / name
    if source.is_dir():
        return source
    raise FileNotFoundError(f"the shipped folder {name!r} is missing from this installation")
