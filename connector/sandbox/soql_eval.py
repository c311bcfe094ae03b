"""Running a parsed query against a catalog: select, filter, group, order, page, shape.

The result is every matching record (after OFFSET and LIMIT) in the JSON shape Salesforce's
REST query resource returns; paging into batches of 2,000 is the server's job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from connector.sandbox import soql_values as values
from connector.sandbox.soql_model import (
    Aggregate,
    Catalog,
    CountAll,
    FieldPath,
    FieldsFunction,
    OrderItem,
    Position,
    Query,
    QueryResult,
    SoqlError,
    located_message,
)
from connector.sandbox.soql_resolve import ParentLookup, ResolvedPath, Row, Schema, getter
from connector.sandbox.soql_where import WhereCompiler

MAX_OFFSET = 2_000
MAX_FIELDS_LIMIT = 200  # FIELDS(ALL) and FIELDS(CUSTOM) need LIMIT n with n <= 200
_NUMERIC_AGGREGATES = ("SUM", "AVG")


def execute_query(
    query: Query,
    catalog: Catalog,
    *,
    now: datetime,
    api_version: str,
    include_deleted: bool = False,
) -> QueryResult:
    """Run `query` against `catalog`; raises SoqlError exactly where Salesforce would."""
    return _Execution(query, catalog, now, api_version).run(include_deleted)


@dataclass
class _Node:
    """One key of an output record: a field, or a parent relationship with its own keys."""

    name: str
    read_field: str | None = None  # plain field: the row key to copy
    reference: str | None = None  # relationship: the id field naming the parent
    polymorphic: bool = False
    children: list[_Node] = field(default_factory=list)

    def child(self, name: str) -> _Node | None:
        return next((c for c in self.children if c.name == name), None)


class _Execution:
    def __init__(self, query: Query, catalog: Catalog, now: datetime, api_version: str) -> None:
        self.query = query
        self.text = query.text
        self.schema = Schema(catalog, query.text)
        self.parents = ParentLookup(catalog)
        self.now = now
        self.api_version = api_version
        self.sobject = self.schema.object_name(query.sobject, query.sobject_position)

    def run(self, include_deleted: bool) -> QueryResult:
        query = self.query
        self._check_offset()
        count_all = [item for item in query.select if isinstance(item, CountAll)]
        if count_all:
            return self._count(count_all[0], include_deleted)
        aggregates = [item for item in query.select if isinstance(item, Aggregate)]
        if aggregates or query.group_by:
            return self._aggregate(include_deleted)
        columns = self._columns()
        rows = self._filtered(include_deleted)
        if query.order_by:
            rows = iter(self._sorted(list(rows), query.order_by))
        page = list(_page(rows, query.offset, query.limit))
        shape = self._shape(columns)
        records = [shape(self.sobject, row) for row in page]
        return QueryResult(total_size=len(records), records=records)

    # --- checks -------------------------------------------------------------------------

    def _malformed(self, position: Position, message: str) -> SoqlError:
        return SoqlError("MALFORMED_QUERY", located_message(self.text, position, message))

    def _check_offset(self) -> None:
        offset = self.query.offset
        if offset is not None and offset > MAX_OFFSET:
            where = self.query.offset_position or Position(1, 1)
            raise SoqlError(
                "NUMBER_OUTSIDE_VALID_RANGE",
                located_message(self.text, where, f"Maximum SOQL offset allowed is {MAX_OFFSET}"),
            )

    # --- rows ---------------------------------------------------------------------------

    def _filtered(self, include_deleted: bool) -> Iterator[Row]:
        rows: Iterable[Row] = self.schema.catalog.rows(self.sobject, include_deleted)
        if self.query.where is None:
            return iter(rows)
        compiler = WhereCompiler(self.schema, self.sobject, self.parents, self.now, self.text)
        predicate = compiler.compile(self.query.where)
        return filter(predicate, rows)

    def _sorted(self, rows: list[Row], order_by: tuple[OrderItem, ...]) -> list[Row]:
        keys = []
        for item in order_by:
            path = self.schema.resolve(item.field, self.sobject)
            read = getter(path, self.parents)
            keys.append((read, values.sort_key(path.field.type), item))
        # stable sorts, least significant key first
        for read, normalise, item in reversed(keys):
            rows.sort(
                key=_order_key(lambda row, r=read, n=normalise: n(r(row)), item),
                reverse=item.descending,
            )
        return rows

    # --- SELECT COUNT() -----------------------------------------------------------------

    def _count(self, count: CountAll, include_deleted: bool) -> QueryResult:
        query = self.query
        if len(query.select) > 1:
            raise self._malformed(
                count.position,
                "COUNT() must be the only element in the SELECT list; select fields in "
                "another query or use COUNT(Id) with GROUP BY.",
            )
        if query.order_by:
            raise self._malformed(
                query.order_by[0].field.position,
                "ORDER BY is not allowed with COUNT(): remove it, the query returns only a count.",
            )
        if query.group_by:
            raise self._malformed(
                query.group_by[0].position,
                "GROUP BY is not allowed with COUNT(): use COUNT(Id) to count each group.",
            )
        total = sum(1 for _ in self._filtered(include_deleted))
        total = max(0, total - (query.offset or 0))
        if query.limit is not None:
            total = min(total, query.limit)
        return QueryResult(total_size=total, records=[])

    # --- plain records ------------------------------------------------------------------

    def _columns(self) -> list[ResolvedPath]:
        """The SELECT list resolved, FIELDS() expanded; a field written twice is an error."""
        columns: list[ResolvedPath] = []
        seen: set[tuple[str, ...]] = set()
        named: set[tuple[str, ...]] = set()
        for item in self.query.select:
            if isinstance(item, FieldsFunction):
                for path in self._expand_fields(item):
                    if path.key not in seen:
                        seen.add(path.key)
                        columns.append(path)
                continue
            assert isinstance(item, FieldPath)
            path = self.schema.resolve(item, self.sobject)
            if path.key in named:
                raise self._malformed(item.position, f"duplicate field selected: {item.text}")
            named.add(path.key)
            if path.key not in seen:  # FIELDS() may already have brought it in
                seen.add(path.key)
                columns.append(path)
        return columns

    def _expand_fields(self, item: FieldsFunction) -> list[ResolvedPath]:
        limit = self.query.limit
        if item.kind != "STANDARD" and (limit is None or limit > MAX_FIELDS_LIMIT):
            raise self._malformed(
                item.position,
                f"The SOQL FIELDS function must have a LIMIT of at most {MAX_FIELDS_LIMIT}",
            )
        chosen = []
        for info in self.schema.fields(self.sobject):
            custom = info.name.lower().endswith("__c")
            if item.kind == "ALL" or (item.kind == "CUSTOM") == custom:
                chosen.append(ResolvedPath((), info, item.position))
        return chosen

    def _shape(self, columns: list[ResolvedPath]) -> Callable[[str, Row], dict[str, Any]]:
        """Build the record writer once: keys in SELECT order, relationships nested."""
        root = _Node(name="")
        for path in columns:
            node = root
            for hop in path.hops:
                found = node.child(hop.relationship)
                if found is None:
                    found = _Node(
                        hop.relationship, reference=hop.reference.name, polymorphic=hop.polymorphic
                    )
                    node.children.append(found)
                node = found
            if node.child(path.field.name) is None:
                node.children.append(_Node(path.field.name, read_field=path.field.name))
        base = f"/services/data/v{self.api_version}/sobjects/"
        parents = self.parents

        def write(sobject: str, row: Row, node: _Node, shown_type: str) -> dict[str, Any]:
            record: dict[str, Any] = {
                "attributes": {"type": shown_type, "url": f"{base}{sobject}/{row.get('Id')}"}
            }
            for child in node.children:
                if child.read_field is not None:
                    record[child.name] = row.get(child.read_field)
                    continue
                parent = parents(row.get(child.reference or ""))
                if parent is None:
                    record[child.name] = None
                else:
                    parent_type, parent_row = parent
                    # Salesforce labels a polymorphic parent (Owner, Who, What) as type "Name"
                    shown = "Name" if child.polymorphic else parent_type
                    record[child.name] = write(parent_type, parent_row, child, shown)
            return record

        return lambda sobject, row: write(sobject, row, root, sobject)

    # --- aggregates ---------------------------------------------------------------------

    def _aggregate(self, include_deleted: bool) -> QueryResult:
        query = self.query
        groups = [self.schema.resolve(p, self.sobject) for p in query.group_by]
        group_keys = {g.key for g in groups}
        columns: list[tuple[str, Callable[[list[Row]], Any]]] = []
        taken: set[str] = set()
        expr_index = 0
        for item in query.select:
            if isinstance(item, FieldsFunction):
                raise self._malformed(
                    item.position, "FIELDS() cannot be used in an aggregate query"
                )
            if isinstance(item, FieldPath):
                path = self.schema.resolve(item, self.sobject)
                if path.key not in group_keys:
                    raise self._malformed(
                        item.position, f"Field must be grouped or aggregated: {item.text}"
                    )
                read = getter(path, self.parents)
                name, compute = path.field.name, (lambda rows, r=read: r(rows[0]))
            else:
                assert isinstance(item, Aggregate)
                name, compute = item.alias or f"expr{expr_index}", self._aggregator(item)
                if item.alias is None:  # exprN counts only the unaliased aggregates
                    expr_index += 1
            if name.lower() in taken:
                raise self._malformed(item.position, f"duplicate alias: {name}")
            taken.add(name.lower())
            columns.append((name, compute))

        buckets: dict[tuple[Any, ...], list[Row]] = {}
        readers = [(getter(g, self.parents), values.normaliser(g.field.type)) for g in groups]
        for row in self._filtered(include_deleted):
            key = tuple(normalise(read(row)) for read, normalise in readers)
            buckets.setdefault(key, []).append(row)
        if not groups and not buckets:
            buckets[()] = []  # an ungrouped aggregate answers one row even over nothing

        records = []
        for rows in buckets.values():
            record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
            for name, compute in columns:
                record[name] = compute(rows)
            records.append(record)
        if query.order_by:
            records = self._sorted_aggregates(records, columns, groups)
        page = list(_page(iter(records), query.offset, query.limit))
        return QueryResult(total_size=len(page), records=page)

    def _aggregator(self, item: Aggregate) -> Callable[[list[Row]], Any]:
        path = self.schema.resolve(item.field, self.sobject)
        kind = values.kind_of(path.field.type)
        if item.function in _NUMERIC_AGGREGATES and kind != values.NUMBER:
            raise SoqlError(
                "INVALID_FIELD",
                located_message(
                    self.text,
                    item.field.position,
                    f"field {path.field.name} does not support aggregate operator {item.function}",
                ),
            )
        read = getter(path, self.parents)
        normalise = values.sort_key(path.field.type)

        def present(rows: list[Row]) -> list[Any]:
            return [v for v in (read(r) for r in rows) if v is not None and v != ""]

        if item.function == "COUNT":
            return lambda rows: len(present(rows))
        if item.function == "COUNT_DISTINCT":
            return lambda rows: len({normalise(v) for v in present(rows)})
        if item.function == "SUM":
            return lambda rows: sum(p) if (p := present(rows)) else None
        if item.function == "AVG":
            return lambda rows: (sum(p) / len(p)) if (p := present(rows)) else None
        pick = min if item.function == "MIN" else max
        return lambda rows: pick(p, key=normalise) if (p := present(rows)) else None

    def _sorted_aggregates(
        self,
        records: list[dict[str, Any]],
        columns: list[tuple[str, Callable[[list[Row]], Any]]],
        groups: list[ResolvedPath],
    ) -> list[dict[str, Any]]:
        by_alias = {name.lower(): name for name, _ in columns}
        group_names = {g.key: g.field.name for g in groups}
        keys = []
        for item in self.query.order_by:
            alias = by_alias.get(item.field.text.lower()) if len(item.field.parts) == 1 else None
            if alias is None:
                path = self.schema.resolve(item.field, self.sobject)
                alias = group_names.get(path.key)
                if alias is None or alias not in dict(columns):
                    raise self._malformed(
                        item.field.position,
                        f"Ordered field must be grouped or aggregated: {item.field.text}",
                    )
            keys.append((alias, item))
        for alias, item in reversed(keys):
            records.sort(
                key=_order_key(lambda rec, a=alias: values.normaliser("string")(rec[a]), item),
                reverse=item.descending,
            )
        return records


def _order_key(read: Callable[[Any], Any], item: OrderItem) -> Callable[[Any], tuple[int, Any]]:
    """A sort key putting nulls first (ASC default) or last (DESC default) as asked."""
    nulls_first = item.nulls_first if item.nulls_first is not None else not item.descending
    # with reverse=True the tuple order flips, so the flag must flip with it
    null_rank = 0 if nulls_first != item.descending else 1

    def key(entry: Any) -> tuple[int, Any]:
        value = read(entry)
        if value is None:
            return (null_rank, 0)
        return (1 - null_rank, value)

    return key


def _page(rows: Iterator[Row], offset: int | None, limit: int | None) -> Iterator[Row]:
    start = offset or 0
    stop = None if limit is None else start + limit
    return islice(rows, start, stop)
