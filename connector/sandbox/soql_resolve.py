"""Names in a query → the org's objects and fields, with Salesforce's INVALID_TYPE/FIELD errors.

Resolution is case-insensitive and yields canonical names; a dotted path walks parent
relationships (`Owner.Email`, `ConvertedAccount.Owner.Email`) by relationship name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connector.sandbox.soql_model import (
    Catalog,
    FieldInfo,
    FieldPath,
    Position,
    SoqlError,
    located_message,
)

MAX_RELATIONSHIP_DEPTH = 5  # Salesforce allows five levels of child-to-parent relationships

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Hop:
    """One parent relationship on a path: the reference field and the name it is read by."""

    reference: FieldInfo  # e.g. OwnerId
    relationship: str  # canonical relationship name, e.g. Owner
    polymorphic: bool  # references more than one object (Owner → User or Group)


@dataclass(frozen=True)
class ResolvedPath:
    """A field path bound to the org: the relationships walked, then the field read."""

    hops: tuple[Hop, ...]
    field: FieldInfo
    position: Position

    @property
    def key(self) -> tuple[str, ...]:
        """Canonical spelling, used to spot the same field written twice."""
        return (*(h.relationship for h in self.hops), self.field.name)

    @property
    def text(self) -> str:
        return ".".join(self.key)


class Schema:
    """The catalog's describe data indexed for case-insensitive lookups, built per query."""

    def __init__(self, catalog: Catalog, text: str) -> None:
        self.catalog = catalog
        self._text = text
        self._fields: dict[str, list[FieldInfo]] = {}
        self._by_name: dict[str, dict[str, FieldInfo]] = {}
        self._by_relationship: dict[str, dict[str, FieldInfo]] = {}

    def object_name(self, name: str, position: Position) -> str:
        canonical = self.catalog.object_name(name)
        if canonical is None:
            raise SoqlError(
                "INVALID_TYPE",
                located_message(
                    self._text,
                    position,
                    f"sObject type '{name}' is not supported. If you are attempting to use a "
                    "custom object, be sure to append the '__c' after the entity name. Please "
                    "reference your WSDL or the describe call for the appropriate names.",
                ),
            )
        return canonical

    def fields(self, sobject: str) -> list[FieldInfo]:
        if sobject not in self._fields:
            fields = list(self.catalog.fields(sobject))
            self._fields[sobject] = fields
            self._by_name[sobject] = {f.name.lower(): f for f in fields}
            self._by_relationship[sobject] = {
                f.relationship_name.lower(): f
                for f in fields
                if f.relationship_name and f.reference_to
            }
        return self._fields[sobject]

    def field(self, sobject: str, name: str) -> FieldInfo | None:
        self.fields(sobject)
        return self._by_name[sobject].get(name.lower())

    def relationship(self, sobject: str, name: str) -> FieldInfo | None:
        self.fields(sobject)
        return self._by_relationship[sobject].get(name.lower())

    def known_objects(self, names: tuple[str, ...]) -> list[str]:
        """The referenced objects the org actually has, canonical names, in describe order."""
        found = (self.catalog.object_name(n) for n in names)
        return [n for n in found if n is not None]

    def resolve(self, path: FieldPath, sobject: str) -> ResolvedPath:
        """Bind `path` to fields starting at `sobject`, or raise INVALID_FIELD as Salesforce."""
        parts = list(path.parts)
        if (
            len(parts) > 1
            and parts[0].lower() == sobject.lower()
            and self.relationship(sobject, parts[0]) is None
        ):
            parts = parts[1:]  # `Account.Name` FROM Account: the object name as a prefix
        if len(parts) - 1 > MAX_RELATIONSHIP_DEPTH:
            raise self._invalid_field(
                path.position,
                f"SOQL statements cannot query more than {MAX_RELATIONSHIP_DEPTH} levels of "
                f"child-to-parent relationships; '{path.text}' has {len(parts) - 1}.",
            )
        objects = [sobject]
        hops: list[Hop] = []
        for part in parts[:-1]:
            reference = next(
                (r for o in objects if (r := self.relationship(o, part)) is not None), None
            )
            if reference is None or reference.relationship_name is None:
                raise self._invalid_field(
                    path.position,
                    f"Didn't understand relationship '{part}' in field path. If you are "
                    "attempting to use a custom relationship, be sure to append the '__r' after "
                    "the custom relationship name. Please reference your WSDL or the describe "
                    "call for the appropriate names.",
                )
            hops.append(
                Hop(reference, reference.relationship_name, len(reference.reference_to) > 1)
            )
            objects = self.known_objects(reference.reference_to)
        name = parts[-1]
        found = next((f for o in objects if (f := self.field(o, name)) is not None), None)
        if found is None:
            entity = objects[0] if objects else sobject
            raise self._invalid_field(
                path.position,
                f"No such column '{name}' on entity '{entity}'. If you are attempting to use a "
                "custom field, be sure to append the '__c' after the custom field name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        return ResolvedPath(tuple(hops), found, path.position)

    def _invalid_field(self, position: Position, message: str) -> SoqlError:
        return SoqlError("INVALID_FIELD", located_message(self._text, position, message))


class ParentLookup:
    """Parent records by id for one query, fetched once each from the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._cache: dict[str, tuple[str, Row] | None] = {}

    def __call__(self, record_id: Any) -> tuple[str, Row] | None:
        if not record_id or not isinstance(record_id, str):
            return None
        try:
            return self._cache[record_id]
        except KeyError:
            found = self._catalog.get(record_id)
            self._cache[record_id] = found
            return found


def getter(path: ResolvedPath, parents: ParentLookup) -> Callable[[Row], Any]:
    """A function reading the path's value from a row, walking parents; None when any is null."""
    name = path.field.name
    if not path.hops:
        return lambda row: row.get(name)
    references = [hop.reference.name for hop in path.hops]

    def read(row: Row) -> Any:
        current: Row | None = row
        for reference in references:
            found = parents(current.get(reference))
            if found is None:
                return None
            current = found[1]
        return current.get(name)

    return read
