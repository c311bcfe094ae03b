"""YAML loading that remembers where every value came from, so errors can name the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from connector.errors import ConfigError, Problem

Location = tuple[str | int, ...]


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records the line of every mapping key and sequence item."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", mark)
        result[key] = loader.construct_object(value_node, deep=deep)
    return result


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def _index_lines(node: yaml.Node, path: Location, lines: dict[Location, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*path, key)
            _index_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), lines)


class YamlDocument:
    """Parsed YAML plus the line of each key, for messages like `file.yaml:12 (a.b)`."""

    def __init__(self, path: Path | str, data: Any, lines: dict[Location, int]) -> None:
        self.path = str(path)
        self.data = data
        self.lines = lines

    def where(self, loc: Location) -> str:
        """`file:line (dotted.key)` for the deepest known prefix of `loc`."""
        loc = tuple(loc)
        probe = loc
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe)
        dotted = ".".join(str(p) for p in loc)
        head = f"{self.path}:{line}" if line else self.path
        return f"{head} ({dotted})" if dotted else head


def parse_yaml(text: str, path: Path | str) -> YamlDocument:
    """Parse YAML text; a syntax error becomes a ConfigError naming the file and line."""
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or str(exc)
        raise ConfigError(
            [
                Problem(
                    where=f"{path}{line}",
                    message=f"this is not valid YAML ({problem}).",
                    fix="check the indentation and quoting on that line "
                    "(quote values that contain ': ' or start with a special character).",
                )
            ]
        ) from None
    lines: dict[Location, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return YamlDocument(path, data, lines)


def load_yaml(path: Path | str) -> YamlDocument:
    """Read and parse a YAML file; a missing or unreadable file is a ConfigError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [
                Problem(
                    where=str(p),
                    message="the file does not exist.",
                    fix="check the path, or run without it to use the shipped defaults.",
                )
            ]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [
                Problem(
                    where=str(p),
                    message=f"the file cannot be read ({exc}).",
                    fix="make it a readable UTF-8 text file.",
                )
            ]
        ) from None
    return parse_yaml(text, p)
