"""Field problems found while shaping values, counted per object, field and kind. Pure.

Shaping reports one message per record (`Account acc_1: Health_Rank__c: 'Great' is not a
value of this restricted picklist … Fix: …`); a mapping mistake repeats it on every record.
`aggregate` turns those messages into one `FieldProblem` per (object, field, kind), with the
count, the records, one example and the fix, for `plan`, the sync summary and the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from connector.mapping.shape import MISSING_FIELD, ProblemKind, problem_kind
from connector.plan.model import FieldProblem

# "<Object> <record key>: <Field>: <what happened>[ Fix: <what to do>]"
_MESSAGE = re.compile(r"^(?P<sobject>\w+) (?P<key>.+?): (?P<field>\w+): (?P<body>.+)$", re.S)
_FIX = re.compile(r"\s*Fix:\s*")


def parse(message: str) -> tuple[str, str, str, str, str]:
    """(object, record key, field, what happened, fix) of one record's problem message."""
    m = _MESSAGE.match(message.strip())
    if m is None:
        return "", "", "", message.strip(), ""
    what, *fix = _FIX.split(m["body"], maxsplit=1)
    return m["sobject"], m["key"], m["field"], what.strip(), fix[0].strip() if fix else ""


def aggregate(messages: Iterable[str]) -> tuple[FieldProblem, ...]:
    """One FieldProblem per (object, field, kind), biggest first; repeated messages count once."""
    groups: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {}
    kinds: dict[str, ProblemKind] = {}
    for message in dict.fromkeys(messages):
        sobject, key, field, body, fix = parse(message)
        kind = problem_kind(body)
        kinds[kind.name] = kind
        groups.setdefault((sobject, field, kind.name), []).append((key, body, fix))
    problems = []
    for (sobject, field, name), items in groups.items():
        kind = kinds[name]
        key, body, fix = items[0]
        if kind is MISSING_FIELD:
            body = ""  # the kind says it all: the field is not there
        problems.append(
            FieldProblem(
                sobject=sobject,
                field=field,
                kind=name,
                what=kind.what,
                left_out=kind.left_out,
                keys=tuple(dict.fromkeys(k for k, _, _ in items if k)),
                example_key=key,
                example=body,
                fix=fix,
            )
        )
    return tuple(sorted(problems, key=lambda p: (-p.count, p.sobject, p.field, p.kind)))
