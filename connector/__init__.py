"""Engagement sync connector: product usage → engagement, health and lifecycle → Salesforce."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("engagement-connector")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
