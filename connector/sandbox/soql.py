"""The sandbox's SOQL engine: what the query resources call.

    parse(soql) -> Query                      syntax only (soql_grammar.lark, soql_parse)
    execute(soql, catalog, now=…, api_version=…, include_deleted=False) -> QueryResult

Names resolve case-insensitively against a `Catalog` (soql_resolve), WHERE compiles once into
Python predicates typed by each field's describe type (soql_where, soql_values), and the
result comes back in Salesforce's JSON record shape (soql_eval). Every rejection is a
`SoqlError` whose `code` and `message` are what Salesforce would put on the wire.
"""

from __future__ import annotations

from datetime import datetime

from connector.sandbox.soql_eval import execute_query
from connector.sandbox.soql_model import (
    Catalog,
    FieldInfo,
    Query,
    QueryResult,
    SoqlError,
)
from connector.sandbox.soql_parse import parse

__all__ = [
    "Catalog",
    "FieldInfo",
    "Query",
    "QueryResult",
    "SoqlError",
    "execute",
    "parse",
]


def execute(
    soql: str,
    catalog: Catalog,
    *,
    now: datetime,
    api_version: str,
    include_deleted: bool = False,
) -> QueryResult:
    """Run one SOQL statement and return every matching record (after OFFSET and LIMIT).

    `now` anchors relative date literals (TODAY, LAST_N_DAYS:n …) in UTC; `api_version`
    ("59.0") goes into each record's `attributes.url`; `include_deleted` is queryAll.
    """
    return execute_query(
        parse(soql), catalog, now=now, api_version=api_version, include_deleted=include_deleted
    )
