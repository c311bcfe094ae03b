"""The sandbox org's state: records, schema, users and field-level security, persisted to SQLite.

Everything lives in memory (records by id, per-object id lists, indexes on unique, external-id
and idLookup fields) and is written through to the org's SQLite file once per batch, so a
restart finds the org as it was.

The public API (used by the REST app, Collections, Bulk API 2.0 and the Tooling API):

    org = Org(path, seed=1, fls=False)
    org.apply(writes, user_id=..., all_or_none=False, faults=None) -> list[SaveResult]
        one transaction for N `Write`s (insert / update / upsert / delete), results in order
    org.create / update / upsert / delete(...)          single-record conveniences over apply()
    org.retrieve(sobject, record_id, user_id=..., fields=None, version=...) -> JSON dict
    with org.atomic(): ...                              several apply() calls, all or nothing
    org.find(sobject, field, value) -> list[id]         live records whose field matches
    org.external_id_field(sobject, name, user_id) -> FieldDef   (404 when not an id field)
    org.record(record_id) -> (sobject, fields) | None   raw stored values (wire form)
    org.rows(sobject, include_deleted) -> iterator of stored field dicts (oldest first)
    org.count(sobject, include_deleted=False) -> int; org.object(name) -> ObjectDef | None
    org.record_json(sobject, fields, version, field_defs) -> REST record JSON with attributes
    org.new_id(prefix) -> a fresh 18-character id (jobs `750`, locators `01g`, …)
    org.setting(key, default) / org.set_setting(key, value)   small persisted values
    org.visible_fields(sobject, user_id) -> list[FieldDef]      the field-level-security hook
    org.editable(sobject, field, user_id) -> bool
    org.add_custom_field(sobject, FieldDef) -> CustomField       persisted; `Activity` → Task+Event
    org.custom_fields() -> list[CustomField]
    org.replace_custom_field(field_id, FieldDef) -> CustomField  new definition, same id
    org.purge(record_ids) -> int                        drop soft-deleted records for good
    org.path -> the SQLite file (Bulk API 2.0 keeps its job tables there too)
    org.ensure_user(username, ...) -> user id; org.user_by_username(name) -> fields | None
    org.convert_lead(lead_id, user_id=...) -> {"accountId", "contactId"}

Stored values are in JSON wire form: datetimes `2013-05-20T20:49:32.000+0000`, dates
`YYYY-MM-DD`, numbers as float/int, booleans, multi-select picklists `a;b`, ids 18 chars.
Every record in memory carries every field of its object (None when empty); the file leaves
nulls out. Per-record failures are `SaveResult`s with `RecordError(status_code, message,
fields)`; request-level failures raise `ApiError(status, code, message)`.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from connector import clock
from connector.logs import get_logger
from connector.sandbox import ids
from connector.sandbox.apierror import ApiError, RecordError, not_found
from connector.sandbox.catalog import FieldDef, ObjectDef, Schema
from connector.sandbox.persist import OrgFile
from connector.sandbox.values import ValueProblem, coerce, format_datetime

log = get_logger(__name__)

Operation = Literal["insert", "update", "upsert", "delete"]
SECURITY_OBJECTS = frozenset({"fieldpermissions", "permissionsetassignment", "permissionset"})
_NOTHING_HIDDEN: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
ROLLED_BACK = RecordError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
)
_FLS_HINT = (
    "Please check the security settings of this field and verify that it is read/write for "
    "your profile or permission set."
)


@dataclass(frozen=True)
class Write:
    """One record write in a batch.

    `values` is the raw JSON body (keys in any case, `attributes` ignored). `record_id` names
    the record for update/delete; `external_field` the match field for upsert (`Id` allowed).
    """

    operation: Operation
    sobject: str | None
    values: Mapping[str, Any]
    record_id: str | None = None
    external_field: str | None = None


@dataclass(frozen=True)
class SaveResult:
    """The outcome of one Write, as plain data Collections and Bulk can serialise."""

    id: str | None
    success: bool
    errors: tuple[RecordError, ...] = ()
    created: bool = False

    def to_json(self, with_created: bool = False) -> dict[str, Any]:
        """The SaveResult JSON (`created` only for upserts)."""
        body: dict[str, Any] = {
            "id": self.id,
            "success": self.success,
            "errors": [e.to_json() for e in self.errors],
        }
        if with_created:
            body["created"] = self.created
        return body


@dataclass(frozen=True)
class CustomField:
    """A custom field added at run time: its `00N` id, the object named, its definition."""

    id: str
    sobject: str
    field: FieldDef

    @property
    def full_name(self) -> str:
        return f"{self.sobject}.{self.field.name}"


class FaultSource(Protocol):
    """What a batch asks the fault switches (connector.sandbox.faults.Faults implements it)."""

    def apex_cpu_exceeded(self, batch_size: int) -> bool: ...

    def row_locked(self) -> bool: ...


class _Problem(Exception):
    def __init__(self, error: RecordError, created: bool = False) -> None:
        super().__init__(error.message)
        self.error = error
        self.created = created


def _err(code: str, message: str, fields: Iterable[str] = ()) -> _Problem:
    return _Problem(RecordError(code, message, tuple(fields)))


def _key(f: FieldDef, value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if f.case_sensitive else text.lower()


def _ci_get(values: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    if name in values:
        return True, values[name]
    lowered = name.lower()
    for k, v in values.items():
        if k.lower() == lowered:
            return True, v
    return False, None


class Org:
    """One Salesforce org held in memory and persisted to a SQLite file."""

    def __init__(self, path: Path | str, *, seed: int | None = None, fls: bool = False) -> None:
        self.schema = Schema()
        self.fls_enabled = fls
        self._file = OrgFile(path)
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, Any]] = {}
        self._by_type: dict[str, dict[str, None]] = {o.name: {} for o in self.schema}
        self._indexes: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._index_cache: dict[str, list[tuple[FieldDef, dict[str, set[str]]]]] = {}
        self._custom: dict[str, CustomField] = {}
        self._fls_cache: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = {}
        self._tx: list[tuple[str, str, dict[str, Any] | None]] | None = None
        self._load(seed)

    # --- start-up --------------------------------------------------------------------------

    def _load(self, seed: int | None) -> None:
        meta = self._file.meta()
        self._settings: dict[str, Any] = dict(meta.get("settings") or {})
        for field_id, sobject, data in self._file.custom_fields():
            f = FieldDef.from_json(data)
            self._custom[field_id] = CustomField(field_id, sobject, f)
            self.schema.add_field(sobject, f)
        for obj in self.schema:
            self._index_object(obj)
        for record_id, sobject, data in self._file.records():
            obj = self.schema.get(sobject)
            if obj is None:
                continue
            template = obj.shape.template
            if len(data) != len(template) or data.keys() != template.keys():
                data = {**template, **data}
            self._put(record_id, obj.name, data, None)
        if "org_id" in meta:
            self.org_id: str = meta["org_id"]
            self.pod: str = meta["pod"]
            self._counter: int = meta["counter"]
            return
        rng = random.Random(seed)
        self.pod = rng.choice("123456789") + rng.choice(ids.BASE62[10:36])
        self._counter = rng.randrange(1_000, 50_000)
        self.org_id = self._new_id("00D")
        now = format_datetime(clock.now())
        org_record = self._blank(self._builtin("Organization"), now, self.org_id, None)
        org_record.update(
            {
                "Name": "Sandbox Org",
                "OrganizationType": "Developer Edition",
                "IsSandbox": True,
                "InstanceName": "SBX1",
                "TimeZoneSidKey": "GMT",
                "DefaultLocaleSidKey": "en_US",
                "LanguageLocaleKey": "en_US",
                "Country": "US",
            }
        )
        self._put(self.org_id, "Organization", org_record, None)
        self._save([self.org_id])
        log.info("sandbox_org_created", org_id=self.org_id, path=str(self._file.path))

    def close(self) -> None:
        """Close the SQLite file (the in-memory state stays readable)."""
        self._file.close()

    @property
    def path(self) -> Path:
        """The org's SQLite file (other sandbox parts may keep their own tables in it)."""
        return self._file.path

    # --- ids, indexes ----------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        return ids.make_id(prefix, self.pod, self._counter)

    def new_id(self, prefix: str) -> str:
        """A fresh id with `prefix` (bulk jobs `750`, query locators `01g`, fields `00N`)."""
        with self._lock:
            new = self._new_id(prefix)
            self._file.save(meta={"counter": self._counter})
            return new

    def setting(self, key: str, default: Any = None) -> Any:
        """A small persisted value other parts keep with the org (e.g. the daily API usage)."""
        return self._settings.get(key, default)

    def set_setting(self, key: str, value: Any) -> None:
        """Persist `value` (JSON-serialisable) under `key`."""
        with self._lock:
            self._settings[key] = value
            self._file.save(meta={"settings": self._settings})

    def _index_object(self, obj: ObjectDef) -> None:
        for f in obj.fields.values():
            if f.name != "Id" and (f.unique or f.external_id or f.id_lookup):
                self._indexes.setdefault((obj.name, f.name), {})
        self._index_cache.clear()

    def _object_indexes(self, obj: ObjectDef) -> list[tuple[FieldDef, dict[str, set[str]]]]:
        cached = self._index_cache.get(obj.name)
        if cached is None:
            cached = [
                (obj.fields[fname.lower()], index)
                for (sob, fname), index in self._indexes.items()
                if sob == obj.name and fname.lower() in obj.fields
            ]
            self._index_cache[obj.name] = cached
        return cached

    def _put(
        self, record_id: str, sobject: str, new: dict[str, Any] | None, old: dict[str, Any] | None
    ) -> None:
        """Store `new` for `record_id` (None removes it), keeping every index in step."""
        obj = self.schema.get(sobject)
        assert obj is not None
        old_live = old if old is not None and not old.get("IsDeleted") else None
        new_live = new if new is not None and not new.get("IsDeleted") else None
        for f, index in self._object_indexes(obj):
            before = old_live.get(f.name) if old_live is not None else None
            after = new_live.get(f.name) if new_live is not None else None
            if before == after and (old_live is None) == (new_live is None):
                continue
            if before is not None:
                bucket = index.get(_key(f, before))
                if bucket is not None:
                    bucket.discard(record_id)
                    if not bucket:
                        del index[_key(f, before)]
            if after is not None:
                index.setdefault(_key(f, after), set()).add(record_id)
        if new is None:
            self._records.pop(record_id, None)
            self._by_type[obj.name].pop(record_id, None)
        else:
            self._records[record_id] = new
            self._by_type[obj.name][record_id] = None
        if obj.name.lower() in SECURITY_OBJECTS:
            self._fls_cache.clear()

    def _save(self, record_ids: Iterable[str]) -> None:
        rows = []
        for rid in dict.fromkeys(record_ids):
            rec = self._records.get(rid)
            if rec is not None:
                # nulls are left out (most fields of most records): loading fills them back
                compact = {k: v for k, v in rec.items() if v is not None}
                rows.append((rid, self._type_of(rid), compact))
        self._file.save(records=rows, meta={"org_id": self.org_id, "pod": self.pod,
                                            "counter": self._counter})  # fmt: skip

    def _type_of(self, record_id: str) -> str:
        obj = self.schema.by_prefix(record_id[:3])
        assert obj is not None
        return obj.name

    # --- reading -----------------------------------------------------------------------------

    def _builtin(self, sobject: str) -> ObjectDef:
        obj = self.schema.get(sobject)
        if obj is None:
            raise KeyError(f"The sandbox schema has no {sobject} object.")
        return obj

    def object(self, sobject: str) -> ObjectDef | None:
        """An object definition by name, case-insensitively."""
        return self.schema.get(sobject)

    def record(
        self, record_id: str, include_deleted: bool = True
    ) -> tuple[str, dict[str, Any]] | None:
        """(object name, stored fields) for a 15/18-character id, or None."""
        rid = ids.normalize(record_id)
        if rid is None:
            return None
        rec = self._records.get(rid)
        if rec is None or (rec.get("IsDeleted") and not include_deleted):
            return None
        return self._type_of(rid), rec

    def rows(self, sobject: str, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Stored records of one object, oldest first (a snapshot of the id list)."""
        obj = self.schema.get(sobject)
        if obj is None:
            return
        records = self._records
        for rid in list(self._by_type[obj.name]):
            rec = records.get(rid)
            if rec is not None and (include_deleted or not rec["IsDeleted"]):
                yield rec

    def count(self, sobject: str, include_deleted: bool = False) -> int:
        """How many records an object has."""
        return sum(1 for _ in self.rows(sobject, include_deleted))

    def find(self, sobject: str, field: str, value: Any) -> list[str]:
        """Ids of live records of `sobject` whose `field` equals `value` (indexed fields fast)."""
        obj = self.schema.get(sobject)
        if obj is None or value is None:
            return []
        f = obj.field(field)
        if f is None:
            return []
        if f.name == "Id":
            rid = ids.normalize(str(value))
            found = self.record(rid, include_deleted=False) if rid else None
            return [rid] if found and found[0] == obj.name and rid else []
        index = self._indexes.get((obj.name, f.name))
        if index is not None:
            return sorted(index.get(_key(f, value), ()), key=lambda r: r[6:])
        wanted = _key(f, value)
        return [
            r["Id"]
            for r in self.rows(obj.name)
            if r[f.name] is not None and _key(f, r[f.name]) == wanted
        ]

    def record_json(
        self, sobject: str, rec: Mapping[str, Any], version: str, fields: Sequence[FieldDef]
    ) -> dict[str, Any]:
        """A record as the REST API returns it: `attributes`, then the fields asked for."""
        body: dict[str, Any] = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v{version}/sobjects/{sobject}/{rec['Id']}",
            }
        }
        for f in fields:
            body[f.name] = rec.get(f.name)
        return body

    def retrieve(
        self,
        sobject: str,
        record_id: str,
        *,
        user_id: str,
        version: str,
        fields: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """GET one record; 404 NOT_FOUND / ENTITY_IS_DELETED, 400 INVALID_FIELD."""
        obj = self._object_or_404(sobject)
        found = self.record(record_id)
        if found is None or found[0] != obj.name:
            raise not_found()
        _, rec = found
        if rec["IsDeleted"]:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        visible = self.visible_fields(obj.name, user_id)
        if fields:
            by_name = {f.name.lower(): f for f in visible}
            chosen = []
            for name in fields:
                f = by_name.get(name.strip().lower())
                if f is None:
                    raise ApiError(
                        400,
                        "INVALID_FIELD",
                        f"No such column '{name.strip()}' on sobject of type {obj.name}",
                    )
                chosen.append(f)
            visible = chosen
        return self.record_json(obj.name, rec, version, visible)

    def _object_or_404(self, sobject: str) -> ObjectDef:
        obj = self.schema.get(sobject)
        if obj is None:
            raise not_found()
        return obj

    def external_id_field(self, sobject: str, name: str, user_id: str) -> FieldDef:
        """The field an upsert or GET-by-external-id may match on; 404 NOT_FOUND otherwise."""
        obj = self._object_or_404(sobject)
        f = obj.field(name)
        if (
            f is None
            or not (f.name == "Id" or f.external_id or f.id_lookup)
            or f.name.lower() in self._hidden(obj, user_id)[0]
        ):
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {name}",
            )
        return f

    # --- field-level security --------------------------------------------------------------

    def _hidden(self, obj: ObjectDef, user_id: str) -> tuple[frozenset[str], frozenset[str]]:
        """(hidden, read-only) lower-cased field names of `obj` for `user_id`."""
        guarded = obj.shape.guarded
        if not guarded:
            return _NOTHING_HIDDEN
        cache_key = (obj.name, user_id)
        cached = self._fls_cache.get(cache_key)
        if cached is not None:
            return cached
        sets = {
            r["PermissionSetId"]
            for r in self.rows("PermissionSetAssignment")
            if r["AssigneeId"] == user_id
        }
        readable: set[str] = set()
        editable: set[str] = set()
        for p in self.rows("FieldPermissions"):
            if p["ParentId"] not in sets or not p["Field"]:
                continue
            sob, _, fname = p["Field"].partition(".")
            if sob.lower() not in (obj.name.lower(), "activity"):
                continue
            if p["PermissionsRead"] or p["PermissionsEdit"]:
                readable.add(fname.lower())
            if p["PermissionsEdit"]:
                editable.add(fname.lower())
        hidden = frozenset(f.name.lower() for f in guarded if f.name.lower() not in readable)
        readonly = frozenset(f.name.lower() for f in guarded if f.name.lower() not in editable)
        self._fls_cache[cache_key] = (hidden, readonly)
        return hidden, readonly

    def visible_fields(self, sobject: str, user_id: str) -> list[FieldDef]:
        """The fields `user_id` can see on `sobject` (describe, query and writes consult this).

        Fields added while FLS mode is on stay hidden until a FieldPermissions record with
        PermissionsRead grants them to a permission set assigned to the user; granted read
        without PermissionsEdit, they come back neither createable nor updateable, as a real
        org's describe reports them.
        """
        obj = self.schema.get(sobject)
        if obj is None:
            return []
        hidden, readonly = self._hidden(obj, user_id)
        if not hidden and not readonly:
            return list(obj.fields.values())
        return [
            replace(f, createable=False, updateable=False) if f.name.lower() in readonly else f
            for f in obj.fields.values()
            if f.name.lower() not in hidden
        ]

    def editable(self, sobject: str, field: str, user_id: str) -> bool:
        """Whether `user_id` may write `field` (granted PermissionsEdit when FLS-guarded)."""
        obj = self.schema.get(sobject)
        if obj is None or obj.field(field) is None:
            return False
        return field.lower() not in self._hidden(obj, user_id)[1]

    # --- schema changes ----------------------------------------------------------------------

    def add_custom_field(self, sobject: str, f: FieldDef) -> CustomField:
        """Add a custom field (`Activity` adds it to Task and Event); persisted.

        In FLS mode the field is hidden until granted. A second field of the same name on
        the same object fails with DUPLICATE_DEVELOPER_NAME.
        """
        with self._lock:
            targets = self.schema.targets(sobject)
            if not targets:
                raise ApiError(
                    400,
                    "INVALID_TYPE",
                    f"sObject type '{sobject}' is not supported. Use one of the objects "
                    "describeGlobal lists, or Activity for Task and Event fields.",
                )
            for name in targets:
                if self._builtin(name).field(f.name) is not None:
                    raise ApiError(
                        400,
                        "DUPLICATE_DEVELOPER_NAME",
                        f"There is already a field named {f.name} on {name}. Choose another "
                        "name or update the existing field.",
                    )
            f = replace(f, custom=True, fls_guarded=f.fls_guarded or self.fls_enabled)
            field_id = self._new_id("00N")
            sobject_name = "Activity" if len(targets) > 1 else targets[0]
            self.schema.add_field(sobject_name, f)
            default = False if f.type == "boolean" else None
            for name in targets:
                obj = self.schema.get(name)
                assert obj is not None
                self._index_object(obj)
                for rid in self._by_type[name]:
                    self._records[rid].setdefault(f.name, default)
            self._fls_cache.clear()
            custom = CustomField(field_id, sobject_name, f)
            self._custom[field_id] = custom
            self._file.save(
                meta={"counter": self._counter},
                custom_fields=[(field_id, sobject_name, f.name, f.to_json())],
            )
            log.info("sandbox_custom_field_added", field=custom.full_name, id=field_id)
            return custom

    def custom_fields(self) -> list[CustomField]:
        """Every custom field added at run time, oldest first."""
        return list(self._custom.values())

    def replace_custom_field(self, field_id: str, f: FieldDef) -> CustomField:
        """Give custom field `field_id` a new definition (same name; e.g. more picklist values).

        Stored values stay as they are; FLS guarding carries over from the old definition.
        """
        with self._lock:
            old = self._custom.get(field_id)
            if old is None:
                raise not_found()
            if f.name.lower() != old.field.name.lower():
                raise ApiError(
                    400,
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"Custom field {old.full_name} cannot be renamed to {f.name}; create a new "
                    "field instead.",
                )
            f = replace(f, name=old.field.name, custom=True, fls_guarded=old.field.fls_guarded)
            self.schema.add_field(old.sobject, f)
            for name in self.schema.targets(old.sobject):
                obj = self.schema.get(name)
                assert obj is not None
                key = (obj.name, f.name)
                self._indexes.pop(key, None)
                self._index_object(obj)
                index = self._indexes.get(key)
                if index is not None:  # (re)build: the field may have just become an id field
                    for rid in self._by_type[obj.name]:
                        rec = self._records[rid]
                        if not rec["IsDeleted"] and rec.get(f.name) is not None:
                            index.setdefault(_key(f, rec[f.name]), set()).add(rid)
            self._fls_cache.clear()
            custom = CustomField(field_id, old.sobject, f)
            self._custom[field_id] = custom
            self._file.save(custom_fields=[(field_id, old.sobject, f.name, f.to_json())])
            log.info("sandbox_custom_field_replaced", field=custom.full_name, id=field_id)
            return custom

    # --- users -------------------------------------------------------------------------------

    def user_by_username(self, username: str) -> dict[str, Any] | None:
        """A live User record by username (case-insensitive), or None."""
        found = self.find("User", "Username", username)
        return self._records[found[0]] if found else None

    def ensure_user(
        self,
        username: str,
        *,
        first_name: str = "Sandbox",
        last_name: str = "Admin",
        email: str | None = None,
    ) -> str:
        """The id of the User named `username`, creating it (with the admin permission set)."""
        with self._lock:
            existing = self.user_by_username(username)
            if existing is not None:
                return str(existing["Id"])
            now = format_datetime(clock.now())
            user_id = self._new_id("005")
            user = self._blank(self._builtin("User"), now, user_id, user_id)
            user.update(
                {
                    "Username": username,
                    "FirstName": first_name,
                    "LastName": last_name,
                    "Name": f"{first_name} {last_name}",
                    "Email": email or (username if "@" in username else f"{username}@example.com"),
                    "Alias": (first_name[:1] + last_name)[:8].lower(),
                    "IsActive": True,
                    "TimeZoneSidKey": "GMT",
                    "LocaleSidKey": "en_US",
                    "LanguageLocaleKey": "en_US",
                    "EmailEncodingKey": "UTF-8",
                    "ProfileId": ids.make_id("00e", self.pod, 1),
                    "UserType": "Standard",
                }
            )
            self._put(user_id, "User", user, None)
            changed = [user_id]
            admin_set = self._admin_permission_set(now, user_id, changed)
            assignment_id = self._new_id("0Pa")
            assignment = self._blank(
                self._builtin("PermissionSetAssignment"),
                now,
                assignment_id,
                user_id,
            )
            assignment.update({"AssigneeId": user_id, "PermissionSetId": admin_set})
            self._put(assignment_id, "PermissionSetAssignment", assignment, None)
            changed.append(assignment_id)
            self._save(changed)
            return user_id

    def _admin_permission_set(self, now: str, user_id: str, changed: list[str]) -> str:
        for rid in self._by_type["PermissionSet"]:
            if self._records[rid]["Name"] == "X00e_System_Administrator":
                return rid
        ps_id = self._new_id("0PS")
        ps = self._blank(self._builtin("PermissionSet"), now, ps_id, user_id)
        ps.update(
            {
                "Name": "X00e_System_Administrator",
                "Label": "System Administrator",
                "IsOwnedByProfile": True,
                "ProfileId": ids.make_id("00e", self.pod, 1),
                "PermissionsApiEnabled": True,
                "PermissionsModifyAllData": True,
            }
        )
        self._put(ps_id, "PermissionSet", ps, None)
        changed.append(ps_id)
        return ps_id

    # --- writing -----------------------------------------------------------------------------

    def _blank(
        self, obj: ObjectDef, now: str, record_id: str, user_id: str | None
    ) -> dict[str, Any]:
        rec = dict(obj.shape.template)
        rec.update(
            {
                "Id": record_id,
                "IsDeleted": False,
                "CreatedDate": now,
                "CreatedById": user_id,
                "LastModifiedDate": now,
                "LastModifiedById": user_id,
                "SystemModstamp": now,
            }
        )
        if "OwnerId" in rec:
            rec["OwnerId"] = user_id
        return rec

    def apply(
        self,
        writes: Sequence[Write],
        *,
        user_id: str,
        all_or_none: bool = False,
        faults: FaultSource | None = None,
    ) -> list[SaveResult]:
        """Apply a batch of writes in one transaction; one SaveResult per write, in order.

        With `all_or_none`, any failure undoes every write: the failed records keep their own
        errors, the rest get ALL_OR_NONE_OPERATION_ROLLED_BACK. `faults` (Collections and
        Bulk pass theirs) may fail records with UNABLE_TO_LOCK_ROW or, for batches larger than
        the Apex CPU threshold, CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY.
        """
        with self._lock:
            now = format_datetime(clock.now())
            undo: list[tuple[str, str, dict[str, Any] | None]] = []
            results: list[SaveResult] = []
            duplicates = self._duplicate_keys(writes)
            cpu_exceeded = faults is not None and faults.apex_cpu_exceeded(len(writes))
            for index, w in enumerate(writes):
                try:
                    if index in duplicates:
                        raise _err(
                            "DUPLICATE_EXTERNAL_ID",
                            f"Duplicate external id specified: {duplicates[index]}",
                            [w.external_field or ""],
                        )
                    if cpu_exceeded:
                        raise _err(
                            "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                            f"{w.sobject or 'Record'}Trigger: System.LimitException: "
                            "Apex CPU time limit exceeded",
                        )
                    if faults is not None and faults.row_locked():
                        raise _err(
                            "UNABLE_TO_LOCK_ROW",
                            "unable to obtain exclusive access to this record or 1 records: "
                            + (w.record_id or ""),
                        )
                    results.append(self._apply_one(w, user_id, now, undo))
                except _Problem as p:
                    results.append(SaveResult(None, False, (p.error,), created=p.created))
                except ValueProblem as p:  # only updates let these through (inserts wrap them)
                    results.append(SaveResult(None, False, (p.error,)))
            if all_or_none and any(not r.success for r in results):
                for record_id, sobject, old in reversed(undo):
                    self._put(record_id, sobject, old, self._records.get(record_id))
                return [
                    r if not r.success else SaveResult(None, False, (ROLLED_BACK,), r.created)
                    for r in results
                ]
            if self._tx is not None:
                self._tx.extend(undo)
            elif undo:
                self._save(rid for rid, _, _ in undo)
            return results

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Group several apply() calls: an exception inside undoes all of them.

        Holds the org lock throughout; writes reach the file when the outermost block ends.
        """
        with self._lock:
            if self._tx is not None:
                yield
                return
            self._tx = []
            try:
                yield
            except BaseException:
                for record_id, sobject, old in reversed(self._tx):
                    self._put(record_id, sobject, old, self._records.get(record_id))
                raise
            else:
                if self._tx:
                    self._save(rid for rid, _, _ in self._tx)
            finally:
                self._tx = None

    def _duplicate_keys(self, writes: Sequence[Write]) -> dict[int, str]:
        seen: dict[tuple[str, str, str], list[int]] = {}
        for i, w in enumerate(writes):
            if w.operation != "upsert" or not w.external_field:
                continue
            present, value = _ci_get(w.values, w.external_field)
            if present and value not in (None, ""):
                key = ((w.sobject or "").lower(), w.external_field.lower(), str(value).lower())
                seen.setdefault(key, []).append(i)
        return {i: key[2] for key, idxs in seen.items() if len(idxs) > 1 for i in idxs}

    def _apply_one(
        self, w: Write, user_id: str, now: str, undo: list[tuple[str, str, dict[str, Any] | None]]
    ) -> SaveResult:
        if w.operation == "insert":
            obj = self._write_object(w.sobject, "inserted")
            return self._insert(obj, w.values, user_id, now, undo)
        if w.operation == "update":
            obj, rid, old = self._existing(w)
            return self._update(obj, rid, old, w.values, user_id, now, undo)
        if w.operation == "delete":
            obj, rid, old = self._existing(w)
            if not obj.deletable:
                raise _err(
                    "INVALID_TYPE_FOR_OPERATION", f"entity type cannot be deleted: {obj.name}"
                )
            new = dict(old, IsDeleted=True, LastModifiedDate=now, LastModifiedById=user_id,
                       SystemModstamp=now)  # fmt: skip
            self._put(rid, obj.name, new, old)
            undo.append((rid, obj.name, old))
            return SaveResult(rid, True)
        return self._upsert(w, user_id, now, undo)

    def _write_object(self, sobject: str | None, verb: str) -> ObjectDef:
        obj = self.schema.get(sobject or "")
        if obj is None:
            raise _err("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        if (verb == "inserted" and not obj.createable) or (
            verb == "updated" and not obj.updateable
        ):
            raise _err("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}: {obj.name}")
        return obj

    def _existing(self, w: Write) -> tuple[ObjectDef, str, dict[str, Any]]:
        raw = w.record_id
        if raw is None:
            _, raw = _ci_get(w.values, "Id")
        if not raw:
            raise _err("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        rid = raw if raw in self._records else ids.normalize(str(raw))  # canonical: no work
        if rid is None:
            raise _err("MALFORMED_ID", f"Record ID: id value of incorrect type: {raw}", ["Id"])
        rec = self._records.get(rid)
        obj = self.schema.by_prefix(rid[:3])
        if rec is None or obj is None or (w.sobject and obj.name.lower() != w.sobject.lower()):
            raise _err("NOT_FOUND", "The requested resource does not exist")
        if rec["IsDeleted"]:
            raise _err("ENTITY_IS_DELETED", "entity is deleted")
        return obj, rid, rec

    def _prepare(
        self, obj: ObjectDef, raw: Mapping[str, Any], user_id: str, creating: bool
    ) -> dict[str, Any]:
        """Coerced values by canonical field name; raises on the first invalid field."""
        hidden, readonly = self._hidden(obj, user_id)
        values: dict[str, Any] = {}
        locked: list[str] = []
        for key, value in raw.items():
            lowered = key.lower()
            if lowered == "attributes":
                continue
            if lowered == "id":
                if creating and value not in (None, ""):
                    raise _err(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "cannot specify Id in an insert call",
                        ["Id"],
                    )
                continue
            f = obj.fields.get(lowered)
            if f is None or lowered in hidden:
                raise _err("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}")
            writable = f.createable if creating else f.updateable
            if not writable or lowered in readonly:
                locked.append(f.name)
                continue
            values[f.name] = coerce(f, value)
        if locked:
            raise _err(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(locked)}. {_FLS_HINT}",
                locked,
            )
        return values

    def _finish(
        self, obj: ObjectDef, rid: str, rec: dict[str, Any], old: dict[str, Any] | None
    ) -> None:
        """Derived fields, then required, reference and uniqueness checks on the new record."""
        self._derive(obj, rec)
        shape = obj.shape
        missing = [f.name for f in shape.required if rec.get(f.name) in (None, "")]
        if missing:
            raise _err(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        for f in shape.references:
            value = rec.get(f.name)
            if value is None or not (f.createable or f.updateable):
                continue  # system-set (CreatedById, …): the org wrote it itself
            if old is not None and old.get(f.name) == value:
                continue
            target = self.schema.by_prefix(value[:3])
            if target is None or target.name not in f.reference_to:
                if target is None:
                    raise _err(
                        "INVALID_CROSS_REFERENCE_KEY",
                        f"{f.label}: invalid cross reference id",
                        [f.name],
                    )
                raise _err(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"{f.label}: id value of incorrect type: {value}",
                    [f.name],
                )
            target_rec = self._records.get(value)
            if target_rec is None or target_rec["IsDeleted"]:
                raise _err(
                    "INVALID_CROSS_REFERENCE_KEY",
                    f"{f.label}: invalid cross reference id",
                    [f.name],
                )
        for f in shape.unique:
            if rec.get(f.name) is None:
                continue
            clash = self._indexes.get((obj.name, f.name), {}).get(_key(f, rec[f.name]), set())
            others = [r for r in clash if r != rid]
            if others:
                raise _err(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {f.name} duplicates value on record with id: "
                    f"{others[0]}",
                    [f.name],
                )

    def _derive(self, obj: ObjectDef, rec: dict[str, Any]) -> None:
        name = obj.name
        if name in ("Lead", "Contact", "User"):
            parts = [rec.get("FirstName"), rec.get("LastName")]
            rec["Name"] = " ".join(p for p in parts if p) or None
        elif name == "Task":
            status = obj.fields["status"]
            closed = {v.value for v in status.picklist if v.closed}
            rec["IsClosed"] = rec.get("Status") in closed
            rec["IsHighPriority"] = rec.get("Priority") == "High"
        elif name == "Opportunity":
            stage = rec.get("StageName") or ""
            rec["IsClosed"] = stage.startswith("Closed")
            rec["IsWon"] = stage == "Closed Won"
        elif name == "Event" and (rec.get("StartDateTime") or rec.get("ActivityDateTime")):
            rec["ActivityDate"] = (rec.get("ActivityDateTime") or rec["StartDateTime"])[:10]
        if name in ("Task", "Event"):
            rec["AccountId"] = self._activity_account(rec)

    def _activity_account(self, rec: Mapping[str, Any]) -> str | None:
        what, who = rec.get("WhatId"), rec.get("WhoId")
        if what and what.startswith("001"):
            return str(what)
        if what and what.startswith("006") and what in self._records:
            return self._records[what].get("AccountId")
        if who and who.startswith("003") and who in self._records:
            return self._records[who].get("AccountId")
        return None

    def _insert(
        self,
        obj: ObjectDef,
        raw: Mapping[str, Any],
        user_id: str,
        now: str,
        undo: list[tuple[str, str, dict[str, Any] | None]],
        *,
        created_flag: bool = False,
    ) -> SaveResult:
        try:
            values = self._prepare(obj, raw, user_id, creating=True)
            rid = self._new_id(obj.key_prefix)
            rec = self._blank(obj, now, rid, user_id)
            rec.update(values)
            self._finish(obj, rid, rec, None)
        except _Problem as p:
            raise _Problem(p.error, created=True) from None
        except ValueProblem as p:
            raise _Problem(p.error, created=True) from None
        self._put(rid, obj.name, rec, None)
        undo.append((rid, obj.name, None))
        return SaveResult(rid, True, created=True)

    def _update(
        self,
        obj: ObjectDef,
        rid: str,
        old: dict[str, Any],
        raw: Mapping[str, Any],
        user_id: str,
        now: str,
        undo: list[tuple[str, str, dict[str, Any] | None]],
    ) -> SaveResult:
        if not obj.updateable:
            raise _err("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be updated: {obj.name}")
        if obj.name == "Lead" and old.get("IsConverted"):
            raise _err("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        values = self._prepare(obj, raw, user_id, creating=False)
        rec = dict(old)
        rec.update(values)
        rec["LastModifiedDate"] = now
        rec["LastModifiedById"] = user_id
        rec["SystemModstamp"] = now
        self._finish(obj, rid, rec, old)
        self._put(rid, obj.name, rec, old)
        undo.append((rid, obj.name, old))
        return SaveResult(rid, True, created=False)

    def _upsert(
        self, w: Write, user_id: str, now: str, undo: list[tuple[str, str, dict[str, Any] | None]]
    ) -> SaveResult:
        obj = self._write_object(w.sobject, "inserted")
        field_name = w.external_field or "Id"
        f = obj.field(field_name)
        if f is None or not (f.name == "Id" or f.external_id or f.id_lookup):
            raise _err(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        present, value = _ci_get(w.values, f.name)
        if f.name == "Id" and (not present or value in (None, "")):
            raw = {k: v for k, v in w.values.items() if k.lower() != "id"}
            return self._insert(obj, raw, user_id, now, undo, created_flag=True)
        if not present or value in (None, ""):
            raise _err("MISSING_ARGUMENT", f"{f.name} not specified", [f.name])
        if f.name == "Id" and ids.normalize(str(value)) is None:
            raise _err("MALFORMED_ID", f"Record ID: id value of incorrect type: {value}", ["Id"])
        matches = self.find(obj.name, f.name, value)
        if len(matches) > 1:
            raise _err(
                "DUPLICATE_EXTERNAL_ID",
                f"more than one record found for external id field: [{', '.join(matches)}]",
                [f.name],
            )
        if not matches:
            if f.name == "Id":
                raise _err("NOT_FOUND", "The requested resource does not exist", ["Id"])
            return self._insert(obj, w.values, user_id, now, undo, created_flag=True)
        rid = matches[0]
        old = self._records[rid]
        raw = {k: v for k, v in w.values.items() if k.lower() != f.name.lower() or f.name == "Id"}
        return self._update(obj, rid, old, raw, user_id, now, undo)

    def purge(self, record_ids: Iterable[str]) -> int:
        """Remove soft-deleted records for good (Bulk API hardDelete: gone from queryAll too).

        Live records are left alone; returns how many records were removed.
        """
        with self._lock:
            gone: list[str] = []
            for raw in record_ids:
                rid = ids.normalize(raw)
                rec = self._records.get(rid) if rid else None
                if rid is None or rec is None or not rec["IsDeleted"]:
                    continue
                self._put(rid, self._type_of(rid), None, rec)
                gone.append(rid)
            if gone:
                self._file.save(forget=gone)
            return len(gone)

    # --- single-record conveniences -------------------------------------------------------------

    def create(self, sobject: str, values: Mapping[str, Any], *, user_id: str) -> SaveResult:
        """Insert one record."""
        return self.apply([Write("insert", sobject, values)], user_id=user_id)[0]

    def update(
        self, sobject: str, record_id: str, values: Mapping[str, Any], *, user_id: str
    ) -> SaveResult:
        """Update one record."""
        return self.apply([Write("update", sobject, values, record_id)], user_id=user_id)[0]

    def upsert(
        self, sobject: str, field: str, values: Mapping[str, Any], *, user_id: str
    ) -> SaveResult:
        """Insert or update one record matched on `field` (its value is in `values`)."""
        write = Write("upsert", sobject, values, external_field=field)
        return self.apply([write], user_id=user_id)[0]

    def delete(self, sobject: str | None, record_id: str, *, user_id: str) -> SaveResult:
        """Soft-delete one record (later reads answer ENTITY_IS_DELETED)."""
        return self.apply([Write("delete", sobject, {}, record_id)], user_id=user_id)[0]

    # --- seeding helpers -------------------------------------------------------------------------

    def convert_lead(
        self,
        lead_id: str,
        *,
        user_id: str,
        account_id: str | None = None,
        contact_id: str | None = None,
    ) -> dict[str, str]:
        """Mark a Lead converted, creating its Account and Contact unless ids are given."""
        with self._lock:
            found = self.record(lead_id, include_deleted=False)
            if found is None or found[0] != "Lead":
                raise ApiError(404, "NOT_FOUND", f"No live Lead has id {lead_id}.")
            _, lead = found
            if lead["IsConverted"]:
                raise ApiError(
                    400, "CANNOT_UPDATE_CONVERTED_LEAD", f"Lead {lead['Id']} is already converted."
                )
            if account_id is None:
                result = self.create("Account", {"Name": lead["Company"]}, user_id=user_id)
                account_id = self._require(result)
            if contact_id is None:
                contact = {
                    "AccountId": account_id,
                    "FirstName": lead["FirstName"],
                    "LastName": lead["LastName"],
                    "Email": lead["Email"],
                    "Title": lead["Title"],
                }
                contact_id = self._require(self.create("Contact", contact, user_id=user_id))
            now = clock.now()
            new = dict(
                lead,
                IsConverted=True,
                ConvertedDate=now.date().isoformat(),
                ConvertedAccountId=ids.normalize(account_id),
                ConvertedContactId=ids.normalize(contact_id),
                Status="Closed - Converted",
                LastModifiedDate=format_datetime(now),
                LastModifiedById=user_id,
                SystemModstamp=format_datetime(now),
            )
            self._put(lead["Id"], "Lead", new, lead)
            self._save([lead["Id"]])
            return {
                "accountId": str(new["ConvertedAccountId"]),
                "contactId": str(new["ConvertedContactId"]),
            }

    @staticmethod
    def _require(result: SaveResult) -> str:
        if not result.success or result.id is None:
            error = result.errors[0]
            raise ApiError(400, error.status_code, error.message, error.fields)
        return result.id
