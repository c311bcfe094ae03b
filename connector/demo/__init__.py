"""A realistic demo product database (generic schema) for trying the connector and benchmarks."""

from connector.demo.dirty import DIRTY_KINDS
from connector.demo.names import KEY_MODULES
from connector.demo.product_db import (
    DemoSpec,
    DemoSummary,
    build,
    resolve_as_of,
    write_demo_db,
)

__all__ = [
    "DIRTY_KINDS",
    "KEY_MODULES",
    "DemoSpec",
    "DemoSummary",
    "build",
    "resolve_as_of",
    "write_demo_db",
]
