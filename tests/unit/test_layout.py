"""Project layout rules that keep the suite and the package healthy."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_test_module_names_are_unique() -> None:
    # pytest imports test modules by basename (no packages under tests/), so two files with
    # one name in different folders would shadow each other.
    names = Counter(p.name for p in (ROOT / "tests").rglob("test_*.py"))
    assert [n for n, count in names.items() if count > 1] == []


def test_only_the_clock_module_reads_the_wall_clock() -> None:
    offenders = []
    for path in (ROOT / "connector").rglob("*.py"):
        if path.name == "clock.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("now", "utcnow")
                and isinstance(node.value, ast.Name)
                and node.value.id == "datetime"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
