"""Load and validate `salesforce.yaml`: every problem at once, each with its file, line and fix.

The file lives in the configured `mappings` folder (which replaces the shipped folder as a
whole) or, when none is configured, in the shipped defaults. Task conditions are parsed and
type-checked with the rules language, so a typo fails at load time, not at 3 a.m.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from connector.config import Settings
from connector.errors import ConfigError, Problem
from connector.mapping.fieldtypes import FieldType, parse_type
from connector.mapping.schema import (
    ASSIGNEES,
    OBJECTS,
    PRIORITIES,
    TRANSFORM_RESULT,
    TRANSFORMS,
    FieldMapping,
    Match,
    ObjectMapping,
    SalesforceMapping,
    TaskRule,
    Transform,
)
from connector.mapping.sources import SourceInfo, source_info, source_names
from connector.mapping.templates import TemplateProblem, placeholders
from connector.metrics.rules.compile import compile_expression
from connector.metrics.rules.loader import load_rules
from connector.resources import shipped
from connector.yamlfile import Location, YamlDocument, load_yaml

FILE_NAME = "salesforce.yaml"
TASK_STAGE = "tag"  # task conditions see every metric and result, as tag rules do
OBJECT_KEYS = ("match", "fields", "tags_field", "tasks")
MATCH_KEYS = {"Account": ("salesforce_id", "external_id", "domain"), "Lead": ("email",)}
FIELD_KEYS = (
    "source",
    "transform",
    "digits",
    "separator",
    "picklist",
    "type",
    "values",
    "restricted",
    "label",
)
TASK_KEYS = ("name", "when", "subject", "description", "due_in_days", "priority", "assignee")
EXTERNAL_ID_KEYS = ("field", "type")
DEFAULT_EXTERNAL_ID_TYPE = FieldType("Text", length=255)
MAX_DUE_DAYS = 365
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*(__[cC])?$")
_SPLIT_TYPE = re.compile(r"^\s*\d+\s*\)$")  # `{type: Number(3,0)}` unquoted
_TASK_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
# which value kinds a transform accepts
_TRANSFORM_INPUT = {
    "round": ("num", "any"),
    "percent": ("num", "any"),
    "date": ("date", "time", "str", "any"),
    "datetime": ("date", "time", "str", "any"),
    "picklist": ("enum", "str", "bool", "any"),
    "join": ("list", "any"),
    "bool": ("bool", "num", "str", "enum", "any", "list", "date", "time"),
}
# which declared types can hold a value kind
_TYPE_ACCEPTS = {
    "Number": ("num", "any"),
    "Percent": ("num", "any"),
    "Currency": ("num", "any"),
    "Checkbox": ("bool", "any"),
    "Date": ("date", "time", "any"),
    "DateTime": ("time", "date", "any"),
    "Picklist": ("enum", "str", "any"),
    "MultiselectPicklist": ("list", "enum", "str", "any"),
}


def suggest(word: str, options: Collection[str]) -> str:
    """`did you mean 'x'? ` when a close option exists, else empty."""
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


class _Collector:
    """Gathers problems while walking one document."""

    def __init__(self, doc: YamlDocument, milestones: Collection[str] | None = None) -> None:
        self.doc = doc
        self.milestones = milestones
        self.problems: list[Problem] = []

    def where(self, loc: Location) -> str:
        return self.doc.where(loc)

    def add(self, loc: Location, message: str, fix: str) -> None:
        self.problems.append(Problem(self.where(loc), message, fix))

    def unknown_keys(
        self, data: Mapping[Any, Any], allowed: Collection[str], loc: Location
    ) -> None:
        for key in data:
            if key in allowed:
                continue
            if _SPLIT_TYPE.match(str(key)):
                self.add(
                    (*loc, key),
                    f"unknown key {key!r}: a type like Number(3,0) was split at its comma.",
                    'quote it inside {…}: type: "Number(3,0)".',
                )
                continue
            self.add(
                (*loc, key),
                f"unknown key {key!r}.",
                f"{suggest(str(key), allowed)}The keys allowed here are: {', '.join(allowed)}.",
            )


def _field_name_ok(c: _Collector, name: Any, loc: Location, what: str) -> bool:
    if isinstance(name, str) and _API_NAME.match(name):
        return True
    c.add(
        loc,
        f"{name!r} is not a Salesforce field API name ({what}).",
        "write the field's API name, e.g. Engagement_Score__c (letters, digits and _, custom "
        "fields end in __c).",
    )
    return False


# --- fields ---------------------------------------------------------------------------------


def _transform_names(c: _Collector, raw: Any, loc: Location) -> list[str]:
    names = raw if isinstance(raw, list) else [raw]
    good: list[str] = []
    for i, name in enumerate(names):
        at = (*loc, i) if isinstance(raw, list) else loc
        if not isinstance(name, str) or name not in TRANSFORMS:
            c.add(
                at,
                f"unknown transform {name!r}.",
                f"{suggest(str(name), TRANSFORMS)}Use one of: {', '.join(TRANSFORMS)}.",
            )
        else:
            good.append(name)
    return good


def _picklist_map(
    c: _Collector, raw: Any, loc: Location, source: str, labels: tuple[str, ...]
) -> dict[str, str] | None:
    if not isinstance(raw, dict) or not raw:
        c.add(
            loc,
            "picklist must map each source value to a Salesforce picklist label.",
            "write e.g. picklist: {good: Good, average: Average, poor: Poor}.",
        )
        return None
    out: dict[str, str] = {}
    ok = True
    for key, label in raw.items():
        k = str(key).lower() if isinstance(key, bool) else str(key)
        if labels and k not in labels:
            ok = False
            c.add(
                (*loc, key),
                f"{source} is never {k!r}; its values are {', '.join(labels)}.",
                f"{suggest(k, labels)}Map only {source}'s values.",
            )
        if not isinstance(label, str | int | float) or isinstance(label, bool) or not str(label):
            ok = False
            c.add(
                (*loc, key),
                f"the label for {k!r} must be text, not {label!r}.",
                "write the picklist value as Salesforce shows it, e.g. Good.",
            )
            continue
        text = str(label)
        if len(text) > 255 or ";" in text:
            ok = False
            c.add(
                (*loc, key),
                f"the label {text!r} is too long or contains ';'.",
                "use a picklist label of at most 255 characters without ';'.",
            )
        out[k] = text
    missing = [v for v in labels if v not in out]
    if labels and missing:
        ok = False
        c.add(
            loc,
            f"{source} can be {', '.join(repr(m) for m in missing)} but the picklist map has no "
            "label for it.",
            "add a label for every value: " + ", ".join(f"{v}: {v.title()}" for v in labels) + ".",
        )
    return out if ok else None


def _int_key(
    c: _Collector, data: Mapping[str, Any], key: str, loc: Location, lo: int, hi: int, default: int
) -> int:
    raw = data.get(key, default)
    if isinstance(raw, bool) or not isinstance(raw, int) or not lo <= raw <= hi:
        c.add(
            (*loc, key),
            f"{key} must be a whole number from {lo} to {hi}, not {raw!r}.",
            f"write e.g. {key}: {default}.",
        )
        return default
    return raw


def _transforms(
    c: _Collector, raw: Mapping[str, Any], loc: Location, source: str, info: SourceInfo | None
) -> tuple[list[Transform], str, bool]:
    """The field's transforms, the kind of value they produce, and whether all were valid."""
    ok = True
    names = _transform_names(c, raw["transform"], (*loc, "transform")) if "transform" in raw else []
    if "picklist" in raw and "picklist" not in names:
        names.append("picklist")
    kind = info.kind if info else "any"
    transforms: list[Transform] = []
    for tname in names:
        if kind not in _TRANSFORM_INPUT[tname]:
            ok = False
            c.add(
                (*loc, "transform"),
                f"the {tname} transform cannot apply to {source} (it is a {kind} value here).",
                f"remove it, or map a source a {tname} transform accepts.",
            )
        if tname == "round":
            transforms.append(Transform("round", digits=_int_key(c, raw, "digits", loc, 0, 17, 0)))
        elif tname == "join":
            sep = raw.get("separator", ";")
            if not isinstance(sep, str) or not sep:
                c.add(
                    (*loc, "separator"),
                    "separator must be non-empty text.",
                    'write e.g. separator: ", ".',
                )
                sep = ";"
            transforms.append(Transform("join", separator=sep))
        elif tname == "picklist":
            if "picklist" not in raw:
                ok = False
                c.add(
                    loc,
                    "the picklist transform needs a picklist: map of labels.",
                    "write picklist: {good: Good, average: Average, poor: Poor}.",
                )
                continue
            labels = info.labels if info else ()
            mapped = _picklist_map(c, raw["picklist"], (*loc, "picklist"), source, labels)
            if mapped is None:
                ok = False
            else:
                transforms.append(Transform("picklist", labels=mapped))
        else:
            transforms.append(Transform(tname))
        kind = TRANSFORM_RESULT[tname]
    for key, needs in (("digits", "round"), ("separator", "join")):
        if key in raw and needs not in names:
            c.add(
                (*loc, key),
                f"{key} applies only with transform: {needs}.",
                f"add transform: {needs}, or remove {key}.",
            )
    return transforms, kind, ok


def _declared_type(
    c: _Collector, raw: Mapping[str, Any], loc: Location, kind: str, source: str
) -> tuple[FieldType | None, bool]:
    """The declared `type:` (None when absent), and whether it is valid for the value."""
    if "type" not in raw:
        return None, True
    try:
        ftype = parse_type(raw["type"])
    except ValueError as exc:
        c.add(
            (*loc, "type"),
            f"{exc}.",
            "use Number(p,s), Percent, Currency, Text(n), TextArea, LongTextArea(n), "
            "Checkbox, Date, DateTime, Picklist, MultiselectPicklist, Email, Url or Phone.",
        )
        return None, False
    accepts = _TYPE_ACCEPTS.get(ftype.name)
    if accepts is not None and kind not in accepts:
        c.add(
            (*loc, "type"),
            f"a {ftype} field cannot hold {source} as mapped (a {kind} value).",
            "declare a type that holds it, or add a transform (e.g. join, picklist).",
        )
        return ftype, False
    return ftype, True


def _parse_field(
    c: _Collector, sobject: str, name: str, raw: Any, loc: Location
) -> FieldMapping | None:
    """One `fields:` entry (a source name, or a mapping of options); None when invalid."""
    if isinstance(raw, str):
        raw = {"source": raw}
    if not isinstance(raw, dict):
        c.add(
            loc,
            f"{name} must name a source, or be a mapping with source: and options.",
            f"write {name}: engagement_score, or {name}: {{source: …, transform: …}}.",
        )
        return None
    c.unknown_keys(raw, FIELD_KEYS, loc)
    ok = _field_name_ok(c, name, loc, f"a field of {sobject}")
    source = raw.get("source")
    info = source_info(source) if isinstance(source, str) else None
    if info is None:
        ok = False
        c.add(
            (*loc, "source") if "source" in raw else loc,
            f"unknown source {source!r} for {sobject}.{name}."
            if source is not None
            else f"{sobject}.{name} has no source.",
            f"{suggest(str(source), source_names())}Use a metric (e.g. engagement_score), an "
            "account field (e.g. plan), an output (tags, health_reason) or attributes.<column>.",
        )
    transforms, kind, transforms_ok = _transforms(c, raw, loc, str(source), info)
    ftype, type_ok = _declared_type(c, raw, loc, kind, str(source))
    ok = ok and transforms_ok and type_ok
    values = _declared_values(c, raw, loc, ftype, transforms)
    restricted = raw.get("restricted", True)
    if not isinstance(restricted, bool):
        c.add(
            (*loc, "restricted"),
            "restricted must be true or false.",
            "write restricted: true (only listed values) or false.",
        )
        restricted = True
    label = raw.get("label")
    if label is not None and (not isinstance(label, str) or not 0 < len(label) <= 40):
        c.add(
            (*loc, "label"),
            "label must be text of 1 to 40 characters.",
            "write e.g. label: Engagement Score.",
        )
        label = None
    if not ok or info is None:
        return None
    return FieldMapping(
        sobject=sobject,
        field=name,
        source=str(source),
        source_kind=info.kind,
        transforms=tuple(transforms),
        type=ftype,
        values=values,
        restricted=restricted,
        label=label,
        where=c.where(loc),
    )


def _declared_values(
    c: _Collector,
    raw: Mapping[str, Any],
    loc: Location,
    ftype: FieldType | None,
    transforms: list[Transform],
) -> tuple[str, ...]:
    values: list[str] = []
    for t in transforms:
        if t.name == "picklist":
            values.extend(v for v in t.labels.values() if v not in values)
    if "values" not in raw:
        return tuple(values)
    declared = raw["values"]
    if ftype is None or ftype.name not in ("Picklist", "MultiselectPicklist"):
        c.add(
            (*loc, "values"),
            "values apply only to a field of type Picklist or MultiselectPicklist.",
            "declare type: MultiselectPicklist, or remove values.",
        )
        return tuple(values)
    if not isinstance(declared, list) or not all(
        isinstance(v, str) and v and ";" not in v and len(v) <= 255 for v in declared
    ):
        c.add(
            (*loc, "values"),
            "values must be a list of picklist values (text without ';').",
            "write e.g. values: [onboarding, established].",
        )
        return tuple(values)
    values.extend(v for v in declared if v not in values)
    return tuple(values)


# --- match ------------------------------------------------------------------------------------


def _parse_match(c: _Collector, sobject: str, raw: Any, loc: Location) -> Match | None:
    allowed = MATCH_KEYS[sobject]
    if not isinstance(raw, dict):
        example = (
            "match: {salesforce_id: true, external_id: Product_Account_Id__c}"
            if sobject == "Account"
            else "match: {email: Email}"
        )
        c.add(
            loc,
            f"{sobject} needs a match: section saying how records are found.",
            f"write e.g. {example}.",
        )
        return None
    c.unknown_keys(raw, allowed, loc)
    ok = True
    if sobject == "Lead":
        email = raw.get("email")
        if not email or not _field_name_ok(c, email, (*loc, "email"), "the email match field"):
            if not email:
                c.add(
                    loc,
                    "Leads are matched by email, but match has no email field.",
                    "write match: {email: Email}.",
                )
            return None
        return Match(email=email, where=c.where(loc))
    by_id = raw.get("salesforce_id", False)
    if not isinstance(by_id, bool):
        ok = False
        c.add(
            (*loc, "salesforce_id"),
            "salesforce_id must be true or false.",
            "write salesforce_id: true to use accounts.salesforce_id when present.",
        )
        by_id = False
    ext_raw = raw.get("external_id")
    ext: str | None = None
    ext_type = DEFAULT_EXTERNAL_ID_TYPE
    if isinstance(ext_raw, dict):
        c.unknown_keys(ext_raw, EXTERNAL_ID_KEYS, (*loc, "external_id"))
        ext_field = ext_raw.get("field")
        if "type" in ext_raw:
            try:
                ext_type = parse_type(ext_raw["type"])
            except ValueError as exc:
                ok = False
                c.add((*loc, "external_id", "type"), f"{exc}.", "use Text(255) or Number(18,0).")
            else:
                if ext_type.name not in ("Text", "Number", "Email"):
                    ok = False
                    c.add(
                        (*loc, "external_id", "type"),
                        f"an External ID cannot be a {ext_type.name} field.",
                        "use Text(n), Number(p,0) or Email.",
                    )
        ext_raw = ext_field
    if ext_raw is not None:
        if _field_name_ok(c, ext_raw, (*loc, "external_id"), "the External ID match field"):
            ext = ext_raw
        else:
            ok = False
    domain = raw.get("domain")
    if domain is not None and not _field_name_ok(c, domain, (*loc, "domain"), "the domain field"):
        ok = False
        domain = None
    if ok and not (by_id or ext or domain):
        c.add(
            loc,
            "Account has no way to match records: every strategy is off.",
            "set salesforce_id: true, an external_id field, or a domain field.",
        )
        return None
    if not ok:
        return None
    return Match(
        salesforce_id=by_id,
        external_id=ext,
        external_id_type=ext_type if ext else None,
        domain=domain,
        where=c.where(loc),
    )


# --- tasks ------------------------------------------------------------------------------------


def _text_key(c: _Collector, raw: Mapping[str, Any], key: str, loc: Location, example: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        c.add(
            (*loc, key) if key in raw else loc,
            f"the task needs {key}: as text.",
            f"write e.g. {key}: {example}.",
        )
        return ""
    return value


def _template(c: _Collector, text: str, loc: Location, limit: int) -> bool:
    try:
        names = placeholders(text)
    except TemplateProblem as exc:
        c.add(loc, f"{exc.message}.", "fix the braces; write {{ and }} for literal braces.")
        return False
    ok = True
    for name, column in names:
        if source_info(name) is None:
            ok = False
            c.add(
                loc,
                f"unknown placeholder {{{name}}} at column {column}.",
                f"{suggest(name, source_names())}Use a metric, an account field, an output "
                "(health_reason, tags) or attributes.<column>.",
            )
    if len(text) > limit:
        ok = False
        c.add(
            loc,
            f"the template is {len(text)} characters; the Task field holds {limit}.",
            "shorten it.",
        )
    return ok


def _parse_task(
    c: _Collector, sobject: str, raw: Any, loc: Location, seen: set[str]
) -> TaskRule | None:
    if not isinstance(raw, dict):
        c.add(
            loc,
            "each task must be a mapping with name, when, subject, ….",
            'write e.g. - {name: health_turned_poor, when: health_rank == "poor", '
            'subject: "Health turned Poor: {name}"}.',
        )
        return None
    c.unknown_keys(raw, TASK_KEYS, loc)
    ok = True
    name = _text_key(c, raw, "name", loc, "health_turned_poor")
    if name and not _TASK_NAME.match(name):
        ok = False
        c.add(
            (*loc, "name"),
            f"the task name {name!r} must be lower-case letters, digits, "
            "_ or -, starting with a letter.",
            "write e.g. name: health_turned_poor.",
        )
    elif name in seen:
        ok = False
        c.add(
            (*loc, "name"),
            f"a second task named {name!r} on {sobject}.",
            "give every task rule of an object its own name.",
        )
    seen.add(name)
    when = _text_key(c, raw, "when", loc, 'health_rank == "poor"')
    condition = None
    if when:
        condition = compile_expression(
            when,
            stage=TASK_STAGE,
            where=c.where((*loc, "when")),
            problems=c.problems,
            milestones=c.milestones,
        )
        ok = ok and condition is not None
    subject = _text_key(c, raw, "subject", loc, '"Health turned Poor: {name}"')
    if subject and not _template(c, subject, (*loc, "subject"), 255):
        ok = False
    description = raw.get("description", "")
    if not isinstance(description, str):
        ok = False
        c.add(
            (*loc, "description"),
            "description must be text.",
            'write e.g. description: "{health_reason}".',
        )
    elif description and not _template(c, description, (*loc, "description"), 32000):
        ok = False
    due = _int_key(c, raw, "due_in_days", loc, 0, MAX_DUE_DAYS, 3)
    priority = raw.get("priority", "Normal")
    if priority not in PRIORITIES:
        ok = False
        c.add(
            (*loc, "priority"),
            f"priority {priority!r} is not a Task priority.",
            f"{suggest(str(priority), PRIORITIES)}Use one of: {', '.join(PRIORITIES)}.",
        )
    assignee = raw.get("assignee", "owner")
    if assignee not in ASSIGNEES:
        ok = False
        c.add(
            (*loc, "assignee"),
            f"assignee {assignee!r} is not known.",
            f"{suggest(str(assignee), ASSIGNEES)}Use csm (the account's CSM, by "
            "accounts.csm_email) or owner (the record's owner).",
        )
    if not (ok and name and when and subject and condition is not None):
        return None
    return TaskRule(
        sobject=sobject,
        name=name,
        when=when,
        condition=condition,
        subject=subject,
        description=str(description),
        due_in_days=due,
        priority=str(priority),
        assignee=str(assignee),
        where=c.where(loc),
    )


# --- objects and files ----------------------------------------------------------------------


def _parse_object(c: _Collector, sobject: str, raw: Any) -> ObjectMapping | None:
    loc: Location = (sobject,)
    if not isinstance(raw, dict):
        c.add(
            loc,
            f"{sobject} must be a mapping with match, fields and tasks.",
            "see the shipped mappings/salesforce.yaml for the layout.",
        )
        return None
    c.unknown_keys(raw, OBJECT_KEYS, loc)
    match = _parse_match(c, sobject, raw.get("match"), (*loc, "match"))
    fields: list[FieldMapping] = []
    raw_fields = raw.get("fields") or {}
    if not isinstance(raw_fields, dict):
        c.add(
            (*loc, "fields"),
            "fields must map Salesforce field names to sources.",
            "write e.g. fields: {Engagement_Score__c: engagement_score}.",
        )
        raw_fields = {}
    lowered: set[str] = set()
    for name, spec in raw_fields.items():
        floc = (*loc, "fields", name)
        if str(name).lower() in lowered:
            c.add(
                floc,
                f"{name} is mapped twice (field names are case-insensitive).",
                "keep one entry per field.",
            )
            continue
        lowered.add(str(name).lower())
        parsed = _parse_field(c, sobject, str(name), spec, floc)
        if parsed is not None:
            fields.append(parsed)
    tags_field = raw.get("tags_field")
    if tags_field is not None:
        mapped = next((f for f in fields if f.field.lower() == str(tags_field).lower()), None)
        if str(tags_field).lower() not in lowered:
            c.add(
                (*loc, "tags_field"),
                f"tags_field {tags_field!r} is not one of the mapped fields.",
                f"{suggest(str(tags_field), [str(k) for k in raw_fields])}Map it "
                "under fields: with source: tags, or remove tags_field.",
            )
        elif mapped is not None and mapped.source != "tags":
            c.add(
                (*loc, "tags_field"),
                f"tags_field {tags_field} is mapped from {mapped.source}, not from tags.",
                f"map {tags_field} from tags.",
            )
    tasks: list[TaskRule] = []
    raw_tasks = raw.get("tasks") or []
    if not isinstance(raw_tasks, list):
        c.add(
            (*loc, "tasks"),
            "tasks must be a list of task rules.",
            "start each rule with '- name: …'.",
        )
        raw_tasks = []
    seen: set[str] = set()
    for i, spec in enumerate(raw_tasks):
        task = _parse_task(c, sobject, spec, (*loc, "tasks", i), seen)
        if task is not None:
            tasks.append(task)
    if match is None:
        return None
    return ObjectMapping(
        sobject=sobject,
        match=match,
        fields=tuple(fields),
        tags_field=str(tags_field) if tags_field is not None else None,
        tasks=tuple(tasks),
        where=c.where(loc),
    )


def mapping_problems(
    doc: YamlDocument, milestones: Collection[str] | None = None
) -> tuple[SalesforceMapping | None, list[Problem]]:
    """Validate a parsed mapping document: the mapping (when valid) and every problem.

    `milestones` are the milestone names `reached("…")` may use in task conditions (None:
    not checked).
    """
    c = _Collector(doc, milestones)
    data = doc.data
    if not isinstance(data, dict) or not data:
        c.add(
            (),
            "the mapping file must map Salesforce objects (Account, Lead) to their "
            "match, fields and tasks.",
            "start from the shipped mappings/salesforce.yaml.",
        )
        return None, c.problems
    objects: dict[str, ObjectMapping] = {}
    for sobject, raw in data.items():
        if sobject not in OBJECTS:
            c.add(
                (sobject,),
                f"unknown object {sobject!r}.",
                f"{suggest(str(sobject), OBJECTS)}The connector writes to: {', '.join(OBJECTS)}.",
            )
            continue
        parsed = _parse_object(c, sobject, raw)
        if parsed is not None:
            objects[sobject] = parsed
    if c.problems:
        return None, c.problems
    return SalesforceMapping(doc.path, objects), []


def parse_mapping(
    doc: YamlDocument, milestones: Collection[str] | None = None
) -> SalesforceMapping:
    """A validated mapping; ConfigError carries every problem."""
    mapping, problems = mapping_problems(doc, milestones)
    if problems or mapping is None:
        raise ConfigError(problems)
    return mapping


def mapping_path(settings: Settings) -> Path:
    """Where the mapping file is: the configured folder, else the shipped defaults."""
    folder = settings.mappings if settings.mappings is not None else shipped("mappings")
    return Path(folder) / FILE_NAME


def load_mapping(settings: Settings) -> SalesforceMapping:
    """Load and validate the mapping the configuration points at."""
    return in_zone(parse_mapping(load_yaml(mapping_path(settings))), settings.zone)


def in_zone(mapping: SalesforceMapping, zone: ZoneInfo) -> SalesforceMapping:
    """The mapping with its Task rules showing times in `zone` (the configured time zone)."""
    objects = {
        name: replace(obj, tasks=tuple(replace(t, tz=zone) for t in obj.tasks))
        for name, obj in mapping.objects.items()
    }
    return SalesforceMapping(mapping.path, objects)


def with_tag_values(mapping: SalesforceMapping, tags: Collection[str]) -> SalesforceMapping:
    """The mapping with every tag name offered by the picklist fields written from `tags`.

    Tag rules decide which tags exist, so the multi-select field must offer each of them.
    """
    objects: dict[str, ObjectMapping] = {}
    for name, obj in mapping.objects.items():
        fields = []
        for f in obj.fields:
            picklist = f.type is not None and f.type.name in ("Picklist", "MultiselectPicklist")
            if f.source == "tags" and picklist:
                extra = tuple(t for t in tags if t.lower() not in {v.lower() for v in f.values})
                f = replace(f, values=f.values + extra)
            fields.append(f)
        objects[name] = replace(obj, fields=tuple(fields))
    return SalesforceMapping(mapping.path, objects)


def load_with_rules(settings: Settings) -> tuple[SalesforceMapping | None, list[Problem]]:
    """The mapping (tag values from the tag rules merged in) and every problem of the mapping
    and rule files, collected rather than raised, for `connector check`."""
    problems: list[Problem] = []
    rules = None
    try:
        rules = load_rules(settings.mappings)
    except ConfigError as exc:
        problems.extend(exc.problems)
    milestones = [m.name for m in rules.milestones] if rules is not None else None
    mapping: SalesforceMapping | None = None
    try:
        mapping, found = mapping_problems(load_yaml(mapping_path(settings)), milestones)
        problems.extend(found)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if mapping is not None and rules is not None:
        mapping = with_tag_values(mapping, [rule.tag for rule in rules.tags])
    problems.extend(_alert_problems(settings, milestones))
    return mapping, problems


def _alert_problems(settings: Settings, milestones: list[str] | None) -> list[Problem]:
    """Problems of the alert rules file, so `check` validates it with the others."""
    from connector.alerts.rules import load_alert_rules  # alerts build on the mapping

    try:
        load_alert_rules(
            settings.mappings, milestones=milestones, webhooks=list(settings.alerts.webhooks)
        )
    except ConfigError as exc:
        return list(exc.problems)
    return []


def load_mapping_for_org(settings: Settings) -> SalesforceMapping:
    """The validated mapping with the tag rules' tags merged in; ConfigError lists problems."""
    mapping, problems = load_with_rules(settings)
    if problems or mapping is None:
        raise ConfigError(problems)
    return in_zone(mapping, settings.zone)
